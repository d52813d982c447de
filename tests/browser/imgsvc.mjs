// imgsvc.mjs: helpers shared by the browser demo and Postman tests (node, no dependency).
//
// start() runs the real `imgsvc serve` (IMGSVC_BIN) with the embedded store, both on free
// loopback ports (IMGSVC_PORT=0, IMGSVC_STORE_PORT=0), a private data folder, and learns the
// ports from the JSON "listening" log lines. skip()/missing() follow the suites' convention:
// exit 77 = skipped, or a failure under IMGSVC_TEST_STRICT=1 (scripts/test.sh).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const SKIP = 77;

export function skip(why) {
  console.log('SKIP: ' + why);
  process.exit(SKIP);
}

/** A missing tool: skip, or fail under IMGSVC_TEST_STRICT=1. */
export function missing(what) {
  if (process.env.IMGSVC_TEST_STRICT === '1') {
    console.error('FAIL: ' + what + ' (scripts/test.sh installs it)');
    process.exit(1);
  }
  skip(what + '; scripts/test.sh installs it');
}

/** A corpus photo, or skip when the corpus (built from ../shared) is absent. */
export function corpusPhoto(name) {
  const dir = process.env.IMGSVC_CORPUS_DIR || '';
  const file = path.join(dir, 'photos', name);
  if (!dir || !fs.existsSync(file)) {
    skip('corpus photo ' + file + ' not found (the corpus needs ../shared; imaging.corpus_setup)');
  }
  return file;
}

/** Where screenshots and reports go: $IMGSVC_ARTIFACTS_DIR or <source>/tests/artifacts. */
export function artifactsDir() {
  const dir = process.env.IMGSVC_ARTIFACTS_DIR ||
    path.join(process.env.IMGSVC_SOURCE_DIR || '.', 'tests', 'artifacts');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Starts imgsvc; resolves to {base, storeBase, port, storePort, logs, stop()}. */
export function start(env = {}) {
  const bin = process.env.IMGSVC_BIN;
  if (!bin || !fs.existsSync(bin)) throw new Error('IMGSVC_BIN=' + bin + ' is not a file');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imgsvc-ui-'));
  const clean = Object.fromEntries(Object.entries(process.env)
    .filter(([k]) => !k.startsWith('IMGSVC_')));
  const proc = spawn(bin, ['serve'], {
    env: { ...clean, IMGSVC_PORT: '0', IMGSVC_STORE_PORT: '0', IMGSVC_LISTEN_ADDR: '127.0.0.1',
      IMGSVC_DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logs = [];
  let port = null, storePort = null, rest = '';
  const stop = () => new Promise((resolve) => {
    if (proc.exitCode !== null) { fs.rmSync(dataDir, { recursive: true, force: true }); resolve(); return; }
    proc.once('exit', () => { fs.rmSync(dataDir, { recursive: true, force: true }); resolve(); });
    proc.kill('SIGTERM');
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error('imgsvc did not start:\n' + logs.join('\n'))); }, 20000);
    proc.on('exit', (code) => {
      if (port === null) { clearTimeout(timer); reject(new Error('imgsvc exited ' + code + ':\n' + logs.join('\n'))); }
    });
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop();
      for (const line of lines) {
        logs.push(line);
        let rec;
        try { rec = JSON.parse(line); } catch { continue; }
        if (rec.msg !== 'listening') continue;
        if (rec.server === 'store') storePort = rec.port;
        else if (port === null) port = rec.port;
        if (port !== null && storePort !== null) {
          clearTimeout(timer);
          resolve({ base: 'http://127.0.0.1:' + port, storeBase: 'http://127.0.0.1:' + storePort,
            port, storePort, logs, stop });
        }
      }
    });
  });
}

/** Fails the test with a message (throws; the caller's main catches and exits 1). */
export function check(cond, msg) {
  if (!cond) throw new Error('check failed: ' + msg);
}
