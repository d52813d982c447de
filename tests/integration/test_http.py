"""Integration tests of the HTTP core against the real binary: routing, error shape, body caps,
slow clients, keep-alive, request ids, access log, graceful shutdown, metrics."""
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import unittest

from harness import BIN, Server, ServerTest, contract, require_bin

DEBUG = {"IMGSVC_DEBUG_ROUTES": "true"}


def read_http_response(sock, check=None):
    """Reads one HTTP/1.1 response with Content-Length from a raw socket; check="METHOD /path"
    (the request sent) validates it against openapi.yaml like Server.request does."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before headers")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {l.split(":", 1)[0].lower(): l.split(":", 1)[1].strip() for l in lines[1:]}
    n = int(hdrs.get("content-length", "0"))
    while len(rest) < n:
        chunk = sock.recv(4096)
        if not chunk:
            break
        rest += chunk
    if check is not None:
        method, target = check.split(" ", 1)
        contract().check(method, target, status, hdrs, rest[:n])
    return status, hdrs, rest[:n]


class HttpCore(ServerTest):
    env = dict(DEBUG, IMGSVC_MAX_JSON_BYTES="4096", IMGSVC_READ_TIMEOUT_S="2")

    def assert_error(self, status, hdrs, body, want_status, want_code):
        self.assertEqual(status, want_status)
        self.assertEqual(hdrs["content-type"], "application/json")
        doc = json.loads(body)
        self.assertEqual(set(doc), {"error"})
        self.assertEqual(doc["error"]["code"], want_code)
        self.assertTrue(doc["error"]["message"])
        self.assertEqual(doc["error"]["requestId"], hdrs["x-request-id"])

    def test_healthz_and_readyz(self):
        status, hdrs, doc = self.srv.json("GET", "/healthz")
        self.assertEqual((status, doc["status"]), (200, "ok"))
        self.assertEqual(hdrs["content-type"], "application/json")
        status, _, doc = self.srv.json("GET", "/readyz")
        self.assertEqual(status, 200)
        self.assertEqual(doc["status"], "ready")
        self.assertEqual(doc["checks"]["shutdown"], "ok")

    def test_head_is_answered_for_get_routes(self):
        status, hdrs, body = self.srv.request("HEAD", "/healthz")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")

    def test_unknown_route_is_404_with_error_shape(self):
        self.assert_error(*self.srv.request("GET", "/no/such/thing"), 404, "not_found")

    def test_wrong_method_is_405_with_allow(self):
        status, hdrs, body = self.srv.request("DELETE", "/healthz")
        self.assert_error(status, hdrs, body, 405, "method_not_allowed")
        self.assertEqual(hdrs["allow"], "GET, HEAD")
        status, hdrs, body = self.srv.request("GET", "/debug/echo")
        self.assert_error(status, hdrs, body, 405, "method_not_allowed")
        self.assertEqual(hdrs["allow"], "POST")

    def test_malformed_path_escape_is_400(self):
        s = self.srv.raw_socket()
        s.sendall(b"GET /healthz%zz HTTP/1.1\r\nHost: x\r\n\r\n")
        status, hdrs, body = read_http_response(s, "GET /healthz%zz")
        s.close()
        self.assert_error(status, hdrs, body, 400, "bad_request")

    def test_body_within_cap_is_read_whole(self):
        payload = os.urandom(4096)
        status, _, doc = self.srv.json("POST", "/debug/echo", body=payload)
        self.assertEqual(status, 200)
        import hashlib
        self.assertEqual(doc, {"bytes": 4096, "sha256": hashlib.sha256(payload).hexdigest()})

    def test_oversized_body_with_content_length_is_413(self):
        self.assert_error(*self.srv.request("POST", "/debug/echo", body=b"x" * 4097), 413,
                          "payload_too_large")

    def test_oversized_chunked_body_is_413(self):
        s = self.srv.raw_socket()
        s.sendall(b"POST /debug/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(5):
            s.sendall(b"400\r\n" + b"y" * 1024 + b"\r\n")
        s.sendall(b"0\r\n\r\n")
        status, hdrs, body = read_http_response(s, "POST /debug/echo")
        s.close()
        self.assert_error(status, hdrs, body, 413, "payload_too_large")

    def test_expect_100_continue_oversized_is_refused_before_body(self):
        s = self.srv.raw_socket()
        s.sendall(b"POST /debug/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 999999\r\n"
                  b"Expect: 100-continue\r\n\r\n")
        status, hdrs, body = read_http_response(s, "POST /debug/echo")  # no body byte sent
        s.close()
        self.assert_error(status, hdrs, body, 413, "payload_too_large")

    def test_slow_client_is_cut_off(self):
        s = self.srv.raw_socket(timeout=15)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        start = time.monotonic()
        closed = False
        # keep trickling header bytes: an idle timeout alone would never fire
        while time.monotonic() - start < 10:
            try:
                s.sendall(b"X-Slow: a\r\n")
                s.settimeout(0.5)
                if s.recv(1024) == b"":
                    closed = True
                    break
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                closed = True
                break
        elapsed = time.monotonic() - start
        s.close()
        self.assertTrue(closed, "a client trickling headers was never cut off")
        self.assertGreaterEqual(elapsed, 1.5)
        self.assertIsNotNone(self.srv.wait_for_log(
            lambda r: "did not send a complete request" in r.get("msg", "")))

    def test_keep_alive_reuses_the_connection(self):
        s = self.srv.raw_socket()
        for i in range(3):
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: ka-%d\r\n\r\n" % i)
            status, hdrs, body = read_http_response(s, "GET /healthz")
            self.assertEqual(status, 200)
            self.assertEqual(hdrs["x-request-id"], "ka-%d" % i)
            self.assertNotEqual(hdrs.get("connection", "").lower(), "close")
        s.close()
        self.srv.stop()
        done = [r for r in self.srv.logs() if r.get("msg") == "request"
                and r.get("requestId", "").startswith("ka-")]
        self.assertEqual(len(done), 3)

    def test_request_id_is_echoed_or_generated(self):
        _, hdrs, _ = self.srv.request("GET", "/healthz", headers={"X-Request-Id": "abc.DEF-1"})
        self.assertEqual(hdrs["x-request-id"], "abc.DEF-1")
        _, hdrs, _ = self.srv.request("GET", "/healthz", headers={"X-Request-Id": "bad id\u00e9"})
        self.assertRegex(hdrs["x-request-id"], r"^[0-9a-f-]{36}$")
        _, hdrs, _ = self.srv.request("GET", "/healthz")
        self.assertRegex(hdrs["x-request-id"], r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-")

    def test_one_access_log_line_per_request_without_secrets(self):
        self.srv.request("GET", "/healthz?token=SEKRIT1", headers={
            "Authorization": "Bearer SEKRIT2", "X-Request-Id": "log-1"})
        self.srv.request("POST", "/debug/echo", body=b"abc", headers={"X-Request-Id": "log-2"})
        self.srv.stop()
        recs = [r for r in self.srv.logs() if r.get("msg") == "request"]
        by_id = {r["requestId"]: r for r in recs}
        self.assertEqual(len([r for r in recs if r["requestId"] == "log-1"]), 1)
        r1 = by_id["log-1"]
        self.assertEqual((r1["method"], r1["path"], r1["route"], r1["status"]),
                         ("GET", "/healthz", "/healthz", 200))
        r2 = by_id["log-2"]
        self.assertEqual((r2["status"], r2["bytesIn"]), (200, 3))
        for key in ("ts", "level", "subsys", "durationMs", "remote", "bytesOut"):
            self.assertIn(key, r2)
        text = "".join(self.srv.lines)
        self.assertNotIn("SEKRIT", text)

    def test_metrics_count_requests(self):
        for _ in range(3):
            self.srv.request("GET", "/healthz")
        # a request is counted when its connection's completion callback runs, which may be
        # just after the client has read the response: poll briefly for the final count
        want = ('imgsvc_http_requests_total{server="api",route="/healthz",method="GET",'
                'status="200"} 3\n')
        deadline = time.monotonic() + 5
        while True:
            status, hdrs, body = self.srv.request("GET", "/metrics")
            text = body.decode()
            if want in text or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(status, 200)
        self.assertTrue(hdrs["content-type"].startswith("text/plain; version=0.0.4"))
        self.assertIn(want, text)
        self.assertIn("imgsvc_build_info{version=", text)
        self.assertIn("imgsvc_queue_depth 0", text)
        self.assertIn("imgsvc_http_request_duration_seconds_bucket", text)

    def test_metrics_pass_promtool(self):
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool missing: scripts/test.sh installs Debian's "
                             "prometheus package")
        self.srv.request("GET", "/healthz")
        self.srv.request("GET", "/nope")
        _, _, body = self.srv.request("GET", "/metrics")
        p = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())


class Shutdown(unittest.TestCase):
    def setUp(self):
        require_bin(self)

    def test_sigterm_drains_an_in_flight_request(self):
        srv = Server(env=dict(DEBUG, IMGSVC_SHUTDOWN_TIMEOUT_S="10"))
        result = {}

        def slow():
            result["resp"] = srv.request("GET", "/debug/sleep?ms=1500", timeout=20)

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.4)
        srv.proc.send_signal(signal.SIGTERM)
        # the listener closes at once: new connections are refused while the drain runs
        time.sleep(0.3)
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
        t.join(20)
        status, hdrs, body = result["resp"]
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body), {"sleptMs": 1500})
        self.assertEqual(hdrs.get("connection"), "close")
        self.assertEqual(srv.proc.wait(20), 0)

    def test_shutdown_deadline_cuts_a_stuck_request(self):
        srv = Server(env=dict(DEBUG, IMGSVC_SHUTDOWN_TIMEOUT_S="1"))
        t = threading.Thread(target=lambda: self._ignore(srv))
        t.start()
        time.sleep(0.3)
        start = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        rc = srv.proc.wait(20)
        self.assertLess(time.monotonic() - start, 10)
        self.assertEqual(rc, 1, "exit status 1 says work was cut short")
        self.assertIsNotNone(srv.wait_for_log(lambda r: "deadline" in r.get("msg", "")))
        t.join(20)

    def _ignore(self, srv):
        try:
            srv.request("GET", "/debug/sleep?ms=8000", timeout=20)
        except OSError:
            pass

    def test_sigint_also_stops_cleanly(self):
        srv = Server()
        self.assertEqual(srv.request("GET", "/healthz")[0], 200)
        self.assertEqual(srv.stop(signal.SIGINT), 0)
        self.assertIsNotNone(srv.wait_for_log(lambda r: r.get("msg") == "stopped"))


class Limits(unittest.TestCase):
    def setUp(self):
        require_bin(self)

    def test_connection_limit_holds_extra_connections(self):
        srv = Server(env={"IMGSVC_MAX_CONNECTIONS": "2", "IMGSVC_HTTP_THREADS": "1"})
        a, b = srv.raw_socket(), srv.raw_socket()
        a.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(read_http_response(a, "GET /healthz")[0], 200)
        b.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(read_http_response(b, "GET /healthz")[0], 200)
        # a third connection is not served while two are open (it waits in the backlog)
        c = srv.raw_socket()
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        c.settimeout(1.5)
        with self.assertRaises(socket.timeout):
            c.recv(100)
        # once a slot frees, it is served
        a.close()
        c.settimeout(10)
        self.assertEqual(read_http_response(c, "GET /healthz")[0], 200)
        for s in (b, c):
            s.close()
        self.assertEqual(srv.stop(), 0)

    def test_port_in_use_fails_with_a_message(self):
        first = Server()
        second = Server(env={"IMGSVC_PORT": str(first.port)}, wait=False)
        rc = second.proc.wait(20)
        second._reader.join(5)
        self.assertNotEqual(rc, 0)
        self.assertIn("cannot listen", "".join(second.lines))
        self.assertEqual(first.stop(), 0)


JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"


class Allocator(unittest.TestCase):
    """server/alloc.c: glibc's malloc gets 2 arenas unless MALLOC_ARENA_MAX or the tunable
    glibc.malloc.arena_max says otherwise, a preloaded jemalloc is left alone; the API's
    "listening" line says which (docs/deploy.md)."""

    def setUp(self):
        require_bin(self)
        ldd = subprocess.run(["ldd", BIN], capture_output=True, text=True).stdout
        self.sanitized = "libasan" in ldd or "libtsan" in ldd

    def listening(self, env):
        srv = Server(env=dict({"GLIBC_TUNABLES": ""}, **env))  # only what the case sets
        try:
            lines = [json.loads(l) for l in srv.lines if l.startswith("{")]
            api = [r for r in lines if r.get("msg") == "listening" and "server" not in r]
            self.assertEqual(len(api), 1, srv.lines)
            return api[0]
        finally:
            self.assertEqual(srv.stop(), 0)

    def test_arenas_per_configuration(self):
        # (environment, allocator, mallocArenas or None, mallocArenasFrom)
        if self.sanitized:  # the sanitizer's allocator replaces malloc: nothing is set, and
            # jemalloc cannot be preloaded before the sanitizer's runtime
            cases = [({"MALLOC_ARENA_MAX": "", "LD_PRELOAD": ""}, "sanitizer", None, "none"),
                     ({"MALLOC_ARENA_MAX": "3", "LD_PRELOAD": ""}, "sanitizer", None, "none")]
        else:
            self.assertTrue(os.path.exists(JEMALLOC),
                            f"{JEMALLOC} is missing (scripts/packages/apt-test.txt installs it)")
            cases = [({"MALLOC_ARENA_MAX": "", "LD_PRELOAD": ""}, "glibc", 2, "imgsvc"),
                     ({"MALLOC_ARENA_MAX": "3", "LD_PRELOAD": ""}, "glibc", 3,
                      "MALLOC_ARENA_MAX"),
                     ({"MALLOC_ARENA_MAX": "", "LD_PRELOAD": "",
                       "GLIBC_TUNABLES": "glibc.malloc.check=0:glibc.malloc.arena_max=5"},
                      "glibc", 5, "GLIBC_TUNABLES"),
                     ({"MALLOC_ARENA_MAX": "", "LD_PRELOAD": "",
                       "GLIBC_TUNABLES": "glibc.malloc.arena_maxx=5"}, "glibc", 2, "imgsvc"),
                     ({"MALLOC_ARENA_MAX": "", "LD_PRELOAD": JEMALLOC}, "jemalloc", None,
                      "none")]
        for env, allocator, arenas, source in cases:
            with self.subTest(env=env):
                rec = self.listening(env)
                self.assertEqual((rec["allocator"], rec.get("mallocArenas"),
                                  rec["mallocArenasFrom"]), (allocator, arenas, source))

if __name__ == "__main__":
    unittest.main()
