/* CLINT model. See clint.h for the layout and threading contract.
 *
 * Registers are atomics so the hot path (clint_poll, mtime reads) takes no
 * lock. Each hart's lock only serialises "compute level, drive line", so
 * that a line is always left at the level of the newest register values:
 * every writer stores first and recomputes under the lock afterwards. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "clint.h"

struct clint_hart {
    pthread_mutex_t lock;
    _Atomic uint64_t mtimecmp;
    atomic_uint msip;
    atomic_int mtip;            /* level last driven on mtip_line */
    struct irq_line msip_line, mtip_line;
};

struct clint {
    unsigned nharts;
    uint64_t (*now)(void *opaque);
    void *clock_opaque;
    _Atomic uint64_t offset;    /* mtime - now(), modulo 2^64 */
    pthread_mutex_t time_lock;  /* serialises read-modify-write of mtime */
    struct clint_hart harts[];
};

uint64_t clint_mtime(struct clint *c)
{
    return c->now(c->clock_opaque) +
           atomic_load_explicit(&c->offset, memory_order_relaxed);
}

static bool mtip_due(struct clint *c, struct clint_hart *h)
{
    return clint_mtime(c) >=
           atomic_load_explicit(&h->mtimecmp, memory_order_relaxed);
}

/* Recompute and drive MTIP. force: drive even if unchanged (reset). */
static void mtip_update(struct clint *c, struct clint_hart *h, bool force)
{
    int level;

    pthread_mutex_lock(&h->lock);
    level = mtip_due(c, h);
    if (force ||
        level != atomic_load_explicit(&h->mtip, memory_order_relaxed)) {
        atomic_store_explicit(&h->mtip, level, memory_order_relaxed);
        irq_set(&h->mtip_line, level);
    }
    pthread_mutex_unlock(&h->lock);
}

void clint_poll(struct clint *c, unsigned hart)
{
    struct clint_hart *h;

    if (!c || hart >= c->nharts)
        return;
    h = &c->harts[hart];
    /* Lock-free fast path: nothing to do while the level is unchanged. */
    if ((int)mtip_due(c, h) ==
        atomic_load_explicit(&h->mtip, memory_order_relaxed))
        return;
    mtip_update(c, h, false);
}

uint64_t clint_mtimecmp(struct clint *c, unsigned hart)
{
    if (!c || hart >= c->nharts)
        return UINT64_MAX;
    return atomic_load_explicit(&c->harts[hart].mtimecmp, memory_order_relaxed);
}

/* Replace the 32-bit half of old selected by byte offset 0 or 4. */
static uint64_t merge_half(uint64_t old, uint64_t off, uint64_t value)
{
    if (off & 4)
        return (old & 0xffffffffu) | (value << 32);
    return (old & ~UINT64_C(0xffffffff)) | (value & 0xffffffffu);
}

static uint64_t pick_half(uint64_t v, uint64_t off)
{
    return (off & 4) ? v >> 32 : v & 0xffffffffu;
}

/* Classify an access: which register, and whether its width and alignment
 * are ones the CLINT implements. */
enum clint_reg { REG_NONE, REG_MSIP, REG_MTIMECMP, REG_MTIME };

static enum clint_reg decode(const struct clint *c, uint64_t offset,
                             unsigned size, unsigned *hart)
{
    if ((size != 4 && size != 8) || (offset & (size - 1)))
        return REG_NONE;
    if (offset < CLINT_MSIP_BASE + 4 * (uint64_t)c->nharts) {
        if (size != 4)
            return REG_NONE;
        *hart = (unsigned)(offset - CLINT_MSIP_BASE) / 4;
        return REG_MSIP;
    }
    if (offset >= CLINT_MTIMECMP_BASE &&
        offset < CLINT_MTIMECMP_BASE + 8 * (uint64_t)c->nharts) {
        *hart = (unsigned)(offset - CLINT_MTIMECMP_BASE) / 8;
        return REG_MTIMECMP;
    }
    if (offset >= CLINT_MTIME && offset < CLINT_MTIME + 8)
        return REG_MTIME;
    return REG_NONE;
}

static uint64_t clint_read(void *opaque, uint64_t offset, unsigned size)
{
    struct clint *c = opaque;
    unsigned hart = 0;
    uint64_t v;

    switch (decode(c, offset, size, &hart)) {
    case REG_MSIP:
        return atomic_load_explicit(&c->harts[hart].msip, memory_order_relaxed);
    case REG_MTIMECMP:
        v = clint_mtimecmp(c, hart);
        break;
    case REG_MTIME:
        v = clint_mtime(c);
        break;
    default:
        return 0;
    }
    return size == 8 ? v : pick_half(v, offset);
}

static void clint_write(void *opaque, uint64_t offset, unsigned size,
                        uint64_t value)
{
    struct clint *c = opaque;
    unsigned hart = 0, i;
    struct clint_hart *h;
    uint64_t v;

    switch (decode(c, offset, size, &hart)) {
    case REG_MSIP:
        h = &c->harts[hart];
        pthread_mutex_lock(&h->lock);
        atomic_store_explicit(&h->msip, value & 1, memory_order_relaxed);
        irq_set(&h->msip_line, value & 1);
        pthread_mutex_unlock(&h->lock);
        break;
    case REG_MTIMECMP:
        h = &c->harts[hart];
        /* Under the hart lock so two half-writes cannot lose each other. */
        pthread_mutex_lock(&h->lock);
        v = atomic_load_explicit(&h->mtimecmp, memory_order_relaxed);
        v = size == 8 ? value : merge_half(v, offset, value);
        atomic_store_explicit(&h->mtimecmp, v, memory_order_relaxed);
        pthread_mutex_unlock(&h->lock);
        mtip_update(c, h, false);
        break;
    case REG_MTIME:
        pthread_mutex_lock(&c->time_lock);
        v = size == 8 ? value : merge_half(clint_mtime(c), offset, value);
        atomic_store_explicit(&c->offset, v - c->now(c->clock_opaque),
                              memory_order_relaxed);
        pthread_mutex_unlock(&c->time_lock);
        /* Moving time can cross any hart's compare value, either way. */
        for (i = 0; i < c->nharts; i++)
            mtip_update(c, &c->harts[i], false);
        break;
    default:
        break;
    }
}

const struct bus_ops clint_ops = {
    .read = clint_read,
    .write = clint_write,
};

struct clint *clint_new(unsigned nharts, uint64_t (*now)(void *opaque),
                        void *clock_opaque, const struct irq_line *msip_lines,
                        const struct irq_line *mtip_lines)
{
    struct clint *c;
    unsigned i;
    int err;

    if (nharts == 0 || nharts > CLINT_MAX_HARTS || !now) {
        errno = EINVAL;
        return NULL;
    }
    c = calloc(1, sizeof(*c) + nharts * sizeof(c->harts[0]));
    if (!c)
        return NULL;
    c->nharts = nharts;
    c->now = now;
    c->clock_opaque = clock_opaque;
    atomic_init(&c->offset, 0);
    if ((err = pthread_mutex_init(&c->time_lock, NULL)) != 0) {
        free(c);
        errno = err;
        return NULL;
    }
    for (i = 0; i < nharts; i++) {
        struct clint_hart *h = &c->harts[i];

        if ((err = pthread_mutex_init(&h->lock, NULL)) != 0) {
            while (i--)
                pthread_mutex_destroy(&c->harts[i].lock);
            pthread_mutex_destroy(&c->time_lock);
            free(c);
            errno = err;
            return NULL;
        }
        atomic_init(&h->mtimecmp, UINT64_MAX);
        atomic_init(&h->msip, 0);
        atomic_init(&h->mtip, 0);
        if (msip_lines)
            h->msip_line = msip_lines[i];
        if (mtip_lines)
            h->mtip_line = mtip_lines[i];
    }
    return c;
}

void clint_free(struct clint *c)
{
    unsigned i;

    if (!c)
        return;
    for (i = 0; i < c->nharts; i++)
        pthread_mutex_destroy(&c->harts[i].lock);
    pthread_mutex_destroy(&c->time_lock);
    free(c);
}

void clint_reset(struct clint *c)
{
    unsigned i;

    if (!c)
        return;
    pthread_mutex_lock(&c->time_lock);
    atomic_store_explicit(&c->offset, 0, memory_order_relaxed);
    pthread_mutex_unlock(&c->time_lock);
    for (i = 0; i < c->nharts; i++) {
        struct clint_hart *h = &c->harts[i];

        pthread_mutex_lock(&h->lock);
        atomic_store_explicit(&h->msip, 0, memory_order_relaxed);
        irq_set(&h->msip_line, 0);
        atomic_store_explicit(&h->mtimecmp, UINT64_MAX, memory_order_relaxed);
        pthread_mutex_unlock(&h->lock);
        mtip_update(c, h, true);
    }
}
