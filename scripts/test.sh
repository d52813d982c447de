#!/usr/bin/env bash
# README command 2 (and all of CI: .ci/run runs exactly this): set up a fresh Debian bookworm
# machine (as root or with sudo) with everything the tests need and run the whole suite twice.
#
#   1. installs the missing Debian packages of scripts/packages/apt-build.txt and apt-test.txt,
#      and tests/package.json's npm packages (npm ci from tests/package-lock.json);
#   2. sources every scripts/test.d/*.sh hook in name order (a hook may install more, start a
#      service such as Ceph RGW, export settings for the tests, and register its cleanup with
#      imgsvc_on_exit; see scripts/test.d/README.md);
#   3. builds build/ with warnings as errors and runs ctest there;
#   4. builds build-asan/ with AddressSanitizer + UndefinedBehaviorSanitizer and runs the same
#      ctest there (leak detection on, UB halts);
#   5. prints ctest's summaries and a total line; exits non-zero if anything failed.
#
# Environment: IMGSVC_BUILD_DIR / IMGSVC_ASAN_BUILD_DIR pick other build folders,
# IMGSVC_JOBS the build parallelism (2), IMGSVC_CTEST_ARGS extra ctest arguments (e.g. -R lint),
# IMGSVC_SKIP_ASAN=1 skips step 4 (for quick local runs; CI never sets it).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

build_dir=${IMGSVC_BUILD_DIR:-$IMGSVC_ROOT/build}
asan_dir=${IMGSVC_ASAN_BUILD_DIR:-$IMGSVC_ROOT/build-asan}
read -r -a ctest_extra <<<"${IMGSVC_CTEST_ARGS:-}"
# Tools the tests need are installed by now: a test whose tool is missing fails, not skips.
export IMGSVC_TEST_STRICT=1

imgsvc_apt_install "$IMGSVC_ROOT/scripts/packages/apt-build.txt" \
    "$IMGSVC_ROOT/scripts/packages/apt-test.txt"
imgsvc_npm_install "$IMGSVC_ROOT/tests"

shopt -s nullglob
hooks=("$IMGSVC_ROOT"/scripts/test.d/*.sh)
shopt -u nullglob
for hook in "${hooks[@]}"; do
    imgsvc_say "hook ${hook#"$IMGSVC_ROOT"/}"
    # shellcheck disable=SC1090
    . "$hook"
done

# Runs ctest in DIR; records its counts from the JUnit report in the totals below.
total_pass=0 total_fail=0 total_skip=0 status=0
run_ctest() {
    local dir=$1 label=$2 rc=0 counts
    echo "=== ctest ($label): $dir"
    (cd "$dir" && ctest --output-on-failure -j 2 --no-tests=error \
        --output-junit ctest-junit.xml "${ctest_extra[@]}") || rc=$?
    counts=$(/usr/bin/python3 - "$dir/ctest-junit.xml" <<'PY' || echo "0 0 0"
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suite = root if root.tag == "testsuite" else root.find("testsuite")
cases = suite.findall("testcase")
fail = sum(1 for c in cases if c.get("status") == "fail" or c.find("failure") is not None)
skip = sum(1 for c in cases if c.get("status") in ("notrun", "disabled")
           or c.find("skipped") is not None)
print(len(cases) - fail - skip, fail, skip)
PY
    )
    read -r p f s <<<"$counts"
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1 # ctest failed without a failing case (e.g. no tests): count it
    fi
    echo "$label: $p passed, $f failed, $s skipped"
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    total_skip=$((total_skip + s))
    [ "$rc" -eq 0 ] || status=1
}

imgsvc_build "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIMGSVC_WERROR=ON \
    -DIMGSVC_SANITIZE=OFF
run_ctest "$build_dir" build

if [ "${IMGSVC_SKIP_ASAN:-0}" != 1 ]; then
    imgsvc_build "$asan_dir" -DCMAKE_BUILD_TYPE=Debug -DIMGSVC_WERROR=ON -DIMGSVC_SANITIZE=ON
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    if [ -f "$IMGSVC_ROOT/tests/lsan.supp" ]; then
        export LSAN_OPTIONS=suppressions=$IMGSVC_ROOT/tests/lsan.supp:print_suppressions=0
    fi
    run_ctest "$asan_dir" asan
    unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
fi

echo "total: $total_pass passed, $total_fail failed, $total_skip skipped"
exit "$status"
