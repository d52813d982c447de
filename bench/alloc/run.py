#!/usr/bin/env python3
"""Allocator benchmark: resident memory of `imgsvc serve` over a long resize load.

For each allocator configuration (imgsvc as it runs by default: glibc's malloc limited to 2
arenas by server/alloc.c; glibc with its own default of 8 arenas per core; MALLOC_ARENA_MAX=2
set in the environment; Debian's jemalloc through LD_PRELOAD) this starts `imgsvc serve` on
loopback (embedded store on an ephemeral port, a private data folder), drives POST /v1/resize
with C client threads for D seconds, samples VmRSS from /proc/PID/status every S seconds, stops
the server with SIGTERM, and prints one JSON document with every series and its summary:
RSS after the warm-up minute, at the end, the maximum, the mean of the last quarter and the
growth rate over the second half (least squares, MB per hour).

The workload mixes what a long-running service sees: the corpus photos (4032x3024 JPEGs) and the
formats/ files (WebP, PNG with alpha, HEIC, AVIF, GIF, CMYK, 16-bit PNG, progressive JPEG),
resized to pseudo-random widths (32 to 2048) and encoded as JPEG, WebP or PNG; the same seeded
sequence for every configuration, so each sees the same requests in the same order per thread.

--workload ingest drives the event pipeline instead, as phones do: each client presigns an
upload (POST /v1/uploads, domain feed), PUTs a corpus photo to the embedded store's presigned
URL, which runs the pipeline (decode, three variants, placeholders, origin, manifest), and polls
GET /v1/uploads/{id} until it is ready, then deletes the upload's origin, variants and manifest
(SigV4-signed DELETEs to the store; --keep-outputs keeps them: ~2.8 MB an upload, ~100 GB for
an hour) before the next one; the result adds the server's CPU per upload.

Each configuration's data folder (a temporary folder with the store's objects and the server's
log) is removed after the server stops cleanly; it is kept, and its path printed, when the
server exits otherwise or with --keep-data.

usage: bench/alloc/run.py [--bin build/imgsvc] [--corpus DIR] [--duration 600] [--clients 4]
                          [--interval 5] [--configs imgsvc,glibc,arena2,jemalloc] [--quick]
                          [--parallel] [--workload resize|ingest] [--keep-outputs] [--keep-data]

The corpus is $IMGSVC_CORPUS_DIR or ~/.cache/imgsvc/corpus (see bench/imaging/imaging_run.sh
to build it). Requests only go to 127.0.0.1. --quick: 20 seconds per configuration.
--parallel runs the configurations side by side (each its own server and clients), so a busy
machine loads them all alike; sequential runs are fairer to each one's throughput on a quiet
machine.
"""
import argparse
import http.client
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "tests", "integration"))
import storelib  # noqa: E402  (the tests' SigV4 signer)

JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
CONFIGS = {
    "imgsvc": {"what": "glibc malloc as imgsvc sets it: 2 arenas (server/alloc.c)", "env": {}},
    "glibc": {"what": "glibc malloc with its own default arenas (8 x cores)",
              "env": {"MALLOC_ARENA_MAX": str(8 * (os.cpu_count() or 1))}},
    "arena2": {"what": "glibc malloc, MALLOC_ARENA_MAX=2", "env": {"MALLOC_ARENA_MAX": "2"}},
    "jemalloc": {"what": "jemalloc 5.3 (Debian libjemalloc2) via LD_PRELOAD",
                 "env": {"LD_PRELOAD": JEMALLOC}},
}
FORMATS = ["jpeg", "webp", "png"]
# the embedded store's keys, set explicitly (the ingest clients sign their DELETEs with them)
STORE_ACCESS, STORE_SECRET = "imgsvc-alloc", "imgsvc-alloc-secret"


def read_status(pid):
    """VmRSS, VmHWM (MB) and Threads of a process, or None when it is gone."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, val = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(val.split()[0]) / 1024.0
                elif key == "Threads":
                    out[key] = int(val)
    except OSError:
        return None
    return out


def load_inputs(corpus, subs=("photos", "formats")):
    """(name, bytes) of every usable corpus image in the folders `subs`."""
    inputs = []
    for sub in subs:
        d = os.path.join(corpus, sub)
        for name in sorted(os.listdir(d)):
            if name.startswith("large-"):  # 108 MP: one image would dominate the run
                continue
            with open(os.path.join(d, name), "rb") as f:
                inputs.append((f"{sub}/{name}", f.read()))
    return inputs


def start_server(binary, extra_env, log_path, data_dir):
    """Starts `imgsvc serve` with its log in log_path; returns (process, API port)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("IMGSVC_", "MALLOC_", "LD_PRELOAD", "AWS_"))}
    env.update({"IMGSVC_PORT": "0", "IMGSVC_LISTEN_ADDR": "127.0.0.1", "IMGSVC_STORE_PORT": "0",
                "IMGSVC_DATA_DIR": data_dir, "IMGSVC_RESIZE_QUEUE": "64",
                "IMGSVC_STORE_ACCESS_KEY_ID": STORE_ACCESS,
                "IMGSVC_STORE_SECRET_ACCESS_KEY": STORE_SECRET})
    env.update(extra_env)
    with open(log_path, "w") as log:
        proc = subprocess.Popen([binary, "serve"], env=env, stdout=log, stderr=log)
    deadline = time.time() + 20
    while time.time() < deadline and proc.poll() is None:
        with open(log_path) as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if rec.get("msg") == "listening" and "server" not in rec:
                    return proc, rec["port"]
        time.sleep(0.1)
    proc.kill()
    with open(log_path) as f:
        raise RuntimeError("imgsvc did not start: " + f.read()[-2000:])


def add_counts(counts, lock, ok, err, codes):
    """Adds one client's tallies (codes: status or outcome -> count) to the shared counts."""
    with lock:
        counts["ok"] += ok
        counts["errors"] += err
        for k, v in codes.items():
            counts["codes"][str(k)] = counts["codes"].get(str(k), 0) + v


def client(port, inputs, seed, stop_at, counts, lock):
    rnd = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    ok = err = 0
    codes = {}
    while time.time() < stop_at:
        name, body = inputs[rnd.randrange(len(inputs))]
        w = rnd.choice([32, 64, 150, 320, 480, 640, 800, 1080, 1440, 2048])
        fmt = rnd.choice(FORMATS)
        try:
            conn.request("POST", f"/v1/resize?w={w}&format={fmt}&q=80", body=body,
                         headers={"Content-Type": "application/octet-stream"})
            r = conn.getresponse()
            r.read()
            codes[r.status] = codes.get(r.status, 0) + 1
            if r.status == 200:
                ok += 1
            else:
                err += 1
        except (OSError, http.client.HTTPException):
            err += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.close()
    add_counts(counts, lock, ok, err, codes)


def delete_outputs(doc, keep):
    """Deletes an upload's origin, variants and manifest from the embedded store (a SigV4-signed
    DELETE each, with the store's keys, in the presigned URL's region), so that a long run does
    not fill the disk; nothing when `keep`. Returns how many DELETEs failed."""
    if keep:
        return 0
    u = urllib.parse.urlsplit(doc["url"])
    region = urllib.parse.parse_qs(u.query)["X-Amz-Credential"][0].split("/")[2]
    bucket = u.path.lstrip("/").split("/", 1)[0]
    host = f"{u.hostname}:{u.port}"
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    failed = 0
    for key in list(doc["variants"].values()) + [doc["manifest"]]:
        path = "/" + bucket + "/" + storelib.quote(key)
        conn.request("DELETE", path, headers=storelib.sign_headers(
            "DELETE", host, path, STORE_ACCESS, STORE_SECRET, region=region))
        r = conn.getresponse()
        r.read()
        failed += r.status != 204
    conn.close()
    return failed


def ingest_client(port, inputs, seed, stop_at, counts, lock, keep=False):
    """Presign, PUT to the embedded store, poll until ready, delete the outputs (unless `keep`);
    one upload at a time."""
    rnd = random.Random(seed)
    feed = f"alloc-{seed}"
    api = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    ok = err = 0
    codes = {}

    def call(method, path, body=None, headers=None):
        api.request(method, path, body=body, headers=headers or {})
        r = api.getresponse()
        return r.status, r.read()

    while time.time() < stop_at:
        _, body = inputs[rnd.randrange(len(inputs))]
        outcome = "error"
        try:
            st, raw = call("POST", "/v1/uploads", json.dumps(
                {"domain": "feed", "ids": {"feedId": feed}, "contentType": "image/jpeg"}),
                {"Content-Type": "application/json"})
            if st != 201:
                raise http.client.HTTPException(f"presign {st}")
            doc = json.loads(raw)
            u = urllib.parse.urlsplit(doc["url"])
            put = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
            put.request("PUT", u.path + ("?" + u.query if u.query else ""), body=body,
                        headers=dict(doc["headers"]))
            r = put.getresponse()
            r.read()
            put.close()
            if r.status != 200:
                raise http.client.HTTPException(f"PUT {r.status}")
            deadline = time.time() + 120
            while time.time() < deadline:
                st, raw = call("GET", f"/v1/uploads/{doc['uploadId']}?domain=feed&feedId={feed}")
                outcome = json.loads(raw).get("status", str(st)) if st == 200 else str(st)
                if outcome not in ("pending", "unknown"):
                    break
                time.sleep(0.02)
            if outcome == "ready" and delete_outputs(doc, keep):
                outcome = "delete_failed"
        except (OSError, ValueError, KeyError, http.client.HTTPException) as ex:
            outcome = type(ex).__name__
            api.close()
            api = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        codes[outcome] = codes.get(outcome, 0) + 1
        if outcome == "ready":
            ok += 1
        else:
            err += 1
    api.close()
    add_counts(counts, lock, ok, err, codes)


def slope_mb_per_hour(points):
    """Least-squares slope of (t seconds, MB) points, in MB per hour."""
    if len(points) < 2:
        return 0.0
    mt = statistics.fmean(p[0] for p in points)
    mv = statistics.fmean(p[1] for p in points)
    num = sum((t - mt) * (v - mv) for t, v in points)
    den = sum((t - mt) ** 2 for t, _ in points)
    return num / den * 3600.0 if den else 0.0


def run_config(name, args, inputs):
    cfg = CONFIGS[name]
    data_dir = tempfile.mkdtemp(prefix="imgsvc-alloc-")
    log_path = os.path.join(data_dir, "server.log")
    load_before = os.getloadavg()
    proc, port = start_server(args.bin, cfg["env"], log_path, os.path.join(data_dir, "data"))
    counts = {"ok": 0, "errors": 0, "codes": {}}
    lock = threading.Lock()
    t0 = time.time()
    stop_at = t0 + args.duration
    if args.workload == "ingest":
        threads = [threading.Thread(target=ingest_client, args=(
            port, inputs, 1000 + i, stop_at, counts, lock, args.keep_outputs))
            for i in range(args.clients)]
    else:
        threads = [threading.Thread(target=client, args=(port, inputs, 1000 + i, stop_at, counts,
                                                         lock)) for i in range(args.clients)]
    for t in threads:
        t.start()
    samples = []
    cpu0 = cpu_seconds(proc.pid)
    while time.time() < stop_at and proc.poll() is None:
        st = read_status(proc.pid)
        if st:
            samples.append([round(time.time() - t0, 1), round(st["VmRSS"], 1), st["Threads"]])
        time.sleep(min(args.interval, max(0.0, stop_at - time.time())))
    for t in threads:
        t.join()
    st = read_status(proc.pid) or {}
    if st:
        samples.append([round(time.time() - t0, 1), round(st["VmRSS"], 1), st["Threads"]])
    cpu = cpu_seconds(proc.pid) - cpu0
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = "killed"
    elapsed = time.time() - t0
    if rc != 0:  # kept: the server's log says why it did not stop cleanly
        print(f"run.py: {name}: imgsvc exited {rc}; its log and data: {data_dir}", file=sys.stderr)
    elif args.keep_data:
        print(f"run.py: {name}: data kept in {data_dir}", file=sys.stderr)
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
    rss = [(s[0], s[1]) for s in samples]
    warm = [v for t, v in rss if t >= min(60.0, args.duration / 4)]
    last_q = [v for t, v in rss if t >= args.duration * 0.75]
    second_half = [(t, v) for t, v in rss if t >= args.duration / 2]
    return {
        "config": name, "what": cfg["what"], "env": cfg["env"],
        "duration_s": round(elapsed, 1), "clients": args.clients,
        "requests_ok": counts["ok"], "errors": counts["errors"], "status_codes": counts["codes"],
        "images_per_s": round(counts["ok"] / elapsed, 2), "server_cpu_s": round(cpu, 1),
        "server_cpu_ms_per_image": round(cpu * 1000 / counts["ok"], 1) if counts["ok"] else None,
        "exit_status": rc, "loadavg_before": " ".join(f"{x:.2f}" for x in load_before),
        "loadavg_after": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "rss_mb": {
            "after_warmup": warm[0] if warm else None,
            "final": rss[-1][1] if rss else None,
            "max": max((v for _, v in rss), default=None),
            "peak_hwm": round(st.get("VmHWM", 0.0), 1),
            "mean_last_quarter": round(statistics.fmean(last_q), 1) if last_q else None,
            "growth_mb_per_hour_second_half": round(slope_mb_per_hour(second_half), 1),
        },
        "threads_max": max((s[2] for s in samples), default=None),
        "samples_t_rss_threads": samples,
    }


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return 0.0


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def version(binary):
    out = subprocess.run([binary, "--version"], capture_output=True, text=True)
    return out.stdout.strip()


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.environ.get("IMGSVC_BIN",
                                                    os.path.join(root, "build", "imgsvc")))
    ap.add_argument("--corpus", default=os.environ.get("IMGSVC_CORPUS_DIR") or os.path.expanduser(
        "~/.cache/imgsvc/corpus"))
    ap.add_argument("--duration", type=float, default=600.0)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--interval", type=float, default=5.0)
    ap.add_argument("--configs", default="imgsvc,glibc,jemalloc")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--workload", choices=("resize", "ingest"), default="resize",
                    help="resize: POST /v1/resize; ingest: presigned uploads through the pipeline")
    ap.add_argument("--keep-outputs", action="store_true",
                    help="ingest: keep each upload's outputs (by default deleted once ready)")
    ap.add_argument("--keep-data", action="store_true",
                    help="keep each configuration's data folder (removed after a clean stop)")
    ap.add_argument("--parallel", action="store_true",
                    help="run the configurations at the same time (same machine load for all)")
    args = ap.parse_args()
    if args.quick:
        args.duration, args.interval = 20.0, 1.0
    names = args.configs.split(",")
    for n in names:
        if n not in CONFIGS:
            sys.exit(f"run.py: unknown configuration {n!r} (one of {', '.join(CONFIGS)})")
    if "jemalloc" in names and not os.path.exists(JEMALLOC):
        sys.exit(f"run.py: {JEMALLOC} is missing: apt-get install libjemalloc2")
    if not os.path.isdir(os.path.join(args.corpus, "photos")):
        sys.exit(f"run.py: no corpus at {args.corpus} (set IMGSVC_CORPUS_DIR)")
    if args.workload == "ingest":
        inputs = load_inputs(args.corpus, ("photos",))
        what = ("presigned uploads of the corpus photos through the embedded store and the "
                "event pipeline (feed presets), each client polling until ready")
    else:
        inputs = load_inputs(args.corpus)
        what = "POST /v1/resize, corpus photos and formats, random widths 32-2048, JPEG/WebP/PNG out"
    doc = {"benchmark": "alloc", "workload": what, "machine": machine(),
           "imgsvc": version(args.bin), "binary": os.path.abspath(args.bin),
           "settings": {"duration_s": args.duration, "clients": args.clients,
                        "interval_s": args.interval, "inputs": len(inputs),
                        "server_env": {"IMGSVC_RESIZE_QUEUE": "64", "other": "defaults"}},
           "results": []}
    doc["settings"]["parallel"] = args.parallel
    if args.parallel:
        print(f"run.py: {', '.join(names)} at once for {args.duration:.0f} s", file=sys.stderr,
              flush=True)
        out = {}
        threads = [threading.Thread(target=lambda n=n: out.__setitem__(n, run_config(n, args,
                                                                                     inputs)))
                   for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        doc["results"] = [out[n] for n in names if n in out]
    else:
        for n in names:
            print(f"run.py: {n} for {args.duration:.0f} s", file=sys.stderr, flush=True)
            doc["results"].append(run_config(n, args, inputs))
    print(json.dumps(doc))


if __name__ == "__main__":
    main()
