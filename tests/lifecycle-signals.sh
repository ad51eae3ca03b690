#!/bin/sh
# SIGTERM, SIGINT and SIGHUP stop a running VM the way `quit` does: exit
# status 0, a SHUTDOWN event with reason host-signal in the journal, and the
# stats region removed (not left stale).
gb=${GLASSBOX:-./glassbox}
elf=${SPIN_ELF:-tests/guest/spin.elf}
if [ ! -f "$elf" ]; then
    echo "SKIP: $elf was not built (no riscv64 cross compiler)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

for sig in TERM INT HUP; do
    name=sig-$sig-$$
    "$gb" run --bios none --kernel "$elf" --name "$name" --event-log "$tmp/$sig.jsonl" \
        </dev/null >"$tmp/$sig.out" 2>&1 &
    pid=$!
    i=0
    while ! grep -q "tick 1" "$tmp/$sig.out" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 200 ]; then
            echo "FAIL: SIG$sig: the guest never printed 'tick 1'"; cat "$tmp/$sig.out"
            kill -KILL $pid; exit 1
        fi
        sleep 0.05
    done
    [ -e "/dev/shm/glassbox.$name" ] || { echo "FAIL: SIG$sig: no stats region while running"; fail=1; }
    kill -$sig $pid
    wait $pid
    rc=$?
    [ $rc -eq 0 ] || { echo "FAIL: SIG$sig: exit status $rc, want 0"; fail=1; }
    grep -q "terminating on signal" "$tmp/$sig.out" ||
        { echo "FAIL: SIG$sig: no 'terminating on signal' message"; fail=1; }
    grep -q '"event":"SHUTDOWN".*"reason":"host-signal"' "$tmp/$sig.jsonl" ||
        { echo "FAIL: SIG$sig: journal lacks SHUTDOWN host-signal"; cat "$tmp/$sig.jsonl"; fail=1; }
    grep -q '"event":"TERMINATED"' "$tmp/$sig.jsonl" ||
        { echo "FAIL: SIG$sig: journal lacks TERMINATED"; fail=1; }
    [ ! -e "/dev/shm/glassbox.$name" ] || { echo "FAIL: SIG$sig: stats region left behind"; fail=1; }
    [ $fail -eq 0 ] && echo "ok: SIG$sig stops the VM cleanly"
done
exit $fail
