/*
 * demo.js: the browser demo's logic (served by imgsvc at /demo.js; see handlers/demo.c).
 *
 * The mobile flow, step by step: POST /v1/uploads for a presigned PUT URL, PUT the file's raw
 * bytes to the object store with exactly the headers imgsvc returned, poll
 * GET /v1/uploads/{uploadId}?urls=1 until ready, then draw the BlurHash placeholder and load
 * every variant through its presigned GET URL.
 *
 * The PUT uses XMLHttpRequest rather than fetch because fetch has no upload progress events
 * (a streamed fetch body needs HTTP/2 and duplex: "half"; the embedded store speaks HTTP/1.1).
 * Either way the body is the raw file, never multipart/form-data. The browser sets
 * Content-Length itself (scripts may not), to the file's size, which is what imgsvc signed.
 */
'use strict';

const POLL_MS = 400;
const POLL_MAX = 300; /* about two minutes */
const EXT_TYPES = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp',
  gif: 'image/gif', avif: 'image/avif', heic: 'image/heic', heif: 'image/heif',
  tif: 'image/tiff', tiff: 'image/tiff' };

const $ = (id) => document.getElementById(id);
let config = { auth: false, domains: [] };
let busy = false;

/* ---- BlurHash decoder (https://github.com/woltapp/blurhash, MIT algorithm) ---------------- */

const B83 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~';

function decode83(s) {
  let v = 0;
  for (const c of s) {
    const d = B83.indexOf(c);
    if (d < 0) throw new Error('bad blurhash character');
    v = v * 83 + d;
  }
  return v;
}

function srgbToLinear(v) {
  const x = v / 255;
  return x <= 0.04045 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
}

function linearToSrgb(v) {
  const x = Math.max(0, Math.min(1, v));
  const s = x <= 0.0031308 ? x * 12.92 : 1.055 * Math.pow(x, 1 / 2.4) - 0.055;
  return Math.trunc(s * 255 + 0.5);
}

function signPow(v, e) {
  return Math.sign(v) * Math.pow(Math.abs(v), e);
}

/* Decodes `hash` into RGBA pixels of w x h. Throws on a malformed hash. */
function decodeBlurhash(hash, w, h) {
  if (typeof hash !== 'string' || hash.length < 6) throw new Error('blurhash too short');
  const size = decode83(hash[0]);
  const ny = Math.floor(size / 9) + 1;
  const nx = (size % 9) + 1;
  if (hash.length !== 4 + 2 * nx * ny) throw new Error('blurhash length mismatch');
  const maxAc = (decode83(hash[1]) + 1) / 166;
  const colors = [];
  const dc = decode83(hash.substring(2, 6));
  colors.push([srgbToLinear(dc >> 16), srgbToLinear((dc >> 8) & 255), srgbToLinear(dc & 255)]);
  for (let i = 1; i < nx * ny; i++) {
    const v = decode83(hash.substring(4 + i * 2, 6 + i * 2));
    const q = [Math.floor(v / 361), Math.floor(v / 19) % 19, v % 19];
    colors.push(q.map((c) => signPow((c - 9) / 9, 2) * maxAc));
  }
  const px = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let r = 0, g = 0, b = 0;
      for (let j = 0; j < ny; j++) {
        for (let i = 0; i < nx; i++) {
          const basis = Math.cos((Math.PI * x * i) / w) * Math.cos((Math.PI * y * j) / h);
          const c = colors[i + j * nx];
          r += c[0] * basis;
          g += c[1] * basis;
          b += c[2] * basis;
        }
      }
      const o = 4 * (x + y * w);
      px[o] = linearToSrgb(r);
      px[o + 1] = linearToSrgb(g);
      px[o + 2] = linearToSrgb(b);
      px[o + 3] = 255;
    }
  }
  return px;
}

/* Draws `hash` on `canvas` at the canvas's own pixel size; false when it cannot. */
function drawBlurhash(canvas, hash) {
  try {
    const px = decodeBlurhash(hash, canvas.width, canvas.height);
    canvas.getContext('2d').putImageData(new ImageData(px, canvas.width, canvas.height), 0, 0);
    canvas.dataset.drawn = '1';
    return true;
  } catch (err) {
    console.warn('blurhash:', err);
    return false;
  }
}

/* ---- page ---------------------------------------------------------------------------------- */

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function humanBytes(n) {
  if (n < 1024) return n + ' B';
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
  return (n / 1024 / 1024).toFixed(2) + ' MiB';
}

function setPhase(name, state) {
  const li = document.querySelector('#phases li[data-phase="' + name + '"]');
  if (li) li.className = state;
}

function setStatus(state, text) {
  const s = $('status');
  s.dataset.state = state;
  s.textContent = text;
}

function renderIds() {
  const d = config.domains.find((x) => x.name === $('domain').value);
  const box = $('ids');
  box.replaceChildren();
  for (const id of d ? d.ids : []) {
    const label = el('label', {}, id + ' ');
    const input = el('input', { 'data-id': id, value: 'demo', pattern: '[A-Za-z0-9_-]{1,64}',
      size: '10', required: '' });
    label.append(input);
    box.append(label);
  }
}

async function loadConfig() {
  const r = await fetch('/demo.json', { cache: 'no-store' });
  config = await r.json();
  const sel = $('domain');
  for (const d of config.domains) sel.append(el('option', { value: d.name }, d.name));
  sel.addEventListener('change', renderIds);
  renderIds();
  $('auth-row').hidden = !config.auth;
}

function apiHeaders(json) {
  const h = {};
  if (json) h['Content-Type'] = 'application/json';
  const t = $('token').value.trim();
  if (t) h.Authorization = 'Bearer ' + t;
  return h;
}

async function apiError(r) {
  try {
    const j = await r.json();
    if (j.error) return r.status + ' ' + j.error.code + ': ' + j.error.message;
  } catch (err) { /* not JSON */ }
  return 'HTTP ' + r.status;
}

function target() {
  const ids = {};
  for (const input of $('ids').querySelectorAll('input')) ids[input.dataset.id] = input.value;
  return { domain: $('domain').value, ids };
}

function contentTypeOf(file) {
  if (file.type) return file.type;
  const ext = (file.name.split('.').pop() || '').toLowerCase();
  return EXT_TYPES[ext] || 'application/octet-stream';
}

async function presign(file, t) {
  const body = { domain: t.domain, ids: t.ids, contentType: contentTypeOf(file),
    contentLength: file.size };
  const r = await fetch('/v1/uploads', { method: 'POST', headers: apiHeaders(true),
    body: JSON.stringify(body) });
  if (r.status !== 201) throw new Error('POST /v1/uploads: ' + (await apiError(r)));
  return r.json();
}

/* PUTs the raw file to the presigned URL with the returned headers; resolves on 2xx. */
function put(up, file) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(up.method, up.url);
    for (const [k, v] of Object.entries(up.headers)) {
      if (k.toLowerCase() !== 'content-length') xhr.setRequestHeader(k, v);
    }
    xhr.upload.onprogress = (ev) => {
      const total = ev.lengthComputable ? ev.total : file.size;
      $('bar').value = total ? ev.loaded / total : 0;
      $('bytes').textContent = humanBytes(ev.loaded) + ' / ' + humanBytes(total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else reject(new Error('PUT to the store: HTTP ' + xhr.status + ' ' + xhr.responseText));
    };
    xhr.onerror = () => reject(new Error('PUT to the store failed (network or CORS)'));
    xhr.send(file);
  });
}

function statusUrl(up, t) {
  const q = new URLSearchParams({ domain: t.domain, ...t.ids, urls: '1' });
  return '/v1/uploads/' + encodeURIComponent(up.uploadId) + '?' + q;
}

async function poll(up, t) {
  for (let i = 0; i < POLL_MAX; i++) {
    const r = await fetch(statusUrl(up, t), { headers: apiHeaders(false), cache: 'no-store' });
    if (r.status !== 200) throw new Error('GET status: ' + (await apiError(r)));
    const s = await r.json();
    if (s.status === 'ready' || s.status === 'failed') return s;
    await new Promise((res) => setTimeout(res, POLL_MS));
  }
  throw new Error('still not ready after ' + (POLL_MAX * POLL_MS) / 1000 + ' s');
}

function renderFacts(s) {
  const m = s.manifest;
  const dl = $('facts');
  dl.replaceChildren();
  const rows = [['uploadId', s.uploadId], ['source', m.facts.width + '×' + m.facts.height + ' ' +
    m.facts.format], ['blurhash', m.placeholders ? m.placeholders.blurhash : '(none)'],
  ['dominant', m.placeholders ? m.placeholders.dominant : '(none)'], ['urls expire', s.urlsExpireAt]];
  for (const [k, v] of rows) dl.append(el('dt', {}, k), el('dd', {}, String(v)));
}

function variantCard(v, hash, dominant) {
  const card = el('figure', { class: 'card', 'data-variant': v.name });
  const frame = el('div', { class: 'frame' });
  const canvas = el('canvas', { width: '32', height: String(Math.max(1,
    Math.round((32 * v.height) / v.width))) });
  if (dominant) canvas.style.background = dominant;
  if (hash) drawBlurhash(canvas, hash);
  const img = el('img', { alt: v.name, 'data-width': String(v.width),
    'data-height': String(v.height) });
  img.addEventListener('load', () => img.classList.add('loaded'));
  img.addEventListener('error', () => card.classList.add('broken'));
  img.src = v.url;
  frame.append(canvas, img);
  const cap = el('figcaption');
  const p = el('p', {}, v.name + ' · ' + v.width + '×' + v.height + ' · ' + humanBytes(v.bytes) +
    ' · ' + v.format + ' ');
  p.append(el('a', { href: v.url, target: '_blank', rel: 'noopener' }, 'open'));
  cap.append(p);
  card.append(frame, cap);
  return card;
}

function renderReady(s) {
  const m = s.manifest;
  const hash = m.placeholders ? m.placeholders.blurhash : null;
  const dominant = m.placeholders ? m.placeholders.dominant : null;
  const ph = $('placeholder');
  ph.height = Math.max(1, Math.round((32 * m.facts.height) / m.facts.width));
  if (dominant) ph.style.background = dominant;
  if (hash) drawBlurhash(ph, hash);
  renderFacts(s);
  const grid = $('variants');
  grid.replaceChildren(...m.variants.map((v) => variantCard(v, hash, dominant)));
  $('result').hidden = false;
}

async function run(file) {
  if (busy) return;
  busy = true;
  const t = target();
  $('progress').hidden = false;
  $('result').hidden = true;
  for (const p of ['presign', 'upload', 'process', 'ready']) setPhase(p, '');
  $('bar').value = 0;
  $('bytes').textContent = '';
  try {
    setPhase('presign', 'active');
    setStatus('presign', 'Asking imgsvc for an upload URL…');
    const up = await presign(file, t);
    setPhase('presign', 'done');
    setPhase('upload', 'active');
    setStatus('upload', 'Uploading ' + file.name + ' to ' + new URL(up.url).host + '…');
    await put(up, file);
    setPhase('upload', 'done');
    setPhase('process', 'active');
    setStatus('process', 'Uploaded; waiting for the variants…');
    const s = await poll(up, t);
    setPhase('process', 'done');
    if (s.status === 'failed') {
      setStatus('failed', 'Failed: ' + s.error.code + ': ' + s.error.message);
      return;
    }
    setPhase('ready', 'done');
    renderReady(s);
    setStatus('ready', 'Ready: ' + s.manifest.variants.length + ' variants of ' + s.uploadId);
  } catch (err) {
    setStatus('error', err.message);
  } finally {
    busy = false;
  }
}

function wireDrop() {
  const drop = $('drop');
  drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    if (ev.dataTransfer.files.length) run(ev.dataTransfer.files[0]);
  });
  $('file').addEventListener('change', (ev) => {
    if (ev.target.files.length) run(ev.target.files[0]);
    ev.target.value = '';
  });
}

document.addEventListener('DOMContentLoaded', () => {
  wireDrop();
  loadConfig().catch((err) => setStatus('error', 'demo config: ' + err.message));
});
