/* Zicntr and the counter CSRs: cycle/time/instret and mcycle/minstret
 * (writable; reads continue from the written value), time tracks the CLINT
 * mtime, and mcounteren/scounteren gate S- and U-mode reads exactly as the
 * privileged spec's matrix says.  No counter value is printed: they differ
 * from run to run. */
#include "rt.h"

/* readers in their own functions so the trapping word is known */
asm(".pushsection .text\n.option push\n.option norvc\n"
    "read_cycle: csrr a0, cycle\n ret\n"
    "read_time: csrr a0, time\n ret\n"
    "read_instret: csrr a0, instret\n ret\n"
    ".option pop\n.popsection");
extern char read_cycle[], read_time[], read_instret[];
static char *const readers[3] = { read_cycle, read_time, read_instret };
static const char *const names[3] = { "cycle", "time", "instret" };

static long call_reader(long i) { return ((long (*)(void))readers[i])(); }

static void values(void)
{
    ulong a, b, t;
    csr_write(minstret, 1000000);
    a = csr_read(minstret);
    check_true(a >= 1000000 && a - 1000000 < (1UL << 32), "minstret continues from the written value");
    csr_write(mcycle, 5000000);
    a = csr_read(mcycle);
    check_true(a >= 5000000 && a - 5000000 < (1UL << 32), "mcycle continues from the written value");
    csr_write(minstret, 0xfffffffffffff000UL);
    check_true(csr_read(minstret) >= 0xfffffffffffff000UL || csr_read(minstret) < (1UL << 32),
               "minstret takes a 64-bit value");
    a = csr_read(instret);
    b = csr_read(instret);
    check_true(b > a, "instret counts up");
    a = csr_read(instret);
    t = csr_read(minstret);
    b = csr_read(instret);
    check_true(a <= t && t <= b, "instret shadows minstret");
    a = csr_read(cycle);
    t = csr_read(mcycle);
    b = csr_read(cycle);
    check_true(a <= t && t <= b, "cycle shadows mcycle");
    a = mmio64(CLINT_MTIME);
    t = csr_read(time);
    b = mmio64(CLINT_MTIME);
    check_true(a <= t && t <= b, "time shadows the CLINT mtime");
    /* mtime runs at 10 MHz: a busy loop of ~1M instructions sees it move */
    a = mmio64(CLINT_MTIME);
    for (volatile int i = 0; i < 200000; i++)
        ;
    check_true(mmio64(CLINT_MTIME) > a, "mtime advances");
}

/* Privileged spec 3.1.11/4.1.5: M reads always; S needs mcounteren bit;
 * U needs both mcounteren and scounteren bits. */
static void gating(void)
{
    for (int i = 0; i < 3; i++) {
        static const struct { ulong men, sen; int mode, ok; } cases[] = {
            { 0, 0, PRV_S, 0 }, { 0, 0, PRV_U, 0 }, { 1, 0, PRV_S, 1 },
            { 1, 0, PRV_U, 0 }, { 1, 1, PRV_U, 1 }, { 0, 1, PRV_U, 0 },
            { 0, 1, PRV_S, 0 },
        };
        for (unsigned c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            csr_write(mcounteren, cases[c].men << i);
            csr_write(scounteren, cases[c].sen << i);
            trap_expect(0);
            rt_run_in(cases[c].mode, call_reader, i);
            const char *m = cases[c].mode == PRV_S ? "S" : "U";
            if (cases[c].ok)
                check_no_trap("%s reads %s with mcounteren=%ld scounteren=%ld", m, names[i],
                              cases[c].men, cases[c].sen);
            else
                check_trap(CAUSE_ILLEGAL, *(uint32_t *)readers[i], (ulong)readers[i],
                           "%s read of %s traps with mcounteren=%ld scounteren=%ld", m, names[i],
                           cases[c].men, cases[c].sen);
        }
    }
    /* the gate bits are independent: CY does not open TM or IR */
    csr_write(mcounteren, 1);
    csr_write(scounteren, 1);
    trap_expect(0);
    rt_run_in(PRV_U, call_reader, 2);
    check(trap.cause, CAUSE_ILLEGAL, "CY bits do not open instret");
    csr_write(mcounteren, 0);
    csr_write(scounteren, 0);
}

int main(void)
{
    rt_puts("# counters\n");
    values();
    gating();
    test_done();
}
