// newman_test.mjs: runs postman/imgsvc.postman_collection.json with newman against a live imgsvc.
//
//   node newman_test.mjs plain        the embedded default (auth off, multipart recovery on)
//   node newman_test.mjs auth         IMGSVC_API_KEYS set; the collection sends {{token}}
//   node newman_test.mjs no_recovery  IMGSVC_MULTIPART_RECOVERY=false: the form-data request is
//                                     refused with multipart_upload
//
// imgsvc runs on free ports; the environment postman/imgsvc-local.postman_environment.json is
// used with baseUrl, storeUrl, photoPath (a corpus photo) and token overridden, as --env-var
// would. Fails when any request errors, any assertion fails, or any request did not run, or
// when an answer of imgsvc's API does not match openapi.yaml (the newman report is checked by
// tests/integration/contract_check.py, the integration tests' contract).
// Exit 0 pass, 1 fail, 77 skipped (no corpus; no newman unless IMGSVC_TEST_STRICT=1).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { artifactsDir, check, corpusPhoto, missing, start } from '../browser/imgsvc.mjs';

const SRC = process.env.IMGSVC_SOURCE_DIR || path.resolve(import.meta.dirname, '..', '..');
const COLLECTION = path.join(SRC, 'postman', 'imgsvc.postman_collection.json');
const ENVIRONMENT = path.join(SRC, 'postman', 'imgsvc-local.postman_environment.json');
const API_KEY = 'postman-test-key-0123456789abcdef';
const CASES = {
  plain: { env: {}, token: '' },
  auth: { env: { IMGSVC_API_KEYS: API_KEY }, token: API_KEY },
  no_recovery: { env: { IMGSVC_MULTIPART_RECOVERY: 'false' }, token: '' },
};

function runNewman(newman, options) {
  return new Promise((resolve, reject) => {
    newman.run(options, (err, summary) => (err ? reject(err) : resolve(summary)));
  });
}

async function main() {
  const c = CASES[process.argv[2]];
  if (!c) throw new Error('usage: newman_test.mjs ' + Object.keys(CASES).join('|'));
  const photo = corpusPhoto('photo-05.jpg');
  let newman;
  try {
    newman = (await import('newman')).default;
  } catch (err) {
    missing('npm package newman (npm ci --prefix tests): ' + err.message);
  }
  const collection = JSON.parse(fs.readFileSync(COLLECTION, 'utf8'));
  const srv = await start(c.env);
  try {
    const report = path.join(artifactsDir(), 'newman-' + process.argv[2] + '.json');
    const summary = await runNewman(newman, {
      collection,
      environment: JSON.parse(fs.readFileSync(ENVIRONMENT, 'utf8')),
      envVar: [
        { key: 'baseUrl', value: srv.base },
        { key: 'storeUrl', value: srv.storeBase },
        { key: 'photoPath', value: photo },
        { key: 'token', value: c.token },
      ],
      workingDir: path.dirname(photo),
      reporters: ['cli', 'json'],
      reporter: { json: { export: report } },
      timeoutRequest: 60000,
    });
    const run = summary.run;
    const failures = run.failures.map((f) => (f.source && f.source.name) + ': ' +
      (f.error && f.error.message));
    check(failures.length === 0, failures.length + ' failure(s):\n  ' + failures.join('\n  '));
    check(!run.error, 'the run stopped: ' + run.error);
    const ran = new Set(run.executions.map((x) => x.item.name));
    for (const item of collection.item) {
      check(ran.has(item.name), 'request "' + item.name + '" ran');
      const asserted = run.executions.filter((x) => x.item.name === item.name)
        .some((x) => (x.assertions || []).length > 0);
      check(asserted, 'request "' + item.name + '" made assertions');
    }
    const pitfall = run.executions.find((x) => x.item.name.startsWith('7.'));
    const wantCode = c.env.IMGSVC_MULTIPART_RECOVERY === 'false' ? 400 : 200;
    check(pitfall.response.code === wantCode, 'the form-data request answered ' +
      pitfall.response.code + ', expected ' + wantCode);
    const cc = spawnSync(process.env.IMGSVC_PYTHON || '/usr/bin/python3',
      [path.join(SRC, 'tests', 'integration', 'contract_check.py'), 'newman', report, srv.base],
      { encoding: 'utf8', env: { ...process.env, IMGSVC_SOURCE_DIR: SRC } });
    process.stdout.write(cc.stdout || '');
    check(cc.status === 0, 'every API answer matches openapi.yaml:\n' + (cc.stdout || '') +
      (cc.stderr || '') + (cc.error ? String(cc.error) : ''));
    console.log('newman: ' + run.stats.assertions.total + ' assertions passed over ' +
      run.stats.requests.total + ' requests; report ' + report);
  } finally {
    await srv.stop();
  }
}

main().then(() => process.exit(0), (err) => {
  console.error('FAIL: ' + (err && err.stack ? err.stack : err));
  process.exit(1);
});
