"""Integration tests of the command line: help, version, config, bad settings, subcommands
not yet available, and the README's settings table matching the config table."""
import os
import re
import unittest

from harness import SOURCE_DIR, Server, contract, require_bin, run_cli


class Cli(unittest.TestCase):
    def setUp(self):
        require_bin(self)

    def test_help_lists_commands_and_every_setting(self):
        rc, out, _ = run_cli("--help")
        self.assertEqual(rc, 0)
        for word in ("serve", "config", "process", "lambda", "presign"):
            self.assertIn(word, out)
        _, md, _ = run_cli("config", "--markdown")
        for name in re.findall(r"^\| `([A-Z0-9_]+)` \|", md, re.M):
            self.assertIn(name, out)

    def test_version(self):
        rc, out, _ = run_cli("--version")
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"^imgsvc \d+\.\d+\.\d+ \(\S+\)\n$")

    def test_no_command_and_unknown_command_exit_2(self):
        rc, _, err = run_cli()
        self.assertEqual(rc, 2)
        self.assertIn("usage", err)
        rc, _, err = run_cli("frobnicate")
        self.assertEqual(rc, 2)
        self.assertIn("unknown command 'frobnicate'", err)

    def test_config_prints_effective_settings_with_secrets_masked(self):
        rc, out, _ = run_cli("config", env={"IMGSVC_PORT": "9999",
                                            "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG",
                                            "AWS_SESSION_TOKEN": "FwoGZXIvYXdzE"})
        self.assertEqual(rc, 0)
        self.assertIn("IMGSVC_PORT=9999\n", out)
        self.assertIn("AWS_SECRET_ACCESS_KEY=****\n", out)
        self.assertIn("AWS_SESSION_TOKEN=****\n", out)
        self.assertNotIn("wJalr", out)
        self.assertNotIn("FwoGZX", out)

    def test_bad_setting_stops_start_with_variable_and_range(self):
        for env, want in (
            ({"IMGSVC_PORT": "70000"},
             "IMGSVC_PORT=70000 is invalid: expected an integer from 0 to 65535"),
            ({"IMGSVC_LOG_LEVEL": "chatty"},
             "IMGSVC_LOG_LEVEL=chatty is invalid: expected one of debug|info|warn|error"),
            ({"IMGSVC_READ_TIMEOUT_S": "0"},
             "IMGSVC_READ_TIMEOUT_S=0 is invalid: expected an integer from 1 to 3600"),
        ):
            rc, out, err = run_cli("serve", env=env, timeout=10)
            self.assertEqual(rc, 2, env)
            self.assertIn(want, err)
            self.assertNotIn("listening", err)

    def test_process_and_lambda_without_their_inputs_exit_2(self):
        # (they used to answer "not available"; test_process.py and test_lambda.py test them)
        rc, _, err = run_cli("process")
        self.assertEqual(rc, 2)
        self.assertIn("give one event FILE", err)
        rc, _, err = run_cli("lambda", env={"AWS_LAMBDA_RUNTIME_API": ""})
        self.assertEqual(rc, 2)
        self.assertIn("AWS_LAMBDA_RUNTIME_API", err)

    def test_readme_settings_table_matches_the_config_table(self):
        _, md, _ = run_cli("config", "--markdown")
        with open(os.path.join(SOURCE_DIR, "README.md"), encoding="utf-8") as f:
            readme = f.read()
        m = re.search(r"<!-- settings:begin -->\n(.*?)<!-- settings:end -->", readme, re.S)
        self.assertIsNotNone(m, "README lacks the settings markers")
        self.assertEqual(m.group(1), md,
                         "README settings table is stale: paste `imgsvc config --markdown`")

    def test_log_level_setting_filters_lines(self):
        import socket
        import time
        import urllib.request
        with socket.socket() as probe:  # a free port: at level warn the port is not logged
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        srv = Server(env={"IMGSVC_LOG_LEVEL": "warn", "IMGSVC_PORT": str(port)}, wait=False)
        deadline = time.monotonic() + 20
        up = False
        while not up and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as r:
                    contract().check("GET", "/healthz", r.status,
                                     {k.lower(): v for k, v in r.getheaders()}, r.read())
                    up = r.status == 200
            except OSError:
                time.sleep(0.1)
        self.assertTrue(up, "imgsvc did not answer at level warn")
        self.assertEqual(srv.stop(), 0)
        self.assertIsNone(srv.port)
        self.assertFalse([l for l in srv.logs() if l["level"] == "info"])
        self.assertTrue([l for l in srv.logs() if l["level"] == "warn"])  # auth-off notice


if __name__ == "__main__":
    unittest.main()
