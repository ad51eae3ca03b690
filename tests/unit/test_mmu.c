/*
 * Unit tests for engine/rv_mmu.c: Sv39/Sv48 page walks on tables crafted
 * in a RAM buffer, every page-fault and access-fault case of the
 * privileged spec 1.12 section 4.3.2 ("Virtual Address Translation
 * Process"), A/D updates (glassbox sets them in hardware and the test
 * checks the PTE in memory), PMP on the walk itself, and the software TLB:
 * translations are cached until SFENCE.VMA / rv_tlb_flush_* and re-walked
 * afterwards, also for code run by the interpreter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rv_cpu.h"
#include "rv_csr.h"
#include "hart_fixture.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (4ull << 20)
#define PT_POOL (RAM_BASE + 0x200000)     /* page-table pages come from here */

/* PTE bits (4.3.1, Figure 4.18) */
#define V (1ull << 0)
#define R (1ull << 1)
#define W (1ull << 2)
#define X (1ull << 3)
#define U (1ull << 4)
#define G (1ull << 5)
#define A (1ull << 6)
#define D (1ull << 7)

#define SATP_SV39 (8ull << 60)
#define SATP_SV48 (9ull << 60)

/* exception causes (3.1.15) */
enum { INSN_ACCESS = 1, LOAD_ACCESS = 5, STORE_ACCESS = 7,
       INSN_PAGE = 12, LOAD_PAGE = 13, STORE_PAGE = 15 };
static const int pf[3] = {INSN_PAGE, LOAD_PAGE, STORE_PAGE};
static const int af[3] = {INSN_ACCESS, LOAD_ACCESS, STORE_ACCESS};

struct fixture {
    struct rv_hart *h;
    uint8_t *ram;
    uint64_t next_pt;       /* bump allocator for table pages */
    uint64_t root;
    int levels;
};

static struct fixture *F;

static int setup_common(void **state, int levels)
{
    struct fixture *f = calloc(1, sizeof(*f));

    f->h = test_hart_new(&f->ram, RAM_BASE, RAM_SIZE, NULL);
    /* PMP entry 15 grants S and U everything, as firmware does; with no
     * matching entry S/U accesses fail (3.7.1) */
    assert_int_equal(rv_csr_write(f->h, CSR_PMPADDR0 + 15, (1ull << 54) - 1), 0);
    assert_int_equal(rv_csr_write(f->h, CSR_PMPCFG0 + 2, 0x1full << 56), 0);
    f->next_pt = PT_POOL;
    f->levels = levels;
    f->root = f->next_pt;
    f->next_pt += 4096;
    f->h->satp = (levels == 3 ? SATP_SV39 : SATP_SV48) | ((f->root - 0) >> 12);
    rv_tlb_flush_all(f->h);
    F = f;
    *state = f;
    return 0;
}

static int setup39(void **state) { return setup_common(state, 3); }
static int setup48(void **state) { return setup_common(state, 4); }

static int teardown(void **state)
{
    struct fixture *f = *state;

    test_hart_free(f->h, f->ram);
    free(f);
    return 0;
}

static uint64_t *pte_at(uint64_t pa)
{
    assert_true(pa >= RAM_BASE && pa + 8 <= RAM_BASE + RAM_SIZE);
    return (uint64_t *)(F->ram + (pa - RAM_BASE));
}

static uint64_t mkpte(uint64_t pa, uint64_t flags)
{
    return (pa >> 12) << 10 | flags;
}

/* Install a mapping of va with its leaf at `level` (0 = 4 KiB, 1 = 2 MiB,
 * 2 = 1 GiB, 3 = 512 GiB). Returns the leaf PTE's physical address. */
static uint64_t map(uint64_t va, uint64_t pa, int level, uint64_t flags)
{
    uint64_t table = F->root;

    for (int i = F->levels - 1; i > level; i--) {
        uint64_t idx = (va >> (12 + 9 * i)) & 0x1ff;
        uint64_t *p = pte_at(table + 8 * idx);
        if (!(*p & V)) {
            uint64_t n = F->next_pt;
            F->next_pt += 4096;
            memset(F->ram + (n - RAM_BASE), 0, 4096);
            *p = mkpte(n, V);
        }
        table = (*p >> 10) << 12;
    }
    uint64_t slot = table + 8 * ((va >> (12 + 9 * level)) & 0x1ff);
    *pte_at(slot) = mkpte(pa, flags);
    return slot;
}

/* Address of the PTE at `level` on va's walk (must exist). */
static uint64_t pte_addr(uint64_t va, int level)
{
    uint64_t table = F->root;

    for (int i = F->levels - 1; i > level; i--) {
        uint64_t *p = pte_at(table + 8 * ((va >> (12 + 9 * i)) & 0x1ff));
        table = (*p >> 10) << 12;
    }
    return table + 8 * ((va >> (12 + 9 * level)) & 0x1ff);
}

static int xlate(uint64_t va, enum rv_access acc, unsigned priv, uint64_t *pa)
{
    *pa = 0xdeadbeef;
    return rv_translate(F->h, va, acc, priv, pa);
}

static void expect_pa(uint64_t va, enum rv_access acc, unsigned priv, uint64_t want)
{
    uint64_t pa;
    int c = xlate(va, acc, priv, &pa);

    if (c != 0)
        fail_msg("va 0x%llx acc %d priv %u: cause %d, want pa 0x%llx", (unsigned long long)va,
                 acc, priv, c, (unsigned long long)want);
    if (pa != want)
        fail_msg("va 0x%llx acc %d: pa 0x%llx, want 0x%llx", (unsigned long long)va, acc,
                 (unsigned long long)pa, (unsigned long long)want);
}

static void expect_fault(uint64_t va, enum rv_access acc, unsigned priv, int cause)
{
    uint64_t pa;
    int c = xlate(va, acc, priv, &pa);

    if (c != cause)
        fail_msg("va 0x%llx acc %d priv %u: cause %d, want %d (pa 0x%llx)",
                 (unsigned long long)va, acc, priv, c, cause, (unsigned long long)pa);
}

#define ALL_ACC for (int acc = 0; acc < 3; acc++)

/* ---- correct translations ------------------------------------------------ */

static void test_4k_pages(void **state)
{
    (void)state;
    map(0x40001000, RAM_BASE + 0x5000, 0, V | R | W | X | A | D);
    map(0x40002000, RAM_BASE + 0x3000, 0, V | R | W | X | A | D);
    ALL_ACC {
        expect_pa(0x40001000, acc, RV_PRIV_S, RAM_BASE + 0x5000);
        expect_pa(0x40001abc, acc, RV_PRIV_S, RAM_BASE + 0x5abc);
        expect_pa(0x40001fff, acc, RV_PRIV_S, RAM_BASE + 0x5fff);
        expect_pa(0x40002008, acc, RV_PRIV_S, RAM_BASE + 0x3008);
        /* the neighbour is not mapped */
        expect_fault(0x40003000, acc, RV_PRIV_S, pf[acc]);
        expect_fault(0x40000ffc, acc, RV_PRIV_S, pf[acc]);
    }
    /* M-mode and bare mode do not translate */
    expect_pa(0x40001000, RV_ACC_LOAD, RV_PRIV_M, 0x40001000);
    F->h->satp = 0;
    expect_pa(0x40001000, RV_ACC_LOAD, RV_PRIV_S, 0x40001000);
    expect_pa(0x40001000, RV_ACC_FETCH, RV_PRIV_U, 0x40001000);
}

static void test_high_half(void **state)
{
    (void)state;
    /* a canonical address with the top bit set (kernel half) */
    uint64_t va = F->levels == 3 ? 0xffffffc000201000ull : 0xffff800000201000ull;
    map(va, RAM_BASE + 0x7000, 0, V | R | A);
    expect_pa(va + 0x10, RV_ACC_LOAD, RV_PRIV_S, RAM_BASE + 0x7010);
}

static void test_superpages(void **state)
{
    (void)state;
    /* 2 MiB: pa = ppn[n:1] of the PTE, va[20:0] */
    map(0x40200000, 0x80400000, 1, V | R | W | X | A | D);
    ALL_ACC expect_pa(0x402abcde, acc, RV_PRIV_S, 0x804abcde);
    expect_pa(0x403fffff, RV_ACC_LOAD, RV_PRIV_S, 0x805fffff);
    /* 1 GiB: va[29:0] */
    map(0x80000000ull, 0x1c0000000ull, 2, V | R | W | X | A | D);
    ALL_ACC expect_pa(0x8abcdef0ull, acc, RV_PRIV_S, 0x1cabcdef0ull);
    expect_pa(0xbfffffffull, RV_ACC_LOAD, RV_PRIV_S, 0x1ffffffffull);
    if (F->levels == 4) {
        /* 512 GiB (Sv48 level 3): va[38:0] */
        map(0x0000010000000000ull, 0x0000038000000000ull, 3, V | R | W | X | A | D);
        ALL_ACC expect_pa(0x0000010123456789ull, acc, RV_PRIV_S, 0x0000038123456789ull);
        expect_pa(0x0000017fffffffffull, RV_ACC_LOAD, RV_PRIV_S, 0x000003ffffffffffull);
    }
}

/* ---- page faults ---------------------------------------------------------- */

static void test_invalid_pte(void **state)
{
    (void)state;
    uint64_t leaf = map(0x40001000, RAM_BASE + 0x5000, 0, R | W | X | A | D);   /* V = 0 */
    ALL_ACC expect_fault(0x40001000, acc, RV_PRIV_S, pf[acc]);
    *pte_at(leaf) |= V;
    ALL_ACC expect_pa(0x40001000, acc, RV_PRIV_S, RAM_BASE + 0x5000);
    /* an invalid non-leaf entry on the way */
    uint64_t mid = pte_addr(0x40001000, 1);
    *pte_at(mid) &= ~V;
    ALL_ACC expect_fault(0x40001000, acc, RV_PRIV_S, pf[acc]);
    /* even with permission bits set, V = 0 means invalid */
    *pte_at(mid) = mkpte(RAM_BASE + 0x5000, R | W | X | A | D);
    ALL_ACC expect_fault(0x40001000, acc, RV_PRIV_S, pf[acc]);
}

static void test_w_without_r(void **state)
{
    (void)state;
    /* R = 0, W = 1 is reserved at any level (4.3.2 step 3) */
    uint64_t leaf = map(0x40001000, RAM_BASE + 0x5000, 0, V | W | A | D);
    ALL_ACC expect_fault(0x40001000, acc, RV_PRIV_S, pf[acc]);
    *pte_at(leaf) = mkpte(RAM_BASE + 0x5000, V | W | X | A | D);
    ALL_ACC expect_fault(0x40001000, acc, RV_PRIV_S, pf[acc]);
    /* as a superpage */
    map(0x40400000, 0x80400000, 1, V | W | A | D);
    ALL_ACC expect_fault(0x40400000, acc, RV_PRIV_S, pf[acc]);
}

static void test_reserved_bits(void **state)
{
    (void)state;
    uint64_t leaf = map(0x40001000, RAM_BASE + 0x5000, 0, V | R | W | X | A | D);
    uint64_t good = *pte_at(leaf);
    uint64_t mid = pte_addr(0x40001000, 1), good_mid = *pte_at(mid);

    /* bits 63:54 (N, PBMT and reserved): no Svnapot/Svpbmt here, so any
     * of them set is a page fault, on a leaf or on a pointer */
    for (int b = 54; b < 64; b++) {
        *pte_at(leaf) = good | 1ull << b;
        ALL_ACC expect_fault(0x40001000, acc, RV_PRIV_S, pf[acc]);
        *pte_at(leaf) = good;
        *pte_at(mid) = good_mid | 1ull << b;
        expect_fault(0x40001000, RV_ACC_LOAD, RV_PRIV_S, LOAD_PAGE);
        *pte_at(mid) = good_mid;
    }
    /* the RSW bits 9:8 are free for software and G is only a hint */
    *pte_at(leaf) = good | 3ull << 8 | G;
    ALL_ACC expect_pa(0x40001008, acc, RV_PRIV_S, RAM_BASE + 0x5008);
}

static void test_non_canonical(void **state)
{
    (void)state;
    int top = F->levels == 3 ? 38 : 47;
    map(0x1000, RAM_BASE + 0x5000, 0, V | R | W | X | A | D);
    expect_pa(0x1000, RV_ACC_LOAD, RV_PRIV_S, RAM_BASE + 0x5000);
    /* bits 63:top+1 must equal bit top (4.3.1 / 4.4.1) */
    ALL_ACC {
        expect_fault(0x1000 | 1ull << (top + 1), acc, RV_PRIV_S, pf[acc]);
        expect_fault(0x1000 | 1ull << 63, acc, RV_PRIV_S, pf[acc]);
        expect_fault(0x1000 | 1ull << top, acc, RV_PRIV_S, pf[acc]);  /* top set, rest 0 */
    }
    /* a non-canonical address faults even in U with everything mapped */
    expect_fault(0x1000 | 1ull << 62, RV_ACC_LOAD, RV_PRIV_U, LOAD_PAGE);
}

static void test_leaf_missing_at_level0(void **state)
{
    (void)state;
    /* a level-0 entry that is a pointer (V, no R/W/X): no leaf found */
    uint64_t leaf = map(0x40001000, RAM_BASE + 0x6000, 0, V);
    ALL_ACC expect_fault(0x40001000, acc, RV_PRIV_S, pf[acc]);
    /* pointers with U/A/D set are still pointers */
    *pte_at(leaf) = mkpte(RAM_BASE + 0x6000, V | A | D | U);
    ALL_ACC expect_fault(0x40001000, acc, RV_PRIV_S, pf[acc]);
}

static void test_misaligned_superpage(void **state)
{
    (void)state;
    /* 2 MiB leaf whose ppn[0] != 0 */
    map(0x40200000, 0x80401000, 1, V | R | W | X | A | D);
    ALL_ACC expect_fault(0x40200000, acc, RV_PRIV_S, pf[acc]);
    /* 1 GiB leaf whose ppn[1] != 0, or ppn[0] != 0 */
    uint64_t l = map(0x80000000ull, 0x1c0200000ull, 2, V | R | W | X | A | D);
    ALL_ACC expect_fault(0x80000000ull, acc, RV_PRIV_S, pf[acc]);
    *pte_at(l) = mkpte(0x1c0001000ull, V | R | W | X | A | D);
    ALL_ACC expect_fault(0x80000000ull, acc, RV_PRIV_S, pf[acc]);
    *pte_at(l) = mkpte(0x1c0000000ull, V | R | W | X | A | D);
    expect_pa(0x80000000ull, RV_ACC_LOAD, RV_PRIV_S, 0x1c0000000ull);
    if (F->levels == 4) {
        /* 512 GiB leaf whose ppn[2] != 0 */
        l = map(0x0000010000000000ull, 0x0000038040000000ull, 3, V | R | W | X | A | D);
        ALL_ACC expect_fault(0x0000010000000000ull, acc, RV_PRIV_S, pf[acc]);
        *pte_at(l) = mkpte(0x0000038000001000ull, V | R | W | X | A | D);
        ALL_ACC expect_fault(0x0000010000000000ull, acc, RV_PRIV_S, pf[acc]);
    }
}

static void test_user_supervisor(void **state)
{
    struct rv_hart *h = F->h;

    (void)state;
    map(0x10000, RAM_BASE + 0x5000, 0, V | R | W | X | U | A | D);     /* U page */
    map(0x20000, RAM_BASE + 0x6000, 0, V | R | W | X | A | D);         /* S page */

    /* U accessing its own page: fine; an S page: fault */
    ALL_ACC expect_pa(0x10000, acc, RV_PRIV_U, RAM_BASE + 0x5000);
    ALL_ACC expect_fault(0x20000, acc, RV_PRIV_U, pf[acc]);

    /* S touching a U page: fault without SUM, loads/stores fine with SUM,
     * fetch never (4.3.1) */
    h->mstatus &= ~MSTATUS_SUM;
    ALL_ACC expect_fault(0x10000, acc, RV_PRIV_S, pf[acc]);
    h->mstatus |= MSTATUS_SUM;
    expect_pa(0x10000, RV_ACC_LOAD, RV_PRIV_S, RAM_BASE + 0x5000);
    expect_pa(0x10000, RV_ACC_STORE, RV_PRIV_S, RAM_BASE + 0x5000);
    expect_fault(0x10000, RV_ACC_FETCH, RV_PRIV_S, INSN_PAGE);
    h->mstatus &= ~MSTATUS_SUM;
    ALL_ACC expect_pa(0x20000, acc, RV_PRIV_S, RAM_BASE + 0x6000);
}

static void test_permissions_and_mxr(void **state)
{
    struct rv_hart *h = F->h;

    (void)state;
    map(0x30000, RAM_BASE + 0x5000, 0, V | X | A | D);          /* execute-only */
    map(0x31000, RAM_BASE + 0x6000, 0, V | R | A | D);          /* read-only */
    map(0x32000, RAM_BASE + 0x7000, 0, V | R | W | A | D);      /* no execute */
    map(0x33000, RAM_BASE + 0x8000, 0, V | X | U | A | D);      /* U execute-only */

    /* execute-only: loads fault unless MXR */
    expect_pa(0x30000, RV_ACC_FETCH, RV_PRIV_S, RAM_BASE + 0x5000);
    expect_fault(0x30000, RV_ACC_LOAD, RV_PRIV_S, LOAD_PAGE);
    expect_fault(0x30000, RV_ACC_STORE, RV_PRIV_S, STORE_PAGE);
    h->mstatus |= MSTATUS_MXR;
    expect_pa(0x30000, RV_ACC_LOAD, RV_PRIV_S, RAM_BASE + 0x5000);
    expect_fault(0x30000, RV_ACC_STORE, RV_PRIV_S, STORE_PAGE);  /* MXR: loads only */
    expect_pa(0x33000, RV_ACC_LOAD, RV_PRIV_U, RAM_BASE + 0x8000);
    h->mstatus &= ~MSTATUS_MXR;
    expect_fault(0x33000, RV_ACC_LOAD, RV_PRIV_U, LOAD_PAGE);

    /* read-only: stores fault */
    expect_pa(0x31000, RV_ACC_LOAD, RV_PRIV_S, RAM_BASE + 0x6000);
    expect_fault(0x31000, RV_ACC_STORE, RV_PRIV_S, STORE_PAGE);
    expect_fault(0x31000, RV_ACC_FETCH, RV_PRIV_S, INSN_PAGE);
    /* no X: fetch faults */
    expect_fault(0x32000, RV_ACC_FETCH, RV_PRIV_S, INSN_PAGE);
    expect_pa(0x32000, RV_ACC_STORE, RV_PRIV_S, RAM_BASE + 0x7000);
}

/* ---- A and D ---------------------------------------------------------------- */

static void test_accessed_dirty(void **state)
{
    (void)state;
    uint64_t l1 = map(0x40001000, RAM_BASE + 0x5000, 0, V | R | W | X);
    uint64_t l2 = map(0x40002000, RAM_BASE + 0x6000, 0, V | R | W | X);
    uint64_t l3 = map(0x40003000, RAM_BASE + 0x7000, 0, V | R | W | X);
    uint64_t sp = map(0x40200000, 0x80400000, 1, V | R | W);

    /* glassbox updates A/D in hardware (documented in rv_mmu.c) */
    expect_pa(0x40001000, RV_ACC_LOAD, RV_PRIV_S, RAM_BASE + 0x5000);
    assert_int_equal(*pte_at(l1) & (A | D), A);
    expect_pa(0x40002000, RV_ACC_FETCH, RV_PRIV_S, RAM_BASE + 0x6000);
    assert_int_equal(*pte_at(l2) & (A | D), A);
    expect_pa(0x40003000, RV_ACC_STORE, RV_PRIV_S, RAM_BASE + 0x7000);
    assert_int_equal(*pte_at(l3) & (A | D), A | D);
    /* a store to a page with A already set still sets D */
    expect_pa(0x40001000, RV_ACC_STORE, RV_PRIV_S, RAM_BASE + 0x5000);
    assert_int_equal(*pte_at(l1) & (A | D), A | D);
    /* superpage leaf too; the rest of the PTE is unchanged */
    expect_pa(0x40234000, RV_ACC_STORE, RV_PRIV_S, 0x80434000);
    assert_int_equal(*pte_at(sp), mkpte(0x80400000, V | R | W | A | D));
    /* a faulting access sets nothing */
    uint64_t l4 = map(0x40004000, RAM_BASE + 0x8000, 0, V | R);
    expect_fault(0x40004000, RV_ACC_STORE, RV_PRIV_S, STORE_PAGE);
    assert_int_equal(*pte_at(l4) & (A | D), 0);
    expect_fault(0x40004000, RV_ACC_STORE, RV_PRIV_U, STORE_PAGE);
    assert_int_equal(*pte_at(l4) & (A | D), 0);
    /* pointer PTEs are never given A/D */
    assert_int_equal(*pte_at(pte_addr(0x40001000, 1)) & (A | D), 0);
}

/* ---- access faults during the walk -------------------------------------------- */

static void test_pte_outside_ram(void **state)
{
    struct rv_hart *h = F->h;
    uint64_t satp = h->satp;

    (void)state;
    /* root table in unmapped space: the PTE read is an access fault of
     * the original access type (4.3.2 step 2) */
    h->satp = (satp & ~((1ull << 44) - 1)) | (0x40000000ull >> 12);
    ALL_ACC expect_fault(0x1000, acc, RV_PRIV_S, af[acc]);
    /* a pointer to a next-level table beyond the end of RAM */
    h->satp = satp;
    map(0x1000, RAM_BASE + 0x5000, 0, V | R | W | X | A | D);
    *pte_at(pte_addr(0x1000, 1)) = mkpte(RAM_BASE + RAM_SIZE, V);
    ALL_ACC expect_fault(0x1000, acc, RV_PRIV_S, af[acc]);
}

static void test_pmp_denies_walk(void **state)
{
    struct rv_hart *h = F->h;

    (void)state;
    map(0x1000, RAM_BASE + 0x5000, 0, V | R | W | X | A | D);
    expect_pa(0x1000, RV_ACC_LOAD, RV_PRIV_S, RAM_BASE + 0x5000);
    /* entry 0: the root table page, no permissions; it takes priority
     * over the allow-all entry 15. Page-table reads are S-mode loads for
     * PMP (3.7.1) */
    assert_int_equal(rv_csr_write(h, CSR_PMPADDR0, (F->root >> 2) | 0x1ff), 0);
    assert_int_equal(rv_csr_write(h, CSR_PMPCFG0, 3 << 3), 0);     /* NAPOT, --- */
    rv_tlb_flush_all(h);
    ALL_ACC expect_fault(0x1000, acc, RV_PRIV_S, af[acc]);
    ALL_ACC expect_fault(0x1000, acc, RV_PRIV_U, af[acc]);
    /* read-only is enough for a walk whose A/D are already set */
    assert_int_equal(rv_csr_write(h, CSR_PMPCFG0, (3 << 3) | 1), 0);
    expect_pa(0x1000, RV_ACC_LOAD, RV_PRIV_S, RAM_BASE + 0x5000);

    /* a leaf needing an A/D update on a PMP read-only table page: the
     * implicit store fails, and that is an access fault */
    uint64_t leaf_page = pte_addr(0x1000, 0) & ~0xfffull;
    *pte_at(pte_addr(0x1000, 0)) = mkpte(RAM_BASE + 0x5000, V | R | W);
    assert_int_equal(rv_csr_write(h, CSR_PMPADDR0, (leaf_page >> 2) | 0x1ff), 0);
    assert_int_equal(rv_csr_write(h, CSR_PMPCFG0, (3 << 3) | 1), 0);
    expect_fault(0x1000, RV_ACC_LOAD, RV_PRIV_S, LOAD_ACCESS);
    assert_int_equal(*pte_at(pte_addr(0x1000, 0)) & (A | D), 0);
}

/* Data accesses through the slow paths raise the fault with the virtual
 * address in xtval, and PMP on the final physical address applies. */
static void test_slow_paths_raise(void **state)
{
    struct rv_hart *h = F->h;
    uint64_t v;

    (void)state;
    h->mtvec = RAM_BASE;
    map(0x1000, RAM_BASE + 0x5000, 0, V | R | A | D);
    *(uint64_t *)(F->ram + 0x5008) = 0x1122334455667788ull;
    h->priv = RV_PRIV_S;
    rv_update_mmu_idx(h);
    assert_int_equal(rv_load_slow(h, 0x1008, 8, &v), 0);
    assert_int_equal(v, 0x1122334455667788ull);
    h->pc = RAM_BASE + 0x40;
    assert_true(rv_store_slow(h, 0x1010, 8, 5) != 0);
    assert_int_equal(h->mcause, STORE_PAGE);
    assert_int_equal(h->mtval, 0x1010);
    assert_int_equal(h->mepc, RAM_BASE + 0x40);
    assert_int_equal(*(uint64_t *)(F->ram + 0x5010), 0);     /* nothing written */
    h->priv = RV_PRIV_S;
    rv_update_mmu_idx(h);
    assert_true(rv_load_slow(h, 0x2000, 4, &v) != 0);
    assert_int_equal(h->mcause, LOAD_PAGE);
    assert_int_equal(h->mtval, 0x2000);

    /* PMP denying the data page itself: load access fault, tval = va */
    assert_int_equal(rv_csr_write(h, CSR_PMPADDR0, ((RAM_BASE + 0x5000) >> 2) | 0x1ff), 0);
    assert_int_equal(rv_csr_write(h, CSR_PMPCFG0, 3 << 3), 0);
    h->priv = RV_PRIV_S;
    rv_update_mmu_idx(h);
    assert_true(rv_load_slow(h, 0x1008, 8, &v) != 0);
    assert_int_equal(h->mcause, LOAD_ACCESS);
    assert_int_equal(h->mtval, 0x1008);

    /* MPRV: M-mode data accesses use MPP's translation */
    assert_int_equal(rv_csr_write(h, CSR_PMPCFG0, 0), 0);
    h->priv = RV_PRIV_M;
    h->mstatus = (h->mstatus & ~MSTATUS_MPP) | (1ull << 11) | MSTATUS_MPRV;
    rv_update_mmu_idx(h);
    assert_int_equal(rv_load_slow(h, 0x1008, 8, &v), 0);
    assert_int_equal(v, 0x1122334455667788ull);
    h->mstatus &= ~MSTATUS_MPRV;
    rv_update_mmu_idx(h);
    assert_true(rv_load_slow(h, 0x1008, 8, &v) != 0);          /* physical 0x1008 */
    assert_int_equal(h->mcause, LOAD_ACCESS);
}

/* ---- TLB ------------------------------------------------------------------- */

static void test_tlb_stale_until_flush(void **state)
{
    struct rv_hart *h = F->h;
    uint64_t v, walks;

    (void)state;
    uint64_t leaf = map(0x7000, RAM_BASE + 0x5000, 0, V | R | W | A | D);
    *(uint64_t *)(F->ram + 0x5000) = 0x1111;
    *(uint64_t *)(F->ram + 0x6000) = 0x2222;
    h->priv = RV_PRIV_S;
    rv_update_mmu_idx(h);
    assert_int_equal(rv_load_slow(h, 0x7000, 8, &v), 0);
    assert_int_equal(v, 0x1111);

    /* the load filled the data TLB: its entry maps va to the old page */
    struct rv_tlb_entry *e = &h->tlb_load[h->mmu_idx_data][(0x7000 >> 12) & (RV_TLB_SIZE - 1)];
    assert_int_equal(e->tag, 0x7000);
    assert_ptr_equal((uint8_t *)(uintptr_t)(0x7000 + e->addend), F->ram + 0x5000);

    /* change the PTE: the cached translation may still be used (the spec
     * requires SFENCE.VMA for the change to be seen) */
    *pte_at(leaf) = mkpte(RAM_BASE + 0x6000, V | R | W | A | D);
    assert_int_equal(e->tag, 0x7000);

    /* flushing that page drops the entry; the next access walks again
     * and sees the new mapping */
    rv_tlb_flush_page(h, 0x7000);
    assert_true(e->tag != 0x7000);
    walks = h->ctr.page_walks;
    assert_int_equal(rv_load_slow(h, 0x7000, 8, &v), 0);
    assert_int_equal(v, 0x2222);
    assert_true(h->ctr.page_walks > walks);
    assert_int_equal(e->tag, 0x7000);
    assert_ptr_equal((uint8_t *)(uintptr_t)(0x7000 + e->addend), F->ram + 0x6000);

    /* flush_all drops every kind and every privilege index */
    uint64_t st;
    assert_int_equal(rv_store_slow(h, 0x7008, 8, 0x33), 0);
    assert_int_equal(*(uint64_t *)(F->ram + 0x6008), 0x33);
    rv_tlb_flush_all(h);
    for (unsigned m = 0; m < RV_MMU_COUNT; m++) {
        assert_true(h->tlb_load[m][7].tag != 0x7000);
        assert_true(h->tlb_store[m][7].tag != 0x7000);
        assert_true(h->tlb_fetch[m][7].tag != 0x7000);
    }
    (void)st;
}

/* A fence naming any address inside a superpage must drop the whole
 * superpage's translation (4.2.1). */
static void test_tlb_flush_superpage(void **state)
{
    struct rv_hart *h = F->h;
    uint64_t v;

    (void)state;
    uint64_t leaf = map(0x40000000, 0x80000000, 1, V | R | W | A | D);
    *(uint64_t *)(F->ram + 0x5000) = 0xaaaa;
    *(uint64_t *)(F->ram + 0x205000) = 0xbbbb;
    h->priv = RV_PRIV_S;
    rv_update_mmu_idx(h);
    assert_int_equal(rv_load_slow(h, 0x40005000, 8, &v), 0);
    assert_int_equal(v, 0xaaaa);
    *pte_at(leaf) = mkpte(0x80200000, V | R | W | A | D);
    rv_tlb_flush_page(h, 0x40123000);       /* another 4 KiB of the 2 MiB page */
    struct rv_tlb_entry *e = &h->tlb_load[h->mmu_idx_data][(0x40005000 >> 12) & (RV_TLB_SIZE - 1)];
    assert_true(e->tag != 0x40005000);
    assert_int_equal(rv_load_slow(h, 0x40005000, 8, &v), 0);
    assert_int_equal(v, 0xbbbb);
}

static void put32(uint64_t pa, uint32_t w)
{
    memcpy(F->ram + (pa - RAM_BASE), &w, 4);
}

static uint64_t tlb_tag(const struct rv_hart *h, uint64_t va)
{
    return h->tlb_load[h->mmu_idx_data][(va >> 12) & (RV_TLB_SIZE - 1)].tag;
}

/* A fence naming a page outside the superpages in use drops only that
 * page (Linux maps itself with superpages and fences user pages one at a
 * time), and leaves the jump cache and block links (xlate_gen) alone
 * unless code was run from that page; past RV_SUPER_MAX superpages any
 * fence drops everything. */
static void test_tlb_fence_outside_superpage(void **state)
{
    struct rv_hart *h = F->h;
    uint64_t v, gen;

    (void)state;
    map(0x40000000, 0x80000000, 1, V | R | W | A | D);      /* 2 MiB */
    map(0x7000, RAM_BASE + 0x5000, 0, V | R | W | A | D);
    map(0x1000, RAM_BASE + 0x10000, 0, V | R | X | A);
    put32(RAM_BASE + 0x10000, 0x0000006f);                  /* j . */
    h->priv = RV_PRIV_S;
    rv_update_mmu_idx(h);
    assert_int_equal(rv_load_slow(h, 0x40005000, 8, &v), 0);
    assert_int_equal(rv_load_slow(h, 0x7000, 8, &v), 0);
    gen = h->xlate_gen;

    rv_tlb_flush_page(h, 0x9000);           /* nothing of it cached */
    assert_int_equal(tlb_tag(h, 0x40005000), 0x40005000);
    assert_int_equal(tlb_tag(h, 0x7000), 0x7000);
    assert_int_equal(h->xlate_gen, gen);
    rv_tlb_flush_page(h, 0x7000);           /* a data page: only it goes */
    assert_true(tlb_tag(h, 0x7000) != 0x7000);
    assert_int_equal(tlb_tag(h, 0x40005000), 0x40005000);
    assert_int_equal(h->xlate_gen, gen);

    /* code ran from 0x1000 (the jump cache has it): its fence changes
     * the generation, so no stale block is reached */
    h->pc = 0x1000;
    rv_hart_run(h, 10);
    gen = h->xlate_gen;
    rv_tlb_flush_page(h, 0x1000);
    assert_true(h->xlate_gen != gen);
    assert_int_equal(tlb_tag(h, 0x40005000), 0x40005000);

    /* more superpages than are tracked: a fence anywhere drops all */
    for (unsigned i = 1; i <= RV_SUPER_MAX; i++) {
        map(0x40000000 + 0x200000ull * i, 0x80000000, 1, V | R | W | A | D);
        assert_int_equal(rv_load_slow(h, 0x40000000 + 0x200000ull * i, 8, &v), 0);
    }
    assert_int_equal(rv_load_slow(h, 0x7000, 8, &v), 0);
    rv_tlb_flush_page(h, 0x9000);
    assert_true(tlb_tag(h, 0x7000) != 0x7000);
    assert_true(tlb_tag(h, 0x40005000) != 0x40005000);
}

/* Through the interpreter: S-mode code loads through the data TLB; a PTE
 * change is seen after SFENCE.VMA, and page walks are counted. */
static void test_tlb_interpreter(void **state)
{
    struct rv_hart *h = F->h;
    uint64_t walks;

    (void)state;
    /* code: va 0x1000 -> pa +0x2000:  ld a0, 0(t0) ; j .  */
    map(0x1000, RAM_BASE + 0x2000, 0, V | R | X | A);
    put32(RAM_BASE + 0x2000, 0x0002b503);       /* ld a0, 0(t0) */
    put32(RAM_BASE + 0x2004, 0x0000006f);       /* j . */
    /* sfence.vma t0, x0 at va 0x1100 */
    put32(RAM_BASE + 0x2100, 0x12028073);       /* sfence.vma t0, zero */
    put32(RAM_BASE + 0x2104, 0x0000006f);
    uint64_t leaf = map(0x9000, RAM_BASE + 0x5000, 0, V | R | W | A | D);
    *(uint64_t *)(F->ram + 0x5000) = 0x1111;
    *(uint64_t *)(F->ram + 0x6000) = 0x2222;
    h->x[5] = 0x9000;
    h->priv = RV_PRIV_S;
    rv_update_mmu_idx(h);

    h->pc = 0x1000;
    rv_hart_run(h, 3);
    assert_int_equal(h->x[10], 0x1111);
    walks = h->ctr.page_walks;
    assert_true(walks >= 2);                    /* fetch and load walked */

    /* re-run: translations come from the TLBs, no walk */
    h->x[10] = 0;
    h->pc = 0x1000;
    rv_hart_run(h, 3);
    assert_int_equal(h->x[10], 0x1111);
    assert_int_equal(h->ctr.page_walks, walks);

    /* remap without a fence: still the cached translation */
    *pte_at(leaf) = mkpte(RAM_BASE + 0x6000, V | R | W | A | D);
    h->x[10] = 0;
    h->pc = 0x1000;
    rv_hart_run(h, 3);
    assert_int_equal(h->x[10], 0x1111);
    assert_int_equal(h->ctr.page_walks, walks);

    /* sfence.vma 0x9000 in S-mode, then the load walks and sees 0x2222 */
    h->pc = 0x1100;
    rv_hart_run(h, 2);
    assert_int_equal(h->pc, 0x1104);
    h->x[10] = 0;
    h->pc = 0x1000;
    rv_hart_run(h, 3);
    assert_int_equal(h->x[10], 0x2222);
    assert_true(h->ctr.page_walks > walks);
}

/* Code remapped under the same virtual pc, then SFENCE.VMA: the new code
 * runs (no stale block reached through the jump cache or block links). */
static void test_code_remap_after_fence(void **state)
{
    struct rv_hart *h = F->h;

    (void)state;
    /* va 0x1000: j 0x2000 (a separate page, so the two are linked) */
    map(0x1000, RAM_BASE + 0x10000, 0, V | R | X | A);
    put32(RAM_BASE + 0x10000, 0x0000106f);      /* jal x0, +0x1000 */
    /* va 0x2000 -> old code: li a1, 2 ; j 0x1000 */
    uint64_t leaf = map(0x2000, RAM_BASE + 0x11000, 0, V | R | X | A);
    put32(RAM_BASE + 0x11000, 0x00200593);      /* li a1, 2 */
    put32(RAM_BASE + 0x11004, 0xffdfe06f);      /* jal x0, -0x1004 */
    /* new code at another physical page: li a1, 3 ; j 0x1000 */
    put32(RAM_BASE + 0x12000, 0x00300593);      /* li a1, 3 */
    put32(RAM_BASE + 0x12004, 0xffdfe06f);
    h->priv = RV_PRIV_S;
    rv_update_mmu_idx(h);
    h->pc = 0x1000;
    rv_hart_run(h, 1000);
    assert_int_equal(h->x[11], 2);

    *pte_at(leaf) = mkpte(RAM_BASE + 0x12000, V | R | X | A);
    rv_tlb_flush_all(h);                        /* what sfence.vma x0, x0 does */
    h->x[11] = 0;
    rv_hart_run(h, 1000);
    assert_int_equal(h->x[11], 3);

    /* and with a page fence naming the remapped page */
    *pte_at(leaf) = mkpte(RAM_BASE + 0x11000, V | R | X | A);
    rv_tlb_flush_page(h, 0x2000);
    h->x[11] = 0;
    rv_hart_run(h, 1000);
    assert_int_equal(h->x[11], 2);

    /* writing satp (a new address space) also takes effect */
    *pte_at(leaf) = mkpte(RAM_BASE + 0x12000, V | R | X | A);
    h->priv = RV_PRIV_M;
    assert_int_equal(rv_csr_write(h, CSR_SATP, h->satp), 0);
    h->priv = RV_PRIV_S;
    h->x[11] = 0;
    rv_hart_run(h, 1000);
    assert_int_equal(h->x[11], 3);
}

int main(void)
{
#define T39(f) cmocka_unit_test_setup_teardown(f, setup39, teardown)
#define T48(f) cmocka_unit_test_setup_teardown(f, setup48, teardown)
#define BOTH(f) T39(f), T48(f)
    const struct CMUnitTest tests[] = {
        BOTH(test_4k_pages),
        BOTH(test_high_half),
        BOTH(test_superpages),
        BOTH(test_invalid_pte),
        BOTH(test_w_without_r),
        BOTH(test_reserved_bits),
        BOTH(test_non_canonical),
        BOTH(test_leaf_missing_at_level0),
        BOTH(test_misaligned_superpage),
        BOTH(test_user_supervisor),
        BOTH(test_permissions_and_mxr),
        BOTH(test_accessed_dirty),
        BOTH(test_pte_outside_ram),
        BOTH(test_pmp_denies_walk),
        BOTH(test_slow_paths_raise),
        BOTH(test_tlb_stale_until_flush),
        BOTH(test_tlb_flush_superpage),
        BOTH(test_tlb_fence_outside_superpage),
        BOTH(test_tlb_interpreter),
        BOTH(test_code_remap_after_fence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
