#!/usr/bin/env python3
"""Checks API responses recorded by a test that is not written in Python against openapi.yaml,
with the same Contract as harness.Server.request (tests/integration/harness.py).

  contract_check.py newman REPORT API_BASE
      every execution of a newman JSON report (newman run --reporters json) whose URL is on
      API_BASE (e.g. http://127.0.0.1:8080): method, path, status, headers and body. Requests
      to other hosts (the object store's presigned URLs) are S3's API, not this contract, and
      are skipped. Prints one line per mismatch; exit 0 when every response matches, 1 when
      one does not or when no response was on API_BASE.

  contract_check.py jsonl FILE
      one JSON object per line: {"method", "target" (path and query), "status", "headers"
      (lower-cased names), "body" (base64)}, as tests/browser/demo_test.mjs records what the
      page received from the API. Same output and exit codes.

Used by tests/postman/newman_test.mjs after each collection run and by
tests/browser/demo_test.mjs.
"""
import base64
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def newman_exchanges(report):
    """(method, url, status, lower-cased headers, body bytes) of every execution."""
    for ex in report.get("run", {}).get("executions", []):
        req, resp = ex.get("request") or {}, ex.get("response")
        if not resp:
            continue  # the request failed before an answer (reported by newman itself)
        u = req.get("url") or {}
        host = ".".join(u.get("host") or [])
        port = u.get("port") or ""
        path = "/" + "/".join(u.get("path") or [])
        query = "&".join(f"{q['key']}={q.get('value') or ''}" for q in u.get("query") or []
                         if not q.get("disabled"))
        url = f"{u.get('protocol', 'http')}://{host}{':' + port if port else ''}{path}" + \
            (f"?{query}" if query else "")
        hdrs = {h["key"].lower(): h["value"] for h in resp.get("header") or []}
        stream = resp.get("stream") or {}
        body = bytes(stream.get("data") or []) if isinstance(stream, dict) else b""
        yield req.get("method", "GET"), url, resp.get("code"), hdrs, body


def check_all(exchanges, where):
    """Checks (method, target, status, headers, body) tuples; prints; the exit code."""
    contract, checked, bad = harness.contract(), 0, []
    for method, target, status, hdrs, body in exchanges:
        checked += 1
        try:
            contract.check(method, target, status, hdrs, body)
        except harness.ContractError as ex:
            bad.append(f"{method} {target.split('?')[0]}: {ex}")
    for line in bad:
        print("MISMATCH: " + line)
    if checked == 0:
        print(f"no API response in {where}")
        return 1
    print(f"contract: {checked - len(bad)} of {checked} API responses match openapi.yaml")
    return 1 if bad else 0


def check_newman(path, api_base):
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    base = urllib.parse.urlsplit(api_base)
    out = []
    for method, url, status, hdrs, body in newman_exchanges(report):
        u = urllib.parse.urlsplit(url)
        if (u.hostname, u.port) == (base.hostname, base.port):
            out.append((method, u.path + (f"?{u.query}" if u.query else ""), status, hdrs, body))
    return check_all(out, f"{path} on {api_base}")


def check_jsonl(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                hdrs = {k.lower(): v for k, v in (r.get("headers") or {}).items()}
                out.append((r["method"], r["target"], r["status"], hdrs,
                            base64.b64decode(r.get("body") or "")))
    return check_all(out, path)


def main(argv):
    if len(argv) == 4 and argv[1] == "newman":
        return check_newman(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "jsonl":
        return check_jsonl(argv[2])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
