/*
 * Randomized differential test of the JIT against the interpreter: random
 * RV64 programs (integer ALU, M, loads/stores around a RAM window and
 * outside RAM, misaligned accesses, branches and jumps, FP through the
 * helpers and inline FP loads/stores, CSRs, AMOs, ECALL and illegal
 * instructions with a trap handler) run on two harts from the same state,
 * one interpreted and one with every block compiled. Registers, pc,
 * instret, trap CSRs, counters and RAM must match. A mismatch prints the
 * seed and a shrunk program (instructions replaced by NOPs while the
 * difference stays), disassembled.
 *
 * Each program runs twice per hart: pass 1 decodes the blocks (and, on the
 * JIT hart, queues them all for one compile batch), pass 2 restarts from
 * the same state with everything cached (and compiled) and is compared.
 * GB_JIT_DIFF_SEEDS=N runs more programs; GB_JIT_DIFF_SEED=S only seed S.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jit/jit.h"
#include "rv_cpu.h"
#include "rv_fpu.h"
#include "rv_disas.h"
#include "hart_fixture.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1ull << 20)
#define HANDLER (RAM_BASE + 0x10000)
#define DATA (RAM_BASE + 0x20000)
#define MAX_PROG 96
#define BUDGET 4000

/* instruction i: w[i] at byte offset off[i], 2 or 4 bytes (len[i]);
 * off[n] is the final `j .` */
struct prog {
    uint32_t w[MAX_PROG];
    uint16_t off[MAX_PROG + 1];
    uint8_t len[MAX_PROG];
    unsigned n;
};

struct side {
    struct rv_hart *h;
    uint8_t *ram;
    struct jit_mgr *jit;
    int warmup;     /* one more pass first: blocks get hot with all decoded */
};

static uint64_t rng;

static int fp_heavy;        /* the program being generated is FP-heavy */


static uint64_t rnd(void)
{
    /* xorshift64*: the seed alone reproduces a program */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ull;
}

static unsigned pick(unsigned n)
{
    return (unsigned)(rnd() % n);
}

/* An FP register for a double (d) or single operand: in FP-heavy
 * programs f0-f3 hold ordinary doubles and f4-f7 NaN-boxed singles
 * (load_state), so that results are mostly normal numbers, the inline
 * fast path's case; elsewhere any of f0-f7. */
static unsigned fr(int d)
{
    return fp_heavy ? (d ? 0 : 4) + pick(4) : pick(8);
}

/* --- encoders ------------------------------------------------------------- */
static uint32_t r_type(unsigned f7, unsigned rs2, unsigned rs1, unsigned f3, unsigned rd, unsigned op)
{
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}

static uint32_t i_type(int imm, unsigned rs1, unsigned f3, unsigned rd, unsigned op)
{
    return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}

static uint32_t s_type(int imm, unsigned rs2, unsigned rs1, unsigned f3, unsigned op)
{
    uint32_t u = (uint32_t)imm;
    return (u >> 5 & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (u & 0x1f) << 7 | op;
}

static uint32_t b_type(int imm, unsigned rs2, unsigned rs1, unsigned f3)
{
    uint32_t u = (uint32_t)imm;
    return (u >> 12 & 1) << 31 | (u >> 5 & 0x3f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 |
           (u >> 1 & 0xf) << 8 | (u >> 11 & 1) << 7 | 0x63;
}

static uint32_t j_type(int imm, unsigned rd)
{
    uint32_t u = (uint32_t)imm;
    return (u >> 20 & 1) << 31 | (u >> 1 & 0x3ff) << 21 | (u >> 11 & 1) << 20 |
           (u >> 12 & 0xff) << 12 | rd << 7 | 0x6f;
}

/* registers: x10 holds the data window and is never written; x31 is the
 * trap handler's */
static unsigned rd_reg(void)
{
    static const unsigned r[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15 };
    return r[pick(sizeof(r) / sizeof(r[0]))];
}

static unsigned rs_reg(void)
{
    return pick(16);
}

static int mem_off(unsigned size)
{
    int off = (int)pick(512) - 256;
    /* mostly aligned; misaligned ones take the slow path */
    return pick(8) ? off & ~(int)(size - 1) : off;
}

static uint32_t gen_insn(const struct prog *p, unsigned i)
{
    static const unsigned op_f3f7[][2] = {
        { 0, 0 }, { 0, 0x20 }, { 1, 0 }, { 2, 0 }, { 3, 0 }, { 4, 0 }, { 5, 0 }, { 5, 0x20 },
        { 6, 0 }, { 7, 0 }, { 0, 1 }, { 1, 1 }, { 2, 1 }, { 3, 1 }, { 4, 1 }, { 5, 1 },
        { 6, 1 }, { 7, 1 },
    };
    static const unsigned op32_f3f7[][2] = {
        { 0, 0 }, { 0, 0x20 }, { 1, 0 }, { 5, 0 }, { 5, 0x20 }, { 0, 1 }, { 4, 1 }, { 5, 1 },
        { 6, 1 }, { 7, 1 },
    };
    /* every fourth program is mostly FP ops, for the inline FP paths */
    unsigned k = fp_heavy && pick(2) ? 85 + pick(5) : pick(100), f3;
    /* any instruction of the program, or the final self-loop */
    int target = (int)p->off[pick(p->n + 1)] - (int)p->off[i];

    if (k < 22) {
        f3 = pick(18);
        return r_type(op_f3f7[f3][1], rs_reg(), rs_reg(), op_f3f7[f3][0], rd_reg(), 0x33);
    }
    if (k < 30) {
        f3 = pick(10);
        return r_type(op32_f3f7[f3][1], rs_reg(), rs_reg(), op32_f3f7[f3][0], rd_reg(), 0x3b);
    }
    if (k < 44) {
        static const unsigned f[] = { 0, 2, 3, 4, 6, 7, 1, 5, 5 };
        unsigned j = pick(9);
        int imm = (int)pick(4096) - 2048;
        if (j >= 6)
            imm = (int)pick(64) | (j == 8 ? 0x400 : 0);
        return i_type(imm, rs_reg(), f[j], rd_reg(), 0x13);
    }
    if (k < 48) {
        static const unsigned f[] = { 0, 1, 5, 5 };
        unsigned j = pick(4);
        int imm = j ? (int)pick(32) | (j == 3 ? 0x400 : 0) : (int)pick(4096) - 2048;
        return i_type(imm, rs_reg(), f[j], rd_reg(), 0x1b);
    }
    if (k < 51)
        return ((uint32_t)rnd() & 0xfffff000u) | rd_reg() << 7 | (pick(2) ? 0x37 : 0x17);
    if (k < 62) {   /* loads: window, or any register (faults outside RAM) */
        unsigned f = pick(7), size = 1u << (f & 3);
        return i_type(mem_off(size), pick(6) ? 10 : rs_reg(), f, rd_reg(), 0x03);
    }
    if (k < 70) {
        unsigned f = pick(4);
        return s_type(mem_off(1u << f), rs_reg(), pick(6) ? 10 : rs_reg(), f, 0x23);
    }
    if (k < 78) {
        static const unsigned f[] = { 0, 1, 4, 5, 6, 7 };
        return b_type(target, rs_reg(), rs_reg(), f[pick(6)]);
    }
    if (k < 80)
        return j_type(target, rd_reg());
    if (k < 81) {
        /* jr into the program through x16 (= RAM_BASE, never written):
         * a region's indirect jump to its members; else mostly a fetch fault */
        int to = p->off[pick(p->n + 1)];
        if (pick(2) && to < 2048)
            return i_type(to, 16, 0, 0, 0x67);
        return i_type((int)pick(4096) - 2048, rs_reg(), 0, rd_reg(), 0x67);
    }
    if (k < 85) {   /* FP loads/stores: f0..f7 */
        unsigned dbl = pick(2);
        if (pick(2))
            return i_type(mem_off(dbl ? 8 : 4), 10, dbl ? 3 : 2, pick(8), 0x07);
        return s_type(mem_off(dbl ? 8 : 4), pick(8), 10, dbl ? 3 : 2, 0x27);
    }
    if (k < 90) {   /* FP ops: inline (arithmetic, sign injection) or rv_exec_fp */
        /* rm: dynamic, RNE (both inline when frm is RNE), or RTZ (helper) */
        static const unsigned rms[] = { 7, 7, 0, 1 };
        /* funct7 of fadd/fsub/fmul/fdiv.d and fadd/fmul/fdiv.s */
        static const unsigned arith[] = { 0x01, 0x05, 0x09, 0x0d, 0x00, 0x08, 0x0c };
        static const unsigned fma_ops[] = { 0x43, 0x47, 0x4b, 0x4f };
        unsigned a = pick(7), d = pick(2);
        switch (pick(9)) {
        case 0: case 1:
            return r_type(arith[a], fr(a < 4), fr(a < 4), rms[pick(4)], fr(a < 4), 0x53);
        case 8: /* fmadd/fmsub/fnmsub/fnmadd .s or .d: rs3 in funct7's top */
            return r_type(fr(d) << 2 | d, fr(d), fr(d), rms[pick(4)], fr(d), fma_ops[pick(4)]);
        case 2: /* fsqrt.d / fsqrt.s */
            return r_type(pick(2) ? 0x2d : 0x2c, 0, pick(8), rms[pick(4)], pick(8), 0x53);
        case 3: /* fsgnj/fsgnjn/fsgnjx.d */
            return r_type(0x11, pick(8), pick(8), pick(3), pick(8), 0x53);
        case 4: return r_type(0x69, 2, rs_reg(), 7, pick(8), 0x53);          /* fcvt.d.l */
        case 5: return r_type(0x71, 0, pick(8), 0, rd_reg(), 0x53);          /* fmv.x.d */
        default: return r_type(0x51, pick(8), pick(8), 2, rd_reg(), 0x53);   /* feq.d */
        }
    }
    if (k < 94) {   /* CSRs: mscratch, minstret, fflags */
        static const unsigned csr[] = { 0x340, 0xb02, 0x001 };
        return i_type((int)csr[pick(3)], pick(2) ? rs_reg() : 0, 1 + pick(2), rd_reg(), 0x73);
    }
    if (k < 97) {   /* amoadd/amoswap/lr/sc .d on the window base */
        static const unsigned f5[] = { 0x00, 0x01, 0x02, 0x03 };
        unsigned f = f5[pick(4)];
        return r_type(f << 2, f == 0x02 ? 0 : rs_reg(), 10, 3, rd_reg(), 0x2f);
    }
    switch (pick(3)) {
    case 0: return 0x00000073;      /* ecall */
    case 1: return 0x00000000;      /* illegal */
    default: return 0x0ff0000f;     /* fence */
    }
}

static void gen_prog(struct prog *p)
{
    fp_heavy = pick(4) == 0;
    p->n = 8 + pick(MAX_PROG - 8);
    p->off[0] = 0;
    for (unsigned i = 0; i < p->n; i++) {
        p->len[i] = pick(10) ? 4 : 2;
        p->off[i + 1] = (uint16_t)(p->off[i] + p->len[i]);
    }
    for (unsigned i = 0; i < p->n; i++) {
        if (p->len[i] == 2) {
            /* any 16-bit encoding: RVC loads/stores, jumps, branches,
             * reserved ones (illegal) */
            uint32_t w = (uint32_t)rnd() & 0xffff;
            p->w[i] = (w & 3) == 3 ? w & ~1u : w;
        } else {
            p->w[i] = gen_insn(p, i);
        }
    }
}

/* --- running -------------------------------------------------------------- */
static void put32(uint8_t *ram, uint64_t pa, uint32_t w)
{
    memcpy(ram + (pa - RAM_BASE), &w, 4);
}

/* RAM image and architectural state every run starts from */
static void load_state(struct side *s, const struct prog *p, uint64_t seed)
{
    static const uint32_t handler[] = {
        0x34102ff3,     /* csrrs t6, mepc, zero */
        0x004f8f93,     /* addi t6, t6, 4 */
        0x341f9073,     /* csrrw zero, mepc, t6 */
        0x30200073,     /* mret */
    };
    uint64_t save = rng;

    memset(s->ram, 0, RAM_SIZE);
    for (unsigned i = 0; i < p->n; i++) {
        if (p->len[i] == 2) {
            uint16_t h = (uint16_t)p->w[i];
            memcpy(s->ram + p->off[i], &h, 2);
        } else {
            put32(s->ram, RAM_BASE + p->off[i], p->w[i]);
        }
    }
    put32(s->ram, RAM_BASE + p->off[p->n], 0x0000006f);    /* j . */
    for (unsigned i = 0; i < 4; i++)
        put32(s->ram, HANDLER + 4 * i, handler[i]);
    rng = seed | 1;
    for (unsigned i = 0; i < 0x1000; i += 8) {
        uint64_t v = rnd();
        memcpy(s->ram + (DATA - RAM_BASE) + i, &v, 8);
    }
    rv_hart_reset(s->h, RAM_BASE);
    for (unsigned i = 1; i < 32; i++)
        s->h->x[i] = pick(3) ? rnd() : rnd() & 0xff;
    s->h->x[10] = DATA + 0x800;
    s->h->x[16] = RAM_BASE;
    /* FP registers: random bits, ordinary doubles, NaN-boxed singles */
    for (unsigned i = 0; i < 8; i++) {
        double d = (double)(int64_t)(rnd() >> 20) / (double)(1 + (rnd() & 0xffff));
        float f = (float)d;
        uint32_t fb;
        switch (fp_heavy ? 1 + (i >= 4) : pick(3)) {
        case 0: s->h->f[i] = rnd(); break;
        case 1: memcpy(&s->h->f[i], &d, 8); break;
        default: memcpy(&fb, &f, 4); s->h->f[i] = 0xffffffff00000000ull | fb; break;
        }
    }
    /* NX already accrued (the inline FP fast path's condition) in most
     * programs, and sometimes a rounding mode other than RNE */
    s->h->fflags = pick(4) ? RV_FFLAG_NX : 0;
    s->h->frm = pick(4) ? 0 : pick(5);
    /* some programs run with FP off: FP loads/stores/ops trap */
    if (seed % 7 != 3)      /* Dirty, or Clean: the first FP write makes it Dirty */
        s->h->mstatus |= pick(3) ? MSTATUS_FS : 2ull << 13;
    s->h->mtvec = HANDLER;
    rng = save;
}

static void run_twice(struct side *s, const struct prog *p, uint64_t seed, struct rv_counters *c)
{
    /* a new program: RAM was rewritten behind the block cache's back */
    rv_bc_flush(s->h);
    if (s->warmup) {
        load_state(s, p, seed);
        rv_hart_run(s->h, BUDGET);
    }
    load_state(s, p, seed);
    rv_hart_run(s->h, BUDGET);
    if (s->jit)
        jit_mgr_drain(s->jit);
    load_state(s, p, seed);
    *c = s->h->ctr;
    rv_hart_run(s->h, BUDGET);
}

/* Counters the tiers must keep equal (deltas over pass 2). A jump that
 * stays inside a compiled region is a chain hit instead of a block
 * lookup, so lookups are compared with chain hits added. Block hits are
 * not compared: where the interpreter's jump cache has a conflict miss,
 * a region jumps directly. */
#define NO_CTR ((size_t)-1)
static const struct { const char *name; size_t off, plus; } counters[] = {
#define CTR(f) { #f, offsetof(struct rv_counters, f), NO_CTR }
#define CTR_CHAIN(f) { #f " + jit_chain_hits", offsetof(struct rv_counters, f), \
                       offsetof(struct rv_counters, jit_chain_hits) }
    CTR(dtlb_lookups), CTR(dtlb_misses), CTR_CHAIN(block_lookups),
    CTR(insns_by_priv[3]), CTR(exceptions[2]), CTR(exceptions[5]), CTR(exceptions[7]),
    CTR(exceptions[1]), CTR(exceptions[11]), CTR(exceptions[4]), CTR(exceptions[6]),
#undef CTR
#undef CTR_CHAIN
};

static uint64_t ctr_delta1(const struct rv_hart *h, const struct rv_counters *c0, size_t off)
{
    uint64_t now, then;

    memcpy(&now, (const uint8_t *)&h->ctr + off, 8);
    memcpy(&then, (const uint8_t *)c0 + off, 8);
    return now - then;
}

static uint64_t ctr_delta(const struct rv_hart *h, const struct rv_counters *c0, size_t off,
                          size_t plus)
{
    return ctr_delta1(h, c0, off) + (plus == NO_CTR ? 0 : ctr_delta1(h, c0, plus));
}

/* First difference between the two sides after pass 2, or NULL. */
static const char *compare(const struct side *a, const struct side *b,
                           const struct rv_counters *ca, const struct rv_counters *cb,
                           char *buf, size_t len)
{
    const struct rv_hart *x = a->h, *y = b->h;
    const struct { const char *name; uint64_t vx, vy; } st[] = {
        { "pc", x->pc, y->pc }, { "instret", x->instret, y->instret },
        { "traps", x->traps, y->traps }, { "mepc", x->mepc, y->mepc },
        { "mcause", x->mcause, y->mcause }, { "mtval", x->mtval, y->mtval },
        { "mstatus", x->mstatus, y->mstatus }, { "mscratch", x->mscratch, y->mscratch },
        { "fflags", x->fflags, y->fflags }, { "resv_addr", x->resv_addr, y->resv_addr },
        { "priv", x->priv, y->priv },
    };

    for (unsigned i = 0; i < 32; i++) {
        if (x->x[i] != y->x[i]) {
            snprintf(buf, len, "x%u: interp %#llx jit %#llx", i, (unsigned long long)x->x[i],
                     (unsigned long long)y->x[i]);
            return buf;
        }
        if (x->f[i] != y->f[i]) {
            snprintf(buf, len, "f%u: interp %#llx jit %#llx", i, (unsigned long long)x->f[i],
                     (unsigned long long)y->f[i]);
            return buf;
        }
    }
    for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++)
        if (st[i].vx != st[i].vy) {
            snprintf(buf, len, "%s: interp %#llx jit %#llx", st[i].name,
                     (unsigned long long)st[i].vx, (unsigned long long)st[i].vy);
            return buf;
        }
    /* A store next to a region's blocks drops the whole region (its span
     * covers all members, see jit.h) where the interpreter drops nothing;
     * the next block then starts after the store and the block count
     * differs by design. Lookups are compared only when both dropped the same. */
    int same_drops = ctr_delta1(x, ca, offsetof(struct rv_counters, block_invalidations)) ==
                     ctr_delta1(y, cb, offsetof(struct rv_counters, block_invalidations));

    for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
        uint64_t dx = ctr_delta(x, ca, counters[i].off, counters[i].plus);
        uint64_t dy = ctr_delta(y, cb, counters[i].off, counters[i].plus);
        if (counters[i].plus != NO_CTR && !same_drops)
            continue;
        if (dx != dy) {
            snprintf(buf, len, "counter %s: interp %llu jit %llu", counters[i].name,
                     (unsigned long long)dx, (unsigned long long)dy);
            return buf;
        }
    }
    for (size_t i = 0; i < RAM_SIZE; i++)
        if (a->ram[i] != b->ram[i]) {
            snprintf(buf, len, "RAM at %#llx: interp %#x jit %#x",
                     (unsigned long long)(RAM_BASE + i), a->ram[i], b->ram[i]);
            return buf;
        }
    return NULL;
}

struct fixture {
    struct side interp, jit;
    uint64_t jit_execs;     /* entries into compiled code, all programs */
    uint64_t chain_hits;    /* jumps that stayed inside a compiled region */
};

/* Run p on both sides; the difference or NULL. */
static const char *diff_once(struct fixture *f, const struct prog *p, uint64_t seed, char *buf,
                             size_t len)
{
    struct rv_counters ca, cb;
    uint64_t e0;

    run_twice(&f->interp, p, seed, &ca);
    run_twice(&f->jit, p, seed, &cb);
    e0 = cb.jit_execs;
    f->jit_execs += f->jit.h->ctr.jit_execs - e0;
    f->chain_hits += f->jit.h->ctr.jit_chain_hits - cb.jit_chain_hits;
    return compare(&f->interp, &f->jit, &ca, &cb, buf, len);
}

static const uint32_t NOP = 0x00000013, C_NOP = 0x0001;

static uint32_t nop_for(const struct prog *p, unsigned i)
{
    return p->len[i] == 2 ? C_NOP : NOP;
}

/* Replace instructions by NOPs while the programs still differ. */
static void shrink(struct fixture *f, struct prog *p, uint64_t seed)
{
    char buf[160];

    for (unsigned i = 0; i < p->n; i++) {
        uint32_t w = p->w[i];
        if (w == nop_for(p, i))
            continue;
        p->w[i] = nop_for(p, i);
        if (!diff_once(f, p, seed, buf, sizeof(buf)))
            p->w[i] = w;
    }
}

static void report(const struct prog *p, uint64_t seed, const char *what)
{
    char d[96];

    print_error("JIT differs from the interpreter: seed %llu: %s\n"
                "reproduce: GB_JIT_DIFF_SEED=%llu; shrunk program (others are nops):\n",
                (unsigned long long)seed, what, (unsigned long long)seed);
    for (unsigned i = 0; i < p->n; i++) {
        uint64_t pc = RAM_BASE + p->off[i];
        if (p->w[i] == nop_for(p, i))
            continue;
        rv_disas(d, sizeof(d), pc, p->w[i]);
        print_error("  %#llx: %0*x  %s\n", (unsigned long long)pc, p->len[i] * 2, p->w[i], d);
    }
}

static int check_seed(struct fixture *f, uint64_t seed)
{
    struct prog p;
    char buf[160];
    const char *what;

    rng = seed * 0x9e3779b97f4a7c15ull | 1;
    gen_prog(&p);
    what = diff_once(f, &p, seed, buf, sizeof(buf));
    if (!what)
        return 0;
    {
        char first[160];
        snprintf(first, sizeof(first), "%s", what);
        shrink(f, &p, seed);
        report(&p, seed, first);
    }
    return -1;
}

static void test_random_programs(void **state)
{
    struct fixture *f = *state;
    const char *one = getenv("GB_JIT_DIFF_SEED"), *many = getenv("GB_JIT_DIFF_SEEDS");
    uint64_t first = 1, n = many ? strtoull(many, NULL, 0) : 60;
    int bad = 0;

    if (one) {
        first = strtoull(one, NULL, 0);
        n = 1;
    }
    for (uint64_t s = first; s < first + n && bad < 3; s++)
        bad += check_seed(f, s) < 0;
    assert_int_equal(bad, 0);
    /* the test means nothing if the compiled code did not run */
    assert_true(f->jit_execs > n * 5);
    /* ...nor if no region had more than one block */
    assert_true(f->chain_hits > n);
}

/* A generated program that must differ when the JIT is broken: the
 * comparison itself is checked by corrupting one side. */
static void test_compare_detects(void **state)
{
    struct fixture *f = *state;
    struct prog p = { .n = 1, .w = { 0x00100093 /* addi ra, zero, 1 */ }, .off = { 0, 4 },
                      .len = { 4 } };
    struct rv_counters ca, cb;
    char buf[160];

    run_twice(&f->interp, &p, 7, &ca);
    run_twice(&f->jit, &p, 7, &cb);
    assert_null(compare(&f->interp, &f->jit, &ca, &cb, buf, sizeof(buf)));
    f->jit.h->x[1] ^= 4;
    assert_non_null(compare(&f->interp, &f->jit, &ca, &cb, buf, sizeof(buf)));
    f->jit.ram[0x20010] ^= 1;
    f->jit.h->x[1] ^= 4;
    assert_non_null(compare(&f->interp, &f->jit, &ca, &cb, buf, sizeof(buf)));
}

static uint64_t fixed_time(void *opaque)
{
    (void)opaque;
    return 0;
}

static int setup_with(void **state, uint64_t threshold)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct jit_config jc = { .threshold = threshold, .opt_level = 1, .sync = 0 };

    if (!f)
        return -1;
    /* threshold 2: blocks get hot on the second pass, when the whole
     * program is decoded, so regions grow over all of it (with 0 each
     * block is compiled as it first runs, mostly alone) */
    f->jit.warmup = threshold > 0;
    f->interp.h = test_hart_new(&f->interp.ram, RAM_BASE, RAM_SIZE, fixed_time);
    f->jit.h = test_hart_new(&f->jit.ram, RAM_BASE, RAM_SIZE, fixed_time);
    if (jit_mgr_new(&f->jit.jit, &jc) < 0 || jit_attach_hart(f->jit.jit, f->jit.h) < 0)
        return -1;
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, 0);
}

static int setup_warm(void **state)
{
    return setup_with(state, 2);
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    jit_mgr_free(f->jit.jit);
    test_hart_free(f->interp.h, f->interp.ram);
    test_hart_free(f->jit.h, f->jit.ram);
    free(f);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_compare_detects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_programs, setup, teardown),
        /* the same programs compiled as big regions (indirect jumps inside) */
        cmocka_unit_test_setup_teardown(test_random_programs, setup_warm, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
