"""POST /v1/uploads against the real binary: answer shape, every refusal code, authentication
(API keys, HS256 JWTs made here with the standard library, owner rule) and expiry bounds.
The upload itself against a real S3 is in test_uploads_rgw.py."""
import base64
import datetime
import hashlib
import hmac
import json
import re
import time
import unittest
import urllib.parse

from harness import Server, require_bin

# An external S3 endpoint: the AWS credentials sign (without one, the embedded store's keys do;
# see test_store.py).
CREDS = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG",
         "IMGSVC_S3_ENDPOINT": "https://s3.example.test"}
API_KEY = "k" * 20 + "-internal"
HS_SECRET = "s" * 40


def jwt_hs256(claims, secret=HS_SECRET):
    def b64(d):
        return base64.urlsafe_b64encode(d).rstrip(b"=").decode()
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def post(srv, doc, headers=None):
    body = doc if isinstance(doc, (bytes, str)) else json.dumps(doc)
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    return srv.json("POST", "/v1/uploads", body=body, headers=h)


class Uploads(unittest.TestCase):
    def setUp(self):
        require_bin(self)
        self.srv = Server(env=dict(CREDS, IMGSVC_PUBLIC_ENDPOINT="https://s3.example.test",
                                   IMGSVC_S3_BUCKET="photos", IMGSVC_MAX_UPLOAD_BYTES="1000000"))

    def tearDown(self):
        self.assertEqual(self.srv.stop(), 0)

    def test_answer_has_every_key_and_a_presigned_put(self):
        status, _, doc = post(self.srv, {"domain": "chat_profile",
                                         "ids": {"chatroomId": "room-1", "userId": "u_42"},
                                         "contentType": "image/jpeg"})
        self.assertEqual(status, 201)
        up = doc["uploadId"]
        self.assertRegex(up, r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                             r"[0-9a-f]{12}_\d{10}$")
        self.assertEqual(doc["key"], f"delete/chatroom/room-1/chat_profile/u_42/{up}.jpeg")
        self.assertEqual(doc["method"], "PUT")
        self.assertEqual(doc["headers"], {"Content-Type": "image/jpeg"})
        self.assertEqual(doc["variants"]["origin"],
                         f"chatroom/room-1/chat_profile/u_42/origin/{up}.jpeg")
        self.assertEqual(doc["manifest"], f"chatroom/room-1/chat_profile/u_42/manifest/{up}.json")
        for name, key in doc["variants"].items():
            if name != "origin":
                self.assertEqual(key, f"chatroom/room-1/chat_profile/u_42/{name}/{up}.jpeg")
        self.assertGreaterEqual(len(doc["variants"]), 2)
        u = urllib.parse.urlsplit(doc["url"])
        self.assertEqual((u.scheme, u.netloc), ("https", "s3.example.test"))
        self.assertEqual(u.path, "/photos/" + doc["key"])
        q = dict(urllib.parse.parse_qsl(u.query))
        self.assertEqual(q["X-Amz-Algorithm"], "AWS4-HMAC-SHA256")
        self.assertEqual(q["X-Amz-Expires"], "600")
        self.assertEqual(q["X-Amz-SignedHeaders"], "content-type;host")
        self.assertRegex(q["X-Amz-Credential"], r"^AKIDEXAMPLE/\d{8}/us-east-1/s3/aws4_request$")
        self.assertRegex(q["X-Amz-Signature"], r"^[0-9a-f]{64}$")
        exp = datetime.datetime.strptime(doc["expiresAt"], "%Y-%m-%dT%H:%M:%SZ")
        signed = datetime.datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
        self.assertEqual((exp - signed).total_seconds(), 600)

    def test_length_and_checksum_become_signed_headers(self):
        ck = base64.b64encode(hashlib.sha256(b"photo").digest()).decode()
        status, _, doc = post(self.srv, {"domain": "feed", "ids": {"feedId": "f1"},
                                         "contentType": "image/png", "contentLength": 5,
                                         "checksumSha256": ck})
        self.assertEqual(status, 201)
        self.assertEqual(doc["headers"], {"Content-Type": "image/png", "Content-Length": "5",
                                          "x-amz-checksum-sha256": ck})
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(doc["url"]).query))
        self.assertEqual(q["X-Amz-SignedHeaders"],
                         "content-length;content-type;host;x-amz-checksum-sha256")
        self.assertTrue(doc["key"].endswith(".png"))

    def test_refusals_have_specific_codes(self):
        good = {"domain": "profile", "ids": {"userId": "42"}, "contentType": "image/jpeg"}
        cases = [
            (b"{not json", "malformed_json"),
            (b"[1,2]", "malformed_json"),
            (b"", "malformed_json"),
            # a member twice: readers disagree on which one counts, so neither does
            (b'{"domain":"profile","domain":"feed","ids":{"userId":"42"},'
             b'"contentType":"image/jpeg"}', "malformed_json"),
            (b'{"domain":"profile","ids":{"userId":"42","userId":"43"},'
             b'"contentType":"image/jpeg"}', "malformed_json"),
            (dict(good, domain="album"), "unknown_domain"),
            ({k: v for k, v in good.items() if k != "domain"}, "unknown_domain"),
            (dict(good, ids={}), "bad_ids"),
            (dict(good, ids={"userId": "../etc"}), "bad_ids"),
            (dict(good, ids={"userId": "a" * 65}), "bad_ids"),
            (dict(good, ids={"userId": 42}), "bad_ids"),
            (dict(good, ids={"userId": "1", "feedId": "2"}), "bad_ids"),
            (dict(good, ids={"feedId": "2"}), "bad_ids"),
            (dict(good, contentType="image/svg+xml"), "unsupported_content_type"),
            (dict(good, contentType="image/jpg"), "unsupported_content_type"),
            ({k: v for k, v in good.items() if k != "contentType"}, "unsupported_content_type"),
            (dict(good, contentLength=1000001), "content_length_too_large"),
            (dict(good, contentLength=0), "bad_content_length"),
            (dict(good, contentLength="12"), "bad_content_length"),
            (dict(good, contentLength=1.5), "bad_content_length"),
            (dict(good, checksumSha256="abc"), "bad_checksum"),
            (dict(good, checksumSha256=base64.b64encode(b"x" * 31).decode()), "bad_checksum"),
            (dict(good, checksumSha256="!" * 43 + "="), "bad_checksum"),
        ]
        for body, code in cases:
            status, hdrs, doc = post(self.srv, body)
            self.assertEqual((status, doc["error"]["code"]), (400, code), body)
            self.assertTrue(doc["error"]["message"])
            self.assertEqual(doc["error"]["requestId"], hdrs["x-request-id"])
            if isinstance(body, bytes) and b'"42","userId"' in body:
                self.assertIn('member "userId" more than once', doc["error"]["message"])

    def test_oversized_body_is_413(self):
        status, _, doc = post(self.srv, b"{" + b" " * 70000 + b"}")
        self.assertEqual((status, doc["error"]["code"]), (413, "payload_too_large"))


class UploadsAuth(unittest.TestCase):
    def setUp(self):
        require_bin(self)
        self.srv = Server(env=dict(CREDS, IMGSVC_API_KEYS=API_KEY, IMGSVC_JWT_HS256_SECRET=HS_SECRET,
                                   IMGSVC_JWT_ISSUER="https://auth.example", IMGSVC_JWT_AUDIENCE="imgsvc"))
        self.body = {"domain": "profile", "ids": {"userId": "42"}, "contentType": "image/jpeg"}

    def tearDown(self):
        self.assertEqual(self.srv.stop(), 0)
        self.assertNotIn(HS_SECRET, "".join(self.srv.lines))
        self.assertNotIn(API_KEY, "".join(self.srv.lines))

    def claims(self, **kw):
        now = int(time.time())
        c = {"sub": "42", "iss": "https://auth.example", "aud": "imgsvc", "exp": now + 300,
             "iat": now}
        c.update(kw)
        return c

    def test_api_key_in_either_header(self):
        self.assertEqual(post(self.srv, self.body, {"X-Api-Key": API_KEY})[0], 201)
        self.assertEqual(post(self.srv, self.body, {"Authorization": "Bearer " + API_KEY})[0], 201)

    def test_jwt_owner_may_upload_to_own_profile_only(self):
        tok = jwt_hs256(self.claims())
        self.assertEqual(post(self.srv, self.body, {"Authorization": "Bearer " + tok})[0], 201)
        other = dict(self.body, ids={"userId": "43"})
        status, _, doc = post(self.srv, other, {"Authorization": "Bearer " + tok})
        self.assertEqual((status, doc["error"]["code"]), (403, "forbidden"))
        self.assertTrue(doc["error"]["message"].startswith("subject_mismatch"))
        feed = {"domain": "feed", "ids": {"feedId": "f"}, "contentType": "image/jpeg"}
        self.assertEqual(post(self.srv, feed, {"Authorization": "Bearer " + tok})[0], 201)

    def test_refused_credentials(self):
        now = int(time.time())
        cases = [
            ({}, "missing_credentials"),
            ({"X-Api-Key": "wrong-key-0123456789"}, "invalid_api_key"),
            ({"Authorization": "Bearer " + jwt_hs256(self.claims(exp=now - 120))},
             "token_expired"),
            ({"Authorization": "Bearer " + jwt_hs256(self.claims(nbf=now + 600))},
             "token_not_yet_valid"),
            ({"Authorization": "Bearer " + jwt_hs256(self.claims(), "t" * 40)}, "bad_signature"),
            ({"Authorization": "Bearer " + jwt_hs256(self.claims(iss="https://evil"))},
             "bad_issuer"),
            ({"Authorization": "Bearer " + jwt_hs256(self.claims(aud="other"))}, "bad_audience"),
            ({"Authorization": "Basic dXNlcjpwYXNz"}, "bad_authorization"),
        ]
        for headers, reason in cases:
            status, hdrs, doc = post(self.srv, self.body, headers)
            self.assertEqual((status, doc["error"]["code"]), (401, "unauthenticated"), reason)
            self.assertTrue(doc["error"]["message"].startswith(reason), doc["error"]["message"])
            self.assertTrue(hdrs["www-authenticate"].startswith('Bearer realm="imgsvc"'))

    def test_health_needs_no_credentials(self):
        self.assertEqual(self.srv.request("GET", "/healthz")[0], 200)


class UploadsStartup(unittest.TestCase):
    def setUp(self):
        require_bin(self)

    def test_auth_off_is_refused_off_loopback(self):
        srv = Server(env={"IMGSVC_LISTEN_ADDR": "0.0.0.0"}, wait=False)
        self.assertEqual(srv.proc.wait(20), 2)
        srv._reader.join(5)
        self.assertIn("authentication is off", "".join(srv.lines))

    def test_auth_off_on_loopback_is_announced(self):
        srv = Server()
        self.assertEqual(srv.stop(), 0)
        self.assertTrue([r for r in srv.logs() if r["level"] == "warn"
                         and "AUTHENTICATION IS OFF" in r["msg"]])

    def test_expiry_is_bounded_by_the_credentials(self):
        soon = datetime.datetime.utcfromtimestamp(time.time() + 120).strftime("%Y-%m-%dT%H:%M:%SZ")
        srv = Server(env=dict(CREDS, AWS_CREDENTIAL_EXPIRATION=soon))
        status, _, doc = post(srv, {"domain": "feed", "ids": {"feedId": "1"},
                                    "contentType": "image/webp"})
        self.assertEqual(status, 201)
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(doc["url"]).query))
        self.assertLessEqual(int(q["X-Amz-Expires"]), 120)
        self.assertGreaterEqual(int(q["X-Amz-Expires"]), 100)
        self.assertEqual(srv.stop(), 0)

    def test_without_credentials_presign_is_503(self):
        srv = Server(env={"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                          "IMGSVC_S3_ENDPOINT": "https://s3.example.test"})
        status, _, doc = post(srv, {"domain": "feed", "ids": {"feedId": "1"},
                                    "contentType": "image/webp"})
        self.assertEqual((status, doc["error"]["code"]), (503, "storage_not_configured"))
        self.assertEqual(srv.stop(), 0)

    def test_readyz_reports_an_unreachable_s3(self):
        srv = Server(env=dict(CREDS, IMGSVC_S3_ENDPOINT="http://127.0.0.1:9"))
        status, _, doc = srv.json("GET", "/readyz")
        self.assertEqual((status, doc["status"]), (503, "not_ready"))
        self.assertIn("not reachable", doc["checks"]["s3"])
        self.assertEqual(doc["checks"]["shutdown"], "ok")
        self.assertEqual(srv.stop(), 0)

    def test_bad_expiry_setting_is_refused(self):
        srv = Server(env={"IMGSVC_PRESIGN_EXPIRES_S": "604801"}, wait=False)
        self.assertEqual(srv.proc.wait(20), 2)
        self.assertIn("IMGSVC_PRESIGN_EXPIRES_S=604801 is invalid: expected an integer from 1 "
                      "to 604800", srv.proc.stderr.read() + "".join(srv.lines))


if __name__ == "__main__":
    unittest.main()
