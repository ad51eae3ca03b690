/* RV64F: every single-precision instruction through the generated vector
 * table (fp_vectors.h: all five rounding modes via frm, fflags, NaN rules,
 * fmin/fmax, fcvt saturation, FMA single rounding), plus by hand: loads,
 * stores and moves, NaN-boxing, fcsr/frm/fflags, static rounding modes,
 * reserved rounding modes, and mstatus.FS (Off traps, writes set Dirty). */
#include "fp.h"
#include "fp_vectors.h"

#define BOX(x) (0xffffffff00000000UL | (uint32_t)(x))
#define ONE 0x3f800000UL
#define ULP_HALF 0x33800000UL     /* 2^-24: half an ulp of 1.0 */

static ulong fmv_x_d(void) { ulong r; asm volatile("fmv.x.d %0, fa0" : "=r"(r)); return r; }

static void transfers(void)
{
    static volatile uint32_t w[2] = { 0x40490fdb, 0x12345678 };
    ulong r;
    asm volatile("flw fa0, 0(%0)" :: "r"(w) : "fa0");
    check(fmv_x_d(), BOX(0x40490fdb), "flw NaN-boxes the value");
    asm volatile("fmv.d.x fa0, %0\n\tfsw fa0, 0(%1)" :: "r"(0x1122334455667788UL), "r"(w) : "fa0", "memory");
    check(w[0], 0x55667788, "fsw stores the low 32 bits even when not boxed");
    check(w[1], 0x12345678, "fsw leaves the next word");
    asm volatile("flw fa0, 4(%0)" :: "r"(w) : "fa0");
    check(fmv_x_d(), BOX(0x12345678), "flw with offset");
    asm volatile("fmv.w.x fa0, %0" :: "r"(0xabcdef0080000000UL) : "fa0");
    check(fmv_x_d(), BOX(0x80000000), "fmv.w.x takes the low word and boxes it");
    asm volatile("fmv.x.w %0, fa0" : "=r"(r));
    check(r, 0xffffffff80000000UL, "fmv.x.w sign-extends");
    asm volatile("fmv.d.x fa0, %1\n\tfmv.x.w %0, fa0" : "=r"(r) : "r"(0x000000003f800000UL) : "fa0");
    check(r, ONE, "fmv.x.w of an unboxed register moves the low bits");
}

/* An unboxed single operand reads as the canonical NaN (no NV: it is quiet). */
#define T_UNBOXED(name, insn, a, b, exp, expfl) do { \
    ulong r_, f_; \
    csr_write(fflags, 0); \
    asm volatile("fmv.d.x ft0, %2\n\tfmv.d.x ft1, %3\n\t" insn "\n\tfrflags %1" \
                 : "=r"(r_), "=r"(f_) : "r"((ulong)(a)), "r"((ulong)(b)) : "ft0", "ft1", "ft2"); \
    fcheck(r_, f_, exp, expfl, name " with unboxed " #a); \
} while (0)

static void nanbox(void)
{
    T_UNBOXED("fadd.s", "fadd.s ft2, ft0, ft1\n\tfmv.x.d %0, ft2", 0x3f800000UL, BOX(ONE), BOX(0x7fc00000), 0);
    T_UNBOXED("fadd.s", "fadd.s ft2, ft0, ft1\n\tfmv.x.d %0, ft2", 0xfffffffe3f800000UL, BOX(ONE), BOX(0x7fc00000), 0);
    T_UNBOXED("fsgnj.s", "fsgnj.s ft2, ft0, ft0\n\tfmv.x.d %0, ft2", 0x3f800000UL, 0, BOX(0x7fc00000), 0);
    T_UNBOXED("fsgnjn.s", "fsgnjn.s ft2, ft1, ft0\n\tfmv.x.d %0, ft2", 0xbf800000UL, BOX(ONE), BOX(0xbf800000), 0);
    T_UNBOXED("fsgnjx.s", "fsgnjx.s ft2, ft1, ft0\n\tfmv.x.d %0, ft2", 0xbf800000UL, BOX(ONE), BOX(ONE), 0);
    T_UNBOXED("fmin.s", "fmin.s ft2, ft0, ft1\n\tfmv.x.d %0, ft2", 0x0UL, BOX(ONE), BOX(ONE), 0);
    T_UNBOXED("fclass.s", "fclass.s %0, ft0", 0xff800000UL, 0, 0x200, 0);
    T_UNBOXED("feq.s", "feq.s %0, ft0, ft1", 0x3f800000UL, BOX(ONE), 0, 0);
    T_UNBOXED("flt.s", "flt.s %0, ft0, ft1", 0x3f800000UL, BOX(ONE), 0, 0x10);
    T_UNBOXED("fcvt.w.s", "fcvt.w.s %0, ft0, rtz", 0x3f800000UL, 0, 0x7fffffff, 0x10);
    T_UNBOXED("fcvt.d.s", "fcvt.d.s ft2, ft0\n\tfmv.x.d %0, ft2", 0x3f800000UL, 0, 0x7ff8000000000000UL, 0);
    T_UNBOXED("fmadd.s", "fmadd.s ft2, ft1, ft1, ft0\n\tfmv.x.d %0, ft2", 0x3f800000UL, BOX(ONE), BOX(0x7fc00000), 0);
    T_UNBOXED("fsqrt.s", "fsqrt.s ft2, ft0\n\tfmv.x.d %0, ft2", 0x40800000UL, 0, BOX(0x7fc00000), 0);
}

static void fcsr(void)
{
    ulong r, old;
    csr_write(fcsr, -1UL);
    check(csr_read(fcsr), 0xff, "fcsr bits 31:8 read as zero");
    check(csr_read(frm), 7, "frm is fcsr[7:5]");
    check(csr_read(fflags), 0x1f, "fflags is fcsr[4:0]");
    csr_write(frm, 2);
    check(csr_read(fcsr), 0x5f, "writing frm keeps fflags");
    csr_write(fflags, 0x8);
    check(csr_read(fcsr), 0x48, "writing fflags keeps frm");
    asm volatile("fsrm %0, %1" : "=r"(old) : "r"(1UL));
    check(old, 2, "fsrm returns the old frm");
    asm volatile("fsflagsi %0, 0x3" : "=r"(old));
    check(old, 0x8, "fsflagsi returns old fflags");
    asm volatile("frcsr %0" : "=r"(r));
    check(r, 0x23, "frcsr");
    asm volatile("fscsr %0, %1" : "=r"(old) : "r"(0x1e1UL));
    check(old, 0x23, "fscsr returns old fcsr");
    check(csr_read(fcsr), 0xe1, "fscsr writes only the low 8 bits");
    csr_write(fcsr, 0);
    /* flags accrue until cleared: NX from 1/3, then DZ from 1/0 */
    asm volatile("fmv.w.x ft0, %0\n\tfmv.w.x ft1, %1\n\tfdiv.s ft2, ft0, ft1\n\tfmv.w.x ft1, x0\n\tfdiv.s ft2, ft0, ft1"
                 :: "r"(ONE), "r"(0x40400000UL) : "ft0", "ft1", "ft2");
    check(csr_read(fflags), 0x9, "fflags accrue (NX then DZ)");
    asm volatile("csrrci %0, fflags, 1" : "=r"(old));
    check(csr_read(fflags), 0x8, "csrrci clears single flags");
    csr_write(fflags, 0);
}

/* Static rounding mode in the instruction wins over frm, which is set to a
 * mode that would round the other way.  1 + 2^-24 is a tie. */
#define T_STATIC(rm, a, exp) do { \
    ulong r_; \
    csr_write(frm, (exp) != (a) ? 1 : ((a) >> 31 ? 2 : 3)); \
    asm volatile("fmv.d.x ft0, %1\n\tfmv.d.x ft1, %2\n\tfadd.s ft2, ft0, ft1, " #rm "\n\tfmv.x.d %0, ft2" \
                 : "=r"(r_) : "r"(BOX(a)), "r"(BOX(ULP_HALF | ((a) & 0x80000000))) : "ft0", "ft1", "ft2"); \
    check(r_, BOX(exp), "fadd.s static " #rm " of %s1 + 2^-24", (a) >> 31 ? "-" : "+"); \
} while (0)

static void static_rm(void)
{
    T_STATIC(rne, ONE, ONE);
    T_STATIC(rtz, ONE, ONE);
    T_STATIC(rdn, ONE, ONE);
    T_STATIC(rup, ONE, 0x3f800001);
    T_STATIC(rmm, ONE, 0x3f800001);
    T_STATIC(rne, 0xbf800000UL, 0xbf800000);
    T_STATIC(rtz, 0xbf800000UL, 0xbf800000);
    T_STATIC(rdn, 0xbf800000UL, 0xbf800001);
    T_STATIC(rup, 0xbf800000UL, 0xbf800000);
    T_STATIC(rmm, 0xbf800000UL, 0xbf800001);
    csr_write(frm, 0);
}

/* fadd.s ft2, ft0, ft1 with rm field = 5, 6 (reserved) and 7 (dyn) */
#define FADD_RM(rm) (0x00100153u | ((rm) << 12))

static void reserved_rm(void)
{
    for (unsigned rm = 5; rm <= 6; rm++) {
        trap_expect(0);
        if (rm == 5)
            asm volatile(".word %0" :: "i"(FADD_RM(5)));
        else
            asm volatile(".word %0" :: "i"(FADD_RM(6)));
        check_trap(CAUSE_ILLEGAL, FADD_RM(rm), TRAP_ANY, "fadd.s with static rm=%d is illegal", rm);
    }
    for (unsigned frm = 5; frm <= 7; frm++) {
        csr_write(frm, frm);
        check(csr_read(frm), frm, "frm=%d can be written", frm);
        trap_expect(0);
        asm volatile(".word %0" :: "i"(FADD_RM(7)));
        check_trap(CAUSE_ILLEGAL, FADD_RM(7), TRAP_ANY, "fadd.s dyn with frm=%d is illegal", frm);
        trap_expect(0);
        asm volatile("fmadd.s ft2, ft0, ft1, ft0" ::: "ft2");
        check(trap.cause, CAUSE_ILLEGAL, "fmadd.s dyn with frm=%d is illegal", frm);
        trap_expect(0);
        asm volatile("fsgnj.s ft2, ft0, ft1\n\tfmin.s ft2, ft0, ft1\n\tfeq.s t0, ft0, ft1" ::: "ft2", "t0");
        check_no_trap("no-rounding ops ignore frm=%d", frm);
    }
    csr_write(frm, 0);
}

static ulong fs(void) { return csr_read(mstatus) & MSTATUS_FS; }

/* mstatus.FS: Off makes every F instruction and fcsr access illegal (mtval =
 * the instruction); anything that writes FP state makes it Dirty and SD=1. */
#define T_FS_OFF(insn, bits) do { \
    csr_clear(mstatus, MSTATUS_FS); \
    trap_expect(0); \
    asm volatile("mv t0, %0\n\t.option push\n.option norvc\n" insn "\n.option pop" \
                 :: "r"(&fs_word) : "ft0", "t0", "memory"); \
    check_trap(CAUSE_ILLEGAL, bits, TRAP_ANY, "FS=Off: %s is illegal", insn); \
} while (0)

#define T_FS_DIRTY(from, insn) do { \
    csr_clear(mstatus, MSTATUS_FS); \
    csr_set(mstatus, from); \
    asm volatile("mv t0, %0\n\t" insn :: "r"(&fs_word) : "ft0", "t0", "memory"); \
    check(fs(), MSTATUS_FS_DIRTY, "FS %s -> Dirty after %s", #from, insn); \
    check(csr_read(mstatus) >> 63, 1, "SD set with FS=Dirty after %s", insn); \
} while (0)

static volatile uint32_t fs_word;

static void fs_state(void)
{
    /* encodings: flw ft0,0(t0); fadd.s ft0,ft0,ft0 (rne); fmv.x.w t0,ft0; frflags t0 */
    T_FS_OFF("flw ft0, 0(t0)", 0x0002a007);
    T_FS_OFF("fadd.s ft0, ft0, ft0, rne", 0x00000053);
    T_FS_OFF("fmv.x.w t0, ft0", 0xe00002d3);
    T_FS_OFF("frflags t0", 0x001022f3);
    check(fs(), 0, "FS stays Off after the traps");
    check(csr_read(mstatus) >> 63, 0, "SD clear with FS=Off");
    T_FS_DIRTY(MSTATUS_FS_INITIAL, "fmv.w.x ft0, x0");
    T_FS_DIRTY(MSTATUS_FS_CLEAN, "fadd.s ft0, ft0, ft0");
    T_FS_DIRTY(MSTATUS_FS_CLEAN, "csrwi fflags, 1");
    T_FS_DIRTY(MSTATUS_FS_CLEAN, "flw ft0, 0(t0)");
    csr_clear(mstatus, MSTATUS_FS);
    csr_set(mstatus, MSTATUS_FS_CLEAN);
    check(fs(), MSTATUS_FS_CLEAN, "FS=Clean holds while nothing writes FP state");
    check(csr_read(mstatus) >> 63, 0, "SD clear with FS=Clean");
    csr_set(mstatus, MSTATUS_FS_DIRTY);
    csr_write(fflags, 0);
}

int main(void)
{
    rt_puts("# rv64f\n");
    fp_enable();
    run_vectors(vec_s, sizeof vec_s / sizeof vec_s[0]);
    transfers();
    nanbox();
    fcsr();
    static_rm();
    reserved_rm();
    fs_state();
    test_done();
}
