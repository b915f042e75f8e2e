// Latency benchmark page (bench.html): bingli's pool, bingli in one worker and the
// onnxruntime-web peer, interleaved, on generated records. Results go to #out and to
// window.benchResult (test/browser/bench.mjs prints them).
/* global BingliPool */
'use strict';

const params = new URLSearchParams(location.search);
const RUNS = +(params.get('runs') || 30);
const MODEL = params.get('model') || 'ccks2017-lite';
const SIZES = (params.get('sizes') || '200,1000,5000').split(',').map(Number);
const WARMUP = 3;
// Extra single-worker engines at other decode batch sizes (?batches=12,32), for tuning.
const BATCHES = (params.get('batches') || '').split(',').filter(Boolean).map(Number);
// Other builds of the module to compare, one worker each (?compare=bingli-before.wasm,other.wasm).
const COMPARE = (params.get('compare') || '').split(',').filter(Boolean);
// ?gokernel=1 adds this build in one worker with the pure-Go GEMM kernel instead of gemm.wasm.
const GOKERNEL = params.get('gokernel') === '1';

// A deterministic record generator: PHI header, clinical sentences, PHI footer, cut to n
// code points at a sentence end where possible.
function makeRecord(n, seed) {
  let s = seed >>> 0 || 1;
  const r = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
  const pick = (a) => a[Math.floor(r() * a.length)];
  const sentences = [
    '因反复胸闷、气短3年，加重伴咳嗽1周入院。', '既往有高血压病史10年，口服硝苯地平控释片，血压控制可。',
    '查体：双肺呼吸音粗，可闻及湿性啰音，心率96次/分，律齐。', '胸部CT示右肺下叶炎症，血常规示白细胞计数升高。',
    '诊断：慢性阻塞性肺疾病急性加重，高血压病3级。', '予抗感染、平喘、化痰治疗后症状好转。', '患者自诉头痛、头晕，无恶心、呕吐。',
    '行腹部B超检查，未见明显异常。', '予阿司匹林肠溶片口服，监测血糖，空腹血糖7.8mmol/L。', '双下肢无水肿，神经系统查体未见异常。',
    '2023年3月18日复查肝功能：谷丙转氨酶45U/L，总胆红素18.2μmol/L。', '术后予头孢呋辛预防感染，切口愈合良好。',
    '主治医师王建华查房后指示：继续当前治疗方案。', '心电图示窦性心律，ST段未见明显异常。',
  ];
  let text = `患者${pick(['张', '李', '陈'])}${pick(['秀英', '建国', '玉兰'])}，男，${40 + Math.floor(r() * 40)}岁，住院号ZY${String(Math.floor(r() * 1e8)).padStart(8, '0')}，联系电话139${String(Math.floor(r() * 1e8)).padStart(8, '0')}。\n`;
  while (Array.from(text).length < n) text += pick(sentences) + (r() < 0.15 ? '\n' : '');
  const cps = Array.from(text).slice(0, n);
  return cps.join('');
}

const stats = (xs) => {
  const a = [...xs].sort((x, y) => x - y);
  const q = (p) => a[Math.min(a.length - 1, Math.ceil(p * a.length) - 1)];
  return { median: (a[(a.length - 1) >> 1] + a[a.length >> 1]) / 2, p95: q(0.95), min: a[0], max: a[a.length - 1], n: a.length };
};
const key = (xs) => JSON.stringify(xs.map((e) => [e.start, e.end, e.type || e.category]));

async function main() {
  const out = document.getElementById('out');
  const log = (s) => { out.textContent += s + '\n'; };
  out.textContent = '';
  const t0 = performance.now();
  const pool = new BingliPool();
  const single = new BingliPool(1);
  const ortw = new BingliPool(1);
  const extra = BATCHES.map((b) => [`b=${b}`, new BingliPool(1, b)]);
  for (const url of COMPARE) extra.push([url, new BingliPool(1, undefined, url)]);
  if (GOKERNEL) extra.push(['Go kernel', new BingliPool(1, undefined, undefined, false)]);
  await Promise.all([pool.start(MODEL), single.start(MODEL), ortw.start(MODEL), ...extra.map(([, p]) => p.start(MODEL))]);
  const ortInfo = await ortw.send(0, 'ortInit', [{ model: MODEL }]);
  log(`model ${MODEL}; pool of ${pool.size} workers (hardwareConcurrency ${navigator.hardwareConcurrency}); onnxruntime-web ${ortInfo.ort}, 1 thread; ${RUNS} runs + ${WARMUP} warm-up per size; start-up ${Math.round(performance.now() - t0)} ms`);
  log(navigator.userAgent);
  log(`GEMM kernel: ${single.info.kernel || 'go'} (bingli 1 worker)${extra.map(([n, p]) => `, ${p.info.kernel || 'go'} (${n})`).join('')}`);
  const deidOpts = { mode: 'tag', seed: 1 };
  const engines = {
    'bingli pool': (t) => pool.analyze(t, deidOpts),
    'bingli 1 worker': (t) => single.send(0, 'analyze', [t, deidOpts]),
    'onnxruntime-web': (t) => ortw.send(0, 'ortAnalyze', [t, deidOpts]),
  };
  for (const [b, p] of extra) engines[`bingli 1 w, ${b}`] = (t) => p.send(0, 'analyze', [t, deidOpts]);
  const result = { model: MODEL, runs: RUNS, pool: pool.size, kernel: single.info.kernel, ort: ortInfo.ort, userAgent: navigator.userAgent, sizes: [] };
  for (const n of SIZES) {
    const text = makeRecord(n, n);
    const times = {}, tagTimes = {}, waitTimes = {}, hopTimes = {}, answers = {};
    for (const name of Object.keys(engines)) { times[name] = []; tagTimes[name] = []; waitTimes[name] = []; hopTimes[name] = []; }
    for (let i = 0; i < WARMUP + RUNS; i++) {
      for (const [name, f] of Object.entries(engines)) {
        const s = performance.now();
        const r = await f(text);
        const ms = performance.now() - s;
        if (i >= WARMUP) { times[name].push(ms); tagTimes[name].push(r.tagMs); if (r.waitMs !== undefined) waitTimes[name].push(r.deidMs - r.waitMs); if (r.workerMs !== undefined) hopTimes[name].push(ms - r.workerMs); }
        answers[name] = r;
      }
    }
    const ref = answers['bingli 1 worker'];
    const same = {};
    for (const [name, r] of Object.entries(answers)) {
      same[name] = key(r.entities) === key(ref.entities) && key(r.phi) === key(ref.phi) && r.masked === ref.masked;
    }
    const row = { chars: Array.from(text).length, entities: ref.entities.length, phi: ref.phi.length, engines: {} };
    for (const name of Object.keys(engines)) row.engines[name] = { ...stats(times[name]), tagMedian: stats(tagTimes[name]).median, waitMedian: waitTimes[name].length ? stats(waitTimes[name]).median : null, hopMedian: hopTimes[name].length ? stats(hopTimes[name]).median : null, identical: same[name] };
    result.sizes.push(row);
  }
  log('');
  log('chars  engine                    median ms   p95 ms   (tag part; after it: protect + mask; outside the worker: medians)  identical entities+PHI');
  for (const row of result.sizes) {
    for (const [name, s] of Object.entries(row.engines)) {
      log(`${String(row.chars).padStart(5)}  ${name.padEnd(24)} ${s.median.toFixed(1).padStart(9)} ${s.p95.toFixed(1).padStart(8)}   ${s.tagMedian.toFixed(1).padStart(10)}; ${s.waitMedian === null ? '   –' : s.waitMedian.toFixed(1).padStart(4)}; ${s.hopMedian === null ? '   –' : s.hopMedian.toFixed(1).padStart(4)}           ${s.identical ? 'yes' : 'NO'} (${row.entities} entities, ${row.phi} PHI)`);
    }
  }
  window.benchResult = result;
  document.body.dataset.done = 'true';
}

main().catch((e) => { document.getElementById('out').textContent += '\nerror: ' + (e.stack || e); window.benchResult = { error: String(e) }; document.body.dataset.done = 'true'; });
