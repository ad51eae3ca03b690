#!/bin/sh
# Install every Debian package glassbox needs to build, test, benchmark and
# run. Idempotent: packages already present are skipped by apt.
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
libncursesw5-dev
gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf binutils-riscv64-unknown-elf
gcc-riscv64-linux-gnu
qemu-system-misc qemu-system-x86 opensbi
mandoc man-db
hyperfine valgrind tmux socat python3
"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
        missing="$missing $p"
    fi
done

if [ -n "$missing" ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    echo "setup: installing:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
