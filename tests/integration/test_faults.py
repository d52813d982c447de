# ctest-fixtures: imaging_corpus rgw
"""Faults between imgsvc and its S3 (Ceph RGW, the `rgw` fixture): nothing is lost.

- S3 misbehaving (tests/integration/faultproxy.py between imgsvc and RGW answers 500 or 503,
  answers slowly, or resets the connection on a share of the requests; the requests themselves
  reach RGW unchanged) -> every upload ends ready, none failed, no temp left, every variant's
  bytes as its manifest says.
- RGW restarted mid-batch: imgsvc talks to a gateway of its own (scripts/rgw.sh gateway-start,
  same cluster as the shared gateway, so restarting it disturbs no other test and the cluster
  keeps the objects); it is stopped while uploads go on (the phones reach the shared gateway)
  until imgsvc has seen a reconciler pass fail against it, then started again -> every upload
  ready, nothing lost.
- `kill -9` of imgsvc in the middle of 200 uploads (RGW persistent topic pushing to the webhook):
  200 uploads presigned, 80 PUT at once, imgsvc killed as soon as it has finished one of them
  (the rest of its queue dies with it), the other 120 PUT while it is down, imgsvc started again
  on its port with the reconciler on -> 200 of 200 ready, no temp left, no failed record, and no
  variant written twice with different content: every variant of the same source photo has the
  same bytes in every upload (processing is deterministic, so a variant written again after the
  kill has the bytes of the first write), and each variant object has the bytes its manifest
  lists.

Uploads are small JPEGs (640 px wide, made with vips from corpus photos) so a batch stays
quick; each test works in a bucket (and topic) of its own and removes it afterwards. Every wait
is for a condition, bounded by the test's budget (BUDGET_S, below ctest's 300 s per case) so a
slow machine fails with a message and still cleans up instead of being killed by ctest.
The helpers here (small_jpegs, Uploader) are reused by tests/load."""
import concurrent.futures
import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultproxy import FaultProxy  # noqa: E402
from harness import Server, require_bin  # noqa: E402
from rgwnotify import Notifications, Rgw, server_env  # noqa: E402

CORPUS = os.environ.get("IMGSVC_CORPUS_DIR", "")
SOURCE_DIR = os.environ.get("IMGSVC_SOURCE_DIR", "")
RGW_HOSTPORT = ("127.0.0.1", 7480)
TOKEN = "faults-test-token-0123456789abcdef"
FEED_PRESETS = ("1080", "640", "320")
BUDGET_S = 255  # every wait of one case ends by then (ctest kills a case at 300 s)
LIVE_S = 90  # bound on a fresh RGW topic delivering (RGW refreshes its queue list every 30 s)
PUT_THREADS = 6  # phones PUTting at the same time


def need_corpus():
    if not os.path.isdir(os.path.join(CORPUS, "photos")):
        raise unittest.SkipTest(f"no image corpus in {CORPUS!r} (built from ../shared/corpus)")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def small_jpegs(tmpdir, n=4, width=640):
    """n small JPEGs (bytes), each from another corpus photo, `width` px wide (vips)."""
    need_corpus()
    photos = sorted(os.listdir(os.path.join(CORPUS, "photos")))[:n]
    out = []
    for i, name in enumerate(photos):
        dst = os.path.join(tmpdir, f"small-{i}.jpg")
        subprocess.run(["vips", "thumbnail", os.path.join(CORPUS, "photos", name), dst,
                        str(width)], check=True, capture_output=True, timeout=60)
        with open(dst, "rb") as f:
            out.append(f.read())
    return out


class Uploader:
    """Presigns through imgsvc and PUTs like a phone (to `put_to`, keeping the signed Host);
    checks the outcome in the bucket itself (not through imgsvc, which may be down or faulty)."""

    def __init__(self, rgw, bucket):
        self.rgw, self.bucket = rgw, bucket
        self.docs, self.datas = [], []

    def presign(self, srv, feed):
        body = json.dumps({"domain": "feed", "ids": {"feedId": feed},
                           "contentType": "image/jpeg"})
        status, _, doc = srv.json("POST", "/v1/uploads", body=body,
                                  headers={"Content-Type": "application/json"})
        if status != 201:
            raise AssertionError(f"presign: {status} {doc}")
        return doc

    @staticmethod
    def put(doc, data, put_to=None):
        """PUTs data with the presigned URL and headers; put_to=(host, port) sends it to another
        address with the signed Host header kept. Returns the HTTP status."""
        u = urllib.parse.urlsplit(doc["url"])
        host, port = put_to or (u.hostname, u.port or 80)
        headers = dict(doc["headers"])
        headers["Host"] = u.netloc
        c = http.client.HTTPConnection(host, port, timeout=60)
        try:
            c.request("PUT", u.path + ("?" + u.query if u.query else ""), body=data,
                      headers=headers)
            r = c.getresponse()
            r.read()
            return r.status
        finally:
            c.close()

    def upload(self, srv, data, feed, put_to=None):
        doc = self.presign(srv, feed)
        status = self.put(doc, data, put_to)
        if status != 200:
            raise AssertionError(f"PUT {doc['key']}: {status}")
        self.docs.append(doc)
        self.datas.append(data)
        return doc

    def put_many(self, pairs, put_to=None, threads=PUT_THREADS):
        """PUTs every (presigned doc, data) of `pairs`, `threads` at a time, and records them
        as uploads; AssertionError when a PUT does not answer 200."""
        pairs = list(pairs)
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            statuses = list(pool.map(lambda p: self.put(p[0], p[1], put_to), pairs))
        for (doc, data), status in zip(pairs, statuses):
            if status != 200:
                raise AssertionError(f"PUT {doc['key']}: {status}")
            self.docs.append(doc)
            self.datas.append(data)

    def manifests(self, prefix):
        """{manifest key: manifest} under prefix/manifest/."""
        out = {}
        for k in self.rgw.keys(self.bucket, prefix + "manifest/"):
            out[k] = json.loads(self.rgw.get(self.bucket, k))
        return out

    def wait_all_ready(self, prefixes, timeout, srvlines=lambda: []):
        """Waits until every upload has its manifest and no temp is left under delete/."""
        deadline = time.time() + timeout
        want = {d["manifest"] for d in self.docs}
        while True:
            have = set()
            for p in prefixes:
                have |= set(self.rgw.keys(self.bucket, p + "manifest/"))
            temps = self.rgw.keys(self.bucket, "delete/")
            if want <= have and not temps:
                return
            if time.time() > deadline:
                raise AssertionError(
                    f"{len(want - have)} of {len(want)} uploads not ready and {len(temps)} "
                    f"temps left after {timeout:.0f} s; last logs:\n" + "".join(srvlines()[-30:]))
            time.sleep(1)

    def objects(self, prefix=""):
        """{key: (size, ETag without quotes)} of every object under prefix (one listing)."""
        out = {}
        pages = self.rgw.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                      Prefix=prefix)
        for page in pages:
            for o in page.get("Contents", []):
                out[o["Key"]] = (o["Size"], o["ETag"].strip('"'))
        return out

    def check_outputs(self, test):
        """Every upload ready, its origin and variants of the sizes listed; the same source
        gives the same variant bytes in every upload; no failed record, no temp left.

        Contents are compared by ETag (the MD5 of the bytes for a single PUT, which is how
        imgsvc writes; checked on one body per source and preset), so a batch costs one
        listing and one GET per manifest."""
        objs = self.objects()
        with concurrent.futures.ThreadPoolExecutor(PUT_THREADS) as pool:
            manifests = list(pool.map(lambda d: json.loads(self.rgw.get(self.bucket,
                                                                        d["manifest"])),
                                      self.docs))
        by_source = {}
        for doc, data, m in zip(self.docs, self.datas, manifests):
            test.assertEqual(m["status"], "ready", doc["key"])
            test.assertEqual(m["source"]["size"], len(data), doc["key"])
            test.assertEqual(sorted(v["name"] for v in m["variants"]), sorted(FEED_PRESETS))
            src = hashlib.md5(data).hexdigest()
            test.assertEqual(m["source"]["etag"].strip('"'), src, doc["key"])
            for v in m["variants"]:
                test.assertIn(v["key"], objs, "variant missing")
                size, etag = objs[v["key"]]
                test.assertEqual(size, v["bytes"], v["key"])
                if (src, v["name"]) not in by_source:
                    body = self.rgw.get(self.bucket, v["key"])
                    test.assertEqual(hashlib.md5(body).hexdigest(), etag, "ETag is not MD5")
                    by_source[(src, v["name"])] = etag
                test.assertEqual(etag, by_source[(src, v["name"])],
                                 f"{v['key']}: other bytes than another upload of the same photo")
            test.assertIn(m["origin"]["key"], objs, "origin missing")
            test.assertEqual(objs[m["origin"]["key"]][0], m["origin"]["bytes"])
        test.assertEqual([k for k in objs if k.startswith("delete/")], [], "temps left")
        test.assertEqual([k for k in objs if k.startswith("failed/")], [], "failed records")


def count_logs(srv, pred):
    n = 0
    for line in list(srv.lines):
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        n += 1 if pred(rec) else 0
    return n


def failed_pass(rec):
    return rec.get("msg") == "reconcile pass" and "error" in rec


def ready_record(rec):
    return rec.get("msg") == "record" and rec.get("outcome") == "ready"


def failed_record(rec):
    return rec.get("msg") == "record" and rec.get("outcome") == "failed"


class FaultsBase(unittest.TestCase):
    def setUp(self):
        require_bin(self)
        need_corpus()
        self.deadline = time.time() + BUDGET_S
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        self.rgw = Rgw()
        self.tag = uuid.uuid4().hex[:10]
        self.bucket = "imgsvc-faults-" + self.tag
        self.rgw.make_bucket(self.bucket)
        self.addCleanup(self.rgw.drop_bucket, self.bucket)
        self.up = Uploader(self.rgw, self.bucket)
        self.smalls = small_jpegs(self.tmp.name)
        self.servers = []
        self.addCleanup(self.stop_servers)

    def phase(self, what):
        """Notes on stderr how far into the test `what` happened (for slow-machine reports)."""
        sys.stderr.write(f"[{time.time() - self.deadline + BUDGET_S:6.1f} s] {what}\n")

    def left(self, cap):
        """Seconds a wait may take: at most `cap`, never past the test's budget."""
        return max(1.0, min(cap, self.deadline - time.time()))

    def serve(self, endpoint=None, **extra):
        env = dict(server_env(self.bucket), IMGSVC_EVENTS_TOKEN=TOKEN, IMGSVC_WORKERS="2")
        if endpoint:
            env["IMGSVC_S3_ENDPOINT"] = endpoint
        env.update(extra)
        srv = Server(env=env)
        self.servers.append(srv)
        return srv

    def kill9(self, srv):
        """SIGKILLs srv (no chance to finish anything) and forgets it."""
        self.servers.remove(srv)
        self.assertEqual(srv.stop(sig=signal.SIGKILL), -signal.SIGKILL)

    def stop_servers(self):
        rcs = [srv.stop() for srv in self.servers]
        self.servers = []
        self.assertEqual(rcs, [0] * len(rcs), "imgsvc did not exit 0 on SIGTERM")

    def wait_log(self, srv, pred, count, cap, what):
        """Waits until srv has logged `count` records matching pred."""
        deadline = time.time() + self.left(cap)
        while count_logs(srv, pred) < count:
            if srv.proc.poll() is not None:
                self.fail(f"imgsvc exited ({srv.proc.returncode}) waiting for {what}")
            if time.time() > deadline:
                self.fail(f"no {what} within {cap} s; last logs:\n" + "".join(srv.lines[-30:]))
            time.sleep(0.2)

    def assert_no_failed_records(self, srv):
        self.assertEqual(count_logs(srv, failed_record), 0, "an upload was recorded as failed")


class Faults(FaultsBase):
    def test_s3_errors_resets_and_slowness_every_upload_ready(self):
        proxy = FaultProxy(RGW_HOSTPORT, p500=0.07, p503=0.07, preset=0.05, pslow=0.05,
                           slow_s=1.0, seed=9)
        self.addCleanup(proxy.close)
        # The reconciler finds every temp (no topic: RGW knows nothing of the proxy); quick S3
        # retries so that a run of faults is ridden out by the retry loop or the next pass.
        srv = self.serve(proxy.url, IMGSVC_RECONCILE_INTERVAL_S="1", IMGSVC_RECONCILE_GRACE_S="0",
                         IMGSVC_S3_RETRY_BASE_MS="20", IMGSVC_S3_RETRY_MAX_MS="200",
                         IMGSVC_S3_TIMEOUT_MS="10000")
        feed = "flt-" + self.tag
        n = 24
        for i in range(n):  # the phones PUT to RGW itself, with the Host imgsvc signed
            self.up.upload(srv, self.smalls[i % len(self.smalls)], feed, put_to=RGW_HOSTPORT)
        self.up.wait_all_ready([f"feed/{feed}/"], self.left(200), lambda: srv.lines)
        proxy.set_faults(p500=0, p503=0, preset=0, pslow=0)
        self.up.check_outputs(self)
        self.assertEqual(len(self.up.objects(f"feed/{feed}/manifest/")), n)
        c = dict(proxy.counts)
        for f in ("500", "503", "reset", "slow"):
            self.assertGreater(c[f], 0, f"no {f} fault was injected: {c}")
        self.assert_no_failed_records(srv)
        self.stop_servers()  # before the proxy goes
        sys.stderr.write(f"faults injected: {c}\n")

    def test_rgw_gateway_restarted_mid_batch_nothing_lost(self):
        script = os.path.join(SOURCE_DIR, "scripts", "rgw.sh")
        port = free_port()

        def gateway(cmd):
            subprocess.run(["bash", script, cmd, str(port)], check=True, timeout=180,
                           env=dict(os.environ, IMGSVC_RGW_NO_INSTALL="1"))
        self.addCleanup(gateway, "gateway-stop")
        gateway("gateway-start")
        srv = self.serve(f"http://127.0.0.1:{port}", IMGSVC_RECONCILE_INTERVAL_S="1",
                         IMGSVC_RECONCILE_GRACE_S="0", IMGSVC_S3_RETRY_BASE_MS="50",
                         IMGSVC_S3_RETRY_MAX_MS="500", IMGSVC_S3_CONNECT_TIMEOUT_MS="1000")
        feed = "gw-" + self.tag
        for i in range(10):
            self.up.upload(srv, self.smalls[i % len(self.smalls)], feed)
        failed_before = count_logs(srv, failed_pass)
        gateway("gateway-stop")  # imgsvc's S3 is gone; the phones use the shared gateway
        for i in range(10, 20):
            self.up.upload(srv, self.smalls[i % len(self.smalls)], feed, put_to=RGW_HOSTPORT)
        # imgsvc noticed: a reconciler pass failed against the stopped gateway.
        self.wait_log(srv, failed_pass, failed_before + 1, 60, "failed reconcile pass")
        gateway("gateway-start")
        for i in range(20, 30):
            self.up.upload(srv, self.smalls[i % len(self.smalls)], feed)
        self.up.wait_all_ready([f"feed/{feed}/"], self.left(150), lambda: srv.lines)
        self.up.check_outputs(self)
        self.assertEqual(len(self.up.objects(f"feed/{feed}/manifest/")), 30)
        self.assert_no_failed_records(srv)
        self.stop_servers()  # before its gateway goes


class KillNine(FaultsBase):
    def test_kill_9_mid_200_uploads_all_ready_after_restart(self):
        port = free_port()
        srv = self.serve(IMGSVC_PORT=str(port), IMGSVC_RECONCILE_INTERVAL_S="0")
        notes = Notifications(self.rgw, self.bucket, "imgsvc-faults-" + self.tag)
        self.addCleanup(notes.close)
        notes.add("imgsvc", f"http://127.0.0.1:{port}/v1/events/s3?token={TOKEN}")
        notes.apply(wait_live=self.left(LIVE_S))
        self.phase("topic live")
        feed = "k9-" + self.tag
        n, kill_at = 200, 80
        # The phones got their URLs first (presigning needs no S3 call).
        docs = [self.up.presign(srv, feed) for _ in range(n)]
        datas = [self.smalls[i % len(self.smalls)] for i in range(n)]
        self.up.put_many(zip(docs[:kill_at], datas[:kill_at]))
        self.phase(f"{n} presigned, {kill_at} PUT")
        # Killed as soon as it finished one upload: the events it accepted for the others die
        # with its queue (RGW counts them delivered), some uploads are half written.
        self.wait_log(srv, ready_record, 1, 90, "upload processed before the kill")
        self.kill9(srv)
        ready_at_kill = len(self.rgw.keys(self.bucket, f"feed/{feed}/manifest/"))
        self.assertLess(ready_at_kill, kill_at, "imgsvc was not killed mid-batch")
        self.phase(f"killed, {ready_at_kill} of {kill_at} ready")
        self.up.put_many(zip(docs[kill_at:], datas[kill_at:]))  # RGW queues their events
        self.phase(f"{n - kill_at} more PUT")
        # Restart on the same port (the topic's URL), the reconciler on for the lost events.
        # A pass submits every temp past its grace, queued already or not (the pipeline answers
        # the extra ones done_before), so passes are kept few: one at start, then every 30 s.
        srv = self.serve(IMGSVC_PORT=str(port), IMGSVC_RECONCILE_INTERVAL_S="30",
                         IMGSVC_RECONCILE_GRACE_S="1")
        self.assertEqual(srv.port, port)
        self.up.wait_all_ready([f"feed/{feed}/"], self.left(200), lambda: srv.lines)
        self.phase(f"all {n} ready")
        self.up.check_outputs(self)
        self.phase("outputs checked")
        folders = {}
        for key in self.up.objects(f"feed/{feed}/"):
            folder = key.split("/")[2]
            folders[folder] = folders.get(folder, 0) + 1
        self.assertEqual(folders, {f: n for f in ("manifest", "origin") + FEED_PRESETS})
        self.assert_no_failed_records(srv)
        self.stop_servers()
        self.phase("stopped")


if __name__ == "__main__":
    unittest.main()
