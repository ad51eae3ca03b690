#!/bin/sh
# Configure and build glassbox into a build directory (default: build/).
# Usage: tools/build.sh [BUILD_DIR [configure options...]]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build}
[ $# -gt 0 ] && shift
if [ ! -x "$top/configure" ] || [ "$top/configure.ac" -nt "$top/configure" ] ||
   [ "$top/Makefile.am" -nt "$top/Makefile.in" ]; then
    (cd "$top" && autoreconf -fi >/dev/null)
fi
mkdir -p "$dir"
cd "$dir"
# reconfigure when the options differ from the last run
opts="$*"
if [ ! -f Makefile ] || [ "$(cat .gb-configure-opts 2>/dev/null)" != "$opts" ]; then
    "$top/configure" -q "$@"
    printf '%s' "$opts" > .gb-configure-opts
fi
make -j"$(nproc)" >/dev/null
