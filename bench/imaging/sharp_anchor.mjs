// sharp_anchor.mjs: the seed's way, for bench/imaging — Node + sharp on the same workload.
// For each photo and each width: sharp(buf).rotate().resize({width}).jpeg({quality:80}).toBuffer()
// (three decodes per photo, as the seed's Lambda did). INFLIGHT photos are processed at once.
// Usage: node sharp_anchor.mjs DIR INFLIGHT ROUNDS   -> one JSON line like bench_imaging's.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(path.join(path.dirname(fileURLToPath(import.meta.url)), 'package.json'));
const sharp = require('sharp');
sharp.cache(false);

const [dir, inflightArg, roundsArg] = process.argv.slice(2);
const inflight = Number(inflightArg), rounds = Number(roundsArg);
const photos = readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort()
  .map((f) => readFileSync(path.join(dir, f)));

async function one(buf) {
  for (const width of [1080, 640, 320])
    await sharp(buf).rotate().resize({ width }).jpeg({ quality: 80 }).toBuffer();
}

async function pass(total) {
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const j = next++;
      await one(photos[j % photos.length]);
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
}

await pass(photos.length); // warm-up, untimed
const total = photos.length * rounds;
const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
await pass(total);
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
const cpu = process.cpuUsage(c0); // microseconds, every thread of the process (libuv pool too)
console.log(JSON.stringify({ mode: 'sharp', inflight, images: total, seconds: +secs.toFixed(3),
  images_per_s: +(total / secs).toFixed(2),
  cpu_ms_per_image: +((cpu.user + cpu.system) / 1000 / total).toFixed(1), sharp: sharp.versions.sharp, vips: sharp.versions.vips }));
