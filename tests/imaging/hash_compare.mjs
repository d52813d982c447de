// hash_compare.mjs: checks imaging/'s BlurHash and ThumbHash against the npm reference
// encoders (`blurhash`, `thumbhash`, pinned in tests/package.json) on the same pixels.
//
// Usage: node hash_compare.mjs CASES.json
// CASES.json: [{"rgba": "path.rgba", "width": W, "height": H, "blurhash": "...",
//               "thumbhash": "base64"}, ...] as printed by `img_tool hashpixels`.
// Prints one JSON object per case with the reference strings, whether they match exactly,
// and, when they differ, the largest per-channel difference of the decoded placeholders
// (the documented tolerance in test_corpus.py). Exit status 0 when it ran.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'package.json'));
const blurhash = require('blurhash');
const thumbhash = await import(require.resolve('thumbhash'));

function maxDiff(a, b) {
  let m = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return a.length === b.length ? m : 255;
}

const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
for (const c of cases) {
  const rgba = new Uint8ClampedArray(readFileSync(c.rgba));
  const bh = blurhash.encode(rgba, c.width, c.height, 4, 3);
  const th = Buffer.from(thumbhash.rgbaToThumbHash(c.width, c.height, rgba)).toString('base64');
  const out = { rgba: c.rgba, blurhash: bh, thumbhash: th,
                blurhashSame: bh === c.blurhash, thumbhashSame: th === c.thumbhash };
  if (!out.blurhashSame && blurhash.isBlurhashValid(c.blurhash).result)
    out.blurhashMaxDiff = maxDiff(blurhash.decode(bh, 32, 32), blurhash.decode(c.blurhash, 32, 32));
  if (!out.thumbhashSame) {
    try {
      const ours = thumbhash.thumbHashToRGBA(Buffer.from(c.thumbhash, 'base64'));
      const ref = thumbhash.thumbHashToRGBA(Buffer.from(th, 'base64'));
      out.thumbhashMaxDiff = maxDiff(ours.rgba, ref.rgba);
    } catch (e) {
      out.thumbhashMaxDiff = 255;
    }
  }
  console.log(JSON.stringify(out));
}
