/* F and D instruction semantics: operand NaN-unboxing, rounding-mode
 * resolution, flag accrual and FS tracking around the bit-exact
 * arithmetic in rv_fpu.c. Shared by the interpreter and the JIT. */
#include "rv_cpu.h"
#include "rv_fpu.h"
#include "rv_helpers.h"

#define F32_CANON_NAN 0x7fc00000u
#define BOX32 0xffffffff00000000ull

/* A single-precision operand: anything not properly NaN-boxed reads as
 * the canonical NaN. */
static inline uint32_t unbox32(uint64_t v)
{
    return (v >> 32) == 0xffffffffu ? (uint32_t)v : F32_CANON_NAN;
}

static inline uint64_t box32(uint32_t v)
{
    return BOX32 | v;
}

static int fp_illegal(struct rv_hart *h, const struct rv_insn *in)
{
    rv_raise(h, RV_EXC_ILLEGAL, rv_fetch_raw(h, h->pc, in->len));
    return RV_TRAP;
}

static uint64_t exec_s(struct rv_hart *h, const struct rv_insn *in, unsigned rm, unsigned *fl,
                       int *to_int)
{
    uint32_t a = unbox32(h->f[in->rs1]), b = unbox32(h->f[in->rs2]);

    *to_int = 0;
    switch (in->fop) {
    case 0x00: return box32(rv_f32_add(a, b, rm, fl));
    case 0x04: return box32(rv_f32_sub(a, b, rm, fl));
    case 0x08: return box32(rv_f32_mul(a, b, rm, fl));
    case 0x0c: return box32(rv_f32_div(a, b, rm, fl));
    case 0x2c: return box32(rv_f32_sqrt(a, rm, fl));
    case 0x10: {
        uint32_t s = in->rm == 0 ? (b & 0x80000000u)
                   : in->rm == 1 ? (~b & 0x80000000u)
                   : ((a ^ b) & 0x80000000u);
        return box32((a & 0x7fffffffu) | s);
    }
    case 0x14:
        return box32(in->rm == 0 ? rv_f32_min(a, b, fl) : rv_f32_max(a, b, fl));
    case 0x20:      /* fcvt.s.d */
        return box32(rv_f64_to_f32(h->f[in->rs1], rm, fl));
    case 0x50:
        *to_int = 1;
        return in->rm == 2 ? (uint64_t)rv_f32_eq(a, b, fl)
             : in->rm == 1 ? (uint64_t)rv_f32_lt(a, b, fl)
             : (uint64_t)rv_f32_le(a, b, fl);
    case 0x60:
        *to_int = 1;
        switch (in->rs2) {
        case 0: return rv_f32_to_i32(a, rm, fl);
        case 1: return rv_f32_to_u32(a, rm, fl);
        case 2: return rv_f32_to_i64(a, rm, fl);
        default: return rv_f32_to_u64(a, rm, fl);
        }
    case 0x68: {
        uint64_t x = h->x[in->rs1];
        switch (in->rs2) {
        case 0: return box32(rv_i32_to_f32((int32_t)x, rm, fl));
        case 1: return box32(rv_u32_to_f32((uint32_t)x, rm, fl));
        case 2: return box32(rv_i64_to_f32((int64_t)x, rm, fl));
        default: return box32(rv_u64_to_f32(x, rm, fl));
        }
    }
    case 0x70:
        *to_int = 1;
        if (in->rm == 0)    /* fmv.x.w: raw low bits, sign-extended */
            return (uint64_t)(int64_t)(int32_t)(uint32_t)h->f[in->rs1];
        return rv_f32_classify(a);
    default:                /* 0x78 fmv.w.x */
        return box32((uint32_t)h->x[in->rs1]);
    }
}

static uint64_t exec_d(struct rv_hart *h, const struct rv_insn *in, unsigned rm, unsigned *fl,
                       int *to_int)
{
    uint64_t a = h->f[in->rs1], b = h->f[in->rs2];

    *to_int = 0;
    switch (in->fop) {
    case 0x00: return rv_f64_add(a, b, rm, fl);
    case 0x04: return rv_f64_sub(a, b, rm, fl);
    case 0x08: return rv_f64_mul(a, b, rm, fl);
    case 0x0c: return rv_f64_div(a, b, rm, fl);
    case 0x2c: return rv_f64_sqrt(a, rm, fl);
    case 0x10: {
        uint64_t m = 1ull << 63;
        uint64_t s = in->rm == 0 ? (b & m) : in->rm == 1 ? (~b & m) : ((a ^ b) & m);
        return (a & ~m) | s;
    }
    case 0x14:
        return in->rm == 0 ? rv_f64_min(a, b, fl) : rv_f64_max(a, b, fl);
    case 0x20:      /* fcvt.d.s */
        return rv_f32_to_f64(unbox32(a), fl);
    case 0x50:
        *to_int = 1;
        return in->rm == 2 ? (uint64_t)rv_f64_eq(a, b, fl)
             : in->rm == 1 ? (uint64_t)rv_f64_lt(a, b, fl)
             : (uint64_t)rv_f64_le(a, b, fl);
    case 0x60:
        *to_int = 1;
        switch (in->rs2) {
        case 0: return rv_f64_to_i32(a, rm, fl);
        case 1: return rv_f64_to_u32(a, rm, fl);
        case 2: return rv_f64_to_i64(a, rm, fl);
        default: return rv_f64_to_u64(a, rm, fl);
        }
    case 0x68: {
        uint64_t x = h->x[in->rs1];
        switch (in->rs2) {
        case 0: return rv_i32_to_f64((int32_t)x, rm, fl);
        case 1: return rv_u32_to_f64((uint32_t)x, rm, fl);
        case 2: return rv_i64_to_f64((int64_t)x, rm, fl);
        default: return rv_u64_to_f64(x, rm, fl);
        }
    }
    case 0x70:
        *to_int = 1;
        return in->rm == 0 ? a : rv_f64_classify(a);
    default:                /* 0x78 fmv.d.x */
        return h->x[in->rs1];
    }
}

static int rv_fp_rounds(const struct rv_insn *in)
{
    if (in->op == RV_OP_FMA_S || in->op == RV_OP_FMA_D)
        return 1;
    switch (in->fop) {
    case 0x00: case 0x04: case 0x08: case 0x0c: case 0x2c: case 0x20: case 0x60: case 0x68:
        return 1;
    default:
        return 0;
    }
}

int rv_exec_fp(struct rv_hart *h, const struct rv_insn *in)
{
    unsigned rm = in->rm;
    /* the accrued flags themselves: the FPU skips reading host flags it
     * knows are already set, which makes the common case much cheaper */
    unsigned *fl = &h->fflags, fl_before = h->fflags;
    uint64_t r;
    int to_int = 0;

    if (!(h->mstatus & MSTATUS_FS))
        return fp_illegal(h, in);
    /* rm is a rounding mode only for ops that round; elsewhere it is a
     * sub-opcode the decoder validated. 7 = dynamic: frm decides, and a
     * reserved frm makes the instruction illegal. */
    if (rv_fp_rounds(in)) {
        if (rm == 7)
            rm = h->frm;
        if (rm > 4)
            return fp_illegal(h, in);
    }

    switch (in->op) {
    case RV_OP_FMA_S: {
        uint32_t a = unbox32(h->f[in->rs1]), b = unbox32(h->f[in->rs2]);
        uint32_t c = unbox32(h->f[in->rs3]);
        r = box32(rv_f32_fma(a, b, c, in->fop >= 2, in->fop == 1 || in->fop == 3, rm, fl));
        break;
    }
    case RV_OP_FMA_D:
        r = rv_f64_fma(h->f[in->rs1], h->f[in->rs2], h->f[in->rs3], in->fop >= 2,
                       in->fop == 1 || in->fop == 3, rm, fl);
        break;
    case RV_OP_FP_S:
        r = exec_s(h, in, rm, fl, &to_int);
        break;
    default:
        r = exec_d(h, in, rm, fl, &to_int);
        break;
    }
    if (to_int) {
        h->x[in->rd] = r;
        if (h->fflags != fl_before)
            rv_fs_dirty(h);
    } else {
        h->f[in->rd] = r;
        rv_fs_dirty(h);
    }
    return RV_CONT;
}
