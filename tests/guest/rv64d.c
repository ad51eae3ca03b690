/* RV64D: every double-precision instruction (and fcvt.s.d / fcvt.d.s)
 * through the generated vector table (fp_vectors.h), plus by hand: fld/fsd,
 * fmv.x.d/fmv.d.x keeping NaN payloads, static rounding on D operations,
 * and D writes replacing a NaN-boxed single. */
#include "fp.h"
#include "fp_vectors.h"

static void transfers(void)
{
    static volatile uint64_t d[2] = { 0x400921fb54442d18UL, 0x7ff4000000000123UL };
    ulong r;
    asm volatile("fld fa0, 8(%1)\n\tfmv.x.d %0, fa0" : "=r"(r) : "r"(d) : "fa0");
    check(r, 0x7ff4000000000123UL, "fld keeps a signaling NaN's payload");
    asm volatile("fld fa0, 0(%0)\n\tfsd fa0, 8(%0)" :: "r"(d) : "fa0", "memory");
    check(d[1], 0x400921fb54442d18UL, "fsd stores all 64 bits");
    asm volatile("fmv.d.x fa0, %1\n\tfmv.x.d %0, fa0" : "=r"(r) : "r"(0xfff8000000abcdefUL) : "fa0");
    check(r, 0xfff8000000abcdefUL, "fmv.d.x / fmv.x.d move raw bits");
    asm volatile("fmv.w.x fa0, %1\n\tfmv.x.d %0, fa0" : "=r"(r) : "r"(0x3f800000UL) : "fa0");
    check(r, 0xffffffff3f800000UL, "a single write boxes the register");
    asm volatile("fmv.w.x fa0, %1\n\tfadd.d fa0, fa0, fa0\n\tfmv.x.d %0, fa0" : "=r"(r) : "r"(0x3f800000UL) : "fa0");
    check(r, 0x7ff8000000000000UL, "a boxed single read as a double is a (quiet) NaN -> canonical");
    /* misaligned FP loads/stores complete like integer ones */
    static volatile uint64_t m[3];
    m[0] = m[1] = m[2] = 0;
    asm volatile("fmv.d.x fa0, %0\n\tfsd fa0, 4(%1)\n\tfld fa1, 4(%1)\n\tfmv.x.d %0, fa1"
                 : "=r"(r) : "r"(m), "0"(0x0123456789abcdefUL) : "fa0", "fa1", "memory");
    check(r, 0x0123456789abcdefUL, "misaligned fsd/fld round trip");
    check(m[0], 0x89abcdef00000000UL, "misaligned fsd low half");
}

/* 1 + 2^-53 is a tie in double; frm is set to round the other way. */
#define T_STATIC(rm, a, exp) do { \
    ulong r_; \
    csr_write(frm, (exp) != (a) ? 1 : ((a) >> 63 ? 2 : 3)); \
    asm volatile("fmv.d.x ft0, %1\n\tfmv.d.x ft1, %2\n\tfadd.d ft2, ft0, ft1, " #rm "\n\tfmv.x.d %0, ft2" \
                 : "=r"(r_) : "r"(a), "r"(0x3ca0000000000000UL | ((a) & (1UL << 63))) : "ft0", "ft1", "ft2"); \
    check(r_, exp, "fadd.d static " #rm " of %s1 + 2^-53", (a) >> 63 ? "-" : "+"); \
} while (0)

static void static_rm(void)
{
    const ulong one = 0x3ff0000000000000UL, mone = 0xbff0000000000000UL;
    T_STATIC(rne, one, one);
    T_STATIC(rtz, one, one);
    T_STATIC(rdn, one, one);
    T_STATIC(rup, one, one + 1);
    T_STATIC(rmm, one, one + 1);
    T_STATIC(rdn, mone, mone + 1);
    T_STATIC(rup, mone, mone);
    csr_write(frm, 0);
}

int main(void)
{
    rt_puts("# rv64d\n");
    fp_enable();
    run_vectors(vec_d, sizeof vec_d / sizeof vec_d[0]);
    transfers();
    static_rm();
    test_done();
}
