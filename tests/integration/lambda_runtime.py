"""A stand-in for the AWS Lambda Runtime API (version 2018-06-01), written from the public
protocol description, for testing `imgsvc lambda` without AWS.

    rt = RuntimeApi()                     # listens on 127.0.0.1:<any>; rt.api = "host:port"
    rid = rt.queue(b'{"Records":[]}', deadline_ms=..., trace_id="Root=1-...")
    ... run the runtime with AWS_LAMBDA_RUNTIME_API=rt.api ...
    kind, body, headers = rt.wait_answer(rid)   # kind: "response" | "error"
    rt.close()

Endpoints (HTTP/1.1, keep-alive):
  GET  /2018-06-01/runtime/invocation/next          blocks until an event is queued; 200 with
       Lambda-Runtime-Aws-Request-Id, -Deadline-Ms, -Invoked-Function-Arn, -Trace-Id
  POST /2018-06-01/runtime/invocation/{id}/response  202; 400 when the id was never handed out
       by /next, 400 when it was already answered (the real API's InvalidStateTransition)
  POST /2018-06-01/runtime/invocation/{id}/error     the same, recording the error body/headers
  POST /2018-06-01/runtime/init/error                202; recorded in rt.init_errors
  anything else                                      404
Every request is appended to rt.log as (method, path) for order checks.
"""
import http.server
import json
import threading
import time
import uuid

PREFIX = "/2018-06-01/runtime"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:imgsvc-test"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the tests look at rt.log instead
        pass

    def _send(self, status, doc=None, headers=None, raw=None):
        body = raw if raw is not None else json.dumps(doc or {}).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        rt = self.server.rt
        rt._record("GET", self.path)
        if self.path != PREFIX + "/invocation/next":
            return self._send(404, {"errorType": "NotFound", "errorMessage": self.path})
        inv = rt._take()
        if inv is None:  # closing
            return self._send(500, {"errorType": "ShuttingDown", "errorMessage": "closed"})
        headers = {"Lambda-Runtime-Aws-Request-Id": inv["id"],
                   "Lambda-Runtime-Deadline-Ms": str(inv["deadline_ms"]),
                   "Lambda-Runtime-Invoked-Function-Arn": inv["arn"]}
        if inv["trace_id"]:
            headers["Lambda-Runtime-Trace-Id"] = inv["trace_id"]
        self._send(200, headers=headers, raw=inv["body"])

    def do_POST(self):
        rt = self.server.rt
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        rt._record("POST", self.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        if self.path == PREFIX + "/init/error":
            with rt._cv:
                rt.init_errors.append((body, headers))
                rt._cv.notify_all()
            return self._send(202, {"status": "OK"})
        parts = self.path[len(PREFIX):].split("/") if self.path.startswith(PREFIX) else []
        # ["", "invocation", id, "response"|"error"]
        if len(parts) != 4 or parts[1] != "invocation" or parts[3] not in ("response", "error"):
            return self._send(404, {"errorType": "NotFound", "errorMessage": self.path})
        rid, kind = parts[2], parts[3]
        with rt._cv:
            if rid not in rt._handed_out:
                status = 400
                doc = {"errorType": "InvalidRequestID", "errorMessage": "unknown request id"}
            elif rid in rt.answers:
                status = 400
                doc = {"errorType": "InvalidStateTransition",
                       "errorMessage": "the invocation was already answered"}
            else:
                rt.answers[rid] = (kind, body, headers)
                rt._cv.notify_all()
                status, doc = 202, {"status": "OK"}
        self._send(status, doc)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class RuntimeApi:
    def __init__(self):
        self._cv = threading.Condition()
        self._queue = []
        self._handed_out = set()
        self._closed = False
        self.answers = {}       # request id -> (kind, body bytes, headers lowercased)
        self.init_errors = []   # (body bytes, headers lowercased)
        self.log = []           # (method, path) in arrival order
        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        self.httpd.rt = self
        self.api = "127.0.0.1:%d" % self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def queue(self, body, deadline_ms=None, timeout_s=60, trace_id=None, request_id=None):
        """Queues one invocation; returns its request id. `body`: bytes, str or a JSON value.
        The deadline defaults to now + timeout_s."""
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        rid = request_id or str(uuid.uuid4())
        if deadline_ms is None:
            deadline_ms = int(time.time() * 1000) + timeout_s * 1000
        if trace_id is None:
            trace_id = "Root=1-%08x-%s;Parent=%s;Sampled=1" % (
                int(time.time()), uuid.uuid4().hex[:24], uuid.uuid4().hex[:16])
        with self._cv:
            self._queue.append({"id": rid, "body": body, "deadline_ms": deadline_ms,
                                "arn": FUNCTION_ARN, "trace_id": trace_id})
            self._cv.notify_all()
        return rid

    def _record(self, method, path):
        with self._cv:
            self.log.append((method, path))
            self._cv.notify_all()

    def _take(self):
        with self._cv:
            while not self._queue and not self._closed:
                self._cv.wait(0.5)
            if self._closed:
                return None
            inv = self._queue.pop(0)
            self._handed_out.add(inv["id"])
            return inv

    def wait_answer(self, rid, timeout=60):
        """(kind, body, headers) of the invocation's answer, or None after `timeout` s."""
        with self._cv:
            self._cv.wait_for(lambda: rid in self.answers, timeout)
            return self.answers.get(rid)

    def wait_init_error(self, timeout=30):
        with self._cv:
            self._cv.wait_for(lambda: self.init_errors, timeout)
            return self.init_errors[0] if self.init_errors else None

    def wait_next_calls(self, n, timeout=30):
        """True once /next was asked for `n` times."""
        def count():
            return sum(1 for m, p in self.log if m == "GET" and p.endswith("/invocation/next"))
        with self._cv:
            return self._cv.wait_for(lambda: count() >= n, timeout)

    def close(self):
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        self.httpd.shutdown()
        self.httpd.server_close()
