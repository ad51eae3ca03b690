/* The live placement report: where guest RAM and vCPU threads really are.
 *
 * Cost is bounded by the sample size, not the RAM size: a pass asks
 * move_pages(2) (NULL node array: query, move nothing) about n pages, one
 * in each of n equal slices of RAM, at an offset into the slice that
 * rotates from pass to pass by a step coprime to the slice length, so
 * successive passes see different pages and every page is seen after one
 * slice length of passes. The memory policy shown is the one the kernel
 * reports for each range (get_mempolicy(2)), not the one that was asked
 * for, so a refused binding shows as what really happened. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/mempolicy.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "glassbox/stats.h"
#include "numa_priv.h"

#define BATCH 512                       /* pages per move_pages call */
#define MAX_RANGES NUMA_MAX_GUEST_NODES
#define MAX_NODES GB_STATS_NUMA_MAX_NODES
/* Linux >= 5.15 / 6.9 modes: enum values (not macros) that older
 * <linux/mempolicy.h> lack; the numbers are kernel ABI */
#define KERNEL_MPOL_PREFERRED_MANY 5
#define KERNEL_MPOL_WEIGHTED_INTERLEAVE 6

struct rep_range {
    uint64_t first, end;                /* page indexes [first, end) */
    uint64_t offset, size;              /* bytes */
    int guest_node;
};

struct numa_reporter {
    const struct numa_topo *t;
    const struct numa_plan *p;
    char *ram;
    uint64_t ram_bytes, page, npages;
    unsigned nsamples;
    uint64_t passes;
    unsigned nranges;
    struct rep_range range[MAX_RANGES];
    unsigned nnodes;                    /* report nodes: min(topology, MAX_NODES) */
    /* sampled pages of the last pass by range and report node */
    uint64_t count[MAX_RANGES][MAX_NODES];
    void *pages[BATCH];
    int status[BATCH];
};

static uint64_t clock_ns(clockid_t c)
{
    struct timespec ts;

    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

uint64_t numa_report_sample_page(uint64_t npages, unsigned nsamples, uint64_t pass,
                                 unsigned i)
{
    if (nsamples == 0 || npages == 0)
        return 0;
    if (nsamples >= npages)             /* small RAM: every page, every pass */
        return i % npages;
    /* slice i is [start, next); slices differ in length by at most one */
    uint64_t start = (uint64_t)i * npages / nsamples;
    uint64_t next = (uint64_t)(i + 1) * npages / nsamples;
    uint64_t stride = (npages + nsamples - 1) / nsamples;
    /* a golden-ratio step spreads consecutive passes over the slice;
     * coprime with stride so the offsets visit all of [0, stride) */
    uint64_t step = stride * 618 / 1000;
    if (step == 0)
        step = 1;
    while (gcd(step, stride) != 1)
        step++;
    uint64_t off = (pass % stride) * step % stride;
    return start + off % (next - start);
}

bool numa_report_away(const uint64_t *pages, unsigned nnodes, int vcpu_node)
{
    bool elsewhere = false;

    if (vcpu_node < 0 || (unsigned)vcpu_node >= nnodes)
        return false;
    if (pages[vcpu_node] != 0)
        return false;
    for (unsigned k = 0; k < nnodes; k++)
        if (pages[k])
            elsewhere = true;
    return elsewhere;
}

void numa_report_list(const struct numa_set *s, char *buf, size_t len)
{
    char tmp[NUMA_SET_BITS * 5];

    if (len == 0)
        return;
    int want = numa_set_format(s, tmp, sizeof(tmp));
    if (want < 0 || (size_t)want < len) {
        snprintf(buf, len, "%s", tmp);
        return;
    }
    /* cut after the last whole entry that leaves room for ",.." */
    size_t keep = 0;
    for (size_t i = 0; i + 3 < len && tmp[i]; i++)
        if (tmp[i] == ',')
            keep = i;
    if (keep)
        snprintf(buf, len, "%.*s,..", (int)keep, tmp);
    else
        snprintf(buf, len, "..");
}

int numa_reporter_new(struct numa_reporter **out, const struct numa_topo *t,
                      const struct numa_plan *p, void *ram, uint64_t ram_bytes,
                      unsigned sample_pages)
{
    struct numa_reporter *r;
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

    *out = NULL;
    if (!t || !ram || ram_bytes < page || sample_pages > NUMA_REPORT_MAX_SAMPLES)
        return -EINVAL;
    if (p && (p->nranges == 0 || p->nranges > MAX_RANGES))
        return -EINVAL;
    r = calloc(1, sizeof(*r));
    if (!r)
        return -ENOMEM;
    r->t = t;
    r->p = p;
    r->ram = ram;
    r->ram_bytes = ram_bytes;
    r->page = page;
    r->npages = ram_bytes / page;
    r->nsamples = sample_pages ? sample_pages : NUMA_REPORT_DEFAULT_SAMPLES;
    if (r->nsamples > r->npages)
        r->nsamples = (unsigned)r->npages;
    r->nnodes = t->nnodes < MAX_NODES ? t->nnodes : MAX_NODES;
    if (!p) {
        r->nranges = 1;
        r->range[0] = (struct rep_range){ 0, r->npages, 0, ram_bytes, -1 };
    } else {
        r->nranges = p->nranges;
        for (unsigned i = 0; i < p->nranges; i++) {
            const struct numa_range *pr = &p->ranges[i];
            if (pr->offset + pr->size > ram_bytes || pr->offset % page) {
                free(r);
                return -EINVAL;
            }
            r->range[i] = (struct rep_range){
                pr->offset / page, (pr->offset + pr->size) / page,
                pr->offset, pr->size, pr->guest_node,
            };
        }
    }
    *out = r;
    return 0;
}

void numa_reporter_free(struct numa_reporter *r)
{
    free(r);
}

unsigned numa_reporter_samples(const struct numa_reporter *r)
{
    return r->nsamples;
}

/* ---- the memory policy in force ---- */

struct policy_view {
    uint32_t policy;                    /* enum gb_numa_policy */
    const char *name;
    struct numa_set nodes;
};

/* What the kernel says governs the first page of [addr, addr+len). */
static int kernel_policy(void *addr, struct policy_view *v)
{
    int mode = 0;

    numa_set_zero(&v->nodes);
    if (syscall(SYS_get_mempolicy, &mode, v->nodes.w, (unsigned long)NUMA_SET_BITS,
                addr, (unsigned long)MPOL_F_ADDR) < 0)
        return -errno;
    mode &= ~(MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES);
    switch (mode) {
    case MPOL_BIND:
        v->policy = GB_NUMA_POLICY_BIND;
        v->name = "bind";
        break;
    case MPOL_INTERLEAVE:
    case KERNEL_MPOL_WEIGHTED_INTERLEAVE:
        v->policy = GB_NUMA_POLICY_INTERLEAVE;
        v->name = "interleave";
        break;
    case MPOL_PREFERRED:
    case KERNEL_MPOL_PREFERRED_MANY:
        /* preferred with no node is "local allocation" */
        v->policy = numa_set_empty(&v->nodes) ? GB_NUMA_POLICY_DEFAULT
                                               : GB_NUMA_POLICY_PREFERRED;
        v->name = numa_set_empty(&v->nodes) ? "local" : "preferred";
        break;
    case MPOL_LOCAL:
        v->policy = GB_NUMA_POLICY_DEFAULT;
        v->name = "local";
        numa_set_zero(&v->nodes);
        break;
    default:
        v->policy = GB_NUMA_POLICY_DEFAULT;
        v->name = "default";
        numa_set_zero(&v->nodes);
        break;
    }
    return 0;
}

/* The plan's view, when the kernel cannot be asked. */
static void plan_policy(const struct numa_range *pr, struct policy_view *v)
{
    static const char *const names[] = { "default", "bind", "interleave", "preferred" };

    v->policy = (uint32_t)pr->policy;
    v->name = names[pr->policy <= NUMA_POLICY_PREFERRED ? pr->policy : 0];
    v->nodes = pr->host_nodes;
    if (pr->policy == NUMA_POLICY_DEFAULT)
        numa_set_zero(&v->nodes);
}

static void policy_text(const struct policy_view *v, char *buf, size_t len)
{
    char list[48];              /* fits "interleave=" + list in 64 */

    if (numa_set_empty(&v->nodes)) {
        snprintf(buf, len, "%s", v->name);
        return;
    }
    numa_report_list(&v->nodes, list, sizeof(list));
    snprintf(buf, len, "%s=%s", v->name, list);
}

/* policy, policy_text, strict and the nodes in policy. Ranges that agree
 * read as one policy; otherwise "g0:bind=0 g1:bind=1" per guest node. */
static void fill_policy(struct numa_reporter *r, struct gb_stats_numa_report *out,
                        struct numa_set *in_policy)
{
    struct policy_view v[MAX_RANGES];
    bool same = true;
    size_t pos = 0;

    numa_set_zero(in_policy);
    for (unsigned i = 0; i < r->nranges; i++) {
        if (kernel_policy(r->ram + r->range[i].offset, &v[i]) < 0) {
            if (r->p)
                plan_policy(&r->p->ranges[i], &v[i]);
            else
                v[i] = (struct policy_view){ GB_NUMA_POLICY_DEFAULT, "default", { { 0 } } };
        }
        numa_set_or(in_policy, &v[i].nodes);
        if (i && (v[i].policy != v[0].policy || strcmp(v[i].name, v[0].name) ||
                  !numa_set_equal(&v[i].nodes, &v[0].nodes)))
            same = false;
        if (r->p && r->p->ranges[i].strict)
            out->strict = 1;
    }
    out->policy = v[0].policy;
    if (same) {
        policy_text(&v[0], out->policy_text, sizeof(out->policy_text));
        return;
    }
    for (unsigned i = 0; i < r->nranges && pos + 1 < sizeof(out->policy_text); i++) {
        char one[sizeof(out->policy_text)];
        policy_text(&v[i], one, sizeof(one));
        int n = snprintf(out->policy_text + pos, sizeof(out->policy_text) - pos, "%sg%d:%s",
                         i ? " " : "", r->range[i].guest_node, one);
        if (n < 0)
            break;
        pos += (size_t)n;
    }
}

/* ---- sampling ---- */

static int node_slot(const struct numa_reporter *r, int os_node)
{
    if (os_node < 0)
        return -1;
    int k = numa_topo_node_index(r->t, (unsigned)os_node);
    return k >= 0 && (unsigned)k < r->nnodes ? k : -1;
}

static int range_of(const struct numa_reporter *r, uint64_t pg, unsigned *hint)
{
    for (unsigned n = 0; n < r->nranges; n++) {
        unsigned i = (*hint + n) % r->nranges;
        if (pg >= r->range[i].first && pg < r->range[i].end) {
            *hint = i;
            return (int)i;
        }
    }
    return -1;
}

/* One pass over nsamples pages; counts go to r->count, totals to out. */
static int sample_pass(struct numa_reporter *r, struct gb_stats_numa_report *out)
{
    unsigned hint = 0;
    int idx[BATCH];

    memset(r->count, 0, sizeof(r->count));
    for (unsigned done = 0; done < r->nsamples;) {
        unsigned n = r->nsamples - done < BATCH ? r->nsamples - done : BATCH;
        for (unsigned i = 0; i < n; i++) {
            uint64_t pg = numa_report_sample_page(r->npages, r->nsamples, r->passes,
                                                  done + i);
            r->pages[i] = r->ram + pg * r->page;
            idx[i] = range_of(r, pg, &hint);
        }
        if (syscall(SYS_move_pages, 0, (unsigned long)n, r->pages, NULL, r->status, 0) < 0)
            return -errno;
        for (unsigned i = 0; i < n; i++) {
            if (r->status[i] == -ENOENT) {
                out->sampled_absent++;
            } else if (r->status[i] >= 0) {
                out->sampled_resident++;
                int k = node_slot(r, r->status[i]);
                if (k >= 0 && idx[i] >= 0)
                    r->count[idx[i]][k]++;
            }
        }
        done += n;
    }
    out->sample_pages = r->nsamples;
    return 0;
}

static void fill_nodes(struct numa_reporter *r, struct gb_stats_numa_report *out,
                       const struct numa_set *in_policy)
{
    out->nnodes = r->nnodes;
    for (unsigned k = 0; k < r->nnodes; k++) {
        const struct numa_node_info *ni = &r->t->nodes[k];
        struct gb_stats_numa_node *o = &out->node[k];
        uint64_t pages = 0;

        for (unsigned i = 0; i < r->nranges; i++)
            pages += r->count[i][k];
        o->os_index = (int32_t)ni->os_index;
        o->mem_bytes = ni->memory;
        o->npus = numa_set_count(&ni->cpus);
        numa_report_list(&ni->cpus, o->cpus, sizeof(o->cpus));
        if (numa_set_has(in_policy, ni->os_index))
            o->flags |= GB_NUMA_NODE_IN_POLICY;
        if (!ni->memory)
            o->flags |= GB_NUMA_NODE_NO_MEMORY;
        o->sampled_pages = pages;
        /* The node's share of the sampled pages times all of RAM: an
         * estimate of the guest bytes resident there (untouched pages
         * count for no node). Exact when every page is sampled, else it
         * carries the binomial error of sample_pages draws. */
        if (out->sample_pages)
            o->est_bytes = pages * r->npages / out->sample_pages * r->page;
    }
}

/* Sampled pages of vCPU memory by node: its guest node's ranges, or all. */
static void vcpu_memory(const struct numa_reporter *r, int guest_node, uint64_t *pages)
{
    memset(pages, 0, sizeof(uint64_t) * MAX_NODES);
    for (unsigned i = 0; i < r->nranges; i++) {
        if (guest_node >= 0 && r->range[i].guest_node >= 0 &&
            r->range[i].guest_node != guest_node)
            continue;
        for (unsigned k = 0; k < r->nnodes; k++)
            pages[k] += r->count[i][k];
    }
}

static void fill_vcpu(struct numa_reporter *r, unsigned i, int tid, int guest_node,
                      struct gb_stats_numa_vcpu *v)
{
    uint64_t pages[MAX_NODES];
    int cpu = -1, node = -1;

    v->vcpu = i;
    v->tid = tid > 0 ? (uint32_t)tid : 0;
    v->cpu = -1;
    v->node = -1;
    v->guest_node = guest_node;
    if (r->p && i < NUMA_MAX_VCPUS && r->p->vcpu_pinned[i])
        v->flags |= GB_NUMA_VCPU_PINNED;
    if (tid <= 0 || numa_thread_location(r->t, tid, &cpu, &node) < 0) {
        v->flags |= GB_NUMA_VCPU_UNKNOWN;
        return;
    }
    v->cpu = cpu;
    v->node = node;
    if (node < 0)
        v->flags |= GB_NUMA_VCPU_UNKNOWN;

    cpu_set_t cs;
    CPU_ZERO(&cs);
    if (sched_getaffinity(tid, sizeof(cs), &cs) == 0) {
        struct numa_set allowed;
        numa_set_zero(&allowed);
        for (unsigned c = 0; c < CPU_SETSIZE && c < NUMA_SET_BITS; c++)
            if (CPU_ISSET(c, &cs))
                numa_set_add(&allowed, c);
        numa_report_list(&allowed, v->allowed, sizeof(v->allowed));
    }
    vcpu_memory(r, guest_node, pages);
    if (numa_report_away(pages, r->nnodes, node_slot(r, node)))
        v->flags |= GB_NUMA_VCPU_AWAY;
}

int numa_reporter_fill(struct numa_reporter *r, const int *tids, unsigned nvcpus,
                       const int *guest_node_of_vcpu, unsigned bind_failures,
                       const char *warning, struct gb_stats_numa_report *out)
{
    uint64_t t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    struct numa_set in_policy;

    if (nvcpus > GB_STATS_NUMA_MAX_VCPUS || (nvcpus && !tids))
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    out->ram_bytes = r->ram_bytes;
    out->bind_failures = bind_failures;
    out->guest_nodes = r->p ? r->p->nguest_nodes : 0;
    snprintf(out->warning, sizeof(out->warning), "%s", warning ? warning : "");
    fill_policy(r, out, &in_policy);

    int e = sample_pass(r, out);
    if (e < 0) {
        /* no page locations (seccomp, old kernel): say so, keep the rest */
        memset(r->count, 0, sizeof(r->count));
        out->sample_pages = out->sampled_resident = out->sampled_absent = 0;
        if (!out->warning[0])
            snprintf(out->warning, sizeof(out->warning),
                     "page sampling unavailable: move_pages: %s", strerror(-e));
    }
    fill_nodes(r, out, &in_policy);
    out->nvcpus = nvcpus;
    for (unsigned i = 0; i < nvcpus; i++) {
        int g = guest_node_of_vcpu ? guest_node_of_vcpu[i]
                : r->p && i < NUMA_MAX_VCPUS ? r->p->vcpu_guest_node[i] : -1;
        fill_vcpu(r, i, tids[i], g, &out->vcpu[i]);
    }
    r->passes++;
    out->passes = r->passes;
    out->sample_mono_ns = clock_ns(CLOCK_MONOTONIC);
    out->pass_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
    return 0;
}
