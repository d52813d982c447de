#!/usr/bin/env python3
"""bench/store/rgw_request_cost.py: what one S3 request of each kind the pipeline sends costs
Ceph RGW in CPU (radosgw and ceph-osd, from /proc/<pid>/stat), one request at a time on one
keep-alive connection, header-signed (SigV4) as imgsvc's client signs them:

  GET and HEAD of a missing key (the record reads), a 2 KB PUT (a manifest), HEAD and GET of
  it, its DELETE, a 2.5 MB PUT and GET (an upload, an origin), and a CopyObject of the 2.5 MB
  object within the bucket (an origin copied on the server).

Prints one JSON document: per kind the count, status, CPU ms per request of radosgw and
ceph-osd, and the wall ms per request. RGW must run (scripts/rgw.sh start; its settings from
`scripts/rgw.sh env`); every object made is deleted. Other work on the machine adds to the CPU
figures: run it on a quiet machine and compare kinds within one run.

usage: eval "$(scripts/rgw.sh env)"; bench/store/rgw_request_cost.py [-n SMALL] [-b BIG]
"""
import argparse
import http.client
import json
import os
import platform
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "integration"))
import storelib  # noqa: E402


def pids(name):
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/comm") as f:
                    if f.read().strip() == name:
                        out.append(p)
            except OSError:
                pass
    return out


def cpu_ms(ps):
    tick = os.sysconf("SC_CLK_TCK")
    t = 0
    for p in ps:
        with open(f"/proc/{p}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        t += int(fields[11]) + int(fields[12])
    return t * 1000.0 / tick


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=300, help="requests per small kind")
    ap.add_argument("-b", type=int, default=50, help="requests per 2.5 MB kind")
    args = ap.parse_args()
    host = os.environ.get("IMGSVC_S3_ENDPOINT", "http://127.0.0.1:7480").split("://", 1)[1]
    bucket = os.environ.get("IMGSVC_S3_BUCKET", "imgsvc-test")
    ak, sk = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    rgw, osd = pids("radosgw"), pids("ceph-osd")
    if not rgw:
        raise SystemExit("no radosgw process: scripts/rgw.sh start")
    conn = http.client.HTTPConnection(host, timeout=60)
    run = "rgw-cost/" + uuid.uuid4().hex[:8]

    def req(method, key, body=b"", extra=None):
        path = f"/{bucket}/{key}"
        h = storelib.sign_headers(method, host, path, ak, sk, body=body, headers=extra)
        h.update(extra or {})
        conn.request(method, path, body=body or None, headers=h)
        r = conn.getresponse()
        r.read()
        return r.status

    small, big = os.urandom(2000), os.urandom(2_500_000)
    for i in range(args.b):
        req("PUT", f"{run}/b{i}", big)
    kinds = [
        ("get_missing", args.n, lambda i: req("GET", f"{run}/none{i}")),
        ("head_missing", args.n, lambda i: req("HEAD", f"{run}/none{i}")),
        ("put_2kb", args.n, lambda i: req("PUT", f"{run}/s{i}", small)),
        ("head_2kb", args.n, lambda i: req("HEAD", f"{run}/s{i}")),
        ("get_2kb", args.n, lambda i: req("GET", f"{run}/s{i}")),
        ("delete_2kb", args.n, lambda i: req("DELETE", f"{run}/s{i}")),
        ("put_2_5mb", args.b, lambda i: req("PUT", f"{run}/p{i}", big)),
        ("get_2_5mb", args.b, lambda i: req("GET", f"{run}/b{i}")),
        ("copy_2_5mb", args.b, lambda i: req("PUT", f"{run}/c{i}", b"", {
            "x-amz-copy-source": f"/{bucket}/{run}/b{i}", "x-amz-metadata-directive": "REPLACE",
            "content-type": "image/jpeg"})),
    ]
    results = []
    for name, n, fn in kinds:
        a, b, t = cpu_ms(rgw), cpu_ms(osd), time.monotonic()
        statuses = sorted({fn(i) for i in range(n)})
        wall = time.monotonic() - t
        results.append({"kind": name, "requests": n, "status": statuses,
                        "radosgw_cpu_ms": round((cpu_ms(rgw) - a) / n, 2),
                        "ceph_osd_cpu_ms": round((cpu_ms(osd) - b) / n, 2),
                        "wall_ms": round(wall * 1000 / n, 2)})
    for i in range(args.b):
        for k in (f"b{i}", f"p{i}", f"c{i}"):
            req("DELETE", f"{run}/{k}")
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print(json.dumps({"benchmark": "rgw_request_cost", "machine": {
        "nproc": os.cpu_count(), "kernel": platform.release(), "loadavg_end": load,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, "results": results}))


if __name__ == "__main__":
    main()
