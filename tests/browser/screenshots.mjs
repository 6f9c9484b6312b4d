// Takes the README screenshots (1280x800 PNG) of a fresh demo server:
//   login.png  - the sign-in page in English
//   home.png   - the start page of the admin, in German (their saved language)
//   people.png - the people list (German)
//   teams.png  - the team list (German)
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
    await admin.close();
  } finally {
    await browser.close();
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
