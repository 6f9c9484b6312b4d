// Browser test of prospecting: a cold caller of the demo organisation opens
// a prospecting list from the navigation, logs an unanswered call inline on
// a row (without leaving the list), opens the prospect and converts it into
// a lead, then follows the link back from the lead to the prospect.
//
// Run with `node --test` in this directory (SALESOPS_BIN may point at the
// server binary). The server and the browser context are the test's own.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, signIn, startServer } from './server.mjs';

const FILE_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 60_000;
const EXPECT_TIMEOUT_MS = 10_000;
/** A rep of the demo's prospecting team ("Kaltakquise"). */
const CALLER = 'sara.yilmaz@nordwind.example';
const LIST = 'Maschinenbau Bayern';

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
    await sleep(100);
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

function expectMatch(locator, re, what = String(locator)) {
  return eventually(
    () => locator.textContent({ timeout: 1_000 }).then((s) => s?.replace(/\s+/g, ' ').trim()),
    (v) => re.test(v),
    (v) => assert.match(String(shown(v)), re, what),
  );
}

describe('prospecting in the browser', { timeout: FILE_TIMEOUT_MS }, () => {
  let browser;

  before(async () => {
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
  });

  test('a cold caller logs a call inline and converts a prospect into a lead', { timeout: TEST_TIMEOUT_MS }, async () => {
    const server = await startServer();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'de-DE' });
    context.setDefaultTimeout(EXPECT_TIMEOUT_MS);
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (err) => pageErrors.push(err));
    try {
      await signIn(page, server.baseURL, CALLER);
      const nav = page.locator('header nav a[href="/prospect-lists"]');
      await expectText(nav, 'Akquise');
      await nav.click();
      await page.waitForURL((u) => u.pathname === '/prospect-lists');
      await expectText(page.locator('main h1'), 'Akquiselisten');
      await page.locator('table#prospect-lists a', { hasText: LIST }).click();
      await page.waitForURL((u) => u.pathname.startsWith('/prospect-lists/'));
      await expectText(page.locator('main h1'), LIST);
      const listPath = new URL(page.url()).pathname;

      // The first open row the caller works: log "Anruf — nicht erreicht" inline.
      const row = page.locator('table#prospects tbody tr', { has: page.locator('form[data-inline]') }).first();
      const name = (await row.locator('td:nth-child(2) a').textContent()).trim();
      const prospectPath = await row.locator('td:nth-child(2) a').getAttribute('href');
      const form = row.locator('form[data-inline]');
      await form.locator('select[name="activity"]').selectOption({ label: 'Anruf — nicht erreicht' });
      const [posted] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === `${prospectPath}/activities`),
        form.locator('button', { hasText: 'Erfassen' }).click(),
      ]);
      assert.ok(posted.status() < 400, `the inline log answered ${posted.status()}`);
      await expectText(form.locator('.inline-result'), '✓ Anruf — nicht erreicht', 'the row says what was logged');
      assert.equal(new URL(page.url()).pathname, listPath, 'still on the list');

      // The prospect: the call is in its timeline, the script beside it.
      await row.locator('td:nth-child(2) a').click();
      await page.waitForURL((u) => u.pathname === prospectPath);
      await expectText(page.locator('main h1 #prospect-status'), 'offen');
      await expectMatch(page.locator('ol#timeline li').first(), /Anruf — nicht erreicht/);
      await expectText(page.locator('section#script h2'), 'Leitfaden');
      assert.ok(await page.locator('section#script form#answers-form').count(), 'the list script is shown');

      // Convert it with an amount written the German way.
      const convert = page.locator('form#convert-form');
      await convert.locator('input[name="amount"]').fill('18.000,00');
      await convert.locator('button#convert').click();
      await page.waitForURL((u) => /^\/leads\/[^/]+$/.test(u.pathname) && u.searchParams.get('created') === '1');
      await expectText(page.locator('main p.notice[role="status"]'), 'Lead angelegt.');
      await expectMatch(page.locator('main h1'), new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} offen$`));
      await expectMatch(page.locator('main p.lead-facts'), /18\.000,00 EUR/);

      // Back to the prospect it came from: converted, linked to this lead.
      const leadPath = new URL(page.url()).pathname;
      await page.locator('a#from-prospect').click();
      await page.waitForURL((u) => u.pathname === prospectPath);
      await expectText(page.locator('main h1 #prospect-status'), 'umgewandelt');
      assert.equal(await page.locator('a#lead-link').getAttribute('href'), leadPath);
      assert.deepEqual(pageErrors.map(String), [], 'no script errors');
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
