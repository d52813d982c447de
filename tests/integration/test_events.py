"""POST /v1/events/s3 against the real binary: real-shaped AWS, Ceph RGW and MinIO bodies, the
s3:TestEvent, the shared token (Bearer header and ?token=), refusals (401, 400, 413), the queue
full answer (503 + Retry-After), the token never logged, and SNS deliveries signed with a test
CA's certificates served by a local HTTPS server (snslib.py): SignatureVersion 1 and 2, bad
signatures, certificate URLs refused before any fetch, and subscriptions confirmed exactly once
and only after verification."""
import json
import re
import threading
import unittest
import urllib.parse
import uuid

import snslib
from harness import Server, require_bin

TOKEN = "ev-" + "t0k3n" * 5 + "-secret"
API_KEY = "k" * 20 + "-internal"
BUCKET = "imgsvc"


def temp_key(domain_path="profile/42"):
    return f"delete/{domain_path}/{uuid.uuid4()}_1700000000.jpeg"


def aws_body(key, bucket=BUCKET, name="ObjectCreated:Put", n=1):
    rec = {"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
           "eventTime": "2026-11-24T12:00:00.000Z", "eventName": name,
           "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
           "requestParameters": {"sourceIPAddress": "203.0.113.9"},
           "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810",
                                "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWe"},
           "s3": {"s3SchemaVersion": "1.0", "configurationId": "imgsvc-uploads",
                  "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                             "arn": f"arn:aws:s3:::{bucket}"},
                  "object": {"key": urllib.parse.quote_plus(key, safe="/"), "size": 48213,
                             "eTag": "0123456789abcdef0123456789abcdef",
                             "sequencer": "0055AED6DCD90281E5"}}}
    return json.dumps({"Records": [rec] * n})


def ceph_body(key, bucket=BUCKET):
    rec = {"eventVersion": "2.2", "eventSource": "ceph:s3", "awsRegion": "",
           "eventTime": "2026-11-24T12:00:00.000000Z", "eventName": "ObjectCreated:Put",
           "userIdentity": {"principalId": "imgsvc"},
           "requestParameters": {"sourceIPAddress": ""},
           "responseElements": {"x-amz-request-id": "4c3b1f2e.4137.9", "x-amz-id-2": "1029-z"},
           "s3": {"s3SchemaVersion": "1.0", "configurationId": "imgsvc-uploads",
                  "bucket": {"name": bucket, "ownerIdentity": {"principalId": "imgsvc"},
                             "arn": f"arn:aws:s3:::{bucket}", "id": "4c3b1f2e.4137.1"},
                  "object": {"key": key, "size": 48213, "eTag": "0123456789abcdef",
                             "versionId": "", "sequencer": "61A1F4657B1E2C06",
                             "metadata": [], "tags": []}},
           "eventId": "1637967973.123456.0123456789abcdef", "opaqueData": ""}
    return json.dumps({"Records": [rec]})


def minio_body(key, bucket=BUCKET):
    escaped = urllib.parse.quote_plus(key)  # Go's url.QueryEscape: '/' as %2F, ' ' as '+'
    rec = {"eventVersion": "2.0", "eventSource": "minio:s3", "awsRegion": "",
           "eventTime": "2026-11-24T12:00:00.000Z", "eventName": "s3:ObjectCreated:Put",
           "userIdentity": {"principalId": "minioadmin"},
           "requestParameters": {"principalId": "minioadmin", "region": "",
                                 "sourceIPAddress": "127.0.0.1"},
           "responseElements": {"x-amz-id-2": "dd9025bab4ad464b", "x-amz-request-id":
                                "17B9A2C1D2E3F4A5", "x-minio-origin-endpoint":
                                "http://127.0.0.1:9000"},
           "s3": {"s3SchemaVersion": "1.0", "configurationId": "Config",
                  "bucket": {"name": bucket, "ownerIdentity": {"principalId": "minioadmin"},
                             "arn": f"arn:aws:s3:::{bucket}"},
                  "object": {"key": escaped, "size": 48213, "eTag": "0123456789abcdef",
                             "contentType": "image/jpeg",
                             "userMetadata": {"content-type": "image/jpeg"},
                             "sequencer": "17B9A2C1D2E3F4A6"}},
           "source": {"host": "127.0.0.1", "port": "", "userAgent": "MinIO (linux; amd64)"}}
    return json.dumps({"EventName": "s3:ObjectCreated:Put", "Key": f"{bucket}/{key}",
                       "Records": [rec]})


TEST_EVENT = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent",
                         "Time": "2026-11-24T12:00:00.000Z", "Bucket": BUCKET,
                         "RequestId": "5582815E1AEA5ADF", "HostId": "8cLeGAmw098X5cv4Zkwcmo8vv"})


def metric(srv, family, labels=None):
    """Sum of the series of `family` whose labels include every `labels` pair."""
    status, _, data = srv.request("GET", "/metrics")
    assert status == 200
    total = 0.0
    for line in data.decode().splitlines():
        m = re.match(r"^(\w+)(\{[^}]*\})? (\S+)$", line)
        if not m or m.group(1) != family:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if all(have.get(k) == v for k, v in (labels or {}).items()):
            total += float(m.group(3))
    return total


def post(srv, body, token=None, query_token=None, headers=None):
    h = {"Content-Type": "application/json"}
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    h.update(headers or {})
    path = "/v1/events/s3"
    if query_token is not None:
        path += "?token=" + urllib.parse.quote(query_token, safe="")
    status, hdrs, data = srv.request("POST", path, body=body, headers=h)
    return status, hdrs, json.loads(data) if data else None


class EventsBase(unittest.TestCase):
    env = {}

    def setUp(self):
        require_bin(self)
        self.srv = None

    def start(self, **env):
        full = {"IMGSVC_API_KEYS": API_KEY}
        full.update(self.env)
        full.update(env)
        self.srv = Server(env={k: v for k, v in full.items() if v is not None})
        return self.srv

    def tearDown(self):
        if self.srv is not None:
            self.assertEqual(self.srv.stop(), 0, "imgsvc did not exit 0 on SIGTERM")
            self.srv.logs()  # every stderr line is one JSON object


class TokenEvents(EventsBase):
    env = {"IMGSVC_EVENTS_TOKEN": TOKEN}

    def test_aws_ceph_and_minio_bodies_are_queued(self):
        srv = self.start()
        cases = [("aws:s3", aws_body(temp_key()), {"token": TOKEN}),
                 ("ceph:s3", ceph_body(temp_key("feed/f-1")), {"query_token": TOKEN}),
                 ("minio:s3", minio_body(temp_key("chatroom/7/chat/9")), {"token": TOKEN})]
        for source, body, cred in cases:
            status, hdrs, doc = post(srv, body, **cred)
            self.assertEqual(status, 202, (source, doc))
            self.assertEqual(doc, {"queued": 1, "ignored": 0})
            self.assertEqual(hdrs["content-type"], "application/json")
            self.assertEqual(metric(srv, "imgsvc_events_received_total", {"source": source}), 1)

    def test_test_event_answers_200_with_nothing_queued(self):
        srv = self.start()
        status, _, doc = post(srv, TEST_EVENT, token=TOKEN)
        self.assertEqual(status, 200)
        self.assertEqual(doc["queued"], 0)
        self.assertEqual(doc["ignored"], 0)

    def test_other_bucket_outside_prefix_and_not_created_are_acknowledged(self):
        srv = self.start()
        body = json.dumps({"Records": [
            json.loads(aws_body(temp_key(), bucket="someone-else"))["Records"][0],
            json.loads(aws_body("profile/42/320/x.jpeg"))["Records"][0],
            json.loads(aws_body(temp_key(), name="ObjectRemoved:Delete"))["Records"][0]]})
        status, _, doc = post(srv, body, token=TOKEN)
        self.assertEqual(status, 202)
        self.assertEqual(doc, {"queued": 0, "ignored": 3})
        for reason in ("other_bucket", "outside_prefix", "not_created"):
            self.assertEqual(metric(srv, "imgsvc_events_ignored_total", {"reason": reason}), 1)

    def test_wrong_or_missing_token_is_401_and_nothing_received(self):
        srv = self.start()
        body = aws_body(temp_key())
        for cred in ({}, {"token": "wrong-" + TOKEN}, {"query_token": TOKEN[:-1]},
                     {"headers": {"Authorization": "Basic " + TOKEN}},
                     {"token": TOKEN, "query_token": "x" + TOKEN}):
            status, hdrs, doc = post(srv, body, **cred)
            self.assertEqual(status, 401, cred)
            self.assertEqual(doc["error"]["code"], "unauthenticated")
            self.assertIn("www-authenticate", hdrs)
        self.assertEqual(metric(srv, "imgsvc_events_received_total"), 0)
        self.assertEqual(metric(srv, "imgsvc_events_rejected_total"), 5)

    def test_malformed_bodies_are_400(self):
        srv = self.start()
        for body in ("{", "[]", '{"Records":{}}', '{"Records":[{"eventSource":"aws:s3"}]}',
                     aws_body(temp_key()).replace(".jpeg", "%zz.jpeg"), ""):
            status, _, doc = post(srv, body, token=TOKEN)
            self.assertEqual(status, 400, body)
            self.assertEqual(doc["error"]["code"], "bad_request")
            self.assertTrue(doc["error"]["requestId"])
        self.assertEqual(metric(srv, "imgsvc_events_received_total"), 0)

    def test_oversized_body_is_413_and_too_many_records_413(self):
        srv = self.start(IMGSVC_EVENTS_MAX_BYTES="4096", IMGSVC_EVENTS_MAX_RECORDS="2")
        big = aws_body(temp_key(), n=8)
        self.assertGreater(len(big), 4096)
        status, _, doc = post(srv, big, token=TOKEN)
        self.assertEqual(status, 413)
        self.assertEqual(doc["error"]["code"], "payload_too_large")
        status, _, doc = post(srv, aws_body(temp_key(), n=3), token=TOKEN)
        self.assertEqual(status, 413)
        self.assertIn("too_many_records", doc["error"]["message"])
        self.assertEqual(metric(srv, "imgsvc_events_received_total"), 0)

    def test_head_answers_200_without_a_body(self):
        srv = self.start()
        status, _, data = srv.request("HEAD", "/v1/events/s3")
        self.assertEqual(status, 200)
        self.assertEqual(data, b"")
        status, hdrs, _ = srv.request("GET", "/v1/events/s3")
        self.assertEqual(status, 405)
        self.assertIn("POST", hdrs["allow"])

    def test_token_never_in_logs(self):
        srv = self.start(IMGSVC_LOG_LEVEL="debug")
        body = aws_body(temp_key())
        post(srv, body, token=TOKEN)
        post(srv, body, query_token=TOKEN)
        post(srv, body, query_token=TOKEN + "x")
        post(srv, body, token="x" + TOKEN)
        post(srv, "{", query_token=TOKEN)
        srv.request("HEAD", "/v1/events/s3?token=" + TOKEN)
        srv.request("POST", "/v1/nowhere?token=" + TOKEN, body="{}")
        self.assertEqual(srv.stop(), 0)
        logs = "".join(srv.lines)
        self.assertIn('"route":"/v1/events/s3"', logs)  # the access lines are there
        self.assertNotIn(TOKEN[3:20], logs)
        self.assertIsNone(re.search(r"token=[A-Za-z0-9]", logs))
        self.srv = None


class QueueFull(EventsBase):
    env = {"IMGSVC_EVENTS_TOKEN": TOKEN, "IMGSVC_WORKERS": "1", "IMGSVC_QUEUE_DEPTH": "1",
           "IMGSVC_EVENTS_RETRY_AFTER_S": "3"}

    def test_full_queue_is_503_with_retry_after(self):
        srv = self.start()
        # 100 records a body, 4 bodies at once, one worker and a queue of one: the queue fills.
        body = json.dumps({"Records": [json.loads(aws_body(temp_key()))["Records"][0]
                                       for _ in range(100)]})
        answers = []

        def burst():
            answers.append(post(srv, body, token=TOKEN))
        threads = [threading.Thread(target=burst) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        busy = [a for a in answers if a[0] == 503]
        self.assertTrue(busy, [a[0] for a in answers])
        for status, hdrs, doc in busy:
            self.assertEqual(hdrs["retry-after"], "3")
            self.assertEqual(doc["error"]["code"], "unavailable")
            self.assertIn("busy", doc["error"]["message"])
        self.assertEqual(metric(srv, "imgsvc_events_rejected_total", {"reason": "busy"}),
                         len(busy))


class OpenInDevelopment(EventsBase):
    def test_no_token_and_auth_off_on_loopback_accepts_with_a_warning(self):
        srv = self.start(IMGSVC_API_KEYS=None)
        status, _, doc = post(srv, aws_body(temp_key()))
        self.assertEqual(status, 202)
        self.assertEqual(doc["queued"], 1)
        self.assertTrue(any(r.get("level") == "warn" and "EVENT WEBHOOK IS OPEN" in r["msg"]
                            for r in srv.logs()))

    def test_no_token_with_auth_on_accepts_sns_only(self):
        srv = self.start()
        status, _, doc = post(srv, aws_body(temp_key()))
        self.assertEqual(status, 401)
        self.assertIn("SNS", doc["error"]["message"])
        status, _, _ = post(srv, aws_body(temp_key()), token=TOKEN)
        self.assertEqual(status, 401)

    def test_short_token_stops_the_start(self):
        self.srv = Server(env={"IMGSVC_EVENTS_TOKEN": "too-short"}, wait=False)
        rc = self.srv.proc.wait(20)
        self.assertNotEqual(rc, 0)
        self.assertIn("IMGSVC_EVENTS_TOKEN", "".join(self.srv.lines))
        self.assertNotIn("too-short", "".join(self.srv.lines))
        self.srv.stop()
        self.srv = None


class Sns(EventsBase):
    def setUp(self):
        super().setUp()
        self.sns = snslib.TestSns()
        self.env = dict(self.sns.env())

    def tearDown(self):
        super().tearDown()
        self.sns.close()

    def post_sns(self, envelope, **kw):
        h = {"x-amz-sns-message-type": envelope["Type"], "Content-Type": "text/plain"}
        return post(self.srv, json.dumps(envelope), headers=h, **kw)

    def test_signed_notifications_v1_and_v2_are_queued_and_the_cert_fetched_once(self):
        self.start()
        for version in ("1", "2", "1"):
            env = self.sns.envelope("Notification", aws_body(temp_key()), version=version,
                                    subject="Amazon S3 Notification")
            status, _, doc = self.post_sns(env)
            self.assertEqual(status, 202, doc)
            self.assertEqual(doc, {"queued": 1, "ignored": 0})
        self.assertEqual(self.sns.requests, [snslib.CERT_PATH])  # cached after the first
        self.assertEqual(metric(self.srv, "imgsvc_events_received_total", {"source": "aws:s3"}),
                         3)
        env = self.sns.envelope("Notification", TEST_EVENT)
        self.assertEqual(self.post_sns(env)[0], 200)

    def test_bad_signature_is_403_and_nothing_received(self):
        self.start()
        env = self.sns.envelope("Notification", aws_body(temp_key()))
        env["Message"] = aws_body(temp_key())  # a different record than the one signed
        status, _, doc = self.post_sns(env)
        self.assertEqual(status, 403)
        self.assertEqual(doc["error"]["code"], "forbidden")
        self.assertIn("bad_signature", doc["error"]["message"])
        env = self.sns.envelope("Notification", aws_body(temp_key()), version="2")
        env["SignatureVersion"] = "1"  # signed with SHA-256, claims SHA-1
        self.assertEqual(self.post_sns(env)[0], 403)
        self.assertEqual(metric(self.srv, "imgsvc_events_received_total"), 0)

    def test_cert_url_refused_before_any_fetch(self):
        self.start()
        bad = [f"https://evil.example.com{snslib.CERT_PATH}",
               f"http://{snslib.HOST}{snslib.CERT_PATH}",
               f"https://{snslib.HOST}/SimpleNotificationService.txt",
               f"https://{snslib.HOST}:{self.sns.port}{snslib.CERT_PATH}",
               f"https://{snslib.HOST}.evil.example.com{snslib.CERT_PATH}"]
        for url in bad:
            env = self.sns.envelope("Notification", aws_body(temp_key()), cert_url=url)
            status, _, doc = self.post_sns(env)
            self.assertEqual(status, 403, url)
            self.assertIn("cert_url", doc["error"]["message"])
        self.assertEqual(self.sns.requests, [])
        self.assertEqual(metric(self.srv, "imgsvc_events_received_total"), 0)

    def test_unavailable_certificate_is_503_so_sns_retries(self):
        self.start(IMGSVC_EVENTS_RETRY_AFTER_S="2")
        missing = "/SimpleNotificationService-missing.pem"
        env = self.sns.envelope("Notification", aws_body(temp_key()),
                                cert_url=f"https://{snslib.HOST}{missing}")
        status, hdrs, doc = self.post_sns(env)
        self.assertEqual(status, 503)
        self.assertEqual(hdrs["retry-after"], "2")
        self.assertIn("cert_unavailable", doc["error"]["message"])
        self.assertEqual(self.sns.requests, [missing])
        self.assertEqual(metric(self.srv, "imgsvc_events_received_total"), 0)

    def test_certificate_over_untrusted_tls_is_not_used(self):
        """The certificate's server presents a TLS certificate the trusted CAs did not sign
        (here: the system's CAs, not the test CA): no certificate is read, nothing queued, and
        a subscription is not confirmed."""
        self.start(IMGSVC_SNS_CA_FILE="/etc/ssl/certs/ca-certificates.crt")
        status, _, doc = self.post_sns(self.sns.envelope("Notification",
                                                         aws_body(temp_key())))
        self.assertEqual(status, 503, doc)
        self.assertIn("cert_unavailable", doc["error"]["message"])
        status, _, doc = self.post_sns(self.sns.envelope("SubscriptionConfirmation", "confirm"))
        self.assertEqual(status, 503, doc)
        self.assertEqual(self.sns.requests, [], "an HTTP request reached the untrusted server")
        self.assertEqual(metric(self.srv, "imgsvc_events_received_total"), 0)

    def test_subscription_confirmed_once_and_only_when_verified(self):
        self.start()
        forged = self.sns.envelope("SubscriptionConfirmation", "You have chosen to subscribe")
        forged["Token"] = "f" * 64  # the signed token was another
        status, _, _ = self.post_sns(forged)
        self.assertEqual(status, 403)
        self.assertFalse([p for p in self.sns.requests if "ConfirmSubscription" in p])
        env = self.sns.envelope("SubscriptionConfirmation", "You have chosen to subscribe",
                                version="2")
        status, _, doc = self.post_sns(env)
        self.assertEqual(status, 200, doc)
        self.assertEqual(doc, {"confirmed": True})
        confirms = [p for p in self.sns.requests if "ConfirmSubscription" in p]
        self.assertEqual(len(confirms), 1)
        self.assertIn("Token=" + env["Token"], confirms[0])
        self.assertIsNotNone(self.srv.wait_for_log(
            lambda r: r.get("msg") == "sns subscription confirmed"))
        self.assertNotIn(env["Token"], "".join(self.srv.lines))  # never logged

    def test_subscribe_url_off_the_allowed_hosts_is_not_visited(self):
        self.start()
        env = self.sns.envelope("SubscriptionConfirmation", "subscribe")
        env["SubscribeURL"] = "https://evil.example.com/?Action=ConfirmSubscription"
        names = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
        env["Signature"] = self.sns.sign("".join(f"{n}\n{env[n]}\n" for n in names))
        status, _, doc = self.post_sns(env)
        self.assertEqual(status, 403)
        self.assertIn("subscribe_url", doc["error"]["message"])
        self.assertFalse([p for p in self.sns.requests if "ConfirmSubscription" in p])

    def test_unsubscribe_confirmation_is_acknowledged(self):
        self.start()
        env = self.sns.envelope("UnsubscribeConfirmation", "You have unsubscribed")
        status, _, doc = self.post_sns(env)
        self.assertEqual(status, 200)
        self.assertEqual(doc, {"acknowledged": True})
        self.assertFalse([p for p in self.sns.requests if "ConfirmSubscription" in p])

    def test_topic_outside_the_list_is_refused_before_any_fetch(self):
        self.start(IMGSVC_SNS_TOPIC_ARNS="arn:aws:sns:us-east-1:123456789012:other, "
                   + snslib.TOPIC)
        env = self.sns.envelope("Notification", aws_body(temp_key()),
                                topic="arn:aws:sns:us-east-1:999999999999:attacker")
        status, _, doc = self.post_sns(env)
        self.assertEqual(status, 403)
        self.assertIn("topic_not_allowed", doc["error"]["message"])
        self.assertEqual(self.sns.requests, [])
        env = self.sns.envelope("Notification", aws_body(temp_key()))
        self.assertEqual(self.post_sns(env)[0], 202)

    def test_wrong_token_with_a_valid_sns_envelope_is_still_refused(self):
        self.start(IMGSVC_EVENTS_TOKEN=TOKEN)
        env = self.sns.envelope("Notification", aws_body(temp_key()))
        self.assertEqual(self.post_sns(env, query_token="wrong-" + TOKEN)[0], 401)
        self.assertEqual(self.post_sns(env)[0], 202)  # SNS needs no token


if __name__ == "__main__":
    unittest.main()
