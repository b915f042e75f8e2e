// BingliPool: a small pool of Web Workers, each running bingli.wasm with the same model.
// analyze runs the two halves of the work at the same time: the last worker detects the
// PHI of the whole text (no entity protection yet) while the first tags it; a long text
// is cut at sentence ends (bingli.split) into one chunk per worker, the detecting worker
// tagging its chunk after the detection, and the chunks' entities are shifted back to
// offsets in the whole text (code points, end exclusive).
// Then the detecting worker protects the medical entities and masks the whole text (so one
// person keeps one surrogate and dates keep their intervals). Protecting after detection
// gives what detecting with protection gives (deid.Protect), so the answer is the one
// worker's. The pool fetches the module and the model from its own origin once and hands
// the bytes to every worker; the module verifies them against its pinned hashes.
'use strict';

class BingliPool {
  // size: workers (default: hardware threads, at most 4); batch: sentences each worker
  // decodes together (default: the module's).
  // wasmURL: the module (default bingli.wasm; bench.html compares builds).
  // simd: false runs the pure-Go GEMM kernel instead of gemm.wasm (bench.html compares them).
  constructor(size, batch, wasmURL, simd) {
    this.batch = batch;
    this.wasmURL = wasmURL || 'bingli.wasm';
    this.simd = simd !== false;
    const hc = (self.navigator && navigator.hardwareConcurrency) || 2;
    this.size = Math.max(1, Math.min(size || hc, 4));
    this.workers = [];
    this.pending = new Map();
    this.nextId = 1;
    this.busy = [];
  }

  async start(model) {
    const [module, files, simd] = await Promise.all([
      WebAssembly.compileStreaming ? WebAssembly.compileStreaming(fetch(this.wasmURL)) : fetch(this.wasmURL).then((r) => r.arrayBuffer()).then((b) => WebAssembly.compile(b)),
      this.fetchModel(model),
      this.simd ? BingliPool.compileSIMD() : null,
    ]);
    for (let i = 0; i < this.size; i++) {
      const w = new Worker('worker.js');
      w.onmessage = (ev) => this.onMessage(i, ev.data);
      w.onerror = (ev) => { console.error('worker error', ev.message); };
      this.workers.push(w);
      this.busy.push(0);
    }
    const infos = await Promise.all(this.workers.map((_, i) => this.send(i, 'init', [{ module, model, files, batch: this.batch, simd }])));
    this.info = infos[0];
    this.model = model;
    return this.info;
  }

  // compileSIMD compiles gemm.wasm, the WebAssembly SIMD GEMM kernel, once for all workers;
  // null where it is missing or the browser has no wasm SIMD (bingli then multiplies in Go).
  static compileSIMD() {
    if (!BingliPool.simdModule) {
      BingliPool.simdModule = fetch('gemm.wasm')
        .then((r) => (r.ok ? r.arrayBuffer() : null))
        .then((b) => (b ? WebAssembly.compile(b) : null))
        .catch((e) => { console.warn('gemm.wasm unavailable, using the Go kernel:', e); return null; });
    }
    return BingliPool.simdModule;
  }

  async fetchModel(model) {
    const names = ['config.json', 'model.safetensors', 'vocab.txt', 'lexicon.bin'];
    const files = {};
    await Promise.all(names.map(async (n) => {
      const r = await fetch(`models/${model}/${n}`);
      if (!r.ok) throw new Error(`models/${model}/${n}: HTTP ${r.status}`);
      files[n] = new Uint8Array(await r.arrayBuffer());
    }));
    return files;
  }

  onMessage(i, msg) {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    this.busy[i]--;
    if (msg.error !== undefined) p.reject(new Error(msg.error));
    else p.resolve(msg.result);
  }

  send(i, op, args) {
    const id = this.nextId++;
    this.busy[i]++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.workers[i].postMessage({ id, op, args });
    });
  }

  // notify posts a message worker i does not answer.
  notify(i, op, args) { this.workers[i].postMessage({ op, args }); }

  idlest() {
    let best = 0;
    for (let i = 1; i < this.busy.length; i++) if (this.busy[i] < this.busy[best]) best = i;
    return best;
  }

  // tag returns {entities, ms}: the text's sentences spread over workers 0..n-1 (default:
  // all of them).
  async tag(text, n) {
    const t0 = performance.now();
    n = n || this.size;
    const cps = Array.from(text);
    let chunks = [[0, cps.length]];
    if (n > 1 && cps.length >= BingliPool.splitMin) {
      chunks = (await this.send(this.idlest(), 'split', [text, n])).chunks;
    }
    const parts = await Promise.all(chunks.map((c, i) => {
      const sub = chunks.length === 1 ? text : cps.slice(c[0], c[1]).join('');
      return sub.trim() === '' ? { entities: [] } : this.send(i % n, 'tag', [sub]);
    }));
    const entities = [];
    parts.forEach((p, i) => {
      for (const e of p.entities) entities.push(Object.assign(e, { start: e.start + chunks[i][0], end: e.end + chunks[i][0] }));
    });
    return { entities, ms: performance.now() - t0, chunks: chunks.length };
  }

  // deid returns {phi, masked}; opts: {mode, seed, categories, protected}.
  deid(text, opts) {
    return this.send(this.idlest(), 'deid', [text, opts || {}]);
  }

  // analyze tags and de-identifies text: {entities, phi, masked, tagMs, deidMs}; deidMs is
  // the time after tagging (waiting for the detection, if it is still running, then
  // protection and masking). With one worker, or a text shorter than parallelMin, one worker
  // tags and de-identifies in one message; otherwise the last worker detects while the
  // first tags, and from splitMin on every worker tags a chunk as well.
  async analyze(text, deidOpts) {
    deidOpts = deidOpts || {};
    if (this.size === 1 || text.length < BingliPool.parallelMin) return this.send(this.idlest(), 'analyze', [text, deidOpts]);
    const det = this.size - 1;
    const detection = this.send(det, 'detect', [text, deidOpts.categories ? { categories: deidOpts.categories } : {}]);
    if (text.length < BingliPool.splitMin) {
      // One tagging worker: it finishes the job itself with the PHI forwarded to it.
      const token = this.nextId++;
      detection.then((d) => this.notify(0, 'phi', [token, { phi: d.phi }]), (e) => this.notify(0, 'phi', [token, { error: e.message }]));
      return this.send(0, 'analyzeWith', [text, deidOpts, token]);
    }
    detection.catch(() => {}); // an error surfaces below, after the tagging's
    // Every worker tags a chunk; the detecting one takes its chunk after the detection.
    const t = await this.tag(text, this.size);
    const t1 = performance.now();
    const opts = Object.assign({}, deidOpts, { protected: t.entities.map((e) => [e.start, e.end]), phi: (await detection).phi });
    const d = await this.send(det, 'deid', [text, opts]);
    return { entities: t.entities, phi: d.phi, masked: d.masked, tagMs: t.ms, deidMs: performance.now() - t1 };
  }

  terminate() { this.workers.forEach((w) => w.terminate()); this.workers = []; }
}

// splitMin: the shortest text (code points) tag, and analyze, split over the workers. Below
// it the extra round trips (split, one tag per worker) cost about what the parallel tagging
// saves: in web/bench.html on the 2-core dev machine (docs/BENCHMARKS.md, 2026-12-07), with
// the second worker detecting PHI before tagging its chunk, analyze took 15.7 and 13.3 ms
// split against 15.4 and 14.0 unsplit at 700 characters, 16.7/15.8 against 20.5/18.4 at
// 1,000 and 24.6/24.4 against 30.5/27.9 at 1,500.
BingliPool.splitMin = 800;

// parallelMin: the shortest text (UTF-16 units, about characters) analyze detects PHI for in
// a second worker while the first tags. Below it the second worker's start and the extra
// messages cost more than the detection it takes off the first: in web/bench.html on the
// 2-core dev machine (docs/BENCHMARKS.md) the parallel path was slower than one worker at
// 200 characters (7.5 and 8.6 ms against 6.9 and 8.3) and faster from 350 (6.8 and 8.3
// against 8.0 and 10.0; at 1,000 characters 12 against 17 ms).
BingliPool.parallelMin = 300;

self.BingliPool = BingliPool;
