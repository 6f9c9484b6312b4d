// Browser tests of leads and activities: creating a lead and dragging its
// card to the next stage on the board, logging a call from the lead page,
// scheduling a meeting and completing it from "My activities", and winning
// a lead. Run with `node --test` in this directory (SALESOPS_BIN may point
// at the server binary).
//
// Every test gets its own server (fresh temporary directory and SQLite
// database with the demo organisation) and its own browser context, so the
// tests do not depend on each other or on their order. The demo users work
// in German.
//
// The demo organisation may come with companies, leads and activities of its
// own. So every lead here gets a unique title, is found by that title, and
// no test counts what was there before.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DEMO, launchBrowser, signIn, startServer } from './server.mjs';

const FILE_TIMEOUT_MS = 180_000;
const TEST_TIMEOUT_MS = 60_000;
const EXPECT_TIMEOUT_MS = 10_000;

/** The first two stages of the default pipeline, in German. */
const FIRST_STAGE = 'Akquise';
const SECOND_STAGE = 'Kontakt & Qualifizierung';
/** The demo users' time zone: the forms' local times are read in it. */
const USER_TZ = 'Europe/Berlin';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A lead title no demo record has: "<prefix> <random hex>". */
const uniqueTitle = (prefix) => `${prefix} ${randomBytes(4).toString('hex')}`;
/** `s` as a literal in a regular expression. */
const re = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

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

const shown = (v) => (v instanceof Error ? `<${v.message.split('\n')[0]}>` : v);

/** Waits until the (single) element's trimmed text equals `expected`. */
function expectText(locator, expected, what = String(locator)) {
  return eventually(
    () => locator.textContent({ timeout: 1_000 }).then((s) => s?.trim()),
    (v) => v === expected,
    (v) => assert.equal(shown(v), expected, what),
  );
}

/** Waits until the (single) element's text, whitespace collapsed, matches `re`. */
function expectMatch(locator, re, what = String(locator)) {
  return eventually(
    () => locator.textContent({ timeout: 1_000 }).then((s) => s?.replace(/\s+/g, ' ').trim()),
    (v) => re.test(v),
    (v) => assert.match(String(shown(v)), re, what),
  );
}

/** Waits until the locator matches `n` elements. */
function expectCount(locator, n, what = String(locator)) {
  return eventually(
    () => locator.count(),
    (v) => v === n,
    (v) => assert.equal(shown(v), n, what),
  );
}

const pathOf = (page) => new URL(page.url()).pathname;
const LEAD_PATH = /^\/leads\/[^/]+$/;

/** The notice of the page (`<p class="notice" role="status">`). */
const notice = (page) => page.locator('main p.notice[role="status"]');
const timeline = (page) => page.locator('ol#timeline');
const columns = (page) => page.locator('div#board[data-board] > section.column[data-stage]');
/** The board card of the lead with this title (titles are unique here). */
const cardOf = (scope, title) =>
  scope.locator('article.lead-card[draggable="true"][data-id]', {
    has: scope.page().locator('a', { hasText: title }),
  });

/** "YYYY-MM-DD" of the day after today, in the users' time zone. */
function tomorrowInUserTz() {
  const today = new Intl.DateTimeFormat('en-CA', {
    timeZone: USER_TZ,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date());
  const [y, m, d] = today.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/**
 * Creates a lead through the form on /leads (opened from the navigation) and
 * waits for its page. Returns the lead's path, /leads/{id}.
 */
async function createLeadInUI(page, { title, amount }) {
  const nav = page.locator('header nav a[href="/leads"]');
  await expectText(nav, 'Leads');
  await nav.click();
  await page.waitForURL((u) => u.pathname === '/leads');
  await expectText(page.locator('main h1'), 'Leads');

  const details = page.locator('details#new-lead');
  await expectText(details.locator('summary'), 'Neuer Lead');
  await details.locator('summary').click();
  await details.locator('input[name="title"]').fill(title);
  if (amount !== undefined) await details.locator('input[name="amount"]').fill(amount);
  assert.equal(await details.locator('input[name="currency"]').inputValue(), 'EUR', 'default currency');
  await details.locator('form button[type="submit"]').click();

  await page.waitForURL((u) => LEAD_PATH.test(u.pathname) && u.searchParams.get('created') === '1');
  await expectText(notice(page), 'Lead angelegt.');
  return pathOf(page);
}

/**
 * Creates a lead in the first stage of the default pipeline through the
 * JSON API with the page's session (the CSRF token comes from the page's
 * `<meta name="csrf-token">`). Returns the lead's id.
 */
async function createLeadViaApi(page, baseURL, { title, amount }) {
  const csrf = await page.locator('meta[name="csrf-token"]').getAttribute('content');
  assert.ok(csrf, 'the page has a CSRF token');
  const data = { title };
  if (amount) data.amount = { amount, currency: 'EUR' };
  const res = await page.request.post(`${baseURL}/api/v1/leads`, {
    headers: { 'X-CSRF-Token': csrf },
    data,
  });
  assert.equal(res.status(), 201, `POST /api/v1/leads: ${await res.text()}`);
  const lead = await res.json();
  assert.equal(lead.title, title);
  return lead.id;
}

/**
 * Drags `source` with the mouse and drops it on `target` at `targetPosition`
 * (relative to the target's top left corner): real HTML5 drag and drop.
 *
 * `locator.dragTo` in steps (see accounts-pipelines.test.mjs): the pointer
 * first moves a little on the source, so that Chromium fires dragstart there,
 * and only then goes to the target, which may scroll the page. The source is
 * grabbed at `sourcePosition` (default: its centre).
 */
async function dragAndDrop(page, source, target, { sourcePosition, targetPosition } = {}) {
  await source.scrollIntoViewIfNeeded();
  const box = await source.boundingBox();
  assert.ok(box, 'the drag source is visible');
  const x = box.x + (sourcePosition ? sourcePosition.x : box.width / 2);
  const y = box.y + (sourcePosition ? sourcePosition.y : box.height / 2);
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + 5, y + 2, { steps: 3 });
  await page.mouse.move(x + 10, y + 4, { steps: 3 });
  await target.hover({ position: targetPosition });
  const tbox = await target.boundingBox();
  // One more small move over the target, so that it gets a dragover.
  const tx = tbox.x + (targetPosition ? targetPosition.x : tbox.width / 2);
  const ty = tbox.y + (targetPosition ? targetPosition.y : tbox.height / 2);
  await page.mouse.move(tx + 3, ty + 3, { steps: 3 });
  await page.mouse.up();
}

describe('leads and activities in the browser', { timeout: FILE_TIMEOUT_MS }, () => {
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

  test('a rep creates a lead and drags it on the board to the next stage', { timeout: TEST_TIMEOUT_MS }, () =>
    withApp({ locale: 'de-DE' }, async ({ page, baseURL }) => {
      const pageErrors = [];
      page.on('pageerror', (err) => pageErrors.push(err));
      const title = uniqueTitle('Fräszentrum Hanse');

      await signIn(page, baseURL, DEMO.rep.email);
      const leadPath = await createLeadInUI(page, { title, amount: '12.500,00' });
      const leadId = leadPath.split('/').pop();

      await expectMatch(page.locator('main h1'), new RegExp(`^${re(title)} offen$`), 'heading of the new lead');
      await expectText(page.locator('main h1 .tag.status-open'), 'offen');
      await expectMatch(page.locator('main p.lead-facts'), /^Akquise · 12\.500,00 EUR$/, 'stage and amount');
      const created = timeline(page).locator('li.stage', { hasText: `Angelegt in ${FIRST_STAGE}` });
      await expectCount(created, 1, 'the "created" entry in the timeline');
      await expectMatch(created, new RegExp(`Angelegt in ${re(FIRST_STAGE)} von ${re(DEMO.rep.name)}$`));

      // The board, from the navigation.
      const boardLink = page.locator('header nav a[href="/board"]');
      await expectText(boardLink, 'Board');
      await boardLink.click();
      await page.waitForURL((u) => u.pathname === '/board');
      await expectText(page.locator('main h1'), 'Pipeline-Board');
      assert.equal(await boardLink.getAttribute('aria-current'), 'page');

      const cols = columns(page);
      await expectMatch(cols.nth(0).locator('header h2'), new RegExp(`^${re(FIRST_STAGE)} \\d+ %$`), 'first column');
      await expectMatch(cols.nth(1).locator('header h2'), new RegExp(`^${re(SECOND_STAGE)} \\d+ %$`), 'second column');
      const secondStageId = await cols.nth(1).getAttribute('data-stage');

      const card = cardOf(cols.nth(0), title);
      await expectCount(card, 1, 'the new card is in the first column');
      assert.equal(await card.getAttribute('data-id'), leadId);
      await expectText(card.locator('.card-foot .amount'), '12.500,00 EUR');
      assert.equal(await card.locator('a', { hasText: title }).getAttribute('href'), leadPath);
      await expectCount(cardOf(cols.nth(1), title), 0, 'not in the second column yet');

      // Drag the card (grabbed in its padding, off the link) onto the header
      // of the second column: app.js posts the move and reloads the board.
      const [move] = await Promise.all([
        page.waitForResponse(
          (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === `/api/v1/leads/${leadId}/move`,
        ),
        dragAndDrop(page, card, cols.nth(1).locator('header'), {
          sourcePosition: { x: 4, y: 4 },
          targetPosition: { x: 30, y: 10 },
        }),
      ]);
      assert.ok(move.ok(), `status of the move request: ${move.status()}`);
      assert.deepEqual(JSON.parse(move.request().postData()), { stage_id: secondStageId });

      await page.waitForURL((u) => u.pathname === '/board' && u.searchParams.get('moved') === '1');
      await expectText(notice(page), 'Lead verschoben.');
      await expectCount(cardOf(columns(page).nth(1), title), 1, 'the card is in the second column');
      await expectCount(cardOf(columns(page).nth(0), title), 0, 'the card left the first column');
      await expectCount(cardOf(page.locator('#board'), title), 1, 'one card of the lead on the board');
      assert.equal(await page.locator('#board-error').isHidden(), true, 'no board error');

      // The lead page shows the move in its timeline.
      await cardOf(columns(page).nth(1), title).locator('a', { hasText: title }).click();
      await page.waitForURL((u) => u.pathname === leadPath);
      await expectMatch(page.locator('main p.lead-facts'), new RegExp(`^${re(SECOND_STAGE)} · 12\\.500,00 EUR$`));
      const movedEntry = timeline(page).locator('li.stage', {
        hasText: `Von ${FIRST_STAGE} nach ${SECOND_STAGE} verschoben`,
      });
      await expectCount(movedEntry, 1, 'the "moved" entry in the timeline');
      await expectCount(timeline(page).locator('li.stage', { hasText: `Angelegt in ${FIRST_STAGE}` }), 1);

      assert.deepEqual(pageErrors.map(String), [], 'no script errors');
    }));

  test('a rep logs an unanswered call on a lead', { timeout: TEST_TIMEOUT_MS }, () =>
    withApp({ locale: 'de-DE' }, async ({ page, baseURL }) => {
      const title = uniqueTitle('Ersatzteile Kiel');
      await signIn(page, baseURL, DEMO.rep.email);
      const leadId = await createLeadViaApi(page, baseURL, { title, amount: '4000.00' });
      const leadPath = `/leads/${leadId}`;

      await page.goto(`${baseURL}${leadPath}`);
      await expectMatch(page.locator('main h1'), new RegExp(`^${re(title)} offen$`));
      await expectMatch(page.locator('main p.lead-facts'), /^Akquise · 4\.000,00 EUR$/);
      const calls = timeline(page).locator('li.activity', { hasText: 'Anruf' });
      await expectCount(calls, 0, 'no calls yet');

      const form = page.locator('form#log-form');
      const select = form.locator('select[name="activity"]');
      await select.selectOption({ label: 'Anruf — nicht erreicht' });
      await expectText(form.locator('button#log'), 'Erfassen');
      await form.locator('button#log').click();

      await page.waitForURL((u) => u.pathname === leadPath && u.searchParams.get('logged') === '1');
      await expectText(notice(page), 'Aktivität erfasst.');
      const logged = timeline(page).locator('li.activity', { hasText: 'Anruf — nicht erreicht' });
      await expectCount(logged, 1, 'the call in the timeline');
      await expectMatch(logged, new RegExp(`Anruf — nicht erreicht von ${re(DEMO.rep.name)}$`));
      assert.equal(await logged.locator('form').count(), 0, 'a logged call has nothing left to complete');
    }));

  test('a rep schedules a meeting and completes it from "My activities"', { timeout: TEST_TIMEOUT_MS }, () =>
    withApp({ locale: 'de-DE' }, async ({ page, baseURL }) => {
      const title = uniqueTitle('Retrofit Lübeck');
      await signIn(page, baseURL, DEMO.rep.email);
      const leadId = await createLeadViaApi(page, baseURL, { title });
      const leadPath = `/leads/${leadId}`;
      await page.goto(`${baseURL}${leadPath}`);

      const schedule = page.locator('details#schedule');
      await expectText(schedule.locator('summary'), 'Für später planen');
      await schedule.locator('summary').click();
      await schedule.locator('select[name="activity"]').selectOption({ label: 'Termin' });
      const tomorrow = tomorrowInUserTz();
      await schedule.locator('input[type="datetime-local"][name="due_at"]').fill(`${tomorrow}T10:00`);
      await schedule.locator('input[name="notes"]').fill('Vorführung');
      await schedule.locator('form button', { hasText: 'Planen' }).click();

      await page.waitForURL((u) => u.pathname === leadPath && u.searchParams.get('scheduled') === '1');
      await expectText(notice(page), 'Aktivität geplant.');
      const planned = timeline(page).locator('li.scheduled', { hasText: 'Termin: Vorführung' });
      await expectCount(planned, 1, 'the meeting is scheduled in the timeline');
      await expectMatch(planned.locator('time'), new RegExp(`^fällig ${tomorrow} \\d\\d:\\d\\d$`));

      // "My activities", from the navigation.
      const nav = page.locator('header nav a[href="/activities"]');
      await expectText(nav, 'Meine Aktivitäten');
      await nav.click();
      await page.waitForURL((u) => u.pathname === '/activities');
      await expectText(page.locator('main h1'), 'Meine Aktivitäten');

      // Tomorrow is "upcoming"; should the day turn over meanwhile, "today".
      const item = page.locator('section#upcoming li, section#today li', {
        has: page.locator(`a[href="${leadPath}"]`),
      });
      await expectCount(item, 1, 'the meeting on the agenda');
      await expectMatch(item.locator('time'), new RegExp(`^${tomorrow} 10:00$`), 'due time in the user\'s time zone');
      await expectText(item.locator('strong'), 'Termin');
      await expectText(item.locator('a'), title);
      await expectText(item.locator('span.muted'), 'Vorführung');
      await expectCount(page.locator('section#done-today li', { has: page.locator(`a[href="${leadPath}"]`) }), 0);

      await item.locator('select[name="outcome_id"]').selectOption({ label: 'stattgefunden' });
      await item.locator('button', { hasText: 'Erledigt' }).click();

      await page.waitForURL((u) => u.pathname === '/activities' && u.searchParams.get('completed') === '1');
      await expectText(notice(page), 'Aktivität erledigt.');
      const done = page.locator('section#done-today li', { has: page.locator(`a[href="${leadPath}"]`) });
      await expectCount(done, 1, 'the meeting is done today');
      await expectText(done.locator('strong'), 'Termin — stattgefunden');
      assert.equal(await done.locator('form').count(), 0, 'nothing left to complete');
      await expectCount(
        page.locator('section#upcoming li, section#today li, section#overdue li', {
          has: page.locator(`a[href="${leadPath}"]`),
        }),
        0,
        'no longer open',
      );

      // The lead's timeline has it as done.
      await done.locator('a', { hasText: title }).click();
      await page.waitForURL((u) => u.pathname === leadPath);
      await expectCount(timeline(page).locator('li.activity', { hasText: 'Termin — stattgefunden: Vorführung' }), 1);
      await expectCount(timeline(page).locator('li.scheduled, li.overdue'), 0, 'nothing scheduled any more');
    }));

  test('a rep wins a lead, and it leaves the board', { timeout: TEST_TIMEOUT_MS }, () =>
    withApp({ locale: 'de-DE' }, async ({ page, baseURL }) => {
      const title = uniqueTitle('Sondermaschine Rostock');
      await signIn(page, baseURL, DEMO.rep.email);
      const leadId = await createLeadViaApi(page, baseURL, { title, amount: '98000.00' });
      const leadPath = `/leads/${leadId}`;

      // On the board before.
      await page.goto(`${baseURL}/board`);
      await expectCount(cardOf(page.locator('#board'), title), 1, 'the open lead is on the board');

      await page.goto(`${baseURL}${leadPath}`);
      const win = page.locator('button#win');
      await expectText(win, 'Gewonnen');
      await win.click();

      await page.waitForURL((u) => u.pathname === leadPath && u.searchParams.get('won') === '1');
      await expectText(notice(page), 'Lead gewonnen.');
      await expectText(page.locator('main h1 .tag.status-won'), 'gewonnen');
      assert.equal(await page.locator('button#win').count(), 0, 'no "won" button on a won lead');
      await expectText(page.locator('button#reopen'), 'Wieder öffnen');
      await expectCount(timeline(page).locator('li.stage', { hasText: 'gewonnen in Akquise' }), 1);

      await page.locator('header nav a[href="/board"]').click();
      await page.waitForURL((u) => u.pathname === '/board');
      await columns(page).first().waitFor();
      await expectCount(cardOf(page.locator('#board'), title), 0, 'the won lead is not on the board');
      assert.equal(await page.locator(`#board a[href="${leadPath}"]`).count(), 0);
    }));
});
