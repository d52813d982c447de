#!/usr/bin/env bash
# bench/presign: presigning, imgsvc against the AWS SDK for JavaScript v3, in one go:
#   1. in process: presigns per second of the PUT URL POST /v1/uploads makes, one thread,
#      bench/presign/presign_bench (C, signing-key cache on and off) against
#      `node bench/anchors/presign-node.mjs inprocess` (getSignedUrl(PutObjectCommand));
#   2. over HTTP: POST /v1/uploads with wrk (bench/presign/post.lua) at 32 and 128 connections
#      against `imgsvc serve` and against the same endpoint written in Node
#      (`node bench/anchors/presign-node.mjs serve`), both on ephemeral loopback ports.
# Every measurement is repeated (-r, default 3) and the medians are compared; the runs are
# interleaved (imgsvc, Node, imgsvc, ...) so that a busy moment of the machine hits both.
# A control runs with them: GET /healthz on the same imgsvc at the same connection counts
# (no work but HTTP and the access log), so a p99 inflated by other processes on a shared
# machine shows in the control too. Every run records the load average (/proc/loadavg)
# before and after it, and every HTTP run the CPU time the server process used during it
# (/proc/PID/stat, all threads), from which requests per CPU second of the server: on a shared
# machine the scheduler gives imgsvc's several HTTP threads more of the cores than Node's one
# thread, which the req/s ratio rewards and the per-CPU-second ratio does not.
# Prints one JSON document on stdout (progress goes to stderr): machine, versions, settings,
# "inprocess", "http" and "targets" (issue 3: HTTP req/s >= 15x Node's and p99 <= 5 ms at 32
# connections; in process >= 100x the SDK), each with the measured value and whether it is met.
#
# usage: bench/presign/run.sh [-d SECONDS] [-w SECONDS] [-c "32 128"] [-t THREADS] [-r RUNS]
#                             [-i SECONDS] [-n NICE] [-q]
#   -d  wrk: measured duration of one run (default 10)
#   -w  wrk: warm-up per server and connection count, not reported (default 3)
#   -c  connection counts (default "32 128");  -t  wrk threads (default 2)
#   -r  runs of every measurement; medians are reported (default 3)
#   -i  in process: duration of one run (default 2; each run is its own process, after a
#       warm-up of 0.5 s for C and 3 s for Node)
#   -n  run both servers, wrk and both in-process programs at this nice value (default 0; a
#       negative value needs root). On a machine shared with other work, -n -10 gives the
#       benchmark's processes a larger share of the cores than the others' (both sides alike);
#       the JSON records the value. It cannot make the machine dedicated: the load average
#       before and after every run and the /healthz control still say how busy it was.
#   -q  quick smoke mode for the test suite: -d 1 -w 0 -r 1 -i 0.2, no installs or builds;
#       the numbers mean nothing
# Environment: IMGSVC_BIN (a prebuilt imgsvc; default build/imgsvc, built when missing or
# stale), PRESIGN_BENCH (default: bench/presign_bench next to IMGSVC_BIN), NODE (default node),
# IMGSVC_NPM_PREFIX (where node_modules is; default tests/, installed from tests/package.json).
# Authentication is off in both servers (imgsvc allows that on loopback only and says so).
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

duration=10 warmup=3 conns="32 128" threads=2 runs=3 inproc=2 quick=0 niceness=0
while getopts "d:w:c:t:r:i:n:qh" opt; do
    case $opt in
    d) duration=$OPTARG ;;
    w) warmup=$OPTARG ;;
    c) conns=$OPTARG ;;
    t) threads=$OPTARG ;;
    r) runs=$OPTARG ;;
    i) inproc=$OPTARG ;;
    n) niceness=$OPTARG ;;
    q) quick=1 duration=1 warmup=0 runs=1 inproc=0.2 ;;
    *) sed -n '2,40p' "$0" >&2 && exit 2 ;;
    esac
done
node=${NODE:-node}
prio=(nice -n "$niceness") # every measured process runs under it
anchor=$IMGSVC_ROOT/bench/anchors/presign-node.mjs

if [ "$quick" -eq 0 ]; then
    imgsvc_apt_install "$IMGSVC_ROOT/scripts/packages/apt-build.txt"
    imgsvc_apt_install_names wrk curl
    command -v "$node" >/dev/null 2>&1 || imgsvc_apt_install_names nodejs npm
    [ -n "${IMGSVC_NPM_PREFIX:-}" ] || imgsvc_npm_install "$IMGSVC_ROOT/tests"
fi
if [ -z "${IMGSVC_BIN:-}" ]; then
    [ "$quick" -eq 0 ] || imgsvc_die "-q needs IMGSVC_BIN (it builds nothing)"
    build_dir=$IMGSVC_ROOT/build
    if [ -f "$build_dir/CMakeCache.txt" ]; then
        imgsvc_build "$build_dir"
    else
        imgsvc_build "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo
    fi
    IMGSVC_BIN=$build_dir/imgsvc
fi
bin_dir=$(cd "$(dirname "$IMGSVC_BIN")" && pwd)
IMGSVC_BIN=$bin_dir/$(basename "$IMGSVC_BIN")
PRESIGN_BENCH=${PRESIGN_BENCH:-$bin_dir/bench/presign_bench}
[ -x "$PRESIGN_BENCH" ] || imgsvc_die "$PRESIGN_BENCH not found (build the presign_bench target)"
cache=$bin_dir/CMakeCache.txt
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$cache" 2>/dev/null || true)
sanitize=false
if grep -q '^IMGSVC_SANITIZE:BOOL=ON' "$cache" 2>/dev/null; then
    [ "$quick" -eq 1 ] || imgsvc_die "$bin_dir is a sanitizer build: numbers would be meaningless"
    sanitize=true
fi

work=$(mktemp -d)
imgsvc_on_exit "rm -rf '$work'"
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
unset AWS_SESSION_TOKEN
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
clk_tck=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime of every thread
load_before=$(loadavg)

# ---- in process ---------------------------------------------------------------------------
# One run per program invocation, alternating C and Node, so that a busy moment of the
# machine does not land on one side only; each invocation warms up first (run.sh -q: not).
nowarm=
if [ "$quick" -eq 1 ]; then nowarm="-w 0"; fi
for r in $(seq 1 "$runs"); do
    l0=$(loadavg)
    imgsvc_say "in process, run $r/$runs: presign_bench, ${inproc}s"
    # shellcheck disable=SC2086
    "${prio[@]}" "$PRESIGN_BENCH" -d "$inproc" -r 1 $nowarm \
        >"$work/inprocess-imgsvc-$r.json" 2>"$work/inprocess-imgsvc.log" ||
        { cat "$work/inprocess-imgsvc.log" >&2; imgsvc_die "presign_bench failed"; }
    imgsvc_say "in process, run $r/$runs: Node SDK, ${inproc}s"
    # shellcheck disable=SC2086
    "${prio[@]}" "$node" "$anchor" inprocess -d "$inproc" -r 1 $nowarm \
        >"$work/inprocess-node-$r.json" 2>"$work/inprocess-node.log" ||
        { cat "$work/inprocess-node.log" >&2; imgsvc_die "presign-node.mjs inprocess failed"; }
    echo "{\"run\":$r,\"load_before\":\"$l0\",\"load_after\":\"$(loadavg)\"}" \
        >"$work/inprocess-load-$r.json"
done

# ---- over HTTP ----------------------------------------------------------------------------
# start_server NAME CMD...: starts CMD in $work/NAME with its log in $work/NAME.log, waits for
# its "listening" line and sets ${NAME}_port and ${NAME}_pid.
start_server() {
    local name=$1 pid port=
    shift
    mkdir -p "$work/$name"
    (cd "$work/$name" && IMGSVC_LISTEN_ADDR=127.0.0.1 IMGSVC_PORT=0 IMGSVC_STORE_PORT=0 exec "${prio[@]}" "$@") \
        2>"$work/$name.log" >/dev/null &
    pid=$!
    imgsvc_on_exit "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
    for _ in $(seq 1 200); do
        port=$(sed -n 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p' "$work/$name.log" |
            head -1)
        [ -n "$port" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$port" ] || { cat "$work/$name.log" >&2; imgsvc_die "$name did not report a port"; }
    # One request by hand: the endpoint must answer 201 with a URL before it is measured.
    local code
    code=$(curl -s -o "$work/$name.sample" -w '%{http_code}' -X POST \
        -H 'Content-Type: application/json' \
        --data '{"domain":"profile","ids":{"userId":"42"},"contentType":"image/jpeg"}' \
        "http://127.0.0.1:$port/v1/uploads")
    if [ "$code" != 201 ] || ! grep -q '"url":"http' "$work/$name.sample"; then
        cat "$work/$name.sample" "$work/$name.log" >&2
        imgsvc_die "$name: POST /v1/uploads answered $code, not 201 with a URL"
    fi
    printf -v "${name}_port" '%s' "$port"
    printf -v "${name}_pid" '%s' "$pid"
    imgsvc_say "$name (pid $pid) on http://127.0.0.1:$port/v1/uploads"
}
start_server imgsvc "$IMGSVC_BIN" serve
start_server node "$node" "$anchor" serve

# Dies with the server's last log lines and exit status when SERVER is no longer running.
check_alive() {
    local pid_var=${1}_pid rc=0
    kill -0 "${!pid_var}" 2>/dev/null && return 0
    wait "${!pid_var}" || rc=$?
    tail -n 20 "$work/$1.log" >&2
    imgsvc_die "$1 (pid ${!pid_var}) stopped during the benchmark, exit status $rc"
}
wrk_run() { # wrk_run SERVER CONNECTIONS SECONDS -> the IMGSVC_BENCH line's JSON
    local port_var=${1}_port
    "${prio[@]}" wrk -t "$threads" -c "$2" -d "${3}s" -s "$IMGSVC_ROOT/bench/presign/post.lua" \
        "http://127.0.0.1:${!port_var}/v1/uploads" | sed -n 's/^IMGSVC_BENCH //p'
}
healthz_run() { # healthz_run CONNECTIONS SECONDS: the control, GET /healthz on imgsvc
    local port_var=imgsvc_port
    "${prio[@]}" wrk -t "$threads" -c "$1" -d "${2}s" -s "$IMGSVC_ROOT/bench/http/report.lua" \
        "http://127.0.0.1:${!port_var}/healthz" | sed -n 's/^IMGSVC_BENCH //p'
}
if [ "$warmup" != 0 ]; then
    for c in $conns; do
        for s in imgsvc node; do
            imgsvc_say "warm-up: $s, $c connections, ${warmup}s"
            wrk_run "$s" "$c" "$warmup" >/dev/null
            check_alive "$s"
        done
    done
fi
: >"$work/http.jsonl"
for r in $(seq 1 "$runs"); do
    for c in $conns; do
        for s in imgsvc node imgsvc_healthz; do
            imgsvc_say "run $r/$runs: $s, $c connections, ${duration}s"
            l0=$(loadavg)
            pid_var=${s%_healthz}_pid
            t0=$(cpu_ticks "${!pid_var}")
            if [ "$s" = imgsvc_healthz ]; then
                line=$(healthz_run "$c" "$duration")
                check_alive imgsvc
            else
                line=$(wrk_run "$s" "$c" "$duration")
                check_alive "$s"
            fi
            [ -n "$line" ] || imgsvc_die "wrk printed no result for $s at $c connections"
            cpu=$(awk -v a="$t0" -v b="$(cpu_ticks "${!pid_var}")" -v hz="$clk_tck" \
                'BEGIN { printf "%.3f", (b - a) / hz }')
            echo "{\"server\":\"$s\",\"connections\":$c,\"run\":$r,\"load_before\":\"$l0\",\"load_after\":\"$(loadavg)\",\"server_cpu_s\":$cpu,${line#\{}" >>"$work/http.jsonl"
        done
    done
done
for s in imgsvc node; do
    pid_var=${s}_pid
    kill -TERM "${!pid_var}"
    rc=0
    wait "${!pid_var}" || rc=$?
    [ "$rc" -eq 0 ] || imgsvc_say "warning: $s exited $rc after SIGTERM"
done

# ---- report -------------------------------------------------------------------------------
IMGSVC_VERSION=$("$IMGSVC_BIN" --version 2>&1 | head -1 || true) \
    NODE_VERSION=$("$node" --version) BUILD_TYPE=$build_type SANITIZE=$sanitize \
    LOAD_BEFORE=$load_before QUICK=$quick RUNS=$runs INPROC_S=$inproc \
    WRK_THREADS=$threads WRK_DURATION_S=$duration WRK_WARMUP_S=$warmup NICENESS=$niceness \
    python3 "$IMGSVC_ROOT/bench/presign/summarize.py" "$work"
