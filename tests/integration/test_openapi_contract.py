"""The contract check of harness.py (every integration test's responses against openapi.yaml).

Self tests that prove the check cannot silently pass: a wrong body, an undocumented status, a
wrong Content-Type, a missing required header, an unknown path and an undocumented method are
each refused with a message naming the operation. Then openapi.yaml itself: every schema is a
valid JSON Schema and every example in it matches its schema. Then openapi.yaml against the
source: every route the API listener registers (server/routes.c, the demo's file table) is
documented and every documented operation is registered; every error code a handler can emit is
in the Error schema's `code` enum (and the enum names no code that nothing emits), and likewise
the failed upload's codes. Last, live rounds against a real server through Server.request: every
registered route answers a minimal request, checked against the contract.

The embedded store's listener (srv_store_routes_build) speaks S3's REST API, not this one, so
neither openapi.yaml nor these checks cover it (tests/integration/test_store.py does).
"""
import json
import os
import re
import unittest

import harness
from harness import Contract, ContractError, Server, ServerTest, require_bin

SRC = harness.SOURCE_DIR or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

RID = {"x-request-id": "t-1"}
JSON = dict(RID, **{"content-type": "application/json"})


def body(doc):
    return json.dumps(doc).encode()


class ContractRefuses(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.c = Contract.load()

    def refused(self, *args, words=()):
        with self.assertRaises(ContractError) as cm:
            self.c.check(*args)
        for w in words:
            self.assertIn(w, str(cm.exception))
        return str(cm.exception)

    def test_a_matching_response_passes(self):
        self.c.check("GET", "/healthz", 200, JSON, body({"status": "ok", "version": "0.1.0"}))
        self.c.check("GET", "/v1/uploads/x?domain=profile&userId=1", 200, JSON,
                     body({"uploadId": "x", "status": "pending"}))
        self.c.check("HEAD", "/healthz", 200, RID, b"")

    def test_a_wrong_body_is_refused(self):
        self.refused("GET", "/healthz", 200, JSON, body({"status": "fine"}),
                     words=("getHealthz", "GET /healthz", "status"))
        self.refused("GET", "/v1/uploads/x", 200, JSON, body({"uploadId": "x",
                                                               "status": "done"}),
                     words=("getUploadStatus", "/v1/uploads/{uploadId}"))
        self.refused("POST", "/v1/uploads", 400, JSON, body({"code": "bad_ids"}),
                     words=("createUpload", "error"))

    def test_a_body_that_is_not_json_is_refused(self):
        self.refused("GET", "/healthz", 200, JSON, b"ok", words=("getHealthz", "not JSON"))

    def test_an_undocumented_status_is_refused(self):
        self.refused("GET", "/healthz", 418, JSON, body({"status": "ok"}),
                     words=("getHealthz", "418", "not documented"))
        self.refused("POST", "/v1/uploads", 202, JSON, b"{}", words=("createUpload", "202"))

    def test_a_wrong_content_type_is_refused(self):
        hdrs = dict(RID, **{"content-type": "text/html"})
        self.refused("GET", "/healthz", 200, hdrs, b"<p>ok</p>",
                     words=("getHealthz", "text/html"))
        # the metrics media type has a parameter the response must carry
        self.refused("GET", "/metrics", 200, dict(RID, **{"content-type": "text/plain"}), b"x",
                     words=("getMetrics",))

    def test_a_missing_required_header_is_refused(self):
        self.refused("GET", "/healthz", 200, {"content-type": "application/json"},
                     body({"status": "ok"}), words=("getHealthz", "X-Request-Id"))

    def test_an_unknown_path_must_be_404_with_the_error_shape(self):
        err = {"error": {"code": "not_found", "message": "no such route", "requestId": "t-1"}}
        self.c.check("GET", "/nope", 404, JSON, body(err))
        self.refused("GET", "/nope", 200, JSON, body({"status": "ok"}), words=("/nope",))
        self.refused("GET", "/nope", 404, JSON, body({"message": "x"}), words=("/nope",))

    def test_an_undocumented_method_must_be_405(self):
        err = {"error": {"code": "method_not_allowed", "message": "no", "requestId": "t-1"}}
        self.c.check("DELETE", "/healthz", 405, JSON, body(err))
        self.refused("DELETE", "/healthz", 200, JSON, body({"status": "ok"}),
                     words=("DELETE /healthz", "405"))

    def test_templates_resolve_and_literals_win(self):
        self.assertEqual(self.c.resolve("/v1/uploads"), "/v1/uploads")
        self.assertEqual(self.c.resolve("/v1/uploads/abc"), "/v1/uploads/{uploadId}")
        self.assertIsNone(self.c.resolve("/v1/uploads/abc/def"))
        self.assertIsNone(self.c.resolve("/v1/uploads/"))


def examples(node, where):
    """(where, schema, example value) for every example in the spec under `node`."""
    if isinstance(node, dict):
        schema = node.get("schema")
        if schema is not None and "example" in node:
            yield where + "/example", schema, node["example"]
        if schema is not None and isinstance(node.get("examples"), dict):
            for k, ex in node["examples"].items():
                if isinstance(ex, dict) and "value" in ex:
                    yield f"{where}/examples/{k}", schema, ex["value"]
        for k, v in node.items():
            yield from examples(v, f"{where}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from examples(v, f"{where}/{i}")


class SpecIsSelfConsistent(unittest.TestCase):
    def test_every_schema_is_valid_and_every_example_matches_its_schema(self):
        c = Contract.load()
        for name, schema in c.spec["components"]["schemas"].items():
            harness.jsonschema.Draft202012Validator.check_schema(schema)
        checked, bad = 0, []
        for where, schema, value in examples(c.spec["paths"], "#/paths"):
            if schema.get("format") == "binary" or schema.get("type") == "string" and \
                    not isinstance(value, (dict, list)):
                continue  # a binary or text body example is prose
            errs = list(c._validator(schema).iter_errors(value))
            checked += 1
            if errs:
                bad.append(f"{where}: {errs[0].message}")
        self.assertGreater(checked, 20, "the spec's examples were not found")
        self.assertEqual(bad, [], "examples that do not match their schema")

    def test_every_operation_has_an_id_and_documents_the_request_id(self):
        c = Contract.load()
        for tpl, item in c.paths.items():
            for m, op in item.items():
                if m not in harness.HTTP_METHODS:
                    continue
                self.assertIn("operationId", op, f"{m} {tpl}")
                for status, resp in op["responses"].items():
                    hdrs = c.deref(resp).get("headers") or {}
                    self.assertIn("X-Request-Id", hdrs, f"{op['operationId']} {status}")


class LiveRound(ServerTest):
    def test_server_request_checks_every_response(self):
        status, _, doc = self.srv.json("GET", "/healthz")
        self.assertEqual((status, doc["status"]), (200, "ok"))
        status, _, doc = self.srv.json("GET", "/no/such/route")
        self.assertEqual((status, doc["error"]["code"]), (404, "not_found"))
        status, hdrs, _ = self.srv.request("DELETE", "/healthz")
        self.assertEqual(status, 405)
        self.assertIn("GET", hdrs["allow"])
        # a contract the server does not meet fails the request (not just the assertion after)
        saved = harness._CONTRACT
        try:
            strict = Contract.load()
            strict.paths["/healthz"]["get"]["responses"].pop("200")
            harness._CONTRACT = strict
            with self.assertRaises(ContractError) as cm:
                self.srv.request("GET", "/healthz")
            self.assertIn("getHealthz", str(cm.exception))
        finally:
            harness._CONTRACT = saved


# ---- openapi.yaml against the source ------------------------------------------------------------


def source(rel):
    with open(os.path.join(SRC, rel), encoding="utf-8") as f:
        return f.read()


def c_function(text, name):
    """The body of C function `name` in `text` (from its opening brace to the matching one)."""
    m = re.search(r"^[A-Za-z_].*\b" + re.escape(name) + r"\([^;{]*\)\s*\{", text, re.M)
    if m is None:
        raise AssertionError(f"function {name} not found")
    depth, i = 0, m.end() - 1
    while True:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[m.end():i]
        i += 1


ROUTE_RE = re.compile(r'\(struct srv_route\)\s*\{\s*"([A-Z]+)",\s*"([^"]+)"')


def registered_routes():
    """{(METHOD, pattern)} of every route `imgsvc serve` can register on its API listener, read
    from server/routes.c: the literal routes of srv_routes_build, plus the demo's files (the
    loop in demo_routes registers handlers/demo_assets.c's table and /demo.json). Fails when a
    route is registered some other way, so a new route cannot slip past the scan."""
    text = source("server/routes.c")
    routes = set()
    for fn in ("srv_routes_build", "demo_routes"):
        body = c_function(text, fn)
        literal = ROUTE_RE.findall(body)
        total = body.count("(struct srv_route)")
        if fn == "demo_routes":
            assert total == 1 and not literal and "h_demo_get" in body, \
                "demo_routes changed shape: teach registered_routes() to read it"
            assets = re.findall(r'^\s*\{"(/[^"]*)",\s*"[^"]+",\s*\w+\},',
                                source("handlers/demo_assets.c"), re.M)
            extra = re.findall(r'->path = "(/[^"]*)"', source("handlers/demo.c"))
            assert assets and extra, "the demo's file table was not found"
            literal = [("GET", p) for p in assets + extra]
        else:
            assert total == len(literal), \
                f"{fn}: {total - len(literal)} route(s) without a literal method and path"
        routes.update(literal)
    for name in sorted(os.listdir(os.path.join(SRC, "server"))):
        if name.endswith(".c") and name not in ("routes.c", "router.c"):
            assert "(struct srv_route)" not in source("server/" + name), \
                f"server/{name} registers routes: teach registered_routes() to read it"
    return routes


def documented_operations(c):
    return {(m.upper(), tpl) for tpl, item in c.paths.items() for m in item
            if m in harness.HTTP_METHODS}


class RoutesAreDocumented(unittest.TestCase):
    def test_every_registered_route_is_in_openapi_yaml(self):
        routes = registered_routes()
        self.assertIn(("POST", "/v1/uploads"), routes)  # the scan works
        self.assertIn(("GET", "/demo.json"), routes)
        ops = documented_operations(Contract.load())
        missing = sorted(r for r in routes if r not in ops)
        self.assertEqual(missing, [], "routes registered in server/routes.c but not documented "
                                      "in openapi.yaml")

    def test_every_documented_operation_is_registered(self):
        routes = registered_routes()
        ops = documented_operations(Contract.load())
        stale = sorted(o for o in ops if o not in routes and
                       not (o[0] == "HEAD" and ("GET", o[1]) in routes))
        self.assertEqual(stale, [], "operations in openapi.yaml that the server never registers")

    def test_the_store_listener_is_not_part_of_this_contract(self):
        # The embedded store answers S3's REST API on its own port (S3 XML errors, SigV4):
        # openapi.yaml must not claim its paths (GET / is the API's demo page as well).
        store = ROUTE_RE.findall(c_function(source("server/routes.c"), "srv_store_routes_build"))
        self.assertIn(("PUT", "/{bucket}/{key+}"), store)
        ops = documented_operations(Contract.load())
        api = registered_routes()
        self.assertEqual(sorted(r for r in store if r in ops and r not in api), [])


def _args(text, start, n):
    """The first n comma-separated arguments of the call whose '(' is at text[start-1]."""
    args, depth, cur, i, quote = [], 0, "", start, None
    while len(args) < n:
        ch = text[i]
        if quote:
            cur += ch
            if ch == "\\":
                cur += text[i + 1]
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote, cur = ch, cur + ch
        elif ch in "([{":
            depth, cur = depth + 1, cur + ch
        elif ch in ")]}" and depth > 0:
            depth, cur = depth - 1, cur + ch
        elif (ch == "," and depth == 0) or ch == ")":
            args.append(" ".join(cur.split()))
            cur = ""
            if ch == ")":
                break
        else:
            cur += ch
        i += 1
    return args


def _string_literals(text):
    return re.findall(r'"([a-z][a-z0-9_]*)"', text)


def _reason_names():
    names = re.findall(r'\[IMG_R_\w+\] = "([a-z_]+)"', source("imaging/img_error.c"))
    assert names, "imaging/img_error.c: reason_names not found"
    return [n for n in names if n != "ok"]


# How a call's code argument that is not a string literal is resolved: (file, argument) ->
# the codes it can be ([] for a pass-through whose callers are scanned themselves). A new
# indirection fails the scan until it is taught here.
def _indirect(rel, arg):
    if rel == "server/http.c" and arg == "code":
        return []  # send_error() passes its argument on; its calls are scanned
    if arg == "img_reason_name(ie->reason)" or arg == "img_reason_name(ie.reason)":
        return _reason_names()
    if rel == "handlers/status.c" and arg == "key_code(&e)":
        return _string_literals(re.search(r"codes\[\] = \{(.*?)\};", source(rel), re.S).group(1))
    if arg == "h_auth_error_code(rc)":
        return _string_literals(c_function(source("handlers/auth.c"), "h_auth_error_code"))
    if rel == "handlers/uploads.c" and arg == "code":
        return re.findall(r'\bbad\(resp, req, "([a-z_]+)"', source(rel))
    if rel == "handlers/events.c" and arg == "code":
        return _string_literals(re.search(r"const char \*code = (.*?);", source(rel), re.S).group(1))
    return None


def emitted_codes(calls):
    """{code: first "file:line" emitting it} for every call `name(` of `calls` (name -> index of
    the code argument) in handlers/ and server/ (the embedded store's S3 XML errors excluded)."""
    out, unknown = {}, []
    for d in ("handlers", "server"):
        for name in sorted(os.listdir(os.path.join(SRC, d))):
            rel = f"{d}/{name}"
            if not name.endswith(".c") or name.startswith("store"):
                continue
            text = source(rel)
            for fn, idx in calls.items():
                for m in re.finditer(r"\b" + fn + r"\(", text):
                    line = text.count("\n", 0, m.start()) + 1
                    if re.match(r"\s*(void|static|enum|bool)\b", text[text.rfind("\n", 0,
                                                                                 m.start()) + 1:]):
                        continue  # the definition
                    arg = _args(text, m.end(), idx + 1)[idx]
                    if re.fullmatch(r'"[a-z_]+"', arg):
                        codes = [arg.strip('"')]
                    elif re.fullmatch(r'[^"]*\?\s*"[a-z_]+"\s*:\s*"[a-z_]+"', arg):
                        codes = _string_literals(arg)
                    else:
                        codes = _indirect(rel, arg)
                    if codes is None:
                        unknown.append(f"{rel}:{line}: {fn}(... {arg} ...)")
                        continue
                    for c in codes:
                        out.setdefault(c, f"{rel}:{line}")
    assert not unknown, "codes the scan cannot read (teach _indirect): " + "; ".join(unknown)
    return out


class ErrorCodesAreDocumented(unittest.TestCase):
    def test_every_api_error_code_is_in_the_error_schema(self):
        emitted = emitted_codes({"h_resp_error": 3, "send_error": 2})
        for c in ("not_found", "method_not_allowed", "payload_too_large", "bad_ids",
                  "too_many_pixels", "unauthenticated", "bad_upload_id", "internal"):
            self.assertIn(c, emitted)  # the scan reaches every kind of call
        spec = Contract.load().spec
        enum = spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"][
            "code"].get("enum") or []
        self.assertEqual(sorted(c for c in emitted if c not in enum), [],
                         "codes the server emits that Error.code does not list")
        self.assertEqual(sorted(c for c in enum if c not in emitted), [],
                         "codes Error.code lists that nothing emits")

    def test_every_failed_upload_code_is_in_the_status_schema(self):
        emitted = emitted_codes({"fail_upload": 2})
        self.assertIn("too_large", emitted)
        self.assertIn("multipart_upload", emitted)
        spec = Contract.load().spec
        enum = spec["components"]["schemas"]["UploadStatus"]["properties"]["error"][
            "properties"]["code"].get("enum") or []
        self.assertEqual(sorted(c for c in emitted if c not in enum), [])
        self.assertEqual(sorted(c for c in enum if c not in emitted), [])

    def test_every_documented_code_appears_in_a_response_description(self):
        # Error.code is the union; each operation's descriptions say which of them it answers.
        spec = Contract.load().spec
        mentioned = set()

        def walk(node):
            if isinstance(node, dict):
                if isinstance(node.get("code"), str):
                    mentioned.add(node["code"])  # an example's error.code
                if isinstance(node.get("description"), str):
                    mentioned.update(re.findall(r"`([a-z_]+)`", node["description"]))
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(spec["paths"])
        walk(spec["components"]["responses"])
        enum = spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"][
            "code"]["enum"]
        self.assertEqual([c for c in enum if c not in mentioned], [],
                         "codes no operation's responses mention")


class RecordedExchanges(unittest.TestCase):
    """contract_check.py, which holds the newman run of postman/ to the same contract."""

    def report(self, tmp, code, body, url_port="8080"):
        def ex(port, path, code, body, ctype):
            return {"request": {"method": "GET", "url": {
                        "protocol": "http", "host": ["127", "0", "0", "1"], "port": port,
                        "path": path, "query": [{"key": "domain", "value": "feed"}]}},
                    "response": {"code": code, "header": [
                        {"key": "Content-Type", "value": ctype},
                        {"key": "X-Request-Id", "value": "r-1"}],
                        "stream": {"type": "Buffer", "data": list(body)}}}
        doc = {"run": {"executions": [
            ex(url_port, ["healthz"], code, body, "application/json"),
            ex("9000", ["imgsvc", "delete", "x.jpeg"], 403, b"<Error/>", "application/xml")]}}
        path = os.path.join(tmp, "report.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        return path

    def run_check(self, *args):
        import subprocess
        import sys
        p = subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__),
                                                         "contract_check.py"), *args],
                           capture_output=True, text=True, env=dict(os.environ,
                                                                    IMGSVC_SOURCE_DIR=SRC))
        return p.returncode, p.stdout + p.stderr

    def test_a_matching_run_passes_and_a_wrong_answer_fails(self):
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            ok = self.report(tmp, 200, body({"status": "ok"}))
            rc, out = self.run_check("newman", ok, "http://127.0.0.1:8080")
            self.assertEqual(rc, 0, out)
            self.assertIn("1 of 1 API responses", out)  # the store's answer is not checked
            wrong = self.report(tmp, 200, body({"status": "fine"}))
            rc, out = self.run_check("newman", wrong, "http://127.0.0.1:8080")
            self.assertEqual(rc, 1, out)
            self.assertIn("getHealthz", out)
            rc, out = self.run_check("newman", ok, "http://127.0.0.1:1")
            self.assertEqual(rc, 1, "a report with no API answer must not pass: " + out)
            import base64
            lines = os.path.join(tmp, "api.jsonl")
            for status, want in ((200, 0), (418, 1)):
                with open(lines, "w") as f:
                    f.write(json.dumps({"method": "GET", "target": "/healthz", "status": status,
                                        "headers": JSON, "body": base64.b64encode(
                                            body({"status": "ok"})).decode()}) + "\n")
                rc, out = self.run_check("jsonl", lines)
                self.assertEqual(rc, want, out)

UPLOAD_ID = "61be4099-7f46-4c1e-b2f8-c72e075ad06b_1795535406"


def sample_request(method, pattern):
    """A minimal request for a registered route: (method, target, body, headers)."""
    target = pattern.replace("{uploadId}", UPLOAD_ID)
    if pattern == "/v1/uploads/{uploadId}":
        target += "?domain=profile&userId=42"
    elif pattern == "/debug/sleep":
        target += "?ms=0"
    body, hdrs = None, {"X-Request-Id": "contract-1"}
    if method == "POST":
        body = b"{}"
        hdrs["Content-Type"] = "application/json"
    return method, target, body, hdrs


class EveryRouteLive(unittest.TestCase):
    def test_every_registered_route_answers_as_documented(self):
        require_bin(self)
        srv = Server(env={"IMGSVC_DEBUG_ROUTES": "true", "IMGSVC_DEMO": "on"})
        try:
            seen = []
            for method, pattern in sorted(registered_routes()):
                m, target, body, hdrs = sample_request(method, pattern)
                status, rh, _ = srv.request(m, target, body=body, headers=hdrs)  # checked
                self.assertNotIn(status, (404, 405), f"{m} {target}")
                self.assertEqual(rh.get("x-request-id"), "contract-1", f"{m} {target}")
                seen.append((m, pattern, status))
                if m == "GET":  # and HEAD, served by the GET route, without a body
                    status, _, data = srv.request("HEAD", target, headers=hdrs)
                    self.assertEqual((status, data), (seen[-1][2], b""), f"HEAD {target}")
            self.assertGreaterEqual(len(seen), 15)
        finally:
            self.assertEqual(srv.stop(), 0)

    def test_unrouted_and_wrong_method_answers_match_the_contract(self):
        require_bin(self)
        srv = Server(env={"IMGSVC_DEMO": "off"})
        try:
            for method, target, want in (("GET", "/demo.js", 404), ("GET", "/v1", 404),
                                         ("GET", "/v1/uploads", 405),
                                         ("PUT", "/v1/uploads/" + UPLOAD_ID, 405),
                                         ("DELETE", "/metrics", 405),
                                         ("GET", "/v1/events/s3", 405),
                                         ("GET", "/v1/resize", 405)):
                status, hdrs, _ = srv.request(method, target)  # checked against the contract
                self.assertEqual(status, want, f"{method} {target}")
                if want == 405:
                    self.assertNotIn(method, hdrs["allow"])
        finally:
            self.assertEqual(srv.stop(), 0)

if __name__ == "__main__":
    unittest.main()
