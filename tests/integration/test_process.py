"""`imgsvc process`: the event handler run once on an event document, against Ceph RGW (the `rgw`
fixture) with corpus photos (the `imaging_corpus` fixture). A photo PUT at a temp key and an
event naming it, shaped as Ceph RGW sends it (key as written) or as AWS does (key URL-encoded),
end ready: the manifest and every variant are in the bucket and the temp is gone; the same
event again is done_before; a hostile file is failed (exit 1); a malformed event or missing
settings exit 2 with a message. Also the SNS / SQS / Lambda-SNS envelopes and --key, and the
order of the writes as a recording proxy sees them (outputs, then the manifest, then the temp's
DELETE)."""
# ctest-fixtures: imaging_corpus rgw
import datetime
import json
import os
import tempfile
import time
import unittest
import urllib.parse
import uuid

from faultproxy import FaultProxy
from harness import require_bin, run_cli

# A bucket of these tests' own: other suites configure notifications (and run reconcilers) on
# the fixture's bucket imgsvc-test, and would process these uploads before the command does.
RGW = {"IMGSVC_S3_ENDPOINT": "http://127.0.0.1:7480", "IMGSVC_S3_BUCKET": "imgsvc-test-oneshot",
       "IMGSVC_S3_ADDRESSING": "path", "AWS_REGION": "us-east-1",
       "AWS_ACCESS_KEY_ID": "IMGSVCTESTACCESSKEY0",
       "AWS_SECRET_ACCESS_KEY": "imgsvc-test-secret-key-0123456789abcdefgh"}
CORPUS = os.environ.get("IMGSVC_CORPUS_DIR", "")


def s3_client():
    """A boto3 client of RGW; the tests' bucket is created when missing."""
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
        if ex.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou",
                                                "BucketAlreadyExists"):
            raise
    return s3


def corpus_file(test, rel):
    path = os.path.join(CORPUS, rel)
    if not CORPUS or not os.path.isfile(path):
        test.skipTest(f"corpus file {rel} not found under IMGSVC_CORPUS_DIR={CORPUS!r} "
                      "(../shared is absent or the imaging_corpus fixture did not run)")
    return path


def temp_key(feed_id, ext="jpeg"):
    return f"delete/feed/{feed_id}/{uuid.uuid4()}_{int(time.time())}.{ext}"


def put_temp(s3, key, path):
    """PUTs a file at `key`; returns (size, etag without quotes)."""
    with open(path, "rb") as f:
        data = f.read()
    r = s3.put_object(Bucket=RGW["IMGSVC_S3_BUCKET"], Key=key, Body=data,
                      ContentType="image/jpeg")
    return len(data), r["ETag"].strip('"')


def s3_record(source, key, size, etag, bucket=None):
    """One ObjectCreated:Put record as `source` ("ceph:s3" or "aws:s3") sends it; the key must
    already be encoded the way that source encodes it."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    rec = {"eventVersion": "2.2" if source == "ceph:s3" else "2.1", "eventSource": source,
           "awsRegion": "us-east-1", "eventTime": now, "eventName": "ObjectCreated:Put",
           "userIdentity": {"principalId": "imgsvc-test"},
           "requestParameters": {"sourceIPAddress": "127.0.0.1"},
           "responseElements": {"x-amz-request-id": "test", "x-amz-id-2": "test"},
           "s3": {"s3SchemaVersion": "1.0", "configurationId": "imgsvc",
                  "bucket": {"name": bucket or RGW["IMGSVC_S3_BUCKET"],
                             "ownerIdentity": {"principalId": "imgsvc-test"},
                             "arn": "arn:aws:s3:::" + (bucket or RGW["IMGSVC_S3_BUCKET"])},
                  "object": {"key": key, "size": size, "eTag": etag,
                             "sequencer": "%016X" % time.time_ns()}}}
    if source == "ceph:s3":
        rec["eventId"] = "1700000000.000000." + etag
        rec["opaqueData"] = ""
    return rec


def aws_encode(key):
    """AWS URL-encodes keys; '_' written as %5F is a valid encoding a literal reading gets
    wrong, so decoding per source is really exercised."""
    return key.replace("_", "%5F")


class Process(unittest.TestCase):
    def setUp(self):
        require_bin(self)
        self.photo = corpus_file(self, "photos/photo-00.jpg")
        self.s3 = s3_client()
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, doc, name="event.json"):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(doc if isinstance(doc, str) else json.dumps(doc))
        return path

    def process(self, *args, env=None, timeout=120):
        rc, out, err = run_cli("process", *args, env=dict(RGW, **(env or {})), timeout=timeout)
        doc = json.loads(out) if rc in (0, 1) else None
        return rc, doc, err

    def exists(self, key):
        try:
            self.s3.head_object(Bucket=RGW["IMGSVC_S3_BUCKET"], Key=key)
            return True
        except self.s3.exceptions.ClientError as ex:
            if ex.response["Error"]["Code"] in ("404", "NoSuchKey"):
                return False
            raise

    def manifest(self, key):
        body = self.s3.get_object(Bucket=RGW["IMGSVC_S3_BUCKET"], Key=key)["Body"].read()
        return json.loads(body)

    def assert_ready(self, result, key):
        self.assertEqual(result["outcome"], "ready", result)
        self.assertEqual(result["key"], key)
        upload_id = key.rsplit("/", 1)[1].rsplit(".", 1)[0]
        self.assertEqual(result["uploadId"], upload_id)
        feed = key.split("/")[2]
        self.assertEqual(result["manifestKey"], f"feed/{feed}/manifest/{upload_id}.json")
        m = self.manifest(result["manifestKey"])
        self.assertGreaterEqual(len(m["variants"]), 1)
        self.assertEqual(result["variants"], len(m["variants"]))
        for v in m["variants"]:
            head = self.s3.head_object(Bucket=RGW["IMGSVC_S3_BUCKET"], Key=v["key"])
            self.assertEqual(head["ContentLength"], v["bytes"], v["key"])
            self.assertFalse(v["key"].startswith("delete/"))
        self.assertTrue(self.exists(m["origin"]["key"]))
        self.assertFalse(self.exists(key), "the temp object must be gone")

    def run_event(self, source, encode):
        key = temp_key("proc-" + source.split(":")[0])
        size, etag = put_temp(self.s3, key, self.photo)
        event = {"Records": [s3_record(source, encode(key), size, etag)]}
        if source == "minio:s3":  # "s3:" before the event name, outer EventName and Key
            event["Records"][0]["eventName"] = "s3:ObjectCreated:Put"
            event = {"EventName": "s3:ObjectCreated:Put",
                     "Key": RGW["IMGSVC_S3_BUCKET"] + "/" + key, **event}
        path = self.write(event)
        rc, doc, err = self.process(path)
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(doc["results"]), 1, doc)
        self.assert_ready(doc["results"][0], key)
        # the same event again: a successful no-op
        rc, doc, err = self.process(path)
        self.assertEqual(rc, 0, err)
        self.assertEqual(doc["results"][0]["outcome"], "done_before", doc)
        self.assertEqual(doc["results"][0]["key"], key)

    def test_ceph_event_is_processed_then_done_before(self):
        self.run_event("ceph:s3", lambda k: k)

    def test_aws_event_with_encoded_key_is_processed_then_done_before(self):
        self.run_event("aws:s3", aws_encode)

    def test_minio_event_with_query_escaped_key_is_processed_then_done_before(self):
        self.run_event("minio:s3", lambda k: urllib.parse.quote_plus(k))

    def test_writes_in_order_manifest_after_outputs_temp_deleted_last(self):
        """Through a recording proxy (tests/integration/faultproxy.py, no faults): every
        variant and the origin answered before the manifest's PUT was sent, the manifest
        answered before the temp's DELETE was sent, and nothing written after the manifest."""
        key = temp_key("proc-order")
        size, etag = put_temp(self.s3, key, self.photo)
        proxy = FaultProxy(("127.0.0.1", 7480))
        try:
            rc, doc, err = self.process(self.write({"Records": [s3_record("ceph:s3", key, size,
                                                                          etag)]}),
                                        env={"IMGSVC_S3_ENDPOINT": proxy.url})
        finally:
            proxy.close()
        self.assertEqual(rc, 0, err)
        self.assert_ready(doc["results"][0], key)
        m = self.manifest(doc["results"][0]["manifestKey"])
        prefix = "/" + RGW["IMGSVC_S3_BUCKET"] + "/"

        def calls(method, k):
            return [e for e in proxy.journal if e["method"] == method and
                    urllib.parse.unquote(e["target"].split("?")[0]) == prefix + k]

        outputs = [v["key"] for v in m["variants"]] + [m["origin"]["key"]]
        manifest_put = calls("PUT", doc["results"][0]["manifestKey"])
        self.assertEqual(len(manifest_put), 1, proxy.journal)
        for k in outputs:
            puts = calls("PUT", k)
            self.assertEqual([e["status"] for e in puts], [200], k)
            self.assertLess(puts[0]["t_out"], manifest_put[0]["t_in"],
                            f"{k} was not answered before the manifest's PUT was sent")
        delete = calls("DELETE", key)
        self.assertEqual([e["status"] for e in delete], [204], proxy.journal)
        self.assertLess(manifest_put[0]["t_out"], delete[0]["t_in"],
                        "the temp was deleted before the manifest was written")
        later = [e for e in proxy.journal if e["method"] in ("PUT", "POST", "DELETE") and
                 e["t_in"] > manifest_put[0]["t_in"]]
        self.assertEqual(later, delete, "only the temp's DELETE comes after the manifest")
        # the records were looked for with a HEAD each (404: not read), never a GET
        failed_key = f"failed/{doc['results'][0]['manifestKey'].replace('/manifest/', '/')}"
        for k in (doc["results"][0]["manifestKey"], failed_key):
            self.assertEqual([e["status"] for e in calls("HEAD", k)], [404], k)
            self.assertEqual(calls("GET", k), [], k)

    def process_via_proxy(self, keys, answer=None):
        """Puts nothing; processes one event with a record per (key, size, etag) through a
        recording proxy; returns (results, journal)."""
        proxy = FaultProxy(("127.0.0.1", 7480), answer=answer)
        try:
            rc, doc, err = self.process(self.write({"Records": [
                s3_record("ceph:s3", k, size, etag) for k, size, etag in keys]}),
                env={"IMGSVC_S3_ENDPOINT": proxy.url})
        finally:
            proxy.close()
        self.assertEqual(rc, 0, err)
        return doc["results"], proxy.journal

    def origin_requests(self, journal, origin_key):
        path = "/" + RGW["IMGSVC_S3_BUCKET"] + "/" + origin_key
        return [e for e in journal if e["method"] == "PUT" and
                urllib.parse.unquote(e["target"].split("?")[0]) == path]

    def gps_free_photo(self):
        """A corpus photo as imgsvc stores its origin (location removed, nothing else changed):
        an upload that has nothing to remove. Every corpus photo has a location."""
        key = temp_key("proc-gps")
        size, etag = put_temp(self.s3, key, self.photo)
        results, journal = self.process_via_proxy([(key, size, etag)])
        self.assert_ready(results[0], key)
        m = self.manifest(results[0]["manifestKey"])
        self.assertTrue(m["origin"]["gpsRemoved"], m["origin"])
        # that origin was PUT with its bytes: it differs from the upload
        puts = self.origin_requests(journal, m["origin"]["key"])
        self.assertEqual([(e["status"], "x-amz-copy-source" in e["headers"],
                           int(e["headers"]["content-length"])) for e in puts],
                         [(200, False, m["origin"]["bytes"])])
        got = self.s3.get_object(Bucket=RGW["IMGSVC_S3_BUCKET"], Key=m["origin"]["key"])
        return got["Body"].read()

    def test_origin_equal_to_the_upload_is_copied_on_the_server(self):
        """An upload with no location to remove: its origin is a CopyObject of the temp,
        conditional on the ETag the variants were made from; no bytes travel again."""
        data = self.gps_free_photo()
        key = temp_key("proc-copy")
        path = os.path.join(self.tmp.name, "clean.jpg")
        with open(path, "wb") as f:
            f.write(data)
        size, etag = put_temp(self.s3, key, path)
        results, journal = self.process_via_proxy([(key, size, etag)])
        self.assert_ready(results[0], key)
        m = self.manifest(results[0]["manifestKey"])
        self.assertFalse(m["origin"]["gpsRemoved"])
        reqs = self.origin_requests(journal, m["origin"]["key"])
        self.assertEqual(len(reqs), 1, journal)
        h = reqs[0]["headers"]
        self.assertEqual((reqs[0]["status"], h["content-length"]), (200, "0"))
        self.assertEqual(urllib.parse.unquote(h["x-amz-copy-source"]),
                         f"/{RGW['IMGSVC_S3_BUCKET']}/{key}")
        self.assertEqual((h["x-amz-copy-source-if-match"], h["x-amz-metadata-directive"]),
                         (etag, "REPLACE"))
        got = self.s3.get_object(Bucket=RGW["IMGSVC_S3_BUCKET"], Key=m["origin"]["key"])
        self.assertEqual(got["Body"].read(), data)
        self.assertEqual((got["ContentType"], got["CacheControl"], got["Metadata"]),
                         ("image/jpeg", "public, max-age=31536000, immutable", {}))
        self.assertFalse(self.exists(key))

    def test_origin_copy_refused_or_of_another_version_is_uploaded(self):
        """A store without CopyObject (501): the origin is PUT with its bytes, and the next
        uploads of the process do not try copying again. A copy whose ETag is not the upload's
        (a store that ignored the condition and copied a newer upload): the bytes are PUT over
        it; after three such copies in a row the process only PUTs."""
        data = self.gps_free_photo()
        path = os.path.join(self.tmp.name, "clean.jpg")
        with open(path, "wb") as f:
            f.write(data)
        for reply, uploads, copies in (
                ((501, b"<Error><Code>NotImplemented</Code><Message>no</Message></Error>"), 2, 1),
                ((200, b"<CopyObjectResult><ETag>&quot;0123456789abcdef0123456789abcdef&quot;"
                       b"</ETag></CopyObjectResult>"), 4, 3)):
            keys = []
            for _ in range(uploads):
                k = temp_key("proc-nocopy")
                keys.append((k, *put_temp(self.s3, k, path)))
            results, journal = self.process_via_proxy(
                keys, answer=lambda e: reply if "x-amz-copy-source" in e["headers"] else None)
            tried = [e for e in journal if "x-amz-copy-source" in e["headers"]]
            self.assertEqual(len(tried), copies, reply)
            for (k, _, _), r in zip(keys, results):
                self.assert_ready(r, k)
                m = self.manifest(r["manifestKey"])
                reqs = self.origin_requests(journal, m["origin"]["key"])
                bodies = [e for e in reqs if "x-amz-copy-source" not in e["headers"]]
                self.assertEqual([(e["status"], int(e["headers"]["content-length"]))
                                  for e in bodies], [(200, len(data))], reply)
                got = self.s3.get_object(Bucket=RGW["IMGSVC_S3_BUCKET"], Key=m["origin"]["key"])
                self.assertEqual(got["Body"].read(), data)

    def test_event_from_standard_input(self):
        key = temp_key("proc-stdin")
        size, etag = put_temp(self.s3, key, self.photo)
        event = json.dumps({"Records": [s3_record("ceph:s3", key, size, etag)]})
        import subprocess
        from harness import BIN
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMGSVC_")}
        env.update(RGW)
        p = subprocess.run([BIN, "process", "-"], input=event, env=env, capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assert_ready(json.loads(p.stdout)["results"][0], key)

    def test_hostile_file_is_failed_with_exit_1(self):
        hostile = corpus_file(self, "hostile/truncated.jpg")
        key = temp_key("proc-hostile")
        size, etag = put_temp(self.s3, key, hostile)
        rc, doc, err = self.process(self.write({"Records": [s3_record("ceph:s3", key, size,
                                                                      etag)]}))
        self.assertEqual(rc, 1, err)
        r = doc["results"][0]
        self.assertEqual((r["outcome"], r["key"]), ("failed", key), r)
        self.assertNotEqual(r["reason"], "")
        self.assertFalse(self.exists(key), "a failed upload's temp is deleted")
        failed_key = "failed/feed/proc-hostile/" + r["uploadId"] + ".json"
        self.assertEqual(self.manifest(failed_key)["error"]["code"], r["reason"])
        # and again: the failure is final, not redone
        rc, doc, err = self.process(self.write({"Records": [s3_record("ceph:s3", key, size,
                                                                      etag)]}))
        self.assertEqual((rc, doc["results"][0]["outcome"]), (0, "done_before"), err)

    def test_a_temp_made_by_copy_is_failed_not_processed(self):
        """An ObjectCreated:Copy record for the temp's very version: not an upload (on RGW a
        presigned upload URL can be turned into a copy, docs/security.md): a failed record
        copied_object, the temp deleted, nothing made. A Copy record for an older version (the
        temp uploaded over since) does not stop the upload now there."""
        key = temp_key("proc-copied")
        size, etag = put_temp(self.s3, key, self.photo)
        rec = s3_record("ceph:s3", key, size, etag)
        rec["eventName"] = "ObjectCreated:Copy"
        rc, doc, err = self.process(self.write({"Records": [rec]}))
        self.assertEqual(rc, 1, err)
        r = doc["results"][0]
        self.assertEqual((r["outcome"], r["reason"]), ("failed", "copied_object"), r)
        self.assertFalse(self.exists(key))
        feed = key.split("/")[2]
        self.assertEqual(self.manifest(f"failed/feed/{feed}/{r['uploadId']}.json")["error"]
                         ["code"], "copied_object")
        for k in (f"feed/{feed}/manifest/{r['uploadId']}.json",
                  f"feed/{feed}/origin/{r['uploadId']}.jpeg"):
            self.assertFalse(self.exists(k), k)

        key = temp_key("proc-copied-then-put")
        size, etag = put_temp(self.s3, key, self.photo)
        rec = s3_record("ceph:s3", key, size, "0123456789abcdef0123456789abcdef")
        rec["eventName"] = "ObjectCreated:Copy"
        rc, doc, err = self.process(self.write({"Records": [rec]}))
        self.assertEqual(rc, 0, err)
        self.assert_ready(doc["results"][0], key)

    def test_envelopes_sns_sqs_and_lambda_sns_are_unwrapped(self):
        keys, records = [], []
        for i in range(3):
            key = temp_key("proc-env")
            size, etag = put_temp(self.s3, key, self.photo)
            keys.append(key)
            records.append({"Records": [s3_record("aws:s3", aws_encode(key), size, etag)]})
        sns_http = {"Type": "Notification", "MessageId": str(uuid.uuid4()),
                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:imgsvc",
                    "Subject": "Amazon S3 Notification", "Message": json.dumps(records[0]),
                    "Timestamp": "2026-11-24T12:00:00.000Z", "SignatureVersion": "1",
                    "Signature": "AAAA", "SigningCertURL":
                    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
                    "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"}
        sqs = {"Records": [{"messageId": str(uuid.uuid4()), "eventSource": "aws:sqs",
                            "body": json.dumps(records[1])}]}
        lambda_sns = {"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
                                   "Sns": {"Type": "Notification",
                                           "Message": json.dumps(records[2])}}]}
        for doc, key in zip((sns_http, sqs, lambda_sns), keys):
            rc, out, err = self.process(self.write(doc))
            self.assertEqual(rc, 0, err)
            self.assertEqual([r["outcome"] for r in out["results"]], ["ready"], out)
            self.assertEqual(out["results"][0]["key"], key)

    def test_key_option_processes_a_temp_key_without_event(self):
        key = temp_key("proc-key")
        put_temp(self.s3, key, self.photo)
        rc, doc, err = self.process("--key", key)
        self.assertEqual(rc, 0, err)
        self.assert_ready(doc["results"][0], key)

    def test_records_not_for_us_are_ignored(self):
        size, etag = 10, "0" * 32
        event = {"Records": [s3_record("ceph:s3", temp_key("proc-other"), size, etag,
                                       bucket="another-bucket"),
                             s3_record("ceph:s3", "feed/x/320/not-a-temp.jpeg", size, etag)]}
        rc, doc, err = self.process(self.write(event))
        self.assertEqual(rc, 0, err)
        self.assertEqual([r["outcome"] for r in doc["results"]], ["ignored", "ignored"], doc)
        test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent",
                      "Time": "2026-11-24T12:00:00.000Z", "Bucket": "imgsvc-test",
                      "RequestId": "X", "HostId": "Y"}
        rc, doc, err = self.process(self.write(test_event))
        self.assertEqual((rc, doc), (0, {"results": [], "testEvent": True}), err)

    def test_bad_event_exits_2_with_a_message(self):
        cases = {"not json": "{\"Records\": [",
                 "no records": json.dumps({"hello": "world"}),
                 "record without key": json.dumps({"Records": [{
                     "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                     "s3": {"bucket": {"name": "imgsvc-test"}, "object": {}}}]}),
                 "SQS body not an event": json.dumps({"Records": [{"body": "[1,2]"}]})}
        for name, text in cases.items():
            rc, _, err = self.process(self.write(text))
            self.assertEqual(rc, 2, name)
            self.assertIn("event", err, name)
        rc, _, err = self.process(os.path.join(self.tmp.name, "missing.json"))
        self.assertEqual(rc, 2)
        self.assertIn("missing.json", err)

    def test_usage_and_settings_errors_exit_2(self):
        rc, out, err = run_cli("process", "--help", env=RGW)
        self.assertEqual(rc, 0)
        self.assertIn("--key", out)
        for args in ((), ("a.json", "b.json"), ("--key",), ("--bogus", "x")):
            rc, out, err = run_cli("process", *args, env=RGW)
            self.assertEqual(rc, 2, args)
            self.assertIn("imgsvc process", err, args)
        # no endpoint: there is no embedded store to talk to outside `imgsvc serve`
        no_endpoint = dict(RGW, IMGSVC_S3_ENDPOINT="")
        rc, out, err = run_cli("process", self.write({"Records": []}), env=no_endpoint)
        self.assertEqual((rc, out), (2, ""))
        self.assertIn("IMGSVC_S3_ENDPOINT", err)
        rc, out, err = run_cli("process", "x.json", env=dict(RGW, IMGSVC_EVENTS_MAX_BYTES="1"))
        self.assertEqual(rc, 2)
        self.assertIn("IMGSVC_EVENTS_MAX_BYTES", err)

    def test_oversized_event_and_too_many_records_exit_2(self):
        big = self.write("{\"Records\":[]" + " " * 5000 + "}")
        rc, _, err = self.process(big, env={"IMGSVC_EVENTS_MAX_BYTES": "4096"})
        self.assertEqual(rc, 2)
        self.assertIn("IMGSVC_EVENTS_MAX_BYTES", err)
        recs = [s3_record("ceph:s3", temp_key("proc-many"), 1, "0" * 32) for _ in range(3)]
        rc, _, err = self.process(self.write({"Records": recs}),
                                  env={"IMGSVC_EVENTS_MAX_RECORDS": "2"})
        self.assertEqual(rc, 2)
        self.assertIn("records", err)


if __name__ == "__main__":
    unittest.main()
