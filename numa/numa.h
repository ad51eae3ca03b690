/* NUMA placement for glassbox: host topology (hwloc), option parsers, a
 * pure placement planner, the calls that apply a plan (memory policy,
 * thread pinning, prealloc, huge pages) and the page-location sampler.
 *
 * Knows only include/ (DESIGN.md). hwloc types stay inside numa/: callers
 * see host CPUs and nodes as struct numa_set (OS indexes), so the engine
 * needs no hwloc headers and the planner can be tested on any topology.
 *
 * Errors: 0 / -errno with a one-line message in err. Calls that apply a
 * plan may also return NUMA_WARNED: the binding was not applied and msg
 * says why (the caller records it; with `strict` it is an error instead).
 */
#ifndef GB_NUMA_H
#define GB_NUMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NUMA_SET_BITS 1024          /* host CPUs / nodes with OS index < this */
#define NUMA_MAX_VCPUS 64
#define NUMA_MAX_GUEST_NODES 16
#define NUMA_MAX_MSGS 16
#define NUMA_MSG_LEN 200
#define NUMA_MAX_SAMPLES 4096       /* per numa_sample_pages call */
#define NUMA_WARNED 1

/* ---- sets of OS indexes (host CPUs, host nodes, guest vCPUs) ---- */

struct numa_set {
    uint64_t w[NUMA_SET_BITS / 64];
};

void numa_set_zero(struct numa_set *s);
int numa_set_add(struct numa_set *s, unsigned i);           /* -ERANGE */
bool numa_set_has(const struct numa_set *s, unsigned i);
unsigned numa_set_count(const struct numa_set *s);
bool numa_set_empty(const struct numa_set *s);
int numa_set_first(const struct numa_set *s);               /* -1: empty */
int numa_set_next(const struct numa_set *s, int prev);      /* -1: no more */
void numa_set_or(struct numa_set *d, const struct numa_set *s);
void numa_set_and(struct numa_set *d, const struct numa_set *s);
void numa_set_andnot(struct numa_set *d, const struct numa_set *s);
bool numa_set_subset(const struct numa_set *a, const struct numa_set *b);
bool numa_set_equal(const struct numa_set *a, const struct numa_set *b);
/* "0-1,3" (hwloc-style list). err gets e.g. "'x' is not a number". */
int numa_set_parse(const char *s, size_t len, struct numa_set *out,
                   char *err, size_t errlen);
/* Writes "0-1,3" ("" when empty); returns the length it wanted. */
int numa_set_format(const struct numa_set *s, char *buf, size_t len);

/* ---- host topology ---- */

struct numa_topo;

struct numa_node_info {
    unsigned os_index;
    uint64_t memory;                /* bytes; 0: memory-less node */
    struct numa_set cpus;           /* PU OS indexes */
};

/* xml: a saved topology (lstopo --of xml); synthetic: an hwloc synthetic
 * description ("node:2 core:2 pu:1"); both NULL: this host (hwloc's own
 * HWLOC_XMLFILE / HWLOC_SYNTHETIC / HWLOC_THISSYSTEM are honoured). */
int numa_topo_open(struct numa_topo **t, const char *xml, const char *synthetic,
                   char *err, size_t errlen);
void numa_topo_close(struct numa_topo *t);
unsigned numa_topo_nnodes(const struct numa_topo *t);
/* i-th node in logical order, NULL past the end */
const struct numa_node_info *numa_topo_node(const struct numa_topo *t, unsigned i);
/* logical index of the node with this OS index, or -ENOENT */
int numa_topo_node_index(const struct numa_topo *t, unsigned os_index);
const struct numa_set *numa_topo_cpus(const struct numa_topo *t);
const struct numa_set *numa_topo_nodes(const struct numa_topo *t);
uint64_t numa_topo_memory(const struct numa_topo *t);       /* all nodes */
/* relative distance between two nodes (OS indexes); -ENODATA when hwloc
 * has no distance matrix (synthetic topologies, most single-node hosts) */
int numa_topo_distance(const struct numa_topo *t, unsigned from, unsigned to,
                       uint64_t *val);
/* false for XML/synthetic topologies: binding calls are then skipped and
 * reported, since hwloc would return success without doing anything */
bool numa_topo_is_this_system(const struct numa_topo *t);
/* host node of a PU, or -1 */
int numa_topo_cpu_node(const struct numa_topo *t, unsigned cpu);

/* ---- options ---- */

enum numa_policy {
    NUMA_POLICY_DEFAULT = 0,        /* first touch: the kernel's choice */
    NUMA_POLICY_BIND,
    NUMA_POLICY_INTERLEAVE,
    NUMA_POLICY_PREFERRED,
};

struct numa_mem_policy {
    enum numa_policy policy;
    struct numa_set nodes;          /* host node OS indexes */
    bool strict;                    /* refused bindings / overcommit are errors */
};

enum numa_hugepages { NUMA_HUGE_OFF = 0, NUMA_HUGE_THP, NUMA_HUGE_HUGETLBFS };

struct numa_backend {
    enum numa_hugepages hugepages;
    char hugetlbfs[256];            /* directory, for NUMA_HUGE_HUGETLBFS */
    bool prealloc;
};

enum numa_affinity_mode {
    NUMA_AFFINITY_NONE = 0,         /* no pinning: the scheduler decides */
    NUMA_AFFINITY_AUTO,
    NUMA_AFFINITY_EXPLICIT,
};

struct numa_affinity {
    enum numa_affinity_mode mode;
    bool pinned[NUMA_MAX_VCPUS];    /* EXPLICIT: vcpuN given */
    struct numa_set cpus[NUMA_MAX_VCPUS];
};

struct numa_guest_node {
    bool defined;
    struct numa_set cpus;           /* vCPU indexes */
    uint64_t mem;                   /* bytes */
    bool has_host_nodes;
    struct numa_set host_nodes;
};

struct numa_guest_topo {
    unsigned nnodes;                /* highest node id + 1; 0: no guest NUMA */
    struct numa_guest_node nodes[NUMA_MAX_GUEST_NODES];
    uint8_t dist[NUMA_MAX_GUEST_NODES][NUMA_MAX_GUEST_NODES];  /* 0: unset */
};

struct numa_options {
    struct numa_mem_policy policy;
    struct numa_backend backend;
    struct numa_affinity affinity;
    struct numa_guest_topo guest;
};

/* All-zero is the default (no policy, no pinning, no guest NUMA). */
void numa_options_init(struct numa_options *o);
/* --memory-policy default | bind=NODES | interleave=NODES | preferred=NODE [,strict] */
int numa_parse_memory_policy(const char *s, struct numa_mem_policy *p,
                             char *err, size_t errlen);
/* --memory-backend hugepages=on|off|/hugetlbfs/dir [,prealloc=on|off] */
int numa_parse_memory_backend(const char *s, struct numa_backend *b,
                              char *err, size_t errlen);
/* --cpu-affinity none | auto | vcpuN=CPUS[,vcpuM=CPUS...]  (':' also
 * separates entries; bare numbers continue the previous CPU list) */
int numa_parse_cpu_affinity(const char *s, struct numa_affinity *a,
                            char *err, size_t errlen);
/* --numa node[,nodeid=N][,cpus=VCPUS],mem=SIZE[,host-nodes=NODES]
 * --numa dist,src=I,dst=J,val=D       (repeatable; adds to g) */
int numa_parse_numa(const char *s, struct numa_guest_topo *g,
                    char *err, size_t errlen);
/* SIZE: plain numbers are MiB; K, M, G, T suffixes (optionally B or iB) */
int numa_parse_size(const char *s, size_t len, uint64_t *out);

/* ---- the plan ---- */

struct numa_msgs {
    unsigned n;                     /* may exceed NUMA_MAX_MSGS: count kept */
    char msg[NUMA_MAX_MSGS][NUMA_MSG_LEN];
};

void numa_msgs_add(struct numa_msgs *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

struct numa_range {
    uint64_t offset, size;          /* within guest RAM, page multiples */
    int guest_node;                 /* -1: no guest NUMA topology */
    enum numa_policy policy;
    struct numa_set host_nodes;     /* empty for the default policy */
    bool strict;
};

struct numa_plan {
    unsigned nranges;
    struct numa_range ranges[NUMA_MAX_GUEST_NODES];
    unsigned nvcpus;
    bool vcpu_pinned[NUMA_MAX_VCPUS];
    struct numa_set vcpu_cpus[NUMA_MAX_VCPUS];  /* all host CPUs if unpinned */
    int vcpu_guest_node[NUMA_MAX_VCPUS];        /* -1: no guest NUMA */
    /* I/O thread and JIT workers: the memory nodes' CPUs that no pinned
     * vCPU uses, else all the memory nodes' CPUs, else all host CPUs */
    bool io_pinned, jit_pinned;
    struct numa_set io_cpus, jit_cpus;
    /* guest device tree: distance-map (10 local, 20 remote by default) */
    unsigned nguest_nodes;
    uint8_t guest_dist[NUMA_MAX_GUEST_NODES][NUMA_MAX_GUEST_NODES];
    struct numa_backend backend;
    struct numa_msgs warnings;
};

/* Check the options against the topology and decide where everything goes.
 * Pure: reads only t's snapshot, touches nothing on the host. */
int numa_plan_build(const struct numa_topo *t, const struct numa_options *o,
                    uint64_t ram_size, unsigned nvcpus, struct numa_plan *plan,
                    char *err, size_t errlen);

/* ---- applying a plan ---- */

struct numa_ram {
    void *addr;
    size_t len;
    int fd;                         /* hugetlbfs file, -1 otherwise */
};

/* Map len bytes of guest RAM per the backend (anonymous, MADV_HUGEPAGE,
 * or an unlinked hugetlbfs file), untouched. */
int numa_ram_alloc(const struct numa_backend *b, size_t len, struct numa_ram *ram,
                   struct numa_msgs *warn, char *err, size_t errlen);
void numa_ram_free(struct numa_ram *ram);
/* Apply one range's policy to [addr, addr+len) before first touch. */
int numa_bind_memory(struct numa_topo *t, void *addr, size_t len,
                     const struct numa_range *r, char *msg, size_t msglen);
/* Pin a thread (tid 0: the calling thread) to cpus. */
int numa_bind_thread(struct numa_topo *t, pid_t tid, const struct numa_set *cpus,
                     bool strict, char *msg, size_t msglen);
/* Touch every page from up to nthreads threads placed on the CPUs of the
 * range's host nodes, so first-touch and policy agree. */
int numa_prealloc(struct numa_topo *t, void *addr, size_t len,
                  const struct numa_range *r, unsigned nthreads,
                  char *msg, size_t msglen);
/* All of it for a machine: map, bind every range, prealloc if asked.
 * Warnings (bindings refused, THP unavailable) go to warn; errors
 * (or any refusal under strict) return -errno. */
int numa_setup_ram(struct numa_topo *t, const struct numa_plan *p,
                   struct numa_ram *ram, struct numa_msgs *warn,
                   char *err, size_t errlen);

/* ---- placement report ---- */

struct numa_sample {
    uint64_t total_pages;           /* pages in the range */
    unsigned sampled;               /* pages asked about */
    unsigned present;               /* with a node */
    unsigned absent;                /* -ENOENT: never touched */
    unsigned failed;                /* other errors, or node >= max_nodes */
};

/* Ask move_pages(2) (NULL node array: query only) where nsamples random
 * pages of [base, base+len) are; pages_per_node[n] gets the estimate of
 * pages on host node n (exact when nsamples covers the range). *rng is
 * the caller's xorshift state (non-zero). */
int numa_sample_pages(void *base, size_t len, unsigned nsamples, uint64_t *rng,
                      uint64_t *pages_per_node, unsigned max_nodes,
                      struct numa_sample *st);
/* Current CPU of a thread (tid 0: caller) and its host node per t. */
int numa_thread_location(const struct numa_topo *t, pid_t tid, int *cpu, int *node);

/* ---- live placement report (numa_report.c) ----
 * Fills the stats ABI's struct gb_stats_numa_report (include/glassbox/
 * stats.h, format 1) at a bounded cost: each pass asks move_pages(2)
 * about a fixed number of guest pages spread evenly over all of RAM, at
 * an offset that rotates from pass to pass (so successive passes look at
 * different pages and, after enough passes, at every page), and reads
 * where each vCPU thread runs and may run. Not thread-safe: one caller
 * (the stats sampler thread) per reporter. */

#define NUMA_REPORT_DEFAULT_SAMPLES 1024
#define NUMA_REPORT_MAX_SAMPLES     65536

struct numa_reporter;
struct gb_stats_numa_report;

/* t, p (may be NULL: one default-policy range, nothing pinned) and the
 * RAM mapping must outlive the reporter. sample_pages: pages per pass,
 * 0 = NUMA_REPORT_DEFAULT_SAMPLES; above NUMA_REPORT_MAX_SAMPLES, a RAM
 * smaller than one page, or RAM smaller than the plan's ranges: -EINVAL. */
int numa_reporter_new(struct numa_reporter **out, const struct numa_topo *t,
                      const struct numa_plan *p, void *ram, uint64_t ram_bytes,
                      unsigned sample_pages);
void numa_reporter_free(struct numa_reporter *r);
/* One pass. tids[i]: host thread id of vCPU i, 0 while it has none yet
 * (reported with GB_NUMA_VCPU_UNKNOWN, as is a thread that is gone).
 * guest_node_of_vcpu: NULL = the plan's vcpu_guest_node. bind_failures and
 * warning (NULL = none) are the caller's record of refused bindings. When
 * move_pages(2) itself fails, the report still fills everything else with
 * sample_pages 0 and, if warning is empty, says why in warning.
 * 0, or -EINVAL (nvcpus > GB_STATS_NUMA_MAX_VCPUS). */
int numa_reporter_fill(struct numa_reporter *r, const int *tids, unsigned nvcpus,
                       const int *guest_node_of_vcpu, unsigned bind_failures,
                       const char *warning, struct gb_stats_numa_report *out);
/* Pages sampled per pass (after clamping to the RAM's page count). */
unsigned numa_reporter_samples(const struct numa_reporter *r);
/* The page (index from the start of RAM) that sample i of pass `pass`
 * looks at, for nsamples samples of npages pages; pure, for tests. */
uint64_t numa_report_sample_page(uint64_t npages, unsigned nsamples, uint64_t pass,
                                 unsigned i);
/* The AWAY rule, pure: pages[k] = sampled pages of the vCPU's own memory
 * (its guest node's RAM with --numa, else all RAM) on report node k. True
 * when the vCPU's node (report index, <0 unknown) has none of them while
 * another node has some. */
bool numa_report_away(const uint64_t *pages, unsigned nnodes, int vcpu_node);
/* "0-3,8" into a fixed field; a list too long is cut after a whole entry
 * and ends in ",.." (always NUL-terminated). */
void numa_report_list(const struct numa_set *s, char *buf, size_t len);

#endif
