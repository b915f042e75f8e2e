// The page: paste or drop records, tag them and preview their de-identification, all in
// this browser (BingliPool runs bingli.wasm in Web Workers). No request carries text:
// the page only fetches its own static files, and exports are local downloads (blob URLs).
/* global BingliPool, BINGLI_I18N */
'use strict';

const $ = (id) => document.getElementById(id);
const PALETTE = ['#ffd8a8', '#b2f2bb', '#a5d8ff', '#fcc2d7', '#d0bfff', '#ffec99', '#99e9f2', '#e9ecef', '#c3fae8'];
const SAMPLE = [
  '姓名：王秀英，女，62岁，住院号：ZY2024031207，联系电话：13812345678。',
  '主诉：反复咳嗽、咳痰10年，气促加重伴发热3天。',
  '现病史：患者10年前受凉后出现咳嗽、咳白色黏痰，2024年3月9日起气促明显加重，伴发热，体温最高38.6℃。',
  '既往史：高血压病史8年，规律口服氨氯地平片。',
  '查体：双肺呼吸音粗，双下肺可闻及湿性啰音，心率102次/分，律齐。',
  '辅助检查：血常规示白细胞计数12.3×10^9/L；胸部CT示双下肺感染。',
  '诊断：慢性阻塞性肺疾病急性加重，社区获得性肺炎，高血压病2级。',
  '治疗：予头孢曲松抗感染、布地奈德雾化吸入平喘治疗。',
  '住址：上海市徐汇区漕溪北路120号。主治医师：陈立新。',
].join('\n');

const state = {
  lang: (navigator.language || 'zh').startsWith('zh') ? 'zh' : 'en',
  model: 'ccks2017-lite',
  pool: null,
  docs: [], // {id, text, result}
  current: 0,
  typeOn: {},
  catOn: {},
  mode: 'tag',
  info: null,
};

const t = (k, ...a) => { const v = BINGLI_I18N[state.lang][k]; return typeof v === 'function' ? v(...a) : v; };
const catLabel = (c) => BINGLI_I18N.categories[state.lang][c] || c;

function applyLang() {
  document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
  document.title = state.lang === 'zh' ? '病历 bingli · 标注与去标识化' : 'bingli · clinical tagging and de-identification';
  document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $('text').placeholder = t('placeholder');
  renderCats();
  render();
}

function status(msg, error) {
  $('status').textContent = msg;
  $('status').classList.toggle('error', !!error);
}

function typeColor(type) {
  const types = (state.info && state.info.types) || [];
  const i = types.indexOf(type);
  return PALETTE[(i < 0 ? types.length : i) % PALETTE.length];
}

async function startPool() {
  if (state.pool) state.pool.terminate();
  status(t('loading'));
  setBusy(true);
  const pool = new BingliPool();
  try {
    state.info = await pool.start(state.model);
  } catch (e) {
    status(String(e.message || e), true);
    throw e;
  }
  state.pool = pool;
  state.typeOn = {};
  for (const ty of state.info.types) state.typeOn[ty] = true;
  if (Object.keys(state.catOn).length === 0) for (const c of state.info.categories) state.catOn[c] = true;
  renderCats();
  setBusy(false);
  status(`${t('ready')} · ${state.model} · ${t('workers', pool.size)}`);
  document.body.dataset.ready = 'true';
}

function setBusy(b) {
  ['analyze', 'sample', 'model'].forEach((id) => { $(id).disabled = b; });
}

function deidOpts() {
  return { mode: state.mode, seed: 1, categories: Object.keys(state.catOn).filter((c) => state.catOn[c]) };
}

async function analyze() {
  if (!state.pool) return;
  if (state.docs.length === 0 || (state.docs.length === 1 && state.docs[0].id === 'text')) {
    const text = $('text').value;
    state.docs = text ? [{ id: 'text', text }] : [];
  }
  if (state.docs.length === 0 || state.docs.every((d) => d.text.trim() === '')) { status(t('noText'), true); return; }
  status(t('working'));
  setBusy(true);
  document.body.dataset.analyzed = 'false';
  const t0 = performance.now();
  try {
    for (const d of state.docs) {
      d.result = d.text === '' ? { entities: [], phi: [], masked: '' } : await state.pool.analyze(d.text, deidOpts());
    }
  } catch (e) {
    status(String(e.message || e), true);
    setBusy(false);
    return;
  }
  const n = state.docs.reduce((a, d) => a + d.result.entities.length, 0);
  const p = state.docs.reduce((a, d) => a + d.result.phi.length, 0);
  status(t('done', n, p, Math.round(performance.now() - t0)));
  setBusy(false);
  renderDocs();
  render();
  document.body.dataset.analyzed = 'true';
}

// redeid re-runs de-identification only (mode or category toggles), entities kept.
async function redeid() {
  if (!state.pool) return;
  document.body.dataset.analyzed = 'false';
  for (const d of state.docs) {
    if (!d.result || d.text === '') continue;
    const r = await state.pool.deid(d.text, Object.assign(deidOpts(), { protected: d.result.entities.map((e) => [e.start, e.end]) }));
    d.result.phi = r.phi;
    d.result.masked = r.masked;
  }
  render();
  document.body.dataset.analyzed = 'true';
}

function renderDocs() {
  const nav = $('docs');
  nav.replaceChildren();
  nav.hidden = state.docs.length < 2;
  state.docs.forEach((d, i) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = d.id;
    b.setAttribute('aria-current', String(i === state.current));
    b.addEventListener('click', () => { state.current = i; renderDocs(); render(); });
    nav.appendChild(b);
  });
}

function renderLegend(doc) {
  const fs = $('legend');
  fs.querySelectorAll('label').forEach((l) => l.remove());
  if (!state.info) return;
  const counts = {};
  if (doc && doc.result) for (const e of doc.result.entities) counts[e.type] = (counts[e.type] || 0) + 1;
  for (const ty of state.info.types) {
    const l = document.createElement('label');
    l.style.background = typeColor(ty);
    const cb = document.createElement('input');
    cb.type = 'checkbox';
    cb.checked = state.typeOn[ty] !== false;
    cb.dataset.type = ty;
    cb.addEventListener('change', () => { state.typeOn[ty] = cb.checked; applyTypeToggles(); });
    const c = document.createElement('span');
    c.className = 'count';
    c.textContent = String(counts[ty] || 0);
    l.append(cb, document.createTextNode(ty + ' '), c);
    fs.appendChild(l);
  }
}

function renderCats() {
  const fs = $('cats');
  fs.querySelectorAll('label').forEach((l) => l.remove());
  const cats = (state.info && state.info.categories) || [];
  for (const c of cats) {
    const l = document.createElement('label');
    const cb = document.createElement('input');
    cb.type = 'checkbox';
    cb.checked = state.catOn[c] !== false;
    cb.dataset.cat = c;
    cb.addEventListener('change', () => { state.catOn[c] = cb.checked; redeid(); });
    l.append(cb, document.createTextNode(catLabel(c)));
    fs.appendChild(l);
  }
}

function applyTypeToggles() {
  document.querySelectorAll('#annotated mark').forEach((m) => m.classList.toggle('off', state.typeOn[m.dataset.type] === false));
  document.querySelectorAll('#table tbody tr').forEach((r) => { r.hidden = state.typeOn[r.dataset.type] === false; });
}

function render() {
  const doc = state.docs[state.current];
  renderLegend(doc);
  const ann = $('annotated');
  const tbody = document.querySelector('#table tbody');
  ann.replaceChildren();
  tbody.replaceChildren();
  $('masked').textContent = '';
  $('phi').replaceChildren();
  if (!doc || !doc.result) return;
  const cps = Array.from(doc.text);
  let last = 0;
  doc.result.entities.forEach((e, i) => {
    if (e.start < last) return; // never happens: entities do not overlap
    ann.append(cps.slice(last, e.start).join(''));
    const m = document.createElement('mark');
    m.textContent = cps.slice(e.start, e.end).join('');
    m.dataset.type = e.type;
    m.dataset.idx = String(i);
    m.dataset.start = String(e.start);
    m.dataset.end = String(e.end);
    m.style.background = typeColor(e.type);
    m.tabIndex = 0;
    const conf = `${t('confidence')} ${e.confidence.toFixed(3)}`;
    m.title = `${e.type} · ${conf}`;
    m.setAttribute('aria-label', `${m.textContent}: ${e.type}, ${conf}`);
    ann.append(m);
    last = e.end;

    const tr = document.createElement('tr');
    tr.tabIndex = 0;
    tr.dataset.type = e.type;
    tr.dataset.idx = String(i);
    const sw = document.createElement('span');
    sw.className = 'swatch';
    sw.style.background = typeColor(e.type); // CSSOM, allowed by the page's CSP (no inline style attributes)
    for (const v of [null, e.text, `${e.start}–${e.end}`, e.confidence.toFixed(3)]) {
      const td = document.createElement('td');
      if (v !== null) td.textContent = v;
      tr.appendChild(td);
    }
    tr.cells[0].append(sw, e.type);
    const go = () => locate(i);
    tr.addEventListener('click', go);
    tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); go(); } });
    tbody.appendChild(tr);
  });
  ann.append(cps.slice(last).join(''));
  if (doc.result.entities.length === 0) { const p = document.createElement('p'); p.textContent = t('noEntities'); tbody.append(p); }
  $('masked').textContent = doc.result.masked;
  for (const p of doc.result.phi) {
    const li = document.createElement('li');
    const c = document.createElement('span');
    c.className = 'cat';
    c.textContent = catLabel(p.category);
    li.append(c, `${p.text}  [${p.start}, ${p.end})  ${p.rule}`);
    li.dataset.category = p.category;
    $('phi').appendChild(li);
  }
  applyTypeToggles();
}

function locate(i) {
  const m = document.querySelector(`#annotated mark[data-idx="${i}"]`);
  if (!m) return;
  m.scrollIntoView({ block: 'center', behavior: 'smooth' });
  m.focus({ preventScroll: true });
  m.classList.remove('flash');
  void m.offsetWidth;
  m.classList.add('flash');
}

// ---- export ----
function download(name, content, type) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([content], { type }));
  a.download = name;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}
const analysed = () => state.docs.filter((d) => d.result);
const stem = () => (state.docs.length === 1 ? state.docs[0].id.replace(/\.txt$/i, '') : 'bingli');

function jsonl() {
  return analysed().map((d) => JSON.stringify({ id: d.id, model: state.model, entities: d.result.entities, phi: d.result.phi, masked: d.result.masked })).join('\n') + '\n';
}
function brat(d) {
  const lines = [];
  let n = 1;
  for (const e of d.result.entities) lines.push(`T${n++}\t${e.type} ${e.start} ${e.end}\t${e.text}`);
  for (const p of d.result.phi) lines.push(`T${n++}\tPHI_${p.category} ${p.start} ${p.end}\t${p.text}`);
  return lines.join('\n') + '\n';
}
function csv() {
  const q = (v) => { const s = String(v); return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s; };
  const rows = [['document', 'kind', 'start', 'end', 'type', 'text', 'confidence'].join(',')];
  for (const d of analysed()) {
    for (const e of d.result.entities) rows.push([d.id, 'entity', e.start, e.end, e.type, e.text, e.confidence.toFixed(4)].map(q).join(','));
    for (const p of d.result.phi) rows.push([d.id, 'phi', p.start, p.end, p.category, p.text, ''].map(q).join(','));
  }
  return '\ufeff' + rows.join('\r\n') + '\r\n';
}
function maskedAll() {
  const ds = analysed();
  return ds.length === 1 ? ds[0].result.masked : ds.map((d) => `# ${d.id}\n${d.result.masked}`).join('\n\n');
}

async function copy(textValue, btn) {
  try {
    await navigator.clipboard.writeText(textValue);
  } catch (e) {
    const ta = document.createElement('textarea');
    ta.value = textValue;
    document.body.appendChild(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
  const old = btn.textContent;
  btn.textContent = t('copied');
  setTimeout(() => { btn.textContent = old; }, 1200);
}

// ---- input ----
async function readFiles(fileList) {
  const docs = [];
  const dec = new TextDecoder('utf-8', { fatal: true });
  for (const f of fileList) {
    try {
      const txt = dec.decode(await f.arrayBuffer()).replace(/^\ufeff/, '');
      docs.push({ id: f.name, text: txt });
    } catch (e) {
      status(t('badFile', f.name), true);
      return;
    }
  }
  if (docs.length === 0) return;
  state.docs = docs;
  state.current = 0;
  $('text').value = docs[0].text;
  await analyze();
}

function wire() {
  $('lang').addEventListener('click', () => { state.lang = state.lang === 'zh' ? 'en' : 'zh'; applyLang(); });
  $('model').addEventListener('change', async () => { state.model = $('model').value; await startPool(); if (state.docs.length) await analyze(); });
  $('mode').addEventListener('change', () => { state.mode = $('mode').value; redeid(); });
  $('analyze').addEventListener('click', analyze);
  $('sample').addEventListener('click', () => { $('text').value = SAMPLE; state.docs = [{ id: 'text', text: SAMPLE }]; state.current = 0; analyze(); });
  $('clear').addEventListener('click', () => { $('text').value = ''; state.docs = []; renderDocs(); render(); status(''); $('text').focus(); });
  $('text').addEventListener('input', () => {
    state.docs = [{ id: 'text', text: $('text').value }];
    state.current = 0;
    renderDocs();
  });
  $('text').addEventListener('paste', () => setTimeout(analyze, 0));
  $('text').addEventListener('keydown', (ev) => { if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); analyze(); } });
  $('files').addEventListener('change', (ev) => readFiles(ev.target.files));
  const drop = $('drop');
  drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    if (ev.dataTransfer.files.length) readFiles(ev.dataTransfer.files);
  });
  $('exportJsonl').addEventListener('click', () => analysed().length && download(`${stem()}.jsonl`, jsonl(), 'application/x-ndjson'));
  $('exportCsv').addEventListener('click', () => analysed().length && download(`${stem()}.csv`, csv(), 'text/csv'));
  $('exportBrat').addEventListener('click', () => {
    const d = state.docs[state.current];
    if (d && d.result) download(`${d.id.replace(/\.txt$/i, '')}.ann`, brat(d), 'text/plain');
  });
  $('exportMasked').addEventListener('click', () => analysed().length && download(`${stem()}.masked.txt`, maskedAll(), 'text/plain'));
  $('copyMasked').addEventListener('click', (ev) => copy(maskedAll(), ev.currentTarget));
  $('copyJson').addEventListener('click', (ev) => copy(jsonl(), ev.currentTarget));
}

async function main() {
  wire();
  applyLang();
  if ('serviceWorker' in navigator && location.protocol !== 'file:') {
    navigator.serviceWorker.register('sw.js').then(() => navigator.serviceWorker.ready).then(() => { $('offline').hidden = false; }).catch(() => {});
  }
  await startPool();
}

main();
