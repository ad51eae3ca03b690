/* Every synchronous exception cause the hart can raise, with the cause,
 * epc and tval the privileged spec (1.12, 3.1.14-16) prescribes.
 *
 * Cause 0 (instruction address misaligned) cannot happen: with C, IALIGN is
 * 16, jalr clears bit 0 and branch/jal offsets are even, and misa is
 * read-only so C cannot be turned off.  It is not tested.
 * Causes 10 and 14 are reserved; 4/6 from plain loads/stores cannot happen
 * either (misaligned accesses complete, as on QEMU), only through LR/SC/AMO. */
#include "vm.h"

#define UNUSED __attribute__((unused))
#define HOLE 0x800UL   /* nothing below the MROM (0x1000) on QEMU virt */

static volatile uint64_t data[4] __attribute__((aligned(16)));

static void fetch_faults(void)
{
    /* jump to unmapped physical memory: access fault at the target */
    ulong back;
    asm volatile("lla %0, 1f" : "=r"(back));
    trap_expect(back);
    asm volatile("jalr ra, 0(%0)\n1:" :: "r"(HOLE) : "ra", "memory");
    check_trap(CAUSE_FETCH_ACCESS, HOLE, HOLE, "fetch from a hole: cause 1, mepc = mtval = target");
}

static void illegal(void)
{
    static const uint32_t words[] = {
        0xffffffff,     /* reserved >= 192-bit prefix */
        0x0000000b,     /* custom-0 opcode */
        0x0000707b,     /* custom-3 opcode */
        0x00002057,     /* OP-V: no V extension */
        0x0000700f,     /* MISC-MEM funct3=7 */
        0xfe000033,     /* OP funct7 not defined */
        0x30200073 | (1 << 7),   /* mret with rd != 0 */
        0x00100073 | (1 << 15),  /* ebreak with rs1 != 0 */
        0x0000301b,     /* OP-IMM-32 funct3=3 */
    };
    static uint32_t code[2] __attribute__((aligned(4)));
    for (unsigned i = 0; i < sizeof words / sizeof words[0]; i++) {
        code[0] = words[i];
        code[1] = 0x00008067;   /* ret */
        asm volatile("fence.i" ::: "memory");
        trap_expect(0);
        ((void (*)(void))code)();
        check_trap(CAUSE_ILLEGAL, words[i], (ulong)code, "illegal 0x%08x: cause 2, mtval = instruction",
                   words[i]);
    }
    ulong at;
    trap_expect(0);
    asm volatile(".option push\n.option rvc\n1: .2byte 0\n.option pop\n\tlla %0, 1b" : "=r"(at));
    check_trap(CAUSE_ILLEGAL, 0, at, "illegal 16-bit 0x0000: mtval = 0 (the instruction)");
}

static void breakpoint_and_ecall(void)
{
    ulong at;
    trap_expect(0);
    asm volatile(".option push\n.option norvc\n1: ebreak\n.option pop\n\tlla %0, 1b" : "=r"(at));
    check(trap.cause, CAUSE_BREAKPOINT, "ebreak: cause 3");
    check(trap.epc, at, "ebreak: mepc = the ebreak");
    check_true(trap.tval == 0 || trap.tval == at, "ebreak: mtval is 0 or the pc");
    trap_expect(0);
    asm volatile("li a7, 0\n1: ecall\n\tlla %0, 1b" : "=r"(at) :: "a7");
    check_trap(CAUSE_ECALL_M, 0, at, "ecall from M: cause 11");
}

static long lower_ecall(long unused UNUSED)
{
    asm volatile("li a7, 0\n\tecall" ::: "a7", "memory");
    return 0;
}

static void lower_ecalls(void)
{
    trap_expect(0);
    rt_run_in(PRV_S, lower_ecall, 0);
    check_trap(CAUSE_ECALL_S, 0, TRAP_ANY, "ecall from S: cause 9");
    trap_expect(0);
    rt_run_in(PRV_U, lower_ecall, 0);
    check_trap(CAUSE_ECALL_U, 0, TRAP_ANY, "ecall from U: cause 8");
}

/* `alt` is a second accepted cause: QEMU 7.2 reports AMO faults as load
 * faults (access fault 5 instead of 7, misaligned 4 instead of 6). */
#define T_MEM(insn, addr, cs, alt, what) do { \
    ulong r_ = 0; \
    trap_expect(0); \
    asm volatile(insn : "+r"(r_) : "r"(addr), "r"(1UL) : "memory"); \
    if (trap.cause == (ulong)(alt)) \
        trap.cause = (cs); \
    check_trap(cs, (ulong)(addr), TRAP_ANY, what ": cause %d, mtval = address", cs); \
} while (0)

static void data_faults(void)
{
    T_MEM("ld %0, 0(%1)", HOLE + 8, CAUSE_LOAD_ACCESS, -1, "load from a hole");
    T_MEM("lb %0, 0(%1)", HOLE + 3, CAUSE_LOAD_ACCESS, -1, "lb from a hole");
    T_MEM("sw %2, 0(%1)", HOLE + 4, CAUSE_STORE_ACCESS, -1, "store to a hole");
    T_MEM("amoadd.d %0, %2, (%1)", HOLE, CAUSE_STORE_ACCESS, CAUSE_LOAD_ACCESS, "amo to a hole");
    T_MEM("lr.d %0, (%1)", HOLE, CAUSE_LOAD_ACCESS, -1, "lr to a hole");
    T_MEM("lr.w %0, (%1)", (ulong)data + 2, CAUSE_MISALIGNED_LOAD, -1, "misaligned lr.w");
    T_MEM("amoor.w %0, %2, (%1)", (ulong)data + 1, CAUSE_MISALIGNED_STORE, CAUSE_MISALIGNED_LOAD, "misaligned amoor.w");
    /* plain misaligned accesses complete */
    trap_expect(0);
    data[0] = 0x1122334455667788UL;
    ulong v = *(volatile uint32_t *)((ulong)data + 1);
    *(volatile uint16_t *)((ulong)data + 7) = 0xabcd;
    check_no_trap("misaligned lw/sh complete without a trap");
    check(v, 0x44556677, "misaligned lw value");
}

/* PMP: entry 0 denies one 4 KiB page to S/U, entry 1 allows the rest. */
static void pmp_faults(void)
{
    uint32_t *page = vm_page();
    page[0] = 0x00008067;   /* ret */
    asm volatile("fence.i" ::: "memory");
    csr_write(pmpaddr0, ((ulong)page >> 2) | 0x1ff);      /* NAPOT 4 KiB */
    csr_write(pmpaddr1, -1UL);
    csr_write(pmpcfg0, 0x18UL | 0x1fUL << 8);              /* e0: NAPOT ---, e1: NAPOT RWX */
    asm volatile("sfence.vma" ::: "memory");
    check(csr_read(pmpcfg0) & 0xffff, 0x1f18, "pmpcfg0 holds two entries");

    trap_expect(0);
    (void)*(volatile uint32_t *)page;
    ((void (*)(void))page)();
    check_no_trap("M ignores unlocked PMP entries");

    extern long pmp_load(long), pmp_store(long), pmp_fetch(long);
    trap_expect(0);
    rt_run_in(PRV_S, pmp_load, (long)page + 8);
    check_trap(CAUSE_LOAD_ACCESS, (ulong)page + 8, TRAP_ANY, "S load from a PMP-denied page: cause 5");
    trap_expect(0);
    rt_run_in(PRV_U, pmp_store, (long)page + 16);
    check_trap(CAUSE_STORE_ACCESS, (ulong)page + 16, TRAP_ANY, "U store to a PMP-denied page: cause 7");
    trap_expect(0);
    rt_run_in(PRV_S, pmp_fetch, (long)page);
    check_trap(CAUSE_FETCH_ACCESS, (ulong)page, (ulong)page, "S fetch from a PMP-denied page: cause 1");

    csr_write(pmpcfg0, 0x1f);       /* back to the runtime's single RWX entry */
    csr_write(pmpaddr0, -1UL);
    asm volatile("sfence.vma" ::: "memory");
}

asm(".pushsection .text\n"
    "pmp_load: ld a0, 0(a0)\n ret\n"
    "pmp_store: sd a0, 0(a0)\n ret\n"
    /* a fetch fault has no instruction to skip: resume at the return address */
    "pmp_fetch: la t0, trap_resume\n sd ra, 0(t0)\n jr a0\n"
    ".popsection");

/* Sv39 page faults (cause 12/13/15) with mtval = the virtual address,
 * including an instruction that straddles into an unmapped page. */
extern long pf_fetch(long), pf_load(long), pf_store(long), pf_amo(long);
asm(".pushsection .text\n"
    "pf_fetch: la t0, trap_resume\n sd ra, 0(t0)\n jr a0\n"
    "pf_load: ld a0, 0(a0)\n ret\n"
    "pf_store: sd a0, 0(a0)\n ret\n"
    "pf_amo: amoswap.d a0, a0, (a0)\n ret\n"
    ".popsection");

static void page_faults(void)
{
    uint64_t *root = vm_alloc();
    /* identity map the RAM gigapage for code, data and stacks */
    vm_map(root, 0x80000000UL, 0x80000000UL, 2, PTE_V | PTE_RWX | PTE_AD);
    const ulong ro = 0x40000000UL, nx = 0x40001000UL, unm = 0x40003000UL, cross = 0x40004000UL;
    uint32_t *p_ro = vm_page(), *p_cross = vm_page();
    vm_map(root, ro, (ulong)p_ro, 0, PTE_V | PTE_R | PTE_AD);
    vm_map(root, nx, (ulong)p_ro, 0, PTE_V | PTE_R | PTE_W | PTE_AD);
    vm_map(root, cross, (ulong)p_cross, 0, PTE_V | PTE_R | PTE_X | PTE_AD);
    /* last halfword of the page: the first half of a 32-bit nop */
    ((uint16_t *)p_cross)[2047] = 0x0013;
    asm volatile("fence.i" ::: "memory");
    csr_write(satp, vm_satp(root, 0));
    sfence_all();

    trap_expect(0);
    rt_run_in(PRV_S, pf_fetch, unm);
    check_trap(CAUSE_FETCH_PAGE, unm, unm, "fetch from unmapped VA: cause 12");
    trap_expect(0);
    rt_run_in(PRV_S, pf_fetch, nx);
    check_trap(CAUSE_FETCH_PAGE, nx, nx, "fetch from non-executable page: cause 12");
    trap_expect(0);
    rt_run_in(PRV_S, pf_load, unm + 0x10);
    check_trap(CAUSE_LOAD_PAGE, unm + 0x10, TRAP_ANY, "load from unmapped VA: cause 13");
    trap_expect(0);
    rt_run_in(PRV_S, pf_store, ro + 0x18);
    check_trap(CAUSE_STORE_PAGE, ro + 0x18, TRAP_ANY, "store to read-only page: cause 15");
    trap_expect(0);
    rt_run_in(PRV_S, pf_amo, ro + 0x20);
    check_trap(CAUSE_STORE_PAGE, ro + 0x20, TRAP_ANY, "AMO to read-only page: cause 15");
    trap_expect(0);
    rt_run_in(PRV_S, pf_load, 0x0000004000000000UL);
    check_trap(CAUSE_LOAD_PAGE, 0x0000004000000000UL, TRAP_ANY, "load from non-canonical VA: cause 13");
    trap_expect(0);
    rt_run_in(PRV_S, pf_fetch, cross + PAGE - 2);
    check_trap(CAUSE_FETCH_PAGE, cross + PAGE, cross + PAGE - 2,
               "instruction straddling into an unmapped page: mepc = start, mtval = next page");
    csr_write(satp, 0);
    sfence_all();
}

int main(void)
{
    rt_puts("# exceptions\n");
    fetch_faults();
    illegal();
    breakpoint_and_ecall();
    lower_ecalls();
    data_faults();
    pmp_faults();
    page_faults();
    test_done();
}
