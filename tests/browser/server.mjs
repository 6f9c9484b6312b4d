// Shared helpers for the browser tests and the screenshot script:
// start a throw-away salesops server on a free port with a fresh SQLite
// database filled with the demo organisation, and launch the system Chromium.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));

/**
 * The server binary: env SALESOPS_BIN (relative paths are taken from the
 * current directory), else the debug build of the workspace.
 */
export const SALESOPS_BIN = process.env.SALESOPS_BIN
  ? path.resolve(process.env.SALESOPS_BIN)
  : path.resolve(here, '..', '..', 'target', 'debug', 'salesops');

/** The browser: env CHROMIUM_PATH, else Debian's Chromium. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Logins of the demo organisation (`serve --demo`). All share one password. */
export const DEMO = {
  password: 'salesops-demo',
  admin: { email: 'admin@nordwind.example', name: 'Anna Admin' },
  ops: { email: 'ops@nordwind.example', name: 'Olaf Berger' },
  rep: { email: 'lena.fischer@nordwind.example', name: 'Lena Fischer' },
  viewer: { email: 'claudia.richter@nordwind.example', name: 'Claudia Richter' },
};

const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;

/** A TCP port that was free a moment ago (bind to port 0, read it, close). */
export async function freePort() {
  const srv = net.createServer();
  srv.unref();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `salesops serve --demo` in a fresh temporary directory and waits
 * until GET /readyz answers 200. Returns `{ baseURL, dir, log, stop }`;
 * `stop()` sends SIGTERM, waits for the exit and removes the directory.
 * Should another process take the free port first, it tries a new one.
 */
export async function startServer({ bin = SALESOPS_BIN } = {}) {
  if (!existsSync(bin)) {
    throw new Error(`salesops binary not found at ${bin} (set SALESOPS_BIN)`);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(bin);
    } catch (err) {
      if (attempt >= 3 || !/Address already in use/.test(err.message)) throw err;
    }
  }
}

async function startOnce(bin) {
  const dir = await mkdtemp(path.join(tmpdir(), 'salesops-browser-'));
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  const baseURL = `http://${listen}`;
  const logPath = path.join(dir, 'server.log');
  const logFile = createWriteStream(logPath);

  // Settings must come from the command line only, not from the caller's
  // environment or a salesops.toml in some working directory.
  const env = { ...process.env, NO_COLOR: '1' };
  for (const k of Object.keys(env)) {
    if (k.startsWith('SALESOPS_')) delete env[k];
  }

  const child = spawn(
    bin,
    ['serve', '--demo', '--listen', listen, '--database', `sqlite://${dir}/salesops.db`],
    { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.pipe(logFile, { end: false });
  child.stderr.pipe(logFile, { end: false });

  let exited = null;
  const exitPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    });
    child.once('error', (err) => {
      exited = { error: err };
      resolve(exited);
    });
  });

  const log = () => {
    try {
      return readFileSync(logPath, 'utf8');
    } catch {
      return '';
    }
  };

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      child.kill('SIGTERM');
      const timer = sleep(STOP_TIMEOUT_MS).then(() => 'timeout');
      if ((await Promise.race([exitPromise, timer])) === 'timeout') {
        child.kill('SIGKILL');
        await exitPromise;
      }
    }
    await new Promise((resolve) => logFile.end(resolve));
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    for (;;) {
      if (exited) {
        throw new Error(`salesops exited before it was ready (${JSON.stringify(exited)})`);
      }
      try {
        const res = await fetch(`${baseURL}/readyz`, { signal: AbortSignal.timeout(2_000) });
        if (res.status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        throw new Error(`salesops was not ready on ${baseURL} within ${READY_TIMEOUT_MS} ms`);
      }
      await sleep(200);
    }
  } catch (err) {
    const out = log();
    await stop();
    err.message += `\n--- server log ---\n${out}`;
    throw err;
  }

  return { baseURL, dir, log, stop };
}

/** Launches the system Chromium headless. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Fills the sign-in form of the page (which must be on /login) and submits it. */
export async function submitLogin(page, email, password) {
  await page.locator('input[name="email"]').fill(email);
  await page.locator('input[name="password"]').fill(password);
  await page.locator('form[action="/login"] button[type="submit"]').click();
}

/** Signs in from a fresh page and waits for /home. */
export async function signIn(page, baseURL, email, password = DEMO.password) {
  await page.goto(`${baseURL}/login`);
  await submitLogin(page, email, password);
  await page.waitForURL((u) => u.pathname === '/home');
}
