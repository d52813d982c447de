#!/usr/bin/env python3
"""Lint the top-level Dockerfile: dockerfile-utils (npm) plus the image's own rules.

  dockerfile_lint.py lint     [DOCKERFILE]
  dockerfile_lint.py selftest

lint: `dockerfile-utils lint --json` (the version pinned in tests/package.json, installed in
tests/node_modules by scripts/test.sh's `npm ci`) must report no diagnostic at all, errors or
warnings; then the rules this image promises (docs/deploy.md):
  - two stages, `build` then `runtime`; the build stage installs scripts/packages/apt-build.txt,
    the runtime stage scripts/packages/apt-runtime.txt (the list tests/deploy checks);
  - every apt-get install uses --no-install-recommends and its RUN removes /var/lib/apt/lists;
  - the runtime stage runs as a non-root USER, has a HEALTHCHECK, EXPOSEs the API port, and its
    ENTRYPOINT is the imgsvc binary in exec form with CMD ["serve"] (so `docker run IMG lambda`
    and Lambda's image command override the subcommand only).
selftest: lint passes on the real Dockerfile, and fails on each of a set of broken copies.

Exit codes: 0 pass, 1 fail, 77 skipped (node_modules missing; fails under IMGSVC_TEST_STRICT=1).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.environ.get("IMGSVC_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTS = os.path.join(ROOT, "tests")
TOOL = os.path.join(TESTS, "node_modules", ".bin", "dockerfile-utils")
SKIP = 77


def pinned_version():
    with open(os.path.join(TESTS, "package.json"), encoding="utf-8") as f:
        return json.load(f)["devDependencies"]["dockerfile-utils"]


def installed_version():
    path = os.path.join(TESTS, "node_modules", "dockerfile-utils", "package.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)["version"]


def tool_problems(path):
    """dockerfile-utils' diagnostics as 'line N: severity: message' strings."""
    res = subprocess.run(["node", TOOL, "lint", "--json", path], capture_output=True, text=True)
    try:
        diags = json.loads(res.stdout)
    except ValueError:
        return [f"dockerfile-utils failed (exit {res.returncode}): {res.stdout}{res.stderr}"]
    return [f"line {d['range']['start']['line'] + 1}: {d['severity']}: {d['message']}"
            for d in diags]


def instructions(text):
    """[(line number, INSTRUCTION, arguments)] with continuations joined, comments dropped."""
    out = []
    buf, start = "", 0
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if buf and line.lstrip().startswith("#"):
            continue
        if not buf:
            start = n
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        parts = buf.strip().split(None, 1)
        out.append((start, parts[0].upper(), parts[1] if len(parts) > 1 else ""))
        buf = ""
    return out


def stages(instrs):
    """[(stage name, [(line, INSTR, args)])] split at FROM."""
    out = []
    for ins in instrs:
        if ins[1] == "FROM":
            m = re.search(r"\s+AS\s+(\S+)\s*$", ins[2], re.IGNORECASE)
            out.append((m.group(1) if m else "", [ins]))
        elif out:
            out[-1][1].append(ins)
    return out


def rule_problems(text):
    problems = []
    st = stages(instructions(text))
    names = [s[0] for s in st]
    if names != ["build", "runtime"]:
        return [f"stages are {names}; expected ['build', 'runtime']"]
    build, runtime = st[0][1], st[1][1]

    def has(stage, instr, pattern=""):
        return any(i[1] == instr and re.search(pattern, i[2]) for i in stage)

    for stage_name, stage in st:
        for line, instr, args in stage:
            if instr == "RUN" and re.search(r"apt-get\s+install", args):
                for m in re.finditer(r"apt-get\s+install([^&;|]*)", args):
                    if "--no-install-recommends" not in m.group(1):
                        problems.append(f"line {line}: apt-get install without "
                                        f"--no-install-recommends")
                if "rm -rf /var/lib/apt/lists" not in args:
                    problems.append(f"line {line}: apt lists not removed in the same RUN")
    if not has(build, "COPY", r"scripts/packages/apt-build\.txt"):
        problems.append("build stage: does not install scripts/packages/apt-build.txt")
    if not has(runtime, "COPY", r"scripts/packages/apt-runtime\.txt"):
        problems.append("runtime stage: does not install scripts/packages/apt-runtime.txt")
    users = [i for i in runtime if i[1] == "USER"]
    if not users:
        problems.append("runtime stage: no USER (it would run as root)")
    elif re.match(r"^(root|0)(:|$)", users[-1][2].strip()):
        problems.append(f"line {users[-1][0]}: the runtime stage runs as root")
    if not has(runtime, "HEALTHCHECK", r"CMD"):
        problems.append("runtime stage: no HEALTHCHECK")
    if not has(runtime, "EXPOSE", r"\b8080\b"):
        problems.append("runtime stage: does not EXPOSE the API port 8080")
    entry = [i for i in runtime if i[1] == "ENTRYPOINT"]
    if not entry or not re.match(r'^\["[^"]*/imgsvc"\]$', entry[-1][2].strip()):
        problems.append('runtime stage: ENTRYPOINT must be ["/path/to/imgsvc"] (exec form, '
                        'no arguments, so a command overrides only the subcommand)')
    cmd = [i for i in runtime if i[1] == "CMD"]
    if not cmd or cmd[-1][2].strip() != '["serve"]':
        problems.append('runtime stage: CMD must be ["serve"]')
    return problems


def lint(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return tool_problems(path) + rule_problems(text)


def broken_copies(text):
    """(what, text) pairs that the lint must refuse."""
    return [
        ("an unknown instruction", text + "\nRUNN true\n"),
        ("a bad HEALTHCHECK duration", text.replace("--interval=30s", "--interval=30x")),
        ("no USER", re.sub(r"(?m)^USER .*\n", "", text)),
        ("USER root", re.sub(r"(?m)^USER .*$", "USER root", text)),
        ("no HEALTHCHECK", re.sub(r"(?m)^HEALTHCHECK .*\n(    CMD .*\n)?", "", text)),
        ("a shell-form ENTRYPOINT", re.sub(r"(?m)^ENTRYPOINT .*$",
                                           "ENTRYPOINT /usr/local/bin/imgsvc serve", text)),
        ("recommends installed", text.replace("--no-install-recommends", "", 1)),
        ("the runtime stage without apt-runtime.txt",
         text.replace("COPY scripts/packages/apt-runtime.txt", "COPY scripts/packages/x.txt")),
    ]


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "lint"
    path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "Dockerfile")
    have = installed_version()
    if have is None or shutil.which("node") is None:
        what = "dockerfile-utils is not installed in tests/node_modules (npm ci in tests/)"
        if os.environ.get("IMGSVC_TEST_STRICT") == "1":
            print(f"FAIL: {what}")
            return 1
        print(f"SKIP: {what}")
        return SKIP
    if have != pinned_version():
        print(f"FAIL: dockerfile-utils {have} installed, tests/package.json pins "
              f"{pinned_version()} (run npm ci in tests/)")
        return 1
    if mode == "lint":
        problems = lint(path)
        for p in problems:
            print(f"{os.path.relpath(path, ROOT)}: {p}")
        if problems:
            print(f"FAIL: {len(problems)} problem(s)")
            return 1
        print(f"ok: dockerfile-utils {have} and the image rules find nothing")
        return 0
    base = lint(path)
    if base:
        print("FAIL: the real Dockerfile does not lint clean:", *base, sep="\n  ")
        return 1
    with open(path, encoding="utf-8") as f:
        text = f.read()
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        for what, broken in broken_copies(text):
            if broken == text:
                print(f"FAIL: the mutation '{what}' changed nothing (update the self-test)")
                failures += 1
                continue
            bad = os.path.join(tmp, "Dockerfile")
            with open(bad, "w", encoding="utf-8") as f:
                f.write(broken)
            problems = lint(bad)
            if problems:
                print(f"ok: {what}: {problems[0]}")
            else:
                print(f"FAIL: {what}: the lint found nothing")
                failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
