"""Shared pieces of the Python integration tests that drive a running
glassbox: TAP-ish checks, polling, and a VM started with its own control
socket and stopped (or killed) afterwards."""

import json
import os
import subprocess
import tempfile
import time

GLASSBOX = os.environ.get("GLASSBOX", "./glassbox")
GLASSTOP = os.environ.get("GLASSTOP", "./glasstop")
SPIN_ELF = os.environ.get("SPIN_ELF", "tests/guest/spin.elf")
results = []


def check(name, ok, detail=""):
    results.append(bool(ok))
    print("%s %d - %s%s" % ("ok" if ok else "not ok", len(results), name,
                            (": " + str(detail)) if detail and not ok else ""), flush=True)
    return ok


def summary():
    """Print the totals; the exit status for main()."""
    failed = results.count(False)
    print("%d passed, %d failed" % (len(results) - failed, failed))
    return 1 if failed else 0


def wait_for(pred, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


class Vm:
    """`with Vm(args) as vm:` runs glassbox with args plus --qmp-socket in a
    private directory, waits for the socket, and on leaving kills the
    engine if it still runs and removes the directory."""

    def __init__(self, args, stdout=subprocess.DEVNULL):
        self.dir = tempfile.mkdtemp()
        self.sock = os.path.join(self.dir, "vm.sock")
        self.proc = subprocess.Popen([GLASSBOX, "run"] + list(args) + ["--qmp-socket", self.sock],
                                     stdin=subprocess.DEVNULL, stdout=stdout,
                                     stderr=subprocess.STDOUT if stdout != subprocess.DEVNULL
                                     else subprocess.DEVNULL)
        self.pid = self.proc.pid

    def __enter__(self):
        wait_for(lambda: os.path.exists(self.sock) or self.proc.poll() is not None, 10)
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        subprocess.run(["rm", "-rf", self.dir])
        return False

    def ctl(self, cmd, args=None):
        """glassbox ctl: the command's return value, or RuntimeError."""
        argv = [GLASSBOX, "ctl", "--socket", self.sock, cmd] + ([json.dumps(args)] if args else [])
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise RuntimeError("%s: %s" % (cmd, p.stderr.strip()))
        return json.loads(p.stdout)

    def quit(self, timeout=10):
        """quit over QMP; the engine's exit status (None if it hung)."""
        self.ctl("quit")
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
