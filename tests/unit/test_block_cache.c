/*
 * Block cache invalidation (engine/rv_block.c): a store into a page that
 * holds decoded code drops only the blocks whose span overlaps the written
 * bytes. Data stored next to code must not make the interpreter decode
 * its loop again on every iteration; a store over an instruction must drop
 * that block so the new instruction runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rv_cpu.h"
#include "rv_helpers.h"
#include "hart_fixture.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1ull << 20)

enum { A0 = 10, A1, A2, A3, A4 };

static uint32_t enc_i(unsigned op, unsigned f3, unsigned rd, unsigned rs1, int32_t imm)
{
    return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}

static uint32_t enc_s(unsigned f3, unsigned rs1, unsigned rs2, int32_t imm)
{
    uint32_t u = (uint32_t)imm;

    return (u >> 5 & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (u & 0x1f) << 7 | 0x23;
}

static uint32_t enc_b(unsigned f3, unsigned rs1, unsigned rs2, int32_t imm)
{
    uint32_t u = (uint32_t)imm;

    return (u >> 12 & 1) << 31 | (u >> 5 & 0x3f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 |
           (u >> 1 & 0xf) << 8 | (u >> 11 & 1) << 7 | 0x63;
}

static uint32_t enc_jal(unsigned rd, int32_t imm)
{
    uint32_t u = (uint32_t)imm;

    return (u >> 20 & 1) << 31 | (u >> 1 & 0x3ff) << 21 | (u >> 11 & 1) << 20 |
           (u >> 12 & 0xff) << 12 | rd << 7 | 0x6f;
}

#define ADDI(rd, rs1, imm) enc_i(0x13, 0, rd, rs1, imm)
#define SW(rs2, imm, rs1) enc_s(2, rs1, rs2, imm)
#define SD(rs2, imm, rs1) enc_s(3, rs1, rs2, imm)
#define BLT(rs1, rs2, imm) enc_b(4, rs1, rs2, imm)
#define JAL0(imm) enc_jal(0, imm)

struct fix {
    struct rv_hart *h;
    uint8_t *ram;
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    f->h = test_hart_new(&f->ram, RAM_BASE, RAM_SIZE, NULL);
    rv_hart_reset(f->h, RAM_BASE);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    test_hart_free(f->h, f->ram);
    free(f);
    return 0;
}

static void put_code(struct fix *f, uint64_t pa, const uint32_t *w, size_t n)
{
    memcpy(f->ram + (pa - RAM_BASE), w, n * sizeof(*w));
}

static uint64_t ram64(const struct fix *f, uint64_t pa)
{
    uint64_t v;

    memcpy(&v, f->ram + (pa - RAM_BASE), 8);
    return v;
}

/* Decode (or find) the block at pa and return it. */
static struct rv_block *block_at(struct fix *f, uint64_t pa)
{
    struct rv_block *b;

    f->h->pc = pa;
    b = rv_block_get(f->h);
    assert_non_null(b);
    assert_true(b->cached);
    return b;
}

/* A loop storing into its own page, next to (not over) its code, runs
 * from one decoded block however many times it stores. */
static void test_data_next_to_code(void **state)
{
    struct fix *f = *state;
    struct rv_hart *h = f->h;
    const uint64_t data = RAM_BASE + 0x800;
    const uint32_t loop[] = {
        ADDI(A0, A0, 1),
        SD(A0, 0, A1),          /* data on the code's page */
        SD(A0, 8, A1),
        JAL0(-12),
    };
    const uint64_t iters = 20000;

    put_code(f, RAM_BASE, loop, 4);
    h->x[A1] = data;
    rv_hart_run(h, 4 * iters);
    assert_true(h->x[A0] >= iters);
    assert_int_equal(ram64(f, data), h->x[A0]);
    assert_int_equal(ram64(f, data + 8), h->x[A0]);
    /* one block, decoded once: not one decode per iteration */
    assert_int_equal(h->ctr.blocks_decoded, 1);
    assert_int_equal(h->ctr.block_invalidations, 0);
    assert_true(rv_bc_page_has_code(h, RAM_BASE));
}

/* A store over an instruction of another block of the loop drops that
 * block, and the next pass runs the new instruction. */
static void test_patch_in_loop(void **state)
{
    struct fix *f = *state;
    struct rv_hart *h = f->h;
    const uint32_t prog[] = {
        ADDI(A0, A0, 1),        /* 0x00: patched to addi a0, a0, 100 */
        SW(A2, 0, A1),          /* 0x04: a1 = RAM_BASE */
        SD(A0, 0x7f8, A1),      /* 0x08: data, same page */
        ADDI(A3, A3, 1),        /* 0x0c */
        BLT(A3, A4, -16),       /* 0x10 */
        JAL0(0),                /* 0x14: park */
    };

    put_code(f, RAM_BASE, prog, 6);
    h->x[A1] = RAM_BASE;
    h->x[A2] = ADDI(A0, A0, 100);
    h->x[A4] = 50;
    rv_hart_run(h, 2000);
    assert_int_equal(h->pc, RAM_BASE + 0x14);
    assert_int_equal(h->x[A3], 50);
    /* first pass the old instruction, then 49 passes of the new one */
    assert_int_equal(h->x[A0], 1 + 49 * 100);
    assert_int_equal(ram64(f, RAM_BASE + 0x7f8), h->x[A0]);
    /* each pass's store drops the block at 0 (and only it): 50 decodes
     * of it, one of the block at 0x08 and one of the parking loop */
    assert_int_equal(h->ctr.block_invalidations, 50);
    assert_int_equal(h->ctr.blocks_decoded, 50 + 1 + 1);
}

/* The overlap test itself: byte-exact at both ends of a block's span,
 * and the span (which the JIT widens to a region) rather than its bytes. */
static void test_span_overlap(void **state)
{
    struct fix *f = *state;
    struct rv_hart *h = f->h;
    const uint32_t prog[] = {
        ADDI(A0, A0, 1),        /* 0x100: block 1 */
        JAL0(8),                /* 0x104 -> 0x10c */
        ADDI(A0, A0, 2),        /* 0x108: not in any block */
        ADDI(A0, A0, 3),        /* 0x10c: block 2 */
        JAL0(0),                /* 0x110 */
    };
    const uint64_t b1 = RAM_BASE + 0x100, b2 = RAM_BASE + 0x10c;
    struct rv_block *b;
    uint64_t gen;

    put_code(f, b1, prog, 5);
    b = block_at(f, b1);
    assert_int_equal(b->span_lo, 0x100);
    assert_int_equal(b->span_hi, 0x108);
    block_at(f, b2);

    /* bytes right before, between and after the blocks: nothing dropped */
    gen = h->xlate_gen;
    assert_int_equal(rv_bc_invalidate(h, RAM_BASE + 0xf8, 8), 0);
    assert_int_equal(rv_bc_invalidate(h, RAM_BASE + 0x108, 4), 0);
    assert_int_equal(rv_bc_invalidate(h, RAM_BASE + 0x114, 1), 0);
    assert_int_equal(rv_bc_invalidate(h, RAM_BASE + 0x1000, 8), 0);   /* next page */
    assert_int_equal(h->xlate_gen, gen);
    assert_int_equal(h->ctr.block_invalidations, 0);
    assert_ptr_equal(rv_bc_find(h, b1), b);
    assert_non_null(rv_bc_find(h, b2));

    /* the last byte of block 1 drops it alone; the page keeps code */
    assert_int_not_equal(rv_bc_invalidate(h, RAM_BASE + 0x107, 1), 0);
    assert_false(b->valid);
    assert_null(rv_bc_find(h, b1));
    assert_non_null(rv_bc_find(h, b2));
    assert_true(rv_bc_page_has_code(h, b1));
    assert_int_equal(h->ctr.block_invalidations, 1);
    assert_true(h->xlate_gen != gen);

    /* a span widened past the block's bytes (a JIT region) counts */
    b = block_at(f, b1);
    assert_int_equal(h->ctr.blocks_decoded, 3);
    b->span_hi = 0x114;
    gen = h->xlate_gen;
    assert_int_not_equal(rv_bc_invalidate(h, RAM_BASE + 0x108, 2), 0);
    assert_null(rv_bc_find(h, b1));
    assert_non_null(rv_bc_find(h, b2));
    assert_true(h->xlate_gen != gen);

    /* a write over the last block (and into the next page) empties the
     * page's list */
    assert_int_not_equal(rv_bc_invalidate(h, RAM_BASE + 0xf0, 0x1000), 0);
    assert_null(rv_bc_find(h, b2));
    assert_false(rv_bc_page_has_code(h, b1));
    assert_int_equal(h->ctr.block_invalidations, 3);
}

/* The store slow path tells its caller to leave the block only when it
 * dropped one, and keeps code pages out of the store TLB until they hold
 * no code. */
static void test_store_slow_result(void **state)
{
    struct fix *f = *state;
    struct rv_hart *h = f->h;
    const uint32_t prog[] = { ADDI(A0, A0, 1), JAL0(0) };
    const uint64_t code = RAM_BASE + 0x3000;

    put_code(f, code, prog, 2);
    block_at(f, code);
    assert_int_equal(rv_store_slow(h, code + 0x10, 8, 1), RV_CONT);
    assert_int_equal(rv_store_slow(h, code - 4, 4, 1), RV_CONT);
    assert_int_equal(h->ctr.block_invalidations, 0);
    assert_true(rv_bc_page_has_code(h, code));
    /* a misaligned store whose last byte hits the first instruction */
    assert_int_equal(rv_store_slow(h, code - 3, 4, 0), RV_DONE);
    assert_int_equal(h->ctr.block_invalidations, 1);
    assert_false(rv_bc_page_has_code(h, code));
    assert_int_equal(rv_store_slow(h, code, 4, ADDI(A0, A0, 7)), RV_CONT);
    /* the patched instruction is what a new decode sees */
    h->x[A0] = 0;
    h->pc = code;
    rv_hart_run(h, 10);
    assert_int_equal(h->x[A0], 7);
}

/* FENCE.I on a one-hart machine (env.page_wgen set) drops the code of
 * the pages a device wrote since it was decoded, and only that; without
 * page_wgen (several harts) it drops everything. */
static void test_fence_i(void **state)
{
    struct fix *f = *state;
    _Atomic uint32_t *wgen = calloc(RAM_SIZE >> RV_PAGE_SHIFT, sizeof(*wgen));
    const uint32_t code[] = { ADDI(1, 1, 1), JAL0(-4) };
    struct rv_block *a, *b;

    assert_non_null(wgen);
    f->h->env.page_wgen = wgen;
    put_code(f, RAM_BASE, code, 2);
    put_code(f, RAM_BASE + 0x1000, code, 2);
    a = block_at(f, RAM_BASE);
    b = block_at(f, RAM_BASE + 0x1000);
    rv_bc_fence_i(f->h);
    assert_ptr_equal(rv_bc_find(f->h, RAM_BASE), a);
    assert_ptr_equal(rv_bc_find(f->h, RAM_BASE + 0x1000), b);
    /* a device wrote the second page (virt_devices.c's gm_map) */
    atomic_fetch_add(&wgen[1], 1);
    rv_bc_fence_i(f->h);
    assert_ptr_equal(rv_bc_find(f->h, RAM_BASE), a);
    assert_false(b->valid);
    assert_null(rv_bc_find(f->h, RAM_BASE + 0x1000));
    /* decoded again, it is kept by the next FENCE.I */
    b = block_at(f, RAM_BASE + 0x1000);
    rv_bc_fence_i(f->h);
    assert_ptr_equal(rv_bc_find(f->h, RAM_BASE + 0x1000), b);
    f->h->env.page_wgen = NULL;
    rv_bc_fence_i(f->h);
    assert_null(rv_bc_find(f->h, RAM_BASE));
    assert_null(rv_bc_find(f->h, RAM_BASE + 0x1000));
    free((void *)wgen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_data_next_to_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_patch_in_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_span_overlap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_slow_result, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fence_i, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
