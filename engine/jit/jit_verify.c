/* --jit-verify: every entry into a compiled block first runs the same
 * block once in the interpreter from the same state (a probe), records
 * the resulting architectural state and RAM stores, undoes both, then runs
 * the compiled code with its stores logged and compares. A difference
 * stops the hart with a readable diff. The compiled run is the one that
 * stays, so with no difference the guest sees exactly what it would
 * without verification.
 *
 * Blocks that cannot be replayed are run unchecked (counted as skipped):
 * device (MMIO) and HTIF accesses, stores into pages holding code, reads
 * of the time CSR, FENCE.I and WFI, and probes an interrupt or a request
 * got in the way of. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jit_verify.h"
#include "rv_csr.h"
#include "rv_disas.h"

/* The state that is restored after the probe and compared: name, offset
 * in struct rv_hart, element count and size. `xlate`: changing it
 * changes translations, so restoring it needs a TLB flush. */
struct jv_field {
    const char *name;
    size_t off;
    unsigned count, esize;
    int xlate;
};

#define JV_ARR(f, n, x) { #f, offsetof(struct rv_hart, f), n, \
                          sizeof(((struct rv_hart *)0)->f[0]), x }
#define JV_ONE(f, x) { #f, offsetof(struct rv_hart, f), 1, sizeof(((struct rv_hart *)0)->f), x }

static const struct jv_field jv_fields[] = {
    JV_ARR(x, 32, 0), JV_ARR(f, 32, 0),
    JV_ONE(pc, 0), JV_ONE(instret, 0), JV_ONE(priv, 1), JV_ONE(mmu_idx_data, 1),
    JV_ONE(fs_off, 0), JV_ONE(traps, 0), JV_ONE(fatal, 0),
    JV_ONE(mstatus, 1), JV_ONE(misa, 0), JV_ONE(medeleg, 0), JV_ONE(mideleg, 0),
    JV_ONE(mie, 0), JV_ONE(mtvec, 0), JV_ONE(mscratch, 0), JV_ONE(mepc, 0),
    JV_ONE(mcause, 0), JV_ONE(mtval, 0), JV_ONE(mcounteren, 0), JV_ONE(mcountinhibit, 0),
    JV_ONE(menvcfg, 0), JV_ONE(mcycle_off, 0), JV_ONE(minstret_off, 0),
    JV_ONE(stvec, 0), JV_ONE(sscratch, 0), JV_ONE(sepc, 0), JV_ONE(scause, 0),
    JV_ONE(stval, 0), JV_ONE(scounteren, 0), JV_ONE(senvcfg, 0), JV_ONE(satp, 1),
    JV_ONE(mip_sw, 0), JV_ONE(fflags, 0), JV_ONE(frm, 0),
    JV_ARR(pmpcfg, 16, 1), JV_ARR(pmpaddr, 16, 1),
    JV_ONE(resv_addr, 0), JV_ONE(resv_val, 0),
};
#define JV_NFIELDS (sizeof(jv_fields) / sizeof(jv_fields[0]))
#define JV_SNAP_BYTES 2048

struct jv_snap {
    uint8_t b[JV_SNAP_BYTES];
};

struct jit_verify {
    void (*report)(void *opaque, const char *msg);
    void *opaque;
    struct jit_verify_stats st;
    struct jv_snap s0, si;          /* entry state, the interpreter's result */
    struct rv_memlog log[2];        /* stores: interpreter, compiled code */
    char diff[8192];
};

static void snap_take(const struct rv_hart *h, struct jv_snap *s)
{
    size_t pos = 0;

    for (size_t i = 0; i < JV_NFIELDS; i++) {
        size_t len = (size_t)jv_fields[i].count * jv_fields[i].esize;
        memcpy(s->b + pos, (const uint8_t *)h + jv_fields[i].off, len);
        pos += len;
    }
}

/* Put s back; returns nonzero if a translation-relevant field changed. */
static int snap_restore(struct rv_hart *h, const struct jv_snap *s)
{
    size_t pos = 0;
    int xlate = 0;

    for (size_t i = 0; i < JV_NFIELDS; i++) {
        size_t len = (size_t)jv_fields[i].count * jv_fields[i].esize;
        uint8_t *p = (uint8_t *)h + jv_fields[i].off;
        if (jv_fields[i].xlate && memcmp(p, s->b + pos, len))
            xlate = 1;
        memcpy(p, s->b + pos, len);
        pos += len;
    }
    return xlate;
}

int jit_verify_attach(struct rv_hart *h, void (*report)(void *opaque, const char *msg),
                      void *opaque)
{
    struct jit_verify *v;
    size_t need = 0;

    for (size_t i = 0; i < JV_NFIELDS; i++)
        need += (size_t)jv_fields[i].count * jv_fields[i].esize;
    if (need > JV_SNAP_BYTES)
        return -EINVAL;
    v = calloc(1, sizeof(*v));
    if (!v)
        return -ENOMEM;
    v->report = report;
    v->opaque = opaque;
    h->jit_verify = v;
    return 0;
}

void jit_verify_detach(struct rv_hart *h)
{
    free(h->jit_verify);
    h->jit_verify = NULL;
}

int jit_verify_get_stats(const struct rv_hart *h, struct jit_verify_stats *st)
{
    if (!h->jit_verify)
        return -ENOENT;
    *st = h->jit_verify->st;
    return 0;
}

/* Nonzero when the block can be checked at all (see the top comment). */
static int block_checkable(const struct rv_block *b)
{
    for (uint32_t i = 0; i < b->n; i++) {
        unsigned op = i ? b->insns[i].op : b->jit_op0;
        switch (op) {
        case RV_OP_FENCE_I:     /* flushes the block cache */
        case RV_OP_WFI:         /* sleeps */
            return 0;
        case RV_OP_CSRRW: case RV_OP_CSRRS: case RV_OP_CSRRC:
        case RV_OP_CSRRWI: case RV_OP_CSRRSI: case RV_OP_CSRRCI:
            if ((unsigned)b->insns[i].imm == CSR_TIME)     /* the host clock */
                return 0;
            break;
        default:
            break;
        }
    }
    return 1;
}

/* Write back the old bytes of a run's stores, newest first. */
static void log_undo(struct rv_hart *h, const struct rv_memlog *l)
{
    for (unsigned i = l->n; i-- > 0;) {
        uint8_t *p = rv_ram_ptr(h, l->e[i].pa, l->e[i].size);
        uint64_t old = l->e[i].old;
        if (p)
            memcpy(p, &old, l->e[i].size);     /* little-endian host */
    }
}

static void log_begin(struct rv_hart *h, struct rv_memlog *l)
{
    l->n = 0;
    l->refused = 0;
    /* every store must reach rv_store_slow to be logged */
    rv_tlb_flush_store(h);
    h->memlog = l;
}

/* --- the diff ------------------------------------------------------------ */

struct jv_out {
    char *buf;
    size_t len, cap;
};

static void out(struct jv_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(struct jv_out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->len + 1 >= o->cap)
        return;
    va_start(ap, fmt);
    n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len = o->len + (size_t)n < o->cap ? o->len + (size_t)n : o->cap - 1;
}

static void field_name(char *buf, size_t sz, const struct jv_field *f, unsigned k)
{
    if (f->off == offsetof(struct rv_hart, x))
        snprintf(buf, sz, "x%u (%s)", k, rv_reg_name(k));
    else if (f->off == offsetof(struct rv_hart, f))
        snprintf(buf, sz, "f%u (%s)", k, rv_freg_name(k));
    else if (f->count > 1)
        snprintf(buf, sz, "%s[%u]", f->name, k);
    else
        snprintf(buf, sz, "%s", f->name);
}

/* One line per differing state element; returns how many. */
static unsigned diff_state(struct jv_out *o, const struct jv_snap *si, const struct rv_hart *h)
{
    size_t pos = 0;
    unsigned nd = 0;
    char name[32];

    for (size_t i = 0; i < JV_NFIELDS; i++) {
        const struct jv_field *f = &jv_fields[i];
        for (unsigned k = 0; k < f->count; k++, pos += f->esize) {
            uint64_t a = 0, b = 0;
            memcpy(&a, si->b + pos, f->esize);
            memcpy(&b, (const uint8_t *)h + f->off + (size_t)k * f->esize, f->esize);
            if (a == b)
                continue;
            field_name(name, sizeof(name), f, k);
            out(o, "  %-14s interp 0x%016" PRIx64 "  jit 0x%016" PRIx64 "\n", name, a, b);
            nd++;
        }
    }
    return nd;
}

static void store_text(char *buf, size_t sz, const struct rv_memlog *l, unsigned i)
{
    if (i >= l->n)
        snprintf(buf, sz, "none");
    else
        snprintf(buf, sz, "%u bytes at 0x%" PRIx64 " = 0x%" PRIx64, l->e[i].size, l->e[i].pa,
                 l->e[i].val);
}

static unsigned diff_stores(struct jv_out *o, const struct rv_memlog *a, const struct rv_memlog *b)
{
    unsigned n = a->n > b->n ? a->n : b->n, nd = 0;
    char ta[64], tb[64];

    for (unsigned i = 0; i < n; i++) {
        if (i < a->n && i < b->n && a->e[i].pa == b->e[i].pa && a->e[i].size == b->e[i].size &&
            a->e[i].val == b->e[i].val)
            continue;
        store_text(ta, sizeof(ta), a, i);
        store_text(tb, sizeof(tb), b, i);
        out(o, "  store %-8u interp %s  jit %s\n", i + 1, ta, tb);
        nd++;
    }
    return nd;
}

/* The block's instructions, read from guest-physical memory. */
static void disas_block(struct jv_out *o, struct rv_hart *h, const struct rv_block *b, uint64_t bpc)
{
    char text[64];

    out(o, "  block (%u instructions):\n", b->n);
    for (uint32_t i = 0; i < b->n; i++) {
        const struct rv_insn *in = &b->insns[i];
        const uint8_t *p = rv_ram_ptr(h, b->paddr + in->off, in->len);
        uint32_t raw = 0;
        if (!p) {
            out(o, "    0x%" PRIx64 ": (not in RAM)\n", bpc + in->off);
            continue;
        }
        memcpy(&raw, p, in->len);
        rv_disas(text, sizeof(text), bpc + in->off, raw);
        out(o, "    0x%" PRIx64 ": %s\n", bpc + in->off, text);
    }
}

static void report_mismatch(struct rv_hart *h, struct jit_verify *v, const struct rv_block *b,
                            uint64_t bpc)
{
    struct jv_out o = { v->diff, 0, sizeof(v->diff) };

    out(&o, "JIT verify: hart %" PRIu64 ": compiled block at pc 0x%" PRIx64
        " (paddr 0x%" PRIx64 ") differs from the interpreter:\n", h->mhartid, bpc, b->paddr);
    if (v->log[1].refused)
        out(&o, "  the compiled code made an access the interpreter did not (device, "
            "HTIF or code page)\n");
    diff_state(&o, &v->si, h);
    diff_stores(&o, &v->log[0], &v->log[1]);
    disas_block(&o, h, b, bpc);
    if (o.len && v->diff[o.len - 1] == '\n')
        v->diff[o.len - 1] = 0;
    h->fatal = 1;
    snprintf(h->fatal_msg, sizeof(h->fatal_msg),
             "JIT verify: compiled block at pc 0x%" PRIx64 " differs from the interpreter%s",
             bpc, v->report ? " (diff above)" : "");
    if (v->report)
        v->report(v->opaque, v->diff);
}

const char *jit_verify_last_diff(const struct rv_hart *h)
{
    return h->jit_verify ? h->jit_verify->diff : "";
}

/* --- the check ------------------------------------------------------------ */

/* The interpreter's run of exactly this block from the current state:
 * with a budget of one instruction rv_hart_run stops at the first block
 * boundary, so it never chains into the next block. Returns 1 when the
 * run is usable (it ran this block and nothing got in the way), 0 when
 * not, -1 when the block cache was flushed under it (b is gone). */
static int probe(struct rv_hart *h, struct jit_verify *v, struct rv_block *b)
{
    uint64_t execs = b->exec_count, gen = rv_bc_generation(h);
    enum rv_exit e;
    int entered;

    log_begin(h, &v->log[0]);
    b->insns[0].op = b->jit_op0;
    e = rv_hart_run(h, 1);
    h->memlog = NULL;
    if (rv_bc_generation(h) != gen)
        return -1;
    b->insns[0].op = RV_OP_JIT;
    /* entered exactly once: no interrupt or request came first */
    entered = b->exec_count == execs + 1;
    b->exec_count = execs;
    if (e == RV_EXIT_REQUEST)
        rv_hart_request(h, RV_REQ_EXIT);    /* it took the request: put it back */
    return entered && e != RV_EXIT_REQUEST && !v->log[0].refused;
}

/* Undo the probe: its stores, its state and its counters (but not the
 * JIT installs it may have done at its boundary). */
static void unprobe(struct rv_hart *h, struct jit_verify *v, const struct rv_counters *ctr)
{
    struct rv_counters now = h->ctr;

    log_undo(h, &v->log[0]);
    if (snap_restore(h, &v->s0))
        rv_tlb_flush_all(h);
    h->ctr = *ctr;
    h->ctr.jit_requests = now.jit_requests;
    h->ctr.jit_blocks = now.jit_blocks;
    h->ctr.jit_discarded = now.jit_discarded;
    h->ctr.jit_code_bytes = now.jit_code_bytes;
    h->ctr.jit_compile_ns = now.jit_compile_ns;
}

int rv_jit_verify(struct rv_hart *h, struct rv_block *b, uint64_t bpc, uint64_t base)
{
    struct jit_verify *v = h->jit_verify;
    struct jit_region *R = b->jit_region;
    struct rv_counters ctr = h->ctr;
    struct jv_out none = { NULL, 0, 0 };
    int r, ok = 0;

    /* the fast boundary keeps these in locals */
    h->pc = bpc;
    h->instret = base;
    if (block_checkable(b)) {
        snap_take(h, &v->s0);
        ok = probe(h, v, b);
        snap_take(h, &v->si);
        unprobe(h, v, &ctr);
    }
    /* the probe ran one block; a compiled loop back to its start must
     * stop there too (and the interpreter's next boundary be the slow one:
     * the probe re-armed run_limit for its own budget and may have taken a
     * request bit) */
    atomic_store(&h->run_limit, 0);
    if (ok < 0) {
        /* the block cache was flushed under the probe: b is gone, so
         * start over from the slow boundary at the same state */
        v->st.skipped++;
        h->pc = bpc;
        h->instret = base;
        return -1;
    }
    if (ok == 0) {
        v->st.skipped++;
        return R->fn(h, bpc, base, R);
    }
    log_begin(h, &v->log[1]);
    r = R->fn(h, bpc, base, R);
    h->memlog = NULL;
    if (v->log[1].refused)
        h->fatal = 0;               /* set by the refusal, not by the guest */
    v->st.checked++;
    if (v->log[1].refused || diff_state(&none, &v->si, h) ||
        diff_stores(&none, &v->log[0], &v->log[1])) {
        v->st.mismatches++;
        report_mismatch(h, v, b, bpc);
        return -1;
    }
    return r;
}
