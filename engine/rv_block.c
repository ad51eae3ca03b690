/* Block cache: guest basic blocks decoded once into predecoded arrays,
 * found by guest-physical address. Pages that hold decoded code lose their
 * fast store-TLB entries, so every store into such a page reaches
 * rv_store_slow(), which drops the blocks whose bytes it overwrote
 * (self-modifying code); stores to the page's other bytes drop nothing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "rv_cpu.h"
#include "rv_helpers.h"

#define BC_HASH_BITS 15
#define BC_HASH_SIZE (1u << BC_HASH_BITS)
#define BC_ARENA_SIZE (32u << 20)
#define BC_MAX_INSNS 128

struct rv_block_cache {
    uint8_t *arena;
    size_t used;
    struct rv_block *hash[BC_HASH_SIZE];
    struct rv_block **page_head;    /* per RAM page: its blocks */
    /* pages that got code since the last flush, with the device write
     * generation they had then (rv_bc_fence_i); maybe empty again now */
    struct code_page { uint32_t page, wgen; } *code_pages;
    unsigned ncode, capcode;
    int code_lost;                  /* a page could not be recorded */
    uint64_t ram_base, ram_size;
    uint64_t flushes;
};

struct rv_block_cache *rv_bc_new(uint64_t ram_base, uint64_t ram_size)
{
    struct rv_block_cache *bc = calloc(1, sizeof(*bc));

    if (!bc)
        return NULL;
    /* mmap: page aligned, and kept out of the JIT's forked compiler
     * processes (the vCPU writes block counters while they run) */
    bc->arena = mmap(NULL, BC_ARENA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (bc->arena == MAP_FAILED)
        bc->arena = NULL;
    else
        madvise(bc->arena, BC_ARENA_SIZE, MADV_DONTFORK);
    bc->page_head = calloc(ram_size >> RV_PAGE_SHIFT, sizeof(*bc->page_head));
    if (!bc->arena || !bc->page_head) {
        rv_bc_free(bc);
        return NULL;
    }
    bc->ram_base = ram_base;
    bc->ram_size = ram_size;
    return bc;
}

void rv_bc_free(struct rv_block_cache *bc)
{
    if (!bc)
        return;
    if (bc->arena)
        munmap(bc->arena, BC_ARENA_SIZE);
    free(bc->page_head);
    free(bc->code_pages);
    free(bc);
}

static inline unsigned bc_hash(uint64_t pa)
{
    return (unsigned)((pa >> 1) ^ (pa >> (1 + BC_HASH_BITS))) & (BC_HASH_SIZE - 1);
}

void rv_bc_flush(struct rv_hart *h)
{
    struct rv_block_cache *bc = h->bc;

    bc->used = 0;
    memset(bc->hash, 0, sizeof(bc->hash));
    memset(bc->page_head, 0, (bc->ram_size >> RV_PAGE_SHIFT) * sizeof(*bc->page_head));
    bc->ncode = 0;
    bc->code_lost = 0;
    h->xlate_gen++;         /* block links and the jump cache point into the arena */
    bc->flushes++;
    h->ctr.block_invalidations++;
}

uint64_t rv_bc_generation(const struct rv_hart *h)
{
    return h->bc->flushes;
}

int rv_bc_page_has_code(struct rv_hart *h, uint64_t pa)
{
    struct rv_block_cache *bc = h->bc;
    uint64_t off = pa - bc->ram_base;

    return off < bc->ram_size && bc->page_head[off >> RV_PAGE_SHIFT] != NULL;
}

void rv_bc_for_each(struct rv_hart *h, void (*fn)(void *ctx, const struct rv_block *b),
                    void *ctx)
{
    struct rv_block_cache *bc = h->bc;

    for (unsigned i = 0; i < BC_HASH_SIZE; i++)
        for (const struct rv_block *b = bc->hash[i]; b; b = b->hash_next)
            if (b->valid)
                fn(ctx, b);
}

static void unlink_hash(struct rv_block_cache *bc, struct rv_block *b)
{
    struct rv_block **pp = &bc->hash[bc_hash(b->paddr)];

    while (*pp && *pp != b)
        pp = &(*pp)->hash_next;
    if (*pp)
        *pp = b->hash_next;
}

/* Drop the blocks of one page whose spans overlap page offsets [lo, hi);
 * the others stay, so data stored next to code costs no re-decode.
 * Returns the number dropped. */
static unsigned drop_overlapping(struct rv_hart *h, struct rv_block **head, unsigned lo,
                                 unsigned hi)
{
    struct rv_block **pp = head;
    unsigned n = 0;

    while (*pp) {
        struct rv_block *b = *pp;
        if (b->span_lo < hi && lo < b->span_hi) {
            /* jump-cache entries see valid == 0 and miss; the memory stays
             * until the next full flush, so a running block is safe */
            b->valid = 0;
            unlink_hash(h->bc, b);
            *pp = b->page_next;
            n++;
        } else {
            pp = &b->page_next;
        }
    }
    return n;
}

int rv_bc_invalidate(struct rv_hart *h, uint64_t pa, uint64_t len)
{
    struct rv_block_cache *bc = h->bc;
    uint64_t end = pa + len;
    unsigned dropped = 0;

    if (!bc || len == 0)
        return 0;
    if (end < pa)
        end = UINT64_MAX;
    /* the second test stops p from wrapping past the top of the space */
    for (uint64_t p = pa & RV_PAGE_MASK; p < end && p >= (pa & RV_PAGE_MASK);
         p += RV_PAGE_SIZE) {
        uint64_t off = p - bc->ram_base;
        uint64_t lo = pa > p ? pa - p : 0;
        uint64_t hi = end - p < RV_PAGE_SIZE ? end - p : RV_PAGE_SIZE;
        if (off >= bc->ram_size)
            continue;
        dropped += drop_overlapping(h, &bc->page_head[off >> RV_PAGE_SHIFT], (unsigned)lo,
                                    (unsigned)hi);
    }
    /* links to the dropped blocks are not checked for valid: cut them all */
    if (dropped) {
        h->ctr.block_invalidations += dropped;
        h->xlate_gen++;
    }
    return dropped != 0;
}

static uint32_t page_wgen(const struct rv_hart *h, uint32_t page)
{
    return atomic_load_explicit(&h->env.page_wgen[page], memory_order_acquire);
}

static void note_code_page(struct rv_hart *h, uint32_t page)
{
    struct rv_block_cache *bc = h->bc;

    if (!h->env.page_wgen)
        return;
    if (bc->ncode == bc->capcode) {
        unsigned cap = bc->capcode ? 2 * bc->capcode : 256;
        struct code_page *np = realloc(bc->code_pages, cap * sizeof(*np));
        if (!np) {
            bc->code_lost = 1;      /* FENCE.I then drops everything */
            return;
        }
        bc->code_pages = np;
        bc->capcode = cap;
    }
    bc->code_pages[bc->ncode].page = page;
    bc->code_pages[bc->ncode++].wgen = page_wgen(h, page);
}

void rv_bc_fence_i(struct rv_hart *h)
{
    struct rv_block_cache *bc = h->bc;
    unsigned keep = 0, dropped = 0;

    if (!h->env.page_wgen || bc->code_lost) {
        rv_bc_flush(h);
        return;
    }
    for (unsigned i = 0; i < bc->ncode; i++) {
        struct code_page *c = &bc->code_pages[i];
        uint32_t w = page_wgen(h, c->page);
        if (w != c->wgen) {
            dropped += drop_overlapping(h, &bc->page_head[c->page], 0, RV_PAGE_SIZE);
            c->wgen = w;
        }
        if (bc->page_head[c->page])
            bc->code_pages[keep++] = *c;
    }
    bc->ncode = keep;
    if (dropped) {
        h->ctr.block_invalidations += dropped;
        h->xlate_gen++;
    }
}

/* Decode at most max instructions from host memory p (guest-physical pa,
 * page_left bytes to the end of the page) into b. Returns the count; 0
 * means the first instruction straddles the page end. */
static unsigned decode_block(struct rv_block *b, const uint8_t *p, uint64_t page_left,
                             unsigned max)
{
    unsigned n = 0, off = 0;

    b->nmem = 0;
    while (n < max) {
        struct rv_insn *in = &b->insns[n];
        uint32_t raw;
        if (page_left - off < 2)
            break;
        raw = (uint32_t)p[off] | ((uint32_t)p[off + 1] << 8);
        if ((raw & 3) == 3) {
            if (page_left - off < 4)
                break;
            raw |= ((uint32_t)p[off + 2] << 16) | ((uint32_t)p[off + 3] << 24);
        }
        rv_decode(raw, in);
        in->off = (uint16_t)off;
        b->nmem += (uint16_t)rv_op_uses_dtlb(in->op);
        off += in->len;
        n++;
        if (rv_op_ends_block(in->op))
            break;
    }
    b->bytes = (uint16_t)off;
    /* sentinel: a block that falls off its end (page or size limit)
     * continues at the next pc; after a block-ending op it is never run */
    memset(&b->insns[n], 0, sizeof(b->insns[n]));
    b->insns[n].op = RV_OP_END;
    b->insns[n].off = (uint16_t)off;
    return n;
}

/* An instruction whose halves lie on two pages: decode it afresh every
 * time into the hart's scratch block, which is never cached. */
static struct rv_block *straddling_block(struct rv_hart *h, uint64_t pa)
{
    struct rv_block *b = h->scratch;
    uint64_t pa2;
    const uint8_t *lo, *hi;
    uint32_t raw;

    lo = rv_ram_ptr(h, pa, 2);
    if (rv_fetch_xlate(h, h->pc + 2, &pa2))
        return NULL;
    hi = rv_ram_ptr(h, pa2, 2);
    if (!lo || !hi)
        return NULL;
    raw = (uint32_t)lo[0] | ((uint32_t)lo[1] << 8) | ((uint32_t)hi[0] << 16) |
          ((uint32_t)hi[1] << 24);
    memset(b, 0, sizeof(*b));
    rv_decode(raw, &b->insns[0]);
    b->paddr = pa;
    b->vpc = h->pc;
    b->n = 1;
    b->nmem = (uint16_t)rv_op_uses_dtlb(b->insns[0].op);
    b->valid = 1;
    b->cached = 0;
    b->insns[1].op = RV_OP_END;
    b->insns[1].off = 4;
    b->bytes = 4;
    return b;
}

int rv_decode_bytes(const uint8_t *p, unsigned len, unsigned n, struct rv_insn *out)
{
    struct rv_block *b = malloc(sizeof(*b) + (n + 1) * sizeof(struct rv_insn));
    int r = -1;

    if (!b)
        return -1;
    if (decode_block(b, p, len, n) == n && b->bytes == len) {
        memcpy(out, b->insns, (n + 1) * sizeof(struct rv_insn));
        r = 0;
    }
    free(b);
    return r;
}

struct rv_block *rv_bc_page_blocks(struct rv_hart *h, uint64_t pa)
{
    uint64_t off = pa - h->bc->ram_base;

    return off < h->bc->ram_size ? h->bc->page_head[off >> RV_PAGE_SHIFT] : NULL;
}

struct rv_block *rv_bc_find(struct rv_hart *h, uint64_t pa)
{
    for (struct rv_block *b = h->bc->hash[bc_hash(pa)]; b; b = b->hash_next)
        if (b->paddr == pa && b->valid)
            return b;
    return NULL;
}

struct rv_block *rv_block_get(struct rv_hart *h)
{
    struct rv_block_cache *bc = h->bc;
    uint64_t pa, off;
    struct rv_block *b;
    unsigned n, max;
    size_t need;
    const uint8_t *p;

    if (rv_fetch_xlate(h, h->pc, &pa))
        return NULL;
    b = rv_bc_find(h, pa);
    if (b)
        return b;

    h->ctr.block_misses++;
    max = h->trace ? 1 : BC_MAX_INSNS;
    need = sizeof(struct rv_block) + (max + 1) * sizeof(struct rv_insn);
    if (bc->used + need > BC_ARENA_SIZE)
        rv_bc_flush(h);
    b = (struct rv_block *)(bc->arena + bc->used);
    p = rv_ram_ptr(h, pa, 2);
    n = decode_block(b, p, RV_PAGE_SIZE - (pa & ~RV_PAGE_MASK), max);
    if (n == 0)
        return straddling_block(h, pa);
    b->paddr = pa;
    b->vpc = h->pc;
    b->n = n;
    b->exec_count = b->exec_base = h->jit_start;
    b->hot_since = h->instret;
    b->jit_code = NULL;
    b->jit_region = NULL;
    b->jit_member = 0;
    b->jit_probed = 0;
    b->jit_lukewarm = 0;
    b->jit_code_bytes = b->jit_compile_us = 0;
    b->span_lo = (uint16_t)(pa & ~RV_PAGE_MASK);
    b->span_hi = (uint16_t)(b->span_lo + b->bytes);
    memset(b->link, 0, sizeof(b->link));
    b->valid = 1;
    b->cached = 1;
    bc->used += sizeof(struct rv_block) + (n + 1) * sizeof(struct rv_insn);
    bc->used = (bc->used + 63) & ~(size_t)63;     /* block headers start a cache line */
    b->hash_next = bc->hash[bc_hash(pa)];
    bc->hash[bc_hash(pa)] = b;
    off = (pa - bc->ram_base) >> RV_PAGE_SHIFT;
    if (!bc->page_head[off]) {
        /* first code in this page: stores into it must now go slow */
        rv_tlb_flush_store(h);
        note_code_page(h, (uint32_t)off);
    }
    b->page_next = bc->page_head[off];
    bc->page_head[off] = b;
    h->ctr.blocks_decoded++;
    return b;
}
