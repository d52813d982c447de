#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/<target>/ (run once; the files are committed).

    make_seeds.py [SIGNING_KEY_PEM]

Every seed is small and made here: real-shaped S3 events (AWS, Ceph RGW, MinIO, s3:TestEvent),
SNS envelopes, keys of every domain and kind, upload bodies, resize queries, multipart
envelopes, tiny images (made with the `vips` CLI from libvips-tools, a few hundred bytes), and
SigV4 requests in fuzz_sigv4.c's input format: AWS test-suite-shaped requests signed here with
the suite's example credentials (botocore), at the suite's time. SNS envelopes are signed with
SIGNING_KEY_PEM (the key of fuzz_s3_sns.c's test certificate; without it they are unsigned).
Regression inputs found by fuzzing are added by hand as regress-<what> files, and a few small
inputs of the recorded libFuzzer runs that add coverage as fuzzed-<sha1 prefix> files (see
docs/security.md, "Fuzzing"); this script does not touch either.
"""
import base64
import datetime
import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
AK, SK = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
UUID = "0f8e4a2c-1b3d-4e5f-9a6b-7c8d9e0f1a2b"
UPLOAD = f"{UUID}_1764000000"


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ---- sigv4 -----------------------------------------------------------------------------------
def botocore_signed(method, url, headers, body, service, presign):
    from botocore.auth import S3SigV4Auth, SigV4Auth, S3SigV4QueryAuth, SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    creds = Credentials(AK, SK)
    fixed = datetime.datetime(2015, 8, 30, 12, 36, 0)
    req = AWSRequest(method=method, url=url, headers=headers, data=body)
    with mock.patch("botocore.auth.get_current_datetime", return_value=fixed):
        if presign:
            cls = S3SigV4QueryAuth if service == "s3" else SigV4QueryAuth
            cls(creds, service, "us-east-1", expires=3600).add_auth(req)
        else:
            cls = S3SigV4Auth if service == "s3" else SigV4Auth
            cls(creds, service, "us-east-1").add_auth(req)
    p = req.prepare()
    target = p.url.split("://", 1)[1]
    target = target[target.index("/"):]
    lines = [f"{method} {target} HTTP/1.1"]
    host = url.split("://", 1)[1].split("/", 1)[0]
    lines.append(f"Host:{host}")
    lines += [f"{k}:{v}" for k, v in p.headers.items() if k.lower() != "host"]
    return "\n".join(lines) + "\n\n" + (body or "")


def sigv4_seeds():
    g = "https://example.amazonaws.com"
    s3 = "http://s3.example.com:9000"
    cases = [
        ("generic-get-vanilla", 1, "GET", g + "/", {}, "", False),
        ("generic-get-query", 1, "GET", g + "/?Param2=value2&Param1=value1", {}, "", False),
        ("generic-post-form", 1, "POST", g + "/",
         {"Content-Type": "application/x-www-form-urlencoded"}, "Param1=value1", False),
        ("generic-presigned", 1, "GET", g + "/?Param1=value1", {}, "", True),
        ("normalize-get-dots", 2, "GET", g + "/example1/example2/../..", {}, "", False),
        ("s3-put-header", 0, "PUT", s3 + "/photos/delete/profile/42/" + UPLOAD + ".jpeg",
         {"Content-Type": "image/jpeg"}, "abc", False),
        ("s3-get-presigned", 0, "GET", s3 + "/photos/profile/42/320/" + UPLOAD + ".jpeg", {},
         "", True),
        ("s3-key-spaces", 0, "GET", s3 + "/photos/a%20b/c%2Bd~e", {}, "", True),
    ]
    for name, mode, method, url, headers, body, presign in cases:
        text = botocore_signed(method, url, dict(headers), body, "s3" if mode == 0 else
                               "service", presign)
        put("sigv4", name, bytes([ord("0") + mode]) + text.encode())
    put("sigv4", "unsigned-multiline", "1GET / HTTP/1.1\nHost:example.amazonaws.com\n"
        "My-Header1:value1\n  value2\n     value3\nX-Amz-Date:20150830T123600Z\n\n")
    put("sigv4", "presign-put-typed", "3PUT /delete/profile/42/" + UPLOAD + ".jpeg HTTP/1.1\n"
        "Content-Type:image/jpeg\nContent-Length:1234\n\n")
    put("sigv4", "presign-get-odd-key", "3GET /a b/%2F/ü/+x?response-content-type=text/plain "
        "HTTP/1.1\n\n")


# ---- events ----------------------------------------------------------------------------------
def record(source, name, key, size=1234, seq="0055AED6DCD90281E5"):
    return {"eventVersion": "2.1", "eventSource": source, "awsRegion": "us-east-1",
            "eventTime": "2026-11-24T10:00:00.000Z", "eventName": name,
            "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "photos"},
                   "object": {"key": key, "size": size, "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                              "sequencer": seq}}}


def events_seeds():
    k = "delete/profile/42/" + UPLOAD + ".jpeg"
    put("s3_events", "aws-put", json.dumps({"Records": [record("aws:s3", "ObjectCreated:Put",
                                                                 k.replace("/", "%2F"))]}))
    put("s3_events", "aws-two-records", json.dumps({"Records": [
        record("aws:s3", "ObjectCreated:Post", "a+b%2Bc"),
        record("aws:s3", "ObjectRemoved:Delete", "x", seq="00A1")]}))
    ceph = record("ceph:s3", "ObjectCreated:Put", "delete/feed/1/a+b 0%.jpg", seq="1A2B")
    ceph["s3"]["object"].update({"metadata": [], "tags": []})
    ceph["opaqueData"] = ""
    put("s3_events", "ceph-put", json.dumps({"Records": [ceph]}))
    minio = record("minio:s3", "s3:ObjectCreated:Put", "delete%2Ffeed%2F1%2Fa+b.jpg", seq="17A")
    put("s3_events", "minio-put", json.dumps({"EventName": "s3:ObjectCreated:Put",
                                              "Key": "photos/delete/feed/1/a b.jpg",
                                              "Records": [minio]}))
    put("s3_events", "aws-test-event", json.dumps({
        "Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-24T10:00:00.000Z",
        "Bucket": "photos", "RequestId": "5582815E1AEA5ADF", "HostId": "8cLeGAmw"}))


# ---- sns -------------------------------------------------------------------------------------
CERT = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123.pem"
TOPIC = "arn:aws:sns:us-east-1:123456789012:imgsvc-uploads"


def sns_envelope(kind, message, version, keyfile, cert=CERT):
    m = {"Type": kind, "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324", "TopicArn": TOPIC,
         "Message": message, "Timestamp": "2026-11-24T12:00:00.000Z",
         "SignatureVersion": version, "SigningCertURL": cert}
    if kind == "Notification":
        m["Subject"] = "Amazon S3 Notification"
        m["UnsubscribeURL"] = ("https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&"
                               "SubscriptionArn=" + TOPIC + ":1")
        names = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        m["Token"] = "2336412f37fb687f5d51e6e2425f004aed" * 2
        m["SubscribeURL"] = ("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&"
                             "TopicArn=" + TOPIC + "&Token=" + m["Token"])
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn",
                 "Type"]
    text = "".join(f"{n}\n{m[n]}\n" for n in names if n in m)
    if keyfile:
        md = "-sha1" if version == "1" else "-sha256"
        sig = subprocess.run(["openssl", "dgst", md, "-sign", keyfile], input=text.encode(),
                             capture_output=True, check=True).stdout
        m["Signature"] = base64.b64encode(sig).decode()
    else:
        m["Signature"] = base64.b64encode(b"\0" * 128).decode()
    return json.dumps(m)


def sns_seeds(keyfile):
    ev = json.dumps({"Records": [record("aws:s3", "ObjectCreated:Put", "delete/feed/1/x.jpeg")]})
    put("s3_sns", "notification-v1", sns_envelope("Notification", ev, "1", keyfile))
    put("s3_sns", "notification-v2", sns_envelope("Notification", ev, "2", keyfile))
    put("s3_sns", "subscription-confirmation", sns_envelope(
        "SubscriptionConfirmation", "You have chosen to subscribe", "2", keyfile))
    put("s3_sns", "unsubscribe-confirmation", sns_envelope(
        "UnsubscribeConfirmation", "You have chosen to deactivate", "1", keyfile))
    put("s3_sns", "forged-cert-host", sns_envelope(
        "Notification", ev, "1", None, cert="https://sns.us-east-1.amazonaws.com.evil.test/c.pem"))
    put("s3_sns", "url-userinfo", "https://sns.us-east-1.amazonaws.com@evil.test/x.pem")
    put("s3_sns", "url-port", "https://sns.eu-west-1.amazonaws.com:8443/x.pem")


# ---- keys ------------------------------------------------------------------------------------
def keys_seeds():
    paths = {"profile": "profile/42", "feed": "feed/f-1", "chatroom": "chatroom/r_1",
             "chat": "chatroom/7/chat/9", "chat_profile": "chatroom/7/chat_profile/u1"}
    for dom, p in paths.items():
        put("s3_keys", f"parse-{dom}-temp", "0delete/" + p + "/" + UPLOAD + ".jpeg")
        put("s3_keys", f"parse-{dom}-variant", "0" + p + "/320/" + UPLOAD + ".webp")
    put("s3_keys", "parse-origin", "0profile/42/origin/" + UPLOAD + ".png")
    put("s3_keys", "parse-manifest", "0feed/f-1/manifest/" + UPLOAD + ".json")
    put("s3_keys", "parse-failed", "0failed/chatroom/7/chat/9/" + UPLOAD + ".json")
    put("s3_keys", "parse-traversal", "0delete/profile/../42/" + UPLOAD + ".jpeg")
    put("s3_keys", "build-profile", "1profile\n\0\n42\n\n" + UPLOAD + "\n\njpeg")
    put("s3_keys", "build-chat-variant", "1chat\n\2\n7\n9\n" + UPLOAD + "\n320\ngif")
    put("s3_keys", "build-chat-profile-manifest", "1chat_profile\n\3\n7\nu1\n" + UPLOAD +
        "\n\njson")


# ---- uploads body / resize query -------------------------------------------------------------
def uploads_seeds():
    bodies = {
        "profile": {"domain": "profile", "ids": {"userId": "42"}, "contentType": "image/jpeg"},
        "chat-sized": {"domain": "chat", "ids": {"chatroomId": "7", "chatId": "9"},
                       "contentType": "image/webp", "contentLength": 123456,
                       "checksumSha256": base64.b64encode(b"\1" * 32).decode()},
        "chat-profile": {"domain": "chat_profile", "ids": {"chatroomId": "7", "userId": "u"},
                         "contentType": "image/heic; charset=x"},
        "bad-ids": {"domain": "feed", "ids": {"feedId": "../x"}, "contentType": "image/png"},
        "too-long": {"domain": "feed", "ids": {"feedId": "1"}, "contentType": "image/gif",
                     "contentLength": 1e12},
    }
    for name, b in bodies.items():
        put("uploads_body", name, json.dumps(b))
    put("uploads_body", "not-object", "[1,2,3]")


def resize_seeds():
    for i, q in enumerate(["w=320", "w=320&h=200&fit=cover&gravity=attention&format=webp&q=80",
                           "h=16384&fit=inside&format=same", "w=0", "w=%33%32&q=101",
                           "fit=fill&w=10&h=10&format=avif", "w=12&w=13&h=-1"]):
        put("resize_query", f"query-{i}", q)


# ---- images and envelopes --------------------------------------------------------------------
def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xffffffff)


def vips_image(ext, opts=""):
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "src.v")
        out = os.path.join(d, "out." + ext)
        subprocess.run(["vips", "xyz", src, "6", "4"], check=True)
        subprocess.run(["vips", "copy", src, out + opts], check=True)
        with open(out, "rb") as f:
            return f.read()


def image_seeds():
    imgs = {"tiny.png": vips_image("png", "[compression=9,strip]"),
            "tiny.jpg": vips_image("jpg", "[Q=20,strip]"),
            "tiny-progressive.jpg": vips_image("jpg", "[Q=20,strip,interlace]"),
            "tiny.gif": vips_image("gif"),
            "tiny.webp": vips_image("webp", "[Q=20,strip]")}
    for name, data in imgs.items():
        assert len(data) < 2048, (name, len(data))
        put("img_probe", name, data)
    # A pixel flood: a valid PNG header of 100000 x 100000 with one empty IDAT.
    flood = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000,
                                                                    8, 0, 0, 0, 0))
             + png_chunk(b"IDAT", zlib.compress(b"")) + png_chunk(b"IEND", b""))
    put("img_probe", "flood.png", flood)
    put("img_probe", "heic-ftyp", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic")
    # A polyglot: a GIF header followed by a script.
    put("img_probe", "gif-polyglot", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;<script>x</script>")
    jpg = imgs["tiny.jpg"]
    env = (b"--XyZ123\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n"
           b"Content-Type: image/jpeg\r\n\r\n" + jpg + b"\r\n--XyZ123--\r\n")
    put("img_multipart", "one-file", env)
    two = (b"--b\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"
           b"--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.png\"\r\n\r\n"
           + imgs["tiny.png"] + b"\r\n--b--\r\n")
    put("img_multipart", "field-and-file", two)
    nofile = (b"--b\r\nContent-Disposition: form-data; name=\"img\"\r\n\r\n" + imgs["tiny.gif"]
              + b"\r\n--b--\r\n")
    put("img_multipart", "sniffed-part", nofile)
    put("img_multipart", "two-files", b"--b\r\nContent-Disposition: form-data; name=\"a\"; "
        b"filename=\"a\"\r\n\r\n1\r\n--b\r\nContent-Disposition: form-data; name=\"b\"; "
        b"filename=\"b\"\r\n\r\n2\r\n--b--\r\n")
    put("img_multipart", "raw-jpeg", jpg)
    put("img_multipart", "unterminated", b"--b\r\nContent-Disposition: form-data; name=\"a\"\r\n")


def main():
    keyfile = sys.argv[1] if len(sys.argv) > 1 else None
    sigv4_seeds()
    events_seeds()
    sns_seeds(keyfile)
    keys_seeds()
    uploads_seeds()
    resize_seeds()
    image_seeds()


if __name__ == "__main__":
    main()
