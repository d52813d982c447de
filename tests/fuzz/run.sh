#!/usr/bin/env bash
# tests/fuzz/run.sh TARGET MINUTES [libFuzzer args...]: fuzz one target with libFuzzer.
#
# Builds the clang fuzz build (IMGSVC_FUZZ=ON with ASan + UBSan, coverage on the layer
# libraries) in build-fuzz/ (IMGSVC_FUZZ_BUILD_DIR overrides) and runs fuzz_TARGET for MINUTES
# of wall time in one process, starting from the seed corpus tests/fuzz/corpus/TARGET/ (read
# only). New inputs go to WORK/TARGET/corpus/ and crash, leak and timeout files to
# WORK/TARGET/crashes/, where WORK is IMGSVC_FUZZ_WORK or build-fuzz/fuzz-work. The seeds are
# never written; to keep an input as a regression, copy it into the seed folder yourself.
# A tests/fuzz/TARGET.dict or tests/fuzz/json.dict (for the JSON targets) is passed as -dict.
# Exit status: libFuzzer's (0 = ran clean for the whole time).
#
# Targets: the tests/fuzz/fuzz_*.c files without prefix (sigv4, s3_events, s3_sns, s3_keys,
# uploads_body, resize_query, img_multipart, img_probe). Needs clang and libFuzzer's runtime
# (Debian: clang, libclang-rt-14-dev).
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 TARGET MINUTES [libFuzzer args...]" >&2
    exit 2
fi
target=$1 minutes=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${IMGSVC_FUZZ_BUILD_DIR:-$root/build-fuzz}
work=${IMGSVC_FUZZ_WORK:-$build/fuzz-work}/$target
seeds=$here/corpus/$target
if [ ! -f "$here/fuzz_$target.c" ] || [ ! -d "$seeds" ]; then
    echo "run.sh: no target $target (tests/fuzz/fuzz_$target.c and corpus/$target/)" >&2
    exit 2
fi
case $minutes in
'' | *[!0-9]*)
    echo "run.sh: MINUTES must be a whole number" >&2
    exit 2
    ;;
esac

CC=${CC:-clang} cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DIMGSVC_SANITIZE=ON -DIMGSVC_FUZZ=ON >/dev/null
cmake --build "$build" -j "${IMGSVC_JOBS:-2}" --target "fuzz_$target"
bin=$(find "$build" -type f -name "fuzz_$target" -perm -u+x | head -n 1)

mkdir -p "$work/corpus" "$work/crashes"
dict=()
for d in "$here/$target.dict" "$here/json.dict"; do
    case $target in s3_events | s3_sns | uploads_body) ;; *) [ "$d" = "$here/json.dict" ] && continue ;; esac
    if [ -f "$d" ]; then
        dict=(-dict="$d")
        break
    fi
done

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
echo "run.sh: fuzz_$target for $minutes min, seeds $seeds, work $work" \
    "(commit $(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo unknown))"
TIMEFORMAT="run.sh: fuzz_$target cpu %U s user + %S s system, wall %R s"
time "$bin" -max_total_time=$((minutes * 60)) -timeout=20 -rss_limit_mb=2560 \
    -print_final_stats=1 -artifact_prefix="$work/crashes/" "${dict[@]}" "$@" \
    "$work/corpus" "$seeds"
