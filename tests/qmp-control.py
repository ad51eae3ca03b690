#!/usr/bin/env python3
"""The control socket end to end, with a plain socket client speaking raw
QMP (no glassbox code on the client side) against a running spin guest:

  greeting and capabilities negotiation; query-status/name/version/
  cpus-fast; stop -> STOP event, status paused, vCPUs parked and the guest
  clock frozen (no "tick" output while paused); cont -> RESUME;
  query-hot-blocks names spin_hot_loop with its disassembly; malformed
  input gets an error and the connection stays usable; a second client
  sees the events too; system_reset -> RESET and the guest starts over;
  quit -> SHUTDOWN (host-qmp-quit), exit status 0, socket and region gone.

Also `glassbox ctl` on the same VM. Prints TAP-ish lines; exit 77 when the
spin guest was not built.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gbtest import GLASSBOX, SPIN_ELF as ELF, check, summary, wait_for  # noqa: E402


class Qmp:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(path)
        self.buf = b""
        self.events = []
        self.greeting = self.recv()

    def recv(self):
        dec = json.JSONDecoder()
        while True:
            text = self.buf.decode("utf-8", "replace").lstrip()
            if text:
                try:
                    obj, end = dec.raw_decode(text)
                    self.buf = text[end:].encode()
                    return obj
                except ValueError:
                    pass
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk

    def send_raw(self, data):
        self.s.sendall(data)
        while True:
            m = self.recv()
            if "event" in m:
                self.events.append(m)
                continue
            return m

    def cmd(self, name, args=None, **kw):
        msg = {"execute": name}
        if args is not None:
            msg["arguments"] = args
        msg.update(kw)
        return self.send_raw(json.dumps(msg).encode())

    def wait_event(self, name, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            for e in self.events:
                if e["event"] == name:
                    self.events.remove(e)
                    return e
            self.s.settimeout(max(0.1, end - time.time()))
            try:
                m = self.recv()
            except socket.timeout:
                break
            if "event" in m:
                self.events.append(m)
        return None


def ticks(path):
    with open(path, errors="replace") as f:
        return f.read().count("tick ")


def main():
    if not os.path.exists(ELF):
        print("SKIP: %s was not built (no riscv64 cross compiler)" % ELF)
        return 77
    tmp = tempfile.mkdtemp()
    name = "qmp-%d" % os.getpid()
    sock = os.path.join(tmp, "vm.sock")
    out = os.path.join(tmp, "out")
    with open(out, "w") as f:
        vm = subprocess.Popen([GLASSBOX, "run", "--bios", "none", "--kernel", ELF, "--name", name,
                               "--qmp-socket", sock], stdin=subprocess.DEVNULL, stdout=f,
                              stderr=subprocess.STDOUT)
    try:
        if not check("socket appears", wait_for(lambda: os.path.exists(sock), 10)):
            return 1
        st = os.stat(sock)
        check("socket mode 0600", (st.st_mode & 0o777) == 0o600, oct(st.st_mode))
        q = Qmp(sock)
        g = q.greeting.get("QMP", {})
        check("greeting has version and capabilities",
              "qemu" in g.get("version", {}) and isinstance(g.get("capabilities"), list), q.greeting)
        r = q.cmd("query-status")
        check("commands refused before qmp_capabilities",
              r.get("error", {}).get("class") == "CommandNotFound", r)
        check("qmp_capabilities", q.cmd("qmp_capabilities").get("return") == {})
        r = q.cmd("query-status", id="a1")
        check("query-status running, id echoed",
              r.get("return", {}).get("status") == "running" and r.get("return", {}).get("running") is True
              and r.get("id") == "a1", r)
        check("query-name", q.cmd("query-name").get("return", {}).get("name") == name)
        check("query-version", "qemu" in q.cmd("query-version").get("return", {}))
        cpus = q.cmd("query-cpus-fast").get("return", [])
        check("query-cpus-fast: one cpu with a thread id",
              len(cpus) == 1 and cpus[0].get("cpu-index") == 0 and cpus[0].get("thread-id", 0) > 0, cpus)
        if cpus:
            check("cpu thread id is a thread of the engine",
                  os.path.exists("/proc/%d/task/%d" % (vm.pid, cpus[0].get("thread-id", 0))))

        # a second client sees events too
        q2 = Qmp(sock)
        q2.cmd("qmp_capabilities")

        wait_for(lambda: ticks(out) >= 1, 10)
        r = q.cmd("stop")
        check("stop", r.get("return") == {}, r)
        check("STOP event", q.wait_event("STOP") is not None)
        check("STOP event on the second client", q2.wait_event("STOP") is not None)
        check("status paused", q.cmd("query-status").get("return", {}).get("status") == "paused")
        t0 = ticks(out)
        time.sleep(2.5)
        check("no guest ticks while paused (clock frozen)", ticks(out) == t0, (t0, ticks(out)))
        check("stop when paused is fine", q.cmd("stop").get("return") == {})
        r = q.cmd("cont")
        check("cont", r.get("return") == {}, r)
        check("RESUME event", q.wait_event("RESUME") is not None)
        check("status running again", q.cmd("query-status").get("return", {}).get("status") == "running")
        check("ticks resume", wait_for(lambda: ticks(out) > t0, 5))

        time.sleep(0.5)
        r = q.cmd("query-hot-blocks", {"window": "total", "count": 5, "disas": 40})
        blocks = r.get("return", {}).get("blocks", [])
        top = blocks[0] if blocks else {}
        check("query-hot-blocks: top block in spin_hot_loop",
              top.get("symbol", "").startswith("spin_hot_loop"), r)
        check("hot block has disassembly ending in a branch",
              len(top.get("disas", [])) == top.get("ninsns") and
              any(w in top.get("disas", [""])[-1] for w in ("bne", "bltu", "beq", "blt", "bge")),
              top.get("disas"))
        r = q.cmd("query-hot-blocks", {"count": "many"})
        check("wrong argument type: GenericError", r.get("error", {}).get("class") == "GenericError", r)
        q.s.sendall(b'{"execute": "query-')          # one object over two writes
        time.sleep(0.2)
        r = q.send_raw(b'status"}')
        check("an object split across writes", r.get("return", {}).get("status") == "running", r)
        r = q.send_raw(b'{"execute": 42}')
        check("execute not a string: GenericError", r.get("error", {}).get("class") == "GenericError", r)
        r = q.send_raw(b'{]\n')    # QMP resyncs at a newline
        check("malformed JSON: an error object", "error" in r, r)
        check("connection still usable", q.cmd("query-status").get("return", {}).get("status") == "running")
        r = q.cmd("no-such-command")
        check("unknown command: CommandNotFound", r.get("error", {}).get("class") == "CommandNotFound", r)
        stats = q.cmd("query-stats").get("return", {})
        check("query-stats has vCPU counters", json.dumps(stats).find("instret") >= 0, list(stats)[:8])
        # the JIT tier's counters (stats ABI 1.2): present on every vCPU, integers
        tier = ("insns", "region-blocks", "evictions", "cache-loads", "cache-rejects", "chain-hits")
        jits = [v.get("jit", {}) for v in stats.get("vcpus", [])]
        check("query-stats: vCPU jit has the tier counters as integers",
              bool(jits) and all(type(j.get(k)) is int and j[k] >= 0 for j in jits for k in tier), jits)
        check("query-stats: stats ABI minor >= 2", stats.get("abi", {}).get("minor", 0) >= 2,
              stats.get("abi"))

        # glassbox ctl against the same VM
        p = subprocess.run([GLASSBOX, "ctl", "--socket", sock, "query-status"], capture_output=True,
                           text=True, timeout=20)
        check("glassbox ctl --socket query-status", p.returncode == 0 and '"running"' in p.stdout,
              (p.returncode, p.stdout, p.stderr))
        p = subprocess.run([GLASSBOX, "ctl", "--socket", sock, "query-hot-blocks", '{"count": 1}'],
                           capture_output=True, text=True, timeout=20)
        check("glassbox ctl with JSON arguments", p.returncode == 0 and '"blocks"' in p.stdout,
              (p.returncode, p.stdout, p.stderr))

        # reset: RESET event, the guest starts over
        before = open(out, errors="replace").read().count("spin: running")
        r = q.cmd("system_reset")
        check("system_reset", r.get("return") == {}, r)
        check("RESET event", q.wait_event("RESET") is not None)
        check("guest starts over", wait_for(
            lambda: open(out, errors="replace").read().count("spin: running") > before, 10))

        # reset while paused: in place, stays paused, runs from the start on cont
        before = open(out, errors="replace").read().count("spin: running")
        q.cmd("stop")
        q.wait_event("STOP")
        r = q.cmd("system_reset")
        check("system_reset while paused", r.get("return") == {}, r)
        check("RESET event while paused", q.wait_event("RESET") is not None)
        check("still paused after the reset",
              q.cmd("query-status").get("return", {}).get("status") == "paused")
        time.sleep(0.5)
        check("nothing runs while paused",
              open(out, errors="replace").read().count("spin: running") == before)
        q.cmd("cont")
        check("after cont the guest starts over", wait_for(
            lambda: open(out, errors="replace").read().count("spin: running") > before, 10))

        r = q.cmd("system_powerdown")
        check("system_powerdown", r.get("return") == {}, r)
        check("POWERDOWN event", q.wait_event("POWERDOWN") is not None)
        check("still running (virt has no power button)",
              q.cmd("query-status").get("return", {}).get("status") == "running")

        r = q.cmd("quit")
        check("quit", r.get("return") == {}, r)
        ev = q.wait_event("SHUTDOWN")
        check("SHUTDOWN event with reason host-qmp-quit",
              ev is not None and ev.get("data", {}).get("reason") == "host-qmp-quit", ev)
        try:
            rc = vm.wait(10)
        except subprocess.TimeoutExpired:
            rc = None
        check("engine exits 0 after quit", rc == 0, rc)
        check("socket removed", not os.path.exists(sock))
        check("stats region removed", not os.path.exists("/dev/shm/glassbox." + name))
    finally:
        if vm.poll() is None:
            vm.kill()
            vm.wait()
        subprocess.run(["rm", "-rf", tmp])
    return summary()


if __name__ == "__main__":
    sys.exit(main())
