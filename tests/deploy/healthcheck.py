#!/usr/bin/env python3
"""`imgsvc healthcheck`, the image's HEALTHCHECK, against a real `imgsvc serve`.

  healthcheck.py     (ctest deploy.healthcheck; IMGSVC_BIN is the binary)

Starts `imgsvc serve` on a free loopback port and checks, with the same environment as the
server (as the container gives both):
  - exit 0 while it runs; exit 1 for --path to a route that answers 404; exit 2 on bad usage;
  - with IMGSVC_LISTEN_ADDR=0.0.0.0 (the image's setting, API keys on) the probe goes to
    127.0.0.1 and passes;
  - exit 1 with "cannot connect" once the server is stopped, and for IMGSVC_PORT=0.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("IMGSVC_BIN", "")
KEY = "deploy-test-key-0123456789abcdef"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(port, data_dir, listen="127.0.0.1"):
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMGSVC_")}
    env.update({"IMGSVC_PORT": str(port), "IMGSVC_LISTEN_ADDR": listen,
                "IMGSVC_STORE_PORT": "0", "IMGSVC_STORE_LISTEN_ADDR": "127.0.0.1",
                "IMGSVC_DATA_DIR": data_dir, "IMGSVC_RECONCILE_INTERVAL_S": "3600"})
    if listen != "127.0.0.1":
        env["IMGSVC_API_KEYS"] = KEY
    return env


def probe(env, *args):
    res = subprocess.run([BIN, "healthcheck", *args], env=env, capture_output=True, text=True,
                         timeout=30)
    return res.returncode, res.stderr.strip()


def serve(env):
    proc = subprocess.Popen([BIN, "serve"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", int(env["IMGSVC_PORT"])), 0.5).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("imgsvc serve did not start")


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def expect(failures, what, got, code, text=None):
    rc, err = got
    if rc != code or (text is not None and text not in err):
        print(f"FAIL: {what}: exit {rc} ({err!r}); expected {code}"
              + (f" with {text!r}" if text else ""))
        failures.append(what)
    else:
        print(f"ok: {what}: exit {rc}" + (f" ({err})" if err else ""))


def main():
    if not BIN or not os.access(BIN, os.X_OK):
        print(f"FAIL: IMGSVC_BIN={BIN!r} is not an executable; run through ctest")
        return 1
    failures = []
    with tempfile.TemporaryDirectory(prefix="imgsvc-hc-") as tmp:
        port = free_port()
        env = base_env(port, tmp)
        proc = serve(env)
        try:
            expect(failures, "healthy service", probe(env), 0)
            expect(failures, "--path /readyz", probe(env, "--path", "/readyz"), 0)
            expect(failures, "--path to a missing route", probe(env, "--path", "/nope"), 1,
                   "answered 404")
            expect(failures, "bad usage", probe(env, "--path"), 2)
        finally:
            stop(proc)
        expect(failures, "stopped service", probe(env), 1, "cannot connect")
        expect(failures, "IMGSVC_PORT=0", probe(dict(env, IMGSVC_PORT="0")), 1, "IMGSVC_PORT=0")
        port = free_port()
        env = base_env(port, tmp, listen="0.0.0.0")
        proc = serve(env)
        try:
            expect(failures, "listening on 0.0.0.0, probed on loopback", probe(env), 0)
        finally:
            stop(proc)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
