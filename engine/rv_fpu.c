/*
 * rv_fpu.c - RISC-V F/D semantics: public entry points.
 *
 * Rounding operations run on the host's SSE unit when that is exact for
 * RISC-V: x86-64, rounding modes RNE/RTZ/RDN/RUP.  SSE is IEEE 754 with
 * tininess detected after rounding and raises the same five exceptions, so
 * only NaN results need fixing up (SSE propagates payloads; RISC-V returns
 * the canonical NaN).  Each SSE operation runs inside one asm statement
 * that saves MXCSR, loads the wanted rounding mode with all exceptions
 * masked and flags clear, computes, reads the flags and restores MXCSR: the
 * compiler cannot move the arithmetic out of the window and the caller's
 * floating-point environment is never changed.
 *
 * Everything else goes to the software path in rv_softfp.c (RMM, float ->
 * integer conversions, FMA on CPUs without FMA3, all of it on other hosts).
 * Operations that never round (min/max, compares, classify, f32 -> f64) are
 * plain integer code here.
 */
#include "rv_fpu.h"

#include <string.h>

#if defined(__x86_64__) && !defined(RV_FPU_SOFT_ONLY)
#define RV_FPU_HOST 1
#else
#define RV_FPU_HOST 0
#endif

#define F32_SIGN 0x80000000u
#define F64_SIGN UINT64_C(0x8000000000000000)

/* ---- bit-level predicates ---- */

static inline int f32_is_nan(uint32_t a)
{
    return (a & ~F32_SIGN) > 0x7f800000u;
}

static inline int f32_is_snan(uint32_t a)
{
    return f32_is_nan(a) && !(a & 0x00400000u);
}

static inline int f64_is_nan(uint64_t a)
{
    return (a & ~F64_SIGN) > UINT64_C(0x7ff0000000000000);
}

static inline int f64_is_snan(uint64_t a)
{
    return f64_is_nan(a) && !(a & UINT64_C(0x0008000000000000));
}

/* ---- host path ---- */

#if RV_FPU_HOST

/* MXCSR: all exceptions masked (bits 7-12), flags clear, FTZ/DAZ off,
 * rounding control in bits 13-14, indexed by RISC-V rm (RNE RTZ RDN RUP). */
static const uint32_t mxcsr_for_rm[4] = {
    0x1f80u, 0x1f80u | (3u << 13), 0x1f80u | (1u << 13), 0x1f80u | (2u << 13),
};

/* MXCSR flags IE DE ZE OE UE PE (bits 0-5) -> fflags; DE has no RISC-V
 * counterpart. */
static inline unsigned mxcsr_to_fflags(uint32_t st)
{
    return ((st & 0x01u) << 4) | ((st & 0x04u) << 1) | ((st & 0x08u) >> 1) |
           ((st & 0x10u) >> 3) | ((st & 0x20u) >> 5);
}

static inline float f32_from_bits(uint32_t a)
{
    float f;
    memcpy(&f, &a, sizeof f);
    return f;
}

static inline uint32_t f32_bits(float f)
{
    uint32_t a;
    memcpy(&a, &f, sizeof a);
    return a;
}

static inline double f64_from_bits(uint64_t a)
{
    double d;
    memcpy(&d, &a, sizeof d);
    return d;
}

static inline uint64_t f64_bits(double d)
{
    uint64_t a;
    memcpy(&a, &d, sizeof a);
    return a;
}

/* One SSE instruction `insn src, dst` bracketed by the MXCSR switch. */
#define HOST_ASM(insn, dst_c, dst, src_c, src, cw, st)                        \
    do {                                                                       \
        uint32_t saved_;                                                       \
        __asm__ __volatile__("stmxcsr %[sv]\n\t"                               \
                             "ldmxcsr %[cwm]\n\t" insn " %[s], %[d]\n\t"       \
                             "stmxcsr %[stm]\n\t"                              \
                             "ldmxcsr %[sv]"                                   \
                             : [d] dst_c(dst), [sv] "=m"(saved_),              \
                               [stm] "=m"(st)                                  \
                             : [s] src_c(src), [cwm] "m"(cw));                 \
    } while (0)

#define HOST_BINOP(name, type, insn)                                           \
    static inline type name(type a, type b, unsigned rm, unsigned *fl)        \
    {                                                                          \
        uint32_t st_;                                                          \
        HOST_ASM(insn, "+x", a, "x", b, mxcsr_for_rm[rm], st_);                \
        *fl |= mxcsr_to_fflags(st_);                                           \
        return a;                                                              \
    }

HOST_BINOP(host_adds, float, "addss")
HOST_BINOP(host_subs, float, "subss")
HOST_BINOP(host_muls, float, "mulss")
HOST_BINOP(host_divs, float, "divss")
HOST_BINOP(host_sqrts, float, "sqrtss")
HOST_BINOP(host_addd, double, "addsd")
HOST_BINOP(host_subd, double, "subsd")
HOST_BINOP(host_muld, double, "mulsd")
HOST_BINOP(host_divd, double, "divsd")
HOST_BINOP(host_sqrtd, double, "sqrtsd")

static inline float host_cvt_d2s(double a, unsigned rm, unsigned *fl)
{
    uint32_t st;
    float r = 0.0f;
    HOST_ASM("cvtsd2ss", "+x", r, "x", a, mxcsr_for_rm[rm], st);
    *fl |= mxcsr_to_fflags(st);
    return r;
}

static inline float host_cvt_q2s(int64_t v, unsigned rm, unsigned *fl)
{
    uint32_t st;
    float r = 0.0f;
    HOST_ASM("cvtsi2ssq", "+x", r, "r", v, mxcsr_for_rm[rm], st);
    *fl |= mxcsr_to_fflags(st);
    return r;
}

static inline double host_cvt_q2d(int64_t v, unsigned rm, unsigned *fl)
{
    uint32_t st;
    double r = 0.0;
    HOST_ASM("cvtsi2sdq", "+x", r, "r", v, mxcsr_for_rm[rm], st);
    *fl |= mxcsr_to_fflags(st);
    return r;
}

/* a = b * a + c in one rounding; needs FMA3 (VEX encoded). */
#define HOST_FMA(name, type, insn)                                             \
    static inline type name(type a, type b, type c, unsigned rm, unsigned *fl) \
    {                                                                          \
        uint32_t saved_, st_;                                                  \
        __asm__ __volatile__("stmxcsr %[sv]\n\t"                               \
                             "ldmxcsr %[cwm]\n\t" insn                         \
                             " %[c], %[b], %[a]\n\t"                           \
                             "stmxcsr %[stm]\n\t"                              \
                             "ldmxcsr %[sv]"                                   \
                             : [a] "+x"(a), [sv] "=m"(saved_),                 \
                               [stm] "=m"(st_)                                 \
                             : [b] "x"(b), [c] "x"(c),                         \
                               [cwm] "m"(mxcsr_for_rm[rm]));                   \
        *fl |= mxcsr_to_fflags(st_);                                           \
        return a;                                                              \
    }

HOST_FMA(host_fmas, float, "vfmadd213ss")
HOST_FMA(host_fmad, double, "vfmadd213sd")

static inline int host_has_fma(void)
{
    return __builtin_cpu_supports("fma");
}

static inline uint32_t f32_canon(uint32_t r)
{
    return f32_is_nan(r) ? RV_F32_CANON_NAN : r;
}

static inline uint64_t f64_canon(uint64_t r)
{
    return f64_is_nan(r) ? RV_F64_CANON_NAN : r;
}

#define F32_HOST2(a, b, op)                                                    \
    f32_canon(f32_bits(op(f32_from_bits(a), f32_from_bits(b), rm, fl)))
#define F64_HOST2(a, b, op)                                                    \
    f64_canon(f64_bits(op(f64_from_bits(a), f64_from_bits(b), rm, fl)))

#endif /* RV_FPU_HOST */

int rv_fpu_host_path(int fma)
{
#if RV_FPU_HOST
    return fma ? host_has_fma() : 1;
#else
    (void)fma;
    return 0;
#endif
}

/* Host for the four IEEE modes, software otherwise. */
#if RV_FPU_HOST
#define USE_HOST(rm) ((rm) < RV_RM_RMM)
#else
#define USE_HOST(rm) 0
#endif

/* ---- arithmetic ---- */

#if RV_FPU_HOST
#define DEF_F32_BINOP(op, hostfn)                                              \
    uint32_t rv_f32_##op(uint32_t a, uint32_t b, unsigned rm, unsigned *fl)    \
    {                                                                          \
        if (USE_HOST(rm))                                                      \
            return F32_HOST2(a, b, hostfn);                                    \
        return rv_soft_f32_##op(a, b, rm, fl);                                 \
    }
#define DEF_F64_BINOP(op, hostfn)                                              \
    uint64_t rv_f64_##op(uint64_t a, uint64_t b, unsigned rm, unsigned *fl)    \
    {                                                                          \
        if (USE_HOST(rm))                                                      \
            return F64_HOST2(a, b, hostfn);                                    \
        return rv_soft_f64_##op(a, b, rm, fl);                                 \
    }
#else
#define DEF_F32_BINOP(op, hostfn)                                              \
    uint32_t rv_f32_##op(uint32_t a, uint32_t b, unsigned rm, unsigned *fl)    \
    {                                                                          \
        return rv_soft_f32_##op(a, b, rm, fl);                                 \
    }
#define DEF_F64_BINOP(op, hostfn)                                              \
    uint64_t rv_f64_##op(uint64_t a, uint64_t b, unsigned rm, unsigned *fl)    \
    {                                                                          \
        return rv_soft_f64_##op(a, b, rm, fl);                                 \
    }
#endif

DEF_F32_BINOP(add, host_adds)
DEF_F32_BINOP(sub, host_subs)
DEF_F32_BINOP(mul, host_muls)
DEF_F32_BINOP(div, host_divs)
DEF_F64_BINOP(add, host_addd)
DEF_F64_BINOP(sub, host_subd)
DEF_F64_BINOP(mul, host_muld)
DEF_F64_BINOP(div, host_divd)

uint32_t rv_f32_sqrt(uint32_t a, unsigned rm, unsigned *fl)
{
#if RV_FPU_HOST
    if (USE_HOST(rm)) {
        float x = f32_from_bits(a);
        return f32_canon(f32_bits(host_sqrts(x, x, rm, fl)));
    }
#endif
    return rv_soft_f32_sqrt(a, rm, fl);
}

uint64_t rv_f64_sqrt(uint64_t a, unsigned rm, unsigned *fl)
{
#if RV_FPU_HOST
    if (USE_HOST(rm)) {
        double x = f64_from_bits(a);
        return f64_canon(f64_bits(host_sqrtd(x, x, rm, fl)));
    }
#endif
    return rv_soft_f64_sqrt(a, rm, fl);
}

uint32_t rv_f32_fma(uint32_t a, uint32_t b, uint32_t c, int neg_prod,
                    int neg_add, unsigned rm, unsigned *fl)
{
#if RV_FPU_HOST
    /* NaN operands go to software: RISC-V wants NV for inf*0+qNaN, which
     * IEEE leaves to the implementation. */
    if (USE_HOST(rm) && host_has_fma() && !f32_is_nan(a) && !f32_is_nan(b) &&
        !f32_is_nan(c)) {
        /* Negation is exact, so it can be applied to the operands. */
        float x = f32_from_bits(a ^ (neg_prod ? F32_SIGN : 0));
        float z = f32_from_bits(c ^ (neg_add ? F32_SIGN : 0));
        return f32_canon(f32_bits(host_fmas(x, f32_from_bits(b), z, rm, fl)));
    }
#endif
    return rv_soft_f32_fma(a, b, c, neg_prod, neg_add, rm, fl);
}

uint64_t rv_f64_fma(uint64_t a, uint64_t b, uint64_t c, int neg_prod,
                    int neg_add, unsigned rm, unsigned *fl)
{
#if RV_FPU_HOST
    if (USE_HOST(rm) && host_has_fma() && !f64_is_nan(a) && !f64_is_nan(b) &&
        !f64_is_nan(c)) {
        double x = f64_from_bits(a ^ (neg_prod ? F64_SIGN : 0));
        double z = f64_from_bits(c ^ (neg_add ? F64_SIGN : 0));
        return f64_canon(f64_bits(host_fmad(x, f64_from_bits(b), z, rm, fl)));
    }
#endif
    return rv_soft_f64_fma(a, b, c, neg_prod, neg_add, rm, fl);
}

/* ---- min / max / compare / classify (never round) ---- */

/* Ordering of two non-NaN bit patterns with -0 < +0 (min/max). */
static inline int ord_lt(uint64_t a, uint64_t b, uint64_t sign)
{
    int na = (a & sign) != 0, nb = (b & sign) != 0;
    if (na != nb)
        return na;
    return na ? a > b : a < b;
}

/* IEEE comparison of two non-NaN bit patterns (-0 == +0). */
static inline int ieee_lt(uint64_t a, uint64_t b, uint64_t sign)
{
    if (((a | b) & ~sign) == 0) /* both zeros */
        return 0;
    return ord_lt(a, b, sign);
}

static inline int ieee_eq(uint64_t a, uint64_t b, uint64_t sign)
{
    return a == b || ((a | b) & ~sign) == 0;
}

uint32_t rv_f32_min(uint32_t a, uint32_t b, unsigned *fl)
{
    int an = f32_is_nan(a), bn = f32_is_nan(b);
    if (f32_is_snan(a) || f32_is_snan(b))
        *fl |= RV_FFLAG_NV;
    if (an || bn)
        return an && bn ? RV_F32_CANON_NAN : an ? b : a;
    return ord_lt(a, b, F32_SIGN) ? a : b;
}

uint32_t rv_f32_max(uint32_t a, uint32_t b, unsigned *fl)
{
    int an = f32_is_nan(a), bn = f32_is_nan(b);
    if (f32_is_snan(a) || f32_is_snan(b))
        *fl |= RV_FFLAG_NV;
    if (an || bn)
        return an && bn ? RV_F32_CANON_NAN : an ? b : a;
    return ord_lt(a, b, F32_SIGN) ? b : a;
}

uint64_t rv_f64_min(uint64_t a, uint64_t b, unsigned *fl)
{
    int an = f64_is_nan(a), bn = f64_is_nan(b);
    if (f64_is_snan(a) || f64_is_snan(b))
        *fl |= RV_FFLAG_NV;
    if (an || bn)
        return an && bn ? RV_F64_CANON_NAN : an ? b : a;
    return ord_lt(a, b, F64_SIGN) ? a : b;
}

uint64_t rv_f64_max(uint64_t a, uint64_t b, unsigned *fl)
{
    int an = f64_is_nan(a), bn = f64_is_nan(b);
    if (f64_is_snan(a) || f64_is_snan(b))
        *fl |= RV_FFLAG_NV;
    if (an || bn)
        return an && bn ? RV_F64_CANON_NAN : an ? b : a;
    return ord_lt(a, b, F64_SIGN) ? b : a;
}

int rv_f32_eq(uint32_t a, uint32_t b, unsigned *fl)
{
    if (f32_is_nan(a) || f32_is_nan(b)) {
        if (f32_is_snan(a) || f32_is_snan(b))
            *fl |= RV_FFLAG_NV;
        return 0;
    }
    return ieee_eq(a, b, F32_SIGN);
}

int rv_f32_lt(uint32_t a, uint32_t b, unsigned *fl)
{
    if (f32_is_nan(a) || f32_is_nan(b)) {
        *fl |= RV_FFLAG_NV;
        return 0;
    }
    return ieee_lt(a, b, F32_SIGN);
}

int rv_f32_le(uint32_t a, uint32_t b, unsigned *fl)
{
    if (f32_is_nan(a) || f32_is_nan(b)) {
        *fl |= RV_FFLAG_NV;
        return 0;
    }
    return ieee_eq(a, b, F32_SIGN) || ieee_lt(a, b, F32_SIGN);
}

int rv_f64_eq(uint64_t a, uint64_t b, unsigned *fl)
{
    if (f64_is_nan(a) || f64_is_nan(b)) {
        if (f64_is_snan(a) || f64_is_snan(b))
            *fl |= RV_FFLAG_NV;
        return 0;
    }
    return ieee_eq(a, b, F64_SIGN);
}

int rv_f64_lt(uint64_t a, uint64_t b, unsigned *fl)
{
    if (f64_is_nan(a) || f64_is_nan(b)) {
        *fl |= RV_FFLAG_NV;
        return 0;
    }
    return ieee_lt(a, b, F64_SIGN);
}

int rv_f64_le(uint64_t a, uint64_t b, unsigned *fl)
{
    if (f64_is_nan(a) || f64_is_nan(b)) {
        *fl |= RV_FFLAG_NV;
        return 0;
    }
    return ieee_eq(a, b, F64_SIGN) || ieee_lt(a, b, F64_SIGN);
}

/* exp_all: exponent field all ones; frac_top: quiet bit. */
static unsigned classify(int neg, uint64_t exp, uint64_t exp_all,
                         uint64_t frac, uint64_t quiet_bit)
{
    if (exp == exp_all) {
        if (frac == 0)
            return neg ? RV_FCLASS_NEG_INF : RV_FCLASS_POS_INF;
        return (frac & quiet_bit) ? RV_FCLASS_QNAN : RV_FCLASS_SNAN;
    }
    if (exp == 0) {
        if (frac == 0)
            return neg ? RV_FCLASS_NEG_ZERO : RV_FCLASS_POS_ZERO;
        return neg ? RV_FCLASS_NEG_SUBNORMAL : RV_FCLASS_POS_SUBNORMAL;
    }
    return neg ? RV_FCLASS_NEG_NORMAL : RV_FCLASS_POS_NORMAL;
}

unsigned rv_f32_classify(uint32_t a)
{
    return classify(a >> 31, (a >> 23) & 0xff, 0xff, a & 0x7fffff, 0x400000);
}

unsigned rv_f64_classify(uint64_t a)
{
    return classify((int)(a >> 63), (a >> 52) & 0x7ff, 0x7ff,
                    a & UINT64_C(0xfffffffffffff), UINT64_C(1) << 51);
}

/* ---- conversions between formats ---- */

uint64_t rv_f32_to_f64(uint32_t a, unsigned *fl)
{
    uint64_t sign = (uint64_t)(a & F32_SIGN) << 32;
    uint32_t exp = (a >> 23) & 0xff;
    uint64_t frac = a & 0x7fffffu;

    if (exp == 0xff) {
        if (frac == 0)
            return sign | UINT64_C(0x7ff0000000000000);
        if (f32_is_snan(a))
            *fl |= RV_FFLAG_NV;
        return RV_F64_CANON_NAN;
    }
    if (exp == 0) {
        int s;
        if (frac == 0)
            return sign;
        /* subnormal: normalize so the leading one lands on the hidden bit */
        s = __builtin_clzll(frac) - 40; /* shifts to reach bit 23 */
        frac = (frac << s) & 0x7fffffu;
        return sign | ((uint64_t)(1023 - 126 - s) << 52) | (frac << 29);
    }
    return sign | ((uint64_t)(exp + 1023 - 127) << 52) | (frac << 29);
}

uint32_t rv_f64_to_f32(uint64_t a, unsigned rm, unsigned *fl)
{
#if RV_FPU_HOST
    if (USE_HOST(rm))
        return f32_canon(f32_bits(host_cvt_d2s(f64_from_bits(a), rm, fl)));
#endif
    return rv_soft_f64_to_f32(a, rm, fl);
}

/* ---- integer -> float ---- */

uint32_t rv_i32_to_f32(int32_t v, unsigned rm, unsigned *fl)
{
    return rv_i64_to_f32(v, rm, fl);
}

uint32_t rv_u32_to_f32(uint32_t v, unsigned rm, unsigned *fl)
{
    return rv_i64_to_f32((int64_t)v, rm, fl);
}

uint32_t rv_i64_to_f32(int64_t v, unsigned rm, unsigned *fl)
{
#if RV_FPU_HOST
    if (USE_HOST(rm))
        return f32_bits(host_cvt_q2s(v, rm, fl));
#endif
    return rv_soft_i64_to_f32(v, rm, fl);
}

uint32_t rv_u64_to_f32(uint64_t v, unsigned rm, unsigned *fl)
{
#if RV_FPU_HOST
    if (USE_HOST(rm) && v <= (uint64_t)INT64_MAX)
        return f32_bits(host_cvt_q2s((int64_t)v, rm, fl));
#endif
    return rv_soft_u64_to_f32(v, rm, fl);
}

uint64_t rv_i32_to_f64(int32_t v, unsigned rm, unsigned *fl)
{
    return rv_i64_to_f64(v, rm, fl); /* always exact */
}

uint64_t rv_u32_to_f64(uint32_t v, unsigned rm, unsigned *fl)
{
    return rv_i64_to_f64((int64_t)v, rm, fl); /* always exact */
}

uint64_t rv_i64_to_f64(int64_t v, unsigned rm, unsigned *fl)
{
#if RV_FPU_HOST
    if (USE_HOST(rm))
        return f64_bits(host_cvt_q2d(v, rm, fl));
#endif
    return rv_soft_i64_to_f64(v, rm, fl);
}

uint64_t rv_u64_to_f64(uint64_t v, unsigned rm, unsigned *fl)
{
#if RV_FPU_HOST
    if (USE_HOST(rm) && v <= (uint64_t)INT64_MAX)
        return f64_bits(host_cvt_q2d((int64_t)v, rm, fl));
#endif
    return rv_soft_u64_to_f64(v, rm, fl);
}

/* ---- float -> integer (software only: the saturation rules and flags
 * differ from x86's "integer indefinite", and it is cheap integer code) ---- */

uint64_t rv_f32_to_i32(uint32_t a, unsigned rm, unsigned *fl)
{
    return rv_soft_f32_to_int(a, 32, 1, rm, fl);
}

uint64_t rv_f32_to_u32(uint32_t a, unsigned rm, unsigned *fl)
{
    return rv_soft_f32_to_int(a, 32, 0, rm, fl);
}

uint64_t rv_f32_to_i64(uint32_t a, unsigned rm, unsigned *fl)
{
    return rv_soft_f32_to_int(a, 64, 1, rm, fl);
}

uint64_t rv_f32_to_u64(uint32_t a, unsigned rm, unsigned *fl)
{
    return rv_soft_f32_to_int(a, 64, 0, rm, fl);
}

uint64_t rv_f64_to_i32(uint64_t a, unsigned rm, unsigned *fl)
{
    return rv_soft_f64_to_int(a, 32, 1, rm, fl);
}

uint64_t rv_f64_to_u32(uint64_t a, unsigned rm, unsigned *fl)
{
    return rv_soft_f64_to_int(a, 32, 0, rm, fl);
}

uint64_t rv_f64_to_i64(uint64_t a, unsigned rm, unsigned *fl)
{
    return rv_soft_f64_to_int(a, 64, 1, rm, fl);
}

uint64_t rv_f64_to_u64(uint64_t a, unsigned rm, unsigned *fl)
{
    return rv_soft_f64_to_int(a, 64, 0, rm, fl);
}
