"""`imgsvc lambda` against the Runtime API stand-in (lambda_runtime.py) and Ceph RGW (the `rgw`
fixture): a good event is answered /response ready, the same event again done_before, a
malformed one /error; the trace id reaches the log and every S3 request of its invocation
(X-Amzn-Trace-Id, as the AWS SDKs send it); an invalid setting or a missing endpoint is
posted to /init/error and the process exits non-zero; an invocation whose deadline has passed
is answered /error without any S3 request; transient S3 errors answer /error so Lambda retries;
SIGTERM ends the loop with exit 0."""
# ctest-fixtures: imaging_corpus rgw
import json
import os
import signal
import subprocess
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid

from faultproxy import FaultProxy
from harness import BIN, require_bin
from lambda_runtime import PREFIX, RuntimeApi
from test_process import RGW, corpus_file, put_temp, s3_client, s3_record, temp_key

DEAD_S3 = "http://127.0.0.1:9"  # discard port: nothing listens, any S3 request fails


class Lambda:
    """`imgsvc lambda` as a child process, its stderr collected."""

    def __init__(self, api, env):
        full = {k: v for k, v in os.environ.items() if not k.startswith("IMGSVC_")}
        full.update(RGW)
        full.update(env)
        full["AWS_LAMBDA_RUNTIME_API"] = api
        self.proc = subprocess.Popen([BIN, "lambda"], env=full, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line)

    def logs(self):
        out = []
        for line in list(self.lines):
            try:
                out.append(json.loads(line))
            except ValueError:
                raise AssertionError(f"stderr line is not JSON: {line!r}") from None
        return out

    def stop(self, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            raise AssertionError("imgsvc lambda did not stop on SIGTERM:\n"
                                 + "".join(self.lines[-40:]))
        self._reader.join(5)
        return rc


class LambdaTest(unittest.TestCase):
    def setUp(self):
        require_bin(self)
        self.rt = RuntimeApi()
        self.fn = None

    def tearDown(self):
        if self.fn is not None and self.fn.proc.poll() is None:
            self.fn.stop()
        self.rt.close()

    def start(self, **env):
        self.fn = Lambda(self.rt.api, env)
        return self.fn

    def answer(self, rid, timeout=120):
        got = self.rt.wait_answer(rid, timeout)
        self.assertIsNotNone(got, "no answer for %s; log:\n%s" % (rid,
                                                                "".join(self.fn.lines[-40:])))
        kind, body, headers = got
        return kind, json.loads(body), headers

    def test_good_duplicate_and_malformed_events(self):
        photo = corpus_file(self, "photos/photo-01.jpg")
        s3 = s3_client()
        key = temp_key("lambda-1")
        size, etag = put_temp(s3, key, photo)
        event = {"Records": [s3_record("aws:s3", key.replace("_", "%5F"), size, etag)]}
        trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
        self.start()
        good = self.rt.queue(event, trace_id=trace)
        dup = self.rt.queue(event)
        bad = self.rt.queue(b'{"Records": 5}')
        kind, doc, _ = self.answer(good)
        self.assertEqual(kind, "response", doc)
        self.assertEqual([(r["outcome"], r["key"]) for r in doc["results"]], [("ready", key)])
        manifest = doc["results"][0]["manifestKey"]
        m = json.loads(s3.get_object(Bucket=RGW["IMGSVC_S3_BUCKET"], Key=manifest)["Body"].read())
        self.assertEqual(len(m["variants"]), doc["results"][0]["variants"])
        kind, doc, _ = self.answer(dup)
        self.assertEqual(kind, "response", doc)
        self.assertEqual([r["outcome"] for r in doc["results"]], ["done_before"])
        kind, doc, headers = self.answer(bad)
        self.assertEqual(kind, "error")
        self.assertEqual(doc["errorType"], "Imgsvc.InvalidEvent")
        self.assertEqual(headers["lambda-runtime-function-error-type"], "Imgsvc.InvalidEvent")
        self.assertIn("Records", doc["errorMessage"])
        self.assertEqual(self.fn.stop(), 0)
        logs = self.fn.logs()
        inv = [r for r in logs if r.get("msg") == "invocation" and r.get("requestId") == good]
        self.assertEqual(len(inv), 1, logs)
        self.assertEqual(inv[0]["traceId"], trace)
        self.assertTrue(inv[0]["functionArn"].startswith("arn:aws:lambda:"))
        self.assertTrue(any(r.get("requestId") == good and r.get("outcome") == "ready"
                            for r in logs), "the record's log line carries the request id")
        # one answer per invocation, each after its /next
        posts = [p for m, p in self.rt.log if m == "POST"]
        self.assertEqual(posts, [f"{PREFIX}/invocation/{good}/response",
                                 f"{PREFIX}/invocation/{dup}/response",
                                 f"{PREFIX}/invocation/{bad}/error"])

    def test_s3_requests_carry_the_invocation_trace_id(self):
        """As the AWS SDKs do under Lambda: every S3 request of an invocation sends its trace
        id (X-Amzn-Trace-Id, seen by a recording proxy in front of RGW), each invocation its
        own."""
        photo = corpus_file(self, "photos/photo-02.jpg")
        s3 = s3_client()
        proxy = FaultProxy(("127.0.0.1", 7480))
        self.addCleanup(proxy.close)
        self.start(IMGSVC_S3_ENDPOINT=proxy.url, AWS_LAMBDA_FUNCTION_NAME="imgsvc-test")
        traces = {}
        for feed in ("lambda-tr-a", "lambda-tr-b"):
            key = temp_key(feed)
            size, etag = put_temp(s3, key, photo)
            traces[feed] = "Root=1-%08x-%s;Parent=53995c3f42cd8ad8;Sampled=1" % (
                int(time.time()), uuid.uuid4().hex[:24])
            rid = self.rt.queue({"Records": [s3_record("ceph:s3", key, size, etag)]},
                                trace_id=traces[feed])
            kind, doc, _ = self.answer(rid)
            self.assertEqual((kind, doc["results"][0]["outcome"]), ("response", "ready"), doc)
        self.assertEqual(self.fn.stop(), 0)
        for feed, trace in traces.items():
            mine = [e for e in proxy.journal if f"/{feed}/" in e["target"]]
            self.assertGreaterEqual(len(mine), 8, proxy.journal)  # reads, writes, delete
            self.assertEqual({e["headers"].get("x-amzn-trace-id") for e in mine}, {trace},
                             feed)

    def test_no_trace_header_without_lambda_function_name(self):
        """Not on Lambda (no AWS_LAMBDA_FUNCTION_NAME): no X-Amzn-Trace-Id on S3 requests."""
        photo = corpus_file(self, "photos/photo-02.jpg")
        s3 = s3_client()
        proxy = FaultProxy(("127.0.0.1", 7480))
        self.addCleanup(proxy.close)
        key = temp_key("lambda-tr-none")
        size, etag = put_temp(s3, key, photo)
        self.start(IMGSVC_S3_ENDPOINT=proxy.url)
        rid = self.rt.queue({"Records": [s3_record("ceph:s3", key, size, etag)]})
        kind, doc, _ = self.answer(rid)
        self.assertEqual((kind, doc["results"][0]["outcome"]), ("response", "ready"), doc)
        mine = [e for e in proxy.journal if "/lambda-tr-none/" in e["target"]]
        self.assertTrue(mine)
        self.assertEqual([e for e in mine if "x-amzn-trace-id" in e["headers"]], [])

    def test_invalid_setting_posts_init_error(self):
        fn = self.start(IMGSVC_S3_TIMEOUT_MS="5")
        rc = fn.proc.wait(30)
        self.assertNotEqual(rc, 0)
        got = self.rt.wait_init_error(10)
        self.assertIsNotNone(got, "".join(fn.lines))
        body, headers = got
        doc = json.loads(body)
        self.assertEqual(doc["errorType"], "Imgsvc.InitError")
        self.assertIn("IMGSVC_S3_TIMEOUT_MS", doc["errorMessage"])
        self.assertEqual(headers["lambda-runtime-function-error-type"], "Imgsvc.InitError")
        self.assertFalse(any(m == "GET" for m, _ in self.rt.log), "no /next after init failed")

    def test_missing_endpoint_posts_init_error(self):
        fn = self.start(IMGSVC_S3_ENDPOINT="")
        self.assertEqual(fn.proc.wait(30), 1)
        body, _ = self.rt.wait_init_error(10)
        self.assertIn("IMGSVC_S3_ENDPOINT", json.loads(body)["errorMessage"])

    def test_past_deadline_answers_error_without_s3(self):
        # the S3 endpoint is dead: any S3 request would end in a retry, not a deadline error
        self.start(IMGSVC_S3_ENDPOINT=DEAD_S3, IMGSVC_LAMBDA_DEADLINE_MARGIN_MS="2000")
        event = {"Records": [s3_record("ceph:s3", temp_key("lambda-late"), 100, "0" * 32)]}
        past = self.rt.queue(event, deadline_ms=int(time.time() * 1000) - 1000)
        close = self.rt.queue(event, deadline_ms=int(time.time() * 1000) + 1500)
        for rid in (past, close):
            kind, doc, headers = self.answer(rid)
            self.assertEqual((kind, doc["errorType"]), ("error", "Imgsvc.DeadlineExceeded"), doc)
            self.assertIn("IMGSVC_LAMBDA_DEADLINE_MARGIN_MS", doc["errorMessage"])
        self.assertEqual(self.fn.stop(), 0)
        self.assertFalse(any("outcome" in r for r in self.fn.logs()), "no record may have run")

    def test_transient_s3_errors_answer_error_for_a_retry(self):
        self.start(IMGSVC_S3_ENDPOINT=DEAD_S3, IMGSVC_S3_MAX_RETRIES="0",
                   IMGSVC_PIPELINE_MAX_ATTEMPTS="1")
        key = temp_key("lambda-retry")
        rid = self.rt.queue({"Records": [s3_record("ceph:s3", key, 100, "0" * 32)]})
        kind, doc, headers = self.answer(rid)
        self.assertEqual((kind, doc["errorType"]), ("error", "Imgsvc.RetryLater"), doc)
        self.assertIn(key, doc["errorMessage"])
        self.assertEqual(headers["lambda-runtime-function-error-type"], "Imgsvc.RetryLater")

    def test_sigterm_while_waiting_exits_0(self):
        self.start()
        self.assertTrue(self.rt.wait_next_calls(1), "".join(self.fn.lines))
        self.assertEqual(self.fn.stop(30), 0)
        self.assertTrue(any(r.get("msg") == "stopping on a signal" for r in self.fn.logs()))

    def test_sigterm_during_an_invocation_finishes_and_answers_it(self):
        photo = corpus_file(self, "photos/photo-03.jpg")
        s3 = s3_client()
        key = temp_key("lambda-term")
        size, etag = put_temp(s3, key, photo)
        self.start()
        rid = self.rt.queue({"Records": [s3_record("ceph:s3", key, size, etag)]})
        # the runtime has the event (it logged it), then the signal arrives while it runs or
        # just after
        deadline = time.time() + 30
        while time.time() < deadline and not any(
                r.get("msg") == "invocation" and r.get("requestId") == rid for r in self.fn.logs()):
            time.sleep(0.01)
        self.fn.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.fn.stop(), 0)
        kind, doc, _ = self.answer(rid, timeout=5)
        self.assertEqual((kind, [r["outcome"] for r in doc["results"]]), ("response", ["ready"]))

    def test_s3_timeout_is_capped_by_the_time_left(self):
        photo = corpus_file(self, "photos/photo-04.jpg")
        s3 = s3_client()
        self.start(IMGSVC_LAMBDA_DEADLINE_MARGIN_MS="2000")
        caps = []
        for timeout_s in (20, 60):
            key = temp_key("lambda-cap")
            size, etag = put_temp(s3, key, photo)
            rid = self.rt.queue({"Records": [s3_record("ceph:s3", key, size, etag)]},
                                timeout_s=timeout_s)
            kind, doc, _ = self.answer(rid)
            self.assertEqual((kind, doc["results"][0]["outcome"]), ("response", "ready"), doc)
            caps += [r for r in self.fn.logs() if r.get("requestId") == rid
                     and r["msg"].startswith("S3 attempts capped at")]
        self.assertEqual(self.fn.stop(), 0)
        ms = [int(r["msg"].split()[4]) for r in caps]
        self.assertEqual(len(ms), 2, caps)
        # 20 s left less the 2 s margin, in whole seconds; then IMGSVC_S3_TIMEOUT_MS (60 s)
        # exceeds the 58 s left, so the cap is whole seconds below it again
        self.assertTrue(1000 <= ms[0] <= 18000 and ms[0] % 1000 == 0, ms)
        self.assertTrue(36000 <= ms[1] <= 58000 and ms[1] % 1000 == 0, ms)

    def test_oversized_event_answers_error(self):
        self.start(IMGSVC_EVENTS_MAX_BYTES="2048")
        rid = self.rt.queue(b'{"Records":[]' + b" " * 4096 + b"}")
        kind, doc, _ = self.answer(rid)
        self.assertEqual((kind, doc["errorType"]), ("error", "Imgsvc.InvalidEvent"), doc)
        self.assertIn("2048", doc["errorMessage"])
        ok = self.rt.queue({"Records": []})  # the loop goes on
        kind, doc, _ = self.answer(ok)
        self.assertEqual((kind, doc), ("response", {"results": []}))

    def test_runtime_api_going_away_exits_1(self):
        self.start()
        self.assertTrue(self.rt.wait_next_calls(1), "".join(self.fn.lines))
        self.rt.close()  # the pending /next answers 500, later ones cannot connect
        self.assertEqual(self.fn.proc.wait(30), 1, "".join(self.fn.lines))
        self.assertTrue(any("exiting" in r["msg"] for r in self.fn.logs()))

    def test_missing_runtime_api_exits_2(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("IMGSVC_")}
        env.update(RGW)
        env.pop("AWS_LAMBDA_RUNTIME_API", None)
        p = subprocess.run([BIN, "lambda"], env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("AWS_LAMBDA_RUNTIME_API", p.stderr)
        p = subprocess.run([BIN, "lambda", "--help"], env=env, capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 0)
        self.assertIn("AWS_LAMBDA_RUNTIME_API", p.stdout)

    def test_runtime_stand_in_refuses_unknown_and_repeated_ids(self):
        def post(path):
            req = urllib.request.Request(f"http://{self.rt.api}{PREFIX}{path}", data=b"{}",
                                         method="POST")
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    return r.status
            except urllib.error.HTTPError as ex:
                return ex.code
        self.assertEqual(post("/invocation/nope/response"), 400)
        self.assertEqual(post("/invocation/nope/bogus"), 404)
        rid = self.rt.queue({"Records": []})
        with urllib.request.urlopen(f"http://{self.rt.api}{PREFIX}/invocation/next",
                                    timeout=10) as r:
            self.assertEqual(r.headers["Lambda-Runtime-Aws-Request-Id"], rid)
        self.assertEqual(post(f"/invocation/{rid}/response"), 202)
        self.assertEqual(post(f"/invocation/{rid}/error"), 400)


if __name__ == "__main__":
    unittest.main()
