/* Unit tests for the PLIC (devices/plic.c). */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "glassbox/bus.h"
#include "plic.h"

#define NSRC    96
#define NCTX    4               /* two harts: M and S each */

/* Records the level of each context line and how often it was driven. */
struct fake_irq {
    atomic_int level[NCTX];
    atomic_int sets[NCTX];
};

static void fake_irq_set(void *opaque, unsigned n, int level)
{
    struct fake_irq *f = opaque;

    assert_true(n < NCTX);
    assert_true(level == 0 || level == 1);
    atomic_store(&f->level[n], level);
    atomic_fetch_add(&f->sets[n], 1);
}

struct fixture {
    struct plic *plic;
    struct fake_irq irq;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct irq_line lines[NCTX];
    unsigned i;

    assert_non_null(f);
    for (i = 0; i < NCTX; i++)
        lines[i] = (struct irq_line){ fake_irq_set, &f->irq, i };
    f->plic = plic_new(NSRC, NCTX, lines);
    assert_non_null(f->plic);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    plic_free(f->plic);
    free(f);
    return 0;
}

static uint32_t rd(struct plic *p, uint64_t off)
{
    return (uint32_t)plic_ops.read(p, off, 4);
}

static void wr(struct plic *p, uint64_t off, uint32_t v)
{
    plic_ops.write(p, off, 4, v);
}

static uint64_t prio_off(unsigned s) { return PLIC_PRIORITY_BASE + 4 * s; }
static uint64_t enable_off(unsigned c, unsigned s)
{
    return PLIC_ENABLE_BASE + PLIC_ENABLE_STRIDE * c + 4 * (s / 32);
}
static uint64_t thresh_off(unsigned c)
{
    return PLIC_CONTEXT_BASE + PLIC_CONTEXT_STRIDE * c;
}
static uint64_t claim_off(unsigned c) { return thresh_off(c) + 4; }

static void enable(struct plic *p, unsigned c, unsigned s)
{
    wr(p, enable_off(c, s), rd(p, enable_off(c, s)) | (1u << (s % 32)));
}

static int line(struct fixture *f, unsigned c)
{
    return atomic_load(&f->irq.level[c]);
}

/* ---------------------------------------------------------------- tests */

static void test_new_args(void **state)
{
    (void)state;
    errno = 0;
    assert_null(plic_new(1, 2, NULL));
    assert_int_equal(errno, EINVAL);
    assert_null(plic_new(PLIC_MAX_SOURCES + 1, 2, NULL));
    assert_null(plic_new(NSRC, 0, NULL));
    assert_null(plic_new(NSRC, PLIC_MAX_CONTEXTS + 1, NULL));
    plic_free(NULL);
    plic_reset(NULL);
    plic_set_irq(NULL, 1, 1);

    /* Largest legal PLIC, no lines: every register must decode in range. */
    struct plic *p = plic_new(PLIC_MAX_SOURCES, PLIC_MAX_CONTEXTS, NULL);
    assert_non_null(p);
    wr(p, prio_off(PLIC_MAX_SOURCES - 1), 7);
    assert_int_equal(rd(p, prio_off(PLIC_MAX_SOURCES - 1)), 7);
    enable(p, PLIC_MAX_CONTEXTS - 1, PLIC_MAX_SOURCES - 1);
    plic_set_irq(p, PLIC_MAX_SOURCES - 1, 1);
    assert_int_equal(rd(p, claim_off(PLIC_MAX_CONTEXTS - 1)),
                     PLIC_MAX_SOURCES - 1);
    plic_free(p);
}

static void test_priority_warl(void **state)
{
    struct fixture *f = *state;
    struct plic *p = f->plic;

    wr(p, prio_off(5), 0xffffffff);
    assert_int_equal(rd(p, prio_off(5)), PLIC_MAX_PRIORITY);
    wr(p, prio_off(5), 0x12);
    assert_int_equal(rd(p, prio_off(5)), 2);
    /* Source 0 does not exist: hardwired 0. */
    wr(p, prio_off(0), 7);
    assert_int_equal(rd(p, prio_off(0)), 0);
    /* Beyond the last source: reads 0, write ignored. */
    wr(p, prio_off(NSRC), 7);
    assert_int_equal(rd(p, prio_off(NSRC)), 0);
    /* Only 32-bit aligned accesses. */
    plic_ops.write(p, prio_off(6), 1, 3);
    assert_int_equal(rd(p, prio_off(6)), 0);
    plic_ops.write(p, prio_off(6), 8, 3);
    assert_int_equal(rd(p, prio_off(6)), 0);
    plic_ops.write(p, prio_off(6) + 2, 4, 3);
    assert_int_equal(rd(p, prio_off(6)), 0);
    wr(p, prio_off(6), 3);
    assert_int_equal(plic_ops.read(p, prio_off(6), 2), 0);
    assert_int_equal(plic_ops.read(p, prio_off(6), 8), 0);
    assert_int_equal(rd(p, prio_off(6)), 3);
    /* Threshold is WARL too. */
    wr(p, thresh_off(1), 0xff);
    assert_int_equal(rd(p, thresh_off(1)), 7);
    /* Holes and beyond the last context read 0. */
    assert_int_equal(rd(p, thresh_off(0) + 8), 0);
    assert_int_equal(rd(p, thresh_off(NCTX)), 0);
    assert_int_equal(rd(p, enable_off(NCTX, 1)), 0);
    assert_int_equal(rd(p, PLIC_PENDING_BASE + 0x7c), 0);
    assert_int_equal(rd(p, PLIC_MMIO_SIZE - 4), 0);
}

static void test_enables(void **state)
{
    struct fixture *f = *state;
    struct plic *p = f->plic;

    /* Source 0 and sources >= NSRC cannot be enabled. */
    wr(p, enable_off(0, 0), 0xffffffff);
    assert_int_equal(rd(p, enable_off(0, 0)), 0xfffffffe);
    wr(p, enable_off(0, 64), 0xffffffff);
    assert_int_equal(rd(p, enable_off(0, 64)), 0xffffffff);   /* 64..95 */
    wr(p, PLIC_ENABLE_BASE + 12, 0xffffffff);                  /* 96..127 */
    assert_int_equal(rd(p, PLIC_ENABLE_BASE + 12), 0);
    /* Per context. */
    assert_int_equal(rd(p, enable_off(1, 0)), 0);

    wr(p, prio_off(10), 1);
    plic_set_irq(p, 10, 1);
    /* Enabled on context 0 only. */
    wr(p, enable_off(0, 0), 1u << 10);
    assert_int_equal(line(f, 0), 1);
    assert_int_equal(line(f, 1), 0);
    assert_int_equal(rd(p, claim_off(1)), 0);      /* not enabled there */
    /* Disabling drops the line, pending stays. */
    wr(p, enable_off(0, 0), 0);
    assert_int_equal(line(f, 0), 0);
    assert_int_equal(rd(p, PLIC_PENDING_BASE) & (1u << 10), 1u << 10);
    enable(p, 3, 10);
    assert_int_equal(line(f, 3), 1);
    assert_int_equal(rd(p, claim_off(3)), 10);
    assert_int_equal(line(f, 3), 0);
}

static void test_threshold(void **state)
{
    struct fixture *f = *state;
    struct plic *p = f->plic;

    wr(p, prio_off(3), 4);
    enable(p, 0, 3);
    plic_set_irq(p, 3, 1);
    assert_int_equal(line(f, 0), 1);
    wr(p, thresh_off(0), 4);          /* priority must exceed threshold */
    assert_int_equal(line(f, 0), 0);
    assert_int_equal(rd(p, claim_off(0)), 0);
    wr(p, thresh_off(0), 3);
    assert_int_equal(line(f, 0), 1);
    /* Priority 0 never interrupts, even at threshold 0. */
    wr(p, thresh_off(0), 0);
    wr(p, prio_off(3), 0);
    assert_int_equal(line(f, 0), 0);
    assert_int_equal(rd(p, claim_off(0)), 0);
}

static void test_claim_order(void **state)
{
    struct fixture *f = *state;
    struct plic *p = f->plic;
    static const unsigned src[] = { 1, 7, 33, 40, 95 };
    static const unsigned prio[] = { 2, 5, 5, 7, 1 };
    static const unsigned order[] = { 40, 7, 33, 1, 95 };
    unsigned i;

    for (i = 0; i < 5; i++) {
        wr(p, prio_off(src[i]), prio[i]);
        enable(p, 1, src[i]);
        plic_set_irq(p, src[i], 1);
    }
    assert_int_equal(rd(p, PLIC_PENDING_BASE), (1u << 1) | (1u << 7));
    assert_int_equal(rd(p, PLIC_PENDING_BASE + 4), (1u << 1) | (1u << 8));
    assert_int_equal(rd(p, PLIC_PENDING_BASE + 8), 1u << 31);
    for (i = 0; i < 5; i++) {
        assert_int_equal(line(f, 1), 1);
        assert_int_equal(rd(p, claim_off(1)), order[i]);
    }
    assert_int_equal(line(f, 1), 0);
    assert_int_equal(rd(p, claim_off(1)), 0);
    assert_int_equal(rd(p, PLIC_PENDING_BASE), 0);
    /* Pending is read-only. */
    wr(p, PLIC_PENDING_BASE, 0xffffffff);
    assert_int_equal(rd(p, PLIC_PENDING_BASE), 0);
}

static void test_complete_and_level(void **state)
{
    struct fixture *f = *state;
    struct plic *p = f->plic;

    wr(p, prio_off(10), 1);
    enable(p, 0, 10);
    plic_set_irq(p, 10, 1);
    assert_int_equal(rd(p, claim_off(0)), 10);
    /* Still asserted but in flight: not pending, line low. */
    plic_set_irq(p, 10, 1);
    assert_int_equal(rd(p, PLIC_PENDING_BASE), 0);
    assert_int_equal(line(f, 0), 0);
    /* Completing an id that is not enabled here is ignored. */
    wr(p, claim_off(1), 10);
    assert_int_equal(line(f, 0), 0);
    /* Completing with the level still high pends it again. */
    wr(p, claim_off(0), 10);
    assert_int_equal(rd(p, PLIC_PENDING_BASE), 1u << 10);
    assert_int_equal(line(f, 0), 1);
    assert_int_equal(rd(p, claim_off(0)), 10);
    /* The device drops its line before completion: nothing re-pends. */
    plic_set_irq(p, 10, 0);
    wr(p, claim_off(0), 10);
    assert_int_equal(rd(p, PLIC_PENDING_BASE), 0);
    assert_int_equal(line(f, 0), 0);
    /* A request withdrawn before the claim leaves nothing to claim. */
    plic_set_irq(p, 10, 1);
    assert_int_equal(line(f, 0), 1);
    plic_set_irq(p, 10, 0);
    assert_int_equal(line(f, 0), 0);
    assert_int_equal(rd(p, claim_off(0)), 0);
    /* Completing something never claimed, or id 0 / out of range: no-op. */
    wr(p, claim_off(0), 10);
    wr(p, claim_off(0), 0);
    wr(p, claim_off(0), 5000);
    assert_int_equal(rd(p, PLIC_PENDING_BASE), 0);
    /* Sources out of range on the input side are ignored. */
    plic_set_irq(p, 0, 1);
    plic_set_irq(p, NSRC, 1);
    plic_set_irq(p, 100000, 1);
    assert_int_equal(rd(p, PLIC_PENDING_BASE), 0);
}

static void test_two_contexts_share_source(void **state)
{
    struct fixture *f = *state;
    struct plic *p = f->plic;

    wr(p, prio_off(2), 1);
    enable(p, 0, 2);
    enable(p, 1, 2);
    plic_set_irq(p, 2, 1);
    assert_int_equal(line(f, 0), 1);
    assert_int_equal(line(f, 1), 1);
    /* First claimer wins; both lines drop; the other claim reads 0. */
    assert_int_equal(rd(p, claim_off(1)), 2);
    assert_int_equal(line(f, 0), 0);
    assert_int_equal(line(f, 1), 0);
    assert_int_equal(rd(p, claim_off(0)), 0);
    /* Completion from another context that has it enabled re-arms. */
    wr(p, claim_off(0), 2);
    assert_int_equal(line(f, 0), 1);
    assert_int_equal(line(f, 1), 1);
}

static void test_lines_only_on_change(void **state)
{
    struct fixture *f = *state;
    struct plic *p = f->plic;
    int before;

    wr(p, prio_off(4), 1);
    wr(p, prio_off(5), 1);
    enable(p, 2, 4);
    enable(p, 2, 5);
    before = atomic_load(&f->irq.sets[2]);
    plic_set_irq(p, 4, 1);
    plic_set_irq(p, 5, 1);
    plic_set_irq(p, 4, 1);
    assert_int_equal(atomic_load(&f->irq.sets[2]), before + 1);
    assert_int_equal(line(f, 2), 1);
}

static void test_reset(void **state)
{
    struct fixture *f = *state;
    struct plic *p = f->plic;

    wr(p, prio_off(9), 3);
    wr(p, thresh_off(0), 1);
    enable(p, 0, 9);
    plic_set_irq(p, 9, 1);
    assert_int_equal(line(f, 0), 1);
    assert_int_equal(rd(p, claim_off(0)), 9);
    plic_reset(p);
    assert_int_equal(rd(p, prio_off(9)), 0);
    assert_int_equal(rd(p, thresh_off(0)), 0);
    assert_int_equal(rd(p, enable_off(0, 9)), 0);
    assert_int_equal(line(f, 0), 0);
    /* The input is still high: pending again, claimable once enabled. */
    assert_int_equal(rd(p, PLIC_PENDING_BASE), 1u << 9);
    wr(p, prio_off(9), 1);
    enable(p, 0, 9);
    assert_int_equal(rd(p, claim_off(0)), 9);
}

/* Devices toggle lines from their threads while a "hart" claims and
 * completes; every claim must name a source it enabled and the run must
 * end with the lines consistent (run under TSan/ASan in CI). */
struct stress {
    struct plic *p;
    atomic_int stop;
};

static void *toggler(void *arg)
{
    struct stress *s = arg;
    unsigned i;

    for (i = 0; !atomic_load(&s->stop); i++)
        plic_set_irq(s->p, 1 + i % 8, (int)((i / 8) & 1));
    return NULL;
}

static void test_threads(void **state)
{
    struct fixture *f = *state;
    struct stress s = { .p = f->plic };
    pthread_t t;
    unsigned i, src;

    for (i = 1; i <= 8; i++) {
        wr(f->plic, prio_off(i), 1 + i % 7);
        enable(f->plic, 0, i);
    }
    assert_int_equal(pthread_create(&t, NULL, toggler, &s), 0);
    for (i = 0; i < 20000; i++) {
        src = rd(f->plic, claim_off(0));
        assert_true(src <= 8);
        if (src)
            wr(f->plic, claim_off(0), src);
    }
    atomic_store(&s.stop, 1);
    pthread_join(t, NULL);
    for (i = 1; i <= 8; i++)
        plic_set_irq(f->plic, i, 0);
    assert_int_equal(line(f, 0), 0);
    assert_int_equal(rd(f->plic, PLIC_PENDING_BASE), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_args),
        cmocka_unit_test_setup_teardown(test_priority_warl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threshold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_complete_and_level, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_two_contexts_share_source, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lines_only_on_change, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
