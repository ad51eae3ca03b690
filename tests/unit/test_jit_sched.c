/*
 * What the JIT compiles first (engine/jit/jit.c, rv_jit_hot/enqueue):
 * - the queue is a stack: of three loops that got hot one after the
 *   other while the worker was busy, the last one is compiled first (it
 *   is the code running now; the first may be over);
 * - a full queue lets its oldest request go, and that block gets hot
 *   again later (it is re-armed, not lost);
 * - new code goes before tier-2 recompiles of code already compiled,
 *   and before slow-rate code (compiling that is even cut short);
 * - a block that reaches the threshold only slowly (here once per 2400
 *   instructions) is lukewarm: counted again, not compiled, while the
 *   tight loop next to it is compiled; if it keeps running at that rate
 *   it is compiled after a few rounds.
 * Guest programs are hand-encoded RV64I, one loop per page (a region
 * never spans pages, so each loop is its own region).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "jit/jit.h"
#include "rv_cpu.h"
#include "hart_fixture.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1ull << 20)
#define THRESHOLD 1000
#define LOOP 2000               /* iterations of each page's loop */
#define T0 5
#define S0 8
#define A1 11
#define A2 12
#define A3 13

static uint32_t addi(unsigned rd, unsigned rs1, int imm)
{
    return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | rd << 7 | 0x13;
}

static uint32_t bne(unsigned rs1, unsigned rs2, int off)
{
    uint32_t u = (uint32_t)off;

    return (u >> 12 & 1) << 31 | (u >> 5 & 0x3f) << 25 | rs2 << 20 | rs1 << 15 | 1 << 12 |
           (u >> 1 & 0xf) << 8 | (u >> 11 & 1) << 7 | 0x63;
}

static uint32_t sd(unsigned rs2, unsigned rs1, int off)
{
    uint32_t u = (uint32_t)off;

    return (u >> 5 & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | 3 << 12 | (u & 0x1f) << 7 | 0x23;
}

static uint32_t jal0(int off)
{
    uint32_t u = (uint32_t)off;

    return (u >> 20 & 1) << 31 | (u >> 1 & 0x3ff) << 21 | (u >> 11 & 1) << 20 |
           (u >> 12 & 0xff) << 12 | 0x6f;
}

struct fix {
    struct rv_hart *h;
    uint8_t *ram;
    struct jit_mgr *jit;
};

static void put(struct fix *f, uint64_t pa, uint32_t w)
{
    memcpy(f->ram + (pa - RAM_BASE), &w, 4);
}

static uint64_t page(unsigned i)
{
    return RAM_BASE + 0x1000ull * i;
}

/* On page i: t0 = LOOP; do t0-- while t0; then on to page next. */
static void put_loop(struct fix *f, unsigned i, unsigned next)
{
    put(f, page(i) + 0, addi(T0, 0, LOOP));
    put(f, page(i) + 4, addi(T0, T0, -1));     /* the loop block */
    put(f, page(i) + 8, bne(T0, 0, -4));
    put(f, page(i) + 12, jal0((int)(page(next) - (page(i) + 12))));
}

/* Loops on pages 1..3, one after the other; page 4 holds the final
 * self-loop. Returns the instructions to page 4. */
static uint64_t three_loops(struct fix *f)
{
    for (unsigned i = 1; i <= 3; i++)
        put_loop(f, i, i + 1);
    put(f, page(4), jal0(0));
    return 3 * (2 + 2 * LOOP);
}

static struct rv_block *loop_block(struct fix *f, unsigned i)
{
    return rv_bc_find(f->h, page(i) + 4);
}

static int setup_q(void **state, unsigned queue_max)
{
    struct fix *f = calloc(1, sizeof(*f));
    struct jit_config jc = { .threshold = THRESHOLD, .opt_level = 1, .queue_max = queue_max };

    assert_non_null(f);
    f->h = test_hart_new(&f->ram, RAM_BASE, RAM_SIZE, NULL);
    assert_int_equal(jit_mgr_new(&f->jit, &jc), 0);
    assert_int_equal(jit_attach_hart(f->jit, f->h), 0);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_q(state, 0);
}

static int setup_small_queue(void **state)
{
    return setup_q(state, 2);
}

static int teardown(void **state)
{
    struct fix *f = *state;

    if (f->jit)
        jit_mgr_free(f->jit);
    test_hart_free(f->h, f->ram);
    free(f);
    return 0;
}

/* Run from pc for n instructions (and a few of the self-loop). */
static void run(struct fix *f, uint64_t pc, uint64_t n)
{
    f->h->pc = pc;
    rv_hart_run(f->h, n + 8);
}

/* Let the worker finish everything, then let the hart install it (at the
 * slow boundary that starts every rv_hart_run). */
static void drain_install(struct fix *f)
{
    jit_mgr_hold(f->jit, 0);
    jit_mgr_drain(f->jit);
    rv_hart_run(f->h, 4);
}

static void test_newest_first(void **state)
{
    struct fix *f = *state;
    unsigned long seq[4];

    jit_mgr_hold(f->jit, 1);        /* the worker is busy elsewhere */
    run(f, page(1), three_loops(f));
    drain_install(f);
    for (unsigned i = 1; i <= 3; i++) {
        struct rv_block *b = loop_block(f, i);
        assert_non_null(b);
        assert_non_null(b->jit_code);
        seq[i] = jit_region_seq(b->jit_region);
    }
    /* got hot in the order 1, 2, 3: compiled 3, 2, 1 */
    assert_true(seq[3] < seq[2]);
    assert_true(seq[2] < seq[1]);
}

static void test_full_queue_drops_oldest(void **state)
{
    struct fix *f = *state;
    uint64_t n = three_loops(f);
    uint64_t discarded;

    jit_mgr_hold(f->jit, 1);
    run(f, page(1), n);
    drain_install(f);
    assert_non_null(loop_block(f, 1));
    assert_null(loop_block(f, 1)->jit_code);    /* made way for loop 3 */
    assert_non_null(loop_block(f, 2)->jit_code);
    assert_non_null(loop_block(f, 3)->jit_code);
    discarded = f->h->ctr.jit_discarded;
    assert_true(discarded >= 1);
    /* re-armed: running it again makes it hot again */
    run(f, page(1), n);
    drain_install(f);
    assert_non_null(loop_block(f, 1)->jit_code);
}

/* Two harts share the worker: a full queue drops the other hart's
 * request, which goes back to that hart (its block is re-armed there and
 * the request freed by it, not by the hart that dropped it). */
static void test_drop_other_harts_request(void **state)
{
    struct fix *f = *state;
    struct fix g = { 0 };
    uint64_t n = three_loops(f);

    g.h = test_hart_new(&g.ram, RAM_BASE, RAM_SIZE, NULL);
    assert_int_equal(jit_attach_hart(f->jit, g.h), 0);
    put_loop(&g, 1, 4);
    put(&g, page(4), jal0(0));
    jit_mgr_hold(f->jit, 1);
    run(&g, page(1), 2 + 2 * LOOP);     /* g's request */
    run(f, page(1), n);                 /* f's three: g's and then f's first dropped */
    assert_true(g.h->ctr.jit_discarded == 0);      /* not handled by g yet */
    rv_hart_run(g.h, 4);                /* g takes it back */
    assert_int_equal(g.h->ctr.jit_discarded, 1);
    assert_null(rv_bc_find(g.h, page(1) + 4)->jit_code);
    drain_install(f);
    rv_hart_run(g.h, 4);
    assert_non_null(loop_block(f, 3)->jit_code);
    /* re-armed in g: hot again, compiled */
    run(&g, page(1), 2 + 2 * LOOP);
    drain_install(f);
    rv_hart_run(g.h, 4);
    assert_non_null(rv_bc_find(g.h, page(1) + 4)->jit_code);
    /* g's code must go before g: the manager outlives it here */
    jit_mgr_free(f->jit);
    f->jit = NULL;
    test_hart_free(g.h, g.ram);
}

/* A tier-2 recompile waits for new code: here a tier-1 request (a loop
 * run for the first time) and then a newer tier-2 one (a compiled loop
 * that ran long enough) are queued; the tier-1 one is compiled first. */
static void test_tier1_before_tier2(void **state)
{
    struct fix *f = *state;
    const uint64_t long_run = 300000;   /* iterations: 600k instructions */
    struct rv_block *b;

    put_loop(f, 1, 4);
    put_loop(f, 5, 4);
    put(f, page(4), jal0(0));
    run(f, page(1), 2 + 2 * LOOP);
    drain_install(f);
    b = loop_block(f, 1);
    assert_non_null(b);
    assert_non_null(b->jit_code);
    assert_int_equal(b->jit_region->tier, 1);

    jit_mgr_hold(f->jit, 1);
    run(f, page(5), 2 + 2 * LOOP);          /* new code: tier 1 */
    f->h->x[T0] = long_run;
    run(f, page(1) + 4, 2 * long_run + 1);  /* enough work for tier 2 */
    drain_install(f);
    b = loop_block(f, 1);
    assert_int_equal(b->jit_region->tier, 2);
    assert_non_null(loop_block(f, 5)->jit_code);
    assert_true(jit_region_seq(loop_block(f, 5)->jit_region) < jit_region_seq(b->jit_region));
}

/* The lukewarm program's shape: A (a1++, pad stores of a2 to a3 + 8i,
 * on to page 2) at the end of page 1, then on page 2 t0 = inner and the loop L, then
 * s0-- and back to A while s0: A runs once per 2 * inner + 5 + pad
 * instructions. Returns A's address. */
static uint64_t put_lukewarm(struct fix *f, int inner, unsigned pad)
{
    const uint64_t a = page(2) - 8 - 4 * pad;

    put(f, a, addi(A1, A1, 1));
    for (unsigned i = 0; i < pad; i++)
        put(f, a + 4 + 4 * i, sd(A2, A3, (int)(8 * i)));
    put(f, page(2) - 4, jal0(4));
    put(f, page(2) + 0, addi(T0, 0, inner));
    put(f, page(2) + 4, addi(T0, T0, -1));     /* L */
    put(f, page(2) + 8, bne(T0, 0, -4));
    put(f, page(2) + 12, addi(S0, S0, -1));
    put(f, page(2) + 16, bne(S0, 0, (int)(a - (page(2) + 16))));
    put(f, page(2) + 20, jal0(0));
    return a;
}

/* A batch of slow-rate code being compiled is killed when new hot code
 * is queued, and compiled again after it. */
static void test_hot_code_preempts(void **state)
{
    struct fix *f = *state;
    /* A: once per 1505 instructions; padded with stores (each a TLB
     * probe and a slow path) so that compiling it takes long enough for
     * the new hot code to come meanwhile */
    const int inner = 690;
    const unsigned pad = 120;
    const uint64_t per = 2 + pad + 1 + 2 * inner + 2;
    uint64_t a = put_lukewarm(f, inner, pad);

    if (!jit_mgr_can_preempt()) {
        print_message("preemption needs the forked compiler (not in sanitizer builds)\n");
        skip();
    }
    put_loop(f, 3, 4);
    put(f, page(4), jal0(0));
    f->h->x[A3] = page(8);      /* the stores' data */
    /* L compiled first, so that A's request is alone in the queue */
    f->h->x[S0] = 5;
    run(f, a, 5 * per);
    drain_install(f);
    assert_non_null(rv_bc_find(f->h, page(2) + 4)->jit_code);
    /* A: lukewarm at 1000 executions (1.5M instructions > 1M), hot at
     * 2000 within twice the span: queued for later */
    jit_mgr_hold(f->jit, 1);
    f->h->x[S0] = 2100;
    run(f, a, 2100 * per);
    assert_true(f->h->ctr.jit_lukewarm >= 1);
    assert_null(rv_bc_find(f->h, a)->jit_code);
    jit_mgr_hold(f->jit, 0);
    while (!jit_mgr_compiling_later(f->jit))
        usleep(1000);
    run(f, page(3), 2 + 2 * LOOP);      /* new hot code meanwhile */
    drain_install(f);
    assert_non_null(rv_bc_find(f->h, a)->jit_code);
    assert_non_null(loop_block(f, 3)->jit_code);
    assert_true(jit_region_seq(loop_block(f, 3)->jit_region) <
                jit_region_seq(rv_bc_find(f->h, a)->jit_region));
}

static void test_lukewarm_not_compiled(void **state)
{
    struct fix *f = *state;
    const int outer = 1100, inner = 1200;   /* A: once per 2405 instructions */
    const uint64_t a = put_lukewarm(f, inner, 0);

    f->h->x[S0] = (uint64_t)outer;
    run(f, a, (uint64_t)outer * (2 + 1 + 2 * inner + 2));
    drain_install(f);
    assert_int_equal(f->h->x[A1], outer);       /* the program ran through */
    assert_true(f->h->ctr.jit_lukewarm >= 1);
    assert_non_null(rv_bc_find(f->h, a));
    assert_true(rv_block_execs(rv_bc_find(f->h, a)) >= THRESHOLD);
    assert_null(rv_bc_find(f->h, a)->jit_code);
    assert_non_null(rv_bc_find(f->h, page(2) + 4));
    assert_non_null(rv_bc_find(f->h, page(2) + 4)->jit_code);
    /* but at a steady rate it is compiled after a few rounds (the span
     * allowed doubles: 1000, 2000, then 4000 instructions per execution) */
    f->h->x[S0] = (uint64_t)(3 * outer);
    run(f, a, (uint64_t)(3 * outer) * (2 + 1 + 2 * inner + 2));
    drain_install(f);
    assert_int_equal(f->h->x[A1], 4 * outer);
    assert_non_null(rv_bc_find(f->h, a)->jit_code);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_newest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_queue_drops_oldest, setup_small_queue, teardown),
        cmocka_unit_test_setup_teardown(test_drop_other_harts_request, setup_small_queue, teardown),
        cmocka_unit_test_setup_teardown(test_tier1_before_tier2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lukewarm_not_compiled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hot_code_preempts, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
