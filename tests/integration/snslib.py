"""A stand-in for Amazon SNS, made in a temporary folder with the openssl CLI.

TestSns() generates a test CA, a TLS certificate of that CA for sns.us-east-1.amazonaws.com and
a separate signing key and certificate (what SigningCertURL points at), then runs an HTTPS
server on 127.0.0.1 (any port) that serves the signing certificate under CERT_PATH and answers
the SubscribeURL, recording every request path. imgsvc reaches it through IMGSVC_SNS_CA_FILE
(the test CA) and IMGSVC_SNS_CONNECT_TO (the URL keeps sns.us-east-1.amazonaws.com:443, so TLS
checks the real name). Messages are signed as SNS does (SignatureVersion 1: RSA-SHA1, 2:
RSA-SHA256 over the string to sign) with `openssl dgst -sign`.
"""
import base64
import http.server
import os
import shutil
import ssl
import subprocess
import tempfile
import threading
import uuid

HOST = "sns.us-east-1.amazonaws.com"
CERT_PATH = "/SimpleNotificationService-0123456789abcdef.pem"
CERT_URL = f"https://{HOST}{CERT_PATH}"
TOPIC = "arn:aws:sns:us-east-1:123456789012:imgsvc-uploads"


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        sns = self.server.sns
        sns.requests.append(self.path)
        if self.path == CERT_PATH:
            body, ctype, status = sns.signing_pem, "application/x-pem-file", 200
        elif self.path.startswith("/?Action=ConfirmSubscription"):
            body = (b"<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>"
                    + TOPIC.encode() + b":1</SubscriptionArn></ConfirmSubscriptionResult>"
                    b"</ConfirmSubscriptionResponse>")
            ctype, status = "text/xml", 200
        else:
            body, ctype, status = b"not found", "text/plain", 404
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


class TestSns:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="imgsvc-sns-")
        d = self.dir
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
                 "ca.pem", "-days", "2", "-subj", "/CN=imgsvc test CA", "-addext",
                 "basicConstraints=critical,CA:TRUE", "-addext",
                 "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tls.key", "-out", "tls.csr",
                 "-subj", f"/CN={HOST}", cwd=d)
        with open(os.path.join(d, "tls.ext"), "w") as f:
            f.write(f"subjectAltName=DNS:{HOST}\nbasicConstraints=CA:FALSE\n"
                    "extendedKeyUsage=serverAuth\n")
        _openssl("x509", "-req", "-in", "tls.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", "tls.pem", "-days", "2", "-extfile", "tls.ext", cwd=d)
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "sign.key", "-out",
                 "sign.pem", "-days", "2", "-subj", "/CN=sns.amazonaws.com", cwd=d)
        with open(os.path.join(d, "sign.pem"), "rb") as f:
            self.signing_pem = f.read()
        self.ca_file = os.path.join(d, "ca.pem")
        self.requests = []
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(d, "tls.pem"), os.path.join(d, "tls.key"))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.httpd.sns = self
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def env(self):
        """The imgsvc settings that make it trust and reach this server."""
        return {"IMGSVC_SNS_CA_FILE": self.ca_file,
                "IMGSVC_SNS_CONNECT_TO": f"{HOST}:443:127.0.0.1:{self.port}"}

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def sign(self, text, version="1", key="sign.key"):
        md = "-sha1" if version == "1" else "-sha256"
        p = subprocess.run(["openssl", "dgst", md, "-sign", key], cwd=self.dir,
                           input=text.encode(), capture_output=True, check=True)
        return base64.b64encode(p.stdout).decode()

    def envelope(self, kind, message, version="1", cert_url=CERT_URL, topic=TOPIC,
                 subject=None, token=None):
        """An SNS JSON envelope of `kind` ("Notification", "SubscriptionConfirmation",
        "UnsubscribeConfirmation"), signed with the signing key."""
        m = {"Type": kind, "MessageId": str(uuid.uuid4()), "TopicArn": topic,
             "Message": message, "Timestamp": "2026-11-24T12:00:00.000Z",
             "SignatureVersion": version, "SigningCertURL": cert_url}
        if kind == "Notification":
            if subject is not None:
                m["Subject"] = subject
            m["UnsubscribeURL"] = (f"https://{HOST}/?Action=Unsubscribe&SubscriptionArn="
                                   f"{topic}:1")
            names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
        else:
            m["Token"] = token or uuid.uuid4().hex * 4
            m["SubscribeURL"] = (f"https://{HOST}/?Action=ConfirmSubscription&TopicArn={topic}"
                                 f"&Token={m['Token']}")
            names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn",
                     "Type"]
        text = "".join(f"{n}\n{m[n]}\n" for n in names if n in m)
        m["Signature"] = self.sign(text, version)
        return m
