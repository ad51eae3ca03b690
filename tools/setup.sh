#!/bin/sh
# Install every Debian package glassbox needs to build, test, benchmark and
# run, and build its default guest. Idempotent: packages already present
# are skipped, and apt runs only when something is missing.
set -eu

PKGS="
build-essential autoconf automake libtool pkg-config
clang libclang-rt-14-dev
libcmocka-dev
libfdt-dev device-tree-compiler
libgccjit-12-dev binutils
libhwloc-dev hwloc
libslirp-dev libglib2.0-dev
libjson-c-dev
libncurses-dev
gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf binutils-riscv64-unknown-elf
gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu libc6-dev-riscv64-cross perl
linux-source-6.1 flex bison bc libssl-dev libelf-dev cpio dpkg-dev e2fsprogs xz-utils
qemu-system-misc qemu-system-x86 opensbi
mandoc man-db
hyperfine valgrind tmux socat python3
"

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo

# The default guest's busybox is built from Debian's source package, which
# needs a deb-src entry; add one for bookworm main if there is none.
SRC_LIST=/etc/apt/sources.list.d/glassbox-deb-src.sources
need_update=""
if ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    $SUDO sh -c "cat > $SRC_LIST" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    need_update=1
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ] || [ -n "$need_update" ]; then
    [ -n "$missing" ] && echo "setup: installing:$missing"
    $SUDO apt-get update -qq
fi
if [ -n "$missing" ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
