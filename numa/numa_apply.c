/* Applying a plan on the host, and looking at where things really are.
 * Every refusal is reported (NUMA_WARNED + message, or an error under
 * strict): the console must show the placement that happened. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "numa_priv.h"

static hwloc_bitmap_t set_to_bitmap(const struct numa_set *s)
{
    hwloc_bitmap_t b = hwloc_bitmap_alloc();

    if (!b)
        return NULL;
    for (int i = numa_set_first(s); i >= 0; i = numa_set_next(s, i))
        hwloc_bitmap_set(b, (unsigned)i);
    return b;
}

/* A refusal: an error under strict, a warning otherwise. */
static int refused(bool strict, int errnum, char *msg, size_t msglen,
                   const char *what)
{
    snprintf(msg, msglen, "%s: %s", what, strerror(errnum));
    return strict ? -errnum : NUMA_WARNED;
}

static int not_this_system(char *msg, size_t msglen, const char *what)
{
    /* hwloc would return success and do nothing: say so instead */
    snprintf(msg, msglen, "%s: not applied, the topology is not this host's "
             "(XML or synthetic; HWLOC_THISSYSTEM=1 forces binding)", what);
    return NUMA_WARNED;
}

int numa_ram_alloc(const struct numa_backend *b, size_t len, struct numa_ram *ram,
                   struct numa_msgs *warn, char *err, size_t errlen)
{
    memset(ram, 0, sizeof(*ram));
    ram->fd = -1;
    if (b->hugepages == NUMA_HUGE_HUGETLBFS) {
        char path[sizeof(b->hugetlbfs) + 32];
        snprintf(path, sizeof(path), "%s/glassbox-ram.XXXXXX", b->hugetlbfs);
        int fd = mkstemp(path);
        if (fd < 0) {
            int e = errno;
            snprintf(err, errlen, "--memory-backend hugepages=%s: cannot create a "
                     "file there: %s", b->hugetlbfs, strerror(e));
            return -e;
        }
        unlink(path);                   /* the mapping keeps it alive */
        if (ftruncate(fd, (off_t)len) < 0) {
            int e = errno;
            close(fd);
            snprintf(err, errlen, "--memory-backend hugepages=%s: cannot size the "
                     "file to %zu MiB (is it hugetlbfs, with enough huge pages, "
                     "and a multiple of the huge page size?): %s", b->hugetlbfs,
                     len >> 20, strerror(e));
            return -e;
        }
        ram->addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (ram->addr == MAP_FAILED) {
            int e = errno;
            close(fd);
            ram->addr = NULL;
            snprintf(err, errlen, "--memory-backend hugepages=%s: cannot map %zu "
                     "MiB: %s", b->hugetlbfs, len >> 20, strerror(e));
            return -e;
        }
        ram->fd = fd;
    } else {
        ram->addr = mmap(NULL, len, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (ram->addr == MAP_FAILED) {
            int e = errno;
            ram->addr = NULL;
            snprintf(err, errlen, "cannot map %zu MiB of guest RAM: %s", len >> 20,
                     strerror(e));
            return -e;
        }
        if (b->hugepages == NUMA_HUGE_THP &&
            madvise(ram->addr, len, MADV_HUGEPAGE) < 0 && warn)
            numa_msgs_add(warn, "hugepages=on: madvise(MADV_HUGEPAGE) refused "
                          "(%s); guest RAM uses small pages", strerror(errno));
    }
    /* the JIT compiles in forked children: they must not share (or, for
     * private memory, copy-on-write) guest RAM while the vCPUs run */
    madvise(ram->addr, len, MADV_DONTFORK);
    ram->len = len;
    return 0;
}

void numa_ram_free(struct numa_ram *ram)
{
    if (ram->addr)
        munmap(ram->addr, ram->len);
    if (ram->fd >= 0)
        close(ram->fd);
    ram->addr = NULL;
    ram->fd = -1;
}

int numa_bind_memory(struct numa_topo *t, void *addr, size_t len,
                     const struct numa_range *r, char *msg, size_t msglen)
{
    char what[160], list[96];
    hwloc_membind_policy_t pol;
    int flags = HWLOC_MEMBIND_BYNODESET;

    if (r->policy == NUMA_POLICY_DEFAULT || len == 0)
        return 0;
    numa_set_format(&r->host_nodes, list, sizeof(list));
    const char *pn = r->policy == NUMA_POLICY_BIND ? "bind" :
                     r->policy == NUMA_POLICY_INTERLEAVE ? "interleave" : "preferred";
    if (r->guest_node >= 0)
        snprintf(what, sizeof(what), "guest node %d memory policy %s=%s",
                 r->guest_node, pn, list);
    else
        snprintf(what, sizeof(what), "guest RAM memory policy %s=%s", pn, list);
    if (!t->this_system)
        return not_this_system(msg, msglen, what);
    switch (r->policy) {
    case NUMA_POLICY_BIND:
        /* hwloc turns BIND without STRICT into MPOL_PREFERRED on Linux */
        pol = HWLOC_MEMBIND_BIND;
        flags |= HWLOC_MEMBIND_STRICT;
        break;
    case NUMA_POLICY_INTERLEAVE:
        pol = HWLOC_MEMBIND_INTERLEAVE;
        break;
    default:
        pol = HWLOC_MEMBIND_BIND;       /* non-strict: preferred */
        break;
    }
    hwloc_bitmap_t ns = set_to_bitmap(&r->host_nodes);
    if (!ns)
        return refused(r->strict, ENOMEM, msg, msglen, what);
    int rc = hwloc_set_area_membind(t->hw, addr, len, ns, pol, flags);
    int e = errno;
    hwloc_bitmap_free(ns);
    if (rc < 0)
        return refused(r->strict, e ? e : EINVAL, msg, msglen, what);
    return 0;
}

int numa_bind_thread(struct numa_topo *t, pid_t tid, const struct numa_set *cpus,
                     bool strict, char *msg, size_t msglen)
{
    char what[160], list[96];
    int rc, e;

    numa_set_format(cpus, list, sizeof(list));
    snprintf(what, sizeof(what), "pinning thread %d to host CPUs %s", (int)tid, list);
    if (!t->this_system)
        return not_this_system(msg, msglen, what);
    hwloc_bitmap_t cs = set_to_bitmap(cpus);
    if (!cs)
        return refused(strict, ENOMEM, msg, msglen, what);
    if (tid == 0)
        rc = hwloc_set_cpubind(t->hw, cs, HWLOC_CPUBIND_THREAD);
    else
        rc = hwloc_set_proc_cpubind(t->hw, tid, cs, HWLOC_CPUBIND_THREAD);
    e = errno;
    hwloc_bitmap_free(cs);
    if (rc < 0)
        return refused(strict, e ? e : EINVAL, msg, msglen, what);
    return 0;
}

struct touch_job {
    struct numa_topo *t;
    struct numa_set cpus;
    bool bind;
    volatile char *p;
    size_t len, page;
    int rc;
    char msg[NUMA_MSG_LEN];
};

static void *touch_thread(void *arg)
{
    struct touch_job *j = arg;

    if (j->bind)
        j->rc = numa_bind_thread(j->t, 0, &j->cpus, false, j->msg, sizeof(j->msg));
    /* a write: a read would only map the shared zero page */
    for (size_t off = 0; off < j->len; off += j->page)
        j->p[off] = 0;
    return NULL;
}

int numa_prealloc(struct numa_topo *t, void *addr, size_t len,
                  const struct numa_range *r, unsigned nthreads,
                  char *msg, size_t msglen)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t npages = len / page;
    struct numa_set cpus;
    int rc = 0;

    if (msglen)
        msg[0] = '\0';
    numa_set_zero(&cpus);
    if (r->policy != NUMA_POLICY_DEFAULT)
        for (unsigned i = 0; i < t->nnodes; i++)
            if (numa_set_has(&r->host_nodes, t->nodes[i].os_index))
                numa_set_or(&cpus, &t->nodes[i].cpus);
    if (nthreads == 0)
        nthreads = 1;
    if (!numa_set_empty(&cpus) && nthreads > numa_set_count(&cpus))
        nthreads = numa_set_count(&cpus);
    if (nthreads > 64)
        nthreads = 64;
    if (nthreads > npages)
        nthreads = npages ? (unsigned)npages : 1;

    struct touch_job *jobs = calloc(nthreads, sizeof(*jobs));
    pthread_t *tids = calloc(nthreads, sizeof(*tids));
    if (!jobs || !tids) {
        free(jobs);
        free(tids);
        snprintf(msg, msglen, "prealloc: out of memory");
        return -ENOMEM;
    }
    size_t per = npages / nthreads;
    for (unsigned i = 0; i < nthreads; i++) {
        struct touch_job *j = &jobs[i];
        size_t first = per * i;
        size_t n = i + 1 == nthreads ? npages - first : per;
        j->t = t;
        j->cpus = cpus;
        j->bind = !numa_set_empty(&cpus) && t->this_system;
        j->p = (volatile char *)addr + first * page;
        j->len = n * page;
        j->page = page;
        if (pthread_create(&tids[i], NULL, touch_thread, j) != 0) {
            touch_thread(j);            /* do it here rather than not at all */
            tids[i] = 0;
        }
    }
    for (unsigned i = 0; i < nthreads; i++) {
        if (tids[i])
            pthread_join(tids[i], NULL);
        if (jobs[i].rc && !rc) {
            rc = NUMA_WARNED;
            snprintf(msg, msglen, "prealloc: %s", jobs[i].msg);
        }
    }
    free(jobs);
    free(tids);
    return rc;
}

int numa_setup_ram(struct numa_topo *t, const struct numa_plan *p,
                   struct numa_ram *ram, struct numa_msgs *warn,
                   char *err, size_t errlen)
{
    uint64_t len = 0;
    char msg[NUMA_MSG_LEN];
    int r;

    for (unsigned i = 0; i < p->nranges; i++)
        len += p->ranges[i].size;
    r = numa_ram_alloc(&p->backend, (size_t)len, ram, warn, err, errlen);
    if (r < 0)
        return r;
    for (unsigned i = 0; i < p->nranges; i++) {
        const struct numa_range *rg = &p->ranges[i];
        r = numa_bind_memory(t, (char *)ram->addr + rg->offset, rg->size, rg,
                             msg, sizeof(msg));
        if (r < 0) {
            snprintf(err, errlen, "%s (strict)", msg);
            numa_ram_free(ram);
            return r;
        }
        if (r == NUMA_WARNED)
            numa_msgs_add(warn, "%s", msg);
    }
    if (p->backend.prealloc) {
        for (unsigned i = 0; i < p->nranges; i++) {
            const struct numa_range *rg = &p->ranges[i];
            r = numa_prealloc(t, (char *)ram->addr + rg->offset, rg->size, rg,
                              numa_set_count(&t->cpus), msg, sizeof(msg));
            if (r < 0) {
                snprintf(err, errlen, "%s", msg);
                numa_ram_free(ram);
                return r;
            }
            if (r == NUMA_WARNED)
                numa_msgs_add(warn, "%s", msg);
        }
    }
    return 0;
}

/* xorshift64*: the caller owns the state, so no global RNG */
static uint64_t next_rand(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

#define SAMPLE_BATCH 256

int numa_sample_pages(void *base, size_t len, unsigned nsamples, uint64_t *rng,
                      uint64_t *pages_per_node, unsigned max_nodes,
                      struct numa_sample *st)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uint64_t npages = len / page;
    uint64_t counts[64] = { 0 };
    void *pages[SAMPLE_BATCH];
    int status[SAMPLE_BATCH];
    bool all;

    memset(st, 0, sizeof(*st));
    for (unsigned n = 0; n < max_nodes; n++)
        pages_per_node[n] = 0;
    if (max_nodes > 64)
        max_nodes = 64;
    st->total_pages = npages;
    if (!npages || !nsamples)
        return 0;
    if (nsamples > NUMA_MAX_SAMPLES)
        nsamples = NUMA_MAX_SAMPLES;
    all = nsamples >= npages;           /* small range: look at every page */
    if (all)
        nsamples = (unsigned)npages;
    for (unsigned done = 0; done < nsamples;) {
        unsigned n = nsamples - done < SAMPLE_BATCH ? nsamples - done : SAMPLE_BATCH;
        for (unsigned i = 0; i < n; i++) {
            uint64_t pg = all ? done + i : next_rand(rng) % npages;
            pages[i] = (char *)base + pg * page;
        }
        /* nodes == NULL: report where each page is, move nothing */
        if (syscall(SYS_move_pages, 0, (unsigned long)n, pages, NULL, status, 0) < 0)
            return -errno;
        for (unsigned i = 0; i < n; i++) {
            if (status[i] >= 0 && (unsigned)status[i] < max_nodes) {
                counts[status[i]]++;
                st->present++;
            } else if (status[i] == -ENOENT) {
                st->absent++;
            } else {
                st->failed++;
            }
        }
        done += n;
        st->sampled = done;
    }
    for (unsigned n = 0; n < max_nodes; n++)
        pages_per_node[n] = all ? counts[n] : counts[n] * npages / st->sampled;
    return 0;
}

int numa_thread_location(const struct numa_topo *t, pid_t tid, int *cpu, int *node)
{
    *cpu = -1;
    *node = -1;
    if (tid == 0 || tid == (pid_t)syscall(SYS_gettid)) {
        unsigned c, n;
        if (getcpu(&c, &n) < 0)
            return -errno;
        *cpu = (int)c;
    } else {
        char path[64], buf[1024];
        snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -errno;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        int e = errno;
        close(fd);
        if (n <= 0)
            return n < 0 ? -e : -EIO;
        buf[n] = '\0';
        /* field 39 (processor), counted after the ")" that ends comm */
        char *p = strrchr(buf, ')');
        if (!p)
            return -EIO;
        unsigned field = 2;
        for (p++; *p && field < 39; p++)
            if (*p == ' ')
                field++;
        if (field != 39 || sscanf(p, "%d", cpu) != 1)
            return -EIO;
    }
    *node = t ? numa_topo_cpu_node(t, (unsigned)*cpu) : -1;
    return 0;
}
