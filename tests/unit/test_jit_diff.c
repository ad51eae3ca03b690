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
#include "rv_disas.h"
#include "hart_fixture.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1ull << 20)
#define HANDLER (RAM_BASE + 0x10000)
#define DATA (RAM_BASE + 0x20000)
#define MAX_PROG 96
#define BUDGET 4000

struct prog {
    uint32_t w[MAX_PROG];
    unsigned n;
};

struct side {
    struct rv_hart *h;
    uint8_t *ram;
    struct jit_mgr *jit;
};

static uint64_t rng;

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

static uint32_t gen_insn(unsigned i, unsigned n)
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
    unsigned k = pick(100), f3;
    int target = ((int)pick(n + 1) - (int)i) * 4;     /* n: the final self-loop */

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
        return (uint32_t)rnd() & 0xfffff000u | rd_reg() << 7 | (pick(2) ? 0x37 : 0x17);
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
    if (k < 81)     /* mostly a fetch fault */
        return i_type((int)pick(4096) - 2048, rs_reg(), 0, rd_reg(), 0x67);
    if (k < 85) {   /* FP loads/stores: f0..f7 */
        unsigned dbl = pick(2);
        if (pick(2))
            return i_type(mem_off(dbl ? 8 : 4), 10, dbl ? 3 : 2, pick(8), 0x07);
        return s_type(mem_off(dbl ? 8 : 4), pick(8), 10, dbl ? 3 : 2, 0x27);
    }
    if (k < 90) {   /* FP ops through rv_exec_fp */
        switch (pick(5)) {
        case 0: return r_type(0x01, pick(8), pick(8), 7, pick(8), 0x53);     /* fadd.d */
        case 1: return r_type(0x09, pick(8), pick(8), 7, pick(8), 0x53);     /* fmul.d */
        case 2: return r_type(0x69, 2, rs_reg(), 7, pick(8), 0x53);          /* fcvt.d.l */
        case 3: return r_type(0x71, 0, pick(8), 0, rd_reg(), 0x53);          /* fmv.x.d */
        default: return r_type(0x51, pick(8), pick(8), 2, rd_reg(), 0x53);   /* feq.d */
        }
    }
    if (k < 94) {   /* CSRs: mscratch, minstret, fflags */
        static const unsigned csr[] = { 0x340, 0xb02, 0x001 };
        return i_type((int)csr[pick(3)], pick(2) ? rs_reg() : 0, 1 + pick(2), rd_reg(), 0x73);
    }
    if (k < 97) {   /* amoadd/amoswap/lr/sc .d on the window base */
        static const unsigned f5[] = { 0x00, 0x01, 0x02, 0x03 };
        return r_type(f5[pick(4)] << 2, f5[0] == 0 ? rs_reg() : 0, 10, 3, rd_reg(), 0x2f);
    }
    switch (pick(3)) {
    case 0: return 0x00000073;      /* ecall */
    case 1: return 0x00000000;      /* illegal */
    default: return 0x0ff0000f;     /* fence */
    }
}

static void gen_prog(struct prog *p)
{
    p->n = 8 + pick(MAX_PROG - 8);
    for (unsigned i = 0; i < p->n; i++)
        p->w[i] = gen_insn(i, p->n);
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
    for (unsigned i = 0; i < p->n; i++)
        put32(s->ram, RAM_BASE + 4 * i, p->w[i]);
    put32(s->ram, RAM_BASE + 4 * p->n, 0x0000006f);    /* j . */
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
    for (unsigned i = 0; i < 8; i++)
        s->h->f[i] = rnd();
    s->h->mstatus |= MSTATUS_FS;
    s->h->mtvec = HANDLER;
    rng = save;
}

static void run_twice(struct side *s, const struct prog *p, uint64_t seed, struct rv_counters *c)
{
    load_state(s, p, seed);
    rv_hart_run(s->h, BUDGET);
    if (s->jit)
        jit_mgr_drain(s->jit);
    load_state(s, p, seed);
    *c = s->h->ctr;
    rv_hart_run(s->h, BUDGET);
}

/* First difference between the two sides after pass 2, or NULL. */
static const char *compare(const struct side *a, const struct side *b,
                           const struct rv_counters *ca, const struct rv_counters *cb,
                           char *buf, size_t len)
{
    const struct rv_hart *x = a->h, *y = b->h;
    uint64_t dx, dy;

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
#define CHK(name, ex, ey) \
    if ((uint64_t)(ex) != (uint64_t)(ey)) { \
        snprintf(buf, len, "%s: interp %#llx jit %#llx", name, (unsigned long long)(ex), \
                 (unsigned long long)(ey)); \
        return buf; \
    }
    CHK("pc", x->pc, y->pc)
    CHK("instret", x->instret, y->instret)
    CHK("traps", x->traps, y->traps)
    CHK("mepc", x->mepc, y->mepc)
    CHK("mcause", x->mcause, y->mcause)
    CHK("mtval", x->mtval, y->mtval)
    CHK("mstatus", x->mstatus, y->mstatus)
    CHK("mscratch", x->mscratch, y->mscratch)
    CHK("fflags", x->fflags, y->fflags)
    CHK("resv_addr", x->resv_addr, y->resv_addr)
    CHK("dtlb_lookups", cx_d(ca, x), cx_d(cb, y))
#undef CHK
    (void)dx;
    (void)dy;
    if (memcmp(a->ram, b->ram, RAM_SIZE)) {
        for (size_t i = 0; i < RAM_SIZE; i++)
            if (a->ram[i] != b->ram[i]) {
                snprintf(buf, len, "RAM at %#llx: interp %#x jit %#x",
                         (unsigned long long)(RAM_BASE + i), a->ram[i], b->ram[i]);
                return buf;
            }
    }
    return NULL;
}
