// What the browser tests share: a private stack served by a Python helper,
// Debian's Chromium, a page that fails its test on any console error or CSP
// violation, and the steps a person takes on the pages.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..', '..');
export const artifacts = path.join(here, 'artifacts');
mkdirSync(artifacts, { recursive: true });
export const PASS = 'a long test passphrase';

// Start a stack helper (a Python script that prints its URL first and
// serves until stdin closes). Returns {url, ask(line) -> reply line, stop()}.
export async function startStack(script, env = {}) {
  const proc = spawn('/usr/bin/python3', [path.join(root, script)],
                     { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const lines = createInterface({ input: proc.stdout });
  const waiting = [];
  lines.on('line', (l) => { const w = waiting.shift(); if (w) w.resolve(l); });
  proc.once('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error('stack exited ' + code));
  });
  const next = () => new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  const url = await next();
  return {
    url,
    ask: (line) => { const reply = next(); proc.stdin.write(line + '\n'); return reply; },
    stop: async () => {
      proc.stdin.end();
      if (proc.exitCode === null) await new Promise((resolve) => proc.once('exit', resolve));
    },
  };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// A fresh context, failing the test on any console error or CSP violation.
export async function newPage(browser, opts = {}) {
  const ctx = await browser.newContext({ acceptDownloads: true, ...opts });
  const page = await ctx.newPage();
  page.problems = [];
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(m.text()); });
  page.on('pageerror', (e) => page.problems.push(String(e)));
  return { ctx, page };
}

export async function createInbox(page, url, name) {
  await page.goto(url + '/');
  await page.getByLabel('Name shown to senders (optional)').fill(name);
  await page.getByLabel('Passphrase', { exact: true }).fill(PASS);
  await page.getByLabel('Passphrase again').fill(PASS);
  await page.getByRole('button', { name: 'Create inbox' }).click();
  await page.locator('#done').waitFor({ state: 'visible', timeout: 30000 });
  const link = await page.locator('#link').inputValue();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download backup' }).click(),
  ]);
  const backup = path.join(artifacts, 'backup-' + Date.now() + '.json');
  await download.saveAs(backup);
  return { link, backup };
}

export async function sendMessage(page, link, text) {
  await page.goto(link);
  await page.getByLabel('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('#status[data-kind="ok"]').waitFor({ timeout: 15000 });
}

export async function unlock(page, url) {
  await page.goto(url + '/inbox');
  await page.locator('#unlock').getByLabel('Passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.locator('#reader').waitFor({ state: 'visible', timeout: 30000 });
}
