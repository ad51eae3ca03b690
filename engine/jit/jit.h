/* The JIT (issue 6): hot regions compiled with libgccjit.
 *
 * Design
 * - Tier 0 is the interpreter (rv_interp.c). Each cached block counts its
 *   executions; when the count reaches the threshold (the raw counter
 *   reaches 0, see struct rv_block) the interpreter calls rv_jit_hot(),
 *   which grows a region from the block (below), copies its members'
 *   predecoded instructions and guest bytes into a request and queues it
 *   for the machine's one compile worker. The vCPU never waits: it
 *   interprets on. A block that took more than JIT_HOT_SPAN instructions
 *   per execution to get hot is lukewarm and counts again (a Linux boot
 *   had ~500 such blocks queued, compiled long after they ran). The
 *   span allowed doubles each time, so a block that keeps running at a
 *   slow but steady rate is compiled after a few rounds, but only when
 *   nothing hot at the normal rate waits. The queue is a stack, newest
 *   first (the code running now), and tier-2 recompiles and slow-rate
 *   blocks wait while tier-1 requests (new hot code) are queued; when
 *   full, its oldest request goes back to its hart, which re-arms it.
 * - Regions: the hot block plus the blocks of the same guest page it
 *   reaches by direct branches, JAL and falling through that ran at least
 *   1/32 as often as the threshold (already decoded, so executed), up to
 *   JIT_REGION_BLOCKS / JIT_REGION_INSNS. One page, because within a page
 *   the virtual-to-physical mapping is linear: members reach each other
 *   with a goto whatever virtual address the code runs at. Every member
 *   is an entry (struct jit_region per member, a switch at the top), so
 *   the continuation after a call that returns through the dispatcher is
 *   compiled too; members of a queued region do not grow regions of their
 *   own, and at tier 1 a region leaves out blocks already in another
 *   queued or installed one (no code compiled twice). A member ending in
 *   an indirect jump that is not a return (a jump table, an
 *   interpreter's dispatch) brings in every hot block of the page, and
 *   the jump reaches members inside the region. --jit-verify compiles
 *   single blocks (its check replays one).
 * - The worker takes requests up to JIT_BATCH_MAX regions or
 *   JIT_BATCH_INSNS guest instructions per batch (GCC's time grows with
 *   the IR, and the first hot code should not wait behind a long batch),
 *   forks, and the child builds the IR (one function per region, -O1) and
 *   compiles it to a shared object; the worker dlopens it. Stopping the VM
 *   kills the child instead of waiting; guest RAM and the block arena are
 *   MADV_DONTFORK, so the child costs the vCPUs no copy-on-write. Builds
 *   with sanitizers compile in the worker thread (their allocators are not
 *   fork-safe). The code goes back to the request's hart (a per-hart list,
 *   jit_ready, run_limit zeroed so the next boundary is the slow one).
 * - The hart installs code itself at its slow boundary (rv_jit_install),
 *   only if the arena generation is the same and all members' guest bytes
 *   are unchanged; each member block still cached gets its entry (first
 *   op replaced by RV_OP_JIT) and its span widened to the whole region's
 *   bytes, so a store into any member drops it (rv_bc_invalidate). No lock
 *   on the hot path, no race with the interpreter.
 * - Generated code (jit_gen.c): see rv_jit_fn in rv_cpu.h. Guest registers
 *   live in locals (loaded at entry, written back at exits); integer ops
 *   (division too) and F/D arithmetic in round-to-nearest inline;
 *   loads/stores probe the same data TLB as the interpreter; code pages
 *   are never in the store TLB, so SMC still reaches rv_store_slow. Every
 *   call (TLB miss, rare op) goes through a shared "hub" per kind that
 *   writes the registers back and reloads them, so no register is live
 *   across a call and GCC keeps them in host registers. Jumps between members check run_limit
 *   like the interpreter's fast boundary (requests, interrupts, budget).
 *   Exits set h->pc and h->instret exactly and return an exit number; the
 *   interpreter follows that exit's link (one per exit, in the request) to
 *   the next block. Everything rare calls the interpreter's helpers
 *   through h->jit_rt, with pc/instret exact, so the tiers cannot drift and
 *   the code holds no host address (--jit-cache reloads it elsewhere).
 * - Tier 2 (rv_jit_promote): an entry whose region ran 500 times the
 *   threshold in instructions (counted in op_JIT) is grown and compiled
 *   again at -O2, and replaces the tier-1 entries at install. Stored in
 *   --jit-cache too (marked JIT_CACHE_TIER2; a block's first run tries
 *   tier-2 entries first), not with --jit-verify.
 * - A region that exits to a block with compiled code goes straight on
 *   into that code in op_JIT (same link test as the fast boundary), not
 *   through the interpreter's dispatch.
 * - Bounded code cache (--jit-code-max): past the bound the oldest batch
 *   is evicted whole: each request goes to its hart, which takes the
 *   entries out at its slow boundary (no compiled code runs there); the
 *   last one hands the batch to the worker, which unloads it.
 * - --jit-cache (jit_cache.h): batches are also stored on disk and loaded
 *   on a block's first run when all member bytes match.
 * - --jit-verify (jit_verify.c): op_JIT then calls rv_jit_verify, which
 *   runs the block once in the interpreter first, undoes that run (state
 *   and logged RAM stores, struct rv_memlog) and compares it with the
 *   compiled run; a difference stops the hart with a diff.
 * - When libgccjit cannot compile (no `as`/`ld` on PATH, ...) the manager
 *   warns once through the callback and disables itself: the machine runs
 *   interpreted.
 */
#ifndef JIT_H
#define JIT_H

#include <stdint.h>

#include "rv_cpu.h"

/* A block is hot when it ran the threshold's executions (the CLI's
 * GB_DEFAULT_JIT_THRESHOLD by default) within this many guest
 * instructions per execution; else it is counted again (rv_jit_hot). */
#define JIT_HOT_SPAN 1000
#define JIT_QUEUE_MAX 512       /* queued requests, all harts */
#define JIT_BATCH_MAX 64        /* regions per compile */
/* Host features the generated code uses (part of --jit-cache's key):
 * JIT_HOST_FMA, FMA3 instructions for fmadd and friends. */
#define JIT_HOST_FMA 1u
unsigned jit_host_features(void);

#define JIT_BATCH_INSNS 256     /* guest instructions per compile (a bigger region alone) */
#define JIT_DEFAULT_CODE_MAX (64ull << 20)  /* --jit-code-max */
#define JIT_MAX_HARTS 8

struct jit_mgr;

struct jit_config {
    uint64_t threshold;         /* executions before a block is queued; 0 = first */
    /* the vCPU waits for each block's code (with threshold 0: everything
     * runs compiled, for testing) */
    int sync;
    int opt_level;              /* gcc -O level (0..3) */
    uint64_t code_max;          /* loaded code beyond this evicts the oldest batches */
    int nice;                   /* worker thread's nice value (0: as the vCPUs) */
    unsigned queue_max;         /* queued requests (0: JIT_QUEUE_MAX; tests) */
    /* --jit-verify: check every compiled run against the interpreter
     * (jit_verify.h); a mismatch's diff goes to warn */
    int verify;
    /* --jit-cache (jit_cache.h): regions are stored there and taken from
     * there; the manager owns it from jit_mgr_new on (NULL: none) */
    struct jit_cache *cache;
    /* called once from the worker when compilation fails for good */
    void (*warn)(void *opaque, const char *msg);
    void *opaque;
};

/* Start the worker. 0 or -errno. */
int jit_mgr_new(struct jit_mgr **out, const struct jit_config *cfg);
/* Attach a hart (before it runs): turns its blocks' hotness counting on. */
int jit_attach_hart(struct jit_mgr *m, struct rv_hart *h);
/* Stop the worker and free all code; the harts must no longer run. */
void jit_mgr_free(struct jit_mgr *m);
/* Requests queued or being compiled (stats). */
uint64_t jit_queue_len(struct jit_mgr *m);
/* Block until the queue is empty and the worker idle (tests). */
void jit_mgr_drain(struct jit_mgr *m);
/* The number of R's compiled function: later compiles have larger ones
 * (tests). */
unsigned long jit_region_seq(const struct jit_region *R);
/* Tests: a tier-2 or slow-rate batch is being compiled in a child that
 * new hot code would kill; whether this build can do that (it compiles
 * in a forked child: not with sanitizers). */
int jit_mgr_compiling_later(struct jit_mgr *m);
int jit_mgr_can_preempt(void);
/* Tests: while on, the worker takes nothing from the queue. */
void jit_mgr_hold(struct jit_mgr *m, int on);
/* Nonzero once compilation failed and the JIT turned itself off. */
int jit_mgr_disabled(struct jit_mgr *m);

/* --- code generation (jit_gen.c), used by the worker ----------------- */

/* A region: the hot block and the blocks of the same guest page reached
 * from it by direct branches and fall-through that have run often enough
 * (all already decoded, so all executed). One page, because within a page
 * the virtual-to-physical mapping is linear: the code needs no lookup to
 * go from one member to another, whatever virtual address runs it. */
#define JIT_REGION_BLOCKS 32
#define JIT_REGION_INSNS 1024
#define JIT_REGION_EXITS (2 * JIT_REGION_BLOCKS)    /* taken, fall-through */

struct jit_rblk {
    int32_t delta;              /* paddr - the entry's paddr */
    uint32_t first;             /* its instructions: insns[first .. first + n] */
    uint32_t n;                 /* instructions, without the END sentinel */
    uint16_t nmem;              /* loads and stores */
};

struct jit_req {
    struct jit_req *next;       /* queue, then the hart's done list */
    struct jit_req *bnext;      /* the batch that owns it */
    struct jit_req *enext;      /* the hart's list of regions to evict */
    struct jit_batch *batch;
    struct rv_hart *h;
    struct rv_block *blk;       /* the entry: where to install, if still the same */
    uint64_t gen, paddr;
    rv_jit_fn fn;               /* set by the worker */
    struct jit_region entry[JIT_REGION_BLOCKS];     /* what each member points to */
    uint32_t code_bytes, compile_us;
    unsigned long seq;          /* its function's number: compile order (tests) */
    int handed_back;            /* under the hart's jit lock */
    int tier;                   /* 1: -O1, 2: recompiled at -O2 (rv_jit_promote) */
    int later;                  /* hot only at a slow rate: queued with tier 2 */
    uint16_t span_lo, span_hi;  /* page offsets of all member bytes */
    uint32_t nblk;
    struct jit_rblk b[JIT_REGION_BLOCKS];
    struct rv_block_link link[JIT_REGION_EXITS];
    uint8_t bytes[RV_PAGE_SIZE];    /* the members' guest bytes (see region_bytes) */
    size_t nbytes;
    uint32_t n;                 /* instructions of all members, ENDs included */
    struct rv_insn insns[];     /* the helpers get pointers into this copy */
};

struct gcc_jit_context;
/* Add one function named name for region r to ctx. 0 or -EINVAL. */
int jit_gen_region(struct gcc_jit_context *ctx, const struct jit_req *r, const char *name);
/* Fill a hart's jit_rt table with the helpers generated code calls. */
void jit_rt_fill(void **tab);

#endif
