/* glasstop's model: see gt_model.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "gt_model.h"

uint64_t gt_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- snapshots ---------------------------------------------------------- */

int gt_snap_take(struct gt_snap *s, const struct gb_reader *r, uint64_t now_ns)
{
    const struct gb_stats_header *h = r->hdr;
    int rc = 0;

    s->taken_ns = now_ns;
    s->heartbeat_ns = gb_reader_heartbeat(r);
    s->sample_count = __atomic_load_n(&h->sample_count, __ATOMIC_RELAXED);
    s->sample_hz = h->sample_hz;
    s->hot_window_ms = h->hot_window_ms;
    s->abi_major = h->abi_major;
    s->abi_minor = h->abi_minor;
    s->pid = h->pid;
    s->nvcpus = h->nvcpus;
    s->start_mono_ns = h->start_mono_ns;
    s->start_real_ns = h->start_real_ns;
    /* identity strings are written once before the magic: plain copies */
    memcpy(s->name, h->name, sizeof(s->name));
    memcpy(s->arch, h->arch, sizeof(s->arch));
    memcpy(s->accel, h->accel, sizeof(s->accel));
    memcpy(s->machine, h->machine, sizeof(s->machine));
    s->name[sizeof(s->name) - 1] = s->arch[sizeof(s->arch) - 1] = '\0';
    s->accel[sizeof(s->accel) - 1] = s->machine[sizeof(s->machine) - 1] = '\0';
    /* a record the writer left mid-update keeps its previous copy */
    if (gb_reader_status(r, &s->status) < 0)
        rc = -EAGAIN;
    s->status.reason[sizeof(s->status.reason) - 1] = '\0';
    for (unsigned i = 0; i < s->nvcpus; i++) {
        struct gb_stats_vcpu *v = &s->vcpu[i];
        if (gb_reader_vcpu(r, i, v) < 0)
            rc = -EAGAIN;
        /* words a 1.1 writer kept reserved: never read them as counters */
        if (s->abi_minor < GB_STATS_MINOR_JIT_TIER)
            memset(&v->jit_insns, 0,
                   offsetof(struct gb_stats_vcpu, reserved)
                       - offsetof(struct gb_stats_vcpu, jit_insns));
    }
    for (unsigned k = 0; k < 2; k++) {
        if (gb_reader_hot(r, k, &s->hot[k]) < 0)
            rc = -EAGAIN;
        if (s->hot[k].count > GB_STATS_HOT_N)
            s->hot[k].count = GB_STATS_HOT_N;
    }
    for (unsigned i = 0; i < GB_STATS_MAX_DEVICES; i++) {
        if (gb_reader_device(r, i, &s->dev[i]) < 0)
            rc = -EAGAIN;
        s->dev[i].name[sizeof(s->dev[i].name) - 1] = '\0';
    }
    if (gb_reader_memory(r, &s->mem) < 0)
        rc = -EAGAIN;
    if (gb_reader_numa(r, &s->numa) < 0)
        rc = -EAGAIN;
    return rc;
}

/* ---- rates -------------------------------------------------------------- */

double gt_frac(uint64_t hits, uint64_t lookups)
{
    return lookups ? (double)hits / (double)lookups : -1.0;
}

/* gt_frac capped at 1: instret and jit_insns are sampled one after the
 * other, so the part may run a little ahead of the whole. */
static double share(uint64_t part, uint64_t all)
{
    double f = gt_frac(part, all);

    return f > 1 ? 1 : f;
}

double gt_jit_share_total(const struct gt_snap *s, int hart)
{
    uint64_t jit = 0, all = 0;

    if (s->abi_minor < GB_STATS_MINOR_JIT_TIER)
        return -1;
    for (unsigned i = 0; i < s->nvcpus && i < GB_STATS_MAX_VCPUS; i++) {
        if (hart >= 0 && (unsigned)hart != i)
            continue;
        jit += s->vcpu[i].jit_insns;
        all += s->vcpu[i].instret;
    }
    return share(jit, all);
}

/* Counter difference that survives a reset of the source (e.g. a new
 * engine of the same name): a counter that went backwards counts from 0. */
static uint64_t delta(uint64_t a, uint64_t b)
{
    return b >= a ? b - a : b;
}

static uint64_t sum16(const uint64_t *v)
{
    uint64_t s = 0;

    for (unsigned i = 0; i < 16; i++)
        s += v[i];
    return s;
}

/* Cumulative TLB counters of one vCPU, or of all of them added up. */
struct tlb_counts {
    uint64_t il, ih, im, dl, dh, dm, fl, walks, bl, bh, binv;
};

static void tlb_add(struct tlb_counts *t, const struct gb_stats_vcpu *v)
{
    t->il += v->itlb_lookups;
    t->ih += v->itlb_hits;
    t->im += v->itlb_misses;
    t->dl += v->dtlb_lookups;
    t->dh += v->dtlb_hits;
    t->dm += v->dtlb_misses;
    t->fl += v->itlb_flushes + v->dtlb_flushes;
    t->walks += v->page_walks;
    t->bl += v->bc_lookups;
    t->bh += v->bc_hits;
    t->binv += v->bc_invalidations;
}

static void tlb_rates(const struct tlb_counts *a, const struct tlb_counts *b, double dt,
                      struct gt_tlb_rates *o)
{
    o->itlb_hit = gt_frac(delta(a->ih, b->ih), delta(a->il, b->il));
    o->dtlb_hit = gt_frac(delta(a->dh, b->dh), delta(a->dl, b->dl));
    o->itlb_hit_total = gt_frac(b->ih, b->il);
    o->dtlb_hit_total = gt_frac(b->dh, b->dl);
    o->bc_hit = gt_frac(delta(a->bh, b->bh), delta(a->bl, b->bl));
    if (dt <= 0)
        return;
    o->itlb_miss_s = (double)delta(a->im, b->im) / dt;
    o->dtlb_miss_s = (double)delta(a->dm, b->dm) / dt;
    o->flush_s = (double)delta(a->fl, b->fl) / dt;
    o->walk_s = (double)delta(a->walks, b->walks) / dt;
    o->bc_inval_s = (double)delta(a->binv, b->binv) / dt;
}

static double per_s(uint64_t a, uint64_t b, double dt)
{
    return dt > 0 ? (double)delta(a, b) / dt : 0.0;
}

void gt_rates_compute(const struct gt_snap *a, const struct gt_snap *b, struct gt_rates *o)
{
    struct tlb_counts ta = { 0 }, tb = { 0 };
    uint64_t instret = 0, t0 = 0, t1 = 0, d_all = 0, d_jit = 0;
    unsigned n = b->nvcpus < GB_STATS_MAX_VCPUS ? b->nvcpus : GB_STATS_MAX_VCPUS;
    int jit_known = a->abi_minor >= GB_STATS_MINOR_JIT_TIER
                    && b->abi_minor >= GB_STATS_MINOR_JIT_TIER;

    memset(o, 0, sizeof(*o));
    for (unsigned i = 0; i < n; i++) {
        const struct gb_stats_vcpu *va = &a->vcpu[i], *vb = &b->vcpu[i];
        struct gt_vcpu_rates *r = &o->vcpu[i];
        struct tlb_counts ca = { 0 }, cb = { 0 };
        double dt = vb->sample_mono_ns > va->sample_mono_ns
            ? (double)(vb->sample_mono_ns - va->sample_mono_ns) / 1e9 : 0.0;

        tlb_add(&ca, va);
        tlb_add(&cb, vb);
        tlb_add(&ta, va);
        tlb_add(&tb, vb);
        tlb_rates(&ca, &cb, dt, &r->tlb);
        instret += vb->instret;
        uint64_t di = delta(va->instret, vb->instret), dj = delta(va->jit_insns, vb->jit_insns);
        r->jit_share = jit_known ? share(dj, di) : -1.0;
        d_all += di;
        d_jit += dj;
        uint64_t pall = 0;
        for (unsigned p = 0; p < 4; p++)
            pall += delta(va->insns_by_priv[p], vb->insns_by_priv[p]);
        for (unsigned p = 0; p < 4; p++)
            r->priv_share[p] = pall ? (double)delta(va->insns_by_priv[p], vb->insns_by_priv[p])
                                          / (double)pall : -1.0;
        if (dt > 0) {
            r->mips = per_s(va->instret, vb->instret, dt) / 1e6;
            r->exc_s = per_s(sum16(va->exceptions), sum16(vb->exceptions), dt);
            r->irq_s = per_s(sum16(va->interrupts), sum16(vb->interrupts), dt);
            r->idle = (double)delta(va->wfi_ns, vb->wfi_ns) / (dt * 1e9);
            if (r->idle > 1)
                r->idle = 1;
            o->jit_compiled_s += per_s(va->jit_compiled, vb->jit_compiled, dt);
        }
        o->mips += r->mips;
        o->exc_s += r->exc_s;
        o->irq_s += r->irq_s;
        if (i == 0 || vb->sample_mono_ns > t1)
            t1 = vb->sample_mono_ns;
        if (i == 0 || va->sample_mono_ns > t0)
            t0 = va->sample_mono_ns;
    }
    o->dt_s = t1 > t0 ? (double)(t1 - t0) / 1e9 : 0.0;
    o->jit_share = jit_known ? share(d_jit, d_all) : -1.0;
    tlb_rates(&ta, &tb, o->dt_s, &o->tlb);
    if (b->heartbeat_ns > b->start_mono_ns)
        o->mips_avg = (double)instret / ((double)(b->heartbeat_ns - b->start_mono_ns) / 1e3);
    double ddt = b->heartbeat_ns > a->heartbeat_ns
        ? (double)(b->heartbeat_ns - a->heartbeat_ns) / 1e9 : 0.0;
    for (unsigned i = 0; i < GB_STATS_MAX_DEVICES && ddt > 0; i++) {
        const struct gb_stats_device *da = &a->dev[i], *db = &b->dev[i];
        struct gt_dev_rates *r = &o->dev[i];

        if (!db->present)
            continue;
        r->req_s = per_s(da->requests, db->requests, ddt);
        r->in_bps = per_s(da->bytes_in, db->bytes_in, ddt);
        r->out_bps = per_s(da->bytes_out, db->bytes_out, ddt);
        r->err_s = per_s(da->errors, db->errors, ddt);
        r->notify_s = per_s(da->notifications, db->notifications, ddt);
        r->irq_s = per_s(da->interrupts, db->interrupts, ddt);
    }
}

/* ---- history ------------------------------------------------------------- */

void gt_hist_push(struct gt_hist *h, double v)
{
    h->v[h->next] = v;
    h->next = (h->next + 1) % GT_HIST;
    if (h->n < GT_HIST)
        h->n++;
}

unsigned gt_hist_last(const struct gt_hist *h, double *out, unsigned max)
{
    unsigned k = h->n < max ? h->n : max;

    for (unsigned i = 0; i < k; i++)
        out[i] = h->v[(h->next + GT_HIST - k + i) % GT_HIST];
    return k;
}

/* ---- drawing helpers ------------------------------------------------------ */

/* U+2581..U+2588: lower one eighth .. full block; U+258F..U+2589: left
 * one eighth .. seven eighths. All three bytes in UTF-8. */
static const char *const spark_utf8[8] = {
    "\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588",
};
static const char spark_ascii[8] = { '_', '.', ':', '-', '=', '+', '*', '#' };
static const char *const eighths_utf8[8] = {
    "", "\u258f", "\u258e", "\u258d", "\u258c", "\u258b", "\u258a", "\u2589",
};

/* Append s to out[*pos..) if it fits with the NUL. */
static int put(char *out, size_t outlen, size_t *pos, const char *s)
{
    size_t l = strlen(s);

    if (*pos + l + 1 > outlen)
        return -1;
    memcpy(out + *pos, s, l + 1);
    *pos += l;
    return 0;
}

unsigned gt_spark(const double *v, unsigned n, double min_span, int utf8, char *out,
                  size_t outlen)
{
    double lo = 0, hi = 0;
    int any = 0;
    size_t pos = 0;
    unsigned cols = 0;

    if (outlen)
        out[0] = '\0';
    for (unsigned i = 0; i < n; i++) {
        if (v[i] < 0)
            continue;
        if (!any || v[i] < lo)
            lo = v[i];
        if (!any || v[i] > hi)
            hi = v[i];
        any = 1;
    }
    if (hi - lo < min_span) {
        double mid = (hi + lo) / 2;
        lo = mid - min_span / 2;
        hi = mid + min_span / 2;
    }
    for (unsigned i = 0; i < n; i++) {
        char a[2] = { ' ', 0 };
        const char *s = a;
        if (v[i] >= 0) {
            /* a flat line sits mid-height: "steady", not "zero" */
            int lvl = hi > lo ? (int)((v[i] - lo) / (hi - lo) * 7.0 + 0.5) : 3;
            if (utf8)
                s = spark_utf8[lvl];
            else
                a[0] = spark_ascii[lvl];
        }
        if (put(out, outlen, &pos, s) < 0)
            break;
        cols++;
    }
    return cols;
}

unsigned gt_bar(double frac, unsigned width, int utf8, char *out, size_t outlen)
{
    size_t pos = 0;
    unsigned cols = 0;

    if (outlen)
        out[0] = '\0';
    if (!(frac >= 0))           /* also NaN */
        frac = 0;
    if (frac > 1)
        frac = 1;
    unsigned eighths = (unsigned)(frac * width * 8 + 0.5);
    for (; cols < width; cols++) {
        const char *s;
        char a[2] = { 0, 0 };
        if (eighths >= 8) {
            s = utf8 ? spark_utf8[7] : "#";
            eighths -= 8;
        } else if (eighths > 0 && utf8) {
            s = eighths_utf8[eighths];
            eighths = 0;
        } else {
            /* ASCII rounds a partial cell: half or more draws '#' */
            a[0] = utf8 ? ' ' : (eighths >= 4 ? '#' : '.');
            s = a;
            eighths = 0;
        }
        if (put(out, outlen, &pos, s) < 0)
            break;
    }
    return cols;
}

unsigned gt_cols(const char *s)
{
    unsigned n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

size_t gt_clip(const char *s, unsigned cols)
{
    size_t i = 0;
    unsigned n = 0;

    while (s[i]) {
        if (((unsigned char)s[i] & 0xc0) != 0x80) {
            if (n == cols)
                break;
            n++;
        }
        i++;
    }
    return i;
}

void gt_fmt_si(char *buf, size_t len, double v)
{
    static const char suf[] = " kMGTP";
    unsigned k = 0;

    while ((v >= 999.5 || v <= -999.5) && k < sizeof(suf) - 2) {
        v /= 1000;
        k++;
    }
    if (k == 0)
        snprintf(buf, len, v == (double)(long long)v ? "%.0f" : "%.1f", v);
    else
        snprintf(buf, len, v < 9.995 ? "%.2f%c" : v < 99.95 ? "%.1f%c" : "%.0f%c", v, suf[k]);
}

void gt_fmt_bytes(char *buf, size_t len, double v)
{
    static const char *const suf[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    unsigned k = 0;

    while (v >= 1023.5 && k < 4) {
        v /= 1024;
        k++;
    }
    snprintf(buf, len, k == 0 ? "%.0f %s" : "%.1f %s", v, suf[k]);
}

void gt_fmt_dur(char *buf, size_t len, uint64_t ns)
{
    uint64_t s = ns / 1000000000ull;

    if (s >= 86400)
        snprintf(buf, len, "%llud %02llu:%02llu:%02llu", (unsigned long long)(s / 86400),
                 (unsigned long long)(s / 3600 % 24), (unsigned long long)(s / 60 % 60),
                 (unsigned long long)(s % 60));
    else
        snprintf(buf, len, "%02llu:%02llu:%02llu", (unsigned long long)(s / 3600),
                 (unsigned long long)(s / 60 % 60), (unsigned long long)(s % 60));
}

const char *gt_priv_name(uint32_t priv)
{
    switch (priv) {
    case 0: return "U";
    case 1: return "S";
    case 3: return "M";
    default: return "?";
    }
}

/* ---- hot-block order -------------------------------------------------------- */

const char *gt_sort_name(enum gt_sort s)
{
    static const char *const names[GT_SORT_COUNT] = { "executions", "share", "pc" };
    return (unsigned)s < GT_SORT_COUNT ? names[s] : "?";
}

static uint64_t block_pc(const struct gb_stats_hot_block *b)
{
    return (b->flags & GB_STATS_HOT_VPC_UNKNOWN) ? b->ppc : b->vpc;
}

/* > 0 when block x sorts after block y */
static int hot_cmp(const struct gb_stats_hot_block *x, const struct gb_stats_hot_block *y,
                   enum gt_sort s)
{
    switch (s) {
    case GT_SORT_SHARE:
        if (x->share_ppm != y->share_ppm)
            return x->share_ppm < y->share_ppm ? 1 : -1;
        break;
    case GT_SORT_PC:
        if (block_pc(x) != block_pc(y))
            return block_pc(x) > block_pc(y) ? 1 : -1;
        break;
    default:
        break;
    }
    if (x->execs != y->execs)
        return x->execs < y->execs ? 1 : -1;
    return 0;
}

unsigned gt_hot_order(const struct gb_stats_hot_list *l, enum gt_sort s, unsigned *idx)
{
    unsigned n = l->count <= GB_STATS_HOT_N ? l->count : GB_STATS_HOT_N;

    /* insertion sort, stable: at most 32 entries */
    for (unsigned i = 0; i < n; i++) {
        unsigned j = i;
        while (j > 0 && hot_cmp(&l->b[idx[j - 1]], &l->b[i], s) > 0) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = i;
    }
    return n;
}

/* ---- symbol cache ------------------------------------------------------------ */

static struct gt_sym *sym_slot(struct gt_symcache *c, uint32_t hart, uint64_t ppc)
{
    for (unsigned i = 0; i < c->n; i++)
        if (c->e[i].ppc == ppc && c->e[i].hart == hart)
            return &c->e[i];
    return NULL;
}

const struct gt_sym *gt_sym_find(const struct gt_symcache *c, uint32_t hart, uint64_t ppc)
{
    return sym_slot((struct gt_symcache *)c, hart, ppc);
}

int gt_sym_put(struct gt_symcache *c, uint32_t hart, uint64_t vpc, uint64_t ppc,
               const char *symbol, const char *const *dis, unsigned ndis)
{
    struct gt_sym *e = sym_slot(c, hart, ppc);

    if (!e) {
        if (c->n < GT_SYM_CACHE) {
            e = &c->e[c->n++];
        } else {
            /* evict the least recently stored */
            e = &c->e[0];
            for (unsigned i = 1; i < c->n; i++)
                if (c->e[i].stamp < e->stamp)
                    e = &c->e[i];
        }
        free(e->dis);
        memset(e, 0, sizeof(*e));
    }
    e->hart = hart;
    e->vpc = vpc;
    e->ppc = ppc;
    e->stamp = ++c->clock;
    snprintf(e->symbol, sizeof(e->symbol), "%s", symbol ? symbol : "");
    if (ndis > e->ndis || (ndis && !e->dis)) {
        char (*d)[GT_DIS_LINE] = malloc((size_t)ndis * GT_DIS_LINE);
        if (!d)
            return -ENOMEM;
        for (unsigned i = 0; i < ndis; i++)
            snprintf(d[i], GT_DIS_LINE, "%s", dis[i] ? dis[i] : "");
        free(e->dis);
        e->dis = d;
        e->ndis = ndis;
    }
    return 0;
}

void gt_sym_free(struct gt_symcache *c)
{
    for (unsigned i = 0; i < c->n; i++)
        free(c->e[i].dis);
    memset(c, 0, sizeof(*c));
}

/* ---- model ------------------------------------------------------------------- */

int gt_model_init(struct gt_model *m)
{
    memset(m, 0, sizeof(*m));
    m->prev = calloc(1, sizeof(*m->prev));
    m->cur = calloc(1, sizeof(*m->cur));
    m->scratch = calloc(1, sizeof(*m->scratch));
    if (!m->prev || !m->cur || !m->scratch) {
        gt_model_free(m);
        return -ENOMEM;
    }
    return 0;
}

void gt_model_free(struct gt_model *m)
{
    free(m->prev);
    free(m->cur);
    free(m->scratch);
    memset(m, 0, sizeof(*m));
}

static void read_events(struct gt_model *m, const struct gb_reader *r)
{
    struct gb_stats_event chunk[16];
    int got;

    while ((got = gb_reader_events(r, &m->ev_cursor, chunk, 16, &m->ev_lost)) > 0) {
        for (int i = 0; i < got; i++) {
            m->ev[m->ev_next] = chunk[i];
            m->ev_next = (m->ev_next + 1) % GT_EV_TAIL;
            if (m->nev < GT_EV_TAIL)
                m->nev++;
        }
    }
}

const struct gb_stats_event *gt_model_event(const struct gt_model *m, unsigned i)
{
    if (i >= m->nev)
        return NULL;
    return &m->ev[(m->ev_next + GT_EV_TAIL - 1 - i) % GT_EV_TAIL];
}

int gt_model_update(struct gt_model *m, const struct gb_reader *r, uint64_t now_ns)
{
    struct gt_snap *t = m->scratch;
    int rc;

    /* start from the newest copy, so that a record the writer left
     * mid-update keeps its last consistent content */
    if (m->nsnaps > 0)
        memcpy(t, m->cur, sizeof(*t));
    rc = gt_snap_take(t, r, now_ns);
    read_events(m, r);
    if (m->nsnaps > 0 && t->heartbeat_ns == m->cur->heartbeat_ns) {
        /* no new sample (or the engine is gone): keep the rate base */
        memcpy(m->cur, t, sizeof(*t));
        return rc;
    }
    m->scratch = m->prev;
    m->prev = m->cur;
    m->cur = t;
    if (m->nsnaps++ == 0)
        return rc;
    gt_rates_compute(m->prev, m->cur, &m->rates);
    gt_hist_push(&m->h_mips, m->rates.mips);
    gt_hist_push(&m->h_itlb, m->rates.tlb.itlb_hit);
    gt_hist_push(&m->h_dtlb, m->rates.tlb.dtlb_hit);
    return rc;
}

uint64_t gt_region_ino(const char *name)
{
    char path[GB_STATS_NAME_MAX + 32];
    struct stat st;

    snprintf(path, sizeof(path), "/dev/shm" GB_STATS_SHM_PREFIX "%s", name);
    return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

void gt_vm_check(struct gt_model *m, const char *name, uint64_t ino)
{
    uint32_t pid = m->nsnaps ? m->cur->pid : 0;
    uint64_t now_ino = gt_region_ino(name);

    if (m->fate == GT_VM_EXITED)
        return;
    if (pid && kill((pid_t)pid, 0) < 0 && errno == ESRCH) {
        m->fate = GT_VM_EXITED;
        snprintf(m->fate_text, sizeof(m->fate_text), "engine (pid %u) has exited", pid);
    } else if (now_ino == 0) {
        m->fate = GT_VM_EXITED;
        snprintf(m->fate_text, sizeof(m->fate_text), "VM exited (stats region removed)");
    } else if (ino && now_ino != ino) {
        m->fate = GT_VM_EXITED;
        snprintf(m->fate_text, sizeof(m->fate_text),
                 "VM exited (a new VM of the same name started)");
    }
}
