# ctest-fixtures: imaging_corpus
"""The abuse matrix (issue 9): every hostile request of the issue's list in one table, each row
its own test, sent to a running `imgsvc serve` on the embedded store.

ROWS below is the matrix. A row is a list of probes (one abusive request each) with the exact
answer expected: the API's status and JSON `error.code` (and the reason its message starts with),
the store's status and S3 XML `Code`, the `failed` status and code of a hostile upload, `closed`
for a slow client cut off, or the exit status and message of a refused start. Every test method
is one line naming its row; Matrix.row() runs it and then checks "nothing written":

- the store's bucket, listed through its own S3 API (ListObjectsV2, the test's credentials),
  is the same before and after the probes, except for what the row's probes declare (a hostile
  upload leaves exactly its failed record: the temp deleted, no variant, origin or manifest);
- a temp object seeded under delete/ before the probes (the store emits no event for it here,
  IMGSVC_STORE_EVENT_PREFIX=none/) is still there, untouched, and nothing reached the pipeline
  (events received, pipeline records and store events all 0); webhook and SNS rows then send
  the same record with valid credentials and see it queued, so the refusal is what kept it out.

API answers go through harness.Server.request, so each is also checked against openapi.yaml;
answers read from raw sockets are checked with harness.contract() directly. Helpers come from the
piecemeal suites (test_uploads, test_events, snslib, storelib, test_store_parity) by import."""
import base64
import hashlib
import json
import os
import sys
import time
import unittest
from collections import namedtuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import snslib  # noqa: E402
from abuselib import (CAPS_ENV, CORPUS, HOSTILE, KIB, UID, UPLOAD, Keys,  # noqa: E402
                      Senders)
from harness import require_bin  # noqa: E402
from storelib import SK, STORE_ENV, start_store  # noqa: E402
from test_events import TOKEN, aws_body, metric  # noqa: E402
from test_store_parity import CASES as PARITY_CASES  # noqa: E402
from test_uploads import API_KEY, HS_SECRET  # noqa: E402

ISSUER, AUDIENCE = "https://auth.example", "imgsvc"

# Every row's server: API keys, HS256 JWTs (RS256 added where a row needs it), the webhook
# token, the store's own credentials; no reconciler and no store events (the seeded temp stays
# put unless an abusive request makes something process it).
BASE_ENV = dict(STORE_ENV, IMGSVC_API_KEYS=API_KEY, IMGSVC_JWT_HS256_SECRET=HS_SECRET,
                IMGSVC_JWT_ISSUER=ISSUER, IMGSVC_JWT_AUDIENCE=AUDIENCE,
                IMGSVC_EVENTS_TOKEN=TOKEN, IMGSVC_RECONCILE_INTERVAL_S="0",
                IMGSVC_STORE_EVENT_PREFIX="none/", IMGSVC_WORKERS="1")
PIPELINE_ENV = {"IMGSVC_STORE_EVENT_PREFIX": "delete/"}  # hostile rows: the store's events run
SLOW_ENV = {"IMGSVC_READ_TIMEOUT_S": "2"}


# One abusive request: how to send it (`send`: abuselib.Senders.send_<send>, given `args`) and the
# answer: status (an int, "failed" for an upload's status, "closed", or an exit status for
# "start"), code (error.code, S3 Code, the failed record's code, or a text the start's stderr
# contains) and the reason the API's error message starts with (None: not checked).
P = namedtuple("P", "send args status code reason", defaults=(None,))
# A row: its probes, settings over BASE_ENV, and what it needs ("rsa", "sns", "corpus").
Row = namedtuple("Row", "probes env needs", defaults=({}, ()))


def upload(cred, body=None, **more):
    return P("upload", dict(cred=cred, body=dict(body or UPLOAD)), **more)


def claims(**kw):
    now = int(time.time())
    c = {"sub": "42", "iss": ISSUER, "aud": AUDIENCE, "exp": now + 300, "iat": now}
    c.update(kw)
    return {k: v for k, v in c.items() if v is not None}


# Parity rows the store refuses, with the status and S3 error code AWS S3 answers.
TAMPER_CODES = {
    "changed_signature": (403, "SignatureDoesNotMatch"),
    "changed_key": (403, "SignatureDoesNotMatch"),
    "changed_method": (403, "SignatureDoesNotMatch"),
    "expired": (403, "AccessDenied"),
    "changed_content_type": (403, "SignatureDoesNotMatch"),
    "changed_signed_length": (403, "SignatureDoesNotMatch"),
    "extra_unsigned_amz_header": (403, "AccessDenied"),
    "expires_zero": (400, "AuthorizationQueryParametersError"),
    "expires_over_7_days": (400, "AuthorizationQueryParametersError"),
    "expires_not_a_number": (400, "AuthorizationQueryParametersError"),
    "credential_other_region": (400, "AuthorizationQueryParametersError"),
    "credential_other_date": (400, "AuthorizationQueryParametersError"),
    "future_date": (403, "AccessDenied"),
}


def hostile(name, code, resize_status, resize_code, env=None):
    """A hostile file: through the pipeline (failed + its code) and through POST /v1/resize."""
    return Row([P("hostile", {"file": name}, "failed", code),
                P("resize", {"file": name}, resize_status, resize_code)],
               dict(PIPELINE_ENV, **(env or {})), ("corpus",))


ROWS = {
    # ---- JWTs and API keys (POST /v1/uploads, GET /v1/uploads/{id}) ----
    "jwt_missing": Row([upload(None, status=401, code="unauthenticated",
                               reason="missing_credentials")]),
    "jwt_expired": Row([upload(("hs256", claims(exp=int(time.time()) - 120)), status=401,
                               code="unauthenticated", reason="token_expired")]),
    "jwt_bad_signature_hs256": Row([upload(("hs256_secret", claims(), "t" * 40), status=401,
                                           code="unauthenticated", reason="bad_signature")]),
    "jwt_bad_signature_rs256": Row([upload(("rs256_other", claims()), status=401,
                                           code="unauthenticated", reason="bad_signature")],
                                   needs=("rsa",)),
    "jwt_alg_none": Row([upload(("none", claims()), status=401, code="unauthenticated",
                                reason="unsupported_alg")]),
    # RS256 only: an HS256 token keyed with the RSA public key is not checked with that key
    "jwt_alg_confusion": Row([upload(("hs256_with_rsa_public_key", claims()), status=401,
                                     code="unauthenticated", reason="unsupported_alg")],
                             {"IMGSVC_JWT_HS256_SECRET": ""}, ("rsa",)),
    "jwt_wrong_owner": Row([
        upload(("hs256", claims()), dict(UPLOAD, ids={"userId": "43"}), status=403,
               code="forbidden", reason="subject_mismatch"),
        upload(("hs256", claims()), {"domain": "chat_profile", "contentType": "image/png",
                                     "ids": {"chatroomId": "r1", "userId": "43"}},
               status=403, code="forbidden", reason="subject_mismatch"),
        P("get", {"cred": ("hs256", claims()),
                  "path": f"/v1/uploads/{UID}?domain=profile&userId=43"}, 403, "forbidden",
          "subject_mismatch"),
        P("get", {"cred": ("hs256", claims()),
                  "path": f"/v1/uploads/{UID}?key=delete/profile/43/{UID}.jpeg"}, 403,
          "forbidden", "subject_mismatch")]),
    "api_key_wrong": Row([
        upload(("x_api_key", "wrong-key-0123456789"), status=401, code="unauthenticated",
               reason="invalid_api_key"),
        upload(("bearer", "wrong-key-0123456789"), status=401, code="unauthenticated",
               reason="invalid_api_key"),
        upload(("x_api_key", API_KEY[:-1]), status=401, code="unauthenticated",
               reason="invalid_api_key")]),

    # ---- the webhook and SNS (POST /v1/events/s3, a record for the seeded temp) ----
    "webhook_without_token": Row([P("webhook", {}, 401, "unauthenticated")]),
    "webhook_wrong_token": Row([
        P("webhook", {"token": "wrong-" + TOKEN}, 401, "unauthenticated"),
        P("webhook", {"query_token": TOKEN[:-1]}, 401, "unauthenticated"),
        P("webhook", {"token": TOKEN, "query_token": "x" + TOKEN}, 401, "unauthenticated"),
        P("webhook", {"raw_auth": "Basic " + TOKEN}, 401, "unauthenticated")]),
    "sns_forged_message": Row([
        P("sns", {"forge": "message"}, 403, "forbidden", "bad_signature"),
        P("sns", {"forge": "downgrade"}, 403, "forbidden", "bad_signature"),
        P("sns", {"forge": "garbage"}, 403, "forbidden", "bad_signature")], needs=("sns",)),
    "sns_cert_url_on_other_host": Row([
        P("sns", {"cert_url": f"https://evil.example.com{snslib.CERT_PATH}"}, 403, "forbidden",
          "cert_url"),
        P("sns", {"cert_url": f"https://{snslib.HOST}.evil.example.com{snslib.CERT_PATH}"}, 403,
          "forbidden", "cert_url"),
        P("sns", {"cert_url": f"https://{snslib.HOST}@evil.example.com{snslib.CERT_PATH}"}, 403,
          "forbidden", "cert_url"),
        P("sns", {"cert_url": f"http://{snslib.HOST}{snslib.CERT_PATH}"}, 403, "forbidden",
          "cert_url"),
        P("sns", {"cert_url": f"https://{snslib.HOST}:8443{snslib.CERT_PATH}"}, 403,
          "forbidden", "cert_url")], needs=("sns",)),

    # ---- ids and keys ----
    "id_traversal": Row(
        [upload(("api_key",), dict(UPLOAD, ids={"userId": v}), status=400, code="bad_ids")
         for v in ("../etc", "..", ".", "a/b", "%2e%2e%2f", "a\\b", "..%2F..")] + [
            # a NUL would end the C string: "42" with the rest silently dropped (common/json.c)
            upload(("api_key",), dict(UPLOAD, ids={"userId": "42\x00/../../x"}), status=400,
                   code="malformed_json"),
            upload(("api_key",), dict(UPLOAD, contentType="image/jpeg\x00.html"), status=400,
                   code="malformed_json"),
            upload(("api_key",), {"domain": "chat", "contentType": "image/jpeg",
                                  "ids": {"chatroomId": "r1", "chatId": "../../profile/42"}},
                   status=400, code="bad_ids"),
            P("get", {"path": f"/v1/uploads/{UID}?domain=profile&userId=..%2F43"}, 400,
              "bad_id"),
            P("get", {"path": f"/v1/uploads/{UID}?key=delete/profile/42/..%2F43/{UID}.jpeg"},
              400, "wrong_id_count"),
            P("get", {"path": f"/v1/uploads/..%2F{UID}?domain=profile&userId=42"}, 400,
              "bad_upload_id"),
            P("store_put", {"key": "delete/profile/42/../../../etc/x.jpeg"}, 400,
              "InvalidArgument"),
            P("store_put", {"key": "delete/profile/42/..\\..\\x.jpeg"}, 400,
              "InvalidArgument")]),
    "id_oversized": Row([
        upload(("api_key",), dict(UPLOAD, ids={"userId": "u" * 65}), status=400,
               code="bad_ids"),
        upload(("api_key",), {"domain": "chat", "contentType": "image/jpeg",
                              "ids": {"chatroomId": "r" * 4000, "chatId": "c"}},
               status=400, code="bad_ids"),
        P("get", {"path": f"/v1/uploads/{UID}?domain=profile&userId={'u' * 65}"}, 400,
          "bad_id"),
        P("get", {"path": f"/v1/uploads/{'a' * 4000}?domain=profile&userId=42"}, 400,
          "bad_upload_id"),
        P("store_put", {"key": "delete/profile/42/" + "k" * 1008}, 400, "KeyTooLongError")]),

    # ---- expiry beyond seven days (a request cannot ask for one: the settings are bounded) ----
    "expiry_over_seven_days_stops_the_start": Row([
        P("start", {"env": {"IMGSVC_PRESIGN_EXPIRES_S": "604801"}}, 2,
          "IMGSVC_PRESIGN_EXPIRES_S=604801 is invalid: expected an integer from 1 to 604800"),
        P("start", {"env": {"IMGSVC_STATUS_URL_EXPIRES_S": "604801"}}, 2,
          "IMGSVC_STATUS_URL_EXPIRES_S=604801 is invalid: expected an integer from 1 to 604800"),
        P("start", {"env": {"IMGSVC_PRESIGN_EXPIRES_S": "1209600"}}, 2,
          "IMGSVC_PRESIGN_EXPIRES_S=1209600 is invalid")]),
    "expiry_over_seven_days_presigned_url": Row([
        P("tamper", {"case": "expires_over_7_days"}, 400, "AuthorizationQueryParametersError"),
        P("seed_url", {"method": "GET", "expires_text": "604801"}, 400,
          "AuthorizationQueryParametersError"),
        P("seed_url", {"method": "DELETE", "expires_text": "999999999"}, 400,
          "AuthorizationQueryParametersError")]),

    # ---- the upload itself: the presigned PUT sent with other headers or bytes ----
    "upload_content_type_mismatch": Row([
        P("put", {"headers": {"Content-Type": "image/png"}}, 403, "SignatureDoesNotMatch"),
        P("put", {"headers": {"Content-Type": "text/html"}}, 403, "SignatureDoesNotMatch"),
        P("put", {"drop": "Content-Type"}, 403, "SignatureDoesNotMatch")]),  # as S3 and RGW
    "upload_content_length_mismatch": Row([
        P("put", {"decl": {"contentLength": 5}, "body": b"photo!"}, 403,
          "SignatureDoesNotMatch"),
        P("put", {"decl": {"contentLength": 6}, "body": b"photo"}, 403,
          "SignatureDoesNotMatch"),
        P("put", {"decl": {"contentLength": 5}, "body": b"", "chunked": b"photo"}, 403,
          "SignatureDoesNotMatch")]),  # chunked: the signed Content-Length is absent
    "upload_checksum_mismatch": Row([
        P("put", {"decl": {"checksumSha256": base64.b64encode(
            hashlib.sha256(b"photo").digest()).decode()}, "body": b"other"}, 400, "BadDigest")]),
    "upload_declared_length_over_cap": Row([
        upload(("api_key",), dict(UPLOAD, contentLength=1000001), status=400,
               code="content_length_too_large"),
        upload(("api_key",), dict(UPLOAD, contentLength=2 ** 63), status=400,
               code="bad_content_length")], {"IMGSVC_MAX_UPLOAD_BYTES": "1000000"}),

    # ---- the store's tamper matrix ----
    "store_tamper_presigned": Row([P("tamper", {"case": name}, *TAMPER_CODES[name])
                                   for name, _, _, accept in PARITY_CASES if not accept] + [
        P("seed_url", {"method": "DELETE", "as_method": "PUT"}, 403, "SignatureDoesNotMatch"),
        P("seed_url", {"method": "PUT", "body": b"overwrite", "flip": True}, 403,
          "SignatureDoesNotMatch")]),
    "store_tamper_header_signed": Row([
        P("store_put", {"anonymous": True}, 403, "AccessDenied"),
        P("store_put", {"ak": "AKIAUNKNOWN000000000"}, 403, "InvalidAccessKeyId"),
        P("store_put", {"sk": "wrong-secret-0123456789"}, 403, "SignatureDoesNotMatch"),
        P("store_put", {"unsigned": {"x-amz-meta-owner": "attacker"}}, 403, "AccessDenied"),
        P("store_put", {"skew_s": -16 * 60}, 403, "RequestTimeTooSkewed"),
        P("store_put", {"skew_s": 16 * 60}, 403, "RequestTimeTooSkewed"),
        P("store_put", {"sent_body": b"other bytes"}, 400, "XAmzContentSHA256Mismatch"),
        P("store_put", {"headers": {"content-md5": base64.b64encode(
            hashlib.md5(b"other").digest()).decode()}}, 400, "BadDigest"),
        P("store_put", {"seed": True, "method": "DELETE", "sk": "wrong-secret-0123456789"}, 403,
          "SignatureDoesNotMatch")]),

    # ---- every hostile image (pipeline: failed record only; resize: refused) ----
    "hostile_doc_pdf": hostile("doc.pdf", "unsupported_format", 415, "unsupported_format"),
    "hostile_empty": hostile("empty.jpg", "empty_body", 400, "empty_body"),
    "hostile_header_bomb": hostile("header-bomb.jpg", "corrupt_image", 422, "corrupt_image"),
    "hostile_pixel_flood": hostile("pixel-flood.png", "too_many_pixels", 422, "too_many_pixels"),
    "hostile_text_named_jpg": hostile("text-named.jpg", "unsupported_format", 415,
                                      "unsupported_format"),
    "hostile_truncated": hostile("truncated.jpg", "truncated", 422, "truncated"),
    "hostile_xxe_svg": hostile("xxe.svg", "unsupported_format", 415, "unsupported_format"),
    "hostile_formdata_without_recovery": hostile(
        "formdata-wrapped.jpg", "multipart_upload", 400, "multipart_upload",
        {"IMGSVC_MULTIPART_RECOVERY": "false"}),

    # ---- slow clients (IMGSVC_READ_TIMEOUT_S=2: the connection is closed, no answer) ----
    "slow_client_trickling_headers": Row([P("slow", {"part": "headers"}, "closed", "api")],
                                         SLOW_ENV),
    "slow_client_trickling_body": Row([P("slow", {"part": "body"}, "closed", "api")], SLOW_ENV),
    "slow_upload_to_the_store": Row([P("slow", {"part": "store"}, "closed", "store")],
                                    SLOW_ENV),

    # ---- oversized bodies ----
    "oversized_body_announced": Row([
        P("announce", {"path": "/v1/events/s3", "over": 1, "expect": True}, 413,
          "payload_too_large"),
        P("announce", {"path": "/v1/uploads", "over": 17 * KIB * KIB}, 413, "payload_too_large"),
        P("announce", {"path": "/v1/resize?w=100", "over": 1, "expect": True}, 413,
          "payload_too_large"),
        P("announce", {"path": "/v1/events/s3", "over": 2 ** 62}, 413, "payload_too_large")],
        CAPS_ENV),
    "oversized_body_chunked": Row([
        P("chunked", {"path": "/v1/events/s3", "size": 5 * KIB}, 413, "payload_too_large"),
        P("chunked", {"path": "/v1/uploads", "size": 5 * KIB}, 413, "payload_too_large"),
        P("chunked", {"path": "/v1/resize?w=100", "size": 65 * KIB}, 413,
          "payload_too_large")], CAPS_ENV),
    "oversized_object_to_the_store": Row([
        P("put", {"body": b"\xff" * (64 * KIB + 1)}, 400, "EntityTooLarge"),
        P("put", {"decl": {"contentLength": 64 * KIB + 1}, "body": b"\xff" * (64 * KIB + 1)},
          400, "EntityTooLarge"),
        P("put", {"body": b"", "announce": 1 * KIB * KIB * KIB}, 400, "EntityTooLarge")],
        CAPS_ENV),
}


class Matrix(Senders, unittest.TestCase):
    """One test per row of ROWS; see the module's docstring."""

    def setUp(self):
        require_bin(self)
        self.srv = self.sns = self.keys = None
        self.seed_key = None
        self.added = set()  # keys the row's probes are expected to leave

    def tearDown(self):
        if self.srv is not None:
            self.assertEqual(self.srv.stop(), 0, "imgsvc did not exit 0 on SIGTERM")
            logs = "".join(self.srv.lines)
            for secret in (API_KEY, HS_SECRET, TOKEN, SK):
                self.assertNotIn(secret, logs, "a secret reached the log")
            self.srv.logs()  # every stderr line is one JSON object
        if self.sns is not None:
            self.sns.close()
        if self.keys is not None:
            self.keys.close()

    # ---- the row runner ----

    def row(self):
        name = self._testMethodName[len("test_"):]
        row = ROWS[name]
        if "corpus" in row.needs and not os.path.isdir(HOSTILE):
            self.skipTest(f"no image corpus in {CORPUS!r} (built from ../shared/corpus)")
        if all(p.send == "start" for p in row.probes):
            for p in row.probes:
                with self.subTest(probe=p.args):
                    self.check(p, self.send_start(p))
            return
        env = dict(BASE_ENV, **row.env)
        if "rsa" in row.needs:
            self.keys = Keys()
            env["IMGSVC_JWT_RS256_PUBLIC_KEY_FILE"] = self.keys.public_file
        if "sns" in row.needs:
            self.sns = snslib.TestSns()
            env.update(self.sns.env())
        self.srv = start_store(env)
        self.store = f"127.0.0.1:{self.srv.store_port}"
        quiet = env["IMGSVC_STORE_EVENT_PREFIX"] == "none/"
        if quiet:
            self.seed()
        before = self.listing()
        for p in row.probes:
            with self.subTest(probe=f"{p.send} {p.args}"):
                self.check(p, getattr(self, "send_" + p.send)(p.args))
        after = self.listing()
        self.assertEqual(set(after) - set(before), self.added, "keys written")
        self.assertEqual({k: v for k, v in after.items() if k in before}, before,
                         "keys changed or removed")
        if quiet:
            for family in ("imgsvc_events_received_total", "imgsvc_pipeline_records_received_total",
                           "imgsvc_store_events_total"):
                self.assertEqual(metric(self.srv, family), 0, family)
        self.control({p.send for p in row.probes})

    def control(self, sends):
        """Webhook and SNS rows: the seeded record, sent with the right credentials, is queued,
        so it was the refusal that kept it from the pipeline."""
        if "webhook" in sends:
            status, doc = self.webhook_post({"token": TOKEN})
            self.assertEqual((status, doc), (202, {"queued": 1, "ignored": 0}))
        if "sns" in sends:
            env = self.sns.envelope("Notification", aws_body(self.seed_key))
            status, _, doc = self.srv.json("POST", "/v1/events/s3", body=json.dumps(env), headers={
                "x-amz-sns-message-type": "Notification", "Content-Type": "text/plain"})
            self.assertEqual((status, doc), (202, {"queued": 1, "ignored": 0}))

    def check(self, p, got):
        status, code, message = got
        self.assertEqual((status, code), (p.status, p.code), message)
        if p.reason is not None:
            self.assertTrue((message or "").startswith(p.reason), message)

    # ---- the matrix: one test per row ----

    def test_jwt_missing(self):
        self.row()

    def test_jwt_expired(self):
        self.row()

    def test_jwt_bad_signature_hs256(self):
        self.row()

    def test_jwt_bad_signature_rs256(self):
        self.row()

    def test_jwt_alg_none(self):
        self.row()

    def test_jwt_alg_confusion(self):
        self.row()

    def test_jwt_wrong_owner(self):
        self.row()

    def test_api_key_wrong(self):
        self.row()

    def test_webhook_without_token(self):
        self.row()

    def test_webhook_wrong_token(self):
        self.row()

    def test_sns_forged_message(self):
        self.row()

    def test_sns_cert_url_on_other_host(self):
        self.row()

    def test_id_traversal(self):
        self.row()

    def test_id_oversized(self):
        self.row()

    def test_expiry_over_seven_days_stops_the_start(self):
        self.row()

    def test_expiry_over_seven_days_presigned_url(self):
        self.row()

    def test_upload_content_type_mismatch(self):
        self.row()

    def test_upload_content_length_mismatch(self):
        self.row()

    def test_upload_checksum_mismatch(self):
        self.row()

    def test_upload_declared_length_over_cap(self):
        self.row()

    def test_store_tamper_presigned(self):
        self.row()

    def test_store_tamper_header_signed(self):
        self.row()

    def test_hostile_doc_pdf(self):
        self.row()

    def test_hostile_empty(self):
        self.row()

    def test_hostile_header_bomb(self):
        self.row()

    def test_hostile_pixel_flood(self):
        self.row()

    def test_hostile_text_named_jpg(self):
        self.row()

    def test_hostile_truncated(self):
        self.row()

    def test_hostile_xxe_svg(self):
        self.row()

    def test_hostile_formdata_without_recovery(self):
        self.row()

    def test_slow_client_trickling_headers(self):
        self.row()

    def test_slow_client_trickling_body(self):
        self.row()

    def test_slow_upload_to_the_store(self):
        self.row()

    def test_oversized_body_announced(self):
        self.row()

    def test_oversized_body_chunked(self):
        self.row()

    def test_oversized_object_to_the_store(self):
        self.row()

    def test_every_row_has_its_test(self):
        names = {n[len("test_"):] for n in dir(self) if n.startswith("test_")}
        self.assertEqual(set(ROWS) - names, set(), "rows without a test method")
        self.assertEqual(names - set(ROWS) - {"every_row_has_its_test"}, set(),
                         "test methods without a row")


if __name__ == "__main__":
    unittest.main()
