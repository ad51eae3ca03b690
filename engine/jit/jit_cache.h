/* --jit-cache DIR: compiled regions kept across runs.
 *
 * One file per compiled batch, DIR/<hash>.gbjit: a header (magic, the
 * glassbox build's hash, the translation options, lengths, a checksum of
 * everything after the header), a manifest (per region: its function,
 * members with their page offsets, instruction counts and guest bytes) and
 * the batch's shared object. A run scans DIR once at start and indexes
 * every member of every region by (page offset, hash of its bytes). When a
 * hart first runs a block, it asks the index; a match whose members' bytes
 * all equal the guest's current bytes is loaded (the object is checked
 * against the checksum and loaded from memory, so the bytes checked are
 * the bytes run) and installed without compiling. Anything that does not
 * parse, does not match this build or these options, or fails its
 * checksum is counted as rejected and never executed.
 */
#ifndef JIT_CACHE_H
#define JIT_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "jit.h"

struct jit_cache;
/* part of the options an entry must match (with the build's hash) */
#define JIT_CACHE_FORMAT 1

/* One region of the cache (read-only after jit_cache_open). */
struct jit_cached {
    struct jit_cache_file *file;
    unsigned long fn_seq;       /* function gb_blk_<fn_seq> */
    uint32_t nblk;
    uint16_t page_off;          /* page offset of member 0 */
    uint16_t span_lo, span_hi;
    struct jit_rblk b[JIT_REGION_BLOCKS];   /* first = byte offset into bytes */
    uint16_t blen[JIT_REGION_BLOCKS];       /* guest bytes of each member */
    const uint8_t *bytes;       /* all members' bytes, in order */
    uint32_t nbytes;
    int tier;                   /* 1, or 2: compiled at -O2 (rv_jit_promote) */
};

/* Header opts bit of files whose regions are tier 2: the other bits are
 * the tier-1 options they were promoted under. */
#define JIT_CACHE_TIER2 (1u << 24)

/* Open (creating DIR if needed) and index it. build: hash of this
 * glassbox; opts: translation options. 0, or -errno with err set. */
int jit_cache_open(struct jit_cache **out, const char *dir, uint64_t build, uint32_t opts,
                   char *err, size_t errlen);
void jit_cache_close(struct jit_cache *c);
/* Keep DIR's entries within max_bytes: when they take more, remove the
 * least recently used (by mtime: stored or loaded) down to 3/4 of it.
 * Entries of other glassbox builds are never loaded, so they go first.
 * Returns how many were removed. */
unsigned jit_cache_prune(const char *dir, uint64_t max_bytes);
#define JIT_CACHE_DEFAULT_MAX (256ull << 20)     /* --jit-cache-max */
/* Entries refused so far (at open, and objects failing their checksum). */
uint64_t jit_cache_rejects(struct jit_cache *c);
/* Entries indexed at open. */
unsigned jit_cache_regions(struct jit_cache *c);

/* Store a compiled batch: the object at so_path and its regions. 0 or -errno. */
int jit_cache_store(struct jit_cache *c, const char *so_path, struct jit_req **arr, unsigned n,
                    unsigned long first_seq);

/* Regions with a member at page offset off whose bytes are p[0..len):
 * calls fn for each (member index k) until fn returns nonzero. */
void jit_cache_find(struct jit_cache *c, unsigned off, const uint8_t *p, unsigned len,
                    int (*fn)(void *ctx, const struct jit_cached *e, unsigned k), void *ctx);
/* The region's code (loads its object once). NULL if the object is
 * corrupt (then counted as rejected) or cannot be loaded. */
rv_jit_fn jit_cache_code(struct jit_cache *c, const struct jit_cached *e);

/* FNV-1a, 64 bit: keys, checksums and the build hash. */
uint64_t jit_hash(uint64_t h, const void *p, size_t len);
#define JIT_HASH_SEED 0xcbf29ce484222325ull
/* Hash of this executable (/proc/self/exe), 0 if unreadable. */
uint64_t jit_build_hash(void);

#endif
