#!/bin/sh
# glasstop --once: bad command lines and an unknown stats ABI first, then a
# real guest (tests/guest/spin.elf) watched from outside: the snapshot must
# name the VM, show it running, list a hot block at a pc inside the ELF's
# .text (with its symbol) and show TLB hit rates.
# GLASSBOX and GLASSTOP name the programs (default ./glassbox, ./glasstop).
gb=${GLASSBOX:-./glassbox}
gt=${GLASSTOP:-./glasstop}
elf=${GT_GUEST:-tests/guest/spin.elf}
name=gt-$$
bad=gtbad-$$
out=${TMPDIR:-/tmp}/glasstop-once-$$
vm=

for p in "$gb" "$gt"; do
    if [ ! -x "$p" ]; then
        echo "ERROR: '$p' not found or not executable (build it, or set GLASSBOX/GLASSTOP)"
        exit 99
    fi
done

cleanup() {
    [ -n "$vm" ] && kill "$vm" 2>/dev/null && wait "$vm" 2>/dev/null
    rm -f "/dev/shm/glassbox.$bad" "$out".*
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
    echo "FAIL: $*"
    [ -f "$out.txt" ] && sed 's/^/  | /' "$out.txt"
    exit 1
}

# expect STATUS PATTERN ARGS...: glasstop exits STATUS and says PATTERN on stderr
expect() {
    want=$1 pat=$2
    shift 2
    "$gt" "$@" >"$out.txt" 2>"$out.err"
    rc=$?
    [ "$rc" -eq "$want" ] || fail "glasstop $* exited $rc, expected $want ($(cat "$out.err"))"
    grep -q -- "$pat" "$out.err" || fail "glasstop $*: stderr lacks '$pat': $(cat "$out.err")"
    [ "$(wc -l <"$out.err")" -eq 1 ] || fail "glasstop $*: error is not one line"
}

expect 2 "interval" --once --interval 0 x
expect 2 "interval" --once --interval soon x
expect 2 "unknown option\|bad option" --bogus
expect 2 "one VM name" --once a b
expect 2 "not a VM name" --once ../x
expect 1 "no VM named 'nosuch-$$'" --once nosuch-$$

# a region from an engine of another ABI major: refused, never misread
python3 - "/dev/shm/glassbox.$bad" <<'EOF' || fail "cannot write a test region in /dev/shm"
import struct, sys
hdr = bytearray(4096)
struct.pack_into("<QHHIQ", hdr, 0, 0x31534253584f4247, 99, 0, 1024, 4096)
open(sys.argv[1], "wb").write(hdr)
EOF
expect 1 "ABI version 99.0" --once "$bad"

# ---- a running guest
if [ ! -f "$elf" ]; then
    echo "SKIP: $elf was not built: no riscv64 cross compiler" \
         "(install gcc-riscv64-unknown-elf and picolibc-riscv64-unknown-elf, then re-run configure)"
    exit 77
fi
readelf=$(command -v riscv64-unknown-elf-readelf || command -v readelf)
if [ -z "$readelf" ]; then
    echo "SKIP: no readelf to find the guest's .text (install binutils)"
    exit 77
fi
# .text: address and size (hex)
set -- $("$readelf" -SW "$elf" |
       sed -n 's/.* \.text  *PROGBITS  *\([0-9a-f]*\) [0-9a-f]* \([0-9a-f]*\) .*/\1 \2/p')
[ $# -eq 2 ] || fail "no .text section in $elf"
text_lo=$((0x$1))
text_hi=$((0x$1 + 0x$2))

"$gb" run --bios none --kernel "$elf" --name "$name" </dev/null >"$out.vm" 2>&1 &
vm=$!
i=0
until [ -e "/dev/shm/glassbox.$name" ] && grep -q "spin: running" "$out.vm"; do
    i=$((i + 1))
    [ $i -le 300 ] || fail "the guest did not start in 30 s: $(cat "$out.vm")"
    kill -0 "$vm" 2>/dev/null || fail "glassbox exited early: $(cat "$out.vm")"
    sleep 0.1
done

"$gt" --once --interval 0.5 "$name" >"$out.txt" 2>"$out.err" ||
    fail "glasstop --once $name failed: $(cat "$out.err")"
grep -q "^glasstop: VM $name\$" "$out.txt" || fail "the snapshot does not name VM $name"
grep -q "VM $name .* state running " "$out.txt" || fail "the header does not say running"
for panel in "vCPUs" "hot blocks" "TLB" "devices" "NUMA placement" "events"; do
    grep -q "^$panel" "$out.txt" || fail "no $panel panel"
done
# hot-block rows: "  rank hart 0x<16 hex> symbol ..."
inside=0
for pc in $(sed -n 's/^ *[0-9][0-9]* *[0-9][0-9]* 0x\([0-9a-f]\{16\}\) .*/\1/p' "$out.txt"); do
    v=$((0x$pc))
    if [ "$v" -ge "$text_lo" ] && [ "$v" -lt "$text_hi" ]; then
        inside=$((inside + 1))
    fi
done
[ "$inside" -gt 0 ] || fail "no hot block inside .text [$text_lo, $text_hi)"
grep -q " 0x[0-9a-f]\{16\} spin_hot_loop" "$out.txt" ||
    fail "the hot block's symbol (spin_hot_loop) is not shown"
grep -Eq "I-TLB +hit +(-|[0-9.]+%) now +[0-9.]+% total" "$out.txt" || fail "no I-TLB hit rate"
grep -Eq "D-TLB +hit +[0-9.]+% now +[0-9.]+% total" "$out.txt" || fail "no D-TLB hit rate"
grep -Eq "^ +0 +[MSU] +[0-9.]+ " "$out.txt" || fail "no vCPU row with a MIPS figure"

# the VM goes away: glasstop says so
kill "$vm"
wait "$vm" 2>/dev/null
vm=
expect 1 "no VM named '$name'" --once "$name"
echo "PASS: glasstop --once on $name: running, hot block in .text, TLB hit rates"
exit 0
