/* Virtual memory, built twice: -DVM_LEVELS=3 (Sv39) and 4 (Sv48).
 * Page tables are built here; code runs identity-mapped through a 1 GiB
 * page (U=0 in the S root, U=1 in the U root) and test pages sit at
 * VA 0x40000000+.  Checks: 4K/2M/1G (and 512G in Sv48) leaves, misaligned
 * superpages, reserved PTE encodings and bits, R/W/X/U/SUM/MXR, hardware
 * A/D updates, MPRV, non-canonical addresses, an instruction straddling two
 * pages that map to unrelated frames, satp ASIDs and SFENCE.VMA by address
 * and by ASID.  Faults go to M (nothing delegated) with mtval = the VA. */
#include "vm.h"

#ifndef VM_LEVELS
#define VM_LEVELS 3
#endif

#define VA 0x40000000UL                 /* base of the test mappings */
#define BIG_PA 0x80400000UL             /* 2 MiB-aligned free RAM (QEMU virt has 128 MiB) */

extern long vm_ld(long), vm_ldu(long), vm_sd(long), vm_amo(long), vm_jump(long);
asm(".pushsection .text\n"
    "vm_ld: ld a0, 0(a0)\n ret\n"
    "vm_ldu: lbu a0, 0(a0)\n ret\n"
    "vm_sd: sd a0, 0(a0)\n ret\n"
    "vm_amo: amoadd.d a0, a0, (a0)\n ret\n"
    /* a fetch fault has no instruction to skip: resume at the return address */
    "vm_jump: la t0, trap_resume\n sd ra, 0(t0)\n jr a0\n"
    ".popsection");

static uint64_t *root_s, *root_u;       /* same mappings, code page U=0 / U=1 */

static void map2(ulong va, ulong pa, int level, ulong flags)
{
    vm_map(root_s, va, pa, level, flags);
    vm_map(root_u, va, pa, level, flags);
}

static void use_root(uint64_t *root, ulong asid)
{
    csr_write(satp, vm_satp(root, asid));
    sfence_all();
}

/* run fn(arg) in mode under root; return its result; faults are recorded */
static long run(int mode, long (*fn)(long), ulong arg)
{
    use_root(mode == PRV_U ? root_u : root_s, 0);
    trap_expect(0);
    long r = rt_run_in(mode, fn, arg);
    csr_write(satp, 0);
    sfence_all();
    return r;
}

#define EXPECT_OK(mode, fn, va, exp, ...) do { \
    long r_ = run(mode, fn, va); \
    if (check_no_trap(__VA_ARGS__)) \
        check(r_, exp, "  ... value"); \
} while (0)
#define EXPECT_FAULT(mode, fn, va, cs, ...) do { \
    run(mode, fn, va); \
    check_trap(cs, va, TRAP_ANY, __VA_ARGS__); \
} while (0)

static uint64_t *pages[8];

static void setup(void)
{
    vm_levels = VM_LEVELS;
    root_s = vm_alloc();
    root_u = vm_alloc();
    vm_map(root_s, 0x80000000UL, 0x80000000UL, 2, PTE_V | PTE_RWX | PTE_AD);
    vm_map(root_u, 0x80000000UL, 0x80000000UL, 2, PTE_V | PTE_RWX | PTE_AD | PTE_U);
    for (int i = 0; i < 8; i++) {
        pages[i] = vm_page();
        pages[i][0] = 0x1000 + i;
        pages[i][1] = 0x2000 + i;
    }
}

static void sizes(void)
{
    map2(VA, (ulong)pages[0], 0, PTE_V | PTE_R | PTE_W | PTE_AD | PTE_U);
    EXPECT_OK(PRV_U, vm_ld, VA, 0x1000, "4K page: load");
    EXPECT_OK(PRV_U, vm_ld, VA + 8, 0x2000, "4K page: load at offset 8");
    run(PRV_U, vm_sd, VA + 16);
    check(pages[0][2], VA + 16, "4K page: store lands in the frame");

    /* 2 MiB page: offset bits 20:0 come from the VA */
    mmio64(BIG_PA + 0x123450) = 0xb16b00b5UL;
    map2(VA + 0x200000, BIG_PA, 1, PTE_V | PTE_R | PTE_W | PTE_AD);
    EXPECT_OK(PRV_S, vm_ld, VA + 0x200000 + 0x123450, 0xb16b00b5UL, "2M page: load at offset 0x123450");

    /* 1 GiB page aliasing RAM: VA 0xc0000000 -> PA 0x80000000 */
    map2(0xc0000000UL, 0x80000000UL, 2, PTE_V | PTE_R | PTE_AD);
    ulong off = (ulong)&pages[3][1] - 0x80000000UL;
    EXPECT_OK(PRV_S, vm_ld, 0xc0000000UL + off, 0x2003, "1G page: load through the alias");

#if VM_LEVELS == 4
    /* 512 GiB page at VA 2^39 -> PA 0: RAM shows up at VA 2^39 + PA */
    map2(1UL << 39, 0, 3, PTE_V | PTE_R | PTE_AD);
    EXPECT_OK(PRV_S, vm_ld, (1UL << 39) + (ulong)&pages[4][0], 0x1004, "512G page: load");
    /* Sv48 VAs sign-extend bit 47 */
    EXPECT_FAULT(PRV_S, vm_ld, 0x0000800000000000UL, CAUSE_LOAD_PAGE, "non-canonical Sv48 VA (bit 47 set alone)");
    map2(0xffff800000000000UL, (ulong)pages[5], 0, PTE_V | PTE_R | PTE_AD);
    EXPECT_OK(PRV_S, vm_ld, 0xffff800000000000UL, 0x1005, "canonical negative Sv48 VA");
#else
    EXPECT_FAULT(PRV_S, vm_ld, 0x0000004000000000UL, CAUSE_LOAD_PAGE, "non-canonical Sv39 VA (bit 38 set alone)");
    map2(0xffffffc000000000UL, (ulong)pages[5], 0, PTE_V | PTE_R | PTE_AD);
    EXPECT_OK(PRV_S, vm_ld, 0xffffffc000000000UL, 0x1005, "canonical negative Sv39 VA");
#endif
}

static void bad_ptes(void)
{
    const ulong va = VA + 0x400000;
    map2(va, BIG_PA + 0x1000, 1, PTE_V | PTE_R | PTE_AD);       /* PPN[0] != 0 */
    EXPECT_FAULT(PRV_S, vm_ld, va, CAUSE_LOAD_PAGE, "misaligned 2M superpage faults");
    map2(0x100000000UL, 0x80200000UL, 2, PTE_V | PTE_R | PTE_AD);  /* PPN[1] != 0 */
    EXPECT_FAULT(PRV_S, vm_ld, 0x100000000UL, CAUSE_LOAD_PAGE, "misaligned 1G superpage faults");

    static const struct { ulong flags; const char *what; } bad[] = {
        { PTE_R | PTE_AD, "V=0" },
        { PTE_V | PTE_W | PTE_AD, "W without R (reserved)" },
        { PTE_V | PTE_W | PTE_X | PTE_AD, "W+X without R (reserved)" },
        { PTE_V | PTE_R | PTE_AD | 1UL << 54, "reserved bit 54 set" },
        { PTE_V | PTE_R | PTE_AD | 1UL << 62, "PBMT bits without Svpbmt" },
        { PTE_V | PTE_R | PTE_AD | 1UL << 63, "N bit without Svnapot" },
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        map2(VA + 0x1000, (ulong)pages[1], 0, bad[i].flags);
        EXPECT_FAULT(PRV_S, vm_ld, VA + 0x1000, CAUSE_LOAD_PAGE, "load through PTE with %s faults", bad[i].what);
    }
    /* a pointer PTE (RWX=0) at the last level is not a leaf */
    map2(VA + 0x1000, (ulong)pages[1], 0, PTE_V);
    EXPECT_FAULT(PRV_S, vm_ld, VA + 0x1000, CAUSE_LOAD_PAGE, "non-leaf PTE at level 0 faults");
}

static void permissions(void)
{
    const ulong ro = VA + 0x2000, xo = VA + 0x3000, up = VA + 0x4000, sp = VA + 0x5000, rw = VA + 0x6000;
    ((uint32_t *)pages[2])[0] = 0x00008067;    /* ret */
    asm volatile("fence.i" ::: "memory");
    map2(ro, (ulong)pages[2], 0, PTE_V | PTE_R | PTE_AD);
    map2(xo, (ulong)pages[2], 0, PTE_V | PTE_X | PTE_AD);
    map2(up, (ulong)pages[2], 0, PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_AD);
    map2(sp, (ulong)pages[2], 0, PTE_V | PTE_R | PTE_W | PTE_X | PTE_AD);
    map2(rw, (ulong)pages[2], 0, PTE_V | PTE_R | PTE_W | PTE_AD);

    EXPECT_FAULT(PRV_S, vm_sd, ro, CAUSE_STORE_PAGE, "store to R-only page faults (15)");
    EXPECT_FAULT(PRV_S, vm_amo, ro, CAUSE_STORE_PAGE, "AMO to R-only page faults (15)");
    EXPECT_FAULT(PRV_S, vm_jump, ro, CAUSE_FETCH_PAGE, "fetch from R-only page faults (12)");
    EXPECT_FAULT(PRV_S, vm_jump, rw, CAUSE_FETCH_PAGE, "fetch from RW page faults (12)");
    EXPECT_OK(PRV_S, vm_jump, xo, xo, "fetch from X-only page");
    EXPECT_FAULT(PRV_S, vm_ld, xo, CAUSE_LOAD_PAGE, "load from X-only page faults (MXR=0)");
    csr_set(mstatus, MSTATUS_MXR);
    EXPECT_OK(PRV_S, vm_ldu, xo, 0x67, "load from X-only page with MXR=1");
    EXPECT_FAULT(PRV_S, vm_sd, xo, CAUSE_STORE_PAGE, "MXR does not allow stores");
    csr_clear(mstatus, MSTATUS_MXR);

    EXPECT_FAULT(PRV_S, vm_ld, up, CAUSE_LOAD_PAGE, "S load from U page faults (SUM=0)");
    EXPECT_FAULT(PRV_S, vm_sd, up, CAUSE_STORE_PAGE, "S store to U page faults (SUM=0)");
    csr_set(mstatus, MSTATUS_SUM);
    EXPECT_OK(PRV_S, vm_ldu, up, 0x67, "S load from U page with SUM=1");
    EXPECT_FAULT(PRV_S, vm_jump, up, CAUSE_FETCH_PAGE, "S fetch from U page faults even with SUM=1");
    csr_clear(mstatus, MSTATUS_SUM);
    EXPECT_OK(PRV_U, vm_ldu, up, 0x67, "U load from U page");
    EXPECT_OK(PRV_U, vm_jump, up, up, "U fetch from U page");
    EXPECT_FAULT(PRV_U, vm_ld, sp, CAUSE_LOAD_PAGE, "U load from S page faults");
    EXPECT_FAULT(PRV_U, vm_sd, sp, CAUSE_STORE_PAGE, "U store to S page faults");
    EXPECT_FAULT(PRV_U, vm_jump, sp, CAUSE_FETCH_PAGE, "U fetch from S page faults");
    csr_set(mstatus, MSTATUS_SUM);
    EXPECT_FAULT(PRV_U, vm_ld, sp, CAUSE_LOAD_PAGE, "SUM does not open S pages to U");
    csr_clear(mstatus, MSTATUS_SUM);
}

/* Hardware A/D update (as QEMU does): a load sets A, a store sets A and D,
 * a fetch sets A; a fault sets neither. */
static void accessed_dirty(void)
{
    const ulong va = VA + 0x7000;
    ((uint32_t *)pages[6])[0] = 0x00008067;
    asm volatile("fence.i" ::: "memory");
    uint64_t *pte = vm_map(root_s, va, (ulong)pages[6], 0, PTE_V | PTE_RWX);
    run(PRV_S, vm_ld, va);
    check(*pte & PTE_AD, PTE_A, "load sets A only");
    *pte &= ~PTE_AD;
    run(PRV_S, vm_sd, va + 8);
    check(*pte & PTE_AD, PTE_AD, "store sets A and D");
    *pte &= ~PTE_AD;
    run(PRV_S, vm_amo, va + 16);
    check(*pte & PTE_AD, PTE_AD, "AMO sets A and D");
    *pte &= ~PTE_AD;
    run(PRV_S, vm_jump, va);
    check(*pte & PTE_AD, PTE_A, "fetch sets A only");
    *pte = (*pte & ~PTE_AD & ~PTE_W) | PTE_A;
    run(PRV_S, vm_sd, va);
    check(*pte & PTE_AD, PTE_A, "faulting store leaves D clear");
    pages[6][0] = 0x00008067;
}

/* MPRV: M-mode loads/stores translate with MPP's privilege; fetches don't. */
static void mprv(void)
{
    const ulong up = VA + 0x4000;
    ulong v;
    use_root(root_s, 0);
    csr_clear(mstatus, MSTATUS_MPP);
    csr_set(mstatus, (ulong)PRV_S << 11);
    csr_set(mstatus, MSTATUS_MPRV);
    v = *(volatile uint64_t *)(0xc0000000UL + ((ulong)&pages[3][1] - 0x80000000UL));
    csr_clear(mstatus, MSTATUS_MPRV);
    check(v, 0x2003, "MPRV=1 MPP=S: M load is translated (1G alias)");
    csr_set(mstatus, MSTATUS_MPRV);
    trap_expect(0);
    v = *(volatile uint8_t *)up;
    csr_clear(mstatus, MSTATUS_MPRV);
    check_trap(CAUSE_LOAD_PAGE, up, TRAP_ANY, "MPRV=1 MPP=S: load from U page faults (SUM=0)");
    csr_set(mstatus, MSTATUS_SUM | MSTATUS_MPRV);
    v = *(volatile uint8_t *)up;
    csr_clear(mstatus, MSTATUS_MPRV | MSTATUS_SUM);
    check(v, 0x67, "MPRV=1 MPP=S SUM=1: load from U page");
    csr_set(mstatus, MSTATUS_MPP);
    csr_set(mstatus, MSTATUS_MPRV);
    v = *(volatile uint64_t *)&pages[7][1];
    csr_clear(mstatus, MSTATUS_MPRV);
    check(v, 0x2007, "MPRV=1 MPP=M: no translation");
    csr_write(satp, 0);
    sfence_all();
}

/* A 32-bit instruction split over two pages whose frames are unrelated. */
static void straddle(void)
{
    const ulong va = VA + 0x10000;
    uint16_t *a = (uint16_t *)pages[4], *b = (uint16_t *)pages[5];
    a[2047] = 0x0513;       /* addi a0, a0, 1  (low half) */
    b[0] = 0x0015;          /*                 (high half) */
    b[1] = 0x8082;          /* c.jr ra */
    asm volatile("fence.i" ::: "memory");
    map2(va, (ulong)pages[4], 0, PTE_V | PTE_X | PTE_AD);
    map2(va + PAGE, (ulong)pages[5], 0, PTE_V | PTE_X | PTE_AD);
    EXPECT_OK(PRV_S, (long (*)(long))(va + PAGE - 2), 41, 42, "instruction straddling two pages executes");
}

/* An S-mode loop calls into the next page six times; after the third call
 * it remaps that page to other code (SFENCE.VMA). Whatever caches a
 * block's successor must drop it when the translation changes. */
static void remap_code(void)
{
    static const uint32_t code[] = {
        0x00008313,     /* mv t1, ra */
        0x00853583,     /* ld a1, 8(a0) */
        0x00053503,     /* ld a0, 0(a0) */
        0x00000613,     /* li a2, 0 */
        0x00600293,     /* li t0, 6 */
        0x00300393,     /* li t2, 3 */
        0x7e9000ef,     /* 1: jal ra, (next page) */
        0xfff28293,     /* addi t0, t0, -1 */
        0x00729663,     /* bne t0, t2, 2f */
        0x00b53023,     /* sd a1, 0(a0) */
        0x12000073,     /* sfence.vma */
        0xfe0296e3,     /* 2: bnez t0, 1b */
        0x00060513,     /* mv a0, a2 */
        0x00030093,     /* mv ra, t1 */
        0x00008067,     /* ret */
    };
    const ulong va = VA + 0x600000;     /* its own (fresh) leaf table */
    uint32_t *a = vm_page(), *b1 = vm_page(), *b2 = vm_page();
    static uint64_t arg[2];
    memcpy(a, code, sizeof(code));
    b1[0] = 0x00160613;     /* addi a2, a2, 1 */
    b1[1] = 0x00008067;     /* ret */
    b2[0] = 0x00260613;     /* addi a2, a2, 2 */
    b2[1] = 0x00008067;     /* ret */
    asm volatile("fence.i" ::: "memory");
    map2(va, (ulong)a, 0, PTE_V | PTE_X | PTE_AD);
    arg[0] = (ulong)vm_map(root_s, va + PAGE, (ulong)b1, 0, PTE_V | PTE_X | PTE_AD);
    arg[1] = vm_pte((ulong)b2, PTE_V | PTE_X | PTE_AD);
    EXPECT_OK(PRV_S, (long (*)(long))va, (ulong)arg, 9,
              "calls into a page remapped to other code (SFENCE.VMA) in between");
}

/* ASIDs and SFENCE.VMA: a remapped page is seen after the fence. */
static void fences(void)
{
    const ulong va = VA + 0x20000;
    uint64_t *pte = vm_map(root_s, va, (ulong)pages[0], 0, PTE_V | PTE_R | PTE_AD);
    uint64_t *root_b = vm_alloc();
    vm_map(root_b, 0x80000000UL, 0x80000000UL, 2, PTE_V | PTE_RWX | PTE_AD);
    vm_map(root_b, va, (ulong)pages[1], 0, PTE_V | PTE_R | PTE_AD);
    ulong sat = vm_satp(root_s, 1);
    csr_write(satp, sat);
    check(csr_read(satp), sat, "satp holds ASID 1");
    sfence_all();

    trap_expect(0);
    check(rt_run_in(PRV_S, vm_ld, va), 0x1000, "ASID 1 sees frame 0");
    *pte = vm_pte((ulong)pages[7], PTE_V | PTE_R | PTE_AD);
    asm volatile("sfence.vma %0, x0" :: "r"(va) : "memory");
    check(rt_run_in(PRV_S, vm_ld, va), 0x1007, "after sfence.vma va: new frame seen");
    *pte = vm_pte((ulong)pages[3], PTE_V | PTE_R | PTE_AD);
    asm volatile("sfence.vma x0, %0" :: "r"(1UL) : "memory");
    check(rt_run_in(PRV_S, vm_ld, va), 0x1003, "after sfence.vma x0, asid: new frame seen");
    *pte = vm_pte((ulong)pages[4], PTE_V | PTE_R | PTE_AD);
    asm volatile("sfence.vma %0, %1" :: "r"(va), "r"(1UL) : "memory");
    check(rt_run_in(PRV_S, vm_ld, va), 0x1004, "after sfence.vma va, asid: new frame seen");

    /* two address spaces with their own ASIDs, switched without a fence */
    csr_write(satp, vm_satp(root_b, 2));
    check(rt_run_in(PRV_S, vm_ld, va), 0x1001, "switch to ASID 2: its own mapping");
    csr_write(satp, vm_satp(root_s, 1));
    check(rt_run_in(PRV_S, vm_ld, va), 0x1004, "switch back to ASID 1: its mapping");
    check_no_trap("no faults while switching ASIDs");

    /* Bare: S accesses are physical */
    csr_write(satp, 0);
    sfence_all();
    check(rt_run_in(PRV_S, vm_ld, (long)&pages[7][0]), 0x1007, "satp Bare: S load is physical");
}

int main(void)
{
    rt_printf("# sv%d\n", VM_LEVELS == 4 ? 48 : 39);
    setup();
    sizes();
    bad_ptes();
    permissions();
    accessed_dirty();
    mprv();
    straddle();
    remap_code();
    fences();
    test_done();
}
