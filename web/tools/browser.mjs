// Drive the web app in headless Chromium (playwright-core) and print one JSON object on stdout:
// the page status, every result card's data-* attributes, failed requests and console errors.
// Used by tests/web (parity with Python) and benchmarks/web_latency.py.
//
//   node web/tools/browser.mjs --url URL [--screenshot PNG] [--offline] IMAGE...
//
// --offline: afterwards cut the network, reload, and classify the first image again (service worker).
// CHROMIUM (env) overrides the browser path, /usr/bin/chromium by default.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const TIMEOUT = 180_000;

const { values: options, positionals: images } = parseArgs({
  allowPositionals: true,
  options: { url: { type: 'string' }, screenshot: { type: 'string' }, offline: { type: 'boolean', default: false } },
});

async function waitForModel(page) {
  await page.waitForSelector('[data-testid="status"][data-state="ready"], [data-testid="status"][data-state="error"]',
    { timeout: TIMEOUT });
  return page.evaluate(() => ({
    status: document.querySelector('[data-testid="status"]').textContent,
    info: document.getElementById('model-info').textContent,
    bundleError: document.getElementById('bundle-error').hidden ? null : document.getElementById('bundle-error').textContent,
    crossOriginIsolated: self.crossOriginIsolated,
  }));
}

async function classify(page, files) {
  const before = await page.locator('#results > li').count();
  await page.setInputFiles('#files', files);
  await page.waitForFunction((n) => document.querySelectorAll('#results > li').length >= n, before + files.length,
    { timeout: TIMEOUT });
  return page.evaluate(() => Array.from(document.querySelectorAll('#results > li'), (li) => ({ ...li.dataset })).reverse());
}

const userDataDir = mkdtempSync(join(tmpdir(), 'lightship-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ARGS,
  viewport: { width: 1000, height: 760 },
});
const report = { failedRequests: [], consoleErrors: [] };
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (msg) => msg.type() === 'error' && report.consoleErrors.push(msg.text()));
  page.on('requestfailed', (req) => report.failedRequests.push(`${req.url()} ${req.failure()?.errorText}`));
  page.on('response', (res) => res.status() >= 400 && report.failedRequests.push(`${res.url()} HTTP ${res.status()}`));
  await page.goto(options.url);
  Object.assign(report, await waitForModel(page));
  if (report.status === 'ready' && images.length) {
    report.results = await classify(page, images);
    if (options.screenshot) await page.screenshot({ path: options.screenshot, fullPage: false });
  }
  if (options.offline && report.status === 'ready') {
    await page.evaluate(() => navigator.serviceWorker.ready);
    await context.setOffline(true);
    await page.reload();
    const offline = await waitForModel(page);
    offline.results = offline.status === 'ready' ? await classify(page, images.slice(0, 1)) : [];
    report.offline = offline;
  }
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
console.log(JSON.stringify(report));
