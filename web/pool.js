// BingliPool: a small pool of Web Workers, each running bingli.wasm with the same model.
// A text is cut at sentence ends (bingli.split) into one chunk per worker, the chunks are
// tagged in parallel and their entities shifted back to offsets in the whole text (code
// points, end exclusive); de-identification then runs on the whole text in one worker (so
// one person keeps one surrogate and dates keep their intervals), with the entities
// protected from masking. The pool fetches the module and the model from its own origin
// once and hands the bytes to every worker; the module verifies them against its pinned
// hashes.
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

  idlest() {
    let best = 0;
    for (let i = 1; i < this.busy.length; i++) if (this.busy[i] < this.busy[best]) best = i;
    return best;
  }

  // tag returns {entities, ms}: the text's sentences spread over the workers.
  async tag(text) {
    const t0 = performance.now();
    const cps = Array.from(text);
    let chunks = [[0, cps.length]];
    if (this.size > 1 && cps.length >= BingliPool.splitMin) {
      chunks = (await this.send(this.idlest(), 'split', [text, this.size])).chunks;
    }
    const parts = await Promise.all(chunks.map((c, i) => {
      const sub = chunks.length === 1 ? text : cps.slice(c[0], c[1]).join('');
      return sub.trim() === '' ? { entities: [] } : this.send(i % this.size, 'tag', [sub]);
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

  // analyze tags (in parallel) and de-identifies text: {entities, phi, masked, tagMs, deidMs}.
  // A text the pool would not split (one worker, or fewer UTF-16 units, hence characters, than
  // splitMin) goes to one worker as one message that tags and de-identifies it there: one
  // round trip instead of two.
  async analyze(text, deidOpts) {
    if (this.size === 1 || text.length < BingliPool.splitMin) return this.send(this.idlest(), 'analyze', [text, deidOpts || {}]);
    const t = await this.tag(text);
    const t1 = performance.now();
    const opts = Object.assign({}, deidOpts || {}, { protected: t.entities.map((e) => [e.start, e.end]) });
    const d = await this.deid(text, opts);
    return { entities: t.entities, phi: d.phi, masked: d.masked, tagMs: t.ms, deidMs: performance.now() - t1 };
  }

  terminate() { this.workers.forEach((w) => w.terminate()); this.workers = []; }
}

// splitMin: the shortest text (code points) tag splits over the workers. Below it the extra
// round trips (split, one tag per worker, then de-identification) cost more than the
// parallel tagging saves: in web/bench.html on the 2-core dev machine (docs/BENCHMARKS.md),
// after the whole-recurrence kernel, splitting a 1,000-character record was slower than one
// worker (24.7 vs 20.6 ms) and a 5,000-character one faster (79.4 vs 96.2 ms).
BingliPool.splitMin = 2000;

self.BingliPool = BingliPool;
