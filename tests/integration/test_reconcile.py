"""The reconciler and POST /v1/objects/reprocess on the embedded store.

Events are lost on purpose with IMGSVC_STORE_EVENT_PREFIX set to a prefix no key has (the store
then emits none for delete/): an upload PUT through its presigned URL stays pending while nothing
reconciles, and becomes ready once a server with IMGSVC_RECONCILE_INTERVAL_S=1 runs on the same
data folder. A temp object put back after its upload finished (manifest present, same ETag) is
only deleted: the manifest is not rewritten. Keys whose job is already queued are not queued
again by the reconciler. Reprocess: after the presets gain a size, POST
/v1/objects/reprocess (API key only: 401 without, 400 for a prefix outside the outputs, 413 past
IMGSVC_REPROCESS_MAX_KEYS) answers 202 and the manifest ends up listing the new size, whose
object has the preset's width; asking again changes nothing (done_before)."""
# ctest-fixtures: imaging_corpus
import json
import os
import shutil
import tempfile
import time
import unittest
import uuid

from harness import image_size, require_bin
from storelib import AK, BUCKET, SK, presign, raw, start_store

CORPUS = os.environ.get("IMGSVC_CORPUS_DIR", "")
API_KEY = "reconcile-test-api-key-0123456789"
NO_EVENTS = {"IMGSVC_STORE_EVENT_PREFIX": "no-key-starts-like-this/"}
FEED_PRESETS = [{"name": "1080", "width": 1080}, {"name": "640", "width": 640},
                {"name": "320", "width": 320}]


def corpus_file(test, rel):
    path = os.path.join(CORPUS, rel)
    if not CORPUS or not os.path.isfile(path):
        test.skipTest(f"corpus file {rel} not found under IMGSVC_CORPUS_DIR={CORPUS!r} "
                      "(../shared is absent or the imaging_corpus fixture did not run)")
    return path


def wait_until(pred, timeout=60, every=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(every)
    return pred()


class Reconcile(unittest.TestCase):
    def setUp(self):
        require_bin(self)
        self.photo = corpus_file(self, "photos/photo-00.jpg")
        self.data = tempfile.mkdtemp(prefix="imgsvc-reconcile-")
        self.servers = []
        self.feed = "rc-" + uuid.uuid4().hex[:12]

    def tearDown(self):
        for srv in self.servers:
            self.assertEqual(srv.stop(), 0)
        shutil.rmtree(self.data, ignore_errors=True)

    def start(self, **env):
        srv = start_store(dict({"IMGSVC_DATA_DIR": self.data}, **env))
        self.servers.append(srv)
        return srv

    def stop(self, srv):
        self.servers.remove(srv)
        self.assertEqual(srv.stop(), 0)

    def api_headers(self, key=None):
        h = {"Content-Type": "application/json"}
        if key:
            h["X-Api-Key"] = key
        return h

    def upload(self, srv, feed=None, key=None):
        """Presigns and PUTs the photo; returns POST /v1/uploads' answer."""
        body = {"domain": "feed", "ids": {"feedId": feed or self.feed},
                "contentType": "image/jpeg"}
        status, _, doc = srv.json("POST", "/v1/uploads", json.dumps(body), self.api_headers(key))
        self.assertEqual(status, 201, doc)
        with open(self.photo, "rb") as f:
            data = f.read()
        status, _, resp = raw("PUT", doc["url"], body=data, headers=doc["headers"])
        self.assertEqual(status, 200, resp)
        return doc

    def status(self, srv, doc, key=None):
        path = f"/v1/uploads/{doc['uploadId']}?key={doc['key']}"
        status, _, st = srv.json("GET", path, headers=self.api_headers(key))
        self.assertEqual(status, 200, st)
        return st

    def s3(self, srv, method, key, body=None):
        url = presign(method, f"127.0.0.1:{srv.store_port}", BUCKET, key, AK, SK)
        return raw(method, url, body=body)

    def metric(self, srv, name):
        _, _, body = srv.request("GET", "/metrics")
        for line in body.decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        return None

    def check_variants(self, srv, manifest, names):
        got = {v["name"]: v for v in manifest["variants"]}
        self.assertEqual(set(got), set(names))
        for v in got.values():
            status, _, data = self.s3(srv, "GET", v["key"])
            self.assertEqual(status, 200, (v["key"], data[:400]))
            self.assertEqual(len(data), v["bytes"])
            self.assertEqual(image_size(data), (v["width"], v["height"]))

    def test_lost_event_is_processed_by_the_reconciler(self):
        a = self.start(IMGSVC_RECONCILE_INTERVAL_S="0", **NO_EVENTS)
        doc = self.upload(a)
        self.assertEqual(self.status(a, doc)["status"], "pending")
        self.stop(a)  # the event never came; nothing else looks at delete/
        b = self.start(IMGSVC_RECONCILE_INTERVAL_S="1", IMGSVC_RECONCILE_GRACE_S="1",
                       **NO_EVENTS)
        st = wait_until(lambda: (s := self.status(b, doc))["status"] == "ready" and s)
        self.assertTrue(st, "the upload did not become ready")
        self.check_variants(b, st["manifest"], ["1080", "640", "320"])
        self.assertEqual(self.s3(b, "GET", doc["key"])[0], 404, "the temp must be gone")
        self.assertGreaterEqual(self.metric(b, "imgsvc_reconciler_found_total"), 1)
        self.assertGreaterEqual(self.metric(b, "imgsvc_reconciler_runs_total"), 1)
        passes = [r for r in b.logs() if r.get("msg") == "reconcile pass"]
        self.assertTrue(any(r.get("submitted", 0) >= 1 for r in passes), passes)

    def test_temp_younger_than_the_grace_period_is_left_alone(self):
        srv = self.start(IMGSVC_RECONCILE_INTERVAL_S="1", IMGSVC_RECONCILE_GRACE_S="3600",
                         **NO_EVENTS)
        doc = self.upload(srv)

        def passes():
            return len([r for r in srv.logs() if r.get("msg") == "reconcile pass"])
        before = passes()  # two more passes: at least one listed delete/ after the PUT
        self.assertTrue(wait_until(lambda: passes() >= before + 2, timeout=30),
                        "the reconciler did not pass twice")
        self.assertEqual(self.status(srv, doc)["status"], "pending")
        self.assertEqual(self.s3(srv, "GET", doc["key"])[0], 200, "the temp must still be there")
        self.assertEqual(
            [r for r in srv.logs() if r.get("msg") == "record" and r.get("key") == doc["key"]],
            [], "the young temp was handed to the pipeline")

    def test_backlog_cut_short_by_a_stop_is_finished_after_the_restart(self):
        """Uploads keep coming while one job works through them; imgsvc is stopped with no
        time to drain (IMGSVC_SHUTDOWN_TIMEOUT_S=0: queued records dropped, work in progress
        cut) and started again on the same store: its reconciler's first pass finishes every
        upload."""
        a = self.start(IMGSVC_WORKERS="1", IMGSVC_PIPELINE_JOBS="1",
                       IMGSVC_RECONCILE_INTERVAL_S="0", IMGSVC_SHUTDOWN_TIMEOUT_S="0")
        docs = [self.upload(a) for _ in range(6)]
        self.assertEqual(self.status(a, docs[-1])["status"], "pending")
        self.servers.remove(a)
        self.assertIn(a.stop(), (0, 1))  # 1: the deadline cut work short
        done = {r["key"] for r in a.logs() if r.get("msg") == "record" and
                r.get("outcome") == "ready"}
        self.assertLess(len(done), len(docs), "the stop left nothing to finish")
        b = self.start(IMGSVC_RECONCILE_INTERVAL_S="1", IMGSVC_RECONCILE_GRACE_S="0")
        for doc in docs:
            st = wait_until(lambda: (s := self.status(b, doc))["status"] == "ready" and s,
                            timeout=120)
            self.assertTrue(st, f"{doc['key']} did not become ready")
            self.check_variants(b, st["manifest"], ["1080", "640", "320"])
            self.assertEqual(self.s3(b, "GET", doc["key"])[0], 404, "the temp must be gone")

    def test_finished_temp_found_again_is_only_deleted(self):
        a = self.start(IMGSVC_RECONCILE_INTERVAL_S="0")
        doc = self.upload(a)
        st = wait_until(lambda: (s := self.status(a, doc))["status"] == "ready" and s)
        self.assertTrue(st, "the upload did not become ready")
        self.stop(a)
        b = self.start(IMGSVC_RECONCILE_INTERVAL_S="1", IMGSVC_RECONCILE_GRACE_S="0",
                       **NO_EVENTS)
        with open(self.photo, "rb") as f:  # the same bytes again: same ETag
            status, _, body = self.s3(b, "PUT", doc["key"], f.read())
        self.assertEqual(status, 200, body)
        gone = wait_until(lambda: self.s3(b, "GET", doc["key"])[0] == 404)
        self.assertTrue(gone, "the reconciler did not remove the finished temp")
        again = self.status(b, doc)
        self.assertEqual(again["status"], "ready")
        self.assertEqual(again["manifest"], st["manifest"], "the manifest must not be rewritten")
        recs = [r for r in b.logs() if r.get("msg") == "record" and r.get("key") == doc["key"]]
        # one record, or more when a pass listed the temp again before the first job ran: each
        # is done_before, none rewrote anything
        self.assertTrue(recs, "the reconciler never handed the temp over")
        self.assertEqual({r["outcome"] for r in recs}, {"done_before"}, recs)

    def test_keys_already_queued_are_not_queued_again(self):
        """A backlog older than the grace period: the store's events have queued every upload
        (one worker, one job at a time), and the reconciler, passing every second with no
        grace, finds their temps still there. It skips them (alreadyQueued) instead of
        queueing them again, so each upload is handled once: one record, ready."""
        srv = self.start(IMGSVC_WORKERS="1", IMGSVC_PIPELINE_JOBS="1",
                         IMGSVC_RECONCILE_INTERVAL_S="1", IMGSVC_RECONCILE_GRACE_S="0")
        docs = [self.upload(srv) for _ in range(12)]
        for doc in docs:
            st = wait_until(lambda: (s := self.status(srv, doc))["status"] == "ready" and s,
                            timeout=120)
            self.assertTrue(st, "an upload did not become ready")
        time.sleep(1.5)  # one more pass after the last job
        logs = srv.logs()
        passes = [r for r in logs if r.get("msg") == "reconcile pass"]
        self.assertGreaterEqual(sum(r.get("alreadyQueued", 0) for r in passes), 1, passes)
        for doc in docs:
            recs = [r["outcome"] for r in logs
                    if r.get("msg") == "record" and r.get("key") == doc["key"]]
            self.assertEqual(recs, ["ready"], doc["key"])

    def test_reprocess_route_regenerates_with_new_presets(self):
        auth = {"IMGSVC_API_KEYS": API_KEY, "IMGSVC_RECONCILE_INTERVAL_S": "0"}
        a = self.start(**auth)
        doc = self.upload(a, key=API_KEY)
        other = self.upload(a, feed=self.feed + "-b", key=API_KEY)
        for d in (doc, other):
            self.assertTrue(wait_until(lambda: self.status(a, d, API_KEY)["status"] == "ready"))
        self.stop(a)
        presets = os.path.join(self.data, "presets.json")
        with open(presets, "w") as f:
            json.dump({"feed": FEED_PRESETS + [{"name": "200", "width": 200}]}, f)
        b = self.start(IMGSVC_PRESETS_FILE=presets, IMGSVC_REPROCESS_MAX_KEYS="1", **auth)
        prefix = f"feed/{self.feed}/"

        def post(body, key=API_KEY):
            return b.json("POST", "/v1/objects/reprocess", json.dumps(body),
                          self.api_headers(key))

        status, hdrs, err = post({"prefix": prefix}, key=None)
        self.assertEqual((status, err["error"]["code"]), (401, "unauthenticated"))
        self.assertIn("www-authenticate", hdrs)
        for bad in ("delete/feed/", "feed/../delete/", "failed/feed/", "/feed/", ""):
            status, _, err = post({"prefix": bad})
            self.assertEqual((status, err["error"]["code"]), (400, "bad_prefix"), bad)
        status, _, err = post({"prefix": "feed/"})  # two uploads, IMGSVC_REPROCESS_MAX_KEYS=1
        self.assertEqual((status, err["error"]["code"]), (413, "too_many_objects"))
        self.assertIn("imgsvc reprocess", err["error"]["message"])

        status, _, ans = post({"prefix": prefix, "force": False})
        self.assertEqual((status, ans["queued"]), (202, 1), ans)
        st = wait_until(lambda: (s := self.status(b, doc, API_KEY))["status"] == "ready" and
                        any(v["name"] == "200" for v in s["manifest"]["variants"]) and s)
        self.assertTrue(st, "the manifest never listed the new size")
        self.check_variants(b, st["manifest"], ["1080", "640", "320", "200"])
        v200 = [v for v in st["manifest"]["variants"] if v["name"] == "200"][0]
        self.assertEqual(v200["width"], 200)
        # the other upload was outside the prefix: untouched
        names = [v["name"] for v in self.status(b, other, API_KEY)["manifest"]["variants"]]
        self.assertEqual(sorted(names), ["1080", "320", "640"])
        # again: nothing to do
        status, _, ans = post({"prefix": prefix})
        self.assertEqual((status, ans["queued"]), (202, 1))
        rec = b.wait_for_log(lambda r: r.get("msg") == "reprocess" and
                             r.get("outcome") == "done_before", timeout=30)
        self.assertIsNotNone(rec, "the second request should be done_before")
        self.assertEqual(self.status(b, doc, API_KEY)["manifest"], st["manifest"])


if __name__ == "__main__":
    unittest.main()
