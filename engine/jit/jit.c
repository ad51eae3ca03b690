/* JIT manager: hotness hook, the bounded request queue, the compile worker
 * (one thread: libgccjit serializes compilation internally) and the
 * per-hart install step. See jit.h for the design. */
#define _GNU_SOURCE     /* pthread_setname_np */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <libgccjit.h>

#include "jit.h"
#include "jit_cache.h"
#include "jit_verify.h"

/* Requests compiled for one hart, waiting for it to install them. */
struct jit_hart {
    struct jit_mgr *mgr;
    struct rv_hart *h;
    pthread_mutex_t lock;
    pthread_cond_t cond;        /* a request of this hart was handed back */
    struct jit_req *done;       /* compiled (code set) or failed (code NULL) */
    struct jit_req *evict;      /* regions of evicted batches to take out */
    uint8_t scratch[RV_PAGE_SIZE];  /* install: a region's current bytes */
    /* regions made from --jit-cache entries on this hart: (entry, guest
     * address of its first member) -> request; open addressing */
    struct cached_use { const struct jit_cached *e; uint64_t first; struct jit_req *r; } *uses;
    unsigned nuses, cuses;
    uint64_t tier2;             /* regions installed at tier 2 (debug line) */
    uint64_t cache_tier2;       /* of those loaded from --jit-cache (debug line) */
};

/* One compiled batch: the loaded code and the instruction copies its
 * helper calls point into. Kept until jit_mgr_free. */
struct jit_batch {
    struct jit_batch *next;
    void *so;                   /* dlopen handle */
    struct jit_req *reqs;
    uint64_t bytes;             /* size of the loaded object */
    _Atomic unsigned live;      /* requests their harts have not let go of */
    int dying;                  /* being evicted */
};

struct jit_mgr {
    struct jit_config cfg;
    pthread_t worker;
    pthread_mutex_t lock;
    pthread_cond_t cond, idle_cond;
    /* the queues, stacks (see enqueue): [0] tier 1, [1] tier-2 recompiles
     * and blocks hot at a slow rate (jit_req.later), taken only when [0]
     * is empty */
    struct jit_req *head[2];
    int held;                       /* jit_mgr_hold */
    /* the batch being compiled came from head[1]; a tier-1 request then
     * kills its compiler (`preempted`) and the batch is queued again */
    int low_batch, preempted;
    unsigned qlen;
    int busy, stop, disabled;
    _Atomic uint64_t inflight;      /* queued + compiling (stats) */
    struct jit_batch *batches;      /* newest first */
    struct jit_batch *dead;         /* evicted and let go of by every hart */
    uint64_t live_bytes;            /* objects of the batches not evicted */
    struct jit_hart *harts[JIT_MAX_HARTS];
    unsigned nharts;
    unsigned long seq;              /* function names */
    pid_t child;                    /* the compiler process, 0 when none */
    struct jit_req *cached;         /* regions made from --jit-cache entries */
    char dir[200];                  /* where batches are compiled to */
};

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* LeakSanitizer (--enable-sanitizers): GCC inside libgccjit keeps
 * compiler data for the life of the process on purpose; only that is
 * suppressed. The runtime looks this hook up by name. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libgccjit.so\n";
}

/* ...and without a report of the suppressions (stderr stays one line) */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
    return "print_suppressions=0";
}

/* --- vCPU side ------------------------------------------------------------ */

/* Successors of b that a direct jump or falling through reaches:
 * guest-physical addresses, 0 to 2 of them. */
static unsigned successors(const struct rv_block *b, uint64_t *out)
{
    const struct rv_insn *in = &b->insns[b->n - 1];
    uint64_t pc = b->paddr + in->off;
    unsigned op = b->n == 1 && b->jit_code ? b->jit_op0 : in->op;

    if (!rv_op_ends_block(op)) {
        out[0] = b->paddr + b->bytes;
        return 1;
    }
    if (op >= RV_OP_BEQ && op <= RV_OP_BGEU) {
        out[0] = pc + (uint64_t)(int64_t)in->imm;
        out[1] = pc + in->len;
        return 2;
    }
    if (op == RV_OP_JAL) {
        out[0] = pc + (uint64_t)(int64_t)in->imm;
        return 1;
    }
    return 0;
}

/* Does b end in an indirect jump that is not a return (rd = x0, rs1
 * not a link register: the calling convention's return hint)? */
static int is_switch_jump(const struct rv_block *b)
{
    const struct rv_insn *in = &b->insns[b->n - 1];
    unsigned op = b->n == 1 && b->jit_code ? b->jit_op0 : in->op;

    return op == RV_OP_JALR && (in->rd == 0 || in->rd == RV_REG_SINK) && in->rs1 != 1 && in->rs1 != 5;
}

/* The region grown from hot block e: breadth-first along direct exits,
 * same page, blocks that ran at least 1/32 as often as the threshold
 * (rare paths stay interpreted and cost no compile time). At tier 1,
 * blocks that are already in a queued or installed region are left out:
 * a loop's blocks are often entered at two addresses (a branch into the
 * middle of a fall-through block makes a second, overlapping block), and
 * each grew nearly the same region, compiled again (sort: 4 regions of
 * ~125 instructions over one function); the dispatcher links them. Tier 2
 * takes installed blocks too, but not those of another queued region.
 * --jit-verify compiles single blocks: its check replays exactly one. */
static unsigned grow_region(struct jit_mgr *m, struct rv_hart *h, struct rv_block *e, int tier,
                            struct rv_block **mem, unsigned *ninsns)
{
    uint64_t page = e->paddr & RV_PAGE_MASK, min_execs = m->cfg.threshold / 32;
    unsigned nb = 1, ni = e->n + 1, maxb = m->cfg.verify ? 1 : JIT_REGION_BLOCKS;
    unsigned bytes = e->bytes;      /* must fit jit_req.bytes */

    int scanned = 0;

    mem[0] = e;
    for (unsigned i = 0; i < nb && nb < maxb; i++) {
        uint64_t succ[2];
        unsigned ns = successors(mem[i], succ);
        struct rv_block *pb = NULL;
        if (ns == 0 && !scanned && is_switch_jump(mem[i])) {
            /* its targets are unknown but likely on this page (a jump
             * table, an interpreter's dispatch): every hot block of the
             * page may join, and the jump reaches them inside the
             * region (jit_gen.c's go_to) */
            pb = rv_bc_page_blocks(h, page);
            scanned = 1;
        }
        for (unsigned k = 0; nb < maxb && (k < ns || pb); k++) {
            struct rv_block *s;
            unsigned j;
            if (pb) {
                s = pb;
                pb = pb->page_next;
            } else {
                if ((succ[k] & RV_PAGE_MASK) != page)
                    continue;
                s = rv_bc_find(h, succ[k]);
            }
            if (!s)
                continue;
            for (j = 0; j < nb && mem[j] != s; j++)
                ;
            if (j < nb || !s->cached || !s->valid || rv_block_execs(s) < min_execs ||
                ni + s->n + 1 > JIT_REGION_INSNS || bytes + s->bytes > RV_PAGE_SIZE ||
                s->jit_member || (tier == 1 && s->jit_code))
                continue;
            mem[nb++] = s;
            ni += s->n + 1;
            bytes += s->bytes;
        }
    }
    *ninsns = ni;
    return nb;
}

/* Guest bytes of the members, in order: compared again at install (a
 * member may have been rewritten meanwhile) and keyed by --jit-cache. */
static size_t region_bytes(struct rv_hart *h, const struct jit_req *r, uint8_t *out)
{
    size_t len = 0;

    for (unsigned k = 0; k < r->nblk; k++) {
        uint64_t pa = r->paddr + (uint64_t)(int64_t)r->b[k].delta;
        unsigned bytes = r->insns[r->b[k].first + r->b[k].n].off;   /* END's offset */
        const uint8_t *p = rv_ram_ptr(h, pa, bytes);
        if (!p)
            return 0;
        memcpy(out + len, p, bytes);
        len += bytes;
    }
    return len;
}

/* A request for the region grown from e. Its members other than e are
 * marked (they grow no region of their own while it is queued), unless
 * it is a `later` one (jit_req.later), which must not hold up hot
 * members. */
static struct jit_req *make_req(struct jit_mgr *m, struct rv_hart *h, struct rv_block *e,
                                int tier, int later)
{
    struct rv_block *mem[JIT_REGION_BLOCKS];
    unsigned ni, nb = grow_region(m, h, e, tier, mem, &ni), pos = 0;
    struct jit_req *r = calloc(1, sizeof(*r) + ni * sizeof(struct rv_insn));

    if (!r)
        return NULL;
    r->h = h;
    r->blk = e;
    r->gen = rv_bc_generation(h);
    r->paddr = e->paddr;
    r->nblk = nb;
    r->n = ni;
    r->span_lo = RV_PAGE_SIZE;
    for (unsigned k = 0; k < nb; k++) {
        struct rv_block *b = mem[k];
        uint16_t lo = (uint16_t)(b->paddr & ~RV_PAGE_MASK);
        r->b[k].delta = (int32_t)((int64_t)b->paddr - (int64_t)e->paddr);
        r->b[k].first = pos;
        r->b[k].n = b->n;
        r->b[k].nmem = b->nmem;
        memcpy(&r->insns[pos], b->insns, (b->n + 1) * sizeof(struct rv_insn));
        if (b->jit_code)        /* another region's entry: its real first op */
            r->insns[pos].op = b->jit_op0;
        pos += b->n + 1;
        if (lo < r->span_lo)
            r->span_lo = lo;
        if (lo + b->bytes > r->span_hi)
            r->span_hi = (uint16_t)(lo + b->bytes);
    }
    for (unsigned k = 1; k < nb && !later; k++)
        mem[k]->jit_member = 1;
    r->later = later;
    r->tier = 1;
    for (unsigned k = 0; k < nb; k++) {
        r->entry[k].insns = r->insns;
        r->entry[k].link = r->link;
        r->entry[k].entry = k;
        r->entry[k].tier = 1;
    }
    r->nbytes = region_bytes(h, r, r->bytes);
    return r;
}

static int install_entry(struct rv_hart *h, struct jit_req *r, unsigned k, int same);
static void give_back(struct jit_req *r);

/* Find (r NULL) or record the request made from cached region e whose
 * first member is at guest-physical first, on this hart. */
static struct jit_req *cached_use(struct jit_hart *jh, const struct jit_cached *e, uint64_t first,
                                  struct jit_req *r)
{
    uint64_t key = (uint64_t)(uintptr_t)e * 31 + first;
    unsigned s;

    if (r && 2 * (jh->nuses + 1) > jh->cuses) {
        unsigned cap = jh->cuses ? 2 * jh->cuses : 64;
        struct cached_use *nu = calloc(cap, sizeof(*nu));
        if (!nu)
            return NULL;        /* not recorded: only costs a duplicate later */
        for (unsigned i = 0; i < jh->cuses; i++)
            if (jh->uses[i].e) {
                uint64_t k2 = (uint64_t)(uintptr_t)jh->uses[i].e * 31 + jh->uses[i].first;
                for (s = (unsigned)(k2 ^ k2 >> 17) & (cap - 1); nu[s].e; s = (s + 1) & (cap - 1))
                    ;
                nu[s] = jh->uses[i];
            }
        free(jh->uses);
        jh->uses = nu;
        jh->cuses = cap;
    }
    if (!jh->cuses)
        return NULL;
    for (s = (unsigned)(key ^ key >> 17) & (jh->cuses - 1); jh->uses[s].e;
         s = (s + 1) & (jh->cuses - 1))
        if (jh->uses[s].e == e && jh->uses[s].first == first) {
            if (r)
                jh->uses[s].r = r;      /* the old one predates a flush */
            return r ? NULL : jh->uses[s].r;
        }
    if (r) {
        jh->uses[s] = (struct cached_use){ e, first, r };
        jh->nuses++;
    }
    return NULL;
}

struct cache_try {
    struct jit_mgr *m;
    struct rv_hart *h;
    struct rv_block *b;
    int tier;                   /* only regions of this tier */
    int installed;
};

/* A cached region e that has b as member k: usable if all its members'
 * bytes are the guest's bytes now (then it is the code the compiler
 * would make); installed on b and on its other members already cached. */
static int try_cached(void *ctx, const struct jit_cached *e, unsigned k)
{
    struct cache_try *t = ctx;
    struct rv_hart *h = t->h;
    uint64_t first = t->b->paddr - (uint64_t)(int64_t)e->b[k].delta;
    uint64_t rej = jit_cache_rejects(t->m->cfg.cache);
    unsigned ni = 0, pos = 0;
    struct jit_req *r;
    rv_jit_fn fn;

    if (e->tier != t->tier)
        return 0;
    for (unsigned j = 0; j < e->nblk; j++) {
        const uint8_t *p = rv_ram_ptr(h, first + (uint64_t)(int64_t)e->b[j].delta, e->blen[j]);
        if (!p || memcmp(p, e->bytes + e->b[j].first, e->blen[j]))
            return 0;
        ni += e->b[j].n + 1;
    }
    r = cached_use(h->jit, e, first, NULL);
    if (r && r->gen == rv_bc_generation(h)) {
        /* made before for another member: this one joins (all bytes
         * were just checked again) */
        if (install_entry(h, r, k, 1))
            t->installed = 1;
        return t->installed;
    }
    fn = jit_cache_code(t->m->cfg.cache, e);
    h->ctr.jit_cache_rejects += jit_cache_rejects(t->m->cfg.cache) - rej;
    if (!fn || !(r = calloc(1, sizeof(*r) + ni * sizeof(struct rv_insn))))
        return 0;
    r->h = h;
    r->gen = rv_bc_generation(h);
    r->paddr = first;
    r->blk = rv_bc_find(h, first);
    r->nblk = e->nblk;
    r->n = ni;
    r->fn = fn;
    r->span_lo = e->span_lo;
    r->span_hi = e->span_hi;
    r->nbytes = e->nbytes;
    r->tier = e->tier;
    memcpy(r->bytes, e->bytes, e->nbytes);
    for (unsigned j = 0; j < e->nblk; j++) {
        r->b[j] = e->b[j];
        r->b[j].first = pos;
        r->entry[j].insns = r->insns;
        r->entry[j].link = r->link;
        r->entry[j].entry = j;
        r->entry[j].tier = e->tier;
        if (rv_decode_bytes(e->bytes + e->b[j].first, e->blen[j], e->b[j].n, &r->insns[pos]) < 0) {
            free(r);
            return 0;
        }
        pos += e->b[j].n + 1;
    }
    pthread_mutex_lock(&t->m->lock);
    r->next = t->m->cached;
    t->m->cached = r;
    pthread_mutex_unlock(&t->m->lock);
    cached_use(h->jit, e, first, r);
    for (unsigned j = 0; j < e->nblk; j++)
        if (install_entry(h, r, j, 1) && j == k)
            t->installed = 1;
    h->ctr.jit_cache_loads++;
    h->ctr.jit_region_blocks += e->nblk;
    h->jit->cache_tier2 += e->tier >= 2;
    return t->installed;
}

/* Tier 2 first: it is the faster code, and its regions are the merged
 * ones (tier 1 leaves out blocks already in other regions). */
static int from_cache(struct jit_mgr *m, struct rv_hart *h, struct rv_block *b)
{
    struct cache_try t = { m, h, b, 2, 0 };
    const uint8_t *p = rv_ram_ptr(h, b->paddr, b->bytes);

    for (; p && b->bytes && !t.installed && t.tier >= 1; t.tier--)
        jit_cache_find(m->cfg.cache, (unsigned)(b->paddr & ~RV_PAGE_MASK), p, b->bytes,
                       try_cached, &t);
    return t.installed;
}

static void enqueue(struct jit_mgr *m, struct rv_hart *h, struct jit_req *r);

/* Count b towards hotness again: hot after `count` more executions. */
static void rearm(struct rv_hart *h, struct rv_block *b, uint64_t count)
{
    uint64_t execs = rv_block_execs(b);

    b->exec_count = 0 - count;
    b->exec_base = b->exec_count - execs;
    b->hot_since = h->instret;
}

void rv_jit_hot(struct rv_hart *h, struct rv_block *b)
{
    struct jit_hart *jh = h->jit;
    struct jit_mgr *m;
    uint64_t span, allowed, took;

    /* exec_count is 0 now and stays clear of 0 for good */
    if (!jh || !b->cached || b->jit_code)
        return;
    m = jh->mgr;
    if (m->cfg.cache && !b->jit_probed) {
        b->jit_probed = 1;
        if (from_cache(m, h, b))
            return;
        if (rv_block_execs(b) < m->cfg.threshold) {
            /* not cached: hot after the threshold as usual */
            rearm(h, b, m->cfg.threshold - rv_block_execs(b));
            return;
        }
    }
    if (b->jit_member) {
        /* a member of a queued region, which will be installed on it as
         * well (all the blocks of a hot loop get hot at about the same
         * time, and each would otherwise grow the same region again) */
        rearm(h, b, 0 - h->jit_start);
        return;
    }
    /* lukewarm: it ran less than once per JIT_HOT_SPAN instructions on
     * its way to the threshold (a boot's init code, run now and then):
     * count again rather than compile code whose time is over (a Linux
     * boot queued ~500 such blocks, and the worker compiled them first,
     * long after they ran). The span allowed doubles each time, so a
     * block that keeps running at a slow but steady rate (a function
     * called once per iteration of a long outer loop) is compiled after
     * a few rounds, but after the code that is hot now (`later`). */
    span = m->cfg.threshold * JIT_HOT_SPAN;     /* the threshold is at most 2^32 */
    took = h->instret - b->hot_since;
    /* span << rounds, saturating */
    allowed = span && b->jit_lukewarm >= __builtin_clzll(span) ? UINT64_MAX
                                                              : span << b->jit_lukewarm;
    if (span && took > allowed) {
        h->ctr.jit_lukewarm++;
        if (b->jit_lukewarm < 255)
            b->jit_lukewarm++;
        rearm(h, b, m->cfg.threshold);
        return;
    }
    enqueue(m, h, make_req(m, h, b, 1, span && took > span));
}

/* Queue request r for the worker, or drop it. The
 * queue is a stack: the newest request is the code running now, while
 * the oldest may be code whose time is over; when it is full, the
 * oldest goes back to its hart (rv_jit_install re-arms its block). */
static void enqueue(struct jit_mgr *m, struct rv_hart *h, struct jit_req *r)
{
    struct jit_hart *jh = h->jit;
    struct jit_req *old = NULL;

    /* requests - blocks - discarded = in the queue (stats) */
    h->ctr.jit_requests++;
    if (!r) {
        h->ctr.jit_discarded++;
        return;
    }
    pthread_mutex_lock(&m->lock);
    if (m->disabled) {
        pthread_mutex_unlock(&m->lock);
        free(r);
        h->ctr.jit_discarded++;
        return;
    }
    if (m->qlen >= (m->cfg.queue_max ? m->cfg.queue_max : JIT_QUEUE_MAX)) {
        struct jit_req **pp = m->head[1] ? &m->head[1] : &m->head[0];
        while ((*pp)->next)
            pp = &(*pp)->next;
        old = *pp;
        *pp = NULL;
        m->qlen--;
        atomic_fetch_sub(&m->inflight, 1);
    }
    r->next = m->head[r->tier >= 2 || r->later];
    m->head[r->tier >= 2 || r->later] = r;
    if (r->tier == 1 && !r->later && m->low_batch && m->child > 0 && !m->preempted &&
        !m->cfg.sync) {
        /* new hot code must not wait for a tier-2 or slow-rate compile
         * (100-300 ms): that one starts over later (not at threshold 0,
         * where every block is new code and tier 2 would never finish) */
        kill(m->child, SIGKILL);
        m->preempted = 1;
    }
    m->qlen++;
    atomic_fetch_add(&m->inflight, 1);
    pthread_cond_signal(&m->cond);
    pthread_mutex_unlock(&m->lock);
    if (old)
        give_back(old);     /* not compiled (fn NULL): re-armed, freed */
    if (m->cfg.sync && r->tier == 1) {
        /* testing mode: every block runs compiled from its first
         * execution on, so the vCPU waits for this one */
        pthread_mutex_lock(&jh->lock);
        while (!r->handed_back)
            pthread_cond_wait(&jh->cond, &jh->lock);
        pthread_mutex_unlock(&jh->lock);
        rv_jit_install(h);
    }
}

/* Tier 2: a region entry that ran RV_JIT_TIER2_WORK_PER_EXEC times the
 * threshold's instructions is compiled again, grown afresh, at -O2 (worth
 * its compile time only for code that runs that much: measured, -O2 makes
 * regions 6-17% faster and compiles 1.5-2x slower). The new code replaces
 * the tier-1 entries when it is installed. */
void rv_jit_promote(struct rv_hart *h, struct rv_block *b, struct jit_region *R)
{
    struct jit_hart *jh = h->jit;
    struct jit_req *r;

    R->promoted = 1;
    if (!jh || R->tier >= 2 || !b->valid || b->jit_region != R || jh->mgr->cfg.verify ||
        b->jit_member)      /* in a queued tier-2 region already */
        return;
    r = make_req(jh->mgr, h, b, 2, 0);
    if (r) {
        r->tier = 2;
        for (unsigned k = 0; k < r->nblk; k++)
            r->entry[k].tier = 2;
    }
    enqueue(jh->mgr, h, r);
}

/* Is r's code still right? The arena may have been flushed and reused
 * or a member's bytes rewritten since the request was made. */
static int still_same(struct rv_hart *h, const struct jit_req *r, uint8_t *scratch)
{
    if (!r->fn || r->gen != rv_bc_generation(h))
        return 0;
    return region_bytes(h, r, scratch) == r->nbytes && memcmp(scratch, r->bytes, r->nbytes) == 0;
}

/* Put entry k of r on its block, if that block is still cached and runs
 * no code yet. */
static int install_entry(struct rv_hart *h, struct jit_req *r, unsigned k, int same)
{
    uint64_t pa = r->paddr + (uint64_t)(int64_t)r->b[k].delta;
    struct rv_block *b = k == 0 ? r->blk : rv_bc_find(h, pa);

    if (!b || !b->valid || !b->cached || b->paddr != pa)
        return 0;
    b->jit_member = 0;      /* hot again: a region of its own */
    if (!same || b->n != r->b[k].n)
        return 0;
    if (b->jit_code) {
        if (b->jit_region->tier >= r->tier)
            return 0;
        /* a higher tier replaces the entry (at the slow boundary: the old
         * code runs nowhere now) */
        b->insns[0].op = b->jit_op0;
        b->jit_code = NULL;
        b->jit_region = NULL;
    }
    r->entry[k].fn = r->fn;
    r->entry[k].blk = b;
    b->jit_region = &r->entry[k];
    b->jit_code = (void *)r->fn;
    b->jit_code_bytes = r->code_bytes;
    b->jit_compile_us = r->compile_us;
    /* a store into any member's bytes must now drop this entry too */
    b->span_lo = r->span_lo;
    b->span_hi = r->span_hi;
    /* from now on the interpreter's dispatch enters the code; the request
     * keeps the original instructions (and jit_op0 the first op, for
     * --jit-verify's interpreted run) */
    b->jit_op0 = b->insns[0].op;
    b->insns[0].op = RV_OP_JIT;
    return 1;
}

/* Take r's entries out of their blocks (its batch is being evicted):
 * they run interpreted again and may get hot again. */
static void uninstall(struct rv_hart *h, struct jit_req *r)
{
    unsigned n = 0;

    if (r->gen != rv_bc_generation(h))
        return;             /* flushed since: nothing of r is installed */
    for (unsigned k = 0; k < r->nblk; k++) {
        struct rv_block *b = r->entry[k].blk;
        if (!b || b->jit_region != &r->entry[k])
            continue;
        b->insns[0].op = b->jit_op0;
        b->jit_code = NULL;
        b->jit_region = NULL;
        b->span_lo = (uint16_t)(b->paddr & ~RV_PAGE_MASK);
        b->span_hi = (uint16_t)(b->span_lo + b->bytes);
        b->jit_member = 0;
        rearm(h, b, 0 - h->jit_start);
        n++;
    }
    if (n) {
        h->ctr.jit_evictions++;
        h->ctr.jit_region_blocks -= n;
        h->ctr.jit_code_bytes -= r->code_bytes;
    }
}

void rv_jit_install(struct rv_hart *h)
{
    struct jit_hart *jh = h->jit;
    struct jit_req *list, *r, *evict;

    atomic_store(&h->jit_ready, 0);
    if (!jh)
        return;
    pthread_mutex_lock(&jh->lock);
    list = jh->done;
    jh->done = NULL;
    evict = jh->evict;
    jh->evict = NULL;
    pthread_mutex_unlock(&jh->lock);
    for (struct jit_req *next; list; list = next) {
        unsigned n = 0;
        r = list;
        next = r->next;
        int same = still_same(h, r, jh->scratch);
        /* (after a flush the members' memory is other blocks') */
        if (r->gen == rv_bc_generation(h))
            for (unsigned k = 0; k < r->nblk; k++)
                n += install_entry(h, r, k, same);
        if (!n) {
            h->ctr.jit_discarded++;
            if (!r->batch) {
                /* dropped from a full queue, never compiled: its block
                 * may get hot again (install_entry cleared its members'
                 * jit_member) */
                if (r->gen == rv_bc_generation(h) && r->blk->valid && !r->blk->jit_code)
                    rearm(h, r->blk, jh->mgr->cfg.threshold);
                free(r);
            }
            continue;
        }
        jh->tier2 += r->tier >= 2;
        h->ctr.jit_blocks++;
        h->ctr.jit_region_blocks += n;
        h->ctr.jit_code_bytes += r->code_bytes;
        h->ctr.jit_compile_ns += (uint64_t)r->compile_us * 1000;
    }
    /* the requests stay owned by their batch (helpers point into them);
     * an evicted batch's go once every hart has taken its entries out
     * (here, at the slow boundary, no compiled code runs) */
    while (evict) {
        r = evict;
        evict = r->enext;
        uninstall(h, r);
        if (atomic_fetch_sub(&r->batch->live, 1) == 1) {
            struct jit_mgr *m = jh->mgr;
            pthread_mutex_lock(&m->lock);
            r->batch->next = m->dead;
            m->dead = r->batch;
            pthread_cond_signal(&m->cond);
            pthread_mutex_unlock(&m->lock);
        }
    }
}

/* --- worker ---------------------------------------------------------------- */

/* Hand a finished request to its hart. Once the lock is released the
 * hart may have taken r and, for a request dropped from a full queue
 * (no batch owns it), freed it: r is not touched after that. */
static void give_back(struct jit_req *r)
{
    struct rv_hart *h = r->h;
    struct jit_hart *jh = h->jit;

    pthread_mutex_lock(&jh->lock);
    r->next = jh->done;
    jh->done = r;
    r->handed_back = 1;
    pthread_cond_broadcast(&jh->cond);
    pthread_mutex_unlock(&jh->lock);
    atomic_store(&h->jit_ready, 1);
    /* make the hart's next block boundary the slow one */
    atomic_store(&h->run_limit, 0);
}

/* Keep the batch's loaded object and request copies (generated helper
 * calls point into the copies) until the manager goes away. */
static void keep_batch(struct jit_mgr *m, void *so, uint64_t bytes, struct jit_req **arr,
                       unsigned n)
{
    struct jit_batch *bt = calloc(1, sizeof(*bt));

    if (!bt)
        return;     /* leak rather than free code a vCPU may run */
    for (unsigned i = 0; i < n; i++) {
        arr[i]->bnext = i + 1 < n ? arr[i + 1] : NULL;
        arr[i]->batch = bt;
    }
    bt->so = so;
    bt->bytes = bytes;
    bt->reqs = arr[0];
    atomic_store(&bt->live, n);
    bt->next = m->batches;
    m->batches = bt;
    m->live_bytes += bytes;
}

/* Bounded code cache: while the loaded objects exceed the limit, the
 * oldest batch goes, whole (under m->lock). Each request goes to its
 * hart, which takes its entries out at its next slow boundary; the last
 * one hands the batch back to the worker to unload. */
static void evict_old(struct jit_mgr *m)
{
    while (m->live_bytes > m->cfg.code_max) {
        struct jit_batch *old = NULL;
        for (struct jit_batch *b = m->batches; b; b = b->next)
            if (!b->dying && b != m->batches)
                old = b;
        if (!old)
            return;         /* never the newest: its code is about to run */
        old->dying = 1;
        m->live_bytes -= old->bytes;
        for (struct jit_req *r = old->reqs; r; r = r->bnext) {
            struct jit_hart *jh = r->h->jit;
            pthread_mutex_lock(&jh->lock);
            r->enext = jh->evict;
            jh->evict = r;
            pthread_mutex_unlock(&jh->lock);
            atomic_store(&r->h->jit_ready, 1);
            atomic_store(&r->h->run_limit, 0);
        }
    }
}

static void free_batch(struct jit_batch *b)
{
    if (b->so)
        dlclose(b->so);
    while (b->reqs) {
        struct jit_req *r = b->reqs;
        b->reqs = r->bnext;
        free(r);
    }
    free(b);
}

/* Unload the batches every hart has let go of (worker, m->lock held). */
static void free_dead(struct jit_mgr *m)
{
    while (m->dead) {
        struct jit_batch *b = m->dead;
        m->dead = b->next;
        for (struct jit_batch **pp = &m->batches; *pp; pp = &(*pp)->next)
            if (*pp == b) {
                *pp = b->next;
                break;
            }
        free_batch(b);
    }
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)(*(void *const *)a), y = (uintptr_t)(*(void *const *)b);
    return x < y ? -1 : x > y;
}

/* Code size estimate: distance to the next function in the object (all
 * functions of a batch land in one .text, and a sentinel ends it). */
static uint32_t code_size(void *fn, void **sorted, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (sorted[i] == fn)
            return (uint32_t)((uintptr_t)sorted[i + 1] - (uintptr_t)fn);
    return 0;
}

/* In the compiler process: the batch's IR, compiled to the shared object
 * at path. 0, or 1 with libgccjit's first error written to errfd. */
static int compile_child(struct jit_mgr *m, struct jit_req **arr, unsigned n, const char *path,
                         int errfd)
{
    gcc_jit_context *c = gcc_jit_context_acquire();
    const char *e = "cannot create a compile context";
    char name[48];
    int bad = 0;

    if (c) {
        gcc_jit_context_set_int_option(c, GCC_JIT_INT_OPTION_OPTIMIZATION_LEVEL,
                                       arr[0]->tier >= 2 ? 2 : m->cfg.opt_level);
        gcc_jit_context_set_bool_allow_unreachable_blocks(c, 1);
        /* keep each function in one piece so the size estimate holds */
        gcc_jit_context_add_command_line_option(c, "-fno-reorder-blocks-and-partition");
        gcc_jit_context_add_driver_option(c, "-nostdlib");
        /* sqrt inline, no libm call for errno */
        gcc_jit_context_add_command_line_option(c, "-fno-math-errno");
        if (jit_host_features() & JIT_HOST_FMA)
            gcc_jit_context_add_command_line_option(c, "-mfma");
        /* no vectorizing: GCC 12's -O2 paired guest registers in SSE
         * registers (their stores at the exits are adjacent), and the
         * loops then moved them in and out of it on every iteration */
        gcc_jit_context_add_command_line_option(c, "-fno-tree-vectorize");
        for (unsigned i = 0; i < n && !bad; i++) {
            snprintf(name, sizeof(name), "gb_blk_%lu", m->seq + i);
            bad = jit_gen_region(c, arr[i], name) < 0;
        }
        if (!bad && getenv("GLASSBOX_JIT_DUMP")) {
            /* developers: the batch's IR as C-like text */
            char dump[300];
            snprintf(dump, sizeof(dump), "%s/batch-%lu.c", getenv("GLASSBOX_JIT_DUMP"), m->seq);
            gcc_jit_context_dump_to_file(c, dump, 0);
        }
        if (!bad) {
            /* sentinel: marks the end of the last block's code */
            gcc_jit_type *vt = gcc_jit_context_get_type(c, GCC_JIT_TYPE_VOID);
            gcc_jit_function *f = gcc_jit_context_new_function(
                c, NULL, GCC_JIT_FUNCTION_EXPORTED, vt, "gb_blk_end", 0, NULL, 0);
            gcc_jit_block_end_with_void_return(gcc_jit_function_new_block(f, "e"), NULL);
            gcc_jit_context_compile_to_file(c, GCC_JIT_OUTPUT_KIND_DYNAMIC_LIBRARY, path);
        }
        e = gcc_jit_context_get_first_error(c);
        if (!e && bad)
            e = "a region could not be translated";
    }
    if (e && write(errfd, e, strlen(e)) < 0)
        return 1;
    return e != NULL;
}

static void disable(struct jit_mgr *m, const char *why)
{
    char msg[400];

    snprintf(msg, sizeof(msg), "JIT disabled, running interpreted: libgccjit: %s", why);
    pthread_mutex_lock(&m->lock);
    if (!m->disabled) {
        m->disabled = 1;
        if (m->cfg.warn)
            m->cfg.warn(m->cfg.opaque, msg);
    }
    pthread_mutex_unlock(&m->lock);
}

/* The sanitizers' allocators are not fork-safe while other threads
 * allocate (a child can inherit a held lock): such builds compile in the
 * worker thread itself. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define JIT_FORK 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define JIT_FORK 0
#endif
#endif
#ifndef JIT_FORK
#define JIT_FORK 1
#endif

/* Compile in a forked child: GCC's run then costs the vCPUs nothing but
 * a CPU, and stopping the machine kills it instead of waiting for it. */
static void *compile_forked(struct jit_mgr *m, struct jit_req **arr, unsigned n,
                            const char *path)
{
    char err[320] = "";
    size_t elen = 0;
    int fds[2], st = 0, stopped;
    pid_t pid;
    void *so = NULL;

    if (pipe2(fds, O_CLOEXEC) < 0)
        return NULL;
    if (!JIT_FORK) {
        /* (errors are short: the pipe's buffer holds them) */
        st = compile_child(m, arr, n, path, fds[1]) << 8;   /* as a wait status */
        pid = 0;
    } else {
        pid = fork();
        if (pid == 0) {
            close(fds[0]);
            _exit(compile_child(m, arr, n, path, fds[1]));
        }
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        return NULL;
    }
    pthread_mutex_lock(&m->lock);
    m->child = pid;
    if (m->stop && pid)
        kill(pid, SIGKILL);
    pthread_mutex_unlock(&m->lock);
    for (;;) {
        ssize_t k = read(fds[0], err + elen, sizeof(err) - 1 - elen);
        if (k > 0 && elen + (size_t)k < sizeof(err) - 1) {
            elen += (size_t)k;
            continue;
        }
        if (k < 0 && errno == EINTR)
            continue;
        break;
    }
    err[elen] = 0;
    close(fds[0]);
    while (pid && waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&m->lock);
    m->child = 0;
    stopped = m->stop || m->preempted;
    pthread_mutex_unlock(&m->lock);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!so)
            disable(m, dlerror());
    } else if (!stopped) {
        char why[400];
        if (WIFSIGNALED(st))
            snprintf(why, sizeof(why), "compiler process killed by signal %d", WTERMSIG(st));
        else
            snprintf(why, sizeof(why), "%s", err[0] ? err : "compilation failed");
        disable(m, why);
    }
    return so;
}

static void compile_batch(struct jit_mgr *m, struct jit_req **arr, unsigned n)
{
    char name[48], path[sizeof(m->dir) + 48];
    void *addrs[JIT_BATCH_MAX + 1];
    unsigned naddr = 0;
    uint64_t t0 = now_ns(), dt, so_bytes = 0;
    void *so;

    snprintf(path, sizeof(path), "%s/b%lu.so", m->dir, m->seq);
    so = compile_forked(m, arr, n, path);
    pthread_mutex_lock(&m->lock);
    if (!so && m->preempted) {
        /* back where they came from, in the same order */
        for (unsigned i = n; i-- > 0;) {
            arr[i]->next = m->head[1];
            m->head[1] = arr[i];
        }
        m->qlen += n;
        atomic_fetch_add(&m->inflight, n);
        m->preempted = 0;
        pthread_mutex_unlock(&m->lock);
        unlink(path);
        if (getenv("GLASSBOX_JIT_DEBUG"))
            fprintf(stderr, "jit: batch %lu: preempted by new hot code after %.1f ms\n", m->seq,
                    (double)(now_ns() - t0) / 1e6);
        return;
    }
    pthread_mutex_unlock(&m->lock);
    if (so) {
        struct stat st;
        if (stat(path, &st) == 0)
            so_bytes = (uint64_t)st.st_size;
    }
    if (so && m->cfg.cache) {     /* a batch is all one tier (the worker loop) */
        /* dlsym first: only regions with code are stored */
        for (unsigned i = 0; i < n; i++) {
            snprintf(name, sizeof(name), "gb_blk_%lu", m->seq + i);
            arr[i]->fn = (rv_jit_fn)dlsym(so, name);
        }
        jit_cache_store(m->cfg.cache, path, arr, n, m->seq);
    }
    unlink(path);           /* the mapping keeps what dlopen loaded */
    dt = now_ns() - t0;
    if (so) {
        for (unsigned i = 0; i < n; i++) {
            snprintf(name, sizeof(name), "gb_blk_%lu", m->seq + i);
            arr[i]->fn = (rv_jit_fn)dlsym(so, name);
            arr[i]->seq = m->seq + i;
            if (arr[i]->fn)
                addrs[naddr++] = (void *)arr[i]->fn;
        }
        addrs[naddr] = dlsym(so, "gb_blk_end");
        if (addrs[naddr])
            naddr++;
        qsort(addrs, naddr, sizeof(addrs[0]), cmp_ptr);
        for (unsigned i = 0; i < n; i++) {
            arr[i]->compile_us = (uint32_t)(dt / n / 1000);
            if (arr[i]->fn)
                arr[i]->code_bytes = code_size((void *)arr[i]->fn, addrs, naddr);
        }
    }
    if (getenv("GLASSBOX_JIT_DEBUG")) {
        unsigned insns = 0, blocks = 0, code = 0;
        for (unsigned i = 0; i < n; i++) {
            insns += arr[i]->n - arr[i]->nblk;      /* without the END sentinels */
            blocks += arr[i]->nblk;
            code += arr[i]->code_bytes;
        }
        fprintf(stderr, "jit: batch %lu: %u regions, %u blocks, %u insns, %u code bytes, %.1f ms\n",
                m->seq, n, blocks, insns, code, (double)dt / 1e6);
        for (unsigned i = 0; i < n && getenv("GLASSBOX_JIT_DEBUG")[0] == '2'; i++) {
            fprintf(stderr, "  region %#llx:", (unsigned long long)arr[i]->paddr);
            for (unsigned k = 0; k < arr[i]->nblk; k++)
                fprintf(stderr, " %+d", arr[i]->b[k].delta);
            fprintf(stderr, "\n");
        }
    }
    m->seq += n;
    /* record the batch before the harts can see (and install) its code */
    pthread_mutex_lock(&m->lock);
    keep_batch(m, so, so_bytes, arr, n);
    evict_old(m);
    pthread_mutex_unlock(&m->lock);
    for (unsigned i = 0; i < n; i++)
        give_back(arr[i]);
}

static void *worker(void *arg)
{
    struct jit_mgr *m = arg;
    struct jit_req *arr[JIT_BATCH_MAX];

    pthread_setname_np(pthread_self(), "gb-jit");     /* top -H, placement test */
    /* A vCPU woken by an IPI must not queue behind the compiler: with as
     * many busy threads as CPUs, the other vCPUs wait for that one. */
    if (m->cfg.nice)
        setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), m->cfg.nice);
    pthread_mutex_lock(&m->lock);
    for (;;) {
        unsigned n = 0;
        struct jit_req **q;
        while ((!(m->head[0] || m->head[1]) || m->held) && !m->stop && !m->dead) {
            m->busy = 0;
            pthread_cond_broadcast(&m->idle_cond);
            pthread_cond_wait(&m->cond, &m->lock);
        }
        if (m->stop)
            break;
        free_dead(m);
        if (!(m->head[0] || m->head[1]) || m->held)
            continue;
        /* new hot code first: a tier-2 recompile only makes compiled code
         * faster, and a slow-rate block gains less than the code that is
         * hot now, which it would hold up */
        q = m->head[0] ? &m->head[0] : &m->head[1];
        m->low_batch = q == &m->head[1] && JIT_FORK;
        m->preempted = 0;
        m->busy = 1;
        /* small batches: the first hot code is not held up behind a
         * long compile (GCC's time grows with the IR) */
        for (unsigned insns = 0; *q && n < JIT_BATCH_MAX &&
                                 (n == 0 || (insns + (*q)->n <= JIT_BATCH_INSNS &&
                                             (*q)->tier == arr[0]->tier));) {
            insns += (*q)->n;
            arr[n++] = *q;
            *q = (*q)->next;
            m->qlen--;
        }
        pthread_mutex_unlock(&m->lock);
        compile_batch(m, arr, n);
        atomic_fetch_sub(&m->inflight, n);
        pthread_mutex_lock(&m->lock);
    }
    m->busy = 0;
    pthread_cond_broadcast(&m->idle_cond);
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

/* --- lifecycle -------------------------------------------------------------- */

/* libgccjit runs `as` and `ld`; its embedded driver exits the whole
 * process when they are missing, so look for them first. */
static int on_path(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[4096];

    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        if (len && len + strlen(prog) + 2 <= sizeof(buf)) {
            memcpy(buf, path, len);
            buf[len] = '/';
            strcpy(buf + len + 1, prog);
            if (access(buf, X_OK) == 0)
                return 1;
        }
        path = end ? end + 1 : NULL;
    }
    return 0;
}

int jit_mgr_new(struct jit_mgr **out, const struct jit_config *cfg)
{
    struct jit_mgr *m = calloc(1, sizeof(*m));

    *out = NULL;
    if (!m) {
        jit_cache_close(cfg->cache);
        return -ENOMEM;
    }
    m->cfg = *cfg;
    if (!m->cfg.code_max)
        m->cfg.code_max = JIT_DEFAULT_CODE_MAX;
    if (m->cfg.opt_level < 0 || m->cfg.opt_level > 3)
        m->cfg.opt_level = 2;
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->cond, NULL);
    pthread_cond_init(&m->idle_cond, NULL);
    {
        const char *tmp = getenv("TMPDIR");
        snprintf(m->dir, sizeof(m->dir), "%s/glassbox-jit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(m->dir)) {
            m->disabled = 1;
            if (m->cfg.warn)
                m->cfg.warn(m->cfg.opaque, "JIT disabled, running interpreted: cannot create "
                            "a directory for compiled code under $TMPDIR or /tmp");
        }
    }
    if (!m->disabled && (!on_path("as") || !on_path("ld"))) {
        m->disabled = 1;
        if (m->cfg.warn)
            m->cfg.warn(m->cfg.opaque, "JIT disabled, running interpreted: libgccjit needs "
                        "'as' and 'ld' (binutils) on PATH");
    }
    if (pthread_create(&m->worker, NULL, worker, m) != 0) {
        jit_cache_close(m->cfg.cache);
        rmdir(m->dir);
        pthread_mutex_destroy(&m->lock);
        pthread_cond_destroy(&m->cond);
        pthread_cond_destroy(&m->idle_cond);
        free(m);
        return -EAGAIN;
    }
    *out = m;
    return 0;
}

int jit_attach_hart(struct jit_mgr *m, struct rv_hart *h)
{
    struct jit_hart *jh;

    if (m->nharts >= JIT_MAX_HARTS)
        return -ENOSPC;
    jh = calloc(1, sizeof(*jh));
    if (!jh)
        return -ENOMEM;
    if (m->cfg.verify) {
        int r = jit_verify_attach(h, m->cfg.warn, m->cfg.opaque);
        if (r < 0) {
            free(jh);
            return r;
        }
    }
    jh->mgr = m;
    jh->h = h;
    pthread_mutex_init(&jh->lock, NULL);
    pthread_cond_init(&jh->cond, NULL);
    m->harts[m->nharts++] = jh;
    h->jit = jh;
    jit_rt_fill(h->jit_rt);
    /* the tracer wants every instruction through the interpreter */
    /* the count reaches 0 after `threshold` executions (0: at the first) */
    h->jit_start = h->trace || m->disabled ? 0 : 0 - (m->cfg.threshold ? m->cfg.threshold : 1);
    h->jit_tier2_work = h->trace || m->disabled || m->cfg.verify
                            ? ~0ull : m->cfg.threshold * RV_JIT_TIER2_WORK_PER_EXEC;
    if (h->jit_start && jit_cache_regions(m->cfg.cache))
        h->jit_start = (uint64_t)-1;    /* ask the cache at each block's first run */
    if (m->nharts == 1)
        h->ctr.jit_cache_rejects = jit_cache_rejects(m->cfg.cache);  /* found at open */
    return 0;
}

uint64_t jit_queue_len(struct jit_mgr *m)
{
    return m ? atomic_load(&m->inflight) : 0;
}

int jit_mgr_disabled(struct jit_mgr *m)
{
    int d;

    pthread_mutex_lock(&m->lock);
    d = m->disabled;
    pthread_mutex_unlock(&m->lock);
    return d;
}

unsigned long jit_region_seq(const struct jit_region *R)
{
    const struct jit_region *first = R - R->entry;

    return ((const struct jit_req *)((const char *)first - offsetof(struct jit_req, entry)))->seq;
}

int jit_mgr_compiling_later(struct jit_mgr *m)
{
    int r;

    pthread_mutex_lock(&m->lock);
    r = m->low_batch && m->child > 0;
    pthread_mutex_unlock(&m->lock);
    return r;
}

int jit_mgr_can_preempt(void)
{
    return JIT_FORK;
}

void jit_mgr_hold(struct jit_mgr *m, int on)
{
    pthread_mutex_lock(&m->lock);
    m->held = on;
    pthread_cond_signal(&m->cond);
    pthread_mutex_unlock(&m->lock);
}

void jit_mgr_drain(struct jit_mgr *m)
{
    pthread_mutex_lock(&m->lock);
    while (m->head[0] || m->head[1] || m->busy)
        pthread_cond_wait(&m->idle_cond, &m->lock);
    pthread_mutex_unlock(&m->lock);
}

/* --jit-verify's summary, so a run shows how much was checked. */
static void report_verify(struct jit_mgr *m, struct rv_hart *h)
{
    struct jit_verify_stats st;
    char msg[160];

    if (!m->cfg.warn || jit_verify_get_stats(h, &st) < 0)
        return;
    snprintf(msg, sizeof(msg), "JIT verify: hart %" PRIu64 ": %" PRIu64 " compiled block runs "
             "checked, %" PRIu64 " not replayable (unchecked), %" PRIu64 " mismatches",
             h->mhartid, st.checked, st.skipped, st.mismatches);
    m->cfg.warn(m->cfg.opaque, msg);
}

void jit_mgr_free(struct jit_mgr *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    m->stop = 1;
    if (m->child)
        kill(m->child, SIGKILL);    /* no waiting for a compile at exit */
    pthread_cond_signal(&m->cond);
    pthread_mutex_unlock(&m->lock);
    pthread_join(m->worker, NULL);
    rmdir(m->dir);
    for (unsigned t = 0; t < 2; t++) {
        while (m->head[t]) {
            struct jit_req *r = m->head[t];
            m->head[t] = r->next;
            free(r);
        }
    }
    while (m->cached) {
        struct jit_req *r = m->cached;
        m->cached = r->next;
        free(r);
    }
    jit_cache_close(m->cfg.cache);
    free_dead(m);
    while (m->batches) {
        struct jit_batch *b = m->batches;
        m->batches = b->next;
        free_batch(b);
    }
    for (unsigned i = 0; i < m->nharts; i++) {
        struct jit_hart *jh = m->harts[i];
        jh->h->jit = NULL;
        jh->h->jit_start = 0;
        jh->h->jit_tier2_work = ~0ull;
        report_verify(m, jh->h);
        if (getenv("GLASSBOX_JIT_DEBUG")) {
            const struct rv_hart *h = jh->h;
            fprintf(stderr, "jit: hart %u: %" PRIu64 " of %" PRIu64 " instructions ran compiled "
                    "(%.1f%%), %" PRIu64 " regions installed (%" PRIu64 " at tier 2), %" PRIu64
                    " from the cache (%" PRIu64 " at tier 2), %" PRIu64 " evicted, %" PRIu64
                    " lukewarm\n", i,
                    h->ctr.jit_insns, h->instret,
                    h->instret ? 100.0 * (double)h->ctr.jit_insns / (double)h->instret : 0.0,
                    h->ctr.jit_blocks, jh->tier2, h->ctr.jit_cache_loads, jh->cache_tier2,
                    h->ctr.jit_evictions, h->ctr.jit_lukewarm);
        }
        jit_verify_detach(jh->h);
        pthread_mutex_destroy(&jh->lock);
        pthread_cond_destroy(&jh->cond);
        free(jh->uses);
        free(jh);
    }
    pthread_mutex_destroy(&m->lock);
    pthread_cond_destroy(&m->cond);
    pthread_cond_destroy(&m->idle_cond);
    free(m);
}
