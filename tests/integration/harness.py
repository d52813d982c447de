"""Starts the real imgsvc binary for integration tests and talks to it over HTTP.

Server(env={...}) runs `imgsvc serve` on an ephemeral port (IMGSVC_PORT=0), waits for the
"listening" log line to learn the port, and collects every stderr line (JSON logs) so tests can
assert on them. stop() sends SIGTERM and returns the exit code.
"""
import http.client
import json
import os
import signal
import socket
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

BIN = os.environ.get("IMGSVC_BIN", "")
SOURCE_DIR = os.environ.get("IMGSVC_SOURCE_DIR", "")


def require_bin(test):
    if not BIN or not os.access(BIN, os.X_OK):
        test.fail(f"IMGSVC_BIN={BIN!r} is not an executable; run through ctest")


class Server:
    def __init__(self, env=None, args=("serve",), wait=True):
        full = {k: v for k, v in os.environ.items() if not k.startswith("IMGSVC_") or k in (
            "IMGSVC_BIN", "IMGSVC_SOURCE_DIR", "IMGSVC_BUILD_DIR", "IMGSVC_SHARED_DIR",
            "IMGSVC_CORPUS_DIR")}
        # The embedded S3 store runs too (no IMGSVC_S3_ENDPOINT): any free port, a private folder.
        self.data_dir = tempfile.mkdtemp(prefix="imgsvc-data-")
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

    def request(self, method, path, body=None, headers=None, timeout=10):
        c = self.conn(timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def json(self, method, path, body=None, headers=None):
        status, hdrs, data = self.request(method, path, body, headers)
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
        shutil.rmtree(self.data_dir, ignore_errors=True)
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
