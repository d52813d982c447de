// demo_test.mjs: the browser demo at / driven in Debian's Chromium (playwright-core).
//
//   node demo_test.mjs upload   open the page, upload a corpus photo through it, check that
//                               every variant <img> loads with the manifest's width and height,
//                               that the placeholder canvas holds the BlurHash (compared with
//                               the blurhash npm package's decoding), keep a screenshot
//   node demo_test.mjs auth     the same with authentication on: the page asks for a token and
//                               sends it (a wrong token shows the 401)
//   node demo_test.mjs off      IMGSVC_DEMO=off: / and /demo.js are 404
//
// Every answer of imgsvc's API the page receives is recorded and checked against openapi.yaml
// by tests/integration/contract_check.py (the integration tests' contract).
//
// Exit 0 pass, 1 fail, 77 skipped (no corpus; no Chromium or playwright-core unless
// IMGSVC_TEST_STRICT=1).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { artifactsDir, check, corpusPhoto, missing, start } from './imgsvc.mjs';

const CHROMIUM = process.env.IMGSVC_CHROMIUM || '/usr/bin/chromium';
const PHOTO = 'photo-05.jpg'; /* EXIF orientation 6: variants are upright, so w/h swap */
const API_KEY = 'browser-test-key-0123456789abcdef';

async function loadDeps() {
  if (!fs.existsSync(CHROMIUM)) missing('Chromium (' + CHROMIUM + ', Debian package chromium)');
  try {
    const pw = await import('playwright-core');
    const bh = await import('blurhash');
    return { chromium: pw.chromium, decode: bh.decode };
  } catch (err) {
    missing('npm packages playwright-core and blurhash (npm ci --prefix tests): ' + err.message);
  }
}

async function getJson(url, headers = {}) {
  const r = await fetch(url, { headers });
  check(r.status === 200, 'GET ' + url + ' answered ' + r.status);
  return r.json();
}

/** Records every answer of the API (not the store) the page gets, as contract_check.py reads
 *  them: pushes a promise of {method, target, status, headers, body} (null when unreadable). */
function recordApi(page, srv, out) {
  page.on('response', (r) => {
    const u = new URL(r.url());
    if (u.origin !== srv.base) return;
    out.push(r.body().then((b) => ({ method: r.request().method(), target: u.pathname + u.search,
      status: r.status(), headers: r.headers(), body: b.toString('base64') }), () => null));
  });
}

/** Checks the recorded answers against openapi.yaml. */
async function checkContract(recorded, name) {
  const rows = (await Promise.all(recorded)).filter((x) => x !== null);
  const file = path.join(artifactsDir(), 'browser-api-' + name + '.jsonl');
  fs.writeFileSync(file, rows.map((x) => JSON.stringify(x)).join('\n') + '\n');
  const src = process.env.IMGSVC_SOURCE_DIR || path.resolve(import.meta.dirname, '..', '..');
  const cc = spawnSync(process.env.IMGSVC_PYTHON || '/usr/bin/python3',
    [path.join(src, 'tests', 'integration', 'contract_check.py'), 'jsonl', file],
    { encoding: 'utf8', env: { ...process.env, IMGSVC_SOURCE_DIR: src } });
  process.stdout.write(cc.stdout || '');
  check(cc.status === 0, 'every API answer the page got matches openapi.yaml:\n' +
    (cc.stdout || '') + (cc.stderr || '') + (cc.error ? String(cc.error) : ''));
}

/** Opens the page; fails the test on any console error (a CSP violation is one). */
async function openPage(browser, srv, errors, recorded) {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  if (recorded) recordApi(page, srv, recorded);
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  const resp = await page.goto(srv.base + '/');
  check(resp.status() === 200, 'GET / answered ' + resp.status());
  const csp = resp.headers()['content-security-policy'] || '';
  check(csp.includes("script-src 'self'") && csp.includes(srv.storeBase),
    'the page has a Content-Security-Policy naming the store: ' + csp);
  await page.waitForSelector('#domain option[value="profile"]', { state: 'attached' });
  return page;
}

/** Uploads the photo through the page and waits for a final state; returns it. */
async function uploadThroughPage(page, photo, userId, token) {
  await page.selectOption('#domain', 'feed');
  await page.fill('input[data-id="feedId"]', userId);
  if (token !== undefined) await page.fill('#token', token);
  await page.setInputFiles('#file', photo);
  await page.waitForFunction(() => ['ready', 'failed', 'error']
    .includes(document.getElementById('status').dataset.state), null, { timeout: 120000 });
  return page.$eval('#status', (s) => ({ state: s.dataset.state, text: s.textContent }));
}

/** Every variant image loaded with the manifest's size; returns what was seen. */
async function checkVariants(page, manifest) {
  await page.waitForFunction(() => [...document.querySelectorAll('#variants img')]
    .every((i) => i.complete), null, { timeout: 30000 });
  const seen = await page.$$eval('#variants figure', (figs) => figs.map((f) => {
    const img = f.querySelector('img');
    return { name: f.dataset.variant, w: img.naturalWidth, h: img.naturalHeight,
      src: img.currentSrc, caption: f.querySelector('figcaption').textContent };
  }));
  check(manifest.variants.length > 0, 'the manifest has variants');
  check(seen.length === manifest.variants.length,
    'one <img> per variant: ' + seen.length + ' vs ' + manifest.variants.length);
  for (const v of manifest.variants) {
    const s = seen.find((x) => x.name === v.name);
    check(s, 'variant ' + v.name + ' shown');
    check(s.w === v.width && s.h === v.height, 'variant ' + v.name + ' loaded at ' + s.w + 'x' +
      s.h + ', manifest says ' + v.width + 'x' + v.height);
    check(s.src.includes('X-Amz-Signature=') && s.src.includes(encodeURI(v.key)),
      'variant ' + v.name + ' loads from its presigned GET URL');
    check(s.caption.includes(v.width + '×' + v.height), 'variant ' + v.name + ' caption: ' +
      s.caption);
    console.log('variant ' + v.name + ': ' + s.w + 'x' + s.h + ' loaded');
  }
  return seen;
}

/** The placeholder canvas holds the manifest's BlurHash, pixel for pixel (±2 per channel). */
async function checkPlaceholder(page, manifest, decode) {
  const c = await page.$eval('#placeholder', (cv) => ({
    drawn: cv.dataset.drawn, w: cv.width, h: cv.height,
    px: Array.from(cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data) }));
  check(c.drawn === '1', 'the placeholder canvas was drawn');
  const want = decode(manifest.placeholders.blurhash, c.w, c.h);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i] - c.px[i]));
  check(worst <= 2, 'placeholder pixels differ from the blurhash package by up to ' + worst);
  const first = c.px.slice(0, 3).join(',');
  check(c.px.some((_, i) => i % 4 !== 3 && c.px.slice(i - (i % 4), i - (i % 4) + 3).join(',') !==
    first), 'the placeholder is not one flat colour');
  console.log('placeholder ' + c.w + 'x' + c.h + ' matches ' + manifest.placeholders.blurhash);
}

async function caseUpload(browser, decode, auth) {
  const env = auth ? { IMGSVC_API_KEYS: API_KEY } : {};
  const srv = await start(env);
  const errors = [];
  const recorded = [];
  try {
    const page = await openPage(browser, srv, errors, recorded);
    const hdrs = auth ? { Authorization: 'Bearer ' + API_KEY } : {};
    const cfg = await getJson(srv.base + '/demo.json');
    check(cfg.auth === auth, '/demo.json says auth ' + cfg.auth);
    check(await page.isVisible('#token') === auth, 'the token field shows only with auth');
    const userId = 'browser-' + process.pid;
    if (auth) {
      const bad = await uploadThroughPage(page, corpusPhoto(PHOTO), userId, 'wrong-token-0123456789');
      check(bad.state === 'error' && bad.text.includes('401'), 'a wrong token shows 401: ' +
        bad.text);
      errors.length = 0; /* the 401 is logged by the browser as a failed resource */
    }
    const st = await uploadThroughPage(page, corpusPhoto(PHOTO), userId, auth ? API_KEY : undefined);
    check(st.state === 'ready', 'the page reached ready: ' + st.text);
    const uploadId = (st.text.match(/of (\S+)$/) || [])[1];
    check(uploadId, 'the status names the upload id: ' + st.text);
    const s = await getJson(srv.base + '/v1/uploads/' + uploadId + '?domain=feed&feedId=' +
      userId, hdrs);
    check(s.status === 'ready', 'the API says ready');
    await checkVariants(page, s.manifest);
    await checkPlaceholder(page, s.manifest, decode);
    check(errors.length === 0, 'no console errors: ' + errors.join(' | '));
    const shot = path.join(artifactsDir(), auth ? 'browser-demo-auth.png' : 'browser-demo.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log('screenshot: ' + shot);
    await checkContract(recorded, auth ? 'auth' : 'upload');
  } finally {
    await srv.stop();
  }
}

async function caseOff() {
  const srv = await start({ IMGSVC_DEMO: 'off' });
  try {
    for (const p of ['/', '/demo.js', '/demo.css', '/demo.json']) {
      const r = await fetch(srv.base + p);
      check(r.status === 404, 'IMGSVC_DEMO=off: GET ' + p + ' answered ' + r.status);
    }
    const r = await fetch(srv.base + '/healthz');
    check(r.status === 200, 'the API still runs');
    console.log('IMGSVC_DEMO=off: no demo routes');
  } finally {
    await srv.stop();
  }
}

async function main() {
  const which = process.argv[2];
  if (which === 'off') return caseOff();
  if (which !== 'upload' && which !== 'auth') throw new Error('usage: demo_test.mjs upload|auth|off');
  corpusPhoto(PHOTO); /* skip early without the corpus */
  const { chromium, decode } = await loadDeps();
  const args = process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [];
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
  try {
    await caseUpload(browser, decode, which === 'auth');
  } finally {
    await browser.close();
  }
}

main().then(() => process.exit(0), (err) => {
  console.error('FAIL: ' + (err && err.stack ? err.stack : err));
  process.exit(1);
});
