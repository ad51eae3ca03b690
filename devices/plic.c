/* PLIC model. See plic.h for the layout, gateway rules and threading.
 *
 * State is bitmaps of 32-bit words, the same shape as the guest-visible
 * pending/enable registers, so a context's best source is found a word at
 * a time. With 96 sources and 16 contexts recomputing every line after a
 * change costs a few dozen word operations, so there is no incremental
 * bookkeeping to get wrong. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "plic.h"

struct plic_ctx {
    uint32_t threshold;
    int out;                    /* level last driven on line, -1 = never */
    struct irq_line line;
    uint32_t *enable;           /* nwords */
};

struct plic {
    pthread_mutex_t lock;
    unsigned nsources, ncontexts, nwords;
    uint32_t *priority;         /* nsources; [0] stays 0 */
    uint32_t *level;            /* input levels, nwords */
    uint32_t *claimed;          /* claimed and not yet completed, nwords */
    uint32_t *pending;          /* level & ~claimed, nwords */
    struct plic_ctx *ctx;
};

static bool bit_get(const uint32_t *map, unsigned n)
{
    return (map[n / 32] >> (n % 32)) & 1;
}

static void bit_put(uint32_t *map, unsigned n, bool v)
{
    if (v)
        map[n / 32] |= UINT32_C(1) << (n % 32);
    else
        map[n / 32] &= ~(UINT32_C(1) << (n % 32));
}

/* Bits of word w that name real sources (not 0, not >= nsources). */
static uint32_t valid_mask(const struct plic *p, unsigned w)
{
    uint32_t m = UINT32_MAX;
    unsigned first = w * 32;

    if (w == 0)
        m &= ~UINT32_C(1);
    if (p->nsources < first + 32)
        m &= (UINT32_C(1) << (p->nsources - first)) - 1;
    return m;
}

/* Highest-priority enabled pending source above the threshold, lowest id
 * on ties; 0 when none. */
static unsigned best_source(const struct plic *p, const struct plic_ctx *c)
{
    unsigned best = 0, w;
    uint32_t best_prio = c->threshold;

    for (w = 0; w < p->nwords; w++) {
        uint32_t bits = p->pending[w] & c->enable[w];

        while (bits) {
            unsigned s = w * 32 + (unsigned)__builtin_ctz(bits);

            bits &= bits - 1;
            if (p->priority[s] > best_prio) {
                best_prio = p->priority[s];
                best = s;
            }
        }
    }
    return best;
}

static void update_lines(struct plic *p, bool force)
{
    unsigned i;

    for (i = 0; i < p->ncontexts; i++) {
        struct plic_ctx *c = &p->ctx[i];
        int level = best_source(p, c) != 0;

        if (force || level != c->out) {
            c->out = level;
            irq_set(&c->line, level);
        }
    }
}

/* The gateway: a level source requests service unless it is in flight. */
static void gateway(struct plic *p, unsigned s)
{
    bit_put(p->pending, s, bit_get(p->level, s) && !bit_get(p->claimed, s));
}

void plic_set_irq(void *opaque, unsigned source, int level)
{
    struct plic *p = opaque;

    if (!p || source == 0 || source >= p->nsources)
        return;
    pthread_mutex_lock(&p->lock);
    bit_put(p->level, source, level != 0);
    gateway(p, source);
    update_lines(p, false);
    pthread_mutex_unlock(&p->lock);
}

static uint32_t claim(struct plic *p, struct plic_ctx *c)
{
    unsigned s = best_source(p, c);

    if (s) {
        bit_put(p->claimed, s, true);
        gateway(p, s);
    }
    return s;
}

static void complete(struct plic *p, struct plic_ctx *c, uint64_t id)
{
    if (id == 0 || id >= p->nsources || !bit_get(c->enable, (unsigned)id) ||
        !bit_get(p->claimed, (unsigned)id))
        return;
    bit_put(p->claimed, (unsigned)id, false);
    gateway(p, (unsigned)id);
}

/* ---- register access ---- */

enum plic_reg { REG_NONE, REG_PRIORITY, REG_PENDING, REG_ENABLE,
                REG_THRESHOLD, REG_CLAIM };

/* Which register, and its source/word index (*idx) and context (*ctx). */
static enum plic_reg decode(const struct plic *p, uint64_t off, unsigned size,
                            unsigned *idx, unsigned *ctx)
{
    if (size != 4 || (off & 3))
        return REG_NONE;
    if (off < PLIC_PENDING_BASE) {
        *idx = (unsigned)(off / 4);
        return *idx < p->nsources ? REG_PRIORITY : REG_NONE;
    }
    if (off < PLIC_ENABLE_BASE) {
        *idx = (unsigned)((off - PLIC_PENDING_BASE) / 4);
        return *idx < p->nwords ? REG_PENDING : REG_NONE;
    }
    if (off < PLIC_CONTEXT_BASE) {
        uint64_t rel = off - PLIC_ENABLE_BASE;

        *ctx = (unsigned)(rel / PLIC_ENABLE_STRIDE);
        *idx = (unsigned)(rel % PLIC_ENABLE_STRIDE / 4);
        return *ctx < p->ncontexts && *idx < p->nwords ? REG_ENABLE : REG_NONE;
    }
    *ctx = (unsigned)((off - PLIC_CONTEXT_BASE) / PLIC_CONTEXT_STRIDE);
    if (*ctx >= p->ncontexts)
        return REG_NONE;
    switch ((off - PLIC_CONTEXT_BASE) % PLIC_CONTEXT_STRIDE) {
    case 0:
        return REG_THRESHOLD;
    case 4:
        return REG_CLAIM;
    default:
        return REG_NONE;
    }
}

static uint64_t plic_read(void *opaque, uint64_t offset, unsigned size)
{
    struct plic *p = opaque;
    unsigned idx = 0, ctx = 0;
    enum plic_reg reg = decode(p, offset, size, &idx, &ctx);
    uint32_t v = 0;

    if (reg == REG_NONE)
        return 0;
    pthread_mutex_lock(&p->lock);
    switch (reg) {
    case REG_PRIORITY:
        v = p->priority[idx];
        break;
    case REG_PENDING:
        v = p->pending[idx];
        break;
    case REG_ENABLE:
        v = p->ctx[ctx].enable[idx];
        break;
    case REG_THRESHOLD:
        v = p->ctx[ctx].threshold;
        break;
    case REG_CLAIM:
        v = claim(p, &p->ctx[ctx]);
        update_lines(p, false);
        break;
    case REG_NONE:
        break;
    }
    pthread_mutex_unlock(&p->lock);
    return v;
}

static void plic_write(void *opaque, uint64_t offset, unsigned size,
                       uint64_t value)
{
    struct plic *p = opaque;
    unsigned idx = 0, ctx = 0;
    enum plic_reg reg = decode(p, offset, size, &idx, &ctx);

    if (reg == REG_NONE || reg == REG_PENDING)
        return;
    pthread_mutex_lock(&p->lock);
    switch (reg) {
    case REG_PRIORITY:
        if (idx != 0)
            p->priority[idx] = (uint32_t)value & PLIC_MAX_PRIORITY;
        break;
    case REG_ENABLE:
        p->ctx[ctx].enable[idx] = (uint32_t)value & valid_mask(p, idx);
        break;
    case REG_THRESHOLD:
        p->ctx[ctx].threshold = (uint32_t)value & PLIC_MAX_PRIORITY;
        break;
    case REG_CLAIM:
        complete(p, &p->ctx[ctx], (uint32_t)value);
        break;
    default:
        break;
    }
    update_lines(p, false);
    pthread_mutex_unlock(&p->lock);
}

const struct bus_ops plic_ops = {
    .read = plic_read,
    .write = plic_write,
};

/* ---- lifetime ---- */

static void reset_locked(struct plic *p)
{
    unsigned i, w;

    for (i = 0; i < p->nsources; i++)
        p->priority[i] = 0;
    for (i = 0; i < p->ncontexts; i++) {
        p->ctx[i].threshold = 0;
        for (w = 0; w < p->nwords; w++)
            p->ctx[i].enable[w] = 0;
    }
    for (w = 0; w < p->nwords; w++) {
        p->claimed[w] = 0;
        p->pending[w] = p->level[w];
    }
    update_lines(p, true);
}

struct plic *plic_new(unsigned nsources, unsigned ncontexts,
                      const struct irq_line *ctx_lines)
{
    struct plic *p;
    unsigned nwords, i;
    uint32_t *words;
    int err;

    if (nsources < 2 || nsources > PLIC_MAX_SOURCES || ncontexts == 0 ||
        ncontexts > PLIC_MAX_CONTEXTS) {
        errno = EINVAL;
        return NULL;
    }
    nwords = (nsources + 31) / 32;
    p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->nsources = nsources;
    p->ncontexts = ncontexts;
    p->nwords = nwords;
    p->priority = calloc(nsources, sizeof(*p->priority));
    p->ctx = calloc(ncontexts, sizeof(*p->ctx));
    /* level, claimed, pending, then one enable bitmap a context */
    words = calloc((size_t)nwords * (3 + ncontexts), sizeof(*words));
    if (!p->priority || !p->ctx || !words) {
        err = ENOMEM;
        goto fail;
    }
    p->level = words;
    p->claimed = words + nwords;
    p->pending = words + 2 * nwords;
    for (i = 0; i < ncontexts; i++) {
        p->ctx[i].enable = words + (size_t)(3 + i) * nwords;
        p->ctx[i].out = -1;
        if (ctx_lines)
            p->ctx[i].line = ctx_lines[i];
    }
    if ((err = pthread_mutex_init(&p->lock, NULL)) != 0)
        goto fail;
    reset_locked(p);            /* not shared yet: no lock needed */
    return p;

fail:
    free(words);
    free(p->ctx);
    free(p->priority);
    free(p);
    errno = err;
    return NULL;
}

void plic_free(struct plic *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->lock);
    free(p->level);             /* the one block of all bitmaps */
    free(p->ctx);
    free(p->priority);
    free(p);
}

void plic_reset(struct plic *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    reset_locked(p);
    pthread_mutex_unlock(&p->lock);
}
