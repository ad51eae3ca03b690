/* The RISC-V 64 hart: architectural state, software TLB, block cache and
 * the counters the console shows. One struct rv_hart per hart, touched
 * only by that hart's own thread (except the atomic mip and the request
 * word, which other threads and devices set). */
#ifndef RV_CPU_H
#define RV_CPU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "glassbox/bus.h"
#include "rv_insn.h"

enum rv_priv { RV_PRIV_U = 0, RV_PRIV_S = 1, RV_PRIV_M = 3 };

/* Exception causes (mcause with interrupt bit clear). */
enum rv_exc {
    RV_EXC_INSN_MISALIGNED = 0, RV_EXC_INSN_ACCESS = 1, RV_EXC_ILLEGAL = 2,
    RV_EXC_BREAKPOINT = 3, RV_EXC_LOAD_MISALIGNED = 4, RV_EXC_LOAD_ACCESS = 5,
    RV_EXC_STORE_MISALIGNED = 6, RV_EXC_STORE_ACCESS = 7, RV_EXC_ECALL_U = 8,
    RV_EXC_ECALL_S = 9, RV_EXC_ECALL_M = 11, RV_EXC_INSN_PAGE = 12,
    RV_EXC_LOAD_PAGE = 13, RV_EXC_STORE_PAGE = 15,
};

/* Interrupt numbers (bit positions in mip/mie). */
enum rv_irq {
    RV_IRQ_SSI = 1, RV_IRQ_MSI = 3, RV_IRQ_STI = 5, RV_IRQ_MTI = 7,
    RV_IRQ_SEI = 9, RV_IRQ_MEI = 11,
};

/* mstatus fields */
#define MSTATUS_SIE   (1ull << 1)
#define MSTATUS_MIE   (1ull << 3)
#define MSTATUS_SPIE  (1ull << 5)
#define MSTATUS_UBE   (1ull << 6)
#define MSTATUS_MPIE  (1ull << 7)
#define MSTATUS_SPP   (1ull << 8)
#define MSTATUS_VS    (3ull << 9)
#define MSTATUS_MPP   (3ull << 11)
#define MSTATUS_FS    (3ull << 13)
#define MSTATUS_XS    (3ull << 15)
#define MSTATUS_MPRV  (1ull << 17)
#define MSTATUS_SUM   (1ull << 18)
#define MSTATUS_MXR   (1ull << 19)
#define MSTATUS_TVM   (1ull << 20)
#define MSTATUS_TW    (1ull << 21)
#define MSTATUS_TSR   (1ull << 22)
#define MSTATUS_UXL   (3ull << 32)
#define MSTATUS_SXL   (3ull << 34)
#define MSTATUS_SBE   (1ull << 36)
#define MSTATUS_MBE   (1ull << 37)
#define MSTATUS_SD    (1ull << 63)
#define MSTATUS_FS_SHIFT 13

/* Access kinds; also index the TLB arrays. */
enum rv_access { RV_ACC_FETCH = 0, RV_ACC_LOAD = 1, RV_ACC_STORE = 2 };

/* Software TLB. Direct-mapped; a hit is one compare and one add. The tag
 * is the page's virtual address; comparing it with (va & (PAGE_MASK |
 * (size-1))) also sends misaligned accesses to the slow path. */
/* 2048 entries map 8 MiB: measured (bench/run) against 1024 and 4096, the
 * 8 MiB pointer chase ran 2.6x faster than with 1024; 4096 made sieve
 * 30% slower (the arrays outgrow the host's L1/L2) */
#define RV_TLB_BITS 11
#define RV_TLB_SIZE (1u << RV_TLB_BITS)
#define RV_TLB_LOG 1024
#define RV_PAGE_SHIFT 12
#define RV_PAGE_SIZE (1ull << RV_PAGE_SHIFT)
#define RV_PAGE_MASK (~(RV_PAGE_SIZE - 1))
#define RV_TLB_INVALID (~0ull)

struct rv_tlb_entry {
    uint64_t tag;
    uintptr_t addend;   /* host address = guest virtual + addend */
};

/* Data TLBs are kept per "MMU index" so that privilege changes (every
 * syscall) and SUM toggles (every copy_to_user) need no flush. */
enum rv_mmu_idx { RV_MMU_U = 0, RV_MMU_S = 1, RV_MMU_S_SUM = 2, RV_MMU_M = 3, RV_MMU_COUNT };

/* Per-hart counters, written only by the hart's thread; the stats
 * region (observability issue) maps these fields out. */
struct rv_counters {
    uint64_t itlb_lookups, itlb_misses, itlb_flushes;
    uint64_t dtlb_lookups, dtlb_misses, dtlb_flushes;
    uint64_t page_walks;
    uint64_t block_lookups, block_hits, block_misses, block_invalidations, blocks_decoded;
    uint64_t exceptions[16];
    uint64_t interrupts[16];
    uint64_t wfi_count, wfi_ns;
    uint64_t insns_by_priv[4];
    /* JIT (engine/jit): blocks queued for compilation, installed,
     * discarded (queue full, stale or failed), entries into compiled code,
     * host code bytes and compile time of the installed blocks */
    uint64_t jit_requests, jit_blocks, jit_discarded, jit_execs;
    uint64_t jit_lukewarm;          /* hot too slowly: counted again (rv_jit_hot) */
    uint64_t jit_code_bytes, jit_compile_ns;
    /* instructions retired inside compiled code (the rest: interpreter);
     * guest blocks covered by installed regions; regions evicted with
     * their batch; regions taken from / refused by the --jit-cache dir;
     * exits that went straight on to compiled code (region-internal
     * jumps back and chained exits) */
    uint64_t jit_insns, jit_region_blocks, jit_evictions;
    uint64_t jit_cache_loads, jit_cache_rejects, jit_chain_hits;
};

/* A block's cached successor for one exit (taken / fall-through): the
 * block that the jump cache gave for (vpc, priv) while the translation
 * generation was the one in ctx (see rv_hart.xlate_gen). */
struct rv_block_link {
    uint64_t vpc;
    uint64_t ctx;                   /* xlate_gen << 3 | 4 | priv; 0 = none */
    struct rv_block *blk;
};

/* A decoded basic block, cached by guest-physical address. */
struct rv_block {
    uint64_t paddr;
    uint64_t vpc;                   /* virtual pc it was first decoded at (stats) */
    struct rv_block *hash_next;     /* block cache bucket chain */
    struct rv_block *page_next;     /* blocks of the same physical page */
    /* Tier-0 hotness: rv_block_execs() executions. The raw counter starts
     * at minus the JIT threshold, so the interpreter's only JIT test on
     * block entry is "the increment reached 0" (then it queues the
     * block); with the JIT off it starts at 0 and never comes back. */
    uint64_t exec_count, exec_base;
    /* h->instret when the counter last started towards the threshold: a
     * block that took too long to get there is lukewarm (rv_jit_hot) */
    uint64_t hot_since;
    void *jit_code;                 /* an rv_jit_fn; insns[0] is then RV_OP_JIT */
    uint32_t jit_code_bytes;        /* host code (estimate), stats */
    uint32_t jit_compile_us;        /* this block's share of its batch */
    uint32_t n;                     /* instructions */
    uint16_t bytes;                 /* guest bytes covered */
    uint8_t valid;                  /* cleared when invalidated */
    uint8_t cached;                 /* 0 for the per-hart scratch block */
    uint8_t jit_member;             /* in a queued region: not hot on its own */
    uint8_t jit_probed;             /* --jit-cache was asked for this block */
    uint8_t jit_lukewarm;           /* times found too slow to get hot (rv_jit_hot) */
    uint16_t nmem;                  /* loads/stores: counted per block entry */
    uint16_t jit_op0;               /* insns[0].op before RV_OP_JIT replaced it */
    /* page offsets [span_lo, span_hi) of the guest bytes whose change must
     * drop this block: its own bytes, widened to a whole JIT region's
     * when one is installed here */
    uint16_t span_lo, span_hi;
    struct jit_region *jit_region;  /* the installed region (engine/jit) */
    struct rv_block_link link[2];   /* direct chaining: [0] taken, [1] fall-through */
    struct rv_insn insns[];
};

/* Jump cache: direct-mapped virtual pc -> block, validated by priv. */
#define RV_JCACHE_BITS 12
#define RV_JCACHE_SIZE (1u << RV_JCACHE_BITS)
#define RV_SUPER_MAX 8
#define RV_JC_VPAGE_BITS 4096
static inline uint64_t *rv_jc_vpage_word(uint64_t *bits, uint64_t va, uint64_t *mask)
{
    uint64_t vpn = va >> 12, b = (vpn ^ (vpn >> 12)) & (RV_JC_VPAGE_BITS - 1);

    *mask = 1ull << (b & 63);
    return &bits[b >> 6];
}
struct rv_jcache_entry {
    uint64_t vpc;
    struct rv_block *blk;
    uint8_t priv;
    uint64_t gen;               /* valid while xlate_gen == gen (no flush needed) */
};

struct rv_block_cache;

/* Hooks the machine gives the hart: time, guest RAM, bus, the CLINT poll. */
struct rv_env {
    uint8_t *ram;               /* host mapping of guest RAM */
    uint64_t ram_base, ram_size;
    struct bus *bus;
    uint64_t (*get_time)(void *opaque);         /* mtime, 10 MHz */
    void (*poll_timer)(void *opaque, unsigned hart);
    uint64_t (*next_timer)(void *opaque, unsigned hart); /* mtimecmp */
    void *opaque;
    /* HTIF: guest-physical address of tohost, 0 when absent; htif_write
     * gets each value the guest stores there */
    uint64_t tohost, fromhost;
    void (*htif_write)(void *opaque, uint64_t val);
    /* Per RAM page: a generation devices bump when they write it (DMA).
     * Set only when this hart's stores are the only other writes to RAM
     * (one hart); NULL makes FENCE.I drop all decoded code. */
    _Atomic uint32_t *page_wgen;
};

/* --jit-verify: the RAM stores of one block run, so they can be undone
 * and compared. While h->memlog is set, rv_store_slow() and the AMOs log
 * each store (and never fill the store TLB, so every store comes back),
 * and accesses that cannot be replayed (devices, HTIF, pages holding
 * code, a full log) are refused: not performed, `refused` set, h->fatal
 * raised so the run stops at its next boundary. */
#define RV_MEMLOG_MAX 256
struct rv_memlog {
    unsigned n;
    int refused;
    struct rv_memlog_entry {
        uint64_t pa, old, val;
        unsigned size;
    } e[RV_MEMLOG_MAX];
};

/* Why rv_hart_run() returned. */
enum rv_exit {
    RV_EXIT_BUDGET = 0,     /* instruction budget used up */
    RV_EXIT_REQUEST,        /* another thread or a device asked (see req) */
    RV_EXIT_FATAL,          /* guest cannot continue: see fatal_msg */
};

/* Bits of rv_hart.req: asynchronous requests checked at block boundaries. */
#define RV_REQ_EXIT   1u    /* leave rv_hart_run (finisher, HTIF, lifecycle) */
#define RV_REQ_CHECK  2u    /* re-evaluate interrupts now */

/* Runtime helpers the generated code calls through the hart (so compiled
 * code holds no host address and a --jit-cache entry works in a later
 * process); indices in jit_gen.c. */
#define RV_JIT_RT_MAX 24

struct rv_hart {
    /* hot state first */
    uint64_t x[33];             /* x[32] is the rd=x0 sink */
    uint64_t pc;
    uint64_t f[32];
    uint64_t instret;           /* retired instructions; minstret adds an offset */
    uint8_t priv;
    uint8_t mmu_idx_data;       /* effective data MMU index (MPRV, SUM) */
    uint8_t fs_off;             /* mstatus.FS == Off: FP is illegal */
    _Atomic uint64_t mip;       /* devices set MTIP/MSIP/MEIP/SEIP here */
    _Atomic uint32_t req;
    /* The fast block boundary tests only instret >= run_limit: the end of
     * the rv_hart_run() budget, or 0 once rv_hart_request() posted bits
     * in req, which the slow boundary then reads. */
    _Atomic uint64_t run_limit;

    struct rv_tlb_entry tlb_load[RV_MMU_COUNT][RV_TLB_SIZE];
    struct rv_tlb_entry tlb_store[RV_MMU_COUNT][RV_TLB_SIZE];
    struct rv_tlb_entry tlb_fetch[RV_MMU_COUNT][RV_TLB_SIZE];
    struct rv_jcache_entry jcache[RV_JCACHE_SIZE];
    /* Every TLB entry filled since the last full flush, as byte offsets
     * from the hart, so that a flush clears only those (Linux flushes on
     * every context switch; clearing all 384 KiB each time would cost a
     * boot 10-20%). tlb_nlog > RV_TLB_LOG: overflowed, the next flush
     * clears all. */
    uint32_t tlb_log[RV_TLB_LOG];
    uint32_t tlb_nlog;
    /* Bumped whenever a cached virtual-pc -> block mapping may have gone
     * stale: every TLB flush (rv_mmu.c), block cache flush and block
     * invalidation (rv_block.c). Block links are only followed while it
     * is unchanged. */
    uint64_t xlate_gen;

    /* CSRs */
    uint64_t mstatus, misa, medeleg, mideleg, mie, mtvec, mscratch, mepc, mcause, mtval;
    uint64_t mcounteren, mcountinhibit, menvcfg, mcycle_off, minstret_off;
    uint64_t stvec, sscratch, sepc, scause, stval, scounteren, senvcfg, satp;
    uint64_t mip_sw;            /* software-written SEIP (ORed with the PLIC's) */
    unsigned fflags, frm;       /* unsigned: the FPU accrues into fflags directly */
    uint64_t mhartid;
    uint8_t pmpcfg[16];
    uint64_t pmpaddr[16];

    /* LR/SC reservation: guest-physical address (or ~0) and the value LR
     * read, which SC compares-and-swaps against */
    uint64_t resv_addr, resv_val;
    /* Superpages translated since the last full flush (base, offset
     * mask): their translations may sit in the TLB as many 4 KiB
     * entries, and an SFENCE.VMA of one address outside them can stay a
     * one-page flush (Linux maps itself with superpages, and fences user
     * pages one by one); past RV_SUPER_MAX, any fence flushes all. */
    uint8_t nsuper;
    uint64_t super_base[RV_SUPER_MAX], super_mask[RV_SUPER_MAX];
    /* Virtual pages (hashed, one bit each) the jump cache got a block on
     * since xlate_gen last changed: a one-page fence of another page
     * leaves the jump cache and the block links (all made from jump
     * cache entries) valid, so it need not change xlate_gen */
    uint64_t jc_vpages[RV_JC_VPAGE_BITS / 64];

    /* traps taken (exceptions and interrupts): a guest stuck in a trap
     * storm retires nothing, so budgets count these too */
    uint64_t traps;
    struct rv_counters ctr;
    struct rv_env env;
    struct rv_block_cache *bc;

    /* trace output (NULL = off) */
    void *trace;
    /* fatal diagnostic when RV_EXIT_FATAL */
    char fatal_msg[256];
    /* set when a trap's handler address cannot be fetched */
    int fatal;

    /* JIT: exec_count for new blocks (0 = interpret only, else minus the
     * threshold), the hart's JIT state, and the flag the compile worker
     * raises when code waits to be installed (the slow boundary installs it) */
    uint64_t jit_start;
    uint64_t jit_tier2_work;        /* see rv_jit_promote; ~0: no tier 2 */
    struct jit_hart *jit;
    _Atomic uint32_t jit_ready;
    void *jit_rt[RV_JIT_RT_MAX];
    /* --jit-verify (jit_verify.c): non-NULL makes op_JIT check each
     * compiled block against the interpreter; memlog is set while one
     * such run is recorded (see struct rv_memlog) */
    struct jit_verify *jit_verify;
    struct rv_memlog *memlog;

    /* scratch block for instructions that straddle a page boundary */
    struct rv_block *scratch;

    /* WFI sleeps here; rv_hart_kick() wakes it */
    pthread_mutex_t idle_lock;
    pthread_cond_t idle_cond;
};

/* --- lifecycle ------------------------------------------------------- */
int rv_hart_init(struct rv_hart *h, unsigned hartid, const struct rv_env *env);
void rv_hart_destroy(struct rv_hart *h);
void rv_hart_reset(struct rv_hart *h, uint64_t pc);
/* Run until budget instructions retired, a request, or a fatal stop. */
enum rv_exit rv_hart_run(struct rv_hart *h, uint64_t budget);
/* Thread-safe: post asynchronous request bits. */
void rv_hart_request(struct rv_hart *h, uint32_t bits);
/* Thread-safe: wake the hart if it sleeps in WFI. */
void rv_hart_kick(struct rv_hart *h);
struct timespec;
void rv_hart_idle_wait(struct rv_hart *h, const struct timespec *rel);
const char *rv_cause_name(uint64_t cause);
/* Thread-safe: set or clear one mip bit from a device (irq_line target). */
void rv_hart_set_irq(void *hart, unsigned irq, int level);

/* --- semantic helpers shared by the interpreter and the JIT ---------- */
/* All return 0 to continue with the next instruction, or nonzero when the
 * hart's pc has been redirected (a trap was taken or the block must end);
 * the caller then re-dispatches from h->pc. */
void rv_raise(struct rv_hart *h, uint64_t cause, uint64_t tval);
int rv_check_interrupts(struct rv_hart *h);
int rv_csr_op(struct rv_hart *h, const struct rv_insn *in);
int rv_csr_read(struct rv_hart *h, unsigned csr, uint64_t *val);   /* -1 illegal */
int rv_csr_write(struct rv_hart *h, unsigned csr, uint64_t val);   /* -1 illegal */
int rv_exec_system(struct rv_hart *h, const struct rv_insn *in);
int rv_exec_fp(struct rv_hart *h, const struct rv_insn *in);
int rv_exec_amo(struct rv_hart *h, const struct rv_insn *in);
void rv_update_mmu_idx(struct rv_hart *h);

/* Memory slow paths (TLB miss, MMIO, misaligned, faults). On fault they
 * raise the exception and return nonzero. */
int rv_load_slow(struct rv_hart *h, uint64_t va, unsigned size, uint64_t *val);
int rv_store_slow(struct rv_hart *h, uint64_t va, unsigned size, uint64_t val);

/* --- MMU ---------------------------------------------------------------- */
/* Translate va for the access at the given privilege (already MPRV-
 * adjusted); on success *pa is set and 0 returned, else the exception
 * cause to raise. */
int rv_translate(struct rv_hart *h, uint64_t va, enum rv_access acc, unsigned priv, uint64_t *pa);
void rv_tlb_flush_all(struct rv_hart *h);
void rv_tlb_flush_page(struct rv_hart *h, uint64_t va);
void rv_tlb_flush_store(struct rv_hart *h);
/* Host pointer for guest-physical RAM [pa, pa+len), or NULL. */
static inline uint8_t *rv_ram_ptr(const struct rv_hart *h, uint64_t pa, uint64_t len)
{
    uint64_t off = pa - h->env.ram_base;
    if (pa < h->env.ram_base || off >= h->env.ram_size || len > h->env.ram_size - off)
        return NULL;
    return h->env.ram + off;
}
int rv_fetch_xlate(struct rv_hart *h, uint64_t va, uint64_t *pa);
/* Privilege used for data accesses (MPRV applies MPP in M-mode). */
unsigned rv_data_priv(const struct rv_hart *h);

/* --- block cache ------------------------------------------------------ */
struct rv_block_cache *rv_bc_new(uint64_t ram_base, uint64_t ram_size);
void rv_bc_free(struct rv_block_cache *bc);
/* Look up or decode the block at the hart's pc. Returns NULL when a trap
 * was raised (fetch fault); the hart's pc then points at the handler. */
struct rv_block *rv_block_get(struct rv_hart *h);
/* Decode exactly len guest bytes p as one block's n instructions into
 * out[0..n] (END sentinel included): what the block cache would hold for
 * them. 0, or -1 when they do not decode to n instructions. */
int rv_decode_bytes(const uint8_t *p, unsigned len, unsigned n, struct rv_insn *out);
/* The valid cached block starting at guest-physical pa, or NULL (no decode). */
struct rv_block *rv_bc_find(struct rv_hart *h, uint64_t pa);
/* FENCE.I: make all writes visible to instruction fetch. Stores by the
 * hart itself dropped what they overwrote already (rv_store_slow); so
 * with env.page_wgen only the pages devices wrote since are dropped,
 * else all decoded code. */
void rv_bc_fence_i(struct rv_hart *h);
/* The cached blocks of pa's RAM page (a list through page_next), or NULL. */
struct rv_block *rv_bc_page_blocks(struct rv_hart *h, uint64_t pa);
void rv_bc_flush(struct rv_hart *h);
/* Called on a store (CPU or DMA) into guest-physical [pa, pa+len): drops
 * the blocks whose span (span_lo/span_hi) overlaps those bytes. Returns
 * nonzero if any were dropped. */
int rv_bc_invalidate(struct rv_hart *h, uint64_t pa, uint64_t len);
int rv_bc_page_has_code(struct rv_hart *h, uint64_t pa);
/* Call fn for every valid cached block, from the hart's own thread (the
 * stats sampler's hot-block walk). */
void rv_bc_for_each(struct rv_hart *h, void (*fn)(void *ctx, const struct rv_block *b),
                    void *ctx);

/* Generation of the hart's block arena: changes when a flush lets new
 * blocks reuse the memory of old ones (a queued JIT request checks it). */
uint64_t rv_bc_generation(const struct rv_hart *h);

/* --- JIT hooks (engine/jit/jit.c) ----------------------------------------
 * A compiled region: one function for several blocks of one guest page,
 * installed on each of them (struct jit_region is one such entry). It
 * runs from entry r->blk, whose first instruction is at virtual pc bpc,
 * with instret == base at entry, and always returns with h->pc and
 * h->instret exact: either exit k >= 0 (a jump out of the region whose
 * successor block the interpreter may find through link[k]) or -1 (left
 * early: trap, helper, request, budget: the slow boundary follows). */
struct jit_region;
typedef int (*rv_jit_fn)(struct rv_hart *h, uint64_t bpc, uint64_t base, struct jit_region *r);
struct jit_region {
    rv_jit_fn fn;
    struct rv_block *blk;           /* the block this entry is installed on */
    const struct rv_insn *insns;    /* the copies the helper calls point into */
    struct rv_block_link *link;     /* one per exit of the region */
    uint32_t entry;                 /* which member blk is (every member is an entry) */
    uint8_t tier;                   /* 1: -O1 when hot; 2: -O2 once it ran a lot */
    uint8_t promoted;               /* a tier-2 recompile was asked for */
    uint64_t work;                  /* instructions run through this entry (tier 1) */
};
static inline uint64_t rv_block_execs(const struct rv_block *b)
{
    return b->exec_count - b->exec_base;
}

/* Block b became hot (its exec_count reached 0): queue it (or give up). */
void rv_jit_hot(struct rv_hart *h, struct rv_block *b);
/* Region entry R on block b ran a lot at tier 1: recompile it at -O2. */
void rv_jit_promote(struct rv_hart *h, struct rv_block *b, struct jit_region *R);
/* Instructions a tier-1 entry runs before it is recompiled at tier 2. */
#define RV_JIT_TIER2_WORK_PER_EXEC 500     /* times the JIT threshold */
/* Install code the worker finished for this hart (hart thread only). */
void rv_jit_install(struct rv_hart *h);
/* --jit-verify: run compiled block b like its code would (same return
 * value) after checking it against one interpreted run from the same
 * state; a difference stops the hart (h->fatal) and is reported. */
int rv_jit_verify(struct rv_hart *h, struct rv_block *b, uint64_t bpc, uint64_t base);

/* --- trace ------------------------------------------------------------- */
void rv_trace_insn(struct rv_hart *h, uint64_t pc, const struct rv_insn *in);

#endif
