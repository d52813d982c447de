"""The embedded S3 store's edges that test_store.py does not reach, against the real binary:
ListObjectsV2's start-after (alone, with max-keys and continuation tokens, with a delimiter);
a NUL byte in a key (400 InvalidURI, nothing written) while keys of other odd bytes round-trip;
a client that goes away in the middle of a PUT body (nothing stored, the old object intact, no
temp file); and a full disk: the store process gets a file size limit (RLIMIT_FSIZE through
prlimit, which fails its writes with EFBIG as a full disk fails them with ENOSPC), a PUT past it
answers 500 InternalError, the old object is intact, no temp file is left, and once there is
room again PUTs succeed."""
import hashlib
import os
import resource
import socket
import time
import unittest

from storelib import AK, BUCKET, SK, raw, s3_error, sign_headers
from test_store import StoreTest, boto3_client


class ListStartAfter(StoreTest):
    def test_start_after_alone_paged_and_with_a_delimiter(self):
        keys = ["sa/a", "sa/b/1", "sa/b/2", "sa/c", "sa/d", "sb/x"]
        for k in keys:
            self.assertEqual(self.put(k, k.encode())[0], 200, k)
        s3 = boto3_client(self.srv.store_port)

        r = s3.list_objects_v2(Bucket=BUCKET, Prefix="sa/", StartAfter="sa/b/1")
        self.assertEqual([c["Key"] for c in r["Contents"]], ["sa/b/2", "sa/c", "sa/d"])
        self.assertEqual((r["StartAfter"], r["KeyCount"], r["IsTruncated"]),
                         ("sa/b/1", 3, False))

        # pages of two: the paginator sends StartAfter with every continuation token
        pages = list(s3.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, StartAfter="sa/a", PaginationConfig={"PageSize": 2}))
        self.assertEqual([[c["Key"] for c in p.get("Contents", [])] for p in pages],
                         [["sa/b/1", "sa/b/2"], ["sa/c", "sa/d"], ["sb/x"]])
        self.assertEqual([p["IsTruncated"] for p in pages], [True, True, False])

        r = s3.list_objects_v2(Bucket=BUCKET, Prefix="sa/", Delimiter="/", StartAfter="sa/a")
        self.assertEqual([c["Key"] for c in r["Contents"]], ["sa/c", "sa/d"])
        self.assertEqual([p["Prefix"] for p in r["CommonPrefixes"]], ["sa/b/"])

        # a start-after before the prefix lists it all; one past every key lists nothing
        r = s3.list_objects_v2(Bucket=BUCKET, Prefix="sa/", StartAfter="a")
        self.assertEqual(r["KeyCount"], 5)
        r = s3.list_objects_v2(Bucket=BUCKET, StartAfter="sz")
        self.assertEqual((r["KeyCount"], r.get("Contents")), (0, None))


class KeyBytes(StoreTest):
    def test_nul_in_a_key_is_refused_and_other_bytes_round_trip(self):
        path = f"/{BUCKET}/a%00b"
        for method in ("PUT", "GET"):
            body = b"x" if method == "PUT" else None
            st, hdrs, data = raw(method, self.host, path, body, sign_headers(
                method, self.host, path, AK, SK, body or b""))
            self.assertEqual(st, 400, data)
            self.assertEqual(s3_error(data)[0], "InvalidURI", method)
        self.assertEqual(os.listdir(os.path.join(self.srv.data_dir, "tmp")), [])
        key = "bytes/\u00e9 \x01\t%2F?#"
        self.assertEqual(self.put(key, b"v")[0], 200)
        self.assertEqual(self.get(key)[2], b"v")
        s3 = boto3_client(self.srv.store_port)
        self.assertEqual([c["Key"] for c in s3.list_objects_v2(Bucket=BUCKET,
                                                               Prefix="bytes/")["Contents"]],
                         [key])


class BrokenWrites(StoreTest):
    def tmp_files(self):
        return os.listdir(os.path.join(self.srv.data_dir, "tmp"))

    def test_client_gone_mid_body_stores_nothing(self):
        path = f"/{BUCKET}/cut/obj"
        self.assertEqual(self.put("cut/obj", b"old bytes")[0], 200)
        body = os.urandom(1024 * 1024)
        hdrs = sign_headers("PUT", self.host, path, AK, SK, body)
        hdrs["content-length"] = str(len(body))
        head = f"PUT {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
        s = socket.create_connection(("127.0.0.1", self.srv.store_port), timeout=10)
        s.sendall(head.encode() + b"\r\n" + body[:len(body) // 2])
        time.sleep(0.2)
        s.close()
        line = self.srv.wait_for_log(lambda r: r.get("msg") == "request" and
                                     r.get("server") == "store" and r.get("path") == path and
                                     r.get("termination") is not None, timeout=30)
        self.assertIsNotNone(line, "the store never noticed the client went away")
        st, _, got = self.get("cut/obj")
        self.assertEqual((st, got), (200, b"old bytes"))
        self.assertEqual(self.tmp_files(), [])

    def test_full_disk_is_500_internal_error_and_changes_nothing(self):
        self.assertEqual(self.put("full/k", b"old bytes")[0], 200)
        pid = self.srv.proc.pid
        old = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (256 * 1024, old[1]))
        try:
            big = os.urandom(1024 * 1024)
            for key in ("full/k", "full/new"):
                st, hdrs, body = self.put(key, big)
                self.assertEqual(st, 500, body)
                self.assertEqual(s3_error(body)[0], "InternalError")
                self.assertEqual(hdrs["content-type"], "application/xml")
        finally:
            resource.prlimit(pid, resource.RLIMIT_FSIZE, old)
        self.assertIsNone(self.srv.proc.poll(), "the store died on the write limit")
        st, _, got = self.get("full/k")
        self.assertEqual((st, got), (200, b"old bytes"))
        self.assertEqual(self.get("full/new")[0], 404)
        self.assertEqual(self.tmp_files(), [])
        st, hdrs, _ = self.put("full/new", big)  # room again
        self.assertEqual((st, hdrs["etag"]), (200, '"%s"' % hashlib.md5(big).hexdigest()))
        self.assertEqual(self.get("full/new")[2], big)


if __name__ == "__main__":
    unittest.main()
