#!/bin/sh
# Differential test: run each bare-metal guest ELF on glassbox and on
# qemu-system-riscv64 -M virt -bios none, and require the same UART output
# (byte for byte) and the same exit status.
#   tests/qemu-diff.sh ELF...
#   tests/qemu-diff.sh --list FILE    (ELF paths, one a line; as run by make check)
# GLASSBOX (default ./glassbox), QEMU (default qemu-system-riscv64) and
# GUEST_TIMEOUT (seconds per run, default 300) can be overridden.
# Exit: 0 all equal, 1 some differ, 77 QEMU or the ELFs are missing.
if [ "$1" = --list ]; then
    [ -f "$2" ] || { echo "ERROR: list '$2' not found"; exit 99; }
    set -- $(cat "$2")
fi
if [ $# -eq 0 ]; then
    echo "usage: $0 ELF... | --list FILE" >&2
    exit 2
fi
qemu=${QEMU:-qemu-system-riscv64}
if ! command -v "$qemu" >/dev/null 2>&1; then
    echo "SKIP: $qemu not installed (Debian package qemu-system-misc): nothing to compare with"
    exit 77
fi
gb=${GLASSBOX:-./glassbox}
if [ ! -x "$gb" ]; then
    echo "ERROR: glassbox binary '$gb' not found or not executable (build it, or set GLASSBOX)"
    exit 99
fi
to=${GUEST_TIMEOUT:-300}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qemu-diff.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM

ran=0 failed=0 missing=0
for elf in "$@"; do
    if [ ! -f "$elf" ]; then
        echo "missing: $elf"
        missing=$((missing + 1))
        continue
    fi
    case $elf in */*) ;; *) elf=./$elf ;; esac
    ran=$((ran + 1))
    timeout "$to" "$qemu" -M virt -bios none -nographic -monitor none -serial stdio \
        -kernel "$elf" </dev/null >"$tmp/q.raw" 2>"$tmp/q.err"
    qrc=$?
    timeout "$to" "$gb" run --bios none --kernel "$elf" --max-insns 2000000000 \
        </dev/null >"$tmp/g.out" 2>"$tmp/g.err"
    grc=$?
    # QEMU adds nothing to a clean run's stdout; drop its own messages if a
    # killed run left one ("qemu-system-riscv64: terminating on signal").
    grep -av '^qemu-system-riscv64: ' "$tmp/q.raw" >"$tmp/q.out"
    if [ $qrc -eq 124 ] || [ $grc -eq 124 ]; then
        echo "FAIL $elf: timed out (qemu $qrc, glassbox $grc)"
        failed=$((failed + 1))
    elif ! cmp -s "$tmp/q.out" "$tmp/g.out"; then
        echo "FAIL $elf: UART output differs (- qemu, + glassbox):"
        diff -u "$tmp/q.out" "$tmp/g.out" | head -40
        [ -s "$tmp/g.err" ] && sed 's/^/  glassbox stderr: /' "$tmp/g.err" | head -5
        failed=$((failed + 1))
    elif [ $qrc -ne $grc ]; then
        echo "FAIL $elf: exit status qemu $qrc, glassbox $grc"
        failed=$((failed + 1))
    else
        echo "same $elf ($(wc -l <"$tmp/q.out") lines, exit $qrc)"
    fi
done
if [ $ran -eq 0 ]; then
    echo "SKIP: none of the $missing guest ELFs was built (no riscv64 cross compiler: install gcc-riscv64-unknown-elf)"
    exit 77
fi
[ $missing -eq 0 ] || { echo "FAIL: $missing ELF(s) missing"; failed=$((failed + missing)); }
echo "$ran compared, $failed differ"
[ $failed -eq 0 ]
