#!/usr/bin/env python3
"""Turns the raw results of bench/presign/run.sh into its one JSON document (on stdout).

usage: summarize.py WORKDIR   (with the run's settings in the environment, see run.sh)

WORKDIR holds inprocess-imgsvc-<run>.json (presign_bench -r 1), inprocess-node-<run>.json
(presign-node.mjs inprocess -r 1) and inprocess-load-<run>.json (load average before and after),
one per run, and http.jsonl (one wrk result per line: server ("imgsvc", "node" or the control
"imgsvc_healthz"), connections, run, load_before, load_after, req_per_s, p50_ms, p99_ms,
errors..., server_cpu_s: CPU time of the server process during the run). Medians are taken per
metric over the runs; ratios compare imgsvc with Node (req/s
and presigns/s: imgsvc / Node; latency: Node / imgsvc). The targets are issue 3's; each says
what was measured and whether it is met; the p99 target also carries the control's p99 (GET
/healthz on the same server in the same run), which no presign work can make faster. Nothing
here asserts.
"""
import datetime
import json
import os
import platform
import statistics
import sys

TARGET_HTTP_RATIO = 15  # imgsvc req/s >= 15x Node's at 32 connections
TARGET_P99_MS = 5  # imgsvc p99 <= 5 ms at 32 connections
TARGET_INPROCESS_RATIO = 100  # imgsvc presigns/s >= 100x the SDK's
TARGET_CONNECTIONS = 32


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ratio(a, b):
    return round(a / b, 2) if b else None


def merge_runs(docs, mode):
    """One mode's per-run rates over all invocations, and their medians."""
    wall = [v for d in docs for v in d[mode]["per_s"]]
    cpu = [v for d in docs for v in d[mode]["per_cpu_s"]]
    med = statistics.median(wall)
    return {"median_per_s": round(med), "ns_per_presign": round(1e9 / med), "per_s": wall,
            "median_per_cpu_s": round(statistics.median(cpu)), "per_cpu_s": cpu}


def inprocess(cs, ns):
    ours, uncached, sdk = merge_runs(cs, "cached"), merge_runs(cs, "uncached"), merge_runs(ns, "sdk")
    return {
        "params": cs[0]["params"],
        "threads": 1,
        "imgsvc_cached": ours,
        "imgsvc_uncached": uncached,
        "node_sdk": sdk,
        "ratio_cached": ratio(ours["median_per_s"], sdk["median_per_s"]),
        "ratio_uncached": ratio(uncached["median_per_s"], sdk["median_per_s"]),
        "ratio_cached_cpu_time": ratio(ours["median_per_cpu_s"], sdk["median_per_cpu_s"]),
        "implementations": {"imgsvc": cs[0]["implementation"], "node": ns[0]["implementation"]},
        "sample_urls": {"imgsvc": cs[0]["sample_url"], "node": ns[0]["sample_url"]},
    }


def http_side(rows):
    med = {k: round(statistics.median(r[k] for r in rows), 3)
           for k in ("req_per_s", "p50_ms", "p90_ms", "p99_ms", "max_ms")}
    med["req_per_s"] = round(med["req_per_s"], 1)
    per_cpu = [r["requests"] / r["server_cpu_s"] for r in rows if r.get("server_cpu_s")]
    if per_cpu:
        med["req_per_server_cpu_s"] = round(statistics.median(per_cpu), 1)
    med["errors"] = sum(sum(r["errors"].values()) for r in rows)
    med["runs"] = [{k: r.get(k) for k in ("run", "requests", "req_per_s", "p50_ms", "p99_ms",
                                          "max_ms", "errors", "load_before", "load_after",
                                          "server_cpu_s")}
                   for r in rows]
    return med


def http(rows):
    out = []
    for c in sorted({r["connections"] for r in rows}):
        ours = http_side([r for r in rows if r["connections"] == c and r["server"] == "imgsvc"])
        node = http_side([r for r in rows if r["connections"] == c and r["server"] == "node"])
        ctl = [r for r in rows if r["connections"] == c and r["server"] == "imgsvc_healthz"]
        entry = {"connections": c, "imgsvc": ours, "node": node,
                 "ratio_req_per_s": ratio(ours["req_per_s"], node["req_per_s"]),
                 "ratio_p50": ratio(node["p50_ms"], ours["p50_ms"]),
                 "ratio_p99": ratio(node["p99_ms"], ours["p99_ms"]),
                 "ratio_req_per_server_cpu_s": ratio(ours.get("req_per_server_cpu_s", 0),
                                                     node.get("req_per_server_cpu_s", 0))}
        if ctl:
            entry["imgsvc_healthz"] = http_side(ctl)
        out.append(entry)
    return out


def targets(inproc, results):
    at = next((r for r in results if r["connections"] == TARGET_CONNECTIONS), None)
    out = []

    def add(name, target, measured, met):
        out.append({"name": name, "target": target, "measured": measured, "met": met})

    if at is not None:
        add("http_req_per_s_vs_node_at_32", f">= {TARGET_HTTP_RATIO}x", at["ratio_req_per_s"],
            at["ratio_req_per_s"] is not None and at["ratio_req_per_s"] >= TARGET_HTTP_RATIO)
        p99 = at["imgsvc"]["p99_ms"]
        add("http_p99_ms_at_32", f"<= {TARGET_P99_MS} ms", p99, p99 <= TARGET_P99_MS)
        if "imgsvc_healthz" in at:
            out[-1]["control_healthz_p99_ms"] = at["imgsvc_healthz"]["p99_ms"]
    r = inproc["ratio_cached"]
    add("inprocess_presigns_per_s_vs_sdk", f">= {TARGET_INPROCESS_RATIO}x", r,
        r is not None and r >= TARGET_INPROCESS_RATIO)
    return out


def main():
    work = sys.argv[1]
    env = os.environ.get
    runs = int(env("RUNS", "1"))
    cs = [load(os.path.join(work, f"inprocess-imgsvc-{r}.json")) for r in range(1, runs + 1)]
    ns = [load(os.path.join(work, f"inprocess-node-{r}.json")) for r in range(1, runs + 1)]
    with open(os.path.join(work, "http.jsonl"), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    inproc = inprocess(cs, ns)
    loads = [os.path.join(work, f"inprocess-load-{r}.json") for r in range(1, runs + 1)]
    inproc["load"] = [load(p) for p in loads if os.path.exists(p)]
    results = http(rows)
    doc = {
        "benchmark": "presign",
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "kernel": f"{platform.system()} {platform.release()}",
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "loadavg_before": env("LOAD_BEFORE", ""),
            "loadavg_after": " ".join(open("/proc/loadavg", encoding="utf-8").read().split()[:3]),
        },
        "imgsvc": {"version": env("IMGSVC_VERSION", ""), "build_type": env("BUILD_TYPE", ""),
                   "sanitize": env("SANITIZE") == "true"},
        "node": {"version": env("NODE_VERSION", ""), "sdk": ns[0]["implementation"]},
        "settings": {"quick": env("QUICK") == "1", "runs": int(env("RUNS", "0")),
                     "nice": int(env("NICENESS", "0")),
                     "inprocess_duration_s": float(env("INPROC_S", "0")),
                     "wrk": {"threads": int(env("WRK_THREADS", "0")),
                             "duration_s": float(env("WRK_DURATION_S", "0")),
                             "warmup_s": float(env("WRK_WARMUP_S", "0"))}},
        "inprocess": inproc,
        "http": {"endpoint": "POST /v1/uploads",
                 "body": {"domain": "profile", "ids": {"userId": "42"},
                          "contentType": "image/jpeg"},
                 "results": results},
        "targets": targets(inproc, results),
    }
    json.dump(doc, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
