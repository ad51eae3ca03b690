/* A stats region for unit tests (test_stats, test_glasstop): a fixed test
 * machine, sampled fast, so tests see hot-block windows within a second. */
#ifndef STATS_FIXTURE_H
#define STATS_FIXTURE_H

#include "../../engine/stats.h"

static inline struct stats *stats_fixture_make(const char *name, unsigned nvcpus)
{
    struct stats_config cfg = {
        .name = name, .arch = "riscv64", .accel = "tcg", .machine = "virt, test",
        .nvcpus = nvcpus, .ram_base = 0x80000000ull, .ram_bytes = 64ull << 20,
        .sample_hz = 50, .hot_window_ms = 300,
    };
    struct stats *s = NULL;
    char err[256] = "";

    if (stats_create(&s, &cfg, err, sizeof(err)) != 0)
        fail_msg("stats_create(%s): %s", name, err);
    return s;
}

#endif
