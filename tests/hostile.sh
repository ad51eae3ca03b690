#!/bin/sh
# A hostile guest (tests/guest/hostile.c) against every device, with a
# drive and the network attached: glassbox must survive, say so, exit 0
# and print nothing a sanitizer or a crash would.
GLASSBOX=${GLASSBOX:-./glassbox}
elf=tests/guest/hostile.elf
[ -f "$elf" ] || { echo "SKIP: $elf not built (no riscv64-unknown-elf-gcc)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dd if=/dev/zero of="$tmp/disk.img" bs=1k count=256 2>/dev/null
timeout 120 "$GLASSBOX" run --bios none --kernel "$elf" --smp 1 \
    --drive file="$tmp/disk.img" --net user </dev/null >"$tmp/out" 2>"$tmp/err"
rc=$?
tail -c 2000 "$tmp/out" | tr -c '[:print:]\n' '.' | tail -3
cat "$tmp/err"
if [ $rc -ne 0 ]; then
    echo "FAIL: glassbox exited $rc"
    exit 1
fi
if grep -qE "Sanitizer|runtime error|Segmentation" "$tmp/err"; then
    echo "FAIL: sanitizer or crash report"
    exit 1
fi
grep -q "host still standing" "$tmp/out" || { echo "FAIL: guest did not finish"; exit 1; }
echo "PASS"
