"""`imgsvc reprocess` on a terminal, against Ceph RGW (the `rgw` fixture): with standard error
on a pseudo-terminal it draws one progress line, rewritten in place with a carriage return,
`<prefix> done/total  ready N  done before N  failed N  retry N  ignored N  R/s  ETA m:ss`, ends
it with a newline, prints no per-upload JSON line and no info log line, and standard output
gets only the summary. (Without a terminal, JSON lines per upload: test_reconcile_rgw.py.)"""
# ctest-fixtures: imaging_corpus rgw
import json
import os
import pty
import re
import subprocess
import unittest

import test_reconcile_rgw as rr
from harness import BIN


def run_on_a_terminal(args, env, timeout=180):
    """Runs imgsvc with stderr on a pty; returns (exit code, stdout text, stderr text)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("IMGSVC_") or k in (
        "IMGSVC_BIN", "IMGSVC_SOURCE_DIR")}
    full.update(env)
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([BIN, *args], env=full, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=slave)
    finally:
        os.close(slave)
    chunks = []
    try:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    out = p.stdout.read()
    p.stdout.close()
    rc = p.wait(timeout)
    return rc, out.decode(), b"".join(chunks).decode(errors="replace")


class ReprocessProgress(rr.ReconcileRgw):
    def test_progress_line_on_a_terminal(self):
        keys = self.put_temps(2)
        self.process_while_serving(keys)
        prefix = f"feed/{self.feed}/"
        rc, out, err = run_on_a_terminal(
            ["reprocess", "--prefix", prefix, "--force", "--concurrency", "1"], rr.RGW)
        self.assertEqual(rc, 0, err)

        lines = [ln for ln in out.splitlines() if ln.strip()]
        self.assertEqual(len(lines), 1, f"stdout holds only the summary: {out!r}")
        summary = json.loads(lines[0])["summary"]
        self.assertEqual((summary["total"], summary["ready"], summary["prefix"]),
                         (2, 2, prefix))

        self.assertNotIn('"level":"info"', err, "info logs would break the line")
        self.assertNotIn('"outcome"', err)
        self.assertTrue(err.startswith("\r"), repr(err))
        self.assertTrue(err.endswith("\n"), repr(err))  # the final line is ended
        shown = [s.strip() for s in re.split(r"[\r\n]", err) if s.strip()]
        pat = re.compile(re.escape(prefix) + r" (\d+)/2  ready (\d+)  done before 0  failed 0  "
                         r"retry 0  ignored 0  (\d+\.\d)/s  ETA (\d+:\d\d|--:--)$")
        got = [pat.match(s) for s in shown]
        self.assertTrue(all(got), f"not a progress line: {shown!r}")
        done = [int(m.group(1)) for m in got]
        self.assertEqual(done, sorted(done), "done never goes back")
        self.assertIn(1, done, "the line is drawn before the end")
        last = got[-1]
        self.assertEqual((last.group(1), last.group(2), last.group(4)), ("2", "2", "0:00"))
        self.assertGreater(float(last.group(3)), 0)
        first = got[done.index(1)]
        self.assertRegex(first.group(4), r"^\d+:\d\d$", "an ETA once the rate is known")

        for k in keys:
            self.check_variants(self.manifest(k), ["1080", "640", "320"])


if __name__ == "__main__":
    unittest.main()
