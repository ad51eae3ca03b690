/*
 * rv_fpu.c - RISC-V F and D arithmetic, bit-exact to the unprivileged spec.
 *
 * Two implementations of every operation that rounds:
 *
 * Software path (rv_soft_*, first half of this file): portable integer
 * code for all five rounding modes.  Operands are unpacked into (sign,
 * exponent, 64-bit significand with its leading one at bit 63); each
 * operation computes the exact result, or a truncated one whose bit 0 is a
 * sticky bit ("jamming": bit 0 is ORed with everything shifted out), and
 * hands it to one rounding function, round_pack(), which knows the format,
 * the rounding mode, subnormals and every flag.  One rounding function for
 * all operations keeps RMM, tininess and overflow consistent.  It serves
 * RMM (which hosts lack), float -> integer conversions, FMA on CPUs without
 * FMA3, and everything on hosts other than x86-64.
 *
 * Host path (second half): x86-64 SSE for add/sub/mul/div/sqrt/fma and
 * f64 -> f32 in RNE/RTZ/RDN/RUP.  SSE is IEEE 754 with tininess detected
 * after rounding and raises the same five exceptions, so only NaN results
 * need fixing up (SSE propagates payloads; RISC-V returns the canonical
 * NaN).  See "MXCSR" below for how modes and flags are handled cheaply.
 *
 * Operations that never round (min/max, compares, classify, f32 -> f64)
 * are plain integer code; integer <-> float conversions use the software
 * path on every host (as cheap as switching the host's rounding mode).
 *
 * Written from the RISC-V unprivileged spec and IEEE 754-2008;
 * tests/unit/test_fpu.c checks the two paths against each other and
 * against a long double reference.
 */
#include "rv_fpu.h"

#include <stdbool.h>
#include <string.h>

/* ================================================================== */
/* Software path                                                       */
/* ================================================================== */

struct fmt {
    int p;               /* significand bits, hidden bit included */
    int32_t emin, emax;  /* unbiased exponent range of normal numbers */
    int sign_bit;        /* 31 or 63 */
    uint64_t inf;        /* +inf bits */
    uint64_t max_finite; /* largest finite magnitude bits */
    uint64_t canon_nan;
};

static const struct fmt fmt32 = {
    24, -126, 127, 31, 0x7f800000u, 0x7f7fffffu, RV_F32_CANON_NAN,
};
static const struct fmt fmt64 = {
    53, -1022, 1023, 63, UINT64_C(0x7ff0000000000000),
    UINT64_C(0x7fefffffffffffff), RV_F64_CANON_NAN,
};

enum { CLS_ZERO, CLS_FINITE, CLS_INF, CLS_QNAN, CLS_SNAN };

/* An unpacked operand.  For CLS_FINITE the value is
 * (-1)^sign * sig / 2^63 * 2^exp with bit 63 of sig set. */
struct unp {
    int cls;
    int sign;
    int32_t exp;
    uint64_t sig;
};

struct u128 {
    uint64_t hi, lo;
};

static inline int clz64(uint64_t x)
{
    return __builtin_clzll(x); /* callers guarantee x != 0 */
}

/* x >> n with every bit shifted out ORed into bit 0. */
static inline uint64_t shr_jam64(uint64_t x, uint32_t n)
{
    if (n == 0)
        return x;
    if (n >= 64)
        return x != 0;
    return (x >> n) | ((x << (64 - n)) != 0);
}

static struct u128 mul64x64(uint64_t a, uint64_t b)
{
    uint64_t al = (uint32_t)a, ah = a >> 32;
    uint64_t bl = (uint32_t)b, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
    struct u128 r;
    r.lo = (mid << 32) | (uint32_t)ll;
    r.hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    return r;
}

static struct u128 shr_jam128(struct u128 x, uint32_t n)
{
    struct u128 r;
    if (n == 0)
        return x;
    if (n < 64) {
        r.lo = (x.lo >> n) | (x.hi << (64 - n)) | ((x.lo << (64 - n)) != 0);
        r.hi = x.hi >> n;
    } else if (n < 128) {
        r.lo = shr_jam64(x.hi, n - 64) | (x.lo != 0);
        r.hi = 0;
    } else {
        r.lo = (x.hi | x.lo) != 0;
        r.hi = 0;
    }
    return r;
}

static struct u128 shl128(struct u128 x, uint32_t n)
{
    struct u128 r;
    if (n == 0)
        return x;
    if (n < 64) {
        r.hi = (x.hi << n) | (x.lo >> (64 - n));
        r.lo = x.lo << n;
    } else {
        r.hi = x.lo << (n - 64);
        r.lo = 0;
    }
    return r;
}

static inline int lt128(struct u128 a, struct u128 b)
{
    return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo);
}

static inline struct u128 add128(struct u128 a, struct u128 b)
{
    struct u128 r;
    r.lo = a.lo + b.lo;
    r.hi = a.hi + b.hi + (r.lo < a.lo);
    return r;
}

static inline struct u128 sub128(struct u128 a, struct u128 b)
{
    struct u128 r;
    r.lo = a.lo - b.lo;
    r.hi = a.hi - b.hi - (a.lo < b.lo);
    return r;
}

static struct unp unpack(const struct fmt *f, uint64_t x)
{
    const int m = f->p - 1;
    const uint64_t emask = (uint64_t)(2 * f->emax + 1);
    uint64_t frac = x & ((UINT64_C(1) << m) - 1);
    uint64_t e = (x >> m) & emask;
    struct unp u = { CLS_FINITE, (int)((x >> f->sign_bit) & 1), 0, 0 };

    if (e == emask) {
        if (frac == 0)
            u.cls = CLS_INF;
        else
            u.cls = ((frac >> (m - 1)) & 1) ? CLS_QNAN : CLS_SNAN;
    } else if (e == 0) {
        if (frac == 0) {
            u.cls = CLS_ZERO;
        } else {
            int s;
            u.sig = frac << (64 - f->p);
            s = clz64(u.sig);
            u.sig <<= s;
            u.exp = f->emin - s;
        }
    } else {
        u.sig = (frac | (UINT64_C(1) << m)) << (64 - f->p);
        u.exp = (int32_t)e - f->emax;
    }
    return u;
}

static inline int is_nan_cls(int cls)
{
    return cls >= CLS_QNAN;
}

static inline uint64_t sign_bits(const struct fmt *f, int sign)
{
    return (uint64_t)(sign != 0) << f->sign_bit;
}

/* Whether to add one ulp to the truncated magnitude.  `rem` is the part
 * below the kept lsb, `half` the weight of half an lsb at that scale. */
static inline int round_inc(unsigned rm, int sign, uint64_t lsb, uint64_t rem,
                            uint64_t half)
{
    if (rem == 0)
        return 0;
    switch (rm) {
    case RV_RM_RTZ:
        return 0;
    case RV_RM_RDN:
        return sign;
    case RV_RM_RUP:
        return !sign;
    case RV_RM_RMM:
        return rem >= half;
    default: /* RNE; also any out-of-range rm, so it is never undefined */
        return rem > half || (rem == half && (lsb & 1));
    }
}

/* Overflow result: infinity or the largest finite number, by mode. */
static uint64_t overflow_result(const struct fmt *f, int sign, unsigned rm,
                                unsigned *fl)
{
    int to_inf;
    *fl |= RV_FFLAG_OF | RV_FFLAG_NX;
    switch (rm) {
    case RV_RM_RTZ:
        to_inf = 0;
        break;
    case RV_RM_RDN:
        to_inf = sign;
        break;
    case RV_RM_RUP:
        to_inf = !sign;
        break;
    default:
        to_inf = 1;
        break;
    }
    return sign_bits(f, sign) | (to_inf ? f->inf : f->max_finite);
}

/*
 * Round (-1)^sign * sig / 2^63 * 2^exp (bit 63 of sig set; bit 0 may be a
 * sticky bit) to format f in mode rm, raising NX/UF/OF as RISC-V does.
 */
static uint64_t round_pack(const struct fmt *f, int sign, int32_t exp,
                           uint64_t sig, unsigned rm, unsigned *fl)
{
    const int shift = 64 - f->p; /* bits below the result's lsb */
    const uint64_t half = UINT64_C(1) << (shift - 1);
    const uint64_t rmask = (UINT64_C(1) << shift) - 1;
    bool tiny = false;
    uint64_t k, rem;

    if (exp < f->emin) {
        /* Tininess after rounding: tiny unless rounding to p bits with an
         * unbounded exponent would carry the value up to 2^emin. */
        tiny = true;
        if (exp == f->emin - 1) {
            k = sig >> shift;
            if (k == (UINT64_C(1) << f->p) - 1 &&
                round_inc(rm, sign, k, sig & rmask, half))
                tiny = false;
        }
        sig = shr_jam64(sig, (uint32_t)(f->emin - exp));
        exp = f->emin;
    }
    k = sig >> shift;
    rem = sig & rmask;
    if (rem != 0) {
        *fl |= RV_FFLAG_NX | (tiny ? RV_FFLAG_UF : 0);
        k += (uint64_t)round_inc(rm, sign, k, rem, half);
        if (k >> f->p) { /* carried out of the significand */
            k >>= 1;
            exp++;
        }
    }
    if (exp > f->emax)
        return overflow_result(f, sign, rm, fl);
    /* The hidden bit of k adds one to the exponent field: a subnormal
     * (exp == emin, k < 2^(p-1)) packs with field 0, and one that rounded
     * up to 2^(p-1) becomes the smallest normal by itself. */
    return sign_bits(f, sign) +
           ((uint64_t)(exp + f->emax - 1) << (f->p - 1)) + k;
}

/* Round a finite nonzero value given as x / 2^62 * 2^exp (x != 0, bit 63
 * may be set) after normalizing x. */
static uint64_t norm_round(const struct fmt *f, int sign, int32_t exp,
                           uint64_t x, unsigned rm, unsigned *fl)
{
    int lz = clz64(x);
    return round_pack(f, sign, exp + 1 - lz, x << lz, rm, fl);
}

static uint64_t nan_result(const struct fmt *f, int signaling, unsigned *fl)
{
    if (signaling)
        *fl |= RV_FFLAG_NV;
    return f->canon_nan;
}

/* ---- add / sub ---- */

static uint64_t sf_add(const struct fmt *f, uint64_t x, uint64_t y,
                       int negate_y, unsigned rm, unsigned *fl)
{
    struct unp a = unpack(f, x), b = unpack(f, y);
    uint64_t sa, sb;
    int32_t d;

    if (is_nan_cls(a.cls) || is_nan_cls(b.cls))
        return nan_result(f, a.cls == CLS_SNAN || b.cls == CLS_SNAN, fl);
    b.sign ^= (negate_y != 0);
    if (a.cls == CLS_INF) {
        if (b.cls == CLS_INF && a.sign != b.sign)
            return nan_result(f, 1, fl);
        return sign_bits(f, a.sign) | f->inf;
    }
    if (b.cls == CLS_INF)
        return sign_bits(f, b.sign) | f->inf;
    if (b.cls == CLS_ZERO) {
        if (a.cls == CLS_ZERO && a.sign != b.sign)
            return sign_bits(f, rm == RV_RM_RDN);
        return x; /* a exactly; also covers equal-signed zeros */
    }
    if (a.cls == CLS_ZERO)
        return y ^ sign_bits(f, negate_y);

    if (a.exp < b.exp || (a.exp == b.exp && a.sig < b.sig)) {
        struct unp t = a;
        a = b;
        b = t;
    }
    /* |a| >= |b|; one bit of headroom for the carry.  The dropped low bit
     * is zero for every unpacked significand. */
    d = a.exp - b.exp;
    sa = a.sig >> 1;
    sb = shr_jam64(b.sig >> 1, (uint32_t)d);
    if (a.sign == b.sign)
        return norm_round(f, a.sign, a.exp, sa + sb, rm, fl);
    if (sa == sb) /* exact cancellation */
        return sign_bits(f, rm == RV_RM_RDN);
    /* With d >= 2 the jammed bit stays far below the rounding position;
     * with d <= 1 nothing was shifted out, so the difference is exact. */
    return norm_round(f, a.sign, a.exp, sa - sb, rm, fl);
}

/* ---- mul ---- */

static uint64_t sf_mul(const struct fmt *f, uint64_t x, uint64_t y,
                       unsigned rm, unsigned *fl)
{
    struct unp a = unpack(f, x), b = unpack(f, y);
    int sign = a.sign ^ b.sign;
    struct u128 p;

    if (is_nan_cls(a.cls) || is_nan_cls(b.cls))
        return nan_result(f, a.cls == CLS_SNAN || b.cls == CLS_SNAN, fl);
    if (a.cls == CLS_INF || b.cls == CLS_INF) {
        if (a.cls == CLS_ZERO || b.cls == CLS_ZERO)
            return nan_result(f, 1, fl);
        return sign_bits(f, sign) | f->inf;
    }
    if (a.cls == CLS_ZERO || b.cls == CLS_ZERO)
        return sign_bits(f, sign);
    /* product in [2^126, 2^128): hi holds it as hi / 2^62 * 2^(ea+eb) */
    p = mul64x64(a.sig, b.sig);
    return norm_round(f, sign, a.exp + b.exp, p.hi | (p.lo != 0), rm, fl);
}

/* ---- div ---- */

static uint64_t sf_div(const struct fmt *f, uint64_t x, uint64_t y,
                       unsigned rm, unsigned *fl)
{
    struct unp a = unpack(f, x), b = unpack(f, y);
    int sign = a.sign ^ b.sign;
    uint64_t na, nb, q, r;
    int32_t exp;
    int i;

    if (is_nan_cls(a.cls) || is_nan_cls(b.cls))
        return nan_result(f, a.cls == CLS_SNAN || b.cls == CLS_SNAN, fl);
    if (a.cls == CLS_INF) {
        if (b.cls == CLS_INF)
            return nan_result(f, 1, fl);
        return sign_bits(f, sign) | f->inf;
    }
    if (b.cls == CLS_INF)
        return sign_bits(f, sign);
    if (b.cls == CLS_ZERO) {
        if (a.cls == CLS_ZERO)
            return nan_result(f, 1, fl);
        *fl |= RV_FFLAG_DZ;
        return sign_bits(f, sign) | f->inf;
    }
    if (a.cls == CLS_ZERO)
        return sign_bits(f, sign);

    /* 53-bit integer significands (the 11 dropped bits are zero), then
     * long division 11 bits at a time: the remainder stays below nb <
     * 2^53, so remainder << 11 fits in 64 bits. */
    na = a.sig >> 11;
    nb = b.sig >> 11;
    exp = a.exp - b.exp;
    if (na < nb) {
        na <<= 1;
        exp--;
    }
    q = 1; /* na / nb is in [1, 2) */
    r = na - nb;
    for (i = 0; i < 5; i++) {
        uint64_t d;
        r <<= 11;
        d = r / nb;
        r -= d * nb;
        q = (q << 11) | d;
    }
    /* q has 56 bits (leading one at bit 55); the remainder is sticky */
    return round_pack(f, sign, exp, (q << 8) | (r != 0), rm, fl);
}

/* ---- sqrt ---- */

static uint64_t sf_sqrt(const struct fmt *f, uint64_t x, unsigned rm,
                        unsigned *fl)
{
    struct unp a = unpack(f, x);
    const int n = f->p + 2; /* root bits: p, guard, and one spare */
    uint64_t stream, q = 0, r = 0;
    int32_t odd;
    int i;

    if (is_nan_cls(a.cls))
        return nan_result(f, a.cls == CLS_SNAN, fl);
    if (a.cls == CLS_ZERO)
        return x; /* sqrt(-0) = -0 */
    if (a.sign)
        return nan_result(f, 1, fl);
    if (a.cls == CLS_INF)
        return x;

    /* Make the exponent even so the root's exponent is exact: the
     * radicand X = value / 2^(exp - odd) lies in [1, 4), held with its
     * two integer bits at the top of `stream`. */
    odd = (int32_t)((uint32_t)a.exp & 1);
    stream = odd ? a.sig : a.sig >> 1; /* low bit of sig is zero */
    /* Digit-by-digit square root, one root bit per step: r stays <= 2q. */
    for (i = 0; i < n; i++) {
        uint64_t t;
        r = (r << 2) | (stream >> 62);
        stream <<= 2;
        t = (q << 2) | 1;
        q <<= 1;
        if (r >= t) {
            r -= t;
            q |= 1;
        }
    }
    /* q = floor(sqrt(X) * 2^(n-1)); any leftover means inexact */
    return round_pack(f, 0, (a.exp - odd) / 2,
                      (q << (64 - n)) | (r != 0 || stream != 0), rm, fl);
}

/* ---- fused multiply-add ---- */

static uint64_t sf_fma(const struct fmt *f, uint64_t x, uint64_t y,
                       uint64_t z, int neg_prod, int neg_add, unsigned rm,
                       unsigned *fl)
{
    struct unp a = unpack(f, x), b = unpack(f, y), c = unpack(f, z);
    int ps = a.sign ^ b.sign ^ (neg_prod != 0);
    int cs = c.sign ^ (neg_add != 0);
    int inv_mul = (a.cls == CLS_INF && b.cls == CLS_ZERO) ||
                  (a.cls == CLS_ZERO && b.cls == CLS_INF);
    struct u128 pm, cm, big, small, res;
    int32_t pe, ce, e, d;
    int sign, lz;

    /* RISC-V: inf * 0 is invalid even when c is a quiet NaN. */
    if (inv_mul || is_nan_cls(a.cls) || is_nan_cls(b.cls) ||
        is_nan_cls(c.cls))
        return nan_result(f, inv_mul || a.cls == CLS_SNAN ||
                                 b.cls == CLS_SNAN || c.cls == CLS_SNAN,
                          fl);
    if (a.cls == CLS_INF || b.cls == CLS_INF) {
        if (c.cls == CLS_INF && cs != ps)
            return nan_result(f, 1, fl);
        return sign_bits(f, ps) | f->inf;
    }
    if (c.cls == CLS_INF)
        return sign_bits(f, cs) | f->inf;
    if (a.cls == CLS_ZERO || b.cls == CLS_ZERO) {
        if (c.cls == CLS_ZERO)
            return sign_bits(f, ps == cs ? ps : rm == RV_RM_RDN);
        return (z & ~sign_bits(f, 1)) | sign_bits(f, cs); /* exact */
    }

    /* Exact product with its leading one at bit 127, value
     * pm / 2^127 * 2^pe; then both addends get two bits of headroom:
     * value = m * 2^(e - 125), leading one at bit 125. */
    pm = mul64x64(a.sig, b.sig);
    pe = a.exp + b.exp + 1;
    if (!(pm.hi >> 63)) {
        pm = shl128(pm, 1);
        pe--;
    }
    if (c.cls == CLS_ZERO) /* x + 0: round the product alone */
        return round_pack(f, ps, pe, pm.hi | (pm.lo != 0), rm, fl);
    pm = shr_jam128(pm, 2); /* low bits are zero: exact */
    cm.hi = c.sig >> 2;
    cm.lo = c.sig << 62;
    ce = c.exp;

    if (pe > ce || (pe == ce && !lt128(pm, cm))) {
        big = pm;
        small = cm;
        e = pe;
        d = pe - ce;
        sign = ps;
    } else {
        big = cm;
        small = pm;
        e = ce;
        d = ce - pe;
        sign = cs;
    }
    /* Jamming is safe as in sf_add: for d <= 1 no nonzero bit is lost,
     * for d >= 2 the sticky bit ends far below the rounding position. */
    small = shr_jam128(small, (uint32_t)d);
    if (ps == cs) {
        res = add128(big, small);
    } else {
        res = sub128(big, small);
        if (res.hi == 0 && res.lo == 0)
            return sign_bits(f, rm == RV_RM_RDN);
    }
    lz = res.hi ? clz64(res.hi) : 64 + clz64(res.lo);
    res = shl128(res, (uint32_t)lz);
    return round_pack(f, sign, e + 2 - lz, res.hi | (res.lo != 0), rm, fl);
}

/* ---- conversions ---- */

static uint64_t sf_from_int(const struct fmt *f, int sign, uint64_t mag,
                            unsigned rm, unsigned *fl)
{
    int lz;
    if (mag == 0)
        return 0;
    lz = clz64(mag);
    return round_pack(f, sign, 63 - lz, mag << lz, rm, fl);
}

static inline uint64_t sext32(uint64_t v)
{
    return ((v & 0xffffffffu) ^ 0x80000000u) - 0x80000000u;
}

static uint64_t sf_to_int(const struct fmt *f, uint64_t x, int bits,
                          int is_signed, unsigned rm, unsigned *fl)
{
    struct unp a = unpack(f, x);
    const uint64_t umax = bits == 64 ? UINT64_MAX : 0xffffffffu;
    /* largest magnitude allowed on each side */
    const uint64_t pos_max = is_signed ? umax >> 1 : umax;
    const uint64_t neg_max = is_signed ? (umax >> 1) + 1 : 0;
    uint64_t mag, frac, r;

    if (is_nan_cls(a.cls) || (a.cls == CLS_INF && !a.sign))
        goto invalid_pos;
    if (a.cls == CLS_INF)
        goto invalid_neg;
    if (a.cls == CLS_ZERO)
        return 0;
    if (a.exp >= 64)
        goto invalid;
    if (a.exp >= 0) {
        mag = a.sig >> (63 - a.exp);
        frac = a.exp == 63 ? 0 : a.sig << (a.exp + 1);
    } else {
        mag = 0;
        frac = shr_jam64(a.sig, (uint32_t)(-a.exp - 1));
    }
    /* frac is the fraction scaled by 2^64; exp <= 62 whenever frac != 0,
     * so mag < 2^63 and the increment cannot wrap. */
    mag += (uint64_t)round_inc(rm, a.sign, mag, frac, UINT64_C(1) << 63);
    if (a.sign ? mag > neg_max : mag > pos_max)
        goto invalid;
    if (frac != 0)
        *fl |= RV_FFLAG_NX;
    r = a.sign ? 0 - mag : mag;
    return bits == 64 ? r : sext32(r);

invalid:
    if (a.sign)
        goto invalid_neg;
invalid_pos:
    *fl |= RV_FFLAG_NV;
    return bits == 64 ? pos_max : sext32(pos_max);
invalid_neg:
    *fl |= RV_FFLAG_NV;
    r = 0 - neg_max;
    return bits == 64 ? r : sext32(r);
}

/* ---- exported entry points ---- */

uint32_t rv_soft_f32_add(uint32_t a, uint32_t b, unsigned rm, unsigned *fl)
{
    return (uint32_t)sf_add(&fmt32, a, b, 0, rm, fl);
}

uint32_t rv_soft_f32_sub(uint32_t a, uint32_t b, unsigned rm, unsigned *fl)
{
    return (uint32_t)sf_add(&fmt32, a, b, 1, rm, fl);
}

uint32_t rv_soft_f32_mul(uint32_t a, uint32_t b, unsigned rm, unsigned *fl)
{
    return (uint32_t)sf_mul(&fmt32, a, b, rm, fl);
}

uint32_t rv_soft_f32_div(uint32_t a, uint32_t b, unsigned rm, unsigned *fl)
{
    return (uint32_t)sf_div(&fmt32, a, b, rm, fl);
}

uint32_t rv_soft_f32_sqrt(uint32_t a, unsigned rm, unsigned *fl)
{
    return (uint32_t)sf_sqrt(&fmt32, a, rm, fl);
}

uint32_t rv_soft_f32_fma(uint32_t a, uint32_t b, uint32_t c, int neg_prod,
                         int neg_add, unsigned rm, unsigned *fl)
{
    return (uint32_t)sf_fma(&fmt32, a, b, c, neg_prod, neg_add, rm, fl);
}

uint64_t rv_soft_f64_add(uint64_t a, uint64_t b, unsigned rm, unsigned *fl)
{
    return sf_add(&fmt64, a, b, 0, rm, fl);
}

uint64_t rv_soft_f64_sub(uint64_t a, uint64_t b, unsigned rm, unsigned *fl)
{
    return sf_add(&fmt64, a, b, 1, rm, fl);
}

uint64_t rv_soft_f64_mul(uint64_t a, uint64_t b, unsigned rm, unsigned *fl)
{
    return sf_mul(&fmt64, a, b, rm, fl);
}

uint64_t rv_soft_f64_div(uint64_t a, uint64_t b, unsigned rm, unsigned *fl)
{
    return sf_div(&fmt64, a, b, rm, fl);
}

uint64_t rv_soft_f64_sqrt(uint64_t a, unsigned rm, unsigned *fl)
{
    return sf_sqrt(&fmt64, a, rm, fl);
}

uint64_t rv_soft_f64_fma(uint64_t a, uint64_t b, uint64_t c, int neg_prod,
                         int neg_add, unsigned rm, unsigned *fl)
{
    return sf_fma(&fmt64, a, b, c, neg_prod, neg_add, rm, fl);
}

uint32_t rv_soft_f64_to_f32(uint64_t a, unsigned rm, unsigned *fl)
{
    struct unp u = unpack(&fmt64, a);

    switch (u.cls) {
    case CLS_QNAN:
    case CLS_SNAN:
        return (uint32_t)nan_result(&fmt32, u.cls == CLS_SNAN, fl);
    case CLS_INF:
        return (uint32_t)(sign_bits(&fmt32, u.sign) | fmt32.inf);
    case CLS_ZERO:
        return (uint32_t)sign_bits(&fmt32, u.sign);
    default:
        return (uint32_t)round_pack(&fmt32, u.sign, u.exp, u.sig, rm, fl);
    }
}

uint32_t rv_soft_i64_to_f32(int64_t v, unsigned rm, unsigned *fl)
{
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    return (uint32_t)sf_from_int(&fmt32, v < 0, mag, rm, fl);
}

uint32_t rv_soft_u64_to_f32(uint64_t v, unsigned rm, unsigned *fl)
{
    return (uint32_t)sf_from_int(&fmt32, 0, v, rm, fl);
}

uint64_t rv_soft_i64_to_f64(int64_t v, unsigned rm, unsigned *fl)
{
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    return sf_from_int(&fmt64, v < 0, mag, rm, fl);
}

uint64_t rv_soft_u64_to_f64(uint64_t v, unsigned rm, unsigned *fl)
{
    return sf_from_int(&fmt64, 0, v, rm, fl);
}

uint64_t rv_soft_f32_to_int(uint32_t a, int bits, int is_signed, unsigned rm,
                            unsigned *fl)
{
    return sf_to_int(&fmt32, a, bits, is_signed, rm, fl);
}

uint64_t rv_soft_f64_to_int(uint64_t a, int bits, int is_signed, unsigned rm,
                            unsigned *fl)
{
    return sf_to_int(&fmt64, a, bits, is_signed, rm, fl);
}

/* ================================================================== */
/* Host path and public entry points                                   */
/* ================================================================== */

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

/*
 * Each host operation is one SSE instruction in one asm statement, so the
 * compiler cannot move it away from the MXCSR writes around it.  There are
 * two ways to run it, both exact:
 *
 * Flag path: load MXCSR with the rounding mode and the flags clear, run
 * the instruction, read the flags it raised.  On Intel cores an ldmxcsr
 * that changes status flags which a recent instruction raised, or that
 * loads a word stmxcsr just stored, costs hundreds of cycles (one that
 * changes only control bits costs a few), so afterwards RNE leaves MXCSR
 * as it is (the usual state plus the new sticky flags) and the directed
 * modes load RNE back from a constant.  A caller in any other state (not
 * RNE, unmasked exceptions, FTZ/DAZ) gets its MXCSR back exactly, slowly.
 *
 * Fast path, taken when NX is already accrued in *fl (nearly always true
 * in floating-point code) and the caller is in the usual state: then only
 * NV, DZ, OF or UF could still change *fl, and none of them comes with a
 * result strictly between the smallest normal and the largest finite
 * number (overflow in RTZ/RDN gives the largest finite, underflow can
 * round up to the smallest normal).  So the instruction runs without
 * reading flags, and a result in that range is final; anything else is
 * redone on the flag path.  RNE then needs no MXCSR write at all; the
 * directed modes switch the rounding control with every flag bit set, so
 * after the first time only control bits change.
 *
 * Either way the caller's rounding mode, masks and FTZ/DAZ are what they
 * were; its sticky exception flags are not preserved unless it was in an
 * unusual state (nothing in the engine reads them).
 */
#define MXCSR_DEFAULT 0x1f80u /* RNE, all exceptions masked */
#define MXCSR_FLAGS 0x3fu

/* indexed by RISC-V rm: RNE RTZ RDN RUP */
static const uint32_t mxcsr_flag_path[4] = {
    MXCSR_DEFAULT, MXCSR_DEFAULT | (3u << 13), MXCSR_DEFAULT | (1u << 13),
    MXCSR_DEFAULT | (2u << 13),
};
static const uint32_t mxcsr_fast_path[4] = {
    MXCSR_DEFAULT | MXCSR_FLAGS, MXCSR_DEFAULT | MXCSR_FLAGS | (3u << 13),
    MXCSR_DEFAULT | MXCSR_FLAGS | (1u << 13),
    MXCSR_DEFAULT | MXCSR_FLAGS | (2u << 13),
};

/* MXCSR flags IE DE ZE OE UE PE (bits 0-5) -> fflags; DE has no RISC-V
 * counterpart. */
static inline unsigned mxcsr_to_fflags(uint32_t st)
{
    return ((st & 0x01u) << 4) | ((st & 0x04u) << 1) | ((st & 0x08u) >> 1) |
           ((st & 0x10u) >> 3) | ((st & 0x20u) >> 5);
}

static inline uint32_t mxcsr_read(void)
{
    uint32_t m;
    __asm__ __volatile__("stmxcsr %0" : "=m"(m));
    return m;
}

static inline int mxcsr_usual(uint32_t m)
{
    return (m & ~MXCSR_FLAGS) == MXCSR_DEFAULT;
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

/* Flag path: run `op` in mode rm, flags into `st`. */
#define MX_FLAG_PATH(op, outs, ...)                                            \
    do {                                                                       \
        uint32_t saved_ = mxcsr_read();                                        \
        if (!mxcsr_usual(saved_))                                              \
            __asm__ __volatile__("ldmxcsr %[cwm]\n\t" op "\n\t"                \
                                 "stmxcsr %[stm]\n\tldmxcsr %[rs]"             \
                                 : outs, [stm] "=m"(st)                        \
                                 : __VA_ARGS__,                                \
                                   [cwm] "m"(mxcsr_flag_path[rm]),             \
                                   [rs] "m"(saved_));                          \
        else if (rm == RV_RM_RNE)                                              \
            __asm__ __volatile__("ldmxcsr %[cwm]\n\t" op "\n\t"                \
                                 "stmxcsr %[stm]"                              \
                                 : outs, [stm] "=m"(st)                        \
                                 : __VA_ARGS__,                                \
                                   [cwm] "m"(mxcsr_flag_path[rm]));            \
        else                                                                   \
            __asm__ __volatile__("ldmxcsr %[cwm]\n\t" op "\n\t"                \
                                 "stmxcsr %[stm]\n\tldmxcsr %[rs]"             \
                                 : outs, [stm] "=m"(st)                        \
                                 : __VA_ARGS__,                                \
                                   [cwm] "m"(mxcsr_flag_path[rm]),             \
                                   [rs] "m"(mxcsr_flag_path[RV_RM_RNE]));      \
    } while (0)

/* Fast path: run `op` in mode rm, flags not read.  The caller is in the
 * usual state, so RNE is already loaded. */
#define MX_FAST_PATH(op, outs, ...)                                            \
    do {                                                                       \
        if (rm == RV_RM_RNE)                                                   \
            __asm__ __volatile__(op : outs : __VA_ARGS__);                     \
        else                                                                   \
            __asm__ __volatile__("ldmxcsr %[cwm]\n\t" op "\n\tldmxcsr %[rs]"   \
                                 : outs                                        \
                                 : __VA_ARGS__,                                \
                                   [cwm] "m"(mxcsr_fast_path[rm]),             \
                                   [rs] "m"(mxcsr_fast_path[RV_RM_RNE]));      \
    } while (0)

/* name_flags(d, s, rm, fl) / name_fast(d, s, rm): d = insn(s, d). */
#define HOST_FN2(name, tout, tin, insn)                                        \
    static inline tout name##_flags(tout d, tin s, unsigned rm, unsigned *fl)  \
    {                                                                          \
        uint32_t st;                                                           \
        MX_FLAG_PATH(insn " %[s], %[d]", [d] "+x"(d), [s] "x"(s));             \
        *fl |= mxcsr_to_fflags(st);                                            \
        return d;                                                              \
    }                                                                          \
    static inline tout name##_fast(tout d, tin s, unsigned rm)                 \
    {                                                                          \
        MX_FAST_PATH(insn " %[s], %[d]", [d] "+x"(d), [s] "x"(s));             \
        return d;                                                              \
    }

HOST_FN2(host_adds, float, float, "addss")
HOST_FN2(host_subs, float, float, "subss")
HOST_FN2(host_muls, float, float, "mulss")
HOST_FN2(host_divs, float, float, "divss")
HOST_FN2(host_sqrts, float, float, "sqrtss")
HOST_FN2(host_addd, double, double, "addsd")
HOST_FN2(host_subd, double, double, "subsd")
HOST_FN2(host_muld, double, double, "mulsd")
HOST_FN2(host_divd, double, double, "divsd")
HOST_FN2(host_sqrtd, double, double, "sqrtsd")
HOST_FN2(host_cvtds, float, double, "cvtsd2ss")

/* a = b * a + c in one rounding; needs FMA3 (VEX encoded). */
#define HOST_FMA(name, type, insn)                                             \
    static inline type name##_flags(type a, type b, type c, unsigned rm,       \
                                    unsigned *fl)                              \
    {                                                                          \
        uint32_t st;                                                           \
        MX_FLAG_PATH(insn " %[c], %[b], %[a]", [a] "+x"(a), [b] "x"(b),        \
                     [c] "x"(c));                                              \
        *fl |= mxcsr_to_fflags(st);                                            \
        return a;                                                              \
    }                                                                          \
    static inline type name##_fast(type a, type b, type c, unsigned rm)        \
    {                                                                          \
        MX_FAST_PATH(insn " %[c], %[b], %[a]", [a] "+x"(a), [b] "x"(b),        \
                     [c] "x"(c));                                              \
        return a;                                                              \
    }

HOST_FMA(host_fmas, float, "vfmadd213ss")
HOST_FMA(host_fmad, double, "vfmadd213sd")

static inline int host_has_fma(void)
{
    return __builtin_cpu_supports("fma");
}

/* Whether the fast path may be tried. */
static inline int fast_ok(const unsigned *fl)
{
    return (*fl & RV_FFLAG_NX) && mxcsr_usual(mxcsr_read());
}

/* Magnitude strictly between the smallest normal and the largest finite:
 * a result that cannot carry NV, DZ, OF or UF. */
static inline int f32_plain(uint32_t r)
{
    return (r & ~F32_SIGN) - 0x00800001u < 0x7f7fffffu - 0x00800001u;
}

static inline int f64_plain(uint64_t r)
{
    return (r & ~F64_SIGN) - UINT64_C(0x0010000000000001) <
           UINT64_C(0x7fefffffffffffff) - UINT64_C(0x0010000000000001);
}

static inline uint32_t f32_canon(uint32_t r)
{
    return f32_is_nan(r) ? RV_F32_CANON_NAN : r;
}

static inline uint64_t f64_canon(uint64_t r)
{
    return f64_is_nan(r) ? RV_F64_CANON_NAN : r;
}

/* Run host op `fn` (d, s) for format 32/64: fast path, then flag path. */
#define HOST_RUN2(w, fn, d, s)                                                 \
    do {                                                                       \
        uint##w##_t r_;                                                        \
        if (fast_ok(fl)) {                                                     \
            r_ = f##w##_bits(fn##_fast(f##w##_from_bits(d),                    \
                                       f##w##_from_bits(s), rm));              \
            if (f##w##_plain(r_))                                              \
                return r_;                                                     \
        }                                                                      \
        return f##w##_canon(f##w##_bits(                                       \
            fn##_flags(f##w##_from_bits(d), f##w##_from_bits(s), rm, fl)));    \
    } while (0)

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
#define HOST_RUN2(w, fn, d, s) ((void)0)
#endif

/* ---- arithmetic ---- */

#define DEF_BINOP(w, op, hostfn)                                               \
    uint##w##_t rv_f##w##_##op(uint##w##_t a, uint##w##_t b, unsigned rm,      \
                               unsigned *fl)                                   \
    {                                                                          \
        if (USE_HOST(rm))                                                      \
            HOST_RUN2(w, hostfn, a, b);                                        \
        return rv_soft_f##w##_##op(a, b, rm, fl);                              \
    }

DEF_BINOP(32, add, host_adds)
DEF_BINOP(32, sub, host_subs)
DEF_BINOP(32, mul, host_muls)
DEF_BINOP(32, div, host_divs)
DEF_BINOP(64, add, host_addd)
DEF_BINOP(64, sub, host_subd)
DEF_BINOP(64, mul, host_muld)
DEF_BINOP(64, div, host_divd)

uint32_t rv_f32_sqrt(uint32_t a, unsigned rm, unsigned *fl)
{
    if (USE_HOST(rm))
        HOST_RUN2(32, host_sqrts, a, a);
    return rv_soft_f32_sqrt(a, rm, fl);
}

uint64_t rv_f64_sqrt(uint64_t a, unsigned rm, unsigned *fl)
{
    if (USE_HOST(rm))
        HOST_RUN2(64, host_sqrtd, a, a);
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
        float y = f32_from_bits(b);
        float z = f32_from_bits(c ^ (neg_add ? F32_SIGN : 0));
        if (fast_ok(fl)) {
            uint32_t r = f32_bits(host_fmas_fast(x, y, z, rm));
            if (f32_plain(r))
                return r;
        }
        return f32_canon(f32_bits(host_fmas_flags(x, y, z, rm, fl)));
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
        double y = f64_from_bits(b);
        double z = f64_from_bits(c ^ (neg_add ? F64_SIGN : 0));
        if (fast_ok(fl)) {
            uint64_t r = f64_bits(host_fmad_fast(x, y, z, rm));
            if (f64_plain(r))
                return r;
        }
        return f64_canon(f64_bits(host_fmad_flags(x, y, z, rm, fl)));
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

/* exp_all: the all-ones exponent field; quiet_bit: top fraction bit. */
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
    if (USE_HOST(rm)) {
        double x = f64_from_bits(a);
        if (fast_ok(fl)) {
            uint32_t r = f32_bits(host_cvtds_fast(0.0f, x, rm));
            if (f32_plain(r))
                return r;
        }
        return f32_canon(f32_bits(host_cvtds_flags(0.0f, x, rm, fl)));
    }
#endif
    return rv_soft_f64_to_f32(a, rm, fl);
}

/* ---- integer -> float (software: a normalize and one rounding step is
 * as cheap as switching the host's rounding mode) ---- */

uint32_t rv_i32_to_f32(int32_t v, unsigned rm, unsigned *fl)
{
    return rv_soft_i64_to_f32(v, rm, fl);
}

uint32_t rv_u32_to_f32(uint32_t v, unsigned rm, unsigned *fl)
{
    return rv_soft_u64_to_f32(v, rm, fl);
}

uint32_t rv_i64_to_f32(int64_t v, unsigned rm, unsigned *fl)
{
    return rv_soft_i64_to_f32(v, rm, fl);
}

uint32_t rv_u64_to_f32(uint64_t v, unsigned rm, unsigned *fl)
{
    return rv_soft_u64_to_f32(v, rm, fl);
}

uint64_t rv_i32_to_f64(int32_t v, unsigned rm, unsigned *fl)
{
    return rv_soft_i64_to_f64(v, rm, fl); /* always exact */
}

uint64_t rv_u32_to_f64(uint32_t v, unsigned rm, unsigned *fl)
{
    return rv_soft_u64_to_f64(v, rm, fl); /* always exact */
}

uint64_t rv_i64_to_f64(int64_t v, unsigned rm, unsigned *fl)
{
    return rv_soft_i64_to_f64(v, rm, fl);
}

uint64_t rv_u64_to_f64(uint64_t v, unsigned rm, unsigned *fl)
{
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
