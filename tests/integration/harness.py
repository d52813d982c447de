"""Starts the real imgsvc binary for integration tests and talks to it over HTTP.

Server(env={...}) runs `imgsvc serve` on an ephemeral port (IMGSVC_PORT=0), waits for the
"listening" log line to learn the port, and collects every stderr line (JSON logs) so tests can
assert on them. stop() sends SIGTERM and returns the exit code.

Every response that request() and json() receive is checked against openapi.yaml (the contract):
the (method, path) must resolve to one of the spec's operations (an unknown path must answer 404
and a method the path does not document 405, both as the Error schema), the status must be one
that operation documents, the Content-Type one of that response's media types, headers the
response marks `required` present, and a JSON body valid against its schema (JSON Schema draft
2020-12, $ref resolved in the spec). A mismatch fails the calling test with a message naming
the operation. HEAD is checked as the GET it is served by, without a body. A test that must send
something the contract cannot describe passes validate=False (say why next to it). A test that
talks to the API some other way (a raw socket, urllib, through nginx) passes what it received
to contract().check itself.

openapi.yaml is the API listener's contract only. The embedded store's listener
(IMGSVC_STORE_PORT, tests/integration/storelib.py) speaks S3's REST API (S3 XML errors, SigV4),
as do Ceph RGW and the Lambda runtime API of the Lambda tests: their answers are not checked
against openapi.yaml (test_store.py and test_store_parity.py hold the store to S3's behaviour).
"""
import http.client
import json
import os
import signal
import socket
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import warnings
import weakref

try:
    import jsonschema
    import yaml
except ImportError:  # the contract check needs them (scripts/packages/apt-test.txt)
    jsonschema = yaml = None

BIN = os.environ.get("IMGSVC_BIN", "")
SOURCE_DIR = os.environ.get("IMGSVC_SOURCE_DIR", "")
SPEC_PATH = os.path.join(
    SOURCE_DIR or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    "openapi.yaml")


class ContractError(AssertionError):
    """A response that does not match openapi.yaml."""


HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class Contract:
    """openapi.yaml as a response checker: check(method, target, status, headers, body)."""

    def __init__(self, spec):
        self.spec = spec
        self.paths = spec.get("paths") or {}
        self._validators = {}

    @classmethod
    def load(cls, path=SPEC_PATH):
        if yaml is None or jsonschema is None:
            raise ContractError("the contract check needs python3-yaml and python3-jsonschema "
                                "(scripts/packages/apt-test.txt)")
        with open(path, encoding="utf-8") as f:
            return cls(yaml.safe_load(f))

    def deref(self, node):
        """`node` with a top-level $ref (#/...) followed, repeatedly."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if not ref.startswith("#/") or seen > 20:
                raise ContractError(f"openapi.yaml: cannot resolve $ref {ref!r}")
            node = self.spec
            for part in ref[2:].split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            seen += 1
        return node

    def resolve(self, path):
        """The spec's path template for a request path (no query), or None.

        A template segment `{name}` matches one non-empty segment; literal segments win over
        templates (so /v1/uploads is never taken for /v1/{x})."""
        segs = path.split("/")
        best, best_score = None, None
        for tpl in self.paths:
            tsegs = tpl.split("/")
            if len(tsegs) != len(segs):
                continue
            score = 0
            for t, s in zip(tsegs, segs):
                if t.startswith("{") and t.endswith("}"):
                    if s == "":
                        break
                elif t != s:
                    break
                else:
                    score += 1
            else:
                if best_score is None or score > best_score:
                    best, best_score = tpl, score
        return best

    def _validator(self, schema):
        key = id(schema)
        v = self._validators.get(key)
        if v is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                resolver = jsonschema.RefResolver("", self.spec)
                v = jsonschema.Draft202012Validator(schema, resolver=resolver)
            self._validators[key] = (v, schema)  # keep schema alive so id() stays unique
            return v
        return v[0]

    def _response(self, method, path, status):
        """(operation name, response object) documented for the exchange, or ContractError."""
        tpl = self.resolve(path)
        if tpl is None:  # no such route: the router's 404 (or 400 for a malformed path)
            if status not in (400, 404):
                raise ContractError(f"{method} {path}: no path of openapi.yaml matches, yet the "
                                    f"status is {status} (expected 404 not_found)")
            return f"{method} {path} (no route)", {"$ref": "#/components/responses/NotFound"}
        item = self.deref(self.paths[tpl])
        m = method.lower()
        op = item.get(m)
        if op is None and m == "head":
            op = item.get("get")  # every GET route answers HEAD (without the body)
        if op is None:
            allowed = [x.upper() for x in HTTP_METHODS if x in item]
            if status != 405:
                raise ContractError(f"{method} {tpl}: openapi.yaml documents only {allowed} on "
                                    f"this path, yet the status is {status} (expected 405)")
            return f"{method} {tpl} (method not allowed)", {
                "$ref": "#/components/responses/MethodNotAllowed"}
        name = f"{op.get('operationId', '?')} ({method} {tpl})"
        responses = op.get("responses") or {}
        resp = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or \
            responses.get("default")
        if resp is None:
            raise ContractError(f"{name}: status {status} is not documented (documented: "
                                f"{', '.join(sorted(str(k) for k in responses))})")
        return name, resp

    def check(self, method, target, status, headers, body):
        """Raises ContractError unless the response matches openapi.yaml.

        headers: lower-cased names -> values; body: the bytes read."""
        path = target.split("?", 1)[0].split("#", 1)[0]
        name, resp = self._response(method.upper(), path, status)
        resp = self.deref(resp)
        where = f"{name} -> {status}"
        for hname, hdef in (resp.get("headers") or {}).items():
            hdef = self.deref(hdef)
            if hdef.get("required") and hname.lower() not in headers:
                raise ContractError(f"{where}: required header {hname} is missing")
        content = resp.get("content") or {}
        if method.upper() == "HEAD" or status in (204, 304):
            return
        if not content:
            if body:
                raise ContractError(f"{where}: the spec documents no body, got {len(body)} bytes "
                                    f"of {headers.get('content-type')!r}")
            return
        ctype = headers.get("content-type", "")
        mtype = self._media_type(content, ctype)
        if mtype is None:
            raise ContractError(f"{where}: Content-Type {ctype!r} is not one of "
                                f"{sorted(content)}")
        schema = (content[mtype] or {}).get("schema")
        if schema is None or not self._is_json(mtype):
            return
        try:
            doc = json.loads(body)
        except ValueError as ex:
            raise ContractError(f"{where}: the body is not JSON ({ex}): {body[:200]!r}") from None
        errors = sorted(self._validator(schema).iter_errors(doc), key=lambda e: list(e.path))
        if errors:
            e = errors[0]
            at = "/".join(str(p) for p in e.absolute_path) or "(root)"
            raise ContractError(f"{where}: the body does not match the schema at {at}: "
                                f"{e.message}; body: {body[:400]!r}")

    @staticmethod
    def _is_json(mtype):
        base = mtype.split(";")[0].strip().lower()
        return base == "application/json" or base.endswith("+json")

    @staticmethod
    def _media_type(content, ctype):
        """The key of `content` a response Content-Type matches (parameters in the key must be
        present too, e.g. `text/plain; version=0.0.4`), or None."""
        def parts(v):
            items = [x.strip().lower() for x in v.split(";")]
            return items[0], {x.replace(" ", "") for x in items[1:] if x}
        base, params = parts(ctype)
        for key in content:
            kbase, kparams = parts(key)
            if not kparams <= params:
                continue
            if kbase == base or kbase == "*/*" or (
                    kbase.endswith("/*") and base.startswith(kbase[:-1])):
                return key
        return None


_CONTRACT = None


def contract():
    """The contract loaded from openapi.yaml (once per process)."""
    global _CONTRACT
    if _CONTRACT is None:
        _CONTRACT = Contract.load()
    return _CONTRACT


# Start-of-frame markers: every JPEG coding process (not DHT C4, JPG C8, DAC CC).
SOF_MARKERS = (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF)


def image_size(data):
    """(width, height) of a JPEG (its first SOF marker) or a PNG (IHDR), read from the bytes;
    AssertionError for anything else."""
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return struct.unpack(">II", data[16:24])
    if data[:2] != b"\xff\xd8":
        raise AssertionError(f"not a JPEG or PNG: {data[:16]!r}")
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            raise AssertionError(f"bad JPEG marker at {i}")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in SOF_MARKERS:
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + struct.unpack(">H", data[i + 2:i + 4])[0]
    raise AssertionError("no SOF marker")


def require_bin(test):
    if not BIN or not os.access(BIN, os.X_OK):
        test.fail(f"IMGSVC_BIN={BIN!r} is not an executable; run through ctest")


def curl_put(url, headers, path):
    """PUTs a file with real curl, exactly as a phone would; returns the HTTP status."""
    cmd = ["curl", "-sS", "-X", "PUT", "-o", "/dev/null", "-w", "%{http_code}",
           "--data-binary", "@" + path, url]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    return int(subprocess.run(cmd, capture_output=True, text=True, check=True,
                              timeout=60).stdout)


class Server:
    def __init__(self, env=None, args=("serve",), wait=True):
        full = {k: v for k, v in os.environ.items() if not k.startswith("IMGSVC_") or k in (
            "IMGSVC_BIN", "IMGSVC_SOURCE_DIR", "IMGSVC_BUILD_DIR", "IMGSVC_SHARED_DIR",
            "IMGSVC_CORPUS_DIR")}
        # The embedded S3 store runs too (no IMGSVC_S3_ENDPOINT): any free port, a private folder,
        # removed by stop() or, for a server a test only waited on or never stopped, when this
        # object goes or the test process exits.
        self.data_dir = tempfile.mkdtemp(prefix="imgsvc-data-")
        self._remove_data = weakref.finalize(self, shutil.rmtree, self.data_dir, True)
        full.update({"IMGSVC_PORT": "0", "IMGSVC_LISTEN_ADDR": "127.0.0.1",
                     "IMGSVC_STORE_PORT": "0", "IMGSVC_DATA_DIR": self.data_dir})
        full.update(env or {})
        self.proc = subprocess.Popen([BIN, *args], env=full, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.port = None
        self.store_port = None  # the embedded store's port, when it runs
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if wait:
            if not self._ready.wait(20) or self.port is None:
                self.proc.kill()
                raise RuntimeError("imgsvc did not start: " + "".join(self.lines))

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line)
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("msg") == "listening" and rec.get("server") == "store":
                self.store_port = rec["port"]
            elif rec.get("msg") == "listening" and self.port is None:
                self.port = rec["port"]
                self._ready.set()
        self._ready.set()

    def logs(self):
        """Every stderr line parsed as JSON (a non-JSON line fails the caller's test)."""
        out = []
        for line in list(self.lines):
            try:
                out.append(json.loads(line))
            except ValueError:
                raise AssertionError(f"stderr line is not JSON: {line!r}") from None
        return out

    def conn(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=10, validate=True):
        """(status, lower-cased headers, body bytes); the response is checked against
        openapi.yaml unless validate=False (ContractError, an AssertionError, on a mismatch)."""
        c = self.conn(timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
        finally:
            c.close()
        if validate:
            contract().check(method, path, r.status, hdrs, data)
        return r.status, hdrs, data

    def json(self, method, path, body=None, headers=None, validate=True):
        status, hdrs, data = self.request(method, path, body, headers, validate=validate)
        return status, hdrs, json.loads(data) if data else None

    def raw_socket(self, timeout=10):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        return s

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            sys.stderr.write(f"imgsvc did not stop within {timeout} s; its last log lines:\n"
                             + "".join(self.lines[-80:]))
        self._reader.join(5)
        self._remove_data()
        if rc != 0:
            sys.stderr.write(f"imgsvc exited with {rc}; its last log lines:\n"
                             + "".join(self.lines[-80:]))
        return rc

    def wait_for_log(self, pred, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for rec in self.logs():
                if pred(rec):
                    return rec
            time.sleep(0.05)
        return None


def run_cli(*args, env=None, timeout=30):
    full = {k: v for k, v in os.environ.items() if not k.startswith("IMGSVC_") or k in (
        "IMGSVC_BIN", "IMGSVC_SOURCE_DIR")}
    full.update(env or {})
    p = subprocess.run([BIN, *args], env=full, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


class ServerTest(unittest.TestCase):
    """A test case with one server per test, stopped (and its exit code checked) afterwards."""
    env = {}

    def setUp(self):
        require_bin(self)
        self.srv = Server(env=dict(self.env))

    def tearDown(self):
        rc = self.srv.stop()
        self.assertEqual(rc, 0, "imgsvc did not exit 0 on SIGTERM")
        for line in self.srv.lines:  # every log line is one JSON object
            try:
                json.loads(line)
            except ValueError:
                self.fail("stderr line is not JSON: " + "".join(self.srv.lines)[-4000:])
