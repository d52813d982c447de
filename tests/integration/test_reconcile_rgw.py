"""The reconciler and `imgsvc reprocess` against a real S3 (Ceph RGW, the `rgw` fixture).

Uploads made while imgsvc is not running (temp objects PUT straight to RGW) are all ready, with
no temp left, once imgsvc starts with the reconciler on; so is an upload whose event a
non-persistent topic failed to push (RGW answers its PUT 200 and drops the event). `imgsvc
reprocess --prefix` after the presets gain a size (IMGSVC_PRESETS_FILE) regenerates every
manifest under the prefix: the new size is listed and its object has the preset's width; a
second run is done_before for all; a run killed part-way is finished by the next, which skips
what was done; --dry-run writes nothing and tells which uploads are behind; a bad prefix or no
IMGSVC_S3_ENDPOINT exit 2 with a message. POST /v1/objects/reprocess does the same through the
service (401 without an API key, 400 for a bad prefix, 202 then the manifest updated). Keys use
a fresh feed id per test, so a case's checks see only its own uploads.

The cases run one at a time (the resource lock below): each starts a reconciler with no grace
period on this bucket, which takes every temp in it, another case's included. Two services
processing one upload at once is allowed (the result is the same), but it rewrites the manifest
with a later processedAt, so a case checking that a dry run wrote nothing would see a write."""
# ctest-fixtures: imaging_corpus rgw
# ctest-resource-lock: rgw_bucket_reconcile
import json
import os
import subprocess
import tempfile
import time
import unittest
import uuid

from harness import BIN, Server, require_bin, run_cli
from test_reconcile import FEED_PRESETS, corpus_file, image_size, wait_until

# A bucket of its own: no other suite's reconciler or RGW notification sees these uploads, and
# these reconcilers (grace 0) never take another suite's.
RGW = {"IMGSVC_S3_ENDPOINT": "http://127.0.0.1:7480", "IMGSVC_S3_BUCKET": "imgsvc-test-reconcile",
       "IMGSVC_S3_ADDRESSING": "path", "AWS_REGION": "us-east-1",
       "AWS_ACCESS_KEY_ID": "IMGSVCTESTACCESSKEY0",
       "AWS_SECRET_ACCESS_KEY": "imgsvc-test-secret-key-0123456789abcdefgh"}
PHOTOS = ["photos/photo-00.jpg", "photos/photo-01.jpg", "photos/photo-02.jpg"]


def s3_client():
    import boto3  # Debian python3-boto3
    from botocore.config import Config
    s3 = boto3.client("s3", endpoint_url=RGW["IMGSVC_S3_ENDPOINT"], region_name="us-east-1",
                      aws_access_key_id=RGW["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=RGW["AWS_SECRET_ACCESS_KEY"],
                      config=Config(s3={"addressing_style": "path"},
                                    retries={"max_attempts": 2}))
    try:
        s3.create_bucket(Bucket=RGW["IMGSVC_S3_BUCKET"])
    except s3.exceptions.ClientError as ex:
        if ex.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    return s3


class ReconcileRgw(unittest.TestCase):
    def setUp(self):
        require_bin(self)
        self.paths = [corpus_file(self, p) for p in PHOTOS]
        self.s3 = s3_client()
        self.bucket = RGW["IMGSVC_S3_BUCKET"]
        self.feed = "rcg-" + uuid.uuid4().hex[:12]
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def put_temps(self, n=None):
        """PUTs every photo (or the first n) at a fresh temp key, straight to RGW; returns the
        keys."""
        keys = []
        for path in self.paths[:n]:
            key = f"delete/feed/{self.feed}/{uuid.uuid4()}_{int(time.time())}.jpeg"
            with open(path, "rb") as f:
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=f.read(),
                                   ContentType="image/jpeg")
            keys.append(key)
        return keys

    def manifest(self, temp_key):
        """The manifest of a temp key's upload, or None."""
        name = temp_key.rsplit("/", 1)[1].rsplit(".", 1)[0]
        key = f"feed/{self.feed}/manifest/{name}.json"
        try:
            return json.loads(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
        except self.s3.exceptions.NoSuchKey:
            return None

    def listed(self, prefix):
        r = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return [o["Key"] for o in r.get("Contents", [])]

    def check_variants(self, manifest, names):
        got = {v["name"]: v for v in manifest["variants"]}
        self.assertEqual(set(got), set(names))
        for v in got.values():
            data = self.s3.get_object(Bucket=self.bucket, Key=v["key"])["Body"].read()
            self.assertEqual((len(data), image_size(data)), (v["bytes"], (v["width"], v["height"])))

    def process_while_serving(self, keys):
        """Starts imgsvc with the reconciler on until every key is ready; returns manifests."""
        srv = Server(env=dict(RGW, IMGSVC_RECONCILE_INTERVAL_S="1", IMGSVC_RECONCILE_GRACE_S="0"))
        try:
            ok = wait_until(lambda: all(self.manifest(k) for k in keys), timeout=120, every=0.5)
        finally:
            self.assertEqual(srv.stop(), 0)
        self.assertTrue(ok, "not every upload became ready: " + "".join(srv.lines[-30:]))
        return [self.manifest(k) for k in keys]

    def test_uploads_made_while_stopped_are_ready_after_start(self):
        keys = self.put_temps()
        manifests = self.process_while_serving(keys)
        for m in manifests:
            self.assertEqual(m["status"], "ready")
            self.check_variants(m, ["1080", "640", "320"])
        self.assertEqual(self.listed(f"delete/feed/{self.feed}/"), [], "a temp was left")
        origins = self.listed(f"feed/{self.feed}/origin/")
        self.assertEqual(len(origins), len(keys))

    def test_an_event_rgw_could_not_push_is_found_by_the_reconciler(self):
        """A non-persistent topic (README, "Event notifications") whose push fails: RGW still
        answers the upload's PUT 200 and drops the event, and the reconciler makes the upload
        ready."""
        from rgwnotify import Recorder, Rgw
        rgw, rec = Rgw(), Recorder(status=503)
        name = "rcg-sync-" + uuid.uuid4().hex[:8]
        arn = rgw.create_topic(name, rec.url(), persistent=False)
        keys, pushed = [], set()
        try:
            rgw.set_notification(self.bucket, arn, name, prefix=f"delete/feed/{self.feed}/")
            # a new notification may take a moment to apply: PUT until one PUT's event came
            deadline = time.time() + 60
            while not pushed and time.time() < deadline:
                keys += self.put_temps(1)  # boto3 raises unless the PUT answers 200
                pushed = wait_until(lambda: {r["s3"]["object"]["key"]
                                             for r in rec.records()} & set(keys),
                                    timeout=2, every=0.1)
        finally:
            rgw.remove_notifications(self.bucket)
            rgw.delete_topic(arn)
            rec.close()
        self.assertTrue(pushed, "RGW never pushed an event")
        # refused (503), and nobody else took them: every temp is still there
        self.assertEqual(sorted(self.listed(f"delete/feed/{self.feed}/")), sorted(keys))
        for m in self.process_while_serving(keys):
            self.assertEqual(m["status"], "ready")
        self.assertEqual(self.listed(f"delete/feed/{self.feed}/"), [], "a temp was left")

    def reprocess(self, *args, env=None):
        rc, out, err = run_cli("reprocess", "--prefix", f"feed/{self.feed}/", *args,
                               env=dict(RGW, **(env or {})), timeout=180)
        lines = [json.loads(line) for line in out.splitlines() if line.strip()]
        return rc, lines, err

    def test_reprocess_cli_adds_a_preset_and_is_idempotent(self):
        keys = self.put_temps()
        before = self.process_while_serving(keys)
        presets = os.path.join(self.tmp.name, "presets.json")
        with open(presets, "w") as f:
            json.dump({"feed": FEED_PRESETS + [{"name": "200", "width": 200}]}, f)
        env = {"IMGSVC_PRESETS_FILE": presets}

        rc, lines, err = self.reprocess("--dry-run", env=env)
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(ln["outcome"] for ln in lines[:-1]), ["would_reprocess"] * 3)
        self.assertEqual((lines[-1]["summary"]["total"], lines[-1]["summary"]["would_reprocess"]),
                         (3, 3))
        self.assertEqual([self.manifest(k) for k in keys], before, "a dry run wrote something")

        rc, lines, err = self.reprocess("--concurrency", "2", env=env)
        self.assertEqual(rc, 0, err)
        per_key = lines[:-1]
        self.assertEqual(sorted(ln["outcome"] for ln in per_key), ["ready"] * 3, lines)
        self.assertEqual(lines[-1]["summary"]["ready"], 3)
        for k, old in zip(keys, before):
            m = self.manifest(k)
            self.check_variants(m, ["1080", "640", "320", "200"])
            v = [x for x in m["variants"] if x["name"] == "200"][0]
            self.assertEqual(v["width"], 200)
            self.assertEqual(m["origin"], old["origin"], "the origin block is kept")
            self.assertEqual(m["source"], old["source"], "the source block is kept")
            self.assertNotEqual(m["presets"], old["presets"])

        rc, lines, err = self.reprocess(env=env)
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(ln["outcome"] for ln in lines[:-1]), ["done_before"] * 3)
        self.assertEqual(lines[-1]["summary"]["done_before"], 3)
        rc, lines, err = self.reprocess("--dry-run", env=env)
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(ln["outcome"] for ln in lines[:-1]), ["done_before"] * 3)
        rc, lines, err = self.reprocess("--dry-run", "--force", env=env)
        self.assertEqual(lines[-1]["summary"]["would_reprocess"], 3)

    def test_reprocess_cli_interrupted_then_run_again_does_only_the_rest(self):
        """Resumable: a run killed (SIGKILL) once it has reported its first upload leaves the
        others behind; the next run skips what is done (done_before) and finishes the rest."""
        keys = self.put_temps()
        self.process_while_serving(keys)
        presets = os.path.join(self.tmp.name, "presets.json")
        with open(presets, "w") as f:
            json.dump({"feed": FEED_PRESETS + [{"name": "200", "width": 200}]}, f)
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMGSVC_")}
        env.update(RGW, IMGSVC_PRESETS_FILE=presets)
        p = subprocess.Popen([BIN, "reprocess", "--prefix", f"feed/{self.feed}/",
                              "--concurrency", "1"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
        try:
            first = json.loads(p.stdout.readline())
        finally:
            p.kill()
            p.wait(30)
            p.stdout.close()
        self.assertEqual(first["outcome"], "ready", first)
        rc, lines, err = self.reprocess(env={"IMGSVC_PRESETS_FILE": presets})
        self.assertEqual(rc, 0, err)
        outcomes = {ln["key"]: ln["outcome"] for ln in lines[:-1]}
        self.assertEqual(len(outcomes), 3, lines)
        self.assertEqual(outcomes[first["key"]], "done_before", lines)
        self.assertIn("ready", outcomes.values(), "the kill came after every upload was done")
        self.assertEqual(set(outcomes.values()), {"done_before", "ready"}, lines)
        for k in keys:
            self.check_variants(self.manifest(k), ["1080", "640", "320", "200"])

    def test_reprocess_route(self):
        keys = self.put_temps(1)
        self.process_while_serving(keys)
        presets = os.path.join(self.tmp.name, "presets.json")
        with open(presets, "w") as f:
            json.dump({"feed": FEED_PRESETS + [{"name": "200", "width": 200}]}, f)
        key = "reconcile-rgw-api-key-0123456789"
        srv = Server(env=dict(RGW, IMGSVC_PRESETS_FILE=presets, IMGSVC_API_KEYS=key,
                              IMGSVC_RECONCILE_INTERVAL_S="0"))
        try:
            def post(prefix, api_key=key):
                h = {"Content-Type": "application/json"}
                if api_key:
                    h["X-Api-Key"] = api_key
                return srv.json("POST", "/v1/objects/reprocess", json.dumps({"prefix": prefix}), h)
            status, _, err = post(f"feed/{self.feed}/", api_key=None)
            self.assertEqual((status, err["error"]["code"]), (401, "unauthenticated"))
            status, _, err = post(f"delete/feed/{self.feed}/")
            self.assertEqual((status, err["error"]["code"]), (400, "bad_prefix"))
            status, _, ans = post(f"feed/{self.feed}")
            self.assertEqual((status, ans["queued"], ans["prefix"]),
                             (202, 1, f"feed/{self.feed}/"))
            m = wait_until(lambda: (x := self.manifest(keys[0])) and
                           any(v["name"] == "200" for v in x["variants"]) and x, timeout=60)
        finally:
            self.assertEqual(srv.stop(), 0)
        self.assertTrue(m, "the manifest never listed the new size")
        self.check_variants(m, ["1080", "640", "320", "200"])

    def test_reprocess_cli_refusals(self):
        rc, _, err = run_cli("reprocess", "--prefix", "delete/feed/", env=RGW)
        self.assertEqual(rc, 2)
        self.assertIn("delete/", err)
        rc, _, err = run_cli("reprocess", env=RGW)
        self.assertEqual(rc, 2)
        self.assertIn("--prefix", err)
        rc, _, err = run_cli("reprocess", "--prefix", "feed/", "--concurrency", "0", env=RGW)
        self.assertEqual(rc, 2)
        rc, _, err = run_cli("reprocess", "--prefix", "feed/x/")  # the embedded store
        self.assertEqual(rc, 2)
        self.assertIn("IMGSVC_S3_ENDPOINT", err)


if __name__ == "__main__":
    unittest.main()
