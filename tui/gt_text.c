/* glasstop's panels as text lines, and the --once snapshot: see gt_panels.h. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gt_panels.h"

/* One line under construction; emitted through the view's callback. */
struct line {
    char buf[1024];
    size_t len;
    gt_line_fn fn;
    void *ctx;
};

static void add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct line *l, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (l->len >= sizeof(l->buf) - 1)
        return;
    va_start(ap, fmt);
    n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        l->len += (size_t)n < sizeof(l->buf) - l->len ? (size_t)n : sizeof(l->buf) - 1 - l->len;
}

static void emit(struct line *l, enum gt_attr a, int item)
{
    l->fn(l->ctx, a, item, l->buf);
    l->len = 0;
    l->buf[0] = '\0';
}

static void emitf(struct line *l, enum gt_attr a, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void emitf(struct line *l, enum gt_attr a, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(l->buf, sizeof(l->buf), fmt, ap);
    va_end(ap);
    emit(l, a, -1);
}

const char *gt_panel_title(enum gt_panel p)
{
    static const char *const t[GT_P_COUNT] = {
        "glasstop", "vCPUs", "hot blocks", "TLB", "devices", "NUMA placement", "events",
    };
    return (unsigned)p < GT_P_COUNT ? t[p] : "?";
}

const char *gt_state_word(const struct gt_model *m)
{
    if (m->fate == GT_VM_EXITED) {
        uint32_t s = m->cur->status.state;
        /* an engine killed mid-run never said "stopped" */
        return s == GB_VM_STOPPED || s == GB_VM_ERROR ? gb_vm_state_name(s) : "exited";
    }
    return gb_vm_state_name(m->cur->status.state);
}

/* "99.95%" or "-" when there is no rate */
static void pct(char *buf, size_t len, double f)
{
    if (f < 0)
        snprintf(buf, len, "-");
    else if (f >= 0.99995 && f < 1)
        snprintf(buf, len, "99.99%%");     /* never round a miss away to 100% */
    else
        snprintf(buf, len, "%.2f%%", f * 100);
}

static void si(char *buf, size_t len, double v)
{
    gt_fmt_si(buf, len, v);
}

/* "87%" for a share of compiled execution; a share that is not all (or
 * not none) never rounds to 100% (0%); "-" when there is none */
static void share_pct(char *buf, size_t len, double f)
{
    if (f < 0)
        snprintf(buf, len, "-");
    else if (f >= 0.995 && f < 1)
        snprintf(buf, len, "99%%");
    else if (f > 0 && f < 0.005)
        snprintf(buf, len, "<1%%");
    else
        snprintf(buf, len, "%.0f%%", f * 100);
}

/* The JIT counters of all online vCPUs added up. */
static void jit_sum(const struct gt_snap *s, struct gb_stats_vcpu *j)
{
    memset(j, 0, sizeof(*j));
    for (unsigned i = 0; i < s->nvcpus && i < GB_STATS_MAX_VCPUS; i++) {
        const struct gb_stats_vcpu *c = &s->vcpu[i];
        if (!c->online)
            continue;
        j->jit_compiled += c->jit_compiled;
        j->jit_queue_len += c->jit_queue_len;
        j->jit_code_bytes += c->jit_code_bytes;
        j->jit_compile_ns += c->jit_compile_ns;
        j->jit_insns += c->jit_insns;
        j->jit_region_blocks += c->jit_region_blocks;
        j->jit_evictions += c->jit_evictions;
        j->jit_cache_loads += c->jit_cache_loads;
        j->jit_cache_rejects += c->jit_cache_rejects;
        j->jit_chain_hits += c->jit_chain_hits;
    }
}

/* Whether the JIT did anything: without, no JIT figures are shown (--jit
 * off, or an engine that cannot compile). */
static int jit_active(const struct gb_stats_vcpu *j)
{
    return j->jit_compiled || j->jit_queue_len || j->jit_insns || j->jit_region_blocks
        || j->jit_cache_loads || j->jit_cache_rejects;
}

/* Share of compiled execution over the last interval: none before the
 * model has two samples to take a difference of. */
static double jit_share_now(const struct gt_model *m, int hart)
{
    if (m->nsnaps < 2)
        return -1;
    return hart < 0 ? m->rates.jit_share : m->rates.vcpu[hart].jit_share;
}

/* Sparkline of history h, `cols` wide at most. */
static void spark(char *buf, size_t len, const struct gt_hist *h, unsigned cols,
                  double min_span, int utf8)
{
    double v[GT_HIST];
    unsigned n = gt_hist_last(h, v, cols < GT_HIST ? cols : GT_HIST);

    gt_spark(v, n, min_span, utf8, buf, len);
}

static unsigned spark_cols(const struct gt_view *v, unsigned used)
{
    if (v->width == 0)
        return 32;
    return v->width > used + 8 ? (v->width - used > 60 ? 60 : v->width - used) : 0;
}

/* ---- header ------------------------------------------------------------ */

static void panel_header(const struct gt_model *m, const struct gt_view *v, struct line *l)
{
    const struct gt_snap *s = m->cur;
    const struct gt_rates *r = &m->rates;
    char up[32], since[32], now[16], avg[16], sp[256];
    uint64_t ref = s->heartbeat_ns > s->taken_ns ? s->heartbeat_ns : s->taken_ns;
    uint32_t st = s->status.state;
    enum gt_attr a = st == GB_VM_RUNNING ? GT_A_GOOD
        : st == GB_VM_ERROR || m->fate == GT_VM_EXITED ? GT_A_BAD : GT_A_WARN;

    /* a VM that is gone stops its clock at the last sample */
    if (m->fate == GT_VM_EXITED || st == GB_VM_STOPPED || st == GB_VM_ERROR)
        ref = s->heartbeat_ns > s->status.since_mono_ns ? s->heartbeat_ns
                                                        : s->status.since_mono_ns;
    gt_fmt_dur(up, sizeof(up), ref > s->start_mono_ns ? ref - s->start_mono_ns : 0);
    gt_fmt_dur(since, sizeof(since), s->taken_ns > s->status.since_mono_ns
               ? s->taken_ns - s->status.since_mono_ns : 0);
    add(l, "VM %s  %s/%s  state %s (for %s)  uptime %s  pid %u", s->name, s->arch, s->accel,
        gt_state_word(m), since, up, s->pid);
    emit(l, a, -1);
    si(now, sizeof(now), r->mips * 1e6);
    si(avg, sizeof(avg), r->mips_avg * 1e6);
    add(l, "MIPS now %.1f  avg %.1f  (%s/%s insns/s)", r->mips, r->mips_avg, now, avg);
    struct gb_stats_vcpu jit;
    double jit_all = gt_jit_share_total(s, -1);
    jit_sum(s, &jit);
    if (jit_active(&jit) && jit_all >= 0) {
        char jn[16], ja[16];
        share_pct(jn, sizeof(jn), jit_share_now(m, -1));
        share_pct(ja, sizeof(ja), jit_all);
        add(l, "  jit %s now, %s since start", jn, ja);
    }
    unsigned sc = spark_cols(v, (unsigned)l->len + 2);
    if (sc) {
        spark(sp, sizeof(sp), &m->h_mips, sc, 1.0, v->utf8);
        add(l, "  %s", sp);
    }
    emit(l, GT_A_NORMAL, -1);
    emitf(l, GT_A_DIM, "%s  (ABI %u.%u, sampler %u Hz)", s->machine, s->abi_major,
          s->abi_minor, s->sample_hz);
    if (m->fate == GT_VM_EXITED)
        emitf(l, GT_A_BAD, "%s: final state and last numbers shown", m->fate_text);
    else if (s->heartbeat_ns && s->taken_ns > s->heartbeat_ns + GT_STALL_NS)
        emitf(l, GT_A_WARN, "no new sample for %.0f s: the engine is stuck or stopped "
              "(SIGSTOP?)", (double)(s->taken_ns - s->heartbeat_ns) / 1e9);
    if (s->status.reason[0])
        emitf(l, GT_A_BAD, "reason: %s", s->status.reason);
}

/* ---- vCPUs ---------------------------------------------------------------- */

static void panel_vcpu(const struct gt_model *m, const struct gt_view *v, struct line *l)
{
    const struct gt_snap *s = m->cur;
    struct gb_stats_vcpu jit;
    (void)v;

    jit_sum(s, &jit);
    /* the per-hart "jit" column only where the region publishes it */
    int jit_col = jit_active(&jit) && s->abi_minor >= GB_STATS_MINOR_JIT_TIER;
    emitf(l, GT_A_HEAD, "hart mode     MIPS    exc/s    irq/s  idle   I-TLB   D-TLB  "
          "pc                   U/S/M insns%s", jit_col ? "   jit" : "");
    for (unsigned i = 0; i < s->nvcpus; i++) {
        const struct gb_stats_vcpu *c = &s->vcpu[i];
        const struct gt_vcpu_rates *r = &m->rates.vcpu[i];
        char e[16], q[16], ih[16], dh[16], js[16];

        if (!c->online)
            continue;
        si(e, sizeof(e), r->exc_s);
        si(q, sizeof(q), r->irq_s);
        pct(ih, sizeof(ih), r->tlb.itlb_hit);
        pct(dh, sizeof(dh), r->tlb.dtlb_hit);
        add(l, "%4u %4s %8.2f %8s %8s %4.0f%% %7s %7s  0x%016llx", c->index,
            gt_priv_name(c->priv), r->mips, e, q, r->idle * 100, ih, dh,
            (unsigned long long)c->pc);
        /* share of the interval's instructions per mode (a time proxy) */
        if (r->priv_share[0] >= 0)
            add(l, "  %3.0f/%3.0f/%3.0f%%", r->priv_share[0] * 100, r->priv_share[1] * 100,
                r->priv_share[3] * 100);
        else if (jit_col)
            add(l, "  %12s", "-");
        if (jit_col) {
            share_pct(js, sizeof(js), jit_share_now(m, (int)i));
            add(l, " %5s", js);
        }
        emit(l, GT_A_NORMAL, -1);
    }
    if (s->nvcpus == 0)
        emitf(l, GT_A_DIM, "no vCPUs published");
    if (!jit_active(&jit))
        return;
    double all = gt_jit_share_total(s, -1);
    char cb[16], rate[16], now[16], tot[16], ch[16];
    add(l, "JIT:");
    if (all >= 0) {
        share_pct(now, sizeof(now), jit_share_now(m, -1));
        share_pct(tot, sizeof(tot), all);
        add(l, " %s of insns compiled now, %s since start;", now, tot);
    }
    gt_fmt_bytes(cb, sizeof(cb), (double)jit.jit_code_bytes);
    si(rate, sizeof(rate), m->rates.jit_compiled_s);
    add(l, " %llu blocks compiled (%s/s), %llu queued, %s of code, %.1f ms compiling",
        (unsigned long long)jit.jit_compiled, rate, (unsigned long long)jit.jit_queue_len, cb,
        (double)jit.jit_compile_ns / 1e6);
    if (jit.jit_region_blocks || jit.jit_chain_hits) {
        si(ch, sizeof(ch), (double)jit.jit_chain_hits);
        add(l, "; %llu blocks in regions, %s chain hits",
            (unsigned long long)jit.jit_region_blocks, ch);
    }
    if (jit.jit_cache_loads || jit.jit_cache_rejects)
        add(l, "; cache %llu loaded, %llu rejected", (unsigned long long)jit.jit_cache_loads,
            (unsigned long long)jit.jit_cache_rejects);
    if (jit.jit_evictions)
        add(l, "; %llu evicted", (unsigned long long)jit.jit_evictions);
    /* rejected cache entries mean a damaged or foreign cache: worth a look */
    emit(l, jit.jit_cache_rejects ? GT_A_WARN : GT_A_DIM, -1);
}

/* ---- hot blocks --------------------------------------------------------- */

/* The instruction part of a disassembly line "0x80000000  addi a0,a0,1". */
static const char *insn_text(const char *line)
{
    const char *p = strstr(line, "  ");

    if (!p)
        return line;
    while (*p == ' ')
        p++;
    return p;
}

static void panel_hot(const struct gt_model *m, const struct gt_view *v, struct line *l)
{
    const struct gt_snap *s = m->cur;
    const struct gb_stats_hot_list *hl = &s->hot[v->hot_window ? 1 : 0];
    unsigned idx[GB_STATS_HOT_N];
    unsigned n = gt_hot_order(hl, v->sort, idx);
    char win[48];

    if (v->hot_window && hl->window_ns == 0)
        snprintf(win, sizeof(win), "last %u ms (none sampled yet)", s->hot_window_ms);
    else if (v->hot_window)
        snprintf(win, sizeof(win), "last %.1f s", (double)hl->window_ns / 1e9);
    else
        snprintf(win, sizeof(win), "since start");
    if (!v->titled) {
        add(l, "%s, sorted by %s, %u block%s", win, gt_sort_name(v->sort), n,
            n == 1 ? "" : "s");
        if (v->ctl_note)
            add(l, "; no symbols: %s", v->ctl_note);
        emit(l, GT_A_DIM, -1);
    }
    emitf(l, GT_A_HEAD, "  # hart guest pc           symbol                   execs  share"
          " tier insns  first instructions");
    if (v->hot_max && n > v->hot_max)
        n = v->hot_max;
    for (unsigned k = 0; k < n; k++) {
        const struct gb_stats_hot_block *b = &hl->b[idx[k]];
        const struct gt_sym *sym = v->syms ? gt_sym_find(v->syms, b->hart, b->ppc) : NULL;
        char ex[16], pcs[24];

        si(ex, sizeof(ex), (double)b->execs);
        if (b->flags & GB_STATS_HOT_VPC_UNKNOWN)
            snprintf(pcs, sizeof(pcs), "p:%016llx", (unsigned long long)b->ppc);
        else
            snprintf(pcs, sizeof(pcs), "0x%016llx", (unsigned long long)b->vpc);
        add(l, "%3u %4u %s %-22.22s %7s %5.1f%% %4u %5u ", k + 1, b->hart, pcs,
            sym && sym->symbol[0] ? sym->symbol : "-", ex, b->share_ppm / 1e4, b->tier,
            b->ninsns);
        for (unsigned d = 0; sym && d < sym->ndis && d < 4; d++)
            add(l, "%s%s", d ? "; " : " ", insn_text(sym->dis[d]));
        emit(l, k == 0 ? GT_A_WARN : GT_A_NORMAL, (int)idx[k]);
    }
    if (n == 0)
        emitf(l, GT_A_DIM, "no hot blocks sampled yet");
}

/* ---- TLB -------------------------------------------------------------------- */

static void tlb_row(const struct gt_model *m, const struct gt_view *v, struct line *l,
                    const char *what, double now, double total, const struct gt_hist *h,
                    double miss_s)
{
    char a[16], b[16], c[16], sp[256];

    pct(a, sizeof(a), now);
    pct(b, sizeof(b), total);
    si(c, sizeof(c), miss_s);
    add(l, "%s  hit %7s now  %7s total  misses %7s/s", what, a, b, c);
    unsigned sc = spark_cols(v, (unsigned)l->len + 2);
    if (sc) {
        spark(sp, sizeof(sp), h, sc, 0.01, v->utf8);    /* 1 percentage point */
        add(l, "  %s", sp);
    }
    (void)m;
    emit(l, now >= 0 && now < 0.9 ? GT_A_WARN : GT_A_NORMAL, -1);
}

static void panel_tlb(const struct gt_model *m, const struct gt_view *v, struct line *l)
{
    const struct gt_tlb_rates *t = &m->rates.tlb;
    char f[16], w[16], bc[16], bi[16];

    tlb_row(m, v, l, "I-TLB", t->itlb_hit, t->itlb_hit_total, &m->h_itlb, t->itlb_miss_s);
    tlb_row(m, v, l, "D-TLB", t->dtlb_hit, t->dtlb_hit_total, &m->h_dtlb, t->dtlb_miss_s);
    si(f, sizeof(f), t->flush_s);
    si(w, sizeof(w), t->walk_s);
    pct(bc, sizeof(bc), t->bc_hit);
    si(bi, sizeof(bi), t->bc_inval_s);
    emitf(l, GT_A_NORMAL, "flushes %s/s  page walks %s/s  block cache hit %s  "
          "invalidations %s/s", f, w, bc, bi);
}

/* ---- devices and memory ------------------------------------------------------ */

static void panel_dev(const struct gt_model *m, const struct gt_view *v, struct line *l)
{
    const struct gt_snap *s = m->cur;
    const struct gb_stats_memory *mem = &s->mem;
    char a[16], b[16], c[16], d[16], e[16], tot[16];
    unsigned n = 0, idle = 0;
    struct line il = { .fn = l->fn, .ctx = l->ctx };
    (void)v;

    gt_fmt_bytes(a, sizeof(a), (double)mem->ram_bytes);
    gt_fmt_bytes(b, sizeof(b), (double)mem->touched_pages * (double)mem->page_size);
    emitf(l, GT_A_NORMAL, "RAM %s at 0x%llx, %s touched (%llu pages)", a,
          (unsigned long long)mem->ram_base, b, (unsigned long long)mem->touched_pages);
    for (unsigned i = 0; i < GB_STATS_MAX_DEVICES; i++) {
        const struct gb_stats_device *dv = &s->dev[i];
        const struct gt_dev_rates *r = &m->rates.dev[i];

        if (!dv->present)
            continue;
        /* devices the guest never touched share one line */
        if (!dv->requests && !dv->notifications && !dv->bytes_in && !dv->bytes_out
            && !dv->errors) {
            add(&il, "%s%s", idle++ ? ", " : "", dv->name);
            continue;
        }
        if (n++ == 0)
            emitf(l, GT_A_HEAD, "device             req/s        in/s       out/s  err/s"
                  " kicks/s  irq/s  requests");
        si(a, sizeof(a), r->req_s);
        gt_fmt_bytes(b, sizeof(b), r->in_bps);
        gt_fmt_bytes(c, sizeof(c), r->out_bps);
        si(d, sizeof(d), r->notify_s);
        si(e, sizeof(e), r->irq_s);
        si(tot, sizeof(tot), (double)dv->requests);
        add(l, "%-16.16s %7s %9s/s %9s/s %6.1f %7s %6s  %8s", dv->name, a, b, c, r->err_s, d,
            e, tot);
        emit(l, r->err_s > 0 || dv->errors ? GT_A_WARN : GT_A_NORMAL, -1);
    }
    if (idle)
        emitf(l, GT_A_DIM, "%u device%s not used yet: %s", idle, idle == 1 ? "" : "s", il.buf);
    else if (n == 0)
        emitf(l, GT_A_DIM, "no devices");
}

/* ---- NUMA ----------------------------------------------------------------------- */

static void panel_numa(const struct gt_model *m, const struct gt_view *v, struct line *l)
{
    const struct gb_stats_numa *nm = &m->cur->numa;
    const struct gb_stats_numa_report *r = (const void *)nm->data;
    uint64_t sampled = 0;
    char bar[128], a[16], b[16];

    if (nm->format != GB_STATS_NUMA_FORMAT) {
        emitf(l, GT_A_DIM, "no placement report from this engine");
        return;
    }
    unsigned nn = r->nnodes < GB_STATS_NUMA_MAX_NODES ? r->nnodes : GB_STATS_NUMA_MAX_NODES;
    unsigned nv = r->nvcpus < GB_STATS_NUMA_MAX_VCPUS ? r->nvcpus : GB_STATS_NUMA_MAX_VCPUS;
    for (unsigned i = 0; i < nn; i++)
        sampled += r->node[i].sampled_pages;
    char pol[sizeof(r->policy_text) + 1];
    snprintf(pol, sizeof(pol), "%.*s", (int)sizeof(r->policy_text), r->policy_text);
    emitf(l, GT_A_NORMAL, "policy %s%s  sample %llu pages/pass (%llu resident, %llu never "
          "touched)  passes %llu", pol[0] ? pol : "default", r->strict ? " (strict)" : "",
          (unsigned long long)r->sample_pages, (unsigned long long)r->sampled_resident,
          (unsigned long long)r->sampled_absent, (unsigned long long)r->passes);
    emitf(l, GT_A_HEAD, "node cpus          guest memory                    estimated  sampled");
    for (unsigned i = 0; i < nn; i++) {
        const struct gb_stats_numa_node *nd = &r->node[i];
        double frac = sampled ? (double)nd->sampled_pages / (double)sampled : 0;
        char cpus[sizeof(nd->cpus) + 1];

        snprintf(cpus, sizeof(cpus), "%.*s", (int)sizeof(nd->cpus), nd->cpus);
        gt_bar(frac, 24, v->utf8, bar, sizeof(bar));
        gt_fmt_bytes(a, sizeof(a), (double)nd->est_bytes);
        add(l, "%4d %-12.12s [%s] %4.0f%% %9s  %7llu", nd->os_index, cpus, bar, frac * 100,
            a, (unsigned long long)nd->sampled_pages);
        if (nd->flags & GB_NUMA_NODE_IN_POLICY)
            add(l, "  in policy");
        if (nd->flags & GB_NUMA_NODE_NO_MEMORY)
            add(l, "  no memory");
        emit(l, GT_A_NORMAL, -1);
    }
    if (nn == 0)
        emitf(l, GT_A_DIM, "no host NUMA nodes reported");
    emitf(l, GT_A_HEAD, "vcpu  tid       cpu  node  guest-node  allowed");
    for (unsigned i = 0; i < nv; i++) {
        const struct gb_stats_numa_vcpu *c = &r->vcpu[i];
        char allowed[sizeof(c->allowed) + 1];

        snprintf(allowed, sizeof(allowed), "%.*s", (int)sizeof(c->allowed), c->allowed);
        snprintf(a, sizeof(a), c->cpu < 0 ? "?" : "%d", c->cpu);
        snprintf(b, sizeof(b), c->node < 0 ? "?" : "%d", c->node);
        char gn[16];
        snprintf(gn, sizeof(gn), c->guest_node < 0 ? "-" : "%d", c->guest_node);
        add(l, "%4u  %-8u %4s %5s  %10s  %s", c->vcpu, c->tid, a, b, gn, allowed);
        if (c->flags & GB_NUMA_VCPU_PINNED)
            add(l, "  pinned");
        if (c->flags & GB_NUMA_VCPU_UNKNOWN)
            add(l, "  placement unknown");
        if (c->flags & GB_NUMA_VCPU_AWAY)
            add(l, "  AWAY from its memory");
        emit(l, c->flags & GB_NUMA_VCPU_AWAY ? GT_A_BAD : GT_A_NORMAL, -1);
    }
    if (r->bind_failures || r->warning[0]) {
        char w[sizeof(r->warning) + 1];
        snprintf(w, sizeof(w), "%.*s", (int)sizeof(r->warning), r->warning);
        emitf(l, GT_A_WARN, "%u binding%s refused%s%s", r->bind_failures,
              r->bind_failures == 1 ? "" : "s", w[0] ? ": " : "", w);
    }
}

/* ---- events ------------------------------------------------------------------------- */

static const char *event_kind(uint32_t k)
{
    static const char *const names[] = { "info", "lifecycle", "reset", "error", "control",
                                         "guest" };
    return k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

static void panel_events(const struct gt_model *m, const struct gt_view *v, struct line *l)
{
    unsigned n = m->nev;

    if (v->ev_max && n > v->ev_max)
        n = v->ev_max;
    if (m->ev_lost)
        emitf(l, GT_A_DIM, "(%llu older events were overwritten before they were read)",
              (unsigned long long)m->ev_lost);
    for (unsigned i = n; i-- > 0;) {
        const struct gb_stats_event *e = gt_model_event(m, i);
        uint64_t t = e->mono_ns > m->cur->start_mono_ns ? e->mono_ns - m->cur->start_mono_ns : 0;
        emitf(l, e->kind == GB_EVENT_ERROR ? GT_A_BAD : e->kind == GB_EVENT_LIFECYCLE
              ? GT_A_WARN : GT_A_NORMAL, "%10.3fs  %-9s  %s", (double)t / 1e9,
              event_kind(e->kind), e->text);
    }
    if (m->nev == 0)
        emitf(l, GT_A_DIM, "no events");
}

void gt_panel_lines(enum gt_panel p, const struct gt_model *m, const struct gt_view *v,
                    gt_line_fn fn, void *ctx)
{
    static void (*const panels[GT_P_COUNT])(const struct gt_model *, const struct gt_view *,
                                            struct line *) = {
        panel_header, panel_vcpu, panel_hot, panel_tlb, panel_dev, panel_numa, panel_events,
    };
    struct line l = { .fn = fn, .ctx = ctx };

    if ((unsigned)p < GT_P_COUNT && m->nsnaps > 0)
        panels[p](m, v, &l);
}

/* ---- layout ------------------------------------------------------------------------ */

/* Give panel p up to `want` more lines, within its need and the room. */
static void grow(int rows[GT_P_COUNT], const int need[GT_P_COUNT], enum gt_panel p, int want,
                 int avail, int *used)
{
    int add = need[p] - rows[p];

    if (add > want)
        add = want;
    if (add > avail - *used)
        add = avail - *used;
    if (add > 0) {
        rows[p] += add;
        *used += add;
    }
}

void gt_layout(const int need[GT_P_COUNT], enum gt_panel focus, int avail, int rows[GT_P_COUNT])
{
    /* the least each panel gets before the focused one takes more */
    static const int mins[GT_P_COUNT] = { 0, 3, 3, 2, 2, 2, 2 };
    /* who gets spare lines after the focused panel; shrunk in reverse */
    static const enum gt_panel order[] = { GT_P_HOT, GT_P_TLB, GT_P_VCPU, GT_P_DEV,
                                           GT_P_NUMA, GT_P_EVENTS };
    const int norder = (int)(sizeof(order) / sizeof(order[0]));
    int used = 0;

    if (avail < 0)
        avail = 0;
    rows[GT_P_HEADER] = 0;
    for (int p = GT_P_VCPU; p < GT_P_COUNT; p++) {
        rows[p] = need[p] < mins[p] ? need[p] : mins[p];
        used += rows[p];
    }
    /* too small a screen: shrink the least important first, the focus last */
    for (int k = norder - 1; used > avail && k >= 0; k--) {
        enum gt_panel p = order[k];
        if (p == focus)
            continue;
        int cut = rows[p] < used - avail ? rows[p] : used - avail;
        rows[p] -= cut;
        used -= cut;
    }
    if (used > avail) {
        rows[focus] -= used - avail;
        used = avail;
    }
    /* the focused panel first, up to 3/5 of the room; then the others in
     * order; then whatever is left to the focused panel again */
    int cap = avail * 3 / 5;
    grow(rows, need, focus, cap > rows[focus] ? cap - rows[focus] : 0, avail, &used);
    for (int k = 0; k < norder; k++)
        if (order[k] != focus)
            grow(rows, need, order[k], need[order[k]], avail, &used);
    grow(rows, need, focus, need[focus], avail, &used);
}

/* ---- the --once snapshot -------------------------------------------------------------- */

static void print_line(void *ctx, enum gt_attr a, int item, const char *text)
{
    (void)a;
    (void)item;
    fprintf(ctx, "  %s\n", text);
}

void gt_text_snapshot(FILE *f, const struct gt_model *m, const struct gt_view *v)
{
    for (unsigned p = 0; p < GT_P_COUNT; p++) {
        struct gt_view w = *v;
        unsigned windows = p == GT_P_HOT ? 2 : 1;

        for (unsigned k = 0; k < windows; k++) {
            if (p == GT_P_HEADER)
                fprintf(f, "glasstop: VM %s\n", m->cur->name);
            else if (p == GT_P_VCPU || p == GT_P_TLB)
                fprintf(f, "\n%s (over %.2f s)\n", gt_panel_title(p), m->rates.dt_s);
            else
                fprintf(f, "\n%s\n", gt_panel_title(p));
            /* the snapshot shows both hot-block windows, recent first */
            w.hot_window = windows == 2 ? !k : v->hot_window;
            gt_panel_lines(p, m, &w, print_line, f);
        }
    }
}
