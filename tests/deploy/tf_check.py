#!/usr/bin/env python3
"""Checks of deploy/terraform, read through @cdktf/hcl2json (npm, pinned in tests/package.json).

  tf_check.py parse      every .tf file parses
  tf_check.py policy     no IAM policy grants too much (below)
  tf_check.py shape      the deployment has what issue 8 asks for (below)
  tf_check.py selftest   the checks refuse broken snippets, and accept the real tree

policy, over every .tf file: each `policy`/`assume_role_policy` attribute is a reference to a
data "aws_iam_policy_document" (so it can be read here: no jsonencode or heredoc JSON); no Allow
statement has the action `*`, any `s3:` action with a wildcard (`s3:*`, `s3:Get*`), or
not_actions; no Allow statement with an s3 action has the resource `*`, an `arn:aws:s3:::*`
resource, or an object resource covering the whole bucket (`<bucket arn>/*`); and nothing
names AmazonS3FullAccess (or any *FullAccess managed policy).

shape: the bucket blocks all public access; lifecycle rules expire delete/ after 1 day and
failed/ after var.failed_retention_days; CORS allows PUT from var.cors_allowed_origins; the
function is package_type "Image" from var.image_uri with the command ["lambda"], a timeout and
memory; S3 may invoke it with source_arn and source_account; the notification is
s3:ObjectCreated:* with filter_prefix "delete/"; the function's policy grants GetObject and
DeleteObject on delete/*, PutObject and GetObject on profile/, feed/, chatroom/ and failed/,
ListBucket only with an s3:prefix condition on those prefixes, and CloudWatch log writes; an
optional SQS dead-letter queue is wired (and optional: a count or for_each on the queue); the
outputs name the bucket, the function, its role, its log group and the queue; the aws provider
version is pinned exactly.

Exit codes: 0 pass, 1 fail, 77 skipped (node or the npm package missing; fails under
IMGSVC_TEST_STRICT=1).
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.environ.get("IMGSVC_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TF_DIR = os.path.join(ROOT, "deploy", "terraform")
HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.join(ROOT, "tests", "node_modules", "@cdktf", "hcl2json", "package.json")
SKIP = 77
OUTPUT_PREFIXES = ["profile/", "feed/", "chatroom/", "failed/"]
OUTPUTS = ["bucket_name", "function_name", "function_arn", "role_arn", "log_group_name",
           "dead_letter_queue_url"]
S3_OBJECT_ACTIONS = re.compile(r"^s3:(Get|Put|Delete|Restore|Abort|Replicate)Object")


def hcl2json(files):
    """{file: parsed JSON or {"__error__": message}}."""
    res = subprocess.run(["node", os.path.join(HERE, "hcl2json.cjs")] + files,
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"hcl2json.cjs failed: {res.stderr}")
    return json.loads(res.stdout)


def blocks(doc, kind, type_):
    """[(name, body)] of `kind "type_" "name" {}` blocks (resource/data) in one parsed file."""
    out = []
    for name, bodies in doc.get(kind, {}).get(type_, {}).items():
        for body in bodies:
            out.append((name, body))
    return out


def all_blocks(docs, kind, type_):
    return [(f, n, b) for f, d in docs.items() for n, b in blocks(d, kind, type_)]


def statements(body):
    """Statements of an aws_iam_policy_document body, dynamic ones included."""
    out = list(body.get("statement", []))
    for dyn in body.get("dynamic", {}).get("statement", []):
        out.extend(dyn.get("content", []))
    return out


def as_list(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def statement_problems(where, st):
    problems = []
    if st.get("effect", "Allow") != "Allow":
        return problems
    actions = as_list(st.get("actions"))
    resources = as_list(st.get("resources"))
    if st.get("not_actions"):
        problems.append(f"{where}: an Allow with not_actions grants everything else")
    if st.get("not_resources"):
        problems.append(f"{where}: an Allow with not_resources")
    s3 = [a for a in actions if a.lower().startswith("s3:")]
    for a in actions:
        if a == "*" or (a.lower().startswith("s3:") and "*" in a):
            problems.append(f"{where}: grants the action {a!r}")
    if s3:
        for r in resources:
            if r == "*" or re.match(r"^arn:aws[a-z-]*:s3:::\*", r):
                problems.append(f"{where}: grants {', '.join(s3)} on the resource {r!r}")
            elif any(S3_OBJECT_ACTIONS.match(a) for a in s3) and re.search(
                    r"(\}|:::[^/]+)/\*$", r):
                problems.append(f"{where}: grants {', '.join(s3)} on every object ({r!r}); "
                                f"name the prefix")
    return problems


def policy_problems(docs, texts):
    problems = []
    for f, name, body in all_blocks(docs, "data", "aws_iam_policy_document"):
        for i, st in enumerate(statements(body)):
            where = f"{os.path.basename(f)}: aws_iam_policy_document.{name} statement " \
                    f"{st.get('sid') or i}"
            problems.extend(statement_problems(where, st))
    for f, doc in docs.items():
        for type_, named in doc.get("resource", {}).items():
            for name, bodies in named.items():
                for body in bodies:
                    problems.extend(attr_problems(f, f"{type_}.{name}", body))
    for f, doc in docs.items():  # the code, not its comments
        for m in re.finditer(r"[A-Za-z0-9]*FullAccess", json.dumps(doc)):
            problems.append(f"{os.path.basename(f)}: names the managed policy {m.group(0)}")
    return problems


def attr_problems(f, where, body):
    """Policies given as anything but a policy document reference cannot be checked."""
    problems = []
    for key in ("policy", "assume_role_policy"):
        if key in body and not re.fullmatch(r"\$\{data\.aws_iam_policy_document\.[A-Za-z0-9_-]+"
                                            r"(\[[^\]]*\])?\.json\}", str(body[key])):
            problems.append(f"{os.path.basename(f)}: {where}.{key} is not a reference to a "
                            f"data.aws_iam_policy_document (write it as one so it is checked)")
    for inline in body.get("inline_policy", []):
        problems.extend(attr_problems(f, where + ".inline_policy", inline))
    return problems


def one(docs, kind, type_, problems):
    found = all_blocks(docs, kind, type_)
    if len(found) != 1:
        problems.append(f"expected one {kind} {type_}, found {len(found)}")
        return {}
    return found[0][2]


def shape_problems(docs):
    p = []
    pab = one(docs, "resource", "aws_s3_bucket_public_access_block", p)
    for k in ("block_public_acls", "block_public_policy", "ignore_public_acls",
              "restrict_public_buckets"):
        if pab and pab.get(k) is not True:
            p.append(f"aws_s3_bucket_public_access_block: {k} is not true")
    lc = one(docs, "resource", "aws_s3_bucket_lifecycle_configuration", p)
    rules = {}
    for r in lc.get("rule", []):
        prefix = (r.get("filter") or [{}])[0].get("prefix")
        days = (r.get("expiration") or [{}])[0].get("days")
        if r.get("status") == "Enabled":
            rules[prefix] = days
    if lc and rules.get("delete/") != 1:
        p.append(f"lifecycle: delete/ must expire after 1 day (rules: {rules})")
    if lc and rules.get("failed/") != "${var.failed_retention_days}":
        p.append(f"lifecycle: failed/ must expire after var.failed_retention_days ({rules})")
    cors = one(docs, "resource", "aws_s3_bucket_cors_configuration", p)
    cr = (cors.get("cors_rule") or [{}])[0] if cors else {}
    if cors and ("PUT" not in as_list(cr.get("allowed_methods")) or
                 cr.get("allowed_origins") != "${var.cors_allowed_origins}"):
        p.append("CORS: PUT from var.cors_allowed_origins is not allowed")
    fn = one(docs, "resource", "aws_lambda_function", p)
    if fn:
        if fn.get("package_type") != "Image" or fn.get("image_uri") != "${var.image_uri}":
            p.append("aws_lambda_function: must be package_type Image from var.image_uri")
        if (fn.get("image_config") or [{}])[0].get("command") != ["lambda"]:
            p.append('aws_lambda_function: image_config.command must be ["lambda"]')
        for k in ("timeout", "memory_size", "role"):
            if k not in fn:
                p.append(f"aws_lambda_function: no {k}")
    perm = one(docs, "resource", "aws_lambda_permission", p)
    if perm and (perm.get("principal") != "s3.amazonaws.com" or "source_arn" not in perm or
                 "source_account" not in perm):
        p.append("aws_lambda_permission: principal s3.amazonaws.com with source_arn and "
                 "source_account expected")
    note = one(docs, "resource", "aws_s3_bucket_notification", p)
    lf = (note.get("lambda_function") or [{}])[0] if note else {}
    if note and (lf.get("events") != ["s3:ObjectCreated:*"] or
                 lf.get("filter_prefix") != "delete/"):
        p.append("aws_s3_bucket_notification: s3:ObjectCreated:* on delete/ expected")
    p.extend(lambda_policy_problems(docs))
    queues = all_blocks(docs, "resource", "aws_sqs_queue")
    wired = json.dumps(all_blocks(docs, "resource", "aws_lambda_function_event_invoke_config"))
    if not queues or ("on_failure" not in wired and "dead_letter_config" not in json.dumps(fn)):
        p.append("no SQS dead-letter queue wired as on_failure destination or dead_letter_config")
    if any("count" not in b and "for_each" not in b for _, _, b in queues):
        p.append("the dead-letter queue is not optional (no count or for_each on aws_sqs_queue)")
    outputs = {n for d in docs.values() for n in (d.get("output") or {})}
    p.extend(f"outputs: no output {n}" for n in OUTPUTS if n not in outputs)
    versions = json.dumps([d.get("terraform") for d in docs.values() if d.get("terraform")])
    if not re.search(r'"version": "=?\s*\d+\.\d+\.\d+"', versions):
        p.append("versions.tf: the aws provider version is not pinned exactly")
    return p


def lambda_policy_problems(docs):
    p = []
    fn_policies = [b for _, n, b in all_blocks(docs, "resource", "aws_iam_role_policy")
                   if "aws_iam_role.lambda" in str(b.get("role"))]
    if len(fn_policies) != 1:
        return [f"expected one aws_iam_role_policy on aws_iam_role.lambda, "
                f"found {len(fn_policies)}"]
    m = re.search(r"aws_iam_policy_document\.([A-Za-z0-9_-]+)", str(fn_policies[0]["policy"]))
    body = next((b for _, n, b in all_blocks(docs, "data", "aws_iam_policy_document")
                 if m and n == m.group(1)), None)
    if body is None:
        return ["the function's policy document is missing"]
    grants = {}
    for st in statements(body):
        if st.get("effect", "Allow") != "Allow":
            continue
        for a in as_list(st.get("actions")):
            grants.setdefault(a, []).append(st)

    def resources(action):
        return {r for st in grants.get(action, []) for r in as_list(st.get("resources"))}

    def covers(action, prefix):
        return any(r.endswith("/" + prefix + "*") for r in resources(action))

    for a in ("s3:GetObject", "s3:DeleteObject"):
        if not covers(a, "delete/"):
            p.append(f"function policy: {a} on delete/* missing")
    if any(not r.endswith("/delete/*") for r in resources("s3:DeleteObject")):
        p.append("function policy: s3:DeleteObject beyond delete/*")
    for a in ("s3:PutObject", "s3:GetObject"):
        for prefix in OUTPUT_PREFIXES:
            if not covers(a, prefix):
                p.append(f"function policy: {a} on {prefix}* missing")
    if covers("s3:PutObject", "delete/"):
        p.append("function policy: s3:PutObject on delete/* would let it trigger itself")
    lists = grants.get("s3:ListBucket", [])
    if not lists:
        p.append("function policy: s3:ListBucket missing")
    for st in lists:
        conds = [c for c in st.get("condition", []) if c.get("variable") == "s3:prefix"]
        values = sorted(v for c in conds for v in as_list(c.get("values")))
        want = sorted(x + "*" for x in ["delete/"] + OUTPUT_PREFIXES)
        if not conds or values != want:
            p.append(f"function policy: s3:ListBucket must be limited by s3:prefix to {want} "
                     f"(has {values or 'no condition'})")
    for a in ("logs:CreateLogStream", "logs:PutLogEvents"):
        if a not in grants:
            p.append(f"function policy: {a} missing (CloudWatch logs)")
    return p


def load_tree():
    files = sorted(glob.glob(os.path.join(TF_DIR, "*.tf")))
    docs = hcl2json(files)
    texts = {}
    for f in files:
        with open(f, encoding="utf-8") as fh:
            texts[f] = fh.read()
    return files, docs, texts


def report(problems, ok_msg):
    for p in problems:
        print(p)
    if problems:
        print(f"FAIL: {len(problems)} problem(s)")
        return 1
    print(ok_msg)
    return 0


BAD_SNIPPETS = {
    "s3 star": 'data "aws_iam_policy_document" "x" {\n  statement {\n    actions   = ["s3:*"]\n'
               '    resources = ["arn:aws:s3:::b/delete/*"]\n  }\n}\n',
    "star action": 'data "aws_iam_policy_document" "x" {\n  statement {\n    actions   = ["*"]\n'
                   '    resources = ["arn:aws:s3:::b/delete/*"]\n  }\n}\n',
    "s3 wildcard action": 'data "aws_iam_policy_document" "x" {\n  statement {\n'
                          '    actions   = ["s3:Get*"]\n'
                          '    resources = ["arn:aws:s3:::b/delete/*"]\n  }\n}\n',
    "star resource": 'data "aws_iam_policy_document" "x" {\n  statement {\n'
                     '    actions   = ["s3:GetObject"]\n    resources = ["*"]\n  }\n}\n',
    "whole bucket": 'data "aws_iam_policy_document" "x" {\n  statement {\n'
                    '    actions   = ["s3:PutObject"]\n'
                    '    resources = ["${aws_s3_bucket.images.arn}/*"]\n  }\n}\n',
    "dynamic star": 'data "aws_iam_policy_document" "x" {\n  dynamic "statement" {\n'
                    '    for_each = [1]\n    content {\n      actions   = ["s3:*"]\n'
                    '      resources = ["*"]\n    }\n  }\n}\n',
    "full access": 'resource "aws_iam_role_policy_attachment" "x" {\n  role       = "r"\n'
                   '  policy_arn = "arn:aws:iam::aws:policy/AmazonS3FullAccess"\n}\n',
    "jsonencode": 'resource "aws_iam_role_policy" "x" {\n  role   = "r"\n'
                  '  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "s3:*",'
                  ' Resource = "*" }] })\n}\n',
    "not_actions": 'data "aws_iam_policy_document" "x" {\n  statement {\n'
                   '    not_actions = ["iam:*"]\n    resources   = ["*"]\n  }\n}\n',
}


def selftest():
    failures = 0
    files, docs, texts = load_tree()
    base = [d for d in docs.values() if "__error__" in d] or policy_problems(docs, texts) or \
        shape_problems(docs)
    if base:
        print("FAIL: the real tree does not pass:", *base, sep="\n  ")
        return 1
    with tempfile.TemporaryDirectory() as tmp:  # one hcl2json run for every snippet
        paths = {}
        for i, (what, text) in enumerate([("broken HCL", 'resource "aws_s3_bucket" "b" {\n'
                                           '  bucket = \n}\n')] + list(BAD_SNIPPETS.items())):
            paths[what] = (os.path.join(tmp, f"bad{i}.tf"), text)
            with open(paths[what][0], "w", encoding="utf-8") as f:
                f.write(text)
        parsed = hcl2json([p for p, _ in paths.values()])
        if "__error__" in parsed[paths["broken HCL"][0]]:
            print("ok: broken HCL does not parse")
        else:
            print("FAIL: broken HCL parsed")
            failures += 1
        for what in BAD_SNIPPETS:
            path, text = paths[what]
            doc = parsed[path]
            problems = ["parse: " + doc["__error__"]] if "__error__" in doc else \
                policy_problems({path: doc}, {path: text})
            if problems and not problems[0].startswith("parse:"):
                print(f"ok: {what}: {problems[0]}")
            else:
                print(f"FAIL: {what}: {problems or 'accepted'}")
                failures += 1
    # Shape: the real tree with the notification's prefix changed must fail.
    mutated = json.loads(json.dumps(docs))
    for d in mutated.values():
        for _, body in blocks(d, "resource", "aws_s3_bucket_notification"):
            body["lambda_function"][0]["filter_prefix"] = ""
        for _, body in blocks(d, "data", "aws_iam_policy_document"):
            for st in statements(body):
                st.pop("condition", None) if "s3:ListBucket" in as_list(st.get("actions")) \
                    else None
        d.pop("output", None)
        for _, body in blocks(d, "resource", "aws_sqs_queue"):
            body.pop("count", None)
    got = shape_problems(mutated)
    if len(got) >= 4 and any(g.startswith("outputs:") for g in got) and \
            any("not optional" in g for g in got):
        print(f"ok: shape mutations: {'; '.join(got)}")
    else:
        print(f"FAIL: shape mutations found {got}")
        failures += 1
    return 1 if failures else 0


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "policy"
    if shutil.which("node") is None or not os.path.exists(PKG):
        what = "node or @cdktf/hcl2json (tests/node_modules; npm ci in tests/) is missing"
        if os.environ.get("IMGSVC_TEST_STRICT") == "1":
            print(f"FAIL: {what}")
            return 1
        print(f"SKIP: {what}")
        return SKIP
    with open(os.path.join(ROOT, "tests", "package.json"), encoding="utf-8") as f:
        pinned = json.load(f)["devDependencies"]["@cdktf/hcl2json"]
    with open(PKG, encoding="utf-8") as f:
        have = json.load(f)["version"]
    if have != pinned:
        print(f"FAIL: @cdktf/hcl2json {have} installed, tests/package.json pins {pinned}")
        return 1
    if mode == "selftest":
        return selftest()
    files, docs, texts = load_tree()
    if len(files) < 5:
        print(f"FAIL: only {len(files)} .tf files in deploy/terraform")
        return 1
    if mode == "parse":
        errs = [f"{os.path.basename(f)}: {d['__error__']}" for f, d in docs.items()
                if "__error__" in d]
        return report(errs, f"ok: {len(files)} .tf files parse")
    if mode == "policy":
        return report(policy_problems(docs, texts),
                      "ok: no policy grants a wildcard action or an S3 wildcard resource")
    if mode == "shape":
        return report(shape_problems(docs), "ok: the deployment has everything issue 8 asks")
    print(f"unknown mode {mode!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
