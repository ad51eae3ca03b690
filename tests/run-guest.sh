#!/bin/sh
# Run one bare-metal guest test ELF on glassbox and exit with its status
# (automake test protocol: 0 pass, 77 skip, anything else fail).
#   tests/run-guest.sh ELF
# GLASSBOX (default ./glassbox) names the engine; GUEST_TIMEOUT (seconds,
# default 300) bounds the wall time on top of the instruction limit.
elf=$1
if [ -z "$elf" ]; then
    echo "usage: $0 ELF" >&2
    exit 2
fi
if [ ! -f "$elf" ]; then
    echo "SKIP: $elf was not built: no riscv64 cross compiler (install gcc-riscv64-unknown-elf and picolibc-riscv64-unknown-elf, then re-run configure)"
    exit 77
fi
gb=${GLASSBOX:-./glassbox}
if [ ! -x "$gb" ]; then
    echo "ERROR: glassbox binary '$gb' not found or not executable (build it, or set GLASSBOX)"
    exit 99
fi
case $elf in
    */*) ;;
    *) elf=./$elf ;;
esac
# GUEST_ARGS: extra run options (tests/run-guest-jit.sh: the JIT variant)
# shellcheck disable=SC2086
timeout "${GUEST_TIMEOUT:-300}" "$gb" run --bios none --kernel "$elf" --max-insns 2000000000 \
    $GUEST_ARGS
rc=$?
case $rc in
    0) ;;
    124) echo "FAIL: $elf timed out after ${GUEST_TIMEOUT:-300}s" ;;
    77) echo "FAIL: $elf exited 77, which is not a skip here"; rc=1 ;;
    *) echo "FAIL: $elf exited with status $rc" ;;
esac
exit $rc
