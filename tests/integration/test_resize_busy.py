"""POST /v1/resize and /v1/info when the image workers are full (issues 5 and 9): the route's
admit hook refuses with 429 + Retry-After from the request headers alone, so a refused request
costs no upload. A client that waits for 100-continue gets the 429 instead of the 100 and sends
no body; a client that sends its body at once gets the 429 after it (the body is dropped, never
buffered) on a connection that stays usable. The slot is held by a background loop of resizes of
the corpus' 108 MP photo with IMGSVC_RESIZE_CONCURRENCY=1 and IMGSVC_RESIZE_QUEUE=0; probes retry
while they land in a gap between two of those resizes (no timing assumptions).

With API keys on, the hook authenticates first: bad or missing credentials get 401 (before the
body for a client that waits, after it otherwise) even while the slot is busy, and only a caller
let in is told to retry. A bad-key probe counts as "while busy" when the good-key probes just
before and after it were both early 429s."""
# ctest-fixtures: imaging_corpus
import json
import os
import threading
import time
import unittest

from harness import Server, contract, require_bin

CORPUS = os.environ.get("IMGSVC_CORPUS_DIR", "")


def read(*parts):
    with open(os.path.join(CORPUS, *parts), "rb") as f:
        return f.read()


def read_response(sock):
    """(status, lower-cased headers, body) of one HTTP/1.1 response read from `sock`."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed before a full response: {data!r}")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    hdrs = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        hdrs[k.strip().lower()] = v.strip()
    want = int(hdrs.get("content-length", "0"))
    while len(rest) < want:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("connection closed inside a response body")
        rest += chunk
    return status, hdrs, rest[:want]


class Holder:
    """Keeps the only resize slot busy: POSTs the big photo again and again until stopped."""

    def __init__(self, srv, headers=None):
        self.srv = srv
        self.headers = headers
        self.big = read("formats", "large-108mp.jpg")
        self.statuses = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            st, _, _ = self.srv.request("POST", "/v1/resize?w=1080", body=self.big,
                                        headers=self.headers, timeout=300)
            self.statuses.append(st)

    def finish(self):
        self.stop.set()
        self.thread.join(300)
        return self.statuses


class BusyBase:
    """The server (one resize slot, no queue, plus ENV), the probes and the access log lookup
    both classes share."""
    ENV = {}

    def setUp(self):
        require_bin(self)
        if not os.path.isfile(os.path.join(CORPUS, "MANIFEST")):
            self.skipTest(f"image corpus not found in IMGSVC_CORPUS_DIR='{CORPUS}'")
        self.srv = Server(env=dict(self.ENV, IMGSVC_RESIZE_CONCURRENCY="1",
                                   IMGSVC_RESIZE_QUEUE="0"))
        self.tiny = read("formats", "tiny.png")

    def tearDown(self):
        self.assertEqual(self.srv.stop(), 0)

    def access_log(self, rid):
        rec = self.srv.wait_for_log(
            lambda r: r.get("msg") == "request" and r.get("requestId") == rid)
        self.assertIsNotNone(rec, f"no access log line for {rid}")
        return rec

    def probe_expect_continue(self, path, rid, extra=""):
        """Headers only (plus `extra` header lines), waiting for 100-continue. The final answer
        when it came before the body (a refusal), else None (admitted: the body is sent and its
        answer dropped)."""
        s = self.srv.raw_socket(timeout=300)
        try:
            s.sendall((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: {rid}\r\n"
                       f"Content-Type: application/octet-stream\r\nExpect: 100-continue\r\n"
                       f"{extra}Content-Length: {len(self.tiny)}\r\n\r\n").encode())
            st, hdrs, body = read_response(s)
            if st == 100:
                s.sendall(self.tiny)
                read_response(s)
                return None
            return st, hdrs, body
        finally:
            s.close()


class ResizeBusy(BusyBase, unittest.TestCase):
    def test_429_before_the_body_when_the_client_waits_for_100_continue(self):
        holder = Holder(self.srv)
        got = {}
        try:
            deadline = time.time() + 240
            for i in range(100000):
                if time.time() > deadline or set(got) == {"/v1/resize?w=10", "/v1/info"}:
                    break
                path = "/v1/resize?w=10" if i % 2 == 0 else "/v1/info"
                rid = f"busy-expect-{i}"
                ans = self.probe_expect_continue(path, rid)
                if ans is not None:
                    got.setdefault(path, (rid, ans))
                else:
                    time.sleep(0.02)
        finally:
            statuses = holder.finish()
        self.assertEqual(set(got), {"/v1/resize?w=10", "/v1/info"}, "no early 429 on a route")
        self.assertTrue(statuses and all(st in (200, 429) for st in statuses), statuses)
        self.assertIn(200, statuses)
        for path, (rid, (st, hdrs, body)) in got.items():
            doc = json.loads(body)
            self.assertEqual((st, doc["error"]["code"]), (429, "too_many_requests"), path)
            self.assertEqual(hdrs["retry-after"], "1")
            self.assertEqual(hdrs["x-request-id"], rid)
            self.assertEqual(doc["error"]["requestId"], rid)
            contract().check("POST", path, st, hdrs, body)
            rec = self.access_log(rid)
            self.assertEqual((rec["status"], rec["bytesIn"]), (429, 0), rec)  # no body read
            self.assertEqual(rec.get("errorCode"), "too_many_requests")

    def test_429_after_the_body_for_a_client_that_does_not_wait(self):
        holder = Holder(self.srv)
        got = None
        try:
            deadline = time.time() + 240
            i = 0
            while got is None and time.time() < deadline:
                i += 1
                rid = f"busy-naive-{i}"
                s = self.srv.raw_socket(timeout=300)
                try:
                    s.sendall((f"POST /v1/resize?w=10 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                               f"X-Request-Id: {rid}\r\nContent-Length: {len(self.tiny)}\r\n\r\n"
                               ).encode() + self.tiny)
                    st, hdrs, body = read_response(s)
                    early = st == 429 and "concurrency limit" in json.loads(body)["error"][
                        "message"]  # not the handler's own 429 (a slot taken after the headers)
                    if early:
                        # the connection is still usable: the body was read, not left unread
                        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                        got = (rid, st, hdrs, body, read_response(s))
                finally:
                    s.close()
                if got is None:
                    time.sleep(0.02)
        finally:
            holder.finish()
        self.assertIsNotNone(got, "no 429 while the only slot was busy")
        rid, st, hdrs, body, after = got
        self.assertEqual((st, json.loads(body)["error"]["code"]), (429, "too_many_requests"))
        self.assertEqual(hdrs["retry-after"], "1")
        self.assertNotEqual(hdrs.get("connection", "").lower(), "close")
        self.assertEqual(after[0], 200)
        contract().check("POST", "/v1/resize?w=10", st, hdrs, body)
        rec = self.access_log(rid)
        self.assertEqual((rec["status"], rec["bytesIn"]), (429, len(self.tiny)), rec)


class ResizeBusyAuth(BusyBase, unittest.TestCase):
    KEY = "resize-busy-api-key-0123456789abcdef"
    ENV = {"IMGSVC_API_KEYS": KEY}

    def probe_naive(self, rid, extra):
        """Headers and body at once; (status, headers, body) and the /healthz status asked on the
        same connection afterwards."""
        s = self.srv.raw_socket(timeout=300)
        try:
            s.sendall((f"POST /v1/resize?w=10 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       f"X-Request-Id: {rid}\r\n{extra}Content-Length: {len(self.tiny)}\r\n\r\n"
                       ).encode() + self.tiny)
            ans = read_response(s)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            return ans, read_response(s)[0]
        finally:
            s.close()

    def test_bad_credentials_get_401_not_429_while_busy(self):
        good = f"X-Api-Key: {self.KEY}\r\n"
        bads = {"wrong": "X-Api-Key: not-the-key-0123456789abcdef00000\r\n", "none": ""}
        holder = Holder(self.srv, headers={"X-Api-Key": self.KEY})
        bracketed, refusals = [], []
        try:
            deadline = time.time() + 240
            i = 0
            while time.time() < deadline and len(bracketed) < 2:
                i += 1
                before = self.probe_expect_continue("/v1/resize?w=10", f"auth-good-{i}a", good)
                kind = "wrong" if i % 2 else "none"
                rid = f"auth-bad-{i}"
                ans = self.probe_expect_continue("/v1/info", rid, bads[kind])
                naive_rid = f"auth-naive-{i}"
                naive, after_naive = self.probe_naive(naive_rid, bads[kind])
                after = self.probe_expect_continue("/v1/resize?w=10", f"auth-good-{i}b", good)
                refusals.append((rid, kind, ans, naive_rid, naive, after_naive))
                busy = [a is not None and a[0] == 429 for a in (before, after)]
                if all(busy):
                    bracketed.append(rid)
                elif not any(busy):
                    time.sleep(0.02)
        finally:
            statuses = holder.finish()
        self.assertTrue(statuses and all(st in (200, 429) for st in statuses), statuses)
        self.assertEqual(len(bracketed), 2, "no bad-key probe landed while the slot was busy")
        for rid, kind, ans, naive_rid, naive, after_naive in refusals:
            self.assertIsNotNone(ans, f"{rid} ({kind} key) was sent 100 Continue")
            st, hdrs, body = ans
            doc = json.loads(body)
            self.assertEqual((st, doc["error"]["code"]), (401, "unauthenticated"), (rid, kind))
            self.assertIn("www-authenticate", hdrs)
            self.assertEqual(hdrs["x-request-id"], rid)
            contract().check("POST", "/v1/info", st, hdrs, body)
            st, hdrs, body = naive
            self.assertEqual((st, json.loads(body)["error"]["code"]), (401, "unauthenticated"))
            self.assertEqual(after_naive, 200, "the connection was not usable after the 401")
            contract().check("POST", "/v1/resize?w=10", st, hdrs, body)
        for rid in bracketed:
            rec = self.access_log(rid)
            self.assertEqual((rec["status"], rec["bytesIn"], rec.get("errorCode")),
                             (401, 0, "unauthenticated"), rec)  # answered before the body
        rec = self.access_log(refusals[-1][3])
        self.assertEqual((rec["status"], rec["bytesIn"]), (401, len(self.tiny)), rec)


if __name__ == "__main__":
    unittest.main()
