#!/usr/bin/env python3
"""Source checks run as ctest cases (tests/lint/suite.cmake): lint.py CHECK.

CHECK is one of:
  clang_format      every .c/.h of ours is formatted as .clang-format says
  layering          no file includes a header from a layer above it (../shared/DESIGN.md):
                    server -> handlers -> {s3, imaging} -> common; plus which third-party
                    headers each layer may not include (imaging: no curl/MHD; s3: no vips/MHD)
  banned_functions  strcpy, sprintf, strtok, atoi, gets, strncpy appear nowhere in our C code
  openapi           `redocly lint` of openapi.yaml passes (redocly.yaml: recommended, strict)
  readme_ci         .ci/run runs exactly the README's second Quick start command

Exit codes: 0 pass, 1 fail, 77 skipped (a tool is missing; under IMGSVC_TEST_STRICT=1, as
scripts/test.sh sets it, a missing tool fails instead). Findings are printed as file:line: text.
"""
import os
import re
import shlex
import shutil
import subprocess
import sys

ROOT = os.environ.get("IMGSVC_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAYERS = ["common", "s3", "imaging", "handlers", "server"]
C_DIRS = LAYERS + ["tests", "bench"]
SKIP_DIRS = {"node_modules", ".git", "__pycache__"}

# Which of our layers each layer may include (its own included).
ALLOWED = {
    "common": {"common"},
    "s3": {"s3", "common"},
    "imaging": {"imaging", "common"},
    "handlers": {"handlers", "s3", "imaging", "common"},
    "server": set(LAYERS),
}
# Third-party headers a layer must not include (regex on the include path).
FORBIDDEN_SYSTEM = {
    "common": r"^(curl/|vips/|microhttpd\.h$)",
    "s3": r"^(vips/|microhttpd\.h$)",
    "imaging": r"^(curl/|microhttpd\.h$)",
    "handlers": r"^microhttpd\.h$",
}
BANNED = ["strcpy", "sprintf", "strtok", "atoi", "gets", "strncpy"]
SKIP = 77


def rel(path):
    return os.path.relpath(path, ROOT)


def c_files(dirs):
    """Every .c/.h file under the given top-level folders, sorted."""
    out = []
    for d in dirs:
        top = os.path.join(ROOT, d)
        for base, subdirs, files in os.walk(top):
            subdirs[:] = sorted(s for s in subdirs if s not in SKIP_DIRS)
            out.extend(os.path.join(base, f) for f in files if f.endswith((".c", ".h")))
    return sorted(out)


def missing_tool(what):
    """Fails under IMGSVC_TEST_STRICT=1, skips otherwise."""
    if os.environ.get("IMGSVC_TEST_STRICT") == "1":
        print(f"FAIL: {what} (scripts/test.sh installs it)")
        return 1
    print(f"SKIP: {what}; scripts/test.sh installs it")
    return SKIP


def check_clang_format():
    exe = shutil.which("clang-format")
    if exe is None:
        return missing_tool("clang-format not found")
    files = c_files(C_DIRS)
    if not files:
        print("FAIL: no C files found")
        return 1
    res = subprocess.run([exe, "--dry-run", "-Werror", "--style=file"] + files, cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if res.returncode != 0:
        print(res.stdout)
        print("FAIL: files above are not formatted; run clang-format -i on them")
        return 1
    print(f"ok: {len(files)} files formatted")
    return 0


INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def layer_of(path):
    """The layer a repository path belongs to, or None."""
    first = rel(path).split(os.sep)[0]
    return first if first in LAYERS else None


def resolve_include(src, kind, name):
    """The repository file an include names, or None for a system header."""
    candidates = []
    if kind == '"':
        candidates.append(os.path.join(os.path.dirname(src), name))
    candidates.append(os.path.join(ROOT, name))
    for c in candidates:
        c = os.path.normpath(c)
        if os.path.isfile(c) and not rel(c).startswith(".."):
            return c
    if name.split("/")[0] in LAYERS:  # ours, even if the file does not exist (yet)
        return os.path.normpath(os.path.join(ROOT, name))
    return None


def check_layering():
    problems = []
    count = 0
    for src in c_files(LAYERS):
        layer = layer_of(src)
        with open(src, encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE_RE.match(line)
                if not m:
                    continue
                count += 1
                kind, name = m.group(1), m.group(2).strip()
                target = resolve_include(src, kind, name)
                where = f"{rel(src)}:{lineno}"
                if target is not None:
                    tl = layer_of(target)
                    if tl is None:
                        problems.append(f"{where}: {layer}/ includes {name}, outside the layers")
                    elif tl not in ALLOWED[layer]:
                        problems.append(f"{where}: {layer}/ may not include {name} ({tl}/ is "
                                        f"not below it; allowed: {sorted(ALLOWED[layer])})")
                elif layer in FORBIDDEN_SYSTEM and re.search(FORBIDDEN_SYSTEM[layer], name):
                    problems.append(f"{where}: {layer}/ may not include <{name}>")
    for p in problems:
        print(p)
    if problems:
        print(f"FAIL: {len(problems)} layering violations (see ../shared/DESIGN.md)")
        return 1
    print(f"ok: {count} includes checked")
    return 0


def strip_c(text):
    """C source with comments, string and character literals blanked (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j, n)
            if j < n and text[j] == c:
                j += 1
            out.append("".join(ch if ch == "\n" else " " for ch in text[i:j]))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def check_banned_functions():
    pattern = re.compile(r"\b(" + "|".join(BANNED) + r")\b")
    problems = []
    files = c_files(C_DIRS)
    for src in files:
        with open(src, encoding="utf-8", errors="replace") as f:
            code = strip_c(f.read())
        for lineno, line in enumerate(code.split("\n"), 1):
            for m in pattern.finditer(line):
                problems.append(f"{rel(src)}:{lineno}: {m.group(1)} is banned (STYLE.md)")
    for p in problems:
        print(p)
    if problems:
        print("FAIL: use snprintf, strtol with checks, memcpy with explicit lengths")
        return 1
    print(f"ok: {len(files)} files free of {', '.join(BANNED)}")
    return 0


def check_openapi():
    exe = os.path.join(ROOT, "tests", "node_modules", ".bin", "redocly")
    if not os.path.exists(exe):
        return missing_tool("tests/node_modules/.bin/redocly not found (npm ci --prefix tests)")
    if shutil.which("node") is None:
        return missing_tool("node not found")
    env = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true",
               NO_COLOR="1", FORCE_COLOR="0")
    res = subprocess.run([exe, "lint", "openapi.yaml", "--config", "redocly.yaml",
                          "--format", "codeframe"], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         timeout=240)
    print(res.stdout)
    if res.returncode != 0:
        print(f"FAIL: redocly lint exited {res.returncode}")
        return 1
    return 0


def fenced_blocks(section, lang):
    """The bodies of the ```lang fenced blocks in a Markdown section, in order."""
    blocks, cur = [], None
    for line in section.split("\n"):
        s = line.strip()
        if cur is None and re.fullmatch(r"```\s*" + lang + r"\s*", s):
            cur = []
        elif cur is not None and s.startswith("```"):
            blocks.append(cur)
            cur = None
        elif cur is not None:
            cur.append(line)
    return blocks


def commands(lines):
    """The shell command lines of a script or block: no blanks, comments or shebang."""
    return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]


def normalize(cmd):
    """A command as a list of words; `exec`, `sudo` and a leading `./` dropped (the scripts
    themselves use sudo when not root, so `sudo scripts/test.sh` is the same command as root)."""
    words = shlex.split(cmd)
    while words and words[0] in ("exec", "sudo"):
        words = words[1:]
    if words and words[0].startswith("./"):
        words[0] = words[0][2:]
    return words


def readme_commands():
    """The README's Quick start commands, or raises ValueError saying what is wrong."""
    path = os.path.join(ROOT, "README.md")
    if not os.path.isfile(path):
        raise ValueError("README.md not found")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"^## Quick start[ \t]*$(.*?)(?=^## |\Z)", text, re.M | re.S | re.I)
    if not m:
        raise ValueError("README.md has no '## Quick start' section")
    blocks = fenced_blocks(m.group(1), "sh")
    if len(blocks) < 2:
        raise ValueError(f"'## Quick start' has {len(blocks)} ```sh blocks, expected 2")
    out = []
    for i, block in enumerate(blocks[:2], 1):
        cmds = commands(block)
        if len(cmds) != 1:
            raise ValueError(f"Quick start ```sh block {i} holds {len(cmds)} commands, "
                             f"expected one: {cmds}")
        out.append(cmds[0])
    return out


def ci_command():
    """The one command .ci/run runs (after the `cd` to the repository root)."""
    path = os.path.join(ROOT, ".ci", "run")
    if not os.path.isfile(path):
        raise ValueError(".ci/run not found")
    if not os.access(path, os.X_OK):
        raise ValueError(".ci/run is not executable")
    with open(path, encoding="utf-8") as f:
        cmds = commands(f.read().split("\n"))
    cmds = [c for c in cmds if not re.fullmatch(r'cd "\$\(dirname "\$0"\)/\.\."( \|\| exit 1)?',
                                                 c)]
    if len(cmds) != 1:
        raise ValueError(f".ci/run must run exactly one command after `cd` to the root: {cmds}")
    return cmds[0]


def check_readme_ci():
    try:
        first, second = readme_commands()
        ci = ci_command()
    except ValueError as e:
        print(f"FAIL: {e}")
        return 1
    rc = 0
    for label, cmd in (("first", first), ("second", second)):
        words = normalize(cmd)
        script = os.path.join(ROOT, words[0]) if words else ""
        if not words or not os.path.isfile(script) or not os.access(script, os.X_OK):
            print(f"FAIL: README's {label} command `{cmd}` does not run an executable script "
                  "of the repository")
            rc = 1
    if normalize(ci) != normalize(second):
        print(f"FAIL: .ci/run runs `{ci}` but the README's second command is `{second}`")
        rc = 1
    if rc == 0:
        print(f"ok: README command 1 `{first}`, command 2 and .ci/run `{second}`")
    return rc


CHECKS = {
    "clang_format": check_clang_format,
    "layering": check_layering,
    "banned_functions": check_banned_functions,
    "openapi": check_openapi,
    "readme_ci": check_readme_ci,
}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CHECKS:
        print(f"usage: lint.py {{{'|'.join(CHECKS)}}}")
        return 2
    return CHECKS[sys.argv[1]]()


if __name__ == "__main__":
    sys.exit(main())
