/*
 * Unit tests for the live NUMA placement report (numa/numa_report.c), its
 * stats hook (engine/stats.c: stats_set_numa_source, read back through
 * tui/stats_reader) and its JSON form (engine/numa_json.c, query-numa).
 *
 * On this host (one node): RAM bound to node 0 and half touched must read
 * as node 0 holding every resident sampled page, the other half absent;
 * successive passes must look at other pages; vCPU threads pinned to a
 * known CPU must be found there. The AWAY rule runs on the synthetic
 * topology "node:2 core:1 pu:1", where host CPU 1 lies on synthetic node 1
 * while move_pages puts every page on node 0.
 *
 * GB_NUMA_REPORT_BENCH=1 also prints the CPU time of one pass on 128 MiB
 * and 1 GiB of touched RAM (otherwise that test is skipped).
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
#include <json-c/json.h>

#include "glassbox/stats.h"
#include "numa.h"
#include "numa_json.h"
#include "stats.h"
#include "../../tui/stats_reader.h"

#define MiB (1ull << 20)

static size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

static int my_tid(void)
{
    return (int)syscall(SYS_gettid);
}

static struct numa_topo *open_topo(const char *synthetic)
{
    struct numa_topo *t = NULL;
    char err[256];
    if (numa_topo_open(&t, NULL, synthetic, err, sizeof(err)) != 0)
        fail_msg("topology %s: %s", synthetic ? synthetic : "(host)", err);
    return t;
}

static bool have_move_pages(void)
{
    int st;
    void *pg = &st;
    return syscall(SYS_move_pages, 0, 1ul, &pg, NULL, &st, 0) == 0;
}

/* Guest RAM as the engine maps it, without transparent huge pages (one
 * touched byte must make one page resident, not 512). */
static char *map_ram(size_t len)
{
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(p != MAP_FAILED);
    madvise(p, len, MADV_NOHUGEPAGE);
    return p;
}

static void build_plan(const struct numa_topo *t, const char *policy, const char *affinity,
                       const char *const *guest, uint64_t ram, unsigned nvcpus,
                       struct numa_plan *plan)
{
    struct numa_options o;
    char err[256];

    numa_options_init(&o);
    if (policy && numa_parse_memory_policy(policy, &o.policy, err, sizeof(err)) != 0)
        fail_msg("policy %s: %s", policy, err);
    if (affinity && numa_parse_cpu_affinity(affinity, &o.affinity, err, sizeof(err)) != 0)
        fail_msg("affinity %s: %s", affinity, err);
    for (unsigned i = 0; guest && guest[i]; i++)
        if (numa_parse_numa(guest[i], &o.guest, err, sizeof(err)) != 0)
            fail_msg("--numa %s: %s", guest[i], err);
    if (numa_plan_build(t, &o, ram, nvcpus, plan, err, sizeof(err)) != 0)
        fail_msg("plan: %s", err);
}

/* Pin the calling thread to one CPU; returns the old mask in *old. */
static void pin_self(int cpu, cpu_set_t *old)
{
    cpu_set_t one;
    if (old)
        assert_int_equal(sched_getaffinity(0, sizeof(*old), old), 0);
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
    sched_yield();                      /* now running there */
}

/* CPUs this process may use, lowest first; returns how many. */
static int usable_cpus(int *cpus, int max)
{
    cpu_set_t cs;
    int n = 0;
    assert_int_equal(sched_getaffinity(0, sizeof(cs), &cs), 0);
    for (int c = 0; c < CPU_SETSIZE && n < max; c++)
        if (CPU_ISSET(c, &cs))
            cpus[n++] = c;
    return n;
}

/* ---- sample positions (pure) ------------------------------------------- */

static void test_sample_positions(void **state)
{
    const uint64_t npages = 1000;
    const unsigned n = 64;
    uint64_t stride = (npages + n - 1) / n;
    uint8_t *seen = calloc(npages, 1);
    (void)state;

    assert_non_null(seen);
    for (uint64_t pass = 0; pass < stride; pass++) {
        uint64_t prev = 0;
        for (unsigned i = 0; i < n; i++) {
            uint64_t pg = numa_report_sample_page(npages, n, pass, i);
            /* inside slice i, so spread over all of RAM, and increasing */
            assert_true(pg >= i * npages / n);
            assert_true(pg < (i + 1) * npages / n);
            if (i)
                assert_true(pg > prev);
            prev = pg;
            seen[pg] = 1;
        }
    }
    /* one slice length of passes has looked at every page */
    for (uint64_t pg = 0; pg < npages; pg++)
        assert_int_equal(seen[pg], 1);
    /* consecutive passes look at different pages (slices are >= 2 long) */
    for (uint64_t pass = 0; pass < 3 * stride; pass++)
        for (unsigned i = 0; i < n; i++)
            assert_true(numa_report_sample_page(npages, n, pass, i) !=
                        numa_report_sample_page(npages, n, pass + 1, i));
    /* small RAM: every page, every pass */
    for (unsigned i = 0; i < 10; i++)
        assert_int_equal(numa_report_sample_page(10, 10, 7, i), i);
    free(seen);
}

/* ---- the AWAY rule (pure) ---------------------------------------------- */

static void test_away_rule(void **state)
{
    struct numa_topo *t = open_topo("node:2 core:1 pu:1");
    uint64_t remote[2] = { 0, 5 }, local[2] = { 5, 0 }, split[2] = { 3, 5 };
    uint64_t none[2] = { 0, 0 };
    (void)state;

    assert_int_equal(numa_topo_nnodes(t), 2);
    assert_true(numa_report_away(remote, 2, 0));     /* memory only on node 1 */
    assert_false(numa_report_away(remote, 2, 1));
    assert_false(numa_report_away(local, 2, 0));
    assert_true(numa_report_away(local, 2, 1));
    assert_false(numa_report_away(split, 2, 0));     /* some of it is local */
    assert_false(numa_report_away(none, 2, 0));      /* nothing touched yet */
    assert_false(numa_report_away(remote, 2, -1));   /* location unknown */
    assert_false(numa_report_away(remote, 2, 2));    /* beyond the list */
    numa_topo_close(t);
}

/* ---- bounds ------------------------------------------------------------ */

static void test_bounds(void **state)
{
    struct numa_topo *t = open_topo(NULL);
    struct numa_reporter *r = NULL;
    struct numa_plan plan;
    struct gb_stats_numa_report rep;
    size_t pg = page_size(), len = 64 * pg;
    char *ram = map_ram(len);
    int tids[GB_STATS_NUMA_MAX_VCPUS + 1] = { 0 };
    (void)state;

    assert_int_equal(numa_reporter_new(&r, t, NULL, ram, len, NUMA_REPORT_MAX_SAMPLES + 1),
                     -EINVAL);
    assert_null(r);
    assert_int_equal(numa_reporter_new(&r, t, NULL, ram, pg - 1, 0), -EINVAL);
    assert_int_equal(numa_reporter_new(&r, t, NULL, NULL, len, 0), -EINVAL);
    assert_int_equal(numa_reporter_new(&r, NULL, NULL, ram, len, 0), -EINVAL);
    /* a plan for more RAM than the mapping */
    build_plan(t, NULL, NULL, NULL, 2 * len, 1, &plan);
    assert_int_equal(numa_reporter_new(&r, t, &plan, ram, len, 0), -EINVAL);

    /* 0: the default, clamped to the pages there are */
    assert_int_equal(numa_reporter_new(&r, t, NULL, ram, len, 0), 0);
    assert_int_equal(numa_reporter_samples(r), 64);
    numa_reporter_free(r);
    assert_int_equal(numa_reporter_new(&r, t, NULL, ram, len, 5), 0);
    assert_int_equal(numa_reporter_samples(r), 5);
    assert_int_equal(numa_reporter_fill(r, tids, GB_STATS_NUMA_MAX_VCPUS + 1, NULL, 0, NULL,
                                        &rep), -EINVAL);
    assert_int_equal(numa_reporter_fill(r, NULL, 1, NULL, 0, NULL, &rep), -EINVAL);
    assert_int_equal(numa_reporter_fill(r, NULL, 0, NULL, 0, NULL, &rep), 0);
    assert_int_equal(rep.sample_pages, have_move_pages() ? 5 : 0);
    numa_reporter_free(r);
    numa_reporter_free(NULL);

    /* a list too long for its field is cut after a whole entry */
    struct numa_set s;
    char buf[24];
    numa_set_zero(&s);
    for (unsigned c = 0; c < 64; c += 2)
        numa_set_add(&s, c);
    numa_report_list(&s, buf, sizeof(buf));
    assert_true(strlen(buf) < sizeof(buf));
    assert_int_equal(strncmp(buf, "0,2,4,6,8,10,12,14", 18), 0);
    assert_string_equal(buf + strlen(buf) - 3, ",..");
    numa_set_zero(&s);
    numa_set_add(&s, 3);
    numa_report_list(&s, buf, sizeof(buf));
    assert_string_equal(buf, "3");
    munmap(ram, len);
    numa_topo_close(t);
}

/* ---- on this host ---------------------------------------------------------- */

struct other_thread {
    int cpu;
    int tid;
    pthread_mutex_t m;
    pthread_cond_t c;
    int ready, quit;
};

static void *other_main(void *arg)
{
    struct other_thread *o = arg;
    pin_self(o->cpu, NULL);
    pthread_mutex_lock(&o->m);
    o->tid = my_tid();
    o->ready = 1;
    pthread_cond_broadcast(&o->c);
    while (!o->quit)
        pthread_cond_wait(&o->c, &o->m);
    pthread_mutex_unlock(&o->m);
    return NULL;
}

static void test_host_report(void **state)
{
    struct numa_topo *t = open_topo(NULL);
    struct numa_plan plan;
    struct numa_ram ram;
    struct numa_msgs warn = { 0 };
    struct numa_reporter *r;
    struct gb_stats_numa_report rep;
    char err[256], policy[64];
    const size_t len = 64 * MiB, pg = page_size();
    const uint64_t npages = len / pg;
    unsigned node0 = numa_topo_node(t, 0)->os_index;
    int cpus[2];
    cpu_set_t old;
    (void)state;

    if (!have_move_pages()) {
        numa_topo_close(t);
        skip();                         /* kernel without CONFIG_NUMA */
    }
    int ncpus = usable_cpus(cpus, 2);
    snprintf(policy, sizeof(policy), "bind=%u", node0);
    build_plan(t, policy, "vcpu0=0", NULL, len, 2, &plan);
    assert_int_equal(numa_setup_ram(t, &plan, &ram, &warn, err, sizeof(err)), 0);
    madvise(ram.addr, len, MADV_NOHUGEPAGE);
    memset(ram.addr, 1, len / 2);       /* the first half */

    assert_int_equal(numa_reporter_new(&r, t, &plan, ram.addr, len, 0), 0);
    const unsigned n = numa_reporter_samples(r);
    assert_int_equal(n, NUMA_REPORT_DEFAULT_SAMPLES);
    unsigned expect_res = 0;
    for (unsigned i = 0; i < n; i++)
        if (numa_report_sample_page(npages, n, 0, i) < npages / 2)
            expect_res++;
    /* evenly spread samples: half of them, within one slice */
    assert_true(expect_res + 1 >= n / 2 && expect_res <= n / 2 + 1);

    /* vCPU 0: this thread, pinned; vCPU 1: another thread, pinned */
    struct other_thread o = { .cpu = cpus[ncpus - 1] };
    pthread_t th;
    pthread_mutex_init(&o.m, NULL);
    pthread_cond_init(&o.c, NULL);
    assert_int_equal(pthread_create(&th, NULL, other_main, &o), 0);
    pthread_mutex_lock(&o.m);
    while (!o.ready)
        pthread_cond_wait(&o.c, &o.m);
    pthread_mutex_unlock(&o.m);
    pin_self(cpus[0], &old);
    int tids[3] = { my_tid(), o.tid, 0 };

    assert_int_equal(numa_reporter_fill(r, tids, 3, NULL, 2, "a refused binding", &rep), 0);
    assert_int_equal(sched_getcpu(), cpus[0]);

    assert_int_equal(rep.ram_bytes, len);
    assert_int_equal(rep.sample_pages, n);
    assert_int_equal(rep.sampled_resident, expect_res);
    assert_int_equal(rep.sampled_absent, n - expect_res);
    assert_int_equal(rep.passes, 1);
    assert_true(rep.pass_ns > 0);
    assert_true(rep.sample_mono_ns > 0);
    assert_int_equal(rep.bind_failures, 2);
    assert_string_equal(rep.warning, "a refused binding");
    assert_int_equal(rep.guest_nodes, 0);
    assert_int_equal(rep.strict, 0);
    /* the kernel's policy for the range: what numa_setup_ram got applied */
    if (warn.n == 0) {
        assert_int_equal(rep.policy, GB_NUMA_POLICY_BIND);
        assert_string_equal(rep.policy_text, policy);
    } else {
        assert_int_equal(rep.policy, GB_NUMA_POLICY_DEFAULT);
    }
    assert_int_equal(rep.nnodes, numa_topo_nnodes(t));
    int k0 = numa_topo_node_index(t, node0);
    const struct gb_stats_numa_node *nd = &rep.node[k0];
    assert_int_equal(nd->os_index, node0);
    assert_int_equal(nd->sampled_pages, expect_res);      /* all of it on node 0 */
    assert_int_equal(nd->mem_bytes, numa_topo_node(t, (unsigned)k0)->memory);
    assert_int_equal(nd->npus, numa_set_count(&numa_topo_node(t, (unsigned)k0)->cpus));
    char list[64];
    numa_set_format(&numa_topo_node(t, (unsigned)k0)->cpus, list, sizeof(list));
    assert_string_equal(nd->cpus, list);
    assert_int_equal(!!(nd->flags & GB_NUMA_NODE_IN_POLICY), warn.n == 0);
    assert_int_equal(!!(nd->flags & GB_NUMA_NODE_NO_MEMORY), nd->mem_bytes == 0);
    /* estimate: sampled share x RAM, i.e. about the touched half */
    assert_int_equal(nd->est_bytes, (uint64_t)expect_res * npages / n * pg);
    assert_true(nd->est_bytes + len / n >= len / 2 && nd->est_bytes <= len / 2 + len / n);

    /* where the threads run, and may run */
    assert_int_equal(rep.nvcpus, 3);
    char one[16];
    snprintf(one, sizeof(one), "%d", cpus[0]);
    assert_int_equal(rep.vcpu[0].vcpu, 0);
    assert_int_equal(rep.vcpu[0].tid, tids[0]);
    assert_int_equal(rep.vcpu[0].cpu, cpus[0]);
    assert_int_equal(rep.vcpu[0].node, numa_topo_cpu_node(t, (unsigned)cpus[0]));
    assert_string_equal(rep.vcpu[0].allowed, one);
    assert_int_equal(rep.vcpu[0].flags, GB_NUMA_VCPU_PINNED);   /* vcpu0=0 */
    assert_int_equal(rep.vcpu[0].guest_node, -1);
    snprintf(one, sizeof(one), "%d", o.cpu);
    assert_int_equal(rep.vcpu[1].tid, o.tid);
    assert_int_equal(rep.vcpu[1].cpu, o.cpu);
    assert_int_equal(rep.vcpu[1].node, numa_topo_cpu_node(t, (unsigned)o.cpu));
    assert_string_equal(rep.vcpu[1].allowed, one);
    assert_int_equal(rep.vcpu[1].flags, 0);                     /* not pinned, not away */
    /* no thread yet */
    assert_int_equal(rep.vcpu[2].flags, GB_NUMA_VCPU_UNKNOWN);
    assert_int_equal(rep.vcpu[2].cpu, -1);
    assert_int_equal(rep.vcpu[2].node, -1);
    assert_string_equal(rep.vcpu[2].allowed, "");

    /* the other thread gone: unknown, not a failure */
    pthread_mutex_lock(&o.m);
    o.quit = 1;
    pthread_cond_broadcast(&o.c);
    pthread_mutex_unlock(&o.m);
    pthread_join(th, NULL);
    assert_int_equal(numa_reporter_fill(r, tids, 2, NULL, 0, NULL, &rep), 0);
    assert_int_equal(rep.vcpu[1].flags & GB_NUMA_VCPU_UNKNOWN, GB_NUMA_VCPU_UNKNOWN);
    assert_int_equal(rep.vcpu[1].cpu, -1);
    assert_int_equal(rep.vcpu[1].tid, o.tid);
    assert_int_equal(rep.passes, 2);
    assert_string_equal(rep.warning, "");

    assert_int_equal(sched_setaffinity(0, sizeof(old), &old), 0);
    pthread_mutex_destroy(&o.m);
    pthread_cond_destroy(&o.c);
    numa_reporter_free(r);
    numa_ram_free(&ram);
    numa_topo_close(t);
}

/* The policy shown is the kernel's, not the plan's: RAM the plan wants
 * bound but that nobody bound reads "default"; once bound, the mode and
 * nodes the kernel reports. */
static void test_host_policy_in_force(void **state)
{
    static const char *const modes[] = { "bind", "interleave", "preferred" };
    static const uint32_t gb[] = {
        GB_NUMA_POLICY_BIND, GB_NUMA_POLICY_INTERLEAVE, GB_NUMA_POLICY_PREFERRED,
    };
    struct numa_topo *t = open_topo(NULL);
    unsigned node0 = numa_topo_node(t, 0)->os_index;
    const size_t len = 2 * MiB;
    (void)state;

    for (unsigned m = 0; m < 3; m++) {
        struct numa_plan plan;
        struct numa_reporter *r;
        struct gb_stats_numa_report rep;
        char policy[64], msg[256];
        char *ram = map_ram(len);

        snprintf(policy, sizeof(policy), "%s=%u", modes[m], node0);
        build_plan(t, policy, NULL, NULL, len, 1, &plan);
        assert_int_equal(numa_reporter_new(&r, t, &plan, ram, len, 16), 0);
        assert_int_equal(numa_reporter_fill(r, NULL, 0, NULL, 0, NULL, &rep), 0);
        assert_string_equal(rep.policy_text, "default");
        assert_int_equal(rep.policy, GB_NUMA_POLICY_DEFAULT);
        assert_int_equal(rep.node[0].flags & GB_NUMA_NODE_IN_POLICY, 0);

        assert_int_equal(numa_bind_memory(t, ram, len, &plan.ranges[0], msg, sizeof(msg)), 0);
        assert_int_equal(numa_reporter_fill(r, NULL, 0, NULL, 0, NULL, &rep), 0);
        assert_string_equal(rep.policy_text, policy);
        assert_int_equal(rep.policy, gb[m]);
        assert_int_equal(rep.node[numa_topo_node_index(t, node0)].flags & GB_NUMA_NODE_IN_POLICY,
                         GB_NUMA_NODE_IN_POLICY);
        numa_reporter_free(r);
        munmap(ram, len);
    }
    numa_topo_close(t);
}

/* Touch only pages that pass 1 looks at and pass 0 does not: pass 0 must
 * find none resident, pass 1 all of them. */
static void test_host_rotation(void **state)
{
    struct numa_topo *t = open_topo(NULL);
    struct numa_reporter *r;
    struct gb_stats_numa_report rep;
    const size_t pg = page_size(), npages = 1024, len = npages * pg;
    const unsigned n = 64;
    char *ram = map_ram(len);
    unsigned only1 = 0;
    (void)state;

    if (!have_move_pages()) {
        munmap(ram, len);
        numa_topo_close(t);
        skip();
    }
    for (unsigned i = 0; i < n; i++) {
        uint64_t p1 = numa_report_sample_page(npages, n, 1, i);
        bool in0 = false;
        for (unsigned j = 0; j < n; j++)
            in0 |= numa_report_sample_page(npages, n, 0, j) == p1;
        if (!in0) {
            ram[p1 * pg] = 1;
            only1++;
        }
    }
    assert_int_equal(only1, n);
    assert_int_equal(numa_reporter_new(&r, t, NULL, ram, len, n), 0);
    assert_int_equal(numa_reporter_fill(r, NULL, 0, NULL, 0, NULL, &rep), 0);
    assert_int_equal(rep.sampled_resident, 0);
    assert_int_equal(rep.sampled_absent, n);
    assert_int_equal(numa_reporter_fill(r, NULL, 0, NULL, 0, NULL, &rep), 0);
    assert_int_equal(rep.sampled_resident, n);
    assert_int_equal(rep.sampled_absent, 0);
    assert_int_equal(rep.passes, 2);
    numa_reporter_free(r);
    munmap(ram, len);
    numa_topo_close(t);
}

/* On "node:2 core:1 pu:1" host CPU c is synthetic node c, and move_pages
 * reports node 0 for every page. With two guest nodes, only guest node 1's
 * RAM touched, and both vCPU threads (this one) on CPU 1 = node 1:
 * vCPU 1 (guest node 1) is away from its memory; vCPU 0's memory is not
 * anywhere yet, so it is not. On CPU 0 nobody is away. The kernel
 * policy is default: the synthetic topology's bindings are skipped. */
static void test_away_synthetic(void **state)
{
    static const char *const guest[] = {
        "node,cpus=0,mem=2M", "node,cpus=1,mem=2M", NULL,
    };
    struct numa_topo *t = open_topo("node:2 core:1 pu:1");
    struct numa_plan plan;
    struct numa_reporter *r;
    struct gb_stats_numa_report rep;
    const size_t len = 4 * MiB;
    char *ram = map_ram(len);
    int cpus[2];
    cpu_set_t old;
    (void)state;

    if (!have_move_pages() || usable_cpus(cpus, 2) < 2 || cpus[0] != 0 || cpus[1] != 1) {
        munmap(ram, len);
        numa_topo_close(t);
        skip();                         /* needs host CPUs 0 and 1 */
    }
    build_plan(t, NULL, NULL, guest, len, 2, &plan);
    memset(ram + len / 2, 1, len / 2);
    assert_int_equal(numa_reporter_new(&r, t, &plan, ram, len, 256), 0);
    int tids[2] = { my_tid(), my_tid() };

    pin_self(1, &old);
    assert_int_equal(numa_reporter_fill(r, tids, 2, NULL, 0, NULL, &rep), 0);
    assert_int_equal(rep.guest_nodes, 2);
    assert_int_equal(rep.nnodes, 2);
    assert_int_equal(rep.node[0].sampled_pages, 128);
    assert_int_equal(rep.node[1].sampled_pages, 0);
    assert_int_equal(rep.sampled_resident, 128);
    assert_string_equal(rep.policy_text, "default");
    assert_int_equal(rep.node[0].flags & GB_NUMA_NODE_IN_POLICY, 0);
    assert_int_equal(rep.vcpu[0].guest_node, 0);
    assert_int_equal(rep.vcpu[1].guest_node, 1);
    assert_int_equal(rep.vcpu[0].node, 1);
    assert_int_equal(rep.vcpu[0].flags & GB_NUMA_VCPU_AWAY, 0);
    assert_int_equal(rep.vcpu[1].flags & GB_NUMA_VCPU_AWAY, GB_NUMA_VCPU_AWAY);

    /* the caller's guest nodes win over the plan's: both on guest node 1 */
    int g[2] = { 1, 1 };
    assert_int_equal(numa_reporter_fill(r, tids, 2, g, 0, NULL, &rep), 0);
    assert_int_equal(rep.vcpu[0].flags & GB_NUMA_VCPU_AWAY, GB_NUMA_VCPU_AWAY);

    pin_self(0, NULL);
    assert_int_equal(numa_reporter_fill(r, tids, 2, NULL, 0, NULL, &rep), 0);
    assert_int_equal(rep.vcpu[1].node, 0);
    assert_int_equal(rep.vcpu[1].flags & GB_NUMA_VCPU_AWAY, 0);
    assert_int_equal(sched_setaffinity(0, sizeof(old), &old), 0);
    numa_reporter_free(r);
    munmap(ram, len);
    numa_topo_close(t);
}

/* ---- the stats hook ------------------------------------------------------ */

struct fake_src {
    struct gb_stats_numa_report rep;
    int calls;
    int fail;
};

static int fake_numa(void *opaque, struct gb_stats_numa_report *out)
{
    struct fake_src *f = opaque;
    f->calls++;
    if (f->fail)
        return -EIO;
    f->rep.passes = (uint64_t)f->calls;
    *out = f->rep;
    return 0;
}

static void read_numa(struct stats *s, struct gb_stats_numa *out)
{
    struct gb_reader rd;
    char err[256];
    assert_int_equal(gb_reader_attach(&rd, stats_header(s), stats_header(s)->total_size,
                                      err, sizeof(err)), 0);
    assert_int_equal(gb_reader_numa(&rd, out), 0);
}

static void test_stats_hook(void **state)
{
    struct stats_config cfg = {
        .arch = "riscv64", .accel = "tcg", .nvcpus = 1, .ram_bytes = 64 * MiB,
        .sample_hz = 50,
    };
    char name[64], err[256];
    struct stats *s = NULL;
    struct fake_src f = { 0 };
    struct gb_stats_numa *got = malloc(sizeof(*got));
    struct gb_stats_numa_report rep;
    (void)state;

    assert_non_null(got);
    snprintf(name, sizeof(name), "gbtest-%d-numa", (int)getpid());
    cfg.name = name;
    if (stats_create(&s, &cfg, err, sizeof(err)) != 0)
        fail_msg("stats_create: %s", err);

    /* no source: no report */
    stats_sample_now(s);
    read_numa(s, got);
    assert_int_equal(got->format, 0);

    f.rep.nnodes = 1;
    f.rep.nvcpus = 1;
    f.rep.ram_bytes = 64 * MiB;
    f.rep.sample_pages = 1024;
    f.rep.sampled_resident = 700;
    snprintf(f.rep.policy_text, sizeof(f.rep.policy_text), "bind=0");
    f.rep.node[0].est_bytes = 12345;
    snprintf(f.rep.node[0].cpus, sizeof(f.rep.node[0].cpus), "0-1");
    f.rep.vcpu[0].cpu = 1;
    f.rep.vcpu[0].flags = GB_NUMA_VCPU_AWAY;
    snprintf(f.rep.vcpu[0].allowed, sizeof(f.rep.vcpu[0].allowed), "0-1");
    stats_set_numa_source(s, fake_numa, &f, 0);
    stats_sample_now(s);
    assert_int_equal(f.calls, 1);
    read_numa(s, got);
    assert_int_equal(got->format, GB_STATS_NUMA_FORMAT);
    assert_int_equal(got->used, sizeof(rep));
    memcpy(&rep, got->data, sizeof(rep));
    f.rep.passes = 1;
    assert_memory_equal(&rep, &f.rep, sizeof(rep));
    uint64_t seq = got->seq;
    assert_int_equal(seq % 2, 0);

    /* 1000 ms default period: the next sample does not call it again */
    stats_sample_now(s);
    assert_int_equal(f.calls, 1);

    /* a failing source leaves the previous report in place */
    f.fail = 1;
    stats_set_numa_source(s, fake_numa, &f, 1);
    stats_sample_now(s);
    assert_int_equal(f.calls, 2);
    read_numa(s, got);
    assert_int_equal(got->seq, seq);
    assert_int_equal(got->format, GB_STATS_NUMA_FORMAT);
    memcpy(&rep, got->data, sizeof(rep));
    assert_int_equal(rep.passes, 1);

    /* a short period: called on every sample once due */
    f.fail = 0;
    usleep(2000);
    stats_sample_now(s);
    assert_int_equal(f.calls, 3);
    read_numa(s, got);
    memcpy(&rep, got->data, sizeof(rep));
    assert_int_equal(rep.passes, 3);
    assert_true(got->seq > seq);

    stats_destroy(s);
    free(got);
}

/* ---- query-numa JSON ----------------------------------------------------- */

static void test_json(void **state)
{
    struct gb_stats_numa_report r;
    (void)state;

    memset(&r, 0, sizeof(r));
    r.nnodes = 2;
    r.nvcpus = 2;
    r.policy = GB_NUMA_POLICY_INTERLEAVE;
    r.strict = 1;
    snprintf(r.policy_text, sizeof(r.policy_text), "interleave=0-1");
    r.ram_bytes = 5ull << 30;
    r.sample_pages = 1024;
    r.sampled_resident = 1000;
    r.sampled_absent = 24;
    r.passes = 77;
    r.pass_ns = 123456;
    r.bind_failures = 3;
    r.guest_nodes = 2;
    snprintf(r.warning, sizeof(r.warning), "pinning thread 9 to host CPUs 7: \"x\"");
    for (unsigned k = 0; k < 2; k++) {
        r.node[k].os_index = (int32_t)k;
        r.node[k].flags = k ? GB_NUMA_NODE_NO_MEMORY : GB_NUMA_NODE_IN_POLICY;
        r.node[k].mem_bytes = (k + 1) * (1ull << 33);
        r.node[k].sampled_pages = 500 + k;
        r.node[k].est_bytes = (5ull << 30) / 2 + k;
        r.node[k].npus = 2;
        snprintf(r.node[k].cpus, sizeof(r.node[k].cpus), "%u-%u", 2 * k, 2 * k + 1);
    }
    r.vcpu[0] = (struct gb_stats_numa_vcpu){ 0, 3, 1, GB_NUMA_VCPU_PINNED | GB_NUMA_VCPU_AWAY,
                                              1, 4242, "3" };
    r.vcpu[1] = (struct gb_stats_numa_vcpu){ 1, -1, -1, GB_NUMA_VCPU_UNKNOWN, -1, 0, "" };

    struct json_object *o = numa_report_json(&r);
    assert_non_null(o);
    struct json_object *p = json_tokener_parse(json_object_to_json_string(o));
    assert_non_null(p);
    struct json_object *v;
#define GET(obj, key) (assert_true(json_object_object_get_ex((obj), (key), &v)), v)
    assert_string_equal(json_object_get_string(GET(p, "policy")), r.policy_text);
    assert_true(json_object_get_boolean(GET(p, "strict")));
    assert_int_equal(json_object_get_uint64(GET(p, "ram-bytes")), r.ram_bytes);
    assert_int_equal(json_object_get_uint64(GET(p, "sample-pages")), r.sample_pages);
    assert_int_equal(json_object_get_uint64(GET(p, "sampled-resident")), r.sampled_resident);
    assert_int_equal(json_object_get_uint64(GET(p, "sampled-absent")), r.sampled_absent);
    assert_int_equal(json_object_get_uint64(GET(p, "passes")), r.passes);
    assert_int_equal(json_object_get_uint64(GET(p, "pass-ns")), r.pass_ns);
    assert_int_equal(json_object_get_int(GET(p, "bind-failures")), r.bind_failures);
    assert_string_equal(json_object_get_string(GET(p, "warning")), r.warning);
    assert_int_equal(json_object_get_int(GET(p, "guest-nodes")), r.guest_nodes);
    struct json_object *nodes = GET(p, "nodes");
    assert_int_equal(json_object_array_length(nodes), 2);
    for (unsigned k = 0; k < 2; k++) {
        struct json_object *n = json_object_array_get_idx(nodes, k);
        assert_int_equal(json_object_get_int(GET(n, "node")), r.node[k].os_index);
        assert_string_equal(json_object_get_string(GET(n, "cpus")), r.node[k].cpus);
        assert_int_equal(json_object_get_int(GET(n, "pus")), r.node[k].npus);
        assert_int_equal(json_object_get_uint64(GET(n, "memory-bytes")), r.node[k].mem_bytes);
        assert_int_equal(json_object_get_boolean(GET(n, "in-policy")), k == 0);
        assert_int_equal(json_object_get_boolean(GET(n, "no-memory")), k == 1);
        assert_int_equal(json_object_get_uint64(GET(n, "sampled-pages")),
                         r.node[k].sampled_pages);
        assert_int_equal(json_object_get_uint64(GET(n, "estimated-bytes")),
                         r.node[k].est_bytes);
    }
    struct json_object *vc = GET(p, "vcpus");
    assert_int_equal(json_object_array_length(vc), 2);
    struct json_object *v0 = json_object_array_get_idx(vc, 0);
    struct json_object *v1 = json_object_array_get_idx(vc, 1);
    assert_int_equal(json_object_get_int(GET(v0, "vcpu")), 0);
    assert_int_equal(json_object_get_int(GET(v0, "tid")), 4242);
    assert_int_equal(json_object_get_int(GET(v0, "cpu")), 3);
    assert_int_equal(json_object_get_int(GET(v0, "node")), 1);
    assert_string_equal(json_object_get_string(GET(v0, "allowed")), "3");
    assert_true(json_object_get_boolean(GET(v0, "pinned")));
    assert_true(json_object_get_boolean(GET(v0, "away")));
    assert_false(json_object_get_boolean(GET(v0, "unknown")));
    assert_int_equal(json_object_get_int(GET(v0, "guest-node")), 1);
    assert_int_equal(json_object_get_int(GET(v1, "vcpu")), 1);
    assert_null(GET(v1, "cpu"));                    /* unknown: null */
    assert_null(GET(v1, "node"));
    assert_null(GET(v1, "guest-node"));
    assert_true(json_object_get_boolean(GET(v1, "unknown")));
    assert_false(json_object_get_boolean(GET(v1, "pinned")));
#undef GET
    json_object_put(p);
    json_object_put(o);
}

/* ---- cost of a pass (GB_NUMA_REPORT_BENCH=1) ------------------------------ */

static void test_pass_cost(void **state)
{
    static const uint64_t sizes[] = { 128 * MiB, 1024 * MiB };
    struct numa_topo *t;
    (void)state;

    if (!getenv("GB_NUMA_REPORT_BENCH") || !have_move_pages())
        skip();
    t = open_topo(NULL);
    for (unsigned s = 0; s < 2; s++) {
        size_t len = sizes[s];
        char *ram = mmap(NULL, len, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        struct numa_reporter *r;
        struct gb_stats_numa_report rep;
        uint64_t ns[21];
        int tids[1] = { my_tid() };

        assert_true(ram != MAP_FAILED);
        memset(ram, 1, len);            /* a guest that has touched all RAM */
        assert_int_equal(numa_reporter_new(&r, t, NULL, ram, len, 0), 0);
        for (unsigned i = 0; i < 21; i++) {
            assert_int_equal(numa_reporter_fill(r, tids, 1, NULL, 0, NULL, &rep), 0);
            ns[i] = rep.pass_ns;
        }
        for (unsigned i = 0; i < 21; i++)       /* median */
            for (unsigned j = i + 1; j < 21; j++)
                if (ns[j] < ns[i]) {
                    uint64_t x = ns[i];
                    ns[i] = ns[j];
                    ns[j] = x;
                }
        printf("numa report pass: %4llu MiB RAM, %u pages/pass: median %llu ns CPU "
               "(min %llu, max %llu) = %.4f%% of one CPU at 1 Hz\n",
               (unsigned long long)(len >> 20), numa_reporter_samples(r),
               (unsigned long long)ns[10], (unsigned long long)ns[0],
               (unsigned long long)ns[20], (double)ns[10] / 1e7);
        numa_reporter_free(r);
        munmap(ram, len);
    }
    numa_topo_close(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_positions),
        cmocka_unit_test(test_away_rule),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_host_report),
        cmocka_unit_test(test_host_policy_in_force),
        cmocka_unit_test(test_host_rotation),
        cmocka_unit_test(test_away_synthetic),
        cmocka_unit_test(test_stats_hook),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_pass_cost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
