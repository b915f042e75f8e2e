// Runs web/bench.html in headless Chromium and prints its table (run ./build.sh web first,
// with onnxruntime-web installed here: npm ci).
//   node bench.mjs [--runs 30] [--model ccks2017-lite] [--sizes 200,1000,5000] [--batches 12,32] [--compare other.wasm] [--gokernel 1] [--json out.json]
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from './server.mjs';
import { launch } from './chromium.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) => (v.startsWith('--') ? [...a, [v.slice(2), all[i + 1]]] : a), []));
const q = new URLSearchParams({ runs: args.runs || '30', model: args.model || 'ccks2017-lite', sizes: args.sizes || '200,1000,5000', batches: args.batches || '', compare: args.compare || '', gokernel: args.gokernel || '' });
const srv = await serve(path.resolve(here, '../../web'));
const { context, close } = await launch();
const page = context.pages()[0] || await context.newPage();
page.on('pageerror', (e) => console.error('page error:', e));
try {
  await page.goto(`${srv.url}bench.html?${q}`);
  await page.waitForSelector('body[data-done="true"]', { timeout: 0 });
  console.log(await page.textContent('#out'));
  const r = await page.evaluate(() => window.benchResult);
  if (r.error) process.exitCode = 1;
  if (args.json) (await import('node:fs')).writeFileSync(args.json, JSON.stringify(r, null, 2));
} finally {
  await close();
  await srv.close();
}
