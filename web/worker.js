// A Web Worker of the page's pool: one Go module instance (bingli.wasm) with one model.
// Messages: {id, op, args}; replies {id, result} or {id, error}. Nothing here touches the
// network except the optional onnxruntime-web peer (bench.html), which loads its own
// runtime and model from the same origin.
/* global Go, ort */
'use strict';
importScripts('wasm_exec.js');

let info = null;

function call(op, ...args) {
  const out = JSON.parse(self.bingli[op](...args));
  if (out && out.error) throw new Error(out.error);
  return out;
}

// simd: the compiled gemm.wasm (or null): it imports this instance's memory and its panels, panelsA,
// sigmoid, tanh, gruRow and gruSeq functions become globalThis.bingliSgemm, bingliSgemmA,
// bingliSigmoid, bingliTanh, bingliGRURow and bingliGRUSeq,
// which the Go side calls for its matrix products and recurrent gates
// (core/tensor/cpu/gemm_js.go); without them Go computes with its own code.
async function init({ module, model, files, batch, simd }) {
  const go = new Go();
  const ready = new Promise((resolve) => { self.bingliReady = resolve; });
  const inst = await WebAssembly.instantiate(module, go.importObject);
  go.run(inst); // returns when the Go program exits, which it never does
  await ready;
  if (simd) {
    try {
      const kernel = await WebAssembly.instantiate(simd, { env: { memory: inst.exports.mem } });
      self.bingliSgemm = kernel.exports.panels;
      self.bingliSgemmA = kernel.exports.panelsA;
      self.bingliSigmoid = kernel.exports.sigmoid;
      self.bingliTanh = kernel.exports.tanh;
      self.bingliGRURow = kernel.exports.gruRow;
      self.bingliGRUSeq = kernel.exports.gruSeq;
    } catch (e) {
      console.warn('gemm.wasm not instantiated, using the Go kernel:', e);
    }
  }
  info = call('load', model, files, JSON.stringify(batch ? { batch } : {}));
  return { ...call('info'), loadMs: info.ms };
}

// analyze: tag, then de-identify with the entities protected (one worker, whole text).
function analyze(text, deidOpts) {
  const t0 = performance.now();
  const tag = call('tag', text, '{}');
  const t1 = performance.now();
  const opts = Object.assign({}, deidOpts || {}, { protected: tag.entities.map((e) => [e.start, e.end]) });
  const d = call('deid', text, JSON.stringify(opts));
  const t2 = performance.now();
  return { entities: tag.entities, phi: d.phi, masked: d.masked, tagMs: t1 - t0, deidMs: t2 - t1, workerMs: t2 - t0 };
}

// The pool's parallel path: another worker detects the PHI of the same text while this one
// tags it, and the pool forwards that worker's answer here ('phi', which arrives while the
// tagging runs and waits in the message queue); this worker then protects its entities and
// masks. One round trip from the page, as analyze.
const detected = new Map(); // token → {phi} or {error}, arrived before this worker asked
const awaiting = new Map(); // token → resolve
const abandoned = new Set(); // tokens whose tagging failed: drop their PHI on arrival

function phiArrived(token, answer) {
  if (abandoned.delete(token)) return;
  const resolve = awaiting.get(token);
  if (resolve) { awaiting.delete(token); resolve(answer); } else detected.set(token, answer);
}

function phiFor(token) {
  const a = detected.get(token);
  if (a) { detected.delete(token); return Promise.resolve(a); }
  return new Promise((resolve) => awaiting.set(token, resolve));
}

async function analyzeWith(text, deidOpts, token) {
  const t0 = performance.now();
  let tag;
  try {
    tag = call('tag', text, '{}');
  } catch (e) {
    if (!detected.delete(token)) abandoned.add(token);
    throw e;
  }
  const t1 = performance.now();
  const d = await phiFor(token);
  if (d.error) throw new Error(d.error);
  const t2 = performance.now();
  const opts = Object.assign({}, deidOpts || {}, { protected: tag.entities.map((e) => [e.start, e.end]), phi: d.phi });
  const r = call('deid', text, JSON.stringify(opts));
  return { entities: tag.entities, phi: r.phi, masked: r.masked, tagMs: t1 - t0, deidMs: performance.now() - t1, waitMs: t2 - t1, workerMs: performance.now() - t0 };
}

// ---- onnxruntime-web peer (bench.html only) ----
let ortSession = null;
let crf = null;

async function ortInit({ model }) {
  importScripts('ort/ort.wasm.min.js');
  ort.env.wasm.wasmPaths = new URL('ort/', self.location.href).href;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  crf = await (await fetch(`models/${model}/${model}.crf.json`)).json();
  const bytes = new Uint8Array(await (await fetch(`models/${model}/${model}.onnx`)).arrayBuffer());
  ortSession = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const K = crf.tags.length;
  crf.allowed = [];
  crf.startOk = crf.tags.map((t) => !t.startsWith('I-'));
  for (let i = 0; i < K; i++) {
    crf.allowed.push(crf.tags.map((tj) => !tj.startsWith('I-') || crf.tags[i] === 'B-' + tj.slice(2) || crf.tags[i] === tj));
  }
  return { ort: ort.env.versions ? ort.env.versions.web : 'onnxruntime-web', K };
}

// Viterbi with BIO constraints (I-X only after B-X or I-X, never first), as bingli's CRF.
function viterbi(em, off, T, K) {
  const tr = crf.transitions, st = crf.start_transitions, en = crf.end_transitions, al = crf.allowed;
  let score = new Float64Array(K);
  for (let j = 0; j < K; j++) score[j] = crf.startOk[j] ? st[j] + em[off + j] : -Infinity;
  const back = new Int32Array(T * K);
  for (let t = 1; t < T; t++) {
    const next = new Float64Array(K);
    for (let j = 0; j < K; j++) {
      let best = -Infinity, arg = 0;
      for (let i = 0; i < K; i++) {
        if (!al[i][j]) continue;
        const s = score[i] + tr[i][j];
        if (s > best) { best = s; arg = i; }
      }
      next[j] = best + em[off + t * K + j];
      back[t * K + j] = arg;
    }
    score = next;
  }
  let best = -Infinity, tag = 0;
  for (let j = 0; j < K; j++) { const s = score[j] + en[j]; if (s > best) { best = s; tag = j; } }
  const path = new Array(T);
  path[T - 1] = tag;
  for (let t = T - 1; t > 0; t--) { tag = back[t * K + tag]; path[t - 1] = tag; }
  return path;
}

async function ortAnalyze(text, deidOpts) {
  const t0 = performance.now();
  const { segments } = call('encode', text);
  const K = crf.tags.length;
  const order = segments.map((_, i) => i).sort((a, b) => segments[a].chars.length - segments[b].chars.length);
  const paths = new Array(segments.length);
  for (let s = 0; s < order.length; s += 32) { // batches of 32 by length, as bingli decodes
    const idx = order.slice(s, s + 32);
    const B = idx.length, T = Math.max(...idx.map((i) => segments[i].chars.length));
    const chars = new BigInt64Array(B * T), dicts = new BigInt64Array(B * T), lens = new BigInt64Array(B);
    idx.forEach((si, b) => {
      const g = segments[si];
      lens[b] = BigInt(g.chars.length);
      for (let t = 0; t < g.chars.length; t++) { chars[b * T + t] = BigInt(g.chars[t]); dicts[b * T + t] = BigInt(g.dict[t]); }
    });
    const out = await ortSession.run({
      chars: new ort.Tensor('int64', chars, [B, T]),
      dicts: new ort.Tensor('int64', dicts, [B, T]),
      lengths: new ort.Tensor('int64', lens, [B]),
    });
    const em = out.emissions.data;
    idx.forEach((si, b) => { paths[si] = viterbi(em, b * T * K, segments[si].chars.length, K); });
  }
  const { entities } = call('spans', text, JSON.stringify(paths));
  const t1 = performance.now();
  const opts = Object.assign({}, deidOpts || {}, { protected: entities.map((e) => [e.start, e.end]) });
  const d = call('deid', text, JSON.stringify(opts));
  const t2 = performance.now();
  return { entities, phi: d.phi, masked: d.masked, tagMs: t1 - t0, deidMs: t2 - t1 };
}

const ops = {
  init,
  tag: (text) => call('tag', text, '{}'),
  deid: (text, opts) => call('deid', text, JSON.stringify(opts || {})),
  detect: (text, opts) => call('detect', text, JSON.stringify(opts || {})),
  split: (text, parts) => call('split', text, parts),
  analyze,
  analyzeWith,
  phi: phiArrived,
  ortInit,
  ortAnalyze,
};

self.onmessage = async (ev) => {
  const { id, op, args } = ev.data;
  if (id === undefined) { // a notice (pool.notify): no answer
    if (ops[op]) ops[op](...(args || []));
    return;
  }
  try {
    if (!ops[op]) throw new Error(`unknown operation ${op}`);
    const result = await ops[op](...(args || []));
    self.postMessage({ id, result });
  } catch (e) {
    self.postMessage({ id, error: String((e && e.message) || e) });
  }
};
