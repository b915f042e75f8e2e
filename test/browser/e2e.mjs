// End-to-end test of web/ in real headless Chromium (run `./build.sh web` first):
//   cd test/browser && npm ci && node e2e.mjs
// It loads the page from a local server on 127.0.0.1, pastes a generated clinical record
// with injected PHI, checks the highlighted entities, the masked preview, the toggles, the
// exports, a multi-file drop, a bad file, offline use through the service worker, and that no
// request made after load carries any part of the text (every request is intercepted, and
// the server logs what reached it). Screenshots go to test/browser/artifacts/.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from './server.mjs';
import { launch } from './chromium.mjs';
import { record, EXPECTED_ENTITIES } from './fixture.mjs';
import { checkSIMD } from './simd.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../web');
const artifacts = path.join(here, 'artifacts');
fs.mkdirSync(artifacts, { recursive: true });
if (!fs.existsSync(path.join(root, 'bingli.wasm'))) throw new Error('web/bingli.wasm is missing: run ./build.sh web first');

const step = (s) => console.log(`- ${s}`);
// BINGLI_URL=http://127.0.0.1:8080/ tests a running `bingli serve` instead of the local
// static server (then only the browser-side interception checks the requests).
const srv = process.env.BINGLI_URL ? { url: process.env.BINGLI_URL, log: [], close: async () => {} } : await serve(root);
const { context, close } = await launch();
const requests = []; // every request the browser made: {url, body, phase}
let phase = 'load';
context.on('request', (req) => requests.push({ url: req.url(), body: req.postData() || '', phase }));
await context.route('**/*', (route) => route.continue());
const page = context.pages()[0] || await context.newPage();
const consoleErrors = [];
page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
page.on('pageerror', (e) => consoleErrors.push(String(e)));

try {
  await page.goto(srv.url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
  await page.waitForSelector('#offline:not([hidden])', { timeout: 60_000 });
  step('page loaded, model ready, service worker active');
  const serverLoad = srv.log.length;
  phase = 'after-load';

  const { text, phi } = record(7, { sentences: 8 });
  // Paste it for real (clipboard + Ctrl+V): the page analyses a paste by itself.
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.url.replace(/\/$/, '') });
  await page.evaluate((t) => navigator.clipboard.writeText(t), text);
  await page.focus('#text');
  await page.keyboard.press('Control+V');
  await page.waitForSelector('body[data-analyzed="true"]', { timeout: 60_000 });
  assert.equal(await page.inputValue('#text'), text, 'the record was pasted');
  const marks = await page.$$eval('#annotated mark', (ms) => ms.map((m) => ({ text: m.textContent, type: m.dataset.type, title: m.title, start: +m.dataset.start })));
  for (const [term, type] of EXPECTED_ENTITIES) {
    assert.ok(marks.some((m) => m.text === term && m.type === type), `entity ${term} (${type}) highlighted; got ${JSON.stringify(marks.map((m) => m.text))}`);
  }
  assert.ok(marks.every((m) => /[0-9]\.[0-9]{3}/.test(m.title)), 'every highlight shows its confidence on hover');
  const annotated = await page.textContent('#annotated');
  assert.equal(annotated, text, 'the annotated view shows the text unchanged');
  step(`${marks.length} entities highlighted, expected ones present with their types`);

  let masked = await page.textContent('#masked');
  for (const p of phi) assert.ok(!masked.includes(p.text), `PHI ${p.category} ${p.text} masked; preview: ${masked}`);
  for (const tag of ['[姓名]', '[身份证号]', '[电话]', '[病案号]', '[日期]', '[地址]', '[医院]']) assert.ok(masked.includes(tag), `preview has ${tag}`);
  assert.ok(masked.includes('高血压'), 'medical entities are not masked');
  step('PHI masked in the preview (tag mode)');

  // Per-category toggle: phone numbers off, then on again.
  await page.uncheck('#cats input[data-cat="PHONE"]');
  await page.waitForFunction((ph) => document.getElementById('masked').textContent.includes(ph), phi.find((p) => p.category === 'PHONE').text);
  await page.check('#cats input[data-cat="PHONE"]');
  await page.waitForFunction(() => document.body.dataset.analyzed === 'true' && document.getElementById('masked').textContent.includes('[电话]'));
  // Surrogate and mask modes.
  await page.selectOption('#mode', 'surrogate');
  await page.waitForFunction(() => document.body.dataset.analyzed === 'true' && !document.getElementById('masked').textContent.includes('[姓名]'));
  masked = await page.textContent('#masked');
  // Ages up to 89 are kept by design (Safe Harbor); everything else gets a surrogate.
  for (const p of phi.filter((x) => x.category !== 'AGE')) assert.ok(!masked.includes(p.text), `surrogate mode replaces ${p.text}`);
  await page.selectOption('#mode', 'mask');
  await page.waitForFunction(() => document.body.dataset.analyzed === 'true' && document.getElementById('masked').textContent.includes('＊'));
  await page.selectOption('#mode', 'tag');
  await page.waitForFunction(() => document.body.dataset.analyzed === 'true' && document.getElementById('masked').textContent.includes('[姓名]'));
  step('category toggle and the three modes');

  // Entity-type toggle and click-to-locate.
  const firstType = marks[0].type;
  await page.uncheck(`#legend input[data-type="${firstType}"]`);
  assert.ok(await page.$eval(`#annotated mark[data-type="${firstType}"]`, (m) => m.classList.contains('off')), 'type toggle hides highlights');
  await page.check(`#legend input[data-type="${firstType}"]`);
  const rows = await page.$$('#table tbody tr');
  assert.equal(rows.length, marks.length, 'one table row per entity');
  await rows[rows.length - 1].focus();
  await page.keyboard.press('Enter');
  const focused = await page.evaluate(() => document.activeElement && document.activeElement.dataset.idx);
  assert.equal(focused, String(marks.length - 1), 'Enter on a table row focuses its highlight');
  step('type toggles, entity table, click-to-locate by keyboard');

  // Exports.
  const grab = async (id) => {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click(id)]);
    return fs.readFileSync(await dl.path(), 'utf8');
  };
  const jl = (await grab('#exportJsonl')).trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(jl.length, 1);
  assert.equal(jl[0].entities.length, marks.length);
  assert.equal(jl[0].masked, await page.textContent('#masked'));
  const cps = Array.from(text);
  for (const e of jl[0].entities) assert.equal(cps.slice(e.start, e.end).join(''), e.text, 'export offsets are code points of the text');
  for (const p of jl[0].phi) assert.equal(cps.slice(p.start, p.end).join(''), p.text);
  const ann = await grab('#exportBrat');
  assert.match(ann, /^T1\t\S+ \d+ \d+\t/);
  assert.ok(ann.includes('PHI_NAME'));
  const csv = await grab('#exportCsv');
  assert.ok(csv.includes('document,kind,start,end,type,text,confidence'));
  assert.equal(csv.trim().split('\r\n').length, 1 + jl[0].entities.length + jl[0].phi.length);
  const mt = await grab('#exportMasked');
  assert.equal(mt, jl[0].masked);
  step('exports: JSON lines, BRAT, CSV, masked text');
  await page.screenshot({ path: path.join(artifacts, 'page.png'), fullPage: true });

  // Several files at once, then a file that is not UTF-8.
  const r2 = record(11);
  await page.setInputFiles('#files', [
    { name: 'a.txt', mimeType: 'text/plain', buffer: Buffer.from(text) },
    { name: 'b.txt', mimeType: 'text/plain', buffer: Buffer.from('\ufeff' + r2.text) },
  ]);
  await page.waitForFunction(() => document.querySelectorAll('#docs button').length === 2 && document.body.dataset.analyzed === 'true');
  await page.click('#docs button:nth-child(2)');
  assert.equal(await page.textContent('#annotated'), r2.text);
  const jl2 = (await grab('#exportJsonl')).trim().split('\n');
  assert.equal(jl2.length, 2, 'JSON lines export holds both documents');
  await page.setInputFiles('#files', [{ name: 'bad.txt', mimeType: 'text/plain', buffer: Buffer.from([0xe5, 0x8c, 0xbb, 0xff, 0xfe]) }]);
  await page.waitForFunction(() => document.getElementById('status').classList.contains('error'));
  assert.match(await page.textContent('#status'), /bad\.txt/);
  step('two files dropped and analysed; an invalid UTF-8 file is refused with its name');

  // English UI.
  const before = await page.textContent('#analyze');
  await page.click('#lang');
  const other = await page.textContent('#analyze');
  assert.deepEqual([before, other].sort(), ['Analyse', '分析'].sort(), 'the language button switches Chinese and English');
  assert.equal(await page.getAttribute('html', 'lang'), other === '分析' ? 'zh-CN' : 'en');
  await page.click('#lang');
  assert.equal(await page.textContent('#analyze'), before);
  step('Chinese and English UI');

  // The wasm API refuses bad input with clear errors and never panics.
  const errs = await page.evaluate(async (rec) => {
    const out = {};
    const pool = new self.BingliPool(1);
    await pool.start('ccks2017-lite');
    for (const [k, v] of [['empty', ''], ['huge', '痛'.repeat(200001)]]) {
      try { await pool.send(0, 'tag', [v]); out[k] = 'no error'; } catch (e) { out[k] = e.message; }
    }
    try { await pool.send(0, 'tag', [new Uint8Array([0xe5, 0x8c, 0xbb, 0xff])]); out.utf8 = 'no error'; } catch (e) { out.utf8 = e.message; }
    try { await pool.send(0, 'deid', ['头痛', { mode: 'blur' }]); out.mode = 'no error'; } catch (e) { out.mode = e.message; }
    out.after = (await pool.send(0, 'tag', ['头痛三天'])).entities.length >= 0;
    // The WebAssembly SIMD kernels (gemm.wasm) are in use and give what the pure-Go kernels
    // give, confidences included.
    out.kernel = pool.info.kernel;
    const goPool = new self.BingliPool(1, undefined, undefined, false);
    await goPool.start('ccks2017-lite');
    out.goKernel = goPool.info.kernel;
    const [a, b] = await Promise.all([pool.send(0, 'tag', [rec]), goPool.send(0, 'tag', [rec])]);
    out.entities = a.entities.length;
    out.sameAsGo = JSON.stringify(a.entities) === JSON.stringify(b.entities);
    goPool.terminate();
    // Two workers: one tags while the other detects PHI (pool.analyze's parallel path). Bad
    // input fails there with the same errors, and the answer equals one worker's.
    const pair = new self.BingliPool(2);
    await pair.start('ccks2017-lite');
    const { parallelMin, splitMin } = self.BingliPool;
    self.BingliPool.parallelMin = 0; // the parallel path at every length
    // First with the whole text tagged by one worker, then split over both (splitMin 0).
    for (const [path, sm] of [['pair', splitMin], ['split', 0]]) {
      self.BingliPool.splitMin = sm;
      for (const [k, v, o] of [['Empty', '', {}], ['UTF8', new Uint8Array([0xe5, 0x8c, 0xbb, 0xff]), {}], ['Mode', '头痛', { mode: 'blur' }]]) {
        try { await pair.analyze(v, o); out[path + k] = 'no error'; } catch (e) { out[path + k] = e.message; }
      }
      for (const mode of ['tag', 'surrogate', 'mask']) {
        const opts = { mode, seed: 3 };
        const [p, one] = await Promise.all([pair.analyze(rec, opts), pool.send(0, 'analyze', [rec, opts])]);
        out[`${path}-${mode}`] = JSON.stringify([p.entities, p.phi, p.masked]) === JSON.stringify([one.entities, one.phi, one.masked]) && p.phi.length > 0;
      }
    }
    Object.assign(self.BingliPool, { parallelMin, splitMin });
    pair.terminate();
    pool.terminate();
    return out;
  }, text);
  assert.match(errs.empty, /empty/);
  assert.match(errs.huge, /too long/);
  assert.match(errs.utf8, /not valid UTF-8 .*offset 3/);
  assert.match(errs.mode, /unknown mode/);
  assert.equal(errs.after, true, 'the module still works after bad input');
  for (const path of ['pair', 'split']) {
    assert.match(errs[path + 'Empty'], /empty/, path);
    assert.match(errs[path + 'UTF8'], /not valid UTF-8/, path);
    assert.match(errs[path + 'Mode'], /unknown mode/, path);
    for (const m of ['tag', 'surrogate', 'mask']) assert.equal(errs[`${path}-${m}`], true, `two workers (${path === 'pair' ? 'tag ∥ detect' : 'split tagging ∥ detect'}) answer as one worker, ${m} mode`);
  }
  step('bad input: clear errors, no panic');
  step('two workers, tagging (whole or split over both) and PHI detection in parallel: the one-worker answer in every mode, and the same errors');
  assert.equal(errs.kernel, 'wasm-simd', 'the workers use gemm.wasm');
  assert.equal(errs.goKernel, 'go');
  assert.ok(errs.entities > 0 && errs.sameAsGo, 'the SIMD kernels tag exactly as the Go kernels');
  step(`WebAssembly SIMD kernels in use, identical to the Go kernels (${errs.entities} entities, confidences included; gemm.wasm: ${await checkSIMD(path.join(root, 'gemm.wasm'))} kernel cases bit-identical)`);

  // The other shipped model (Yidu-S4K schema).
  const YIDU = ['解剖部位', '疾病和诊断', '药物', '实验室检验', '手术', '影像检查'];
  await page.selectOption('#model', 'yidu-lite');
  // The page reloads the workers, then re-analyses the open documents with the new model.
  await page.waitForFunction((types) => document.body.dataset.analyzed === 'true' && [...document.querySelectorAll('#legend input')].map((i) => i.dataset.type).join() === types.join(), YIDU, { timeout: 120_000 });
  await page.fill('#text', text);
  await page.click('#analyze');
  await page.waitForFunction(() => document.body.dataset.analyzed === 'true' && document.querySelectorAll('#annotated mark').length > 0, null, { timeout: 60_000 });
  const yidu = await page.$$eval('#annotated mark', (ms) => ms.map((m) => m.dataset.type));
  assert.ok(yidu.every((ty) => YIDU.includes(ty)), `Yidu types: ${yidu}`);
  assert.ok(yidu.includes('药物'), 'the Yidu model finds the drug');
  step(`model switch: yidu-lite (${yidu.length} entities, Yidu-S4K types)`);

  // Offline: reload with the network off; the service worker serves everything.
  await context.setOffline(true);
  phase = 'offline';
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
  await page.fill('#text', r2.text);
  await page.click('#analyze');
  await page.waitForSelector('body[data-analyzed="true"]', { timeout: 60_000 });
  assert.ok((await page.$$('#annotated mark')).length > 0, 'tags offline');
  await context.setOffline(false);
  step('works offline after the first load (service worker)');

  // Privacy: nothing after load carries text. Fragments: every 4-code-point window of the
  // records (and every PHI value), raw and URL-encoded.
  const frags = new Set();
  for (const s of [text, r2.text]) {
    const c = Array.from(s);
    for (let i = 0; i + 4 <= c.length; i++) frags.add(c.slice(i, i + 4).join(''));
  }
  for (const p of [...phi, ...r2.phi]) frags.add(p.text);
  const leaks = (s) => [...frags].filter((f) => s.includes(f) || s.includes(encodeURIComponent(f)));
  const after = requests.filter((r) => r.phase !== 'load');
  for (const r of after) {
    assert.deepEqual(leaks(r.url + '\n' + r.body), [], `request ${r.url} carries text`);
    assert.ok(r.url.startsWith(srv.url) || r.url.startsWith('blob:') || r.url.startsWith('data:'), `request to another origin: ${r.url}`);
  }
  for (const r of srv.log.slice(serverLoad)) assert.deepEqual(leaks(decodeURIComponent(r.url) + '\n' + r.body), [], `server saw text in ${r.method} ${r.url}`);
  assert.ok(srv.log.every((r) => r.method === 'GET'), 'the page only ever GETs');
  step(`no request after load carries text (${after.length} requests intercepted after load, ${srv.log.length - serverLoad} reached the server)`);
  const bad = consoleErrors.filter((e) => !/ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e));
  assert.deepEqual(bad, [], 'no console errors');
  console.log('e2e: all checks passed; screenshot in test/browser/artifacts/page.png');
} catch (e) {
  await page.screenshot({ path: path.join(artifacts, 'failure.png'), fullPage: true }).catch(() => {});
  console.error(e);
  process.exitCode = 1;
} finally {
  await close();
  await srv.close();
}
