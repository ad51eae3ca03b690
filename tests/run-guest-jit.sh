#!/bin/sh
# Run one bare-metal guest test with every block compiled by the JIT
# (--jit-threshold 0: each block is compiled before its first execution).
#   tests/run-guest-jit.sh FILE.gjit     (FILE.gjit names the ELF)
#   tests/run-guest-jit.sh FILE.gjitv    (the same with --jit-verify: every
#                                         compiled run checked against the
#                                         interpreter)
# Fails when the JIT turned itself off (its warning), since the test would
# then only exercise the interpreter, and with --jit-verify when nothing was
# checked.
list=$1
if [ ! -f "$list" ]; then
    echo "usage: $0 FILE.gjit|FILE.gjitv (a file naming the guest ELF)" >&2
    exit 2
fi
elf=$(cat "$list")
args="--jit on --jit-threshold 0"
case $list in
    *.gjitv) args="$args --jit-verify" ;;
esac
err=$(mktemp "${TMPDIR:-/tmp}/guest-jit.XXXXXX") || exit 99
trap 'rm -f "$err"' EXIT INT TERM
GUEST_ARGS="$args" "$(dirname "$0")/run-guest.sh" "$elf" 2>"$err"
rc=$?
cat "$err" >&2
if [ "$rc" -eq 0 ] && grep -q "JIT disabled" "$err"; then
    echo "FAIL: $elf: the JIT was disabled, nothing ran compiled"
    exit 1
fi
case $list in
    *.gjitv)
        # "JIT verify: hart 0: N compiled block runs checked, ..."
        if [ "$rc" -eq 0 ] && ! grep -Eq "JIT verify: hart 0: [1-9][0-9]* compiled block runs checked" "$err"; then
            echo "FAIL: $elf: --jit-verify checked no compiled block"
            exit 1
        fi ;;
esac
exit $rc
