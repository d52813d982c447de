// The AWS SDK for JavaScript v3 against the embedded store (run by test_store.py).
// Env: STORE_ENDPOINT, STORE_AK, STORE_SK, STORE_BUCKET. Prints one JSON line with what it saw.
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import {
  S3Client, PutObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command,
  DeleteObjectCommand,
} from "@aws-sdk/client-s3";

const s3 = new S3Client({
  endpoint: process.env.STORE_ENDPOINT,
  region: "us-east-1",
  forcePathStyle: true,
  credentials: { accessKeyId: process.env.STORE_AK, secretAccessKey: process.env.STORE_SK },
});
const Bucket = process.env.STORE_BUCKET;
const body = Buffer.alloc(300 * 1024);
for (let i = 0; i < body.length; i++) body[i] = (i * 7919) & 0xff;
const out = {};
const put = await s3.send(new PutObjectCommand({
  Bucket, Key: "js/dir/photo 1+2.bin", Body: body, ContentType: "image/webp",
  Metadata: { origin: "js-sdk" },
}));
out.putETag = put.ETag;
out.md5 = createHash("md5").update(body).digest("hex");
await s3.send(new PutObjectCommand({ Bucket, Key: "js/other.txt", Body: "hello" }));
const got = await s3.send(new GetObjectCommand({ Bucket, Key: "js/dir/photo 1+2.bin" }));
const bytes = Buffer.from(await got.Body.transformToByteArray());
out.getEqual = bytes.equals(body);
out.getContentType = got.ContentType;
out.getMetadata = got.Metadata;
const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "js/other.txt" }));
out.headLength = head.ContentLength;
const list = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: "js/", Delimiter: "/" }));
out.listKeys = (list.Contents || []).map((c) => c.Key);
out.listPrefixes = (list.CommonPrefixes || []).map((p) => p.Prefix);
const page1 = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: "js/", MaxKeys: 1 }));
const page2 = await s3.send(new ListObjectsV2Command({
  Bucket, Prefix: "js/", MaxKeys: 1, ContinuationToken: page1.NextContinuationToken,
}));
out.pages = [page1.Contents.map((c) => c.Key), page1.IsTruncated,
  page2.Contents.map((c) => c.Key), page2.IsTruncated];
// A stream body: the SDK sends it aws-chunked with a CRC32 trailer.
const streamed = Buffer.alloc(150 * 1024, 0x5a);
await s3.send(new PutObjectCommand({
  Bucket, Key: "js/stream/s.bin", Body: Readable.from([streamed.subarray(0, 70000),
    streamed.subarray(70000)]), ContentLength: streamed.length,
}));
const back = await s3.send(new GetObjectCommand({ Bucket, Key: "js/stream/s.bin" }));
out.streamEqual = Buffer.from(await back.Body.transformToByteArray()).equals(streamed);
await s3.send(new DeleteObjectCommand({ Bucket, Key: "js/stream/s.bin" }));
await s3.send(new DeleteObjectCommand({ Bucket, Key: "js/other.txt" }));
try {
  await s3.send(new HeadObjectCommand({ Bucket, Key: "js/other.txt" }));
  out.afterDelete = "still there";
} catch (e) {
  out.afterDelete = e.$metadata.httpStatusCode;
}
console.log(JSON.stringify(out));
