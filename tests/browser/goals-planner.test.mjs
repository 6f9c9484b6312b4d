// Browser test of the planner and goals: ops of the demo organisation opens
// the planner from the navigation, plans a revenue target for next quarter
// from the history, reads where each ratio came from, applies the plan as
// goals and finds them on the goals page.
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

describe('planner and goals in the browser', { timeout: FILE_TIMEOUT_MS }, () => {
  let browser;

  before(async () => {
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
  });

  test('ops plans next quarter from the history and applies it as goals', { timeout: TEST_TIMEOUT_MS }, async () => {
    const server = await startServer();
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'de-DE' });
    context.setDefaultTimeout(EXPECT_TIMEOUT_MS);
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (err) => pageErrors.push(err));
    try {
      await signIn(page, server.baseURL, DEMO.ops.email);
      const nav = page.locator('header nav a[href="/planner"]');
      assert.equal(squash(await nav.textContent()), 'Planer');
      await nav.click();
      await page.waitForURL((u) => u.pathname === '/planner');
      assert.equal(squash(await page.locator('main h1').textContent()), 'Planer');

      const form = page.locator('form#planner-form');
      await form.locator('input[name="target"]').fill('500.000');
      await form.locator('select[name="preset"]').selectOption('next_quarter');
      await form.locator('select[name="source"]').selectOption('history');
      await form.locator('button[type="submit"]').click();
      await page.waitForURL((u) => u.pathname === '/planner' && u.searchParams.get('target') === '500.000');

      // Every ratio says it came from the history, with its counts.
      const ratios = page.locator('table#plan-ratios tbody tr');
      assert.equal(await ratios.count(), 7);
      for (let i = 0; i < 7; i++) {
        assert.match(squash(await ratios.nth(i).locator('td').nth(2).textContent()), /^Historie \(\d+(\.\d+)? \/ \d+,/);
      }
      assert.match(squash(await page.locator('#plan h2').textContent()), /500\.000,00 EUR/);
      const deals = Number(squash(await page.locator('table#plan-totals tr').first().locator('td').textContent()));
      assert.ok(deals > 0, `deals needed: ${deals}`);
      // The prospecting team's members share the cold calls.
      assert.ok(await page.locator('table#plan-prospecting tbody tr').count() >= 2);

      // Apply: the goals page says how many goals were set and lists them.
      await page.locator('form#plan-apply button').click();
      await page.waitForURL((u) => u.pathname === '/goals' && u.searchParams.has('applied'));
      const notice = squash(await page.locator('main p.notice[role="status"]').textContent());
      assert.match(notice, /^\d+ Ziele aus dem Plan gesetzt\.$/);
      const n = Number(notice.split(' ')[0]);
      assert.ok(n >= 5, `goals set: ${n}`);
      assert.ok(await page.locator('table#goal-list tbody tr').count() >= n);
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
  test('a manager reads the team report, drills into the deals won and opens one', { timeout: TEST_TIMEOUT_MS }, async () => {
    const server = await startServer();
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'de-DE' });
    context.setDefaultTimeout(EXPECT_TIMEOUT_MS);
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (err) => pageErrors.push(err));
    try {
      await signIn(page, server.baseURL, DEMO.admin.email);
      await page.locator('header nav a[href="/dashboard"]').click();
      await page.waitForURL((u) => u.pathname === '/dashboard');
      assert.ok(await page.locator('#kpi-tiles .tile').count() >= 8, 'KPI tiles');
      assert.ok(await page.locator('#activity-trend svg rect').count() > 10, 'the trend chart has bars');

      await page.locator('header nav a[href="/reports"]').click();
      await page.waitForURL((u) => u.pathname === '/reports/activity');
      await page.locator('nav.tabs a[href="/reports/team"]').click();
      await page.waitForURL((u) => u.pathname === '/reports/team');
      await page.locator('form#report-filter select[name="preset"]').selectOption('last_365_days');
      await page.locator('form#report-filter button[type="submit"]').click();
      await page.waitForURL((u) => u.searchParams.get('preset') === 'last_365_days');
      assert.ok(await page.locator('#report-chart svg').count() === 1, 'an SVG chart');
      // The total of deals won links to the deals behind it.
      const wonCell = page.locator('table#report tfoot tr.total td').nth(1).locator('a');
      const won = Number(squash(await wonCell.textContent()).replace(/\./g, ''));
      assert.ok(won > 0, `deals won: ${won}`);
      await wonCell.click();
      await page.waitForURL((u) => u.pathname === '/reports/drill');
      assert.match(squash(await page.locator('h1#drill-heading').textContent()), /^Gewonnene Abschlüsse/);
      assert.equal(await page.locator('table#drill tbody tr').count(), Math.min(won, 500));
      await page.locator('table#drill tbody tr').first().locator('a').click();
      await page.waitForURL((u) => /^\/leads\/[^/]+$/.test(u.pathname));
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
