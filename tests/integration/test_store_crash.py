"""Crash safety of the embedded store: kill -9 during 100 concurrent 2 MB PUTs, restart on the
same data folder; every object listed is complete (its bytes' MD5 is its ETag and the MD5 of
what was sent for that key) and no temp file remains."""
import concurrent.futures
import hashlib
import os
import shutil
import signal
import tempfile
import threading
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

from harness import require_bin
from storelib import AK, BUCKET, SK, raw, sign_headers, start_store

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
N = 100
SIZE = 2 * 1024 * 1024


def list_all(host):
    keys, token = [], None
    while True:
        q = "list-type=2" + (f"&continuation-token={urllib.parse.quote(token)}" if token else "")
        h = sign_headers("GET", host, f"/{BUCKET}", AK, SK, query=q)
        st, _, body = raw("GET", host, f"/{BUCKET}?{q}", None, h)
        if st != 200:
            raise AssertionError(body)
        root = ET.fromstring(body)
        keys += [(c.findtext(NS + "Key"), c.findtext(NS + "ETag").strip('"'))
                 for c in root.iter(NS + "Contents")]
        token = root.findtext(NS + "NextContinuationToken")
        if root.findtext(NS + "IsTruncated") != "true":
            return keys


class Crash(unittest.TestCase):
    def setUp(self):
        require_bin(self)
        self.data = tempfile.mkdtemp(prefix="imgsvc-crash-")

    def tearDown(self):
        shutil.rmtree(self.data, ignore_errors=True)

    def test_kill_9_during_100_concurrent_2mb_puts(self):
        srv = start_store({"IMGSVC_DATA_DIR": self.data, "IMGSVC_HTTP_THREADS": "8",
                           "IMGSVC_STORE_MAX_OBJECT_BYTES": str(4 * SIZE)})
        host = f"127.0.0.1:{srv.store_port}"
        bodies = {f"crash/{i:03d}": os.urandom(SIZE) for i in range(N)}
        md5 = {k: hashlib.md5(v).hexdigest() for k, v in bodies.items()}
        done = []
        some_done = threading.Event()

        def put(key):
            path = f"/{BUCKET}/{key}"
            try:
                st, _, _ = raw("PUT", host, path, bodies[key],
                               sign_headers("PUT", host, path, AK, SK, bodies[key]), timeout=60)
            except OSError:
                return None
            if st == 200:
                done.append(key)
                if len(done) >= 5:
                    some_done.set()
            return st

        with concurrent.futures.ThreadPoolExecutor(N) as pool:
            futures = [pool.submit(put, k) for k in bodies]
            some_done.wait(60)
            srv.proc.send_signal(signal.SIGKILL)
            concurrent.futures.wait(futures, 90)
        srv.stop()
        self.assertGreaterEqual(len(done), 5, "the kill came before any PUT finished")

        srv = start_store({"IMGSVC_DATA_DIR": self.data})
        try:
            host = f"127.0.0.1:{srv.store_port}"
            self.assertEqual(os.listdir(os.path.join(self.data, "tmp")), [])
            listed = list_all(host)
            keys = [k for k, _ in listed]
            self.assertTrue(set(done) <= set(keys), "an acknowledged PUT was lost")
            for key, etag in listed:
                path = f"/{BUCKET}/{key}"
                st, _, body = raw("GET", host, path, None, sign_headers("GET", host, path, AK, SK))
                self.assertEqual(st, 200, key)
                self.assertEqual(len(body), SIZE, key)
                self.assertEqual(hashlib.md5(body).hexdigest(), etag, key)
                self.assertEqual(etag, md5[key], key)
            print(f"{len(done)} PUTs acknowledged before the kill, {len(listed)} objects listed "
                  f"after restart, all complete")
        finally:
            self.assertEqual(srv.stop(), 0)


if __name__ == "__main__":
    unittest.main()
