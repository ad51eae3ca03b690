/*
 * --jit-verify (engine/jit/jit_verify.c): a block whose "compiled code" is
 * a C function standing in for libgccjit output, so the test can make it
 * wrong on purpose. Correct code must run unnoticed (and stay the result
 * the guest sees); a wrong register, a wrong store value or a store to the
 * wrong address must stop the hart with a diff naming it, and the
 * interpreter's probe must leave no trace in memory.
 *
 * The block: addi a0, zero, 5; sd a0, 0(a1); jal zero, 0 (a self-loop,
 * which is a block of its own and stays interpreted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "jit/jit_verify.h"
#include "rv_cpu.h"
#include "rv_helpers.h"
#include "hart_fixture.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1ull << 20)
#define DATA (RAM_BASE + 0x2000)    /* not the code page: checkable */

enum fault { GOOD, BAD_REG, BAD_VALUE, BAD_ADDR };
static enum fault fault;

/* What libgccjit would generate for the block, optionally wrong. */
static int fake_block(struct rv_hart *h, uint64_t bpc, uint64_t base, struct jit_region *R)
{
    (void)R;
    uint64_t addr = h->x[11] + (fault == BAD_ADDR ? 8 : 0);

    h->x[10] = fault == BAD_REG ? 6 : 5;
    /* exact pc/instret for a store fault, as generated code does */
    h->pc = bpc + 4;
    h->instret = base + 1;
    if (rv_store_slow(h, addr, 8, fault == BAD_VALUE ? 7 : 5) == RV_TRAP)
        return -1;
    h->pc = bpc + 8;
    h->instret = base + 3;
    return 0;       /* the taken exit of the JAL */
}

static struct rv_block_link links[2];
static struct jit_region region = { .fn = fake_block, .link = links };

struct fix {
    struct rv_hart *h;
    uint8_t *ram;
    char diff[8192];
    int reports;
};

static void on_report(void *opaque, const char *msg)
{
    struct fix *f = opaque;

    snprintf(f->diff, sizeof(f->diff), "%s", msg);
    f->reports++;
}

static void put32(uint8_t *p, uint32_t w)
{
    memcpy(p, &w, 4);
}

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    struct rv_block *b;

    assert_non_null(f);
    f->h = test_hart_new(&f->ram, RAM_BASE, RAM_SIZE, NULL);
    put32(f->ram + 0, 0x00500513);      /* addi a0, zero, 5 */
    put32(f->ram + 4, 0x00a5b023);      /* sd a0, 0(a1) */
    put32(f->ram + 8, 0x0000006f);      /* jal zero, 0 */
    rv_hart_reset(f->h, RAM_BASE);
    f->h->x[11] = DATA;
    b = rv_block_get(f->h);
    assert_non_null(b);
    assert_int_equal(b->n, 3);
    /* install the fake code the way rv_jit_install does */
    region.blk = b;
    b->jit_region = &region;
    b->jit_code = &region;
    b->jit_op0 = b->insns[0].op;
    b->insns[0].op = RV_OP_JIT;
    assert_int_equal(jit_verify_attach(f->h, on_report, f), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    jit_verify_detach(f->h);
    test_hart_free(f->h, f->ram);
    free(f);
    return 0;
}

static uint64_t ram64(const struct fix *f, uint64_t pa)
{
    uint64_t v;

    memcpy(&v, f->ram + (pa - RAM_BASE), 8);
    return v;
}

/* Run with the given fault; returns the exit. */
static enum rv_exit run(struct fix *f, enum fault fl, struct jit_verify_stats *st)
{
    enum rv_exit e;

    fault = fl;
    e = rv_hart_run(f->h, 50);
    assert_int_equal(jit_verify_get_stats(f->h, st), 0);
    return e;
}

static void test_correct_code_passes(void **state)
{
    struct fix *f = *state;
    struct jit_verify_stats st;

    assert_int_equal(run(f, GOOD, &st), RV_EXIT_BUDGET);
    assert_int_equal(st.checked, 1);
    assert_int_equal(st.mismatches, 0);
    assert_int_equal(f->reports, 0);
    assert_int_equal(f->h->fatal, 0);
    /* the block ran exactly once (the compiled run), then the self-loop */
    assert_int_equal(f->h->x[10], 5);
    assert_int_equal(ram64(f, DATA), 5);
    assert_int_equal(f->h->pc, RAM_BASE + 8);
    assert_true(f->h->instret >= 50);
}

static void test_wrong_register(void **state)
{
    struct fix *f = *state;
    struct jit_verify_stats st;

    assert_int_equal(run(f, BAD_REG, &st), RV_EXIT_FATAL);
    assert_int_equal(st.mismatches, 1);
    assert_int_equal(f->reports, 1);
    assert_non_null(strstr(f->h->fatal_msg, "JIT verify"));
    assert_non_null(strstr(f->h->fatal_msg, "0x80000000"));
    assert_non_null(strstr(f->diff, "x10 (a0)"));
    assert_non_null(strstr(f->diff, "interp 0x0000000000000005  jit 0x0000000000000006"));
    /* the store was right */
    assert_null(strstr(f->diff, "store 1"));
    /* the disassembled block */
    assert_non_null(strstr(f->diff, "0x80000004: sd a0,0(a1)"));
    assert_null(strstr(f->diff, "x11 (a1)"));
    assert_string_equal(jit_verify_last_diff(f->h), f->diff);
    if (getenv("GB_SHOW_DIFF"))
        printf("%s\n", f->diff);
}

static void test_wrong_store_value(void **state)
{
    struct fix *f = *state;
    struct jit_verify_stats st;

    assert_int_equal(run(f, BAD_VALUE, &st), RV_EXIT_FATAL);
    assert_non_null(strstr(f->diff, "store 1"));
    assert_non_null(strstr(f->diff, "interp 8 bytes at 0x80002000 = 0x5"));
    assert_non_null(strstr(f->diff, "jit 8 bytes at 0x80002000 = 0x7"));
    assert_null(strstr(f->diff, "x10 (a0)"));
    /* what stays is the compiled run's result */
    assert_int_equal(ram64(f, DATA), 7);
}

static void test_wrong_store_address(void **state)
{
    struct fix *f = *state;
    struct jit_verify_stats st;

    assert_int_equal(run(f, BAD_ADDR, &st), RV_EXIT_FATAL);
    assert_non_null(strstr(f->diff, "jit 8 bytes at 0x80002008 = 0x5"));
    /* the interpreter's store was undone */
    assert_int_equal(ram64(f, DATA), 0);
    assert_int_equal(ram64(f, DATA + 8), 5);
}

/* A store into the code page cannot be replayed: the block runs
 * unchecked, and correctly. */
static void test_code_page_store_skipped(void **state)
{
    struct fix *f = *state;
    struct jit_verify_stats st;

    f->h->x[11] = RAM_BASE + 0x800;
    assert_int_equal(run(f, BAD_VALUE, &st), RV_EXIT_BUDGET);
    assert_int_equal(st.checked, 0);
    assert_int_equal(st.skipped, 1);
    assert_int_equal(f->reports, 0);
    assert_int_equal(ram64(f, RAM_BASE + 0x800), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_correct_code_passes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_register, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_store_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_store_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_code_page_store_skipped, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
