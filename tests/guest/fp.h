/* F/D test plumbing shared by rv64f.c and rv64d.c: one runner per
 * instruction, all with dynamic rounding (frm is set from the vector).
 * FP operands are loaded with fmv.d.x and results read with fmv.x.d, so the
 * full 64-bit register (NaN-boxing of single results) is checked too. */
#ifndef FP_H
#define FP_H
#include "rt.h"

/* X(name, mnemonic, kind)  kinds: FFF fd=op(fs1,fs2)  FF fd=op(fs1)
 * F4 fd=op(fs1,fs2,fs3)  XFF rd=op(fs1,fs2)  XF rd=op(fs1)  FX fd=op(rs1) */
#define FP_OPS(X) \
    X(fadd_s, "fadd.s", FFF) X(fsub_s, "fsub.s", FFF) X(fmul_s, "fmul.s", FFF) \
    X(fdiv_s, "fdiv.s", FFF) X(fsqrt_s, "fsqrt.s", FF) X(fmin_s, "fmin.s", FFF) \
    X(fmax_s, "fmax.s", FFF) X(fsgnj_s, "fsgnj.s", FFF) X(fsgnjn_s, "fsgnjn.s", FFF) \
    X(fsgnjx_s, "fsgnjx.s", FFF) X(fmadd_s, "fmadd.s", F4) X(fmsub_s, "fmsub.s", F4) \
    X(fnmsub_s, "fnmsub.s", F4) X(fnmadd_s, "fnmadd.s", F4) X(feq_s, "feq.s", XFF) \
    X(flt_s, "flt.s", XFF) X(fle_s, "fle.s", XFF) X(fclass_s, "fclass.s", XF) \
    X(fcvt_w_s, "fcvt.w.s", XF) X(fcvt_wu_s, "fcvt.wu.s", XF) X(fcvt_l_s, "fcvt.l.s", XF) \
    X(fcvt_lu_s, "fcvt.lu.s", XF) X(fcvt_s_w, "fcvt.s.w", FX) X(fcvt_s_wu, "fcvt.s.wu", FX) \
    X(fcvt_s_l, "fcvt.s.l", FX) X(fcvt_s_lu, "fcvt.s.lu", FX) \
    X(fadd_d, "fadd.d", FFF) X(fsub_d, "fsub.d", FFF) X(fmul_d, "fmul.d", FFF) \
    X(fdiv_d, "fdiv.d", FFF) X(fsqrt_d, "fsqrt.d", FF) X(fmin_d, "fmin.d", FFF) \
    X(fmax_d, "fmax.d", FFF) X(fsgnj_d, "fsgnj.d", FFF) X(fsgnjn_d, "fsgnjn.d", FFF) \
    X(fsgnjx_d, "fsgnjx.d", FFF) X(fmadd_d, "fmadd.d", F4) X(fmsub_d, "fmsub.d", F4) \
    X(fnmsub_d, "fnmsub.d", F4) X(fnmadd_d, "fnmadd.d", F4) X(feq_d, "feq.d", XFF) \
    X(flt_d, "flt.d", XFF) X(fle_d, "fle.d", XFF) X(fclass_d, "fclass.d", XF) \
    X(fcvt_w_d, "fcvt.w.d", XF) X(fcvt_wu_d, "fcvt.wu.d", XF) X(fcvt_l_d, "fcvt.l.d", XF) \
    X(fcvt_lu_d, "fcvt.lu.d", XF) X(fcvt_d_w, "fcvt.d.w", FX) X(fcvt_d_wu, "fcvt.d.wu", FX) \
    X(fcvt_d_l, "fcvt.d.l", FX) X(fcvt_d_lu, "fcvt.d.lu", FX) \
    X(fcvt_s_d, "fcvt.s.d", FF) X(fcvt_d_s, "fcvt.d.s", FF)

#define FP_ENUM(n, m, k) OP_##n,
enum fp_op { FP_OPS(FP_ENUM) OP_COUNT };

struct fvec {
    enum fp_op op;
    unsigned rm;
    ulong a, b, c, exp;
    unsigned flags;
    const char *name;
};

#define LOAD3 "fmv.d.x ft0, %1\n\tfmv.d.x ft1, %2\n\tfmv.d.x ft2, %3\n\t"
#define ASM_FFF(m) LOAD3 m " ft3, ft0, ft1\n\tfmv.x.d %0, ft3"
#define ASM_FF(m)  LOAD3 m " ft3, ft0\n\tfmv.x.d %0, ft3"
#define ASM_F4(m)  LOAD3 m " ft3, ft0, ft1, ft2\n\tfmv.x.d %0, ft3"
#define ASM_XFF(m) LOAD3 m " %0, ft0, ft1"
#define ASM_XF(m)  LOAD3 m " %0, ft0"
#define ASM_FX(m)  m " ft3, %1\n\tfmv.x.d %0, ft3"

#define FP_RUNNER(n, m, k) \
    static ulong run_##n(ulong a, ulong b, ulong c) { \
        ulong r; \
        asm volatile(ASM_##k(m) : "=r"(r) : "r"(a), "r"(b), "r"(c) : "ft0", "ft1", "ft2", "ft3"); \
        return r; \
    }
FP_OPS(FP_RUNNER)

#define FP_TABLE(n, m, k) run_##n,
static ulong (*const fp_run[OP_COUNT])(ulong, ulong, ulong) = { FP_OPS(FP_TABLE) };

static const char *const rm_name[8] = { "rne", "rtz", "rdn", "rup", "rmm", "rm5", "rm6", "dyn" };

/* Check result bits and accrued flags of one operation in one line. */
static inline int fcheck(ulong got, ulong gotfl, ulong exp, ulong expfl, const char *name)
{
    int pass = got == exp && gotfl == expfl;
    if (!rt_report(pass, "%s", name))
        rt_printf(": got 0x%lx fflags 0x%lx expected 0x%lx fflags 0x%lx", got, gotfl, exp, expfl);
    rt_putc('\n');
    return pass;
}

static inline void run_vectors(const struct fvec *v, int n)
{
    for (int i = 0; i < n; i++) {
        csr_write(frm, v[i].rm);
        csr_write(fflags, 0);
        ulong r = fp_run[v[i].op](v[i].a, v[i].b, v[i].c);
        ulong fl = csr_read(fflags);
        fcheck(r, fl, v[i].exp, v[i].flags, v[i].name);
    }
}

/* Enable the FPU (mstatus.FS = Initial); the runtime already does this. */
static inline void fp_enable(void)
{
    csr_set(mstatus, MSTATUS_FS_INITIAL);
}

#endif
