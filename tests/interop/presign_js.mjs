// presign_js.mjs: the AWS SDK for JavaScript v3 side of the presign interop test.
//
//   node presign_js.mjs --endpoint URL --region R --bucket B --access-key AK --secret SK
//                       [--token T] [--style path|virtual] < lines
//
// Reads the same tab-separated lines as presign_tool.c (METHOD, KEY, CONTENT-TYPE or "-",
// EXPIRES, TIME as YYYYMMDDTHHMMSSZ) and prints one URL per line from getSignedUrl().
// Chosen so that the SDK's output is well defined (see tests/interop/README.md):
//   - requestChecksumCalculation / responseChecksumValidation "WHEN_REQUIRED": no flexible
//     checksum parameters (x-amz-checksum-*, x-amz-checksum-mode) in the URL;
//   - content-type made signable (the presigner leaves it unsigned by default);
//   - the time given by signingDate.
import { S3Client, PutObjectCommand, GetObjectCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { createInterface } from "node:readline";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, v, i, a) => (i % 2 ? acc : [...acc, [a[i], a[i + 1]]]), []));
const client = new S3Client({
  region: args["--region"],
  endpoint: args["--endpoint"],
  forcePathStyle: (args["--style"] || "path") === "path",
  credentials: {
    accessKeyId: args["--access-key"],
    secretAccessKey: args["--secret"],
    ...(args["--token"] ? { sessionToken: args["--token"] } : {}),
  },
  requestChecksumCalculation: "WHEN_REQUIRED",
  responseChecksumValidation: "WHEN_REQUIRED",
});

function parseAmz(t) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(t);
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

const out = [];
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  const [method, key, contentType, expires, time] = line.split("\t");
  const input = { Bucket: args["--bucket"], Key: key };
  const signable = new Set();
  if (contentType !== "-") {
    input.ContentType = contentType;
    signable.add("content-type");
  }
  const cmd = method === "PUT" ? new PutObjectCommand(input) : new GetObjectCommand(input);
  try {
    out.push(await getSignedUrl(client, cmd, {
      expiresIn: Number(expires), signingDate: parseAmz(time), signableHeaders: signable }));
  } catch (e) {
    out.push(`ERROR ${e.message}`);
  }
}
process.stdout.write(out.map((u) => u + "\n").join(""));
