"""CopyObject on the embedded store, with the real clients (boto3, awscli), and the same table
of copies against Ceph RGW (scripts/rgw.sh, fixture "rgw"): each case must get the same answer
(status and S3 error code) from both, and a copy that succeeds must give the same object (bytes,
ETag, content type, cache control, user metadata) on both. Ceph RGW 16.2 ignores the four
x-amz-copy-source-if-* conditions (https://tracker.ceph.com/issues/40808): there the store
keeps AWS's answer (412 PreconditionFailed) and the test checks that RGW still copies, as
recorded in RGW_LAX.

Then what only the store can show: a presigned upload URL cannot be turned into a copy (the
x-amz-copy-source header is not signed: 403, nothing written), a copy is refused or made
without leaving a temp file, and a copy into the upload prefix is an ObjectCreated:Copy event
that the pipeline refuses as not an upload."""
# ctest-fixtures: imaging_corpus rgw
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
import urllib.parse
import uuid

from botocore.exceptions import ClientError

from harness import require_bin
from storelib import (AK, BUCKET, REGION, RGW_AK, RGW_BUCKET, RGW_HOST, RGW_SK, SK, presign,
                      raw, s3_error, sign_headers, start_store)
from test_store import AWS, boto3_client

CORPUS = os.environ.get("IMGSVC_CORPUS_DIR", "")
PHOTOS = os.path.join(CORPUS, "photos")
PAST = datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc)
FUTURE = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)


# name, source key (None: the case's own object), CopyObject arguments
CASES = [
    ("metadata_copied", None, {}),
    ("metadata_replaced", None, {"MetadataDirective": "REPLACE", "ContentType": "image/png",
                                 "CacheControl": "max-age=60", "Metadata": {"new": "2"}}),
    ("if_match_right", None, {"CopySourceIfMatch": "ETAG"}),
    ("if_match_wrong", None, {"CopySourceIfMatch": '"0123456789abcdef0123456789abcdef"'}),
    ("if_none_match_right", None, {"CopySourceIfNoneMatch": "ETAG"}),
    ("if_none_match_other", None,
     {"CopySourceIfNoneMatch": '"0123456789abcdef0123456789abcdef"'}),
    ("if_unmodified_since_past", None, {"CopySourceIfUnmodifiedSince": PAST}),
    ("if_unmodified_since_future", None, {"CopySourceIfUnmodifiedSince": FUTURE}),
    ("if_modified_since_future", None, {"CopySourceIfModifiedSince": FUTURE}),
    ("if_modified_since_past", None, {"CopySourceIfModifiedSince": PAST}),
    ("if_match_wins_over_unmodified", None,
     {"CopySourceIfMatch": "ETAG", "CopySourceIfUnmodifiedSince": PAST}),
    ("missing_source", "copy/none/such key", {}),
    ("odd_source_key", "copy/odd/a+b c%2F\u00e9.bin", {}),
    ("onto_itself", "SELF", {}),
    ("onto_itself_replaced", "SELF", {"MetadataDirective": "REPLACE", "ContentType": "a/b"}),
]


# The cases where RGW 16.2 copies although AWS S3 answers 412 (the conditions are ignored).
RGW_LAX = {"if_match_wrong", "if_none_match_right", "if_unmodified_since_past",
           "if_modified_since_future"}


def run_case(s3, bucket, name, src_key, args):
    """Makes the case's source, copies, returns (status, code, object or None) and deletes what
    it made."""
    run = uuid.uuid4().hex[:8]
    own = f"copy/{run}/{name}.bin"
    body = hashlib.sha256(name.encode()).digest() * 1000
    made = own if src_key in (None, "SELF") else src_key
    dst = own if src_key == "SELF" else f"copy/{run}/{name}-copy.bin"
    etag = '"x"'
    if made != "copy/none/such key":
        etag = s3.put_object(Bucket=bucket, Key=made, Body=body, ContentType="image/jpeg",
                             CacheControl="no-cache", Metadata={"owner": "u1"})["ETag"]
    a = {k: (etag if v == "ETAG" else v) for k, v in args.items()}
    try:
        s3.copy_object(Bucket=bucket, Key=dst, CopySource={"Bucket": bucket, "Key": made}, **a)
        got = s3.get_object(Bucket=bucket, Key=dst)
        return 200, "", (got["Body"].read() == body, got["ETag"] == etag, got["ContentType"],
                         got.get("CacheControl"), got["Metadata"])
    except ClientError as ex:
        return ex.response["ResponseMetadata"]["HTTPStatusCode"], ex.response["Error"]["Code"], \
            None
    finally:
        for k in {made, dst}:
            s3.delete_object(Bucket=bucket, Key=k)


class CopyParity(unittest.TestCase):
    def setUp(self):
        require_bin(self)
        self.srv = start_store()

    def tearDown(self):
        self.assertEqual(self.srv.stop(), 0)

    def test_copy_table_same_answers_and_objects_as_rgw(self):
        ours = boto3_client(self.srv.store_port)
        rgw = boto3_client(host=RGW_HOST, ak=RGW_AK, sk=RGW_SK)
        rows = [(n, run_case(ours, BUCKET, n, k, a), run_case(rgw, RGW_BUCKET, n, k, a))
                for n, k, a in CASES]
        report = "\n".join(f"{n:32} store={o} rgw={r}" for n, o, r in rows)
        copied = (200, "", (True, True, "image/jpeg", "no-cache", {"owner": "u1"}))
        for name, o, r in rows:
            self.assertEqual(r, copied if name in RGW_LAX else o, f"{name}\n{report}")
        want = {"metadata_copied": (200, "", (True, True, "image/jpeg", "no-cache",
                                              {"owner": "u1"})),
                "metadata_replaced": (200, "", (True, True, "image/png", "max-age=60",
                                                {"new": "2"})),
                "if_match_wrong": (412, "PreconditionFailed", None),
                "if_none_match_right": (412, "PreconditionFailed", None),
                "if_unmodified_since_past": (412, "PreconditionFailed", None),
                "if_modified_since_future": (412, "PreconditionFailed", None),
                "missing_source": (404, "NoSuchKey", None),
                "onto_itself": (400, "InvalidRequest", None)}
        for name, o, _ in rows:
            if name in want:
                self.assertEqual(o, want[name], name)
            else:
                self.assertEqual(o[0], 200, name)
        print(report)


class StoreCopy(unittest.TestCase):
    def setUp(self):
        require_bin(self)
        self.srv = start_store()
        self.host = f"127.0.0.1:{self.srv.store_port}"
        self.s3 = boto3_client(self.srv.store_port)

    def tearDown(self):
        self.assertEqual(self.srv.stop(), 0)

    def keys(self, prefix=""):
        r = self.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return [c["Key"] for c in r.get("Contents", [])]

    def test_refusals_change_nothing_and_leave_no_temp_file(self):
        self.s3.put_object(Bucket=BUCKET, Key="src/a.bin", Body=b"abc")
        cases = [({"MetadataDirective": "MOVE"}, 400, "InvalidArgument"),
                 ({"CopySource": f"{BUCKET}/src/none"}, 404, "NoSuchKey"),
                 ({"CopySource": "nosuchbucket/src/a.bin"}, 404, "NoSuchBucket"),
                 ({"CopySource": f"{BUCKET}/src/a.bin?versionId=3"}, 501, "NotImplemented")]
        for extra, status, code in cases:
            a = {"Bucket": BUCKET, "Key": "dst/a.bin", "CopySource": f"{BUCKET}/src/a.bin"}
            a.update(extra)
            with self.assertRaises(ClientError, msg=str(extra)) as cm:
                self.s3.copy_object(**a)
            err = cm.exception.response
            self.assertEqual((err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"]),
                             (status, code), str(extra))
        # a source that names no key, and a body sent with the copy
        for src, body in (("/" + BUCKET, b""), (f"/{BUCKET}/src/a.bin", b"body")):
            path = f"/{BUCKET}/dst/b.bin"
            h = sign_headers("PUT", self.host, path, AK, SK, body,
                             {"x-amz-copy-source": src})
            st, _, data = raw("PUT", self.host, path, body, h)
            self.assertEqual((st, s3_error(data)[0]),
                             (400, "InvalidArgument" if not body else "InvalidRequest"), data)
        self.assertEqual(self.keys(), ["src/a.bin"])
        self.assertEqual(os.listdir(os.path.join(self.srv.data_dir, "tmp")), [])

    def test_a_presigned_upload_url_cannot_copy(self):
        self.s3.put_object(Bucket=BUCKET, Key="private/secret.jpg", Body=b"secret")
        url = presign("PUT", self.host, BUCKET, "delete/feed/1/x.jpg", AK, SK,
                      headers={"content-type": "image/jpeg"})
        st, _, data = raw("PUT", url, body=b"", headers={
            "content-type": "image/jpeg", "x-amz-copy-source": f"/{BUCKET}/private/secret.jpg"})
        self.assertEqual((st, s3_error(data)[0]), (403, "AccessDenied"), data)
        self.assertEqual(self.keys(), ["private/secret.jpg"])
        # Ceph RGW 16.2 accepts the unsigned header and copies (docs/security.md): recorded so
        # that a fixed RGW shows up here
        rgw = boto3_client(host=RGW_HOST, ak=RGW_AK, sk=RGW_SK)
        run = uuid.uuid4().hex[:8]
        secret, temp = f"copy/{run}/secret.jpg", f"copy/{run}/upload.jpg"
        rgw.put_object(Bucket=RGW_BUCKET, Key=secret, Body=b"secret")
        url = presign("PUT", RGW_HOST, RGW_BUCKET, temp, RGW_AK, RGW_SK,
                      headers={"content-type": "image/jpeg"})
        st, _, data = raw("PUT", url, body=b"", headers={
            "content-type": "image/jpeg", "x-amz-copy-source": f"/{RGW_BUCKET}/{secret}"})
        try:
            self.assertEqual(st, 200, data)
            self.assertEqual(rgw.get_object(Bucket=RGW_BUCKET, Key=temp)["Body"].read(),
                             b"secret")
        finally:
            rgw.delete_object(Bucket=RGW_BUCKET, Key=temp)
            rgw.delete_object(Bucket=RGW_BUCKET, Key=secret)

    def test_awscli_copies_between_keys(self):
        if not os.access(AWS, os.X_OK):
            self.skipTest("Debian's awscli is not installed (scripts/packages/apt-test.txt)")
        data = os.urandom(300000)
        self.s3.put_object(Bucket=BUCKET, Key="cli/from here.bin", Body=data,
                           ContentType="image/webp")
        work = tempfile.mkdtemp()
        try:
            env = {"PATH": "/usr/bin:/bin", "HOME": work, "AWS_ACCESS_KEY_ID": AK,
                   "AWS_SECRET_ACCESS_KEY": SK, "AWS_DEFAULT_REGION": REGION,
                   "AWS_EC2_METADATA_DISABLED": "true"}
            p = subprocess.run([AWS, "--endpoint-url", f"http://{self.host}", "s3", "cp",
                                f"s3://{BUCKET}/cli/from here.bin", f"s3://{BUCKET}/cli/to.bin"],
                               env=env, capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("copy:", p.stdout)
        finally:
            shutil.rmtree(work)
        got = self.s3.get_object(Bucket=BUCKET, Key="cli/to.bin")
        self.assertEqual(got["Body"].read(), data)
        self.assertEqual(got["ContentType"], "image/webp")
        self.assertEqual(got["ETag"], '"%s"' % hashlib.md5(data).hexdigest())


class CopyIntoUploads(unittest.TestCase):
    """A copy onto an upload's temp key is not an upload: the store's ObjectCreated:Copy event
    reaches the pipeline, which answers it with a failed record (copied_object), deletes the
    temp and makes nothing (docs/security.md: on Ceph RGW a presigned upload URL can be turned
    into such a copy)."""

    def setUp(self):
        require_bin(self)
        if not os.path.isdir(PHOTOS):
            self.skipTest(f"no image corpus in {CORPUS!r} (built from ../shared/corpus)")
        self.srv = start_store()
        self.s3 = boto3_client(self.srv.store_port)

    def tearDown(self):
        self.assertEqual(self.srv.stop(), 0)

    def test_a_copied_temp_is_failed_not_processed(self):
        with open(os.path.join(PHOTOS, sorted(os.listdir(PHOTOS))[0]), "rb") as f:
            data = f.read()
        self.s3.put_object(Bucket=BUCKET, Key="staging/p.jpg", Body=data,
                           ContentType="image/jpeg")
        body = json.dumps({"domain": "profile", "ids": {"userId": "7"},
                           "contentType": "image/jpeg"})
        status, _, doc = self.srv.json("POST", "/v1/uploads", body=body,
                                       headers={"Content-Type": "application/json"})
        self.assertEqual(status, 201, doc)
        self.s3.copy_object(Bucket=BUCKET, Key=doc["key"], ContentType="image/jpeg",
                            MetadataDirective="REPLACE",
                            CopySource={"Bucket": BUCKET, "Key": "staging/p.jpg"})
        q = urllib.parse.urlencode({"domain": "profile", "userId": "7"})
        deadline = time.time() + 60
        st = {}
        while time.time() < deadline:
            code, _, st = self.srv.json("GET", f"/v1/uploads/{doc['uploadId']}?{q}")
            self.assertEqual(code, 200, st)
            if st["status"] != "pending":
                break
            time.sleep(0.05)
        self.assertEqual((st["status"], st["error"]["code"]), ("failed", "copied_object"), st)
        self.assertIsNotNone(self.srv.wait_for_log(
            lambda r: r.get("msg") == "record" and r.get("key") == doc["key"] and
            r.get("outcome") == "failed", timeout=30))
        # nothing made, the temp gone, the copied object untouched
        self.assertEqual(sorted(self.keys_under("")),
                         sorted(["staging/p.jpg", f"failed/profile/7/{doc['uploadId']}.json"]))
        self.assertEqual(self.s3.get_object(Bucket=BUCKET, Key="staging/p.jpg")["Body"].read(),
                         data)

    def keys_under(self, prefix):
        r = self.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return [c["Key"] for c in r.get("Contents", [])]


if __name__ == "__main__":
    unittest.main()
