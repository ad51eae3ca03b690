/* RV64A: LR/SC reservation rules and every AMO in W and D width (with the
 * aq/rl bits accepted), plus the misaligned-address exceptions that A
 * instructions raise even though plain misaligned loads/stores complete. */
#include "insn.h"

static volatile uint64_t cell[4] __attribute__((aligned(16)));

/* amo<op>.w: rd gets the old word sign-extended, the word above is untouched */
#define T_AMOW(op, init, src, expmem) do { \
    ulong r_; \
    cell[0] = 0x1122334400000000UL | (uint32_t)(init); \
    asm volatile(#op " %0, %2, (%1)" : "=r"(r_) : "r"(&cell[0]), "r"((ulong)(src)) : "memory"); \
    check(r_, (ulong)(long)(int32_t)(init), #op " rd, " #src " on " #init); \
    check(cell[0], 0x1122334400000000UL | (uint32_t)(expmem), #op " memory"); \
} while (0)

#define T_AMOD(op, init, src, expmem) do { \
    ulong r_; \
    cell[0] = (init); \
    asm volatile(#op " %0, %2, (%1)" : "=r"(r_) : "r"(&cell[0]), "r"((ulong)(src)) : "memory"); \
    check(r_, (ulong)(init), #op " rd, " #src " on " #init); \
    check(cell[0], (ulong)(expmem), #op " memory"); \
} while (0)

static void amos(void)
{
    /* rs2's upper half is ignored by the W forms */
    T_AMOW(amoswap.w, 0x80000005, 0xdeadbeef00000003UL, 3);
    T_AMOW(amoadd.w, 0x80000005, 0xdeadbeef00000003UL, 0x80000008);
    T_AMOW(amoadd.w, 0xffffffff, 1, 0);          /* carry does not reach the upper word */
    T_AMOW(amoxor.w, 0x80000005, 3, 0x80000006);
    T_AMOW(amoand.w, 0x80000005, 3, 1);
    T_AMOW(amoor.w, 0x80000005, 3, 0x80000007);
    T_AMOW(amomin.w, 0x80000005, 3, 0x80000005);
    T_AMOW(amomin.w, 5, -3, -3);
    T_AMOW(amomax.w, 0x80000005, 3, 3);
    T_AMOW(amomax.w, 5, -3, 5);
    T_AMOW(amominu.w, 0x80000005, 3, 3);
    T_AMOW(amominu.w, 5, -3, 5);
    T_AMOW(amomaxu.w, 0x80000005, 3, 0x80000005);
    T_AMOW(amomaxu.w, 5, -3, -3);
    T_AMOW(amoadd.w.aq, 1, 2, 3);
    T_AMOW(amoadd.w.rl, 1, 2, 3);
    T_AMOW(amoswap.w.aqrl, 1, 2, 2);

    T_AMOD(amoswap.d, 0x8000000000000005UL, 3, 3);
    T_AMOD(amoadd.d, 0x8000000000000005UL, 3, 0x8000000000000008UL);
    T_AMOD(amoadd.d, 0xffffffffffffffffUL, 1, 0);
    T_AMOD(amoxor.d, 0x8000000000000005UL, 3, 0x8000000000000006UL);
    T_AMOD(amoand.d, 0x8000000000000005UL, 3, 1);
    T_AMOD(amoor.d, 0x8000000000000005UL, 3, 0x8000000000000007UL);
    T_AMOD(amomin.d, 0x8000000000000005UL, 3, 0x8000000000000005UL);
    T_AMOD(amomin.d, 5, -3, -3);
    T_AMOD(amomax.d, 0x8000000000000005UL, 3, 3);
    T_AMOD(amomax.d, 5, -3, 5);
    T_AMOD(amominu.d, 0x8000000000000005UL, 3, 3);
    T_AMOD(amominu.d, 5, -3, 5);
    T_AMOD(amomaxu.d, 0x8000000000000005UL, 3, 0x8000000000000005UL);
    T_AMOD(amomaxu.d, 5, -3, -3);
    T_AMOD(amoor.d.aq, 1, 2, 3);
    T_AMOD(amoxor.d.rl, 1, 3, 2);
    T_AMOD(amomaxu.d.aqrl, 1, 2, 2);

    /* rd = x0: the memory side still happens */
    cell[0] = 40;
    asm volatile("amoadd.d x0, %1, (%0)" :: "r"(&cell[0]), "r"(2UL) : "memory");
    check(cell[0], 42, "amoadd.d x0 still writes memory");
    /* rd == rs2: rd gets the old value, memory the old rs2 */
    ulong v = 7;
    cell[0] = 9;
    asm volatile("amoswap.d %0, %0, (%1)" : "+r"(v) : "r"(&cell[0]) : "memory");
    check(v, 9, "amoswap.d rd==rs2 rd");
    check(cell[0], 7, "amoswap.d rd==rs2 memory");
}

static void lrsc(void)
{
    ulong r, sc;

    cell[0] = 0x5555555580000001UL;
    asm volatile("lr.w %0, (%2)\n\tsc.w %1, %3, (%2)" : "=&r"(r), "=&r"(sc)
                 : "r"(&cell[0]), "r"(0x12345678UL) : "memory");
    check(r, 0xffffffff80000001UL, "lr.w sign-extends");
    check(sc, 0, "sc.w after lr.w succeeds (rd = 0)");
    check(cell[0], 0x5555555512345678UL, "sc.w wrote the low word only");

    asm volatile("sc.w %0, %2, (%1)" : "=r"(sc) : "r"(&cell[0]), "r"(0xabcdUL) : "memory");
    check(sc, 1, "second sc.w without lr fails (rd = 1)");
    check(cell[0], 0x5555555512345678UL, "failed sc.w leaves memory");

    cell[1] = 100;
    asm volatile("lr.d %0, (%2)\n\taddi %0, %0, 1\n\tsc.d %1, %0, (%2)" : "=&r"(r), "=&r"(sc)
                 : "r"(&cell[1]) : "memory");
    check(sc, 0, "lr.d/sc.d succeeds");
    check(cell[1], 101, "sc.d stored");
    asm volatile("sc.d %0, %2, (%1)" : "=r"(sc) : "r"(&cell[1]), "r"(5UL) : "memory");
    check(sc, 1, "sc.d after a completed sc.d fails");
    check(cell[1], 101, "failed sc.d leaves memory");

    /* sc to an address other than the reserved one fails */
    cell[2] = 7;
    cell[3] = 8;
    asm volatile("lr.d %0, (%2)\n\tsc.d %1, %4, (%3)" : "=&r"(r), "=&r"(sc)
                 : "r"(&cell[2]), "r"(&cell[3]), "r"(99UL) : "memory");
    check(sc, 1, "sc.d to another address fails");
    check(cell[3], 8, "failed sc.d to another address leaves memory");
    /* ...and a later sc to the reserved address succeeds or fails, but the
     * one above must not have consumed our check: re-reserve and retry */
    asm volatile("lr.d %0, (%2)\n\tsc.d %1, %3, (%2)" : "=&r"(r), "=&r"(sc)
                 : "r"(&cell[3]), "r"(99UL) : "memory");
    check(sc, 0, "fresh lr.d/sc.d succeeds");
    check(cell[3], 99, "fresh sc.d stored");

    /* aq/rl variants encode and behave the same */
    cell[0] = 1;
    asm volatile("lr.d.aq %0, (%2)\n\tsc.d.rl %1, %0, (%2)" : "=&r"(r), "=&r"(sc)
                 : "r"(&cell[0]) : "memory");
    check(sc, 0, "lr.d.aq / sc.d.rl");
    asm volatile("lr.w.aqrl %0, (%2)\n\tsc.w.aqrl %1, %0, (%2)" : "=&r"(r), "=&r"(sc)
                 : "r"(&cell[0]) : "memory");
    check(sc, 0, "lr.w.aqrl / sc.w.aqrl");

    /* atomic increment loop, the canonical LR/SC use */
    cell[0] = 0;
    for (int i = 0; i < 10; i++)
        asm volatile("1: lr.w %0, (%2)\n\taddiw %0, %0, 3\n\tsc.w %1, %0, (%2)\n\tbnez %1, 1b"
                     : "=&r"(r), "=&r"(sc) : "r"(&cell[0]) : "memory");
    check(cell[0], 30, "lr/sc increment loop");
}

/*
 * A-instructions demand natural alignment: LR raises load-address-misaligned
 * (4), SC and AMOs store/AMO-address-misaligned (6), with the address in
 * mtval and memory untouched.
 *
 * QEMU 7.2 deviates in two ways, so these checks accept its behaviour too
 * (the printed line is the same either way, so the differential test still
 * compares):
 *  - misaligned AMOs raise cause 4 instead of 6;
 *  - a misaligned SC does not trap at all; it just fails (rd != 0), because
 *    QEMU compares the address with the reservation before accessing memory.
 */
enum { STRICT, AMO_QUIRK, SC_QUIRK };

static void t_misal(ulong off, ulong tvoff, ulong cause, int quirk, const char *name, ulong r)
{
    ulong a = (ulong)&cell[0] + tvoff;
    int spec = trap.count == 1 && trap.cause == cause && trap.tval == a;
    int pass = spec;
    if (quirk == AMO_QUIRK)
        pass |= trap.count == 1 && trap.cause == CAUSE_MISALIGNED_LOAD && trap.tval == a;
    if (quirk == SC_QUIRK)
        pass |= trap.count == 0 && r != 0;
    if (!rt_report(pass, "%s at +%ld: cause %ld, tval = address", name, off, cause))
        rt_printf(": got %ld trap(s) cause 0x%lx tval 0x%lx rd 0x%lx expected cause 0x%lx tval 0x%lx",
                  trap.count, trap.cause, trap.tval, r, cause, a);
    rt_putc('\n');
    trap_armed = 0;
    check(cell[0] | cell[1], 0, "%s at +%ld: memory untouched", name, off);
}

#define T_MISAL(insn, name, off, tvoff, cause, quirk) do { \
    ulong r_ = 0; \
    cell[0] = cell[1] = 0; \
    trap_expect(0); \
    asm volatile(insn : "+r"(r_) : "r"((ulong)&cell[0] + (off)), "r"(0x77UL) : "memory"); \
    t_misal(off, tvoff, cause, quirk, name, r_); \
} while (0)

static void misaligned(void)
{
    T_MISAL("lr.w %0, (%1)", "lr.w", 2, 2, CAUSE_MISALIGNED_LOAD, STRICT);
    T_MISAL("lr.d %0, (%1)", "lr.d", 4, 4, CAUSE_MISALIGNED_LOAD, STRICT);
    T_MISAL("amoadd.w %0, %2, (%1)", "amoadd.w", 1, 1, CAUSE_MISALIGNED_STORE, AMO_QUIRK);
    T_MISAL("amoswap.w %0, %2, (%1)", "amoswap.w", 2, 2, CAUSE_MISALIGNED_STORE, AMO_QUIRK);
    T_MISAL("amoadd.d %0, %2, (%1)", "amoadd.d", 4, 4, CAUSE_MISALIGNED_STORE, AMO_QUIRK);
    T_MISAL("amomaxu.d %0, %2, (%1)", "amomaxu.d", 6, 6, CAUSE_MISALIGNED_STORE, AMO_QUIRK);
    T_MISAL("sc.w %0, %2, (%1)", "sc.w", 2, 2, CAUSE_MISALIGNED_STORE, SC_QUIRK);
    T_MISAL("sc.d %0, %2, (%1)", "sc.d", 4, 4, CAUSE_MISALIGNED_STORE, SC_QUIRK);
    /* with a valid reservation on the aligned word next to it */
    T_MISAL("lr.d %0, (%1)\n\taddi %0, %1, 2\n\tsc.w %0, %2, (%0)", "lr.d then sc.w", 0, 2,
            CAUSE_MISALIGNED_STORE, SC_QUIRK);
}

int main(void)
{
    rt_puts("# rv64a\n");
    amos();
    lrsc();
    misaligned();
    test_done();
}
