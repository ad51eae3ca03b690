/* The JIT (issue 6), tier 1: hot basic blocks compiled with libgccjit.
 *
 * Design
 * - Tier 0 is the interpreter (rv_interp.c). Each cached block counts its
 *   executions; when the count reaches the threshold (the raw counter
 *   reaches 0, see struct rv_block) the interpreter calls rv_jit_hot(),
 *   which copies the block's predecoded instructions into a request and
 *   queues it for the machine's one compile worker. The vCPU never waits:
 *   it interprets on. The queue is bounded; a full queue re-arms the block.
 * - The worker takes up to JIT_BATCH_MAX requests per gcc_jit_context (a
 *   context costs ~20 ms fixed: temp dir, `as`, `ld`), compiles one C-level
 *   function per block (at -O1: as fast as -O2 for single blocks, ~35%
 *   cheaper to compile) and hands the entry points back to each
 *   request's hart (a per-hart list + the hart's jit_ready flag + a zeroed
 *   run_limit so the next block boundary is the slow one).
 * - The hart installs code itself at its slow boundary (rv_jit_install),
 *   only if the block is still the same: same arena generation (a flush
 *   reuses block memory), still valid (SMC, FENCE.I), same paddr. So
 *   installation needs no lock on the hot path and never races with the
 *   interpreter. Installing replaces the block's first instruction by
 *   RV_OP_JIT: the interpreter's dispatch then calls the code. Block entry
 *   costs the interpreter one branch on the flags of the count increment
 *   it always did; compiled blocks need no test of their own.
 * - Generated code (jit_gen.c): int fn(struct rv_hart *h, uint64_t bpc,
 *   uint64_t base), see rv_jit_fn in rv_cpu.h. Guest registers live in
 *   locals (loaded at entry, written back at exits); integer ops are
 *   inline; loads/stores probe the same data TLB as the interpreter
 *   (h->mmu_idx_data) and call rv_load_slow/rv_store_slow on a miss; code
 *   pages are never in the store TLB, so SMC still reaches rv_store_slow.
 *   Everything rare calls the interpreter's helpers (rv_csr_op,
 *   rv_exec_system, rv_exec_fp, rv_exec_amo, rv_raise) with h->pc and
 *   h->instret made exact first, so the tiers cannot drift. Branches and
 *   jumps return to the interpreter's fast boundary, which follows the
 *   block links; no direct chaining yet (the next tier's regions will).
 *   Code does not depend on the virtual pc, privilege or MMU state: all
 *   are read at run time, so one compiled block serves every mapping of
 *   its physical code.
 * - Results (loaded shared objects) stay alive until the machine is
 *   destroyed: a vCPU may be executing any of them, and there is no
 *   quiescence protocol yet, so there is no eviction (bounded eviction of
 *   whole batches is future work). A block cache flush orphans old code.
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

/* Measured on this 2-CPU host (bench/boot, bench/run): at 1000 a Linux boot
 * with 2 harts compiles ~0.9 s of CPU worth of blocks that barely run again
 * and reaches the shell 2x later than interpreted; at 100000 the boot is
 * within 20% of the interpreter and the compute benchmarks are as fast. */
#define JIT_DEFAULT_THRESHOLD 100000
#define JIT_QUEUE_MAX 512       /* queued requests, all harts */
#define JIT_BATCH_MAX 64        /* regions per compile */
#define JIT_BATCH_INSNS 512     /* guest instructions per compile (a bigger region alone) */
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
    int handed_back;            /* under the hart's jit lock */
    int installed;              /* entries installed by its hart (eviction undoes them) */
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
