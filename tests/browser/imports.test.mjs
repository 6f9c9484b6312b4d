// Browser test of CSV import: ops upload a German Excel file of companies
// (semicolons, decimal commas, a BOM) with one bad row, map the columns,
// run a dry run and read the error in the report (row, column, reason);
// then import it skipping the bad row and find the new companies.
//
// Run with `node --test` in this directory (SALESOPS_BIN may point at the
// server binary). The server and the browser context are the test's own.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DEMO, launchBrowser, signIn, startServer } from './server.mjs';

const FILE_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 60_000;
const EXPECT_TIMEOUT_MS = 15_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function eventually(read, ok, fail, timeout = EXPECT_TIMEOUT_MS) {
  const deadline = Date.now() + timeout;
  let value;
  for (;;) {
    try {
      value = await read();
    } catch (err) {
      value = err;
    }
    if (!(value instanceof Error) && ok(value)) return value;
    if (Date.now() > deadline) return fail(value);
    await sleep(200);
  }
}

const shown = (v) => (v instanceof Error ? `<${v.message.split('\n')[0]}>` : v);

function expectText(locator, expected, what = String(locator)) {
  return eventually(
    () => locator.textContent({ timeout: 1_000 }).then((s) => s?.replace(/\s+/g, ' ').trim()),
    (v) => v === expected,
    (v) => assert.equal(shown(v), expected, what),
  );
}

/** Uploads `csv` as companies and waits for the mapping page. */
async function upload(page, baseURL, csv) {
  await page.goto(`${baseURL}/imports`);
  await expectText(page.locator('main h1'), 'Import und Export');
  const form = page.locator('form#import-form');
  await form.locator('select[name="kind"]').selectOption('companies');
  await form.locator('input[type="file"]').setInputFiles({
    name: 'firmen.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from(csv, 'utf8'),
  });
  await form.locator('button[type="submit"]').click();
  await page.locator('form#mapping-form').waitFor();
}

/** Waits on the job page (it reloads itself) until the job is done. */
async function finished(page) {
  await eventually(
    () => page.locator('#job-status').getAttribute('data-status', { timeout: 1_000 }),
    (v) => v === 'done',
    (v) => assert.equal(shown(v), 'done', 'the import job finished'),
  );
}

describe('CSV import in the browser', { timeout: FILE_TIMEOUT_MS }, () => {
  let browser;

  before(async () => {
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
  });

  test('a file with one bad row: the dry run names it, the import skips it', { timeout: TEST_TIMEOUT_MS }, async () => {
    const server = await startServer();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'de-DE' });
    context.setDefaultTimeout(EXPECT_TIMEOUT_MS);
    const page = await context.newPage();
    const tag = randomBytes(3).toString('hex');
    const csv =
      '\ufeffExterne ID;Firma;Ort;Betrag;Währung\n' +
      `T${tag}-1;Weber ${tag} GmbH;München;30.000,00;EUR\n` +
      `T${tag}-2;Huber ${tag} AG;Köln;12x;EUR\n` +
      `T${tag}-3;Klein ${tag} KG;Ulm;5.000,50;EUR\n`;
    try {
      await signIn(page, server.baseURL, DEMO.ops.email);
      const nav = page.locator('header nav a[href="/imports"]');
      await expectText(nav, 'Import / Export');

      // The mapping step: every column mapped by its German name.
      await upload(page, server.baseURL, csv);
      const mapping = page.locator('table#mapping');
      assert.equal(await mapping.locator('select[aria-label="Firma"]').inputValue(), 'name', 'Firma → name');
      assert.equal(await mapping.locator('select[aria-label="Betrag"]').inputValue() !== '', true, 'Betrag is mapped');

      // Dry run: the report names row 3, column Betrag.
      await page.locator('form#mapping-form button[value="dry"]').click();
      await page.waitForURL((u) => /^\/imports\/[^/]+$/.test(u.pathname));
      await finished(page);
      const rows = page.locator('table#report tbody tr');
      await eventually(() => rows.count(), (n) => n === 1, (n) => assert.equal(shown(n), 1, 'one bad row'));
      const cells = await rows.first().locator('td').allTextContents();
      assert.equal(cells[0].trim(), '3', 'the row (the header is row 1)');
      assert.equal(cells[1].trim(), 'Betrag', 'the column');
      assert.ok(cells[2].trim().length > 0, 'a reason');

      // Nothing was written by the dry run.
      await page.goto(`${server.baseURL}/companies?q=${tag}`);
      assert.equal(await page.locator('main a', { hasText: `Weber ${tag} GmbH` }).count(), 0, 'no company yet');

      // Import, skipping the bad row: the two good companies are there.
      await upload(page, server.baseURL, csv);
      await page.locator('form#mapping-form input[name="skip_invalid"]').check();
      await page.locator('form#mapping-form button[value="import"]').click();
      await page.waitForURL((u) => /^\/imports\/[^/]+$/.test(u.pathname));
      await finished(page);
      await page.goto(`${server.baseURL}/companies?q=${tag}`);
      for (const name of [`Weber ${tag} GmbH`, `Klein ${tag} KG`]) {
        assert.equal(await page.locator('main a', { hasText: name }).count(), 1, `${name} imported`);
      }
      assert.equal(await page.locator('main a', { hasText: `Huber ${tag} AG` }).count(), 0, 'the bad row was skipped');
    } catch (err) {
      const logTail = server.log().split('\n').slice(-30).join('\n');
      err.message += `\n(page: ${page.url()})\n--- server log (tail) ---\n${logTail}`;
      throw err;
    } finally {
      await context.close().catch(() => {});
      await server.stop();
    }
  });
});
