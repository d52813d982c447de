#!/usr/bin/env bash
# bench/imaging: the ingest workload of issue 5, in process, side by side in one go:
#   imgsvc   bench/imaging/imaging_bench -m ingest: every photos/ JPEG of the corpus into 1080,
#            640 and 320 wide (inside), JPEG q80, EXIF-rotated, stripped, with img_probe +
#            img_variants_make (one decode, the smaller sizes derived from the larger);
#   floor    imaging_bench -m floor: each JPEG decoded at libjpeg shrink 2 plus the three encodes
#            of already-resized images, the least work that gives the same outputs;
#   sharp    bench/anchors/imaging-sharp.mjs: the seed's way in Node + sharp, for each width
#            sharp(buf).rotate().resize({width}).jpeg({quality:80}).toBuffer();
#   service  imaging_bench -m service: the same presets through img_process with the service's
#            defaults (placeholders and the location-free origin too; no target, for reference);
# each with 1 and 2 images in flight (threads; libvips uses -c threads per image in both tools),
# and the peak resident set of one ingest of formats/large-108mp.jpg in a fresh process
# (imaging_bench -m rss: img_probe + img_variants_make; -m rss-service: img_process as the
# service runs it, placeholders and the location-free origin included).
# Every measurement is repeated (-r, default 3) and medians are compared; the order of the tools
# rotates from run to run so that a busy moment of the shared machine does not always hit the
# same one, and every measurement records the load average (/proc/loadavg, as `uptime` prints
# it) just before and just after it. Prints one JSON document on stdout (progress on stderr):
# machine (with the load average before and after the whole run), versions, settings,
# "throughput" per images in flight (medians of images/s and images per CPU second, ratios
# imgsvc/sharp and imgsvc/floor, every run with its load), "memory", and "targets" (issue 5:
# >= 2.0x sharp, >= 60% of the floor, peak RSS <= 300 MB), each with what was measured and
# whether it is met. Nothing here asserts a number.
#
# usage: bench/imaging/run.sh [-r RUNS] [-p PASSES] [-w PASSES] [-c THREADS] [-q]
#   -r  runs of every measurement; medians are reported (default 3)
#   -p  timed passes over the photos per run (default 2: 24 images)
#   -w  untimed warm-up passes per run, one image in flight (default 1)
#   -c  libvips threads per image in both tools (default 1: IMGSVC_VIPS_CONCURRENCY's default,
#       and sharp's own default on glibc Linux)
#   -q  quick smoke mode for the test suite: one photo, -r 1 -p 1 -w 0, no installs or builds;
#       the numbers mean nothing
# Environment: IMGSVC_CORPUS_DIR (default ${XDG_CACHE_HOME:-~/.cache}/imgsvc/corpus, built there
# with ../shared/corpus/make-corpus.sh when absent; IMGSVC_SHARED_DIR names another shared/),
# IMAGING_BENCH (a prebuilt imaging_bench; default: built in IMGSVC_BUILD_DIR, default build/,
# which must be a Release or RelWithDebInfo build), NODE (default node), IMGSVC_NPM_PREFIX
# (where node_modules is; default tests/, installed from tests/package.json).
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

runs=3 passes=2 warmup=1 threads=1 quick=0
while getopts "r:p:w:c:qh" opt; do
    case $opt in
    r) runs=$OPTARG ;;
    p) passes=$OPTARG ;;
    w) warmup=$OPTARG ;;
    c) threads=$OPTARG ;;
    q) quick=1 runs=1 passes=1 warmup=0 ;;
    *) sed -n '2,42p' "$0" >&2 && exit 2 ;;
    esac
done
node=${NODE:-node}
anchor=$IMGSVC_ROOT/bench/anchors/imaging-sharp.mjs
work=$(mktemp -d)
imgsvc_on_exit "rm -rf '$work'"

# ---- tools --------------------------------------------------------------------------------
if [ "$quick" -eq 0 ]; then
    imgsvc_apt_install "$IMGSVC_ROOT/scripts/packages/apt-build.txt"
    command -v "$node" >/dev/null 2>&1 || imgsvc_apt_install_names nodejs npm
    [ -n "${IMGSVC_NPM_PREFIX:-}" ] || imgsvc_npm_install "$IMGSVC_ROOT/tests"
fi

# Builds imaging_bench (bench/imaging/bench.cmake) in the CMake build directory $1.
build_bench() {
    local dir=$1
    if [ ! -f "$dir/CMakeCache.txt" ]; then
        mkdir -p "$dir"
        cmake -S "$IMGSVC_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=Release \
            >"$dir/configure.log" 2>&1 || { cat "$dir/configure.log" >&2; imgsvc_die "cmake failed"; }
    fi
    imgsvc_say "building imaging_bench in $dir"
    cmake --build "$dir" -j "$IMGSVC_JOBS" --target imaging_bench >"$dir/build.log" 2>&1 ||
        { cat "$dir/build.log" >&2; imgsvc_die "build failed in $dir"; }
}
if [ -z "${IMAGING_BENCH:-}" ]; then
    [ "$quick" -eq 0 ] || imgsvc_die "-q needs IMAGING_BENCH (it builds nothing)"
    build_dir=$(cd "$IMGSVC_ROOT" && mkdir -p "${IMGSVC_BUILD_DIR:-build}" &&
        cd "${IMGSVC_BUILD_DIR:-build}" && pwd)
    build_bench "$build_dir"
    IMAGING_BENCH=$(find "$build_dir" -name imaging_bench -type f -perm -u+x | head -1)
fi
[ -x "${IMAGING_BENCH:-}" ] || imgsvc_die "imaging_bench not found (${IMAGING_BENCH:-})"
# The build's type: the CMake cache next to the binary or in a folder above it.
cache=$(dirname "$IMAGING_BENCH")/CMakeCache.txt
for up in .. ../.. ../../..; do
    [ -f "$cache" ] || cache=$(dirname "$IMAGING_BENCH")/$up/CMakeCache.txt
done
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$cache" 2>/dev/null || true)
sanitize=false
if grep -q '^IMGSVC_SANITIZE:BOOL=ON' "$cache" 2>/dev/null; then
    [ "$quick" -eq 1 ] || imgsvc_die "$IMAGING_BENCH is a sanitizer build: numbers would be meaningless"
    sanitize=true
fi

# ---- corpus -------------------------------------------------------------------------------
corpus=${IMGSVC_CORPUS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/imgsvc/corpus}
if [ ! -f "$corpus/MANIFEST" ]; then
    [ "$quick" -eq 0 ] || imgsvc_die "-q needs a built corpus in $corpus (IMGSVC_CORPUS_DIR)"
    maker=${IMGSVC_SHARED_DIR:-$IMGSVC_ROOT/../shared}/corpus/make-corpus.sh
    [ -f "$maker" ] || imgsvc_die "no corpus in $corpus and no $maker to build it"
    mkdir -p "$(dirname "$corpus")"
    imgsvc_say "building the corpus into $corpus (about a minute)"
    (
        flock 9 # one builder at a time; the folder appears complete or not at all
        if [ ! -f "$corpus/MANIFEST" ]; then
            rm -rf "$corpus.tmp"
            bash "$maker" "$corpus.tmp" >&2
            mv "$corpus.tmp" "$corpus"
        fi
    ) 9>"$corpus.lock"
fi
(cd "$corpus" && grep -E '^(photos/[^ ]*\.jpg|formats/large-108mp\.jpg) ' MANIFEST |
    awk '{print $3 "  " $1}' | sha256sum -c --quiet) ||
    imgsvc_die "$corpus does not match its MANIFEST (rebuild it)"
photos=$corpus/photos
if [ "$quick" -eq 1 ]; then # one photo
    all=("$corpus"/photos/*.jpg)
    mkdir "$work/photos"
    ln -s "${all[0]}" "$work/photos/"
    photos=$work/photos
fi
large=$corpus/formats/large-108mp.jpg

# ---- measurements -------------------------------------------------------------------------
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
imgsvc_say "load average before: $load_before"
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
measure() { # measure TOOL INFLIGHT RUN -> one JSON line appended to $work/runs.jsonl
    local line before
    before=$(loadavg)
    case $1 in
    imgsvc) line=$("$IMAGING_BENCH" -m ingest -j "$2" -p "$passes" -w "$warmup" -c "$threads" \
        "$photos") ;;
    service) line=$("$IMAGING_BENCH" -m service -j "$2" -p "$passes" -w "$warmup" -c "$threads" \
        "$photos") ;;
    floor) line=$("$IMAGING_BENCH" -m floor -j "$2" -p "$passes" -w "$warmup" -c "$threads" \
        "$photos") ;;
    sharp) line=$("$node" "$anchor" -j "$2" -p "$passes" -w "$warmup" -c "$threads" "$photos") ;;
    esac
    [ -n "$line" ] || imgsvc_die "$1 printed no result"
    echo "{\"run\":$3,\"load_before\":\"$before\",\"load_after\":\"$(loadavg)\",${line#\{}" \
        >>"$work/runs.jsonl"
}
: >"$work/runs.jsonl"
tools=(imgsvc floor sharp)
for r in $(seq 1 "$runs"); do
    for j in 1 2; do
        for k in 0 1 2; do
            t=${tools[$(((k + r - 1) % 3))]}
            imgsvc_say "run $r/$runs: $t, $j in flight (load $(loadavg))"
            measure "$t" "$j" "$r"
        done
    done
    imgsvc_say "run $r/$runs: service (img_process), 1 in flight"
    measure service 1 "$r"
done
: >"$work/memory.jsonl"
for r in $(seq 1 "$runs"); do
    for m in rss rss-service; do
        imgsvc_say "run $r/$runs: peak RSS of large-108mp.jpg ($m)"
        "$IMAGING_BENCH" -m "$m" -c "$threads" "$large" >>"$work/memory.jsonl"
    done
done

# ---- report -------------------------------------------------------------------------------
dirty=$(git -C "$IMGSVC_ROOT" status --porcelain -- imaging common bench/imaging/imaging_bench.c \
    bench/anchors/imaging-sharp.mjs 2>/dev/null |
    grep -c . || true)
LOAD_BEFORE=$load_before QUICK=$quick RUNS=$runs PASSES=$passes WARMUP=$warmup \
    VIPS_THREADS=$threads BUILD_TYPE=$build_type SANITIZE=$sanitize \
    GIT_REV=$(git -C "$IMGSVC_ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown) \
    GIT_DIRTY_FILES=$dirty CORPUS_DIR=$corpus PHOTOS_DIR=$photos \
    MANIFEST_SHA256=$(sha256sum "$corpus/MANIFEST" | cut -d' ' -f1) \
    SYSTEM_VIPS=$(pkg-config --modversion vips) \
    LIBJPEG=$(dpkg-query -W -f='${Version}' libjpeg62-turbo 2>/dev/null || echo unknown) \
    CC_VERSION=$(cc -dumpfullversion 2>/dev/null || echo unknown) \
    python3 "$IMGSVC_ROOT/bench/imaging/summarize.py" "$work"
