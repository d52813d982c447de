# ctest-fixtures: imaging_corpus
"""The event pipeline's metrics after real work, on the embedded store: every family issue 6
asks for has its samples, and the whole /metrics page passes `promtool check metrics`.

The store emits no events here (IMGSVC_STORE_EVENT_PREFIX points elsewhere) and the reconciler
runs every second with no grace, so a photo and a hostile file PUT through their presigned URLs
are found by the reconciler (imgsvc_reconciler_found_total) and end ready and failed
(imgsvc_pipeline_records_total{outcome,reason}, imgsvc_pipeline_duration_seconds{outcome},
imgsvc_pipeline_phase_seconds{phase} of the one upload made ready,
imgsvc_upload_to_ready_seconds, imgsvc_pipeline_wait_seconds of every record queued). POST /v1/events/s3 then brings records for another bucket and
outside delete/ (imgsvc_events_ignored_total{reason}), an s3:TestEvent and a record whose temp
does not exist (imgsvc_events_received_total{source}; the pipeline's outcome ignored,
temp_missing). The queue is empty at the end (imgsvc_pipeline_queue_depth 0); every
histogram's sum is above 0 where it must be and no longer than the test itself. QueueDepth
checks the gauge during a backlog."""
import json
import os
import re
import shutil
import subprocess
import time
import unittest

from harness import require_bin
from storelib import raw, start_store
from test_events import TEST_EVENT, ceph_body
from test_pipeline import HOSTILE, PHOTOS, WAIT_S, ceph_event, need_corpus

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')


def parse_metrics(text):
    """{(name, ((label, value), ...)): value} of every sample of an exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if m is None:
            raise AssertionError(f"not a sample line: {line!r}")
        labels = tuple(sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or "")))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def value(samples, name, **labels):
    """The sample `name` with exactly `labels`, or None."""
    return samples.get((name, tuple(sorted(labels.items()))))


def upload(test, srv, data, user):
    """Presigns a profile upload for `user` and PUTs `data`; returns (POST /v1/uploads' answer,
    the PUT's headers)."""
    body = json.dumps({"domain": "profile", "ids": {"userId": user}, "contentType": "image/jpeg"})
    status, _, doc = srv.json("POST", "/v1/uploads", body=body,
                              headers={"Content-Type": "application/json"})
    test.assertEqual(status, 201, doc)
    st, hdrs, b = raw("PUT", doc["url"], body=data, headers=doc["headers"])
    test.assertEqual(st, 200, b)
    return doc, hdrs


class PipelineMetrics(unittest.TestCase):
    def setUp(self):
        require_bin(self)
        need_corpus()
        self.promtool = shutil.which("promtool")
        self.assertIsNotNone(self.promtool, "promtool missing: scripts/test.sh installs "
                             "Debian's prometheus package")
        self.srv = start_store({"IMGSVC_STORE_EVENT_PREFIX": "none/",
                                "IMGSVC_RECONCILE_INTERVAL_S": "1",
                                "IMGSVC_RECONCILE_GRACE_S": "0"})

    def tearDown(self):
        self.assertEqual(self.srv.stop(), 0)

    def upload(self, data):
        return upload(self, self.srv, data, "m1")[0]

    def record(self, key, outcome):
        rec = self.srv.wait_for_log(lambda r: r.get("msg") == "record" and
                                    r.get("key") == key and r.get("outcome") == outcome,
                                    timeout=WAIT_S)
        self.assertIsNotNone(rec, f"no {outcome} record for {key}")
        return rec

    def post(self, body, want=202):
        status, _, doc = self.srv.json("POST", "/v1/events/s3", body=body,
                                       headers={"Content-Type": "application/json"})
        self.assertEqual(status, want, doc)
        return doc

    def test_every_family_has_samples_and_promtool_accepts_the_page(self):
        t0 = time.time()
        with open(os.path.join(PHOTOS, sorted(os.listdir(PHOTOS))[0]), "rb") as f:
            photo = self.upload(f.read())
        with open(os.path.join(HOSTILE, "text-named.jpg"), "rb") as f:
            hostile = self.upload(f.read())
        ready = self.record(photo["key"], "ready")
        failed = self.record(hostile["key"], "failed")

        self.assertEqual(self.post(ceph_body(photo["key"], bucket="another-bucket"))["ignored"],
                         1)
        self.assertEqual(self.post(ceph_body("profile/m1/origin/x.jpeg"))["ignored"], 1)
        self.assertTrue(self.post(TEST_EVENT, want=200)["testEvent"])
        missing = "delete/profile/m1/0b8f2a4e-1c3d-4e5f-9a6b-7c8d9e0f1a2b_1700000000.jpeg"
        self.assertEqual(self.post(ceph_event(missing, "0" * 32, "01", 1))["queued"], 1)
        self.record(missing, "ignored")
        deadline = time.time() + WAIT_S
        while time.time() < deadline:  # the pool's job is counted just after its log line
            status, hdrs, body = self.srv.request("GET", "/metrics")
            m = parse_metrics(body.decode())
            if (value(m, "imgsvc_pipeline_records_total", outcome="ignored",
                      reason="temp_missing") or 0) >= 1:
                break
            time.sleep(0.1)
        self.assertEqual(status, 200)
        self.assertTrue(hdrs["content-type"].startswith("text/plain; version=0.0.4"))

        p = subprocess.run([self.promtool, "check", "metrics"], input=body, capture_output=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())

        # events received / ignored, by source and reason
        self.assertEqual(value(m, "imgsvc_events_received_total", source="ceph:s3"), 3)
        self.assertEqual(value(m, "imgsvc_events_received_total", source="s3:TestEvent"), 1)
        self.assertEqual(value(m, "imgsvc_events_ignored_total", reason="other_bucket"), 1)
        self.assertEqual(value(m, "imgsvc_events_ignored_total", reason="outside_prefix"), 1)
        # processed / failed by reason (a second reconciler hand-over may add a done_before)
        self.assertEqual(value(m, "imgsvc_pipeline_records_total", outcome="ready", reason=""),
                         1)
        self.assertEqual(value(m, "imgsvc_pipeline_records_total", outcome="failed",
                               reason="unsupported_format"), 1)
        self.assertGreaterEqual(value(m, "imgsvc_pipeline_records_total", outcome="ignored",
                                      reason="temp_missing"), 1)
        self.assertGreaterEqual(value(m, "imgsvc_pipeline_records_received_total"), 3)
        # processing time by outcome, and upload-to-ready: histograms with cumulative buckets
        for name, labels, n in [("imgsvc_pipeline_duration_seconds", {"outcome": "ready"}, 1),
                                ("imgsvc_pipeline_duration_seconds", {"outcome": "failed"}, 1),
                                ("imgsvc_upload_to_ready_seconds", {}, 1)] + [
                                    ("imgsvc_pipeline_phase_seconds", {"phase": ph}, 1)
                                    for ph in ("read", "queue", "imaging", "write", "delete")]:
            self.assertEqual(value(m, name + "_count", **labels), n, (name, labels))
            self.assertGreaterEqual(value(m, name + "_sum", **labels), 0, (name, labels))
            # nothing observed can have lasted longer than the test so far (upload-to-ready
            # starts at the temp's LastModified, whole seconds, hence the extra second)
            self.assertLessEqual(value(m, name + "_sum", **labels), time.time() - t0 + 1,
                                 (name, labels))
            buckets = sorted((float(dict(k[1])["le"]), v) for k, v in m.items()
                             if k[0] == name + "_bucket" and
                             {a: b for a, b in k[1] if a != "le"} == labels)
            self.assertGreater(len(buckets), 2, (name, labels))
            counts = [v for _, v in buckets]
            self.assertEqual(counts, sorted(counts), (name, "buckets are cumulative"))
            self.assertEqual(buckets[-1], (float("inf"), n), (name, labels))
        for name, labels in [("imgsvc_pipeline_duration_seconds", {"outcome": "ready"}),
                             ("imgsvc_upload_to_ready_seconds", {})]:
            self.assertGreater(value(m, name + "_sum", **labels), 0, (name, labels))
        # the wait in the job queue: every record here came through it (the reconciler's
        # hand-overs and the webhook's), and the photo's record line says how long it waited
        self.assertEqual(value(m, "imgsvc_pipeline_wait_seconds_count"),
                         value(m, "imgsvc_pipeline_records_received_total"))
        self.assertGreaterEqual(value(m, "imgsvc_pipeline_wait_seconds_count"), 3)
        self.assertGreaterEqual(ready["waited_ms"], 0)
        # and its steps, as in imgsvc_pipeline_phase_seconds: within the record's own time
        phases = ready["phases_ms"]
        self.assertEqual(list(phases), ["read", "queue", "imaging", "write", "delete"])
        self.assertTrue(all(v >= 0 for v in phases.values()), phases)
        self.assertGreater(phases["imaging"], 0)
        self.assertLessEqual(sum(phases.values()), ready["ms"])
        self.assertNotIn("phases_ms", failed)
        # queue depth and the reconciler's finds
        self.assertEqual(value(m, "imgsvc_pipeline_queue_depth"), 0)
        self.assertGreaterEqual(value(m, "imgsvc_reconciler_found_total"), 2)
        self.assertGreaterEqual(value(m, "imgsvc_reconciler_runs_total"), 1)


class QueueDepth(unittest.TestCase):
    """imgsvc_pipeline_queue_depth follows a backlog: six records POSTed at once to a pipeline
    that works on one upload at a time (IMGSVC_PIPELINE_JOBS=1; no store events, no reconciler)
    are seen waiting in the queue, and the gauge is back at 0 once all six are ready; each
    record's waited_ms covers the handling of those before it (imgsvc_pipeline_wait_seconds)."""

    def setUp(self):
        require_bin(self)
        need_corpus()
        self.srv = start_store({"IMGSVC_STORE_EVENT_PREFIX": "none/", "IMGSVC_WORKERS": "1",
                                "IMGSVC_PIPELINE_JOBS": "1", "IMGSVC_RECONCILE_INTERVAL_S": "0"})

    def tearDown(self):
        self.assertEqual(self.srv.stop(), 0)

    def depth(self):
        status, _, body = self.srv.request("GET", "/metrics")
        self.assertEqual(status, 200)
        return value(parse_metrics(body.decode()), "imgsvc_pipeline_queue_depth")

    def test_depth_counts_the_records_waiting(self):
        with open(os.path.join(PHOTOS, sorted(os.listdir(PHOTOS))[0]), "rb") as f:
            photo = f.read()
        records = []
        for i in range(6):
            doc, hdrs = upload(self, self.srv, photo, "q1")
            rec = json.loads(ceph_event(doc["key"], hdrs["etag"].strip('"'), "%02d" % i,
                                        len(photo)))["Records"][0]
            records.append((doc["key"], rec))
        self.assertEqual(self.depth(), 0)
        status, _, doc = self.srv.json("POST", "/v1/events/s3",
                                       body=json.dumps({"Records": [r for _, r in records]}),
                                       headers={"Content-Type": "application/json"})
        self.assertEqual((status, doc.get("queued")), (202, 6), doc)
        # one job works on the first record (or is about to take it); the others wait behind it
        # for seconds
        seen = self.depth()
        self.assertGreaterEqual(seen, 4)
        self.assertLessEqual(seen, 6)
        done = []
        for key, _ in records:
            rec = self.srv.wait_for_log(
                lambda r, key=key: r.get("msg") == "record" and r.get("key") == key and
                r.get("outcome") == "ready", timeout=WAIT_S)
            self.assertIsNotNone(rec, key)
            done.append(rec)
        self.assertEqual(self.depth(), 0)
        # each record logs how long it waited for the one job slot: at least the handling of
        # every record before it (1 ms of rounding per record, and the queueing of the six
        # itself, allowed for)
        done.sort(key=lambda r: r["waited_ms"])
        for k, rec in enumerate(done):
            before = sum(r["ms"] for r in done[:k])
            self.assertGreaterEqual(rec["waited_ms"] + 2 * k + 5, before, done)
        self.assertGreater(before, 0)
        status, _, body = self.srv.request("GET", "/metrics")
        m = parse_metrics(body.decode())
        self.assertEqual(value(m, "imgsvc_pipeline_wait_seconds_count"), 6)
        self.assertAlmostEqual(value(m, "imgsvc_pipeline_wait_seconds_sum"),
                               sum(r["waited_ms"] for r in done) / 1000.0, places=3)


if __name__ == "__main__":
    unittest.main()
