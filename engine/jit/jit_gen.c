/* Region -> libgccjit IR. One function per region (several blocks of one
 * guest page, see jit.h) with the rv_jit_fn contract (rv_cpu.h);
 * semantics mirror rv_interp.c op for op, and the rare ops call the very
 * helpers the interpreter calls. Hart fields are reached by byte offsets
 * (offsetof) from the hart pointer, so no struct layout is described to
 * GCC twice, and helpers are called through the hart's jit_rt table, so
 * the code holds no host address (--jit-cache reloads it in another
 * process). */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libgccjit.h>

#include "jit.h"
#include "rv_fpu.h"
#include "rv_helpers.h"

unsigned jit_host_features(void)
{
#if defined(__x86_64__)
    return __builtin_cpu_supports("fma") ? JIT_HOST_FMA : 0;
#else
    return 0;
#endif
}

/* --- runtime helpers the generated code calls through h->jit_rt ---------- */
/* FP load/store while mstatus.FS is Off (h->pc, h->instret exact): the
 * interpreter's op_ILLEGAL_RAW, including its TLB-lookup correction. */
static int rt_illegal_raw(struct rv_hart *h, const struct rv_insn *in)
{
    h->ctr.dtlb_lookups--;
    rv_raise(h, RV_EXC_ILLEGAL, rv_fetch_raw(h, h->pc, in->len));
    return RV_TRAP;
}

static int rt_raise_illegal(struct rv_hart *h, const struct rv_insn *in)
{
    rv_raise(h, RV_EXC_ILLEGAL, (uint32_t)in->imm);
    return RV_TRAP;
}

/* Slow loads and stores (TLB miss, MMIO, faults, stores into code) with
 * h->pc and h->instret made exact here rather than in generated code;
 * sl = access size | instruction length << 8. Nonzero: leave the region
 * (a trap, or a store that dropped code or that a device wants seen; it
 * retired, so pc and instret move past it). */
static int rt_load(struct rv_hart *h, uint64_t va, uint64_t pc, uint64_t instret, uint64_t sl,
                   uint64_t *val)
{
    h->pc = pc;
    h->instret = instret;
    return rv_load_slow(h, va, (unsigned)(sl & 0xff), val);
}

static int rt_store(struct rv_hart *h, uint64_t va, uint64_t pc, uint64_t instret, uint64_t sl,
                    uint64_t val)
{
    int rc;

    h->pc = pc;
    h->instret = instret;
    rc = rv_store_slow(h, va, (unsigned)(sl & 0xff), val);
    if (rc == RV_DONE) {
        h->pc = pc + (sl >> 8);
        h->instret = instret + 1;
    }
    return rc;
}

enum rt_idx {
    RT_ILLEGAL_RAW, RT_RAISE_ILLEGAL, RT_EXEC_FP, RT_EXEC_AMO, RT_EXEC_SYSTEM, RT_CSR_OP,
    RT_LOAD, RT_STORE, RT__COUNT
};
_Static_assert(RT__COUNT <= RV_JIT_RT_MAX, "rv_hart.jit_rt too small");

void jit_rt_fill(void **tab)
{
    tab[RT_ILLEGAL_RAW] = (void *)rt_illegal_raw;
    tab[RT_RAISE_ILLEGAL] = (void *)rt_raise_illegal;
    tab[RT_EXEC_FP] = (void *)rv_exec_fp;
    tab[RT_EXEC_AMO] = (void *)rv_exec_amo;
    tab[RT_EXEC_SYSTEM] = (void *)rv_exec_system;
    tab[RT_CSR_OP] = (void *)rv_csr_op;
    tab[RT_LOAD] = (void *)rt_load;
    tab[RT_STORE] = (void *)rt_store;
}

/* --- generator state ---------------------------------------------------- */
enum hub_kind { HUB_LOAD, HUB_STORE, HUB_HELPER };

struct gen {
    gcc_jit_context *c;
    gcc_jit_function *fn;
    gcc_jit_block *cur;
    gcc_jit_type *u8, *u64, *i64, *u32, *i32, *u16, *i16, *i8, *u128, *i128, *vint, *vvoid;
    gcc_jit_type *dbl, *flt;
    gcc_jit_type *u8p;
    gcc_jit_rvalue *h, *bpc, *base, *R;
    gcc_jit_rvalue *vb;         /* virtual pc of the first member (bpc - the entry's delta) */
    gcc_jit_lvalue *x[33];      /* cached guest registers (x[32]: sink) */
    gcc_jit_lvalue *tlbl, *tlbs, *tmp, *va, *rc;
    gcc_jit_lvalue *fres;       /* an inline FP result (tmp's address is taken) */
    /* icnt: instret at the current block's start; nm: TLB lookups so far
     * (the interpreter counts them per block entry); chain: region-internal
     * jumps; iters: jumps backwards (counted as extra executions of the
     * block the region was entered at, for the hot-block view) */
    gcc_jit_lvalue *icnt, *nm, *chain, *iters, *xret;
    gcc_jit_block **label;      /* each region block's start */
    gcc_jit_block *xit;         /* the shared exit tail */
    /* The shared slow paths (enum hub_kind): a site sets the s_* arguments and
     * `resume` and jumps to its hub, which writes the registers back,
     * calls the helper, reloads them and switches back on resume. So no
     * guest register is live across a call, and GCC can keep them all in
     * any host register on the hot path (at -O1 it spilled them before:
     * without -fcaller-saves a value live across a call needs a
     * callee-saved register or the stack). */
    struct hub {
        gcc_jit_block *blk, *first;
        gcc_jit_case **cases;
        unsigned n, cap;
    } hub[3];
    gcc_jit_lvalue *s_pc, *s_ic, *s_sl, *s_val, *s_after, *resume;
    unsigned nresume;
    int oom;
    uint32_t written;           /* registers the region writes */
    uint32_t used;              /* registers it reads or writes (all loaded at entry) */
    const struct jit_req *r;
    unsigned k;                 /* current region block */
    unsigned idx;               /* current instruction, within the block */
    unsigned nblk;              /* for unique block names */
    /* The code emitted so far in the current block made mstatus.FS Dirty
     * (an FP load, an inline FP op: either path), so the FP loads and
     * ops after it test and set nothing. Reset at each member's start,
     * where control may come from elsewhere; nothing a block goes on
     * after can clean FS (CSR writes and traps leave the block). */
    int fs_dirty_known;
};

static gcc_jit_rvalue *k64(struct gen *g, uint64_t v)
{
    return gcc_jit_context_new_cast(g->c, NULL,
                                    gcc_jit_context_new_rvalue_from_long(g->c, g->i64, (long)v),
                                    g->u64);
}

static gcc_jit_rvalue *kint(struct gen *g, int v)
{
    return gcc_jit_context_new_rvalue_from_int(g->c, g->vint, v);
}

static gcc_jit_rvalue *cast(struct gen *g, gcc_jit_rvalue *v, gcc_jit_type *t)
{
    return gcc_jit_context_new_cast(g->c, NULL, v, t);
}

static gcc_jit_rvalue *bin(struct gen *g, enum gcc_jit_binary_op op, gcc_jit_type *t,
                           gcc_jit_rvalue *a, gcc_jit_rvalue *b)
{
    return gcc_jit_context_new_binary_op(g->c, NULL, op, t, a, b);
}

static gcc_jit_rvalue *cmp(struct gen *g, enum gcc_jit_comparison op, gcc_jit_rvalue *a,
                           gcc_jit_rvalue *b)
{
    return gcc_jit_context_new_comparison(g->c, NULL, op, a, b);
}

static gcc_jit_rvalue *rv(gcc_jit_lvalue *l)
{
    return gcc_jit_lvalue_as_rvalue(l);
}

/* __builtin_expect(cond, v): GCC then keeps the TLB hit and the helpers'
 * "continue" on the straight path and the slow paths out of the way */
static gcc_jit_rvalue *expect(struct gen *g, gcc_jit_rvalue *cond, int v)
{
    gcc_jit_function *f = gcc_jit_context_get_builtin_function(g->c, "__builtin_expect");
    gcc_jit_type *lt = gcc_jit_context_get_type(g->c, GCC_JIT_TYPE_LONG);
    gcc_jit_rvalue *args[2] = { gcc_jit_context_new_cast(g->c, NULL, cond, lt),
                                gcc_jit_context_new_rvalue_from_int(g->c, lt, v) };

    return gcc_jit_context_new_comparison(g->c, NULL, GCC_JIT_COMPARISON_NE,
                                          gcc_jit_context_new_call(g->c, NULL, f, 2, args),
                                          gcc_jit_context_new_rvalue_from_int(g->c, lt, 0));
}

/* *(T *)((u8 *)p + off) */
static gcc_jit_lvalue *at(struct gen *g, gcc_jit_rvalue *p, gcc_jit_rvalue *off, gcc_jit_type *t)
{
    gcc_jit_lvalue *b = gcc_jit_context_new_array_access(g->c, NULL, p, off);
    gcc_jit_rvalue *a = gcc_jit_lvalue_get_address(b, NULL);
    return gcc_jit_rvalue_dereference(cast(g, a, gcc_jit_type_get_pointer(t)), NULL);
}

/* a hart field */
static gcc_jit_lvalue *fld(struct gen *g, size_t off, gcc_jit_type *t)
{
    return at(g, g->h, k64(g, off), t);
}

static gcc_jit_block *new_block(struct gen *g)
{
    char name[32];

    snprintf(name, sizeof(name), "b%u", g->nblk++);
    return gcc_jit_function_new_block(g->fn, name);
}

static void assign(struct gen *g, gcc_jit_lvalue *lv, gcc_jit_rvalue *v)
{
    gcc_jit_block_add_assignment(g->cur, NULL, lv, v);
}

static gcc_jit_rvalue *reg(struct gen *g, unsigned i)
{
    if (i == 0)
        return k64(g, 0);
    return rv(g->x[i]);
}

static void set_reg(struct gen *g, unsigned i, gcc_jit_rvalue *v)
{
    assign(g, g->x[i], v);
}

/* Call runtime helper idx (h->jit_rt[idx]). */
static gcc_jit_rvalue *call(struct gen *g, enum rt_idx idx, gcc_jit_type *ret, int n,
                            gcc_jit_rvalue **args)
{
    gcc_jit_type *pt[6];
    gcc_jit_type *ft;

    for (int i = 0; i < n; i++)
        pt[i] = gcc_jit_rvalue_get_type(args[i]);
    ft = gcc_jit_context_new_function_ptr_type(g->c, NULL, ret, n, pt, 0);
    return gcc_jit_context_new_call_through_ptr(
        g->c, NULL, rv(fld(g, offsetof(struct rv_hart, jit_rt) + sizeof(void *) * idx, ft)),
        n, args);
}

static gcc_jit_rvalue *hptr(struct gen *g)
{
    return cast(g, g->h, gcc_jit_type_get_pointer(g->vvoid));
}

static const struct jit_rblk *cur_blk(struct gen *g)
{
    return &g->r->b[g->k];
}

static const struct rv_insn *cur_insn(struct gen *g)
{
    return &g->r->insns[cur_blk(g)->first + g->idx];
}


/* the guest pc of the current instruction + d */
static gcc_jit_rvalue *pc_plus(struct gen *g, int64_t d)
{
    return bin(g, GCC_JIT_BINARY_OP_PLUS, g->u64, g->vb,
               k64(g, (uint64_t)((int64_t)cur_blk(g)->delta + cur_insn(g)->off + d)));
}

static gcc_jit_rvalue *icnt_plus(struct gen *g, unsigned k)
{
    return bin(g, GCC_JIT_BINARY_OP_PLUS, g->u64, rv(g->icnt), k64(g, k));
}

/* h->pc and h->instret as of the current instruction (+ retired) */
static void sync_state(struct gen *g, gcc_jit_rvalue *pc, unsigned retired)
{
    assign(g, fld(g, offsetof(struct rv_hart, pc), g->u64), pc);
    assign(g, fld(g, offsetof(struct rv_hart, instret), g->u64), icnt_plus(g, g->idx + retired));
}

static void writeback_all(struct gen *g)
{
    for (unsigned i = 1; i < 32; i++)
        if (g->written & (1u << i))
            assign(g, fld(g, offsetof(struct rv_hart, x) + 8 * i, g->u64), rv(g->x[i]));
}

/* counter += v */
static void add_to(struct gen *g, gcc_jit_lvalue *ctr, gcc_jit_rvalue *v)
{
    gcc_jit_block_add_assignment_op(g->cur, NULL, ctr, GCC_JIT_BINARY_OP_PLUS, v);
}

/* memory ops of the current block after the current instruction */
static unsigned mem_after(struct gen *g)
{
    const struct jit_rblk *b = cur_blk(g);
    unsigned k = 0;

    for (unsigned i = g->idx + 1; i < b->n; i++)
        k += rv_op_uses_dtlb(g->r->insns[b->first + i].op);
    return k;
}

/* Leave with return value ret through the shared tail, which writes the
 * registers and counters back (h->pc and h->instret already set). */
static void to_tail(struct gen *g, int ret)
{
    if (!g->xit)
        g->xit = new_block(g);
    assign(g, g->xret, kint(g, ret));
    gcc_jit_block_end_with_jump(g->cur, NULL, g->xit);
    g->cur = NULL;
}

/* Leave early at the current instruction (trap, helper, store into code):
 * h->pc and h->instret are exact already; the slow boundary follows. */
static void leave(struct gen *g)
{
    unsigned after = mem_after(g);

    if (after)
        add_to(g, g->nm, k64(g, (uint64_t)-(int64_t)after));
    to_tail(g, -1);
}

/* the counters kept in locals, added to their homes (zeroed if `zero`) */
static void flush_counters(struct gen *g, int zero)
{
    gcc_jit_rvalue *blk = rv(at(g, g->R, k64(g, offsetof(struct jit_region, blk)), g->u8p));

    add_to(g, fld(g, offsetof(struct rv_hart, ctr.dtlb_lookups), g->u64), rv(g->nm));
    add_to(g, fld(g, offsetof(struct rv_hart, ctr.jit_chain_hits), g->u64), rv(g->chain));
    add_to(g, at(g, blk, k64(g, offsetof(struct rv_block, exec_count)), g->u64), rv(g->iters));
    if (zero) {
        assign(g, g->nm, k64(g, 0));
        assign(g, g->chain, k64(g, 0));
        assign(g, g->iters, k64(g, 0));
    }
}

static void finish_tail(struct gen *g)
{
    if (!g->xit)
        return;
    g->cur = g->xit;
    writeback_all(g);
    flush_counters(g, 0);
    gcc_jit_block_end_with_return(g->xit, NULL, rv(g->xret));
}

/* The region block starting `delta` bytes after the first member, or -1. */
static int block_at(const struct jit_req *r, int64_t delta)
{
    for (unsigned i = 0; i < r->nblk; i++)
        if (r->b[i].delta == delta)
            return (int)i;
    return -1;
}

/* Control leaves the current block (its last instruction retired) for
 * the guest pc `delta` bytes after the first member (known) or `to`
 * (computed): straight to that block's code when it is in the region
 * (after the run_limit check, so loops see requests, interrupts and the
 * budget), else out through exit `ex`. */
static void go_to(struct gen *g, int known, int64_t delta, gcc_jit_rvalue *to, int ex)
{
    unsigned n = cur_blk(g)->n;
    int j = known ? block_at(g->r, delta) : -1;

    if (j >= 0) {
        /* the interpreter's fast boundary test, so budgets end at the
         * same instruction in both tiers and requests are seen as soon */
        gcc_jit_block *stop = new_block(g), *again = new_block(g);
        gcc_jit_rvalue *lim = rv(fld(g, offsetof(struct rv_hart, run_limit),
                                     gcc_jit_type_get_volatile(g->u64)));
        add_to(g, g->icnt, k64(g, n));
        gcc_jit_block_end_with_conditional(g->cur, NULL,
                                           expect(g, cmp(g, GCC_JIT_COMPARISON_GE, rv(g->icnt), lim), 0),
                                           stop, again);
        g->cur = again;
        add_to(g, g->chain, k64(g, 1));
        if (g->r->b[j].delta <= cur_blk(g)->delta)
            add_to(g, g->iters, k64(g, 1));
        gcc_jit_block_end_with_jump(again, NULL, g->label[j]);
        g->cur = stop;
        assign(g, fld(g, offsetof(struct rv_hart, pc), g->u64),
               bin(g, GCC_JIT_BINARY_OP_PLUS, g->u64, g->vb, k64(g, (uint64_t)delta)));
        assign(g, fld(g, offsetof(struct rv_hart, instret), g->u64), rv(g->icnt));
        to_tail(g, -1);
        return;
    }
    if (!known && g->r->nblk > 1) {
        /* an indirect jump: straight to a member when the target is one
         * (a switch on the offset from the region's first block, which
         * GCC turns into a jump table), else out */
        gcc_jit_case *cases[JIT_REGION_BLOCKS];
        gcc_jit_block *out = new_block(g), *from = g->cur;
        gcc_jit_rvalue *d = cast(g, bin(g, GCC_JIT_BINARY_OP_MINUS, g->u64, to, g->vb), g->i64);
        gcc_jit_lvalue *tv = g->va;     /* `to` is va (JALR): keep it for the exit */

        for (unsigned j = 0; j < g->r->nblk; j++) {
            gcc_jit_rvalue *c = gcc_jit_context_new_rvalue_from_long(g->c, g->i64, g->r->b[j].delta);
            g->cur = new_block(g);
            cases[j] = gcc_jit_context_new_case(g->c, c, c, g->cur);
            go_to(g, 1, g->r->b[j].delta, NULL, ex);
        }
        gcc_jit_block_end_with_switch(from, NULL, d, out, g->r->nblk, cases);
        g->cur = out;
        to = rv(tv);
    }
    if (known)
        to = bin(g, GCC_JIT_BINARY_OP_PLUS, g->u64, g->vb, k64(g, (uint64_t)delta));
    assign(g, fld(g, offsetof(struct rv_hart, pc), g->u64), to);
    assign(g, fld(g, offsetof(struct rv_hart, instret), g->u64), icnt_plus(g, n));
    to_tail(g, 2 * (int)g->k + ex);
}

/* byte offset from the first member of the current instruction + d */
static int64_t rel(struct gen *g, int64_t d)
{
    return (int64_t)cur_blk(g)->delta + cur_insn(g)->off + d;
}

/* if (cond) { <current block continues in a fresh block that leaves
 * early> } else go on. Returns the block for the unlikely side; g->cur
 * becomes the continuation. */
static gcc_jit_block *branch_off(struct gen *g, gcc_jit_rvalue *cond)
{
    gcc_jit_block *side = new_block(g), *cont = new_block(g);

    gcc_jit_block_end_with_conditional(g->cur, NULL, expect(g, cond, 0), side, cont);
    g->cur = cont;
    return side;
}

static gcc_jit_block *to_hub(struct gen *g, enum hub_kind kind);

/* Helper op: exact pc/instret, then the helper hub (registers to memory,
 * call fn(h, insn), reload); leave on nonzero or when the op always ends
 * the block. */
static void helper_op(struct gen *g, enum rt_idx fn, int ends_block)
{
    sync_state(g, pc_plus(g, 0), 0);
    assign(g, g->s_pc, k64(g, fn));
    assign(g, g->s_sl, k64(g, (uint64_t)(cur_blk(g)->first + g->idx) * sizeof(struct rv_insn)));
    g->cur = to_hub(g, HUB_HELPER);
    if (ends_block)
        leave(g);
}

/* FP loads/stores: illegal while mstatus.FS is Off */
static void fs_check(struct gen *g)
{
    gcc_jit_rvalue *fs;
    gcc_jit_block *side, *save;

    if (g->fs_dirty_known)
        return;
    fs = bin(g, GCC_JIT_BINARY_OP_BITWISE_AND, g->u64,
             gcc_jit_lvalue_as_rvalue(fld(g, offsetof(struct rv_hart, mstatus), g->u64)),
             k64(g, MSTATUS_FS));
    side = branch_off(g, cmp(g, GCC_JIT_COMPARISON_EQ, fs, k64(g, 0)));
    save = g->cur;

    g->cur = side;
    helper_op(g, RT_ILLEGAL_RAW, 1);
    g->cur = save;
}

/* Effective address into g->va; returns the TLB hit condition for an
 * access of `size` bytes through tlb (a local holding the TLB base). */
static gcc_jit_rvalue *tlb_probe(struct gen *g, gcc_jit_lvalue *tlb, unsigned size,
                                 gcc_jit_lvalue **addend)
{
    const struct rv_insn *in = cur_insn(g);
    gcc_jit_rvalue *va = gcc_jit_lvalue_as_rvalue(g->va), *slot, *off;

    assign(g, g->va, bin(g, GCC_JIT_BINARY_OP_PLUS, g->u64, reg(g, in->rs1), k64(g, (uint64_t)(int64_t)in->imm)));
    slot = bin(g, GCC_JIT_BINARY_OP_BITWISE_AND, g->u64,
               bin(g, GCC_JIT_BINARY_OP_RSHIFT, g->u64, va, k64(g, RV_PAGE_SHIFT)),
               k64(g, RV_TLB_SIZE - 1));
    off = bin(g, GCC_JIT_BINARY_OP_MULT, g->u64, slot, k64(g, sizeof(struct rv_tlb_entry)));
    *addend = at(g, gcc_jit_lvalue_as_rvalue(tlb),
                 bin(g, GCC_JIT_BINARY_OP_PLUS, g->u64, off, k64(g, offsetof(struct rv_tlb_entry, addend))),
                 g->u64);
    return cmp(g, GCC_JIT_COMPARISON_EQ,
               gcc_jit_lvalue_as_rvalue(at(g, gcc_jit_lvalue_as_rvalue(tlb), off, g->u64)),
               bin(g, GCC_JIT_BINARY_OP_BITWISE_AND, g->u64, va, k64(g, RV_PAGE_MASK | (size - 1))));
}

/* Host location of the access (after a TLB hit). Volatile: every guest
 * access must happen, in order, like the interpreter's; otherwise GCC
 * could hoist the load of a spin loop waiting for another hart. */
static gcc_jit_lvalue *host_mem(struct gen *g, gcc_jit_lvalue *addend, gcc_jit_type *t)
{
    gcc_jit_rvalue *hp = bin(g, GCC_JIT_BINARY_OP_PLUS, g->u64, gcc_jit_lvalue_as_rvalue(g->va),
                             gcc_jit_lvalue_as_rvalue(addend));
    gcc_jit_type *vt = gcc_jit_type_get_volatile(t);
    return gcc_jit_rvalue_dereference(
        gcc_jit_context_new_bitcast(g->c, NULL, hp, gcc_jit_type_get_pointer(vt)), NULL);
}

/* Value conversions of loads: sign/zero extension, NaN-boxing. */
enum conv { CONV_S, CONV_U, CONV_BOX };

static gcc_jit_rvalue *convert(struct gen *g, gcc_jit_rvalue *v, enum conv cv)
{
    if (cv == CONV_S)
        return cast(g, cast(g, v, g->i64), g->u64);
    if (cv == CONV_U)
        return cast(g, v, g->u64);
    return bin(g, GCC_JIT_BINARY_OP_BITWISE_OR, g->u64, cast(g, v, g->u64),
               k64(g, 0xffffffff00000000ull));
}

/* Off to hub `kind` (struct hub) with the s_* arguments set; it comes
 * back to the returned block unless the helper said to leave. */
static gcc_jit_block *to_hub(struct gen *g, enum hub_kind kind)
{
    struct hub *s = &g->hub[kind];
    gcc_jit_block *back = new_block(g);

    if (s->n == s->cap) {
        unsigned cap = s->cap ? 2 * s->cap : 16;
        gcc_jit_case **nc = realloc(s->cases, cap * sizeof(*nc));
        if (!nc) {
            g->oom = 1;
            gcc_jit_block_end_with_jump(g->cur, NULL, back);
            return back;
        }
        s->cases = nc;
        s->cap = cap;
    }
    if (!s->blk) {
        s->blk = new_block(g);
        s->first = back;
    }
    s->cases[s->n++] = gcc_jit_context_new_case(g->c, kint(g, (int)g->nresume),
                                                kint(g, (int)g->nresume), back);
    assign(g, g->s_after, k64(g, mem_after(g)));
    assign(g, g->resume, kint(g, (int)g->nresume++));
    gcc_jit_block_end_with_jump(g->cur, NULL, s->blk);
    return back;
}

/* TLB miss: the helper makes h->pc/h->instret exact itself (less IR per
 * access, and GCC's time grows with the IR) and returns nonzero when the
 * region must be left here. */
static gcc_jit_block *slow_call(struct gen *g, enum hub_kind kind, unsigned size)
{
    assign(g, g->s_pc, pc_plus(g, 0));
    assign(g, g->s_ic, icnt_plus(g, g->idx));
    assign(g, g->s_sl, k64(g, size | (uint64_t)cur_insn(g)->len << 8));
    return to_hub(g, kind);
}

static void reload_all(struct gen *g)
{
    for (unsigned i = 1; i < 32; i++)
        if (g->used & (1u << i))
            assign(g, g->x[i], rv(fld(g, offsetof(struct rv_hart, x) + 8 * i, g->u64)));
}

static void tlb_base_set(struct gen *g, gcc_jit_lvalue *l, size_t off)
{
    gcc_jit_rvalue *idx = cast(g, rv(fld(g, offsetof(struct rv_hart, mmu_idx_data), g->u8)), g->u64);
    gcc_jit_rvalue *o = bin(g, GCC_JIT_BINARY_OP_PLUS, g->u64, k64(g, off),
                            bin(g, GCC_JIT_BINARY_OP_MULT, g->u64, idx,
                                k64(g, RV_TLB_SIZE * sizeof(struct rv_tlb_entry))));

    assign(g, l, gcc_jit_lvalue_get_address(gcc_jit_context_new_array_access(g->c, NULL, g->h, o), NULL));
}

static void tlb_bases_set(struct gen *g)
{
    /* the store TLB at a fixed distance from the load TLB: GCC can then
     * address both from one register */
    gcc_jit_rvalue *d = k64(g, offsetof(struct rv_hart, tlb_store) - offsetof(struct rv_hart, tlb_load));

    tlb_base_set(g, g->tlbl, offsetof(struct rv_hart, tlb_load));
    assign(g, g->tlbs, gcc_jit_lvalue_get_address(
                           gcc_jit_context_new_array_access(g->c, NULL, rv(g->tlbl), d), NULL));
}

/* A hub's body (see struct hub). Locals that are cheap to recompute (TLB
 * bases) or to flush (counters) are not kept across the call either. */
static void finish_hub(struct gen *g, enum hub_kind kind)
{
    struct hub *s = &g->hub[kind];
    gcc_jit_rvalue *args[6];
    gcc_jit_block *side, *cont;

    if (!s->blk)
        return;
    g->cur = s->blk;
    writeback_all(g);
    flush_counters(g, 1);
    args[0] = hptr(g);
    if (kind == HUB_HELPER) {
        /* s_pc: the helper's index, s_sl: the instruction's offset in R->insns */
        gcc_jit_type *pt[2] = { gcc_jit_rvalue_get_type(args[0]), g->u8p };
        gcc_jit_type *ft = gcc_jit_context_new_function_ptr_type(g->c, NULL, g->vint, 2, pt, 0);
        gcc_jit_rvalue *ins = rv(at(g, g->R, k64(g, offsetof(struct jit_region, insns)), g->u8p));
        gcc_jit_rvalue *fo = bin(g, GCC_JIT_BINARY_OP_PLUS, g->u64,
                                 k64(g, offsetof(struct rv_hart, jit_rt)),
                                 bin(g, GCC_JIT_BINARY_OP_MULT, g->u64, rv(g->s_pc),
                                     k64(g, sizeof(void *))));
        args[1] = gcc_jit_lvalue_get_address(
            gcc_jit_context_new_array_access(g->c, NULL, ins, rv(g->s_sl)), NULL);
        assign(g, g->rc, gcc_jit_context_new_call_through_ptr(g->c, NULL, rv(at(g, g->h, fo, ft)),
                                                              2, args));
    } else {
        args[1] = rv(g->va);
        args[2] = rv(g->s_pc);
        args[3] = rv(g->s_ic);
        args[4] = rv(g->s_sl);
        args[5] = kind == HUB_STORE ? rv(g->s_val) : gcc_jit_lvalue_get_address(g->tmp, NULL);
        assign(g, g->rc, call(g, kind == HUB_STORE ? RT_STORE : RT_LOAD, g->vint, 6, args));
    }
    /* before the leave test too: the exit tail writes the locals back, and
     * the helper may have written x[rd] even when it says to leave */
    reload_all(g);
    side = branch_off(g, cmp(g, GCC_JIT_COMPARISON_NE, rv(g->rc), kint(g, 0)));
    cont = g->cur;
    g->cur = side;
    assign(g, g->nm, bin(g, GCC_JIT_BINARY_OP_MINUS, g->u64, k64(g, 0), rv(g->s_after)));
    to_tail(g, -1);
    g->cur = cont;
    tlb_bases_set(g);
    gcc_jit_block_end_with_switch(cont, NULL, rv(g->resume), s->first, s->n,
                                  s->cases);
}

static void gen_load(struct gen *g, gcc_jit_lvalue *dst, gcc_jit_type *t, unsigned size,
                     enum conv cv)
{
    gcc_jit_lvalue *addend;
    gcc_jit_rvalue *hit = expect(g, tlb_probe(g, g->tlbl, size, &addend), 1);
    gcc_jit_block *fast = new_block(g), *slow = new_block(g), *next = new_block(g);

    gcc_jit_block_end_with_conditional(g->cur, NULL, hit, fast, slow);
    g->cur = fast;
    assign(g, dst, convert(g, rv(host_mem(g, addend, t)), cv));
    gcc_jit_block_end_with_jump(fast, NULL, next);

    g->cur = slow;
    g->cur = slow_call(g, HUB_LOAD, size);
    assign(g, dst, convert(g, cast(g, rv(g->tmp), t), cv));
    gcc_jit_block_end_with_jump(g->cur, NULL, next);
    g->cur = next;
}

static void gen_store(struct gen *g, gcc_jit_rvalue *val, gcc_jit_type *t, unsigned size)
{
    gcc_jit_lvalue *addend;
    gcc_jit_rvalue *hit = expect(g, tlb_probe(g, g->tlbs, size, &addend), 1);
    gcc_jit_block *fast = new_block(g), *slow = new_block(g), *next = new_block(g);

    gcc_jit_block_end_with_conditional(g->cur, NULL, hit, fast, slow);
    g->cur = fast;
    assign(g, host_mem(g, addend, t), cast(g, val, t));
    gcc_jit_block_end_with_jump(fast, NULL, next);

    g->cur = slow;
    assign(g, g->s_val, cast(g, val, g->u64));
    g->cur = slow_call(g, HUB_STORE, size);
    gcc_jit_block_end_with_jump(g->cur, NULL, next);
    g->cur = next;
}

static gcc_jit_lvalue *freg(struct gen *g, unsigned i)
{
    return fld(g, offsetof(struct rv_hart, f) + 8 * i, g->u64);
}

static void fs_dirty(struct gen *g)
{
    gcc_jit_lvalue *ms = fld(g, offsetof(struct rv_hart, mstatus), g->u64);

    if (g->fs_dirty_known)
        return;
    gcc_jit_block_add_assignment_op(g->cur, NULL, ms, GCC_JIT_BINARY_OP_BITWISE_OR, k64(g, MSTATUS_FS));
    g->fs_dirty_known = 1;
}

static gcc_jit_rvalue *sx32(struct gen *g, gcc_jit_rvalue *v)
{
    return cast(g, cast(g, cast(g, v, g->i32), g->i64), g->u64);
}

static gcc_jit_rvalue *s64(struct gen *g, gcc_jit_rvalue *v)
{
    return cast(g, v, g->i64);
}

static gcc_jit_rvalue *u32v(struct gen *g, gcc_jit_rvalue *v)
{
    return cast(g, v, g->u32);
}

static gcc_jit_rvalue *b2u(struct gen *g, gcc_jit_rvalue *b)
{
    return cast(g, b, g->u64);
}

/* high 64 bits of a 128-bit product of a and b converted to type t */
static gcc_jit_rvalue *mulh(struct gen *g, gcc_jit_rvalue *a, gcc_jit_type *ta,
                            gcc_jit_rvalue *b, gcc_jit_type *tb, gcc_jit_type *t)
{
    gcc_jit_rvalue *p = bin(g, GCC_JIT_BINARY_OP_MULT, t, cast(g, cast(g, a, ta), t),
                            cast(g, cast(g, b, tb), t));
    return cast(g, bin(g, GCC_JIT_BINARY_OP_RSHIFT, t, p,
                       cast(g, gcc_jit_context_new_rvalue_from_int(g->c, g->vint, 64), t)), g->u64);
}

/* RISC-V division never traps: x/0 is all ones (remainder x), MIN/-1 is
 * MIN (remainder 0). Inline and branch-free (a call here would keep the
 * registers of a loop out of the caller-saved ones): both special cases
 * divide by 1 instead, then masks patch in the quotient or remainder. */
static gcc_jit_rvalue *divrem(struct gen *g, const struct rv_insn *in, gcc_jit_rvalue *a,
                              gcc_jit_rvalue *b)
{
    int w = in->op == RV_OP_DIVW || in->op == RV_OP_DIVUW || in->op == RV_OP_REMW ||
            in->op == RV_OP_REMUW;
    int sgn = in->op == RV_OP_DIV || in->op == RV_OP_REM || in->op == RV_OP_DIVW ||
              in->op == RV_OP_REMW;
    int rem = in->op == RV_OP_REM || in->op == RV_OP_REMU || in->op == RV_OP_REMW ||
              in->op == RV_OP_REMUW;
    gcc_jit_type *ut = w ? g->u32 : g->u64, *st = w ? g->i32 : g->i64;
    gcc_jit_rvalue *ua = cast(g, a, ut), *ub = cast(g, b, ut), *zero, *special, *m0, *ms, *d, *r;
    gcc_jit_rvalue *one = cast(g, k64(g, 1), ut), *none = cast(g, k64(g, 0), ut);

    zero = cast(g, cmp(g, GCC_JIT_COMPARISON_EQ, ub, none), ut);
    special = zero;
    if (sgn) {
        gcc_jit_rvalue *min = cast(g, k64(g, w ? 0x80000000ull : 1ull << 63), ut);
        gcc_jit_rvalue *ovf = bin(g, GCC_JIT_BINARY_OP_BITWISE_AND, ut,
                                  cast(g, cmp(g, GCC_JIT_COMPARISON_EQ, ua, min), ut),
                                  cast(g, cmp(g, GCC_JIT_COMPARISON_EQ, ub,
                                              cast(g, k64(g, ~0ull), ut)), ut));
        special = bin(g, GCC_JIT_BINARY_OP_BITWISE_OR, ut, zero, ovf);
    }
    m0 = bin(g, GCC_JIT_BINARY_OP_MINUS, ut, none, zero);
    ms = bin(g, GCC_JIT_BINARY_OP_MINUS, ut, none, special);
    d = bin(g, GCC_JIT_BINARY_OP_BITWISE_OR, ut,
            bin(g, GCC_JIT_BINARY_OP_BITWISE_AND, ut, ub, gcc_jit_context_new_unary_op(
                    g->c, NULL, GCC_JIT_UNARY_OP_BITWISE_NEGATE, ut, ms)),
            bin(g, GCC_JIT_BINARY_OP_BITWISE_AND, ut, one, ms));
    if (sgn)
        r = cast(g, bin(g, rem ? GCC_JIT_BINARY_OP_MODULO : GCC_JIT_BINARY_OP_DIVIDE, st,
                        cast(g, ua, st), cast(g, d, st)), ut);
    else
        r = bin(g, rem ? GCC_JIT_BINARY_OP_MODULO : GCC_JIT_BINARY_OP_DIVIDE, ut, ua, d);
    r = bin(g, GCC_JIT_BINARY_OP_BITWISE_OR, ut, r,
            rem ? bin(g, GCC_JIT_BINARY_OP_BITWISE_AND, ut, ua, m0) : m0);
    return w ? sx32(g, r) : r;
}

/* Integer ops with one result: the expression, or NULL if op is not one. */
static gcc_jit_rvalue *alu(struct gen *g, const struct rv_insn *in)
{
    gcc_jit_rvalue *a = reg(g, in->rs1), *b = reg(g, in->rs2);
    gcc_jit_rvalue *imm = k64(g, (uint64_t)(int64_t)in->imm);
    gcc_jit_rvalue *sh = k64(g, (uint64_t)in->imm & 63);
    gcc_jit_rvalue *b63 = bin(g, GCC_JIT_BINARY_OP_BITWISE_AND, g->u64, b, k64(g, 63));
    gcc_jit_rvalue *b31 = cast(g, bin(g, GCC_JIT_BINARY_OP_BITWISE_AND, g->u64, b, k64(g, 31)), g->u32);
    gcc_jit_rvalue *sh32 = cast(g, k64(g, (uint64_t)in->imm & 31), g->u32);
#define B(op, x, y) bin(g, GCC_JIT_BINARY_OP_##op, g->u64, x, y)
#define BS(op, x, y) cast(g, bin(g, GCC_JIT_BINARY_OP_##op, g->i64, s64(g, x), s64(g, y)), g->u64)
#define B32(op, t, x, y) sx32(g, bin(g, GCC_JIT_BINARY_OP_##op, t, x, y))
#define C(op, x, y) b2u(g, cmp(g, GCC_JIT_COMPARISON_##op, x, y))

    switch (in->op) {
    case RV_OP_LUI: case RV_OP_LI: return imm;
    case RV_OP_MV: return a;
    case RV_OP_AUIPC: return pc_plus(g, in->imm);
    case RV_OP_ADDI: return B(PLUS, a, imm);
    case RV_OP_SLTI: return C(LT, s64(g, a), s64(g, imm));
    case RV_OP_SLTIU: return C(LT, a, imm);
    case RV_OP_XORI: return B(BITWISE_XOR, a, imm);
    case RV_OP_ORI: return B(BITWISE_OR, a, imm);
    case RV_OP_ANDI: return B(BITWISE_AND, a, imm);
    case RV_OP_SLLI: return B(LSHIFT, a, sh);
    case RV_OP_SRLI: return B(RSHIFT, a, sh);
    case RV_OP_SRAI: return BS(RSHIFT, a, sh);
    case RV_OP_ADD: return B(PLUS, a, b);
    case RV_OP_SUB: return B(MINUS, a, b);
    case RV_OP_SLL: return B(LSHIFT, a, b63);
    case RV_OP_SLT: return C(LT, s64(g, a), s64(g, b));
    case RV_OP_SLTU: return C(LT, a, b);
    case RV_OP_XOR: return B(BITWISE_XOR, a, b);
    case RV_OP_SRL: return B(RSHIFT, a, b63);
    case RV_OP_SRA: return BS(RSHIFT, a, b63);
    case RV_OP_OR: return B(BITWISE_OR, a, b);
    case RV_OP_AND: return B(BITWISE_AND, a, b);
    case RV_OP_ADDIW: return sx32(g, B(PLUS, a, imm));
    case RV_OP_SLLIW: return B32(LSHIFT, g->u32, u32v(g, a), sh32);
    case RV_OP_SRLIW: return B32(RSHIFT, g->u32, u32v(g, a), sh32);
    case RV_OP_SRAIW: return B32(RSHIFT, g->i32, cast(g, a, g->i32), cast(g, sh32, g->i32));
    case RV_OP_ADDW: return sx32(g, B(PLUS, a, b));
    case RV_OP_SUBW: return sx32(g, B(MINUS, a, b));
    case RV_OP_SLLW: return B32(LSHIFT, g->u32, u32v(g, a), b31);
    case RV_OP_SRLW: return B32(RSHIFT, g->u32, u32v(g, a), b31);
    case RV_OP_SRAW: return B32(RSHIFT, g->i32, cast(g, a, g->i32), cast(g, b31, g->i32));
    case RV_OP_MUL: return B(MULT, a, b);
    case RV_OP_MULH: return mulh(g, a, g->i64, b, g->i64, g->i128);
    case RV_OP_MULHSU: return mulh(g, a, g->i64, b, g->u64, g->i128);
    case RV_OP_MULHU: return mulh(g, a, g->u64, b, g->u64, g->u128);
    case RV_OP_MULW: return B32(MULT, g->u32, u32v(g, a), u32v(g, b));
    case RV_OP_DIV: case RV_OP_DIVU: case RV_OP_REM: case RV_OP_REMU: case RV_OP_DIVW:
    case RV_OP_DIVUW: case RV_OP_REMW: case RV_OP_REMUW:
        return divrem(g, in, a, b);
    default: return NULL;
    }
#undef B
#undef BS
#undef B32
#undef C
}

static void gen_branch(struct gen *g, const struct rv_insn *in)
{
    static const struct { uint16_t op; enum gcc_jit_comparison c; int sgn; } tab[] = {
        { RV_OP_BEQ, GCC_JIT_COMPARISON_EQ, 0 }, { RV_OP_BNE, GCC_JIT_COMPARISON_NE, 0 },
        { RV_OP_BLT, GCC_JIT_COMPARISON_LT, 1 }, { RV_OP_BGE, GCC_JIT_COMPARISON_GE, 1 },
        { RV_OP_BLTU, GCC_JIT_COMPARISON_LT, 0 }, { RV_OP_BGEU, GCC_JIT_COMPARISON_GE, 0 },
    };
    gcc_jit_rvalue *a = reg(g, in->rs1), *b = reg(g, in->rs2), *cond = NULL;
    gcc_jit_block *taken = new_block(g), *fall = new_block(g);

    for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
        if (tab[i].op == in->op)
            cond = tab[i].sgn ? cmp(g, tab[i].c, s64(g, a), s64(g, b)) : cmp(g, tab[i].c, a, b);
    gcc_jit_block_end_with_conditional(g->cur, NULL, cond, taken, fall);
    g->cur = taken;
    go_to(g, 1, rel(g, in->imm), NULL, 0);
    g->cur = fall;
    go_to(g, 1, rel(g, in->len), NULL, 1);
}

static const struct { uint16_t op; uint8_t size; uint8_t conv; uint8_t fp; } mem_tab[] = {
    { RV_OP_LB, 1, CONV_S, 0 }, { RV_OP_LH, 2, CONV_S, 0 }, { RV_OP_LW, 4, CONV_S, 0 },
    { RV_OP_LD, 8, CONV_U, 0 }, { RV_OP_LBU, 1, CONV_U, 0 }, { RV_OP_LHU, 2, CONV_U, 0 },
    { RV_OP_LWU, 4, CONV_U, 0 }, { RV_OP_FLW, 4, CONV_BOX, 1 }, { RV_OP_FLD, 8, CONV_U, 1 },
    { RV_OP_SB, 1, 0, 0 }, { RV_OP_SH, 2, 0, 0 }, { RV_OP_SW, 4, 0, 0 }, { RV_OP_SD, 8, 0, 0 },
    { RV_OP_FSW, 4, 0, 1 }, { RV_OP_FSD, 8, 0, 1 },
};

static gcc_jit_type *mem_type(struct gen *g, unsigned size, int sgn)
{
    switch (size) {
    case 1: return sgn ? g->i8 : g->u8;
    case 2: return sgn ? g->i16 : g->u16;
    case 4: return sgn ? g->i32 : g->u32;
    default: return g->u64;
    }
}

static void gen_mem(struct gen *g, const struct rv_insn *in)
{
    for (size_t i = 0; i < sizeof(mem_tab) / sizeof(mem_tab[0]); i++) {
        unsigned size = mem_tab[i].size;
        int is_store = in->op >= RV_OP_SB && in->op <= RV_OP_SD;
        if (mem_tab[i].op != in->op)
            continue;
        is_store |= in->op == RV_OP_FSW || in->op == RV_OP_FSD;
        if (mem_tab[i].fp)
            fs_check(g);
        if (is_store) {
            gcc_jit_rvalue *v = mem_tab[i].fp ? gcc_jit_lvalue_as_rvalue(freg(g, in->rs2))
                                              : reg(g, in->rs2);
            gen_store(g, v, mem_type(g, size, 0), size);
        } else if (mem_tab[i].fp) {
            gen_load(g, freg(g, in->rd), mem_type(g, size, 0), size, mem_tab[i].conv);
            fs_dirty(g);
        } else {
            gen_load(g, g->x[in->rd], mem_type(g, size, mem_tab[i].conv == CONV_S), size,
                     mem_tab[i].conv);
        }
        return;
    }
}

static gcc_jit_rvalue *and_b(struct gen *g, gcc_jit_rvalue *a, gcc_jit_rvalue *b)
{
    return gcc_jit_context_new_binary_op(g->c, NULL, GCC_JIT_BINARY_OP_LOGICAL_AND,
                                         gcc_jit_context_get_type(g->c, GCC_JIT_TYPE_BOOL), a, b);
}

/* F and D arithmetic inline: add, sub, mul, div, sqrt and (on hosts with
 * FMA3) the fused multiply-adds in round-to-nearest once NX has accrued,
 * and D's sign injections. The host's SSE result is the RISC-V one
 * whenever it is a normal finite number ("plain", as in rv_fpu.c's own
 * fast path): then no flag but NX can have been raised, and NX is set
 * already. Anything else (NaN, zero, subnormal, overflow, another rounding
 * mode, FS not Dirty, unboxed single-precision operands) runs the
 * interpreter's helper instead. The vCPU thread's MXCSR is the default
 * (RNE, all masked, no FTZ/DAZ): the FPU code restores it and nothing
 * else changes it. */

/* rd = fres if ok, else the helper */
static void fp_commit(struct gen *g, const struct rv_insn *in, gcc_jit_rvalue *ok)
{
    gcc_jit_block *fast = new_block(g), *slow = new_block(g), *next = new_block(g);

    gcc_jit_block_end_with_conditional(g->cur, NULL, expect(g, ok, 1), fast, slow);
    g->cur = fast;
    assign(g, freg(g, in->rd), rv(g->fres));
    gcc_jit_block_end_with_jump(fast, NULL, next);
    g->cur = slow;
    helper_op(g, RT_EXEC_FP, 0);
    gcc_jit_block_end_with_jump(g->cur, NULL, next);
    g->cur = next;
    /* the fast path needed FS Dirty, the helper made it so (or trapped) */
    g->fs_dirty_known = 1;
}

/* mstatus.FS is Dirty: an FP write needs no state change */
static gcc_jit_rvalue *fs_is_dirty(struct gen *g)
{
    gcc_jit_rvalue *fs = bin(g, GCC_JIT_BINARY_OP_BITWISE_AND, g->u64,
                             rv(fld(g, offsetof(struct rv_hart, mstatus), g->u64)), k64(g, MSTATUS_FS));
    return cmp(g, GCC_JIT_COMPARISON_EQ, fs, k64(g, MSTATUS_FS));
}

/* The fast path's condition before the result is known: FS Dirty (unless
 * the block made it so already: an FP write then changes no state), NX
 * accrued, round-to-nearest, the n operands' single values NaN-boxed. */
static gcc_jit_rvalue *fp_ok(struct gen *g, const struct rv_insn *in, int d,
                             gcc_jit_rvalue **ops, unsigned n)
{
    gcc_jit_rvalue *ok = cmp(g, GCC_JIT_COMPARISON_NE,
                             bin(g, GCC_JIT_BINARY_OP_BITWISE_AND, g->u32,
                                 rv(fld(g, offsetof(struct rv_hart, fflags), g->u32)),
                                 cast(g, k64(g, RV_FFLAG_NX), g->u32)),
                             cast(g, k64(g, 0), g->u32));

    if (!g->fs_dirty_known)
        ok = and_b(g, fs_is_dirty(g), ok);
    if (in->rm == 7)
        ok = and_b(g, ok, cmp(g, GCC_JIT_COMPARISON_EQ,
                              rv(fld(g, offsetof(struct rv_hart, frm), g->u32)),
                              cast(g, k64(g, RV_RM_RNE), g->u32)));
    for (unsigned i = 0; i < n && !d; i++)
        ok = and_b(g, ok, cmp(g, GCC_JIT_COMPARISON_EQ,
                              bin(g, GCC_JIT_BINARY_OP_RSHIFT, g->u64, ops[i], k64(g, 32)),
                              k64(g, 0xffffffffull)));
    return ok;
}

/* fres = the host result r's bits (NaN-boxed for single); the condition
 * ok && r is plain */
static gcc_jit_rvalue *fp_result(struct gen *g, int d, gcc_jit_rvalue *r, gcc_jit_rvalue *ok)
{
    uint64_t sign = d ? 1ull << 63 : 1ull << 31;
    uint64_t lo = d ? 0x0010000000000001ull : 0x00800001ull;
    uint64_t hi = d ? 0x7fefffffffffffffull : 0x7f7fffffull;
    gcc_jit_rvalue *plain;

    assign(g, g->fres, cast(g, gcc_jit_context_new_bitcast(g->c, NULL, r, d ? g->u64 : g->u32),
                            g->u64));
    /* plain: lo <= |r| <= hi, as one unsigned compare */
    plain = cmp(g, GCC_JIT_COMPARISON_LT,
                bin(g, GCC_JIT_BINARY_OP_MINUS, g->u64,
                    bin(g, GCC_JIT_BINARY_OP_BITWISE_AND, g->u64, rv(g->fres), k64(g, ~sign)),
                    k64(g, lo)),
                k64(g, hi - lo));
    ok = and_b(g, ok, plain);
    if (!d)
        assign(g, g->fres, bin(g, GCC_JIT_BINARY_OP_BITWISE_OR, g->u64, rv(g->fres),
                               k64(g, 0xffffffff00000000ull)));
    return ok;
}

/* an F register's bits as a host float or double */
static gcc_jit_rvalue *fp_val(struct gen *g, int d, gcc_jit_rvalue *bits)
{
    return gcc_jit_context_new_bitcast(g->c, NULL, cast(g, bits, d ? g->u64 : g->u32),
                                       d ? g->dbl : g->flt);
}

/* fmadd/fmsub/fnmsub/fnmadd: (neg ? -(a*b) : a*b) +/- c in one rounding;
 * negating the operands is exact, so it is done on their signs. */
static int fma_inline(struct gen *g, const struct rv_insn *in)
{
    int d = in->op == RV_OP_FMA_D;
    uint64_t sign = d ? 1ull << 63 : 1ull << 31;
    gcc_jit_rvalue *ops[3] = { rv(freg(g, in->rs1)), rv(freg(g, in->rs2)), rv(freg(g, in->rs3)) };
    gcc_jit_rvalue *x, *z, *args[3], *ok;
    gcc_jit_function *fma = gcc_jit_context_get_builtin_function(g->c, d ? "__builtin_fma"
                                                                         : "__builtin_fmaf");

    if (in->rm != RV_RM_RNE && in->rm != 7)
        return 0;
    ok = fp_ok(g, in, d, ops, 3);
    x = in->fop >= 2 ? bin(g, GCC_JIT_BINARY_OP_BITWISE_XOR, g->u64, ops[0], k64(g, sign)) : ops[0];
    z = in->fop == 1 || in->fop == 3 ? bin(g, GCC_JIT_BINARY_OP_BITWISE_XOR, g->u64, ops[2],
                                           k64(g, sign)) : ops[2];
    args[0] = fp_val(g, d, x);
    args[1] = fp_val(g, d, ops[1]);
    args[2] = fp_val(g, d, z);
    ok = fp_result(g, d, gcc_jit_context_new_call(g->c, NULL, fma, 3, args), ok);
    fp_commit(g, in, ok);
    return 1;
}

static int fp_inline(struct gen *g, const struct rv_insn *in)
{
    int d = in->op == RV_OP_FP_D;
    gcc_jit_rvalue *ops[2], *ok, *r, *v;
    enum gcc_jit_binary_op op;

    if (in->op == RV_OP_FMA_D || in->op == RV_OP_FMA_S)
        return (jit_host_features() & JIT_HOST_FMA) ? fma_inline(g, in) : 0;
    if (in->op != RV_OP_FP_D && in->op != RV_OP_FP_S)
        return 0;
    ops[0] = rv(freg(g, in->rs1));
    ops[1] = rv(freg(g, in->rs2));
    if (in->fop == 0x10) {
        /* fsgnj/fsgnjn/fsgnjx.d (fmv.d, fneg.d, fabs.d): no rounding, no flags */
        uint64_t m = 1ull << 63;
        gcc_jit_rvalue *sb;
        if (!d || in->rm > 2)
            return 0;
        sb = in->rm == 0 ? ops[1]
           : in->rm == 1 ? gcc_jit_context_new_unary_op(g->c, NULL, GCC_JIT_UNARY_OP_BITWISE_NEGATE,
                                                        g->u64, ops[1])
                         : bin(g, GCC_JIT_BINARY_OP_BITWISE_XOR, g->u64, ops[0], ops[1]);
        v = bin(g, GCC_JIT_BINARY_OP_BITWISE_OR, g->u64,
                bin(g, GCC_JIT_BINARY_OP_BITWISE_AND, g->u64, ops[0], k64(g, ~m)),
                bin(g, GCC_JIT_BINARY_OP_BITWISE_AND, g->u64, sb, k64(g, m)));
        if (g->fs_dirty_known) {
            assign(g, freg(g, in->rd), v);
        } else {
            assign(g, g->fres, v);
            fp_commit(g, in, fs_is_dirty(g));
        }
        return 1;
    }
    switch (in->fop) {
    case 0x00: op = GCC_JIT_BINARY_OP_PLUS; break;
    case 0x04: op = GCC_JIT_BINARY_OP_MINUS; break;
    case 0x08: op = GCC_JIT_BINARY_OP_MULT; break;
    case 0x0c: case 0x2c: op = GCC_JIT_BINARY_OP_DIVIDE; break;
    default: return 0;
    }
    if (in->rm != RV_RM_RNE && in->rm != 7)
        return 0;
    /* sqrt: rs2 is not an operand */
    ok = fp_ok(g, in, d, ops, in->fop == 0x2c ? 1 : 2);
    if (in->fop == 0x2c) {
        gcc_jit_function *sq = gcc_jit_context_get_builtin_function(
            g->c, d ? "__builtin_sqrt" : "__builtin_sqrtf");
        gcc_jit_rvalue *a = fp_val(g, d, ops[0]);
        r = gcc_jit_context_new_call(g->c, NULL, sq, 1, &a);
    } else {
        r = bin(g, op, d ? g->dbl : g->flt, fp_val(g, d, ops[0]), fp_val(g, d, ops[1]));
    }
    fp_commit(g, in, fp_result(g, d, r, ok));
    return 1;
}

/* One instruction; g->cur becomes NULL once the block has ended. */
static void gen_insn(struct gen *g, const struct rv_insn *in)
{
    gcc_jit_rvalue *v;

    switch (in->op) {
    case RV_OP_NOP: case RV_OP_FENCE:
        return;
    case RV_OP_END:
        go_to(g, 1, rel(g, 0), NULL, 1);
        return;
    case RV_OP_ILLEGAL:
        helper_op(g, RT_RAISE_ILLEGAL, 1);
        return;
    case RV_OP_JAL:
        set_reg(g, in->rd, pc_plus(g, in->len));
        go_to(g, 1, rel(g, in->imm), NULL, 0);
        return;
    case RV_OP_JALR:
        /* target before the link write: rd may be rs1 */
        assign(g, g->va, bin(g, GCC_JIT_BINARY_OP_BITWISE_AND, g->u64,
                             bin(g, GCC_JIT_BINARY_OP_PLUS, g->u64, reg(g, in->rs1),
                                 k64(g, (uint64_t)(int64_t)in->imm)), k64(g, ~1ull)));
        set_reg(g, in->rd, pc_plus(g, in->len));
        go_to(g, 0, 0, rv(g->va), 0);
        return;
    case RV_OP_BEQ: case RV_OP_BNE: case RV_OP_BLT: case RV_OP_BGE: case RV_OP_BLTU:
    case RV_OP_BGEU:
        gen_branch(g, in);
        return;
    case RV_OP_FP_S: case RV_OP_FP_D: case RV_OP_FMA_S: case RV_OP_FMA_D:
        if (!fp_inline(g, in))
            helper_op(g, RT_EXEC_FP, 0);
        return;
    case RV_OP_LR_W: case RV_OP_SC_W: case RV_OP_LR_D: case RV_OP_SC_D: case RV_OP_AMO_W:
    case RV_OP_AMO_D:
        helper_op(g, RT_EXEC_AMO, 0);
        return;
    case RV_OP_FENCE_I: case RV_OP_ECALL: case RV_OP_EBREAK: case RV_OP_MRET: case RV_OP_SRET:
    case RV_OP_WFI: case RV_OP_SFENCE_VMA:
        helper_op(g, RT_EXEC_SYSTEM, 1);
        return;
    case RV_OP_CSRRW: case RV_OP_CSRRS: case RV_OP_CSRRC: case RV_OP_CSRRWI: case RV_OP_CSRRSI:
    case RV_OP_CSRRCI:
        helper_op(g, RT_CSR_OP, 1);
        return;
    default:
        break;
    }
    if (rv_op_uses_dtlb(in->op)) {
        gen_mem(g, in);
        return;
    }
    v = alu(g, in);
    if (v && in->rd < 32)
        set_reg(g, in->rd, v);
}

static void init_types(struct gen *g)
{
    gcc_jit_context *c = g->c;

    g->u8 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_UINT8_T);
    g->i8 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_INT8_T);
    g->u16 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_UINT16_T);
    g->i16 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_INT16_T);
    g->u32 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_UINT32_T);
    g->i32 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_INT32_T);
    g->u64 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_UINT64_T);
    g->i64 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_INT64_T);
    g->u128 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_UINT128_T);
    g->i128 = gcc_jit_context_get_type(c, GCC_JIT_TYPE_INT128_T);
    g->vint = gcc_jit_context_get_type(c, GCC_JIT_TYPE_INT);
    g->vvoid = gcc_jit_context_get_type(c, GCC_JIT_TYPE_VOID);
    g->dbl = gcc_jit_context_get_type(c, GCC_JIT_TYPE_DOUBLE);
    g->flt = gcc_jit_context_get_type(c, GCC_JIT_TYPE_FLOAT);
    g->u8p = gcc_jit_type_get_pointer(g->u8);
}

/* registers the region reads or writes */
static uint32_t regs_used(const struct jit_req *r)
{
    uint32_t m = 0;

    for (unsigned i = 0; i < r->n; i++) {
        const struct rv_insn *in = &r->insns[i];
        m |= 1u << (in->rs1 & 31) | 1u << (in->rs2 & 31);
        if (in->rd < 32)
            m |= 1u << in->rd;
    }
    return m & ~1u;
}

static uint32_t regs_written(const struct jit_req *r)
{
    uint32_t m = 0;

    for (unsigned i = 0; i < r->n; i++)
        if (r->insns[i].rd < 32)
            m |= 1u << r->insns[i].rd;
    return m & ~1u;
}

static gcc_jit_lvalue *local(struct gen *g, gcc_jit_type *t, const char *name)
{
    return gcc_jit_function_new_local(g->fn, NULL, t, name);
}

int jit_gen_region(gcc_jit_context *ctx, const struct jit_req *r, const char *name)
{
    gcc_jit_block *labels[JIT_REGION_BLOCKS];
    struct gen g;
    gcc_jit_param *p[4];
    char nm[8];
    int bad;

    if (r->nblk == 0 || r->nblk > JIT_REGION_BLOCKS)
        return -EINVAL;
    memset(&g, 0, sizeof(g));
    g.c = ctx;
    g.r = r;
    g.label = labels;
    init_types(&g);
    p[0] = gcc_jit_context_new_param(ctx, NULL, g.u8p, "h");
    p[1] = gcc_jit_context_new_param(ctx, NULL, g.u64, "bpc");
    p[2] = gcc_jit_context_new_param(ctx, NULL, g.u64, "base");
    p[3] = gcc_jit_context_new_param(ctx, NULL, g.u8p, "R");
    g.fn = gcc_jit_context_new_function(ctx, NULL, GCC_JIT_FUNCTION_EXPORTED, g.vint, name, 4, p, 0);
    g.h = gcc_jit_param_as_rvalue(p[0]);
    g.bpc = gcc_jit_param_as_rvalue(p[1]);
    g.base = gcc_jit_param_as_rvalue(p[2]);
    g.R = gcc_jit_param_as_rvalue(p[3]);
    g.cur = new_block(&g);
    g.written = regs_written(r);
    g.used = regs_used(r);
    {
        for (unsigned i = 1; i <= 32; i++) {
            snprintf(nm, sizeof(nm), "x%u", i);
            g.x[i] = local(&g, g.u64, nm);
            if (i < 32 && (g.used & (1u << i)))
                assign(&g, g.x[i], rv(fld(&g, offsetof(struct rv_hart, x) + 8 * i, g.u64)));
        }
    }
    g.va = local(&g, g.u64, "va");
    g.tmp = local(&g, g.u64, "tmp");
    g.fres = local(&g, g.u64, "fres");
    g.rc = local(&g, g.vint, "rc");
    g.xret = local(&g, g.vint, "xret");
    g.icnt = local(&g, g.u64, "icnt");
    g.nm = local(&g, g.u64, "nm");
    g.chain = local(&g, g.u64, "chain");
    g.iters = local(&g, g.u64, "iters");
    g.tlbl = local(&g, g.u8p, "tlbl");
    g.tlbs = local(&g, g.u8p, "tlbs");
    g.s_pc = local(&g, g.u64, "s_pc");
    g.s_ic = local(&g, g.u64, "s_ic");
    g.s_sl = local(&g, g.u64, "s_sl");
    g.s_val = local(&g, g.u64, "s_val");
    g.s_after = local(&g, g.u64, "s_after");
    g.resume = local(&g, g.vint, "resume");
    tlb_bases_set(&g);
    assign(&g, g.icnt, g.base);
    assign(&g, g.nm, k64(&g, 0));
    assign(&g, g.chain, k64(&g, 0));
    assign(&g, g.iters, k64(&g, 0));
    for (unsigned k = 0; k < r->nblk; k++)
        labels[k] = new_block(&g);
    {
        /* every member is an entry: R->entry says which one this is */
        gcc_jit_lvalue *vb = local(&g, g.u64, "vb");
        gcc_jit_case *cases[JIT_REGION_BLOCKS];
        gcc_jit_block *first = NULL;
        gcc_jit_rvalue *which = cast(&g, rv(at(&g, g.R, k64(&g, offsetof(struct jit_region, entry)),
                                               g.u32)), g.vint);
        g.vb = rv(vb);
        for (unsigned k = 0; k < r->nblk; k++) {
            gcc_jit_block *e = new_block(&g);
            gcc_jit_block_add_assignment(e, NULL, vb,
                                         bin(&g, GCC_JIT_BINARY_OP_MINUS, g.u64, g.bpc,
                                             k64(&g, (uint64_t)(int64_t)r->b[k].delta)));
            gcc_jit_block_end_with_jump(e, NULL, labels[k]);
            cases[k] = gcc_jit_context_new_case(ctx, kint(&g, (int)k), kint(&g, (int)k), e);
            if (!first)
                first = e;
        }
        if (r->nblk == 1) {
            gcc_jit_block_add_assignment(g.cur, NULL, vb, g.bpc);
            gcc_jit_block_end_with_jump(g.cur, NULL, labels[0]);
        } else {
            gcc_jit_block_end_with_switch(g.cur, NULL, which, first, r->nblk, cases);
        }
    }
    for (g.k = 0; g.k < r->nblk; g.k++) {
        const struct jit_rblk *b = &r->b[g.k];
        g.cur = labels[g.k];
        g.fs_dirty_known = 0;
        if (b->nmem)
            add_to(&g, g.nm, k64(&g, b->nmem));
        /* n instructions plus the END sentinel (run only when the block
         * falls off its end) */
        for (g.idx = 0; g.idx <= b->n && g.cur; g.idx++)
            gen_insn(&g, &r->insns[b->first + g.idx]);
        if (g.cur)      /* a block always ends in a jump, a helper or END */
            break;
    }
    bad = g.cur != NULL;
    if (!bad) {
        for (unsigned i = 0; i < 3; i++)
            finish_hub(&g, (enum hub_kind)i);
        finish_tail(&g);
    }
    for (unsigned i = 0; i < 3; i++)
        free(g.hub[i].cases);
    return bad || g.oom ? -EINVAL : 0;
}
