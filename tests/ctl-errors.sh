#!/bin/sh
# Bad input to `glassbox ctl` (issue 4, "Control"): every case must give a
# one-line error on stderr that starts with "glassbox: " and names the
# problem, exit status 2 for usage errors (bad command line, bad JSON-ARGS)
# and 1 for everything else (no such VM, a stale socket, something that is
# not a QMP server, a QMP error), and never a crash or a hang. With
# python3, a tiny scripted QMP server also checks what ctl prints for a
# return value and for a QMP error.
#
#   tests/ctl-errors.sh            (run by `make check`)
#
# GLASSBOX names the engine (default ./glassbox).

gb=${GLASSBOX:-./glassbox}
case $gb in /*) ;; *) gb=$(pwd)/$gb ;; esac
limit=${CTL_ERRORS_TIMEOUT:-30}

if [ ! -x "$gb" ]; then
    echo "ERROR: glassbox binary '$gb' not found or not executable (build it, or set GLASSBOX)"
    exit 99
fi
command -v timeout >/dev/null 2>&1 || { echo "SKIP: needs timeout(1) (coreutils)"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ctl-errors.XXXXXX") || exit 99
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
# sockets of this test live in its own runtime directory
XDG_RUNTIME_DIR=$tmp/run
export XDG_RUNTIME_DIR
mkdir -m 700 "$XDG_RUNTIME_DIR" "$XDG_RUNTIME_DIR/glassbox" || exit 99
err_prog=$gb err_sub=ctl
. "$(dirname "$0")/errcheck.sh"

# check WANT_RC NEEDLE... -- ARGS...
#   Runs glassbox ctl ARGS; expects exit status WANT_RC, nothing on stdout,
#   and one stderr line starting with "glassbox: " containing every NEEDLE.
check() {
    want=$1
    shift
    expect_error "$want" 1 empty "$@"
}

vm=ctltest-$$

# usage
check 2 "usage: glassbox ctl" --
check 2 "usage: glassbox ctl" -- "$vm"
check 2 "usage: glassbox ctl" -- "$vm" query-status '{}' extra
check 2 "usage: glassbox ctl" -- "$vm" ""
check 2 "not a VM name" -- a/b query-status
check 2 "'--bogus' is not a VM name or an option" -- --bogus query-status
check 2 "--socket needs a socket path" -- --socket
check 2 "--timeout needs a number of seconds" -- --timeout
check 2 "--timeout 'x'" -- --timeout x "$vm" query-status
check 2 "--timeout '0'" -- --timeout 0 "$vm" query-status
check 2 "usage: glassbox ctl" -- --socket "$tmp/x.sock"
# JSON-ARGS
check 2 "JSON-ARGS" "not JSON" -- "$vm" query-status '{bad'
check 2 "JSON-ARGS" "not a complete JSON object" -- "$vm" query-status '{"a": 1'
check 2 "JSON-ARGS" "not a JSON object" -- "$vm" query-status '[1, 2]'
check 2 "JSON-ARGS" "not a JSON object" -- "$vm" query-status '"text"'
check 2 "JSON-ARGS" "text after the JSON object" -- "$vm" query-status '{} {}'
check 2 "JSON-ARGS" -- "$vm" query-status ''
# nobody there
check 1 "no VM named '$vm' is running" "$XDG_RUNTIME_DIR/glassbox/$vm.sock" -- \
    "$vm" query-status
check 1 "$tmp/nosuch.sock" -- --socket "$tmp/nosuch.sock" query-status
: >"$XDG_RUNTIME_DIR/glassbox/plainfile.sock"
check 1 "plainfile.sock" -- plainfile query-status

if command -v python3 >/dev/null 2>&1; then
    # a socket file whose engine died: nobody listens
    python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' \
        "$XDG_RUNTIME_DIR/glassbox/stale.sock"
    check 1 "nobody listens" -- stale query-status

    # scripted servers: one not speaking QMP, one speaking it
    cat >"$tmp/server.py" <<'EOF'
import json, os, socket, sys
path, mode = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX)
srv.bind(path)
srv.listen(4)
open(path + ".ready", "w").close()
while True:
    c, _ = srv.accept()
    f = c.makefile("rwb")
    if mode == "garbage":
        f.write(b"hello, this is not QMP\r\n"); f.flush(); c.close(); continue
    f.write(b'{"QMP": {"version": {"qemu": {"major": 0, "minor": 1, "micro": 0}, '
            b'"package": "fake"}, "capabilities": []}}\r\n'); f.flush()
    for line in f:
        req = json.loads(line)
        cmd, rid = req.get("execute"), req.get("id")
        if cmd == "qmp_capabilities":
            rep = {"return": {}}
        elif cmd == "query-status":
            rep = {"return": {"status": "running", "running": True,
                              "args": req.get("arguments", {})}}
        elif cmd == "hang":
            continue
        else:
            rep = {"error": {"class": "CommandNotFound",
                             "desc": "The command %s has not been found" % cmd}}
        # an event first: ctl must skip it
        f.write(b'{"event": "STOP", "timestamp": {"seconds": 1, "microseconds": 2}}\r\n')
        rep["id"] = rid
        f.write(json.dumps(rep).encode() + b"\r\n"); f.flush()
    c.close()
EOF
    start_server() {
        rm -f "$1" "$1.ready"
        python3 "$tmp/server.py" "$1" "$2" &
        server_pid=$!
        for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
            [ -e "$1.ready" ] && return 0
            sleep 0.2
        done
        echo "ERROR: scripted server did not start"
        exit 99
    }
    stop_server() {
        kill "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
        server_pid=
    }

    start_server "$XDG_RUNTIME_DIR/glassbox/garbage.sock" garbage
    check 1 "not a QMP server" -- garbage query-status
    stop_server

    start_server "$XDG_RUNTIME_DIR/glassbox/fake.sock" qmp
    check 1 "glassbox: ctl: CommandNotFound: The command nope has not been found" -- \
        fake nope
    check 1 "no answer from the engine in time" -- --timeout 0.3 fake hang
    # success: the return value, pretty-printed JSON on stdout, nothing on stderr
    cases=$((cases + 1))
    if timeout "$limit" "$gb" ctl fake query-status '{"x": [1, "two"]}' \
        >"$tmp/out" 2>"$tmp/err"; then
        [ -s "$tmp/err" ] && fail "ctl fake query-status: stderr: $(cat "$tmp/err")"
        python3 - "$tmp/out" <<'EOF' || fail "ctl fake query-status printed: $(cat "$tmp/out")"
import json, sys
text = open(sys.argv[1]).read()
v = json.loads(text)
assert v == {"status": "running", "running": True, "args": {"x": [1, "two"]}}, v
assert text.count("\n") > 3, "not pretty-printed"
EOF
    else
        fail "ctl fake query-status: exit $?: $(cat "$tmp/err")"
    fi
    # --socket with a relative path
    cases=$((cases + 1))
    (cd "$XDG_RUNTIME_DIR/glassbox" && timeout "$limit" "$gb" ctl --socket fake.sock \
        query-status >"$tmp/out" 2>"$tmp/err") ||
        fail "ctl --socket fake.sock: $(cat "$tmp/err")"
    grep -q '"running"' "$tmp/out" || fail "ctl --socket fake.sock printed: $(cat "$tmp/out")"
    stop_server
else
    echo "note: python3 missing: scripted-server cases skipped"
fi

echo "$cases cases, $failures failures"
[ "$failures" -eq 0 ]
