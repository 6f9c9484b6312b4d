// Browser tests of pipelines and accounts: reordering the stages of a
// pipeline by drag and drop (with JavaScript) and with the arrow buttons
// (without), creating a company and a contact as a rep, and a viewer being
// kept away from the accounts. Run with `node --test` in this directory
// (SALESOPS_BIN may point at the server binary).
//
// Every test gets its own server (fresh temporary directory and SQLite
// database with the demo organisation) and its own browser context, so the
// tests do not depend on each other or on their order. The demo users work
// in German.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEMO, launchBrowser, signIn, startServer } from './server.mjs';

const FILE_TIMEOUT_MS = 180_000;
const TEST_TIMEOUT_MS = 60_000;
const EXPECT_TIMEOUT_MS = 10_000;

const DEFAULT_PIPELINE = 'Neukundengewinnung';
/** The stages of the default pipeline, in German, in their initial order. */
const STAGES_DE = [
  'Akquise',
  'Kontakt & Qualifizierung',
  'Nutzen demonstrieren',
  'Einwände behandeln',
  'Abschluss',
];
/** The stage headings as the pipeline page shows them: "1. Akquise", ... */
const headings = (names) => names.map((n, i) => `${i + 1}. ${n}`);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `read()` until `ok(value)` holds; otherwise fails with the last value. */
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

/** Waits until the (single) element's trimmed text equals `expected`. */
function expectText(locator, expected, what = String(locator)) {
  return eventually(
    () => locator.textContent({ timeout: 1_000 }).then((s) => s?.trim()),
    (v) => v === expected,
    (v) => assert.equal(v instanceof Error ? `<${v.message.split('\n')[0]}>` : v, expected, what),
  );
}

/** Waits until the elements' trimmed texts equal `expected`. */
function expectTexts(locator, expected, what = String(locator)) {
  return eventually(
    () => locator.allTextContents().then((a) => a.map((s) => s.trim())),
    (v) => JSON.stringify(v) === JSON.stringify(expected),
    (v) => assert.deepEqual(v, expected, what),
  );
}

/** Waits until the (single) input's value equals `expected`. */
function expectValue(locator, expected, what = String(locator)) {
  return eventually(
    () => locator.inputValue({ timeout: 1_000 }),
    (v) => v === expected,
    (v) => assert.equal(v instanceof Error ? `<${v.message.split('\n')[0]}>` : v, expected, what),
  );
}

const pathOf = (page) => new URL(page.url()).pathname;
const PIPELINE_PATH = /^\/pipelines\/[^/]+$/;
const COMPANY_PATH = /^\/companies\/[^/]+$/;

/** The notice of the page (`<p class="notice" role="status">`). */
const notice = (page) => page.locator('main p.notice[role="status"]');

/** The stage items of the pipeline page (editable view of admin and ops). */
const stageItems = (page) => page.locator('ol#stages > li[data-id]');
const stageHeadings = (page) => page.locator('ol#stages > li[data-id] strong');

/**
 * From /home, opens the pipeline list through the navigation and then the
 * default pipeline through the link in its card. Returns the page's URL.
 */
async function openDefaultPipeline(page) {
  await page.locator('header nav a[href="/pipelines"]').click();
  await page.waitForURL((u) => u.pathname === '/pipelines');
  await expectText(page.locator('main h1'), 'Pipelines');
  const card = page.locator('section.pipeline-card', {
    has: page.locator('h2 a', { hasText: DEFAULT_PIPELINE }),
  });
  await expectText(card.locator('h2 .tag'), 'Standard', 'the default pipeline is marked');
  await card.locator('h2 a', { hasText: DEFAULT_PIPELINE }).click();
  await page.waitForURL((u) => PIPELINE_PATH.test(u.pathname));
  await expectText(page.locator('main h1'), `${DEFAULT_PIPELINE} Standard`);
  return page.url();
}

/**
 * Drags `source` with the mouse and drops it on `target` at `targetPosition`
 * (relative to the target's top left corner): real HTML5 drag and drop.
 *
 * This is `locator.dragTo` in steps. `dragTo` presses the button on the
 * source and then scrolls the target into view before the first move, so
 * when the two are more than a screen apart Chromium starts the drag from
 * whatever lies under the pointer after the scroll, not from the source.
 * Here the pointer first moves a little on the source (Chromium fires
 * dragstart there), and only then goes to the target (scrolling the page).
 * Grab the source by a handle: a mouse-down on a form field selects text
 * instead of starting a drag.
 */
async function dragAndDrop(page, source, target, targetPosition) {
  await source.hover();
  const box = await source.boundingBox();
  assert.ok(box, 'the drag source is visible');
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.down();
  await page.mouse.move(x + 5, y - 10, { steps: 3 });
  await target.hover({ position: targetPosition });
  await page.mouse.up();
}

describe('pipelines and accounts in the browser', { timeout: FILE_TIMEOUT_MS }, () => {
  let browser;

  before(async () => {
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
  });

  /**
   * Starts a server and a browser context for one test and runs `fn` with
   * them; cleans up afterwards. A failure gets the page URL and the tail of
   * the server log appended.
   */
  async function withApp(contextOptions, fn) {
    const server = await startServer();
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      ...contextOptions,
    });
    context.setDefaultTimeout(EXPECT_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(30_000);
    const page = await context.newPage();
    try {
      await fn({ page, context, baseURL: server.baseURL });
    } catch (err) {
      const logTail = server.log().split('\n').slice(-30).join('\n');
      err.message += `\n(page: ${page.url()})\n--- server log (tail) ---\n${logTail}`;
      throw err;
    } finally {
      await context.close().catch(() => {});
      await server.stop();
    }
  }

  test('ops reorders the stages of the default pipeline by drag and drop', { timeout: TEST_TIMEOUT_MS }, () =>
    withApp({ locale: 'de-DE' }, async ({ page, baseURL }) => {
      const pageErrors = [];
      page.on('pageerror', (err) => pageErrors.push(err));

      await signIn(page, baseURL, DEMO.ops.email);
      const pipelineURL = await openDefaultPipeline(page);
      await expectTexts(stageHeadings(page), headings(STAGES_DE), 'stages before dragging');

      const list = page.locator('ol#stages');
      assert.match(await list.getAttribute('data-reorder'), /^\/api\/v1\/pipelines\/[^/]+\/stages\/order$/);
      const items = stageItems(page);
      assert.equal(await items.count(), STAGES_DE.length);
      const last = items.last();
      const first = items.first();
      assert.equal(await last.getAttribute('draggable'), 'true');
      const lastId = await last.getAttribute('data-id');

      // Drag the last stage onto the upper edge of the first one: app.js
      // inserts the dragged item before the item under the pointer when the
      // pointer is in its upper half, then posts the new order and reloads.
      const [reorder] = await Promise.all([
        page.waitForResponse(
          (r) => r.request().method() === 'POST' && /\/stages\/order$/.test(new URL(r.url()).pathname),
        ),
        dragAndDrop(page, last.locator('.stage-head .grip'), first, { x: 40, y: 8 }),
      ]);
      assert.ok(reorder.ok(), `status of the reorder request: ${reorder.status()}`);
      assert.deepEqual(
        JSON.parse(reorder.request().postData()).stage_ids[0],
        lastId,
        'the dragged stage is sent first',
      );

      await page.waitForURL((u) => PIPELINE_PATH.test(u.pathname) && u.searchParams.get('reordered') === '1');
      await expectText(notice(page), 'Reihenfolge gespeichert.');
      const moved = ['Abschluss', ...STAGES_DE.slice(0, -1)];
      await expectText(stageHeadings(page).first(), '1. Abschluss');
      await expectTexts(stageHeadings(page), headings(moved), 'stages after dragging');
      assert.equal(await stageItems(page).first().getAttribute('data-id'), lastId);
      await expectText(page.locator('#reorder-error'), '');
      assert.equal(await page.locator('#reorder-error').isHidden(), true, 'no reorder error');

      // The order is saved: it survives a reload, also without the notice.
      await page.reload();
      await expectTexts(stageHeadings(page), headings(moved), 'stages after a reload');
      await page.goto(pipelineURL);
      await expectTexts(stageHeadings(page), headings(moved), 'stages on a fresh visit');
      assert.equal(await notice(page).count(), 0, 'no notice without ?reordered');

      // ... and the pipeline list shows the new order too.
      await page.goto(`${baseURL}/pipelines`);
      const strip = page
        .locator('section.pipeline-card', { has: page.locator('h2 a', { hasText: DEFAULT_PIPELINE }) })
        .locator('ol.stage-strip > li');
      // Each item reads "Name 10 %"; compare the names.
      await eventually(
        () => strip.allTextContents().then((a) => a.map((s) => s.trim().replace(/\s*\d+ %$/, ''))),
        (v) => JSON.stringify(v) === JSON.stringify(moved),
        (v) => assert.deepEqual(v, moved, 'the stage strip of the pipeline card'),
      );

      assert.deepEqual(pageErrors.map(String), [], 'no script errors');
    }));

  test('without JavaScript, ops moves a stage with the arrow buttons', { timeout: TEST_TIMEOUT_MS }, () =>
    withApp({ locale: 'de-DE', javaScriptEnabled: false }, async ({ page, baseURL }) => {
      await signIn(page, baseURL, DEMO.ops.email);
      const pipelineURL = await openDefaultPipeline(page);
      await expectTexts(stageHeadings(page), headings(STAGES_DE), 'stages before moving');

      // The first stage has no "up" button, the last one no "down" button.
      const arrows = (i) => stageItems(page).nth(i).locator('form.arrows');
      assert.equal(await arrows(0).locator('button[name="dir"][value="up"]').count(), 0);
      assert.equal(await arrows(STAGES_DE.length - 1).locator('button[name="dir"][value="down"]').count(), 0);

      const down = arrows(0).locator('button[name="dir"][value="down"]');
      assert.equal(await down.getAttribute('aria-label'), 'Nach unten');
      await down.click();
      await page.waitForURL((u) => PIPELINE_PATH.test(u.pathname) && u.searchParams.get('reordered') === '1');
      await expectText(notice(page), 'Reihenfolge gespeichert.');
      const once = [STAGES_DE[1], STAGES_DE[0], ...STAGES_DE.slice(2)];
      await expectTexts(stageHeadings(page), headings(once), 'stages after moving the first one down');

      // The moved stage (now second) goes down once more; the order persists.
      await arrows(1).locator('button[name="dir"][value="down"]').click();
      await page.waitForURL((u) => u.searchParams.get('reordered') === '1');
      const twice = [STAGES_DE[1], STAGES_DE[2], STAGES_DE[0], ...STAGES_DE.slice(3)];
      await expectTexts(stageHeadings(page), headings(twice), 'stages after moving it down again');

      await page.goto(pipelineURL);
      await expectTexts(stageHeadings(page), headings(twice), 'stages on a fresh visit');

      // And back up with the "up" button.
      await arrows(2).locator('button[name="dir"][value="up"]').click();
      await page.waitForURL((u) => u.searchParams.get('reordered') === '1');
      await expectTexts(stageHeadings(page), headings(once), 'stages after moving it up');
    }));

  test('a rep creates a company and a contact, and finds the contact', { timeout: TEST_TIMEOUT_MS }, () =>
    withApp({ locale: 'de-DE' }, async ({ page, baseURL }) => {
      const company = 'Hanse Logistik GmbH';
      await signIn(page, baseURL, DEMO.rep.email);

      const companiesLink = page.locator('header nav a[href="/companies"]');
      await expectText(companiesLink, 'Firmen');
      await companiesLink.click();
      await page.waitForURL((u) => u.pathname === '/companies');
      await expectText(page.locator('main h1'), 'Firmen');
      assert.equal(await companiesLink.getAttribute('aria-current'), 'page');

      const details = page.locator('details#new-company');
      await expectText(details.locator('summary'), 'Neue Firma');
      await details.locator('summary').click();
      await details.locator('input[name="name"]').fill(company);
      await details.locator('input[name="city"]').fill('Hamburg');
      await details.locator('input[name="value_amount"]').fill('12.500,00');
      assert.equal(await details.locator('input[name="value_currency"]').inputValue(), 'EUR');
      await details.locator('form button[type="submit"]').click();

      await page.waitForURL((u) => COMPANY_PATH.test(u.pathname) && u.searchParams.has('created'));
      const companyPath = pathOf(page);
      await expectText(notice(page), 'Firma angelegt.');
      await expectText(page.locator('main h1'), company);
      const form = page.locator('form#company-form');
      await expectValue(form.locator('input[name="name"]'), company);
      await expectValue(form.locator('input[name="city"]'), 'Hamburg');
      await expectValue(form.locator('input[name="value_amount"]'), '12500,00');
      await expectValue(form.locator('input[name="value_currency"]'), 'EUR');
      assert.equal(await page.locator('table#company-contacts').count(), 0, 'no contacts yet');

      // A contact from the company's page.
      const newContact = page.locator('details#new-contact');
      await expectText(newContact.locator('summary'), 'Neuer Kontakt');
      await newContact.locator('summary').click();
      await newContact.locator('input[name="name"]').fill('Ole Hansen');
      await newContact.locator('input[name="email"]').fill('ole@hanse.example');
      await newContact.locator('form button[type="submit"]').click();

      await page.waitForURL((u) => u.pathname === companyPath && u.searchParams.has('contact_added'));
      await expectText(notice(page), 'Kontakt angelegt.');
      const contactRow = page.locator('table#company-contacts tbody tr', { hasText: 'Ole Hansen' });
      await expectTexts(contactRow.locator('td'), ['Ole Hansen', '', 'ole@hanse.example', ''], 'row of the contact');
      assert.equal(
        await contactRow.locator('td a', { hasText: 'ole@hanse.example' }).getAttribute('href'),
        'mailto:ole@hanse.example',
      );

      // The company is in the list (searched for by name: the demo
      // organisation may have more companies than fit on the first page) ...
      await companiesLink.click();
      await page.waitForURL((u) => u.pathname === '/companies');
      await page.locator('form.filters input[name="q"]').fill(company);
      await page.locator('form.filters button[type="submit"]').click();
      await page.waitForURL((u) => u.pathname === '/companies' && u.searchParams.get('q') === company);
      const companyRow = page.locator('table#companies tbody tr', {
        has: page.locator('td a', { hasText: company }),
      });
      await expectText(companyRow.locator('td').nth(1), 'Hamburg');
      assert.equal(await companyRow.locator('td a').getAttribute('href'), companyPath);

      // ... and the contact is found by a search on the contacts page.
      await page.locator('header nav a[href="/contacts"]').click();
      await page.waitForURL((u) => u.pathname === '/contacts');
      await expectText(page.locator('main h1'), 'Kontakte');
      await page.locator('form.filters input[name="q"]').fill('hansen');
      await page.locator('form.filters button[type="submit"]').click();
      await page.waitForURL((u) => u.pathname === '/contacts' && u.searchParams.get('q') === 'hansen');
      const found = page.locator('table#contacts tbody tr');
      await expectTexts(found.first().locator('td'), ['Ole Hansen', company, '', 'ole@hanse.example', '']);
      assert.equal(await found.count(), 1, 'one contact matches "hansen"');
      assert.equal(await found.locator('td a', { hasText: company }).getAttribute('href'), companyPath);

      // A search without hits says so.
      await page.locator('form.filters input[name="q"]').fill('gibt-es-nicht');
      await page.locator('form.filters button[type="submit"]').click();
      await page.waitForURL((u) => u.searchParams.get('q') === 'gibt-es-nicht');
      await expectText(page.locator('main p.muted'), 'Keine passenden Kontakte.');
      assert.equal(await page.locator('table#contacts').count(), 0);
    }));

  test('a viewer has no accounts in the navigation and is refused /companies', { timeout: TEST_TIMEOUT_MS }, () =>
    withApp({ locale: 'de-DE' }, async ({ page, baseURL }) => {
      await signIn(page, baseURL, DEMO.viewer.email);
      await expectText(page.locator('h1#welcome'), `Willkommen, ${DEMO.viewer.name}`);
      const nav = page.locator('header nav a');
      await expectTexts(
        nav,
        ['Start', 'Cockpit', 'Berichte', 'Ziele', 'Warnungen', 'Planer', 'Pipelines', 'Personen', 'Teams', 'API-Tokens', 'Einstellungen', 'API-Doku'],
        'navigation of a viewer',
      );
      assert.equal(await page.locator('header nav a[href="/companies"]').count(), 0, 'no "Firmen" link');
      assert.equal(await page.locator('header nav a[href="/contacts"]').count(), 0, 'no "Kontakte" link');

      for (const path of ['/companies', '/contacts']) {
        const res = await page.goto(`${baseURL}${path}`);
        assert.equal(res.status(), 403, `status of GET ${path}`);
        assert.equal(pathOf(page), path);
        await expectText(page.locator('main h1'), 'Etwas ist schiefgelaufen');
        await expectText(page.locator('main p.error[role="alert"]'), 'Ihre Rolle erlaubt das nicht.');
        assert.equal(await page.locator('table#companies, table#contacts, details#new-company').count(), 0);
      }
    }));
});
