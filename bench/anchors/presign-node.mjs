// presign-node.mjs: the Node.js anchor for bench/presign — the same presign work done with the
// AWS SDK for JavaScript v3 (@aws-sdk/client-s3 + @aws-sdk/s3-request-presigner), so that
// imgsvc's numbers have something well known to be compared with.
//
//   node bench/anchors/presign-node.mjs inprocess [-d SECONDS] [-r RUNS] [-k KEYS] [-w SECONDS]
//   node bench/anchors/presign-node.mjs serve
//
// inprocess: getSignedUrl(PutObjectCommand) in a loop, one await after the other (the SDK's
//   ordinary use), with the parameters of imgsvc's POST /v1/uploads: bucket "imgsvc",
//   path-style on http://127.0.0.1:9000, region us-east-1, 600 s, Content-Type "image/jpeg"
//   signed, keys "delete/profile/<userId>/<uuid>_<ts>.jpeg" made before timing and used in
//   turn. Each run lasts SECONDS (default 2), after one warm-up of -w SECONDS (default 3: the
//   first thousands of presigns run before V8 has optimized the SDK and are 2x slower); prints
//   one JSON document with the median of RUNS runs (default 5), like presign_bench.c.
// serve: a node:http server implementing POST /v1/uploads as imgsvc does (handlers/uploads.c):
//   parses the JSON body, validates domain, ids, contentType, contentLength and checksumSha256
//   with the same rules and error codes, builds the key with a random UUID, presigns with the
//   SDK and answers 201 with the same JSON fields (uploadId, key, bucket, method, url, headers,
//   expiresAt, variants, manifest). One process, no access log, no authentication. Settings
//   use imgsvc's names: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
//   AWS_REGION, IMGSVC_S3_BUCKET, IMGSVC_PUBLIC_ENDPOINT, IMGSVC_PRESIGN_EXPIRES_S,
//   IMGSVC_MAX_UPLOAD_BYTES, IMGSVC_LISTEN_ADDR (default 127.0.0.1), IMGSVC_PORT (0 = any); it
//   prints imgsvc's JSON "listening" log line (with "port") on stderr and stops on SIGTERM.
//
// The npm packages are the ones tests/package.json pins (installed in tests/node_modules by
// `npm ci --prefix tests`); IMGSVC_NPM_PREFIX names another folder holding a node_modules.
import { createRequire } from "node:module";
import { randomUUID } from "node:crypto";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const prefix = process.env.IMGSVC_NPM_PREFIX || path.join(here, "..", "..", "tests");
const require = createRequire(path.join(prefix, "package.json"));
const { S3Client, PutObjectCommand } = require("@aws-sdk/client-s3");
const { getSignedUrl } = require("@aws-sdk/s3-request-presigner");
const sdkVersion = (name) => require(`${name}/package.json`).version;

const env = (name, dflt) => process.env[name] || dflt;
const ENDPOINT = env("IMGSVC_PUBLIC_ENDPOINT", "http://127.0.0.1:9000").replace(/\/$/, "");
const REGION = env("AWS_REGION", "us-east-1");
const BUCKET = env("IMGSVC_S3_BUCKET", "imgsvc");
const EXPIRES = Number(env("IMGSVC_PRESIGN_EXPIRES_S", "600"));
const MAX_UPLOAD = Number(env("IMGSVC_MAX_UPLOAD_BYTES", "52428800"));
const BODY_MAX = 64 * 1024;

// As tests/interop/presign_js.mjs: no flexible-checksum parameters, content-type signed.
const client = new S3Client({
  region: REGION,
  endpoint: ENDPOINT,
  forcePathStyle: true,
  credentials: {
    accessKeyId: env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
    secretAccessKey: env("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
    ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}),
  },
  requestChecksumCalculation: "WHEN_REQUIRED",
  responseChecksumValidation: "WHEN_REQUIRED",
});

// ---- in-process loop ----------------------------------------------------------------------

const SIGN_CT = new Set(["content-type"]);

function presignPut(key, contentType) {
  return getSignedUrl(client, new PutObjectCommand({ Bucket: BUCKET, Key: key, ContentType: contentType }),
    { expiresIn: EXPIRES, signableHeaders: SIGN_CT });
}

async function runFor(keys, seconds) {
  let count = 0;
  let next = 0;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  let elapsed = 0;
  do {
    for (let i = 0; i < 64; i++) {
      await presignPut(keys[next], "image/jpeg");
      next = next + 1 === keys.length ? 0 : next + 1;
    }
    count += 64;
    elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  } while (elapsed < seconds);
  const cpu = process.cpuUsage(cpu0);
  return { perS: count / elapsed, cpuPerS: count / ((cpu.user + cpu.system) / 1e6) };
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

function parseOpts(argv) {
  const o = { d: 2, r: 5, k: 1024, w: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^-/, "");
    const v = Number(argv[i + 1]);
    if (!(name in o) || !(v > 0 || (name === "w" && v === 0))) throw new Error(`bad option ${argv[i]} ${argv[i + 1]}`);
    o[name] = v;
  }
  return o;
}

async function inprocess(argv) {
  const o = parseOpts(argv);
  const ts = Math.floor(Date.now() / 1000);
  const keys = Array.from({ length: o.k }, (_, i) =>
    `delete/profile/${1 + (i % 1000)}/${randomUUID()}_${ts}.jpeg`);
  if (o.w > 0) await runFor(keys, o.w); // warm-up, not reported: V8 needs a few thousand presigns
  const runs = [];
  for (let r = 0; r < o.r; r++) {
    runs.push(await runFor(keys, o.d));
    process.stderr.write(`presign-node: run ${r + 1}: ${runs[r].perS.toFixed(0)}/s\n`);
  }
  const m = median(runs.map((x) => x.perS));
  const doc = {
    benchmark: "presign-inprocess",
    implementation: `@aws-sdk/s3-request-presigner ${sdkVersion("@aws-sdk/s3-request-presigner")}` +
      ` + @aws-sdk/client-s3 ${sdkVersion("@aws-sdk/client-s3")} on Node.js ${process.version}`,
    threads: 1,
    params: { method: "PUT", endpoint: ENDPOINT, addressing: "path", bucket: BUCKET, region: REGION,
      expires_s: EXPIRES, content_type: "image/jpeg", signed_headers: "content-type;host",
      key_shape: "delete/profile/<userId>/<uuid>_<ts>.jpeg", keys: o.k },
    runs: o.r,
    duration_s: o.d,
    warmup_s: o.w,
    sdk: {
      per_s: runs.map((x) => Math.round(x.perS)),
      median_per_s: Math.round(m),
      ns_per_presign: Math.round(1e9 / m),
      per_cpu_s: runs.map((x) => Math.round(x.cpuPerS)),
      median_per_cpu_s: Math.round(median(runs.map((x) => x.cpuPerS))),
    },
    sample_url: await presignPut(keys[0], "image/jpeg"),
  };
  process.stdout.write(JSON.stringify(doc) + "\n");
}

// ---- POST /v1/uploads ---------------------------------------------------------------------

// Domains, ids and built-in variant sizes as in s3/keys.c and imaging/img_preset.c.
const DOMAINS = {
  profile: { ids: ["userId"], path: "profile/{userId}", sizes: ["640", "320", "160"] },
  feed: { ids: ["feedId"], path: "feed/{feedId}", sizes: ["1080", "640", "320"] },
  chatroom: { ids: ["chatroomId"], path: "chatroom/{chatroomId}", sizes: ["640", "320", "160"] },
  chat: { ids: ["chatroomId", "chatId"], path: "chatroom/{chatroomId}/chat/{chatId}",
    sizes: ["1080", "640", "320"] },
  chat_profile: { ids: ["chatroomId", "userId"], path: "chatroom/{chatroomId}/chat_profile/{userId}",
    sizes: ["320", "160"] },
};
const TYPES = { "image/jpeg": "jpeg", "image/png": "png", "image/webp": "webp", "image/heic": "heic",
  "image/heif": "heif", "image/avif": "avif", "image/gif": "gif" };
const ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
const B64_32_RE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/; // base64 of exactly 32 bytes

class Refusal extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function parseUpload(text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch (e) {
    throw new Refusal(400, "malformed_json", e.message);
  }
  if (body === null || typeof body !== "object" || Array.isArray(body))
    throw new Refusal(400, "malformed_json", "the body must be a JSON object");
  const d = Object.hasOwn(DOMAINS, body.domain) ? DOMAINS[body.domain] : null;
  if (!d)
    throw new Refusal(400, "unknown_domain", "domain must be one of " + Object.keys(DOMAINS).join(", "));
  const ids = body.ids;
  if (ids === null || typeof ids !== "object" || Array.isArray(ids) ||
      Object.keys(ids).length !== d.ids.length)
    throw new Refusal(400, "bad_ids", `ids must be an object with exactly ${d.ids.join(" and ")}`);
  for (const name of d.ids)
    if (typeof ids[name] !== "string" || !ID_RE.test(ids[name]))
      throw new Refusal(400, "bad_ids", `ids.${name} must be a string of 1 to 64 characters A-Z a-z 0-9 _ -`);
  const ct = typeof body.contentType === "string" ? body.contentType : "";
  const ext = TYPES[ct.split(";")[0].trim().toLowerCase()];
  if (!ext)
    throw new Refusal(400, "unsupported_content_type", "contentType must be one of " + Object.keys(TYPES).join(", "));
  const len = body.contentLength;
  if (len !== undefined && !(Number.isSafeInteger(len) && len >= 1))
    throw new Refusal(400, "bad_content_length", "contentLength must be a positive integer (bytes)");
  if (len !== undefined && len > MAX_UPLOAD)
    throw new Refusal(400, "content_length_too_large", `contentLength ${len} is over the limit of ${MAX_UPLOAD} bytes`);
  const ck = body.checksumSha256;
  if (ck !== undefined && !(typeof ck === "string" && B64_32_RE.test(ck)))
    throw new Refusal(400, "bad_checksum", "checksumSha256 must be the base64 of a 32-byte SHA-256 digest");
  return { d, ids, contentType: ct, ext, len, ck };
}

async function createUpload(u) {
  const now = Math.floor(Date.now() / 1000);
  const uploadId = `${randomUUID()}_${now}`;
  const dir = u.d.path.replace(/\{(\w+)\}/g, (_, name) => u.ids[name]);
  const key = `delete/${dir}/${uploadId}.${u.ext}`;
  const input = { Bucket: BUCKET, Key: key, ContentType: u.contentType };
  const headers = { "Content-Type": u.contentType };
  const signable = new Set(["content-type"]);
  const unhoistable = new Set();
  if (u.len !== undefined) {
    input.ContentLength = u.len;
    headers["Content-Length"] = String(u.len);
    signable.add("content-length");
  }
  if (u.ck !== undefined) {
    input.ChecksumSHA256 = u.ck;
    headers["x-amz-checksum-sha256"] = u.ck;
    signable.add("x-amz-checksum-sha256");
    unhoistable.add("x-amz-checksum-sha256");
  }
  const url = await getSignedUrl(client, new PutObjectCommand(input),
    { expiresIn: EXPIRES, signableHeaders: signable, unhoistableHeaders: unhoistable });
  const variants = { origin: `${dir}/origin/${uploadId}.${u.ext}` };
  for (const size of u.d.sizes) variants[size] = `${dir}/${size}/${uploadId}.jpeg`;
  return {
    uploadId, key, bucket: BUCKET, method: "PUT", url, headers,
    expiresAt: new Date((now + EXPIRES) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    variants, manifest: `${dir}/manifest/${uploadId}.json`,
  };
}

function send(res, status, obj, requestId) {
  const text = JSON.stringify(obj);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text),
    "X-Request-Id": requestId });
  res.end(text);
}

function handle(req, res) {
  const requestId = randomUUID();
  const fail = (e) => {
    const r = e instanceof Refusal ? e : new Refusal(500, "internal", "the upload could not be prepared");
    send(res, r.status, { error: { code: r.code, message: r.message, requestId } }, requestId);
  };
  if (req.url !== "/v1/uploads" || req.method !== "POST") {
    req.resume();
    return fail(new Refusal(404, "not_found", "no such route"));
  }
  const chunks = [];
  let size = 0;
  req.on("data", (c) => {
    size += c.length;
    if (size <= BODY_MAX) chunks.push(c);
  });
  req.on("end", () => {
    if (size > BODY_MAX) return fail(new Refusal(413, "body_too_large", "the body is too large"));
    let u;
    try {
      u = parseUpload(Buffer.concat(chunks).toString("utf8"));
    } catch (e) {
      return fail(e);
    }
    createUpload(u).then((answer) => send(res, 201, answer, requestId), fail);
  });
}

function serve() {
  const server = http.createServer(handle);
  server.listen(Number(env("IMGSVC_PORT", "0")), env("IMGSVC_LISTEN_ADDR", "127.0.0.1"), () => {
    const a = server.address();
    process.stderr.write(JSON.stringify({ ts: new Date().toISOString(), level: "info", subsys: "main",
      msg: "listening", addr: a.address, port: a.port, version: `node ${process.version}` }) + "\n");
  });
  process.on("SIGTERM", () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === "inprocess") {
  await inprocess(rest);
} else if (mode === "serve") {
  serve();
} else {
  process.stderr.write("usage: presign-node.mjs inprocess [-d SECONDS] [-r RUNS] [-k KEYS] [-w SECONDS] | serve\n");
  process.exit(2);
}
