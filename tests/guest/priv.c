/* Privilege transitions, both directions: M->S->U through mret/sret (and
 * sret from M), U/S->M through ecall and traps, U->S and S->S through
 * medeleg, the xPP/xPIE/xIE bookkeeping of traps and xRET, M-mode traps
 * never delegated down, and the instructions gated by mode and by
 * TSR/TW/TVM. */
#include "insn.h"

#define UNUSED __attribute__((unused))

/* lower-mode bodies; each runs under rt_run_in() */
/* Returns the address of the ecall it executed, for mepc checks. */
static long ecall_at(long unused UNUSED)
{
    ulong at;
    asm volatile("1: ecall\n\tlla %0, 1b" : "=r"(at) :: "a7", "memory");
    return at;
}

static long read_mode_csr(long which)
{
    ulong v = 0;
    switch (which) {
    case 0: asm volatile("csrr %0, sstatus" : "=r"(v)); break;
    case 1: asm volatile("csrr %0, mstatus" : "=r"(v)); break;
    case 2: asm volatile("csrr %0, satp" : "=r"(v)); break;
    case 3: asm volatile("sfence.vma" ::: "memory"); break;
    case 4: asm volatile("wfi"); break;
    case 5: asm volatile("mret"); break;
    case 6: /* sret back to S with SPIE=0, so SIE stays 0 */
        asm volatile("lla t0, 1f\n\tcsrw sepc, t0\n\tli t0, %0\n\tcsrs sstatus, t0\n\tli t0, %1\n\tcsrc sstatus, t0\n\tsret\n1:"
                     :: "i"(MSTATUS_SPP), "i"(MSTATUS_SPIE) : "t0");
        break;
    case 7: asm volatile("sret"); break;
    }
    return v;
}

static void ecalls(void)
{
    ulong at;
    trap_expect(0);
    asm volatile("li a7, 0\n1: ecall\n\tlla %0, 1b" : "=r"(at) :: "a7");
    check_trap(CAUSE_ECALL_M, 0, at, "ecall from M: cause 11, mepc = ecall, mtval = 0");
    check(trap.prev, PRV_M, "ecall from M: MPP = M");

    trap_expect(0);
    at = rt_run_in(PRV_S, ecall_at, 0);
    check_trap(CAUSE_ECALL_S, 0, at, "ecall from S: cause 9");
    check(trap.prev, PRV_S, "ecall from S: MPP = S");

    trap_expect(0);
    at = rt_run_in(PRV_U, ecall_at, 0);
    check_trap(CAUSE_ECALL_U, 0, at, "ecall from U: cause 8");
    check(trap.prev, PRV_U, "ecall from U: MPP = U");
}

static long m_sret_to_s(long unused UNUSED)
{
    asm volatile("li t0, %0\n\tcsrs mstatus, t0\n\tlla t0, 1f\n\tcsrw sepc, t0\n\tsret\n"
                 "1:\tli a7, 0\n\tecall" :: "i"(MSTATUS_SPP) : "t0", "a7", "memory");
    return 0;
}

/* mret/sret bookkeeping, observed from M after the next trap. */
static void xret_state(void)
{
    ulong st;
    /* mret to M: MIE <- MPIE, MPIE <- 1, MPP <- U (least privileged) */
    csr_clear(mstatus, MSTATUS_MIE | MSTATUS_MPIE);
    csr_set(mstatus, MSTATUS_MPP);
    asm volatile("lla t0, 1f\n\tcsrw mepc, t0\n\tmret\n1:\tcsrr %0, mstatus" : "=r"(st) :: "t0");
    check(st & MSTATUS_MPP, 0, "mret sets MPP = U");
    check(st & (MSTATUS_MPIE | MSTATUS_MIE), MSTATUS_MPIE, "mret: MIE = old MPIE (0), MPIE = 1");

    /* mret to S with MPIE=1: S runs with MIE=1 (seen as MPIE at the next trap) */
    csr_set(mstatus, MSTATUS_MPIE);
    trap_expect(0);
    rt_run_in(PRV_S, ecall_at, 0);
    check(trap.status & (MSTATUS_MPIE | MSTATUS_MIE), MSTATUS_MPIE, "trap from S: MPIE = MIE set by mret, MIE = 0");

    /* (Priv 1.12: an xRET to a mode below M also clears MPRV.  QEMU 7.2 does
     * not, so that rule is not checked here.) */

    /* sret executed in M drops to SPP's mode (run as an M-mode body so the
     * S code that follows can return through rt_run_in) */
    trap_expect(0);
    rt_run_in(PRV_M, m_sret_to_s, 0);
    check(trap.cause, CAUSE_ECALL_S, "sret from M with SPP=S lands in S");
    check(trap.status & MSTATUS_SPP, 0, "sret sets SPP = U");
}

/* sret inside S: SIE <- SPIE, SPIE <- 1, SPP <- U; S reads sstatus itself. */
static long s_sret_to_s(long spie)
{
    ulong st;
    asm volatile("csrci sstatus, 2\n\t"
                 "li t0, %2\n\tcsrc sstatus, t0\n\tbeqz %1, 2f\n\tcsrs sstatus, t0\n2:\t"
                 "li t0, %3\n\tcsrs sstatus, t0\n\t"
                 "lla t0, 1f\n\tcsrw sepc, t0\n\tsret\n1:\tcsrr %0, sstatus\n\tcsrci sstatus, 2"
                 : "=r"(st) : "r"(spie), "i"(MSTATUS_SPIE), "i"(MSTATUS_SPP) : "t0");
    return st;
}

static long s_sret_to_u(long unused UNUSED)
{
    /* SPP = U; U does ecall (cause 8 to M) */
    asm volatile("li t0, %0\n\tcsrc sstatus, t0\n\tlla t0, 1f\n\tcsrw sepc, t0\n\tsret\n"
                 "1:\tli a7, 0\n\tecall" :: "i"(MSTATUS_SPP) : "t0", "a7", "memory");
    return 0;
}

static void sret_state(void)
{
    ulong st = rt_run_in(PRV_S, s_sret_to_s, 1);
    check(st & (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP), MSTATUS_SIE | MSTATUS_SPIE,
          "sret: SIE = SPIE (1), SPIE = 1, SPP = U");
    st = rt_run_in(PRV_S, s_sret_to_s, 0);
    check(st & (MSTATUS_SIE | MSTATUS_SPIE), MSTATUS_SPIE, "sret: SIE = SPIE (0)");
    trap_expect(0);
    rt_run_in(PRV_S, s_sret_to_u, 0);
    check(trap.cause, CAUSE_ECALL_U, "S -> U through sret");
    check(trap.prev, PRV_U, "trap from that U: MPP = U");
}

static long s_set_sie_and_ecall(long unused UNUSED)
{
    asm volatile("csrsi sstatus, 2\n\tli a7, 0\n\tecall" ::: "a7", "memory");
    return 0;
}

static long illegal_word(long unused UNUSED)
{
    asm volatile(".word 0xffffffff");
    return 0;
}

static void delegation(void)
{
    csr_write(stvec, (ulong)rt_strap_entry);
    csr_write(sscratch, (ulong)__stack_top + 8192 * 2);     /* S trap stack (see link.ld) */

    csr_write(medeleg, 1UL << CAUSE_ECALL_U);
    trap_expect(0);
    ulong at = rt_run_in(PRV_U, ecall_at, 0);
    check_trap(CAUSE_ECALL_U, 0, at, "delegated ecall from U goes to S: scause 8, sepc");
    check(trap.mode, PRV_S, "  ... handled in S");
    check(trap.prev, PRV_U, "  ... sstatus.SPP = U");

    csr_write(medeleg, 1UL << CAUSE_ECALL_S);
    trap_expect(0);
    rt_run_in(PRV_S, s_set_sie_and_ecall, 0);
    check(trap.mode, PRV_S, "delegated ecall from S is handled in S");
    check(trap.cause, CAUSE_ECALL_S, "  ... scause 9");
    check(trap.prev, PRV_S, "  ... sstatus.SPP = S");
    check(trap.status & (MSTATUS_SIE | MSTATUS_SPIE), MSTATUS_SPIE, "  ... SPIE = old SIE (1), SIE = 0");

    csr_write(medeleg, 1UL << CAUSE_ILLEGAL);
    trap_expect(0);
    rt_run_in(PRV_U, illegal_word, 0);
    check_trap(CAUSE_ILLEGAL, 0xffffffffUL, TRAP_ANY, "delegated illegal instruction from U: stval = instruction");
    check(trap.mode, PRV_S, "  ... handled in S");

    /* traps never go to a less privileged mode: M-mode causes stay in M */
    csr_write(medeleg, (1UL << CAUSE_ILLEGAL) | (1UL << CAUSE_ECALL_M) | (1UL << CAUSE_BREAKPOINT));
    trap_expect(0);
    asm volatile(".word 0xffffffff");
    check(trap.mode, PRV_M, "illegal instruction in M with medeleg bit set stays in M");
    trap_expect(0);
    asm volatile("li a7, 0\n\tecall" ::: "a7");
    check(trap.mode, PRV_M, "ecall in M with medeleg bit 11 set stays in M");
    trap_expect(0);
    asm volatile("ebreak");
    check(trap.mode, PRV_M, "ebreak in M with medeleg bit 3 set stays in M");
    /* an undelegated cause from U goes to M even with others delegated */
    trap_expect(0);
    rt_run_in(PRV_U, ecall_at, 0);
    check(trap.mode, PRV_M, "undelegated ecall from U goes to M");
    csr_write(medeleg, 0);
}

/* Mode-gated instructions and CSRs, and the TSR/TW/TVM traps. */
#define T_GATED(mode, which, status, illegal, what) do { \
    csr_clear(mstatus, MSTATUS_TSR | MSTATUS_TW | MSTATUS_TVM); \
    csr_set(mstatus, status); \
    csr_write(mip, (mode) == PRV_S && (which) == 4 ? MIP_SSIP : 0); \
    trap_expect(0); \
    rt_run_in(mode, read_mode_csr, which); \
    if (illegal) \
        check(trap.count == 1 && trap.cause == CAUSE_ILLEGAL ? 1 : trap.cause, 1, what " is illegal"); \
    else \
        check_no_trap(what " is allowed"); \
} while (0)

static void gated(void)
{
    /* An S-mode WFI must wake at once: SSIP is made pending (only then) and
     * enabled in mie but delegated with SIE=0, so no trap is taken in S.
     * (In U it would be taken: delegated S interrupts are always on in U.) */
    csr_write(mideleg, MIP_SSIP);
    csr_write(mie, MIP_SSIP);
    csr_write(satp, 0);

    T_GATED(PRV_U, 0, 0, 1, "U: csrr sstatus");
    T_GATED(PRV_S, 0, 0, 0, "S: csrr sstatus");
    T_GATED(PRV_S, 1, 0, 1, "S: csrr mstatus");
    T_GATED(PRV_S, 2, 0, 0, "S: csrr satp with TVM=0");
    T_GATED(PRV_S, 2, MSTATUS_TVM, 1, "S: csrr satp with TVM=1");
    T_GATED(PRV_S, 3, 0, 0, "S: sfence.vma with TVM=0");
    T_GATED(PRV_S, 3, MSTATUS_TVM, 1, "S: sfence.vma with TVM=1");
    T_GATED(PRV_U, 3, 0, 1, "U: sfence.vma");
    T_GATED(PRV_S, 4, 0, 0, "S: wfi with TW=0");
    T_GATED(PRV_S, 4, MSTATUS_TW, 1, "S: wfi with TW=1");
    T_GATED(PRV_U, 4, 0, 1, "U: wfi");
    T_GATED(PRV_S, 5, 0, 1, "S: mret");
    T_GATED(PRV_U, 5, 0, 1, "U: mret");
    T_GATED(PRV_S, 6, 0, 0, "S: sret with TSR=0");
    T_GATED(PRV_S, 6, MSTATUS_TSR, 1, "S: sret with TSR=1");
    T_GATED(PRV_U, 7, 0, 1, "U: sret");

    /* the trap bits do not apply to M */
    csr_set(mstatus, MSTATUS_TSR | MSTATUS_TW | MSTATUS_TVM);
    csr_write(mip, MIP_SSIP);
    trap_expect(0);
    (void)csr_read(satp);
    asm volatile("sfence.vma\n\twfi" ::: "memory");
    check_no_trap("M: satp, sfence.vma, wfi with TVM=TW=1");
    csr_clear(mstatus, MSTATUS_TSR | MSTATUS_TW | MSTATUS_TVM);
    csr_write(mip, 0);
    csr_write(mie, 0);
    csr_write(mideleg, 0);
}

int main(void)
{
    rt_puts("# priv\n");
    ecalls();
    xret_state();
    sret_state();
    delegation();
    gated();
    test_done();
}
