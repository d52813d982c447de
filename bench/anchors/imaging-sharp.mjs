// imaging-sharp.mjs: the Node.js anchor for bench/imaging — the seed's Lambda's way of making
// the feed sizes, with sharp, so that imgsvc's imaging numbers have something to be compared with.
//
//   node bench/anchors/imaging-sharp.mjs [-j INFLIGHT] [-p PASSES] [-w PASSES] [-c THREADS] DIR
//
// For every *.jpg in DIR (the corpus's photos/) and each width 1080, 640, 320, one after the
// other as the seed did:
//   sharp(buf).rotate().resize({ width }).jpeg({ quality: 80 }).toBuffer()
// i.e. one decode per width (sharp's own shrink-on-load), EXIF rotation, metadata not kept
// (sharp's default). Each output is checked (JPEG, the asked width) or the script fails.
// INFLIGHT photos are processed at once (default 1): that many async workers each take the next
// photo; sharp runs each pipeline on libuv's thread pool (UV_THREADPOOL_SIZE, default 4, so up
// to 4 in flight really run in parallel). PASSES passes over DIR are timed (default 2) after -w
// untimed warm-up passes (default 1, one in flight).
//
// Settings, matching bench/imaging/imaging_bench.c:
//   sharp.concurrency(THREADS)  libvips threads per image (-c, default 1: imgsvc's
//                               IMGSVC_VIPS_CONCURRENCY default, and sharp's own default on
//                               glibc Linux); parallelism comes from the images in flight
//   sharp.cache(false)          no libvips operation cache: the same bytes are processed again on
//                               every pass, which a real upload never is (imgsvc runs with
//                               the cache off too)
// Prints one JSON line shaped like imaging_bench's:
//   {"tool":"sharp","mode":"sharp","inflight":..,"vips_concurrency":..,"images":..,"seconds":..,
//    "images_per_s":..,"cpu_seconds":..,"images_per_cpu_s":..,"output_bytes":..,"vips":..,
//    "sharp":..,"node":..}
// cpu_seconds is process.cpuUsage() (every thread of the process: libuv's pool, V8, GC).
//
// sharp is the version tests/package.json pins (installed in tests/node_modules by
// `npm ci --prefix tests`; its prebuilt libvips comes as the npm package
// @img/sharp-libvips-linux-x64); IMGSVC_NPM_PREFIX names another folder holding a node_modules.
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const prefix = process.env.IMGSVC_NPM_PREFIX || path.join(here, "..", "..", "tests");
const require = createRequire(path.join(prefix, "package.json"));
const sharp = require("sharp");

const WIDTHS = [1080, 640, 320];

function usage() {
  console.error("usage: imaging-sharp.mjs [-j INFLIGHT] [-p PASSES] [-w PASSES] [-c THREADS] DIR");
  process.exit(2);
}

function parseArgs(argv) {
  const o = { inflight: 1, passes: 2, warmup: 1, concurrency: 1, dir: null };
  const bounds = { "-j": ["inflight", 1, 16], "-p": ["passes", 1, 1000], "-w": ["warmup", 0, 100],
    "-c": ["concurrency", 0, 64] };
  for (let i = 0; i < argv.length; i++) {
    const b = bounds[argv[i]];
    if (b) {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < b[1] || v > b[2]) usage();
      o[b[0]] = v;
    } else if (o.dir === null && !argv[i].startsWith("-")) {
      o.dir = argv[i];
    } else {
      usage();
    }
  }
  if (o.dir === null) usage();
  return o;
}

// The seed's three calls for one photo; returns the bytes written.
async function one(photo) {
  let bytes = 0;
  for (const width of WIDTHS) {
    const { data, info } = await sharp(photo.data).rotate().resize({ width })
      .jpeg({ quality: 80 }).toBuffer({ resolveWithObject: true });
    if (info.format !== "jpeg" || info.width !== width || data[0] !== 0xff || data[1] !== 0xd8)
      throw new Error(`${photo.name}: unexpected output ${info.format} ${info.width}x${info.height}`);
    bytes += data.length;
  }
  return bytes;
}

// Processes `total` photos (in turn) with `inflight` workers; returns the bytes written.
async function runImages(photos, total, inflight) {
  let next = 0;
  let bytes = 0;
  const worker = async () => {
    for (let j = next++; j < total; j = next++) {
      const b = await one(photos[j % photos.length]); // not `bytes += await`: a lost update
      bytes += b;
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  return bytes;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  sharp.concurrency(o.concurrency);
  sharp.cache(false);
  const photos = readdirSync(o.dir).filter((f) => f.endsWith(".jpg")).sort()
    .map((name) => ({ name, data: readFileSync(path.join(o.dir, name)) }));
  if (photos.length === 0) throw new Error(`no *.jpg in ${o.dir}`);
  if (o.warmup > 0) await runImages(photos, photos.length * o.warmup, 1);
  const total = photos.length * o.passes;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const bytes = await runImages(photos, total, o.inflight);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  const r3 = (x) => Math.round(x * 1000) / 1000;
  console.log(JSON.stringify({
    tool: "sharp", mode: "sharp", inflight: o.inflight, vips_concurrency: sharp.concurrency(),
    photos: photos.length, images: total, seconds: r3(secs), images_per_s: r3(total / secs),
    cpu_seconds: r3(cpuSecs), images_per_cpu_s: r3(cpuSecs > 0 ? total / cpuSecs : 0),
    output_bytes: bytes, vips: sharp.versions.vips, sharp: sharp.versions.sharp,
    node: process.versions.node,
  }));
}

main().catch((err) => {
  console.error(`imaging-sharp.mjs: ${err.message}`);
  process.exit(1);
});
