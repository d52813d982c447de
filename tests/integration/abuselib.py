"""Senders and helpers of the abuse matrix (test_abuse.py): each Senders.send_<kind> method
sends one kind of abusive request to the running server (self.srv, its store at self.store)
and returns what came back as (status, code, message); Keys makes RS256 tokens with the openssl
CLI; trickle() plays a slow client."""
import base64
import datetime
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

from harness import Server

try:
    from harness import contract  # openapi.yaml, for answers read from raw sockets
except ImportError:  # a harness without the contract check
    contract = None
from storelib import AK, BUCKET, SK, STORE_ENV, presign, raw, s3_error, sign_headers
from test_events import TOKEN, aws_body, metric
from test_store_parity import CASES as PARITY_CASES, run_case
from test_uploads import API_KEY, jwt_hs256

CORPUS = os.environ.get("IMGSVC_CORPUS_DIR", "")
HOSTILE = os.path.join(CORPUS, "hostile")
S3NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
WAIT_S = 120  # bound on a hostile upload reaching `failed` (ASan, ctest -j2)
SLOW_BOUND_S = 60  # bound on a trickling client being cut off (read timeout 2 s)
KIB = 1024
# Body caps of the oversized rows, by route, and the settings that make them.
CAPS = {"/v1/events/s3": 4 * KIB, "/v1/uploads": 4 * KIB, "/v1/resize?w=100": 64 * KIB}
CAPS_ENV = {"IMGSVC_EVENTS_MAX_BYTES": str(4 * KIB), "IMGSVC_MAX_JSON_BYTES": str(4 * KIB),
            "IMGSVC_MAX_IMAGE_BYTES": str(64 * KIB), "IMGSVC_STORE_MAX_OBJECT_BYTES": str(64 * KIB),
            "IMGSVC_READ_TIMEOUT_S": "120"}  # a server waiting for the body would show as a hang
UPLOAD = {"domain": "profile", "ids": {"userId": "42"}, "contentType": "image/jpeg"}
UID = "0b8f2a4e-1c3d-4e5f-9a6b-7c8d9e0f1a2b_1700000000"


def jwt_none(c):
    def b64(d):
        return base64.urlsafe_b64encode(d).rstrip(b"=").decode()
    return (b64(json.dumps({"alg": "none", "typ": "JWT"}).encode()) + "." +
            b64(json.dumps(c).encode()) + ".")


class Keys:
    """The RS256 key the server trusts and an attacker's key, made with the openssl CLI."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="imgsvc-abuse-rsa-")
        for name in ("good", "other"):
            subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                            "rsa_keygen_bits:2048", "-out", f"{name}.key"], cwd=self.dir,
                           check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", "good.key", "-pubout", "-out", "good.pub"],
                       cwd=self.dir, check=True, capture_output=True)
        self.public_file = os.path.join(self.dir, "good.pub")
        with open(self.public_file) as f:
            self.public_pem = f.read()

    def rs256(self, c, key="good"):
        def b64(d):
            return base64.urlsafe_b64encode(d).rstrip(b"=").decode()
        text = (b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode()) + "." +
                b64(json.dumps(c).encode()))
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", f"{key}.key"],
                             cwd=self.dir, input=text.encode(), check=True,
                             capture_output=True).stdout
        return text + "." + b64(sig)

    def close(self):
        subprocess.run(["rm", "-rf", self.dir], check=False)


def trickle(sock, first, piece, bound_s):
    """Sends `first`, then `piece` every 0.2 s until the peer closes or bound_s passes.
    Returns (closed, bytes received before the close)."""
    got = b""
    sock.sendall(first)
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        try:
            sock.settimeout(0.2)
            data = sock.recv(4096)
            if data == b"":
                return True, got
            got += data
        except socket.timeout:
            pass
        except (ConnectionResetError, BrokenPipeError):
            return True, got
        try:
            sock.sendall(piece)
        except (ConnectionResetError, BrokenPipeError):
            return True, got
    return False, got


def read_response(sock):
    """(status, lower-cased headers, body) of one HTTP/1.1 response with Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError(f"closed before the headers: {data!r}")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {ln.split(":", 1)[0].strip().lower(): ln.split(":", 1)[1].strip() for ln in lines[1:]}
    n = int(hdrs.get("content-length", "0"))
    while len(rest) < n:
        chunk = sock.recv(4096)
        if not chunk:
            break
        rest += chunk
    return int(lines[0].split()[1]), hdrs, rest[:n]


class Senders:
    """The probes' senders, mixed into the test case (self.srv, self.store, self.seed_key,
    self.sns, self.keys, self.added are the test's)."""

    # ---- the store, through its S3 API ----

    def s3(self, method, key, body=b"", **kw):
        path = "/" + BUCKET + "/" + urllib.parse.quote(key, safe="/~")
        return raw(method, self.store, path, body if method == "PUT" else None,
                   sign_headers(method, self.store, path, AK, SK, body, **kw))

    def seed(self):
        self.seed_key = f"delete/profile/42/{uuid.uuid4()}_{int(time.time())}.jpeg"
        st, _, b = self.s3("PUT", self.seed_key, os.urandom(1000),
                           headers={"content-type": "image/jpeg"})
        self.assertEqual(st, 200, b)

    def listing(self):
        """{key: (size, etag)} of the whole bucket (ListObjectsV2, every page)."""
        out, token = {}, None
        while True:
            q = "list-type=2" + (f"&continuation-token={urllib.parse.quote(token, safe='')}"
                                 if token else "")
            path = "/" + BUCKET
            st, _, body = raw("GET", self.store, path + "?" + q,
                              headers=sign_headers("GET", self.store, path, AK, SK, query=q))
            self.assertEqual(st, 200, body)
            root = ET.fromstring(body)
            for c in root.findall(S3NS + "Contents"):
                out[c.findtext(S3NS + "Key")] = (c.findtext(S3NS + "Size"),
                                                 c.findtext(S3NS + "ETag"))
            if root.findtext(S3NS + "IsTruncated") != "true":
                return out
            token = root.findtext(S3NS + "NextContinuationToken")

    # ---- credentials ----

    def cred(self, spec):
        """Request headers for a credential spec (see ROWS)."""
        if spec is None:
            return {}
        kind = spec[0]
        if kind == "api_key":
            return {"X-Api-Key": API_KEY}
        if kind == "x_api_key":
            return {"X-Api-Key": spec[1]}
        if kind == "bearer":
            return {"Authorization": "Bearer " + spec[1]}
        tok = {"hs256": lambda: jwt_hs256(spec[1]),
               "hs256_secret": lambda: jwt_hs256(spec[1], spec[2]),
               "rs256_other": lambda: self.keys.rs256(spec[1], "other"),
               "none": lambda: jwt_none(spec[1]),
               "hs256_with_rsa_public_key": lambda: jwt_hs256(spec[1], self.keys.public_pem),
               }[kind]()
        return {"Authorization": "Bearer " + tok}

    @staticmethod
    def api_error(status, doc):
        err = (doc or {}).get("error") or {}
        return status, err.get("code"), err.get("message")

    # ---- the probes' senders: each returns (status, code, message) ----

    def send_upload(self, a):
        h = {"Content-Type": "application/json"}
        h.update(self.cred(a["cred"]))
        status, _, doc = self.srv.json("POST", "/v1/uploads", body=json.dumps(a["body"]),
                                       headers=h)
        return self.api_error(status, doc)

    def send_get(self, a):
        """GET with an API key unless the probe names other credentials."""
        status, _, doc = self.srv.json("GET", a["path"],
                                       headers=self.cred(a.get("cred", ("api_key",))))
        return self.api_error(status, doc)

    def webhook_post(self, a, body=None):
        h = {"Content-Type": "application/json"}
        if "token" in a:
            h["Authorization"] = "Bearer " + a["token"]
        if "raw_auth" in a:
            h["Authorization"] = a["raw_auth"]
        path = "/v1/events/s3"
        if "query_token" in a:
            path += "?token=" + urllib.parse.quote(a["query_token"], safe="")
        status, _, doc = self.srv.json("POST", path, body=body or aws_body(self.seed_key),
                                       headers=h)
        return status, doc

    def send_webhook(self, a):
        return self.api_error(*self.webhook_post(a))

    def send_sns(self, a):
        """An SNS Notification carrying a record for the seeded temp: forged per `a["forge"]`,
        or validly signed but naming a certificate URL off the allowed hosts."""
        seed, forge = aws_body(self.seed_key), a.get("forge")
        if forge == "message":  # signed for another record, carrying the seeded one
            env = self.sns.envelope("Notification", aws_body(f"delete/feed/f1/{UID}.jpeg"))
            env["Message"] = seed
        elif forge == "downgrade":  # signed with SHA-256, claims version 1 (SHA-1)
            env = self.sns.envelope("Notification", seed, version="2")
            env["SignatureVersion"] = "1"
        elif forge == "garbage":
            env = self.sns.envelope("Notification", seed)
            env["Signature"] = base64.b64encode(os.urandom(256)).decode()
        else:
            env = self.sns.envelope("Notification", seed, cert_url=a["cert_url"])
        h = {"x-amz-sns-message-type": "Notification", "Content-Type": "text/plain"}
        before = list(self.sns.requests)
        status, _, doc = self.srv.json("POST", "/v1/events/s3", body=json.dumps(env), headers=h)
        if "cert_url" in a:
            self.assertEqual(self.sns.requests, before, "a refused certificate URL was fetched")
        return self.api_error(status, doc)

    def send_store_put(self, a):
        """A header-signed PUT (or DELETE of the seeded temp) to the store, tampered per `a`."""
        key = self.seed_key if a.get("seed") else a.get(
            "key", f"delete/profile/42/{uuid.uuid4()}_{int(time.time())}.jpeg")
        method = a.get("method", "PUT")
        body = b"abuse" if method == "PUT" else b""
        path = "/" + BUCKET + "/" + urllib.parse.quote(key, safe="/~")
        when = None
        if "skew_s" in a:
            when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
                seconds=a["skew_s"])
        if a.get("anonymous"):
            hdrs = {"content-type": "image/jpeg"}
        else:
            hdrs = sign_headers(method, self.store, path, a.get("ak", AK), a.get("sk", SK), body,
                                a.get("headers"), when=when, unsigned=a.get("unsigned"))
        sent = a.get("sent_body", body)
        st, _, data = raw(method, self.store, path, sent if method == "PUT" else None, hdrs)
        return (st,) + s3_error(data)[:2] if st >= 300 else (st, None, None)

    def send_tamper(self, a):
        st, data = run_case(self.store, BUCKET, AK, SK, *next(
            (o, c) for n, o, c, _ in PARITY_CASES if n == a["case"]))
        return (st,) + s3_error(data)[:2] if st >= 300 else (st, None, None)

    def send_seed_url(self, a):
        """A presigned URL for the seeded temp, tampered per `a` (lifetime, method, signature)."""
        url = presign(a.get("as_method", a["method"]), self.store, BUCKET, self.seed_key, AK, SK,
                      expires_text=a.get("expires_text"))
        if a.get("flip"):
            url = url[:-1] + ("0" if url[-1] != "0" else "1")
        body = a.get("body") if a["method"] == "PUT" else None
        st, _, data = raw(a["method"], url, body=body)
        return (st,) + s3_error(data)[:2] if st >= 300 else (st, None, None)

    def new_upload(self, decl=None):
        body = dict(UPLOAD, **(decl or {}))
        status, _, doc = self.srv.json("POST", "/v1/uploads", body=json.dumps(body),
                                       headers={"Content-Type": "application/json",
                                                "X-Api-Key": API_KEY})
        self.assertEqual(status, 201, doc)
        return doc

    def send_put(self, a):
        """POST /v1/uploads, then its presigned PUT with other headers or bytes than declared."""
        doc = self.new_upload(a.get("decl"))
        headers = dict(doc["headers"], **a.get("headers", {}))
        headers.pop(a.get("drop"), None)
        headers.pop("Content-Length", None)  # the bytes' real length is sent
        body = a.get("body", b"\xff\xd8\xff photo")
        u = urllib.parse.urlsplit(doc["url"])
        if "chunked" in a or "announce" in a:
            s = socket.create_connection((u.hostname, u.port), timeout=60)
            try:
                head = f"PUT {u.path}?{u.query} HTTP/1.1\r\nHost: {u.netloc}\r\n"
                head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()
                                if k.lower() != "content-length")
                if "chunked" in a:
                    c = a["chunked"]
                    s.sendall((head + "Transfer-Encoding: chunked\r\n\r\n").encode() +
                              f"{len(c):x}\r\n".encode() + c + b"\r\n0\r\n\r\n")
                else:
                    s.sendall((head + f"Content-Length: {a['announce']}\r\n"
                               "Expect: 100-continue\r\n\r\n").encode())
                st, _, data = read_response(s)
            finally:
                s.close()
        else:
            st, _, data = raw("PUT", doc["url"], body=body, headers=headers)
        return (st,) + s3_error(data)[:2] if st >= 300 else (st, None, None)

    def send_start(self, p):
        srv = Server(env=dict(STORE_ENV, **p.args["env"]), wait=False)
        try:
            rc = srv.proc.wait(30)
            srv._reader.join(10)
            text = "".join(srv.lines)
            left = os.listdir(srv.data_dir)
        finally:
            srv.stop()
        self.assertEqual(left, [], "a refused start wrote into the data folder")
        return rc, p.code if p.code in text else text[-400:], None

    def send_hostile(self, a):
        with open(os.path.join(HOSTILE, a["file"]), "rb") as f:
            data = f.read()
        ctype = "image/png" if a["file"].endswith(".png") else "image/jpeg"
        doc = self.new_upload({"ids": {"userId": "7"}, "contentType": ctype})
        st, _, b = raw("PUT", doc["url"], body=data, headers=doc["headers"])
        self.assertEqual(st, 200, b)
        q = "?key=" + urllib.parse.quote(doc["key"], safe="")
        deadline = time.time() + WAIT_S
        while True:
            status, _, rec = self.srv.json("GET", f"/v1/uploads/{doc['uploadId']}{q}",
                                           headers={"X-Api-Key": API_KEY})
            self.assertEqual(status, 200, rec)
            if rec["status"] != "pending" or time.time() > deadline:
                break
            time.sleep(0.1)
        # the record is visible before the temp is deleted: wait for the pipeline's own line
        line = self.srv.wait_for_log(lambda r: r.get("msg") == "record" and
                                     r.get("key") == doc["key"], timeout=WAIT_S)
        self.assertEqual((line or {}).get("outcome"), "failed", line)
        failed = f"failed/profile/7/{doc['uploadId']}.json"
        self.added.add(failed)
        st, _, body = self.s3("GET", failed)
        self.assertEqual(st, 200, body)
        self.assertEqual(json.loads(body)["error"]["code"], (rec.get("error") or {}).get("code"))
        for key in [doc["key"], doc["manifest"], *doc["variants"].values()]:
            self.assertEqual(self.s3("HEAD", key)[0], 404, key)
        self.assertNotIn("manifest", rec)
        err = rec.get("error") or {}
        return rec["status"], err.get("code"), err.get("message")

    def send_resize(self, a):
        with open(os.path.join(HOSTILE, a["file"]), "rb") as f:
            data = f.read()
        status, _, body = self.srv.request("POST", "/v1/resize?w=100", body=data, timeout=120,
                                           headers={"X-Api-Key": API_KEY,
                                                    "Content-Type": "application/octet-stream"})
        return self.api_error(status, json.loads(body) if body else None)

    def send_slow(self, a):
        """A client that keeps sending, too slowly: headers, a body, or an upload's body."""
        part = a["part"]
        if part == "store":
            doc = self.new_upload()
            u = urllib.parse.urlsplit(doc["url"])
            s = socket.create_connection((u.hostname, u.port), timeout=30)
            first = (f"PUT {u.path}?{u.query} HTTP/1.1\r\nHost: {u.netloc}\r\n"
                     f"Content-Type: image/jpeg\r\nContent-Length: 100000\r\n\r\n").encode()
            piece, server = b"\xff", "store"
        else:
            s = self.srv.raw_socket(timeout=30)
            head = (f"POST /v1/events/s3 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                    "Content-Type: application/json\r\n")
            body = aws_body(self.seed_key).encode()
            if part == "headers":
                first, piece = head.encode(), b"X-Slow: a\r\n"
            else:  # a whole record, then blanks towards a length it never reaches
                first = (head + f"Content-Length: {len(body) + 100000}\r\n\r\n").encode() + body
                piece = b" "
            server = "api"
        try:
            closed, got = trickle(s, first, piece, SLOW_BOUND_S)
        finally:
            s.close()
        self.assertEqual(got, b"", "the cut-off client got an answer")
        # the watchdog closes the socket, then counts: wait for the count
        deadline = time.time() + 10
        while metric(self.srv, "imgsvc_http_read_timeouts_total", {"server": server}) < 1 \
                and time.time() < deadline:
            time.sleep(0.05)
        n = metric(self.srv, "imgsvc_http_read_timeouts_total", {"server": server})
        self.assertEqual(n, 1, "read timeouts counted")
        return ("closed" if closed else "open"), server, None

    def send_announce(self, a):
        """Headers announcing a body over the route's cap; no body byte is ever sent."""
        length = CAPS[a["path"]] + a["over"]
        head = (f"POST {a['path']} HTTP/1.1\r\nHost: x\r\nX-Api-Key: {API_KEY}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {length}\r\n")
        if a.get("expect"):
            head += "Expect: 100-continue\r\n"
        s = self.srv.raw_socket(timeout=60)
        try:
            s.sendall((head + "\r\n").encode())
            st, hdrs, body = read_response(s)
        finally:
            s.close()
        if contract is not None:
            contract().check("POST", a["path"], st, hdrs, body)
        return self.api_error(st, json.loads(body))

    def send_chunked(self, a):
        """A chunked body over the route's cap, valid credentials; 1 KiB chunks."""
        path = a["path"]
        head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nX-Api-Key: {API_KEY}\r\n"
                f"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n")
        if path == "/v1/events/s3":
            head += f"Authorization: Bearer {TOKEN}\r\n"
            head = head.replace(f"X-Api-Key: {API_KEY}\r\n", "")
            body = aws_body(self.seed_key).encode()
        else:
            body = json.dumps(UPLOAD).encode()
        body = body[:-1] + b" " * (a["size"] - len(body)) + body[-1:]  # still valid JSON
        s = self.srv.raw_socket(timeout=60)
        try:
            s.sendall((head + "\r\n").encode())
            for i in range(0, len(body), KIB):
                c = body[i:i + KIB]
                s.sendall(f"{len(c):x}\r\n".encode() + c + b"\r\n")
            s.sendall(b"0\r\n\r\n")
            st, hdrs, data = read_response(s)
        finally:
            s.close()
        if contract is not None:
            contract().check("POST", path, st, hdrs, data)
        return self.api_error(st, json.loads(data))
