#!/usr/bin/env bash
# bench/http: the HTTP ceiling. Builds imgsvc if needed, starts `imgsvc serve` on an ephemeral
# loopback port, and runs wrk against GET /healthz with 32 and 128 connections (2 threads),
# each after a warm-up. Prints one JSON document on stdout (progress goes to stderr):
#   {"benchmark":"http","machine":{...},"imgsvc":{...},"wrk":{...},
#    "results":[{"connections":32,"req_per_s":..,"p50_ms":..,"p99_ms":..,...},...]}
#
# usage: bench/http/run.sh [-d SECONDS] [-w SECONDS] [-c "32 128"] [-t THREADS]
#   -d  measured duration per connection count (default 10)
#   -w  warm-up before each measurement, not reported (default 3)
#   -c  connection counts (default "32 128");  -t  wrk threads (default 2)
# Environment: IMGSVC_BIN (a prebuilt binary; default: build/imgsvc, built when missing or
# stale), and any IMGSVC_* setting for the server (IMGSVC_PORT and IMGSVC_LISTEN_ADDR are set
# here). The server's log goes to a temporary file, as it would to a log collector.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

duration=10 warmup=3 conns="32 128" threads=2
while getopts "d:w:c:t:h" opt; do
    case $opt in
    d) duration=$OPTARG ;;
    w) warmup=$OPTARG ;;
    c) conns=$OPTARG ;;
    t) threads=$OPTARG ;;
    *) sed -n '2,17p' "$0" >&2 && exit 2 ;;
    esac
done

imgsvc_apt_install "$IMGSVC_ROOT/scripts/packages/apt-build.txt"
imgsvc_apt_install_names wrk
if [ -z "${IMGSVC_BIN:-}" ]; then
    build_dir=$IMGSVC_ROOT/build
    if [ -f "$build_dir/CMakeCache.txt" ]; then
        imgsvc_build "$build_dir"
    else
        imgsvc_build "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo
    fi
    if grep -q '^IMGSVC_SANITIZE:BOOL=ON' "$build_dir/CMakeCache.txt"; then
        imgsvc_die "$build_dir is a sanitizer build: numbers would be meaningless"
    fi
    IMGSVC_BIN=$build_dir/imgsvc
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' \
    "$(dirname "$IMGSVC_BIN")/CMakeCache.txt" 2>/dev/null || true)

# Start the server on an ephemeral port; its "listening" log line says which.
work=$(mktemp -d)
imgsvc_on_exit "rm -rf '$work'"
(cd "$work" && IMGSVC_LISTEN_ADDR=127.0.0.1 IMGSVC_PORT=0 IMGSVC_STORE_PORT=0 exec "$IMGSVC_BIN" serve) \
    2>"$work/server.log" &
server_pid=$!
imgsvc_on_exit "kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null"
port=
for _ in $(seq 1 200); do
    port=$(sed -n 's/.*"msg":"listening".*"port":\([0-9]*\).*/\1/p' "$work/server.log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$port" ]; then
    cat "$work/server.log" >&2
    imgsvc_die "imgsvc did not report a listening port"
fi
url=http://127.0.0.1:$port/healthz
imgsvc_say "imgsvc (pid $server_pid) on $url"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
results=()
for c in $conns; do
    imgsvc_say "warm-up: $c connections, ${warmup}s"
    wrk -t "$threads" -c "$c" -d "${warmup}s" "$url" >/dev/null
    imgsvc_say "measure: $c connections, ${duration}s"
    line=$(wrk -t "$threads" -c "$c" -d "${duration}s" -s "$IMGSVC_ROOT/bench/http/report.lua" \
        "$url" | sed -n 's/^IMGSVC_BENCH //p')
    [ -n "$line" ] || imgsvc_die "wrk printed no result for $c connections"
    results+=("{\"connections\":$c,\"threads\":$threads,${line#\{}")
done

kill -TERM "$server_pid"
rc=0
wait "$server_pid" || rc=$?
[ "$rc" -eq 0 ] || imgsvc_say "warning: imgsvc exited $rc after SIGTERM"

json_str() { # a JSON string literal of $1
    printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
}
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
version=$("$IMGSVC_BIN" --version 2>&1 | head -1 || true)
joined=$(IFS=,; echo "${results[*]}")
printf '{"benchmark":"http","endpoint":"GET /healthz",'
printf '"machine":{"cpu":%s,"cores":%s,"kernel":%s,"date":%s,"loadavg_before":%s},' \
    "$(json_str "$cpu")" "$(nproc)" "$(json_str "$(uname -sr)")" \
    "$(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)")" "$(json_str "$load_before")"
printf '"imgsvc":{"version":%s,"build_type":%s},' "$(json_str "$version")" \
    "$(json_str "$build_type")"
printf '"wrk":{"threads":%s,"duration_s":%s,"warmup_s":%s},' "$threads" "$duration" "$warmup"
printf '"results":[%s]}\n' "$joined"
