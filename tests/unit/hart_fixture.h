/* A bare hart on a calloc'd RAM buffer, for unit tests that call the
 * semantic helpers directly (CSRs, MMU, AMOs). Include after cmocka.h. */
#ifndef TEST_HART_FIXTURE_H
#define TEST_HART_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "rv_cpu.h"

static inline struct rv_hart *test_hart_new(uint8_t **ram, uint64_t ram_base, uint64_t ram_size,
                                            uint64_t (*get_time)(void *opaque))
{
    size_t sz = (sizeof(struct rv_hart) + 63) & ~(size_t)63;
    struct rv_hart *h = aligned_alloc(64, sz);
    struct rv_env env;

    *ram = calloc(1, ram_size);
    assert_non_null(h);
    assert_non_null(*ram);
    memset(h, 0, sz);
    memset(&env, 0, sizeof(env));
    env.ram = *ram;
    env.ram_base = ram_base;
    env.ram_size = ram_size;
    env.get_time = get_time;
    assert_int_equal(rv_hart_init(h, 0, &env), 0);
    h->bc = rv_bc_new(ram_base, ram_size);
    assert_non_null(h->bc);
    return h;
}

static inline void test_hart_free(struct rv_hart *h, uint8_t *ram)
{
    rv_bc_free(h->bc);
    rv_hart_destroy(h);
    free(h);
    free(ram);
}

#endif
