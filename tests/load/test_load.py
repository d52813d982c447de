"""Load (issue 9): imgsvc under sustained load and a burst, each case its own ctest case.

- test_presign_60s: `imgsvc serve` with API authentication ON (IMGSVC_AUTH_MODE=api_key, the key
  sent as `Authorization: Bearer`), the way a deployment runs it: off is allowed on loopback
  only, so a load test without authentication would skip a step every production request pays.
  wrk (-t 2 -c 32 -d 60s, tests/load/status.lua) POSTs the profile photo request of
  bench/presign/post.lua to /v1/uploads. Asserted: requests > 0, every answer 201 (status.lua
  counts every status), no connect/read/write/timeout error, RSS flat (below), imgsvc exits 0
  on SIGTERM and logged no error line.
- test_resize_60s: wrk (-t 2 -c 32 -d 60s) POSTs the smallest corpus photo as the raw body to
  /v1/resize?w=320, with IMGSVC_RESIZE_CONCURRENCY=1 and IMGSVC_RESIZE_QUEUE=0 (otherwise the
  defaults). Handlers run on the HTTP threads (IMGSVC_HTTP_THREADS, default 4), so only
  requests that are in a handler at the same time compete for the limiter, and libmicrohttpd
  hands a burst of new connections to whichever thread accepts first: the default limits
  (2 + 16) cannot be exceeded by 4 threads, and even 2 + 1 refused nothing in 12 s at 32
  connections. 1 + 0 is exceeded as soon as two HTTP threads hold a connection each, so 429s
  happen. Asserted: only 200 and 429, at least one of each, every 429 has a numeric
  Retry-After, no socket error or timeout (wrk --timeout 30s), RSS flat, clean exit, no error
  line.
- test_burst_1000_uploads_rgw: Ceph RGW (the `rgw` fixture) as the S3, a bucket and a
  persistent topic of its own pushing ObjectCreated (delete/) to POST /v1/events/s3?token=,
  both removed at the end. 1,000 uploads of small JPEGs (640 px, made with vips from corpus
  photos): presigned through imgsvc and PUT to RGW by 8 threads; then wait (at most
  BURST_WAIT_S) until every manifest exists and nothing is left under delete/. Asserted: each of
  the 1,000 GET /v1/uploads/{id} says ready with 3 variants and the source's size (the first 10
  also checked against openapi.yaml), a few variants' bytes as listed, no failed/ record, no
  temp left, exactly 1,000 "ready" records (each processed once). IMGSVC_WORKERS=4: an upload
  is about eight S3 requests and little CPU, so the workers mostly wait on RGW; with the
  default 2 the burst took about 200 s to be ready here instead of about 110 s. The reconciler
  keeps its defaults, so it may find uploads whose events are still queued (printed).

"RSS flat": imgsvc's VmRSS (/proc/PID/status) is sampled every second during the wrk run. The
first sixth of the run (10 s of 60) is warm-up and ignored; with `base` = the 90th percentile
of the samples of seconds 10-30 and `late` = that of seconds 30-60, the rule is
    late <= base + max(16 MiB, 10 % of base).
High samples are compared with high samples, and one or two seconds' spike is not a trend (a
resize holds a few decoded images at once, and glibc gives freed memory back in its own time);
a leak of a few hundred bytes per request (>= 16 MiB over 30 s of these rates) moves every
late sample and fails, and so does a jump that stays.
imgsvc runs with the allocator the container image runs it with: glibc's malloc, which
imgsvc limits to 2 arenas (server/alloc.c; docs/deploy.md, "Allocator"); MALLOC_ARENA_MAX,
GLIBC_TUNABLES and LD_PRELOAD are cleared so the runner's environment cannot change that.

Each test prints its figures (req/s, status counts, latency, the RSS series summary, phase
times) for the log; nothing is asserted on time. The suite is registered only in builds
without sanitizers (tests/load/suite.cmake). IMGSVC_LOAD_DURATION_S shortens the wrk runs for
a quick local try (the windows above scale with it); ctest always runs 60 s.
"""
import concurrent.futures
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
from harness import Server, require_bin  # noqa: E402
from rgwnotify import Notifications, Rgw, server_env  # noqa: E402
from test_faults import small_jpegs  # noqa: E402

BIN = os.environ.get("IMGSVC_BIN", "")
CORPUS = os.environ.get("IMGSVC_CORPUS_DIR", "")
DURATION_S = int(os.environ.get("IMGSVC_LOAD_DURATION_S", "60"))
CONNECTIONS = 32
API_KEY = "load-test-api-key-0123456789abcdef"
TOKEN = "load-test-events-token-0123456789abcdef"
RSS_SLACK_MIB, RSS_SLACK_FRAC = 16.0, 0.10
# The image's allocator: imgsvc's own 2 glibc arenas, nothing from the runner's environment.
IMAGE_ALLOCATOR = {"MALLOC_ARENA_MAX": "", "GLIBC_TUNABLES": "", "LD_PRELOAD": ""}
UPLOAD_BODY = {"domain": "profile", "ids": {"userId": "42"}, "contentType": "image/jpeg"}
BURST_N, BURST_THREADS, BURST_WORKERS, BURST_WAIT_S, LIVE_S = 1000, 8, 4, 240, 90
FEED_PRESETS = ("1080", "640", "320")


def need_tool(name):
    """Skips (fails under IMGSVC_TEST_STRICT=1) when `name` is not on PATH."""
    if shutil.which(name) is None:
        msg = f"{name} is not installed (scripts/packages/apt-test.txt)"
        if os.environ.get("IMGSVC_TEST_STRICT") == "1":
            raise AssertionError(msg)
        raise unittest.SkipTest(msg)


def need_corpus():
    if not os.path.isdir(os.path.join(CORPUS, "photos")):
        raise unittest.SkipTest(f"no image corpus in {CORPUS!r} (built from ../shared/corpus)")


def smallest_photo():
    photos = os.path.join(CORPUS, "photos")
    return min((os.path.join(photos, n) for n in os.listdir(photos)), key=os.path.getsize)


class LoadServer:
    """`imgsvc serve` on ephemeral loopback ports with its JSON log going to a file (a minute
    of access log lines is too much to keep in memory), API authentication on."""

    def __init__(self, tmpdir, extra=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMGSVC_")}
        env.update({"IMGSVC_PORT": "0", "IMGSVC_LISTEN_ADDR": "127.0.0.1",
                    "IMGSVC_STORE_PORT": "0", "IMGSVC_DATA_DIR": os.path.join(tmpdir, "data"),
                    "IMGSVC_AUTH_MODE": "api_key", "IMGSVC_API_KEYS": API_KEY})
        env.update(IMAGE_ALLOCATOR)
        self.allocator = "glibc, 2 arenas"
        env.update(extra or {})
        self.log_path = os.path.join(tmpdir, "imgsvc.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.DEVNULL,
                                     stderr=self.log)
        self.port = self._wait_port()

    def _wait_port(self):
        deadline = time.time() + 30
        while time.time() < deadline:
            with open(self.log_path, "rb") as f:
                for line in f:
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if rec.get("msg") == "listening" and rec.get("server") is None:
                        return rec["port"]
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.proc.kill()
        self.proc.wait()
        with open(self.log_path, "rb") as f:
            raise RuntimeError("imgsvc did not start: " + f.read()[-4000:].decode(errors="replace"))

    def rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
        raise AssertionError("no VmRSS line")

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def stop(self):
        """SIGTERM; returns the exit code (the process is killed after 60 s)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.log.close()
        return rc

    def log_summary(self):
        """(lines, error-level lines (first 5), {status: count} of the access log)."""
        lines, errors, statuses = 0, [], {}
        with open(self.log_path, "rb") as f:
            for raw in f:
                lines += 1
                if b'"level":"error"' in raw and len(errors) < 5:
                    errors.append(raw.decode(errors="replace"))
                m = re.search(rb'"msg":"request".*"status":(\d+)', raw)
                if m:
                    statuses[int(m.group(1))] = statuses.get(int(m.group(1)), 0) + 1
        return lines, errors, statuses


class RssSampler:
    """VmRSS of a LoadServer every second, as (seconds since start, MiB), in a thread."""

    def __init__(self, srv):
        self.srv, self.samples = srv, []
        self._stop = threading.Event()
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                self.samples.append((time.monotonic() - self._t0, self.srv.rss_mib()))
            except (OSError, AssertionError):
                return
            self._stop.wait(1.0)

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        return self.samples


def p90(values):
    """The 90th percentile (nearest rank) of a non-empty list."""
    v = sorted(values)
    return v[max(0, -(-9 * len(v) // 10) - 1)]


def rss_verdict(samples, duration):
    """(ok, summary dict) by the rule in the module docstring."""
    warm, half = duration / 6.0, duration / 2.0
    base = [mb for t, mb in samples if warm <= t < half]
    late = [mb for t, mb in samples if t >= half]
    if not base or not late:
        return False, {"error": "too few samples", "samples": len(samples)}
    base_hi, late_hi = p90(base), p90(late)
    allowed = base_hi + max(RSS_SLACK_MIB, RSS_SLACK_FRAC * base_hi)
    mbs = [mb for _, mb in samples]
    return late_hi <= allowed, {
        "samples": len(samples), "first_mib": round(mbs[0], 1), "min_mib": round(min(mbs), 1),
        "max_mib": round(max(mbs), 1), "last_mib": round(mbs[-1], 1),
        "base_p90_mib": round(base_hi, 1), "late_p90_mib": round(late_hi, 1),
        "base_max_mib": round(max(base), 1), "late_max_mib": round(max(late), 1),
        "allowed_mib": round(allowed, 1),
        "series_mib": [round(mb) for _, mb in samples]}


def run_wrk(url, lua_args, timeout_s):
    """wrk -t 2 -c CONNECTIONS -d DURATION_S with status.lua; returns its IMGSVC_LOAD record."""
    cmd = ["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{DURATION_S}s",
           "--timeout", f"{timeout_s}s", "-s", os.path.join(HERE, "status.lua"), url, "--",
           *lua_args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=DURATION_S + 120)
    for line in p.stdout.splitlines():
        if line.startswith("IMGSVC_LOAD "):
            rec = json.loads(line[len("IMGSVC_LOAD "):])
            rec["statuses"] = {int(k): v for k, v in rec["statuses"].items()}
            return rec
    raise AssertionError(f"wrk exited {p.returncode} without a result:\n{p.stdout}\n{p.stderr}")


class WrkLoad(unittest.TestCase):
    """One LoadServer per test; wrk against it while RSS is sampled."""

    def setUp(self):
        require_bin(self)
        need_tool("wrk")
        self.tmp = tempfile.mkdtemp(prefix="imgsvc-load-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.srv = None

    def start(self, extra=None):
        self.srv = LoadServer(self.tmp, extra)
        self.addCleanup(self.srv.stop)

    def load(self, path, lua_args, timeout_s):
        """Runs wrk on `path` while sampling RSS; returns (wrk record, rss summary, rss ok)."""
        sampler = RssSampler(self.srv)
        t0 = time.monotonic()
        rec = run_wrk(f"http://127.0.0.1:{self.srv.port}{path}", lua_args, timeout_s)
        samples = sampler.stop()
        self.assertIsNone(self.srv.proc.poll(), "imgsvc stopped during the run")
        ok, rss = rss_verdict(samples, DURATION_S)
        rec["wall_s"] = round(time.monotonic() - t0, 1)
        return rec, rss, ok

    def finish(self, name, rec, rss):
        """Stops the server (exit 0, no error line) and prints the figures."""
        rc = self.srv.stop()
        lines, errors, logged = self.srv.log_summary()
        print(f"LOAD {name}: " + json.dumps({
            "allocator": self.srv.allocator, "connections": CONNECTIONS,
            "duration_s": DURATION_S, "wrk": rec, "rss": rss, "log_lines": lines,
            "access_log_statuses": logged}), flush=True)
        self.assertEqual(rc, 0, "imgsvc did not exit 0 on SIGTERM")
        self.assertEqual(errors, [], "error lines in imgsvc's log")

    def assert_no_socket_errors(self, rec):
        e = rec["errors"]
        self.assertEqual((e["connect"], e["read"], e["write"], e["timeout"]), (0, 0, 0, 0),
                         f"wrk socket errors or timeouts: {rec}")

    def test_presign_60s(self):
        self.start()
        body = json.dumps(UPLOAD_BODY)
        bearer = {"Content-Type": "application/json", "Authorization": "Bearer " + API_KEY}
        status, _, data = self.srv.request("POST", "/v1/uploads", body, bearer)
        self.assertEqual(status, 201, data)
        self.assertTrue(json.loads(data)["url"].startswith("http"), data)
        status, _, _ = self.srv.request("POST", "/v1/uploads", body,
                                        {"Content-Type": "application/json"})
        self.assertEqual(status, 401, "authentication is on")
        body_file = os.path.join(self.tmp, "upload.json")
        with open(body_file, "w") as f:
            f.write(body)
        rec, rss, rss_ok = self.load("/v1/uploads", [
            "POST", body_file, "application/json", "Authorization: Bearer " + API_KEY], 10)
        self.finish("presign", rec, rss)
        self.assertGreater(rec["requests"], 0)
        self.assert_no_socket_errors(rec)
        self.assertEqual(rec["errors"]["status"], 0, rec)
        self.assertEqual(rec["statuses"], {201: rec["requests"]}, "every answer is 201")
        self.assertTrue(rss_ok, f"RSS grew: {rss}")

    def test_resize_60s(self):
        need_corpus()
        self.start({"IMGSVC_RESIZE_CONCURRENCY": "1", "IMGSVC_RESIZE_QUEUE": "0"})
        photo = smallest_photo()
        with open(photo, "rb") as f:
            data = f.read()
        status, hdrs, out = self.srv.request(
            "POST", "/v1/resize?w=320", data,
            {"Content-Type": "image/jpeg", "Authorization": "Bearer " + API_KEY})
        self.assertEqual(status, 200, out[:300])
        self.assertEqual(hdrs.get("x-image-width"), "320")
        self.assertEqual(out[:2], b"\xff\xd8", "a JPEG")
        rec, rss, rss_ok = self.load("/v1/resize?w=320", [
            "POST", photo, "image/jpeg", "Authorization: Bearer " + API_KEY], 30)
        rec["photo"] = {"name": os.path.basename(photo), "bytes": len(data)}
        self.finish("resize", rec, rss)
        st = rec["statuses"]
        self.assert_no_socket_errors(rec)
        self.assertEqual(set(st) - {200, 429}, set(), f"statuses other than 200 and 429: {st}")
        self.assertGreater(st.get(200, 0), 0, "no resize succeeded")
        self.assertGreater(st.get(429, 0), 0, "the limit was never exceeded")
        self.assertEqual(sum(st.values()), rec["requests"], rec)
        self.assertEqual(rec["no_retry_after"], 0, "429 without Retry-After")
        self.assertTrue(rss_ok, f"RSS grew: {rss}")


class RssRule(unittest.TestCase):
    def test_rss_rule_selftest(self):
        """rss_verdict on made-up series: flat, noisy, warm-up growth and one- or two-second
        spikes pass; a leak of 1 MiB/s, a slower one of 0.6 MiB/s and a late jump that stays
        fail."""
        def series(f):
            return [(float(t), f(t)) for t in range(60)]
        self.assertTrue(rss_verdict(series(lambda t: 40.0), 60)[0])
        self.assertTrue(rss_verdict(series(lambda t: 100.0 + (t * 7) % 20), 60)[0])
        self.assertTrue(rss_verdict(series(lambda t: 40.0 + 10 * min(t, 10)), 60)[0])
        self.assertFalse(rss_verdict(series(lambda t: 40.0 + t), 60)[0])
        self.assertFalse(rss_verdict(series(lambda t: 40.0 if t < 50 else 60.0), 60)[0])
        self.assertTrue(rss_verdict(series(lambda t: 90.0 if t == 49 else 62.0), 60)[0])
        self.assertTrue(rss_verdict(series(lambda t: 90.0 if t in (40, 55) else 62.0), 60)[0])
        self.assertFalse(rss_verdict(series(lambda t: 40.0 + 0.6 * t), 60)[0])
        self.assertEqual(p90([5.0, 1.0, 3.0, 2.0, 4.0, 6.0, 7.0, 8.0, 9.0, 10.0]), 9.0)
        self.assertFalse(rss_verdict([(0.0, 40.0), (5.0, 40.0)], 60)[0], "too few samples")


def put_presigned(doc, data):
    """PUTs data to the presigned URL with its headers, like a phone; returns the status."""
    u = urllib.parse.urlsplit(doc["url"])
    c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=60)
    try:
        c.request("PUT", u.path + ("?" + u.query if u.query else ""), body=data,
                  headers=dict(doc["headers"]))
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


class Burst(unittest.TestCase):
    def setUp(self):
        require_bin(self)
        need_tool("vips")
        need_corpus()
        self.tmp = tempfile.mkdtemp(prefix="imgsvc-burst-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.rgw = Rgw()
        tag = uuid.uuid4().hex[:10]
        self.bucket, self.feed = "imgsvc-load-" + tag, "burst-" + tag
        self.rgw.make_bucket(self.bucket)
        self.addCleanup(self.rgw.drop_bucket, self.bucket)
        env = dict(server_env(self.bucket), IMGSVC_EVENTS_TOKEN=TOKEN,
                   IMGSVC_WORKERS=str(BURST_WORKERS), IMGSVC_AUTH_MODE="api_key",
                   IMGSVC_API_KEYS=API_KEY)
        env.update(IMAGE_ALLOCATOR)
        self.srv = Server(env=env)
        self.addCleanup(self.stop_server)
        self.notes = Notifications(self.rgw, self.bucket, "imgsvc-load-" + tag)
        self.addCleanup(self.notes.close)
        self.notes.add("imgsvc", f"http://127.0.0.1:{self.srv.port}/v1/events/s3?token={TOKEN}")
        self.auth = {"Authorization": "Bearer " + API_KEY}

    def stop_server(self):
        self.assertEqual(self.srv.stop(), 0, "imgsvc did not exit 0 on SIGTERM")

    def upload(self, data):
        """Presign + PUT; returns the upload's document. (Not checked against openapi.yaml
        here: the contract checker is not thread-safe, and tests/integration checks it.)"""
        body = json.dumps({"domain": "feed", "ids": {"feedId": self.feed},
                           "contentType": "image/jpeg"})
        status, _, doc = self.srv.json("POST", "/v1/uploads", body=body, validate=False,
                                       headers=dict(self.auth, **{
                                           "Content-Type": "application/json"}))
        if status != 201:
            raise AssertionError(f"presign: {status} {doc}")
        status = put_presigned(doc, data)
        if status != 200:
            raise AssertionError(f"PUT {doc['key']}: {status}")
        return doc

    def check_status(self, doc, data, validate=False):
        """GET /v1/uploads/{id}: ready, the feed presets, the source's size."""
        status, _, st = self.srv.json(
            "GET", f"/v1/uploads/{doc['uploadId']}?domain=feed&feedId={self.feed}",
            headers=self.auth, validate=validate)
        self.assertEqual(status, 200, st)
        self.assertEqual(st["status"], "ready", st)
        m = st["manifest"]
        self.assertEqual(m["source"]["size"], len(data), doc["key"])
        self.assertEqual(sorted(v["name"] for v in m["variants"]), sorted(FEED_PRESETS))

    def wait_ready(self, docs, t0):
        """Until every manifest exists and delete/ is empty; returns the seconds it took."""
        want = {d["manifest"] for d in docs}
        prefix = f"feed/{self.feed}/manifest/"
        while True:
            have = set(self.rgw.keys(self.bucket, prefix))
            temps = self.rgw.keys(self.bucket, "delete/")
            if want <= have and not temps:
                return time.monotonic() - t0
            if time.monotonic() - t0 > BURST_WAIT_S:
                self.fail(f"{len(want - have)} of {len(want)} uploads not ready and {len(temps)} "
                          f"temps left after {BURST_WAIT_S} s; last logs:\n" +
                          "".join(self.srv.lines[-30:]))
            time.sleep(1)

    def metric(self, name_and_labels):
        status, _, body = self.srv.request("GET", "/metrics", headers=self.auth)
        self.assertEqual(status, 200)
        for line in body.decode().splitlines():
            if line.startswith(name_and_labels + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def test_burst_1000_uploads_rgw(self):
        smalls = small_jpegs(self.tmp, n=8)
        t_live = time.monotonic()
        self.notes.apply(wait_live=LIVE_S)
        live_s = time.monotonic() - t_live
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(BURST_THREADS) as pool:
            docs = list(pool.map(lambda i: self.upload(smalls[i % len(smalls)]),
                                 range(BURST_N)))
        put_s = time.monotonic() - t0
        ready_s = self.wait_ready(docs, t0)
        t1 = time.monotonic()
        for i, doc in enumerate(docs[:10]):  # checked against openapi.yaml too
            self.check_status(doc, smalls[i % len(smalls)], validate=True)
        with concurrent.futures.ThreadPoolExecutor(BURST_THREADS) as pool:
            list(pool.map(lambda i: self.check_status(docs[i], smalls[i % len(smalls)]),
                          range(10, BURST_N)))
        status_s = time.monotonic() - t1
        for doc in docs[:5]:  # a few variants read back: the bytes their manifest lists
            m = json.loads(self.rgw.get(self.bucket, doc["manifest"]))
            for v in m["variants"]:
                body = self.rgw.get(self.bucket, v["key"])
                self.assertEqual((len(body), body[:2]), (v["bytes"], b"\xff\xd8"), v["key"])
        self.assertEqual(self.rgw.keys(self.bucket, "delete/"), [], "temps left")
        self.assertEqual(self.rgw.keys(self.bucket, "failed/"), [], "failed records")
        ready = self.metric('imgsvc_pipeline_records_total{outcome="ready",reason=""}')
        events = self.metric('imgsvc_events_received_total{source="ceph:s3"}')
        found = self.metric("imgsvc_reconciler_found_total")
        failed = [r for r in self.srv.logs() if r.get("msg") == "record" and
                  r.get("outcome") == "failed"]
        print("LOAD burst: " + json.dumps({
            "uploads": BURST_N, "put_threads": BURST_THREADS, "topic_live_s": round(live_s, 1),
            "presign_put_s": round(put_s, 1), "uploads_per_s": round(BURST_N / put_s, 1),
            "all_ready_s": round(ready_s, 1), "status_checks_s": round(status_s, 1),
            "events_received": events, "reconciler_found": found, "ready_records": ready}),
            flush=True)
        self.assertEqual(failed, [], "an upload was recorded as failed")
        self.assertEqual(ready, BURST_N, "each upload processed exactly once")


if __name__ == "__main__":
    unittest.main()
