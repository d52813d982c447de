#!/usr/bin/env bash
# README command 1: set up a fresh Debian bookworm machine (as root or with sudo), build imgsvc
# and run `imgsvc serve` in the foreground (arguments are passed through).
#
# Installs the missing packages of scripts/packages/apt-build.txt, configures and builds in
# build/ (RelWithDebInfo; IMGSVC_BUILD_DIR=... picks another folder), then execs
# `build/imgsvc serve "$@"` from the repository root, so the embedded store's ./data lands there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

build_dir=${IMGSVC_BUILD_DIR:-$IMGSVC_ROOT/build}

imgsvc_apt_install "$IMGSVC_ROOT/scripts/packages/apt-build.txt"
if [ -f "$build_dir/CMakeCache.txt" ]; then
    imgsvc_build "$build_dir"
else
    imgsvc_build "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cd "$IMGSVC_ROOT"
exec "$build_dir/imgsvc" serve "$@"
