#!/usr/bin/env bash
# bench/pipeline: the event pipeline end to end through Ceph RGW — photos PUT with presigned URLs,
# RGW's persistent topic pushing ObjectCreated to the handler, variants and origin written back
# to RGW, the temp deleted — for imgsvc and, side by side in the same run, for the seed's own
# stack (bench/anchors/pipeline-node.mjs: Node 20, sharp, @aws-sdk/client-s3, the same presets
# and the same number of jobs at once). The driver is bench/pipeline/pipeline_bench.py (its
# docstring says how "ready" is observed and what each phase does):
#   closed  200 uploads as fast as RGW takes them -> images/s (each stack's maximum rate)
#   open    100 uploads arriving at random (Poisson) at half that rate -> p50/p99 upload-to-ready
# Prints one JSON document on stdout (progress on stderr): machine (nproc, CPU, load averages),
# settings, per stack versions and both phases (with CPU ms per upload of the stack, radosgw,
# ceph-osd, ceph-mon, the driver and the rest of the machine; "cpu_per_upload" sums it up), and
# "targets" (issue 6: imgsvc >= 2.0x the anchor's images/s; p99 <= 400 ms at half of imgsvc's
# maximum rate), each with the measured value and whether it is met.
#
# usage: bench/pipeline/run.sh [-n UPLOADS] [-m UPLOADS] [-c PUT_THREADS] [-w WORKERS]
#                              [-W NODE_JOBS] [-f FRACTION] [-s imgsvc,node] [-e NAME=VALUE] [-S]
#                              [-T FILE] [-q]
#   -n  closed-phase uploads (default 200)        -m  open-phase uploads (default 100)
#   -c  PUT threads in the closed phase (8)
#   -w  imgsvc's IMGSVC_WORKERS (2, its default: uploads decoded at once, with its default
#       IMGSVC_PIPELINE_JOBS = twice that many in progress) and the anchor's jobs at once
#   -W  the anchor's jobs at once instead (PIPE_CONCURRENCY; see docs/benchmarks.md for 2-4)
#   -f  open-phase rate as a fraction of the closed-phase rate (0.5)
#   -s  stacks to run (default imgsvc,node)
#   -e  an imgsvc setting other than its default, e.g. -e IMGSVC_ORIGIN_STRIP_LOCATION=false
#       (repeatable; reported in settings.imgsvc_env: such a run is not the default's figure)
#   -S  synchronous events for both stacks: a non-persistent topic pushes from inside the PUT
#       (RGW 16 polls an idle persistent queue only every 100 ms, hard-coded; see the driver)
#   -T  append one JSON line per imgsvc upload to FILE: its upload-to-ready in parts (the PUT,
#       RGW's delivery, the wait in imgsvc's job queue, the handler with its wait for an imaging
#       slot and its imaging); the JSON has the medians and the parts of the p90, p99 and
#       slowest uploads in any case
#   -q  quick: -n 12 -m 6 (checks that everything runs; the numbers mean nothing)
# Environment: IMGSVC_BIN (default build/imgsvc, built Release when missing), IMGSVC_CORPUS_DIR
# (default build/corpus, made with ../shared/corpus/make-corpus.sh when missing), NODE (node),
# IMGSVC_NPM_PREFIX (a folder whose node_modules has sharp and @aws-sdk/client-s3; default
# bench/pipeline, installed from bench/pipeline/package.json). RGW is started when it is not
# running (scripts/rgw.sh start); every bucket and topic the run makes is removed at the end.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

n=200 m=100 conc=8 workers=2 node_jobs=0 frac=0.5 stacks=imgsvc,node sync=() extra=()
while getopts "n:m:c:w:W:f:s:e:T:Sqh" opt; do
    case $opt in
    n) n=$OPTARG ;;
    m) m=$OPTARG ;;
    c) conc=$OPTARG ;;
    w) workers=$OPTARG ;;
    W) node_jobs=$OPTARG ;;
    f) frac=$OPTARG ;;
    s) stacks=$OPTARG ;;
    e) extra+=(--imgsvc-env "$OPTARG") ;;
    S) sync=(--sync-events) ;;
    T) extra+=(--timings "$OPTARG") ;;
    q) n=12 m=6 ;;
    *) sed -n '2,39p' "$0" >&2 && exit 2 ;;
    esac
done
node=${NODE:-node}

command -v "$node" >/dev/null 2>&1 || imgsvc_apt_install_names nodejs npm
if [ -z "${IMGSVC_NPM_PREFIX:-}" ]; then
    imgsvc_npm_install "$IMGSVC_ROOT/bench/pipeline"
fi
if [ -z "${IMGSVC_BIN:-}" ]; then
    build_dir=$IMGSVC_ROOT/build
    if [ -f "$build_dir/CMakeCache.txt" ]; then
        imgsvc_build "$build_dir"
    else
        imgsvc_build "$build_dir" -DCMAKE_BUILD_TYPE=Release
    fi
    IMGSVC_BIN=$build_dir/imgsvc
fi
cache=$(dirname "$IMGSVC_BIN")/CMakeCache.txt
if grep -q '^IMGSVC_SANITIZE:BOOL=ON' "$cache" 2>/dev/null; then
    imgsvc_die "$IMGSVC_BIN is a sanitizer build: numbers would be meaningless"
fi
corpus=${IMGSVC_CORPUS_DIR:-$IMGSVC_ROOT/build/corpus}
if [ ! -f "$corpus/MANIFEST" ]; then
    make_corpus=$IMGSVC_ROOT/../shared/corpus/make-corpus.sh
    [ -f "$make_corpus" ] || imgsvc_die "no corpus in $corpus and no $make_corpus to make one"
    imgsvc_say "making the image corpus in $corpus"
    bash "$make_corpus" "$corpus" >&2
fi
bash "$IMGSVC_ROOT/scripts/rgw.sh" start >&2

build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$cache" 2>/dev/null || true)
imgsvc_say "imgsvc $IMGSVC_BIN (${build_type:-unknown build type}), $n + $m uploads per stack"
NODE_NO_WARNINGS=1 /usr/bin/python3 "$IMGSVC_ROOT/bench/pipeline/pipeline_bench.py" \
    --imgsvc "$IMGSVC_BIN" --photos "$corpus/photos" --node "$node" -n "$n" -m "$m" \
    -c "$conc" -w "$workers" -W "$node_jobs" -f "$frac" --stacks "$stacks" --build-type "${build_type:-}" \
    ${sync[@]+"${sync[@]}"} ${extra[@]+"${extra[@]}"}
