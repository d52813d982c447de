#!/usr/bin/env python3
"""A tiny misbehaving S3 stand-in for the client's retry tests.

Listens on 127.0.0.1 (an ephemeral port, printed as the first stdout line) and answers by the
first path segment after the bucket, counting requests per path:

  /<bucket>/fail503x2/...  503 SlowDown twice, then 200 with a fixed body
  /<bucket>/always503/...  503 every time
  /<bucket>/throttle/...   429 once, then 200
  /<bucket>/forbidden/...  403 AccessDenied (never retried)
  /<bucket>/slow/...       the first request waits 5 s before answering, the next at once
  /<bucket>/reset/...      the first connection is closed without an answer, then 200
  /<bucket>/chunked/...    200 with a chunked body of 10000 bytes (no Content-Length)
  /<bucket>/garbage/...    400 with a body that is not XML
  /<bucket>/checksum/...   AWS S3's x-amz-checksum-sha256 check on PUT: 400 BadDigest when the
                           header differs from the body's SHA-256, 400 InvalidRequest without it
  /<bucket>/echo/...       200 with the request line and headers as the body
  /__count/<path>          how many requests <path> got (not counted itself)

The answer body for a 200 GET is OK_BODY. With --tls DIR it serves HTTPS with a fresh
self-signed certificate for 127.0.0.1 (made with the openssl command in DIR) and prints the
certificate's path as the second stdout line. It runs until killed.
"""
import base64
import hashlib
import http.server
import os
import ssl
import subprocess
import sys
import threading
import time

OK_BODY = b"hello from the fault server\n"
ERROR = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code>"
         "<Message>{msg}</Message><RequestId>fault-{n}</RequestId></Error>")

counts = {}
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body, ctype="application/xml"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amz-request-id", "fault")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code, n):
        self.send(status, ERROR.format(code=code, msg=code + " from the fault server",
                                       n=n).encode())

    def handle_any(self):
        path = self.path.split("?", 1)[0]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if path.startswith("/__count/"):
            with lock:
                n = counts.get(path[len("/__count"):], 0)
            self.send(200, str(n).encode(), "text/plain")
            return
        with lock:
            n = counts.get(path, 0) + 1
            counts[path] = n
        parts = path.split("/")
        mode = parts[2] if len(parts) > 2 else ""
        if mode == "fail503x2" and n <= 2:
            self.error(503, "SlowDown", n)
        elif mode == "always503":
            self.error(503, "ServiceUnavailable", n)
        elif mode == "throttle" and n == 1:
            self.error(429, "TooManyRequests", n)
        elif mode == "forbidden":
            self.error(403, "AccessDenied", n)
        elif mode == "checksum" and self.command == "PUT":
            want = base64.b64encode(hashlib.sha256(body).digest()).decode()
            got = self.headers.get("x-amz-checksum-sha256")
            if got is None:
                self.error(400, "InvalidRequest", n)
            elif got != want:
                self.error(400, "BadDigest", n)
            else:
                self.send(200, b"", "text/plain")
        elif mode == "echo":
            lines = [self.requestline] + [k + ": " + v for k, v in self.headers.items()]
            self.send(200, ("\n".join(lines) + "\n").encode(), "text/plain")
        elif mode == "garbage":
            self.send(400, b"this is not XML", "text/plain")
        elif mode == "reset" and n == 1:
            self.close_connection = True
            self.connection.shutdown(2)
        elif mode == "chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(10):
                self.wfile.write(b"3e8\r\n" + b"x" * 1000 + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            if mode == "slow" and n == 1:
                time.sleep(5)
            self.send(200, OK_BODY, "text/plain")

    do_GET = do_PUT = do_HEAD = do_DELETE = handle_any


def make_cert(folder):
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    cert = None
    if len(sys.argv) == 3 and sys.argv[1] == "--tls":
        cert, key = make_cert(sys.argv[2])
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    if cert:
        print(cert, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
