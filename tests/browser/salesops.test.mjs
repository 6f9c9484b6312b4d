// Browser tests of the salesops web UI: sign-in, language, sign-out, failed
// sign-in and creating a team. Run with `node --test` in this directory
// (SALESOPS_BIN may point at the server binary).
//
// Every test gets its own server (fresh temporary directory and SQLite
// database with the demo organisation) and its own browser context, so the
// tests do not depend on each other or on their order.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEMO, launchBrowser, signIn, startServer, submitLogin } from './server.mjs';

const FILE_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 60_000;
const EXPECT_TIMEOUT_MS = 10_000;

// The navigation of an admin (viewers have no activities, board, leads,
// prospecting, companies, contacts, imports and scripts; only admin and ops
// shape exchange rates and activity types).
const NAV_DE = [
  'Start', 'Meine Aktivitäten', 'Board', 'Leads', 'Akquise', 'Firmen', 'Kontakte', 'Import / Export', 'Cockpit', 'Berichte', 'Ziele', 'Warnungen', 'Planer', 'Pipelines',
  'Wechselkurse', 'Gesprächsleitfäden', 'Tagesbericht & Warnungen', 'Webhooks', 'Aktivitätsarten', 'Personen', 'Teams', 'API-Tokens', 'Einstellungen', 'API-Doku',
];
const NAV_EN = [
  'Home', 'My activities', 'Board', 'Leads', 'Prospecting', 'Companies', 'Contacts', 'Import / Export', 'Dashboard', 'Reports', 'Goals', 'Alerts', 'Planner', 'Pipelines',
  'Exchange rates', 'Scripts', 'Digest & alerts', 'Webhooks', 'Activity types', 'People', 'Teams', 'API tokens', 'Settings', 'API docs',
];
const NAV_HREFS = [
  '/home', '/activities', '/board', '/leads', '/prospect-lists', '/companies', '/contacts', '/imports', '/dashboard', '/reports', '/goals', '/alerts', '/planner', '/pipelines',
  '/exchange-rates', '/scripts', '/admin/notifications', '/admin/webhooks', '/activity-types', '/people', '/teams', '/tokens', '/settings', '/api/docs',
];

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

/** The links of the header navigation: texts and targets. */
async function expectNav(page, texts) {
  const links = page.locator('header nav a');
  const shown = await expectTexts(links, texts, 'navigation links');
  assert.equal(shown.length, NAV_HREFS.length);
  for (const [i, href] of NAV_HREFS.entries()) {
    assert.equal(await links.nth(i).getAttribute('href'), href, `href of nav link ${texts[i]}`);
  }
}

const pathOf = (page) => new URL(page.url()).pathname;

describe('salesops in the browser', { timeout: FILE_TIMEOUT_MS }, () => {
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

  test('an admin signs in and lands on /home in German, their saved language', { timeout: TEST_TIMEOUT_MS }, () =>
    // The browser asks for English; the user's saved setting (German) wins.
    withApp({ locale: 'en-US' }, async ({ page, baseURL }) => {
      await page.goto(`${baseURL}/`);
      await page.waitForURL((u) => u.pathname === '/login');
      await expectText(page.locator('main h1'), 'Sign in');

      await submitLogin(page, DEMO.admin.email, DEMO.password);
      await page.waitForURL((u) => u.pathname === '/home');

      await expectText(page.locator('h1#welcome'), 'Willkommen, Anna Admin');
      assert.equal(await page.locator('html').getAttribute('lang'), 'de');
      assert.equal(await page.title(), 'Start · salesops');
      await expectNav(page, NAV_DE);
      assert.equal(await page.locator('header nav a[aria-current="page"]').getAttribute('href'), '/home');
      await expectText(page.locator('#sign-out'), 'Abmelden');
    }));

  test('the language switch works before and after sign-in, and the choice is saved', { timeout: TEST_TIMEOUT_MS }, () =>
    withApp({ locale: 'en-US' }, async ({ page, baseURL }) => {
      // Before sign-in: Accept-Language decides, then the cookie of the switch.
      await page.goto(`${baseURL}/login`);
      await expectText(page.locator('main h1'), 'Sign in');
      assert.equal(await page.title(), 'Sign in · salesops');
      await page.locator('#lang-switch a', { hasText: 'Deutsch' }).click();
      await page.waitForURL((u) => u.pathname === '/login');
      await expectText(page.locator('main h1'), 'Anmelden');
      assert.equal(await page.locator('html').getAttribute('lang'), 'de');
      await expectText(page.locator('form[action="/login"] button[type="submit"]'), 'Anmelden');

      // Signed in, the user's setting (German) applies; switch it to English.
      await submitLogin(page, DEMO.admin.email, DEMO.password);
      await page.waitForURL((u) => u.pathname === '/home');
      await expectText(page.locator('h1#welcome'), 'Willkommen, Anna Admin');

      const english = page.locator('#lang-switch button[name="locale"][value="en"]');
      await expectText(english, 'English');
      await expectText(page.locator('#lang-switch button[name="locale"][value="de"]'), 'Deutsch');
      await english.click();
      await page.waitForURL((u) => u.pathname === '/home');
      await expectText(page.locator('h1#welcome'), 'Welcome, Anna Admin');
      assert.equal(await page.locator('html').getAttribute('lang'), 'en');
      await expectNav(page, NAV_EN);
      assert.equal(await english.getAttribute('aria-pressed'), 'true');

      // It stays English after a reload ...
      await page.reload();
      await expectText(page.locator('h1#welcome'), 'Welcome, Anna Admin');
      await expectNav(page, NAV_EN);

      // ... and is the user's saved setting: the settings page shows it and
      // a fresh browser asking for German gets English after sign-in.
      await page.goto(`${baseURL}/settings`);
      assert.equal(await page.locator('#profile-form select[name="locale"]').inputValue(), 'en');

      const other = await page.context().browser().newContext({ locale: 'de-DE' });
      try {
        const p2 = await other.newPage();
        p2.setDefaultTimeout(EXPECT_TIMEOUT_MS);
        await p2.goto(`${baseURL}/login`);
        await expectText(p2.locator('main h1'), 'Anmelden');
        await submitLogin(p2, DEMO.admin.email, DEMO.password);
        await p2.waitForURL((u) => u.pathname === '/home');
        await expectText(p2.locator('h1#welcome'), 'Welcome, Anna Admin');
      } finally {
        await other.close();
      }
    }));

  test('signing out ends the session', { timeout: TEST_TIMEOUT_MS }, () =>
    withApp({ locale: 'en-US' }, async ({ page, context, baseURL }) => {
      await signIn(page, baseURL, DEMO.admin.email);
      await expectText(page.locator('h1#welcome'), 'Willkommen, Anna Admin');
      assert.ok(
        (await context.cookies(baseURL)).some((c) => c.name === 'salesops_session' && c.value),
        'a session cookie after sign-in',
      );

      await page.locator('#sign-out').click();
      await page.waitForURL((u) => u.pathname === '/login' && u.searchParams.get('signed_out') === '1');
      // The sign-in page keeps the language the user was using (German).
      await expectText(page.locator('main p.notice[role="status"]'), 'Sie wurden abgemeldet.');
      await expectText(page.locator('main h1'), 'Anmelden');
      assert.equal(await page.locator('#sign-out').count(), 0, 'no sign-out button when signed out');
      assert.ok(
        !(await context.cookies(baseURL)).some((c) => c.name === 'salesops_session' && c.value),
        'the session cookie is gone',
      );

      const res = await page.goto(`${baseURL}/home`);
      await page.waitForURL((u) => u.pathname === '/login');
      assert.equal(new URL(page.url()).searchParams.get('next'), '/home');
      assert.equal(res.request().redirectedFrom()?.url(), `${baseURL}/home`);
      await expectText(page.locator('main h1'), 'Anmelden');
      await page.locator('input[name="email"]').waitFor();
    }));

  test('a wrong password or an unknown e-mail is refused with the same message', { timeout: TEST_TIMEOUT_MS }, () =>
    withApp({ locale: 'en-US' }, async ({ page, context, baseURL }) => {
      const attempt = async (email, password) => {
        await page.goto(`${baseURL}/login`);
        await expectText(page.locator('main h1'), 'Sign in');
        assert.equal(await page.locator('#login-error').count(), 0, 'no error before submitting');
        const [res] = await Promise.all([
          page.waitForResponse(
            (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/login',
          ),
          submitLogin(page, email, password),
        ]);
        await page.waitForLoadState('domcontentloaded');
        assert.equal(res.status(), 401, `status of POST /login for ${email}`);
        assert.equal(pathOf(page), '/login');
        await expectText(page.locator('#login-error'), 'Wrong e-mail or password.');
        assert.equal(await page.locator('#login-error').getAttribute('role'), 'alert');
        // The form is shown again with the e-mail kept and the password empty.
        assert.equal(await page.locator('input[name="email"]').inputValue(), email);
        assert.equal(await page.locator('input[name="password"]').inputValue(), '');
        return (await page.locator('#login-error').textContent()).trim();
      };

      const wrongPassword = await attempt(DEMO.admin.email, 'not-the-password');
      const unknownEmail = await attempt('nobody@nordwind.example', 'not-the-password');
      assert.equal(unknownEmail, wrongPassword, 'unknown e-mail and wrong password look the same');

      assert.ok(
        !(await context.cookies(baseURL)).some((c) => c.name === 'salesops_session' && c.value),
        'no session cookie after failed sign-ins',
      );
      await page.goto(`${baseURL}/home`);
      await page.waitForURL((u) => u.pathname === '/login');

      // The message is translated too.
      await page.locator('#lang-switch a', { hasText: 'Deutsch' }).click();
      await page.waitForURL((u) => u.pathname === '/login');
      await expectText(page.locator('main h1'), 'Anmelden');
      await submitLogin(page, DEMO.rep.email, 'falsches-passwort');
      await expectText(page.locator('#login-error'), 'E-Mail oder Passwort ist falsch.');
      assert.equal(pathOf(page), '/login');
    }));

  test('an admin creates a team on the Teams page and sees it listed', { timeout: TEST_TIMEOUT_MS }, () =>
    withApp({ locale: 'de-DE' }, async ({ page, baseURL }) => {
      const name = `Browsertest Team ${Date.now().toString(36)}`;
      await signIn(page, baseURL, DEMO.admin.email);

      await page.locator('header nav a[href="/teams"]').click();
      await page.waitForURL((u) => u.pathname === '/teams');
      await expectText(page.locator('main h1'), 'Teams');
      const rows = page.locator('table#teams tbody tr');
      assert.equal(await rows.filter({ hasText: name }).count(), 0);

      const details = page.locator('details#new-team');
      await expectText(details.locator('summary'), 'Neues Team');
      await details.locator('summary').click();
      await details.locator('input[name="name"]').fill(name);
      await details.locator('select[name="segment"]').selectOption('prospecting');
      await details.locator('form button[type="submit"]').click();

      await page.waitForURL((u) => /^\/teams\/[^/]+$/.test(u.pathname) && u.searchParams.has('created'));
      await expectText(page.locator('main p.notice[role="status"]'), 'Team angelegt.');

      await page.locator('header nav a[href="/teams"]').click();
      await page.waitForURL((u) => u.pathname === '/teams');
      const row = rows.filter({ has: page.locator('td a', { hasText: name }) });
      await expectTexts(row.locator('td'), [name, 'Kaltakquise', '', '', '0 Mitglieder'], 'row of the new team');
      const href = await row.locator('td a').getAttribute('href');
      assert.match(href, /^\/teams\/[^/]+$/);
    }));
});
