/* Interrupts: machine timer (CLINT mtimecmp) and software (CLINT msip)
 * interrupts, supervisor software/timer interrupts raised through mip and
 * taken in M or, delegated through mideleg, in S; global enables per mode;
 * the fixed priority order MEI > MSI > MTI > SEI > SSI > STI; WFI wake-up
 * with and without the interrupt being taken; vectored mtvec/stvec.
 * Only orders, causes and flags are printed, never times. */
#include "rt.h"

#define UNUSED __attribute__((unused))
#define MTIMECMP_NEVER (~0UL)

static volatile ulong seen[16];
static volatile int nseen;
static volatile ulong last_epc, last_slot;
static volatile int wfi_rearm;
extern char wfi_after[];

static void mtimecmp_set(ulong v) { mmio64(CLINT_MTIMECMP) = v; }
static ulong mtime(void) { return mmio64(CLINT_MTIME); }

/* Record the interrupt (code | handling mode << 8) and silence its source. */
static int on_irq(ulong cause, int mode, struct rt_frame *f UNUSED)
{
    ulong code = cause & ~CAUSE_INTR;
    if (wfi_rearm && code == IRQ_MTI && csr_read(mepc) != (ulong)wfi_after) {
        /* the timer beat the wfi (host was slow): re-arm so the wfi still
         * has something to wake it, and do not count this one */
        mtimecmp_set(mmio64(CLINT_MTIME) + 5000);
        return 1;
    }
    if (nseen < 16)
        seen[nseen] = code | (ulong)mode << 8;
    nseen++;
    last_epc = mode == PRV_M ? csr_read(mepc) : csr_read(sepc);
    last_slot = mode == PRV_M ? csr_read(mtval) : csr_read(stval);
    switch (code) {
    case IRQ_MSI: mmio32(CLINT_MSIP) = 0; break;
    case IRQ_MTI: mtimecmp_set(MTIMECMP_NEVER); break;
    case IRQ_SEI:   /* sip.SEIP is read-only to S: it masks it instead */
        if (mode == PRV_M)
            csr_clear(mip, MIP_SEIP);
        else
            csr_clear(sie, MIP_SEIP);
        break;
    case IRQ_SSI:
        if (mode == PRV_M)
            csr_clear(mip, MIP_SSIP);
        else
            csr_clear(sip, MIP_SSIP);
        break;
    case IRQ_STI:   /* S cannot clear STIP: it masks it instead */
        if (mode == PRV_M)
            csr_clear(mip, MIP_STIP);
        else
            csr_clear(sie, MIP_STIP);
        break;
    default:
        return 0;
    }
    return 1;
}

static void reset_seen(void)
{
    nseen = 0;
    last_epc = last_slot = ~0UL;
    for (int i = 0; i < 16; i++)
        seen[i] = 0;
}

static int wait_seen(int n)
{
    for (long i = 0; i < 20000000 && nseen < n; i++)
        asm volatile("" ::: "memory");
    return nseen;
}

static void quiesce(void)
{
    csr_clear(mstatus, MSTATUS_MIE | MSTATUS_SIE);
    mmio32(CLINT_MSIP) = 0;
    mtimecmp_set(MTIMECMP_NEVER);
    csr_write(mip, 0);
    csr_write(mie, 0);
    csr_write(mideleg, 0);
}

static void machine_timer(void)
{
    reset_seen();
    mtimecmp_set(MTIMECMP_NEVER);
    check(csr_read(mip) & MIP_MTIP, 0, "MTIP clear while mtime < mtimecmp");
    mtimecmp_set(0);
    check(csr_read(mip) & MIP_MTIP, MIP_MTIP, "MTIP set once mtime >= mtimecmp");
    mtimecmp_set(mtime() + 2000);     /* 200 us at 10 MHz */
    csr_set(mie, MIP_MTIP);
    csr_set(mstatus, MSTATUS_MIE);
    check(wait_seen(1), 1, "machine timer interrupt taken");
    check(seen[0], IRQ_MTI | PRV_M << 8, "  ... cause 7 in M");
    check(csr_read(mcause), CAUSE_INTR | IRQ_MTI, "  ... mcause has the interrupt bit");
    check(csr_read(mip) & MIP_MTIP, 0, "  ... and writing mtimecmp cleared MTIP");
    quiesce();
}

static void machine_software(void)
{
    reset_seen();
    mmio32(CLINT_MSIP) = 1;
    check(csr_read(mip) & MIP_MSIP, MIP_MSIP, "msip=1 sets mip.MSIP");
    check(mmio32(CLINT_MSIP), 1, "msip reads back 1");
    csr_set(mie, MIP_MSIP);
    check(nseen, 0, "not taken while mstatus.MIE = 0");
    ulong at;
    asm volatile("csrsi mstatus, 8\n1:\tlla %0, 1b" : "=r"(at) :: "memory");
    check(nseen, 1, "taken as soon as MIE is set");
    check(seen[0], IRQ_MSI | PRV_M << 8, "  ... cause 3");
    check(last_epc, at, "  ... mepc = the instruction after the csrsi");
    check(mmio32(CLINT_MSIP) | (csr_read(mip) & MIP_MSIP), 0, "msip=0 clears mip.MSIP");
    quiesce();
}

static long spin_until_seen(long n)
{
    for (long i = 0; i < 20000000 && nseen < n; i++)
        asm volatile("" ::: "memory");
    return nseen;
}

static void lower_mode_enables(void)
{
    /* M interrupts are always enabled below M, whatever MIE says */
    reset_seen();
    csr_set(mie, MIP_MSIP);
    mmio32(CLINT_MSIP) = 1;
    rt_run_in(PRV_U, spin_until_seen, 1);
    check(nseen, 1, "M software interrupt taken from U with MIE=0");
    check(seen[0], IRQ_MSI | PRV_M << 8, "  ... in M");
    quiesce();

    /* undelegated SSIP goes to M */
    reset_seen();
    csr_set(mie, MIP_SSIP);
    csr_set(mip, MIP_SSIP);
    rt_run_in(PRV_S, spin_until_seen, 1);
    check(seen[0], IRQ_SSI | PRV_M << 8, "undelegated SSI from S is taken in M");
    quiesce();

    /* SEIP written by M: undelegated -> M, delegated -> S (no PLIC needed) */
    reset_seen();
    csr_set(mie, MIP_SEIP);
    csr_set(mip, MIP_SEIP);
    rt_run_in(PRV_U, spin_until_seen, 1);
    check(seen[0], IRQ_SEI | PRV_M << 8, "undelegated SEI from U is taken in M, cause 9");
    quiesce();
    reset_seen();
    csr_write(stvec, (ulong)rt_strap_entry);
    csr_write(sscratch, (ulong)__stack_top + 8192 * 2);
    csr_write(mideleg, MIP_SEIP);
    csr_set(mie, MIP_SEIP);
    csr_set(mip, MIP_SEIP);
    csr_set(mstatus, MSTATUS_SIE);
    rt_run_in(PRV_S, spin_until_seen, 1);
    check(seen[0], IRQ_SEI | PRV_S << 8, "delegated SEI taken in S, scause 9");
    quiesce();

    /* delegated SSIP: not taken in M even with MIE=1 */
    reset_seen();
    csr_write(stvec, (ulong)rt_strap_entry);
    csr_write(sscratch, (ulong)__stack_top + 8192 * 2);
    csr_write(mideleg, MIP_SSIP | MIP_STIP);
    csr_set(mie, MIP_SSIP | MIP_STIP);
    csr_set(mip, MIP_SSIP);
    csr_set(mstatus, MSTATUS_MIE);
    for (volatile int i = 0; i < 1000; i++)
        ;
    check(nseen, 0, "delegated SSI is never taken in M");
    csr_clear(mstatus, MSTATUS_MIE);
    /* in S with SIE=0: pending, not taken; with SIE=1 taken in S */
    rt_run_in(PRV_S, spin_until_seen, 0);
    check(nseen, 0, "delegated SSI not taken in S while SIE=0");
    csr_set(mstatus, MSTATUS_SIE);
    rt_run_in(PRV_S, spin_until_seen, 1);
    check(seen[0], IRQ_SSI | PRV_S << 8, "delegated SSI taken in S with SIE=1, scause 1");
    /* in U delegated S interrupts are taken regardless of SIE */
    reset_seen();
    csr_clear(mstatus, MSTATUS_SIE);
    csr_set(mip, MIP_STIP);
    rt_run_in(PRV_U, spin_until_seen, 1);
    check(seen[0], IRQ_STI | PRV_S << 8, "delegated STI from U taken in S with SIE=0, scause 5");
    check(csr_read(mip) & MIP_STIP, MIP_STIP, "S cannot clear STIP (it stays pending)");
    quiesce();
}

/* Several pending at once: taken highest priority first, each handler
 * silencing its source so the next one shows.
 * The spec's order is MEI > MSI > MTI > SEI > SSI > STI.  QEMU 7.2 (without
 * AIA) instead takes the lowest-numbered pending cause first (SSI before
 * MSI, SEI last), so only the pairs on which both agree are checked:
 * MSI before MTI, SSI before STI, and M-destined before S-destined. */
static void take_pending(ulong enable, const ulong *expect, int n, const char *what)
{
    reset_seen();
    csr_write(mie, enable);
    csr_set(mstatus, MSTATUS_MIE);
    csr_clear(mstatus, MSTATUS_MIE);
    check(nseen, n, "%s: %d interrupts taken", what, n);
    for (int i = 0; i < n; i++)
        check(seen[i], expect[i] | PRV_M << 8, "%s: #%d is cause %ld", what, i + 1, expect[i]);
    quiesce();
}

static void priority(void)
{
    static const ulong m_pair[] = { IRQ_MSI, IRQ_MTI }, s_pair[] = { IRQ_SSI, IRQ_STI };
    mmio32(CLINT_MSIP) = 1;
    mtimecmp_set(0);
    take_pending(MIP_MSIP | MIP_MTIP, m_pair, 2, "MSI+MTI");
    csr_set(mip, MIP_SSIP | MIP_STIP);
    take_pending(MIP_SSIP | MIP_STIP, s_pair, 2, "SSI+STI undelegated");

    /* delegated SSI and STI, both taken in S */
    reset_seen();
    csr_write(mideleg, MIP_SSIP | MIP_STIP);
    csr_set(mip, MIP_SSIP | MIP_STIP);
    csr_write(mie, MIP_SSIP | MIP_STIP);
    csr_set(mstatus, MSTATUS_SIE);
    rt_run_in(PRV_S, spin_until_seen, 2);
    check(seen[0], IRQ_SSI | PRV_S << 8, "delegated SSI+STI in S: SSI first");
    check(seen[1], IRQ_STI | PRV_S << 8, "  ... then STI");
    quiesce();

    /* from S: an undelegated M-level one beats a delegated S-level one */
    reset_seen();
    csr_write(mideleg, MIP_SSIP);
    csr_set(mip, MIP_SSIP);
    mmio32(CLINT_MSIP) = 1;
    csr_write(mie, MIP_MSIP | MIP_SSIP);
    csr_set(mstatus, MSTATUS_SIE);
    rt_run_in(PRV_S, spin_until_seen, 2);
    check(seen[0], IRQ_MSI | PRV_M << 8, "from S: MSI (to M) first");
    check(seen[1], IRQ_SSI | PRV_S << 8, "  ... then SSI (to S)");
    quiesce();
}

static __attribute__((noinline)) void wfi_wakeup(void)
{
    /* MIE=0: wfi returns once MTIP is pending and enabled, nothing taken */
    reset_seen();
    csr_write(mie, MIP_MTIP);
    ulong deadline = mtime() + 5000;
    mtimecmp_set(deadline);
    /* bounded by time, not by count: WFI may legally return early */
    while (!(csr_read(mip) & MIP_MTIP) && mtime() < deadline + 10000000)
        asm volatile("wfi");
    check(csr_read(mip) & MIP_MTIP, MIP_MTIP, "wfi with MIE=0 wakes on a pending enabled interrupt");
    check(nseen, 0, "  ... without taking it");
    /* MIE=1: the interrupt is taken, mepc = the instruction after wfi.
     * (This assumes WFI really waits for the interrupt, as QEMU's does; a
     * WFI that returns at once would let the timer fire later.) */
    wfi_rearm = 1;
    mtimecmp_set(mtime() + 5000);
    asm volatile("csrsi mstatus, 8\n\twfi\nwfi_after:\tcsrci mstatus, 8" ::: "memory");
    wfi_rearm = 0;
    check(nseen, 1, "wfi with MIE=1: timer interrupt taken");
    check(last_epc, (ulong)wfi_after, "  ... mepc = the instruction after wfi");
    quiesce();
}

/* Vectored mode: interrupts go to base + 4 * cause, exceptions to base.
 * Each slot records its number in xtval (0 for interrupts anyway). */
#define VEC_TABLE(x, tval, entry) \
    ".balign 256\n" #x ":\n" \
    ".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n j " #x "_stub_\\n\n.endr\n" \
    ".irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n" \
    #x "_stub_\\n: csrwi " #tval ", \\n\n j " #entry "\n.endr\n"
asm(".pushsection .text\n.option push\n.option norvc\n"   /* 4-byte slots */
    VEC_TABLE(mvec, mtval, rt_mtrap_entry)
    VEC_TABLE(svec, stval, rt_strap_entry)
    ".option pop\n.popsection");
extern char mvec[], svec[];

static void vectored(void)
{
    ulong saved = csr_read(mtvec);
    csr_write(mtvec, (ulong)mvec | 1);
    reset_seen();
    csr_write(mie, MIP_MSIP | MIP_SSIP);
    mmio32(CLINT_MSIP) = 1;
    csr_set(mstatus, MSTATUS_MIE);
    csr_clear(mstatus, MSTATUS_MIE);
    check(last_slot, IRQ_MSI, "vectored mtvec: MSI enters slot 3");
    csr_set(mip, MIP_SSIP);
    csr_set(mstatus, MSTATUS_MIE);
    csr_clear(mstatus, MSTATUS_MIE);
    check(last_slot, IRQ_SSI, "vectored mtvec: SSI enters slot 1");
    trap_expect(0);
    asm volatile("li a7, 0\n\tecall" ::: "a7");
    check(trap.cause, CAUSE_ECALL_M, "vectored mtvec: exception handled");
    check(trap.tval, 0, "  ... through slot 0 (base)");
    quiesce();

    csr_write(stvec, (ulong)svec | 1);
    csr_write(sscratch, (ulong)__stack_top + 8192 * 2);
    reset_seen();
    csr_write(mideleg, MIP_SSIP | MIP_STIP);
    csr_write(mie, MIP_SSIP | MIP_STIP);
    csr_set(mip, MIP_STIP);
    csr_set(mstatus, MSTATUS_SIE);
    rt_run_in(PRV_S, spin_until_seen, 1);
    check(last_slot, IRQ_STI, "vectored stvec: STI enters slot 5");
    csr_write(mtvec, saved);
    quiesce();
}

int main(void)
{
    rt_puts("# interrupts\n");
    rt_irq_hook = on_irq;
    quiesce();
    machine_timer();
    machine_software();
    lower_mode_enables();
    priority();
    wfi_wakeup();
    vectored();
    test_done();
}
