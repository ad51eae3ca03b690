#!/bin/sh
# Run one bare-metal guest test with every block compiled by the JIT
# (--jit-threshold 0: each block is compiled before its first execution).
#   tests/run-guest-jit.sh FILE.gjit     (FILE.gjit names the ELF)
# Fails when the JIT turned itself off (its warning), since the test would
# then only exercise the interpreter.
list=$1
if [ ! -f "$list" ]; then
    echo "usage: $0 FILE.gjit (a file naming the guest ELF)" >&2
    exit 2
fi
elf=$(cat "$list")
err=$(mktemp "${TMPDIR:-/tmp}/guest-jit.XXXXXX") || exit 99
trap 'rm -f "$err"' EXIT INT TERM
GUEST_ARGS="--jit on --jit-threshold 0" "$(dirname "$0")/run-guest.sh" "$elf" 2>"$err"
rc=$?
cat "$err" >&2
if [ "$rc" -eq 0 ] && grep -q "JIT disabled" "$err"; then
    echo "FAIL: $elf: the JIT was disabled, nothing ran compiled"
    exit 1
fi
exit $rc
