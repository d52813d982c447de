"""POST /v1/uploads against a real S3 (Ceph RGW, started by the `rgw` fixture): the URL the API
hands out, used with curl exactly as a phone would, stores the file byte for byte; any tampering
(signature, key, expiry, content type, length, checksum header) and an expired URL are refused
by RGW itself. See ../shared/RGW.md and scripts/rgw.sh."""
# ctest-fixtures: rgw
import hashlib
import json
import os
import re
import subprocess
import tempfile
import unittest
import urllib.parse

from harness import Server, require_bin, run_cli

RGW = {"IMGSVC_S3_ENDPOINT": "http://127.0.0.1:7480", "IMGSVC_S3_BUCKET": "imgsvc-test",
       "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "IMGSVCTESTACCESSKEY0",
       "AWS_SECRET_ACCESS_KEY": "imgsvc-test-secret-key-0123456789abcdefgh"}


def curl(method, url, headers=None, data=None):
    """Runs curl; returns (status, body bytes)."""
    with tempfile.NamedTemporaryFile() as out:
        cmd = ["curl", "-sS", "-X", method, "-o", out.name, "-w", "%{http_code}", url]
        for k, v in (headers or {}).items():
            cmd += ["-H", f"{k}: {v}"]
        if data is not None:
            cmd += ["--data-binary", "@" + data]
        status = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
        with open(out.name, "rb") as f:
            return int(status), f.read()


def s3_code(body):
    m = re.search(rb"<Code>([^<]+)</Code>", body)
    return m.group(1).decode() if m else None


class UploadsRgw(unittest.TestCase):
    def setUp(self):
        require_bin(self)
        self.srv = Server(env=RGW)
        self.tmp = tempfile.TemporaryDirectory()
        self.photo = os.path.join(self.tmp.name, "photo.jpg")
        with open(self.photo, "wb") as f:
            f.write(b"\xff\xd8\xff\xe0" + os.urandom(200000))

    def tearDown(self):
        self.tmp.cleanup()
        self.assertEqual(self.srv.stop(), 0)

    def presign(self, **extra):
        body = {"domain": "feed", "ids": {"feedId": "rgw-1"}, "contentType": "image/jpeg"}
        body.update(extra)
        status, _, doc = self.srv.json("POST", "/v1/uploads", body=json.dumps(body),
                                       headers={"Content-Type": "application/json"})
        self.assertEqual(status, 201, doc)
        return doc

    def get(self, key):
        rc, out, err = run_cli("presign", "--method", "GET", "--key", key, env=RGW)
        self.assertEqual(rc, 0, err)
        return curl("GET", out.strip())

    def test_put_with_the_returned_url_and_headers_stores_the_bytes(self):
        doc = self.presign()
        status, body = curl("PUT", doc["url"], doc["headers"], self.photo)
        self.assertEqual(status, 200, body)
        status, got = self.get(doc["key"])
        self.assertEqual(status, 200)
        with open(self.photo, "rb") as f:
            self.assertEqual(hashlib.sha256(got).hexdigest(), hashlib.sha256(f.read()).hexdigest())

    def test_declared_length_and_checksum_are_enforced(self):
        with open(self.photo, "rb") as f:
            data = f.read()
        import base64
        ck = base64.b64encode(hashlib.sha256(data).digest()).decode()
        doc = self.presign(contentLength=len(data), checksumSha256=ck)
        status, body = curl("PUT", doc["url"], doc["headers"], self.photo)
        self.assertEqual(status, 200, body)
        # the same URL with another length or another checksum header: the signature breaks
        other = dict(doc["headers"], **{"Content-Length": str(len(data) - 1)})
        short = os.path.join(self.tmp.name, "short.jpg")
        with open(short, "wb") as f:
            f.write(data[:-1])
        status, body = curl("PUT", doc["url"], other, short)
        self.assertEqual((status, s3_code(body)), (403, "SignatureDoesNotMatch"))
        bad_ck = base64.b64encode(hashlib.sha256(b"x").digest()).decode()
        status, body = curl("PUT", doc["url"], dict(doc["headers"],
                                                    **{"x-amz-checksum-sha256": bad_ck}),
                            self.photo)
        self.assertEqual((status, s3_code(body)), (403, "SignatureDoesNotMatch"))

    def test_tampered_urls_are_refused_by_rgw(self):
        doc = self.presign()
        url = doc["url"]
        u = urllib.parse.urlsplit(url)
        q = urllib.parse.parse_qs(u.query)
        sig = q["X-Amz-Signature"][0]
        flipped = sig[:-1] + ("0" if sig[-1] != "0" else "1")
        other_key = u.path.replace(".jpeg", "x.jpeg")
        cases = {
            "signature": url.replace(sig, flipped),
            "key": urllib.parse.urlunsplit(u._replace(path=other_key)),
            "expiry": url.replace("X-Amz-Expires=600", "X-Amz-Expires=900"),
        }
        for name, bad in cases.items():
            status, body = curl("PUT", bad, doc["headers"], self.photo)
            self.assertEqual((status, s3_code(body)), (403, "SignatureDoesNotMatch"), name)
        status, body = curl("PUT", url, {"Content-Type": "image/png"}, self.photo)
        self.assertEqual((status, s3_code(body)), (403, "SignatureDoesNotMatch"), "content type")
        status, _ = self.get(doc["key"])
        self.assertEqual(status, 404, "a refused PUT must store nothing")

    def test_readyz_checks_the_bucket(self):
        status, _, doc = self.srv.json("GET", "/readyz")
        self.assertEqual((status, doc["checks"]["s3"]), (200, "ok"))

    def test_session_token_credentials_work_and_bound_the_expiry(self):
        import boto3  # Debian python3-boto3
        # scripts/rgw.sh runs a second gateway with STS on (port + 1) on the same cluster
        sts_endpoint = "http://127.0.0.1:7481"
        sts = boto3.client("sts", endpoint_url=sts_endpoint, region_name="us-east-1",
                           aws_access_key_id=RGW["AWS_ACCESS_KEY_ID"],
                           aws_secret_access_key=RGW["AWS_SECRET_ACCESS_KEY"])
        c = sts.assume_role(RoleArn="arn:aws:iam:::role/imgsvc-test-role",
                            RoleSessionName="imgsvc-test", DurationSeconds=900)["Credentials"]
        env = dict(RGW, IMGSVC_S3_ENDPOINT=sts_endpoint, AWS_ACCESS_KEY_ID=c["AccessKeyId"], AWS_SECRET_ACCESS_KEY=c["SecretAccessKey"],
                   AWS_SESSION_TOKEN=c["SessionToken"],
                   AWS_CREDENTIAL_EXPIRATION=c["Expiration"].strftime("%Y-%m-%dT%H:%M:%SZ"))
        srv = Server(env=env)
        try:
            status, _, doc = srv.json("POST", "/v1/uploads", body=json.dumps(
                {"domain": "profile", "ids": {"userId": "sts"}, "contentType": "image/jpeg"}),
                headers={"Content-Type": "application/json"})
        finally:
            self.assertEqual(srv.stop(), 0)
        self.assertEqual(status, 201, doc)
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(doc["url"]).query))
        self.assertEqual(q["X-Amz-Security-Token"], c["SessionToken"])
        self.assertLessEqual(int(q["X-Amz-Expires"]), 900)
        self.assertNotIn(c["SessionToken"], "".join(srv.lines))
        self.assertTrue(doc["url"].startswith(sts_endpoint + "/imgsvc-test/"))
        status, body = curl("PUT", doc["url"], doc["headers"], self.photo)
        self.assertEqual(status, 200, body)
        status, got = self.get(doc["key"])  # through the main gateway, long-term keys
        with open(self.photo, "rb") as f:
            self.assertEqual((status, got), (200, f.read()))
        # the same URL without its token is refused
        no_token = re.sub(r"&X-Amz-Security-Token=[^&]*", "", doc["url"])
        status, body = curl("PUT", no_token, doc["headers"], self.photo)
        self.assertEqual(status, 403)

    def test_expired_url_is_refused(self):
        rc, out, err = run_cli("presign", "--method", "PUT", "--key", "delete/feed/x/old.jpeg",
                               "--content-type", "image/jpeg", "--at", "20200101T000000Z",
                               "--expires", "60", env=RGW)
        self.assertEqual(rc, 0, err)
        status, body = curl("PUT", out.strip(), {"Content-Type": "image/jpeg"}, self.photo)
        self.assertEqual(status, 403)
        self.assertEqual(s3_code(body), "AccessDenied")


if __name__ == "__main__":
    unittest.main()
