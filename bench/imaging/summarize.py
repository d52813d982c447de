#!/usr/bin/env python3
"""Turns the raw results of bench/imaging/run.sh into its one JSON document (stdout).

usage: summarize.py WORKDIR   (with the run's settings in the environment, see run.sh)

WORKDIR holds runs.jsonl (one line per measurement: run, load_before, load_after, tool
imgsvc|sharp, mode ingest|service|floor|sharp, inflight, images, seconds, images_per_s,
cpu_seconds, images_per_cpu_s, output_bytes, versions) and memory.jsonl (imaging_bench -m rss /
rss-service lines). Per mode
and number of images in flight the medians over the runs are taken; the ratios compare the
medians (imgsvc / sharp, imgsvc / floor), by wall-clock images per second (what the targets
name) and by images per CPU second (steadier when other processes share the machine). The
targets are issue 5's; each says what was measured and whether it is met. Nothing here asserts.
"""
import datetime
import json
import os
import platform
import statistics
import sys

TARGET_VS_SHARP = 2.0  # imgsvc images/s >= 2.0x sharp's
TARGET_OF_FLOOR = 0.60  # imgsvc images/s >= 60% of the floor's
TARGET_PEAK_RSS_MB = 300  # peak RSS while large-108mp.jpg is processed
MODES = (("imgsvc", "ingest"), ("floor", "floor"), ("sharp", "sharp"))


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_total_gib():
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def os_name():
    try:
        with open("/etc/os-release", encoding="utf-8") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.system()


def ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def side(rows):
    """Medians of one mode at one number of images in flight, with every run's values."""
    return {
        "median_images_per_s": round(statistics.median(r["images_per_s"] for r in rows), 3),
        "median_images_per_cpu_s": round(statistics.median(r["images_per_cpu_s"] for r in rows),
                                         3),
        "median_cpu_ms_per_image": round(
            statistics.median(1000 * r["cpu_seconds"] / r["images"] for r in rows), 1),
        "output_bytes_per_image": round(rows[0]["output_bytes"] / rows[0]["images"]),
        "runs": [{k: r[k] for k in ("run", "images", "seconds", "images_per_s", "cpu_seconds",
                                    "images_per_cpu_s", "load_before", "load_after")}
                 for r in sorted(rows, key=lambda r: r["run"])],
    }


def throughput(rows):
    out = {}
    for n in sorted({r["inflight"] for r in rows if r["mode"] != "service"}):
        at = {name: side([r for r in rows if r["inflight"] == n and r["mode"] == mode])
              for name, mode in MODES}
        ours, floor, sharp = (at[k] for k in ("imgsvc", "floor", "sharp"))
        at["ratio_vs_sharp"] = ratio(ours["median_images_per_s"], sharp["median_images_per_s"])
        at["ratio_of_floor"] = ratio(ours["median_images_per_s"], floor["median_images_per_s"])
        at["cpu_ratio_vs_sharp"] = ratio(ours["median_images_per_cpu_s"],
                                         sharp["median_images_per_cpu_s"])
        at["cpu_ratio_of_floor"] = ratio(ours["median_images_per_cpu_s"],
                                         floor["median_images_per_cpu_s"])
        service = [r for r in rows if r["inflight"] == n and r["mode"] == "service"]
        if service:  # img_process with the service's defaults, for reference (no target)
            at["service"] = side(service)
        out[str(n)] = at
    return out


def memory(rows):
    out = {"file": rows[0]["file"] if rows else None}
    for mode in ("rss", "rss-service"):
        mine = [r for r in rows if r["mode"] == mode]
        out[mode.replace("-", "_")] = {
            "what": ("img_probe + img_variants_make (the three presets)" if mode == "rss" else
                     "img_process with the service's defaults (variants, placeholders, "
                     "location-free origin)"),
            "peak_mb_max": max(r["peak_mb"] for r in mine),
            "peak_mb_median": round(statistics.median(r["peak_mb"] for r in mine), 1),
            "baseline_mb_median": round(statistics.median(r["baseline_mb"] for r in mine), 1),
            "seconds_median": round(statistics.median(r["seconds"] for r in mine), 3),
            "runs": [r["peak_mb"] for r in mine],
        }
    out["peak_mb"] = max(out["rss"]["peak_mb_max"], out["rss_service"]["peak_mb_max"])
    return out


def targets(tp, mem):
    out = []

    def add(name, target, measured, met):
        out.append({"name": name, "target": target, "measured": measured, "met": met})

    for n, at in tp.items():
        r = at["ratio_vs_sharp"]
        add(f"images_per_s_vs_sharp_{n}_in_flight", f">= {TARGET_VS_SHARP}x", r,
            r is not None and r >= TARGET_VS_SHARP)
        r = at["ratio_of_floor"]
        add(f"images_per_s_of_floor_{n}_in_flight", f">= {TARGET_OF_FLOOR}", r,
            r is not None and r >= TARGET_OF_FLOOR)
    add("peak_rss_mb_large_108mp", f"<= {TARGET_PEAK_RSS_MB} MB", mem["peak_mb"],
        mem["peak_mb"] <= TARGET_PEAK_RSS_MB)
    return out


def main():
    work = sys.argv[1]
    env = os.environ.get
    rows = read_jsonl(os.path.join(work, "runs.jsonl"))
    mem_rows = read_jsonl(os.path.join(work, "memory.jsonl"))
    ours = next(r for r in rows if r["tool"] == "imgsvc")
    sharp = next(r for r in rows if r["tool"] == "sharp")
    tp = throughput(rows)
    mem = memory(mem_rows)
    with open("/proc/loadavg", encoding="utf-8") as f:
        load_after = " ".join(f.read().split()[:3])
    doc = {
        "benchmark": "imaging",
        "workload": "every photos/*.jpg -> 1080, 640, 320 wide (inside), JPEG q80, EXIF-rotated, "
                    "metadata stripped",
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "memory_gib": mem_total_gib(),
            "os": os_name(),
            "kernel": f"{platform.system()} {platform.release()}",
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "loadavg_before": env("LOAD_BEFORE", ""),
            "loadavg_after": load_after,
        },
        "versions": {
            "imgsvc": {"git": env("GIT_REV", ""),
                       # files of what is measured (imaging/, common/, the two bench programs)
                       # that differ from the commit: 0 means the numbers are the commit's
                       "uncommitted_files": int(env("GIT_DIRTY_FILES", "0")),
                       "build_type": env("BUILD_TYPE", ""), "sanitize": env("SANITIZE") == "true",
                       "cc": env("CC_VERSION", ""), "libvips": ours["vips"],
                       "libjpeg_turbo": env("LIBJPEG", "")},
            "sharp": {"sharp": sharp["sharp"], "libvips": sharp["vips"], "node": sharp["node"]},
        },
        "settings": {
            "quick": env("QUICK") == "1", "runs": int(env("RUNS", "0")),
            "timed_passes": int(env("PASSES", "0")), "warmup_passes": int(env("WARMUP", "0")),
            "photos": ours["photos"], "images_per_run": ours["images"],
            "vips_threads_per_image": int(env("VIPS_THREADS", "0")),
            "corpus": env("CORPUS_DIR", ""), "corpus_manifest_sha256": env("MANIFEST_SHA256", ""),
        },
        "throughput": tp,
        "memory": mem,
        "targets": targets(tp, mem),
    }
    json.dump(doc, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
