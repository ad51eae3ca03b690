/*
 * rv_softfp.c - software IEEE 754 arithmetic for the RISC-V F/D extensions.
 *
 * Portable integer-only implementation of every operation that rounds, in
 * all five RISC-V rounding modes.  rv_fpu.c uses it for RMM (which hosts
 * lack), for float->integer conversions, and for everything on hosts whose
 * FPU does not match RISC-V (anything but x86-64 SSE).
 *
 * Shape: unpack operands into (sign, exponent, 64-bit significand with its
 * leading one at bit 63), compute the exact result or a truncated one whose
 * bit 0 is a sticky bit ("jamming": bit 0 is ORed with everything shifted
 * out), and hand that to one rounding function, round_pack(), which knows
 * the format, the rounding mode, subnormals and every flag.  One rounding
 * function for all operations keeps RMM, tininess and overflow consistent.
 *
 * Written from the RISC-V unprivileged spec and IEEE 754-2008.
 */
#include "rv_fpu.h"

#include <stdbool.h>

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
