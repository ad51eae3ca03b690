/*
 * rv_fpu.h - RISC-V F and D arithmetic, bit-exact to the unprivileged spec.
 *
 * Every function works on raw IEEE bit patterns.  `rm` is an already
 * resolved static rounding mode (RV_RM_*); the caller turns DYN into frm and
 * raises illegal-instruction for 5..7.  Out-of-range rm values never cause
 * undefined behaviour: they round like RNE.  `fl` points at the accrued
 * exception flags (fflags layout); functions only OR bits into it.  Pass
 * the hart's fflags itself, not a zeroed temporary: once NX is accrued
 * the x86-64 path no longer needs to read the host's flags, which makes
 * it several times faster.
 *
 * Semantics follow RISC-V: every NaN result is the canonical NaN, tininess
 * is detected after rounding, FMA signals invalid for inf*0 even when the
 * addend is a quiet NaN, min/max follow the 2.2+ (IEEE 754-2019
 * minimumNumber/maximumNumber) rules, and float->integer conversions
 * saturate per the spec's table (NaN -> largest positive) and raise only NV
 * when invalid.
 *
 * Two implementations stand behind the rounding operations: the host's SSE
 * unit (x86-64 only, modes RNE/RTZ/RDN/RUP; it detects tininess after
 * rounding like RISC-V) and a portable software path (rv_soft_*) that
 * handles all five modes.  The public functions pick one; the rv_soft_*
 * functions are exported so tests can check the two against each other.
 *
 * Host state: the SSE path leaves the calling thread's MXCSR rounding mode,
 * exception masks and FTZ/DAZ as it found them (normally RNE, all masked);
 * the host's sticky exception flags are not preserved.  The x87 unit is
 * never touched.  Everything is reentrant; there is no global state.
 */
#ifndef RV_FPU_H
#define RV_FPU_H

#include <stdint.h>

/* fflags bits */
#define RV_FFLAG_NX 0x01u /* inexact */
#define RV_FFLAG_UF 0x02u /* underflow */
#define RV_FFLAG_OF 0x04u /* overflow */
#define RV_FFLAG_DZ 0x08u /* divide by zero */
#define RV_FFLAG_NV 0x10u /* invalid operation */

/* Rounding modes, encoded as in the instruction's rm field / frm. */
enum { RV_RM_RNE, RV_RM_RTZ, RV_RM_RDN, RV_RM_RUP, RV_RM_RMM };

#define RV_F32_CANON_NAN 0x7fc00000u
#define RV_F64_CANON_NAN UINT64_C(0x7ff8000000000000)

/* FCLASS result bits */
#define RV_FCLASS_NEG_INF 0x001u
#define RV_FCLASS_NEG_NORMAL 0x002u
#define RV_FCLASS_NEG_SUBNORMAL 0x004u
#define RV_FCLASS_NEG_ZERO 0x008u
#define RV_FCLASS_POS_ZERO 0x010u
#define RV_FCLASS_POS_SUBNORMAL 0x020u
#define RV_FCLASS_POS_NORMAL 0x040u
#define RV_FCLASS_POS_INF 0x080u
#define RV_FCLASS_SNAN 0x100u
#define RV_FCLASS_QNAN 0x200u

/* ---- single precision (F) ---- */
uint32_t rv_f32_add(uint32_t a, uint32_t b, unsigned rm, unsigned *fl);
uint32_t rv_f32_sub(uint32_t a, uint32_t b, unsigned rm, unsigned *fl);
uint32_t rv_f32_mul(uint32_t a, uint32_t b, unsigned rm, unsigned *fl);
uint32_t rv_f32_div(uint32_t a, uint32_t b, unsigned rm, unsigned *fl);
uint32_t rv_f32_sqrt(uint32_t a, unsigned rm, unsigned *fl);
/* One rounding: (neg_prod ? -(a*b) : a*b) + (neg_add ? -c : c).
 * FMADD=(0,0) FMSUB=(0,1) FNMSUB=(1,0) FNMADD=(1,1) */
uint32_t rv_f32_fma(uint32_t a, uint32_t b, uint32_t c, int neg_prod,
                    int neg_add, unsigned rm, unsigned *fl);
uint32_t rv_f32_min(uint32_t a, uint32_t b, unsigned *fl);
uint32_t rv_f32_max(uint32_t a, uint32_t b, unsigned *fl);
int rv_f32_eq(uint32_t a, uint32_t b, unsigned *fl); /* quiet */
int rv_f32_lt(uint32_t a, uint32_t b, unsigned *fl); /* signaling */
int rv_f32_le(uint32_t a, uint32_t b, unsigned *fl); /* signaling */
unsigned rv_f32_classify(uint32_t a);
/* 32-bit results come back sign-extended to 64 bits, as RV64 writes them. */
uint64_t rv_f32_to_i32(uint32_t a, unsigned rm, unsigned *fl);
uint64_t rv_f32_to_u32(uint32_t a, unsigned rm, unsigned *fl);
uint64_t rv_f32_to_i64(uint32_t a, unsigned rm, unsigned *fl);
uint64_t rv_f32_to_u64(uint32_t a, unsigned rm, unsigned *fl);
uint32_t rv_i32_to_f32(int32_t v, unsigned rm, unsigned *fl);
uint32_t rv_u32_to_f32(uint32_t v, unsigned rm, unsigned *fl);
uint32_t rv_i64_to_f32(int64_t v, unsigned rm, unsigned *fl);
uint32_t rv_u64_to_f32(uint64_t v, unsigned rm, unsigned *fl);
uint64_t rv_f32_to_f64(uint32_t a, unsigned *fl);

/* ---- double precision (D) ---- */
uint64_t rv_f64_add(uint64_t a, uint64_t b, unsigned rm, unsigned *fl);
uint64_t rv_f64_sub(uint64_t a, uint64_t b, unsigned rm, unsigned *fl);
uint64_t rv_f64_mul(uint64_t a, uint64_t b, unsigned rm, unsigned *fl);
uint64_t rv_f64_div(uint64_t a, uint64_t b, unsigned rm, unsigned *fl);
uint64_t rv_f64_sqrt(uint64_t a, unsigned rm, unsigned *fl);
uint64_t rv_f64_fma(uint64_t a, uint64_t b, uint64_t c, int neg_prod,
                    int neg_add, unsigned rm, unsigned *fl);
uint64_t rv_f64_min(uint64_t a, uint64_t b, unsigned *fl);
uint64_t rv_f64_max(uint64_t a, uint64_t b, unsigned *fl);
int rv_f64_eq(uint64_t a, uint64_t b, unsigned *fl);
int rv_f64_lt(uint64_t a, uint64_t b, unsigned *fl);
int rv_f64_le(uint64_t a, uint64_t b, unsigned *fl);
unsigned rv_f64_classify(uint64_t a);
uint64_t rv_f64_to_i32(uint64_t a, unsigned rm, unsigned *fl);
uint64_t rv_f64_to_u32(uint64_t a, unsigned rm, unsigned *fl);
uint64_t rv_f64_to_i64(uint64_t a, unsigned rm, unsigned *fl);
uint64_t rv_f64_to_u64(uint64_t a, unsigned rm, unsigned *fl);
uint64_t rv_i32_to_f64(int32_t v, unsigned rm, unsigned *fl);
uint64_t rv_u32_to_f64(uint32_t v, unsigned rm, unsigned *fl);
uint64_t rv_i64_to_f64(int64_t v, unsigned rm, unsigned *fl);
uint64_t rv_u64_to_f64(uint64_t v, unsigned rm, unsigned *fl);
uint32_t rv_f64_to_f32(uint64_t a, unsigned rm, unsigned *fl);

/*
 * Nonzero when the public functions use the host FPU for RNE/RTZ/RDN/RUP
 * (x86-64 builds); `fma` asks whether FMA does too (needs FMA3).  Build
 * with -DRV_FPU_SOFT_ONLY to force the software path everywhere.
 */
int rv_fpu_host_path(int fma);

/*
 * Software path: same contracts as the public functions above, all five
 * rounding modes, no host FP arithmetic.  The public add/sub/mul/div/sqrt/
 * fma and f64->f32 functions use it for RMM (and for everything on non-x86
 * hosts); conversions between integers and floats always use it.
 */
uint32_t rv_soft_f32_add(uint32_t a, uint32_t b, unsigned rm, unsigned *fl);
uint32_t rv_soft_f32_sub(uint32_t a, uint32_t b, unsigned rm, unsigned *fl);
uint32_t rv_soft_f32_mul(uint32_t a, uint32_t b, unsigned rm, unsigned *fl);
uint32_t rv_soft_f32_div(uint32_t a, uint32_t b, unsigned rm, unsigned *fl);
uint32_t rv_soft_f32_sqrt(uint32_t a, unsigned rm, unsigned *fl);
uint32_t rv_soft_f32_fma(uint32_t a, uint32_t b, uint32_t c, int neg_prod,
                         int neg_add, unsigned rm, unsigned *fl);
uint64_t rv_soft_f64_add(uint64_t a, uint64_t b, unsigned rm, unsigned *fl);
uint64_t rv_soft_f64_sub(uint64_t a, uint64_t b, unsigned rm, unsigned *fl);
uint64_t rv_soft_f64_mul(uint64_t a, uint64_t b, unsigned rm, unsigned *fl);
uint64_t rv_soft_f64_div(uint64_t a, uint64_t b, unsigned rm, unsigned *fl);
uint64_t rv_soft_f64_sqrt(uint64_t a, unsigned rm, unsigned *fl);
uint64_t rv_soft_f64_fma(uint64_t a, uint64_t b, uint64_t c, int neg_prod,
                         int neg_add, unsigned rm, unsigned *fl);
uint32_t rv_soft_f64_to_f32(uint64_t a, unsigned rm, unsigned *fl);
uint32_t rv_soft_i64_to_f32(int64_t v, unsigned rm, unsigned *fl);
uint32_t rv_soft_u64_to_f32(uint64_t v, unsigned rm, unsigned *fl);
uint64_t rv_soft_i64_to_f64(int64_t v, unsigned rm, unsigned *fl);
uint64_t rv_soft_u64_to_f64(uint64_t v, unsigned rm, unsigned *fl);
/* Float -> integer: `bits` is 32 or 64, `is_signed` picks W/L vs WU/LU.
 * 32-bit results are sign-extended to 64 bits. */
uint64_t rv_soft_f32_to_int(uint32_t a, int bits, int is_signed, unsigned rm,
                            unsigned *fl);
uint64_t rv_soft_f64_to_int(uint64_t a, int bits, int is_signed, unsigned rm,
                            unsigned *fl);

#endif /* RV_FPU_H */
