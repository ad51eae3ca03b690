/* Tier 0: the interpreter. Runs predecoded blocks with computed-goto
 * dispatch; checks requests, interrupts and the budget only at block
 * boundaries; RAM accesses hit the software TLB inline and everything
 * else (misses, MMIO, faults, CSRs, FP, AMOs) goes to shared helpers. */
#include <string.h>

#include "rv_cpu.h"
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#include "rv_helpers.h"

/* ++counter, then goto label when it reached 0: one add and a branch on
 * its flags (compilers otherwise load, add, store and test again). */
#if defined(__x86_64__) && (defined(__clang__) || __GNUC__ >= 11)
#define COUNT_OR_GOTO(counter, label) \
    __asm__ goto("addq $1, %0\n\tjz %l[" #label "]" : "+m"(counter) : : "cc" : label)
#else
#define COUNT_OR_GOTO(counter, label) do { if (unlikely(++(counter) == 0)) goto label; } while (0)
#endif

/* Block lookup on the slow path: jump cache, else the block cache (which
 * may decode). Fills the jump cache entry. NULL means a fetch fault was
 * raised and h->pc is at the handler. */
static struct rv_block *lookup_slow(struct rv_hart *h)
{
    struct rv_jcache_entry *e = &h->jcache[(h->pc >> 1) & (RV_JCACHE_SIZE - 1)];
    struct rv_block *b;

    h->ctr.block_lookups++;
    if (e->vpc == h->pc && e->priv == h->priv && e->gen == h->xlate_gen && e->blk &&
        e->blk->valid) {
        h->ctr.block_hits++;
        return e->blk;
    }
    b = rv_block_get(h);
    if (b && b->cached) {
        uint64_t m, *w = rv_jc_vpage_word(h->jc_vpages, h->pc, &m);
        *w |= m;            /* see rv_hart.jc_vpages */
        e->blk = b;
        e->vpc = h->pc;
        e->priv = h->priv;
        e->gen = h->xlate_gen;
    }
    return b;
}

/* Memory ops after `in` in its block: they were counted in dtlb_lookups
 * when the block was entered but did not run because the block was left
 * early (trap, or a helper that ended it). */
static unsigned mem_ops_after(const struct rv_block *b, const struct rv_insn *in)
{
    unsigned k = 0;

    for (in++; in < b->insns + b->n; in++)
        k += rv_op_uses_dtlb(in->op);
    return k;
}

/* The loop has two block boundaries:
 *
 * - the fast one (`boundary`), taken after branches, jumps and falling off
 *   the end of a block. It compares instret with run_limit (the budget,
 *   or 0 when a request is pending), then follows the exit's cached
 *   successor (struct rv_block_link) if the translation generation and
 *   privilege it was made under still hold, else asks the jump cache and
 *   records the answer in the link. Everything that could make an
 *   interrupt pending and enabled either happens in a helper (CSR writes,
 *   xRET, traps: those leave through the slow boundary) or comes from a
 *   device through rv_hart_set_irq(), which posts RV_REQ_CHECK.
 *
 * - the slow one (`slow`), after helpers and traps: it re-reads the hart
 *   state the fast path keeps in locals (pc, instret, priv, data TLBs,
 *   translation generation), handles fatal stops, requests, the budget
 *   and interrupts, and refills the jump cache.
 *
 * Counters that would cost a memory update per block or per instruction
 * live in locals and reach h->ctr when rv_hart_run returns, at most one
 * slice (machine.c) late: block_lookups/block_hits (a block entered
 * through a link or the jump cache is a hit; the slow path counts its own
 * lookups), dtlb_lookups (a per-block count of loads and stores, corrected
 * when a block is left early) and insns_by_priv (retired instructions,
 * attributed when the privilege changes). */
enum rv_exit rv_hart_run(struct rv_hart *h, uint64_t budget)
{
    static const void *const labels[RV_OP__COUNT] = {
#define RV_OP_LABEL(name) [RV_OP_##name] = &&op_##name,
        RV_OPS(RV_OP_LABEL)
#undef RV_OP_LABEL
    };
    uint64_t *const x = h->x;
    const uint64_t end = h->instret + budget;
    const uint64_t traps0 = h->traps;
    /* when tracing, every boundary takes the slow path, which traces */
    const uint64_t fast_end = h->trace ? 0 : end;
    const struct rv_insn *in = NULL;
    struct rv_block *blk = NULL;
    struct rv_tlb_entry *tlbl = NULL, *tlbs = NULL;
    uint64_t bpc = 0;               /* pc of the block's first instruction */
    uint64_t pc, icnt;              /* next pc; instret once the block ends */
    unsigned priv = h->priv, cur_priv = h->priv;
    uint64_t ctx = 0;               /* see struct rv_block_link */
    struct rv_block_link *link = NULL;  /* exit being taken */
    uint64_t priv_mark = h->instret;
    uint64_t nfast = 0, nmem = 0;   /* jump-cache hits, TLB lookups */
    uint64_t njit = 0;              /* entries into compiled regions */
    uint64_t njit_insns = 0;        /* instructions they retired */
    enum rv_exit ret;
    int r;

#define DISPATCH() goto *labels[in->op]
#define NEXT() do { in++; DISPATCH(); } while (0)
#define IDX() ((uint64_t)(in - blk->insns))
#define PC() (bpc + in->off)
    /* Make h->pc / h->instret exact for a helper that may trap or read them. */
#define BASE() (icnt - blk->n)  /* instret at block entry */
#define SYNC() do { h->pc = PC(); h->instret = BASE() + IDX(); } while (0)
    /* The block-ending instruction retired: go on at npc (icnt is final). */
#define CHAIN_TO(npc, k) do { pc = (npc); link = &blk->link[k]; goto boundary; } while (0)
    /* This instruction retired but the block must end here (h->pc and
     * h->instret become exact, and the slow boundary follows). */
#define RETIRE_TO(npc) do { h->pc = (npc); h->instret = BASE() + IDX() + 1; goto left_block; } while (0)
    /* Call a helper; CONT falls through, anything else leaves the block. */
#define HELPER(call) do { SYNC(); r = (call); if (r) goto left_block; } while (0)

    goto slow;

boundary:
    /* fast boundary: pc and icnt are the hart's pc and instret, link is
     * the exit of the block just left */
    if (unlikely(icnt >= atomic_load_explicit(&h->run_limit, memory_order_relaxed)))
        goto boundary_slow;
    if (likely(link->vpc == pc && link->ctx == ctx)) {
        blk = link->blk;
    } else {
        const struct rv_jcache_entry *e = &h->jcache[(pc >> 1) & (RV_JCACHE_SIZE - 1)];
        if (unlikely(e->vpc != pc || e->priv != priv || e->gen != h->xlate_gen ||
                     !e->blk || !e->blk->valid))
            goto boundary_slow;
        blk = e->blk;
        link->vpc = pc;
        link->ctx = ctx;
        link->blk = blk;
    }
    nfast++;
enter:
    /* the JIT's only cost here: a block becomes hot when its count
     * reaches 0 (see struct rv_block); compiled blocks dispatch to op_JIT */
    COUNT_OR_GOTO(blk->exec_count, hot);
entered:
    nmem += blk->nmem;
    bpc = pc;
    icnt += blk->n;
    in = blk->insns;
    DISPATCH();

hot:
    if (!blk->jit_code) {
        h->instret = icnt;      /* exact at block entry; the hotness rate */
        rv_jit_hot(h, blk);     /* queues it; we interpret meanwhile (unless
                                   --jit-threshold 0 installed it: op_JIT) */
    }
    goto entered;

boundary_slow:
    h->pc = pc;
    h->instret = icnt;
    goto slow;

left_block:
    /* left the block at `in`, maybe early; h->pc and h->instret are exact */
    nmem -= mem_ops_after(blk, in);
slow:
    pc = h->pc;
    icnt = h->instret;
    if (h->priv != cur_priv) {
        /* privilege changes only in helpers, and h->instret then counts
         * exactly the instructions retired at the old privilege */
        h->ctr.insns_by_priv[cur_priv] += icnt - priv_mark;
        priv_mark = icnt;
        cur_priv = h->priv;
    }
    if (unlikely(h->fatal)) {
        ret = RV_EXIT_FATAL;
        goto out;
    }
    /* Re-arm the fast check, then read req. A request posts its bits,
     * then zeroes run_limit; so either we see the bits now or run_limit
     * stays 0 and the next boundary comes back here (all seq_cst). */
    if (atomic_load(&h->run_limit) != fast_end)
        atomic_store(&h->run_limit, fast_end);
    {
        uint32_t req = atomic_load(&h->req);
        if (unlikely(req)) {
            if (req & RV_REQ_EXIT) {
                atomic_fetch_and(&h->req, ~RV_REQ_EXIT);
                ret = RV_EXIT_REQUEST;
                goto out;
            }
            /* clear before reading mip: a device sets mip, then the bit */
            atomic_fetch_and(&h->req, ~RV_REQ_CHECK);
        }
    }
    if (unlikely(atomic_load_explicit(&h->jit_ready, memory_order_relaxed)))
        rv_jit_install(h);
    /* traps count against the budget too, so a trap storm that retires
     * nothing still returns to the caller */
    if (unlikely(icnt >= end || h->traps - traps0 >= budget)) {
        ret = RV_EXIT_BUDGET;
        goto out;
    }
    if (unlikely((atomic_load_explicit(&h->mip, memory_order_relaxed) | h->mip_sw) & h->mie)) {
        if (rv_check_interrupts(h))
            goto slow;
    }
    priv = h->priv;
    tlbl = h->tlb_load[h->mmu_idx_data];
    tlbs = h->tlb_store[h->mmu_idx_data];
    blk = lookup_slow(h);
    if (unlikely(!blk))
        goto slow;          /* fetch fault: pc now at the handler */
    /* after the lookup: decoding may have flushed the block cache */
    ctx = h->xlate_gen << 3 | 4 | priv;
    if (unlikely(h->trace))
        rv_trace_insn(h, pc, blk->insns);
    goto enter;

out:
    h->ctr.insns_by_priv[cur_priv] += h->instret - priv_mark;
    h->ctr.block_lookups += nfast;
    h->ctr.block_hits += nfast;
    h->ctr.dtlb_lookups += nmem;
    h->ctr.jit_execs += njit;
    h->ctr.jit_insns += njit_insns;
    return ret;

    op_JIT:
        /* a compiled region (only ever insns[0]); it counts its own TLB
         * lookups and leaves h->pc and h->instret exact */
        njit++;
        nmem -= blk->nmem;
        icnt -= blk->n;
        {
            struct jit_region *R = blk->jit_region;
        jit_again:
            if (unlikely(h->jit_verify))
                r = rv_jit_verify(h, blk, bpc, icnt);
            else
                r = R->fn(h, bpc, icnt, R);
            njit_insns += h->instret - icnt;
            R->work += h->instret - icnt;
            if (unlikely(R->work >= h->jit_tier2_work) && !R->promoted)
                rv_jit_promote(h, blk, R);
            pc = h->pc;
            icnt = h->instret;
            if (likely(r >= 0)) {
                link = &R->link[r];
                /* compiled code on to compiled code: the fast boundary
                 * and op_JIT's entry without the dispatch in between
                 * (regions exit to each other at every call and return) */
                if (likely(link->vpc == pc && link->ctx == ctx) &&
                    icnt < atomic_load_explicit(&h->run_limit, memory_order_relaxed) &&
                    link->blk->insns[0].op == RV_OP_JIT && !h->jit_verify) {
                    blk = link->blk;
                    nfast++;
                    njit++;
                    blk->exec_count++;  /* hotness: a compiled block is hot already */
                    bpc = pc;
                    R = blk->jit_region;
                    goto jit_again;
                }
                goto boundary;
            }
        }
        goto slow;

    op_END:
        /* fell off the end (size or page limit): icnt already counts all */
        CHAIN_TO(PC(), 1);

    op_ILLEGAL:
        SYNC();
        rv_raise(h, RV_EXC_ILLEGAL, (uint32_t)in->imm);
        goto left_block;

    op_NOP:
    op_FENCE:
        NEXT();

    op_LUI:
    op_LI:
        x[in->rd] = (int64_t)in->imm;
        NEXT();
    op_MV:
        x[in->rd] = x[in->rs1];
        NEXT();
    op_AUIPC:
        x[in->rd] = PC() + (int64_t)in->imm;
        NEXT();
    op_JAL:
        x[in->rd] = PC() + in->len;
        CHAIN_TO(PC() + (int64_t)in->imm, 0);
    op_JALR: {
        uint64_t t = (x[in->rs1] + (int64_t)in->imm) & ~1ull;
        x[in->rd] = PC() + in->len;
        CHAIN_TO(t, 0);     /* a one-entry target cache */
    }

#define BRANCH(name, cond) \
    op_##name: \
        if (cond) \
            CHAIN_TO(PC() + (int64_t)in->imm, 0); \
        CHAIN_TO(PC() + in->len, 1);
    BRANCH(BEQ, x[in->rs1] == x[in->rs2])
    BRANCH(BNE, x[in->rs1] != x[in->rs2])
    BRANCH(BLT, (int64_t)x[in->rs1] < (int64_t)x[in->rs2])
    BRANCH(BGE, (int64_t)x[in->rs1] >= (int64_t)x[in->rs2])
    BRANCH(BLTU, x[in->rs1] < x[in->rs2])
    BRANCH(BGEU, x[in->rs1] >= x[in->rs2])
#undef BRANCH

    /* Loads: TLB hit is one compare and one add; the tag also rejects
     * misaligned addresses so the slow path handles them. */
#define LOAD_INTO(dst, T, conv) do { \
        uint64_t va = x[in->rs1] + (int64_t)in->imm; \
        const struct rv_tlb_entry *e = &tlbl[(va >> RV_PAGE_SHIFT) & (RV_TLB_SIZE - 1)]; \
        if (likely(e->tag == (va & (RV_PAGE_MASK | (sizeof(T) - 1))))) { \
            dst = conv *(const T *)(uintptr_t)(va + e->addend); \
        } else { \
            uint64_t v_; \
            SYNC(); \
            if (rv_load_slow(h, va, sizeof(T), &v_)) \
                goto left_block; \
            dst = conv (T)v_; \
        } \
    } while (0)
#define LOAD(name, T, conv) \
    op_##name: \
        LOAD_INTO(x[in->rd], T, conv); \
        NEXT();
    LOAD(LB, int8_t, (int64_t))
    LOAD(LH, int16_t, (int64_t))
    LOAD(LW, int32_t, (int64_t))
    LOAD(LD, uint64_t, (uint64_t))
    LOAD(LBU, uint8_t, (uint64_t))
    LOAD(LHU, uint16_t, (uint64_t))
    LOAD(LWU, uint32_t, (uint64_t))
#undef LOAD

#define STORE_FROM(srcval, T) do { \
        uint64_t va = x[in->rs1] + (int64_t)in->imm; \
        const struct rv_tlb_entry *e = &tlbs[(va >> RV_PAGE_SHIFT) & (RV_TLB_SIZE - 1)]; \
        if (likely(e->tag == (va & (RV_PAGE_MASK | (sizeof(T) - 1))))) { \
            *(T *)(uintptr_t)(va + e->addend) = (T)(srcval); \
        } else { \
            SYNC(); \
            r = rv_store_slow(h, va, sizeof(T), (srcval)); \
            if (r == RV_TRAP) \
                goto left_block; \
            if (r == RV_DONE) \
                RETIRE_TO(PC() + in->len); \
        } \
    } while (0)
#define STORE(name, T) \
    op_##name: \
        STORE_FROM(x[in->rs2], T); \
        NEXT();
    STORE(SB, uint8_t)
    STORE(SH, uint16_t)
    STORE(SW, uint32_t)
    STORE(SD, uint64_t)
#undef STORE

#define ALU(name, expr) \
    op_##name: \
        x[in->rd] = (expr); \
        NEXT();
#define RS1 x[in->rs1]
#define RS2 x[in->rs2]
#define IMM ((uint64_t)(int64_t)in->imm)
#define SX32(v) ((uint64_t)(int64_t)(int32_t)(v))
    ALU(ADDI, RS1 + IMM)
    ALU(SLTI, (int64_t)RS1 < (int64_t)IMM)
    ALU(SLTIU, RS1 < IMM)
    ALU(XORI, RS1 ^ IMM)
    ALU(ORI, RS1 | IMM)
    ALU(ANDI, RS1 & IMM)
    ALU(SLLI, RS1 << in->imm)
    ALU(SRLI, RS1 >> in->imm)
    ALU(SRAI, (uint64_t)((int64_t)RS1 >> in->imm))
    ALU(ADD, RS1 + RS2)
    ALU(SUB, RS1 - RS2)
    ALU(SLL, RS1 << (RS2 & 63))
    ALU(SLT, (int64_t)RS1 < (int64_t)RS2)
    ALU(SLTU, RS1 < RS2)
    ALU(XOR, RS1 ^ RS2)
    ALU(SRL, RS1 >> (RS2 & 63))
    ALU(SRA, (uint64_t)((int64_t)RS1 >> (RS2 & 63)))
    ALU(OR, RS1 | RS2)
    ALU(AND, RS1 & RS2)
    ALU(ADDIW, SX32(RS1 + IMM))
    ALU(SLLIW, SX32((uint32_t)RS1 << in->imm))
    ALU(SRLIW, SX32((uint32_t)RS1 >> in->imm))
    ALU(SRAIW, SX32((int32_t)RS1 >> in->imm))
    ALU(ADDW, SX32(RS1 + RS2))
    ALU(SUBW, SX32(RS1 - RS2))
    ALU(SLLW, SX32((uint32_t)RS1 << (RS2 & 31)))
    ALU(SRLW, SX32((uint32_t)RS1 >> (RS2 & 31)))
    ALU(SRAW, SX32((int32_t)RS1 >> (RS2 & 31)))
    ALU(MUL, RS1 * RS2)
    ALU(MULH, (uint64_t)(((__int128)(int64_t)RS1 * (__int128)(int64_t)RS2) >> 64))
    ALU(MULHSU, (uint64_t)(((__int128)(int64_t)RS1 * (__int128)(unsigned __int128)RS2) >> 64))
    ALU(MULHU, (uint64_t)(((unsigned __int128)RS1 * RS2) >> 64))
    ALU(DIV, rv_div(RS1, RS2))
    ALU(DIVU, RS2 ? RS1 / RS2 : ~0ull)
    ALU(REM, rv_rem(RS1, RS2))
    ALU(REMU, RS2 ? RS1 % RS2 : RS1)
    ALU(MULW, SX32((uint32_t)RS1 * (uint32_t)RS2))
    ALU(DIVW, SX32(rv_divw(RS1, RS2)))
    ALU(DIVUW, SX32((uint32_t)RS2 ? (uint32_t)RS1 / (uint32_t)RS2 : ~0u))
    ALU(REMW, SX32(rv_remw(RS1, RS2)))
    ALU(REMUW, SX32((uint32_t)RS2 ? (uint32_t)RS1 % (uint32_t)RS2 : (uint32_t)RS1))
#undef ALU

    op_FLW:
        if (unlikely(!(h->mstatus & MSTATUS_FS)))
            goto op_ILLEGAL_RAW;
        LOAD_INTO(h->f[in->rd], uint32_t, 0xffffffff00000000ull |);
        rv_fs_dirty(h);
        NEXT();
    op_FLD:
        if (unlikely(!(h->mstatus & MSTATUS_FS)))
            goto op_ILLEGAL_RAW;
        LOAD_INTO(h->f[in->rd], uint64_t, (uint64_t));
        rv_fs_dirty(h);
        NEXT();
    op_FSW:
        if (unlikely(!(h->mstatus & MSTATUS_FS)))
            goto op_ILLEGAL_RAW;
        STORE_FROM(h->f[in->rs2], uint32_t);
        NEXT();
    op_FSD:
        if (unlikely(!(h->mstatus & MSTATUS_FS)))
            goto op_ILLEGAL_RAW;
        STORE_FROM(h->f[in->rs2], uint64_t);
        NEXT();
    op_ILLEGAL_RAW:
        /* a legal encoding made illegal by state (FS = Off); it was
         * counted as a TLB lookup on block entry but never made one */
        nmem--;
        SYNC();
        rv_raise(h, RV_EXC_ILLEGAL, rv_fetch_raw(h, PC(), in->len));
        goto left_block;

    op_FP_S:
    op_FP_D:
    op_FMA_S:
    op_FMA_D:
        HELPER(rv_exec_fp(h, in));
        NEXT();

    op_LR_W:
    op_SC_W:
    op_LR_D:
    op_SC_D:
    op_AMO_W:
    op_AMO_D:
        HELPER(rv_exec_amo(h, in));
        NEXT();

    op_FENCE_I:
    op_ECALL:
    op_EBREAK:
    op_MRET:
    op_SRET:
    op_WFI:
    op_SFENCE_VMA:
        SYNC();
        rv_exec_system(h, in);
        goto left_block;

    op_CSRRW:
    op_CSRRS:
    op_CSRRC:
    op_CSRRWI:
    op_CSRRSI:
    op_CSRRCI:
        SYNC();
        rv_csr_op(h, in);
        goto left_block;
#undef DISPATCH
#undef NEXT
}
