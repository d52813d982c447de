#!/usr/bin/env bash
# bench/imaging/smoke.sh: the ctest case bench.imaging.smoke (bench/imaging's CMake file).
# Runs `bench/imaging/run.sh -q` (one photo, one run of everything, a few seconds) with
# the imaging_bench that ctest names (IMAGING_BENCH) on the corpus in IMGSVC_CORPUS_DIR, and
# checks only that it prints one valid JSON document with the expected fields and positive
# numbers. It asserts no speed: the quick mode's numbers mean nothing. Exit 77 (skipped) when
# node, sharp (npm ci --prefix tests) or the corpus is missing; the quick mode installs nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
prefix=${IMGSVC_NPM_PREFIX:-$root/tests}
for tool in "${NODE:-node}" python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "skipped: $tool is not installed (bench/imaging/run.sh installs it)" >&2
        exit 77
    fi
done
if [ ! -f "$prefix/node_modules/sharp/package.json" ]; then
    echo "skipped: sharp missing in $prefix/node_modules (npm ci --prefix tests)" >&2
    exit 77
fi
if [ ! -f "${IMGSVC_CORPUS_DIR:-/nonexistent}/MANIFEST" ]; then
    echo "skipped: no corpus in IMGSVC_CORPUS_DIR (${IMGSVC_CORPUS_DIR:-unset})" >&2
    exit 77
fi

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$root/bench/imaging/run.sh" -q >"$out"
python3 - "$out" <<'PY'
import json
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    doc = json.loads(f.read())  # one document, nothing else on stdout
problems = []


def need(path):
    """The value at a dotted path, recording a problem when it is missing."""
    cur = doc
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
        if cur is None:
            problems.append(f"missing {path}")
            return None
    return cur


def positive(path):
    v = need(path)
    if v is not None and not (isinstance(v, (int, float)) and v > 0):
        problems.append(f"{path} is not a positive number: {v!r}")


if need("benchmark") != "imaging":
    problems.append("benchmark is not 'imaging'")
for p in ("machine.cpu", "machine.cores", "machine.kernel", "machine.date",
          "machine.loadavg_before", "machine.loadavg_after", "versions.imgsvc.libvips",
          "versions.sharp.sharp", "versions.sharp.libvips", "settings.runs"):
    need(p)
if need("settings.quick") is not True or need("settings.photos") != 1:
    problems.append("not the quick one-photo mode")
for n in ("1", "2"):
    for side in ("imgsvc", "floor", "sharp"):
        for k in ("median_images_per_s", "median_images_per_cpu_s", "output_bytes_per_image"):
            positive(f"throughput.{n}.{side}.{k}")
    for k in ("ratio_vs_sharp", "ratio_of_floor", "cpu_ratio_vs_sharp", "cpu_ratio_of_floor"):
        positive(f"throughput.{n}.{k}")
for k in ("memory.rss.peak_mb_max", "memory.rss_service.peak_mb_max", "memory.peak_mb"):
    positive(k)
names = [t.get("name") for t in doc.get("targets", [])]
want = ["images_per_s_vs_sharp_1_in_flight", "images_per_s_of_floor_1_in_flight",
        "images_per_s_vs_sharp_2_in_flight", "images_per_s_of_floor_2_in_flight",
        "peak_rss_mb_large_108mp"]
if names != want:
    problems.append(f"targets: {names}")
for t in doc.get("targets", []):
    if not isinstance(t.get("met"), bool) or "measured" not in t:
        problems.append(f"target {t.get('name')} lacks measured/met")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print("ok: run.sh -q printed a complete document")
PY
