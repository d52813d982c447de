"""The embedded S3 store against the real binary: real clients (awscli, boto3, the AWS SDK for
JavaScript v3, curl with a presigned URL from POST /v1/uploads), S3's XML error codes for every
refusal, Range, CORS and ObjectCreated events."""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

from harness import require_bin
from storelib import (AK, BUCKET, REGION, SK, aws_chunked, presign, raw, s3_error,
                      sign_headers, start_store)

HERE = os.path.dirname(os.path.abspath(__file__))
AWS = "/usr/bin/aws"


def boto3_client(port=None, host=None, ak=AK, sk=SK):
    """boto3's S3 client, path-style, no retries: the store on `port`, or any S3 at `host`."""
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=f"http://{host or f'127.0.0.1:{port}'}",
                        aws_access_key_id=ak, aws_secret_access_key=sk, region_name=REGION,
                        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                                      retries={"max_attempts": 1}))


class StoreTest(unittest.TestCase):
    env = {}

    def setUp(self):
        require_bin(self)
        self.srv = start_store(self.env)
        self.host = f"127.0.0.1:{self.srv.store_port}"

    def tearDown(self):
        self.assertEqual(self.srv.stop(), 0)

    def put(self, key, body, headers=None, unsigned=None):
        path = "/" + BUCKET + "/" + urllib.parse.quote(key, safe="/~")
        h = sign_headers("PUT", self.host, path, AK, SK, body, headers, unsigned=unsigned)
        return raw("PUT", self.host, path, body, h)

    def get(self, key, headers=None, method="GET"):
        path = "/" + BUCKET + "/" + urllib.parse.quote(key, safe="/~")
        return raw(method, self.host, path, None, sign_headers(method, self.host, path, AK, SK,
                                                               headers=headers))

    def assertS3Error(self, resp, status, code):
        st, hdrs, body = resp
        self.assertEqual(st, status, body)
        got = s3_error(body)
        self.assertEqual(got[0], code, body)
        self.assertTrue(got[1])
        self.assertEqual(got[3], hdrs["x-amz-request-id"])
        self.assertEqual(hdrs["content-type"], "application/xml")


class Clients(StoreTest):
    def test_awscli_cp_up_and_down_and_list_objects_v2(self):
        if not os.access(AWS, os.X_OK):
            self.skipTest("Debian's awscli is not installed (scripts/packages/apt-test.txt)")
        work = tempfile.mkdtemp()
        try:
            src = os.path.join(work, "up.bin")
            data = os.urandom(3 * 1024 * 1024 + 17)
            with open(src, "wb") as f:
                f.write(data)
            env = {"PATH": "/usr/bin:/bin", "HOME": work, "AWS_ACCESS_KEY_ID": AK,
                   "AWS_SECRET_ACCESS_KEY": SK, "AWS_DEFAULT_REGION": REGION,
                   "AWS_EC2_METADATA_DISABLED": "true"}
            ep = ["--endpoint-url", f"http://{self.host}"]

            def aws(*args):
                p = subprocess.run([AWS, *ep, *args], env=env, capture_output=True, text=True,
                                   timeout=120)
                self.assertEqual(p.returncode, 0, p.stderr)
                return p.stdout
            aws("s3", "cp", src, f"s3://{BUCKET}/cli/dir/up load.bin")
            aws("s3", "cp", f"s3://{BUCKET}/cli/dir/up load.bin", os.path.join(work, "down.bin"))
            with open(os.path.join(work, "down.bin"), "rb") as f:
                self.assertEqual(f.read(), data)
            doc = json.loads(aws("s3api", "list-objects-v2", "--bucket", BUCKET, "--prefix",
                                 "cli/", "--delimiter", "/"))
            self.assertEqual([p["Prefix"] for p in doc["CommonPrefixes"]], ["cli/dir/"])
            doc = json.loads(aws("s3api", "list-objects-v2", "--bucket", BUCKET))
            self.assertEqual([(c["Key"], c["Size"]) for c in doc["Contents"]],
                             [("cli/dir/up load.bin", len(data))])
            self.assertEqual(doc["Contents"][0]["ETag"], '"%s"' % hashlib.md5(data).hexdigest())
        finally:
            shutil.rmtree(work)

    def test_boto3_put_get_head_list_delete(self):
        s3 = boto3_client(self.srv.store_port)
        body = os.urandom(200000)
        r = s3.put_object(Bucket=BUCKET, Key="b3/photo.jpeg", Body=body, ContentType="image/jpeg",
                          Metadata={"owner": "u42"}, CacheControl="no-cache")
        self.assertEqual(r["ETag"], '"%s"' % hashlib.md5(body).hexdigest())
        got = s3.get_object(Bucket=BUCKET, Key="b3/photo.jpeg")
        self.assertEqual(got["Body"].read(), body)
        self.assertEqual(got["ContentType"], "image/jpeg")
        self.assertEqual(got["Metadata"], {"owner": "u42"})
        self.assertEqual(got["CacheControl"], "no-cache")
        head = s3.head_object(Bucket=BUCKET, Key="b3/photo.jpeg")
        self.assertEqual(head["ContentLength"], len(body))
        for i in range(5):
            s3.put_object(Bucket=BUCKET, Key=f"b3/many/{i}", Body=b"x" * i)
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="b3/many/",
                                                             PaginationConfig={"PageSize": 2})
        keys = [c["Key"] for p in pages for c in p.get("Contents", [])]
        self.assertEqual(keys, [f"b3/many/{i}" for i in range(5)])
        s3.head_bucket(Bucket=BUCKET)
        s3.delete_object(Bucket=BUCKET, Key="b3/photo.jpeg")
        s3.delete_object(Bucket=BUCKET, Key="b3/photo.jpeg")  # idempotent
        with self.assertRaises(Exception) as cm:
            s3.get_object(Bucket=BUCKET, Key="b3/photo.jpeg")
        self.assertEqual(cm.exception.response["Error"]["Code"], "NoSuchKey")
        url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET,
                                                              "Key": "b3/many/4"})
        self.assertEqual(urllib.request.urlopen(url).read(), b"xxxx")

    def test_js_sdk_v3_put_get_list(self):
        node = shutil.which("node")
        if node is None or not os.path.isdir(os.path.join(HERE, "..", "node_modules",
                                                          "@aws-sdk", "client-s3")):
            self.skipTest("node or tests/node_modules/@aws-sdk/client-s3 missing "
                          "(npm install --prefix tests)")
        env = dict(os.environ, STORE_ENDPOINT=f"http://{self.host}", STORE_AK=AK, STORE_SK=SK,
                   STORE_BUCKET=BUCKET)
        p = subprocess.run([node, os.path.join(HERE, "store_js.mjs")], env=env,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertEqual(out["putETag"], '"%s"' % out["md5"])
        self.assertTrue(out["getEqual"])
        self.assertTrue(out["streamEqual"])
        self.assertEqual(out["getContentType"], "image/webp")
        self.assertEqual(out["getMetadata"], {"origin": "js-sdk"})
        self.assertEqual(out["headLength"], 5)
        self.assertEqual(out["listKeys"], ["js/other.txt"])
        self.assertEqual(out["listPrefixes"], ["js/dir/"])
        self.assertEqual(out["pages"], [["js/dir/photo 1+2.bin"], True, ["js/other.txt"], False])
        self.assertEqual(out["afterDelete"], 404)

    def test_curl_presigned_put_from_post_v1_uploads(self):
        if shutil.which("curl") is None:
            self.skipTest("curl is not installed")
        status, _, doc = self.srv.json("POST", "/v1/uploads", json.dumps(
            {"domain": "feed", "ids": {"feedId": "f1"}, "contentType": "image/png"}),
            {"Content-Type": "application/json"})
        self.assertEqual(status, 201, doc)
        self.assertTrue(doc["url"].startswith(f"http://{self.host}/{BUCKET}/delete/feed/f1/"))
        with tempfile.NamedTemporaryFile(suffix=".png") as f:
            data = os.urandom(123457)
            f.write(data)
            f.flush()
            args = ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-T", f.name]
            for k, v in doc["headers"].items():
                args += ["-H", f"{k}: {v}"]
            p = subprocess.run(args + [doc["url"]], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.stdout, "200", p.stderr)
        # the event pipeline takes the temp at once (random bytes: a failed record, temp
        # deleted), so the bytes are checked through the record's source: size, MD5 ETag, type
        done = self.srv.wait_for_log(lambda r: r.get("msg") == "record" and
                                     r.get("key") == doc["key"], timeout=30)
        self.assertEqual((done or {}).get("outcome"), "failed", done)
        st, _, rec = self.get(f"failed/feed/f1/{doc['uploadId']}.json")
        self.assertEqual(st, 200)
        src = json.loads(rec)["source"]
        self.assertEqual((src["size"], src["etag"], src["contentType"]),
                         (len(data), hashlib.md5(data).hexdigest(), "image/png"))
        ev = self.srv.wait_for_log(lambda r: r.get("msg") == "s3 event")
        self.assertIsNotNone(ev)
        self.assertEqual(ev["key"], doc["key"])  # no byte of this key needs encoding
        self.assertEqual(ev["eventName"], "ObjectCreated:Put")
        _, _, metrics = self.srv.request("GET", "/metrics")
        self.assertIn(b"imgsvc_store_events_total 1", metrics)


class Refusals(StoreTest):
    def test_authentication_refusals_are_s3_errors(self):
        path = f"/{BUCKET}/k"
        self.assertS3Error(raw("GET", self.host, path), 403, "AccessDenied")  # anonymous
        h = sign_headers("GET", self.host, path, "AKIAUNKNOWN000000000", SK)
        self.assertS3Error(raw("GET", self.host, path, None, h), 403, "InvalidAccessKeyId")
        h = sign_headers("GET", self.host, path, AK, "wrong-secret")
        self.assertS3Error(raw("GET", self.host, path, None, h), 403, "SignatureDoesNotMatch")
        self.assertS3Error(self.put("k", b"x", unsigned={"x-amz-meta-a": "1"}), 403,
                           "AccessDenied")
        import datetime
        old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=16)
        h = sign_headers("GET", self.host, path, AK, SK, when=old)
        self.assertS3Error(raw("GET", self.host, path, None, h), 403, "RequestTimeTooSkewed")
        h = sign_headers("PUT", self.host, path, AK, SK, b"body")
        self.assertS3Error(raw("PUT", self.host, path, b"other", h), 400,
                           "XAmzContentSHA256Mismatch")
        url = presign("GET", self.host, BUCKET, "k", AK, SK,
                      when=old - datetime.timedelta(hours=1), expires=60)
        self.assertS3Error(raw("GET", url), 403, "AccessDenied")  # expired
        url = presign("GET", self.host, BUCKET, "k", AK, SK, expires_text="604801")
        self.assertS3Error(raw("GET", url), 400, "AuthorizationQueryParametersError")
        # a presigned X-Amz-Date ahead of the store's clock: taken up to 15 minutes, as by AWS
        now = datetime.datetime.now(datetime.timezone.utc)
        url = presign("GET", self.host, BUCKET, "k", AK, SK,
                      when=now + datetime.timedelta(minutes=16))
        resp = raw("GET", url)
        self.assertS3Error(resp, 403, "AccessDenied")
        self.assertIn(b"Request is not valid yet", resp[2])
        self.assertEqual(self.put("ahead", b"x")[0], 200)
        url = presign("GET", self.host, BUCKET, "ahead", AK, SK,
                      when=now + datetime.timedelta(minutes=14))
        status, _, body = raw("GET", url)
        self.assertEqual((status, body), (200, b"x"))

    def test_key_bucket_and_body_refusals_are_s3_errors(self):
        self.assertS3Error(self.put("a/../b", b"x"), 400, "InvalidArgument")
        self.assertS3Error(self.put("a\\b", b"x"), 400, "InvalidArgument")
        self.assertS3Error(self.put("k" * 1025, b"x"), 400, "KeyTooLongError")
        self.assertEqual(self.put("k" * 1024, b"x")[0], 200)
        self.assertS3Error(self.get("missing"), 404, "NoSuchKey")
        path = "/otherbucket/k"
        h = sign_headers("GET", self.host, path, AK, SK)
        self.assertS3Error(raw("GET", self.host, path, None, h), 404, "NoSuchBucket")
        self.assertS3Error(self.put("m", b"hello", {"content-md5": "bad"}), 400, "InvalidDigest")
        wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
        self.assertS3Error(self.put("m", b"hello", {"content-md5": wrong}), 400, "BadDigest")
        right = base64.b64encode(hashlib.md5(b"hello").digest()).decode()
        self.assertEqual(self.put("m", b"hello", {"content-md5": right})[0], 200)
        ck = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
        self.assertS3Error(self.put("m", b"hello", {"x-amz-checksum-sha256": ck}), 400,
                           "BadDigest")
        self.assertS3Error(self.put("m", b"hello", {"x-amz-checksum-sha256": "nope"}), 400,
                           "InvalidRequest")
        ck = base64.b64encode(hashlib.sha256(b"hello").digest()).decode()
        st, hdrs, _ = self.put("m", b"hello", {"x-amz-checksum-sha256": ck})
        self.assertEqual((st, hdrs["x-amz-checksum-sha256"]), (200, ck))
        st, _, body = self.get("m")
        self.assertEqual((st, body), (200, b"hello"))  # refused PUTs changed nothing

    def test_oversized_object_is_entity_too_large(self):
        self.srv.stop()
        self.srv = start_store({"IMGSVC_STORE_MAX_OBJECT_BYTES": "1000"})
        self.host = f"127.0.0.1:{self.srv.store_port}"
        self.assertS3Error(self.put("big", b"x" * 1001), 400, "EntityTooLarge")
        self.assertEqual(self.put("big", b"x" * 1000)[0], 200)

    def test_unknown_route_and_method_are_s3_errors(self):
        path = f"/{BUCKET}"
        h = sign_headers("POST", self.host, path, AK, SK)
        self.assertS3Error(raw("POST", self.host, path, b"", h), 405, "MethodNotAllowed")


class Chunked(StoreTest):
    def chunked_put(self, key, body, mode, tamper=False, trailer=None):
        import datetime
        import zlib
        path = f"/{BUCKET}/{key}"
        when = datetime.datetime.now(datetime.timezone.utc)
        amz = when.strftime("%Y%m%dT%H%M%SZ")
        hdrs = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(body))}
        if trailer:
            hdrs["x-amz-trailer"] = "x-amz-checksum-crc32"
        h = sign_headers("PUT", self.host, path, AK, SK, headers=hdrs, when=when,
                         payload_hash=mode)
        seed = h["authorization"].rsplit("Signature=", 1)[1] if "HMAC" in mode else None
        if trailer == "right":
            crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
        else:
            crc = base64.b64encode(b"\0\0\0\0").decode()
        enc = aws_chunked(body, 65536, seed, SK, amz,
                          trailer=("x-amz-checksum-crc32", crc) if trailer else None)
        if tamper:
            enc = enc.replace(body[70000:70004], b"XXXX", 1)
        return raw("PUT", self.host, path, enc, h)

    def test_aws_chunked_signed_and_unsigned_trailer_bodies(self):
        body = os.urandom(200000)
        st, _, data = self.chunked_put("c/signed", body, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
        self.assertEqual(st, 200, data)
        self.assertEqual(self.get("c/signed")[2], body)
        self.assertS3Error(self.chunked_put("c/signed", os.urandom(100000),
                                            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", tamper=True),
                           403, "SignatureDoesNotMatch")
        st, _, data = self.chunked_put("c/trailer", body, "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                                       trailer="right")
        self.assertEqual(st, 200, data)
        st, hdrs, got = self.get("c/trailer")
        self.assertEqual(got, body)
        self.assertNotIn("content-encoding", hdrs)
        self.assertS3Error(self.chunked_put("c/trailer", body,
                                            "STREAMING-UNSIGNED-PAYLOAD-TRAILER", trailer="wrong"),
                           400, "BadDigest")
        self.assertEqual(self.get("c/signed")[2], body)  # refused PUTs changed nothing


class Ranges(StoreTest):
    def test_range_forms_and_invalid_range(self):
        body = bytes(range(100))
        self.assertEqual(self.put("r", body)[0], 200)
        cases = [("bytes=0-9", 206, body[0:10], "bytes 0-9/100"),
                 ("bytes=90-", 206, body[90:], "bytes 90-99/100"),
                 ("bytes=-5", 206, body[95:], "bytes 95-99/100"),
                 ("bytes=95-1000", 206, body[95:], "bytes 95-99/100"),
                 ("bytes=-500", 206, body, "bytes 0-99/100"),
                 ("bytes=0-1,5-6", 200, body, None),
                 ("items=0-1", 200, body, None)]
        for rng, status, want, cr in cases:
            st, hdrs, got = self.get("r", {"range": rng})
            self.assertEqual((st, got), (status, want), rng)
            self.assertEqual(hdrs.get("content-range"), cr, rng)
            self.assertEqual(hdrs["accept-ranges"], "bytes")
        st, hdrs, got = self.get("r", {"range": "bytes=100-"})
        self.assertS3Error((st, hdrs, got), 416, "InvalidRange")
        self.assertEqual(hdrs["content-range"], "bytes */100")
        st, hdrs, got = self.get("r", {"range": "bytes=10-19"}, method="HEAD")
        self.assertEqual((st, hdrs["content-length"], got), (206, "10", b""))
        st, hdrs, _ = self.get("r", method="HEAD")
        self.assertEqual((st, hdrs["content-length"]), (200, "100"))
        self.assertEqual(hdrs["etag"], '"%s"' % hashlib.md5(body).hexdigest())
        self.assertRegex(hdrs["last-modified"], r"^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$")


class Cors(StoreTest):
    env = {"IMGSVC_STORE_CORS_ORIGINS": "https://app.example.com,https://*.example.org"}

    def preflight(self, origin, method, headers=None):
        h = {"origin": origin, "access-control-request-method": method}
        if headers:
            h["access-control-request-headers"] = headers
        return raw("OPTIONS", self.host, f"/{BUCKET}/delete/x.jpeg", None, h)

    def test_preflight_and_response_headers(self):
        st, hdrs, _ = self.preflight("https://app.example.com", "PUT", "content-type,x-amz-date")
        self.assertEqual(st, 200)
        self.assertEqual(hdrs["access-control-allow-origin"], "https://app.example.com")
        self.assertIn("PUT", hdrs["access-control-allow-methods"])
        self.assertEqual(hdrs["access-control-allow-headers"], "content-type,x-amz-date")
        self.assertEqual(hdrs["access-control-max-age"], "3000")
        self.assertIn("ETag", hdrs["access-control-expose-headers"])
        self.assertIn("Origin", hdrs["vary"])
        st, hdrs, _ = self.preflight("https://cdn.example.org", "GET")
        self.assertEqual((st, hdrs["access-control-allow-origin"]),
                         (200, "https://cdn.example.org"))
        self.assertS3Error(self.preflight("https://evil.example.net", "PUT"), 403, "CORSResponse")
        self.assertS3Error(self.preflight("https://app.example.com", "PATCH"), 403,
                           "CORSResponse")
        self.assertS3Error(raw("OPTIONS", self.host, f"/{BUCKET}/k", None, {}), 400,
                           "BadRequest")
        # a browser's PUT to a presigned URL gets the headers too
        url = presign("PUT", self.host, BUCKET, "delete/x.jpeg", AK, SK,
                      headers={"content-type": "image/jpeg"})
        st, hdrs, _ = raw("PUT", url, body=b"jpeg", headers={
            "content-type": "image/jpeg", "origin": "https://app.example.com"})
        self.assertEqual(st, 200)
        self.assertEqual(hdrs["access-control-allow-origin"], "https://app.example.com")
        self.assertIn("access-control-expose-headers", hdrs)


class Events(StoreTest):
    def test_only_matching_puts_emit_events(self):
        self.assertEqual(self.put("variants/a.jpeg", b"v")[0], 200)
        self.assertEqual(self.put("delete/feed/f1/a b.jpeg", b"12345")[0], 200)
        ev = self.srv.wait_for_log(lambda r: r.get("msg") == "s3 event")
        self.assertIsNotNone(ev)
        self.assertEqual((ev["key"], ev["size"]), ("delete/feed/f1/a+b.jpeg", 5))
        events = [r for r in self.srv.logs() if r.get("msg") == "s3 event"]
        self.assertEqual(len(events), 1)


class Startup(unittest.TestCase):
    def setUp(self):
        require_bin(self)

    def test_dev_credentials_only_on_loopback(self):
        from harness import Server
        srv = Server(env={"IMGSVC_STORE_LISTEN_ADDR": "0.0.0.0"}, wait=False)
        self.assertEqual(srv.proc.wait(20), 2)
        srv.stop()
        self.assertIn("dev credentials are allowed only on loopback", "".join(srv.lines))
        dev = Server(env={})  # loopback and no keys: the documented dev pair, with a warning
        try:
            deadline = time.time() + 10
            while dev.store_port is None and time.time() < deadline:
                time.sleep(0.02)
            self.assertIsNotNone(dev.wait_for_log(
                lambda r: "documented dev credentials" in r.get("msg", "")))
            host = f"127.0.0.1:{dev.store_port}"
            h = sign_headers("HEAD", host, "/imgsvc", "imgsvc-dev", "imgsvc-dev-secret")
            self.assertEqual(raw("HEAD", host, "/imgsvc", None, h)[0], 200)
        finally:
            self.assertEqual(dev.stop(), 0)

    def test_port_in_use_stops_the_start(self):
        first = start_store()
        try:
            from harness import Server
            srv = Server(env=dict(STORE_ENV_PORT, IMGSVC_STORE_PORT=str(first.store_port)),
                         wait=False)
            self.assertEqual(srv.proc.wait(20), 1)
            srv.stop()
            self.assertIn("embedded S3 store", "".join(srv.lines))
        finally:
            self.assertEqual(first.stop(), 0)

    def test_no_store_with_an_s3_endpoint(self):
        srv = start_store({"IMGSVC_S3_ENDPOINT": "http://127.0.0.1:1"}, wait=False)
        try:
            srv._ready.wait(20)
            self.assertIsNotNone(srv.port)
            self.assertIsNone(srv.store_port)
            self.assertFalse(any('"server":"store"' in l for l in srv.lines))
        finally:
            self.assertEqual(srv.stop(), 0)


STORE_ENV_PORT = {"IMGSVC_STORE_ACCESS_KEY_ID": AK, "IMGSVC_STORE_SECRET_ACCESS_KEY": SK}


if __name__ == "__main__":
    unittest.main()
