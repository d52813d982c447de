// pipeline-node.mjs: the anchor for bench/pipeline — the seed's own stack (a Node 20 handler with
// sharp and @aws-sdk/client-s3, what the seed's Lambda did for every S3 ObjectCreated event),
// run as an HTTP server that receives the same Ceph RGW notifications imgsvc does.
//
//   node bench/anchors/pipeline-node.mjs        (settings from the environment, below)
//
// POST /v1/events/s3 (any query; no authentication: the bench runs it on loopback only) takes
// {"Records":[...]} as RGW, MinIO or AWS send it, answers 202 once the records are queued, and a
// pool of PIPE_CONCURRENCY async workers handles them, each record as the seed did:
//   GetObject temp -> for each preset of the key's domain:
//     sharp(buf).rotate().resize(...).jpeg({ quality: 80 }).toBuffer() -> PutObject variant
//   -> PutObject origin (the uploaded bytes as they are) -> DeleteObject temp
// Presets are imgsvc's built-in ones (imaging/img_preset.c): profile and chatroom 640/320/160
// cover squares, chat_profile 320/160 cover squares, feed and chat 1080/640/320 inside (width
// only), JPEG quality 80, never enlarged, centre gravity. Keys follow the seed's schema
// (delete/<path>/<file> -> <path>/<size>/<file>, <path>/origin/<file>); records for other
// buckets, keys outside delete/ and events other than ObjectCreated are ignored. No manifest
// (the seed wrote none): the job's end is the temp's DELETE. A failed job is logged and its temp
// left (the seed's Lambda would have been retried by S3).
//
// Environment: PORT (0 = any; the chosen port is printed as {"listening":PORT} on stdout),
// PIPE_CONCURRENCY (jobs at once, default 2 = imgsvc's IMGSVC_WORKERS default),
// SHARP_CONCURRENCY (libvips threads per image, default 1 = IMGSVC_VIPS_CONCURRENCY's default),
// S3_ENDPOINT, S3_BUCKET, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (path-style),
// IMGSVC_NPM_PREFIX (a folder whose node_modules holds sharp and @aws-sdk/client-s3; default
// bench/pipeline, installed from bench/pipeline/package.json). On SIGTERM: stops accepting,
// finishes the queue, prints {"done":N,"failed":N} and exits.
import http from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const prefix = process.env.IMGSVC_NPM_PREFIX || path.join(here, "..", "pipeline");
const require = createRequire(path.join(prefix, "package.json"));
const sharp = require("sharp");
const { S3Client, GetObjectCommand, PutObjectCommand, DeleteObjectCommand } =
  require("@aws-sdk/client-s3");

const CONCURRENCY = Number(process.env.PIPE_CONCURRENCY || 2);
const BUCKET = process.env.S3_BUCKET;
const MAX_BODY = 1 << 20;
sharp.concurrency(Number(process.env.SHARP_CONCURRENCY || 1));
sharp.cache(false);

const s3 = new S3Client({
  endpoint: process.env.S3_ENDPOINT,
  region: process.env.AWS_REGION || "us-east-1",
  forcePathStyle: true,
  // Ceph RGW 16 does not know the SDK's default CRC32 trailers; the seed's SDK sent none either.
  requestChecksumCalculation: "WHEN_REQUIRED",
  responseChecksumValidation: "WHEN_REQUIRED",
});

const SQUARE = [640, 320, 160];
const SMALL_SQUARE = [320, 160];
const WIDE = [1080, 640, 320];
const PRESETS = {
  profile: { sizes: SQUARE, fit: "cover" },
  chatroom: { sizes: SQUARE, fit: "cover" },
  chat_profile: { sizes: SMALL_SQUARE, fit: "cover" },
  feed: { sizes: WIDE, fit: "inside" },
  chat: { sizes: WIDE, fit: "inside" },
};

// The domain of a temp key's path (after "delete/"), from the seed's key table.
function domainOf(parts) {
  if (parts[0] === "chatroom" && parts.length === 5) return parts[2]; // chat, chat_profile
  return parts[0];
}

// The record's key as written in S3: AWS URL-encodes it ('+' for a space), RGW does not, MinIO
// query-escapes it.
function recordKey(r) {
  const key = r.s3.object.key;
  if (r.eventSource === "ceph:s3") return key;
  return decodeURIComponent(key.replace(/\+/g, " "));
}

const queue = [];
let running = 0;
let done = 0;
let failed = 0;
let draining = false;
let onIdle = null;

async function handle(key) {
  const parts = key.slice("delete/".length).split("/");
  const file = parts.pop();
  const preset = PRESETS[domainOf(parts)];
  if (!preset) throw new Error(`no presets for ${key}`);
  const base = parts.join("/");
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const buf = Buffer.from(await got.Body.transformToByteArray());
  for (const size of preset.sizes) {
    const h = preset.fit === "cover" ? size : undefined;
    const out = await sharp(buf).rotate()
      .resize({ width: size, height: h, fit: preset.fit, withoutEnlargement: true })
      .jpeg({ quality: 80 }).toBuffer();
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${base}/${size}/${file}`,
      Body: out, ContentType: "image/jpeg" }));
  }
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${base}/origin/${file}`,
    Body: buf, ContentType: got.ContentType || "image/jpeg" }));
  await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
}

function pump() {
  while (running < CONCURRENCY && queue.length > 0) {
    const key = queue.shift();
    running++;
    handle(key).then(() => { done++; }, (e) => {
      failed++;
      console.error(JSON.stringify({ error: String(e && e.message || e), key }));
    }).finally(() => {
      running--;
      pump();
      if (running === 0 && queue.length === 0 && onIdle) onIdle();
    });
  }
}

function accept(doc) {
  let queued = 0;
  for (const r of doc.Records || []) {
    const name = String(r.eventName || "").replace(/^s3:/, "");
    if (!name.startsWith("ObjectCreated:") || !r.s3 || !r.s3.object) continue;
    if (r.s3.bucket && r.s3.bucket.name !== BUCKET) continue;
    const key = recordKey(r);
    if (!key.startsWith("delete/")) continue;
    queue.push(key);
    queued++;
  }
  pump();
  return queued;
}

const server = http.createServer((req, res) => {
  const url = req.url.split("?")[0];
  if (url !== "/v1/events/s3" || (req.method !== "POST" && req.method !== "HEAD")) {
    res.writeHead(404).end();
    return;
  }
  if (req.method === "HEAD") {
    res.writeHead(200).end();
    return;
  }
  const chunks = [];
  let size = 0;
  req.on("data", (c) => {
    size += c.length;
    if (size <= MAX_BODY) chunks.push(c);
  });
  req.on("end", () => {
    if (draining) {
      res.writeHead(503, { "Retry-After": "5" }).end();
      return;
    }
    let doc;
    try {
      if (size > MAX_BODY) throw new Error("too large");
      doc = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch (e) {
      res.writeHead(400, { "Content-Type": "application/json" })
        .end(JSON.stringify({ error: { code: "bad_event", message: String(e.message) } }));
      return;
    }
    const queued = accept(doc);
    res.writeHead(202, { "Content-Type": "application/json" }).end(JSON.stringify({ queued }));
  });
});

server.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  console.log(JSON.stringify({ listening: server.address().port, concurrency: CONCURRENCY,
    sharp: sharp.versions.sharp, vips: sharp.versions.vips, node: process.versions.node }));
});

process.on("SIGTERM", () => {
  draining = true;
  server.close();
  const finish = () => {
    console.log(JSON.stringify({ done, failed }));
    process.exit(0);
  };
  if (running === 0 && queue.length === 0) finish();
  else onIdle = finish;
});
