"""docs/guide.md and docs/operations.md against the program, so their claims cannot drift.

- Every setting either page names exists in the binary's own settings table
  (`imgsvc config --markdown`), and every default in operations.md's limit tables is the
  program's default; every integer setting but the ports and the CORS cache age is in those
  tables (a new limit must be documented there).
- operations.md's metrics table lists exactly the metric families the source registers
  (metrics_register / metrics_register_fn in server/ and handlers/), and no other imgsvc_ name.
- Every relative link of both pages (and the README's links to them) points at an existing
  file, and every #anchor at an existing heading.
- The guide's presets example is accepted by `imgsvc serve` (IMGSVC_PRESETS_FILE) and changes
  the sizes POST /v1/uploads announces.
"""
import json
import os
import re
import tempfile
import unittest

import harness
from harness import Server, require_bin, run_cli

SRC = harness.SOURCE_DIR or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PAGES = ("docs/guide.md", "docs/operations.md")
# Integer settings that bound nothing (addresses and a browser cache lifetime).
NOT_LIMITS = {"IMGSVC_PORT", "IMGSVC_STORE_PORT", "IMGSVC_STORE_CORS_MAX_AGE_S"}


def read(rel):
    with open(os.path.join(SRC, rel), encoding="utf-8") as f:
        return f.read()


def settings(test):
    """{name: (default, allowed)} from `imgsvc config --markdown`."""
    require_bin(test)
    rc, out, err = run_cli("config", "--markdown")
    test.assertEqual(rc, 0, err)
    rows = re.findall(r"^\| `([A-Z0-9_]+)` \| `([^`]*)` \| (.*)$", out, re.M)
    test.assertGreater(len(rows), 50, out[:500])
    return {n: ("" if d == "(empty)" else d, a.strip()) for n, d, a in rows}


def section(text, heading):
    """The text under `## heading` up to the next `## `."""
    m = re.search(r"^## " + re.escape(heading) + r"\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert m, f"section {heading!r} not found"
    return m.group(1)


def registered_metrics():
    names = {}
    for d in ("server", "handlers", "common", "s3", "imaging"):
        for name in sorted(os.listdir(os.path.join(SRC, d))):
            if not name.endswith(".c") or (d, name) == ("common", "metrics.c"):
                continue
            text = read(f"{d}/{name}")
            defines = dict(re.findall(r'#define (M_\w+)\s+"(imgsvc_\w+)"', text))
            for m in re.finditer(r"metrics_register(?:_fn)?\(\s*(\"(imgsvc_\w+)\"|M_\w+)", text):
                metric = m.group(2) or defines.get(m.group(1))
                assert metric, f"{d}/{name}: cannot read {m.group(0)}"
                names.setdefault(metric, f"{d}/{name}")
    return names


def slug(heading):
    """GitHub's anchor for a heading."""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(rel):
    text = read(rel)
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return {slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, re.M)}


class SettingsInDocs(unittest.TestCase):
    def test_every_setting_named_exists(self):
        known = settings(self)
        for page in PAGES:
            named = set(re.findall(r"\b((?:IMGSVC|AWS)_[A-Z0-9_]*[A-Z0-9])\b", read(page)))
            self.assertTrue(named, page)
            unknown = sorted(n for n in named if n not in known and n != "AWS_LAMBDA_RUNTIME_API")
            self.assertEqual(unknown, [], f"{page} names settings the program does not have")

    def test_operations_limit_defaults_are_the_programs(self):
        known = settings(self)
        limits = section(read("docs/operations.md"), "Limits")
        rows = re.findall(r"^\| `(IMGSVC_[A-Z0-9_]+)` \| `([^`]*)` \|", limits, re.M)
        self.assertGreater(len(rows), 30)
        wrong = [f"{n}: doc {d!r}, program {known.get(n, ('?',))[0]!r}" for n, d in rows
                 if known.get(n, (None,))[0] != d]
        self.assertEqual(wrong, [])
        documented = {n for n, _ in rows}
        ints = {n for n, (_, allowed) in known.items()
                if n.startswith("IMGSVC_") and allowed.startswith("an integer")}
        self.assertEqual(sorted(ints - documented - NOT_LIMITS), [],
                         "integer settings (limits) missing from operations.md's Limits")


class MetricsInDocs(unittest.TestCase):
    def test_the_metrics_table_is_exactly_what_the_code_registers(self):
        code = registered_metrics()
        self.assertIn("imgsvc_http_requests_total", code)
        self.assertIn("imgsvc_reconciler_runs_total", code)  # through a #define
        table = section(read("docs/operations.md"), "Metrics")
        rows = set(re.findall(r"^\| `(imgsvc_\w+)` \|", table, re.M))
        self.assertEqual(sorted(set(code) - rows), [], "registered but not documented")
        self.assertEqual(sorted(rows - set(code)), [], "documented but never registered")
        text = read("docs/operations.md")
        named = {n for n in re.findall(r"\b(imgsvc_[a-z0-9_]+)", text)
                 if not n.endswith("_bucket")}
        self.assertEqual(sorted(named - set(code)), [], "metric names nothing registers")


class LinksInDocs(unittest.TestCase):
    def test_every_relative_link_and_anchor_resolves(self):
        bad = []
        for page in PAGES + ("README.md",):
            text = re.sub(r"```.*?```", "", read(page), flags=re.S)
            for target in re.findall(r"\]\(([^)\s]+)\)", text):
                if re.match(r"[a-z]+:", target):
                    continue  # http(s), mailto
                path, _, frag = target.partition("#")
                rel = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path \
                    else page
                if not os.path.exists(os.path.join(SRC, rel)):
                    bad.append(f"{page}: {target} (no file {rel})")
                elif frag and rel.endswith(".md") and frag not in anchors(rel):
                    bad.append(f"{page}: {target} (no heading #{frag} in {rel})")
        self.assertEqual(bad, [])

    def test_the_readme_links_both_pages(self):
        docs = section(read("README.md"), "Documentation")
        for page in PAGES:
            self.assertIn(f"]({page})", docs)


class PresetsExample(unittest.TestCase):
    def test_the_guides_presets_file_is_accepted_and_used(self):
        require_bin(self)
        guide = section(read("docs/guide.md"), "Presets: the sizes imgsvc makes")
        example = re.search(r"```json\n(.*?)```", guide, re.S).group(1)
        presets = json.loads(example)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write(example)
        self.addCleanup(os.unlink, f.name)
        srv = Server(env={"IMGSVC_PRESETS_FILE": f.name})
        try:
            body = json.dumps({"domain": "feed", "ids": {"feedId": "docs"},
                               "contentType": "image/jpeg"}).encode()
            status, _, doc = srv.json("POST", "/v1/uploads", body=body,
                                      headers={"Content-Type": "application/json"})
            self.assertEqual(status, 201, doc)
            self.assertEqual(sorted(doc["variants"]),
                             sorted(["origin"] + [p["name"] for p in presets["feed"]]))
            self.assertTrue(doc["variants"]["thumb"].endswith(".webp"))
        finally:
            self.assertEqual(srv.stop(), 0)


if __name__ == "__main__":
    unittest.main()
