#!/usr/bin/env bash
# bench/store: the embedded S3 store next to Ceph RGW in the same run. Starts `imgsvc serve`
# with the store on an ephemeral loopback port and a fresh data folder, makes sure RGW runs
# (scripts/rgw.sh start), then PUTs and GETs COUNT objects of SIZE bytes (2 MiB) with
# CONCURRENCY keep-alive connections against each, through presigned URLs (bench/store/bench.py).
# Prints one JSON document on stdout (progress on stderr):
#   {"benchmark":"store","machine":{...},"object_bytes":..,"results":[{"target":"imgsvc",
#    "put":{"ops_per_s":..,"p50_ms":..,"p99_ms":..},"get":{...}},{"target":"rgw",...}]}
#
# usage: bench/store/run.sh [-n COUNT] [-c CONCURRENCY] [-s SIZE] [-w WARMUP] [-R]
#   -R  skip RGW (imgsvc only)
# Environment: IMGSVC_BIN (default: build/imgsvc, built when missing), IMGSVC_STORE_FSYNC is not
# a setting: the store always fsyncs (as it must to be crash safe).
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

count=200 conc=8 size=2097152 warmup=20 rgw=1
while getopts "n:c:s:w:Rh" opt; do
    case $opt in
    n) count=$OPTARG ;;
    c) conc=$OPTARG ;;
    s) size=$OPTARG ;;
    w) warmup=$OPTARG ;;
    R) rgw=0 ;;
    *) sed -n '2,14p' "$0" >&2 && exit 2 ;;
    esac
done

if [ -z "${IMGSVC_BIN:-}" ]; then
    imgsvc_build "$IMGSVC_ROOT/build"
    IMGSVC_BIN=$IMGSVC_ROOT/build/imgsvc
fi
work=$(mktemp -d)
ak=AKIABENCHSTORE000001 sk=bench-store-secret-key-0123456789
(cd "$work" && IMGSVC_LISTEN_ADDR=127.0.0.1 IMGSVC_PORT=0 IMGSVC_STORE_PORT=0 \
    IMGSVC_DATA_DIR="$work/data" IMGSVC_STORE_ACCESS_KEY_ID=$ak \
    IMGSVC_STORE_SECRET_ACCESS_KEY=$sk IMGSVC_S3_BUCKET=imgsvc IMGSVC_S3_ENDPOINT= \
    IMGSVC_STORE_MAX_OBJECT_BYTES=$((size + 1024)) exec "$IMGSVC_BIN" serve) \
    2>"$work/server.log" &
server_pid=$!
imgsvc_on_exit "kill $server_pid 2>/dev/null; wait $server_pid 2>/dev/null; rm -rf '$work'"
port=
for _ in $(seq 100); do
    port=$(sed -n 's/.*"msg":"listening","server":"store".*"port":\([0-9]*\).*/\1/p' \
        "$work/server.log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
[ -n "$port" ] || { cat "$work/server.log" >&2; imgsvc_die "the store did not start"; }
targets=(--target "imgsvc=127.0.0.1:$port,imgsvc,$ak,$sk")
if [ "$rgw" = 1 ]; then
    bash "$IMGSVC_ROOT/scripts/rgw.sh" start >&2
    eval "$(bash "$IMGSVC_ROOT/scripts/rgw.sh" env)"
    targets+=(--target "rgw=${IMGSVC_S3_ENDPOINT#http://},$IMGSVC_S3_BUCKET,$AWS_ACCESS_KEY_ID,$AWS_SECRET_ACCESS_KEY")
fi
imgsvc_say "imgsvc store on 127.0.0.1:$port; $count x $size bytes, $conc connections"
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
result=$(python3 "$IMGSVC_ROOT/bench/store/bench.py" --size "$size" --count "$count" \
    --concurrency "$conc" --warmup "$warmup" "${targets[@]}")
machine=$(printf '{"cpu":"%s","cores":%s,"kernel":"%s","date":"%s","loadavg_before":"%s"}' \
    "$(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1)" "$(nproc)" "$(uname -sr)" \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$loadavg")
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); d["machine"]=json.loads(sys.argv[2]); print(json.dumps(d))' \
    "$result" "$machine"
