/* Hot code under change (issue 6): code and data sharing one page in a
 * loop hot enough to be compiled, instructions of hot code patched (from
 * outside and from inside the running loop) with FENCE.I, and in S-mode
 * with Sv39 a virtual code page remapped to another frame under a live
 * translation, and one frame's code reached through two virtual pages. */
#include "vm.h"

/* addi rd, rs1, imm */
#define ADDI(rd, rs1, imm) (0x13u | (rd) << 7 | (rs1) << 15 | ((uint32_t)(imm) & 0xfff) << 20)
#define T0 5
#define A0 10
#define AUIPC_A0 0x00000517u        /* auipc a0, 0 */
#define RET 0x00008067u
#define HOT 2000                    /* calls that make code hot */

typedef long (*fn_t)(long);

/* Code and data on one page: the loop stores i and the running sum into
 * the words right after its own code and reads them back. Patching
 * cd_step (the increment) is seen after fence.i. Returns the sum of
 * 0, s, 2s, ... below n*s for step s. */
extern long cd_loop(long n);
extern uint32_t cd_step[];
extern uint64_t cd_data[];
/* A loop that patches its own body: at iteration a3 it stores a1 over
 * sm_insn (addi t0, t0, 1) and runs fence.i. Returns t0. */
extern long sm_loop(long n, long word, long at);
extern uint32_t sm_insn[];
/* addi a0, a0, 5; ret: patched from outside while hot */
extern long hot_add(long x);
extern uint32_t hot_add_insn[];
asm(".pushsection .text.hotcode, \"ax\"\n"
    ".option push\n.option norvc\n"
    ".balign 4096\n"
    "cd_loop: la t0, cd_data\n li t1, 0\n li t2, 0\n"
    "1: sd t1, 0(t0)\n ld t3, 0(t0)\n add t2, t2, t3\n sd t2, 8(t0)\n"
    "cd_step: addi t1, t1, 1\n blt t1, a0, 1b\n ld a0, 8(t0)\n ret\n"
    ".balign 8\n"
    "cd_data: .dword 0, 0, 0, 0\n"
    "sm_loop: li t0, 0\n li t1, 0\n"
    "1: bne t1, a2, 2f\n sw a1, 0(t2)\n fence.i\n"
    "2:\n"
    "sm_insn: addi t0, t0, 1\n addi t1, t1, 1\n blt t1, a0, 1b\n mv a0, t0\n ret\n"
    "hot_add:\n"
    "hot_add_insn: addi a0, a0, 5\n ret\n"
    ".option pop\n"
    ".popsection");

static void patch(uint32_t *at, uint32_t word)
{
    *(volatile uint32_t *)at = word;
    asm volatile("fence.i" ::: "memory");
}

static long sm_run(long n, uint32_t word, long at)
{
    register long t2 asm("t2") = (long)sm_insn;
    long r;

    asm volatile("mv a0, %1\n\tmv a1, %2\n\tmv a2, %3\n\tcall sm_loop\n\tmv %0, a0"
                 : "=r"(r) : "r"(n), "r"((long)word), "r"(at), "r"(t2)
                 : "a0", "a1", "a2", "t0", "t1", "t3", "ra", "memory");
    return r;
}

static void code_and_data(void)
{
    long ok = 1;

    for (int i = 0; i < 200; i++)
        ok &= cd_loop(100) == 100 * 99 / 2;
    check(ok, 1, "loop storing next to its own code, 200 runs of 100 iterations");
    check(cd_data[0], 99, "the loop's data word on its code page");
    check(cd_data[1], 100 * 99 / 2, "the loop's sum on its code page");
    patch(cd_step, ADDI(6, 6, 2));          /* addi t1, t1, 2 */
    check(cd_loop(100), 2 * (49 * 50 / 2), "hot loop on a code+data page patched: step 2");
    patch(cd_step, ADDI(6, 6, 1));
    check(cd_loop(100), 100 * 99 / 2, "patched back: step 1");
}

static void hot_patch(void)
{
    long sum = 0;

    for (int i = 0; i < HOT; i++)
        sum += hot_add(i);
    check(sum, (long)HOT * (HOT - 1) / 2 + 5L * HOT, "hot function before the patch");
    patch(hot_add_insn, ADDI(A0, A0, 9));
    sum = 0;
    for (int i = 0; i < HOT; i++)
        sum += hot_add(i);
    check(sum, (long)HOT * (HOT - 1) / 2 + 9L * HOT, "hot function after the patch and fence.i");
    patch(hot_add_insn, ADDI(A0, A0, 5));
    check(hot_add(1), 6, "patched back");

    /* the running loop patches its own body */
    const uint32_t one = ADDI(T0, T0, 1), three = ADDI(T0, T0, 3);
    long r = 0;
    for (int i = 0; i < 50; i++)
        r += sm_run(1000, one, -1);
    check(r, 50L * 1000, "self-patching loop, hot, no patch");
    check(sm_run(1000, three, 500), 500 + 3 * 500, "loop patches its own body at iteration 500");
    check(sm_run(1000, three, -1), 3 * 1000, "the patch stays");
    check(sm_run(1000, one, 0), 1000, "patched back at iteration 0");
}

/* --- Sv39: remapping under a live translation ----------------------------- */

#define VX 0x40000000UL
#define VY 0x40200000UL

static uint64_t *root, *pte_x;
static uint32_t *frame_a, *frame_b;
static long res[8];

/* frame code: auipc a0, 0; addi a0, a0, k; ret  ->  returns its VA + k */
static void put_fn(uint32_t *frame, long k)
{
    frame[0] = AUIPC_A0;
    frame[1] = ADDI(A0, A0, k);
    frame[2] = RET;
    asm volatile("fence.i" ::: "memory");
}

static long call_many(ulong va)
{
    long sum = 0;

    for (int i = 0; i < HOT; i++)
        sum += ((fn_t)va)(0);
    return sum;
}

/* In S-mode: hot calls through VX (frame A), remap VX to frame B, flush
 * by address, call again; back to A with a full flush. */
static long s_remap(long unused)
{
    (void)unused;
    res[0] = call_many(VX);
    *pte_x = vm_pte((ulong)frame_b, PTE_V | PTE_R | PTE_X | PTE_AD);
    asm volatile("sfence.vma %0" :: "r"(VX) : "memory");
    res[1] = call_many(VX);
    *pte_x = vm_pte((ulong)frame_a, PTE_V | PTE_R | PTE_X | PTE_AD);
    asm volatile("sfence.vma" ::: "memory");
    res[2] = ((fn_t)VX)(0);
    return 0;
}

/* In S-mode: frame A hot through VX, then reached through VY, then
 * patched (through its identity mapping) and run through both. */
static long s_alias(long unused)
{
    (void)unused;
    res[3] = call_many(VX);
    res[4] = call_many(VY);
    frame_a[1] = ADDI(A0, A0, 7);
    asm volatile("fence.i" ::: "memory");
    res[5] = ((fn_t)VX)(0);
    res[6] = ((fn_t)VY)(0);
    return 0;
}

static void remap(void)
{
    root = vm_alloc();
    frame_a = vm_page();
    frame_b = vm_page();
    put_fn(frame_a, 1);
    put_fn(frame_b, 2);
    vm_map(root, 0x80000000UL, 0x80000000UL, 2, PTE_V | PTE_RWX | PTE_AD);
    pte_x = vm_map(root, VX, (ulong)frame_a, 0, PTE_V | PTE_R | PTE_X | PTE_AD);
    vm_map(root, VY, (ulong)frame_a, 0, PTE_V | PTE_R | PTE_X | PTE_AD);
    csr_write(satp, vm_satp(root, 0));
    sfence_all();
    trap_expect(0);
    rt_run_in(PRV_S, s_remap, 0);
    rt_run_in(PRV_S, s_alias, 0);
    check_no_trap("S-mode remap runs without traps");
    csr_write(satp, 0);
    sfence_all();
    check(res[0], (long)HOT * (VX + 1), "hot calls through VX run frame A");
    check(res[1], (long)HOT * (VX + 2), "VX remapped to frame B, sfence.vma addr: B runs");
    check(res[2], VX + 1, "VX mapped back to A, sfence.vma: A runs");
    check(res[3], (long)HOT * (VX + 1), "frame A hot through VX");
    check(res[4], (long)HOT * (VY + 1), "same frame through VY sees its own pc");
    check(res[5], VX + 7, "frame patched: VX runs the new code");
    check(res[6], VY + 7, "frame patched: VY runs the new code");
}

int main(void)
{
    rt_puts("# hotcode\n");
    code_and_data();
    hot_patch();
    remap();
    test_done();
}
