/* Self-modifying code and Zifencei: instructions stored to memory and made
 * visible with FENCE.I, including code patched after it already ran (and
 * got hot), a patch inside the running block, compressed patches, stores to
 * data that shares a page with code, and a patch written through one
 * virtual alias and executed through another. */
#include "vm.h"

/* li a0, imm (addi a0, x0, imm), 12-bit immediate */
#define LI_A0(imm) (0x00000513u | ((uint32_t)(imm) & 0xfff) << 20)
#define RET 0x00008067u
#define C_LI_A0(imm) (uint16_t)(0x4501u | ((imm) & 0x1f) << 2 | ((imm) & 0x20) << 7)
#define C_JR_RA 0x8082u

typedef long (*fn_t)(void);

static void patch_fresh(uint32_t *code)
{
    code[0] = LI_A0(1);
    code[1] = RET;
    asm volatile("fence.i" ::: "memory");
    check(((fn_t)code)(), 1, "freshly written code runs after fence.i");
    code[0] = LI_A0(2);
    asm volatile("fence.i" ::: "memory");
    check(((fn_t)code)(), 2, "patched after it ran: new code after fence.i");

    /* make it hot, then patch it again, many times */
    long sum = 0;
    for (int round = 0; round < 50; round++) {
        code[0] = LI_A0(round);
        asm volatile("fence.i" ::: "memory");
        for (int i = 0; i < 100; i++)
            sum += ((fn_t)code)();
    }
    check(sum, 100L * (49 * 50 / 2), "50 patches of a hot function, each seen");

    /* compressed: c.li a0, imm; c.jr ra */
    uint16_t *c = (uint16_t *)code;
    c[0] = C_LI_A0(5);
    c[1] = C_JR_RA;
    asm volatile("fence.i" ::: "memory");
    check(((fn_t)c)(), 5, "compressed code runs");
    c[0] = C_LI_A0(-7);
    asm volatile("fence.i" ::: "memory");
    check(((fn_t)c)(), -7, "compressed instruction patched");
    /* replace a compressed pair by one 32-bit instruction at the same place */
    code[0] = LI_A0(300);
    code[1] = RET;
    asm volatile("fence.i" ::: "memory");
    check(((fn_t)code)(), 300, "two 16-bit instructions replaced by a 32-bit one");
}

/* The running code patches the instruction two slots ahead of it; the
 * fence.i in between makes the new instruction the one executed. */
static long patch_ahead(uint32_t *code)
{
    static const uint32_t body[] = {
        0x00000297,             /* auipc t0, 0 */
        0x0062a623,             /* sw t1, 12(t0) */
        0x0000100f,             /* fence.i */
        LI_A0(1),               /* replaced by t1's word */
        RET,
    };
    memcpy(code, body, sizeof body);
    asm volatile("fence.i" ::: "memory");
    long r;
    asm volatile("mv t1, %1\n\tjalr %2\n\tmv %0, a0" : "=r"(r) : "r"((ulong)LI_A0(99)), "r"(code)
                 : "t0", "t1", "a0", "ra", "memory");
    return r;
}

/* Data writes to a page that holds code must not disturb that code; a code
 * patch on the same page is seen after fence.i. */
static void same_page(uint32_t *page)
{
    uint32_t *code = page + 16;
    volatile uint64_t *dat = (volatile uint64_t *)page;
    code[0] = LI_A0(11);
    code[1] = RET;
    asm volatile("fence.i" ::: "memory");
    long sum = 0;
    for (int i = 0; i < 1000; i++) {
        dat[i % 8] = i;                 /* data stores into the code's page */
        sum += ((fn_t)code)();
    }
    check(sum, 11000, "code keeps running while its page takes data stores");
    check(dat[7], 999, "data on the code page holds its value");
    code[0] = LI_A0(12);
    asm volatile("fence.i" ::: "memory");
    check(((fn_t)code)(), 12, "code patched on a page shared with data");
    code[2] = LI_A0(77);                /* write just past the function, then run */
    asm volatile("fence.i" ::: "memory");
    check(((fn_t)code)(), 12, "a store next to the code does not change it");
}

/* Patch through a writable alias VA, execute through an executable one. */
static long run_va(long va) { return ((fn_t)va)(); }

static void aliases(uint32_t *frame)
{
    const ulong xva = 0x40000000UL, wva = 0x40100000UL;
    uint64_t *root = vm_alloc();
    vm_map(root, 0x80000000UL, 0x80000000UL, 2, PTE_V | PTE_RWX | PTE_AD);
    vm_map(root, xva, (ulong)frame, 0, PTE_V | PTE_R | PTE_X | PTE_AD);
    vm_map(root, wva, (ulong)frame, 0, PTE_V | PTE_R | PTE_W | PTE_AD);
    frame[0] = LI_A0(21);
    frame[1] = RET;
    asm volatile("fence.i" ::: "memory");
    csr_write(satp, vm_satp(root, 0));
    sfence_all();
    check(rt_run_in(PRV_S, run_va, xva), 21, "code runs through the X alias");
    /* M writes through the W alias with MPRV (MPP=S) */
    csr_clear(mstatus, MSTATUS_MPP);
    csr_set(mstatus, (ulong)PRV_S << 11 | MSTATUS_MPRV);
    *(volatile uint32_t *)wva = LI_A0(22);
    csr_clear(mstatus, MSTATUS_MPRV);
    asm volatile("fence.i" ::: "memory");
    check(rt_run_in(PRV_S, run_va, xva), 22, "patch through the W alias seen through the X alias");
    csr_write(satp, 0);
    sfence_all();
}

int main(void)
{
    rt_puts("# smc\n");
    uint32_t *code = vm_page();
    patch_fresh(code);
    check(patch_ahead(vm_page()), 99, "running code patches the instruction after its fence.i");
    same_page(vm_page());
    aliases(vm_page());
    test_done();
}
