#!/bin/sh
# install-deps.sh -- install the Debian 12 packages cytogate needs to build,
# test and run.  snakemake is for the cluster workflow (pipeline/workflow/)
# and its test; the cytogate tool itself does not use it.  universal-ctags
# is for the function-length lint test (scripts/lint-funclen.sh).  Idempotent:
# packages already installed are skipped, and
# nothing is fetched when none is missing.  Needs root or sudo.
#
# Usage: scripts/install-deps.sh [--print]   (--print: list, install nothing)
set -eu

PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev
zlib1g-dev libfftw3-dev libpng-dev libcairo2-dev libyaml-dev libxml2-dev
libxml2-utils liblapacke-dev libopenblas-dev libjansson-dev libssl-dev libsqlite3-dev sqlite3
fonts-dejavu-core snakemake universal-ctags"

if [ "${1:-}" = "--print" ]; then
    echo $PKGS
    exit 0
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi

echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-deps: need root or sudo to install:$missing" >&2
        exit 1
    fi
fi
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
