// Browser test of alerts, the digest and webhooks: ops of the demo
// organisation registers a webhook endpoint and sends it a test event,
// reads and dismisses an alert, chooses a weekly digest and previews it.
//
// Run with `node --test` in this directory (SALESOPS_BIN may point at the
// server binary). The server and the browser context are the test's own.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEMO, launchBrowser, signIn, startServer } from './server.mjs';

const FILE_TIMEOUT_MS = 120_000;
const TEST_TIMEOUT_MS = 60_000;
const EXPECT_TIMEOUT_MS = 10_000;

const squash = (s) => (s ?? '').replace(/\s+/g, ' ').trim();
const notice = (page) => page.locator('main p.notice[role="status"]');

describe('alerts, digest and webhooks in the browser', { timeout: FILE_TIMEOUT_MS }, () => {
  let browser;

  before(async () => {
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
  });

  test('ops registers a webhook, dismisses an alert and previews a weekly digest', { timeout: TEST_TIMEOUT_MS }, async () => {
    const server = await startServer();
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'de-DE' });
    context.setDefaultTimeout(EXPECT_TIMEOUT_MS);
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (err) => pageErrors.push(err));
    try {
      await signIn(page, server.baseURL, DEMO.ops.email);

      // Webhooks, from the navigation.
      await page.locator('header nav a[href="/admin/webhooks"]').click();
      await page.waitForURL((u) => u.pathname === '/admin/webhooks');
      const form = page.locator('form#webhook-form');
      // An internal address is refused with the reason, the entries kept.
      await form.locator('input[name="url"]').fill('http://192.168.1.20/hook');
      await form.locator('input[name="events"][value="lead.won"]').check();
      await form.locator('button[type="submit"]').click();
      assert.match(squash(await page.locator('main .field-error').first().textContent()), /private/);
      assert.ok(await page.locator('input[name="events"][value="lead.won"]').isChecked());
      await page.locator('form#webhook-form input[name="url"]').fill('https://hooks.example.com/salesops');
      await page.locator('form#webhook-form button[type="submit"]').click();
      await page.waitForURL((u) => /^\/admin\/webhooks\/[^/]+$/.test(u.pathname) && u.searchParams.has('created'));
      assert.equal(squash(await notice(page).textContent()), 'Endpunkt angelegt.');
      assert.match(squash(await page.locator('#webhook-secret').textContent()), /^whsec_[0-9a-f]{48}$/);
      await page.locator('#send-test').click();
      await page.waitForURL((u) => u.searchParams.has('tested'));
      const row = page.locator('table#deliveries tbody tr').first();
      assert.match(squash(await row.textContent()), /webhook\.test/);

      // Alerts: the demo has some; dismiss the first.
      await page.locator('header nav a[href="/alerts"]').click();
      await page.waitForURL((u) => u.pathname === '/alerts');
      const rows = page.locator('table#alerts tbody tr');
      const before = await rows.count();
      assert.ok(before > 0, 'the demo organisation has alerts');
      await rows.first().locator('button').click();
      await page.waitForURL((u) => u.pathname === '/alerts' && u.searchParams.has('done'));
      assert.equal(squash(await notice(page).textContent()), 'Warnung ausgeblendet.');
      assert.equal(await page.locator('table#alerts tbody tr').count(), before - 1);

      // The digest: weekly, then the preview.
      await page.goto(`${server.baseURL}/settings`);
      await page.locator('form#digest-form input[value="weekly"]').check();
      await page.locator('form#digest-form button[type="submit"]').click();
      await page.waitForURL((u) => u.pathname === '/settings');
      assert.ok(await page.locator('form#digest-form input[value="weekly"]').isChecked());
      await page.locator('a[href="/digest/preview"]').first().click();
      await page.waitForURL((u) => u.pathname === '/digest/preview');
      assert.match(squash(await page.locator('#digest-subject').textContent()), /Wochenbericht/);
      const frame = page.frameLocator('#digest-html');
      assert.match(squash(await frame.locator('h1').textContent()), /^Guten Morgen, Olaf Berger$/);
      assert.ok(await frame.locator('#total-activities').count() === 1);
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
