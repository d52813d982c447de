#!/usr/bin/env bash
# A one-node Ceph RGW (the real S3 the tests use), after ../shared/RGW.md.
#
#   scripts/rgw.sh start    install the packages when missing (as root or through sudo), create a
#                           memstore cluster under $IMGSVC_RGW_DIR, start mon, osd and radosgw on
#                           127.0.0.1:$IMGSVC_RGW_PORT, create the test user and bucket. A no-op
#                           when it is already running.
#   scripts/rgw.sh stop     stop the daemons by their pid files (a no-op when not running).
#   scripts/rgw.sh status   exit 0 when RGW answers, 1 otherwise.
#   scripts/rgw.sh env      print shell exports (endpoint, region, bucket, keys):
#                           eval "$(scripts/rgw.sh env)"
#   scripts/rgw.sh install  only install the packages (scripts/packages/apt-rgw.txt).
#   scripts/rgw.sh gateway-start PORT   one more radosgw of the running cluster on 127.0.0.1:PORT
#                           (same objects, users and buckets; the cluster's data lives in the
#                           mon and osd, so stopping a gateway loses nothing). For tests that
#                           restart "RGW" without disturbing the shared gateways.
#   scripts/rgw.sh gateway-stop PORT    stop that extra gateway (SIGTERM, then SIGKILL).
#
# Environment: IMGSVC_RGW_DIR (scratch folder, default /tmp/imgsvc-rgw), IMGSVC_RGW_PORT (7480),
# IMGSVC_RGW_NO_INSTALL=1 (start fails loudly instead of installing missing packages: the ctest
# fixture sets it; scripts/test.sh installs them). The cluster keeps objects in memory: a
# restart starts empty. Concurrent starts (two ctest runs) are serialized with a lock file.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RGW_DIR=${IMGSVC_RGW_DIR:-/tmp/imgsvc-rgw}
RGW_PORT=${IMGSVC_RGW_PORT:-7480}
RGW_MON_PORT=${IMGSVC_RGW_MON_PORT:-6789}
RGW_NAME=client.rgw.imgsvc
# Fixed, test-only credentials (never used outside this throwaway cluster).
RGW_ACCESS_KEY=IMGSVCTESTACCESSKEY0
RGW_SECRET_KEY=imgsvc-test-secret-key-0123456789abcdefgh
RGW_REGION=us-east-1
RGW_BUCKET=imgsvc-test
RGW_ENDPOINT=http://127.0.0.1:$RGW_PORT
# A second gateway on the same cluster with STS (AssumeRole) turned on: with STS on, RGW answers
# AccessDenied where S3 says SignatureDoesNotMatch, so the main gateway keeps it off.
RGW_STS_PORT=$((RGW_PORT + 1))
RGW_STS_NAME=client.rgw.imgsvc-sts
RGW_STS_ENDPOINT=http://127.0.0.1:$RGW_STS_PORT
CONF=$RGW_DIR/ceph.conf

rgw_say() { printf '[rgw.sh] %s\n' "$*" >&2; }
rgw_die() {
    rgw_say "error: $*"
    exit 1
}

rgw_install() {
    if [ "${IMGSVC_RGW_NO_INSTALL:-0}" = 1 ]; then
        local missing=()
        for tool in radosgw ceph-mon ceph-osd ceph monmaptool radosgw-admin curl uuidgen; do
            command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
        done
        [ "${#missing[@]}" -eq 0 ] ||
            rgw_die "not installed: ${missing[*]} (run scripts/test.sh, or scripts/rgw.sh install)"
        return 0
    fi
    imgsvc_apt_install "$IMGSVC_ROOT/scripts/packages/apt-rgw.txt"
}

# True when RGW answers HTTP on its port.
rgw_answers() {
    curl -s -o /dev/null --max-time 2 "$RGW_ENDPOINT/"
}

# True when the process in pid file $1 is alive.
pid_alive() {
    local pid
    [ -s "$1" ] || return 1
    pid=$(cat "$1")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

rgw_running() {
    pid_alive "$RGW_DIR/run/radosgw.pid" && rgw_answers &&
        pid_alive "$RGW_DIR/run/radosgw-sts.pid"
}

# Waits up to $1 seconds for the command "$2..." to succeed.
wait_for() {
    local secs=$1 i
    shift
    for ((i = 0; i < secs * 2; i++)); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.5
    done
    return 1
}

write_conf() {
    cat >"$CONF" <<CONF
[global]
fsid = $(uuidgen)
mon host = 127.0.0.1:$RGW_MON_PORT
mon data = $RGW_DIR/data/mon.\$id
osd data = $RGW_DIR/data/osd.\$id
run dir = $RGW_DIR/run
admin socket = $RGW_DIR/run/\$name.asok
log file = $RGW_DIR/log/\$name.log
pid file = $RGW_DIR/run/\$name.pid
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon max pg per osd = 1000
osd objectstore = memstore
memstore device bytes = 2147483648
osd crush chooseleaf type = 0
ms bind ipv6 = false
mon warn on pool no redundancy = false

[$RGW_NAME]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw dns name = localhost
pid file = $RGW_DIR/run/radosgw.pid

[$RGW_STS_NAME]
rgw frontends = beast endpoint=127.0.0.1:$RGW_STS_PORT
rgw dns name = localhost
rgw s3 auth use sts = true
rgw sts key = 0123456789abcdef
pid file = $RGW_DIR/run/radosgw-sts.pid
CONF
}

# Prints the tail of every daemon log (for a failed start).
show_logs() {
    local f
    for f in "$RGW_DIR"/log/*.log; do
        [ -f "$f" ] || continue
        echo "--- $f" >&2
        tail -n 20 "$f" >&2
    done
}

start_mon() {
    monmaptool --create --fsid "$(awk '/^fsid/ {print $3}' "$CONF")" \
        --add a "127.0.0.1:$RGW_MON_PORT" "$RGW_DIR/monmap" >/dev/null
    ceph-mon -c "$CONF" --mkfs -i a --monmap "$RGW_DIR/monmap" >/dev/null 2>&1 ||
        rgw_die "ceph-mon --mkfs failed"
    # Daemons must not inherit fd 9 (the start lock) or they would hold it forever.
    ceph-mon -c "$CONF" -i a >>"$RGW_DIR/log/start.log" 2>&1 9>&- ||
        rgw_die "ceph-mon did not start"
    wait_for 60 ceph -c "$CONF" --connect-timeout 5 -s || {
        show_logs
        rgw_die "the monitor does not answer"
    }
}

osd_up() {
    ceph -c "$CONF" --connect-timeout 5 osd stat | grep -q '1 up'
}

start_osd() {
    local id
    id=$(ceph -c "$CONF" osd create 2>>"$RGW_DIR/log/start.log") ||
        rgw_die "ceph osd create failed"
    mkdir -p "$RGW_DIR/data/osd.$id"
    ceph-osd -c "$CONF" -i "$id" --mkfs >/dev/null 2>&1 || rgw_die "ceph-osd --mkfs failed"
    ceph-osd -c "$CONF" -i "$id" >>"$RGW_DIR/log/start.log" 2>&1 9>&- ||
        rgw_die "ceph-osd did not start"
    wait_for 60 osd_up || {
        show_logs
        rgw_die "the OSD did not come up"
    }
}

start_rgw() {
    radosgw -c "$CONF" -n "$RGW_NAME" >>"$RGW_DIR/log/start.log" 2>&1 9>&- ||
        rgw_die "radosgw did not start"
    wait_for 120 rgw_answers || {
        show_logs
        rgw_die "radosgw does not answer on $RGW_ENDPOINT"
    }
    radosgw -c "$CONF" -n "$RGW_STS_NAME" >>"$RGW_DIR/log/start.log" 2>&1 9>&- ||
        rgw_die "the STS radosgw did not start"
    wait_for 120 curl -s -o /dev/null --max-time 2 "$RGW_STS_ENDPOINT/" || {
        show_logs
        rgw_die "the STS radosgw does not answer on $RGW_STS_ENDPOINT"
    }
    radosgw-admin -c "$CONF" user create --uid=imgsvc-test --display-name=imgsvc-test \
        --access-key="$RGW_ACCESS_KEY" --secret-key="$RGW_SECRET_KEY" >/dev/null 2>&1 ||
        rgw_die "radosgw-admin user create failed"
    # A role the test user may assume (STS AssumeRole -> credentials with a session token).
    radosgw-admin -c "$CONF" caps add --uid=imgsvc-test --caps="roles=*" >/dev/null 2>&1 ||
        rgw_die "radosgw-admin caps add failed"
    radosgw-admin -c "$CONF" role create --role-name=imgsvc-test-role --path=/ \
        --assume-role-policy-doc='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam:::user/imgsvc-test"]},"Action":["sts:AssumeRole"]}]}' \
        >/dev/null 2>&1 || rgw_die "radosgw-admin role create failed"
    radosgw-admin -c "$CONF" role-policy put --role-name=imgsvc-test-role --policy-name=s3 \
        --policy-doc='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":"arn:aws:s3:::*"}]}' \
        >/dev/null 2>&1 || rgw_die "radosgw-admin role-policy put failed"
    # The bucket the tests share (tests that need their own create it).
    local code empty_sha
    empty_sha=$(printf '' | sha256sum | cut -d' ' -f1)
    code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --aws-sigv4 "aws:amz:$RGW_REGION:s3" \
        -u "$RGW_ACCESS_KEY:$RGW_SECRET_KEY" -H "x-amz-content-sha256: $empty_sha" \
        "$RGW_ENDPOINT/$RGW_BUCKET")
    [ "$code" = 200 ] || [ "$code" = 409 ] || rgw_die "creating bucket $RGW_BUCKET: HTTP $code"
}

# Stops process `pid` (empty or gone: nothing to do): TERM, up to 10 s, then KILL.
stop_pid() {
    local pid=$1 i
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 40; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    kill -9 "$pid" 2>/dev/null || true
}

rgw_stop_daemons() {
    local f
    # Gateway first, monitor last (an OSD without its monitor is slow to stop).
    for f in "$RGW_DIR"/run/radosgw.pid "$RGW_DIR"/run/osd.*.pid "$RGW_DIR"/run/*.pid; do
        [ -f "$f" ] || continue
        stop_pid "$(cat "$f")"
        rm -f "$f"
    done
}

rgw_start() {
    rgw_install
    mkdir -p "$(dirname "$RGW_DIR")"
    exec 9>"$RGW_DIR.lock"
    flock -w 600 9 || rgw_die "timed out waiting for $RGW_DIR.lock"
    if rgw_running; then
        return 0
    fi
    if rgw_answers; then
        rgw_die "something else answers on $RGW_ENDPOINT (set IMGSVC_RGW_PORT)"
    fi
    rgw_say "starting Ceph RGW on $RGW_ENDPOINT (folder $RGW_DIR)"
    # A fresh one-node cluster now and then loses a start-up race (an OSD refused with "wrong
    # fsid"): start over from scratch, at most three times.
    local attempt
    for attempt in 1 2 3; do
        rgw_stop_daemons # leftovers of a half-started or crashed cluster
        rm -rf "$RGW_DIR"
        mkdir -p "$RGW_DIR/data/mon.a" "$RGW_DIR/run" "$RGW_DIR/log"
        write_conf
        if (start_mon && start_osd && start_rgw); then
            rgw_say "Ceph RGW is up: $RGW_ENDPOINT bucket $RGW_BUCKET"
            return 0
        fi
        rgw_say "start attempt $attempt failed"
    done
    rgw_stop_daemons
    rgw_die "Ceph RGW did not start (logs were in $RGW_DIR/log)"
}

rgw_env() {
    cat <<ENV
export IMGSVC_S3_ENDPOINT=$RGW_ENDPOINT
export IMGSVC_S3_BUCKET=$RGW_BUCKET
export IMGSVC_S3_ADDRESSING=path
export AWS_REGION=$RGW_REGION
export AWS_ACCESS_KEY_ID=$RGW_ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$RGW_SECRET_KEY
export IMGSVC_RGW_ACCESS_KEY=$RGW_ACCESS_KEY
export IMGSVC_RGW_SECRET_KEY=$RGW_SECRET_KEY
export IMGSVC_RGW_STS_ENDPOINT=$RGW_STS_ENDPOINT
ENV
}

# An extra gateway on port $1 (tests restart it; the shared ones are never touched).
rgw_gateway_start() {
    local port=$1
    [[ "$port" =~ ^[0-9]+$ ]] || rgw_die "gateway-start: a port number is needed"
    [ "$port" != "$RGW_PORT" ] && [ "$port" != "$RGW_STS_PORT" ] ||
        rgw_die "gateway-start: $port is a shared gateway's port"
    rgw_answers || rgw_die "the cluster is not running (scripts/rgw.sh start)"
    # Something else on the port would answer the readiness check below in radosgw's place.
    ! curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/" ||
        rgw_die "gateway-start: something already answers on port $port"
    radosgw -c "$CONF" -n "client.rgw.imgsvc-gw$port" \
        --rgw-frontends="beast endpoint=127.0.0.1:$port" --rgw-dns-name=localhost \
        --pid-file="$RGW_DIR/run/radosgw-gw$port.pid" >>"$RGW_DIR/log/start.log" 2>&1 ||
        rgw_die "radosgw on port $port did not start"
    wait_for 120 curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/" ||
        rgw_die "radosgw does not answer on port $port"
}

rgw_gateway_stop() {
    local port=$1 f
    [[ "$port" =~ ^[0-9]+$ ]] || rgw_die "gateway-stop: a port number is needed"
    f="$RGW_DIR/run/radosgw-gw$port.pid"
    [ -s "$f" ] || return 0
    stop_pid "$(cat "$f")"
    rm -f "$f"
}

case "${1:-}" in
start) rgw_start ;;
gateway-start) rgw_gateway_start "${2:-}" ;;
gateway-stop) rgw_gateway_stop "${2:-}" ;;
stop)
    [ -d "$RGW_DIR/run" ] || exit 0
    exec 9>"$RGW_DIR.lock"
    flock -w 600 9 || rgw_die "timed out waiting for $RGW_DIR.lock"
    rgw_stop_daemons
    ;;
status) rgw_running ;;
env) rgw_env ;;
install)
    IMGSVC_RGW_NO_INSTALL=0
    rgw_install
    ;;
*)
    echo "usage: $0 start|stop|status|env|install|gateway-start PORT|gateway-stop PORT" >&2
    exit 2
    ;;
esac
