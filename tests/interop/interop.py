#!/usr/bin/python3
"""Presigned-URL interop: s3/sigv4 against botocore or the AWS SDK for JavaScript v3.

    interop.py botocore|jssdk PUT|GET

Generates the same deterministic set of object keys (over 200: unicode, reserved and
unreserved characters, '%', '+', '$', '~', spaces, '//', a leading '/', dot segments, up to
1024 bytes), then for every combination of addressing style (path, virtual-hosted) and
credentials (with and without a session token) asks tests/interop/presign_tool (our library)
and the peer SDK for presigned URLs with the same bucket, key, signed headers (PUT signs
content-type), expiry and time, and requires them to be byte-identical.

The tool runs with --profile aws for botocore and --profile jssdk for the JavaScript SDK
(see tests/interop/README.md for why the two SDKs' URLs differ and what each profile does).
Exit 0 pass, 1 fail, 77 skip (peer not installed; the message says which).
"""
import contextlib
import datetime
import os
import random
import subprocess
import sys
from unittest import mock

ENDPOINT = "https://s3.example.com:8443"
REGION = "eu-west-1"
BUCKET = "imgsvc-interop"
ACCESS_KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//////////+token/with=reserved&chars"
CONTENT_TYPES = ["image/jpeg", "image/png", "image/webp", "image/heic", "image/avif",
                 "image/gif", "application/octet-stream", "text/plain; charset=utf-8"]
PIECES = ["a", "Z", "0", "9", "-", "_", ".", "~", " ", "+", "%", "$", "&", "=", "?", "#", "!",
          "'", "(", ")", "*", ",", ";", ":", "@", "[", "]", "{", "}", "^", "`", "|", "\\",
          "\"", "<", ">", "/", "//", "é", "ß", "ሴ", "中文", "日本", "😀", "\u00a0", "\u200b",
          "%20", "%2F", "+%2B", "..", "."]


def make_keys():
    """Deterministic keys: fixed edge cases first, then random compositions."""
    keys = ["photo.jpg", "a b", "a+b", "100%", "$dollar", "~tilde", "a//b", "/leading",
            "trailing/", "ሴ", "emoji😀.png", "dir/../x", "./x", "x/./y", "key with  spaces",
            "delete/profile/42/0f8fe0e4-5e4c-4b8e-9d55-0a8f3c1c2b11_1764000000.jpeg",
            "k" * 1024, ("é" * 512), ("/" * 8) + "x", "%%%", "+++", "a%2Fb", "#frag?q=1&r"]
    rnd = random.Random(20261124)
    while len(keys) < 240:
        n = rnd.randint(1, 24)
        key = "".join(rnd.choice(PIECES) for _ in range(n))
        if len(key.encode()) <= 1024:
            keys.append(key)
    return keys


def make_lines(method):
    rnd = random.Random(7 if method == "PUT" else 11)
    base = datetime.datetime(2026, 11, 24, 14, 46, 0)
    lines = []
    for i, key in enumerate(make_keys()):
        ctype = rnd.choice(CONTENT_TYPES) if method == "PUT" else "-"
        expires = rnd.choice([1, 60, 600, 3600, 86400, 604800, rnd.randint(1, 604800)])
        when = base + datetime.timedelta(seconds=rnd.randint(0, 400 * 86400)) * (i % 3)
        lines.append((method, key, ctype, expires, when.strftime("%Y%m%dT%H%M%SZ")))
    return lines


def to_tsv(lines):
    return "".join("\t".join(str(f) for f in line) + "\n" for line in lines)


def common_args(style, token):
    args = ["--endpoint", ENDPOINT, "--region", REGION, "--bucket", BUCKET,
            "--access-key", ACCESS_KEY, "--secret", SECRET, "--style", style]
    return args + (["--token", token] if token else [])


def ours(lines, style, token, profile):
    tool = os.environ.get("PRESIGN_TOOL")
    out = subprocess.run([tool] + common_args(style, token) + ["--profile", profile],
                         input=to_tsv(lines).encode(), stdout=subprocess.PIPE, check=True)
    return out.stdout.decode().splitlines()


def botocore_urls(lines, style, token):
    import botocore.session
    from botocore.config import Config
    session = botocore.session.get_session()
    client = session.create_client(
        "s3", region_name=REGION, endpoint_url=ENDPOINT, aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET, aws_session_token=token,
        config=Config(signature_version="s3v4", s3={"addressing_style": style}))
    op = {"PUT": "put_object", "GET": "get_object"}
    urls = []
    with fixed_clock() as set_time:
        for method, key, ctype, expires, when in lines:
            set_time(datetime.datetime.strptime(when, "%Y%m%dT%H%M%SZ"))
            params = {"Bucket": BUCKET, "Key": key}
            if ctype != "-":
                params["ContentType"] = ctype
            url = client.generate_presigned_url(op[method], Params=params, ExpiresIn=expires)
            if f"X-Amz-Date={when}&" not in url:
                raise RuntimeError(f"could not fix botocore's clock (wanted {when}): {url}")
            urls.append(url)
    return urls


@contextlib.contextmanager
def fixed_clock():
    """Pins botocore's signing clock: get_current_datetime() in newer releases, the
    datetime module inside botocore.auth in older ones (Debian bookworm's 1.29)."""
    import botocore.auth
    if hasattr(botocore.auth, "get_current_datetime"):
        with mock.patch("botocore.auth.get_current_datetime") as now:
            yield lambda t: setattr(now, "return_value", t)
    else:
        # With python3-awscrt installed (awscli pulls it in), 1.29 signs through the CRT, whose
        # clock cannot be pinned here: use botocore's own signers, the ones being compared.
        crt_free = {"s3v4": botocore.auth.S3SigV4Auth,
                    "s3v4-query": botocore.auth.S3SigV4QueryAuth}
        with mock.patch.dict(botocore.auth.AUTH_TYPE_MAPS, crt_free), \
                mock.patch("botocore.auth.datetime") as dt:
            yield lambda t: setattr(dt.datetime.utcnow, "return_value", t)


def jssdk_urls(lines, style, token):
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "presign_js.mjs")
    out = subprocess.run(["node", script] + common_args(style, token),
                         input=to_tsv(lines).encode(), stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, check=True)
    return out.stdout.decode().splitlines()


def peer_available(peer):
    if peer == "botocore":
        try:
            import botocore  # noqa: F401
        except ImportError:
            return "python3-botocore is not installed (scripts/packages/apt-test.txt)"
        return None
    here = os.path.dirname(os.path.abspath(__file__))
    mods = os.path.join(here, "..", "node_modules", "@aws-sdk", "s3-request-presigner")
    if not os.path.isdir(mods):
        return "tests/node_modules lacks @aws-sdk/s3-request-presigner (npm install --prefix tests)"
    try:
        subprocess.run(["node", "--version"], stdout=subprocess.DEVNULL, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "node is not installed"
    return None


def compare(lines, mine, theirs, label):
    bad = 0
    if len(mine) != len(lines) or len(theirs) != len(lines):
        print(f"{label}: line counts differ: input {len(lines)}, ours {len(mine)}, "
              f"peer {len(theirs)}")
        return len(lines)
    for line, a, b in zip(lines, mine, theirs):
        if a != b:
            bad += 1
            if bad <= 5:
                print(f"{label}: key {line[1]!r}\n  ours {a}\n  peer {b}")
    return bad


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("botocore", "jssdk") or \
            sys.argv[2] not in ("PUT", "GET"):
        print(__doc__)
        return 2
    peer, method = sys.argv[1], sys.argv[2]
    why = peer_available(peer)
    if why:
        print(f"SKIP: {why}")
        return 77
    if not os.environ.get("PRESIGN_TOOL"):
        print("PRESIGN_TOOL is not set (run through ctest)")
        return 2
    lines = make_lines(method)
    total = bad = 0
    for style in ("path", "virtual"):
        for token in (None, TOKEN):
            mine = ours(lines, style, token, "aws" if peer == "botocore" else "jssdk")
            theirs = (botocore_urls if peer == "botocore" else jssdk_urls)(lines, style, token)
            label = f"{peer} {method} {style} {'token' if token else 'no-token'}"
            bad += compare(lines, mine, theirs, label)
            total += len(lines)
    print(f"{peer} {method}: {total - bad} of {total} URLs byte-identical "
          f"({len(lines)} keys x path/virtual x with/without session token)")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
