/* Zicsr and the M/S-mode CSRs: the six CSR instruction forms, read-only and
 * missing CSRs, misa/mhartid/ID registers, the WARL fields of mstatus and
 * its sstatus view, mie/sie and mip/sip views through mideleg, medeleg and
 * mideleg writable bits, xtvec modes, xepc/xcause/xtval/xscratch, satp
 * mode WARL, menvcfg/senvcfg.
 * Only architecturally defined bits are checked: QEMU 7.2 also implements H,
 * V-state (VS), Sstc etc., whose extra bits these checks mask out. */
#include "insn.h"

#define MISA_EXT(c) (1UL << ((c) - 'A'))

/* Execute a CSR instruction word at run time, expecting an illegal
 * instruction trap whose mtval is the instruction. */
#define T_ILLEGAL_CSR(insn, what) do { \
    ulong w_; \
    trap_expect(0); \
    asm volatile(".option push\n.option norvc\n1: " insn "\n.option pop\n\tlw %0, 1b" : "=r"(w_) :: "t0", "memory"); \
    check_trap(CAUSE_ILLEGAL, w_ & 0xffffffffUL, TRAP_ANY, "%s is illegal, mtval = instruction", what); \
} while (0)

static void forms(void)
{
    ulong old, r;
    /* mscratch holds the runtime's trap stack: check it, then put it back */
    ulong ms = csr_swap(mscratch, 0x0123456789abcdefUL);
    check(csr_swap(mscratch, ms), 0x0123456789abcdefUL, "mscratch holds 64 bits");
    /* the six forms, on sscratch */
    csr_write(sscratch, 0x0123456789abcdefUL);
    check(csr_read(sscratch), 0x0123456789abcdefUL, "sscratch holds 64 bits");
    asm volatile("csrrw %0, sscratch, %1" : "=r"(old) : "r"(0xf0UL));
    check(old, 0x0123456789abcdefUL, "csrrw returns the old value");
    asm volatile("csrrs %0, sscratch, %1" : "=r"(old) : "r"(0x0fUL));
    check(old | csr_read(sscratch), 0xff, "csrrs sets bits");
    asm volatile("csrrc %0, sscratch, %1" : "=r"(old) : "r"(0x3cUL));
    check(csr_read(sscratch), 0xc3, "csrrc clears bits");
    asm volatile("csrrwi %0, sscratch, 0x15" : "=r"(old));
    check(old, 0xc3, "csrrwi returns old");
    check(csr_read(sscratch), 0x15, "csrrwi writes the zero-extended immediate");
    asm volatile("csrrsi %0, sscratch, 0x0a" : "=r"(old));
    check(csr_read(sscratch), 0x1f, "csrrsi sets bits");
    asm volatile("csrrci %0, sscratch, 0x11" : "=r"(old));
    check(csr_read(sscratch), 0x0e, "csrrci clears bits");
    /* rd = x0 still writes; rs1 = x0 / uimm = 0 set/clear are pure reads */
    asm volatile("csrrw x0, sscratch, %0" :: "r"(0x55UL));
    check(csr_read(sscratch), 0x55, "csrrw with rd=x0 writes");
    trap_expect(0);
    asm volatile("csrrs %0, mhartid, x0\n\tcsrrc %0, mhartid, x0\n\tcsrrsi %0, mhartid, 0\n\tcsrrci %0, mhartid, 0"
                 : "=r"(r));
    check_no_trap("csrrs/csrrc/csrrsi/csrrci with x0 or 0 on a read-only CSR are reads");
    check(r, 0, "mhartid = 0");
    T_ILLEGAL_CSR("csrw mhartid, t0", "csrw mhartid (read-only)");
    T_ILLEGAL_CSR("csrrs t0, mhartid, t0", "csrrs with rs1!=x0 on mhartid");
    T_ILLEGAL_CSR("csrrsi t0, mvendorid, 1", "csrrsi uimm!=0 on mvendorid");
    T_ILLEGAL_CSR("csrrw x0, cycle, t0", "csrw cycle (read-only shadow)");
    T_ILLEGAL_CSR("csrr t0, 0x401", "csrr of unassigned CSR 0x401");
    T_ILLEGAL_CSR("csrw 0x7d0, t0", "csrw of unassigned CSR 0x7d0");
    csr_write(sscratch, 0);
}

static void ids(void)
{
    ulong misa = csr_read(misa);
    check(misa >> 62, 2, "misa.MXL = 2 (RV64)");
    const char *ext = "IMAFDCSU";
    for (const char *e = ext; *e; e++)
        check(misa & MISA_EXT(*e), MISA_EXT(*e), "misa has %c", *e);
    check(misa & (MISA_EXT('E') | MISA_EXT('Q') | MISA_EXT('V') | MISA_EXT('N')), 0, "misa has no E, Q, V, N");
    csr_write(misa, misa & ~MISA_EXT('C'));
    check(csr_read(misa), misa, "misa is not writable (C stays on)");
    trap_expect(0);
    (void)csr_read(mvendorid);
    (void)csr_read(marchid);
    (void)csr_read(mimpid);
    (void)csr_read(0xf15);  /* mconfigptr */
    check_no_trap("mvendorid, marchid, mimpid, mconfigptr read in M");
}

static void mstatus_warl(void)
{
    ulong saved = csr_read(mstatus);
    ulong rw = MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP |
               MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR;
    check((saved & MSTATUS_SXL) >> 34, 2, "mstatus.SXL = 2");
    check((saved & MSTATUS_UXL) >> 32, 2, "mstatus.UXL = 2");
    csr_write(mstatus, rw);
    ulong m = csr_read(mstatus);
    check(m & rw, rw, "SIE MIE SPIE MPIE SPP MPP FS MPRV SUM MXR TVM TW TSR are writable");
    check(m & (MSTATUS_XS | MSTATUS_UBE | MSTATUS_SBE | MSTATUS_MBE), 0, "XS, UBE, SBE, MBE read 0");
    check(m >> 63, 1, "SD = 1 when FS = Dirty");
    csr_write(mstatus, 0);
    m = csr_read(mstatus);
    check(m & rw, 0, "the same fields clear");
    check(m >> 63, 0, "SD = 0 when FS = Off");
    check((m & MSTATUS_SXL) >> 34, 2, "SXL keeps 2 when written 0");
    for (ulong mpp = 0; mpp <= 3; mpp += 1 + (mpp == 1)) {
        csr_write(mstatus, mpp << 11);
        check((csr_read(mstatus) & MSTATUS_MPP) >> 11, mpp, "MPP holds %ld", mpp);
    }
    for (ulong fs = 0; fs <= 3; fs++) {
        csr_write(mstatus, fs << 13);
        check((csr_read(mstatus) & MSTATUS_FS) >> 13, fs, "FS holds %ld", fs);
    }

    /* sstatus is a restricted view of mstatus */
    ulong mbits = MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR;
    ulong sbits = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR;
    csr_write(mstatus, mbits);
    check(csr_read(sstatus) & mbits, 0, "sstatus hides MIE MPIE MPP MPRV TVM TW TSR");
    csr_write(sstatus, sbits);
    m = csr_read(mstatus);
    check(m & sbits, sbits, "sstatus writes SIE SPIE SPP FS SUM MXR through to mstatus");
    check(m & mbits, mbits, "sstatus writes leave the M-only fields");
    check(csr_read(sstatus) & sbits, sbits, "sstatus reads them back");
    check(csr_read(sstatus) >> 63, 1, "sstatus.SD mirrors mstatus.SD");
    csr_write(sstatus, 0);
    check(csr_read(mstatus) & mbits, mbits, "clearing sstatus leaves M-only fields");
    check(csr_read(mstatus) & sbits, 0, "clearing sstatus clears the S fields in mstatus");
    check((csr_read(sstatus) & MSTATUS_UXL) >> 32, 2, "sstatus.UXL = 2");
    csr_clear(mstatus, -1UL);
    csr_set(mstatus, MSTATUS_SIE);
    check(csr_read(sstatus) & MSTATUS_SIE, MSTATUS_SIE, "mstatus.SIE shows in sstatus");
    csr_write(mstatus, saved);
}

static void interrupt_views(void)
{
    const ulong sints = MIP_SSIP | MIP_STIP | MIP_SEIP, mints = MIP_MSIP | MIP_MTIP | MIP_MEIP;
    csr_write(mideleg, -1UL);
    check(csr_read(mideleg) & (sints | mints), sints, "mideleg: S interrupts delegable, M ones not");
    csr_write(mideleg, 0);
    check(csr_read(mideleg) & (sints | mints), 0, "mideleg clears");
    csr_write(mie, sints | mints);
    check(csr_read(mie) & (sints | mints), sints | mints, "mie has SSIE MSIE STIE MTIE SEIE MEIE");
    check(csr_read(sie), 0, "sie reads 0 with nothing delegated");
    csr_write(sie, 0);
    check(csr_read(mie) & sints, sints, "sie writes are ignored for undelegated bits");
    csr_write(mideleg, MIP_SSIP | MIP_STIP);
    check(csr_read(sie) & (sints | mints), MIP_SSIP | MIP_STIP, "sie shows the delegated bits of mie");
    csr_clear(sie, MIP_SSIP);
    check(csr_read(mie) & (sints | mints), mints | MIP_STIP | MIP_SEIP, "sie clears a delegated bit in mie");
    csr_write(mie, 0);

    csr_write(mip, MIP_SSIP | MIP_STIP | MIP_SEIP);
    check(csr_read(mip) & sints, sints, "M writes SSIP STIP SEIP in mip");
    check(csr_read(sip) & (sints | mints), MIP_SSIP | MIP_STIP, "sip shows delegated pending bits");
    csr_clear(sip, MIP_SSIP);
    check(csr_read(mip) & MIP_SSIP, 0, "sip.SSIP is writable (delegated)");
    csr_set(mip, MIP_MSIP);
    check(csr_read(mip) & MIP_MSIP, 0, "mip.MSIP is read-only (CLINT drives it)");
    csr_write(mip, 0);
    check(csr_read(mip) & sints, 0, "mip S bits clear");
    csr_write(mideleg, 0);

    csr_write(medeleg, -1UL);
    ulong d = csr_read(medeleg);
    static const int delegable[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 15 };
    for (unsigned i = 0; i < sizeof delegable / sizeof delegable[0]; i++)
        check((d >> delegable[i]) & 1, 1, "medeleg bit %d writable", delegable[i]);
    check((d >> 14) & 1, 0, "medeleg bit 14 (reserved) reads 0");
    csr_write(medeleg, 0);
    check(csr_read(medeleg), 0, "medeleg clears");
}

static void trap_csrs(void)
{
    ulong saved = csr_read(mtvec);
    csr_write(mtvec, 0x80001000UL);
    check(csr_read(mtvec), 0x80001000UL, "mtvec direct");
    csr_write(mtvec, 0x80001001UL);
    check(csr_read(mtvec), 0x80001001UL, "mtvec vectored");
    csr_write(mtvec, 0x80002002UL);
    check(csr_read(mtvec) & 3, 1, "mtvec reserved mode 2 is not stored");
    csr_write(mtvec, 0x80002003UL);
    check(csr_read(mtvec) & 3, 1, "mtvec reserved mode 3 is not stored");
    csr_write(mtvec, saved);
    csr_write(stvec, 0x80003000UL);
    check(csr_read(stvec), 0x80003000UL, "stvec direct");
    csr_write(stvec, 0x80003001UL);
    check(csr_read(stvec), 0x80003001UL, "stvec vectored");
    csr_write(stvec, 0x80003002UL);
    check(csr_read(stvec) & 3, 1, "stvec reserved mode 2 is not stored");

    csr_write(mepc, 0x80004002UL);
    check(csr_read(mepc), 0x80004002UL, "mepc holds a 2-byte aligned address (IALIGN=16)");
    csr_write(sepc, 0xffffffffc0000006UL);
    check(csr_read(sepc), 0xffffffffc0000006UL, "sepc holds 64 bits");
    csr_write(mcause, 0x800000000000000bUL);
    check(csr_read(mcause), 0x800000000000000bUL, "mcause holds interrupt bit and code");
    csr_write(scause, 13);
    check(csr_read(scause), 13, "scause");
    csr_write(mtval, -1UL);
    check(csr_read(mtval), -1UL, "mtval holds 64 bits");
    csr_write(stval, 0x1234);
    check(csr_read(stval), 0x1234, "stval");
    csr_write(sscratch, 0xfedcba9876543210UL);
    check(csr_read(sscratch), 0xfedcba9876543210UL, "sscratch holds 64 bits");
}

static void satp_envcfg(void)
{
    const ulong sv39 = 8UL << 60, sv48 = 9UL << 60;
    csr_write(satp, sv39 | (0x5aUL << 44) | 0x80123);
    check(csr_read(satp), sv39 | (0x5aUL << 44) | 0x80123, "satp Sv39 with ASID and PPN");
    csr_write(satp, sv48 | 0x80123);
    check(csr_read(satp), sv48 | 0x80123, "satp Sv48");
    csr_write(satp, (3UL << 60) | 0x1);
    check(csr_read(satp), sv48 | 0x80123, "satp write with reserved MODE 3 has no effect");
    csr_write(satp, 0);
    check(csr_read(satp), 0, "satp Bare");
    csr_write(menvcfg, 0);
    check(csr_read(menvcfg), 0, "menvcfg clears");
    csr_write(menvcfg, 1);
    check(csr_read(menvcfg) & 1, 1, "menvcfg.FIOM writable");
    csr_write(menvcfg, 0);
    csr_write(senvcfg, 0);
    check(csr_read(senvcfg), 0, "senvcfg clears");
}

int main(void)
{
    rt_puts("# csr\n");
    forms();
    ids();
    mstatus_warl();
    interrupt_views();
    trap_csrs();
    satp_envcfg();
    test_done();
}
