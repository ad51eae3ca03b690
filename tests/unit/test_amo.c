/*
 * Unit tests for the A extension helper (rv_exec_amo): every AMO in its W
 * and D forms, LR/SC reservation rules, alignment and access faults.
 * Expected values follow the unprivileged spec chapter 8; each AMO result
 * is computed here independently from the operands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rv_cpu.h"
#include "rv_insn.h"
#include "hart_fixture.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1ull << 20)
#define DATA (RAM_BASE + 0x8000)

struct fixture {
    struct rv_hart *h;
    uint8_t *ram;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    f->h = test_hart_new(&f->ram, RAM_BASE, RAM_SIZE, NULL);
    f->h->mtvec = RAM_BASE + 0x100;     /* a usable handler address */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    test_hart_free(f->h, f->ram);
    free(f);
    return 0;
}

static uint64_t *mem64(struct fixture *f, uint64_t pa)
{
    return (uint64_t *)(void *)(f->ram + (pa - RAM_BASE));
}

static uint32_t *mem32(struct fixture *f, uint64_t pa)
{
    return (uint32_t *)(void *)(f->ram + (pa - RAM_BASE));
}

static int run(struct fixture *f, enum rv_op op, unsigned funct, uint64_t addr, uint64_t src)
{
    struct rv_insn in = { 0 };

    in.op = (uint16_t)op;
    in.rd = 10;
    in.rs1 = 11;
    in.rs2 = 12;
    in.rm = (uint8_t)funct;
    in.len = 4;
    f->h->x[11] = addr;
    f->h->x[12] = src;
    f->h->pc = RAM_BASE + 0x40;
    return rv_exec_amo(f->h, &in);
}

/* The reference semantics, written from the spec's table. */
static uint64_t expect_amo(unsigned fn, uint64_t a, uint64_t b, int dbl)
{
    if (!dbl) {
        a = (uint64_t)(int64_t)(int32_t)a;
        b = (uint64_t)(int64_t)(int32_t)b;
    }
    switch (fn) {
    case RV_AMO_SWAP: return b;
    case RV_AMO_ADD: return a + b;
    case RV_AMO_XOR: return a ^ b;
    case RV_AMO_AND: return a & b;
    case RV_AMO_OR: return a | b;
    case RV_AMO_MIN: return (int64_t)a < (int64_t)b ? a : b;
    case RV_AMO_MAX: return (int64_t)a > (int64_t)b ? a : b;
    case RV_AMO_MINU: return (dbl ? a : (uint32_t)a) < (dbl ? b : (uint32_t)b) ? a : b;
    default: return (dbl ? a : (uint32_t)a) > (dbl ? b : (uint32_t)b) ? a : b;
    }
}

static const unsigned amo_fns[] = {
    RV_AMO_SWAP, RV_AMO_ADD, RV_AMO_XOR, RV_AMO_AND, RV_AMO_OR,
    RV_AMO_MIN, RV_AMO_MAX, RV_AMO_MINU, RV_AMO_MAXU,
};
static const uint64_t vals[] = {
    0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x123456789abcdef0ull,
    0x8000000000000000ull, 0x7fffffffffffffffull, ~0ull, 0xfedcba9876543210ull,
};
#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_amo_d(void **state)
{
    struct fixture *f = *state;

    for (unsigned i = 0; i < N(amo_fns); i++)
        for (unsigned a = 0; a < N(vals); a++)
            for (unsigned b = 0; b < N(vals); b++) {
                *mem64(f, DATA) = vals[a];
                assert_int_equal(run(f, RV_OP_AMO_D, amo_fns[i], DATA, vals[b]), 0);
                assert_int_equal(f->h->x[10], vals[a]);     /* old value to rd */
                assert_int_equal(*mem64(f, DATA), expect_amo(amo_fns[i], vals[a], vals[b], 1));
            }
}

static void test_amo_w(void **state)
{
    struct fixture *f = *state;

    for (unsigned i = 0; i < N(amo_fns); i++)
        for (unsigned a = 0; a < N(vals); a++)
            for (unsigned b = 0; b < N(vals); b++) {
                uint32_t old = (uint32_t)vals[a];
                *mem64(f, DATA) = 0x5555555500000000ull | old;
                assert_int_equal(run(f, RV_OP_AMO_W, amo_fns[i], DATA, vals[b]), 0);
                /* rd gets the old word sign-extended; the upper word stays */
                assert_int_equal(f->h->x[10], (uint64_t)(int64_t)(int32_t)old);
                assert_int_equal(*mem32(f, DATA),
                                 (uint32_t)expect_amo(amo_fns[i], old, vals[b], 0));
                assert_int_equal(*mem32(f, DATA + 4), 0x55555555u);
            }
}

static void test_lr_sc(void **state)
{
    struct fixture *f = *state;

    /* LR then SC to the same address succeeds (rd = 0) and stores */
    *mem64(f, DATA) = 42;
    assert_int_equal(run(f, RV_OP_LR_D, 0, DATA, 0), 0);
    assert_int_equal(f->h->x[10], 42);
    assert_int_equal(run(f, RV_OP_SC_D, 0, DATA, 99), 0);
    assert_int_equal(f->h->x[10], 0);
    assert_int_equal(*mem64(f, DATA), 99);
    /* a second SC without a new LR fails (rd != 0) and leaves memory */
    assert_int_equal(run(f, RV_OP_SC_D, 0, DATA, 7), 0);
    assert_int_not_equal(f->h->x[10], 0);
    assert_int_equal(*mem64(f, DATA), 99);
    /* SC to another address than the reservation fails */
    assert_int_equal(run(f, RV_OP_LR_D, 0, DATA, 0), 0);
    assert_int_equal(run(f, RV_OP_SC_D, 0, DATA + 8, 5), 0);
    assert_int_not_equal(f->h->x[10], 0);
    assert_int_equal(*mem64(f, DATA + 8), 0);
    /* an intervening store of a different value by "another hart" breaks it */
    assert_int_equal(run(f, RV_OP_LR_D, 0, DATA, 0), 0);
    *mem64(f, DATA) = 1234;
    assert_int_equal(run(f, RV_OP_SC_D, 0, DATA, 5), 0);
    assert_int_not_equal(f->h->x[10], 0);
    assert_int_equal(*mem64(f, DATA), 1234);
    /* W forms: LR.W sign-extends, SC.W stores 32 bits only */
    *mem64(f, DATA) = 0x11111111fffffffeull;
    assert_int_equal(run(f, RV_OP_LR_W, 0, DATA, 0), 0);
    assert_int_equal(f->h->x[10], 0xfffffffffffffffeull);
    assert_int_equal(run(f, RV_OP_SC_W, 0, DATA, 0xaaaaaaaa00000003ull), 0);
    assert_int_equal(f->h->x[10], 0);
    assert_int_equal(*mem64(f, DATA), 0x1111111100000003ull);
}

static void test_misaligned_and_faults(void **state)
{
    struct fixture *f = *state;

    /* misaligned AMO: store/AMO address misaligned, tval = address */
    assert_int_not_equal(run(f, RV_OP_AMO_D, RV_AMO_ADD, DATA + 4, 1), 0);
    assert_int_equal(f->h->mcause, 6);
    assert_int_equal(f->h->mtval, DATA + 4);
    assert_int_equal(f->h->mepc, RAM_BASE + 0x40);
    /* misaligned LR: load address misaligned */
    f->h->priv = RV_PRIV_M;
    assert_int_not_equal(run(f, RV_OP_LR_W, 0, DATA + 2, 0), 0);
    assert_int_equal(f->h->mcause, 4);
    assert_int_equal(f->h->mtval, DATA + 2);
    /* outside RAM: access faults (AMO as store, LR as load) */
    f->h->priv = RV_PRIV_M;
    assert_int_not_equal(run(f, RV_OP_AMO_W, RV_AMO_SWAP, 0x1000, 1), 0);
    assert_int_equal(f->h->mcause, 7);
    assert_int_equal(f->h->mtval, 0x1000);
    f->h->priv = RV_PRIV_M;
    assert_int_not_equal(run(f, RV_OP_LR_D, 0, 0x1000, 0), 0);
    assert_int_equal(f->h->mcause, 5);
    /* a faulting AMO writes neither memory nor rd */
    f->h->priv = RV_PRIV_M;
    *mem64(f, DATA) = 77;
    f->h->x[10] = 0xdead;
    assert_int_not_equal(run(f, RV_OP_AMO_D, RV_AMO_ADD, DATA + 1, 1), 0);
    assert_int_equal(*mem64(f, DATA), 77);
    assert_int_equal(f->h->x[10], 0xdead);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_amo_d, setup, teardown),
        cmocka_unit_test_setup_teardown(test_amo_w, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lr_sc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misaligned_and_faults, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
