#!/usr/bin/env python3
"""bench/store driver: PUT then GET of N objects of SIZE bytes with C concurrent keep-alive
connections against each S3 endpoint given, through presigned URLs made beforehand (so the
client hashes nothing while timing). Prints one JSON document.

usage: bench.py --size BYTES --count N --concurrency C --warmup W
                --target NAME=HOST:PORT,BUCKET,ACCESS_KEY,SECRET_KEY [--target ...]
"""
import argparse
import concurrent.futures
import hashlib
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "integration"))
from storelib import presign  # noqa: E402  (an independent SigV4 presigner)

_local = threading.local()


def conn(host):
    c = getattr(_local, "conns", {}).get(host)
    if c is None:
        h, p = host.rsplit(":", 1)
        c = http.client.HTTPConnection(h, int(p), timeout=120)
        _local.__dict__.setdefault("conns", {})[host] = c
    return c


def one(method, url, body):
    u = urllib.parse.urlsplit(url)
    for attempt in range(2):  # one reconnect if the server closed an idle connection
        c = conn(u.netloc)
        try:
            t0 = time.perf_counter()
            c.request(method, u.path + "?" + u.query, body=body,
                      headers={"Content-Length": str(len(body))} if body is not None else {})
            r = c.getresponse()
            data = r.read()
            return time.perf_counter() - t0, r.status, len(data)
        except (http.client.HTTPException, OSError):
            c.close()
            _local.conns.pop(u.netloc, None)
            if attempt:
                raise
    raise RuntimeError("unreachable")


def phase(method, urls, body, conc):
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(conc) as pool:
        res = list(pool.map(lambda u: one(method, u, body), urls))
    wall = time.perf_counter() - t0
    lat = sorted(r[0] for r in res)
    bad = sum(1 for r in res if r[1] != 200)
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
    return {"ops": len(res), "errors": bad, "wall_s": round(wall, 3),
            "ops_per_s": round(len(res) / wall, 1),
            "mib_per_s": round(len(res) * len(body or b"") / wall / 1048576, 1) if body else
            round(sum(r[2] for r in res) / wall / 1048576, 1),
            "p50_ms": round(pct(0.50), 2), "p99_ms": round(pct(0.99), 2),
            "max_ms": round(lat[-1] * 1000, 2)}


def run_target(spec, args, body):
    name, rest = spec.split("=", 1)
    host, bucket, ak, sk = rest.split(",")
    run = f"bench-{int(time.time())}-{os.getpid()}"
    keys = [f"bench/{run}/{i:05d}.bin" for i in range(args.count)]
    put = [presign("PUT", host, bucket, k, ak, sk, expires=3600) for k in keys]
    get = [presign("GET", host, bucket, k, ak, sk, expires=3600) for k in keys]
    if args.warmup:
        phase("PUT", put[:args.warmup], body, args.concurrency)
        phase("GET", get[:args.warmup], None, args.concurrency)
    res = {"target": name, "endpoint": host, "put": phase("PUT", put, body, args.concurrency),
           "get": phase("GET", get, None, args.concurrency)}
    dels = [presign("DELETE", host, bucket, k, ak, sk, expires=3600) for k in keys]
    phase("DELETE", dels, None, args.concurrency)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=2 * 1024 * 1024)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--target", action="append", required=True)
    args = ap.parse_args()
    body = os.urandom(args.size)
    out = {"benchmark": "store", "object_bytes": args.size, "count": args.count,
           "concurrency": args.concurrency, "md5": hashlib.md5(body).hexdigest(),
           "results": [run_target(t, args, body) for t in args.target]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
