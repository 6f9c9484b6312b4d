// Takes the README screenshots (1280x800 PNG) of a fresh demo server:
//   login.png  - the sign-in page in English
//   home.png   - the start page of the admin, in German (their saved language)
//   people.png - the people list (German)
//   teams.png  - the team list (German)
//   pipeline.png - the default pipeline with its stages, as ops (German)
//   company.png  - a company with a contact, as admin (German); the company
//                  and the contact are created through the UI first
//   board.png    - the pipeline board as a rep (German), after the rep has
//                  created three leads with amounts in different stages
//   prospect-list.png - a prospecting list as a cold caller (German)
//   prospect.png - the first open prospect of it, with the call log and the script
//   dashboard.png, report.png, planner.png - as admin (German); goals.png - as
//   the sales manager (German)
//   lead.png     - one of those leads with a logged call and a scheduled
//                  meeting in its timeline (German)
// Run with `node screenshots.mjs` in this directory (SALESOPS_BIN may point
// at the server binary). The files go to docs/screenshots/ of the repository.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO, launchBrowser, signIn, startServer } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.resolve(here, '..', '..', 'docs', 'screenshots');
const viewport = { width: 1280, height: 800 };

async function shoot(page, name) {
  const file = path.join(outDir, name);
  // The viewport only (not the full page), so every image is 1280x800.
  await page.screenshot({ path: file, type: 'png', animations: 'disabled', caret: 'hide' });
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

/**
 * Creates a company and a contact of it through the forms (the page must be
 * signed in) and leaves the page on the company (see the end for the scrolling).
 */
async function createCompanyWithContact(page, baseURL) {
  await page.goto(`${baseURL}/companies`);
  const company = page.locator('details#new-company');
  await company.locator('summary').click();
  const fields = {
    name: 'Hanse Logistik GmbH',
    industry: 'Logistik',
    website: 'www.hanse-logistik.example',
    phone: '+49 40 123456-0',
    country: 'DE',
    region: 'Hamburg',
    postcode: '20457',
    city: 'Hamburg',
    value_amount: '12.500,00',
  };
  for (const [name, value] of Object.entries(fields)) {
    await company.locator(`[name="${name}"]`).fill(value);
  }
  await company.locator('select[name="size_band"]').selectOption({ index: 2 });
  await company
    .locator('textarea[name="problems"]')
    .fill('Lange Standzeiten im Hafen, Tourenplanung noch mit Tabellen.');
  await company.locator('form button[type="submit"]').click();
  await page.waitForURL((u) => /^\/companies\/[^/]+$/.test(u.pathname) && u.searchParams.has('created'));
  const companyURL = `${baseURL}${new URL(page.url()).pathname}`;

  const contact = page.locator('details#new-contact');
  await contact.locator('summary').click();
  await contact.locator('input[name="name"]').fill('Ole Hansen');
  await contact.locator('input[name="job_title"]').fill('Leiter Disposition');
  await contact.locator('input[name="email"]').fill('ole@hanse.example');
  await contact.locator('input[name="phone"]').fill('+49 40 123456-12');
  await contact.locator('form button[type="submit"]').click();
  await page.waitForURL((u) => u.searchParams.has('contact_added'));

  // Without the notice, scrolled down past the top bar so that the contacts
  // are in view. The open "new contact" form below them makes the page tall
  // enough for that.
  await page.goto(companyURL);
  await page.locator('table#company-contacts tbody tr').first().waitFor();
  await page.locator('details#new-contact summary').click();
  await page.evaluate(() => {
    const top = document.querySelector('main').getBoundingClientRect().top + window.scrollY;
    window.scrollTo(0, Math.ceil(top));
  });
}

/** "YYYY-MM-DD" of the day after today in Berlin (the demo users' time zone). */
function tomorrowInBerlin() {
  const today = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/Berlin',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(new Date());
  const [y, m, d] = today.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/**
 * Creates a lead through the form on /leads and, when `stage` is given (its
 * name), moves it there with the form of the lead page. Returns the lead's
 * URL (without a notice).
 */
async function createLead(page, baseURL, { title, amount, stage }) {
  await page.goto(`${baseURL}/leads`);
  const details = page.locator('details#new-lead');
  await details.locator('summary').click();
  await details.locator('input[name="title"]').fill(title);
  await details.locator('input[name="amount"]').fill(amount);
  await details.locator('form button[type="submit"]').click();
  await page.waitForURL((u) => /^\/leads\/[^/]+$/.test(u.pathname) && u.searchParams.has('created'));
  const leadURL = `${baseURL}${new URL(page.url()).pathname}`;
  if (stage) {
    const move = page.locator('form#move-form');
    const option = move.locator('select[name="stage_id"] option', { hasText: stage });
    await move.locator('select[name="stage_id"]').selectOption(await option.getAttribute('value'));
    await move.locator('button').click();
    await page.waitForURL((u) => u.searchParams.has('moved'));
  }
  return leadURL;
}

/**
 * As a rep (the page must be signed in): three leads in three stages, a call
 * logged on the first and a meeting scheduled on it. Returns the first
 * lead's URL.
 */
async function createLeadsWithActivities(page, baseURL) {
  const first = await createLead(page, baseURL, {
    title: 'Hanse Logistik – Sortieranlage',
    amount: '48.000,00',
    stage: 'Kontakt & Qualifizierung',
  });
  await createLead(page, baseURL, { title: 'Werft Kiel – Ersatzteilpaket', amount: '12.500,00' });
  await createLead(page, baseURL, {
    title: 'Brauerei Flensburg – Abfülllinie',
    amount: '86.000,00',
    stage: 'Nutzen demonstrieren',
  });

  await page.goto(first);
  const log = page.locator('form#log-form');
  await log.locator('select[name="activity"]').selectOption({ label: 'Anruf — erreicht' });
  await log.locator('input[name="duration_minutes"]').fill('15');
  await log.locator('input[name="notes"]').fill('Bedarf für zwei Linien bestätigt');
  await log.locator('button#log').click();
  await page.waitForURL((u) => u.searchParams.has('logged'));

  const schedule = page.locator('details#schedule');
  await schedule.locator('summary').click();
  await schedule.locator('select[name="activity"]').selectOption({ label: 'Termin' });
  await schedule.locator('input[name="due_at"]').fill(`${tomorrowInBerlin()}T10:00`);
  await schedule.locator('input[name="notes"]').fill('Vorführung im Werk');
  await schedule.locator('form button').click();
  await page.waitForURL((u) => u.searchParams.has('scheduled'));
  return first;
}

async function main() {
  await mkdir(outDir, { recursive: true });
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    const { baseURL } = server;

    const anonymous = await browser.newContext({ viewport, locale: 'en-US' });
    const p1 = await anonymous.newPage();
    await p1.goto(`${baseURL}/login`);
    await p1.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
    await shoot(p1, 'login.png');
    await anonymous.close();

    const admin = await browser.newContext({ viewport, locale: 'de-DE' });
    const page = await admin.newPage();
    await signIn(page, baseURL, DEMO.admin.email);
    await page.getByRole('heading', { name: 'Willkommen, Anna Admin', exact: true }).waitFor();
    await shoot(page, 'home.png');

    await page.goto(`${baseURL}/people`);
    await page.locator('table#people tbody tr').first().waitFor();
    await shoot(page, 'people.png');

    await page.goto(`${baseURL}/teams`);
    await page.locator('table#teams tbody tr').first().waitFor();
    await shoot(page, 'teams.png');

    await page.goto(`${baseURL}/dashboard?preset=last_month`);
    await page.locator('#kpi-tiles .tile').first().waitFor();
    await shoot(page, 'dashboard.png');

    await page.goto(`${baseURL}/reports/pipeline?preset=last_365_days`);
    await page.locator('table#report tbody tr').first().waitFor();
    await shoot(page, 'report.png');

    await page.goto(`${baseURL}/planner?target=500.000&preset=next_quarter&source=history`);
    await page.locator('table#plan-totals').waitFor();
    await page.evaluate(() => document.querySelector('#plan').scrollIntoView());
    await shoot(page, 'planner.png');

    await page.goto(`${baseURL}/admin/webhooks`);
    await page.locator('form#webhook-form input[name="url"]').fill('https://crm.example.com/hooks/salesops');
    await page.locator('form#webhook-form input[name="description"]').fill('CRM sync');
    for (const e of ['lead.created', 'lead.won', 'lead.lost']) {
      await page.locator(`form#webhook-form input[name="events"][value="${e}"]`).check();
    }
    await page.locator('form#webhook-form button[type="submit"]').click();
    await page.waitForURL((u) => u.searchParams.has('created'));
    await page.locator('#send-test').click();
    await page.waitForURL((u) => u.searchParams.has('tested'));
    await page.locator('table#deliveries tbody tr').first().waitFor();
    await page.evaluate(() => document.querySelector('#webhook-secret').scrollIntoView());
    await shoot(page, 'webhook.png');

    await createCompanyWithContact(page, baseURL);
    await shoot(page, 'company.png');
    await admin.close();

    // A sales manager's goals page: the team's progress with pace.
    const manager = await browser.newContext({ viewport, locale: 'de-DE' });
    const managerPage = await manager.newPage();
    await signIn(managerPage, baseURL, 'miriam.keller@nordwind.example');
    await managerPage.goto(`${baseURL}/goals`);
    await managerPage.locator('table#goal-progress tbody tr').first().waitFor();
    await shoot(managerPage, 'goals.png');
    await managerPage.goto(`${baseURL}/alerts`);
    await managerPage.locator('table#alerts tbody tr').first().waitFor();
    await shoot(managerPage, 'alerts.png');
    await managerPage.goto(`${baseURL}/digest/preview`);
    await managerPage.frameLocator('#digest-html').locator('h1').waitFor();
    await shoot(managerPage, 'digest.png');
    await manager.close();

    const ops = await browser.newContext({ viewport, locale: 'de-DE' });
    const opsPage = await ops.newPage();
    await signIn(opsPage, baseURL, DEMO.ops.email);
    await opsPage.goto(`${baseURL}/pipelines`);
    await opsPage.locator('section.pipeline-card h2 a', { hasText: 'Neukundengewinnung' }).click();
    await opsPage.waitForURL((u) => /^\/pipelines\/[^/]+$/.test(u.pathname));
    await opsPage.locator('ol#stages > li[data-id]').last().waitFor();
    await shoot(opsPage, 'pipeline.png');
    await ops.close();

    const rep = await browser.newContext({ viewport, locale: 'de-DE' });
    const repPage = await rep.newPage();
    await signIn(repPage, baseURL, DEMO.rep.email);
    const leadURL = await createLeadsWithActivities(repPage, baseURL);
    await repPage.goto(`${baseURL}/board`);
    await repPage.locator('#board article.lead-card').first().waitFor();
    await shoot(repPage, 'board.png');

    // Without the notice, scrolled past the top bar so that more of the
    // timeline is in view.
    await repPage.goto(leadURL);
    await repPage.locator('ol#timeline li.scheduled').first().waitFor();
    await repPage.evaluate(() => {
      const top = document.querySelector('main').getBoundingClientRect().top + window.scrollY;
      window.scrollTo(0, Math.ceil(top));
    });
    await shoot(repPage, 'lead.png');
    await rep.close();

    // A cold caller's prospecting list and a prospect with its script.
    const caller = await browser.newContext({ viewport, locale: 'de-DE' });
    const callerPage = await caller.newPage();
    await signIn(callerPage, baseURL, 'sara.yilmaz@nordwind.example');
    await callerPage.goto(`${baseURL}/prospect-lists`);
    await callerPage.locator('table#prospect-lists a', { hasText: 'Maschinenbau Bayern' }).click();
    await callerPage.locator('table#prospects tbody tr').first().waitFor();
    await shoot(callerPage, 'prospect-list.png');
    await callerPage.locator('a#start-working').click();
    await callerPage.locator('section#script').waitFor();
    await shoot(callerPage, 'prospect.png');
    await caller.close();
  } finally {
    await browser.close();
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
