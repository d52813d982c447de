#!/usr/bin/env python3
"""Do the runtime image's packages provide every shared library imgsvc needs?

  runtime_libs.py check    [--bin BIN] [--list LIST] [--dockerfile DOCKERFILE]
  runtime_libs.py selftest [--bin BIN] [--list LIST] [--dockerfile DOCKERFILE]

BIN defaults to $IMGSVC_BIN, LIST to scripts/packages/apt-runtime.txt (what the Dockerfile's
runtime stage installs with apt-get --no-install-recommends), DOCKERFILE to the top-level one.

check: runs `ldd BIN`, maps every resolved library to its Debian package with `dpkg -S` (trying
both sides of the merged /usr), and fails when
  - a library does not resolve at all, or belongs to no package;
  - a library the binary needs directly (ELF NEEDED) comes from a package not named in LIST
    (naming them keeps the image right even if a dependency chain changes);
  - any other library comes from a package outside LIST and its Depends/Pre-Depends closure
    (the closure apt installs, computed from the dpkg database of this machine);
  - LIST names a package this machine does not know, or one that provides no library of BIN
    and is not one of the known non-library packages below;
  - the LD_PRELOAD the Dockerfile sets or offers (-e LD_PRELOAD=...) names a library no listed
    package provides.
Sanitizer runtimes (libasan, libubsan...) of a sanitizer build are ignored: the image is built
without them.

selftest: the check must pass on LIST, and fail on LIST with each package that provides a
NEEDED library removed, one at a time, without ca-certificates, and without the package of the
Dockerfile's LD_PRELOAD.

Exit codes: 0 pass, 1 fail, 77 skipped (no dpkg or ldd: not a Debian machine, or no binary;
a missing tool fails instead under IMGSVC_TEST_STRICT=1).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

ROOT = os.environ.get("IMGSVC_SOURCE_DIR") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SKIP = 77
# Packages the image needs that provide no library of the binary, and why.
NON_LIBRARY = {
    "ca-certificates": "the CA bundle for HTTPS to S3 and SNS",
    "libjemalloc2": "the optional allocator, loaded with LD_PRELOAD",
}
REQUIRED_NON_LIBRARY = ["ca-certificates"]
SANITIZER_RE = re.compile(r"^lib(asan|ubsan|lsan|tsan|hwasan)\.so")


def skip_or_fail(what):
    if os.environ.get("IMGSVC_TEST_STRICT") == "1":
        print(f"FAIL: {what}")
        return 1
    print(f"SKIP: {what}")
    return SKIP


def read_list(path):
    """Package names of a list file ('#' comments, one or more per line)."""
    names = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            names.extend(line.split("#", 1)[0].split())
    return names


def ldd(binary):
    """[(soname, path or None)] of every library ldd resolves (vdso and loader excluded)."""
    res = subprocess.run(["ldd", binary], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"ldd {binary} failed: {res.stderr.strip()}")
    libs = []
    for line in res.stdout.splitlines():
        line = line.strip()
        m = re.match(r"^(\S+) => (not found|(\S+) \(0x[0-9a-f]+\))$", line)
        if m:
            libs.append((m.group(1), m.group(3)))
    return libs


def needed(binary):
    """The ELF NEEDED sonames of binary (readelf -d)."""
    res = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"readelf -d {binary} failed: {res.stderr.strip()}")
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", res.stdout)


def path_variants(path):
    """The path, its merged-/usr twin, and the same for its symlink target."""
    out = []
    for p in (path, os.path.realpath(path)):
        out.append(p)
        if p.startswith("/usr/lib/") or p.startswith("/usr/lib64/"):
            out.append(p[4:])
        elif p.startswith("/lib/") or p.startswith("/lib64/"):
            out.append("/usr" + p)
    return list(dict.fromkeys(out))


def dpkg_owners(paths):
    """{path: [package]} for the paths dpkg knows (one `dpkg-query -S` call)."""
    res = subprocess.run(["dpkg-query", "-S"] + paths, capture_output=True, text=True)
    owners = {}
    for line in res.stdout.splitlines():
        pkgs, sep, path = line.partition(": ")
        if not sep:
            continue
        owners[path.strip()] = [p.strip().split(":")[0] for p in pkgs.split(",")]
    return owners


def library_packages(libs):
    """{soname: package or None} for [(soname, path)]."""
    variants = {so: path_variants(p) for so, p in libs if p}
    owners = dpkg_owners(sorted({v for vs in variants.values() for v in vs}))
    out = {}
    for so, p in libs:
        out[so] = None
        for v in variants.get(so, []):
            if v in owners:
                out[so] = owners[v][0]
                break
    return out


def dpkg_database():
    """({package: [dependency groups]}, {virtual: [package]}) of the installed packages; a group
    is a list of alternative names."""
    fmt = "${db:Status-Abbrev}\\t${Package}\\t${Pre-Depends}, ${Depends}\\t${Provides}\\n"
    res = subprocess.run(["dpkg-query", "-W", "-f=" + fmt], capture_output=True, text=True)
    deps, provides = {}, {}
    for line in res.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) != 4 or not parts[0].startswith("ii"):
            continue
        name = parts[1]
        groups = []
        for group in parts[2].split(","):
            alts = [a.strip().split()[0].split(":")[0] for a in group.split("|") if a.strip()]
            if alts:
                groups.append(alts)
        deps[name] = groups
        for prov in parts[3].split(","):
            prov = prov.strip().split(" ")[0]
            if prov:
                provides.setdefault(prov, []).append(name)
    return deps, provides


def closure(packages, deps, provides):
    """Every package apt installs for `packages` (first satisfiable alternative, as apt picks)."""
    seen = set()
    todo = list(packages)
    while todo:
        p = todo.pop()
        if p in seen or p not in deps:
            continue
        seen.add(p)
        for alts in deps[p]:
            for a in alts:
                pick = a if a in deps else next(iter(provides.get(a, [])), None)
                if pick:
                    todo.append(pick)
                    break
    return seen


def dockerfile_preload(path):
    """The LD_PRELOAD value the Dockerfile sets or tells users to set (-e LD_PRELOAD=...), or
    None: either way a listed package must provide it."""
    if not path or not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        text = f.read().replace("\\\n", " ")
    m = re.search(r"\bLD_PRELOAD=(\S+)", text)
    return m.group(1).strip("\"'") if m else None


def preload_package(value, libs_dirs=("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                                      "/lib/x86_64-linux-gnu", "/usr/lib")):
    """The package providing an LD_PRELOAD entry (a path, or a soname the loader searches)."""
    candidates = [value] if "/" in value else [os.path.join(d, value) for d in libs_dirs]
    owners = dpkg_owners([v for c in candidates for v in path_variants(c)])
    for c in candidates:
        for v in path_variants(c):
            if v in owners:
                return owners[v][0]
    return None


def check(binary, packages, dockerfile, facts=None):
    """The list of problems (empty: the list is right). facts caches the machine's answers."""
    if facts is None:
        facts = gather(binary)
    problems = []
    listed = set(packages)
    for p in packages:
        if p not in facts["deps"]:
            problems.append(f"{p}: listed but not a package this machine knows (typo?)")
    provided = closure(packages, facts["deps"], facts["provides"])
    for so, path in facts["libs"]:
        if SANITIZER_RE.match(so):
            continue
        pkg = facts["owners"].get(so)
        if path is None:
            problems.append(f"{so}: ldd cannot resolve it")
        elif pkg is None:
            problems.append(f"{so} ({path}): no Debian package owns it")
        elif so in facts["needed"] and pkg not in listed:
            problems.append(f"{so}: needed by imgsvc directly, from package {pkg}, which the "
                            f"list does not name")
        elif pkg not in provided:
            problems.append(f"{so}: from package {pkg}, which neither the list nor its "
                            f"dependencies install")
    lib_pkgs = {facts["owners"].get(so) for so, _ in facts["libs"]}
    for p in packages:
        if p in facts["deps"] and p not in lib_pkgs and p not in NON_LIBRARY:
            problems.append(f"{p}: listed but provides no library of imgsvc (remove it, or say "
                            f"why it is needed in NON_LIBRARY)")
    for p in REQUIRED_NON_LIBRARY:
        if p not in listed:
            problems.append(f"{p}: not listed ({NON_LIBRARY[p]})")
    preload = dockerfile_preload(dockerfile)
    if preload:
        pkg = preload_package(preload)
        if pkg is None or pkg not in provided:
            problems.append(f"LD_PRELOAD={preload} (Dockerfile): no listed package provides it "
                            f"({pkg or 'no package owns it'})")
    return problems


def gather(binary):
    libs = ldd(binary)
    deps, provides = dpkg_database()
    return {"libs": libs, "needed": set(needed(binary)), "owners": library_packages(libs),
            "deps": deps, "provides": provides}


def run_check(args, packages):
    facts = gather(args.bin)
    problems = check(args.bin, packages, args.dockerfile, facts)
    for p in problems:
        print(f"{os.path.relpath(args.list, ROOT)}: {p}")
    if problems:
        print(f"FAIL: {len(problems)} problem(s); the runtime image would not run imgsvc")
        return 1
    pkgs = sorted({facts["owners"][so] for so, _ in facts["libs"] if facts["owners"].get(so)})
    print(f"ok: {len(facts['libs'])} libraries from {len(pkgs)} packages, all installed by the "
          f"{len(packages)} listed packages and their dependencies")
    return 0


def run_selftest(args, packages):
    facts = gather(args.bin)
    failures = 0
    base = check(args.bin, packages, args.dockerfile, facts)
    if base:
        print("FAIL: the check does not pass on the real list:", *base, sep="\n  ")
        return 1
    direct = sorted({facts["owners"][so] for so in facts["needed"] if facts["owners"].get(so)})
    cases = [(p, [q for q in packages if q != p]) for p in direct if p in packages]
    cases += [(p, [q for q in packages if q != p]) for p in REQUIRED_NON_LIBRARY]
    preload = dockerfile_preload(args.dockerfile)
    if preload:  # the preloaded allocator's package
        pkg = preload_package(preload)
        cases += [(pkg, [q for q in packages if q != pkg])] if pkg in packages else []
    if len(cases) < 2:
        print(f"FAIL: only {len(cases)} removal case(s); expected the NEEDED packages")
        return 1
    for removed, pkgs in cases:
        problems = check(args.bin, pkgs, args.dockerfile, facts)
        named = [p for p in problems if removed in p]
        if not problems or not named:
            print(f"FAIL: without {removed} the check found {problems or 'nothing'}")
            failures += 1
        else:
            print(f"ok: without {removed}: {named[0]}")
    if failures:
        return 1
    print(f"ok: the check fails for each of the {len(cases)} removals")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["check", "selftest"])
    ap.add_argument("--bin", default=os.environ.get("IMGSVC_BIN", ""))
    ap.add_argument("--list", default=os.path.join(ROOT, "scripts/packages/apt-runtime.txt"))
    ap.add_argument("--dockerfile", default=os.path.join(ROOT, "Dockerfile"))
    args = ap.parse_args()
    for tool in ("ldd", "dpkg-query", "readelf"):
        if shutil.which(tool) is None:
            return skip_or_fail(f"{tool} not found (a Debian machine with binutils is needed)")
    if not args.bin or not os.access(args.bin, os.X_OK):
        print(f"FAIL: imgsvc binary {args.bin!r} not found; run through ctest (IMGSVC_BIN)")
        return 1
    packages = read_list(args.list)
    if args.mode == "check":
        return run_check(args, packages)
    return run_selftest(args, packages)


if __name__ == "__main__":
    sys.exit(main())
