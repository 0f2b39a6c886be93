// Drive the web app in headless Chromium (playwright-core) and print one JSON object on stdout:
// the page status, every result card's data-* attributes, failed requests and console errors.
// Used by tests/web (parity with Python) and benchmarks/web_latency.py.
//
//   node web/tools/browser.mjs --url URL [--screenshot PNG] [--offline] [--pixels DIR] [--webgpu]
//       [--bundle-file FILE]... IMAGE...
//
// --bundle-file (repeated): once the page is ready, open these files with "Open another bundle" (manifest.json
// and model files), wait for that bundle to load, and report its status instead of the first one's.
// --pixels: also decode every image with the page's own decoder and write its RGB bytes to
// DIR/<file name>.<width>x<height>.rgb (or DIR/<file name>.err with the message), for parity tests.
// --offline: afterwards wait for the page to say it works offline (report.offlineCache), then cut the network,
// reload, and classify the first image again (service worker).
// On an error: the report so far with `error` (the step and the message), exit code 1.
// CHROMIUM (env) overrides the browser path, /usr/bin/chromium by default.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
// --webgpu: offer WebGPU through Chromium's software adapter (SwiftShader), which headless Chromium exposes
// with this flag even with --disable-gpu.
const WEBGPU_ARGS = ['--enable-unsafe-webgpu'];
const TIMEOUT = 180_000;

const { values: options, positionals: images } = parseArgs({
  allowPositionals: true,
  options: { url: { type: 'string' }, screenshot: { type: 'string' }, offline: { type: 'boolean', default: false },
    pixels: { type: 'string' }, webgpu: { type: 'boolean', default: false },
    'bundle-file': { type: 'string', multiple: true, default: [] } },
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

/** The page's decoder (globalThis.lightship.decodeFile) on each image, written to `dir`. */
async function dumpPixels(page, files, dir) {
  mkdirSync(dir, { recursive: true });
  for (const file of files) {
    const name = basename(file);
    const result = await page.evaluate(async ([b64, fileName]) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      try {
        const { width, height, rgb } = await globalThis.lightship.decodeFile(new File([bytes], fileName));
        let text = '';
        for (let i = 0; i < rgb.length; i += 0x8000) text += String.fromCharCode(...rgb.subarray(i, i + 0x8000));
        return { width, height, rgb: btoa(text) };
      } catch (error) {
        return { error: String(error.message ?? error) };
      }
    }, [readFileSync(file).toString('base64'), name]);
    if (result.error) writeFileSync(join(dir, `${name}.err`), result.error);
    else writeFileSync(join(dir, `${name}.${result.width}x${result.height}.rgb`), Buffer.from(result.rgb, 'base64'));
  }
}

const userDataDir = mkdtempSync(join(tmpdir(), 'lightship-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true,
  args: options.webgpu ? [...ARGS, ...WEBGPU_ARGS] : ARGS,
  viewport: { width: 1000, height: 760 },
});
const report = { failedRequests: [], consoleErrors: [] };
/** What the driver is doing; on stderr as it goes, so a driver killed from outside still says where it was. */
let stage = 'start';
const step = (name) => {
  stage = name;
  console.error(`browser.mjs: ${name}`);
};
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (msg) => msg.type() === 'error' && report.consoleErrors.push(msg.text()));
  page.on('requestfailed', (req) => report.failedRequests.push(`${req.url()} ${req.failure()?.errorText}`));
  page.on('response', (res) => res.status() >= 400 && report.failedRequests.push(`${res.url()} HTTP ${res.status()}`));
  step('open the page');
  await page.goto(options.url);
  Object.assign(report, await waitForModel(page));
  if (report.status === 'ready' && options['bundle-file'].length) {
    step('open another bundle');
    await page.setInputFiles('#bundle-files', options['bundle-file']); // the page says 'loading' at once
    Object.assign(report, await waitForModel(page));
  }
  if (report.status === 'ready' && images.length) {
    step('classify');
    report.results = await classify(page, images);
    if (options.pixels) await dumpPixels(page, images, options.pixels);
  }
  if (options.offline && report.status === 'ready') {
    step('wait for the offline cache'); // the page's own word on it (offline.js)
    const saved = await page.waitForSelector('#offline[data-state="ready"], #offline[data-state="error"]',
      { timeout: TIMEOUT });
    report.offlineCache = { state: await saved.getAttribute('data-state'), text: await saved.textContent() };
  }
  if (options.screenshot && report.results) await page.screenshot({ path: options.screenshot, fullPage: false });
  if (report.offlineCache?.state === 'ready') {
    step('reload offline');
    await context.setOffline(true);
    await page.reload();
    const offline = await waitForModel(page);
    offline.results = offline.status === 'ready' ? await classify(page, images.slice(0, 1)) : [];
    report.offline = offline;
  }
  step('done');
} catch (error) {
  report.error = `${stage}: ${error.message ?? error}`;
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
console.log(JSON.stringify(report));
