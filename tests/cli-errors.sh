#!/bin/sh
# Bad input to `glassbox run` (issue 2, "Bad input"): every case must give
# a one-line error on stderr that names the problem, the right exit status
# (2 for usage errors, 1 for everything else, the guest's own code when it
# sets one), and never a crash, a sanitizer report or a hang.
#
#   tests/cli-errors.sh            (run by `make check`)
#
# GLASSBOX names the engine (default ./glassbox). The inputs are the small
# fixed files in tests/data (made by tests/data/mkdata.py, committed), so
# neither python nor a cross compiler is needed.

gb=${GLASSBOX:-./glassbox}
top=${srcdir:-$(dirname "$0")/..}
data=$top/tests/data
limit=${CLI_ERRORS_TIMEOUT:-30}

if [ ! -x "$gb" ]; then
    echo "ERROR: glassbox binary '$gb' not found or not executable (build it, or set GLASSBOX)"
    exit 99
fi
if [ ! -f "$data/pass.bin" ]; then
    echo "ERROR: test inputs missing in $data (run python3 tests/data/mkdata.py)"
    exit 99
fi
command -v timeout >/dev/null 2>&1 || { echo "SKIP: needs timeout(1) (coreutils)"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cli-errors.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT INT TERM
err_prog=$gb err_sub=
. "$(dirname "$0")/errcheck.sh"

# check WANT_RC LINES NEEDLE... -- ARGS...: see expect_error
check() {
    want=$1 lines=$2
    shift 2
    expect_error "$want" "$lines" any "$@"
}

# ok WANT_RC -- ARGS...: a guest that finishes by itself (no stderr)
ok() {
    want=$1
    shift 2
    cases=$((cases + 1))
    timeout "$limit" "$gb" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    rc=$?
    if [ "$rc" -ne "$want" ]; then
        fail "glassbox $*: exit status $rc, want $want"
        sed 's/^/    stderr: /' "$tmp/err"
    elif [ -s "$tmp/err" ]; then
        fail "glassbox $*: unexpected stderr: $(cat "$tmp/err")"
    fi
}

B="run --bios none"

# --- sanity: the harness and the finisher work ---------------------------
ok 0 -- $B --kernel "$data/pass.bin"
ok 0 -- $B --kernel "$data/pass.elf"
ok 7 -- $B --kernel "$data/fail7.bin"
ok 0 -- $B --kernel "$data/pass.bin" --memory 1M --max-insns 1000

# --- usage errors: exit 2 -------------------------------------------------
check 2 any "usage" -- 
check 2 1 "frobnicate" -- frobnicate
check 2 1 "--kernel" -- $B
check 2 1 "--kernel" -- $B --memory 64M
check 2 1 "--memory" "'0'" -- $B --kernel "$data/pass.bin" --memory 0
check 2 1 "--memory" "'lots'" -- $B --kernel "$data/pass.bin" --memory lots
check 2 1 "--memory" "'12X'" -- $B --kernel "$data/pass.bin" --memory 12X
check 2 1 "--memory" "'1T'" -- $B --kernel "$data/pass.bin" --memory 1T
check 2 1 "--memory" "'-64M'" -- $B --kernel "$data/pass.bin" --memory -64M
check 2 1 "'99999999999999999999999'" -- $B --kernel "$data/pass.bin" --memory 99999999999999999999999
check 2 1 "'1025K'" -- $B --kernel "$data/pass.bin" --memory 1025K
check 2 1 "--max-insns" "'lots'" -- $B --kernel "$data/pass.bin" --max-insns lots
check 2 1 "--max-insns" "'-1'" -- $B --kernel "$data/pass.bin" --max-insns -1
check 2 1 "--max-insns" "'0'" -- $B --kernel "$data/pass.bin" --max-insns 0
check 2 1 "--jit" "'maybe'" -- $B --kernel "$data/pass.bin" --jit maybe
check 2 1 "--jit-threshold" "'lots'" -- $B --kernel "$data/pass.bin" --jit-threshold lots
check 2 1 "--jit-threshold" "'-5'" -- $B --kernel "$data/pass.bin" --jit-threshold -5
check 2 1 "--jit-threshold" "'5G'" -- $B --kernel "$data/pass.bin" --jit-threshold 5G
check 2 1 "--jit-verify" "--jit off" -- $B --kernel "$data/pass.bin" --jit off --jit-verify
check 2 1 "--jit-verify" "--trace" -- $B --kernel "$data/pass.bin" --jit-verify --trace
check 2 1 "'--jit-verify=yes'" "takes no value" -- $B --kernel "$data/pass.bin" --jit-verify=yes
check 2 1 "--jit-code-max" "'lots'" -- $B --kernel "$data/pass.bin" --jit-code-max lots
check 2 1 "--jit-code-max" "'0'" -- $B --kernel "$data/pass.bin" --jit-code-max 0
check 2 1 "--jit-cache-max" "'lots'" -- $B --kernel "$data/pass.bin" --jit-cache x --jit-cache-max lots
check 2 1 "--jit-cache-max" "there is none" -- $B --kernel "$data/pass.bin" --jit-cache-max 1M
check 2 1 "'--frobnicate'" -- $B --kernel "$data/pass.bin" --frobnicate
check 2 1 "'-q'" -- $B --kernel "$data/pass.bin" -q
check 2 1 "'-x'" -- $B --kernel "$data/pass.bin" -xq
check 2 1 "'--memory'" "value" -- $B --kernel "$data/pass.bin" --memory
check 2 1 "'--kernel'" "value" -- $B --kernel
check 2 1 "'stray'" -- $B --kernel "$data/pass.bin" stray

# --- the kernel file: exit 1 ----------------------------------------------
check 1 1 "$tmp/no-such-file" "No such file" -- $B --kernel "$tmp/no-such-file"
mkdir "$tmp/adir"
check 1 1 "$tmp/adir" "directory" -- $B --kernel "$tmp/adir"
: >"$tmp/empty"
check 1 1 "$tmp/empty" "empty" -- $B --kernel "$tmp/empty"
if [ "$(id -u)" != 0 ]; then
    cp "$data/pass.bin" "$tmp/unreadable"
    chmod 000 "$tmp/unreadable"
    check 1 1 "$tmp/unreadable" "Permission denied" -- $B --kernel "$tmp/unreadable"
fi
check 1 1 "elf32.elf" "class" "ELF64" -- $B --kernel "$data/elf32.elf"
check 1 1 "x86_64.elf" "machine" "RISC-V" -- $B --kernel "$data/x86_64.elf"
check 1 1 "bigendian.elf" "big-endian" -- $B --kernel "$data/bigendian.elf"
check 1 1 "outside-ram.elf" "0x10000000" "outside guest RAM" -- $B --kernel "$data/outside-ram.elf"
check 1 1 "beyond-ram.elf" "outside guest RAM" -- $B --kernel "$data/beyond-ram.elf" --memory 1M
check 1 1 "overlap.elf" "overlap" -- $B --kernel "$data/overlap.elf"
check 1 1 "truncated.elf" "truncated" -- $B --kernel "$data/truncated.elf"
check 1 1 "header-only.elf" "truncated" -- $B --kernel "$data/header-only.elf"
# A raw image bigger than RAM
head -c 2097152 /dev/zero >"$tmp/big.bin"
check 1 1 "big.bin" -- $B --kernel "$tmp/big.bin" --memory 1M
# A text file is not an ELF, so it is loaded as a raw binary and run: its
# bytes are garbage code, which must end in a stopped VM with a diagnostic
# (pc, cause, tval), not a crash or a hang.
check 1 1 "pc 0x" "tval 0x" -- $B --kernel "$data/text.txt" --max-insns 1000000

# --- guests that cannot go on: exit 1 with pc, cause and tval ---------------
check 1 1 "mtvec=0x0" "environment call from M-mode" "pc 0x80000000" "tval 0x0" -- \
    $B --kernel "$data/ecall.bin"
# the handler itself traps: must stop even without --max-insns
check 1 1 "mtvec=0x80001000" "illegal instruction" "pc 0x80001000" "tval" -- \
    $B --kernel "$data/handler-loop.bin"
check 1 1 "instruction access fault" "pc 0x40000000" "tval 0x40000000" -- \
    $B --kernel "$data/jump-unmapped.bin"
check 1 1 "--max-insns" "100000" "pc 0x80000000" -- \
    $B --kernel "$data/spin.bin" --max-insns 100000
check 1 1 "--max-insns" "1000" -- $B --kernel "$data/spin.bin" --max-insns 1k

# --- no binutils for libgccjit: one warning, then the guest runs interpreted
cases=$((cases + 1))
timeout "$limit" env PATH=/nonexistent "$gb" $B --kernel "$data/pass.bin" --jit-threshold 0 \
    >"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
if [ "$rc" -ne 0 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q "JIT disabled" "$tmp/err"; then
    fail "glassbox without 'as'/'ld' on PATH: exit $rc, want 0 and one JIT warning: $(cat "$tmp/err")"
fi

echo "$cases cases, $failures failures"
[ "$failures" -eq 0 ]
