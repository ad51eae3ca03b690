# Sourced by the bad-input tests (cli-errors.sh, ctl-errors.sh): run a
# command that must fail cleanly and count what is wrong with how it fails.
# Needs $tmp (a scratch directory), $limit (seconds), $err_prog (the
# glassbox binary) and $err_sub (a subcommand put before the arguments, or
# empty); sets $cases and $failures.
cases=0
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# expect_error WANT_RC LINES STDOUT NEEDLE... -- ARGS...
#   Runs glassbox [$err_sub] ARGS; expects exit status WANT_RC, no crash or sanitizer report,
#   and stderr to contain every NEEDLE (fixed strings). LINES is "1" for a
#   one-line error that starts with "glassbox: ", or "any"; STDOUT is
#   "empty" when nothing may be printed on stdout, or "any".
expect_error() {
    want=$1 lines=$2 stdout=$3
    shift 3
    needles=
    while [ "$1" != "--" ]; do
        needles="$needles
$1"
        shift
    done
    shift
    cases=$((cases + 1))
    timeout "$limit" "$err_prog" $err_sub "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    rc=$?
    what="glassbox $err_sub $*"
    if [ "$rc" -eq 124 ]; then
        fail "$what: hung (killed after ${limit}s)"
        return
    fi
    if [ "$rc" -ge 128 ]; then
        fail "$what: killed by signal $((rc - 128))"
    fi
    if grep -E -q 'Segmentation|Sanitizer|runtime error:|Aborted|core dumped|Assertion|double free|stack smashing' "$tmp/err"; then
        fail "$what: crash or sanitizer report:"
        sed 's/^/    /' "$tmp/err"
    fi
    if [ "$rc" -ne "$want" ]; then
        fail "$what: exit status $rc, want $want"
        sed 's/^/    stderr: /' "$tmp/err"
    fi
    if [ "$stdout" = empty ] && [ -s "$tmp/out" ]; then
        fail "$what: printed on stdout: $(cat "$tmp/out")"
    fi
    if [ "$lines" = 1 ]; then
        n=$(wc -l <"$tmp/err")
        if [ "$n" -ne 1 ]; then
            fail "$what: $n lines on stderr, want exactly one:"
            sed 's/^/    /' "$tmp/err"
        elif ! grep -q '^glassbox: ' "$tmp/err"; then
            fail "$what: error does not start with 'glassbox: ': $(cat "$tmp/err")"
        fi
    fi
    printf '%s\n' "$needles" | while IFS= read -r needle; do
        [ -z "$needle" ] && continue
        if ! grep -F -q -- "$needle" "$tmp/err"; then
            echo "FAIL: $what: stderr does not mention '$needle': $(cat "$tmp/err")"
            echo x >>"$tmp/needle-fail"
        fi
    done
    if [ -f "$tmp/needle-fail" ]; then
        failures=$((failures + 1))
        rm -f "$tmp/needle-fail"
    fi
}
