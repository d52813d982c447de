#!/usr/bin/env python3
"""Ceph RGW bucket notifications for the pipeline tests and bench/pipeline (see ../shared/RGW.md).

RGW pushes ObjectCreated events to an HTTP endpoint through an SNS-style topic. This module
creates such a topic (a SigV4-signed form POST, service "sns", signed with botocore's signer),
points a bucket's notification at it (s3:ObjectCreated:*, key prefix delete/), and removes both
again. RGW's HTTP push cannot add headers, so the webhook token travels in the push URL:
http://127.0.0.1:PORT/v1/events/s3?token=T.

Tests share one RGW, and other tests PUT under delete/ of the shared bucket, so every user of
this module works in a bucket of its own (Rgw.make_bucket) with a topic of its own, and removes
both when done (Notifications does the topics and notifications; see its docstring).

What RGW 16 (pacific) does, measured on this machine with Recorder (below):
- one POST per object, body {"Records":[one record]}, Content-Type application/json, no other
  header of note; eventSource "ceph:s3", eventVersion "2.2", the key as written ("a+b 0.jpg"),
  awsRegion "", eTag and sequencer set, configurationId = the notification id;
- persistent=true: the PUT returns at once (the event is queued in RADOS); a fresh topic's
  queue is picked up at RGW's next queue-list refresh (3 to 26 s here, 30 s at most), then
  events arrive 15-130 ms after their PUT; a non-2xx answer or a refused connection is retried
  at once and without end (about 100 POSTs a second for one event while the endpoint answers
  503), and the queue is FIFO: nothing behind a failing head is delivered until it succeeds;
  entries keep the push URL they were queued with (re-creating the topic with another URL
  affects new events only); DeleteTopic drops the queue;
- persistent=false: the push happens inside the PUT (about 20 ms), once; a failure is lost.

Command line (bench/pipeline/run.sh uses it):
  rgwnotify.py subscribe BUCKET NAME URL     create the bucket (if missing), topic NAME-push
                                             -> URL and the notification, wait until it is
                                             live; prints the topic ARN
  rgwnotify.py unsubscribe BUCKET NAME       remove the notifications and the topic
  rgwnotify.py drop-bucket BUCKET            delete every object and the bucket
  rgwnotify.py recorder PORT FILE            an HTTP receiver appending each POST body to FILE
Environment: IMGSVC_RGW_ENDPOINT (default http://127.0.0.1:7480), AWS_REGION (us-east-1),
IMGSVC_RGW_ACCESS_KEY / IMGSVC_RGW_SECRET_KEY (scripts/rgw.sh's test keys by default).
"""
import hashlib
import http.server
import json
import os
import sys
import threading
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

ENDPOINT = os.environ.get("IMGSVC_RGW_ENDPOINT", "http://127.0.0.1:7480")  # rgw.sh
REGION = os.environ.get("AWS_REGION", "") or "us-east-1"
ACCESS_KEY = os.environ.get("IMGSVC_RGW_ACCESS_KEY", "IMGSVCTESTACCESSKEY0")
SECRET_KEY = os.environ.get("IMGSVC_RGW_SECRET_KEY", "imgsvc-test-secret-key-0123456789abcdefgh")
DEFAULT_PREFIX = "delete/"


def server_env(bucket):
    """The imgsvc settings that point `serve` at RGW and `bucket`."""
    return {"IMGSVC_S3_ENDPOINT": ENDPOINT, "IMGSVC_S3_BUCKET": bucket,
            "IMGSVC_S3_ADDRESSING": "path", "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}


def _strip_ns(xml_text):
    root = ET.fromstring(xml_text)
    for el in root.iter():
        if "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
    return root


class RgwError(RuntimeError):
    pass


class Rgw:
    """RGW's S3 API (a boto3 client, path-style) and its SNS-style topic API."""

    def __init__(self, endpoint=ENDPOINT, region=REGION, access_key=ACCESS_KEY,
                 secret_key=SECRET_KEY):
        import boto3  # Debian python3-boto3
        from botocore.config import Config
        self.endpoint, self.region = endpoint, region
        self.access_key, self.secret_key = access_key, secret_key
        self.s3 = boto3.client("s3", endpoint_url=endpoint, region_name=region,
                               aws_access_key_id=access_key, aws_secret_access_key=secret_key,
                               config=Config(s3={"addressing_style": "path"},
                                             retries={"max_attempts": 3},
                                             max_pool_connections=64))

    # --- topics (SNS-style API on the S3 endpoint) ---------------------------------------

    def signed(self, method, url, service, body=b"", headers=None, timeout=30, what=""):
        """One SigV4-signed request (botocore's signer); returns the reply body. RGW answers
        500 UnknownError now and then while topics change (its queue list is a read-modify-
        write object), so 5xx answers are retried up to 4 times. RgwError on an HTTP error."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        for attempt in range(5):
            req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
            if service == "s3":
                req.headers["x-amz-content-sha256"] = hashlib.sha256(body).hexdigest()
            SigV4Auth(Credentials(self.access_key, self.secret_key), service,
                      self.region).add_auth(req)
            prepared = req.prepare()
            r = urllib.request.Request(prepared.url, data=body or None, method=method,
                                       headers=dict(prepared.headers.items()))
            try:
                with urllib.request.urlopen(r, timeout=timeout) as resp:
                    return resp.read()
            except urllib.error.HTTPError as ex:
                text = ex.read()[:500]
                if ex.code < 500 or attempt == 4:
                    raise RgwError(f"{what or method}: HTTP {ex.code}: {text!r}") from None
            time.sleep(0.2 * 2 ** attempt)
        raise AssertionError("unreachable")

    def sns(self, params, timeout=30):
        """One signed form POST to RGW's topic API; returns the reply's XML root (namespaces
        stripped)."""
        body = urllib.parse.urlencode(params).encode()
        return _strip_ns(self.signed("POST", self.endpoint + "/", "sns", body,
                                     {"Content-Type": "application/x-www-form-urlencoded"},
                                     timeout, params.get("Action", "")))

    def create_topic(self, name, push_endpoint, persistent=True, extra=None):
        """Creates (or replaces: RGW overwrites a topic of the same name) topic `name` pushing
        to `push_endpoint`; returns its ARN."""
        attrs = {"push-endpoint": push_endpoint, "persistent": "true" if persistent else "false"}
        attrs.update(extra or {})
        params = {"Action": "CreateTopic", "Name": name}
        for i, (k, v) in enumerate(attrs.items(), 1):
            params[f"Attributes.entry.{i}.key"] = k
            params[f"Attributes.entry.{i}.value"] = v
        root = self.sns(params)
        arn = root.findtext(".//TopicArn")
        if not arn:
            raise RgwError("CreateTopic: no TopicArn in " + ET.tostring(root).decode())
        return arn

    def topic_arn(self, name):
        """The ARN RGW gives topic `name` (zonegroup "default", no tenant)."""
        return f"arn:aws:sns:default::{name}"

    def delete_topic(self, arn):
        """Deletes a topic (and, when persistent, its queue). Missing is fine."""
        try:
            self.sns({"Action": "DeleteTopic", "TopicArn": arn})
        except RgwError as ex:
            if "NotFound" not in str(ex) and "HTTP 404" not in str(ex):
                raise

    def list_topics(self):
        """Every topic ARN ListTopics shows (a notification's copy of its topic included)."""
        root = self.sns({"Action": "ListTopics"})
        return [el.text for el in root.iter("TopicArn")]

    def topic_names(self):
        """Every Name ListTopics shows; a notification's copy is named "<topic>_<id>"."""
        root = self.sns({"Action": "ListTopics"})
        return [m.findtext("Name") for m in root.iter("member") if m.findtext("Name")]

    # --- bucket notifications ------------------------------------------------------------

    def set_notification(self, bucket, topic_arn, config_id, prefix=DEFAULT_PREFIX,
                         events=("s3:ObjectCreated:*",)):
        """Points `bucket`'s notification `config_id` at `topic_arn` for keys under `prefix`.
        (RGW replaces a notification of the same id; the bucket's other ids stay.)"""
        conf = {"TopicConfigurations": [{
            "Id": config_id, "TopicArn": topic_arn, "Events": list(events),
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}}}]}
        self.s3.put_bucket_notification_configuration(Bucket=bucket,
                                                      NotificationConfiguration=conf)

    def get_notification(self, bucket):
        r = self.s3.get_bucket_notification_configuration(Bucket=bucket)
        return r.get("TopicConfigurations", [])

    def remove_notifications(self, bucket):
        """Removes every notification of `bucket` (RGW: DELETE /bucket?notification)."""
        try:
            self.signed("DELETE", f"{self.endpoint}/{bucket}?notification", "s3",
                        what="DELETE ?notification")
        except RgwError as ex:
            if "HTTP 404" not in str(ex):
                raise

    # --- buckets and objects -------------------------------------------------------------

    def make_bucket(self, bucket):
        try:
            self.s3.create_bucket(Bucket=bucket)
        except self.s3.exceptions.BucketAlreadyOwnedByYou:
            pass

    def keys(self, bucket, prefix=""):
        """Every key under `prefix` (ListObjectsV2, all pages)."""
        out = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                        Prefix=prefix):
            out += [o["Key"] for o in page.get("Contents", [])]
        return out

    def get(self, bucket, key):
        return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def exists(self, bucket, key):
        try:
            self.s3.head_object(Bucket=bucket, Key=key)
            return True
        except self.s3.exceptions.ClientError as ex:
            if ex.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def drop_bucket(self, bucket):
        """Deletes every object of `bucket` and the bucket itself. Missing is fine."""
        try:
            keys = self.keys(bucket)
        except self.s3.exceptions.NoSuchBucket:
            return
        for i in range(0, len(keys), 1000):
            chunk = [{"Key": k} for k in keys[i:i + 1000]]
            self.s3.delete_objects(Bucket=bucket, Delete={"Objects": chunk, "Quiet": True})
        try:
            self.s3.delete_bucket(Bucket=bucket)
        except self.s3.exceptions.NoSuchBucket:
            pass


class Notifications:
    """The ObjectCreated notifications of one bucket (keys under `prefix`), each pushed through
    a persistent topic of its own. Usage:

        n = Notifications(rgw, bucket, "t-1234")
        n.add("imgsvc", url)            # topic t-1234-imgsvc, notification id t-1234-imgsvc
        n.add("recorder", other_url)
        n.apply(wait_live=90)           # set them up; wait until RGW pushes from every topic
        ...
        n.point("imgsvc", new_url)      # re-target (a restarted server's new port)
        n.close()                       # remove the notifications and delete the topics

    Why wait_live: RGW 16 picks a new persistent topic's queue up only at its next queue-list
    refresh (every 30 s), so the first event of a fresh topic arrives 0-30 s late; and when
    topics are created concurrently (parallel test runs) its read-modify-write of the queue
    list can drop a queue, which then never delivers. apply() first points every topic at a
    private recorder and PUTs probe objects under the prefix until each topic has delivered
    every probe (a topic still silent after 40 s is deleted and created again), deletes the
    probes, then points the topics at their real URLs: from then on events arrive within tens
    of milliseconds.

    A bucket notification keeps a copy of its topic (endpoint included), so re-targeting means
    re-creating the topic AND putting the bucket's notification configuration again."""

    STALL_S = 40  # a topic silent this long (> one queue-list refresh) is re-created

    def __init__(self, rgw, bucket, name, prefix=DEFAULT_PREFIX, persistent=True):
        self.rgw, self.bucket, self.name = rgw, bucket, name
        self.prefix, self.persistent = prefix, persistent
        self.urls = {}  # short name -> push URL
        self.arns = {}  # short name -> topic ARN
        self.kinds = {}  # short name -> (events, persistent)

    def topic(self, short):
        return f"{self.name}-{short}"

    def add(self, short, url, events=("s3:ObjectCreated:*",), persistent=None):
        """Adds topic `short` pushing `events` (default ObjectCreated) to `url`; persistent
        defaults to the object's setting. A non-persistent topic pushes inside the S3 request
        that caused the event (no queue, nothing to wait for, a failure is lost)."""
        self.urls[short] = url
        self.kinds[short] = (list(events), self.persistent if persistent is None else persistent)

    def _live_checked(self, short):
        events, persistent = self.kinds[short]
        return persistent and "s3:ObjectCreated:*" in events

    def _create(self, short, url):
        self.arns[short] = self.rgw.create_topic(self.topic(short), url, self.kinds[short][1])

    def _set(self):
        conf = {"TopicConfigurations": [{
            "Id": self.topic(s), "TopicArn": arn, "Events": self.kinds[s][0],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": self.prefix}]}}}
            for s, arn in self.arns.items()]}
        self.rgw.s3.put_bucket_notification_configuration(Bucket=self.bucket,
                                                          NotificationConfiguration=conf)

    def apply(self, wait_live=0):
        """Creates the topics and the bucket's notifications. With wait_live > 0 (seconds),
        returns only once every topic delivers (RgwError when one does not in time)."""
        if wait_live > 0 and any(self._live_checked(s) for s in self.urls):
            self._wait_live(wait_live)
        for short, url in self.urls.items():
            self._create(short, url)
        self._set()

    def _wait_live(self, timeout):
        # Every probe must reach every topic before the recorder closes: a persistent queue is
        # FIFO and RGW retries its head forever, so one undelivered probe would block the topic.
        rec = Recorder()
        probes = []
        checked = [s for s in self.urls if self._live_checked(s)]
        try:
            for short in checked:
                self._create(short, rec.url("/probe/" + short))
            self._set()
            deadline = time.time() + timeout
            since = time.time()
            while True:
                key = f"{self.prefix}_probe/{self.name}-{len(probes)}"
                self.rgw.s3.put_object(Bucket=self.bucket, Key=key, Body=b"probe")
                probes.append(key)
                want = {("/probe/" + s, k) for s in checked for k in probes}
                if rec.wait_for_pairs(want, min(10, max(0.1, deadline - time.time()))):
                    break
                if time.time() >= deadline:
                    raise RgwError(f"topics of {self.name} did not deliver within {timeout} s")
                if time.time() - since > self.STALL_S:
                    self._recreate_silent(rec, probes)
                    since = time.time()
        finally:
            rec.close()
            for key in probes:
                self.rgw.s3.delete_object(Bucket=self.bucket, Key=key)

    def _recreate_silent(self, rec, probes):
        """Deletes and re-creates every topic that has not delivered all probes yet (its queue
        and the probes in it go; the probes are PUT again by the caller's loop)."""
        got = rec.pairs()
        for short in [s for s in self.urls if self._live_checked(s)]:
            if not all(("/probe/" + short, k) in got for k in probes):
                self.rgw.delete_topic(self.arns[short])
                self._create(short, rec.url("/probe/" + short))
        self._set()
        for k in probes:  # what was lost with the queues, again
            self.rgw.s3.put_object(Bucket=self.bucket, Key=k, Body=b"probe")

    def point(self, short, url):
        """Re-targets topic `short` at another push endpoint (the topic re-created, then the
        bucket's notifications put again). Events already queued keep their old endpoint."""
        self.urls[short] = url
        self._create(short, url)
        self._set()

    def close(self):
        """Removes the bucket's notifications and deletes the topics (and their queues), then
        sweeps what RGW left behind under this name (a notification's copy of its topic shows
        in ListTopics as "<topic>_<id>" and sometimes outlives the notification)."""
        try:
            self.rgw.remove_notifications(self.bucket)
        finally:
            for short in list(self.urls):
                self.rgw.delete_topic(self.arns.get(short) or self.rgw.topic_arn(self.topic(short)))
            self.arns.clear()
            for name in self.rgw.topic_names():
                if name.startswith(self.name + "-"):
                    self.rgw.delete_topic(self.rgw.topic_arn(name))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class Recorder:
    """A tiny HTTP receiver: every POST body is kept (with its path and arrival time); answers
    `status` (settable) to each. For checking what RGW sends and capturing real records."""

    def __init__(self, port=0, status=200):
        self.status = status
        self.posts = []  # (time, path, headers dict, body bytes)
        self.cond = threading.Condition()
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with rec.cond:
                    rec.posts.append((time.time(), self.path, dict(self.headers), body))
                    rec.cond.notify_all()
                self.send_response(rec.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_HEAD(self):
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/v1/events/s3"):
        return f"http://127.0.0.1:{self.port}{path}"

    def records(self):
        out = []
        for _, _, _, body in list(self.posts):
            try:
                out += json.loads(body).get("Records", [])
            except ValueError:
                pass
        return out

    def wait_for(self, pred, timeout):
        """Waits until pred(records) is true; returns whether it became true."""
        deadline = time.time() + timeout
        with self.cond:
            while not pred(self.records()):
                left = deadline - time.time()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.5))
        return True

    def pairs(self):
        """{(path without query, object key)} of every record received."""
        out = set()
        for _, path, _, body in list(self.posts):
            try:
                recs = json.loads(body).get("Records", [])
            except ValueError:
                continue
            out |= {(path.split("?", 1)[0], r["s3"]["object"]["key"]) for r in recs}
        return out

    def wait_for_pairs(self, pairs, timeout):
        """Waits until every (path, key) of `pairs` was received; returns whether it was."""
        deadline = time.time() + timeout
        with self.cond:
            while not set(pairs) <= self.pairs():
                left = deadline - time.time()
                if left <= 0:
                    return False
                self.cond.wait(min(left, 0.5))
        return True

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "recorder" and len(args) == 2:
        rec = Recorder(int(args[0]))
        print(rec.port, flush=True)
        with open(args[1], "ab") as f:
            seen = 0
            while True:
                time.sleep(0.2)
                for _, path, _, body in rec.posts[seen:]:
                    f.write(body + b"\n")
                    seen += 1
                f.flush()
    rgw = Rgw()
    if cmd == "subscribe" and len(args) == 3:
        rgw.make_bucket(args[0])
        n = Notifications(rgw, args[0], args[1])
        n.add("push", args[2])
        n.apply(wait_live=90)
        print(n.arns["push"])
    elif cmd == "unsubscribe" and len(args) == 2:
        n = Notifications(rgw, args[0], args[1])
        n.add("push", "")
        n.close()
    elif cmd == "drop-bucket" and len(args) == 1:
        rgw.drop_bucket(args[0])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
