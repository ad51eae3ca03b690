/*
 * test_fpu.c - unit tests for engine/rv_fpu.c (RISC-V F/D arithmetic).
 *
 * 1. Hand-checked tables for every function in all five rounding modes,
 *    run through both the public entry points and the software path.
 * 2. Differential test: host (SSE) path against the software path for
 *    RNE/RTZ/RDN/RUP over random and edge-case operands, bit for bit and
 *    flag for flag, with and without NX already accrued (the host's two
 *    paths); x86-64 only, skipped elsewhere.
 * 3. Oracle tests in all five modes (RMM included): exact results computed
 *    in long double (64-bit significand) and rounded by an independent
 *    reference written with long double arithmetic.
 * 4. RMM properties: for div and sqrt (no exact ties possible at full
 *    precision) RMM equals RNE; for f64 add/mul, TwoSum/TwoProduct give
 *    the exact error, which decides whether RMM must differ from RNE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fenv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv_fpu.h"

#define NX RV_FFLAG_NX
#define UF RV_FFLAG_UF
#define OF RV_FFLAG_OF
#define DZ RV_FFLAG_DZ
#define NV RV_FFLAG_NV

#define ALL5(v) { (v), (v), (v), (v), (v) }

static const char *const rm_name[5] = { "RNE", "RTZ", "RDN", "RUP", "RMM" };

/* ---- f32 / f64 constants ---- */
#define S_ONE 0x3f800000u
#define S_NONE 0xbf800000u
#define S_TWO 0x40000000u
#define S_THREE 0x40400000u
#define S_HALF 0x3f000000u
#define S_MAX 0x7f7fffffu
#define S_NMAX 0xff7fffffu
#define S_INF 0x7f800000u
#define S_NINF 0xff800000u
#define S_QNAN 0x7fc00000u
#define S_SNAN 0x7f800001u
#define S_CNAN RV_F32_CANON_NAN
#define S_NZERO 0x80000000u

#define D_ONE UINT64_C(0x3ff0000000000000)
#define D_NONE UINT64_C(0xbff0000000000000)
#define D_TWO UINT64_C(0x4000000000000000)
#define D_THREE UINT64_C(0x4008000000000000)
#define D_HALF UINT64_C(0x3fe0000000000000)
#define D_MAX UINT64_C(0x7fefffffffffffff)
#define D_NMAX UINT64_C(0xffefffffffffffff)
#define D_INF UINT64_C(0x7ff0000000000000)
#define D_NINF UINT64_C(0xfff0000000000000)
#define D_QNAN UINT64_C(0x7ff8000000000000)
#define D_SNAN UINT64_C(0x7ff0000000000001)
#define D_CNAN RV_F64_CANON_NAN
#define D_NZERO UINT64_C(0x8000000000000000)

/* ------------------------------------------------------------------ */
/* Uniform operation wrappers: public and software path, f32 and f64.  */
/* ------------------------------------------------------------------ */

enum op {
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_SQRT,
    OP_FMADD, OP_FMSUB, OP_FNMSUB, OP_FNMADD,
    OP_CVT, /* f64 -> f32 (in the f64 table: operand is f64, result f32) */
    OP_COUNT
};

static const char *const op_name[OP_COUNT] = {
    "add", "sub", "mul", "div", "sqrt", "fmadd", "fmsub", "fnmsub", "fnmadd",
    "cvt.s.d",
};

static uint64_t run_f32(int op, int soft, uint64_t a64, uint64_t b64,
                        uint64_t c64, unsigned rm, unsigned *fl)
{
    uint32_t a = (uint32_t)a64, b = (uint32_t)b64, c = (uint32_t)c64;
    int np = op == OP_FNMSUB || op == OP_FNMADD;
    int na = op == OP_FMSUB || op == OP_FNMADD;

    switch (op) {
    case OP_ADD:
        return soft ? rv_soft_f32_add(a, b, rm, fl) : rv_f32_add(a, b, rm, fl);
    case OP_SUB:
        return soft ? rv_soft_f32_sub(a, b, rm, fl) : rv_f32_sub(a, b, rm, fl);
    case OP_MUL:
        return soft ? rv_soft_f32_mul(a, b, rm, fl) : rv_f32_mul(a, b, rm, fl);
    case OP_DIV:
        return soft ? rv_soft_f32_div(a, b, rm, fl) : rv_f32_div(a, b, rm, fl);
    case OP_SQRT:
        return soft ? rv_soft_f32_sqrt(a, rm, fl) : rv_f32_sqrt(a, rm, fl);
    case OP_FMADD:
    case OP_FMSUB:
    case OP_FNMSUB:
    case OP_FNMADD:
        return soft ? rv_soft_f32_fma(a, b, c, np, na, rm, fl)
                    : rv_f32_fma(a, b, c, np, na, rm, fl);
    default:
        fail_msg("bad f32 op %d", op);
        return 0;
    }
}

static uint64_t run_f64(int op, int soft, uint64_t a, uint64_t b, uint64_t c,
                        unsigned rm, unsigned *fl)
{
    int np = op == OP_FNMSUB || op == OP_FNMADD;
    int na = op == OP_FMSUB || op == OP_FNMADD;

    switch (op) {
    case OP_ADD:
        return soft ? rv_soft_f64_add(a, b, rm, fl) : rv_f64_add(a, b, rm, fl);
    case OP_SUB:
        return soft ? rv_soft_f64_sub(a, b, rm, fl) : rv_f64_sub(a, b, rm, fl);
    case OP_MUL:
        return soft ? rv_soft_f64_mul(a, b, rm, fl) : rv_f64_mul(a, b, rm, fl);
    case OP_DIV:
        return soft ? rv_soft_f64_div(a, b, rm, fl) : rv_f64_div(a, b, rm, fl);
    case OP_SQRT:
        return soft ? rv_soft_f64_sqrt(a, rm, fl) : rv_f64_sqrt(a, rm, fl);
    case OP_FMADD:
    case OP_FMSUB:
    case OP_FNMSUB:
    case OP_FNMADD:
        return soft ? rv_soft_f64_fma(a, b, c, np, na, rm, fl)
                    : rv_f64_fma(a, b, c, np, na, rm, fl);
    case OP_CVT:
        return soft ? rv_soft_f64_to_f32(a, rm, fl) : rv_f64_to_f32(a, rm, fl);
    default:
        fail_msg("bad f64 op %d", op);
        return 0;
    }
}

/* ------------------------------------------------------------------ */
/* 1. Hand-checked tables                                              */
/* ------------------------------------------------------------------ */

/* Expected results in mode order RNE RTZ RDN RUP RMM. */
struct rcase {
    int op;
    uint64_t a, b, c;
    uint64_t want[5];
    unsigned fl[5];
};

static const struct rcase f32_cases[] = {
    /* 1 + 2^-24: exact tie; RNE keeps the even 1.0, RMM goes away */
    { OP_ADD, S_ONE, 0x33800000u, 0,
      { S_ONE, S_ONE, S_ONE, 0x3f800001u, 0x3f800001u }, ALL5(NX) },
    /* tie with odd lsb: RNE rounds up too */
    { OP_ADD, 0x3f800001u, 0x33800000u, 0,
      { 0x3f800002u, 0x3f800001u, 0x3f800001u, 0x3f800002u, 0x3f800002u },
      ALL5(NX) },
    /* negative tie: RMM is away from zero, RDN is toward -inf */
    { OP_ADD, S_NONE, 0xb3800000u, 0,
      { S_NONE, S_NONE, 0xbf800001u, S_NONE, 0xbf800001u }, ALL5(NX) },
    /* 2^24 + 1 and 2^24 + 3: ties in the integer range */
    { OP_ADD, 0x4b800000u, S_ONE, 0,
      { 0x4b800000u, 0x4b800000u, 0x4b800000u, 0x4b800001u, 0x4b800001u },
      ALL5(NX) },
    { OP_ADD, 0x4b800000u, S_THREE, 0,
      { 0x4b800002u, 0x4b800001u, 0x4b800001u, 0x4b800002u, 0x4b800002u },
      ALL5(NX) },
    /* exact zero sums: +0 except in RDN */
    { OP_ADD, S_ONE, S_NONE, 0, { 0, 0, S_NZERO, 0, 0 }, ALL5(0) },
    { OP_ADD, S_NZERO, S_NZERO, 0, ALL5(S_NZERO), ALL5(0) },
    { OP_ADD, 0, S_NZERO, 0, { 0, 0, S_NZERO, 0, 0 }, ALL5(0) },
    { OP_ADD, 0, 0, 0, ALL5(0), ALL5(0) },
    { OP_ADD, S_NZERO, S_ONE, 0, ALL5(S_ONE), ALL5(0) },
    /* overflow: infinity or the largest finite number by mode */
    { OP_ADD, S_MAX, S_MAX, 0, { S_INF, S_MAX, S_MAX, S_INF, S_INF },
      ALL5(OF | NX) },
    { OP_ADD, S_NMAX, S_NMAX, 0, { S_NINF, S_NMAX, S_NINF, S_NMAX, S_NINF },
      ALL5(OF | NX) },
    /* max + half an ulp: a tie at the top; only modes that round up
     * overflow (RTZ/RDN round to max with no OF) */
    { OP_ADD, S_MAX, 0x73000000u, 0, { S_INF, S_MAX, S_MAX, S_INF, S_INF },
      { OF | NX, NX, NX, OF | NX, OF | NX } },
    /* exact subnormal result: no underflow flag */
    { OP_ADD, 0x00800000u, 0x80000001u, 0, ALL5(0x007fffffu), ALL5(0) },
    { OP_ADD, S_INF, S_NINF, 0, ALL5(S_CNAN), ALL5(NV) },
    { OP_ADD, S_INF, S_ONE, 0, ALL5(S_INF), ALL5(0) },
    { OP_ADD, S_NINF, S_NINF, 0, ALL5(S_NINF), ALL5(0) },
    /* NaNs: canonical result; NV only for signaling */
    { OP_ADD, 0x7fc00001u, S_ONE, 0, ALL5(S_CNAN), ALL5(0) },
    { OP_ADD, S_ONE, 0xffc00000u, 0, ALL5(S_CNAN), ALL5(0) },
    { OP_ADD, S_SNAN, S_ONE, 0, ALL5(S_CNAN), ALL5(NV) },
    { OP_ADD, 0xffc00000u, 0x7fa00000u, 0, ALL5(S_CNAN), ALL5(NV) },

    { OP_SUB, S_ONE, S_ONE, 0, { 0, 0, S_NZERO, 0, 0 }, ALL5(0) },
    { OP_SUB, S_NZERO, 0, 0, ALL5(S_NZERO), ALL5(0) },
    { OP_SUB, 0, 0, 0, { 0, 0, S_NZERO, 0, 0 }, ALL5(0) },
    { OP_SUB, S_ONE, 0x33800000u, 0, ALL5(0x3f7fffffu), ALL5(0) },
    /* 1 - 2^-25: tie just below 1, where the spacing halves */
    { OP_SUB, S_ONE, 0x33000000u, 0,
      { S_ONE, 0x3f7fffffu, 0x3f7fffffu, S_ONE, S_ONE }, ALL5(NX) },
    { OP_SUB, S_INF, S_INF, 0, ALL5(S_CNAN), ALL5(NV) },
    { OP_SUB, S_INF, S_NINF, 0, ALL5(S_INF), ALL5(0) },

    { OP_MUL, S_INF, 0, 0, ALL5(S_CNAN), ALL5(NV) },
    { OP_MUL, S_NZERO, 0x40a00000u, 0, ALL5(S_NZERO), ALL5(0) },
    { OP_MUL, S_INF, S_NONE, 0, ALL5(S_NINF), ALL5(0) },
    { OP_MUL, S_THREE, S_HALF, 0, ALL5(0x3fc00000u), ALL5(0) },
    /* (1 - 2^-24) * 2^-126: representable with an unbounded exponent,
     * so tiny in every mode, and inexact as a subnormal */
    { OP_MUL, 0x3f7fffffu, 0x00800000u, 0,
      { 0x00800000u, 0x007fffffu, 0x007fffffu, 0x00800000u, 0x00800000u },
      ALL5(UF | NX) },
    { OP_MUL, S_MAX, S_TWO, 0, { S_INF, S_MAX, S_MAX, S_INF, S_INF },
      ALL5(OF | NX) },
    { OP_MUL, S_NMAX, S_TWO, 0, { S_NINF, S_NMAX, S_NINF, S_NMAX, S_NINF },
      ALL5(OF | NX) },
    /* half the smallest subnormal: tie between 0 and 2^-149 */
    { OP_MUL, 0x00000001u, S_HALF, 0, { 0, 0, 0, 1, 1 }, ALL5(UF | NX) },
    { OP_MUL, 0x80000001u, S_HALF, 0,
      { S_NZERO, S_NZERO, 0x80000001u, S_NZERO, 0x80000001u },
      ALL5(UF | NX) },
    /* 2.5 subnormal ulps: RNE -> 2, RMM -> 3 */
    { OP_MUL, 0x00000005u, S_HALF, 0, { 2, 2, 2, 3, 3 }, ALL5(UF | NX) },
    /* (2^23 + 3) * 3 = 25165833, a tie between 25165832 (even) and
     * 25165834: RMM and RNE differ in the normal range */
    { OP_MUL, 0x4b000003u, S_THREE, 0,
      { 0x4bc00004u, 0x4bc00004u, 0x4bc00004u, 0x4bc00005u, 0x4bc00005u },
      ALL5(NX) },
    { OP_MUL, 0xcb000003u, S_THREE, 0,
      { 0xcbc00004u, 0xcbc00004u, 0xcbc00005u, 0xcbc00004u, 0xcbc00005u },
      ALL5(NX) },
    { OP_MUL, 0x7fc00001u, 0, 0, ALL5(S_CNAN), ALL5(0) },
    { OP_MUL, S_SNAN, S_INF, 0, ALL5(S_CNAN), ALL5(NV) },

    { OP_DIV, S_ONE, S_THREE, 0,
      { 0x3eaaaaabu, 0x3eaaaaaau, 0x3eaaaaaau, 0x3eaaaaabu, 0x3eaaaaabu },
      ALL5(NX) },
    { OP_DIV, S_NONE, S_THREE, 0,
      { 0xbeaaaaabu, 0xbeaaaaaau, 0xbeaaaaabu, 0xbeaaaaaau, 0xbeaaaaabu },
      ALL5(NX) },
    { OP_DIV, S_ONE, 0, 0, ALL5(S_INF), ALL5(DZ) },
    { OP_DIV, S_NONE, 0, 0, ALL5(S_NINF), ALL5(DZ) },
    { OP_DIV, S_ONE, S_NZERO, 0, ALL5(S_NINF), ALL5(DZ) },
    { OP_DIV, 0, 0, 0, ALL5(S_CNAN), ALL5(NV) },
    { OP_DIV, S_INF, S_INF, 0, ALL5(S_CNAN), ALL5(NV) },
    { OP_DIV, S_INF, 0, 0, ALL5(S_INF), ALL5(0) },
    { OP_DIV, S_ONE, S_INF, 0, ALL5(0), ALL5(0) },
    { OP_DIV, S_NONE, S_INF, 0, ALL5(S_NZERO), ALL5(0) },
    { OP_DIV, 0x00000005u, S_TWO, 0, { 2, 2, 2, 3, 3 }, ALL5(UF | NX) },
    { OP_DIV, S_MAX, S_HALF, 0, { S_INF, S_MAX, S_MAX, S_INF, S_INF },
      ALL5(OF | NX) },
    { OP_DIV, 0x00800000u, 0x4b000000u, 0, ALL5(1), ALL5(0) },
    { OP_DIV, 0x40c00000u, S_THREE, 0, ALL5(S_TWO), ALL5(0) },
    { OP_DIV, S_QNAN, 0, 0, ALL5(S_CNAN), ALL5(0) },

    { OP_SQRT, S_TWO, 0, 0,
      { 0x3fb504f3u, 0x3fb504f3u, 0x3fb504f3u, 0x3fb504f4u, 0x3fb504f3u },
      ALL5(NX) },
    { OP_SQRT, 0x00000001u, 0, 0,
      { 0x1a3504f3u, 0x1a3504f3u, 0x1a3504f3u, 0x1a3504f4u, 0x1a3504f3u },
      ALL5(NX) },
    { OP_SQRT, 0x40800000u, 0, 0, ALL5(S_TWO), ALL5(0) },
    { OP_SQRT, 0x3e800000u, 0, 0, ALL5(S_HALF), ALL5(0) },
    { OP_SQRT, S_NONE, 0, 0, ALL5(S_CNAN), ALL5(NV) },
    { OP_SQRT, 0x80000001u, 0, 0, ALL5(S_CNAN), ALL5(NV) },
    { OP_SQRT, S_NZERO, 0, 0, ALL5(S_NZERO), ALL5(0) },
    { OP_SQRT, 0, 0, 0, ALL5(0), ALL5(0) },
    { OP_SQRT, S_INF, 0, 0, ALL5(S_INF), ALL5(0) },
    { OP_SQRT, S_NINF, 0, 0, ALL5(S_CNAN), ALL5(NV) },
    { OP_SQRT, 0x7fc00001u, 0, 0, ALL5(S_CNAN), ALL5(0) },
    { OP_SQRT, S_SNAN, 0, 0, ALL5(S_CNAN), ALL5(NV) },

    /* the four sign variants */
    { OP_FMADD, S_TWO, S_THREE, S_ONE, ALL5(0x40e00000u), ALL5(0) },
    { OP_FMSUB, S_TWO, S_THREE, S_ONE, ALL5(0x40a00000u), ALL5(0) },
    { OP_FNMSUB, S_TWO, S_THREE, S_ONE, ALL5(0xc0a00000u), ALL5(0) },
    { OP_FNMADD, S_TWO, S_THREE, S_ONE, ALL5(0xc0e00000u), ALL5(0) },
    /* one rounding: (1+2^-23)^2 - (1+2^-22) = 2^-46 exactly */
    { OP_FMADD, 0x3f800001u, 0x3f800001u, 0xbf800002u, ALL5(0x28800000u),
      ALL5(0) },
    /* 2*max - max = max: no intermediate overflow */
    { OP_FMADD, S_MAX, S_TWO, S_NMAX, ALL5(S_MAX), ALL5(0) },
    { OP_FMADD, S_ONE, 0x33800000u, S_ONE,
      { S_ONE, S_ONE, S_ONE, 0x3f800001u, 0x3f800001u }, ALL5(NX) },
    /* inf * 0 is invalid even with a quiet NaN addend (RISC-V) */
    { OP_FMADD, S_INF, 0, S_QNAN, ALL5(S_CNAN), ALL5(NV) },
    { OP_FMADD, 0, S_NINF, 0x7fc00001u, ALL5(S_CNAN), ALL5(NV) },
    { OP_FMADD, 0, S_INF, S_ONE, ALL5(S_CNAN), ALL5(NV) },
    { OP_FMADD, S_INF, S_ONE, S_NINF, ALL5(S_CNAN), ALL5(NV) },
    { OP_FMSUB, S_INF, S_ONE, S_INF, ALL5(S_CNAN), ALL5(NV) },
    { OP_FMADD, S_QNAN, S_ONE, S_ONE, ALL5(S_CNAN), ALL5(0) },
    { OP_FMADD, S_ONE, S_QNAN, S_INF, ALL5(S_CNAN), ALL5(0) },
    { OP_FMADD, S_ONE, S_ONE, S_SNAN, ALL5(S_CNAN), ALL5(NV) },
    { OP_FMADD, S_INF, S_ONE, S_ONE, ALL5(S_INF), ALL5(0) },
    { OP_FNMADD, S_INF, S_ONE, S_ONE, ALL5(S_NINF), ALL5(0) },
    { OP_FMADD, S_ONE, S_ONE, S_NINF, ALL5(S_NINF), ALL5(0) },
    /* zero product plus zero: the usual exact-zero sign rules */
    { OP_FMADD, S_ONE, 0, S_NZERO, { 0, 0, S_NZERO, 0, 0 }, ALL5(0) },
    { OP_FNMADD, S_ONE, 0, 0, ALL5(S_NZERO), ALL5(0) },
    { OP_FMSUB, 0, S_ONE, 0, { 0, 0, S_NZERO, 0, 0 }, ALL5(0) },
    { OP_FMADD, S_NZERO, S_ONE, S_NZERO, ALL5(S_NZERO), ALL5(0) },
    { OP_FMADD, 0, S_ONE, S_NONE, ALL5(S_NONE), ALL5(0) },
    /* tiny product rounding on its own */
    { OP_FMADD, 0x00000001u, S_HALF, 0, { 0, 0, 0, 1, 1 }, ALL5(UF | NX) },
    { OP_FMADD, 0x00000001u, S_HALF, S_NZERO, { 0, 0, 0, 1, 1 },
      ALL5(UF | NX) },
    /* 2^-126 - 2^-151: tiny before rounding but not after rounding in
     * RNE/RUP/RMM (no UF there), tiny in RTZ/RDN */
    { OP_FMADD, 0x1a000000u, 0x99800000u, 0x00800000u,
      { 0x00800000u, 0x007fffffu, 0x007fffffu, 0x00800000u, 0x00800000u },
      { NX, UF | NX, UF | NX, NX, NX } },
    /* exact cancellation */
    { OP_FMSUB, S_TWO, S_THREE, 0x40c00000u, { 0, 0, S_NZERO, 0, 0 },
      ALL5(0) },
};

static const struct rcase f64_cases[] = {
    { OP_ADD, D_ONE, UINT64_C(0x3ca0000000000000), 0,
      { D_ONE, D_ONE, D_ONE, D_ONE + 1, D_ONE + 1 }, ALL5(NX) },
    { OP_ADD, D_NONE, UINT64_C(0xbca0000000000000), 0,
      { D_NONE, D_NONE, D_NONE + 1, D_NONE, D_NONE + 1 }, ALL5(NX) },
    { OP_ADD, D_MAX, D_MAX, 0, { D_INF, D_MAX, D_MAX, D_INF, D_INF },
      ALL5(OF | NX) },
    { OP_ADD, D_NMAX, D_NMAX, 0, { D_NINF, D_NMAX, D_NINF, D_NMAX, D_NINF },
      ALL5(OF | NX) },
    /* 0.1 + 0.2 */
    { OP_ADD, UINT64_C(0x3fb999999999999a), UINT64_C(0x3fc999999999999a), 0,
      { UINT64_C(0x3fd3333333333334), UINT64_C(0x3fd3333333333333),
        UINT64_C(0x3fd3333333333333), UINT64_C(0x3fd3333333333334),
        UINT64_C(0x3fd3333333333334) },
      ALL5(NX) },
    { OP_ADD, D_INF, D_NINF, 0, ALL5(D_CNAN), ALL5(NV) },
    { OP_ADD, D_SNAN, D_ONE, 0, ALL5(D_CNAN), ALL5(NV) },
    { OP_ADD, UINT64_C(0xfff8000000000001), D_ONE, 0, ALL5(D_CNAN), ALL5(0) },
    { OP_ADD, 1, D_NZERO | 1, 0, { 0, 0, D_NZERO, 0, 0 }, ALL5(0) },
    { OP_SUB, D_ONE, D_ONE, 0, { 0, 0, D_NZERO, 0, 0 }, ALL5(0) },
    { OP_SUB, D_NZERO, 0, 0, ALL5(D_NZERO), ALL5(0) },
    /* (2^52 + 3) * 3: tie in the normal range, RNE and RMM differ */
    { OP_MUL, UINT64_C(0x4330000000000003), D_THREE, 0,
      { UINT64_C(0x4348000000000004), UINT64_C(0x4348000000000004),
        UINT64_C(0x4348000000000004), UINT64_C(0x4348000000000005),
        UINT64_C(0x4348000000000005) },
      ALL5(NX) },
    { OP_MUL, UINT64_C(0x3fefffffffffffff), UINT64_C(0x0010000000000000), 0,
      { UINT64_C(0x0010000000000000), UINT64_C(0x000fffffffffffff),
        UINT64_C(0x000fffffffffffff), UINT64_C(0x0010000000000000),
        UINT64_C(0x0010000000000000) },
      ALL5(UF | NX) },
    { OP_MUL, 1, D_HALF, 0, { 0, 0, 0, 1, 1 }, ALL5(UF | NX) },
    { OP_MUL, D_MAX, D_TWO, 0, { D_INF, D_MAX, D_MAX, D_INF, D_INF },
      ALL5(OF | NX) },
    { OP_MUL, D_INF, D_NZERO, 0, ALL5(D_CNAN), ALL5(NV) },
    { OP_MUL, UINT64_C(0x7ff8000000000001), D_ONE, 0, ALL5(D_CNAN), ALL5(0) },
    { OP_DIV, D_ONE, D_THREE, 0,
      { UINT64_C(0x3fd5555555555555), UINT64_C(0x3fd5555555555555),
        UINT64_C(0x3fd5555555555555), UINT64_C(0x3fd5555555555556),
        UINT64_C(0x3fd5555555555555) },
      ALL5(NX) },
    { OP_DIV, 5, D_TWO, 0, { 2, 2, 2, 3, 3 }, ALL5(UF | NX) },
    { OP_DIV, D_ONE, 0, 0, ALL5(D_INF), ALL5(DZ) },
    { OP_DIV, D_NZERO, 0, 0, ALL5(D_CNAN), ALL5(NV) },
    { OP_DIV, D_MAX, D_HALF, 0, { D_INF, D_MAX, D_MAX, D_INF, D_INF },
      ALL5(OF | NX) },
    { OP_SQRT, D_TWO, 0, 0,
      { UINT64_C(0x3ff6a09e667f3bcd), UINT64_C(0x3ff6a09e667f3bcc),
        UINT64_C(0x3ff6a09e667f3bcc), UINT64_C(0x3ff6a09e667f3bcd),
        UINT64_C(0x3ff6a09e667f3bcd) },
      ALL5(NX) },
    { OP_SQRT, UINT64_C(0x4010000000000000), 0, 0, ALL5(D_TWO), ALL5(0) },
    { OP_SQRT, D_NZERO, 0, 0, ALL5(D_NZERO), ALL5(0) },
    { OP_SQRT, D_NONE, 0, 0, ALL5(D_CNAN), ALL5(NV) },
    { OP_SQRT, D_SNAN, 0, 0, ALL5(D_CNAN), ALL5(NV) },
    { OP_FMADD, UINT64_C(0x3ff0000000000001), UINT64_C(0x3ff0000000000001),
      UINT64_C(0xbff0000000000002), ALL5(UINT64_C(0x3970000000000000)),
      ALL5(0) },
    /* 2^-1022 - 2^-1076: tininess after rounding */
    { OP_FMADD, UINT64_C(0x1e30000000000000), UINT64_C(0x9e70000000000000),
      UINT64_C(0x0010000000000000),
      { UINT64_C(0x0010000000000000), UINT64_C(0x000fffffffffffff),
        UINT64_C(0x000fffffffffffff), UINT64_C(0x0010000000000000),
        UINT64_C(0x0010000000000000) },
      { NX, UF | NX, UF | NX, NX, NX } },
    { OP_FNMSUB, D_TWO, D_THREE, D_ONE, ALL5(UINT64_C(0xc014000000000000)),
      ALL5(0) },
    { OP_FMADD, D_INF, 0, D_QNAN, ALL5(D_CNAN), ALL5(NV) },
    { OP_FMADD, D_QNAN, 0, D_ONE, ALL5(D_CNAN), ALL5(0) },
    { OP_FMADD, D_ONE, 0, D_NZERO, { 0, 0, D_NZERO, 0, 0 }, ALL5(0) },
    { OP_FMADD, D_MAX, D_TWO, D_NMAX, ALL5(D_MAX), ALL5(0) },

    /* f64 -> f32 */
    { OP_CVT, UINT64_C(0x3fd5555555555555), 0, 0,
      { 0x3eaaaaabu, 0x3eaaaaaau, 0x3eaaaaaau, 0x3eaaaaabu, 0x3eaaaaabu },
      ALL5(NX) },
    /* 2^-126 - 2^-151 */
    { OP_CVT, UINT64_C(0x380ffffff0000000), 0, 0,
      { 0x00800000u, 0x007fffffu, 0x007fffffu, 0x00800000u, 0x00800000u },
      { NX, UF | NX, UF | NX, NX, NX } },
    /* 2^-150: tie between 0 and the smallest subnormal */
    { OP_CVT, UINT64_C(0x3690000000000000), 0, 0, { 0, 0, 0, 1, 1 },
      ALL5(UF | NX) },
    { OP_CVT, UINT64_C(0xb690000000000000), 0, 0,
      { S_NZERO, S_NZERO, 0x80000001u, S_NZERO, 0x80000001u },
      ALL5(UF | NX) },
    { OP_CVT, D_MAX, 0, 0, { S_INF, S_MAX, S_MAX, S_INF, S_INF },
      ALL5(OF | NX) },
    { OP_CVT, D_NMAX, 0, 0, { S_NINF, S_NMAX, S_NINF, S_NMAX, S_NINF },
      ALL5(OF | NX) },
    /* f32 max + half ulp (2^128 - 2^103): tie at the top */
    { OP_CVT, UINT64_C(0x47effffff0000000), 0, 0,
      { S_INF, S_MAX, S_MAX, S_INF, S_INF },
      { OF | NX, NX, NX, OF | NX, OF | NX } },
    { OP_CVT, UINT64_C(0x47efffffefffffff), 0, 0,
      { S_MAX, S_MAX, S_MAX, S_INF, S_MAX },
      { NX, NX, NX, OF | NX, NX } },
    /* 2^24 + 1 */
    { OP_CVT, UINT64_C(0x4170000010000000), 0, 0,
      { 0x4b800000u, 0x4b800000u, 0x4b800000u, 0x4b800001u, 0x4b800001u },
      ALL5(NX) },
    { OP_CVT, UINT64_C(0x3ff8000000000000), 0, 0, ALL5(0x3fc00000u),
      ALL5(0) },
    { OP_CVT, D_NZERO, 0, 0, ALL5(S_NZERO), ALL5(0) },
    { OP_CVT, D_NINF, 0, 0, ALL5(S_NINF), ALL5(0) },
    { OP_CVT, D_SNAN, 0, 0, ALL5(S_CNAN), ALL5(NV) },
    { OP_CVT, UINT64_C(0xfff8000000000001), 0, 0, ALL5(S_CNAN), ALL5(0) },
    { OP_CVT, 1, 0, 0, { 0, 0, 0, 1, 0 }, ALL5(UF | NX) },
};

/* `pre` is the accrued flags word before the call: NX there lets the host
 * path skip flag detection, so every case runs both ways. */
static void check_rcase(const struct rcase *t, int is64, size_t idx, int soft,
                        unsigned pre)
{
    unsigned rm;
    for (rm = 0; rm < 5; rm++) {
        unsigned fl = pre;
        uint64_t got = is64 ? run_f64(t->op, soft, t->a, t->b, t->c, rm, &fl)
                            : run_f32(t->op, soft, t->a, t->b, t->c, rm, &fl);
        if (got != t->want[rm] || fl != (t->fl[rm] | pre))
            fail_msg("f%d %s case %zu (%s path, flags before %#x) %s a=%#llx "
                     "b=%#llx c=%#llx: got %#llx fl=%#x, want %#llx fl=%#x",
                     is64 ? 64 : 32, op_name[t->op], idx,
                     soft ? "soft" : "public", pre, rm_name[rm],
                     (unsigned long long)t->a, (unsigned long long)t->b,
                     (unsigned long long)t->c, (unsigned long long)got, fl,
                     (unsigned long long)t->want[rm], t->fl[rm] | pre);
    }
}

static void check_rcases(const struct rcase *t, size_t n, int is64)
{
    size_t i;
    int soft;
    for (i = 0; i < n; i++)
        for (soft = 0; soft < 2; soft++) {
            check_rcase(&t[i], is64, i, soft, 0);
            check_rcase(&t[i], is64, i, soft, NX);
            check_rcase(&t[i], is64, i, soft, DZ);
        }
}

static void test_f32_table(void **state)
{
    (void)state;
    check_rcases(f32_cases, sizeof f32_cases / sizeof f32_cases[0], 0);
}

static void test_f64_table(void **state)
{
    (void)state;
    check_rcases(f64_cases, sizeof f64_cases / sizeof f64_cases[0], 1);
}

/* ---- float -> integer ---- */

enum { CV_W, CV_WU, CV_L, CV_LU };
static const char *const cv_name[4] = { "w", "wu", "l", "lu" };

static uint64_t run_to_int(int kind, int is64, uint64_t a, unsigned rm,
                           unsigned *fl)
{
    uint32_t s = (uint32_t)a;
    switch (kind) {
    case CV_W:
        return is64 ? rv_f64_to_i32(a, rm, fl) : rv_f32_to_i32(s, rm, fl);
    case CV_WU:
        return is64 ? rv_f64_to_u32(a, rm, fl) : rv_f32_to_u32(s, rm, fl);
    case CV_L:
        return is64 ? rv_f64_to_i64(a, rm, fl) : rv_f32_to_i64(s, rm, fl);
    default:
        return is64 ? rv_f64_to_u64(a, rm, fl) : rv_f32_to_u64(s, rm, fl);
    }
}

struct icase {
    int kind, is64;
    uint64_t a;
    uint64_t want[5];
    unsigned fl[5];
};

#define SX(v) ((uint64_t)(int64_t)(v))
#define I32MIN UINT64_C(0xffffffff80000000)
#define I64MIN UINT64_C(0x8000000000000000)
#define I64MAX UINT64_C(0x7fffffffffffffff)
#define ONES UINT64_MAX

static const struct icase to_int_cases[] = {
    /* ties in conversions: 2.5 -> 2 (RNE) or 3 (RMM) */
    { CV_W, 0, 0x40200000u, { 2, 2, 2, 3, 3 }, ALL5(NX) },
    { CV_W, 0, 0xc0200000u, { SX(-2), SX(-2), SX(-3), SX(-2), SX(-3) },
      ALL5(NX) },
    { CV_W, 0, S_HALF, { 0, 0, 0, 1, 1 }, ALL5(NX) },
    { CV_W, 0, 0xbf000000u, { 0, 0, SX(-1), 0, SX(-1) }, ALL5(NX) },
    { CV_W, 0, 0x3fc00000u, { 2, 1, 1, 2, 2 }, ALL5(NX) },
    { CV_W, 0, S_ONE, ALL5(1), ALL5(0) },
    { CV_W, 0, S_NZERO, ALL5(0), ALL5(0) },
    { CV_W, 0, 0x00000001u, { 0, 0, 0, 1, 0 }, ALL5(NX) },
    { CV_W, 0, 0x80000001u, { 0, 0, SX(-1), 0, 0 }, ALL5(NX) },
    /* NaN -> largest positive, inf saturates, NV only */
    { CV_W, 0, S_QNAN, ALL5(0x7fffffff), ALL5(NV) },
    { CV_W, 0, 0xffc00000u, ALL5(0x7fffffff), ALL5(NV) },
    { CV_W, 0, S_SNAN, ALL5(0x7fffffff), ALL5(NV) },
    { CV_W, 0, S_INF, ALL5(0x7fffffff), ALL5(NV) },
    { CV_W, 0, S_NINF, ALL5(I32MIN), ALL5(NV) },
    { CV_W, 0, 0x4f000000u, ALL5(0x7fffffff), ALL5(NV) }, /* 2^31 */
    { CV_W, 0, 0xcf000000u, ALL5(I32MIN), ALL5(0) },      /* -2^31 */
    { CV_W, 0, 0x4effffffu, ALL5(0x7fffff80), ALL5(0) },
    { CV_W, 0, 0xcf000001u, ALL5(I32MIN), ALL5(NV) },
    { CV_W, 0, S_MAX, ALL5(0x7fffffff), ALL5(NV) },
    /* -0.9 to unsigned: fine if it rounds to 0, invalid if to -1 */
    { CV_WU, 0, 0xbf666666u, ALL5(0), { NV, NX, NV, NX, NV } },
    { CV_WU, 0, 0x4f32d05eu, ALL5(UINT64_C(0xffffffffb2d05e00)), ALL5(0) },
    { CV_WU, 0, 0x4f7fffffu, ALL5(UINT64_C(0xffffffffffffff00)), ALL5(0) },
    { CV_WU, 0, 0x4f800000u, ALL5(ONES), ALL5(NV) }, /* 2^32 */
    { CV_WU, 0, S_QNAN, ALL5(ONES), ALL5(NV) },
    { CV_WU, 0, S_INF, ALL5(ONES), ALL5(NV) },
    { CV_WU, 0, S_NINF, ALL5(0), ALL5(NV) },
    { CV_WU, 0, S_NONE, ALL5(0), ALL5(NV) },
    { CV_WU, 0, 0x40200000u, { 2, 2, 2, 3, 3 }, ALL5(NX) },
    { CV_L, 0, 0x5f000000u, ALL5(I64MAX), ALL5(NV) }, /* 2^63 */
    { CV_L, 0, 0xdf000000u, ALL5(I64MIN), ALL5(0) },
    { CV_L, 0, 0x5effffffu, ALL5(UINT64_C(0x7fffff8000000000)), ALL5(0) },
    { CV_L, 0, 0xc0200000u, { SX(-2), SX(-2), SX(-3), SX(-2), SX(-3) },
      ALL5(NX) },
    { CV_L, 0, 0x7fa00000u, ALL5(I64MAX), ALL5(NV) },
    { CV_L, 0, S_NINF, ALL5(I64MIN), ALL5(NV) },
    { CV_L, 0, 0xdf000001u, ALL5(I64MIN), ALL5(NV) },
    { CV_LU, 0, 0x5f800000u, ALL5(ONES), ALL5(NV) }, /* 2^64 */
    { CV_LU, 0, 0x5f7fffffu, ALL5(UINT64_C(0xffffff0000000000)), ALL5(0) },
    { CV_LU, 0, S_NONE, ALL5(0), ALL5(NV) },
    { CV_LU, 0, S_NZERO, ALL5(0), ALL5(0) },
    { CV_LU, 0, 0xbf000000u, ALL5(0), { NX, NX, NV, NX, NV } },
    { CV_LU, 0, S_QNAN, ALL5(ONES), ALL5(NV) },

    /* 2^31 - 0.5 */
    { CV_W, 1, UINT64_C(0x41dfffffffe00000), ALL5(0x7fffffff),
      { NV, NX, NX, NV, NV } },
    /* -2^31 - 0.5 */
    { CV_W, 1, UINT64_C(0xc1e0000000100000), ALL5(I32MIN),
      { NX, NX, NV, NX, NV } },
    /* -2^31 - 1 */
    { CV_W, 1, UINT64_C(0xc1e0000000200000), ALL5(I32MIN), ALL5(NV) },
    { CV_W, 1, UINT64_C(0x41dfffffffc00000), ALL5(0x7fffffff), ALL5(0) },
    { CV_W, 1, UINT64_C(0x4004000000000000), { 2, 2, 2, 3, 3 }, ALL5(NX) },
    { CV_W, 1, D_SNAN, ALL5(0x7fffffff), ALL5(NV) },
    { CV_W, 1, UINT64_C(0x7e37e43c8800759c), ALL5(0x7fffffff), ALL5(NV) },
    /* 2^32 - 0.5 to unsigned */
    { CV_WU, 1, UINT64_C(0x41effffffff00000), ALL5(ONES),
      { NV, NX, NX, NV, NV } },
    { CV_WU, 1, UINT64_C(0xbfeccccccccccccd), ALL5(0), { NV, NX, NV, NX, NV } },
    { CV_L, 1, UINT64_C(0x43e0000000000000), ALL5(I64MAX), ALL5(NV) },
    { CV_L, 1, UINT64_C(0xc3e0000000000000), ALL5(I64MIN), ALL5(0) },
    { CV_L, 1, UINT64_C(0x43dfffffffffffff),
      ALL5(UINT64_C(0x7ffffffffffffc00)), ALL5(0) },
    { CV_L, 1, UINT64_C(0xc004000000000000),
      { SX(-2), SX(-2), SX(-3), SX(-2), SX(-3) }, ALL5(NX) },
    { CV_L, 1, UINT64_C(0x7e37e43c8800759c), ALL5(I64MAX), ALL5(NV) },
    { CV_L, 1, D_QNAN, ALL5(I64MAX), ALL5(NV) },
    { CV_L, 1, UINT64_C(0xc3e0000000000001), ALL5(I64MIN), ALL5(NV) },
    { CV_LU, 1, UINT64_C(0x43f0000000000000), ALL5(ONES), ALL5(NV) },
    { CV_LU, 1, UINT64_C(0x43efffffffffffff),
      ALL5(UINT64_C(0xfffffffffffff800)), ALL5(0) },
    { CV_LU, 1, UINT64_C(0xbfeccccccccccccd), ALL5(0),
      { NV, NX, NV, NX, NV } },
    { CV_LU, 1, D_NINF, ALL5(0), ALL5(NV) },
    { CV_LU, 1, D_INF, ALL5(ONES), ALL5(NV) },
    { CV_LU, 1, UINT64_C(0x4004000000000000), { 2, 2, 2, 3, 3 }, ALL5(NX) },
};

static void test_to_int_table(void **state)
{
    size_t i;
    unsigned rm;
    (void)state;
    for (i = 0; i < sizeof to_int_cases / sizeof to_int_cases[0]; i++) {
        const struct icase *t = &to_int_cases[i];
        for (rm = 0; rm < 5; rm++) {
            unsigned fl = 0;
            uint64_t got = run_to_int(t->kind, t->is64, t->a, rm, &fl);
            if (got != t->want[rm] || fl != t->fl[rm])
                fail_msg("fcvt.%s.%c case %zu %s a=%#llx: got %#llx fl=%#x, "
                         "want %#llx fl=%#x",
                         cv_name[t->kind], t->is64 ? 'd' : 's', i, rm_name[rm],
                         (unsigned long long)t->a, (unsigned long long)got, fl,
                         (unsigned long long)t->want[rm], t->fl[rm]);
        }
    }
}

/* ---- integer -> float ---- */

enum { FI_I32, FI_U32, FI_I64, FI_U64 };
static const char *const fi_name[4] = { "w", "wu", "l", "lu" };

static uint64_t run_from_int(int kind, int to64, int soft, uint64_t v,
                             unsigned rm, unsigned *fl)
{
    int32_t i32 = (int32_t)(uint32_t)v;
    int64_t i64 = (int64_t)v;
    if (soft) { /* the soft path takes 64-bit integers */
        switch (kind) {
        case FI_I32:
            i64 = i32;
            /* fall through */
        case FI_I64:
            return to64 ? rv_soft_i64_to_f64(i64, rm, fl)
                        : rv_soft_i64_to_f32(i64, rm, fl);
        case FI_U32:
            v = (uint32_t)v;
            /* fall through */
        default:
            return to64 ? rv_soft_u64_to_f64(v, rm, fl)
                        : rv_soft_u64_to_f32(v, rm, fl);
        }
    }
    switch (kind) {
    case FI_I32:
        return to64 ? rv_i32_to_f64(i32, rm, fl) : rv_i32_to_f32(i32, rm, fl);
    case FI_U32:
        return to64 ? rv_u32_to_f64((uint32_t)v, rm, fl)
                    : rv_u32_to_f32((uint32_t)v, rm, fl);
    case FI_I64:
        return to64 ? rv_i64_to_f64(i64, rm, fl) : rv_i64_to_f32(i64, rm, fl);
    default:
        return to64 ? rv_u64_to_f64(v, rm, fl) : rv_u64_to_f32(v, rm, fl);
    }
}

struct fcase {
    int kind, to64;
    uint64_t v;
    uint64_t want[5];
    unsigned fl[5];
};

static const struct fcase from_int_cases[] = {
    { FI_I32, 0, 16777217,
      { 0x4b800000u, 0x4b800000u, 0x4b800000u, 0x4b800001u, 0x4b800001u },
      ALL5(NX) },
    { FI_I32, 0, SX(-16777217),
      { 0xcb800000u, 0xcb800000u, 0xcb800001u, 0xcb800000u, 0xcb800001u },
      ALL5(NX) },
    { FI_I32, 0, 16777219,
      { 0x4b800002u, 0x4b800001u, 0x4b800001u, 0x4b800002u, 0x4b800002u },
      ALL5(NX) },
    { FI_I32, 0, SX(INT32_MIN), ALL5(0xcf000000u), ALL5(0) },
    { FI_I32, 0, 0, ALL5(0), ALL5(0) },
    { FI_I32, 0, SX(-1), ALL5(S_NONE), ALL5(0) },
    { FI_I32, 0, INT32_MAX,
      { 0x4f000000u, 0x4effffffu, 0x4effffffu, 0x4f000000u, 0x4f000000u },
      ALL5(NX) },
    { FI_U32, 0, 0xffffffffu,
      { 0x4f800000u, 0x4f7fffffu, 0x4f7fffffu, 0x4f800000u, 0x4f800000u },
      ALL5(NX) },
    { FI_U32, 0, 0x80000000u, ALL5(0x4f000000u), ALL5(0) },
    { FI_I64, 0, I64MIN, ALL5(0xdf000000u), ALL5(0) },
    { FI_I64, 0, I64MAX,
      { 0x5f000000u, 0x5effffffu, 0x5effffffu, 0x5f000000u, 0x5f000000u },
      ALL5(NX) },
    { FI_U64, 0, ONES,
      { 0x5f800000u, 0x5f7fffffu, 0x5f7fffffu, 0x5f800000u, 0x5f800000u },
      ALL5(NX) },
    /* 2^63 + 2^39: tie between 2^63 (even) and 2^63 + 2^40 */
    { FI_U64, 0, UINT64_C(0x8000008000000000),
      { 0x5f000000u, 0x5f000000u, 0x5f000000u, 0x5f000001u, 0x5f000001u },
      ALL5(NX) },
    { FI_U64, 0, 1, ALL5(S_ONE), ALL5(0) },
    { FI_I32, 1, SX(INT32_MIN), ALL5(UINT64_C(0xc1e0000000000000)),
      ALL5(0) },
    { FI_U32, 1, 0xffffffffu, ALL5(UINT64_C(0x41efffffffe00000)), ALL5(0) },
    { FI_I64, 1, UINT64_C(0x20000000000001),
      { UINT64_C(0x4340000000000000), UINT64_C(0x4340000000000000),
        UINT64_C(0x4340000000000000), UINT64_C(0x4340000000000001),
        UINT64_C(0x4340000000000001) },
      ALL5(NX) },
    { FI_I64, 1, SX(-INT64_C(0x20000000000001)),
      { UINT64_C(0xc340000000000000), UINT64_C(0xc340000000000000),
        UINT64_C(0xc340000000000001), UINT64_C(0xc340000000000000),
        UINT64_C(0xc340000000000001) },
      ALL5(NX) },
    { FI_I64, 1, I64MIN, ALL5(UINT64_C(0xc3e0000000000000)), ALL5(0) },
    { FI_U64, 1, ONES,
      { UINT64_C(0x43f0000000000000), UINT64_C(0x43efffffffffffff),
        UINT64_C(0x43efffffffffffff), UINT64_C(0x43f0000000000000),
        UINT64_C(0x43f0000000000000) },
      ALL5(NX) },
    { FI_U64, 1, 0, ALL5(0), ALL5(0) },
};

static void test_from_int_table(void **state)
{
    size_t i;
    unsigned rm;
    int soft;
    (void)state;
    for (i = 0; i < sizeof from_int_cases / sizeof from_int_cases[0]; i++) {
        const struct fcase *t = &from_int_cases[i];
        for (soft = 0; soft < 2; soft++) {
            for (rm = 0; rm < 5; rm++) {
                unsigned fl = 0;
                uint64_t got = run_from_int(t->kind, t->to64, soft, t->v, rm,
                                            &fl);
                if (got != t->want[rm] || fl != t->fl[rm])
                    fail_msg("fcvt.%c.%s case %zu (%s) %s v=%#llx: got %#llx "
                             "fl=%#x, want %#llx fl=%#x",
                             t->to64 ? 'd' : 's', fi_name[t->kind], i,
                             soft ? "soft" : "public", rm_name[rm],
                             (unsigned long long)t->v,
                             (unsigned long long)got, fl,
                             (unsigned long long)t->want[rm], t->fl[rm]);
            }
        }
    }
}

/* ---- f32 -> f64 ---- */

static void test_f32_to_f64(void **state)
{
    static const struct {
        uint32_t a;
        uint64_t want;
        unsigned fl;
    } t[] = {
        { S_ONE, D_ONE, 0 },
        { 0x00000001u, UINT64_C(0x36a0000000000000), 0 },
        { 0x80000001u, UINT64_C(0xb6a0000000000000), 0 },
        { 0x007fffffu, UINT64_C(0x380fffffc0000000), 0 },
        { 0x00400000u, UINT64_C(0x3800000000000000), 0 },
        { 0x00800000u, UINT64_C(0x3810000000000000), 0 },
        { S_MAX, UINT64_C(0x47efffffe0000000), 0 },
        { 0x3eaaaaabu, UINT64_C(0x3fd5555560000000), 0 },
        { S_NINF, D_NINF, 0 },
        { S_INF, D_INF, 0 },
        { S_NZERO, D_NZERO, 0 },
        { 0, 0, 0 },
        { S_QNAN, D_CNAN, 0 },
        { 0xffc00001u, D_CNAN, 0 },
        { S_SNAN, D_CNAN, NV },
        { 0xffa00000u, D_CNAN, NV },
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        unsigned fl = 0;
        uint64_t got = rv_f32_to_f64(t[i].a, &fl);
        if (got != t[i].want || fl != t[i].fl)
            fail_msg("fcvt.d.s %#x: got %#llx fl=%#x, want %#llx fl=%#x",
                     t[i].a, (unsigned long long)got, fl,
                     (unsigned long long)t[i].want, t[i].fl);
    }
}

/* ---- min / max / compare / classify ---- */

struct mcase {
    uint64_t a, b, min, max;
    unsigned fl;
};

static const struct mcase f32_minmax[] = {
    { S_NZERO, 0, S_NZERO, 0, 0 },
    { 0, S_NZERO, S_NZERO, 0, 0 },
    { S_ONE, S_TWO, S_ONE, S_TWO, 0 },
    { S_TWO, S_ONE, S_ONE, S_TWO, 0 },
    { S_NONE, 0xc0000000u, 0xc0000000u, S_NONE, 0 },
    { 0x00000001u, 0x80000001u, 0x80000001u, 0x00000001u, 0 },
    { S_NINF, S_INF, S_NINF, S_INF, 0 },
    { S_QNAN, S_ONE, S_ONE, S_ONE, 0 },
    { S_ONE, 0xffc00000u, S_ONE, S_ONE, 0 },
    { S_SNAN, S_ONE, S_ONE, S_ONE, NV },
    { S_NONE, 0xff800001u, S_NONE, S_NONE, NV },
    { S_QNAN, 0x7fc00001u, S_CNAN, S_CNAN, 0 },
    { 0xffc00000u, 0xffc00000u, S_CNAN, S_CNAN, 0 },
    { S_SNAN, S_QNAN, S_CNAN, S_CNAN, NV },
};

static const struct mcase f64_minmax[] = {
    { D_NZERO, 0, D_NZERO, 0, 0 },
    { 0, D_NZERO, D_NZERO, 0, 0 },
    { D_ONE, D_TWO, D_ONE, D_TWO, 0 },
    { D_NONE, D_NINF, D_NINF, D_NONE, 0 },
    { 1, D_NZERO | 1, D_NZERO | 1, 1, 0 },
    { D_QNAN, D_ONE, D_ONE, D_ONE, 0 },
    { D_NONE, UINT64_C(0xfff8000000000001), D_NONE, D_NONE, 0 },
    { D_SNAN, D_ONE, D_ONE, D_ONE, NV },
    { D_QNAN, D_QNAN | 1, D_CNAN, D_CNAN, 0 },
    { D_QNAN, D_SNAN, D_CNAN, D_CNAN, NV },
};

static void test_minmax(void **state)
{
    size_t i;
    (void)state;
    for (i = 0; i < sizeof f32_minmax / sizeof f32_minmax[0]; i++) {
        const struct mcase *t = &f32_minmax[i];
        unsigned f1 = 0, f2 = 0;
        uint32_t mn = rv_f32_min((uint32_t)t->a, (uint32_t)t->b, &f1);
        uint32_t mx = rv_f32_max((uint32_t)t->a, (uint32_t)t->b, &f2);
        if (mn != t->min || mx != t->max || f1 != t->fl || f2 != t->fl)
            fail_msg("f32 min/max case %zu: min %#x/%#x max %#x/%#x", i, mn,
                     f1, mx, f2);
    }
    for (i = 0; i < sizeof f64_minmax / sizeof f64_minmax[0]; i++) {
        const struct mcase *t = &f64_minmax[i];
        unsigned f1 = 0, f2 = 0;
        uint64_t mn = rv_f64_min(t->a, t->b, &f1);
        uint64_t mx = rv_f64_max(t->a, t->b, &f2);
        if (mn != t->min || mx != t->max || f1 != t->fl || f2 != t->fl)
            fail_msg("f64 min/max case %zu: min %#llx/%#x max %#llx/%#x", i,
                     (unsigned long long)mn, f1, (unsigned long long)mx, f2);
    }
}

struct ccase {
    uint64_t a, b;
    int eq, lt, le;
    unsigned fl_eq, fl_lt, fl_le;
};

static const struct ccase f32_cmp[] = {
    { 0, S_NZERO, 1, 0, 1, 0, 0, 0 },
    { S_NZERO, 0, 1, 0, 1, 0, 0, 0 },
    { S_ONE, S_TWO, 0, 1, 1, 0, 0, 0 },
    { S_TWO, S_ONE, 0, 0, 0, 0, 0, 0 },
    { S_ONE, S_ONE, 1, 0, 1, 0, 0, 0 },
    { S_NONE, 0xbf000000u, 0, 1, 1, 0, 0, 0 },
    { 0xbf000000u, S_NONE, 0, 0, 0, 0, 0, 0 },
    { S_NONE, S_ONE, 0, 1, 1, 0, 0, 0 },
    { S_NINF, S_INF, 0, 1, 1, 0, 0, 0 },
    { S_INF, S_INF, 1, 0, 1, 0, 0, 0 },
    { 0x80000001u, 0x00000001u, 0, 1, 1, 0, 0, 0 },
    { 0x80000001u, S_NZERO, 0, 1, 1, 0, 0, 0 },
    { S_QNAN, S_ONE, 0, 0, 0, 0, NV, NV },
    { S_ONE, 0xffc00000u, 0, 0, 0, 0, NV, NV },
    { S_QNAN, S_QNAN, 0, 0, 0, 0, NV, NV },
    { S_SNAN, S_ONE, 0, 0, 0, NV, NV, NV },
    { S_ONE, 0xff800001u, 0, 0, 0, NV, NV, NV },
};

static const struct ccase f64_cmp[] = {
    { 0, D_NZERO, 1, 0, 1, 0, 0, 0 },
    { D_ONE, D_TWO, 0, 1, 1, 0, 0, 0 },
    { D_TWO, D_ONE, 0, 0, 0, 0, 0, 0 },
    { D_NONE, D_NINF, 0, 0, 0, 0, 0, 0 },
    { D_NINF, D_NONE, 0, 1, 1, 0, 0, 0 },
    { D_NZERO | 1, 0, 0, 1, 1, 0, 0, 0 },
    { D_MAX, D_MAX, 1, 0, 1, 0, 0, 0 },
    { D_QNAN, D_ONE, 0, 0, 0, 0, NV, NV },
    { D_SNAN, D_SNAN, 0, 0, 0, NV, NV, NV },
};

static void check_cmp(const struct ccase *t, size_t n, int is64)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned f1 = 0, f2 = 0, f3 = 0;
        int eq, lt, le;
        if (is64) {
            eq = rv_f64_eq(t[i].a, t[i].b, &f1);
            lt = rv_f64_lt(t[i].a, t[i].b, &f2);
            le = rv_f64_le(t[i].a, t[i].b, &f3);
        } else {
            eq = rv_f32_eq((uint32_t)t[i].a, (uint32_t)t[i].b, &f1);
            lt = rv_f32_lt((uint32_t)t[i].a, (uint32_t)t[i].b, &f2);
            le = rv_f32_le((uint32_t)t[i].a, (uint32_t)t[i].b, &f3);
        }
        if (eq != t[i].eq || lt != t[i].lt || le != t[i].le ||
            f1 != t[i].fl_eq || f2 != t[i].fl_lt || f3 != t[i].fl_le)
            fail_msg("f%d compare case %zu: eq %d/%#x lt %d/%#x le %d/%#x",
                     is64 ? 64 : 32, i, eq, f1, lt, f2, le, f3);
    }
}

static void test_compare(void **state)
{
    (void)state;
    check_cmp(f32_cmp, sizeof f32_cmp / sizeof f32_cmp[0], 0);
    check_cmp(f64_cmp, sizeof f64_cmp / sizeof f64_cmp[0], 1);
}

static void test_classify(void **state)
{
    static const struct {
        uint32_t a;
        unsigned want;
    } s[] = {
        { S_NINF, 0x001 }, { S_NONE, 0x002 }, { 0xff7fffffu, 0x002 },
        { 0x80800000u, 0x002 }, { 0x80000001u, 0x004 }, { 0x807fffffu, 0x004 },
        { S_NZERO, 0x008 }, { 0, 0x010 }, { 1, 0x020 }, { 0x007fffffu, 0x020 },
        { 0x00800000u, 0x040 }, { S_ONE, 0x040 }, { S_MAX, 0x040 },
        { S_INF, 0x080 }, { S_SNAN, 0x100 }, { 0xff800001u, 0x100 },
        { 0x7fbfffffu, 0x100 }, { S_QNAN, 0x200 }, { 0xffc00000u, 0x200 },
        { 0x7fffffffu, 0x200 },
    };
    static const struct {
        uint64_t a;
        unsigned want;
    } d[] = {
        { D_NINF, 0x001 }, { D_NONE, 0x002 }, { D_NZERO | 1, 0x004 },
        { D_NZERO, 0x008 }, { 0, 0x010 },
        { UINT64_C(0x000fffffffffffff), 0x020 },
        { UINT64_C(0x0010000000000000), 0x040 }, { D_INF, 0x080 },
        { D_SNAN, 0x100 }, { UINT64_C(0x7ff7ffffffffffff), 0x100 },
        { D_QNAN, 0x200 }, { UINT64_C(0xfff8000000000000), 0x200 },
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof s / sizeof s[0]; i++)
        if (rv_f32_classify(s[i].a) != s[i].want)
            fail_msg("fclass.s %#x: got %#x want %#x", s[i].a,
                     rv_f32_classify(s[i].a), s[i].want);
    for (i = 0; i < sizeof d / sizeof d[0]; i++)
        if (rv_f64_classify(d[i].a) != d[i].want)
            fail_msg("fclass.d %#llx: got %#x want %#x",
                     (unsigned long long)d[i].a, rv_f64_classify(d[i].a),
                     d[i].want);
}

/* The SSE unit's rounding mode as an FE_* value.  glibc's fegetround()
 * reads only the x87 control word, which the library never touches. */
static int host_sse_round(void)
{
#if defined(__x86_64__)
    static const int fe[4] = { FE_TONEAREST, FE_DOWNWARD, FE_UPWARD,
                               FE_TOWARDZERO };
    unsigned m;
    __asm__ __volatile__("stmxcsr %0" : "=m"(m));
    return fe[(m >> 13) & 3];
#else
    return fegetround();
#endif
}

/* Flags accumulate; the host is back in RNE after every call; a caller
 * whose MXCSR is not in the usual state gets it back exactly. */
static void test_flags_and_host_env(void **state)
{
    unsigned fl = DZ;
    uint32_t r;
    uint64_t d;
    (void)state;

    r = rv_f32_div(S_ONE, S_THREE, RV_RM_RUP, &fl);
    assert_int_equal(r, 0x3eaaaaabu);
    assert_int_equal(fl, DZ | NX);
    r = rv_f32_add(S_MAX, S_MAX, RV_RM_RTZ, &fl);
    assert_int_equal(r, S_MAX);
    assert_int_equal(fl, DZ | NX | OF);
    assert_int_equal(host_sse_round(), FE_TONEAREST);
    /* NX accrued: the fast path, directed mode */
    d = rv_f64_div(D_ONE, D_THREE, RV_RM_RUP, &fl);
    assert_true(d == UINT64_C(0x3fd5555555555556));
    assert_int_equal(host_sse_round(), FE_TONEAREST);
    assert_int_equal(fl, DZ | NX | OF);

    assert_int_equal(fesetround(FE_UPWARD), 0);
    feclearexcept(FE_ALL_EXCEPT);
    fl = 0;
    r = rv_f32_div(S_NONE, S_THREE, RV_RM_RNE, &fl);
    assert_int_equal(r, 0xbeaaaaabu);
    assert_int_equal(fl, NX);
    d = rv_f64_div(D_ONE, D_THREE, RV_RM_RNE, &fl);
    assert_true(d == UINT64_C(0x3fd5555555555555));
    r = rv_f32_div(S_ONE, S_THREE, RV_RM_RTZ, &fl);
    assert_int_equal(r, 0x3eaaaaaau);
    (void)rv_f64_fma(D_INF, 0, D_ONE, 0, 0, RV_RM_RNE, &fl);
    (void)rv_f64_to_f32(D_MAX, RV_RM_RDN, &fl);
    assert_int_equal(fl, NX | NV | OF);
    assert_int_equal(host_sse_round(), FE_UPWARD);
    assert_int_equal(fetestexcept(FE_ALL_EXCEPT), 0);
    assert_int_equal(fesetround(FE_TONEAREST), 0);
}

/* ------------------------------------------------------------------ */
/* Random operand generation                                           */
/* ------------------------------------------------------------------ */

static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static const uint32_t f32_special[] = {
    0, S_NZERO, S_INF, S_NINF, S_QNAN, 0xffc00000u, S_SNAN, 0x7fa00000u,
    0xffbfffffu, 0x00000001u, 0x80000001u, 0x007fffffu, 0x807fffffu,
    0x00800000u, 0x80800000u, 0x00800001u, S_MAX, S_NMAX, 0x7f7ffffeu,
    S_ONE, S_NONE, 0x3f800001u, 0x3f7fffffu, S_TWO, S_HALF, 0x4b000000u,
    0x4b800000u, 0x4f000000u, 0xcf000000u, 0x4f800000u, 0x5f000000u,
    0xdf000000u, 0x5f800000u, 0x33800000u, 0x34000000u, 0x40200000u,
    0xc0200000u, 0x00400000u,
};

static const uint64_t f64_special[] = {
    0, D_NZERO, D_INF, D_NINF, D_QNAN, UINT64_C(0xfff8000000000000), D_SNAN,
    UINT64_C(0x7ff4000000000000), UINT64_C(0xfff7ffffffffffff), 1,
    D_NZERO | 1, UINT64_C(0x000fffffffffffff), UINT64_C(0x0010000000000000),
    UINT64_C(0x8010000000000000), D_MAX, D_NMAX, D_MAX - 1, D_ONE, D_NONE,
    D_ONE + 1, D_ONE - 1, D_TWO, D_HALF, UINT64_C(0x41dfffffffe00000),
    UINT64_C(0xc1e0000000100000), UINT64_C(0x41e0000000000000),
    UINT64_C(0x41f0000000000000), UINT64_C(0x43e0000000000000),
    UINT64_C(0xc3e0000000000000), UINT64_C(0x43f0000000000000),
    UINT64_C(0x3ca0000000000000), UINT64_C(0x4004000000000000),
    UINT64_C(0x36a0000000000000), UINT64_C(0x47efffffe0000000),
    UINT64_C(0x47effffff0000000), UINT64_C(0x380ffffff0000000),
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Generic generator over (mantissa bits m, exponent field width). */
static uint64_t gen_float(uint64_t *s, int is64)
{
    const int m = is64 ? 52 : 23;
    const uint64_t emax = is64 ? 2046 : 254; /* largest finite field */
    const uint64_t fmask = (UINT64_C(1) << m) - 1;
    uint64_t r = rng(s), r2 = rng(s);
    uint64_t sign = r2 >> 63;
    uint64_t frac = r2 & fmask;
    uint64_t exp;

    switch (r & 15) {
    case 0:
        return is64 ? f64_special[(r >> 8) % COUNT(f64_special)]
                    : f32_special[(r >> 8) % COUNT(f32_special)];
    case 1:
        return is64 ? r2 : (r2 >> 32);
    case 2: /* subnormals and the smallest normals */
        exp = (r >> 8) % 3;
        break;
    case 3: /* near overflow */
        exp = emax - (r >> 8) % 3;
        break;
    case 4: /* few significant bits: exact results and exact ties */
        frac &= fmask << ((r >> 8) % (unsigned)m);
        exp = (emax + 1) / 2 - 30 + (r >> 16) % 100;
        break;
    case 5: /* long runs of ones: carries when rounding up */
        frac |= fmask >> ((r >> 8) % (unsigned)m);
        exp = 1 + (r >> 16) % emax;
        break;
    case 6: /* around the integer conversion limits */
        exp = (emax + 1) / 2 - 3 + (r >> 8) % 70;
        if ((r >> 20) & 1)
            frac &= fmask << ((r >> 24) % (unsigned)m);
        break;
    case 7: /* magnitudes whose products/quotients land near the bottom */
        exp = (emax + 1) / 2 + (r >> 8) % ((emax + 1) / 2) -
              (is64 ? 800 : 100);
        break;
    default:
        exp = 1 + (r >> 8) % emax;
        break;
    }
    return (sign << (m + (is64 ? 11 : 8))) | (exp << m) | frac;
}

/* An operand related to x: a few ulps away, or a scaled copy with a short
 * mantissa, so sums cancel and land on ties. */
static uint64_t gen_related(uint64_t *s, int is64, uint64_t x)
{
    const int m = is64 ? 52 : 23;
    const uint64_t sign_bit = UINT64_C(1) << (is64 ? 63 : 31);
    const uint64_t emask = is64 ? 0x7ff : 0xff;
    uint64_t r = rng(s);
    uint64_t exp = (x >> m) & emask;

    if (exp == emask) /* inf / NaN: keep as is */
        return x;
    switch (r & 3) {
    case 0: { /* neighbour, random sign */
        uint64_t mag = x & ~sign_bit;
        uint64_t delta = (r >> 8) % 9;
        mag = ((r >> 12) & 1) ? mag + delta : (mag > delta ? mag - delta : 0);
        if (((mag >> m) & emask) == emask)
            mag = x & ~sign_bit;
        return mag | (((r >> 13) & 1) ? sign_bit : 0);
    }
    case 1:
    case 2: { /* shifted exponent, short or same mantissa */
        uint64_t d = (r >> 8) % (unsigned)(m + 8);
        uint64_t frac = x & ((UINT64_C(1) << m) - 1);
        if ((r & 3) == 1)
            frac = (rng(s) & ((UINT64_C(1) << m) - 1)) &
                   ~((UINT64_C(1) << ((r >> 16) % (unsigned)m)) - 1);
        exp = exp > d ? exp - d : 0;
        return (((r >> 14) & 1) ? sign_bit : 0) | (exp << m) | frac;
    }
    default:
        return gen_float(s, is64);
    }
}

/* ------------------------------------------------------------------ */
/* 2. Differential test: host path vs software path (RNE..RUP)         */
/* ------------------------------------------------------------------ */

/* Iteration counts keep the whole program at a few seconds; set
 * GB_FPU_TEST_SCALE=N to run N times as many random cases (soak runs).
 * main() hands the factor to the randomized tests as their state. */
static long scale_of(void **state)
{
    return state && *state ? *(const long *)*state : 1;
}

#define DIFF_ITERS (100000 * scale_of(state))

/* Host against software, once with no flags accrued (the host reads the
 * flags) and once with NX accrued (the host's fast path). */
static void diff_one(int is64, int op, uint64_t a, uint64_t b, uint64_t c,
                     unsigned rm)
{
    unsigned pre;
    for (pre = 0; pre <= NX; pre += NX) {
        unsigned hf = pre, sf = pre;
        uint64_t h = is64 ? run_f64(op, 0, a, b, c, rm, &hf)
                          : run_f32(op, 0, a, b, c, rm, &hf);
        uint64_t sr = is64 ? run_f64(op, 1, a, b, c, rm, &sf)
                           : run_f32(op, 1, a, b, c, rm, &sf);
        if (h != sr || hf != sf)
            fail_msg("f%d %s %s a=%#llx b=%#llx c=%#llx (flags before %#x): "
                     "host %#llx fl=%#x, soft %#llx fl=%#x",
                     is64 ? 64 : 32, op_name[op], rm_name[rm],
                     (unsigned long long)a, (unsigned long long)b,
                     (unsigned long long)c, pre, (unsigned long long)h, hf,
                     (unsigned long long)sr, sf);
    }
}

static void diff_format(int is64, uint64_t seed, long iters)
{
    uint64_t s = seed;
    int fma = rv_fpu_host_path(1);
    long i;
    unsigned rm;

    for (i = 0; i < iters; i++) {
        uint64_t a = gen_float(&s, is64);
        uint64_t b = (rng(&s) & 3) == 0 ? gen_related(&s, is64, a)
                                        : gen_float(&s, is64);
        uint64_t c;
        unsigned fl = 0;

        /* addend near -(a*b) so the fused sum cancels */
        if ((rng(&s) & 3) == 0) {
            uint64_t p = is64 ? rv_soft_f64_mul(a, b, RV_RM_RTZ, &fl)
                              : rv_soft_f32_mul((uint32_t)a, (uint32_t)b,
                                                RV_RM_RTZ, &fl);
            c = gen_related(&s, is64, p);
        } else {
            c = (rng(&s) & 1) ? gen_related(&s, is64, a)
                              : gen_float(&s, is64);
        }
        for (rm = 0; rm < 4; rm++) {
            int op;
            for (op = OP_ADD; op <= OP_SQRT; op++)
                diff_one(is64, op, a, b, c, rm);
            if (fma)
                for (op = OP_FMADD; op <= OP_FNMADD; op++)
                    diff_one(is64, op, a, b, c, rm);
            if (is64) {
                diff_one(1, OP_CVT, a, 0, 0, rm);
            }
        }
    }
}

static void test_diff_f32(void **state)
{
    (void)state;
    if (!rv_fpu_host_path(0))
        skip(); /* software-only build: nothing to compare against */
    diff_format(0, 1, DIFF_ITERS);
}

static void test_diff_f64(void **state)
{
    (void)state;
    if (!rv_fpu_host_path(0))
        skip();
    diff_format(1, 2, DIFF_ITERS);
}

/* ------------------------------------------------------------------ */
/* 3. Long double oracle, all five modes                               */
/* ------------------------------------------------------------------ */

/* Round y >= 0 to an integer in mode rm for a value of sign neg. */
static long double ref_round_int(long double y, int neg, unsigned rm,
                                 int *inexact)
{
    long double t = floorl(y), f = y - t;
    int up;
    *inexact = f != 0;
    switch (rm) {
    case RV_RM_RTZ:
        up = 0;
        break;
    case RV_RM_RDN:
        up = neg && f != 0;
        break;
    case RV_RM_RUP:
        up = !neg && f != 0;
        break;
    case RV_RM_RMM:
        up = f >= 0.5L;
        break;
    default:
        up = f > 0.5L || (f == 0.5L && fmodl(t, 2.0L) != 0);
        break;
    }
    return t + up;
}

/* Round exact nonzero finite x to a binary format with p significand bits
 * and normal exponents [emin, emax]; tininess after rounding. */
static long double ref_round(long double x, int p, int emin, int emax,
                             unsigned rm, unsigned *fl)
{
    int neg = signbit(x) != 0;
    long double m = fabsl(x), r, ru;
    int e = ilogbl(m), q, inexact, unused;

    q = (e < emin ? emin : e) - (p - 1);
    r = ldexpl(ref_round_int(ldexpl(m, -q), neg, rm, &inexact), q);
    ru = ldexpl(ref_round_int(ldexpl(m, -(e - (p - 1))), neg, rm, &unused),
                e - (p - 1));
    if (r >= ldexpl(1.0L, emax + 1)) {
        int to_inf = rm == RV_RM_RNE || rm == RV_RM_RMM ||
                     (rm == RV_RM_RUP && !neg) || (rm == RV_RM_RDN && neg);
        *fl |= OF | NX;
        r = to_inf ? (long double)INFINITY
                   : ldexpl(2.0L - ldexpl(1.0L, 1 - p), emax);
    } else if (inexact) {
        *fl |= NX;
        if (ru < ldexpl(1.0L, emin))
            *fl |= UF;
    }
    return neg ? -r : r;
}

static uint32_t ref_f32(long double x, unsigned rm, unsigned *fl)
{
    float f = (float)ref_round(x, 24, -126, 127, rm, fl); /* exact */
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static uint64_t ref_f64(long double x, unsigned rm, unsigned *fl)
{
    double d = (double)ref_round(x, 53, -1022, 1023, rm, fl); /* exact */
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static long double ld_f32(uint32_t a)
{
    float f;
    memcpy(&f, &a, sizeof f);
    return f;
}

static long double ld_f64(uint64_t a)
{
    double d;
    memcpy(&d, &a, sizeof d);
    return d;
}

/* Exact a + b in long double, if it is representable (TwoSum error 0). */
static int exact_sum(long double a, long double b, long double *out)
{
    volatile long double s = a + b;
    volatile long double bb = s - a;
    long double err = (a - (s - bb)) + (b - bb);
    *out = s;
    return err == 0 && isfinite(s);
}

static int is_finite_bits(uint64_t x, int is64)
{
    return is64 ? ((x >> 52) & 0x7ff) != 0x7ff : ((x >> 23) & 0xff) != 0xff;
}

static void oracle_check(const char *what, int is64, uint64_t a, uint64_t b,
                         uint64_t c, long double exact, unsigned rm,
                         uint64_t got, unsigned gotfl)
{
    unsigned wf = 0;
    uint64_t want = is64 ? ref_f64(exact, rm, &wf) : ref_f32(exact, rm, &wf);
    if (got != want || gotfl != wf)
        fail_msg("%s %s a=%#llx b=%#llx c=%#llx: got %#llx fl=%#x, oracle "
                 "%#llx fl=%#x",
                 what, rm_name[rm], (unsigned long long)a,
                 (unsigned long long)b, (unsigned long long)c,
                 (unsigned long long)got, gotfl, (unsigned long long)want, wf);
}

#define ORACLE_ITERS (150000 * scale_of(state))

static void test_oracle_f32_arith(void **state)
{
    uint64_t s = 4;
    long i;
    unsigned rm;
    int op;
    (void)state;

    for (i = 0; i < ORACLE_ITERS; i++) {
        uint32_t a = (uint32_t)gen_float(&s, 0);
        uint32_t b = (uint32_t)((rng(&s) & 1) ? gen_related(&s, 0, a)
                                               : gen_float(&s, 0));
        uint32_t c = (uint32_t)((rng(&s) & 1) ? gen_related(&s, 0, a)
                                               : gen_float(&s, 0));
        long double la = ld_f32(a), lb = ld_f32(b), lc = ld_f32(c), x;

        if (!is_finite_bits(a, 0) || !is_finite_bits(b, 0) ||
            !is_finite_bits(c, 0))
            continue;
        for (op = OP_ADD; op <= OP_FNMADD; op++) {
            int ok;
            long double p = la * lb; /* 48 bits: always exact */
            switch (op) {
            case OP_ADD:
                ok = exact_sum(la, lb, &x);
                break;
            case OP_SUB:
                ok = exact_sum(la, -lb, &x);
                break;
            case OP_MUL:
                x = p;
                ok = 1;
                break;
            case OP_FMADD:
                ok = exact_sum(p, lc, &x);
                break;
            case OP_FMSUB:
                ok = exact_sum(p, -lc, &x);
                break;
            case OP_FNMSUB:
                ok = exact_sum(-p, lc, &x);
                break;
            case OP_FNMADD:
                ok = exact_sum(-p, -lc, &x);
                break;
            default: /* div, sqrt: not exact in general */
                ok = 0;
                break;
            }
            if (!ok || x == 0)
                continue; /* zero signs are covered by the tables */
            for (rm = 0; rm < 5; rm++) {
                unsigned fl = 0;
                uint64_t got = run_f32(op, 0, a, b, c, rm, &fl);
                oracle_check(op_name[op], 0, a, b, c, x, rm, got, fl);
                if (rm == RV_RM_RMM || !rv_fpu_host_path(0))
                    continue; /* the public call already was the soft path */
                fl = 0;
                got = run_f32(op, 1, a, b, c, rm, &fl);
                oracle_check(op_name[op], 0, a, b, c, x, rm, got, fl);
            }
        }
    }
}

static void test_oracle_f64_add_cvt(void **state)
{
    uint64_t s = 5;
    long i;
    unsigned rm;
    (void)state;

    for (i = 0; i < ORACLE_ITERS; i++) {
        uint64_t a = gen_float(&s, 1);
        uint64_t b = (rng(&s) & 1) ? gen_related(&s, 1, a) : gen_float(&s, 1);
        long double x;
        int sub;

        if (!is_finite_bits(a, 1))
            continue;
        /* f64 -> f32: the operand itself is the exact value */
        if (a << 1) {
            for (rm = 0; rm < 5; rm++) {
                unsigned fl = 0;
                uint64_t got = rv_f64_to_f32(a, rm, &fl);
                oracle_check("cvt.s.d", 0, a, 0, 0, ld_f64(a), rm, got, fl);
            }
        }
        if (!is_finite_bits(b, 1))
            continue;
        for (sub = 0; sub < 2; sub++) {
            if (!exact_sum(ld_f64(a), sub ? -ld_f64(b) : ld_f64(b), &x) ||
                x == 0)
                continue;
            for (rm = 0; rm < 5; rm++) {
                unsigned fl = 0;
                uint64_t got = sub ? rv_f64_sub(a, b, rm, &fl)
                                   : rv_f64_add(a, b, rm, &fl);
                oracle_check(sub ? "f64 sub" : "f64 add", 1, a, b, 0, x, rm,
                             got, fl);
            }
        }
    }
}

static void test_oracle_int_to_float(void **state)
{
    uint64_t s = 6;
    long i;
    unsigned rm;
    (void)state;

    for (i = 0; i < ORACLE_ITERS; i++) {
        uint64_t r = rng(&s);
        uint64_t v = r >> (rng(&s) % 64);
        int kind = (int)(r & 3), to64 = (int)((r >> 2) & 1), soft;
        long double x;
        if ((r >> 3) & 1)
            v = 0 - v;
        switch (kind) {
        case FI_I32:
            x = (int32_t)(uint32_t)v;
            break;
        case FI_U32:
            x = (uint32_t)v;
            break;
        case FI_I64:
            x = (int64_t)v;
            break;
        default:
            x = v;
            break;
        }
        if (x == 0)
            continue;
        for (soft = 0; soft < 2; soft++) {
            for (rm = 0; rm < 5; rm++) {
                unsigned fl = 0;
                uint64_t got = run_from_int(kind, to64, soft, v, rm, &fl);
                oracle_check(to64 ? "fcvt.d.int" : "fcvt.s.int", to64, v,
                             (uint64_t)kind, (uint64_t)soft, x, rm, got, fl);
            }
        }
    }
}

static uint64_t sext32(uint64_t v)
{
    return ((v & 0xffffffffu) ^ 0x80000000u) - 0x80000000u;
}

/* Reference float -> integer conversion from the exact value. */
static uint64_t ref_to_int(long double x, int is_nan, int kind, unsigned rm,
                           unsigned *fl)
{
    int bits = (kind == CV_W || kind == CV_WU) ? 32 : 64;
    int is_signed = kind == CV_W || kind == CV_L;
    long double hi = is_signed ? ldexpl(1.0L, bits - 1) - 1
                               : ldexpl(1.0L, bits) - 1;
    long double lo = is_signed ? -ldexpl(1.0L, bits - 1) : 0;
    long double r;
    uint64_t u;
    int inexact = 0;

    if (is_nan) {
        r = hi + 1; /* NaN converts like +inf */
    } else if (isinf(x)) {
        r = x;
    } else {
        int neg = x < 0;
        r = ref_round_int(fabsl(x), neg, rm, &inexact);
        if (neg)
            r = -r;
    }
    if (r > hi || r < lo) {
        *fl |= NV;
        r = r > hi ? hi : lo;
        inexact = 0;
    }
    if (inexact)
        *fl |= NX;
    u = r < 0 ? (uint64_t)(int64_t)r : (uint64_t)r;
    return bits == 32 ? sext32(u) : u;
}

static void test_oracle_to_int(void **state)
{
    uint64_t s = 7;
    long i;
    unsigned rm;
    (void)state;

    for (i = 0; i < ORACLE_ITERS * 2; i++) {
        int is64 = (int)(i & 1), kind = (int)((i >> 1) & 3);
        uint64_t a = gen_float(&s, is64);
        int nan = is64 ? ((a << 1) > (D_INF << 1))
                       : ((a & 0x7fffffffu) > 0x7f800000u);
        long double x = nan ? 0 : is64 ? ld_f64(a) : ld_f32((uint32_t)a);
        for (rm = 0; rm < 5; rm++) {
            unsigned fl = 0, wf = 0;
            uint64_t got = run_to_int(kind, is64, a, rm, &fl);
            uint64_t want = ref_to_int(x, nan, kind, rm, &wf);
            if (got != want || fl != wf)
                fail_msg("fcvt.%s.%c %s a=%#llx: got %#llx fl=%#x, oracle "
                         "%#llx fl=%#x",
                         cv_name[kind], is64 ? 'd' : 's', rm_name[rm],
                         (unsigned long long)a, (unsigned long long)got, fl,
                         (unsigned long long)want, wf);
        }
    }
}

/* ------------------------------------------------------------------ */
/* 4. RMM properties where no long double oracle reaches               */
/* ------------------------------------------------------------------ */

static int is_normal_or_special(uint64_t x, int is64)
{
    uint64_t e = is64 ? (x >> 52) & 0x7ff : (x >> 23) & 0xff;
    return e != 0;
}

/* Division and square root results are never exact ties at full
 * precision, so RMM must equal RNE, flags included, unless the result is
 * subnormal (where the precision is lower and ties do occur). */
static void test_rmm_div_sqrt(void **state)
{
    uint64_t s = 8;
    long i;
    (void)state;

    for (i = 0; i < ORACLE_ITERS * 2; i++) {
        int is64 = (int)(i & 1), op = (i & 2) ? OP_DIV : OP_SQRT;
        uint64_t a = gen_float(&s, is64), b = gen_float(&s, is64);
        unsigned f1 = 0, f2 = 0;
        uint64_t rne = is64 ? run_f64(op, 0, a, b, 0, RV_RM_RNE, &f1)
                            : run_f32(op, 0, a, b, 0, RV_RM_RNE, &f1);
        uint64_t rmm = is64 ? run_f64(op, 1, a, b, 0, RV_RM_RMM, &f2)
                            : run_f32(op, 1, a, b, 0, RV_RM_RMM, &f2);
        if (!is_normal_or_special(rne, is64))
            continue;
        if (rne != rmm || f1 != f2)
            fail_msg("f%d %s a=%#llx b=%#llx: RNE %#llx/%#x RMM %#llx/%#x",
                     is64 ? 64 : 32, op_name[op], (unsigned long long)a,
                     (unsigned long long)b, (unsigned long long)rne, f1,
                     (unsigned long long)rmm, f2);
    }
}

static double d_of(uint64_t a)
{
    double d;
    memcpy(&d, &a, sizeof d);
    return d;
}

static uint64_t bits_of(double d)
{
    uint64_t a;
    memcpy(&a, &d, sizeof a);
    return a;
}

/* f64 add/mul in RMM: the host's RNE result plus the exact error term
 * (TwoSum / fma-based TwoProduct) tells whether the exact value is a tie
 * and so what RMM must return. */
static void test_rmm_f64_exact_error(void **state)
{
    uint64_t s = 9;
    long i;
    (void)state;

    for (i = 0; i < ORACLE_ITERS * 2; i++) {
        int is_mul = (int)(i & 1);
        uint64_t a = gen_float(&s, 1);
        uint64_t b = (rng(&s) & 1) ? gen_related(&s, 1, a) : gen_float(&s, 1);
        double da = d_of(a), db = d_of(b), hi, err, other, want;
        volatile double vs;
        unsigned fl = 0, wf;
        uint64_t got;

        if (!isfinite(da) || !isfinite(db))
            continue;
        if (is_mul) {
            vs = da * db;
            hi = vs;
            err = fma(da, db, -hi);
        } else {
            volatile double bb;
            vs = da + db;
            hi = vs;
            bb = hi - da;
            err = (da - (hi - bb)) + (db - bb);
        }
        /* stay clear of overflow and of subnormal results, where the
         * error term is not exact or the precision is lower */
        if (!isfinite(hi) || fabs(hi) < 0x1p-960 || fabs(hi) > 0x1p1020)
            continue;
        want = hi;
        if (err != 0) {
            /* a tie iff the error is exactly half the gap to the
             * neighbour on its side; RMM then takes the larger magnitude */
            other = nextafter(hi, err > 0 ? INFINITY : -INFINITY);
            if (2 * err == other - hi && fabs(other) > fabs(hi))
                want = other;
        }
        wf = err != 0 ? NX : 0;
        got = is_mul ? rv_f64_mul(a, b, RV_RM_RMM, &fl)
                     : rv_f64_add(a, b, RV_RM_RMM, &fl);
        if (got != bits_of(want) || fl != wf)
            fail_msg("f64 %s RMM a=%#llx b=%#llx: got %#llx/%#x want "
                     "%#llx/%#x",
                     is_mul ? "mul" : "add", (unsigned long long)a,
                     (unsigned long long)b, (unsigned long long)got, fl,
                     (unsigned long long)bits_of(want), wf);
    }
}

int main(void)
{
    const char *env = getenv("GB_FPU_TEST_SCALE");
    long scale = env != NULL && atol(env) > 0 ? atol(env) : 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f32_table),
        cmocka_unit_test(test_f64_table),
        cmocka_unit_test(test_to_int_table),
        cmocka_unit_test(test_from_int_table),
        cmocka_unit_test(test_f32_to_f64),
        cmocka_unit_test(test_minmax),
        cmocka_unit_test(test_compare),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_flags_and_host_env),
        cmocka_unit_test_prestate(test_diff_f32, &scale),
        cmocka_unit_test_prestate(test_diff_f64, &scale),
        cmocka_unit_test_prestate(test_oracle_f32_arith, &scale),
        cmocka_unit_test_prestate(test_oracle_f64_add_cvt, &scale),
        cmocka_unit_test_prestate(test_oracle_int_to_float, &scale),
        cmocka_unit_test_prestate(test_oracle_to_int, &scale),
        cmocka_unit_test_prestate(test_rmm_div_sqrt, &scale),
        cmocka_unit_test_prestate(test_rmm_f64_exact_error, &scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
