/* Small inline helpers shared by the interpreter and the semantic helper
 * files (and later the JIT). Internal to engine/. */
#ifndef RV_HELPERS_H
#define RV_HELPERS_H

#include <stdint.h>

#include "rv_cpu.h"

/* Helper results: 0 continue with the next instruction; RV_TRAP a trap
 * was taken (instruction not retired, pc at the handler); RV_DONE the
 * instruction retired but the block must end (h->pc and h->instret final). */
#define RV_CONT 0
#define RV_TRAP 1
#define RV_DONE 2

static inline uint64_t rv_div(uint64_t a, uint64_t b)
{
    if (b == 0)
        return ~0ull;
    if ((int64_t)a == INT64_MIN && (int64_t)b == -1)
        return a;
    return (uint64_t)((int64_t)a / (int64_t)b);
}

static inline uint64_t rv_rem(uint64_t a, uint64_t b)
{
    if (b == 0)
        return a;
    if ((int64_t)a == INT64_MIN && (int64_t)b == -1)
        return 0;
    return (uint64_t)((int64_t)a % (int64_t)b);
}

static inline uint32_t rv_divw(uint64_t a, uint64_t b)
{
    int32_t x = (int32_t)a, y = (int32_t)b;
    if (y == 0)
        return ~0u;
    if (x == INT32_MIN && y == -1)
        return (uint32_t)x;
    return (uint32_t)(x / y);
}

static inline uint32_t rv_remw(uint64_t a, uint64_t b)
{
    int32_t x = (int32_t)a, y = (int32_t)b;
    if (y == 0)
        return (uint32_t)x;
    if (x == INT32_MIN && y == -1)
        return 0;
    return (uint32_t)(x % y);
}

/* Any write to an F register or fcsr makes mstatus.FS Dirty. */
static inline void rv_fs_dirty(struct rv_hart *h)
{
    h->mstatus |= MSTATUS_FS;
}

/* Raw instruction bits at guest virtual pc (for mtval of instructions
 * made illegal by state); 0 if it cannot be read. */
uint32_t rv_fetch_raw(struct rv_hart *h, uint64_t pc, unsigned len);

#endif
