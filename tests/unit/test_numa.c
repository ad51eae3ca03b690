/*
 * Unit tests for numa/: the option parsers (exact one-line errors), the
 * placement planner on synthetic hosts (node:2 core:2 pu:1, node:4 core:2
 * pu:2, and tests/data/numa/memless-3node.xml: node 0 2 GiB PUs 0-1,
 * node 1 memory-less PUs 2-3, node 2 2 GiB PUs 4-5, latencies 10/20/30),
 * and on this host: membind + move_pages report, thread pinning.
 * Expected PU choices are worked out by hand from the packing rule: the
 * first PU of every core in order, then the second PUs, least-used first.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "numa.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static char *fmt(const struct numa_set *s)
{
    static char buf[4][256];        /* test helper only: rotating buffers */
    static int k;
    k = (k + 1) % 4;
    numa_set_format(s, buf[k], sizeof(buf[k]));
    return buf[k];
}

static struct numa_topo *open_synth(const char *desc)
{
    struct numa_topo *t = NULL;
    char err[256];
    if (numa_topo_open(&t, NULL, desc, err, sizeof(err)) != 0)
        fail_msg("synthetic '%s': %s", desc, err);
    return t;
}

static struct numa_topo *open_memless(void)
{
    struct numa_topo *t = NULL;
    char path[1024], err[256];
    const char *src = getenv("srcdir");
    snprintf(path, sizeof(path), "%s/tests/data/numa/memless-3node.xml", src ? src : ".");
    if (numa_topo_open(&t, path, NULL, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    return t;
}

/* ---- sets and sizes ------------------------------------------------------- */

static void set_bad(const char *s, const char *want)
{
    struct numa_set set;
    char err[256] = "";
    if (numa_set_parse(s, strlen(s), &set, err, sizeof(err)) != -EINVAL)
        fail_msg("list '%s' accepted", s);
    assert_string_equal(err, want);
}

static void test_set_parse(void **state)
{
    struct numa_set s;
    char err[128], small[4];
    (void)state;

    assert_int_equal(numa_set_parse("0-1,3", 5, &s, err, sizeof(err)), 0);
    assert_string_equal(fmt(&s), "0-1,3");
    assert_int_equal(numa_set_count(&s), 3);
    assert_int_equal(numa_set_parse("7,5,6,1023", 10, &s, err, sizeof(err)), 0);
    assert_string_equal(fmt(&s), "5-7,1023");
    assert_int_equal(numa_set_format(&s, small, sizeof(small)), 8);
    assert_string_equal(small, "5-7");
    set_bad("", "empty list");
    set_bad("x", "'x' is not a number or range");
    set_bad("0-x", "'0-x' is not a number or range");
    set_bad("3-1", "'3-1' is backwards");
    set_bad("0,", "trailing ','");
    set_bad("1024", "1024 is above the limit of 1023");
    set_bad("-1", "'-1' is not a number or range");
}

static void test_size(void **state)
{
    uint64_t v;
    (void)state;
    assert_int_equal(numa_parse_size("512", 3, &v), 0);
    assert_int_equal(v, 512 * MiB);
    assert_int_equal(numa_parse_size("2G", 2, &v), 0);
    assert_int_equal(v, 2 * GiB);
    assert_int_equal(numa_parse_size("64KiB", 5, &v), 0);
    assert_int_equal(v, 64 << 10);
    assert_int_equal(numa_parse_size("1TB", 3, &v), 0);
    assert_int_equal(v, 1ull << 40);
    assert_int_equal(numa_parse_size("1Q", 2, &v), -EINVAL);
    assert_int_equal(numa_parse_size("G", 1, &v), -EINVAL);
    assert_int_equal(numa_parse_size("", 0, &v), -EINVAL);
    assert_int_equal(numa_parse_size("99999999999999999999", 20, &v), -ERANGE);
    assert_int_equal(numa_parse_size("99999999999T", 12, &v), -ERANGE);
}

/* ---- --memory-policy ------------------------------------------------------ */

static void policy_bad(const char *s, const char *want)
{
    struct numa_mem_policy p;
    char err[256] = "";
    if (numa_parse_memory_policy(s, &p, err, sizeof(err)) != -EINVAL)
        fail_msg("--memory-policy '%s' accepted", s);
    assert_string_equal(err, want);
}

static void test_parse_policy(void **state)
{
    struct numa_mem_policy p;
    char err[256];
    (void)state;

    assert_int_equal(numa_parse_memory_policy("default", &p, err, sizeof(err)), 0);
    assert_int_equal(p.policy, NUMA_POLICY_DEFAULT);
    assert_int_equal(numa_parse_memory_policy("bind=0-1,3", &p, err, sizeof(err)), 0);
    assert_int_equal(p.policy, NUMA_POLICY_BIND);
    assert_string_equal(fmt(&p.nodes), "0-1,3");
    assert_false(p.strict);
    assert_int_equal(numa_parse_memory_policy("interleave=0,1,strict", &p, err,
                                              sizeof(err)), 0);
    assert_int_equal(p.policy, NUMA_POLICY_INTERLEAVE);
    assert_string_equal(fmt(&p.nodes), "0-1");
    assert_true(p.strict);
    assert_int_equal(numa_parse_memory_policy("preferred=2", &p, err, sizeof(err)), 0);
    assert_int_equal(p.policy, NUMA_POLICY_PREFERRED);
    assert_string_equal(fmt(&p.nodes), "2");

    policy_bad("foo", "--memory-policy 'foo': unknown policy 'foo' (want default, "
               "bind=NODES, interleave=NODES or preferred=NODE, then optionally ,strict)");
    policy_bad("", "--memory-policy '': unknown policy '' (want default, "
               "bind=NODES, interleave=NODES or preferred=NODE, then optionally ,strict)");
    policy_bad("bind=", "--memory-policy 'bind=': bind: empty list");
    policy_bad("bind=0-x", "--memory-policy 'bind=0-x': bind: '0-x' is not a number "
               "or range");
    policy_bad("interleave=3-1", "--memory-policy 'interleave=3-1': interleave: "
               "'3-1' is backwards");
    policy_bad("preferred=0-1", "--memory-policy 'preferred=0-1': preferred takes "
               "exactly one node");
    policy_bad("default,strict", "--memory-policy 'default,strict': strict needs "
               "bind, interleave or preferred");
    policy_bad("bind=0,stric", "--memory-policy 'bind=0,stric': bind: 'stric' is "
               "not a number or range");
}

/* ---- --memory-backend ----------------------------------------------------- */

static void backend_bad(const char *s, const char *want)
{
    struct numa_backend b;
    char err[256] = "";
    if (numa_parse_memory_backend(s, &b, err, sizeof(err)) != -EINVAL)
        fail_msg("--memory-backend '%s' accepted", s);
    assert_string_equal(err, want);
}

static void test_parse_backend(void **state)
{
    struct numa_backend b;
    char err[256];
    (void)state;

    assert_int_equal(numa_parse_memory_backend("hugepages=on,prealloc=on", &b, err,
                                               sizeof(err)), 0);
    assert_int_equal(b.hugepages, NUMA_HUGE_THP);
    assert_true(b.prealloc);
    assert_int_equal(numa_parse_memory_backend("hugepages=off", &b, err,
                                               sizeof(err)), 0);
    assert_int_equal(b.hugepages, NUMA_HUGE_OFF);
    assert_false(b.prealloc);
    assert_int_equal(numa_parse_memory_backend("prealloc=on,hugepages=/dev/hugepages",
                                               &b, err, sizeof(err)), 0);
    assert_int_equal(b.hugepages, NUMA_HUGE_HUGETLBFS);
    assert_string_equal(b.hugetlbfs, "/dev/hugepages");
    assert_true(b.prealloc);

    backend_bad("", "--memory-backend '': empty (want hugepages=on|off and/or "
                "prealloc=on|off)");
    backend_bad("hugepages=maybe", "--memory-backend 'hugepages=maybe': "
                "'hugepages=maybe': hugepages= wants on, off or an absolute hugetlbfs "
                "directory");
    backend_bad("hugepages=", "--memory-backend 'hugepages=': unknown part "
                "'hugepages=' (want hugepages=on|off|DIR or prealloc=on|off)");
    backend_bad("hugepages=on,prealloc=yes", "--memory-backend 'hugepages=on,"
                "prealloc=yes': 'prealloc=yes': prealloc= wants on or off");
    backend_bad("size=1G", "--memory-backend 'size=1G': unknown part 'size=1G' (want "
                "hugepages=on|off|DIR or prealloc=on|off)");
    backend_bad("hugepages=on,hugepages=off", "--memory-backend 'hugepages=on,"
                "hugepages=off': 'hugepages' is given twice");
    backend_bad("prealloc=on,", "--memory-backend 'prealloc=on,': trailing ','");
}

/* ---- --cpu-affinity ------------------------------------------------------- */

static void affinity_bad(const char *s, const char *want)
{
    struct numa_affinity a;
    char err[256] = "";
    if (numa_parse_cpu_affinity(s, &a, err, sizeof(err)) != -EINVAL)
        fail_msg("--cpu-affinity '%s' accepted", s);
    assert_string_equal(err, want);
}

static void test_parse_affinity(void **state)
{
    struct numa_affinity a;
    char err[256];
    (void)state;

    assert_int_equal(numa_parse_cpu_affinity("auto", &a, err, sizeof(err)), 0);
    assert_int_equal(a.mode, NUMA_AFFINITY_AUTO);
    assert_int_equal(numa_parse_cpu_affinity("none", &a, err, sizeof(err)), 0);
    assert_int_equal(a.mode, NUMA_AFFINITY_NONE);
    assert_int_equal(numa_parse_cpu_affinity("vcpu0=0-1,3,vcpu2=2", &a, err,
                                             sizeof(err)), 0);
    assert_int_equal(a.mode, NUMA_AFFINITY_EXPLICIT);
    assert_true(a.pinned[0]);
    assert_false(a.pinned[1]);
    assert_true(a.pinned[2]);
    assert_string_equal(fmt(&a.cpus[0]), "0-1,3");
    assert_string_equal(fmt(&a.cpus[2]), "2");
    assert_int_equal(numa_parse_cpu_affinity("vcpu1=4-5:vcpu0=0,2", &a, err,
                                             sizeof(err)), 0);
    assert_string_equal(fmt(&a.cpus[1]), "4-5");
    assert_string_equal(fmt(&a.cpus[0]), "0,2");

    affinity_bad("", "--cpu-affinity '': '' is not auto, none or vcpuN=CPUS");
    affinity_bad("3", "--cpu-affinity '3': '3' is not auto, none or vcpuN=CPUS");
    affinity_bad("vcpu", "--cpu-affinity 'vcpu': 'vcpu' is not vcpuN=CPUS");
    affinity_bad("vcpuA=1", "--cpu-affinity 'vcpuA=1': 'vcpuA' is not vcpuN=CPUS");
    affinity_bad("vcpu0", "--cpu-affinity 'vcpu0': 'vcpu0' needs =CPUS");
    affinity_bad("vcpu0,vcpu1=1", "--cpu-affinity 'vcpu0,vcpu1=1': 'vcpu0' needs =CPUS");
    affinity_bad("vcpu64=1", "--cpu-affinity 'vcpu64=1': 'vcpu64' is above the "
                 "limit of vcpu63");
    affinity_bad("vcpu0=1,vcpu0=2", "--cpu-affinity 'vcpu0=1,vcpu0=2': vcpu0 is "
                 "given twice");
    affinity_bad("vcpu0=", "--cpu-affinity 'vcpu0=': vcpu0: empty list");
    affinity_bad("vcpu0=1-x", "--cpu-affinity 'vcpu0=1-x': vcpu0: '1-x' is not a "
                 "number or range");
    affinity_bad("vcpu1=0:", "--cpu-affinity 'vcpu1=0:': '' is not auto, none or "
                 "vcpuN=CPUS");
    affinity_bad("auto,vcpu0=1", "--cpu-affinity 'auto,vcpu0=1': 'auto' cannot be "
                 "combined with vcpuN=CPUS");
    affinity_bad("vcpu0=1,none", "--cpu-affinity 'vcpu0=1,none': 'none' cannot be "
                 "combined with vcpuN=CPUS");
}

/* ---- --numa --------------------------------------------------------------- */

static void numa_bad(const char *s, const char *want)
{
    struct numa_guest_topo g;
    char err[256] = "";
    memset(&g, 0, sizeof(g));
    if (numa_parse_numa(s, &g, err, sizeof(err)) != -EINVAL)
        fail_msg("--numa '%s' accepted", s);
    assert_string_equal(err, want);
}

static void test_parse_numa(void **state)
{
    struct numa_guest_topo g;
    char err[256];
    (void)state;

    memset(&g, 0, sizeof(g));
    assert_int_equal(numa_parse_numa("node,cpus=0-1,mem=512M,host-nodes=0-1,3", &g,
                                     err, sizeof(err)), 0);
    assert_int_equal(numa_parse_numa("node,cpus=2,cpus=3,host-nodes=2,mem=1G", &g,
                                     err, sizeof(err)), 0);
    assert_int_equal(numa_parse_numa("node,nodeid=3,mem=0", &g, err, sizeof(err)), 0);
    assert_int_equal(numa_parse_numa("dist,src=0,dst=1,val=20", &g, err,
                                     sizeof(err)), 0);
    assert_int_equal(g.nnodes, 4);
    assert_true(g.nodes[0].defined);
    assert_string_equal(fmt(&g.nodes[0].cpus), "0-1");
    assert_int_equal(g.nodes[0].mem, 512 * MiB);
    assert_true(g.nodes[0].has_host_nodes);
    assert_string_equal(fmt(&g.nodes[0].host_nodes), "0-1,3");
    assert_string_equal(fmt(&g.nodes[1].cpus), "2-3");
    assert_int_equal(g.nodes[1].mem, GiB);
    assert_false(g.nodes[2].defined);
    assert_true(g.nodes[3].defined);
    assert_false(g.nodes[3].has_host_nodes);
    assert_int_equal(g.dist[0][1], 20);
    assert_int_equal(g.dist[1][0], 0);
    assert_int_equal(numa_parse_numa("node,nodeid=0,mem=1G", &g, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "--numa 'node,nodeid=0,mem=1G': guest node 0 is given "
                        "twice");
    memset(&g, 0, sizeof(g));
    assert_int_equal(numa_parse_numa("dist,src=1,dst=0,val=30", &g, err, sizeof(err)), 0);
    assert_int_equal(numa_parse_numa("dist,src=1,dst=0,val=30", &g, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "--numa 'dist,src=1,dst=0,val=30': the distance 1->0 "
                        "is given twice");

    numa_bad("nod", "--numa 'nod': want node,cpus=A-B,mem=SIZE[,host-nodes=NODES] "
             "or dist,src=I,dst=J,val=D");
    numa_bad("node", "--numa 'node': mem=SIZE is required");
    numa_bad("node,cpus=0-1", "--numa 'node,cpus=0-1': mem=SIZE is required");
    numa_bad("node,mem=1Q", "--numa 'node,mem=1Q': mem: '1Q' is not a size (e.g. "
             "512M, 2G)");
    numa_bad("node,mem=1001K", "--numa 'node,mem=1001K': mem: '1001K' is not a "
             "multiple of 4K");
    numa_bad("node,cpus=0-x,mem=1G", "--numa 'node,cpus=0-x,mem=1G': cpus: '0-x' is "
             "not a number or range");
    numa_bad("node,cpus=,mem=1G", "--numa 'node,cpus=,mem=1G': cpus: empty list");
    numa_bad("node,cpus=64,mem=1G", "--numa 'node,cpus=64,mem=1G': cpus: vCPU 64 is "
             "above the limit of 63");
    numa_bad("node,mem=1G,host-nodes=", "--numa 'node,mem=1G,host-nodes=': "
             "host-nodes: empty list");
    numa_bad("node,mem=1G,socket=1", "--numa 'node,mem=1G,socket=1': unknown key "
             "'socket' (want nodeid=, cpus=, mem= or host-nodes=)");
    numa_bad("node,mem=1G,cpus", "--numa 'node,mem=1G,cpus': 'cpus' is not KEY=VALUE");
    numa_bad("node,nodeid=16,mem=1G", "--numa 'node,nodeid=16,mem=1G': nodeid=16 is "
             "above the limit of 15");
    numa_bad("node,nodeid=x,mem=1G", "--numa 'node,nodeid=x,mem=1G': nodeid: 'x' is "
             "not a number");
    numa_bad("dist,src=0,dst=1", "--numa 'dist,src=0,dst=1': val= is required");
    numa_bad("dist,src=0,val=20", "--numa 'dist,src=0,val=20': dst= is required");
    numa_bad("dist,src=0,dst=1,val=9", "--numa 'dist,src=0,dst=1,val=9': val=9: "
             "distances go from 10 to 255");
    numa_bad("dist,src=0,dst=1,val=256", "--numa 'dist,src=0,dst=1,val=256': "
             "val=256: distances go from 10 to 255");
    numa_bad("dist,src=1,dst=1,val=20", "--numa 'dist,src=1,dst=1,val=20': the "
             "distance from a node to itself is 10");
    numa_bad("dist,src=16,dst=1,val=20", "--numa 'dist,src=16,dst=1,val=20': "
             "src=16 is above the limit of 15");
    numa_bad("dist,src=a,dst=1,val=20", "--numa 'dist,src=a,dst=1,val=20': 'a' is "
             "not a number");
    numa_bad("node,mem=1G,", "--numa 'node,mem=1G,': trailing ','");
    numa_bad("dist,src=0,dst=1,val=20,", "--numa 'dist,src=0,dst=1,val=20,': "
             "trailing ','");
    numa_bad("dist,len=3", "--numa 'dist,len=3': unknown part 'len=3' (want src=, "
             "dst= and val=)");
}

/* ---- topology ------------------------------------------------------------- */

static void test_topo(void **state)
{
    struct numa_topo *t;
    char err[256];
    uint64_t d;
    (void)state;

    t = open_synth("node:2 core:2 pu:1");
    assert_int_equal(numa_topo_nnodes(t), 2);
    assert_int_equal(numa_topo_node(t, 1)->os_index, 1);
    assert_int_equal(numa_topo_node(t, 1)->memory, GiB);   /* hwloc's default */
    assert_string_equal(fmt(&numa_topo_node(t, 1)->cpus), "2-3");
    assert_null(numa_topo_node(t, 2));
    assert_string_equal(fmt(numa_topo_cpus(t)), "0-3");
    assert_false(numa_topo_is_this_system(t));
    assert_int_equal(numa_topo_distance(t, 0, 1, &d), -ENODATA);
    assert_int_equal(numa_topo_distance(t, 0, 5, &d), -ENOENT);
    assert_int_equal(numa_topo_cpu_node(t, 3), 1);
    assert_int_equal(numa_topo_cpu_node(t, 9), -1);
    numa_topo_close(t);

    t = open_memless();
    assert_int_equal(numa_topo_nnodes(t), 3);
    assert_int_equal(numa_topo_node(t, 0)->memory, 2 * GiB);
    assert_int_equal(numa_topo_node(t, 1)->memory, 0);
    assert_string_equal(fmt(&numa_topo_node(t, 1)->cpus), "2-3");
    assert_int_equal(numa_topo_memory(t), 4 * GiB);
    assert_int_equal(numa_topo_distance(t, 0, 2, &d), 0);
    assert_int_equal(d, 30);
    assert_int_equal(numa_topo_distance(t, 1, 1, &d), 0);
    assert_int_equal(d, 10);
    numa_topo_close(t);

    assert_int_equal(numa_topo_open(&t, "/nonexistent.xml", NULL, err, sizeof(err)),
                     -ENOENT);
    assert_string_equal(err, "topology '/nonexistent.xml': cannot read it as hwloc "
                        "XML (No such file or directory)");
    assert_null(t);
    assert_int_equal(numa_topo_open(&t, NULL, "node:2 bogus:3", err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "synthetic topology 'node:2 bogus:3': hwloc rejects it");
}

/* ---- planner -------------------------------------------------------------- */

struct pcase {
    const char *policy, *affinity, *backend;
    const char *numa[6];
};

/* parse the options as main would, then plan; returns the planner's rc */
static int plan(const struct numa_topo *t, const struct pcase *c, uint64_t ram,
                unsigned nvcpus, struct numa_plan *p, char *err, size_t errlen)
{
    struct numa_options o;

    numa_options_init(&o);
    if (c->policy && numa_parse_memory_policy(c->policy, &o.policy, err, errlen))
        fail_msg("%s", err);
    if (c->affinity && numa_parse_cpu_affinity(c->affinity, &o.affinity, err, errlen))
        fail_msg("%s", err);
    if (c->backend && numa_parse_memory_backend(c->backend, &o.backend, err, errlen))
        fail_msg("%s", err);
    for (unsigned i = 0; i < 6 && c->numa[i]; i++)
        if (numa_parse_numa(c->numa[i], &o.guest, err, errlen))
            fail_msg("%s", err);
    err[0] = '\0';
    return numa_plan_build(t, &o, ram, nvcpus, p, err, errlen);
}

static void plan_ok(const struct numa_topo *t, const struct pcase *c, uint64_t ram,
                    unsigned nvcpus, struct numa_plan *p)
{
    char err[256];
    if (plan(t, c, ram, nvcpus, p, err, sizeof(err)) != 0)
        fail_msg("plan failed: %s", err);
}

static void plan_bad(const struct numa_topo *t, const struct pcase *c, uint64_t ram,
                     unsigned nvcpus, int want_rc, const char *want)
{
    struct numa_plan *p = malloc(sizeof(*p));
    char err[256];
    int rc = plan(t, c, ram, nvcpus, p, err, sizeof(err));
    free(p);
    if (rc != want_rc)
        fail_msg("plan rc %d (%s), want %d", rc, err, want_rc);
    assert_string_equal(err, want);
}

static void assert_vcpus(const struct numa_plan *p, const char *const *want)
{
    for (unsigned v = 0; v < p->nvcpus; v++)
        assert_string_equal(fmt(&p->vcpu_cpus[v]), want[v]);
}

static void test_plan_2node(void **state)
{
    struct numa_topo *t = open_synth("node:2 core:2 pu:1");
    struct numa_plan *p = malloc(sizeof(*p));
    (void)state;

    /* no options: one default range, nothing pinned */
    plan_ok(t, &(struct pcase){ 0 }, 512 * MiB, 2, p);
    assert_int_equal(p->nranges, 1);
    assert_int_equal(p->ranges[0].policy, NUMA_POLICY_DEFAULT);
    assert_int_equal(p->ranges[0].size, 512 * MiB);
    assert_int_equal(p->ranges[0].guest_node, -1);
    assert_false(p->vcpu_pinned[0]);
    assert_string_equal(fmt(&p->vcpu_cpus[1]), "0-3");
    assert_false(p->io_pinned);
    assert_int_equal(p->warnings.n, 0);
    assert_int_equal(p->vcpu_guest_node[0], -1);

    /* bind + auto: vCPUs on node 1's cores; helpers share them (none left) */
    plan_ok(t, &(struct pcase){ .policy = "bind=1", .affinity = "auto" }, 512 * MiB,
            2, p);
    assert_int_equal(p->ranges[0].policy, NUMA_POLICY_BIND);
    assert_string_equal(fmt(&p->ranges[0].host_nodes), "1");
    assert_vcpus(p, (const char *[]){ "2", "3" });
    assert_true(p->io_pinned);
    assert_string_equal(fmt(&p->io_cpus), "2-3");
    assert_string_equal(fmt(&p->jit_cpus), "2-3");
    assert_int_equal(p->warnings.n, 0);

    /* one vCPU on node 0: helpers get the other PU of node 0 */
    plan_ok(t, &(struct pcase){ .policy = "bind=0", .affinity = "auto" }, 512 * MiB,
            1, p);
    assert_vcpus(p, (const char *[]){ "0" });
    assert_string_equal(fmt(&p->io_cpus), "1");

    /* interleave over both nodes: one vCPU a core; helpers float */
    plan_ok(t, &(struct pcase){ .policy = "interleave=0-1", .affinity = "auto" },
            GiB, 4, p);
    assert_int_equal(p->ranges[0].policy, NUMA_POLICY_INTERLEAVE);
    assert_vcpus(p, (const char *[]){ "0", "1", "2", "3" });
    assert_string_equal(fmt(&p->io_cpus), "0-3");
    assert_false(p->io_pinned);

    /* preferred, 3 vCPUs on a 2-PU node: the third shares, with a warning */
    plan_ok(t, &(struct pcase){ .policy = "preferred=0", .affinity = "auto" },
            512 * MiB, 3, p);
    assert_int_equal(p->ranges[0].policy, NUMA_POLICY_PREFERRED);
    assert_vcpus(p, (const char *[]){ "0", "1", "0" });
    assert_int_equal(p->warnings.n, 1);
    assert_string_equal(p->warnings.msg[0], "--cpu-affinity auto: more vCPUs than "
                        "host CPUs near their memory; some vCPUs share a CPU");
    /* preferred spills, so no capacity warning even when it does not fit */
    plan_ok(t, &(struct pcase){ .policy = "preferred=0" }, 1536 * MiB, 1, p);
    assert_int_equal(p->warnings.n, 0);

    /* default policy + auto: all PUs are candidates */
    plan_ok(t, &(struct pcase){ .affinity = "auto" }, 512 * MiB, 2, p);
    assert_vcpus(p, (const char *[]){ "0", "1" });
    assert_string_equal(fmt(&p->io_cpus), "2-3");

    /* explicit pins, one away from its memory; vcpu1 unpinned */
    plan_ok(t, &(struct pcase){ .policy = "bind=0", .affinity = "vcpu0=3" },
            512 * MiB, 2, p);
    assert_true(p->vcpu_pinned[0]);
    assert_false(p->vcpu_pinned[1]);
    assert_vcpus(p, (const char *[]){ "3", "0-3" });
    assert_string_equal(fmt(&p->io_cpus), "0-1");
    assert_int_equal(p->warnings.n, 1);
    assert_string_equal(p->warnings.msg[0], "vcpu0 runs on host CPUs 3, away from "
                        "the nodes that hold its memory");

    /* too much memory: a warning, or an error under strict */
    plan_ok(t, &(struct pcase){ .policy = "bind=0" }, 2 * GiB, 1, p);
    assert_int_equal(p->warnings.n, 1);
    assert_string_equal(p->warnings.msg[0], "guest RAM: 2048 MiB exceed host node 0 "
                        "(1024 MiB): expect swapping or OOM");
    plan_ok(t, &(struct pcase){ 0 }, 3 * GiB, 1, p);
    assert_int_equal(p->warnings.n, 1);
    assert_string_equal(p->warnings.msg[0], "guest RAM (3072 MiB) exceeds the host's "
                        "memory (2048 MiB)");
    plan_bad(t, &(struct pcase){ .policy = "bind=0,strict" }, 2 * GiB, 1, -ENOMEM,
             "guest RAM: 2048 MiB do not fit in host node 0 (1024 MiB) under strict");
    plan_ok(t, &(struct pcase){ .policy = "interleave=0-1,strict" }, 2 * GiB, 1, p);
    assert_int_equal(p->warnings.n, 0);

    /* nodes and CPUs that do not exist */
    plan_bad(t, &(struct pcase){ .policy = "bind=2" }, GiB, 1, -EINVAL,
             "--memory-policy bind: host NUMA node 2 does not exist (this host has "
             "nodes 0-1)");
    plan_bad(t, &(struct pcase){ .policy = "interleave=0,5" }, GiB, 1, -EINVAL,
             "--memory-policy interleave: host NUMA node 5 does not exist (this host "
             "has nodes 0-1)");
    plan_bad(t, &(struct pcase){ .affinity = "vcpu0=4" }, GiB, 2, -EINVAL,
             "--cpu-affinity: vcpu0: host CPU 4 does not exist (this host has CPUs 0-3)");
    plan_bad(t, &(struct pcase){ .affinity = "vcpu2=0" }, GiB, 2, -EINVAL,
             "--cpu-affinity: vcpu2 does not exist (the guest has 2 vCPUs: "
             "vcpu0-vcpu1)");
    plan_bad(t, &(struct pcase){ 0 }, GiB, 0, -EINVAL, "0 vCPUs: glassbox places 1 "
             "to 64");
    plan_bad(t, &(struct pcase){ 0 }, GiB, 65, -EINVAL, "65 vCPUs: glassbox places 1 "
             "to 64");
    free(p);
    numa_topo_close(t);
}

static void test_plan_2node_guest(void **state)
{
    struct numa_topo *t = open_synth("node:2 core:2 pu:1");
    struct numa_plan *p = malloc(sizeof(*p));
    (void)state;

    /* one guest node per host node, auto pins each vCPU near its memory */
    plan_ok(t, &(struct pcase){ .affinity = "auto", .numa = {
                "node,cpus=0-1,mem=256M,host-nodes=0",
                "node,cpus=2-3,mem=768M,host-nodes=1" } }, GiB, 4, p);
    assert_int_equal(p->nranges, 2);
    assert_int_equal(p->ranges[0].offset, 0);
    assert_int_equal(p->ranges[0].size, 256 * MiB);
    assert_int_equal(p->ranges[0].policy, NUMA_POLICY_BIND);
    assert_int_equal(p->ranges[1].offset, 256 * MiB);
    assert_int_equal(p->ranges[1].size, 768 * MiB);
    assert_string_equal(fmt(&p->ranges[1].host_nodes), "1");
    assert_int_equal(p->ranges[1].guest_node, 1);
    assert_vcpus(p, (const char *[]){ "0", "1", "2", "3" });
    assert_int_equal(p->vcpu_guest_node[0], 0);
    assert_int_equal(p->vcpu_guest_node[3], 1);
    assert_int_equal(p->nguest_nodes, 2);
    assert_int_equal(p->guest_dist[0][1], 20);
    assert_int_equal(p->guest_dist[1][1], 10);

    /* guest nodes without host-nodes inherit the policy; one dist is mirrored */
    plan_ok(t, &(struct pcase){ .policy = "interleave=0-1", .numa = {
                "node,cpus=0,mem=512M", "node,cpus=1,mem=512M",
                "dist,src=0,dst=1,val=15" } }, GiB, 2, p);
    assert_int_equal(p->ranges[0].policy, NUMA_POLICY_INTERLEAVE);
    assert_string_equal(fmt(&p->ranges[1].host_nodes), "0-1");
    assert_int_equal(p->guest_dist[1][0], 15);
    assert_int_equal(p->guest_dist[0][1], 15);

    /* host-nodes inside the policy's nodes narrow it */
    plan_ok(t, &(struct pcase){ .policy = "interleave=0-1,strict", .numa = {
                "node,cpus=0,mem=512M,host-nodes=1", "node,cpus=1,mem=512M" } },
            GiB, 2, p);
    assert_int_equal(p->ranges[0].policy, NUMA_POLICY_INTERLEAVE);
    assert_true(p->ranges[0].strict);
    assert_string_equal(fmt(&p->ranges[0].host_nodes), "1");

    /* two guest nodes on one host node: each fits, together they do not */
    plan_ok(t, &(struct pcase){ .numa = { "node,cpus=0,mem=768M,host-nodes=0",
                "node,cpus=1,mem=768M,host-nodes=0" } }, 1536 * MiB, 2, p);
    assert_int_equal(p->warnings.n, 1);
    assert_string_equal(p->warnings.msg[0], "guest nodes: 1536 MiB bound to host "
                        "nodes 0 exceed their 1024 MiB");

    /* contradictions and holes */
    plan_bad(t, &(struct pcase){ .policy = "bind=0", .numa = {
                 "node,cpus=0,mem=512M,host-nodes=1", "node,cpus=1,mem=512M" } },
             GiB, 2, -EINVAL, "--numa node 0 host-nodes=1 contradicts --memory-policy "
             "bind=0");
    plan_bad(t, &(struct pcase){ .policy = "preferred=1", .numa = {
                 "node,cpus=0,mem=1G,host-nodes=0-1" } },
             GiB, 1, -EINVAL, "--numa node 0 host-nodes=0-1 contradicts "
             "--memory-policy preferred=1");
    plan_bad(t, &(struct pcase){ .numa = { "node,cpus=0,mem=512M",
                 "node,cpus=1,mem=256M" } }, GiB, 2, -EINVAL,
             "--numa: the guest nodes' mem= add up to 768 MiB but guest RAM is "
             "1024 MiB");
    plan_bad(t, &(struct pcase){ .numa = { "node,cpus=0,mem=1G" } }, GiB, 2, -EINVAL,
             "--numa: vCPU 1 is in no guest node (the nodes' cpus= must cover 0-1)");
    plan_bad(t, &(struct pcase){ .numa = { "node,cpus=0-1,mem=512M",
                 "node,cpus=1,mem=512M" } }, GiB, 2, -EINVAL,
             "--numa node 1: vCPU 1 is already in guest node 0");
    plan_bad(t, &(struct pcase){ .numa = { "node,cpus=0-2,mem=1G" } }, GiB, 2,
             -EINVAL, "--numa node 0: vCPU 2 does not exist (the guest has 2 vCPUs)");
    plan_bad(t, &(struct pcase){ .numa = { "node,cpus=0,mem=512M",
                 "node,nodeid=2,cpus=1,mem=512M" } }, GiB, 2, -EINVAL,
             "--numa: guest node 1 is missing (node ids go from 0 to 2 without gaps)");
    plan_bad(t, &(struct pcase){ .numa = { "node,cpus=0,mem=1G,host-nodes=3" } },
             GiB, 1, -EINVAL, "--numa node 0 host-nodes: host NUMA node 3 does not "
             "exist (this host has nodes 0-1)");
    plan_bad(t, &(struct pcase){ .numa = { "node,cpus=0,mem=512M", "node,cpus=1,"
                 "mem=256M", "node,cpus=2,mem=256M", "dist,src=0,dst=1,val=20" } },
             GiB, 3, -EINVAL, "--numa: the distance between guest nodes 0 and 2 is "
             "missing (give dist,src=0,dst=2,val=D)");
    plan_bad(t, &(struct pcase){ .numa = { "node,cpus=0,mem=1G",
                 "dist,src=0,dst=1,val=20" } }, GiB, 1, -EINVAL,
             "--numa dist,src=0,dst=1: the guest has 1 node");
    plan_bad(t, &(struct pcase){ .policy = "bind=0,strict", .numa = {
                 "node,cpus=0,mem=1536M", "node,cpus=1,mem=512M,host-nodes=0" } },
             2 * GiB, 2, -ENOMEM, "guest node 0: 1536 MiB do not fit in host node 0 "
             "(1024 MiB) under strict");
    free(p);
    numa_topo_close(t);
}

static void test_plan_4node(void **state)
{
    struct numa_topo *t = open_synth("node:4 core:2 pu:2");
    struct numa_plan *p = malloc(sizeof(*p));
    (void)state;

    assert_string_equal(fmt(numa_topo_cpus(t)), "0-15");
    /* cores are PU pairs: fill node 1's cores (4, 6) before siblings (5) */
    plan_ok(t, &(struct pcase){ .policy = "bind=1", .affinity = "auto" }, GiB, 3, p);
    assert_vcpus(p, (const char *[]){ "4", "6", "5" });
    assert_string_equal(fmt(&p->io_cpus), "7");

    plan_ok(t, &(struct pcase){ .policy = "interleave=2-3", .affinity = "auto" },
            2 * GiB, 2, p);
    assert_vcpus(p, (const char *[]){ "8", "10" });
    assert_string_equal(fmt(&p->io_cpus), "9,11-15");
    assert_int_equal(p->warnings.n, 0);
    plan_ok(t, &(struct pcase){ .policy = "interleave=2-3" }, 3 * GiB, 1, p);
    assert_int_equal(p->warnings.n, 1);
    assert_string_equal(p->warnings.msg[0], "guest RAM: 3072 MiB exceed host nodes "
                        "2-3 (2048 MiB): expect swapping or OOM");

    plan_ok(t, &(struct pcase){ .policy = "preferred=3", .affinity = "auto" }, GiB,
            4, p);
    assert_vcpus(p, (const char *[]){ "12", "14", "13", "15" });
    assert_string_equal(fmt(&p->io_cpus), "12-15");

    /* explicit pins with ':' separators; vcpu2 floats, helpers avoid 0-7 */
    plan_ok(t, &(struct pcase){ .affinity = "vcpu0=0-3:vcpu1=4-5,7" }, GiB, 3, p);
    assert_vcpus(p, (const char *[]){ "0-3", "4-5,7", "0-15" });
    assert_false(p->vcpu_pinned[2]);
    assert_string_equal(fmt(&p->io_cpus), "6,8-15");
    assert_true(p->io_pinned);

    /* four guest nodes on four host nodes, full distance matrix */
    plan_ok(t, &(struct pcase){ .affinity = "auto", .numa = {
                "node,cpus=0-1,mem=1G,host-nodes=0", "node,cpus=2-3,mem=1G,host-nodes=1",
                "node,cpus=4,mem=1G,host-nodes=2", "node,cpus=5,mem=1G,host-nodes=3" } },
            4 * GiB, 6, p);
    assert_vcpus(p, (const char *[]){ "0", "2", "4", "6", "8", "12" });
    assert_string_equal(fmt(&p->io_cpus), "1,3,5,7,9-11,13-15");
    assert_int_equal(p->ranges[3].offset, 3 * GiB);
    assert_int_equal(p->guest_dist[3][0], 20);

    /* guest nodes sharing a host node do not stack on the same PU */
    plan_ok(t, &(struct pcase){ .affinity = "auto", .numa = {
                "node,cpus=0,mem=512M,host-nodes=2", "node,cpus=1,mem=512M,host-nodes=2" } },
            GiB, 2, p);
    assert_vcpus(p, (const char *[]){ "8", "10" });

    plan_bad(t, &(struct pcase){ .policy = "bind=4" }, GiB, 1, -EINVAL,
             "--memory-policy bind: host NUMA node 4 does not exist (this host has "
             "nodes 0-3)");
    plan_bad(t, &(struct pcase){ .affinity = "vcpu1=16" }, GiB, 2, -EINVAL,
             "--cpu-affinity: vcpu1: host CPU 16 does not exist (this host has CPUs "
             "0-15)");
    free(p);
    numa_topo_close(t);
}

static void test_plan_memless(void **state)
{
    struct numa_topo *t = open_memless();
    struct numa_plan *p = malloc(sizeof(*p));
    (void)state;

    plan_bad(t, &(struct pcase){ .policy = "bind=1" }, GiB, 1, -EINVAL,
             "--memory-policy bind: host node 1 has no memory");
    plan_bad(t, &(struct pcase){ .policy = "preferred=1" }, GiB, 1, -EINVAL,
             "--memory-policy preferred: host node 1 has no memory");
    plan_bad(t, &(struct pcase){ .numa = { "node,cpus=0,mem=1G,host-nodes=1" } },
             GiB, 1, -EINVAL, "--numa node 0 host-nodes: host node 1 has no memory");
    plan_bad(t, &(struct pcase){ .policy = "bind=3" }, GiB, 1, -EINVAL,
             "--memory-policy bind: host NUMA node 3 does not exist (this host has "
             "nodes 0-2)");

    /* a memory-less node in an interleave set: warned, capacity from the rest */
    plan_ok(t, &(struct pcase){ .policy = "interleave=0-1", .affinity = "auto" },
            GiB, 3, p);
    assert_int_equal(p->warnings.n, 1);
    assert_string_equal(p->warnings.msg[0], "--memory-policy interleave: host node 1 "
                        "has no memory; pages go to the other nodes");
    assert_vcpus(p, (const char *[]){ "0", "1", "2" });
    assert_string_equal(fmt(&p->io_cpus), "3");

    plan_ok(t, &(struct pcase){ .policy = "bind=2", .affinity = "auto" }, GiB, 2, p);
    assert_vcpus(p, (const char *[]){ "4", "5" });
    assert_int_equal(p->warnings.n, 0);

    plan_bad(t, &(struct pcase){ .policy = "interleave=0-1,strict" }, 3 * GiB, 1,
             -ENOMEM, "guest RAM: 3072 MiB do not fit in host nodes 0-1 (2048 MiB) "
             "under strict");

    /* a guest node may itself be memory-less (mem=0) */
    plan_ok(t, &(struct pcase){ .affinity = "auto", .numa = {
                "node,cpus=0,mem=1G,host-nodes=2", "node,cpus=1,mem=0" } }, GiB, 2, p);
    assert_int_equal(p->ranges[1].size, 0);
    assert_vcpus(p, (const char *[]){ "4", "0" });
    free(p);
    numa_topo_close(t);
}

/* ---- applying on synthetic topologies: honest no-ops ---------------------- */

static void test_apply_synthetic(void **state)
{
    struct numa_topo *t = open_synth("node:2 core:2 pu:1");
    struct numa_range r = { .size = 1 << 20, .guest_node = -1,
                            .policy = NUMA_POLICY_BIND };
    struct numa_set cpus;
    char msg[256];
    size_t len = 1 << 20;
    void *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    (void)state;

    assert_true(buf != MAP_FAILED);
    numa_set_zero(&r.host_nodes);
    numa_set_add(&r.host_nodes, 1);
    assert_int_equal(numa_bind_memory(t, buf, len, &r, msg, sizeof(msg)), NUMA_WARNED);
    assert_string_equal(msg, "guest RAM memory policy bind=1: not applied, the "
                        "topology is not this host's (XML or synthetic; "
                        "HWLOC_THISSYSTEM=1 forces binding)");
    numa_set_zero(&cpus);
    numa_set_add(&cpus, 3);
    assert_int_equal(numa_bind_thread(t, 0, &cpus, true, msg, sizeof(msg)), NUMA_WARNED);
    assert_string_equal(msg, "pinning thread 0 to host CPUs 3: not applied, the "
                        "topology is not this host's (XML or synthetic; "
                        "HWLOC_THISSYSTEM=1 forces binding)");
    /* default policy: nothing to do, nothing to report */
    r.policy = NUMA_POLICY_DEFAULT;
    assert_int_equal(numa_bind_memory(t, buf, len, &r, msg, sizeof(msg)), 0);
    munmap(buf, len);
    numa_topo_close(t);
}

/* A synthetic topology claimed as this system: the kernel sees a node
 * that does not exist and refuses (EINVAL), which must surface. */
static void test_apply_thissystem_refused(void **state)
{
    struct numa_topo *host = NULL, *t;
    struct numa_range r = { .size = 1 << 20, .guest_node = 3,
                            .policy = NUMA_POLICY_BIND };
    char msg[256], err[256];
    size_t len = 1 << 20;
    (void)state;

    assert_int_equal(numa_topo_open(&host, NULL, NULL, err, sizeof(err)), 0);
    unsigned host_nodes = numa_topo_nnodes(host);
    numa_topo_close(host);
    if (host_nodes > 1)
        skip();                         /* node 1 would exist */
    setenv("HWLOC_THISSYSTEM", "1", 1);
    t = open_synth("node:2 core:1 pu:1");
    unsetenv("HWLOC_THISSYSTEM");
    assert_true(numa_topo_is_this_system(t));
    void *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    assert_true(buf != MAP_FAILED);
    numa_set_zero(&r.host_nodes);
    numa_set_add(&r.host_nodes, 1);
    assert_int_equal(numa_bind_memory(t, buf, len, &r, msg, sizeof(msg)), NUMA_WARNED);
    assert_string_equal(msg, "guest node 3 memory policy bind=1: Invalid argument");
    r.strict = true;
    assert_int_equal(numa_bind_memory(t, buf, len, &r, msg, sizeof(msg)), -EINVAL);
    r.policy = NUMA_POLICY_INTERLEAVE;
    assert_int_equal(numa_bind_memory(t, buf, len, &r, msg, sizeof(msg)), -EINVAL);
    assert_string_equal(msg, "guest node 3 memory policy interleave=1: Invalid argument");
    munmap(buf, len);
    numa_topo_close(t);
}

/* ---- on this host ------------------------------------------------------- */

static struct numa_topo *open_host(void)
{
    struct numa_topo *t = NULL;
    char err[256];
    if (numa_topo_open(&t, NULL, NULL, err, sizeof(err)) != 0)
        fail_msg("host topology: %s", err);
    return t;
}

static bool have_move_pages(void)
{
    int st;
    void *pg = &st;
    return syscall(SYS_move_pages, 0, 1ul, &pg, NULL, &st, 0) == 0;
}

static void test_host_bind_and_sample(void **state)
{
    struct numa_topo *t = open_host();
    struct numa_range r = { .guest_node = -1, .policy = NUMA_POLICY_BIND,
                            .strict = true };
    struct numa_sample st;
    uint64_t per[8], rng = 12345;
    char msg[256];
    size_t page = (size_t)sysconf(_SC_PAGESIZE), len = 8 << 20;
    unsigned node0 = numa_topo_node(t, 0)->os_index;
    (void)state;

    assert_true(numa_topo_is_this_system(t));
    assert_true(numa_topo_nnodes(t) >= 1);
    if (!have_move_pages()) {
        numa_topo_close(t);
        skip();                         /* kernel without CONFIG_NUMA */
    }
    char *buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    assert_true(buf != MAP_FAILED);
    numa_set_zero(&r.host_nodes);
    numa_set_add(&r.host_nodes, node0);
    r.size = len;
    assert_int_equal(numa_bind_memory(t, buf, len, &r, msg, sizeof(msg)), 0);

    /* untouched: every sampled page is -ENOENT */
    assert_int_equal(numa_sample_pages(buf, len, 64, &rng, per, 8, &st), 0);
    assert_int_equal(st.total_pages, len / page);
    assert_int_equal(st.sampled, 64);
    assert_int_equal(st.absent, 64);
    assert_int_equal(st.present, 0);
    assert_int_equal(per[node0], 0);

    /* first half touched: the exact census (nsamples >= pages) says so */
    memset(buf, 1, len / 2);
    assert_int_equal(numa_sample_pages(buf, len, NUMA_MAX_SAMPLES, &rng, per, 8, &st), 0);
    assert_int_equal(st.sampled, len / page);
    assert_int_equal(st.present, len / page / 2);
    assert_int_equal(st.absent, len / page / 2);
    assert_int_equal(per[node0], len / page / 2);

    /* all touched: a 100-page sample estimates every page on node 0 */
    memset(buf, 1, len);
    assert_int_equal(numa_sample_pages(buf, len, 100, &rng, per, 8, &st), 0);
    assert_int_equal(st.sampled, 100);
    assert_int_equal(st.present, 100);
    assert_int_equal(per[node0], len / page);
    assert_int_equal(st.failed, 0);

    /* nothing asked, nothing done */
    assert_int_equal(numa_sample_pages(buf, len, 0, &rng, per, 8, &st), 0);
    assert_int_equal(st.sampled, 0);
    munmap(buf, len);
    numa_topo_close(t);
}

/* The kernel's own view of the policy hwloc set: bind must be MPOL_BIND
 * (hwloc's non-strict BIND would be preferred), preferred is MPOL_PREFERRED
 * or, on Linux >= 5.15, MPOL_PREFERRED_MANY. */
static void test_host_policy_modes(void **state)
{
    static const struct { enum numa_policy p; int mode, alt; } cases[] = {
        { NUMA_POLICY_BIND, 2, 2 },             /* MPOL_BIND */
        { NUMA_POLICY_INTERLEAVE, 3, 3 },       /* MPOL_INTERLEAVE */
        { NUMA_POLICY_PREFERRED, 1, 5 },        /* MPOL_PREFERRED(_MANY) */
    };
    struct numa_topo *t = open_host();
    size_t len = 3 << 20;
    char msg[256], *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    (void)state;

    assert_true(buf != MAP_FAILED);
    for (unsigned i = 0; i < 3; i++) {
        struct numa_range r = { .size = 1 << 20, .guest_node = -1,
                                .policy = cases[i].p, .strict = true };
        unsigned long mask[NUMA_SET_BITS / 64] = { 0 };
        int mode = -1;
        char *a = buf + ((size_t)i << 20);
        numa_set_zero(&r.host_nodes);
        numa_set_add(&r.host_nodes, numa_topo_node(t, 0)->os_index);
        assert_int_equal(numa_bind_memory(t, a, 1 << 20, &r, msg, sizeof(msg)), 0);
        if (syscall(SYS_get_mempolicy, &mode, mask, (unsigned long)NUMA_SET_BITS, a,
                    2ul /* MPOL_F_ADDR */) < 0) {
            munmap(buf, len);
            numa_topo_close(t);
            skip();
        }
        if (mode != cases[i].mode && mode != cases[i].alt)
            fail_msg("policy %d: kernel mode %d", (int)cases[i].p, mode);
        assert_true(mask[0] & (1ul << numa_topo_node(t, 0)->os_index));
    }
    munmap(buf, len);
    numa_topo_close(t);
}

static void test_host_setup_ram(void **state)
{
    struct numa_topo *t = open_host();
    struct numa_options o;
    struct numa_plan *p = malloc(sizeof(*p));
    struct numa_ram ram;
    struct numa_msgs warn = { 0 };
    struct numa_sample st;
    uint64_t per[8], rng = 7;
    char err[256];
    unsigned node0 = numa_topo_node(t, 0)->os_index;
    (void)state;

    if (!have_move_pages()) {
        free(p);
        numa_topo_close(t);
        skip();
    }
    numa_options_init(&o);
    snprintf(err, sizeof(err), "bind=%u,strict", node0);
    assert_int_equal(numa_parse_memory_policy(err, &o.policy, err, sizeof(err)), 0);
    assert_int_equal(numa_parse_memory_backend("hugepages=on,prealloc=on", &o.backend,
                                               err, sizeof(err)), 0);
    assert_int_equal(numa_parse_cpu_affinity("auto", &o.affinity, err, sizeof(err)), 0);
    assert_int_equal(numa_plan_build(t, &o, 16 * MiB, 1, p, err, sizeof(err)), 0);
    assert_int_equal(numa_setup_ram(t, p, &ram, &warn, err, sizeof(err)), 0);
    for (unsigned i = 0; i < warn.n && i < NUMA_MAX_MSGS; i++)
        print_message("warning: %s\n", warn.msg[i]);
    assert_int_equal(ram.len, 16 * MiB);
    /* prealloc touched every page, on node 0 */
    assert_int_equal(numa_sample_pages(ram.addr, ram.len, NUMA_MAX_SAMPLES, &rng, per,
                                       8, &st), 0);
    assert_int_equal(st.absent, 0);
    assert_int_equal(st.present, st.sampled);
    assert_int_equal(per[node0], st.total_pages);
    numa_ram_free(&ram);

    /* hugetlbfs directory that cannot hold a file */
    o.backend.hugepages = NUMA_HUGE_HUGETLBFS;
    snprintf(o.backend.hugetlbfs, sizeof(o.backend.hugetlbfs), "/nonexistent");
    assert_int_equal(numa_plan_build(t, &o, 16 * MiB, 1, p, err, sizeof(err)), 0);
    assert_int_equal(numa_setup_ram(t, p, &ram, &warn, err, sizeof(err)), -ENOENT);
    assert_string_equal(err, "--memory-backend hugepages=/nonexistent: cannot create "
                        "a file there: No such file or directory");
    free(p);
    numa_topo_close(t);
}

struct pin_arg {
    struct numa_topo *t;
    struct numa_set cpus;
    pid_t tid;
    int rc, cpu, node;
    pthread_barrier_t *go, *done;
};

static void *pin_thread(void *argp)
{
    struct pin_arg *a = argp;
    char msg[256];

    a->tid = (pid_t)syscall(SYS_gettid);
    a->rc = numa_bind_thread(a->t, 0, &a->cpus, true, msg, sizeof(msg));
    numa_thread_location(a->t, 0, &a->cpu, &a->node);
    pthread_barrier_wait(a->go);        /* let main inspect us */
    pthread_barrier_wait(a->done);
    return NULL;
}

static void test_host_pin_thread(void **state)
{
    struct numa_topo *t = open_host();
    struct pin_arg a = { .t = t };
    pthread_barrier_t go, done;
    pthread_t th;
    cpu_set_t cs;
    char msg[256];
    int last = -1, cpu, node;
    (void)state;

    for (int i = numa_set_first(numa_topo_cpus(t)); i >= 0;
         i = numa_set_next(numa_topo_cpus(t), i))
        last = i;
    numa_set_zero(&a.cpus);
    numa_set_add(&a.cpus, (unsigned)last);
    pthread_barrier_init(&go, NULL, 2);
    pthread_barrier_init(&done, NULL, 2);
    a.go = &go;
    a.done = &done;
    assert_int_equal(pthread_create(&th, NULL, pin_thread, &a), 0);
    pthread_barrier_wait(&go);

    /* what a vCPU thread would see, and what the sampler would see of it */
    assert_int_equal(a.rc, 0);
    assert_int_equal(a.cpu, last);
    assert_int_equal(a.node, numa_topo_cpu_node(t, (unsigned)last));
    CPU_ZERO(&cs);
    assert_int_equal(sched_getaffinity(a.tid, sizeof(cs), &cs), 0);
    assert_int_equal(CPU_COUNT(&cs), 1);
    assert_true(CPU_ISSET(last, &cs));
    assert_int_equal(numa_thread_location(t, a.tid, &cpu, &node), 0);
    assert_int_equal(cpu, last);
    assert_int_equal(node, numa_topo_cpu_node(t, (unsigned)last));

    /* re-pin from outside by tid, to every CPU */
    assert_int_equal(numa_bind_thread(t, a.tid, numa_topo_cpus(t), true, msg,
                                      sizeof(msg)), 0);
    assert_int_equal(sched_getaffinity(a.tid, sizeof(cs), &cs), 0);
    assert_int_equal((unsigned)CPU_COUNT(&cs), numa_set_count(numa_topo_cpus(t)));

    /* a CPU this host does not have: refused, and said */
    struct numa_set bogus;
    numa_set_zero(&bogus);
    numa_set_add(&bogus, NUMA_SET_BITS - 1);
    assert_int_equal(numa_bind_thread(t, a.tid, &bogus, false, msg, sizeof(msg)),
                     NUMA_WARNED);
    assert_true(strstr(msg, "pinning thread") != NULL);
    assert_true(numa_bind_thread(t, a.tid, &bogus, true, msg, sizeof(msg)) < 0);

    pthread_barrier_wait(&done);
    pthread_join(th, NULL);
    pthread_barrier_destroy(&go);
    pthread_barrier_destroy(&done);
    assert_int_equal(numa_thread_location(t, 999999999, &cpu, &node), -ENOENT);
    numa_topo_close(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_parse),
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_parse_policy),
        cmocka_unit_test(test_parse_backend),
        cmocka_unit_test(test_parse_affinity),
        cmocka_unit_test(test_parse_numa),
        cmocka_unit_test(test_topo),
        cmocka_unit_test(test_plan_2node),
        cmocka_unit_test(test_plan_2node_guest),
        cmocka_unit_test(test_plan_4node),
        cmocka_unit_test(test_plan_memless),
        cmocka_unit_test(test_apply_synthetic),
        cmocka_unit_test(test_apply_thissystem_refused),
        cmocka_unit_test(test_host_bind_and_sample),
        cmocka_unit_test(test_host_policy_modes),
        cmocka_unit_test(test_host_setup_ram),
        cmocka_unit_test(test_host_pin_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
