#!/bin/sh
# --jit-code-max: a bounded code cache evicts whole batches and the guest
# still runs right. tests/guest/rv64m.elf, every block compiled at its
# first run (--jit-threshold 0), with room for a few batches only: the
# ISA test must pass (exit 0), the hart must report evicted regions
# (GLASSBOX_JIT_DEBUG's exit line), and with room for everything nothing
# may be evicted, and some regions must have been promoted to tier 2.
# GLASSBOX names the engine (default ./glassbox).
gb=${GLASSBOX:-./glassbox}
elf=${RV64M_ELF:-tests/guest/rv64m.elf}

if [ ! -x "$gb" ]; then
    echo "ERROR: '$gb' not found or not executable (build it, or set GLASSBOX)"
    exit 99
fi
if [ ! -f "$elf" ]; then
    echo "SKIP: $elf was not built: no riscv64 cross compiler"
    exit 77
fi

fail=0
# evicted N from the exit line of `GLASSBOX_JIT_DEBUG=1 glassbox run ...`
evicted() {
    out=$(GLASSBOX_JIT_DEBUG=1 timeout 300 "$gb" run --bios none --kernel "$elf" \
          --max-insns 2000000000 --jit-threshold 0 "$@" 2>&1)
    st=$?
    n=$(printf '%s\n' "$out" | sed -n 's/^jit: hart 0: .*, \([0-9]*\) evicted, .*$/\1/p')
    if [ "$st" -ne 0 ]; then
        # (runs in a subshell: report on stderr, and no count)
        echo "not ok: $* : exit status $st" >&2
        printf '%s\n' "$out" | tail -5 >&2
        n=
    fi
    echo "${n:--1}"
}

n=$(evicted --jit-code-max 512K)
case "$n" in
    -1|0) echo "not ok: --jit-code-max 512K: evicted nothing, or the guest failed ($n)"; fail=1 ;;
    *) echo "ok: --jit-code-max 512K: the ISA test passes with $n regions evicted" ;;
esac
n=$(evicted --jit-code-max 1G)
if [ "$n" != 0 ]; then
    echo "not ok: --jit-code-max 1G: evicted $n regions (-1: the guest failed)"
    fail=1
else
    echo "ok: --jit-code-max 1G: nothing evicted"
fi
# Tier 2: with --jit-threshold 0 every region is recompiled at -O2 after
# its first run, so the exit line's "(N at tier 2)" must count some, and
# the test still passes on that code.
out=$(GLASSBOX_JIT_DEBUG=1 timeout 300 "$gb" run --bios none --kernel "$elf" \
      --max-insns 2000000000 --jit-threshold 0 2>&1)
st=$?
t2=$(printf '%s\n' "$out" | sed -n 's/^jit: hart 0: .*installed (\([0-9]*\) at tier 2).*/\1/p')
if [ "$st" -ne 0 ] || [ "${t2:-0}" -eq 0 ]; then
    echo "not ok: tier 2: exit status $st, ${t2:-no} regions at tier 2"
    printf '%s\n' "$out" | tail -3
    fail=1
else
    echo "ok: tier 2: the ISA test passes with $t2 regions recompiled at -O2"
fi
exit $fail
