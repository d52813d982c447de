#!/usr/bin/env python3
"""bench/pipeline driver: uploads of corpus photos through Ceph RGW to imgsvc and to the seed's
stack (bench/anchors/pipeline-node.mjs), side by side in one run; prints one JSON document.

Each stack gets a bucket of its own and two RGW topics on it (tests/integration/rgwnotify.py):
  push   persistent, s3:ObjectCreated:* under delete/ -> the stack's POST /v1/events/s3
         (imgsvc: ?token=...), exactly as in production;
  watch  NOT persistent, s3:ObjectRemoved:* under delete/ -> a recorder in this driver. RGW
         pushes it from inside the DELETE request, so the recorder sees the temp object's
         deletion within a few milliseconds: the moment the job finished.
"Ready" is therefore the temp's DELETE, the last step of both stacks (imgsvc deletes the temp
right after writing the manifest; the seed's handler after the variants and origin). The same
signal for both, no polling load on RGW. upload-to-ready = that moment - the start of the PUT.

Phases, per stack, the stacks interleaved (imgsvc closed, node closed, imgsvc open, node open):
  closed  N uploads (-n, default 200) PUT by -c threads (default 8) as fast as RGW takes them;
          images/s = N / (last ready - first PUT start): the stack's maximum rate;
  open    M uploads (-m, default 100) arriving as a Poisson process (seeded) at -f (default 0.5)
          times that stack's own closed-phase rate; p50/p99 upload-to-ready at that load.
Photos cycle through the corpus's photos/ (12 phone JPEGs, 4032x3024, 1.5-3 MB), domain feed
(three widths, 1080/640/320). After each phase every upload's outputs are counted in RGW
(variants, origin, and for imgsvc the manifest), nothing may be left under delete/, and then
the phase's objects are deleted (RGW's memstore is in memory).

With --sync-events both stacks' push topics are non-persistent instead: RGW pushes the event
from inside the PUT (no queue). RGW 16 (rgw_notify.cc) sleeps a hard-coded 100 ms
(IDLE_TIMEOUT_USEC, no config option) whenever it finds a persistent queue empty, so with the
persistent topic a quiet stack's event waits 0-100 ms (plus the queue's RADOS round trips)
before it is even sent; the synchronous topic shows the stacks' own latency.

CPU: per phase, utime+stime (/proc/PID/stat, every thread) of the stack under test, radosgw,
ceph-osd, ceph-mon and this driver, from the phase's first PUT to its last ready, in total and
per upload ("other" = the rest of the machine's busy time: processes outside the benchmark);
"cpu_per_upload" compares the stacks' own CPU per upload (node / imgsvc).

Latency in parts (imgsvc only: the anchor logs nothing per upload): each upload-to-ready is cut
into the PUT, RGW's delivery of the event, the wait in imgsvc's job queue and the handler (see
latency_parts); per phase the medians and the parts of the p90, p99 and slowest uploads, and
with --timings every upload's parts as JSON lines.

usage: pipeline_bench.py --imgsvc BIN --photos DIR [-n N] [-m M] [-c C] [-f F] [-w WORKERS]
                         [-W NODE_JOBS]
                         [--stacks imgsvc,node] [--seed S] [--node NODE] [--sync-events]
                         [--imgsvc-env NAME=VALUE] [--timings FILE]
"""
import argparse
import concurrent.futures
import datetime
import http.client
import json
import math
import os
import platform
import random
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import harness  # noqa: E402
from rgwnotify import ACCESS_KEY, ENDPOINT, REGION, SECRET_KEY  # noqa: E402
from rgwnotify import Notifications, Recorder, Rgw, server_env  # noqa: E402

TOKEN = "bench-pipeline-token-0123456789abcdef"
WIDTHS = ("1080", "640", "320")
CLK_TCK = os.sysconf("SC_CLK_TCK")
RGW_DIR = os.environ.get("IMGSVC_RGW_DIR", "/tmp/imgsvc-rgw")
# The cluster's daemons: pid file (scripts/rgw.sh) and, when it is missing, the process name.
CEPH = (("radosgw", "radosgw.pid"), ("ceph-osd", "osd.0.pid"), ("ceph-mon", "mon.a.pid"))


def say(*a):
    print("[pipeline_bench]", *a, file=sys.stderr, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return {"nproc": os.cpu_count(), "cpu": model, "mem_gib": round(mem_kb / 1048576, 1),
            "kernel": platform.release(), "loadavg_start": loadavg(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def proc_cpu_ms(pid):
    """utime + stime of process `pid` (all its threads, live and exited), ms; None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(rest[11]) + int(rest[12])) * 1000.0 / CLK_TCK


def machine_busy_ms():
    """CPU time of the whole machine (every core) not idle and not waiting for I/O, ms."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v[:8]) - v[3] - v[4]) * 1000.0 / CLK_TCK


def ceph_pids():
    """{component: pid} of the cluster's radosgw (the S3 one, not STS), ceph-osd, ceph-mon."""
    out = {}
    for name, pidfile in CEPH:
        try:
            with open(os.path.join(RGW_DIR, "run", pidfile)) as f:
                out[name] = int(f.read().strip())
            continue
        except (OSError, ValueError):
            pass
        for d in os.listdir("/proc"):
            try:
                with open(f"/proc/{d}/comm") as f:
                    if d.isdigit() and f.read().strip() == name:
                        out[name] = int(d)
                        break
            except OSError:
                pass
    return out


class CpuMeter:
    """CPU per component over one phase: the stack under test, radosgw, ceph-osd, ceph-mon,
    this driver (PUTs, recorder), "other" (the rest of the machine: other users) and
    "machine" (everything). Snapshot at the phase's start and at its last ready."""

    def __init__(self, stack_name, stack_pid):
        self.pids = dict(ceph_pids(), **{stack_name: stack_pid, "driver": os.getpid()})
        self.t0 = self._snap()

    def _snap(self):
        snap = {k: proc_cpu_ms(pid) for k, pid in self.pids.items()}
        snap["machine"] = machine_busy_ms()
        return snap

    def result(self, uploads):
        """{"cpu_ms": {...}, "cpu_ms_per_upload": {...}} since construction."""
        t1 = self._snap()
        total = {k: round(t1[k] - self.t0[k], 1) for k in t1
                 if t1[k] is not None and self.t0.get(k) is not None}
        total["other"] = round(total["machine"] - sum(
            v for k, v in total.items() if k != "machine"), 1)
        return {"cpu_ms": total,
                "cpu_ms_per_upload": {k: round(v / uploads, 1) for k, v in total.items()}}


def pct(values, p):
    """The p-th percentile (nearest rank: the ceil(p/100 * n)-th smallest) of values, in
    milliseconds, rounded. The p99 of 100 uploads is the 99th, not the largest."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p * len(s) / 100) - 1))
    return round(s[k] * 1000, 1)


class Stack:
    """One stack under test: its bucket, its server, its two topics."""

    def __init__(self, name, rgw, watch):
        self.name, self.rgw, self.watch = name, rgw, watch
        self.tag = uuid.uuid4().hex[:8]
        self.bucket = f"bench-pipe-{name}-{self.tag}"
        self.notes = None
        self.srv = None  # harness.Server (imgsvc)
        self.proc = None  # Popen (node)
        self.port = None
        self.versions = {}

    def start(self, args):
        self.rgw.make_bucket(self.bucket)
        if self.name == "imgsvc":
            env = dict(server_env(self.bucket), IMGSVC_EVENTS_TOKEN=TOKEN,
                       IMGSVC_WORKERS=str(args.workers),
                       **dict(kv.split("=", 1) for kv in args.imgsvc_env))
            self.srv = harness.Server(env=env)
            self.port = self.srv.port
            url = f"http://127.0.0.1:{self.port}/v1/events/s3?token={TOKEN}"
            out = subprocess.run([args.imgsvc, "--version"], capture_output=True, text=True)
            self.versions = {"imgsvc": (out.stdout or out.stderr).strip().splitlines()[0],
                             "workers": args.workers}
        else:
            env = dict(os.environ, PORT="0", PIPE_CONCURRENCY=str(args.node_jobs or args.workers),
                       S3_ENDPOINT=ENDPOINT, S3_BUCKET=self.bucket, AWS_REGION=REGION,
                       AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                       NODE_NO_WARNINGS="1")
            self.proc = subprocess.Popen(
                [args.node, os.path.join(ROOT, "bench", "anchors", "pipeline-node.mjs")],
                env=env, stdout=subprocess.PIPE, text=True)
            first = json.loads(self.proc.stdout.readline())
            self.port = first["listening"]
            self.versions = {k: first[k] for k in ("sharp", "vips", "node", "concurrency")}
            url = f"http://127.0.0.1:{self.port}/v1/events/s3"
        self.notes = Notifications(self.rgw, self.bucket, "bench-pipe-" + self.tag)
        self.notes.add("push", url, persistent=not args.sync_events)
        self.notes.add("watch", self.watch.url("/watch/" + self.name),
                       events=("s3:ObjectRemoved:*",), persistent=False)
        self.notes.apply(wait_live=120)
        say(f"{self.name}: port {self.port}, bucket {self.bucket}, topics live")

    def presign(self, n):
        """n (key, url, headers) for feed uploads; imgsvc's through POST /v1/uploads."""
        out = []
        if self.name == "imgsvc":
            body = json.dumps({"domain": "feed", "ids": {"feedId": "bench-" + self.tag},
                               "contentType": "image/jpeg"})
            for _ in range(n):
                st, _, doc = self.srv.json("POST", "/v1/uploads", body=body,
                                           headers={"Content-Type": "application/json"})
                if st != 201:
                    raise RuntimeError(f"POST /v1/uploads: {st} {doc}")
                out.append((doc["key"], doc["url"], doc["headers"]))
        else:
            for _ in range(n):
                key = f"delete/feed/bench-{self.tag}/{uuid.uuid4()}_{int(time.time())}.jpeg"
                url = self.rgw.s3.generate_presigned_url(
                    "put_object", Params={"Bucket": self.bucket, "Key": key,
                                          "ContentType": "image/jpeg"}, ExpiresIn=3600)
                out.append((key, url, {"Content-Type": "image/jpeg"}))
        return out

    def pid(self):
        return self.srv.proc.pid if self.srv is not None else self.proc.pid

    def metrics(self):
        if self.srv is None:
            return {}
        st, _, body = self.srv.request("GET", "/metrics")
        keep = {}
        for line in body.decode().splitlines():
            if line.startswith(("imgsvc_pipeline_records_total", "imgsvc_reconciler_found_total",
                                "imgsvc_events_received_total",
                                "imgsvc_pipeline_duration_seconds_sum",
                                "imgsvc_pipeline_duration_seconds_count",
                                "imgsvc_pipeline_phase_seconds_sum",
                                "imgsvc_pipeline_phase_seconds_count")):
                name, value = line.rsplit(" ", 1)
                keep[name] = float(value)
        return keep

    def check(self, keys):
        """Counts the outputs of `keys` in the bucket; raises when one is missing or a temp is
        left."""
        listed = set(self.rgw.keys(self.bucket))
        missing = []
        for key in keys:
            path, file = key[len("delete/"):].rsplit("/", 1)
            want = [f"{path}/{w}/{file}" for w in WIDTHS] + [f"{path}/origin/{file}"]
            if self.name == "imgsvc":
                want.append(f"{path}/manifest/{file.rsplit('.', 1)[0]}.json")
            missing += [k for k in want if k not in listed]
        left = [k for k in listed if k.startswith("delete/")]
        if missing or left:
            raise RuntimeError(f"{self.name}: {len(missing)} outputs missing (e.g. "
                               f"{missing[:3]}), {len(left)} temps left")
        return len(listed)

    def clear(self):
        """Deletes every object of the bucket (outputs only: nothing is under delete/)."""
        keys = self.rgw.keys(self.bucket)
        for i in range(0, len(keys), 1000):
            self.rgw.s3.delete_objects(Bucket=self.bucket, Delete={
                "Objects": [{"Key": k} for k in keys[i:i + 1000]], "Quiet": True})

    def stop(self):
        rc = None
        if self.srv is not None:
            rc = self.srv.stop()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.communicate(timeout=60)
            rc = self.proc.returncode
        if self.notes is not None:
            self.notes.close()
        self.rgw.drop_bucket(self.bucket)
        return rc


class Putter:
    """PUTs presigned URLs to RGW over kept-alive connections (one per thread)."""

    def __init__(self):
        self.local = threading.local()

    def put(self, url, headers, body):
        u = urllib.parse.urlsplit(url)
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        t0 = time.time()
        try:
            conn.request("PUT", u.path + "?" + u.query, body=body, headers=headers)
            r = conn.getresponse()
            r.read()
        except (http.client.HTTPException, OSError):
            self.local.conn = None
            raise
        if r.status != 200:
            raise RuntimeError(f"PUT {u.path}: HTTP {r.status}")
        return t0, time.time()


LATENCY_PARTS = ("put", "delivery", "waited", "handler", "slot", "imaging")


def latency_parts(logs, keys, starts, put_ends, ready):
    """{key: {part: ms}} of imgsvc's uploads, from the driver's clock and imgsvc's "record"
    log lines (written when the handler ends, with its wall time `ms` and `waited_ms`, the wait
    for a job slot before it): put = the PUT itself; delivery = PUT answered -> imgsvc has the
    event (RGW's push, the persistent queue's poll included); waited = in imgsvc's job queue;
    handler = GET temp .. DELETE temp, of which slot (waiting for an imaging slot) and imaging
    (the record's phases_ms). Log times have millisecond resolution."""
    out = {}
    for rec in logs:
        k = rec.get("key")
        if rec.get("msg") != "record" or k not in keys or "waited_ms" not in rec:
            continue
        try:
            end = datetime.datetime.fromisoformat(rec["ts"].replace("Z", "+00:00")).timestamp()
        except (KeyError, ValueError):
            continue
        start = end - rec["ms"] / 1000.0
        received = start - rec["waited_ms"] / 1000.0
        out[k] = {"put": round(1000 * (put_ends[k] - starts[k]), 1),
                  "delivery": round(1000 * (received - put_ends[k]), 1),
                  "waited": rec["waited_ms"], "handler": rec["ms"],
                  "slot": rec.get("phases_ms", {}).get("queue", 0),
                  "imaging": rec.get("phases_ms", {}).get("imaging", 0)}
    return out


def ready_times(watch, stack, keys):
    """{key: time of the temp's DELETE} for the keys seen so far."""
    out = {}
    for t, path, _, body in list(watch.posts):
        if path.split("?", 1)[0] != "/watch/" + stack:
            continue
        for rec in json.loads(body).get("Records", []):
            k = rec["s3"]["object"]["key"]
            if k in keys and k not in out:
                out[k] = t
    return out


def wait_ready(watch, stack, keys, timeout, stall):
    """{key: ready time} once every key is ready, or what is ready when `timeout` seconds have
    passed or no upload became ready for `stall` seconds (the caller reports the shortfall)."""
    deadline = time.time() + timeout
    seen, moved = 0, time.time()
    while True:
        got = ready_times(watch, stack, keys)
        now = time.time()
        if len(got) != seen:
            seen, moved = len(got), now
        if len(got) == len(keys) or now > deadline or now - moved > stall:
            return got
        time.sleep(0.2)


def phase(stack, watch, photos, n, mode, rate, args):
    """One phase: n uploads, closed (args.concurrency threads, flat out) or open (Poisson
    arrivals at `rate` per second). Returns its result dict."""
    jobs = stack.presign(n)
    bodies = [photos[i % len(photos)] for i in range(n)]
    keys = {key for key, _, _ in jobs}
    starts, put_ends = {}, {}
    putter = Putter()
    load0 = loadavg()
    say(f"{stack.name}: {mode} phase, {n} uploads" +
        (f" at {rate:.2f}/s" if mode == "open" else f", {args.concurrency} PUT threads"))
    m0 = stack.metrics()
    meter = CpuMeter(stack.name, stack.pid())
    if mode == "closed":
        with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
            futs = {pool.submit(putter.put, url, hdrs, body): key
                    for (key, url, hdrs), body in zip(jobs, bodies)}
            for f in concurrent.futures.as_completed(futs):
                starts[futs[f]], put_ends[futs[f]] = f.result()
    else:
        rng = random.Random(args.seed)
        t = time.time() + 0.5
        plan = []
        for job, body in zip(jobs, bodies):
            plan.append((t, job, body))
            t += rng.expovariate(rate)
        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            futs = {}
            for at, (key, url, hdrs), body in plan:
                delay = at - time.time()
                if delay > 0:
                    time.sleep(delay)
                futs[pool.submit(putter.put, url, hdrs, body)] = key
            for f in concurrent.futures.as_completed(futs):
                starts[futs[f]], put_ends[futs[f]] = f.result()
    puts_done = time.time()
    ready = wait_ready(watch, stack.name, keys, args.timeout, args.stall)
    cpu = meter.result(n)  # before the checks and the clean-up below
    if len(ready) < n:
        raise RuntimeError(f"{stack.name}: {n - len(ready)} of {n} uploads not ready within "
                           f"{args.timeout} s of the last PUT, or none for {args.stall} s (the "
                           "stack or RGW's delivery of its events stalled)")
    objects = stack.check(keys)
    lat = [ready[k] - starts[k] for k in keys]
    first, last = min(starts.values()), max(ready.values())
    res = {"mode": mode, "uploads": n, "seconds": round(last - first, 2),
           "images_per_s": round(n / (last - first), 3),
           "put_seconds": round(puts_done - first, 2),
           "p50_ms": pct(lat, 50), "p90_ms": pct(lat, 90), "p99_ms": pct(lat, 99),
           "max_ms": pct(lat, 100), "objects_checked": objects,
           "loadavg_before": load0, "loadavg_after": loadavg(), **cpu}
    if mode == "open":
        res["arrival_rate_per_s"] = round(rate, 3)
    if stack.name == "imgsvc":
        m1 = stack.metrics()
        d = {k: v - m0.get(k, 0.0) for k, v in m1.items() if v - m0.get(k, 0.0) != 0}
        res["imgsvc_metrics"] = d
        total = d.get('imgsvc_pipeline_duration_seconds_sum{outcome="ready"}', 0.0)
        count = d.get('imgsvc_pipeline_duration_seconds_count{outcome="ready"}', 0.0)
        if count:  # the handler's own wall time per upload (GET .. DELETE), mean
            res["imgsvc_processing_mean_ms"] = round(1000 * total / count, 1)
        phases = {}
        for ph in ("read", "queue", "imaging", "write", "delete"):
            t = d.get(f'imgsvc_pipeline_phase_seconds_sum{{phase="{ph}"}}', 0.0)
            c = d.get(f'imgsvc_pipeline_phase_seconds_count{{phase="{ph}"}}', 0.0)
            if c:
                phases[ph] = round(1000 * t / c, 1)
        if phases:  # mean wall time of each step of the handler, ms
            res["imgsvc_phase_mean_ms"] = phases
        parts = latency_parts(stack.srv.logs(), keys, starts, put_ends, ready)
        if parts:
            lat_of = {k: ready[k] - starts[k] for k in parts}
            ranked = sorted(parts, key=lambda k: lat_of[k])
            at = lambda p: ranked[max(1, math.ceil(p * len(ranked) / 100)) - 1]  # as pct()
            res["imgsvc_latency_parts_ms"] = {
                "median": {part: pct([v[part] / 1000.0 for v in parts.values()], 50)
                           for part in LATENCY_PARTS},
                "p90_upload": parts[at(90)], "p99_upload": parts[at(99)],
                "slowest_upload": parts[ranked[-1]]}
        if args.timings:
            with open(args.timings, "a") as f:
                for k in sorted(parts, key=lambda k: starts[k]):
                    f.write(json.dumps({"stack": stack.name, "phase": mode, "key": k,
                                        "start": round(starts[k], 4),
                                        "ready_ms": round(1000 * (ready[k] - starts[k]), 1),
                                        **parts[k]}) + "\n")
    stack.clear()
    per = res["cpu_ms_per_upload"]
    say(f"{stack.name}: {mode}: {res['images_per_s']} images/s, p50 {res['p50_ms']} ms, "
        f"p99 {res['p99_ms']} ms; CPU ms/upload " +
        ", ".join(f"{k} {v}" for k, v in per.items()))
    return res


def cpu_summary(st):
    """Each stack's own CPU ms per upload and the node/imgsvc ratio, per phase; plus the
    cluster's (radosgw + ceph-osd + ceph-mon) per upload under each stack."""
    out = {}
    for mode in ("closed", "open"):
        own = {s: st[s][mode]["cpu_ms_per_upload"].get(s) for s in ("imgsvc", "node")}
        ceph = {s: round(sum(st[s][mode]["cpu_ms_per_upload"].get(k, 0) for k, _ in CEPH), 1)
                for s in ("imgsvc", "node")}
        ratio = own["node"] / own["imgsvc"] if own["imgsvc"] and own["node"] else None
        out[mode] = {"stack_ms": own, "ceph_ms": ceph,
                     "node_over_imgsvc": round(ratio, 2) if ratio else None}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--imgsvc", required=True)
    ap.add_argument("--photos", required=True)
    ap.add_argument("--node", default="node")
    ap.add_argument("-n", type=int, default=200, help="uploads in the closed phase")
    ap.add_argument("-m", type=int, default=100, help="uploads in the open phase")
    ap.add_argument("-c", dest="concurrency", type=int, default=8, help="PUT threads (closed)")
    ap.add_argument("-f", dest="fraction", type=float, default=0.5,
                    help="open-phase rate as a fraction of the closed-phase rate")
    ap.add_argument("-w", dest="workers", type=int, default=2,
                    help="imgsvc's IMGSVC_WORKERS (uploads decoded at once; twice as many jobs "
                         "in progress) and, unless -W, the anchor's PIPE_CONCURRENCY")
    ap.add_argument("-W", dest="node_jobs", type=int, default=0,
                    help="the anchor's PIPE_CONCURRENCY (jobs at once), default -w")
    ap.add_argument("--stacks", default="imgsvc,node")
    ap.add_argument("--sync-events", action="store_true",
                    help="push ObjectCreated from a non-persistent topic (inside the PUT, no "
                         "queue: RGW 16 polls an idle persistent queue every 100 ms) for both")
    ap.add_argument("--imgsvc-env", action="append", default=[], metavar="NAME=VALUE",
                    help="an imgsvc setting other than its default (repeatable; reported in "
                         "settings.imgsvc_env)")
    ap.add_argument("--timings", metavar="FILE", default="",
                    help="append one JSON line per imgsvc upload (its latency in parts) to FILE")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--stall", type=float, default=120,
                    help="give up when no upload became ready for this many seconds")
    ap.add_argument("--build-type", default="", help="imgsvc's CMAKE_BUILD_TYPE (reported)")
    args = ap.parse_args()
    for kv in args.imgsvc_env:
        if "=" not in kv or not kv.startswith("IMGSVC_"):
            raise SystemExit(f"--imgsvc-env wants IMGSVC_NAME=VALUE, not {kv!r}")
    harness.BIN = args.imgsvc
    names = sorted(f for f in os.listdir(args.photos) if f.endswith(".jpg"))
    photos = []
    for name in names:
        with open(os.path.join(args.photos, name), "rb") as f:
            photos.append(f.read())
    if not photos:
        raise SystemExit(f"no .jpg in {args.photos}")
    doc = {"benchmark": "pipeline", "machine": machine(),
           "settings": {"closed_uploads": args.n, "open_uploads": args.m,
                        "put_threads": args.concurrency, "open_rate_fraction": args.fraction,
                        "workers": args.workers, "node_jobs": args.node_jobs or args.workers,
                        "imgsvc_pipeline_jobs": 2 * args.workers, "seed": args.seed, "domain": "feed",
                        "photos": len(photos),
                        "photo_bytes_mean": int(sum(map(len, photos)) / len(photos)),
                        "ready": "temp object's DELETE (non-persistent ObjectRemoved topic)",
                        "events": ("RGW non-persistent (synchronous) topic" if args.sync_events
                                   else "RGW persistent topic") + " -> POST /v1/events/s3",
                        "imgsvc_env": dict(kv.split("=", 1) for kv in args.imgsvc_env)},
           "stacks": {}}
    rgw = Rgw()
    watch = Recorder()
    stacks = [Stack(s, rgw, watch) for s in args.stacks.split(",")]
    try:
        for s in stacks:
            s.start(args)
            doc["stacks"][s.name] = {"versions": s.versions}
            if s.name == "imgsvc":
                s.versions["build_type"] = args.build_type
        for s in stacks:
            doc["stacks"][s.name]["closed"] = phase(s, watch, photos, args.n, "closed", 0, args)
        for s in stacks:
            rate = args.fraction * doc["stacks"][s.name]["closed"]["images_per_s"]
            doc["stacks"][s.name]["open"] = phase(s, watch, photos, args.m, "open", rate, args)
    finally:
        for s in stacks:
            try:
                rc = s.stop()
                if s.name in doc["stacks"]:
                    doc["stacks"][s.name]["exit_code"] = rc
            except Exception as ex:  # cleanup must go on for the other stack
                say(f"{s.name}: cleanup: {ex}")
        watch.close()
    doc["machine"]["loadavg_end"] = loadavg()
    st = doc["stacks"]
    if "imgsvc" in st and "node" in st:
        ratio = st["imgsvc"]["closed"]["images_per_s"] / st["node"]["closed"]["images_per_s"]
        p99 = st["imgsvc"]["open"]["p99_ms"]
        doc["targets"] = {
            "throughput_ratio": {"value": round(ratio, 2), "target": 2.0, "met": ratio >= 2.0},
            "p99_ms_at_half_max": {"value": p99, "target": 400, "met": p99 <= 400}}
        if args.imgsvc_env:  # the targets are for imgsvc's defaults
            doc["targets"]["with_settings"] = doc["settings"]["imgsvc_env"]
        doc["cpu_per_upload"] = cpu_summary(st)
    print(json.dumps(doc))


if __name__ == "__main__":
    main()
