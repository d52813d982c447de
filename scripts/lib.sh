# shellcheck shell=bash
# Shared helpers for scripts/run.sh, scripts/test.sh, bench/ and the scripts/test.d/ hooks.
#
# Source it from bash (`. scripts/lib.sh`); it defines functions and a few variables and runs
# nothing by itself. Everything here is idempotent and quiet: installers only touch what is
# missing and print one line when they do something, the full tool output only on failure.
#
#   imgsvc_apt_install LIST...    install the Debian packages named in LIST files (missing only)
#   imgsvc_apt_install_names PKG...  the same for package names
#   imgsvc_npm_install DIR        `npm ci` (or `npm install`) in DIR when node_modules is stale
#   imgsvc_build DIR [CMAKE ARG...]  configure (if needed) and build the project in DIR
#   imgsvc_as_root CMD...         run CMD as root (directly, or through sudo)
#   imgsvc_on_exit CMD            run CMD (a string, eval'd) when the calling script exits
#
# Variables: IMGSVC_ROOT (the repository root), IMGSVC_JOBS (build parallelism, default 2).

IMGSVC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMGSVC_JOBS=${IMGSVC_JOBS:-2}
export DEBIAN_FRONTEND=noninteractive

imgsvc_say() {
    printf '[%s] %s\n' "$(basename "$0")" "$*" >&2
}

imgsvc_die() {
    imgsvc_say "error: $*"
    exit 1
}

# Runs "$@" as root: directly when we are root, else through sudo (non-interactive when there is
# no terminal). Environment for apt is passed explicitly because sudo resets it.
imgsvc_as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo env DEBIAN_FRONTEND=noninteractive "$@"
    else
        imgsvc_die "need root to run '$1': run as root or install sudo"
    fi
}

# Cleanup commands registered by imgsvc_on_exit, run in reverse order at exit.
IMGSVC_EXIT_CMDS=()
imgsvc_run_exit_cmds() {
    local i
    for ((i = ${#IMGSVC_EXIT_CMDS[@]} - 1; i >= 0; i--)); do
        eval "${IMGSVC_EXIT_CMDS[$i]}" || true
    done
    IMGSVC_EXIT_CMDS=()
}
imgsvc_on_exit() {
    IMGSVC_EXIT_CMDS+=("$1")
    trap imgsvc_run_exit_cmds EXIT
}

# Prints the package names listed in the given files: one per line, '#' starts a comment.
imgsvc_read_list() {
    local f
    for f in "$@"; do
        [ -f "$f" ] || imgsvc_die "package list $f not found"
        sed -e 's/#.*//' -e 's/[[:space:]]\+/\n/g' "$f" | sed '/^$/d'
    done | awk '!seen[$0]++'
}

# Prints every name that an installed package satisfies: its own name and what it Provides
# (e.g. nodesource's nodejs provides npm).
imgsvc_installed_names() {
    dpkg-query -W -f='${db:Status-Abbrev}|${Package}|${Provides}\n' 2>/dev/null |
        awk -F'|' '$1 ~ /^ii/ {
            print $2
            n = split($3, p, ",")
            for (i = 1; i <= n; i++) {
                sub(/^[ \t]+/, "", p[i]); sub(/[ \t(].*$/, "", p[i])
                if (p[i] != "") print p[i]
            }
        }' | sort -u
}

# Runs an apt-get command quietly; shows its output only when it fails. Returns its status.
imgsvc_apt_quiet() {
    local log rc=0
    log=$(mktemp)
    imgsvc_as_root apt-get -q -y -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=300 "$@" \
        >"$log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        cat "$log" >&2
    fi
    rm -f "$log"
    return "$rc"
}

# True when apt has no package lists yet, or one of the named packages has no install candidate
# (lists missing or stale), i.e. when `apt-get update` is needed before installing them.
imgsvc_apt_needs_update() {
    if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
        return 0
    fi
    local pkg cand
    for pkg in "$@"; do
        cand=$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2}')
        if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then
            return 0
        fi
    done
    return 1
}

# Installs the Debian packages named in the list files that are not installed yet.
# Runs apt-get update only when needed (no lists, a package without candidate, or a failed
# install with old lists). Idempotent; prints nothing when everything is present.
imgsvc_apt_install() {
    local -a want
    mapfile -t want < <(imgsvc_read_list "$@")
    imgsvc_apt_install_names "${want[@]}"
}

# Same as imgsvc_apt_install, for package names given as arguments.
imgsvc_apt_install_names() {
    local -a want=("$@") missing
    local installed pkg updated=0
    installed=$(imgsvc_installed_names)
    missing=()
    for pkg in "${want[@]}"; do
        if ! grep -qxF -- "$pkg" <<<"$installed"; then
            missing+=("$pkg")
        fi
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 || imgsvc_die "apt-get not found: need Debian bookworm"
    imgsvc_say "installing Debian packages: ${missing[*]}"
    if imgsvc_apt_needs_update "${missing[@]}"; then
        imgsvc_apt_quiet update || imgsvc_die "apt-get update failed"
        updated=1
    fi
    if ! imgsvc_apt_quiet install --no-install-recommends "${missing[@]}"; then
        [ "$updated" -eq 1 ] && imgsvc_die "apt-get install failed"
        imgsvc_say "retrying after apt-get update"
        imgsvc_apt_quiet update || imgsvc_die "apt-get update failed"
        imgsvc_apt_quiet install --no-install-recommends "${missing[@]}" ||
            imgsvc_die "apt-get install failed"
    fi
}

# Installs DIR/package.json's packages into DIR/node_modules: `npm ci` when a lockfile exists
# (falling back to `npm install`, with a warning, when the lockfile is out of date), else
# `npm install`. Skipped when node_modules was installed from the same package.json + lockfile.
imgsvc_npm_install() {
    local dir=$1 stamp want
    [ -f "$dir/package.json" ] || return 0
    stamp="$dir/node_modules/.imgsvc-stamp"
    want=$(imgsvc_npm_digest "$dir")
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    command -v npm >/dev/null 2>&1 || imgsvc_die "npm not found (Debian package npm)"
    imgsvc_say "installing npm packages in $dir"
    if [ -f "$dir/package-lock.json" ]; then
        if ! imgsvc_npm_quiet "$dir" ci; then
            imgsvc_say "warning: npm ci failed in $dir (package-lock.json out of sync with" \
                "package.json? run 'npm install --prefix $dir' and commit the lockfile);" \
                "trying npm install"
            imgsvc_npm_quiet "$dir" install || imgsvc_die "npm install failed in $dir"
        fi
    else
        imgsvc_npm_quiet "$dir" install || imgsvc_die "npm install failed in $dir"
    fi
    imgsvc_npm_digest "$dir" >"$stamp"
}

# Prints a digest of DIR's package.json and package-lock.json (what node_modules depends on).
imgsvc_npm_digest() {
    cat "$1/package.json" "$1/package-lock.json" 2>/dev/null | sha256sum | cut -d' ' -f1
}

# Runs `npm SUBCOMMAND` in DIR quietly; shows its output only when it fails.
imgsvc_npm_quiet() {
    local dir=$1 log rc=0
    shift
    log=$(mktemp)
    (cd "$dir" && npm "$@" --no-audit --no-fund --loglevel=error) >"$log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        cat "$log" >&2
    fi
    rm -f "$log"
    return "$rc"
}

# Configures DIR (when it has no cache yet, or when CMake arguments are given) and builds it.
# Quiet: the build output goes to DIR/build.log and is shown only when the build fails.
imgsvc_build() {
    local dir=$1
    shift
    if [ ! -f "$dir/CMakeCache.txt" ] || [ "$#" -gt 0 ]; then
        mkdir -p "$dir"
        cmake -S "$IMGSVC_ROOT" -B "$dir" "$@" >"$dir/configure.log" 2>&1 || {
            cat "$dir/configure.log" >&2
            imgsvc_die "cmake configure failed in $dir"
        }
    fi
    imgsvc_say "building in ${dir#"$IMGSVC_ROOT"/}"
    cmake --build "$dir" -j "$IMGSVC_JOBS" >"$dir/build.log" 2>&1 || {
        cat "$dir/build.log" >&2
        imgsvc_die "build failed in $dir"
    }
}
