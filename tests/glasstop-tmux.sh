#!/bin/sh
# glasstop driven like an operator would, in a tmux pane: it shows the VM's
# name and state, a hot block in spin_hot_loop, TLB hit rates; p pauses
# (glasstop and query-status both say paused) and resumes; a resize to
# 80x24 keeps it drawing; k asks, y stops the VM and glasstop shows it
# stopped with its last numbers; q leaves glasstop. Needs tmux and the spin
# guest (exit 77 otherwise).
gb=${GLASSBOX:-./glassbox}
gt=${GLASSTOP:-./glasstop}
elf=${SPIN_ELF:-tests/guest/spin.elf}
command -v tmux >/dev/null || { echo "SKIP: tmux is not installed (apt install tmux)"; exit 77; }
[ -f "$elf" ] || { echo "SKIP: $elf was not built (no riscv64 cross compiler)"; exit 77; }
[ -x "$gt" ] || { echo "ERROR: $gt not built"; exit 99; }

name=gt-tmux-$$
tm="tmux -L gbtest-$$ -f /dev/null"
tmp=$(mktemp -d)
cleanup() {
    $tm kill-server 2>/dev/null
    [ -n "$vm" ] && kill "$vm" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fail=1; }

"$gb" run --bios none --kernel "$elf" --name "$name" </dev/null >"$tmp/out" 2>&1 &
vm=$!

# screen contains (grep -E) PATTERN within a few seconds
screen_has() {
    i=0
    while [ $i -lt 100 ]; do
        $tm capture-pane -p -t gt >"$tmp/screen" 2>/dev/null
        grep -Eq -- "$1" "$tmp/screen" && return 0
        i=$((i + 1))
        sleep 0.1
    done
    return 1
}
expect_screen() {
    if screen_has "$1"; then ok "$2"; else bad "$2"; sed 's/^/# /' "$tmp/screen"; fi
}

i=0
while [ ! -e "/dev/shm/glassbox.$name" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
TERM=xterm-256color $tm new-session -d -s gt -x 120 -y 50 "$gt --interval 0.2 $name"

expect_screen "VM $name" "header names the VM"
expect_screen "running" "header shows state running"
expect_screen "spin_hot_loop" "a hot block is symbolised as spin_hot_loop"
expect_screen "0x0000000080000[0-9a-f]{3} +spin_hot_loop" "the hot block has its guest pc"
expect_screen "I-TLB +hit +[0-9.]+%" "I-TLB hit rate shown"
expect_screen "D-TLB +hit +[0-9.]+%" "D-TLB hit rate shown"

$tm send-keys -t gt p
expect_screen "paused" "p: glasstop shows paused"
st=$("$gb" ctl "$name" query-status 2>&1)
case $st in *'"paused"'*) ok "p: query-status says paused" ;; *) bad "p: query-status says: $st" ;; esac
$tm send-keys -t gt p
expect_screen "state running" "p again: running"
st=$("$gb" ctl "$name" query-status 2>&1)
case $st in *'"running"'*) ok "p again: query-status says running" ;; *) bad "query-status: $st" ;; esac

$tm resize-window -t gt -x 80 -y 24 2>/dev/null
expect_screen "VM $name" "still draws after a resize to 80x24"
$tm resize-window -t gt -x 160 -y 50 2>/dev/null

$tm send-keys -t gt k
expect_screen "press y to confirm" "k asks for confirmation"
$tm send-keys -t gt n
sleep 0.5
kill -0 $vm 2>/dev/null && ok "n: the VM keeps running" || bad "n: the VM stopped anyway"
$tm send-keys -t gt k
screen_has "press y to confirm" >/dev/null
$tm send-keys -t gt y
i=0
while kill -0 $vm 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $vm 2>/dev/null; then bad "k y: the VM did not stop"; else
    wait $vm; rc=$?
    [ $rc -eq 0 ] && ok "k y: the VM stopped, exit 0" || bad "k y: exit status $rc"
fi
vm=
expect_screen "stopped|exited|gone" "glasstop shows the VM stopped"
expect_screen "spin_hot_loop" "and keeps its last numbers"
$tm send-keys -t gt q
i=0
while $tm has-session -t gt 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
$tm has-session -t gt 2>/dev/null && bad "q did not leave glasstop" || ok "q leaves glasstop"
exit $fail
