#!/usr/bin/env python3
"""Live NUMA placement on this host, checked from outside the engine.

Runs the spin guest with two vCPUs pinned one per CPU and guest RAM bound
to node 0, then compares the engine's placement report (query-numa over
QMP, and glasstop's NUMA panel) with what the kernel says:
  * each vCPU thread's affinity (os.sched_getaffinity of the tid that
    query-cpus-fast names) is the CPU it was pinned to, and the report's
    "allowed" and "cpu" agree with it;
  * the guest RAM mapping in /proc/PID/numa_maps has policy bind:0 and its
    pages on N0, and the report puts every sampled resident page on node 0
    with policy "bind=0".
Exit 77 (with the reason) when the guest is not built or the host has
fewer than 2 CPUs.
"""

import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gbtest import GLASSTOP, SPIN_ELF as ELF, Vm, check, summary  # noqa: E402


def cpu_list(s):
    out = set()
    for part in s.split(","):
        if "-" in part:
            a, b = part.split("-")
            out.update(range(int(a), int(b) + 1))
        elif part:
            out.add(int(part))
    return out


def helper_threads(cpus):
    """One vCPU pinned to the first CPU: the I/O-side threads (QMP, stats
    sampler) and the JIT worker go to the memory node's other CPUs."""
    nodes = [d for d in os.listdir("/sys/devices/system/node") if d.startswith("node")]
    if len(nodes) != 1:
        print("# helper-thread placement: checked on one-node hosts only")
        return
    with open("/sys/devices/system/node/%s/cpulist" % nodes[0]) as f:
        node_cpus = cpu_list(f.read().strip())
    want = node_cpus - {cpus[0]}
    with Vm(["--bios", "none", "--kernel", ELF, "--name", "numa-io-%d" % os.getpid(),
             "--cpu-affinity", "vcpu0=%d" % cpus[0]]) as vm:
        time.sleep(0.3)
        by_name = {}
        for t in os.listdir("/proc/%d/task" % vm.pid):
            with open("/proc/%d/task/%s/comm" % (vm.pid, t)) as f:
                by_name[f.read().strip()] = os.sched_getaffinity(int(t))
        check("vCPU thread on CPU %d" % cpus[0], by_name.get("gb-vcpu0") == {cpus[0]}, by_name)
        for name in ("gb-qmp", "gb-stats", "gb-jit"):
            check("%s on the node's other CPUs %s" % (name, sorted(want)),
                  by_name.get(name) == want, by_name)
        vm.quit()


def main():
    if not os.path.exists(ELF):
        print("SKIP: %s was not built (no riscv64 cross compiler)" % ELF)
        return 77
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        print("SKIP: needs 2 CPUs to pin two vCPUs apart, this process may use %d" % len(cpus))
        return 77
    name = "numa-%d" % os.getpid()
    mem_mib = 64
    with Vm(["--bios", "none", "--kernel", ELF, "--smp", "2", "--memory", "%dM" % mem_mib,
             "--name", name, "--memory-policy", "bind=0",
             "--cpu-affinity", "vcpu0=%d,vcpu1=%d" % (cpus[0], cpus[1])]) as vm:
        # the report is refreshed once a second: wait for one with both vCPUs placed
        rep = {}
        for _ in range(60):
            rep = vm.ctl("query-numa")
            if all(v.get("tid") and v.get("cpu") is not None for v in rep.get("vcpus", [])) \
                    and rep.get("passes", 0) >= 2:
                break
            time.sleep(0.1)
        check("policy reported as bind=0", rep.get("policy") == "bind=0", rep.get("policy"))
        nodes = {n["node"]: n for n in rep.get("nodes", [])}
        check("node 0 is in the policy", nodes.get(0, {}).get("in-policy") is True, nodes)
        resident = rep.get("sampled-resident", 0)
        check("some sampled guest pages are resident", resident > 0, rep)
        check("every sampled resident page is on node 0",
              nodes.get(0, {}).get("sampled-pages") == resident, (nodes, resident))

        threads = {c["cpu-index"]: c["thread-id"] for c in vm.ctl("query-cpus-fast")}
        for v in rep.get("vcpus", []):
            i, tid = v["vcpu"], v["tid"]
            want = {cpus[i]}
            got = os.sched_getaffinity(tid) if tid else set()
            check("vcpu%d: report tid is the thread query-cpus-fast names" % i,
                  threads.get(i) == tid, (threads, tid))
            check("vcpu%d: kernel affinity is CPU %d" % (i, cpus[i]), got == want, got)
            check("vcpu%d: report's allowed list matches the kernel" % i,
                  cpu_list(v.get("allowed", "")) == got, v.get("allowed"))
            check("vcpu%d: runs on its CPU, pinned, not away" % i,
                  v.get("cpu") == cpus[i] and v.get("pinned") is True and v.get("away") is False, v)

        # the kernel's view of the guest RAM mapping
        size_kb = mem_mib * 1024
        maps = {}
        with open("/proc/%d/smaps" % vm.pid) as f:
            cur = None
            for line in f:
                if "-" in line.split()[0] and not line.startswith(("Size", "Rss")):
                    cur = int(line.split("-")[0], 16)
                elif line.startswith("Size:") and cur is not None:
                    maps[cur] = int(line.split()[1])
        ram = [a for a, kb in maps.items() if kb == size_kb]
        line = ""
        with open("/proc/%d/numa_maps" % vm.pid) as f:
            for ln in f:
                if ram and int(ln.split()[0], 16) in ram:
                    line = ln
        check("numa_maps: guest RAM mapping found", line != "", ram)
        check("numa_maps: guest RAM has policy bind:0", " bind:0 " in line, line.strip())
        fields = dict(x.split("=", 1) for x in line.split() if "=" in x)
        on_other = [k for k in fields if k.startswith("N") and k != "N0"]
        check("numa_maps: guest RAM pages only on N0", int(fields.get("N0", 0)) > 0 and not on_other,
              fields)

        p = subprocess.run([GLASSTOP, "--once", "--interval", "0.3", name], capture_output=True,
                           text=True, timeout=30)
        numa = p.stdout[p.stdout.find("NUMA"):] if "NUMA" in p.stdout else ""
        numa = numa[:numa.find("\nevents")] if "\nevents" in numa else numa
        check("glasstop --once shows the NUMA panel: bind=0, node 0 with the memory",
              p.returncode == 0 and "bind=0" in numa and
              re.search(r"^\s+0\s+\S+\s+\[.*100%", numa, re.M) is not None, numa)
        for i in (0, 1):
            check("glasstop --once: vcpu%d on CPU %d, pinned" % (i, cpus[i]),
                  re.search(r"^\s+%d\s+\d+\s+%d\s+0\s.*pinned" % (i, cpus[i]), numa, re.M)
                  is not None, numa)
        vm.quit()
    helper_threads(cpus)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
