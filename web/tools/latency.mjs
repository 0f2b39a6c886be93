// Drive web/tools/latency.html in headless Chromium: one fresh page per query, in the order given, and
// print {query: {times} | {error}} as JSON. Used by benchmarks/web_latency.py --profile.
//   node web/tools/latency.mjs --url SITE_URL QUERY...
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: options, positionals: queries } = parseArgs({ allowPositionals: true, options: { url: { type: 'string' } } });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'],
});
const report = {};
try {
  for (const query of queries) {
    const page = await browser.newPage();
    await page.goto(new URL(`latency.html?${query}`, options.url).href);
    await page.waitForFunction(() => window.result, null, { timeout: 600_000 });
    report[query] = await page.evaluate(() => window.result);
    await page.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
