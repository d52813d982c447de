"""Helpers for the embedded S3 store's tests: a server with the store on a free port, an
independent SigV4 signer (header and presigned query, written from the AWS documentation, with
every field overridable so tests can tamper), raw HTTP and S3 XML errors."""
import datetime
import hashlib
import hmac
import http.client
import os
import time
import urllib.parse
import xml.etree.ElementTree as ET

from harness import Server

AK = "AKIASTORETEST0000001"
SK = "store-test-secret-key-0123456789"
REGION = "us-east-1"
BUCKET = "imgsvc"
STORE_ENV = {"IMGSVC_STORE_ACCESS_KEY_ID": AK, "IMGSVC_STORE_SECRET_ACCESS_KEY": SK,
             "IMGSVC_S3_BUCKET": BUCKET, "AWS_REGION": REGION}

# Ceph RGW from scripts/rgw.sh (fixture "rgw").
RGW_HOST = os.environ.get("IMGSVC_RGW_HOST", "127.0.0.1:7480")
RGW_AK = os.environ.get("IMGSVC_RGW_ACCESS_KEY", "IMGSVCTESTACCESSKEY0")
RGW_SK = os.environ.get("IMGSVC_RGW_SECRET_KEY", "imgsvc-test-secret-key-0123456789abcdefgh")
RGW_BUCKET = os.environ.get("IMGSVC_RGW_BUCKET", "imgsvc-test")


def start_store(env=None, wait=True):
    """A Server with the embedded store; .store_port is set when it returns (wait=True)."""
    srv = Server(env=dict(STORE_ENV, **(env or {})), wait=wait)
    deadline = time.time() + 10
    while wait and srv.store_port is None and time.time() < deadline:
        time.sleep(0.02)
    if wait and srv.store_port is None:
        srv.stop()
        raise RuntimeError("the store did not start: " + "".join(srv.lines))
    return srv


def quote(s, safe="/~"):
    return urllib.parse.quote(s, safe=safe)


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(sk, date, region, service="s3"):
    k = _hmac(("AWS4" + sk).encode(), date)
    return _hmac(_hmac(_hmac(k, region), service), "aws4_request")


def _canonical_query(pairs):
    enc = sorted((quote(k, "~"), quote(v, "~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in enc)


def presign(method, host, bucket, key, ak, sk, region=REGION, when=None, expires=600,
            headers=None, scope_date=None, scope_region=None, expires_text=None):
    """A presigned URL (path-style, UNSIGNED-PAYLOAD). `headers` are signed (host added).
    scope_date/scope_region/expires_text forge those fields; the signature stays consistent
    with what is sent, so only the server's rules can refuse it."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz = when.strftime("%Y%m%dT%H%M%SZ")
    scope = f"{scope_date or amz[:8]}/{scope_region or region}/s3/aws4_request"
    hdrs = {"host": host}
    hdrs.update({k.lower(): v for k, v in (headers or {}).items()})
    signed = ";".join(sorted(hdrs))
    q = [("X-Amz-Algorithm", "AWS4-HMAC-SHA256"), ("X-Amz-Credential", f"{ak}/{scope}"),
         ("X-Amz-Date", amz),
         ("X-Amz-Expires", expires_text if expires_text is not None else str(expires)),
         ("X-Amz-SignedHeaders", signed)]
    path = f"/{bucket}/{key}"
    creq = "\n".join([method, quote(path), _canonical_query(q),
                      "".join(f"{k}:{hdrs[k].strip()}\n" for k in sorted(hdrs)), signed,
                      "UNSIGNED-PAYLOAD"])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(creq.encode()).hexdigest()])
    sig = hmac.new(signing_key(sk, scope.split("/")[0], scope.split("/")[1]), sts.encode(),
                   hashlib.sha256).hexdigest()
    return f"http://{host}{quote(path)}?{_canonical_query(q)}&X-Amz-Signature={sig}"


def sign_headers(method, host, path, ak, sk, body=b"", headers=None, query="", region=REGION,
                 when=None, payload_hash=None, unsigned=None):
    """Headers for a header-signed request (x-amz-content-sha256 signed). `path` is the raw
    (encoded) path; `unsigned` headers are added after signing."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz = when.strftime("%Y%m%dT%H%M%SZ")
    ph = payload_hash or hashlib.sha256(body).hexdigest()
    hdrs = {"host": host, "x-amz-date": amz, "x-amz-content-sha256": ph}
    hdrs.update({k.lower(): v for k, v in (headers or {}).items()})
    signed = ";".join(sorted(hdrs))
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    creq = "\n".join([method, quote(urllib.parse.unquote(path)), _canonical_query(pairs),
                      "".join(f"{k}:{hdrs[k].strip()}\n" for k in sorted(hdrs)), signed, ph])
    scope = f"{amz[:8]}/{region}/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(creq.encode()).hexdigest()])
    sig = hmac.new(signing_key(sk, amz[:8], region), sts.encode(), hashlib.sha256).hexdigest()
    hdrs["authorization"] = (f"AWS4-HMAC-SHA256 Credential={ak}/{scope}, "
                             f"SignedHeaders={signed}, Signature={sig}")
    hdrs.update(unsigned or {})
    return hdrs


def raw(method, url_or_host, path=None, body=None, headers=None, timeout=30):
    """Sends one request as given; returns (status, headers (lowercase), body)."""
    if path is None:
        u = urllib.parse.urlsplit(url_or_host)
        host, path = u.netloc, u.path + ("?" + u.query if u.query else "")
    else:
        host = url_or_host
    h, p = host.rsplit(":", 1)
    c = http.client.HTTPConnection(h, int(p), timeout=timeout)
    try:
        c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        hdrs.setdefault("host", host)
        if body is not None:
            hdrs.setdefault("content-length", str(len(body)))
        for k, v in hdrs.items():
            c.putheader(k, v)
        c.endheaders(body)
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        c.close()


def s3_error(body):
    """(Code, Message, Resource, RequestId) of an S3 XML error body."""
    root = ET.fromstring(body)
    if root.tag != "Error":
        raise AssertionError(f"not an S3 error document: {body[:200]!r}")
    return tuple(root.findtext(t) for t in ("Code", "Message", "Resource", "RequestId"))


def aws_chunked(body, chunk, seed=None, sk=None, amz=None, region=REGION, trailer=None):
    """Encodes `body` as aws-chunked: signed chunks chained from the `seed` signature when given
    (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), else plain chunks and an optional (name, value)
    trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER)."""
    out, prev = [], seed
    key = signing_key(sk, amz[:8], region) if seed else None
    scope = f"{amz[:8]}/{region}/s3/aws4_request" if seed else None
    empty = hashlib.sha256(b"").hexdigest()
    pieces = [body[i:i + chunk] for i in range(0, len(body), chunk)] + [b""]
    for p in pieces:
        if seed:
            sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz, scope, prev, empty,
                             hashlib.sha256(p).hexdigest()])
            prev = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
            out.append(f"{len(p):x};chunk-signature={prev}\r\n".encode() + p + b"\r\n")
        else:
            out.append(f"{len(p):x}\r\n".encode() + p + (b"\r\n" if p else b""))
    if not seed:
        if trailer:
            out.append(f"{trailer[0]}:{trailer[1]}\r\n".encode())
        out.append(b"\r\n")
    return b"".join(out)
