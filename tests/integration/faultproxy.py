#!/usr/bin/env python3
"""A fault-injecting HTTP/1.1 proxy for tests: imgsvc -> FaultProxy -> S3 (Ceph RGW).

Every request is forwarded to the upstream as received (request line, headers including the
Host the client signed, body), so SigV4 stays valid and S3 does exactly what it was asked. The
faults are applied to the RESPONSE only, after the upstream has answered, so the S3 semantics
stay real (a PUT answered 503 was nevertheless stored, as happens with a real S3 behind a
failing load balancer):

- "500" / "503": the upstream's answer is replaced by an S3 XML error with that status
  (InternalError / SlowDown) and the connection is kept;
- "reset": the client connection is reset (RST, SO_LINGER 0) without any answer;
- "slow": the upstream's answer is sent after `slow_s` seconds, trickled in small pieces.

Probabilities are per request (`p500`, `p503`, `preset`, `pslow`, drawn from one seeded random
generator); `counts` tells how many of each were injected and how many requests were seen.
`journal` lists every forwarded request in the order its body was received: method, target
(the request line's path and query), headers (names in lower case), the upstream's status,
and the monotonic times at which
the request was complete (`t_in`) and the upstream had answered (`t_out`, before the answer
or fault goes back to the client), so a test can check what a client did after what.
`Expect: 100-continue` is answered by the proxy itself and not forwarded (the body is read
first); nothing else is changed. Keep-alive is supported towards the client; every request
goes to the upstream on a fresh connection (so an upstream closing an idle connection is never
mistaken for a fault).

`answer` (optional) is called with each journal entry before it is forwarded; when it returns
(status, body bytes) the request is NOT forwarded and that answer (application/xml) is sent
instead, as a store without the feature would answer (the entry's status is that status).

Command line: faultproxy.py LISTEN_PORT UPSTREAM_HOST:PORT [p500 p503 preset pslow]
"""
import random
import select
import socket
import struct
import sys
import threading
import time

FAULTS = ("500", "503", "reset", "slow")
ERROR_XML = {
    500: ("InternalError", "We encountered an internal error. Please try again."),
    503: ("SlowDown", "Please reduce your request rate."),
}


class _Closed(Exception):
    pass


def _read_head(sock, buf):
    """Reads up to and including the blank line; returns (head bytes, rest of buf)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise _Closed()
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head + b"\r\n\r\n", rest


def _read_exact(sock, buf, n):
    while len(buf) < n:
        chunk = sock.recv(max(65536, n - len(buf)))
        if not chunk:
            raise _Closed()
        buf += chunk
    return buf[:n], buf[n:]


def _read_chunked(sock, buf):
    """Reads a chunked body raw (sizes, data, trailers); returns (raw bytes, rest)."""
    out = b""
    while True:
        while b"\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise _Closed()
            buf += chunk
        line, buf = buf.split(b"\r\n", 1)
        out += line + b"\r\n"
        size = int(line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while True:  # trailers up to the empty line
                while b"\r\n" not in buf:
                    chunk = sock.recv(65536)
                    if not chunk:
                        raise _Closed()
                    buf += chunk
                tline, buf = buf.split(b"\r\n", 1)
                out += tline + b"\r\n"
                if tline == b"":
                    return out, buf
        data, buf = _read_exact(sock, buf, size + 2)
        out += data


def _headers(head):
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            hdrs[k.strip().lower()] = v.strip()
    return lines[0], hdrs


def _read_body(sock, buf, hdrs, no_body=False):
    """The message body by Content-Length or chunked (None: read until close)."""
    if no_body:
        return b"", buf
    if "chunked" in hdrs.get("transfer-encoding", "").lower():
        return _read_chunked(sock, buf)
    if "content-length" in hdrs:
        return _read_exact(sock, buf, int(hdrs["content-length"]))
    return None, buf


def _with_length(head, n):
    """A response head with its Connection/Content-Length replaced by Content-Length n."""
    lines = [ln for ln in head.split(b"\r\n")[:-2]
             if not ln.lower().startswith((b"content-length:", b"connection:"))]
    return b"\r\n".join(lines + [b"Content-Length: %d" % n, b"", b""])


class FaultProxy:
    """Listens on 127.0.0.1:port (0 = any free port) and forwards to upstream (host, port)."""

    def __init__(self, upstream, port=0, p500=0.0, p503=0.0, preset=0.0, pslow=0.0, slow_s=1.5,
                 seed=1, answer=None):
        self.upstream = upstream
        self.answer = answer
        self.probs = {"500": p500, "503": p503, "reset": preset, "slow": pslow}
        self.slow_s = slow_s
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.counts = {"requests": 0, **{f: 0 for f in FAULTS}}
        self.journal = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.closing = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def set_faults(self, **probs):
        """Changes the probabilities (p500=, p503=, preset=, pslow=) from now on."""
        with self.lock:
            for k, v in probs.items():
                self.probs[{"p500": "500", "p503": "503", "preset": "reset",
                            "pslow": "slow"}[k]] = v

    def _draw(self):
        with self.lock:
            self.counts["requests"] += 1
            r = self.rng.random()
            for f in FAULTS:
                if r < self.probs[f]:
                    self.counts[f] += 1
                    return f
                r -= self.probs[f]
        return None

    def _accept(self):
        while not self.closing:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _upstream(self, method, request):
        """Sends one request on a fresh upstream connection; returns (head, body) of the answer
        (a fresh connection each time: no stale keep-alive to the upstream)."""
        with socket.create_connection(self.upstream, timeout=120) as up:
            up.sendall(request)
            rhead, ubuf = _read_head(up, b"")
            while rhead.split(b" ", 2)[1].startswith(b"1"):  # interim answers
                rhead, ubuf = _read_head(up, ubuf)
            status_line, rh = _headers(rhead)
            status = int(status_line.split(" ")[1])
            rbody, ubuf = _read_body(up, ubuf, rh, no_body=(
                method == "HEAD" or status in (204, 304)))
            if rbody is None:  # neither length nor chunked: until the upstream closes
                rbody = ubuf
                while True:
                    chunk = up.recv(65536)
                    if not chunk:
                        break
                    rbody += chunk
                rhead = _with_length(rhead, len(rbody))
        return rhead, rbody

    def _answer(self, client, method, rhead, rbody):
        """Sends the upstream's answer, or the fault drawn for it; False: client gone."""
        fault = self._draw()
        if fault == "reset":
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if fault in ("500", "503"):
            code, msg = ERROR_XML[int(fault)]
            xml = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                   f"<Message>{msg}</Message></Error>").encode()
            reason = "Internal Server Error" if fault == "500" else "Service Unavailable"
            out = (f"HTTP/1.1 {fault} {reason}\r\nContent-Type: application/xml\r\n"
                   f"Content-Length: {len(xml)}\r\n\r\n").encode()
            client.sendall(out if method == "HEAD" else out + xml)
            return True
        data = rhead + rbody
        if fault == "slow":
            step = max(1, len(data) // 8)
            for i in range(0, len(data), step):
                time.sleep(self.slow_s / 8)
                client.sendall(data[i:i + step])
        else:
            client.sendall(data)
        return True

    def _serve(self, client):
        cbuf = b""
        try:
            while True:
                head, cbuf = _read_head(client, cbuf)
                reqline, hdrs = _headers(head)
                method = reqline.split(" ", 1)[0].upper()
                if hdrs.get("expect", "").lower() == "100-continue":
                    client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                    head = b"\r\n".join(ln for ln in head.split(b"\r\n")
                                        if not ln.lower().startswith(b"expect:"))
                body, cbuf = _read_body(client, cbuf, hdrs, no_body=(
                    "content-length" not in hdrs and "transfer-encoding" not in hdrs))
                entry = {"method": method, "target": reqline.split(" ")[1], "headers": hdrs,
                         "t_in": time.monotonic()}
                with self.lock:
                    self.journal.append(entry)
                own = self.answer(entry) if self.answer else None
                if own is not None:
                    rbody = own[1]
                    rhead = (f"HTTP/1.1 {own[0]} Answer\r\nContent-Type: application/xml\r\n"
                             f"Content-Length: {len(rbody)}\r\n\r\n").encode()
                else:
                    rhead, rbody = self._upstream(method, head + body)
                entry["status"] = int(rhead.split(b" ", 2)[1])
                entry["t_out"] = time.monotonic()
                if not self._answer(client, method, rhead, rbody):
                    return
                if hdrs.get("connection", "").lower() == "close":
                    return
        except (_Closed, OSError):
            return
        finally:
            client.close()

    def close(self):
        self.closing = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def _main(argv):
    if len(argv) not in (3, 7):
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    host, port = argv[2].rsplit(":", 1)
    probs = [float(x) for x in argv[3:7]] if len(argv) == 7 else [0.0] * 4
    p = FaultProxy((host, int(port)), int(argv[1]), *probs)
    print(f"faultproxy on {p.url} -> {argv[2]}", flush=True)
    try:
        while True:
            select.select([], [], [], 3600)
    except KeyboardInterrupt:
        p.close()
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
