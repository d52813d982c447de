#!/usr/bin/env bash
# bench/presign/smoke.sh: the ctest case bench.presign.smoke (bench/presign/bench.cmake).
# Runs `bench/presign/run.sh -q` (one short run of everything, a few seconds) with the binaries
# ctest names (IMGSVC_BIN, PRESIGN_BENCH) and checks only that it prints one valid JSON
# document with the expected fields and positive numbers. It asserts no speed: the quick
# mode's numbers mean nothing. Exit 77 (skipped) when wrk, curl, node or the npm packages are
# missing; run.sh itself installs nothing in quick mode.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
prefix=${IMGSVC_NPM_PREFIX:-$root/tests}
for tool in wrk curl "${NODE:-node}" python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "skipped: $tool is not installed (bench/presign/run.sh installs it)" >&2
        exit 77
    fi
done
for pkg in @aws-sdk/client-s3 @aws-sdk/s3-request-presigner; do
    if [ ! -f "$prefix/node_modules/$pkg/package.json" ]; then
        echo "skipped: $pkg missing in $prefix/node_modules (npm ci --prefix tests)" >&2
        exit 77
    fi
done

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$root/bench/presign/run.sh" -q >"$out"
python3 - "$out" <<'EOF'
import json
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
doc = json.loads(text)  # one document, nothing else on stdout
problems = []


def need(obj, path):
    """The value at a dotted path, recording a problem when it is missing."""
    cur = obj
    for part in path.split("."):
        if isinstance(cur, list):
            cur = cur[int(part)] if part.isdigit() and int(part) < len(cur) else None
        elif isinstance(cur, dict):
            cur = cur.get(part)
        else:
            cur = None
        if cur is None:
            problems.append(f"missing {path}")
            return None
    return cur


def positive(path):
    v = need(doc, path)
    if v is not None and not (isinstance(v, (int, float)) and v > 0):
        problems.append(f"{path} is not a positive number: {v!r}")


for p in ("machine.cpu", "machine.cores", "machine.kernel", "machine.date", "imgsvc.version",
          "node.version", "settings.runs"):
    need(doc, p)
if need(doc, "benchmark") != "presign":
    problems.append("benchmark is not 'presign'")
for mode in ("imgsvc_cached", "imgsvc_uncached", "node_sdk"):
    positive(f"inprocess.{mode}.median_per_s")
    positive(f"inprocess.{mode}.median_per_cpu_s")
for p in ("ratio_cached", "ratio_uncached", "ratio_cached_cpu_time"):
    positive(f"inprocess.{p}")
results = need(doc, "http.results") or []
if sorted(r.get("connections") for r in results) != [32, 128]:
    problems.append(f"http.results connections: {[r.get('connections') for r in results]}")
for i in range(len(results)):
    for side in ("imgsvc", "node"):
        for k in ("req_per_s", "p50_ms", "p99_ms"):
            positive(f"http.results.{i}.{side}.{k}")
    positive(f"http.results.{i}.ratio_req_per_s")
names = [t.get("name") for t in need(doc, "targets") or []]
if names != ["http_req_per_s_vs_node_at_32", "http_p99_ms_at_32",
             "inprocess_presigns_per_s_vs_sdk"]:
    problems.append(f"targets: {names}")
for t in doc.get("targets", []):
    if not isinstance(t.get("met"), bool) or "measured" not in t:
        problems.append(f"target {t.get('name')} lacks measured/met")
if problems:
    print("\n".join(problems))
    sys.exit(1)
print("ok: run.sh -q printed a complete document")
EOF
