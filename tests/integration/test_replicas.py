# ctest-fixtures: imaging_corpus rgw
"""Many replicas (docs/deploy.md): three `imgsvc serve` replicas behind nginx, Ceph RGW as the
S3 and the event source, one replica killed with SIGKILL in the middle of a batch.

Set-up, as in production: three replicas of the same binary and settings on their own ports
(RGW as S3, the same events token, two workers each); nginx (Debian's package, run as the test
user from a temp folder, config from tests/deploy/nginx_lb.py) balancing one port over them
with failover; an RGW persistent topic pushing the bucket's ObjectCreated events (delete/) to
nginx's POST /v1/events/s3?token=... . The reconciler runs on one replica only (interval 3 s,
grace 20 s; the others have it off), as docs/deploy.md recommends.

The batch: uploads presigned through nginx, PUT to RGW with curl; once the doomed replica has
processed at least one event and some uploads are still pending, it is killed (-9), with events
it accepted still queued in its memory; the rest of the batch is PUT. Then:
  - every upload ends `ready` through nginx, with the right variant sizes, and no temp is left;
  - none was processed twice: across the three replicas' logs each upload has at most one
    `ready` record, and one without (its manifest was written by the killed replica just
    before it died) was answered `done_before`; the survivors' pipeline metrics, summed, agree
    with their logs; each manifest's bytes (processedAt, ETag) are the same at the end and
    after further reconciler passes and a second delivery of every event.
Needs the image corpus (../shared/corpus) and nginx, else skips."""
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "deploy"))
from harness import Server, contract, image_size, require_bin  # noqa: E402
from nginx_lb import NGINX, NginxLB, free_port  # noqa: E402
from rgwnotify import Notifications, Rgw, server_env  # noqa: E402
from test_pipeline_rgw import curl_put, feed_sizes  # noqa: E402

CORPUS = os.environ.get("IMGSVC_CORPUS_DIR", "")
PHOTOS = os.path.join(CORPUS, "photos")
TOKEN = "replicas-test-token-0123456789abcdef"
LIVE_S = 90  # a fresh RGW topic delivers within RGW's 30 s queue refresh
WAIT_S = 180  # bound on the batch finishing on a loaded 2-core machine
RECONCILE = {"IMGSVC_RECONCILE_INTERVAL_S": "3", "IMGSVC_RECONCILE_GRACE_S": "20"}
READY = 'imgsvc_pipeline_records_total{outcome="ready",reason=""}'


class Replicas(unittest.TestCase):
    def setUp(self):
        require_bin(self)
        if not os.path.isdir(PHOTOS):
            raise unittest.SkipTest(f"no image corpus in {CORPUS!r} (built from ../shared/corpus)")
        if not os.path.exists(NGINX):
            if os.environ.get("IMGSVC_TEST_STRICT") == "1":
                self.fail("nginx is not installed (scripts/packages/apt-test.txt)")
            raise unittest.SkipTest("nginx is not installed (scripts/packages/apt-test.txt)")
        self.rgw = Rgw()
        tag = uuid.uuid4().hex[:10]
        self.bucket = "imgsvc-repl-" + tag
        self.rgw.make_bucket(self.bucket)
        self.addCleanup(self.rgw.drop_bucket, self.bucket)
        self.tmp = tempfile.mkdtemp(prefix="imgsvc-replicas-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        # replica 0 is the one killed; replica 1 runs the reconciler
        self.replicas = []
        for i in range(3):
            env = dict(server_env(self.bucket), IMGSVC_EVENTS_TOKEN=TOKEN, IMGSVC_WORKERS="2",
                       IMGSVC_RECONCILE_INTERVAL_S="0")
            if i == 1:
                env.update(RECONCILE)
            srv = Server(env=env)
            self.addCleanup(srv.stop)
            self.replicas.append(srv)
        self.lb = NginxLB(self.tmp, free_port(), [f"127.0.0.1:{s.port}" for s in self.replicas])
        self.lb.start()
        self.addCleanup(self.lb.stop)
        self.notes = Notifications(self.rgw, self.bucket, "imgsvc-repl-" + tag)
        self.addCleanup(self.notes.close)
        self.notes.add("lb", f"http://127.0.0.1:{self.lb.port}/v1/events/s3?token={TOKEN}")
        self.notes.apply(wait_live=LIVE_S)

    # ---- through nginx ----

    def lb_json(self, method, path, body=None):
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", self.lb.port, timeout=30)
        try:
            hdrs = {"Content-Type": "application/json"} if body is not None else {}
            c.request(method, path, body=body, headers=hdrs)
            r = c.getresponse()
            data = r.read()
            # the API's answer through nginx, checked like Server.request does
            contract().check(method, path, r.status, {k.lower(): v for k, v in r.getheaders()},
                             data)
            return r.status, json.loads(data or b"null")
        finally:
            c.close()

    def presign(self):
        body = json.dumps({"domain": "feed", "ids": {"feedId": "replicas"},
                           "contentType": "image/jpeg"})
        status, doc = self.lb_json("POST", "/v1/uploads", body)
        self.assertEqual(status, 201, doc)
        return doc

    def put(self, doc, data):
        path = os.path.join(self.tmp, uuid.uuid4().hex)
        with open(path, "wb") as f:
            f.write(data)
        self.assertEqual(curl_put(doc["url"], doc["headers"], path), 200, doc["key"])
        os.unlink(path)

    def status(self, doc):
        status, st = self.lb_json("GET", f"/v1/uploads/{doc['uploadId']}?domain=feed&feedId="
                                         f"{urllib.parse.quote('replicas')}")
        self.assertEqual(status, 200, st)
        return st

    def wait_done(self, docs):
        deadline = time.time() + WAIT_S
        done = {}
        while len(done) < len(docs):
            for i, doc in enumerate(docs):
                if i not in done:
                    st = self.status(doc)
                    if st["status"] != "pending" and not self.rgw.exists(self.bucket, doc["key"]):
                        done[i] = st
            if len(done) < len(docs):
                if time.time() > deadline:
                    self.fail(f"not finished within {WAIT_S} s: "
                              f"{[d['key'] for i, d in enumerate(docs) if i not in done]}\n" +
                              "".join(self.replicas[1].lines[-20:]))
                time.sleep(0.2)
        return [done[i] for i in range(len(docs))]

    # ---- replicas ----

    def records(self, srv, key=None, outcome=None):
        return [r for r in srv.logs() if r.get("msg") == "record" and
                (key is None or r.get("key") == key) and
                (outcome is None or r.get("outcome") == outcome)]

    def metric(self, srv, name):
        status, _, body = srv.request("GET", "/metrics")
        self.assertEqual(status, 200)
        for line in body.decode().splitlines():
            if line.startswith(name + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def manifests(self, docs):
        return {d["manifest"]: self.rgw.get(self.bucket, d["manifest"]) for d in docs}

    def test_one_replica_killed_mid_batch_every_upload_ready_once(self):
        names = sorted(os.listdir(PHOTOS))[:6]
        datas = [open(os.path.join(PHOTOS, n), "rb").read() for n in names] * 2
        docs = [self.presign() for _ in datas]
        half = len(docs) // 2
        for doc, data in zip(docs[:half], datas[:half]):
            self.put(doc, data)
        doomed = self.replicas[0]
        got = doomed.wait_for_log(lambda r: r.get("msg") == "record", timeout=WAIT_S)
        self.assertIsNotNone(got, "replica 0 processed nothing: nginx did not balance events")
        pending = [d for d in docs[:half] if self.rgw.exists(self.bucket, d["key"])]
        doomed.proc.kill()  # SIGKILL: its queue and in-flight work are lost
        doomed.proc.wait()
        for doc, data in zip(docs[half:], datas[half:]):
            self.put(doc, data)
        statuses = self.wait_done(docs)

        # every upload is ready, with the right sizes, and no temp is left
        for doc, st, data in zip(docs, statuses, datas):
            self.assertEqual(st["status"], "ready", st)
            m = st["manifest"]
            self.assertEqual(m["source"]["key"], doc["key"])
            self.assertEqual(m["source"]["etag"], hashlib.md5(data).hexdigest())
            want = feed_sizes(data)
            for v in m["variants"]:
                body = self.rgw.get(self.bucket, v["key"])
                self.assertEqual(image_size(body), want[v["name"]], v["key"])
        self.assertEqual(self.rgw.keys(self.bucket, "delete/"), [], "temps left under delete/")

        # none processed twice
        survivors = self.replicas[1:]
        for doc in docs:
            ready = sum(len(self.records(s, doc["key"], "ready")) for s in self.replicas)
            self.assertLessEqual(ready, 1, f"{doc['key']} processed {ready} times")
            if ready == 0:
                before = sum(len(self.records(s, doc["key"], "done_before")) for s in survivors)
                self.assertGreaterEqual(before, 1, f"{doc['key']}: no ready and no done_before")
        for s in survivors:
            self.assertEqual(self.metric(s, READY), len(self.records(s, outcome="ready")))
        total = sum(self.metric(s, READY) for s in survivors) + \
            len(self.records(doomed, outcome="ready"))
        self.assertLessEqual(total, len(docs), "more ready records than uploads")
        found = self.metric(self.replicas[1], "imgsvc_reconciler_found_total")
        print(f"replicas: {len(docs)} uploads, {len(pending)} pending at the kill, "
              f"ready records: killed {len(self.records(doomed, outcome='ready'))}, "
              f"survivors {[self.metric(s, READY) for s in survivors]}; "
              f"reconciler found {found:.0f}", file=sys.stderr)

        # the manifests stay as written: more reconciler passes and every event again
        first = self.manifests(docs)
        for doc, st in zip(docs, statuses):
            self.assertEqual(json.loads(first[doc["manifest"]])["processedAt"],
                             st["manifest"]["processedAt"])
        for doc, st, data in zip(docs, statuses, datas):
            rec = {"Records": [{"eventVersion": "2.2", "eventSource": "ceph:s3",
                                "eventName": "ObjectCreated:Put",
                                "s3": {"bucket": {"name": self.bucket},
                                       "object": {"key": doc["key"], "size": len(data),
                                                  "eTag": st["manifest"]["source"]["etag"]}}}]}
            status, _ = self.lb_json("POST", f"/v1/events/s3?token={TOKEN}", json.dumps(rec))
            self.assertIn(status, (200, 202), "a repeated event is accepted")
        time.sleep(2 * int(RECONCILE["IMGSVC_RECONCILE_INTERVAL_S"]) + 1)
        self.assertEqual(self.manifests(docs), first, "a manifest was written again")
        self.assertEqual(self.rgw.keys(self.bucket, "delete/"), [])


if __name__ == "__main__":
    unittest.main()
