// Runs web/bingli.wasm under Node twice, with the pure-Go GEMM kernel and with web/gemm.wasm
// (the SIMD kernel), on generated records, and checks that entities, PHI and masked text are
// identical; prints the median time of each (a quick check without Chromium; bench.mjs is
// the benchmark). node node-tag.mjs [--runs 10] [--model ccks2017-lite] [--wasm bingli.wasm] [--only simd]
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { record } from './fixture.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const web = path.resolve(here, '../../web');
const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) => (v.startsWith('--') ? [...a, [v.slice(2), all[i + 1]]] : a), []));
const runs = +(args.runs || 10), model = args.model || 'ccks2017-lite';
const wasmPath = args.wasm || path.join(web, 'bingli.wasm');
createRequire(import.meta.url)(path.join(web, 'wasm_exec.js')); // defines globalThis.Go

async function start(simd) {
  delete globalThis.bingliSgemm;
  delete globalThis.bingliSgemmA;
  delete globalThis.bingliSigmoid;
  delete globalThis.bingliTanh;
  delete globalThis.bingliGRURow;
  delete globalThis.bingliGRUSeq;
  const go = new Go();
  const ready = new Promise((resolve) => { globalThis.bingliReady = resolve; });
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(wasmPath), go.importObject);
  go.run(instance);
  await ready;
  if (simd) {
    const k = await WebAssembly.instantiate(fs.readFileSync(path.join(web, 'gemm.wasm')), { env: { memory: instance.exports.mem } });
    globalThis.bingliSgemm = k.instance.exports.panels;
    globalThis.bingliSgemmA = k.instance.exports.panelsA;
    globalThis.bingliSigmoid = k.instance.exports.sigmoid;
    globalThis.bingliTanh = k.instance.exports.tanh;
    globalThis.bingliGRURow = k.instance.exports.gruRow;
    globalThis.bingliGRUSeq = k.instance.exports.gruSeq;
  }
  const api = globalThis.bingli;
  const call = (op, ...a) => { const o = JSON.parse(api[op](...a)); if (o && o.error) throw new Error(o.error); return o; };
  const files = {};
  for (const n of ['config.json', 'model.safetensors', 'vocab.txt', 'lexicon.bin']) files[n] = new Uint8Array(fs.readFileSync(path.join(web, 'models', model, n)));
  call('load', model, files, '{}');
  return { call, kernel: call('info').kernel };
}

function analyze(call, text) {
  const tag = call('tag', text, '{}');
  const d = call('deid', text, JSON.stringify({ mode: 'tag', seed: 1, protected: tag.entities.map((e) => [e.start, e.end]) }));
  return JSON.stringify([tag.entities, d.phi, d.masked]); // confidences included: any bit of difference shows
}

const texts = [200, 1000, 5000].map((n) => { let t = ''; while (Array.from(t).length < n) t += record; return Array.from(t).slice(0, n).join(''); });
const results = {};
for (const simd of (args.only === 'simd' ? [true] : [false, true])) {
  const e = await start(simd);
  if (simd && e.kernel !== 'wasm-simd') throw new Error(`kernel ${e.kernel}, want wasm-simd`);
  results[e.kernel] = texts.map((t) => {
    const ms = [];
    let out;
    for (let i = 0; i < runs + 1; i++) { const s = performance.now(); out = analyze(e.call, t); if (i) ms.push(performance.now() - s); }
    ms.sort((a, b) => a - b);
    return { out, median: ms[(ms.length - 1) >> 1] };
  });
}
let ok = true;
texts.forEach((t, i) => {
  const s = results['wasm-simd'][i], g = results.go ? results.go[i] : { out: s.out, median: NaN };
  const same = g.out === s.out;
  ok &&= same;
  console.log(`${String(Array.from(t).length).padStart(5)} chars: go ${g.median.toFixed(1)} ms, wasm-simd ${s.median.toFixed(1)} ms (median of ${runs}); identical: ${same}`);
});
if (!ok) { console.error('SIMD and Go kernels disagree'); process.exit(1); }
process.exit(0);
