#!/bin/sh
# --jit-cache DIR end to end. tests/guest/demo.elf gives a checkable result
# (its output, instruction count included, must equal a --jit off run);
# tests/guest/spin.elf runs until stopped, so its vCPU counters
# (cache-loads, cache-rejects, compiled) can be read with `glassbox ctl`.
#   a. an empty DIR fills with .gbjit entries; a second run loads them and
#      compiles less (fewer "jit: batch" lines, cache-loads > 0)
#   b. corrupt entries (object or manifest byte flipped, truncated, another
#      build's hash, garbage, empty, a directory, /dev/zero) are counted as
#      rejected, never loaded, and the guest still runs right
#   c. another program's cache does not change this program's result
#   d. bad options: one-line errors, non-zero exit
#   e. two glassbox processes filling one DIR at the same time
#   f. --jit-cache-max: the least recently used entries go first
# GLASSBOX names the engine (default ./glassbox).
gb=${GLASSBOX:-./glassbox}
demo=${DEMO_ELF:-tests/guest/demo.elf}
spin=${SPIN_ELF:-tests/guest/spin.elf}

if [ ! -x "$gb" ]; then
    echo "ERROR: '$gb' not found or not executable (build it, or set GLASSBOX)"
    exit 99
fi
for e in "$demo" "$spin"; do
    if [ ! -f "$e" ]; then
        echo "SKIP: $e was not built: no riscv64 cross compiler"
        exit 77
    fi
done
if ! command -v python3 >/dev/null; then
    echo "SKIP: python3 is needed to edit cache files and read query-stats"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/jit-cache.XXXXXX") || exit 99
vm=
cleanup() {
    [ -n "$vm" ] && kill "$vm" 2>/dev/null && wait "$vm" 2>/dev/null
    chmod -R u+w "$tmp" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# seconds per run (also errcheck.sh's expect_error's limit): with
# --jit-threshold 0 the demo compiles ~170 batches, each region twice
# (tier 2), which takes 20-40 s while the rest of `make check` runs
limit=120
# shellcheck disable=SC2034
err_prog=$gb err_sub=run
# shellcheck source=tests/errcheck.sh
. "$(dirname "$0")/errcheck.sh"
failures=${failures:-0}

crashed() {
    grep -E -q 'Segmentation|Sanitizer|runtime error:|Aborted|core dumped|Assertion|double free|stack smashing' "$1"
}

# the guest's output without its wall-clock dependent part
norm() {
    sed 's/ in [0-9]* us of guest time$//' "$1"
}

timeout "$limit" "$gb" run --bios none --kernel "$demo" --jit off </dev/null >"$tmp/ref.raw" 2>&1 ||
    { echo "FAIL: the reference run (--jit off) failed: $(cat "$tmp/ref.raw")"; exit 1; }
norm "$tmp/ref.raw" >"$tmp/ref"
grep -q "primes below" "$tmp/ref" || { echo "FAIL: unexpected demo output"; exit 1; }

# demo_cmd TAG DIR [ARGS...]: demo.elf with --jit-cache DIR, output in $tmp/TAG.*
demo_cmd() {
    tag=$1 dir=$2
    shift 2
    GLASSBOX_JIT_DEBUG=1 timeout "$limit" "$gb" run --bios none --kernel "$demo" \
        --jit-cache "$dir" "$@" </dev/null >"$tmp/$tag.out" 2>"$tmp/$tag.err"
}

# check_demo TAG STATUS: it must have printed the reference output; sets
# $batches (compiled batches, from GLASSBOX_JIT_DEBUG)
check_demo() {
    tag=$1 rc=$2
    cases=$((cases + 1))
    batches=$(grep -c "^jit: batch" "$tmp/$tag.err")
    [ "$rc" -eq 0 ] || fail "$tag: demo exited $rc: $(grep -v '^jit: batch' "$tmp/$tag.err")"
    crashed "$tmp/$tag.err" && fail "$tag: crash or sanitizer report: $(cat "$tmp/$tag.err")"
    norm "$tmp/$tag.out" | cmp -s - "$tmp/ref" ||
        fail "$tag: demo output differs from the --jit off run: $(norm "$tmp/$tag.out" | diff "$tmp/ref" - | head -5)"
}

run_demo() {
    demo_cmd "$@"
    check_demo "$1" $?
}

# spin_start TAG DIR [ARGS...]: spin.elf with --jit-cache DIR in the
# background, controlled through $tmp/TAG.sock
spin_start() {
    tag=$1 dir=$2
    shift 2
    sock=$tmp/$tag.sock
    "$gb" run --bios none --kernel "$spin" --jit-cache "$dir" --name "jc-$$-$tag" \
        --qmp-socket "$sock" "$@" </dev/null >"$tmp/$tag.out" 2>&1 &
    vm=$!
    i=0
    until [ -S "$sock" ] && grep -q "spin: running" "$tmp/$tag.out"; do
        i=$((i + 1))
        if [ $i -gt 300 ] || ! kill -0 "$vm" 2>/dev/null; then
            fail "$tag: spin did not start: $(cat "$tmp/$tag.out")"
            return 1
        fi
        sleep 0.1
    done
}

# jit_stat FIELD: the running spin's FIELD of the vCPUs' "jit" objects, summed
jit_stat() {
    "$gb" ctl --socket "$sock" query-stats 2>"$tmp/ctl.err" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(v["jit"][sys.argv[1]] for v in d["vcpus"]))' "$1" 2>>"$tmp/ctl.err" ||
        { echo "query-stats failed: $(cat "$tmp/ctl.err")" >&2; echo -1; }
}

# wait_tick N: until spin printed "tick N" (guest time has passed)
wait_tick() {
    i=0
    until grep -q "tick $1\$" "$tmp/$tag.out"; do
        i=$((i + 1))
        [ $i -le 150 ] || { fail "$tag: no 'tick $1' in 15 s: $(cat "$tmp/$tag.out")"; return 1; }
        sleep 0.1
    done
}

# spin_stop: quit it; it must exit 0 without a crash
spin_stop() {
    kill "$vm"
    wait "$vm"
    rc=$?
    vm=
    [ "$rc" -eq 0 ] || fail "$tag: spin exited $rc: $(cat "$tmp/$tag.out")"
    crashed "$tmp/$tag.out" && fail "$tag: crash or sanitizer report: $(cat "$tmp/$tag.out")"
}

entries() {
    find "$1" -maxdepth 1 -name '*.gbjit' -type f | wc -l
}

# temporary files of a store that was not renamed into place
leftovers() {
    find "$1" -maxdepth 1 -name '.tmp-*' | grep -q .
}

# ---- a. fill an empty cache, then run from it
run_demo a-first "$tmp/demo-cache" --jit-threshold 0
first=$batches
nent=$(entries "$tmp/demo-cache")
[ "$first" -gt 0 ] || fail "a: the first run compiled nothing (GLASSBOX_JIT_DEBUG)"
[ "$nent" -gt 0 ] || fail "a: the first run left no .gbjit in the cache"
run_demo a-second "$tmp/demo-cache" --jit-threshold 0
[ "$batches" -lt "$first" ] ||
    fail "a: the second run compiled $batches batches, the first $first: the cache was not used"
# threshold 0 promotes every region to tier 2 (-O2) at once: those are
# stored too, and a later run takes them from the cache
t2=$(sed -n 's/^jit: hart 0: .* from the cache (\([0-9]*\) at tier 2).*/\1/p' "$tmp/a-second.err")
[ "${t2:-0}" -gt 0 ] || fail "a: the second run loaded ${t2:-no} tier-2 regions from the cache"
leftovers "$tmp/demo-cache" && fail "a: temporary files left in the cache"
echo "a: demo: $first batches compiled into $nent entries, then $batches"

spin_start a-spin1 "$tmp/spin-cache" --jit-threshold 0 && wait_tick 1 && {
    c1=$(jit_stat compiled)
    l1=$(jit_stat cache-loads)
    spin_stop
    [ "$c1" -gt 0 ] || fail "a: spin compiled $c1 regions"
    [ "$l1" -eq 0 ] || fail "a: spin loaded $l1 regions from an empty cache"
}
spin_start a-spin2 "$tmp/spin-cache" --jit-threshold 0 && wait_tick 1 && {
    c2=$(jit_stat compiled)
    l2=$(jit_stat cache-loads)
    r2=$(jit_stat cache-rejects)
    spin_stop
    [ "$l2" -gt 0 ] || fail "a: the second spin run loaded $l2 regions from the cache"
    [ "$c2" -ge 0 ] && [ "$c2" -lt "$c1" ] || fail "a: the second spin run compiled $c2, the first $c1"
    [ "$r2" -eq 0 ] || fail "a: $r2 rejects in a cache this build wrote"
    echo "a: spin: compiled $c1, then compiled $c2 and loaded $l2"
}

# ---- b. corrupt entries: counted, never loaded, the guest runs right
# corrupt KIND DIR: damage every entry in DIR (the header: magic 8 bytes,
# build hash u64 at 8, opts and nreg u32, manifest and object lengths u64
# at 24 and 32, two u64 checksums; then the manifest, then the object)
corrupt() {
    python3 - "$@" <<'EOF'
import glob, os, struct, sys
kind, d = sys.argv[1], sys.argv[2]
for p in glob.glob(os.path.join(d, "*.gbjit")):
    b = bytearray(open(p, "rb").read())
    man_len, so_len = struct.unpack_from("<QQ", b, 24)
    if kind == "object":
        b[56 + man_len + so_len // 2] ^= 0x40
    elif kind == "manifest":
        b[56 + man_len // 2] ^= 0x01
    elif kind == "truncated":
        b = b[:len(b) // 2]
    elif kind == "build":
        b[8] ^= 0x01
    open(p, "wb").write(b)
EOF
}

# bad_run KIND LOADS: demo and spin on a copy of both caches with KIND
# damage; spin's cache-rejects must grow by at least the entries refused
# at open (or 1 for an object caught when loaded); LOADS is "none" when no
# intact entry is left, "some" when the intact ones must still load
bad_run() {
    kind=$1 loads=$2 dir=$tmp/bad-$1
    rm -rf "$dir"
    mkdir "$dir"
    # (two copies: the same code run by both guests is one file in each)
    cp "$tmp"/demo-cache/*.gbjit "$dir"/
    cp "$tmp"/spin-cache/*.gbjit "$dir"/
    nbad=0
    case $kind in
        object) corrupt object "$dir"; nbad=1 ;;
        manifest|truncated|build) corrupt "$kind" "$dir"; nbad=$(entries "$dir") ;;
        garbage)
            head -c 5000 /dev/urandom >"$dir/0123456789abcdef.gbjit"
            printf 'GBJIT01\n%-100s' x >"$dir/magic-only.gbjit"
            nbad=2 ;;
        empty) : >"$dir/empty.gbjit"; nbad=1 ;;
        dir) mkdir "$dir/sub.gbjit"; nbad=1 ;;
        devzero) ln -s /dev/zero "$dir/zero.gbjit"; nbad=1 ;;
    esac
    run_demo "b-$kind" "$dir"
    spin_start "b-$kind" "$dir" || return
    # the hot loop is looked up at its first run; give it a guest second
    wait_tick 1
    rej=$(jit_stat cache-rejects)
    ld=$(jit_stat cache-loads)
    spin_stop
    [ "$rej" -ge "$nbad" ] || fail "b: $kind: $rej rejects counted, want at least $nbad"
    case $loads in
        none) [ "$ld" -eq 0 ] || fail "b: $kind: $ld regions loaded from damaged entries" ;;
        some) [ "$ld" -gt 0 ] || fail "b: $kind: the intact entries were not loaded" ;;
    esac
    echo "b: $kind: $rej rejected, $ld loaded"
}
for k in object manifest truncated build; do
    bad_run $k none
done
for k in garbage empty dir devzero; do
    bad_run $k some
done

# ---- c. another program's cache: the result does not change
mkdir "$tmp/other"
cp "$tmp"/spin-cache/*.gbjit "$tmp/other"/
run_demo c-demo "$tmp/other" --jit-threshold 0
[ "$batches" -gt 0 ] || fail "c: demo compiled nothing with spin's cache"
echo "c: demo with spin's cache: right result, $batches batches compiled"

# ---- d. bad options
: >"$tmp/afile"
expect_error 1 1 empty "--jit-cache" "not a directory" -- --bios none --kernel "$demo" --jit-cache "$tmp/afile"
expect_error 1 1 empty "--jit-cache" "cannot create the directory" -- \
    --bios none --kernel "$demo" --jit-cache "$tmp/afile/sub"
expect_error 1 1 empty "--jit-cache" "cannot create the directory" -- \
    --bios none --kernel "$demo" --jit-cache "$tmp/nosuch/sub"
expect_error 2 1 empty "--jit-cache" "--jit off" -- --bios none --kernel "$demo" --jit off --jit-cache "$tmp/d"
expect_error 2 1 empty "--jit-cache" "--trace" -- --bios none --kernel "$demo" --trace --jit-cache "$tmp/d"
expect_error 2 1 empty "--jit-cache" -- --bios none --kernel "$demo" --jit-cache ""
if [ "$(id -u)" -eq 0 ]; then
    echo "d: unwritable directory not checked: running as root, which may write anyway"
else
    mkdir "$tmp/ro"
    chmod 500 "$tmp/ro"
    expect_error 1 1 empty "--jit-cache" "not writable" -- --bios none --kernel "$demo" --jit-cache "$tmp/ro"
fi
[ -e "$tmp/d" ] && fail "d: a rejected command line created the cache directory"

# ---- e. two processes filling one cache at once
demo_cmd e-one "$tmp/shared" --jit-threshold 0 &
p1=$!
demo_cmd e-two "$tmp/shared" --jit-threshold 0 &
p2=$!
wait "$p1"
check_demo e-one $?
wait "$p2"
check_demo e-two $?
run_demo e-after "$tmp/shared" --jit-threshold 0
[ "$batches" -lt "$first" ] || fail "e: the run after them compiled $batches batches (alone: $first)"
leftovers "$tmp/shared" && fail "e: temporary files left in the cache"
echo "e: two runs at once filled $(entries "$tmp/shared") entries; the next compiled $batches batches"

# ---- f. --jit-cache-max: loading an entry makes it the most recently
# used; at start the least recently used go, down to 3/4 of the bound.
# The demo's entries are set to 2000, three foreign files (never loaded)
# to 2001; a run loads most entries (now); then a run whose bound keeps
# only the loaded ones must remove exactly the others and the foreign.
mkdir "$tmp/f"
cp "$tmp"/demo-cache/*.gbjit "$tmp/f"/
touch -d @946684800 "$tmp"/f/*.gbjit
for i in 1 2 3; do
    head -c 20000 /dev/urandom >"$tmp/f/foreign$i.gbjit"
done
touch -d @978307200 "$tmp"/f/foreign*.gbjit
run_demo f-load "$tmp/f" --jit-threshold 0
# bound: 4/3 of the loaded entries' bytes (+1), so 3/4 of it keeps them
max=$(python3 - "$tmp/f" <<'EOF2'
import glob, os, sys
print(sum(os.path.getsize(p) * 4 // 3 + 1 for p in glob.glob(sys.argv[1] + "/*.gbjit")
          if os.path.getmtime(p) > 1e9))
EOF2
)
loaded=$(find "$tmp/f" -maxdepth 1 -name '*.gbjit' -newermt @1000000000 | sort)
[ -n "$loaded" ] || fail "f: loading entries did not mark them used (mtime)"
old=$(find "$tmp/f" -maxdepth 1 -name '*.gbjit' ! -newermt @1000000000 | wc -l)
run_demo f-prune "$tmp/f" --jit-threshold 0 --jit-cache-max "${max}B"
for e in $loaded; do
    [ -f "$e" ] || fail "f: the used entry $e was removed before older ones"
done
left=$(find "$tmp/f" -maxdepth 1 -name '*.gbjit' ! -newermt @1000000000 | wc -l)
[ "$left" -eq 0 ] || fail "f: $left of $old unused entries (3 foreign) were kept over the bound"
echo "f: --jit-cache-max ${max}B removed $old unused entries, kept $(echo "$loaded" | wc -l) used ones"

if [ "$failures" -ne 0 ]; then
    echo "FAIL: $failures of the checks failed"
    exit 1
fi
echo "PASS: --jit-cache: $cases runs, all checks passed"
exit 0
