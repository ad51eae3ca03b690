/* Stats writer and sampler: see stats.h and glassbox-stats(5).
 *
 * Writers: the sampler thread owns the vCPU, hot-block, device and memory
 * records and the heartbeat; the lifecycle module owns the status record
 * (stats_set_status, serialized by status_lock); stats_event() appenders
 * are serialized by ev_lock. Readers only ever see seqlocked copies. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lifecycle.h"
#include "rv_cpu.h"
#include "stats.h"

#define DEFAULT_HZ 10
#define DEFAULT_WINDOW_MS 1000
#define DEFAULT_NUMA_MS 1000
#define HOT_K GB_STATS_HOT_N            /* candidates kept per hart and list */
#define BASE_BITS 16                    /* baseline table: 64 Ki blocks per hart */
#define BASE_SIZE (1u << BASE_BITS)
#define STALE_GRACE_NS (5ull * 1000000000ull)  /* an incomplete region younger than this is being created */
#define SHM_DIR "/dev/shm"

/* Per-hart top-K selection, kept unsorted; min tracked for replacement. */
struct topk {
    struct stats_block_sample e[HOT_K];
    unsigned n, min_i;
};

struct base_ent {
    uint64_t key;                       /* ppc + 1; 0 = empty */
    uint64_t execs;
};

/* Handshake between the sampler and one hart's thread. The sampler sets
 * req; the hart fills the buffers only while ready == 0 and then sets it;
 * the sampler copies them out and clears ready. So exactly one side
 * touches the buffers at a time. */
struct hot_stage {
    _Atomic uint32_t req;
    _Atomic uint32_t ready;
    struct topk total;
    struct topk recent;                 /* execs = executions within the window */
    int recent_valid;
    uint64_t recent_ns, recent_insns;
    /* hart-private: baseline counts at the start of the current window */
    struct base_ent *base, *next;
    uint64_t win_start_ns, win_start_instret;
    int rolling;                        /* this walk closes a window */
};

/* Sampler-private: last lists received from each hart. */
struct hart_hot {
    struct topk total, recent;
    uint64_t recent_ns, recent_insns;
    int have_recent;
};

struct dev_src {
    char name[32];
    stats_dev_read_fn read;
    void *opaque;
};

struct stats {
    char shm_name[GB_STATS_NAME_MAX + 16];
    struct gb_stats_header *hdr;
    size_t size;
    struct gb_stats_vcpu *vcpu;
    struct gb_stats_hot_list *hot;
    struct gb_stats_device *dev;
    struct gb_stats_memory *mem;
    struct gb_stats_numa *numa;
    struct gb_stats_event_ring *ring;
    struct gb_stats_event *ev;
    unsigned nvcpus;

    struct rv_hart *harts[GB_STATS_MAX_VCPUS];
    unsigned nharts;
    struct dev_src devs[GB_STATS_MAX_DEVICES];
    unsigned ndevs;
    stats_touched_fn touched;
    void *touched_opaque;
    stats_block_walk_fn walk;
    void *walk_arg;
    stats_numa_fn numa_fn;
    void *numa_opaque;
    uint64_t numa_every_ns, numa_next_ns;
    struct hot_stage *stage;            /* [nvcpus] */
    struct hart_hot *hh;                /* [nvcpus] */
    unsigned hz, window_ns_ms;
    uint64_t window_ns;

    pthread_mutex_t ev_lock, status_lock;
    uint64_t ev_next;

    pthread_t thread;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stop;
};

static uint64_t clock_ns(clockid_t c)
{
    struct timespec ts;

    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void copy_str(char *dst, size_t dstlen, const char *src)
{
    snprintf(dst, dstlen, "%s", src ? src : "");
}

int stats_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;

    if (n == 0 || n >= GB_STATS_NAME_MAX || name[0] == '.')
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!isalnum(c) && c != '.' && c != '_' && c != '-')
            return -EINVAL;
    }
    return 0;
}

/* Field 22 of /proc/PID/stat (start time in clock ticks since boot); 0 if
 * unreadable. With the pid it identifies a process across pid reuse. */
static uint64_t proc_start_ticks(uint32_t pid)
{
    char path[64], buf[1024];
    uint64_t v = 0;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%u/stat", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    /* comm may hold spaces and parentheses: count fields after the last ')' */
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    p++;
    for (int field = 3; field <= 22; field++) {
        while (*p == ' ')
            p++;
        if (field == 22) {
            v = strtoull(p, NULL, 10);
            break;
        }
        while (*p && *p != ' ')
            p++;
    }
    return v;
}

static int pid_alive(uint32_t pid, uint64_t start_ticks)
{
    if (pid == 0)
        return 0;
    if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
        return 0;
    /* a live pid may be a different process that reused the number */
    if (start_ticks) {
        uint64_t now = proc_start_ticks(pid);
        if (now && now != start_ticks)
            return 0;
    }
    return 1;
}

/* pid and pid_start_ticks sit at fixed offsets in every ABI major (see
 * glassbox-stats(5)), so staleness is decidable for any version. */
static int header_stale(const struct gb_stats_header *h, const struct stat *st)
{
    uint32_t pid = __atomic_load_n(&h->pid, __ATOMIC_ACQUIRE);
    uint64_t ticks = __atomic_load_n(&h->pid_start_ticks, __ATOMIC_RELAXED);

    if (pid == 0) {
        uint64_t now = clock_ns(CLOCK_REALTIME);
        uint64_t mt = (uint64_t)st->st_mtim.tv_sec * 1000000000ull + (uint64_t)st->st_mtim.tv_nsec;
        return now > mt + STALE_GRACE_NS;
    }
    return !pid_alive(pid, ticks);
}

/* Map the header of region shm_name read-only. */
static int map_header(const char *shm_name, const struct gb_stats_header **out, struct stat *st)
{
    int fd = shm_open(shm_name, O_RDONLY | O_CLOEXEC, 0);
    void *p;

    if (fd < 0)
        return -errno;
    if (fstat(fd, st) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    if ((size_t)st->st_size < sizeof(struct gb_stats_header)) {
        close(fd);
        *out = NULL;
        return 0;
    }
    p = mmap(NULL, sizeof(struct gb_stats_header), PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return -errno;
    *out = p;
    return 0;
}

static int region_stale(const char *shm_name, uint32_t *pid)
{
    const struct gb_stats_header *h;
    struct stat st;
    int r = map_header(shm_name, &h, &st);

    *pid = 0;
    if (r < 0)
        return r;
    if (!h) {
        /* too small to hold a header: a creator died before ftruncate, or
         * is just between shm_open and ftruncate */
        uint64_t now = clock_ns(CLOCK_REALTIME);
        uint64_t mt = (uint64_t)st.st_mtim.tv_sec * 1000000000ull + (uint64_t)st.st_mtim.tv_nsec;
        return now > mt + STALE_GRACE_NS;
    }
    *pid = __atomic_load_n(&h->pid, __ATOMIC_ACQUIRE);
    r = header_stale(h, &st);
    munmap((void *)h, sizeof(*h));
    return r;
}

int stats_region_stale(const char *name)
{
    char shm[GB_STATS_NAME_MAX + 16];
    uint32_t pid;

    if (stats_name_valid(name) < 0)
        return -EINVAL;
    snprintf(shm, sizeof(shm), GB_STATS_SHM_PREFIX "%s", name);
    return region_stale(shm, &pid);
}

static uint64_t align_up(uint64_t v)
{
    return (v + GB_STATS_ALIGN - 1) & ~(uint64_t)(GB_STATS_ALIGN - 1);
}

static void layout(struct gb_stats_header *h)
{
    static const struct { uint32_t count, stride; uint64_t extra; } sec[GB_STATS_SEC_COUNT] = {
        [GB_STATS_SEC_VCPU] = { GB_STATS_MAX_VCPUS, sizeof(struct gb_stats_vcpu), 0 },
        [GB_STATS_SEC_HOT] = { 2, sizeof(struct gb_stats_hot_list), 0 },
        [GB_STATS_SEC_DEVICE] = { GB_STATS_MAX_DEVICES, sizeof(struct gb_stats_device), 0 },
        [GB_STATS_SEC_MEMORY] = { 1, sizeof(struct gb_stats_memory), 0 },
        [GB_STATS_SEC_NUMA] = { 1, sizeof(struct gb_stats_numa), 0 },
        [GB_STATS_SEC_EVENT] = { GB_STATS_EVENTS, sizeof(struct gb_stats_event),
                                 sizeof(struct gb_stats_event_ring) },
    };
    uint64_t off = align_up(sizeof(*h));

    for (unsigned i = 0; i < GB_STATS_SEC_COUNT; i++) {
        h->sections[i].offset = off;
        h->sections[i].count = sec[i].count;
        h->sections[i].stride = sec[i].stride;
        h->sections[i].size = sec[i].extra + (uint64_t)sec[i].count * sec[i].stride;
        off = align_up(off + h->sections[i].size);
    }
    h->section_count = GB_STATS_SEC_COUNT;
    h->total_size = (off + 4095) & ~4095ull;
}

int stats_create(struct stats **out, const struct stats_config *cfg, char *err, size_t errlen)
{
    struct gb_stats_header proto = { 0 };
    struct stats *s;
    int fd = -1, r;

    *out = NULL;
    if (stats_name_valid(cfg->name) < 0) {
        snprintf(err, errlen, "VM name '%s' is not valid: use 1 to %d letters, digits, '.', "
                 "'_' or '-', not starting with '.'", cfg->name ? cfg->name : "",
                 GB_STATS_NAME_MAX - 1);
        return -EINVAL;
    }
    if (cfg->nvcpus == 0 || cfg->nvcpus > GB_STATS_MAX_VCPUS) {
        snprintf(err, errlen, "stats region: %u vCPUs (supported: 1 to %d)", cfg->nvcpus,
                 GB_STATS_MAX_VCPUS);
        return -EINVAL;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "stats region: out of memory");
        return -ENOMEM;
    }
    s->stage = calloc(cfg->nvcpus, sizeof(*s->stage));
    s->hh = calloc(cfg->nvcpus, sizeof(*s->hh));
    if (!s->stage || !s->hh) {
        snprintf(err, errlen, "stats region: out of memory");
        r = -ENOMEM;
        goto fail;
    }
    snprintf(s->shm_name, sizeof(s->shm_name), GB_STATS_SHM_PREFIX "%s", cfg->name);
    layout(&proto);
    s->size = proto.total_size;

    /* Reclaim a dead engine's region; a handful of tries covers a race
     * with another engine reclaiming the same name. */
    for (int attempt = 0; attempt < 4; attempt++) {
        uint32_t pid;

        fd = shm_open(s->shm_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            break;
        r = region_stale(s->shm_name, &pid);
        if (r == 1) {
            if (shm_unlink(s->shm_name) < 0 && errno != ENOENT)
                break;
            continue;
        }
        if (r == 0) {
            if (pid)
                snprintf(err, errlen, "a VM named '%s' is already running (pid %u, region "
                         SHM_DIR "%s); choose another --name", cfg->name, pid, s->shm_name);
            else
                snprintf(err, errlen, "a VM named '%s' is being started by another engine "
                         "(region " SHM_DIR "%s); choose another --name", cfg->name,
                         s->shm_name);
            r = -EEXIST;
            goto fail;
        }
        snprintf(err, errlen, "stats region " SHM_DIR "%s exists and cannot be read (%s); "
                 "remove it or choose another --name", s->shm_name, strerror(-r));
        goto fail;
    }
    if (fd < 0) {
        r = -errno;
        snprintf(err, errlen, "cannot create stats region " SHM_DIR "%s: %s", s->shm_name,
                 strerror(errno));
        goto fail;
    }
    if (ftruncate(fd, (off_t)s->size) < 0) {
        r = -errno;
        snprintf(err, errlen, "cannot size stats region " SHM_DIR "%s: %s", s->shm_name,
                 strerror(errno));
        goto fail_unlink;
    }
    void *p = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        r = -errno;
        snprintf(err, errlen, "cannot map stats region " SHM_DIR "%s: %s", s->shm_name,
                 strerror(errno));
        goto fail_unlink;
    }
    close(fd);
    fd = -1;
    s->hdr = p;

    struct gb_stats_header *h = s->hdr;
    /* identity first: a concurrent creator must see a live pid as early as possible */
    h->pid_start_ticks = proc_start_ticks((uint32_t)getpid());
    __atomic_store_n(&h->pid, (uint32_t)getpid(), __ATOMIC_RELEASE);
    memcpy(h->sections, proto.sections, sizeof(h->sections));
    h->section_count = proto.section_count;
    h->total_size = proto.total_size;
    h->abi_major = GB_STATS_ABI_MAJOR;
    h->abi_minor = GB_STATS_ABI_MINOR;
    h->header_size = sizeof(*h);
    h->nvcpus = cfg->nvcpus;
    h->start_mono_ns = clock_ns(CLOCK_MONOTONIC);
    h->start_real_ns = clock_ns(CLOCK_REALTIME);
    copy_str(h->name, sizeof(h->name), cfg->name);
    copy_str(h->arch, sizeof(h->arch), cfg->arch);
    copy_str(h->accel, sizeof(h->accel), cfg->accel);
    copy_str(h->machine, sizeof(h->machine), cfg->machine);
    s->hz = cfg->sample_hz ? cfg->sample_hz : DEFAULT_HZ;
    if (s->hz < 5)
        s->hz = 5;
    if (s->hz > 1000)
        s->hz = 1000;
    s->window_ns = (uint64_t)(cfg->hot_window_ms ? cfg->hot_window_ms : DEFAULT_WINDOW_MS) * 1000000ull;
    h->sample_hz = s->hz;
    h->hot_window_ms = (uint32_t)(s->window_ns / 1000000ull);
    h->status.state = GB_VM_CREATED;
    h->status.since_mono_ns = h->start_mono_ns;
    h->status.since_real_ns = h->start_real_ns;

    uint8_t *base = p;
    s->vcpu = (void *)(base + h->sections[GB_STATS_SEC_VCPU].offset);
    s->hot = (void *)(base + h->sections[GB_STATS_SEC_HOT].offset);
    s->dev = (void *)(base + h->sections[GB_STATS_SEC_DEVICE].offset);
    s->mem = (void *)(base + h->sections[GB_STATS_SEC_MEMORY].offset);
    s->numa = (void *)(base + h->sections[GB_STATS_SEC_NUMA].offset);
    s->ring = (void *)(base + h->sections[GB_STATS_SEC_EVENT].offset);
    s->ev = (void *)(base + h->sections[GB_STATS_SEC_EVENT].offset + sizeof(*s->ring));
    s->nvcpus = cfg->nvcpus;
    for (unsigned i = 0; i < cfg->nvcpus; i++) {
        s->vcpu[i].index = i;
        s->vcpu[i].online = 1;
    }
    s->hot[0].kind = GB_STATS_HOT_TOTAL;
    s->hot[1].kind = GB_STATS_HOT_RECENT;
    s->mem->ram_base = cfg->ram_base;
    s->mem->ram_bytes = cfg->ram_bytes;
    s->mem->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
    s->ring->capacity = GB_STATS_EVENTS;
    s->ring->slot_size = sizeof(struct gb_stats_event);

    pthread_mutex_init(&s->ev_lock, NULL);
    pthread_mutex_init(&s->status_lock, NULL);
    pthread_mutex_init(&s->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);

    /* last: readers treat a region without magic as not ready yet */
    __atomic_store_n(&h->magic, GB_STATS_MAGIC, __ATOMIC_RELEASE);
    *out = s;
    return 0;

fail_unlink:
    shm_unlink(s->shm_name);
fail:
    if (fd >= 0)
        close(fd);
    free(s->stage);
    free(s->hh);
    free(s);
    return r;
}

struct gb_stats_header *stats_header(struct stats *s)
{
    return s->hdr;
}

static void stop_thread(struct stats *s)
{
    if (!s->started)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    s->started = 0;
}

void stats_destroy(struct stats *s)
{
    if (!s)
        return;
    stop_thread(s);
    shm_unlink(s->shm_name);
    munmap(s->hdr, s->size);
    for (unsigned i = 0; i < s->nvcpus; i++) {
        free(s->stage[i].base);
        free(s->stage[i].next);
    }
    free(s->stage);
    free(s->hh);
    pthread_mutex_destroy(&s->ev_lock);
    pthread_mutex_destroy(&s->status_lock);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
}

int stats_attach_harts(struct stats *s, struct rv_hart *const *harts, unsigned n)
{
    if (s->started)
        return -EBUSY;
    if (n > s->nvcpus)
        return -EINVAL;
    for (unsigned i = 0; i < n; i++)
        s->harts[i] = harts[i];
    s->nharts = n;
    return 0;
}

int stats_add_device(struct stats *s, const char *name, stats_dev_read_fn read, void *opaque)
{
    if (s->started)
        return -EBUSY;
    if (s->ndevs >= GB_STATS_MAX_DEVICES)
        return -ENOSPC;
    struct dev_src *d = &s->devs[s->ndevs++];
    copy_str(d->name, sizeof(d->name), name);
    d->read = read;
    d->opaque = opaque;
    return 0;
}

void stats_set_memory_source(struct stats *s, stats_touched_fn fn, void *opaque)
{
    s->touched = fn;
    s->touched_opaque = opaque;
}

void stats_set_numa_source(struct stats *s, stats_numa_fn fn, void *opaque, unsigned every_ms)
{
    s->numa_fn = fn;
    s->numa_opaque = opaque;
    s->numa_every_ns = (uint64_t)(every_ms ? every_ms : DEFAULT_NUMA_MS) * 1000000ull;
    s->numa_next_ns = 0;
}

void stats_set_block_walker(struct stats *s, stats_block_walk_fn walk, void *arg)
{
    s->walk = walk;
    s->walk_arg = arg;
}

/* ---- events and status --------------------------------------------------- */

void stats_event(struct stats *s, uint32_t kind, const char *fmt, ...)
{
    struct gb_stats_event e = { 0 };
    va_list ap;

    e.kind = kind;
    e.mono_ns = clock_ns(CLOCK_MONOTONIC);
    e.real_ns = clock_ns(CLOCK_REALTIME);
    va_start(ap, fmt);
    vsnprintf(e.text, sizeof(e.text), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&s->ev_lock);
    e.number = s->ev_next;
    gb_stats_seq_store(&s->ev[s->ev_next & (GB_STATS_EVENTS - 1)], &e, sizeof(e));
    s->ev_next++;
    /* head last: a reader that sees it finds the slot already written */
    __atomic_store_n(&s->ring->head, s->ev_next, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&s->ev_lock);
}

void stats_set_status(struct stats *s, uint32_t state, uint32_t prev, uint64_t since_mono_ns,
                      uint64_t since_real_ns, const char *reason)
{
    struct gb_stats_status st = { 0 };

    st.state = state;
    st.prev_state = prev;
    st.since_mono_ns = since_mono_ns;
    st.since_real_ns = since_real_ns;
    copy_str(st.reason, sizeof(st.reason), reason);
    pthread_mutex_lock(&s->status_lock);
    st.transitions = s->hdr->status.transitions + 1;
    gb_stats_seq_store(&s->hdr->status, &st, sizeof(st));
    pthread_mutex_unlock(&s->status_lock);
}

void stats_on_lifecycle(void *stats, const struct lifecycle_event *ev)
{
    struct stats *s = stats;

    if (ev->from != ev->to)
        stats_set_status(s, ev->to, ev->from, ev->mono_ns, ev->real_ns, ev->reason);
    if (ev->from != ev->to)
        stats_event(s, GB_EVENT_LIFECYCLE, "%s %s -> %s%s%s", ev->event,
                    gb_vm_state_name(ev->from), gb_vm_state_name(ev->to),
                    ev->reason ? ": " : "", ev->reason ? ev->reason : "");
    else
        stats_event(s, strcmp(ev->event, "RESET") == 0 ? GB_EVENT_RESET : GB_EVENT_INFO,
                    "%s%s%s", ev->event, ev->reason ? ": " : "", ev->reason ? ev->reason : "");
}

/* ---- hot blocks: hart side ----------------------------------------------- */

static void topk_offer(struct topk *t, const struct stats_block_sample *b)
{
    if (t->n < HOT_K) {
        t->e[t->n] = *b;
        if (t->n == 0 || b->execs < t->e[t->min_i].execs)
            t->min_i = t->n;
        t->n++;
        return;
    }
    if (b->execs <= t->e[t->min_i].execs)
        return;
    t->e[t->min_i] = *b;
    t->min_i = 0;
    for (unsigned i = 1; i < HOT_K; i++)
        if (t->e[i].execs < t->e[t->min_i].execs)
            t->min_i = i;
}

static inline unsigned base_hash(uint64_t key)
{
    return (unsigned)((key * 0x9e3779b97f4a7c15ull) >> (64 - BASE_BITS));
}

/* Bounded probing: a full table makes lookups miss, which only overstates
 * the window count of blocks that did not fit. */
static const struct base_ent *base_find(const struct base_ent *t, uint64_t key)
{
    unsigned i = base_hash(key);

    for (unsigned n = 0; n < 64; n++, i = (i + 1) & (BASE_SIZE - 1)) {
        if (t[i].key == key)
            return &t[i];
        if (t[i].key == 0)
            return NULL;
    }
    return NULL;
}

static void base_put(struct base_ent *t, uint64_t key, uint64_t execs)
{
    unsigned i = base_hash(key);

    for (unsigned n = 0; n < 64; n++, i = (i + 1) & (BASE_SIZE - 1)) {
        if (t[i].key == 0 || t[i].key == key) {
            t[i].key = key;
            t[i].execs = execs;
            return;
        }
    }
}

/* Runs on the hart thread, inside the walker. */
static void visit_block(void *ctx, const struct stats_block_sample *b)
{
    struct hot_stage *st = ctx;

    topk_offer(&st->total, b);
    if (st->rolling) {
        uint64_t key = b->ppc + 1;
        const struct base_ent *old = base_find(st->base, key);
        struct stats_block_sample r = *b;

        /* a block decoded (or re-decoded) within the window has no or a
         * larger baseline: all its executions fall in the window */
        if (old && old->execs <= b->execs)
            r.execs = b->execs - old->execs;
        if (r.execs)
            topk_offer(&st->recent, &r);
        base_put(st->next, key, b->execs);
    }
}

void stats_hart_poll(struct stats *s, unsigned hart, uint64_t instret)
{
    struct hot_stage *st;

    if (!s || hart >= s->nvcpus || !s->walk)
        return;
    st = &s->stage[hart];
    /* the common case, every slice: one relaxed load */
    if (!atomic_load_explicit(&st->req, memory_order_relaxed))
        return;
    if (atomic_load_explicit(&st->ready, memory_order_acquire))
        return;
    if (!st->base) {
        st->base = calloc(BASE_SIZE, sizeof(*st->base));
        st->next = calloc(BASE_SIZE, sizeof(*st->next));
        if (!st->base || !st->next) {
            /* without baselines only the since-start list is kept */
            free(st->base);
            free(st->next);
            st->base = st->next = NULL;
        }
    }
    uint64_t now = clock_ns(CLOCK_MONOTONIC);
    int first = st->win_start_ns == 0;
    st->rolling = st->base && (first || now - st->win_start_ns >= s->window_ns);
    st->total.n = st->recent.n = 0;
    st->total.min_i = st->recent.min_i = 0;
    st->recent_valid = 0;
    s->walk(s->walk_arg, hart, visit_block, st);
    if (st->rolling) {
        struct base_ent *t = st->base;
        if (!first) {
            st->recent_valid = 1;
            st->recent_ns = now - st->win_start_ns;
            st->recent_insns = instret - st->win_start_instret;
        }
        st->base = st->next;
        st->next = t;
        memset(st->next, 0, BASE_SIZE * sizeof(*st->next));
        st->win_start_ns = now;
        st->win_start_instret = instret;
    }
    atomic_store_explicit(&st->req, 0, memory_order_relaxed);
    atomic_store_explicit(&st->ready, 1, memory_order_release);
}

/* ---- sampler ----------------------------------------------------------------- */

struct cand {
    struct stats_block_sample b;
    unsigned hart;
};

static int cand_cmp(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;

    if (x->b.execs != y->b.execs)
        return x->b.execs < y->b.execs ? 1 : -1;
    /* stable order for equal counts: by hart, then pc */
    if (x->hart != y->hart)
        return x->hart < y->hart ? -1 : 1;
    return x->b.ppc < y->b.ppc ? -1 : x->b.ppc > y->b.ppc;
}

static void publish_list(struct stats *s, unsigned which, struct cand *c, size_t n,
                         uint64_t now, uint64_t window_ns, uint64_t window_insns)
{
    struct gb_stats_hot_list l;

    memset(&l, 0, sizeof(l));
    qsort(c, n, sizeof(*c), cand_cmp);
    l.kind = which;
    l.sample_mono_ns = now;
    l.window_ns = window_ns;
    l.window_insns = window_insns;
    for (size_t i = 0; i < n && i < GB_STATS_HOT_N; i++) {
        struct gb_stats_hot_block *o = &l.b[i];
        const struct stats_block_sample *b = &c[i].b;
        o->vpc = b->vpc == UINT64_MAX ? 0 : b->vpc;
        o->flags = b->vpc == UINT64_MAX ? GB_STATS_HOT_VPC_UNKNOWN : 0;
        o->ppc = b->ppc;
        o->execs = b->execs;
        o->insns = b->execs * b->ninsns;
        o->hart = c[i].hart;
        o->ninsns = b->ninsns;
        o->share_ppm = window_insns
            ? (uint32_t)((double)o->insns * 1e6 / (double)window_insns + 0.5) : 0;
        if (o->share_ppm > 1000000)
            o->share_ppm = 1000000;   /* counts are sampled at slightly different times */
        o->tier = b->tier;
        o->guest_bytes = b->guest_bytes;
        o->code_bytes = b->code_bytes;
        o->compile_ns = b->compile_ns;
        l.count++;
    }
    gb_stats_seq_store(&s->hot[which], &l, sizeof(l));
}

static void sample_hot(struct stats *s, uint64_t now, uint64_t total_instret)
{
    struct cand c[GB_STATS_MAX_VCPUS * HOT_K];
    size_t n = 0;
    int new_recent = 0;

    if (!s->walk)
        return;
    for (unsigned i = 0; i < s->nvcpus; i++) {
        struct hot_stage *st = &s->stage[i];
        struct hart_hot *hh = &s->hh[i];

        if (atomic_load_explicit(&st->ready, memory_order_acquire)) {
            hh->total = st->total;
            if (st->recent_valid) {
                hh->recent = st->recent;
                hh->recent_ns = st->recent_ns;
                hh->recent_insns = st->recent_insns;
                hh->have_recent = 1;
                new_recent = 1;
            }
            atomic_store_explicit(&st->ready, 0, memory_order_release);
        }
        atomic_store_explicit(&st->req, 1, memory_order_relaxed);
        for (unsigned k = 0; k < hh->total.n; k++)
            c[n++] = (struct cand){ hh->total.e[k], i };
    }
    publish_list(s, GB_STATS_HOT_TOTAL, c, n, now, 0, total_instret);
    if (!new_recent)
        return;
    uint64_t wns = 0, winsns = 0;
    n = 0;
    for (unsigned i = 0; i < s->nvcpus; i++) {
        struct hart_hot *hh = &s->hh[i];
        if (!hh->have_recent)
            continue;
        if (hh->recent_ns > wns)
            wns = hh->recent_ns;
        winsns += hh->recent_insns;
        for (unsigned k = 0; k < hh->recent.n; k++)
            c[n++] = (struct cand){ hh->recent.e[k], i };
    }
    publish_list(s, GB_STATS_HOT_RECENT, c, n, now, wns, winsns);
}

/* Counter words are read with relaxed atomic loads: the hart keeps
 * writing them as plain fields, and 64-bit aligned loads are never torn. */
static uint64_t sample_vcpu(struct stats *s, unsigned i, uint64_t now)
{
    const struct rv_hart *h = s->harts[i];
    struct rv_counters c;
    struct gb_stats_vcpu v;
    const uint64_t *src = (const uint64_t *)&h->ctr;
    uint64_t *dst = (uint64_t *)&c;

    _Static_assert(sizeof(struct rv_counters) % 8 == 0, "rv_counters is 64-bit words");
    for (size_t k = 0; k < sizeof(c) / 8; k++)
        dst[k] = __atomic_load_n(&src[k], __ATOMIC_RELAXED);
    memset(&v, 0, sizeof(v));
    v.index = i;
    v.online = 1;
    v.pc = __atomic_load_n(&h->pc, __ATOMIC_RELAXED);
    v.instret = __atomic_load_n(&h->instret, __ATOMIC_RELAXED);
    v.priv = __atomic_load_n(&h->priv, __ATOMIC_RELAXED);
    v.sample_mono_ns = now;
    _Static_assert(sizeof(v.insns_by_priv) == sizeof(c.insns_by_priv), "priv counters");
    _Static_assert(sizeof(v.exceptions) == sizeof(c.exceptions), "exception counters");
    _Static_assert(sizeof(v.interrupts) == sizeof(c.interrupts), "interrupt counters");
    memcpy(v.insns_by_priv, c.insns_by_priv, sizeof(v.insns_by_priv));
    memcpy(v.exceptions, c.exceptions, sizeof(v.exceptions));
    memcpy(v.interrupts, c.interrupts, sizeof(v.interrupts));
    v.wfi_count = c.wfi_count;
    v.wfi_ns = c.wfi_ns;
    v.itlb_lookups = c.itlb_lookups;
    v.itlb_misses = c.itlb_misses;
    v.itlb_hits = c.itlb_lookups > c.itlb_misses ? c.itlb_lookups - c.itlb_misses : 0;
    v.itlb_flushes = c.itlb_flushes;
    v.dtlb_lookups = c.dtlb_lookups;
    v.dtlb_misses = c.dtlb_misses;
    v.dtlb_hits = c.dtlb_lookups > c.dtlb_misses ? c.dtlb_lookups - c.dtlb_misses : 0;
    v.dtlb_flushes = c.dtlb_flushes;
    v.page_walks = c.page_walks;
    v.bc_lookups = c.block_lookups;
    v.bc_hits = c.block_hits;
    v.bc_misses = c.block_misses;
    v.bc_invalidations = c.block_invalidations;
    v.bc_decoded = c.blocks_decoded;
    /* tier 0 counts the blocks the JIT has not (yet) compiled */
    v.jit_blocks_by_tier[0] = c.blocks_decoded > c.jit_blocks ? c.blocks_decoded - c.jit_blocks : 0;
    v.jit_blocks_by_tier[1] = c.jit_blocks;
    v.jit_queue_len = c.jit_requests > c.jit_blocks + c.jit_discarded
                          ? c.jit_requests - c.jit_blocks - c.jit_discarded : 0;
    v.jit_code_bytes = c.jit_code_bytes;
    v.jit_compile_ns = c.jit_compile_ns;
    v.jit_compiled = c.jit_blocks;
    v.jit_insns = c.jit_insns;
    v.jit_region_blocks = c.jit_region_blocks;
    v.jit_evictions = c.jit_evictions;
    v.jit_cache_loads = c.jit_cache_loads;
    v.jit_cache_rejects = c.jit_cache_rejects;
    v.jit_chain_hits = c.jit_chain_hits;
    gb_stats_seq_store(&s->vcpu[i], &v, sizeof(v));
    return v.instret;
}

/* At its own, slower rate; half a sample period of slack keeps a 1 s
 * report from slipping to 1.1 s at 10 Hz. */
static void sample_numa(struct stats *s, uint64_t now)
{
    uint64_t slack = 500000000ull / s->hz;

    if (!s->numa_fn || now + slack < s->numa_next_ns)
        return;
    s->numa_next_ns = now + s->numa_every_ns;
    /* the record's head and the used part of data; the rest stays zero */
    struct {
        uint64_t seq;
        uint32_t format, used;
        struct gb_stats_numa_report rep;
    } st;
    _Static_assert(offsetof(struct gb_stats_numa, data) == 16, "numa data");
    memset(&st, 0, sizeof(st));
    if (s->numa_fn(s->numa_opaque, &st.rep) < 0)
        return;                         /* keep the previous report */
    st.format = GB_STATS_NUMA_FORMAT;
    st.used = sizeof(st.rep);
    gb_stats_seq_store(s->numa, &st, sizeof(st));
}

static void sample(struct stats *s)
{
    uint64_t now = clock_ns(CLOCK_MONOTONIC);
    uint64_t instret = 0;

    for (unsigned i = 0; i < s->nharts; i++)
        instret += sample_vcpu(s, i, now);
    sample_hot(s, now, instret);
    for (unsigned i = 0; i < s->ndevs; i++) {
        struct stats_dev_counters c = { 0 };
        struct gb_stats_device d;

        s->devs[i].read(s->devs[i].opaque, &c);
        memset(&d, 0, sizeof(d));
        memcpy(d.name, s->devs[i].name, sizeof(d.name));
        d.present = 1;
        d.requests = c.requests;
        d.bytes_in = c.bytes_in;
        d.bytes_out = c.bytes_out;
        d.errors = c.errors;
        d.notifications = c.notifications;
        d.interrupts = c.interrupts;
        gb_stats_seq_store(&s->dev[i], &d, sizeof(d));
    }
    if (s->touched) {
        struct gb_stats_memory m;
        memcpy(&m, s->mem, sizeof(m));  /* sole writer: our own record is stable */
        m.touched_pages = s->touched(s->touched_opaque);
        gb_stats_seq_store(s->mem, &m, sizeof(m));
    }
    sample_numa(s, now);
    __atomic_store_n(&s->hdr->sample_count, s->hdr->sample_count + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&s->hdr->heartbeat_mono_ns, now, __ATOMIC_RELEASE);
}

void stats_sample_now(struct stats *s)
{
    if (!s->started)
        sample(s);
}

static void *sampler_main(void *arg)
{
    struct stats *s = arg;
    uint64_t period = 1000000000ull / s->hz;

    pthread_setname_np(pthread_self(), "gb-stats");
    uint64_t next = clock_ns(CLOCK_MONOTONIC);

    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        pthread_mutex_unlock(&s->lock);
        sample(s);
        uint64_t now = clock_ns(CLOCK_MONOTONIC);
        next += period;
        if (next < now)         /* fell behind (host busy): don't burst to catch up */
            next = now + period;
        struct timespec ts = { (time_t)(next / 1000000000ull), (long)(next % 1000000000ull) };
        pthread_mutex_lock(&s->lock);
        while (!s->stop && pthread_cond_timedwait(&s->cond, &s->lock, &ts) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int stats_start(struct stats *s, char *err, size_t errlen)
{
    int r;

    if (s->started)
        return -EBUSY;
    s->stop = 0;
    r = pthread_create(&s->thread, NULL, sampler_main, s);
    if (r) {
        snprintf(err, errlen, "cannot start the stats sampler thread: %s", strerror(r));
        return -r;
    }
    s->started = 1;
    return 0;
}

void stats_stop(struct stats *s)
{
    if (!s)
        return;
    stop_thread(s);
    sample(s);      /* the final numbers stay visible to attached consoles */
}

/* ---- list and prune ---------------------------------------------------------- */

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct stats_entry *)a)->name, ((const struct stats_entry *)b)->name);
}

static void read_entry(const char *shm_name, struct stats_entry *e)
{
    const struct gb_stats_header *h;
    struct stat st;
    uint32_t pid;

    e->stale = region_stale(shm_name, &pid) == 1;
    e->pid = pid;
    if (map_header(shm_name, &h, &st) < 0 || !h) {
        e->incompatible = 1;
        return;
    }
    if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != GB_STATS_MAGIC
        || h->abi_major != GB_STATS_ABI_MAJOR) {
        e->incompatible = 1;
    } else {
        struct gb_stats_status status = { 0 };
        uint64_t now = clock_ns(CLOCK_MONOTONIC);
        if (gb_stats_seq_load(&h->status, &status, sizeof(status), GB_STATS_SEQ_TRIES) == 0) {
            e->state = status.state;
            e->state_since_ns = now > status.since_mono_ns ? now - status.since_mono_ns : 0;
        }
        e->uptime_ns = now > h->start_mono_ns ? now - h->start_mono_ns : 0;
    }
    munmap((void *)h, sizeof(*h));
}

int stats_list(struct stats_entry **out, size_t *n, char *err, size_t errlen)
{
    static const char prefix[] = "glassbox.";
    struct stats_entry *v = NULL;
    size_t cnt = 0, cap = 0;
    struct dirent *d;
    DIR *dir = opendir(SHM_DIR);

    *out = NULL;
    *n = 0;
    if (!dir) {
        int e = -errno;
        snprintf(err, errlen, "cannot read " SHM_DIR ": %s", strerror(errno));
        return e;
    }
    while ((d = readdir(dir))) {
        if (strncmp(d->d_name, prefix, sizeof(prefix) - 1) != 0
            || stats_name_valid(d->d_name + sizeof(prefix) - 1) < 0)
            continue;
        if (cnt == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct stats_entry *nv = realloc(v, ncap * sizeof(*v));
            if (!nv) {
                closedir(dir);
                free(v);
                snprintf(err, errlen, "out of memory listing " SHM_DIR);
                return -ENOMEM;
            }
            v = nv;
            cap = ncap;
        }
        struct stats_entry *e = &v[cnt++];
        char shm[GB_STATS_NAME_MAX + 16];
        memset(e, 0, sizeof(*e));
        copy_str(e->name, sizeof(e->name), d->d_name + sizeof(prefix) - 1);
        snprintf(shm, sizeof(shm), GB_STATS_SHM_PREFIX "%s", e->name);
        read_entry(shm, e);
    }
    closedir(dir);
    if (cnt)
        qsort(v, cnt, sizeof(*v), entry_cmp);
    *out = v;
    *n = cnt;
    return 0;
}

static void fmt_duration(char *buf, size_t len, uint64_t ns)
{
    uint64_t s = ns / 1000000000ull;

    if (s >= 86400)
        snprintf(buf, len, "%llud%02lluh%02llum", (unsigned long long)(s / 86400),
                 (unsigned long long)(s / 3600 % 24), (unsigned long long)(s / 60 % 60));
    else if (s >= 3600)
        snprintf(buf, len, "%lluh%02llum%02llus", (unsigned long long)(s / 3600),
                 (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
    else if (s >= 60)
        snprintf(buf, len, "%llum%02llus", (unsigned long long)(s / 60),
                 (unsigned long long)(s % 60));
    else
        snprintf(buf, len, "%llus", (unsigned long long)s);
}

void stats_list_print(void *stream, const struct stats_entry *v, size_t n)
{
    FILE *f = stream;

    fprintf(f, "%-24s %8s  %-13s  %s\n", "NAME", "PID", "STATE", "UPTIME");
    for (size_t i = 0; i < n; i++) {
        char up[32] = "-";
        const char *note = "";

        if (!v[i].incompatible && !v[i].stale)
            fmt_duration(up, sizeof(up), v[i].uptime_ns);
        if (v[i].stale)
            note = "  stale: engine gone (glassbox list --prune removes it)";
        else if (v[i].incompatible)
            note = "  other stats ABI version or not ready";
        fprintf(f, "%-24s %8u  %-13s  %s%s\n", v[i].name, v[i].pid,
                v[i].incompatible ? "?" : gb_vm_state_name(v[i].state), up, note);
    }
}

int stats_prune(size_t *pruned, char *err, size_t errlen)
{
    struct stats_entry *v;
    size_t n;
    int r = stats_list(&v, &n, err, errlen);

    *pruned = 0;
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        char shm[GB_STATS_NAME_MAX + 16];
        if (!v[i].stale)
            continue;
        snprintf(shm, sizeof(shm), GB_STATS_SHM_PREFIX "%s", v[i].name);
        /* check again right before unlinking: a new engine may have
         * reclaimed the name since the listing */
        if (stats_region_stale(v[i].name) != 1)
            continue;
        if (shm_unlink(shm) == 0)
            (*pruned)++;
        else if (errno != ENOENT && r == 0) {
            r = -errno;
            snprintf(err, errlen, "cannot remove stale region " SHM_DIR "%s: %s", shm,
                     strerror(errno));
        }
    }
    free(v);
    return r;
}
