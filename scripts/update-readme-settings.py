#!/usr/bin/env python3
"""Regenerates the README's settings table from `imgsvc config --markdown`.

usage: scripts/update-readme-settings.py [BUILD_DIR]   (default build/)
The test integration.test_cli.test_readme_settings_table_matches_the_config_table fails when
the README and the settings table in server/config.c disagree; run this after changing one.
"""
import os
import re
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build")
md = subprocess.run([os.path.join(build, "imgsvc"), "config", "--markdown"], check=True,
                    capture_output=True, text=True).stdout
path = os.path.join(root, "README.md")
with open(path, encoding="utf-8") as f:
    text = f.read()
new, n = re.subn(r"(<!-- settings:begin -->\n).*?(<!-- settings:end -->)",
                 lambda m: m.group(1) + md + m.group(2), text, flags=re.S)
if n != 1:
    sys.exit("README.md lacks the settings markers")
with open(path, "w", encoding="utf-8") as f:
    f.write(new)
