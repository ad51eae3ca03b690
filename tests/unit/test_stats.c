/*
 * Unit tests for the stats region: ABI layout, the reader's refusal of
 * regions it must not misread, the seqlock under a writer hammering
 * records while readers verify them, the sampler with fake harts and a
 * fake block walker, stale-region detection and pruning (a forked engine
 * that dies), and event-ring wrap-around.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "glassbox/stats.h"
#include "lifecycle.h"
#include "rv_cpu.h"
#include "stats.h"
#include "../../tui/stats_reader.h"
#include "stats_fixture.h"

static void test_name(char *buf, size_t len, const char *tag)
{
    snprintf(buf, len, "gbtest-%d-%s", (int)getpid(), tag);
}

static struct stats *make(const char *name, unsigned nvcpus)
{
    return stats_fixture_make(name, nvcpus);
}

static size_t region_size(struct stats *s)
{
    return (size_t)stats_header(s)->total_size;
}

/* ---- layout ---------------------------------------------------------------- */

static void test_layout(void **state)
{
    char name[64], err[256];
    struct gb_reader r;
    (void)state;

    /* the numbers of glassbox-stats(5) */
    assert_int_equal(offsetof(struct gb_stats_header, magic), 0);
    assert_int_equal(offsetof(struct gb_stats_header, abi_major), 8);
    assert_int_equal(offsetof(struct gb_stats_header, header_size), 12);
    assert_int_equal(offsetof(struct gb_stats_header, total_size), 16);
    assert_int_equal(offsetof(struct gb_stats_header, pid), 224);
    assert_int_equal(offsetof(struct gb_stats_header, pid_start_ticks), 232);
    assert_int_equal(offsetof(struct gb_stats_header, start_mono_ns), 240);
    assert_int_equal(offsetof(struct gb_stats_header, arch), 320);
    assert_int_equal(offsetof(struct gb_stats_header, accel), 336);
    assert_int_equal(offsetof(struct gb_stats_header, sample_hz), 720);
    assert_int_equal(offsetof(struct gb_stats_vcpu, pc), 16);
    assert_int_equal(offsetof(struct gb_stats_vcpu, exceptions), 80);
    assert_int_equal(offsetof(struct gb_stats_vcpu, interrupts), 208);
    assert_int_equal(offsetof(struct gb_stats_vcpu, wfi_count), 336);
    assert_int_equal(offsetof(struct gb_stats_vcpu, bc_lookups), 424);
    /* ABI 1.2: the JIT tier's counters out of the old reserved words */
    assert_int_equal(offsetof(struct gb_stats_vcpu, jit_compiled), 520);
    assert_int_equal(offsetof(struct gb_stats_vcpu, jit_insns), 528);
    assert_int_equal(offsetof(struct gb_stats_vcpu, jit_region_blocks), 536);
    assert_int_equal(offsetof(struct gb_stats_vcpu, jit_evictions), 544);
    assert_int_equal(offsetof(struct gb_stats_vcpu, jit_cache_loads), 552);
    assert_int_equal(offsetof(struct gb_stats_vcpu, jit_cache_rejects), 560);
    assert_int_equal(offsetof(struct gb_stats_vcpu, jit_chain_hits), 568);
    assert_int_equal(sizeof(struct gb_stats_vcpu), 640);
    assert_int_equal(offsetof(struct gb_stats_event, text), 40);
    assert_int_equal(offsetof(struct gb_stats_device, requests), 48);

    test_name(name, sizeof(name), "layout");
    struct stats *s = make(name, 3);
    const struct gb_stats_header *h = stats_header(s);
    assert_true(h->magic == GB_STATS_MAGIC);
    assert_int_equal(h->abi_major, GB_STATS_ABI_MAJOR);
    assert_int_equal(h->abi_minor, GB_STATS_ABI_MINOR);
    assert_true(GB_STATS_ABI_MINOR >= GB_STATS_MINOR_JIT_TIER);
    assert_int_equal(h->header_size, sizeof(struct gb_stats_header));
    assert_int_equal(h->pid, getpid());
    assert_int_equal(h->nvcpus, 3);
    assert_string_equal(h->name, name);
    assert_string_equal(h->arch, "riscv64");
    assert_int_equal(h->status.state, GB_VM_CREATED);
    assert_int_equal(h->total_size % 4096, 0);
    /* sections: aligned, in order, inside the region, not overlapping */
    uint64_t end = sizeof(*h);
    for (unsigned i = 0; i < GB_STATS_SEC_COUNT; i++) {
        const struct gb_stats_section *sec = &h->sections[i];
        assert_int_equal(sec->offset % GB_STATS_ALIGN, 0);
        assert_true(sec->offset >= end);
        assert_true(sec->offset + sec->size <= h->total_size);
        end = sec->offset + sec->size;
    }
    assert_int_equal(h->sections[GB_STATS_SEC_VCPU].count, GB_STATS_MAX_VCPUS);
    assert_int_equal(h->sections[GB_STATS_SEC_EVENT].stride, 256);
    assert_int_equal(gb_reader_open(&r, name, err, sizeof(err)), 0);
    struct gb_stats_vcpu v;
    assert_int_equal(gb_reader_vcpu(&r, 2, &v), 0);
    assert_int_equal(v.index, 2);
    assert_int_equal(v.online, 1);
    assert_int_equal(gb_reader_vcpu(&r, GB_STATS_MAX_VCPUS, &v), -ERANGE);
    gb_reader_close(&r);
    stats_destroy(s);
    assert_int_equal(gb_reader_open(&r, name, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "no VM named"));
}

/* The reader refuses what it must not misread, on a private copy. */
static void test_reader_versions(void **state)
{
    char name[64], err[256];
    struct gb_reader r;
    (void)state;

    test_name(name, sizeof(name), "vers");
    struct stats *s = make(name, 1);
    size_t size = region_size(s);
    uint8_t *copy = malloc(size);
    struct gb_stats_header *h = (void *)copy;
    assert_non_null(copy);

#define RESET() memcpy(copy, stats_header(s), size)
    RESET();
    assert_int_equal(gb_reader_attach(&r, copy, size, err, sizeof(err)), 0);

    h->magic = 0;
    assert_int_equal(gb_reader_attach(&r, copy, size, err, sizeof(err)), -EAGAIN);
    RESET();
    h->magic ^= 1;
    assert_int_equal(gb_reader_attach(&r, copy, size, err, sizeof(err)), -EPROTO);
    assert_non_null(strstr(err, "not a glassbox stats region"));
    RESET();
    h->abi_major = GB_STATS_ABI_MAJOR + 1;
    assert_int_equal(gb_reader_attach(&r, copy, size, err, sizeof(err)), -EPROTO);
    {
        char want[32];
        snprintf(want, sizeof(want), "ABI version %d.%d", GB_STATS_ABI_MAJOR + 1,
                 GB_STATS_ABI_MINOR);
        assert_non_null(strstr(err, want));
    }
    /* a newer minor with a larger header still reads */
    RESET();
    h->abi_minor = GB_STATS_ABI_MINOR + 3;
    h->header_size += 64;
    assert_int_equal(gb_reader_attach(&r, copy, size, err, sizeof(err)), 0);
    RESET();
    h->total_size = size + 4096;
    assert_int_equal(gb_reader_attach(&r, copy, size, err, sizeof(err)), -EPROTO);
    RESET();
    h->sections[GB_STATS_SEC_HOT].stride = 8;
    assert_int_equal(gb_reader_attach(&r, copy, size, err, sizeof(err)), -EPROTO);
    assert_non_null(strstr(err, "section 1"));
    RESET();
    h->sections[GB_STATS_SEC_DEVICE].offset = size - 64;
    assert_int_equal(gb_reader_attach(&r, copy, size, err, sizeof(err)), -EPROTO);
    RESET();
    h->nvcpus = GB_STATS_MAX_VCPUS + 1;
    assert_int_equal(gb_reader_attach(&r, copy, size, err, sizeof(err)), -EPROTO);
    assert_int_equal(gb_reader_attach(&r, copy, 16, err, sizeof(err)), -EPROTO);
#undef RESET
    free(copy);
    stats_destroy(s);
}

/* A dead writer leaves a seq odd: readers give up instead of spinning. */
static void test_seq_dead_writer(void **state)
{
    struct gb_stats_vcpu rec, out;
    (void)state;

    memset(&rec, 0, sizeof(rec));
    rec.seq = 7;
    assert_int_equal(gb_stats_seq_load(&rec, &out, sizeof(out), 100), -EAGAIN);
    rec.seq = 8;
    rec.pc = 42;
    assert_int_equal(gb_stats_seq_load(&rec, &out, sizeof(out), 1), 0);
    assert_true(out.pc == 42 && out.seq == 8);
}

/* ---- seqlock under concurrency ------------------------------------------- */

struct hammer {
    struct stats *s;
    struct gb_stats_header *h;
    _Atomic int stop;
    _Atomic uint64_t reads, retries_exhausted, torn;
    uint64_t writes;
};

static struct gb_stats_vcpu *vcpu_rec(struct gb_stats_header *h, unsigned i)
{
    return (void *)((uint8_t *)h + h->sections[GB_STATS_SEC_VCPU].offset
                    + (uint64_t)i * h->sections[GB_STATS_SEC_VCPU].stride);
}

static struct gb_stats_hot_list *hot_rec(struct gb_stats_header *h, unsigned i)
{
    return (void *)((uint8_t *)h + h->sections[GB_STATS_SEC_HOT].offset
                    + (uint64_t)i * h->sections[GB_STATS_SEC_HOT].stride);
}

/* Every word of record k is derived from k: a torn copy mixes two k's. */
static void *hammer_writer(void *arg)
{
    struct hammer *hm = arg;
    struct gb_stats_vcpu v;
    struct gb_stats_hot_list l;
    uint64_t k = 1;

    while (!atomic_load(&hm->stop)) {
        uint64_t *w = (uint64_t *)&v;
        for (size_t i = 1; i < sizeof(v) / 8; i++)
            w[i] = k * 1000003u + i;
        gb_stats_seq_store(vcpu_rec(hm->h, 0), &v, sizeof(v));
        w = (uint64_t *)&l;
        for (size_t i = 1; i < sizeof(l) / 8; i++)
            w[i] = k ^ (i << 40);
        gb_stats_seq_store(hot_rec(hm->h, 0), &l, sizeof(l));
        k++;
    }
    hm->writes = k;
    return NULL;
}

static void *hammer_reader(void *arg)
{
    struct hammer *hm = arg;
    struct gb_reader r;
    char err[256];

    if (gb_reader_attach(&r, hm->h, hm->h->total_size, err, sizeof(err)) < 0) {
        atomic_fetch_add(&hm->torn, 1000000);
        return NULL;
    }
    while (!atomic_load(&hm->stop)) {
        struct gb_stats_vcpu v;
        struct gb_stats_hot_list l;

        if (gb_reader_vcpu(&r, 0, &v) == 0) {
            const uint64_t *w = (const uint64_t *)&v;
            uint64_t k = (w[1] - 1) / 1000003u;
            for (size_t i = 1; i < sizeof(v) / 8; i++)
                if (w[1] != 0 && w[i] != k * 1000003u + i) {
                    atomic_fetch_add(&hm->torn, 1);
                    break;
                }
        } else {
            atomic_fetch_add(&hm->retries_exhausted, 1);
        }
        if (gb_reader_hot(&r, 0, &l) == 0) {
            const uint64_t *w = (const uint64_t *)&l;
            uint64_t k = w[1] ^ (1ull << 40);
            for (size_t i = 1; i < sizeof(l) / 8; i++)
                if (w[1] != 0 && w[i] != (k ^ (i << 40))) {
                    atomic_fetch_add(&hm->torn, 1);
                    break;
                }
        } else {
            atomic_fetch_add(&hm->retries_exhausted, 1);
        }
        atomic_fetch_add(&hm->reads, 1);
    }
    return NULL;
}

static void test_seqlock_concurrent(void **state)
{
    char name[64];
    struct hammer hm = { 0 };
    pthread_t w, rd[2];
    (void)state;

    test_name(name, sizeof(name), "seq");
    hm.s = make(name, 1);
    hm.h = stats_header(hm.s);
    assert_int_equal(pthread_create(&w, NULL, hammer_writer, &hm), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&rd[i], NULL, hammer_reader, &hm), 0);
    struct timespec one = { 1, 0 };
    nanosleep(&one, NULL);
    atomic_store(&hm.stop, 1);
    pthread_join(w, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(rd[i], NULL);
    print_message("seqlock: %llu writes, %llu reads, %llu gave up\n",
                  (unsigned long long)hm.writes, (unsigned long long)atomic_load(&hm.reads),
                  (unsigned long long)atomic_load(&hm.retries_exhausted));
    assert_int_equal(atomic_load(&hm.torn), 0);
    assert_true(hm.writes > 1000);
    assert_true(atomic_load(&hm.reads) > 100);
    stats_destroy(hm.s);
}

/* ---- sampler with fake harts ------------------------------------------------ */

#define NBLK 40

struct fake_hart {
    struct rv_hart *h;
    unsigned idx;
    struct stats *s;
    uint64_t execs[NBLK];       /* the hart's block cache: owned by its thread */
    _Atomic int stop;
    _Atomic int phase;          /* 1: block 39 becomes the hottest */
};

static void fake_walk(void *arg, unsigned hart, stats_block_visit_fn visit, void *ctx)
{
    struct fake_hart *f = &((struct fake_hart *)arg)[hart];

    for (unsigned b = 0; b < NBLK; b++) {
        struct stats_block_sample smp = {
            .vpc = b == 7 ? UINT64_MAX : 0xffffffff80000000ull + b * 64,
            .ppc = 0x80000000ull + b * 64, .execs = f->execs[b], .ninsns = 4 + b % 3,
            .guest_bytes = 16,
        };
        if (f->execs[b])
            visit(ctx, &smp);
    }
}

static void *fake_hart_main(void *arg)
{
    struct fake_hart *f = arg;
    uint64_t instret = 0;

    while (!atomic_load(&f->stop)) {
        for (int n = 0; n < 1000; n++) {
            /* block b runs b+1 times per round: block 39 hottest since start;
             * in phase 1 block 0 runs 100x, so it leads the recent list */
            int phase = atomic_load_explicit(&f->phase, memory_order_relaxed);
            for (unsigned b = 0; b < NBLK; b++) {
                uint64_t k = b + 1;
                if (phase && b == 0)
                    k = 100 * NBLK;
                if (phase && b == NBLK - 1)
                    k = 0;
                f->execs[b] += k;
                instret += k * (4 + b % 3);
            }
        }
        /* the hart writes its counters as plain fields; relaxed atomic
         * stores here keep TSan quiet about the sampler's relaxed loads */
        __atomic_store_n(&f->h->instret, instret, __ATOMIC_RELAXED);
        __atomic_store_n(&f->h->pc, 0x80001000ull + f->idx, __ATOMIC_RELAXED);
        __atomic_store_n(&f->h->ctr.itlb_lookups, instret / 4, __ATOMIC_RELAXED);
        __atomic_store_n(&f->h->ctr.itlb_misses, instret / 400, __ATOMIC_RELAXED);
        __atomic_store_n(&f->h->ctr.exceptions[RV_EXC_ECALL_S], 5, __ATOMIC_RELAXED);
        stats_hart_poll(f->s, f->idx, instret);
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
    return NULL;
}

static void dev_read(void *opaque, struct stats_dev_counters *c)
{
    c->requests = (uint64_t)(uintptr_t)opaque;
    c->bytes_in = 4096;
    c->notifications = 3;
}

static uint64_t touched(void *opaque)
{
    (void)opaque;
    return 1234;
}

static void test_sampler(void **state)
{
    char name[64], err[256];
    struct fake_hart f[2];
    pthread_t t[2];
    struct rv_hart *harts[2];
    struct gb_reader r;
    (void)state;

    test_name(name, sizeof(name), "sampler");
    struct stats *s = make(name, 2);
    memset(f, 0, sizeof(f));
    for (unsigned i = 0; i < 2; i++) {
        harts[i] = calloc(1, sizeof(struct rv_hart));
        assert_non_null(harts[i]);
        harts[i]->priv = RV_PRIV_S;
        f[i].h = harts[i];
        f[i].idx = i;
        f[i].s = s;
    }
    assert_int_equal(stats_attach_harts(s, harts, 2), 0);
    assert_int_equal(stats_add_device(s, "virtio-blk0", dev_read, (void *)(uintptr_t)77), 0);
    stats_set_memory_source(s, touched, NULL);
    stats_set_block_walker(s, fake_walk, f);
    assert_int_equal(stats_start(s, err, sizeof(err)), 0);
    assert_int_equal(stats_add_device(s, "late", dev_read, NULL), -EBUSY);
    for (unsigned i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, fake_hart_main, &f[i]), 0);

    assert_int_equal(gb_reader_open(&r, name, err, sizeof(err)), 0);
    uint64_t hb0 = gb_reader_heartbeat(&r);
    struct timespec ts = { 0, 800000000 };
    nanosleep(&ts, NULL);
    for (unsigned i = 0; i < 2; i++)
        atomic_store(&f[i].phase, 1);
    nanosleep(&ts, NULL);

    /* heartbeat at >= 5 Hz */
    uint64_t hb1 = gb_reader_heartbeat(&r);
    assert_true(hb1 > hb0);
    assert_true(__atomic_load_n(&stats_header(s)->sample_count, __ATOMIC_RELAXED) >= 8);

    struct gb_stats_vcpu v;
    assert_int_equal(gb_reader_vcpu(&r, 1, &v), 0);
    assert_true(v.instret > 0);
    assert_true(v.pc == 0x80001001ull);
    assert_int_equal(v.priv, RV_PRIV_S);
    assert_int_equal(v.exceptions[RV_EXC_ECALL_S], 5);
    assert_true(v.itlb_hits == v.itlb_lookups - v.itlb_misses);

    struct gb_stats_hot_list l;
    assert_int_equal(gb_reader_hot(&r, GB_STATS_HOT_TOTAL, &l), 0);
    assert_int_equal(l.count, GB_STATS_HOT_N);
    for (unsigned i = 1; i < l.count; i++)
        assert_true(l.b[i - 1].execs >= l.b[i].execs);
    /* block 0 ran 4000x per round in phase 1: it overtook everything */
    assert_true(l.b[0].ppc == 0x80000000ull);
    assert_true(l.b[0].share_ppm > 0 && l.b[0].share_ppm <= 1000000);
    for (unsigned i = 0; i < l.count; i++)
        if (l.b[i].ppc == 0x80000000ull + 7 * 64)
            assert_int_equal(l.b[i].flags, GB_STATS_HOT_VPC_UNKNOWN);

    assert_int_equal(gb_reader_hot(&r, GB_STATS_HOT_RECENT, &l), 0);
    assert_true(l.count > 0);
    assert_true(l.window_ns >= 250000000ull);
    assert_true(l.b[0].ppc == 0x80000000ull);
    /* block 39 stopped running in phase 1: absent from the recent list
     * once a whole window passed in phase 1 */
    for (unsigned i = 0; i < l.count; i++)
        assert_false(l.b[i].ppc == 0x80000000ull + 39 * 64);

    struct gb_stats_device d;
    assert_int_equal(gb_reader_device(&r, 0, &d), 0);
    assert_int_equal(d.present, 1);
    assert_string_equal(d.name, "virtio-blk0");
    assert_int_equal(d.requests, 77);
    assert_int_equal(gb_reader_device(&r, 1, &d), 0);
    assert_int_equal(d.present, 0);
    struct gb_stats_memory m;
    assert_int_equal(gb_reader_memory(&r, &m), 0);
    assert_int_equal(m.touched_pages, 1234);
    assert_true(m.ram_bytes == 64ull << 20);

    for (unsigned i = 0; i < 2; i++) {
        atomic_store(&f[i].stop, 1);
        pthread_join(t[i], NULL);
    }
    stats_stop(s);
    gb_reader_close(&r);
    stats_destroy(s);
    for (unsigned i = 0; i < 2; i++)
        free(harts[i]);
}

/* The sampler copies each JIT tier counter of each hart into that hart's
 * record: distinct values everywhere, so a swapped or missed field shows. */
static void test_sampler_jit_tier(void **state)
{
    char name[64], err[256];
    struct rv_hart *harts[2];
    struct gb_reader r;
    (void)state;

    test_name(name, sizeof(name), "jittier");
    struct stats *s = make(name, 2);
    for (unsigned i = 0; i < 2; i++) {
        struct rv_counters *c;
        uint64_t base = 1000 * (i + 1);

        harts[i] = calloc(1, sizeof(struct rv_hart));
        assert_non_null(harts[i]);
        harts[i]->instret = base + 900;
        c = &harts[i]->ctr;
        c->jit_blocks = base + 9;
        c->jit_insns = base + 1;
        c->jit_region_blocks = base + 2;
        c->jit_evictions = base + 3;
        c->jit_cache_loads = base + 4;
        c->jit_cache_rejects = base + 5;
        c->jit_chain_hits = base + 6;
    }
    assert_int_equal(stats_attach_harts(s, harts, 2), 0);
    stats_sample_now(s);
    assert_int_equal(gb_reader_open(&r, name, err, sizeof(err)), 0);
    for (unsigned i = 0; i < 2; i++) {
        struct gb_stats_vcpu v;
        uint64_t base = 1000 * (i + 1);

        assert_int_equal(gb_reader_vcpu(&r, i, &v), 0);
        assert_int_equal(v.instret, base + 900);
        assert_int_equal(v.jit_compiled, base + 9);
        assert_int_equal(v.jit_insns, base + 1);
        assert_int_equal(v.jit_region_blocks, base + 2);
        assert_int_equal(v.jit_evictions, base + 3);
        assert_int_equal(v.jit_cache_loads, base + 4);
        assert_int_equal(v.jit_cache_rejects, base + 5);
        assert_int_equal(v.jit_chain_hits, base + 6);
        for (unsigned k = 0; k < sizeof(v.reserved) / sizeof(v.reserved[0]); k++)
            assert_int_equal(v.reserved[k], 0);
    }
    /* they follow the hart: a second sample publishes the new values */
    harts[1]->ctr.jit_insns += 77;
    harts[1]->ctr.jit_chain_hits += 88;
    stats_sample_now(s);
    struct gb_stats_vcpu v;
    assert_int_equal(gb_reader_vcpu(&r, 1, &v), 0);
    assert_int_equal(v.jit_insns, 2001 + 77);
    assert_int_equal(v.jit_chain_hits, 2006 + 88);
    gb_reader_close(&r);
    stats_destroy(s);
    for (unsigned i = 0; i < 2; i++)
        free(harts[i]);
}

/* ---- events ------------------------------------------------------------------ */

static void test_event_wrap(void **state)
{
    char name[64], err[256];
    struct gb_reader r;
    struct gb_stats_event *ev = calloc(GB_STATS_EVENTS * 4, sizeof(*ev));
    uint64_t cursor = 0, lost = 0;
    const unsigned total = 3 * GB_STATS_EVENTS + 5;
    (void)state;

    assert_non_null(ev);
    test_name(name, sizeof(name), "events");
    struct stats *s = make(name, 1);
    assert_int_equal(gb_reader_open(&r, name, err, sizeof(err)), 0);
    stats_event(s, GB_EVENT_INFO, "first %d", 0);
    assert_int_equal(gb_reader_events(&r, &cursor, ev, 8, &lost), 1);
    assert_string_equal(ev[0].text, "first 0");
    assert_true(cursor == 1 && lost == 0);
    for (unsigned i = 1; i < total; i++)
        stats_event(s, GB_EVENT_GUEST, "event %u", i);
    /* the oldest were overwritten: exactly the last GB_STATS_EVENTS remain */
    int n = gb_reader_events(&r, &cursor, ev, GB_STATS_EVENTS * 4, &lost);
    assert_int_equal(n, GB_STATS_EVENTS);
    assert_int_equal(lost, total - 1 - GB_STATS_EVENTS);
    assert_int_equal(cursor, total);
    for (int i = 0; i < n; i++) {
        char want[32];
        uint64_t num = total - GB_STATS_EVENTS + (uint64_t)i;
        snprintf(want, sizeof(want), "event %llu", (unsigned long long)num);
        assert_int_equal(ev[i].number, num);
        assert_string_equal(ev[i].text, want);
        assert_int_equal(ev[i].kind, GB_EVENT_GUEST);
        if (i)
            assert_true(ev[i].mono_ns >= ev[i - 1].mono_ns);
    }
    /* nothing new: nothing returned; then a partial read with max */
    assert_int_equal(gb_reader_events(&r, &cursor, ev, 8, &lost), 0);
    for (unsigned i = 0; i < 10; i++)
        stats_event(s, GB_EVENT_INFO, "%s", "x");
    assert_int_equal(gb_reader_events(&r, &cursor, ev, 4, &lost), 4);
    assert_int_equal(gb_reader_events(&r, &cursor, ev, 100, &lost), 6);
    /* long text is cut, NUL-terminated */
    char big[1000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    stats_event(s, GB_EVENT_INFO, "%s", big);
    assert_int_equal(gb_reader_events(&r, &cursor, ev, 1, &lost), 1);
    assert_int_equal(strlen(ev[0].text), GB_STATS_EVENT_TEXT - 1);
    gb_reader_close(&r);
    stats_destroy(s);
    free(ev);
}

static void test_lifecycle_hook(void **state)
{
    char name[64], err[256];
    struct gb_reader r;
    struct lifecycle *lc;
    struct gb_stats_status st;
    struct gb_stats_event ev[4];
    uint64_t cursor = 0;
    (void)state;

    test_name(name, sizeof(name), "lc");
    struct stats *s = make(name, 1);
    struct lifecycle_config cfg = { .vm_name = name, .on_event = stats_on_lifecycle, .opaque = s };
    assert_int_equal(lifecycle_create(&lc, &cfg, err, sizeof(err)), 0);
    assert_int_equal(gb_reader_open(&r, name, err, sizeof(err)), 0);
    assert_int_equal(lifecycle_transition(lc, GB_VM_RUNNING, NULL, err, sizeof(err)), 0);
    assert_int_equal(lifecycle_transition(lc, GB_VM_ERROR, "hart 0: bad trap", err, sizeof(err)),
                     0);
    assert_int_equal(gb_reader_status(&r, &st), 0);
    assert_int_equal(st.state, GB_VM_ERROR);
    assert_int_equal(st.prev_state, GB_VM_RUNNING);
    assert_int_equal(st.transitions, 2);
    assert_string_equal(st.reason, "hart 0: bad trap");
    assert_int_equal(gb_reader_events(&r, &cursor, ev, 4, NULL), 2);
    assert_string_equal(ev[0].text, "START created -> running");
    assert_string_equal(ev[1].text, "ERROR running -> error: hart 0: bad trap");
    assert_int_equal(ev[1].kind, GB_EVENT_LIFECYCLE);
    lifecycle_destroy(lc);
    gb_reader_close(&r);
    stats_destroy(s);
}

/* ---- names, stale regions, list, prune ------------------------------------ */

static void test_names(void **state)
{
    struct stats *s;
    struct stats_config cfg = { .name = "a/b", .nvcpus = 1 };
    char err[256];
    (void)state;

    assert_int_equal(stats_name_valid("vm1"), 0);
    assert_int_equal(stats_name_valid("a.b_c-9"), 0);
    assert_int_equal(stats_name_valid(""), -EINVAL);
    assert_int_equal(stats_name_valid(".hidden"), -EINVAL);
    assert_int_equal(stats_name_valid("a b"), -EINVAL);
    assert_int_equal(stats_name_valid("../x"), -EINVAL);
    assert_int_equal(stats_create(&s, &cfg, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "'a/b'"));
    cfg.name = "ok";
    cfg.nvcpus = GB_STATS_MAX_VCPUS + 1;
    assert_int_equal(stats_create(&s, &cfg, err, sizeof(err)), -EINVAL);
}

static const struct stats_entry *find(const struct stats_entry *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

static void test_stale(void **state)
{
    char name[64], err[256];
    struct stats_entry *v;
    size_t n, pruned;
    int pfd[2];
    (void)state;

    test_name(name, sizeof(name), "stale");
    /* 1. an engine that dies without cleaning up */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct stats_config cfg = { .name = name, .arch = "riscv64", .accel = "tcg",
                                    .nvcpus = 1 };
        struct stats *s;
        _exit(stats_create(&s, &cfg, err, sizeof(err)) == 0 ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(stats_region_stale(name), 1);
    assert_int_equal(stats_list(&v, &n, err, sizeof(err)), 0);
    const struct stats_entry *e = find(v, n, name);
    assert_non_null(e);
    assert_int_equal(e->stale, 1);
    assert_int_equal(e->pid, pid);
    assert_int_equal(e->state, GB_VM_CREATED);
    char *text = NULL;
    size_t tlen = 0;
    FILE *mf = open_memstream(&text, &tlen);
    assert_non_null(mf);
    stats_list_print(mf, e, 1);
    fclose(mf);
    assert_non_null(strstr(text, "NAME"));
    assert_non_null(strstr(text, name));
    assert_non_null(strstr(text, "stale: engine gone"));
    free(text);
    free(v);
    /* the next engine of the same name reclaims it */
    struct stats *s = make(name, 1);
    assert_int_equal(stats_header(s)->pid, getpid());
    assert_int_equal(stats_region_stale(name), 0);
    stats_destroy(s);

    /* 2. a live engine: same name refused; prune leaves it alone */
    assert_int_equal(pipe(pfd), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct stats_config cfg = { .name = name, .nvcpus = 1 };
        struct stats *cs;
        char c = stats_create(&cs, &cfg, err, sizeof(err)) == 0 ? 'y' : 'n';
        if (write(pfd[1], &c, 1) != 1)
            _exit(2);
        alarm(30);      /* never outlive a failed test */
        pause();
        _exit(0);
    }
    char c = 0;
    assert_int_equal(read(pfd[0], &c, 1), 1);
    assert_int_equal(c, 'y');
    struct stats_config cfg = { .name = name, .nvcpus = 1 };
    assert_int_equal(stats_create(&s, &cfg, err, sizeof(err)), -EEXIST);
    assert_non_null(strstr(err, "already running"));
    assert_int_equal(stats_prune(&pruned, err, sizeof(err)), 0);
    assert_int_equal(stats_region_stale(name), 0);
    assert_int_equal(stats_list(&v, &n, err, sizeof(err)), 0);
    e = find(v, n, name);
    assert_non_null(e);
    assert_int_equal(e->stale, 0);
    assert_true(e->uptime_ns > 0);
    text = NULL;
    mf = open_memstream(&text, &tlen);
    assert_non_null(mf);
    stats_list_print(mf, e, 1);
    fclose(mf);
    assert_non_null(strstr(text, "created"));
    assert_null(strstr(text, "stale:"));
    free(text);
    free(v);
    /* 3. kill it: now stale, and prune removes it */
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(stats_region_stale(name), 1);
    assert_int_equal(stats_prune(&pruned, err, sizeof(err)), 0);
    assert_true(pruned >= 1);
    assert_int_equal(stats_region_stale(name), -ENOENT);
    close(pfd[0]);
    close(pfd[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_reader_versions),
        cmocka_unit_test(test_seq_dead_writer),
        cmocka_unit_test(test_seqlock_concurrent),
        cmocka_unit_test(test_sampler),
        cmocka_unit_test(test_sampler_jit_tier),
        cmocka_unit_test(test_event_wrap),
        cmocka_unit_test(test_lifecycle_hook),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_stale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
