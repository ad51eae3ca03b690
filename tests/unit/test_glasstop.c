/*
 * Unit tests for glasstop's model and text panels: rates between two
 * synthetic snapshots (expected values computed here from the inputs),
 * history rings, sparklines and bars in UTF-8 and ASCII, hot-block
 * ordering, the symbol cache fed from a query-hot-blocks reply, the text
 * snapshot over a real stats region written with engine/stats.c (with
 * the share of compiled execution), a region of ABI 1.1 still read, refusal
 * of an unknown ABI, the NUMA panel with and without a report, and a VM
 * that disappears between two samples.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
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
#include <json-c/json.h>

#include "glassbox/stats.h"
#include "stats.h"
#include "gt_ctl.h"
#include "gt_model.h"
#include "gt_panels.h"
#include "stats_reader.h"
#include "stats_fixture.h"

static void near(double got, double want)
{
    double tol = fabs(want) * 1e-9 + 1e-12;
    if (fabs(got - want) > tol)
        fail_msg("got %.12g, want %.12g", got, want);
}

/* ---- rates from two synthetic snapshots ------------------------------------ */

static void fill_vcpu(struct gb_stats_vcpu *v, unsigned i, uint64_t t_ns, uint64_t k)
{
    memset(v, 0, sizeof(*v));
    v->index = i;
    v->online = 1;
    v->priv = 1;
    v->sample_mono_ns = t_ns;
    v->instret = k * 1000003 * (i + 1);
    v->exceptions[2] = k * 3;
    v->exceptions[8] = k * 5 + i;
    v->interrupts[7] = k * 11;
    v->wfi_ns = k * 1000 * (i + 1);
    v->itlb_lookups = k * 977;
    /* misses grow faster than lookups: the rate over an interval differs
     * from the rate since start */
    v->itlb_misses = k * 7 + k * k / 1000 + i;
    v->itlb_hits = v->itlb_lookups - v->itlb_misses;
    v->dtlb_lookups = k * 499;
    v->dtlb_misses = k * 13 + k * k / 500;
    v->dtlb_hits = v->dtlb_lookups - v->dtlb_misses;
    v->itlb_flushes = k;
    v->dtlb_flushes = 2 * k;
    v->page_walks = k * 17;
    v->bc_lookups = k * 100;
    v->bc_hits = k * 99;
    v->bc_invalidations = k / 2;
    v->insns_by_priv[0] = k * 100;
    v->insns_by_priv[1] = k * 300 + k * k / 100;
    v->insns_by_priv[3] = k * 50;
    v->jit_compiled = k / 10;
    v->jit_code_bytes = k * 64;
    v->jit_queue_len = 3;
    /* compiled execution grows faster than all execution: its share over
     * an interval differs from its share since start */
    v->jit_insns = k * k * 100 * (i + 1);
    v->jit_region_blocks = k / 20;
    v->jit_evictions = k / 100;
    v->jit_cache_loads = 7 + i;
    v->jit_cache_rejects = i;
    v->jit_chain_hits = k * 50;
}

static void fill_snap(struct gt_snap *s, uint64_t t0, uint64_t dt, uint64_t k)
{
    memset(s, 0, sizeof(*s));
    s->abi_minor = GB_STATS_ABI_MINOR;
    s->nvcpus = 2;
    s->start_mono_ns = 1000;
    s->heartbeat_ns = t0 + dt;
    /* the two harts sampled 1 ms apart, as the sampler does in turn */
    fill_vcpu(&s->vcpu[0], 0, t0 + dt, k);
    fill_vcpu(&s->vcpu[1], 1, t0 + dt + 1000000, k);
    s->dev[0].present = 1;
    s->dev[0].requests = k * 4;
    s->dev[0].bytes_in = k * 4096;
    s->dev[0].bytes_out = k * 512;
    s->dev[0].errors = k / 4;
    s->dev[0].notifications = k * 2;
    s->dev[0].interrupts = k * 3;
}

static void test_rates(void **state)
{
    struct gt_snap *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    struct gt_rates r;
    const uint64_t t0 = 5000000000ull, dt = 250000000ull;  /* 0.25 s apart */
    const uint64_t ka = 1000, kb = 1800;
    (void)state;

    assert_non_null(a);
    assert_non_null(b);
    fill_snap(a, t0, 0, ka);
    fill_snap(b, t0, dt, kb);
    gt_rates_compute(a, b, &r);

    double sec = (double)dt / 1e9;
    double mips = 0, exc = 0, irq = 0, jit = 0;
    uint64_t dj = 0, di = 0;
    for (unsigned i = 0; i < 2; i++) {
        const struct gb_stats_vcpu *va = &a->vcpu[i], *vb = &b->vcpu[i];
        double s = (double)(vb->sample_mono_ns - va->sample_mono_ns) / 1e9;
        double m = (double)(vb->instret - va->instret) / s / 1e6;
        double e = (double)(vb->exceptions[2] + vb->exceptions[8]
                            - va->exceptions[2] - va->exceptions[8]) / s;
        double q = (double)(vb->interrupts[7] - va->interrupts[7]) / s;
        near(r.vcpu[i].mips, m);
        near(r.vcpu[i].exc_s, e);
        near(r.vcpu[i].irq_s, q);
        near(r.vcpu[i].idle, (double)(vb->wfi_ns - va->wfi_ns) / (s * 1e9));
        near(r.vcpu[i].tlb.itlb_hit, (double)(vb->itlb_hits - va->itlb_hits)
             / (double)(vb->itlb_lookups - va->itlb_lookups));
        near(r.vcpu[i].tlb.dtlb_miss_s, (double)(vb->dtlb_misses - va->dtlb_misses) / s);
        uint64_t pd[4], pall = 0;
        for (unsigned p = 0; p < 4; p++)
            pall += pd[p] = vb->insns_by_priv[p] - va->insns_by_priv[p];
        for (unsigned p = 0; p < 4; p++)
            near(r.vcpu[i].priv_share[p], (double)pd[p] / (double)pall);
        jit += (double)(vb->jit_compiled - va->jit_compiled) / s;
        near(r.vcpu[i].jit_share, (double)(vb->jit_insns - va->jit_insns)
             / (double)(vb->instret - va->instret));
        near(gt_jit_share_total(b, (int)i), (double)vb->jit_insns / (double)vb->instret);
        dj += vb->jit_insns - va->jit_insns;
        di += vb->instret - va->instret;
        mips += m;
        exc += e;
        irq += q;
    }
    near(r.mips, mips);
    near(r.exc_s, exc);
    near(r.irq_s, irq);
    near(r.jit_compiled_s, jit);
    /* share of compiled execution, all harts: parts added up before dividing */
    near(r.jit_share, (double)dj / (double)di);
    double jall = (double)(b->vcpu[0].jit_insns + b->vcpu[1].jit_insns)
                  / (double)(b->vcpu[0].instret + b->vcpu[1].instret);
    near(gt_jit_share_total(b, -1), jall);
    assert_true(fabs(r.jit_share - jall) > 0.01);
    near(r.dt_s, sec);
    /* all harts: lookups and hits added up before dividing */
    uint64_t il = 0, ih = 0, dl = 0, dh = 0, fl = 0, w = 0, ilt = 0, iht = 0;
    for (unsigned i = 0; i < 2; i++) {
        il += b->vcpu[i].itlb_lookups - a->vcpu[i].itlb_lookups;
        ih += b->vcpu[i].itlb_hits - a->vcpu[i].itlb_hits;
        dl += b->vcpu[i].dtlb_lookups - a->vcpu[i].dtlb_lookups;
        dh += b->vcpu[i].dtlb_hits - a->vcpu[i].dtlb_hits;
        fl += b->vcpu[i].itlb_flushes + b->vcpu[i].dtlb_flushes
            - a->vcpu[i].itlb_flushes - a->vcpu[i].dtlb_flushes;
        w += b->vcpu[i].page_walks - a->vcpu[i].page_walks;
        ilt += b->vcpu[i].itlb_lookups;
        iht += b->vcpu[i].itlb_hits;
    }
    near(r.tlb.itlb_hit, (double)ih / (double)il);
    near(r.tlb.dtlb_hit, (double)dh / (double)dl);
    near(r.tlb.itlb_hit_total, (double)iht / (double)ilt);
    assert_true(fabs(r.tlb.itlb_hit - r.tlb.itlb_hit_total) > 1e-6);
    near(r.tlb.flush_s, (double)fl / sec);
    near(r.tlb.walk_s, (double)w / sec);
    /* average MIPS: all instructions over the time since start */
    double all = (double)(b->vcpu[0].instret + b->vcpu[1].instret);
    near(r.mips_avg, all / ((double)(b->heartbeat_ns - b->start_mono_ns) / 1e3));
    /* devices over the heartbeat interval */
    double hs = (double)(b->heartbeat_ns - a->heartbeat_ns) / 1e9;
    near(r.dev[0].req_s, (double)(b->dev[0].requests - a->dev[0].requests) / hs);
    near(r.dev[0].in_bps, (double)(b->dev[0].bytes_in - a->dev[0].bytes_in) / hs);
    near(r.dev[0].out_bps, (double)(b->dev[0].bytes_out - a->dev[0].bytes_out) / hs);
    near(r.dev[0].err_s, (double)(b->dev[0].errors - a->dev[0].errors) / hs);
    near(r.dev[0].irq_s, (double)(b->dev[0].interrupts - a->dev[0].interrupts) / hs);
    assert_true(r.dev[1].req_s == 0);

    /* no lookups in the interval: no hit rate, not 100% */
    b->vcpu[0].itlb_lookups = a->vcpu[0].itlb_lookups;
    b->vcpu[0].itlb_hits = a->vcpu[0].itlb_hits;
    gt_rates_compute(a, b, &r);
    assert_true(r.vcpu[0].tlb.itlb_hit < 0);
    /* the same sample twice: no interval, no rates */
    gt_rates_compute(b, b, &r);
    assert_true(r.dt_s == 0 && r.mips == 0);
    assert_true(r.jit_share < 0);
    /* a part sampled a little after the whole: capped at all of it */
    b->vcpu[1].jit_insns = b->vcpu[1].instret + 5;
    assert_true(gt_jit_share_total(b, 1) == 1.0);
    /* ABI 1.1 publishes no jit_insns: no share, rather than 0% */
    a->abi_minor = b->abi_minor = GB_STATS_MINOR_JIT_TIER - 1;
    gt_rates_compute(a, b, &r);
    assert_true(r.jit_share < 0 && r.vcpu[0].jit_share < 0);
    assert_true(gt_jit_share_total(b, -1) < 0);
    free(a);
    free(b);
}

/* ---- history, sparklines, bars, text helpers ------------------------------ */

static void test_hist(void **state)
{
    struct gt_hist h = { 0 };
    double out[GT_HIST];
    (void)state;

    assert_int_equal(gt_hist_last(&h, out, 10), 0);
    for (unsigned i = 0; i < 3; i++)
        gt_hist_push(&h, i);
    assert_int_equal(gt_hist_last(&h, out, 10), 3);
    assert_true(out[0] == 0 && out[2] == 2);
    const unsigned total = GT_HIST + 37;
    for (unsigned i = 3; i < total; i++)
        gt_hist_push(&h, i);
    assert_int_equal(gt_hist_last(&h, out, GT_HIST), GT_HIST);
    for (unsigned i = 0; i < GT_HIST; i++)
        assert_true(out[i] == (double)(total - GT_HIST + i));
    assert_int_equal(gt_hist_last(&h, out, 5), 5);
    assert_true(out[4] == total - 1 && out[0] == total - 5);
}

static void test_spark(void **state)
{
    static const char *const blocks[8] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
    static const char ramp[] = "_.:-=+*#";
    double v[8];
    char out[128], want[128] = "";
    (void)state;

    /* 8 evenly spaced values use every level once, lowest to highest */
    for (unsigned i = 0; i < 8; i++) {
        v[i] = 10 + 3.5 * i;
        strcat(want, blocks[i]);
    }
    assert_int_equal(gt_spark(v, 8, 0, 1, out, sizeof(out)), 8);
    assert_string_equal(out, want);
    assert_int_equal(gt_cols(out), 8);
    assert_int_equal(gt_spark(v, 8, 0, 0, out, sizeof(out)), 8);
    assert_string_equal(out, ramp);
    /* no value: blank; a flat line sits at mid height */
    v[2] = -1;
    gt_spark(v, 3, 0, 0, out, sizeof(out));
    assert_int_equal(out[2], ' ');
    double flat[4] = { 0.99, 0.99, 0.99, 0.99 };
    gt_spark(flat, 4, 0, 0, out, sizeof(out));
    assert_string_equal(out, "----");
    /* noise inside min_span stays level; a real swing still shows */
    double noise[3] = { 0.7500, 0.7502, 0.7499 };
    gt_spark(noise, 3, 0.01, 0, out, sizeof(out));
    for (unsigned i = 0; i < 3; i++) {
        long lvl = strchr(ramp, out[i]) - ramp;
        assert_true(lvl >= 3 && lvl <= 4);      /* mid height, at most a step apart */
    }
    gt_spark(noise, 3, 0, 0, out, sizeof(out));
    assert_true(out[1] == '#' && out[2] == '_');
    /* a small buffer is never overrun and stays a whole string */
    assert_int_equal(gt_spark(v, 8, 0, 1, out, 7), 2);
    assert_int_equal(strlen(out), 6);
}

static void test_bar(void **state)
{
    char out[128];
    (void)state;

    assert_int_equal(gt_bar(0.5, 10, 0, out, sizeof(out)), 10);
    assert_string_equal(out, "#####.....");
    assert_int_equal(gt_bar(2.0, 4, 0, out, sizeof(out)), 4);
    assert_string_equal(out, "####");
    /* ASCII rounds the partial cell: half or more fills it */
    gt_bar(0.55, 10, 0, out, sizeof(out));
    assert_string_equal(out, "######....");
    gt_bar(0.52, 10, 0, out, sizeof(out));
    assert_string_equal(out, "#####.....");
    gt_bar(NAN, 3, 0, out, sizeof(out));
    assert_string_equal(out, "...");
    /* UTF-8: full blocks, then the eighth that rounds the rest */
    const double f = 0.55;
    const unsigned w = 10, eighths = (unsigned)(f * w * 8 + 0.5);
    assert_int_equal(gt_bar(f, w, 1, out, sizeof(out)), w);
    assert_int_equal(gt_cols(out), w);
    char want[128] = "";
    for (unsigned i = 0; i < eighths / 8; i++)
        strcat(want, "█");
    static const char *const part[8] = { "", "▏", "▎", "▍", "▌", "▋", "▊", "▉" };
    strcat(want, part[eighths % 8]);
    while (gt_cols(want) < w)
        strcat(want, " ");
    assert_string_equal(out, want);
}

static void test_text_helpers(void **state)
{
    char b[32];
    (void)state;

    assert_int_equal(gt_cols("a▁b█"), 4);
    assert_int_equal(gt_clip("a▁b█", 2), 1 + strlen("▁"));
    assert_int_equal(gt_clip("abc", 10), 3);
    gt_fmt_si(b, sizeof(b), 1234567);
    assert_string_equal(b, "1.23M");
    gt_fmt_si(b, sizeof(b), 42);
    assert_string_equal(b, "42");
    gt_fmt_bytes(b, sizeof(b), 3 * 1048576.0);
    assert_string_equal(b, "3.0 MiB");
    gt_fmt_dur(b, sizeof(b), (3600ull + 2 * 60 + 3) * 1000000000ull);
    assert_string_equal(b, "01:02:03");
    gt_fmt_dur(b, sizeof(b), 86400ull * 2 * 1000000000ull);
    assert_string_equal(b, "2d 00:00:00");
}

/* ---- curses layout ---------------------------------------------------------- */

static int layout_ok(const int need[GT_P_COUNT], const int rows[GT_P_COUNT], int avail)
{
    int sum = 0;

    for (int p = GT_P_VCPU; p < GT_P_COUNT; p++) {
        if (rows[p] < 0 || rows[p] > need[p])
            return 0;
        sum += rows[p];
    }
    return sum <= avail;
}

static void test_layout(void **state)
{
    /* needs like a one-hart guest's: 32 hot blocks, a few devices, events */
    const int need[GT_P_COUNT] = { 0, 2, 33, 3, 3, 4, 5 };
    int rows[GT_P_COUNT], total = 0;
    (void)state;

    for (int p = GT_P_VCPU; p < GT_P_COUNT; p++)
        total += need[p];
    /* 80x24: 24 rows - status - 3 header lines - 6 titles */
    int avail = 24 - 1 - 3 - (GT_P_COUNT - 1);
    gt_layout(need, GT_P_HOT, avail, rows);
    assert_true(layout_ok(need, rows, avail));
    assert_int_equal(rows[GT_P_TLB], 2 < need[GT_P_TLB] ? 2 : need[GT_P_TLB]);
    assert_true(rows[GT_P_HOT] >= 3 && rows[GT_P_VCPU] == need[GT_P_VCPU]);
    /* focus elsewhere: that panel grows, the room is all used, hot blocks
     * keep some */
    int unfocused = rows[GT_P_EVENTS], sum = 0;
    gt_layout(need, GT_P_EVENTS, avail, rows);
    assert_true(layout_ok(need, rows, avail));
    assert_true(rows[GT_P_EVENTS] > unfocused);
    for (int p = GT_P_VCPU; p < GT_P_COUNT; p++)
        sum += rows[p];
    assert_int_equal(sum, avail);
    assert_true(rows[GT_P_HOT] >= 3);
    /* 200x50: the focused panel takes at least 3/5, every other its need
     * except the last in line */
    avail = 50 - 1 - 3 - (GT_P_COUNT - 1);
    gt_layout(need, GT_P_HOT, avail, rows);
    assert_true(layout_ok(need, rows, avail));
    assert_true(rows[GT_P_HOT] >= avail * 3 / 5);
    for (int p = GT_P_VCPU; p < GT_P_EVENTS; p++)
        if (p != GT_P_HOT)
            assert_int_equal(rows[p], need[p]);
    /* room for everything: everything */
    gt_layout(need, GT_P_TLB, total + 10, rows);
    for (int p = GT_P_VCPU; p < GT_P_COUNT; p++)
        assert_int_equal(rows[p], need[p]);
    /* a tiny screen: never more than there is, the focus shrinks last */
    for (int a = -2; a < 6; a++) {
        gt_layout(need, GT_P_DEV, a, rows);
        assert_true(layout_ok(need, rows, a < 0 ? 0 : a));
        if (a >= 2)
            assert_true(rows[GT_P_DEV] >= 2);
    }
}

/* ---- hot-block order and the symbol cache --------------------------------- */

static uint64_t pc_of(const struct gb_stats_hot_block *b)
{
    return (b->flags & GB_STATS_HOT_VPC_UNKNOWN) ? b->ppc : b->vpc;
}

static void test_hot_order(void **state)
{
    struct gb_stats_hot_list l;
    unsigned idx[GB_STATS_HOT_N];
    (void)state;

    memset(&l, 0, sizeof(l));
    l.count = 12;
    for (unsigned i = 0; i < l.count; i++) {
        l.b[i].vpc = 0x80000000ull + ((i * 7) % 12) * 0x40;
        l.b[i].ppc = l.b[i].vpc;
        l.b[i].execs = 1000 - i * 50;           /* the writer's order */
        l.b[i].ninsns = 1 + (i * 5) % 9;
        l.b[i].share_ppm = (uint32_t)(l.b[i].execs * l.b[i].ninsns);
    }
    l.b[3].flags = GB_STATS_HOT_VPC_UNKNOWN;
    l.b[3].vpc = 0;
    assert_int_equal(gt_hot_order(&l, GT_SORT_EXECS, idx), l.count);
    for (unsigned i = 0; i < l.count; i++)
        assert_int_equal(idx[i], i);
    gt_hot_order(&l, GT_SORT_SHARE, idx);
    for (unsigned i = 1; i < l.count; i++)
        assert_true(l.b[idx[i - 1]].share_ppm >= l.b[idx[i]].share_ppm);
    gt_hot_order(&l, GT_SORT_PC, idx);
    for (unsigned i = 1; i < l.count; i++)
        assert_true(pc_of(&l.b[idx[i - 1]]) <= pc_of(&l.b[idx[i]]));
    /* a count past the capacity is clamped */
    l.count = 1000;
    assert_int_equal(gt_hot_order(&l, GT_SORT_EXECS, idx), GB_STATS_HOT_N);
}

static void test_symcache(void **state)
{
    static struct gt_symcache c;
    const char *reply =
        "{\"blocks\":[{\"hart\":1,\"vpc\":2147483648,\"ppc\":2147483648,\"vpc-known\":true,"
        "\"execs\":9,\"symbol\":\"main+0x10\",\"disas\":[\"0x80000000  addi a0,a0,1\","
        "\"0x80000004  c.jr ra\"]},"
        "{\"hart\":0,\"vpc\":16,\"ppc\":4096,\"execs\":3},"
        "{\"hart\":0,\"vpc\":\"bad\"}, 7]}";
    (void)state;

    struct json_object *j = json_tokener_parse(reply);
    assert_non_null(j);
    assert_int_equal(gt_ctl_parse_hot(j, &c), 2);
    json_object_put(j);
    const struct gt_sym *s = gt_sym_find(&c, 1, 0x80000000ull);
    assert_non_null(s);
    assert_string_equal(s->symbol, "main+0x10");
    assert_int_equal(s->ndis, 2);
    assert_string_equal(s->dis[1], "0x80000004  c.jr ra");
    assert_null(gt_sym_find(&c, 0, 0x80000000ull));   /* another hart */
    s = gt_sym_find(&c, 0, 4096);
    assert_non_null(s);
    assert_string_equal(s->symbol, "");
    assert_int_equal(s->ndis, 0);
    /* a later, shorter disassembly keeps the longer one */
    const char *one[1] = { "0x80000000  addi a0,a0,1" };
    assert_int_equal(gt_sym_put(&c, 1, 0x80000000ull, 0x80000000ull, "main+0x10", one, 1), 0);
    assert_int_equal(gt_sym_find(&c, 1, 0x80000000ull)->ndis, 2);
    /* wrong shapes */
    j = json_tokener_parse("{\"blocks\": 3}");
    assert_int_equal(gt_ctl_parse_hot(j, &c), -EPROTO);
    json_object_put(j);
    assert_int_equal(gt_ctl_parse_hot(NULL, &c), -EPROTO);
    /* full: the oldest entry goes */
    for (unsigned i = 0; i < GT_SYM_CACHE + 5; i++)
        assert_int_equal(gt_sym_put(&c, 2, i, 0x90000000ull + i, "x", NULL, 0), 0);
    assert_int_equal(c.n, GT_SYM_CACHE);
    assert_null(gt_sym_find(&c, 2, 0x90000000ull));
    assert_non_null(gt_sym_find(&c, 2, 0x90000000ull + GT_SYM_CACHE + 4));
    gt_sym_free(&c);
}

/* ---- a real region ---------------------------------------------------------- */

static char *region_name(const char *tag)
{
    static char name[64];
    snprintf(name, sizeof(name), "gttest-%d-%s", (int)getpid(), tag);
    return name;
}

static struct stats *make(const char *name, unsigned nvcpus)
{
    return stats_fixture_make(name, nvcpus);
}

static void *sec_rec(struct gb_stats_header *h, unsigned sec, unsigned i)
{
    return (uint8_t *)h + h->sections[sec].offset + (uint64_t)i * h->sections[sec].stride;
}

/* Publish one sample: harts, a hot list, a device, and the heartbeat. */
static void publish(struct stats *s, uint64_t t, uint64_t k)
{
    struct gb_stats_header *h = stats_header(s);
    struct gb_stats_vcpu v;
    struct gb_stats_hot_list l;
    struct gb_stats_device d;

    for (unsigned i = 0; i < h->nvcpus; i++) {
        fill_vcpu(&v, i, t, k);
        v.pc = 0x80001000ull + i * 4;
        gb_stats_seq_store(sec_rec(h, GB_STATS_SEC_VCPU, i), &v, sizeof(v));
    }
    memset(&l, 0, sizeof(l));
    l.kind = GB_STATS_HOT_TOTAL;
    l.count = 2;
    l.b[0] = (struct gb_stats_hot_block){ .vpc = 0xffffffff80200040ull, .ppc = 0x80200040ull,
                                          .execs = k * 100, .insns = k * 600, .ninsns = 6,
                                          .share_ppm = 750000, .tier = 1 };
    l.b[1] = (struct gb_stats_hot_block){ .ppc = 0x80000100ull, .execs = k, .ninsns = 2,
                                          .share_ppm = 1000, .flags = GB_STATS_HOT_VPC_UNKNOWN };
    gb_stats_seq_store(sec_rec(h, GB_STATS_SEC_HOT, 0), &l, sizeof(l));
    memset(&d, 0, sizeof(d));
    snprintf(d.name, sizeof(d.name), "virtio-blk0");
    d.present = 1;
    d.requests = k * 4;
    d.bytes_in = k * 4096;
    gb_stats_seq_store(sec_rec(h, GB_STATS_SEC_DEVICE, 0), &d, sizeof(d));
    __atomic_store_n(&h->heartbeat_mono_ns, t, __ATOMIC_RELEASE);
}

static void collect_text(void *ctx, enum gt_attr a, int item, const char *text)
{
    FILE *f = ctx;
    (void)a;
    fprintf(f, "%d|%s\n", item, text);
}

/* All of a panel's lines, or the whole text snapshot when p < 0. */
/* noinline: inlined, gcc takes the memstream pointer for a dangling local */
__attribute__((noinline))
static char *render(const struct gt_model *m, const struct gt_view *v, int p)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    assert_non_null(f);
    if (p < 0)
        gt_text_snapshot(f, m, v);
    else
        gt_panel_lines(p, m, v, collect_text, f);
    fclose(f);
    return text;
}

static void must_contain(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("missing '%s' in:\n%s", want, text);
}

/* A share as glasstop prints it, for shares away from 0 and 1 (where it
 * refuses to round to 0% or 100%). */
static void share_text(char *buf, size_t len, double f)
{
    assert_true(f > 0.005 && f < 0.995);
    snprintf(buf, len, "%.0f%%", f * 100);
}

/* The line of text that starts with `prefix` (after a newline). */
static char *line_of(const char *text, const char *prefix, char *buf, size_t len)
{
    const char *p = strstr(text, prefix);

    if (!p)
        fail_msg("no line '%s' in:\n%s", prefix, text);
    size_t n = strcspn(p + 1, "\n") + 1;
    snprintf(buf, len, "%.*s", (int)n, p);
    return buf;
}

static void test_region_text(void **state)
{
    const char *name = region_name("text");
    struct stats *s = make(name, 2);
    struct gb_reader r;
    struct gt_model m;
    struct gt_view v = { .utf8 = 0, .sort = GT_SORT_EXECS };
    char err[256], want[160];
    (void)state;

    uint64_t start = stats_header(s)->start_mono_ns;
    uint64_t t0 = start + 2000000000ull, t1 = t0 + 400000000ull;
    stats_set_status(s, GB_VM_RUNNING, GB_VM_CREATED, start + 1000, 0, NULL);
    stats_event(s, GB_EVENT_LIFECYCLE, "START created -> running");
    stats_event(s, GB_EVENT_GUEST, "guest says %d", 42);
    publish(s, t0, 1000);
    assert_int_equal(gb_reader_open(&r, name, err, sizeof(err)), 0);
    assert_int_equal(gt_model_init(&m), 0);
    assert_int_equal(gt_model_update(&m, &r, gt_now_ns()), 0);
    assert_int_equal(m.nsnaps, 1);
    /* no new sample: no rates, and the base is kept */
    gt_model_update(&m, &r, gt_now_ns());
    assert_int_equal(m.nsnaps, 1);
    publish(s, t1, 1400);
    gt_model_update(&m, &r, gt_now_ns());
    assert_int_equal(m.nsnaps, 2);
    gt_vm_check(&m, name, gt_region_ino(name));
    assert_int_equal(m.fate, GT_VM_LIVE);

    char *text = render(&m, &v, -1);
    must_contain(text, name);
    must_contain(text, "state running");
    must_contain(text, "virt, test");
    /* MIPS from the published counters: both harts over 0.4 s */
    double mips = (double)((1400 - 1000) * 1000003ull * (1 + 2)) / 0.4 / 1e6;
    snprintf(want, sizeof(want), "MIPS now %.1f", mips);
    must_contain(text, want);
    /* the hot block with its virtual pc, the other by physical pc */
    must_contain(text, "0xffffffff80200040");
    must_contain(text, "p:0000000080000100");
    must_contain(text, "75.0%");
    /* I-TLB hit rate over the interval, from the counters */
    uint64_t hits = 0, look = 0;
    for (unsigned i = 0; i < 2; i++) {
        struct gb_stats_vcpu x, y;
        fill_vcpu(&x, i, 0, 1000);
        fill_vcpu(&y, i, 0, 1400);
        hits += y.itlb_hits - x.itlb_hits;
        look += y.itlb_lookups - x.itlb_lookups;
    }
    char rate[16];
    snprintf(rate, sizeof(rate), "%.2f%%", 100.0 * (double)hits / (double)look);
    snprintf(want, sizeof(want), "hit %7s now", rate);
    must_contain(text, want);
    /* each vCPU row: its own rate over the interval */
    for (unsigned i = 0; i < 2; i++) {
        struct gb_stats_vcpu x, y;
        char row[32];
        fill_vcpu(&x, i, 0, 1000);
        fill_vcpu(&y, i, 0, 1400);
        snprintf(rate, sizeof(rate), "%.2f%%", 100.0 * (double)(y.itlb_hits - x.itlb_hits)
                 / (double)(y.itlb_lookups - x.itlb_lookups));
        snprintf(row, sizeof(row), "\n  %4u    S ", i);
        char *line = strstr(text, row);
        assert_non_null(line);
        char *end = strchr(line + 1, '\n');
        assert_non_null(end);
        *end = '\0';
        must_contain(line, rate);
        *end = '\n';
    }
    /* JIT totals over both harts */
    snprintf(want, sizeof(want), " %u blocks compiled", 2 * (1400 / 10));
    must_contain(text, want);
    must_contain(text, "6 queued");
    /* share of compiled execution: over the interval from the differences,
     * since start from the totals; all harts, and each hart's own */
    struct gb_stats_vcpu x[2], y[2];
    uint64_t dj = 0, di = 0, tj = 0, ti = 0;
    for (unsigned i = 0; i < 2; i++) {
        fill_vcpu(&x[i], i, 0, 1000);
        fill_vcpu(&y[i], i, 0, 1400);
        dj += y[i].jit_insns - x[i].jit_insns;
        di += y[i].instret - x[i].instret;
        tj += y[i].jit_insns;
        ti += y[i].instret;
    }
    char jn[16], ja[16], ln[1024];
    share_text(jn, sizeof(jn), (double)dj / (double)di);
    share_text(ja, sizeof(ja), (double)tj / (double)ti);
    assert_string_not_equal(jn, ja);
    snprintf(want, sizeof(want), "JIT: %s of insns compiled now, %s since start;", jn, ja);
    must_contain(text, want);
    snprintf(want, sizeof(want), "jit %s now, %s since start", jn, ja);
    must_contain(line_of(text, "\n  MIPS now", ln, sizeof(ln)), want);
    for (unsigned i = 0; i < 2; i++) {
        char row[32];
        snprintf(row, sizeof(row), "\n  %4u    S ", i);
        line_of(text, row, ln, sizeof(ln));
        share_text(jn, sizeof(jn), (double)(y[i].jit_insns - x[i].jit_insns)
                   / (double)(y[i].instret - x[i].instret));
        snprintf(want, sizeof(want), " %s", jn);
        assert_true(strlen(ln) > strlen(want));
        assert_string_equal(ln + strlen(ln) - strlen(want), want);
    }
    must_contain(text, "U/S/M insns   jit");
    snprintf(want, sizeof(want), "; %llu blocks in regions, ",
             (unsigned long long)(y[0].jit_region_blocks + y[1].jit_region_blocks));
    must_contain(text, want);
    snprintf(want, sizeof(want), "; cache %llu loaded, %llu rejected; %llu evicted",
             (unsigned long long)(y[0].jit_cache_loads + y[1].jit_cache_loads),
             (unsigned long long)(y[0].jit_cache_rejects + y[1].jit_cache_rejects),
             (unsigned long long)(y[0].jit_evictions + y[1].jit_evictions));
    must_contain(text, want);
    must_contain(text, "virtio-blk0");
    must_contain(text, "guest says 42");
    must_contain(text, "no placement report from this engine");
    must_contain(text, "I-TLB");
    must_contain(text, "D-TLB");
    free(text);

    /* the hot panel marks block rows with their list index */
    v.sort = GT_SORT_PC;
    text = render(&m, &v, GT_P_HOT);
    char *p1 = strstr(text, "1|"), *p0 = strstr(text, "0|");
    assert_non_null(p1);
    assert_non_null(p0);
    assert_true(p1 < p0);       /* 0x80000100 sorts before 0xffffffff80200040 */
    free(text);
    /* the symbol cache names a block; without one the reason is shown */
    static struct gt_symcache c;
    const char *dis[2] = { "0xffffffff80200040  addi a0,a0,1", "0xffffffff80200044  c.jr ra" };
    gt_sym_put(&c, 0, 0xffffffff80200040ull, 0x80200040ull, "kernel_loop+0x8", dis, 2);
    v.syms = &c;
    v.ctl_note = NULL;
    text = render(&m, &v, GT_P_HOT);
    must_contain(text, "kernel_loop+0x8");
    must_contain(text, "addi a0,a0,1; c.jr ra");
    free(text);
    v.syms = NULL;
    v.ctl_note = "no VM named 'x'";
    text = render(&m, &v, GT_P_HOT);
    must_contain(text, "no symbols: no VM named 'x'");
    free(text);
    gt_sym_free(&c);

    gt_model_free(&m);
    gb_reader_close(&r);
    stats_destroy(s);
}

/* A region of ABI 1.1, before the JIT tier's counters: still read, the
 * words 1.1 kept reserved read as zero (even when a writer left them
 * otherwise), no compiled share is claimed, and the older JIT figures
 * still show. */
static void test_abi_minor_1(void **state)
{
    const char *name = region_name("abi11");
    struct stats *s = make(name, 2);
    struct gb_stats_header *h = stats_header(s);
    struct gb_reader r;
    struct gt_model m;
    struct gt_view v = { .utf8 = 0, .sort = GT_SORT_EXECS };
    char err[256], want[64];
    (void)state;

    uint64_t t0 = h->start_mono_ns + 1000000000ull;
    stats_set_status(s, GB_VM_RUNNING, GB_VM_CREATED, h->start_mono_ns + 1000, 0, NULL);
    h->abi_minor = GB_STATS_MINOR_JIT_TIER - 1;
    publish(s, t0, 1000);
    assert_int_equal(gb_reader_open(&r, name, err, sizeof(err)), 0);
    assert_int_equal(gt_model_init(&m), 0);
    assert_int_equal(gt_model_update(&m, &r, gt_now_ns()), 0);
    publish(s, t0 + 400000000ull, 1400);
    assert_int_equal(gt_model_update(&m, &r, gt_now_ns()), 0);
    assert_int_equal(m.nsnaps, 2);
    for (unsigned i = 0; i < 2; i++) {
        const struct gb_stats_vcpu *c = &m.cur->vcpu[i];
        assert_true(c->instret > 0 && c->jit_compiled > 0);
        assert_true(c->jit_insns == 0 && c->jit_region_blocks == 0 && c->jit_evictions == 0);
        assert_true(c->jit_cache_loads == 0 && c->jit_cache_rejects == 0);
        assert_true(c->jit_chain_hits == 0);
        assert_true(m.rates.vcpu[i].jit_share < 0);
    }
    assert_true(m.rates.jit_share < 0);

    char *text = render(&m, &v, -1);
    snprintf(want, sizeof(want), "ABI %d.%d", GB_STATS_ABI_MAJOR, GB_STATS_MINOR_JIT_TIER - 1);
    must_contain(text, want);
    snprintf(want, sizeof(want), "JIT: %u blocks compiled", 2 * (1400 / 10));
    must_contain(text, want);
    assert_null(strstr(text, "of insns compiled"));
    assert_null(strstr(text, "jit "));
    assert_null(strstr(text, "   jit"));
    assert_null(strstr(text, "evicted"));
    assert_null(strstr(text, "loaded,"));
    free(text);
    gt_model_free(&m);
    gb_reader_close(&r);
    stats_destroy(s);
}

/* Shares next to all or nothing are not rounded to 100% or 0%. */
static void test_jit_share_edges(void **state)
{
    struct gt_snap *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    struct gt_model m;
    struct gt_view v = { .utf8 = 0 };
    char *text;
    (void)state;

    assert_non_null(a);
    assert_non_null(b);
    fill_snap(a, 5000000000ull, 0, 1000);
    fill_snap(b, 5000000000ull, 250000000ull, 1800);
    memset(&m, 0, sizeof(m));
    m.prev = a;
    m.cur = b;
    m.nsnaps = 2;
    /* all but one instruction of the interval compiled, on each hart */
    for (unsigned i = 0; i < 2; i++)
        b->vcpu[i].jit_insns = a->vcpu[i].jit_insns + b->vcpu[i].instret - a->vcpu[i].instret - 1;
    gt_rates_compute(a, b, &m.rates);
    text = render(&m, &v, GT_P_VCPU);
    must_contain(text, "JIT: 99% of insns compiled now");
    must_contain(text, "   99%\n");
    assert_null(strstr(text, "100%"));
    free(text);
    /* one instruction each */
    for (unsigned i = 0; i < 2; i++)
        b->vcpu[i].jit_insns = a->vcpu[i].jit_insns + 1;
    gt_rates_compute(a, b, &m.rates);
    text = render(&m, &v, GT_P_VCPU);
    must_contain(text, "JIT: <1% of insns compiled now");
    must_contain(text, "   <1%\n");    /* a hart's row ends in its share */
    free(text);
    free(a);
    free(b);
}

/* An ABI major this build does not know: refused with a message that
 * names both versions, and never read. */
static void test_unknown_abi(void **state)
{
    const char *name = region_name("abi");
    struct stats *s = make(name, 1);
    size_t size = stats_header(s)->total_size;
    uint8_t *copy = malloc(size);
    struct gb_reader r;
    char err[256], want[64];
    (void)state;

    assert_non_null(copy);
    memcpy(copy, stats_header(s), size);
    ((struct gb_stats_header *)copy)->abi_major = GB_STATS_ABI_MAJOR + 1;
    assert_int_equal(gb_reader_attach(&r, copy, size, err, sizeof(err)), -EPROTO);
    snprintf(want, sizeof(want), "ABI version %d.", GB_STATS_ABI_MAJOR + 1);
    must_contain(err, want);
    free(copy);
    stats_destroy(s);
}

/* ---- NUMA panel ------------------------------------------------------------------ */

static void test_numa_panel(void **state)
{
    const char *name = region_name("numa");
    struct stats *s = make(name, 2);
    struct gb_stats_header *h = stats_header(s);
    struct gb_reader r;
    struct gt_model m;
    struct gt_view v = { .utf8 = 0 };
    char err[256], bar[64], want[128];
    (void)state;

    publish(s, h->start_mono_ns + 1000000, 10);
    assert_int_equal(gb_reader_open(&r, name, err, sizeof(err)), 0);
    assert_int_equal(gt_model_init(&m), 0);
    gt_model_update(&m, &r, gt_now_ns());
    char *text = render(&m, &v, GT_P_NUMA);
    must_contain(text, "no placement report from this engine");
    free(text);

    /* format 1: two nodes, the guest memory mostly on node 1, vCPU 0 away */
    struct gb_stats_numa *n = calloc(1, sizeof(*n));
    assert_non_null(n);
    struct gb_stats_numa_report *rep = (void *)n->data;
    n->format = GB_STATS_NUMA_FORMAT;
    n->used = sizeof(*rep);
    rep->nnodes = 2;
    rep->nvcpus = 2;
    rep->policy = GB_NUMA_POLICY_BIND;
    snprintf(rep->policy_text, sizeof(rep->policy_text), "bind=1");
    rep->sample_pages = 512;
    rep->sampled_resident = 400;
    rep->sampled_absent = 112;
    rep->passes = 7;
    const uint64_t pages[2] = { 100, 300 };
    for (unsigned i = 0; i < 2; i++) {
        rep->node[i].os_index = (int)i;
        rep->node[i].sampled_pages = pages[i];
        rep->node[i].est_bytes = pages[i] * 4096 * 10;
        snprintf(rep->node[i].cpus, sizeof(rep->node[i].cpus), "%u-%u", i * 4, i * 4 + 3);
        rep->vcpu[i].vcpu = i;
        rep->vcpu[i].cpu = (int)(i * 4 + 1);
        rep->vcpu[i].node = (int)i;
        rep->vcpu[i].guest_node = -1;
        rep->vcpu[i].tid = 1000 + i;
    }
    rep->node[1].flags = GB_NUMA_NODE_IN_POLICY;
    rep->vcpu[0].flags = GB_NUMA_VCPU_AWAY | GB_NUMA_VCPU_PINNED;
    rep->bind_failures = 1;
    snprintf(rep->warning, sizeof(rep->warning), "vcpu1: cannot bind to node 3");
    gb_stats_seq_store(sec_rec(h, GB_STATS_SEC_NUMA, 0), n, sizeof(*n));
    publish(s, h->start_mono_ns + 2000000, 20);
    gt_model_update(&m, &r, gt_now_ns());
    text = render(&m, &v, GT_P_NUMA);
    must_contain(text, "policy bind=1");
    for (unsigned i = 0; i < 2; i++) {
        double frac = (double)pages[i] / (double)(pages[0] + pages[1]);
        gt_bar(frac, 24, 0, bar, sizeof(bar));
        snprintf(want, sizeof(want), "[%s] %4.0f%%", bar, frac * 100);
        must_contain(text, want);
    }
    must_contain(text, "in policy");
    must_contain(text, "AWAY from its memory");
    must_contain(text, "pinned");
    must_contain(text, "cannot bind to node 3");
    /* only vCPU 0 is flagged */
    char *away = strstr(text, "AWAY");
    char *line = away;
    while (line > text && line[-1] != '\n')
        line--;
    assert_true(strncmp(line, "-1|   0", 7) == 0);
    assert_null(strstr(away + 1, "AWAY"));
    free(text);

    /* a format this reader does not know reads as no report */
    n->format = 99;
    gb_stats_seq_store(sec_rec(h, GB_STATS_SEC_NUMA, 0), n, sizeof(*n));
    gt_model_update(&m, &r, gt_now_ns());
    text = render(&m, &v, GT_P_NUMA);
    must_contain(text, "no placement report from this engine");
    free(text);
    free(n);
    gt_model_free(&m);
    gb_reader_close(&r);
    stats_destroy(s);
}

/* ---- a VM that disappears --------------------------------------------------------- */

static void test_vm_disappears(void **state)
{
    const char *name = region_name("gone");
    struct stats *s = make(name, 1);
    struct gb_reader r;
    struct gt_model m;
    struct gt_view v = { 0 };
    char err[256];
    (void)state;

    uint64_t start = stats_header(s)->start_mono_ns;
    stats_set_status(s, GB_VM_RUNNING, GB_VM_CREATED, start, 0, NULL);
    publish(s, start + 100000000ull, 100);
    assert_int_equal(gb_reader_open(&r, name, err, sizeof(err)), 0);
    uint64_t ino = gt_region_ino(name);
    assert_true(ino != 0);
    assert_int_equal(gt_model_init(&m), 0);
    gt_model_update(&m, &r, gt_now_ns());
    publish(s, start + 200000000ull, 300);
    gt_model_update(&m, &r, gt_now_ns());
    double mips = m.rates.mips;
    assert_true(mips > 0);
    /* the engine removes its region between two samples */
    stats_destroy(s);
    assert_int_equal(gt_model_update(&m, &r, gt_now_ns()), 0);
    gt_vm_check(&m, name, ino);
    assert_int_equal(m.fate, GT_VM_EXITED);
    /* the last numbers stay */
    near(m.rates.mips, mips);
    char *text = render(&m, &v, -1);
    must_contain(text, "state exited");
    must_contain(text, "final state and last numbers shown");
    free(text);
    gt_model_free(&m);
    gb_reader_close(&r);

    /* an engine killed without cleaning up: its pid is gone */
    name = region_name("dead");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct stats_config cfg = { .name = name, .arch = "riscv64", .accel = "tcg",
                                    .nvcpus = 1 };
        struct stats *cs;
        _exit(stats_create(&cs, &cfg, err, sizeof(err)) == 0 ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(gb_reader_open(&r, name, err, sizeof(err)), 0);
    assert_int_equal(gt_model_init(&m), 0);
    gt_model_update(&m, &r, gt_now_ns());
    gt_vm_check(&m, name, gt_region_ino(name));
    assert_int_equal(m.fate, GT_VM_EXITED);
    must_contain(m.fate_text, "has exited");
    gt_model_free(&m);
    gb_reader_close(&r);
    /* clean the region the child left */
    char shm[128];
    snprintf(shm, sizeof(shm), GB_STATS_SHM_PREFIX "%s", name);
    shm_unlink(shm);
}

/* A sampler that stopped sampling (engine stuck or SIGSTOPped) is said. */
static void test_stalled(void **state)
{
    const char *name = region_name("stall");
    struct stats *s = make(name, 1);
    struct gb_reader r;
    struct gt_model m;
    struct gt_view v = { 0 };
    char err[256];
    (void)state;

    assert_int_equal(gb_reader_open(&r, name, err, sizeof(err)), 0);
    assert_int_equal(gt_model_init(&m), 0);
    publish(s, gt_now_ns() - GT_STALL_NS - 2000000000ull, 1);
    gt_model_update(&m, &r, gt_now_ns());
    char *text = render(&m, &v, GT_P_HEADER);
    must_contain(text, "no new sample for");
    free(text);
    publish(s, gt_now_ns(), 2);
    gt_model_update(&m, &r, gt_now_ns());
    text = render(&m, &v, GT_P_HEADER);
    assert_null(strstr(text, "no new sample"));
    free(text);
    gt_model_free(&m);
    gb_reader_close(&r);
    stats_destroy(s);
}

/* Events: the tail keeps the newest GT_EV_TAIL in order. */
static void test_event_tail(void **state)
{
    const char *name = region_name("ev");
    struct stats *s = make(name, 1);
    struct gb_reader r;
    struct gt_model m;
    char err[256], want[32];
    const unsigned total = GT_EV_TAIL + 20;
    (void)state;

    assert_int_equal(gb_reader_open(&r, name, err, sizeof(err)), 0);
    assert_int_equal(gt_model_init(&m), 0);
    for (unsigned i = 0; i < total; i++)
        stats_event(s, GB_EVENT_INFO, "event %u", i);
    publish(s, stats_header(s)->start_mono_ns + 1000, 1);
    gt_model_update(&m, &r, gt_now_ns());
    assert_int_equal(m.nev, GT_EV_TAIL);
    for (unsigned i = 0; i < GT_EV_TAIL; i++) {
        snprintf(want, sizeof(want), "event %u", total - 1 - i);
        assert_string_equal(gt_model_event(&m, i)->text, want);
    }
    assert_null(gt_model_event(&m, GT_EV_TAIL));
    gt_model_free(&m);
    gb_reader_close(&r);
    stats_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_hist),
        cmocka_unit_test(test_spark),
        cmocka_unit_test(test_bar),
        cmocka_unit_test(test_text_helpers),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_hot_order),
        cmocka_unit_test(test_symcache),
        cmocka_unit_test(test_region_text),
        cmocka_unit_test(test_unknown_abi),
        cmocka_unit_test(test_abi_minor_1),
        cmocka_unit_test(test_jit_share_edges),
        cmocka_unit_test(test_numa_panel),
        cmocka_unit_test(test_vm_disappears),
        cmocka_unit_test(test_stalled),
        cmocka_unit_test(test_event_tail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
