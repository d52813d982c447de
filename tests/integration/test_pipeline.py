# ctest-fixtures: imaging_corpus
"""The event pipeline end to end on the embedded store, auth off on loopback: POST /v1/uploads
-> PUT the bytes with exactly the returned headers (every corpus photo with real curl, as a
phone would) -> the store's event -> the worker pool ->
variants, origin and manifest in the store -> GET /v1/uploads/{id} says ready (or failed with
the code), the temp object is gone. Needs the image corpus (../shared/corpus), else skips.

A duplicate event is made by PUTting identical bytes to the temp key again after the upload is
ready: the store emits a second ObjectCreated record for an object with the same ETag, which the
pipeline must answer done_before (temp deleted, manifest untouched)."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import curl_put, image_size, require_bin  # noqa: E402
from storelib import AK, BUCKET, SK, raw, sign_headers, start_store  # noqa: E402

CORPUS = os.environ.get("IMGSVC_CORPUS_DIR", "")
PHOTOS = os.path.join(CORPUS, "photos")
HOSTILE = os.path.join(CORPUS, "hostile")
WAIT_S = 60  # bound on one upload reaching ready/failed (the queue runs two workers)


def need_corpus():
    if not os.path.isdir(PHOTOS) or not os.path.isdir(HOSTILE):
        raise unittest.SkipTest(f"no image corpus in {CORPUS!r} (built from ../shared/corpus)")


class Pipeline(unittest.TestCase):
    env = {}

    @classmethod
    def setUpClass(cls):
        need_corpus()
        cls.srv = start_store(dict(cls.env, IMGSVC_WORKERS="2"))
        cls.store = f"127.0.0.1:{cls.srv.store_port}"

    @classmethod
    def tearDownClass(cls):
        rc = cls.srv.stop()
        if rc != 0:
            raise AssertionError(f"imgsvc exited with {rc}")

    def setUp(self):
        require_bin(self)

    # ---- helpers ----

    def s3(self, method, key):
        path = "/" + BUCKET + "/" + urllib.parse.quote(key)
        hdrs = sign_headers(method, self.store, path, AK, SK)
        return raw(method, self.store, path, headers=hdrs)

    def upload(self, data, user="42", ctype="image/jpeg", path=None):
        """Presigns and PUTs `data`, or the file `path` with real curl."""
        body = json.dumps({"domain": "profile", "ids": {"userId": user}, "contentType": ctype})
        status, _, doc = self.srv.json("POST", "/v1/uploads", body=body,
                                       headers={"Content-Type": "application/json"})
        self.assertEqual(status, 201, doc)
        if path is not None:
            self.assertEqual(curl_put(doc["url"], doc["headers"], path), 200, path)
            return doc
        st, _, b = raw("PUT", doc["url"], body=data, headers=doc["headers"])
        self.assertEqual(st, 200, b)
        return doc

    def status(self, doc, user="42", **query):
        q = urllib.parse.urlencode(query or {"domain": "profile", "userId": user})
        return self.srv.json("GET", f"/v1/uploads/{doc['uploadId']}?{q}")

    def wait_done(self, doc, user="42"):
        deadline = time.time() + WAIT_S
        while time.time() < deadline:
            status, _, st = self.status(doc, user)
            self.assertEqual(status, 200, st)
            if st["status"] in ("ready", "failed"):
                # the record is visible before the temp is deleted and the call counted: wait
                # for the pipeline's own line for this key
                line = self.srv.wait_for_log(
                    lambda r: r.get("msg") == "record" and r.get("key") == doc["key"] and
                    r.get("outcome") == st["status"], timeout=WAIT_S)
                self.assertIsNotNone(line, f"no pipeline log line for {doc['key']}")
                return st
            self.assertEqual(st["status"], "pending", st)
            time.sleep(0.05)
        self.fail(f"{doc['uploadId']} not finished within {WAIT_S} s")

    def assert_ready(self, doc, st, source_size):
        self.assertEqual(st["status"], "ready", st)
        m = st["manifest"]
        self.assertEqual((m["uploadId"], m["domain"], m["ids"]), (doc["uploadId"], "profile",
                                                                    {"userId": "42"}))
        self.assertEqual(m["source"]["key"], doc["key"])
        self.assertEqual(m["source"]["size"], source_size)
        self.assertEqual(m["origin"]["key"], doc["variants"]["origin"])
        self.assertRegex(m["presets"], r"^fnv1a64:[0-9a-f]{16}$")
        self.assertEqual(sorted(v["name"] for v in m["variants"]), ["160", "320", "640"])
        for v in m["variants"]:
            self.assertEqual(v["key"], doc["variants"][v["name"]])
            code, hdrs, data = self.s3("GET", v["key"])
            self.assertEqual(code, 200, v["key"])
            self.assertEqual(len(data), v["bytes"])
            self.assertEqual(hdrs["content-type"], "image/jpeg")
            side = int(v["name"])  # profile presets: cover squares
            self.assertEqual(image_size(data), (side, side), v["key"])
            self.assertEqual((v["width"], v["height"]), (side, side))
        code, _, origin = self.s3("GET", m["origin"]["key"])
        self.assertEqual(code, 200)
        self.assertEqual(len(origin), m["origin"]["bytes"])
        self.assertEqual(self.s3("HEAD", doc["key"])[0], 404, "the temp object is gone")
        self.assertEqual(self.s3("GET", doc["manifest"])[0], 200)
        return m

    # ---- tests ----

    def test_every_corpus_photo_becomes_ready(self):
        names = sorted(os.listdir(PHOTOS))
        self.assertGreater(len(names), 0)
        docs = []
        for name in names:
            path = os.path.join(PHOTOS, name)
            docs.append((name, self.upload(None, path=path), os.path.getsize(path)))
        for name, doc, size in docs:
            st = self.wait_done(doc)
            m = self.assert_ready(doc, st, size)
            self.assertEqual(m["facts"]["format"], "jpeg", name)
            self.assertGreater(m["facts"]["width"], 0)
            self.assertRegex(m["placeholders"]["dominant"], r"^#[0-9a-f]{6}$")
            self.assertEqual(m["warnings"], [])

    def test_hostile_files_fail_with_their_codes(self):
        want = {
            "doc.pdf": "unsupported_format", "empty.jpg": "empty_body",
            "header-bomb.jpg": "corrupt_image", "pixel-flood.png": "too_many_pixels",
            "text-named.jpg": "unsupported_format", "truncated.jpg": "truncated",
            "xxe.svg": "unsupported_format",
        }
        docs = []
        for name in sorted(want):
            with open(os.path.join(HOSTILE, name), "rb") as f:
                docs.append((name, self.upload(f.read(), user="7")))
        for name, doc in docs:
            st = self.wait_done(doc, user="7")
            self.assertEqual(st["status"], "failed", (name, st))
            self.assertEqual(st["error"]["code"], want[name], name)
            self.assertTrue(st["error"]["message"], name)
            self.assertNotIn("manifest", st)
            self.assertEqual(self.s3("HEAD", doc["key"])[0], 404, name)
            code, hdrs, rec = self.s3("GET", f"failed/profile/7/{doc['uploadId']}.json")
            self.assertEqual(code, 200, name)
            rec = json.loads(rec)
            self.assertEqual((rec["status"], rec["error"]["code"]), ("failed", want[name]))
            self.assertEqual(rec["source"]["key"], doc["key"])
            self.assertEqual(self.s3("HEAD", doc["manifest"])[0], 404, name)

    def test_decode_failure_after_the_probe_leaves_no_origin(self):
        """A photo whose headers pass the probe but whose scan names an undefined Huffman table
        fails in the decode, after its origin's PUT started (it overlaps the imaging): the
        origin is deleted again and only the failed record is left."""
        with open(os.path.join(PHOTOS, sorted(os.listdir(PHOTOS))[0]), "rb") as f:
            data = bytearray(f.read())
        sos = data.index(b"\xff\xda")
        for i in range(data[sos + 4]):  # each component's DC/AC table selectors -> 3/3
            data[sos + 6 + 2 * i] = 0x33
        doc = self.upload(bytes(data), user="8")
        st = self.wait_done(doc, user="8")
        self.assertEqual((st["status"], st["error"]["code"]), ("failed", "corrupt_image"), st)
        self.assertIn("Huffman", st["error"]["message"])
        origin = f"profile/8/origin/{doc['uploadId']}.jpeg"
        self.assertEqual(self.s3("HEAD", origin)[0], 404, "the origin of a failed upload")
        for key in doc["variants"].values():
            self.assertEqual(self.s3("HEAD", key)[0], 404, key)
        self.assertEqual(self.s3("HEAD", doc["key"])[0], 404, "the temp")
        self.assertEqual(self.s3("HEAD", f"failed/profile/8/{doc['uploadId']}.json")[0], 200)
        # the origin was stored and removed again (the store's access lines), not skipped
        seen = [r.get("method") for r in self.srv.logs()
                if origin in json.dumps(r) and r.get("method") in ("PUT", "DELETE")]
        self.assertEqual(seen, ["PUT", "DELETE"])

    def test_formdata_upload_is_recovered_with_a_warning(self):
        with open(os.path.join(HOSTILE, "formdata-wrapped.jpg"), "rb") as f:
            data = f.read()
        doc = self.upload(data)
        m = self.assert_ready(doc, self.wait_done(doc), len(data))
        self.assertEqual(m["warnings"], ["multipart_unwrapped"])

    def test_second_event_for_a_finished_upload_is_a_no_op(self):
        with open(os.path.join(PHOTOS, sorted(os.listdir(PHOTOS))[0]), "rb") as f:
            data = f.read()
        doc = self.upload(data)
        self.assert_ready(doc, self.wait_done(doc), len(data))
        _, _, before = self.s3("GET", doc["manifest"])
        # identical bytes again: a second ObjectCreated record, same ETag
        st, _, b = raw("PUT", doc["url"], body=data, headers=doc["headers"])
        self.assertEqual(st, 200, b)
        rec = self.srv.wait_for_log(lambda r: r.get("msg") == "record" and
                                    r.get("key") == doc["key"] and
                                    r.get("outcome") == "done_before", timeout=WAIT_S)
        self.assertIsNotNone(rec, "no done_before for the duplicate")
        self.assertEqual(rec["reason"], "ready")
        self.assertEqual(self.s3("HEAD", doc["key"])[0], 404, "the duplicate temp is removed")
        _, _, after = self.s3("GET", doc["manifest"])
        self.assertEqual(after, before)
        ready = [r for r in self.srv.logs() if r.get("msg") == "record" and
                 r.get("key") == doc["key"] and r.get("outcome") == "ready"]
        self.assertEqual(len(ready), 1, "processed exactly once")

    def test_an_overwrite_is_processed_again(self):
        names = sorted(os.listdir(PHOTOS))[:2]
        first, second = (open(os.path.join(PHOTOS, n), "rb").read() for n in names)
        doc = self.upload(first)
        m1 = self.assert_ready(doc, self.wait_done(doc), len(first))
        # new bytes at the same temp key: a new ETag and a later sequencer
        st, _, b = raw("PUT", doc["url"], body=second, headers=doc["headers"])
        self.assertEqual(st, 200, b)
        deadline = time.time() + WAIT_S
        while time.time() < deadline:
            ready = [r for r in self.srv.logs() if r.get("msg") == "record" and
                     r.get("key") == doc["key"] and r.get("outcome") == "ready"]
            if len(ready) == 2:
                break
            time.sleep(0.05)
        self.assertEqual(len(ready), 2, "the overwrite was processed")
        _, _, st2 = self.status(doc)
        m2 = self.assert_ready(doc, st2, len(second))
        self.assertNotEqual(m2["source"]["etag"], m1["source"]["etag"])
        self.assertGreater(int(m2["source"]["sequencer"], 16), int(m1["source"]["sequencer"], 16))

    def test_status_by_key_and_its_refusals(self):
        with open(os.path.join(PHOTOS, sorted(os.listdir(PHOTOS))[0]), "rb") as f:
            data = f.read()
        doc = self.upload(data)
        self.wait_done(doc)
        status, hdrs, st = self.status(doc, key=doc["key"])
        self.assertEqual((status, st["status"]), (200, "ready"))
        self.assertEqual(hdrs["cache-control"], "no-store")
        uid = doc["uploadId"]
        other = "0b8f2a4e-1c3d-4e5f-9a6b-7c8d9e0f1a2b_1700000000"
        cases = [
            (f"/v1/uploads/{uid}?domain=profile&userId=a/b", 400, "bad_id"),
            (f"/v1/uploads/{uid}?domain=nope&userId=1", 400, "unknown_domain"),
            (f"/v1/uploads/{uid}?domain=chat&chatroomId=7", 400, "bad_id"),
            (f"/v1/uploads/not-an-id?domain=profile&userId=42", 400, "bad_upload_id"),
            (f"/v1/uploads/{uid}?key=profile/42/origin/{uid}.jpeg", 400, "not_temp"),
            (f"/v1/uploads/{other}?key=" + urllib.parse.quote(doc["key"]), 400, "bad_upload_id"),
        ]
        for path, code, err in cases:
            status, _, body = self.srv.json("GET", path)
            self.assertEqual((status, body["error"]["code"]), (code, err), path)
        status, _, st = self.srv.json("GET", f"/v1/uploads/{other}?domain=profile&userId=42")
        self.assertEqual((status, st), (200, {"uploadId": other, "status": "unknown"}))

    def test_metrics_count_the_outcomes(self):
        with open(os.path.join(HOSTILE, "text-named.jpg"), "rb") as f:
            doc = self.upload(f.read(), user="9")
        self.wait_done(doc, user="9")
        status, _, body = self.srv.request("GET", "/metrics")
        self.assertEqual(status, 200)
        text = body.decode()
        self.assertIn('imgsvc_pipeline_records_total{outcome="failed",reason="unsupported_format"}',
                      text)
        self.assertIn("# TYPE imgsvc_pipeline_duration_seconds histogram", text)
        self.assertIn("# TYPE imgsvc_upload_to_ready_seconds histogram", text)
        self.assertIn("imgsvc_pipeline_queue_depth ", text)
        self.assertIn("imgsvc_pipeline_records_received_total ", text)


def ceph_event(key, etag, sequencer, size, bucket=BUCKET):
    """One Ceph RGW ObjectCreated:Put notification (the key as written)."""
    rec = {"eventVersion": "2.2", "eventSource": "ceph:s3", "awsRegion": "",
           "eventTime": "2026-11-24T12:00:00.000000Z", "eventName": "ObjectCreated:Put",
           "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket},
                  "object": {"key": key, "size": size, "eTag": etag, "sequencer": sequencer}}}
    return json.dumps({"Records": [rec]})


class PipelineByWebhook(unittest.TestCase):
    """The store emits no events here (IMGSVC_STORE_EVENT_PREFIX points elsewhere): every record
    comes through POST /v1/events/s3, so the test chooses ETags and sequencers."""

    @classmethod
    def setUpClass(cls):
        need_corpus()
        cls.srv = start_store({"IMGSVC_STORE_EVENT_PREFIX": "none/"})

    @classmethod
    def tearDownClass(cls):
        if cls.srv.stop() != 0:
            raise AssertionError("imgsvc did not exit 0")

    def setUp(self):
        require_bin(self)

    def send(self, key, data, sequencer):
        """Posts a record for `key` with the ETag of `data`; returns the pipeline's log line."""
        before = len(self.lines(key))
        body = ceph_event(key, hashlib.md5(data).hexdigest(), sequencer, len(data))
        status, _, doc = self.srv.request("POST", "/v1/events/s3", body=body,
                                          headers={"Content-Type": "application/json"})
        self.assertEqual(status, 202, doc)
        deadline = time.time() + WAIT_S
        while time.time() < deadline:
            got = self.lines(key)
            if len(got) > before:
                return got[-1]
            time.sleep(0.05)
        self.fail(f"no pipeline line for {key}")

    def lines(self, key):
        return [r for r in self.srv.logs() if r.get("msg") == "record" and r.get("key") == key]

    def test_sequencer_orders_overwrites_and_repeats_are_no_ops(self):
        names = sorted(os.listdir(PHOTOS))[:2]
        a, b = (open(os.path.join(PHOTOS, n), "rb").read() for n in names)
        body = json.dumps({"domain": "chatroom", "ids": {"chatroomId": "r1"},
                           "contentType": "image/jpeg"})
        status, _, doc = self.srv.json("POST", "/v1/uploads", body=body)
        self.assertEqual(status, 201)
        key = doc["key"]
        store = f"127.0.0.1:{self.srv.store_port}"
        self.assertEqual(raw("PUT", doc["url"], body=a, headers=doc["headers"])[0], 200)
        self.assertEqual(self.send(key, a, "0000000000000010")["outcome"], "ready")
        _, _, m1 = raw("GET", store, "/" + BUCKET + "/" + doc["manifest"], headers=sign_headers(
            "GET", store, "/" + BUCKET + "/" + doc["manifest"], AK, SK))
        self.assertEqual(json.loads(m1)["source"]["sequencer"], "0000000000000010")
        # the same record again: the temp is gone and the manifest is there
        line = self.send(key, a, "0000000000000010")
        self.assertEqual((line["outcome"], line["reason"]), ("done_before", "ready"))
        # an overwrite whose record is older than the manifest's: stale, the temp stays
        self.assertEqual(raw("PUT", doc["url"], body=b, headers=doc["headers"])[0], 200)
        line = self.send(key, b, "000000000000000F")
        self.assertEqual((line["outcome"], line["reason"]), ("ignored", "stale_sequencer"))
        self.assertEqual(storelib_head(self.srv, key), 200)
        # its real record (a later sequencer): processed again, the manifest follows the bytes
        self.assertEqual(self.send(key, b, "0000000000000011")["outcome"], "ready")
        self.assertEqual(storelib_head(self.srv, key), 404)
        _, _, m2 = raw("GET", store, "/" + BUCKET + "/" + doc["manifest"], headers=sign_headers(
            "GET", store, "/" + BUCKET + "/" + doc["manifest"], AK, SK))
        m2 = json.loads(m2)
        self.assertEqual((m2["source"]["size"], m2["source"]["sequencer"]),
                         (len(b), "0000000000000011"))
        self.assertEqual(m2["source"]["etag"], hashlib.md5(b).hexdigest())

    def test_records_without_a_temp(self):
        uid = "0b8f2a4e-1c3d-4e5f-9a6b-7c8d9e0f1a2b_1700000000"
        line = self.send(f"delete/feed/f9/{uid}.jpeg", b"x", "01")
        self.assertEqual((line["outcome"], line["reason"]), ("ignored", "temp_missing"))


class StatusAuth(unittest.TestCase):
    """GET /v1/uploads/{id} is guarded like POST /v1/uploads: credentials, then the owner."""

    def test_credentials_and_owner_rule(self):
        require_bin(self)
        from test_uploads import API_KEY, HS_SECRET, jwt_hs256
        srv = start_store({"IMGSVC_API_KEYS": API_KEY, "IMGSVC_JWT_HS256_SECRET": HS_SECRET})
        try:
            uid = "0b8f2a4e-1c3d-4e5f-9a6b-7c8d9e0f1a2b_1700000000"
            now = int(time.time())
            tok = jwt_hs256({"sub": "42", "exp": now + 300, "iat": now})
            jwt = {"Authorization": "Bearer " + tok}
            cases = [
                (f"/v1/uploads/{uid}?domain=profile&userId=42", {}, 401, "unauthenticated"),
                (f"/v1/uploads/{uid}?domain=profile&userId=42", {"X-Api-Key": API_KEY}, 200, None),
                (f"/v1/uploads/{uid}?domain=profile&userId=42", jwt, 200, None),
                (f"/v1/uploads/{uid}?domain=profile&userId=43", jwt, 403, "forbidden"),
                (f"/v1/uploads/{uid}?key=delete/profile/43/{uid}.jpeg", jwt, 403, "forbidden"),
                (f"/v1/uploads/{uid}?domain=feed&feedId=f1", jwt, 200, None),
            ]
            for path, hdrs, code, err in cases:
                status, _, doc = srv.json("GET", path, headers=hdrs)
                self.assertEqual(status, code, (path, doc))
                if err is None:
                    self.assertEqual(doc, {"uploadId": uid, "status": "unknown"})
                else:
                    self.assertEqual(doc["error"]["code"], err, path)
        finally:
            self.assertEqual(srv.stop(), 0)


def storelib_head(srv, key):
    store = f"127.0.0.1:{srv.store_port}"
    path = "/" + BUCKET + "/" + urllib.parse.quote(key)
    return raw("HEAD", store, path, headers=sign_headers("HEAD", store, path, AK, SK))[0]


class PipelineSettings(unittest.TestCase):
    def test_temp_over_the_size_cap_fails_too_large(self):
        require_bin(self)
        need_corpus()
        path = os.path.join(PHOTOS, sorted(os.listdir(PHOTOS))[0])
        size = os.path.getsize(path)
        srv = start_store({"IMGSVC_MAX_IMAGE_BYTES": str(size - 1)})
        try:
            with open(path, "rb") as f:
                data = f.read()
            st, doc = self.upload_and_wait(srv, data)
            self.assertEqual(st["status"], "failed", st)
            self.assertEqual(st["error"]["code"], "too_large")
            self.assertIn(str(size), st["error"]["message"])
            line = srv.wait_for_log(lambda r: r.get("msg") == "record" and
                                    r.get("key") == doc["key"], timeout=WAIT_S)
            self.assertEqual(line["outcome"], "failed")
            self.assertEqual(storelib_head(srv, doc["key"]), 404, "the temp is removed")
        finally:
            self.assertEqual(srv.stop(), 0)

    def upload_and_wait(self, srv, data):
        body = json.dumps({"domain": "feed", "ids": {"feedId": "f1"},
                           "contentType": "image/jpeg"})
        status, _, doc = srv.json("POST", "/v1/uploads", body=body)
        self.assertEqual(status, 201)
        self.assertEqual(raw("PUT", doc["url"], body=data, headers=doc["headers"])[0], 200)
        deadline = time.time() + WAIT_S
        st = {}
        while time.time() < deadline:
            _, _, st = srv.json("GET", f"/v1/uploads/{doc['uploadId']}?key=" +
                                urllib.parse.quote(doc["key"]))
            if st["status"] != "pending":
                break
            time.sleep(0.05)
        return st, doc

    def origin_after_upload(self, env, data):
        """(manifest, origin bytes) of `data` uploaded through a server with `env`."""
        srv = start_store(env)
        try:
            st, doc = self.upload_and_wait(srv, data)
            self.assertEqual(st["status"], "ready", st)
            store = f"127.0.0.1:{srv.store_port}"
            path = "/" + BUCKET + "/" + urllib.parse.quote(st["manifest"]["origin"]["key"])
            code, _, origin = raw("GET", store, path,
                                  headers=sign_headers("GET", store, path, AK, SK))
            self.assertEqual(code, 200)
            return st["manifest"], origin
        finally:
            self.assertEqual(srv.stop(), 0)

    @staticmethod
    def exif(data):
        """exiftool's -n tags of JPEG bytes, as a dict."""
        with tempfile.NamedTemporaryFile(suffix=".jpg") as f:
            f.write(data)
            f.flush()
            out = subprocess.run(["exiftool", "-j", "-n", "-GPS:all", "-Orientation", f.name],
                                 check=True, capture_output=True, text=True).stdout
        return {k: v for k, v in json.loads(out)[0].items() if k != "SourceFile"}

    def test_origin_location_removed_by_default_and_kept_when_off(self):
        require_bin(self)
        need_corpus()
        if shutil.which("exiftool") is None:
            self.fail("exiftool is missing (scripts/packages/apt-test.txt)")
        with open(os.path.join(PHOTOS, "photo-01.jpg"), "rb") as f:
            data = f.read()
        before = self.exif(data)
        self.assertIn("GPSLatitude", before, "the corpus photo carries a location")
        self.assertEqual(before.get("Orientation"), 6)

        m, origin = self.origin_after_upload({}, data)
        after = self.exif(origin)
        self.assertFalse([k for k in after if k.startswith("GPS")], after)
        self.assertEqual(after.get("Orientation"), 6, "orientation kept")
        self.assertNotEqual(origin, data)
        self.assertEqual(len(origin), m["origin"]["bytes"])
        # the pixels are not re-encoded: the entropy-coded data after SOS is the same bytes
        self.assertEqual(origin[origin.rindex(b"\xff\xda"):], data[data.rindex(b"\xff\xda"):])

        _, kept = self.origin_after_upload({"IMGSVC_ORIGIN_STRIP_LOCATION": "false"}, data)
        self.assertEqual(kept, data, "with the option off the origin is the upload's bytes")

    def test_formdata_upload_fails_without_recovery(self):
        require_bin(self)
        need_corpus()
        srv = start_store({"IMGSVC_MULTIPART_RECOVERY": "false"})
        try:
            with open(os.path.join(HOSTILE, "formdata-wrapped.jpg"), "rb") as f:
                data = f.read()
            st, _ = self.upload_and_wait(srv, data)
            self.assertEqual(st["status"], "failed", st)
            self.assertEqual(st["error"]["code"], "multipart_upload")
        finally:
            self.assertEqual(srv.stop(), 0)


if __name__ == "__main__":
    unittest.main()
