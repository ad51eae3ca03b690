/* Sv39/Sv48 translation, PMP, the software TLB refill and the memory slow
 * paths (misses, MMIO, misaligned accesses, HTIF), plus LR/SC and AMOs.
 *
 * A/D bits: glassbox updates them in hardware (like QEMU), atomically on
 * the PTE, rather than raising a page fault. */
#include <string.h>

#include "rv_cpu.h"
#include "rv_csr.h"
#include "rv_helpers.h"

#define PTE_V (1ull << 0)
#define PTE_R (1ull << 1)
#define PTE_W (1ull << 2)
#define PTE_X (1ull << 3)
#define PTE_U (1ull << 4)
#define PTE_A (1ull << 6)
#define PTE_D (1ull << 7)
#define PTE_PPN_SHIFT 10
#define PTE_PPN_MASK ((1ull << 44) - 1)
#define PTE_RESERVED (0x3ffull << 54)   /* N, PBMT, reserved: none implemented */

static const int page_fault[3] = { RV_EXC_INSN_PAGE, RV_EXC_LOAD_PAGE, RV_EXC_STORE_PAGE };
static const int access_fault[3] = { RV_EXC_INSN_ACCESS, RV_EXC_LOAD_ACCESS, RV_EXC_STORE_ACCESS };

/* --- PMP ---------------------------------------------------------------- */

static int pmp_perm_ok(uint8_t cfg, enum rv_access acc)
{
    static const uint8_t need[3] = { 4, 1, 2 };   /* X, R, W */
    return (cfg & need[acc]) != 0;
}

/* PMP decision for [pa, pa+len): 1 allowed, 0 denied. */
static int pmp_check(const struct rv_hart *h, uint64_t pa, uint64_t len, enum rv_access acc,
                     unsigned priv)
{
    int any = 0;

    for (unsigned i = 0; i < 16; i++) {
        uint64_t lo, hi;
        if (!rv_pmp_region(h, i, &lo, &hi))
            continue;
        any = 1;
        if (pa + len <= lo || pa >= hi)
            continue;
        /* the lowest-numbered entry that matches any byte decides, and it
         * must cover all of them */
        if (pa < lo || pa + len > hi)
            return 0;
        if (priv == RV_PRIV_M && !(h->pmpcfg[i] & 0x80))
            return 1;
        return pmp_perm_ok(h->pmpcfg[i], acc);
    }
    (void)any;
    return priv == RV_PRIV_M;
}

/* --- page walk ---------------------------------------------------------- */

static int ptw_read(struct rv_hart *h, uint64_t pa, uint64_t **pte)
{
    if (!pmp_check(h, pa, 8, RV_ACC_LOAD, RV_PRIV_S))
        return -1;
    *pte = (uint64_t *)rv_ram_ptr(h, pa, 8);
    return *pte ? 0 : -1;
}

/* A superpage translation (see rv_hart.super_base) */
static void note_super(struct rv_hart *h, uint64_t base, uint64_t mask)
{
    for (unsigned i = 0; i < h->nsuper && i < RV_SUPER_MAX; i++)
        if (h->super_base[i] == base && h->super_mask[i] == mask)
            return;
    if (h->nsuper < RV_SUPER_MAX) {
        h->super_base[h->nsuper] = base;
        h->super_mask[h->nsuper] = mask;
    }
    if (h->nsuper <= RV_SUPER_MAX)
        h->nsuper++;
}

int rv_translate(struct rv_hart *h, uint64_t va, enum rv_access acc, unsigned priv, uint64_t *pa)
{
    uint64_t mode = h->satp >> 60;
    int levels, vabits;
    uint64_t a;

    if (priv == RV_PRIV_M || mode == 0) {
        *pa = va;
        return 0;
    }
    levels = mode == 8 ? 3 : 4;
    vabits = 12 + 9 * levels;
    /* bits above the VA width must all equal its top bit */
    if ((int64_t)(va << (64 - vabits)) >> (64 - vabits) != (int64_t)va)
        return page_fault[acc];

    h->ctr.page_walks++;
    a = (h->satp & ((1ull << 44) - 1)) << 12;
    for (int i = levels - 1; i >= 0; i--) {
        uint64_t *ptep, pte, ppn;
        uint64_t vpn = (va >> (12 + 9 * i)) & 0x1ff;

        if (ptw_read(h, a + vpn * 8, &ptep))
            return access_fault[acc];
        pte = __atomic_load_n(ptep, __ATOMIC_RELAXED);
        if (!(pte & PTE_V) || ((pte & PTE_W) && !(pte & PTE_R)) || (pte & PTE_RESERVED))
            return page_fault[acc];
        ppn = (pte >> PTE_PPN_SHIFT) & PTE_PPN_MASK;
        if (!(pte & (PTE_R | PTE_X))) {
            if (i == 0)
                return page_fault[acc];
            a = ppn << 12;
            continue;
        }
        /* leaf: permissions */
        if (priv == RV_PRIV_U && !(pte & PTE_U))
            return page_fault[acc];
        if (priv == RV_PRIV_S && (pte & PTE_U) &&
            (acc == RV_ACC_FETCH || !(h->mstatus & MSTATUS_SUM)))
            return page_fault[acc];
        if (acc == RV_ACC_FETCH && !(pte & PTE_X))
            return page_fault[acc];
        if (acc == RV_ACC_LOAD &&
            !((pte & PTE_R) || ((h->mstatus & MSTATUS_MXR) && (pte & PTE_X))))
            return page_fault[acc];
        if (acc == RV_ACC_STORE && !(pte & PTE_W))
            return page_fault[acc];
        /* a superpage must be aligned to its size */
        if (i > 0 && (ppn & ((1ull << (9 * i)) - 1)))
            return page_fault[acc];
        if (!(pte & PTE_A) || (acc == RV_ACC_STORE && !(pte & PTE_D))) {
            uint64_t npte = pte | PTE_A | (acc == RV_ACC_STORE ? PTE_D : 0);
            if (!pmp_check(h, a + vpn * 8, 8, RV_ACC_STORE, RV_PRIV_S))
                return access_fault[acc];
            /* if the PTE changed under us, walk again from the top */
            if (!__atomic_compare_exchange_n(ptep, &pte, npte, 0, __ATOMIC_SEQ_CST,
                                             __ATOMIC_SEQ_CST))
                return rv_translate(h, va, acc, priv, pa);
            rv_bc_invalidate(h, a + vpn * 8, 8);
        }
        {
            uint64_t mask = (1ull << (12 + 9 * i)) - 1;
            *pa = ((ppn << 12) & ~mask) | (va & mask);
        }
        if (i > 0)
            note_super(h, va & ~((1ull << (12 + 9 * i)) - 1), (1ull << (12 + 9 * i)) - 1);
        return 0;
    }
    return page_fault[acc];
}

/* --- TLB ----------------------------------------------------------------- */

static void tlb_clear(struct rv_tlb_entry *t, size_t n)
{
    /* all-ones tags never match: lookups mask low bits to zero */
    memset(t, 0xff, n * sizeof(*t));
}

static struct rv_tlb_entry *tlb_logged(struct rv_hart *h, uint32_t i)
{
    return (struct rv_tlb_entry *)((uint8_t *)h + h->tlb_log[i]);
}

void rv_tlb_flush_all(struct rv_hart *h)
{
    if (h->tlb_nlog > RV_TLB_LOG) {
        tlb_clear(&h->tlb_load[0][0], RV_MMU_COUNT * RV_TLB_SIZE);
        tlb_clear(&h->tlb_store[0][0], RV_MMU_COUNT * RV_TLB_SIZE);
        tlb_clear(&h->tlb_fetch[0][0], RV_MMU_COUNT * RV_TLB_SIZE);
    } else {
        for (uint32_t i = 0; i < h->tlb_nlog; i++)
            tlb_logged(h, i)->tag = RV_TLB_INVALID;
    }
    h->tlb_nlog = 0;
    /* the jump cache and the block links map virtual pcs, so they go
     * with the translations: both are only used while xlate_gen is
     * unchanged (see rv_cpu.h) */
    h->xlate_gen++;
    memset(h->jc_vpages, 0, sizeof(h->jc_vpages));
    h->nsuper = 0;
    h->ctr.itlb_flushes++;
    h->ctr.dtlb_flushes++;
}

void rv_tlb_flush_page(struct rv_hart *h, uint64_t va)
{
    unsigned slot = (va >> RV_PAGE_SHIFT) & (RV_TLB_SIZE - 1);
    uint64_t tag = va & RV_PAGE_MASK;

    uint64_t bit, *w;

    /* a superpage is cached as many 4 KiB entries; a fence naming one
     * address of it must drop them all */
    for (unsigned i = 0; i < h->nsuper; i++)
        if (i >= RV_SUPER_MAX || (va & ~h->super_mask[i]) == h->super_base[i]) {
            rv_tlb_flush_all(h);
            return;
        }
    for (unsigned m = 0; m < RV_MMU_COUNT; m++) {
        if (h->tlb_load[m][slot].tag == tag)
            h->tlb_load[m][slot].tag = RV_TLB_INVALID;
        if (h->tlb_store[m][slot].tag == tag)
            h->tlb_store[m][slot].tag = RV_TLB_INVALID;
        if (h->tlb_fetch[m][slot].tag == tag)
            h->tlb_fetch[m][slot].tag = RV_TLB_INVALID;
    }
    w = rv_jc_vpage_word(h->jc_vpages, va, &bit);
    if (*w & bit) {
        h->xlate_gen++;
        memset(h->jc_vpages, 0, sizeof(h->jc_vpages));
    }
    h->ctr.itlb_flushes++;
    h->ctr.dtlb_flushes++;
}

void rv_tlb_flush_store(struct rv_hart *h)
{
    const uint32_t lo = (uint32_t)offsetof(struct rv_hart, tlb_store);
    const uint32_t hi = lo + (uint32_t)sizeof(h->tlb_store);

    if (h->tlb_nlog > RV_TLB_LOG) {
        tlb_clear(&h->tlb_store[0][0], RV_MMU_COUNT * RV_TLB_SIZE);
        return;
    }
    for (uint32_t i = 0; i < h->tlb_nlog; i++)
        if (h->tlb_log[i] >= lo && h->tlb_log[i] < hi)
            tlb_logged(h, i)->tag = RV_TLB_INVALID;
}

/* Whole-page PMP check so that a TLB entry never outlives a finer rule. */
static int pmp_page_ok(const struct rv_hart *h, uint64_t pa, enum rv_access acc, unsigned priv)
{
    return pmp_check(h, pa & RV_PAGE_MASK, RV_PAGE_SIZE, acc, priv);
}

static int is_htif_page(const struct rv_hart *h, uint64_t pa)
{
    return h->env.tohost && ((pa ^ h->env.tohost) & RV_PAGE_MASK) == 0;
}

/* Translate + PMP for one data access; raises the fault itself. */
static int data_xlate(struct rv_hart *h, uint64_t va, uint64_t len, enum rv_access acc,
                      uint64_t *pa)
{
    unsigned priv = rv_data_priv(h);
    int cause = rv_translate(h, va, acc, priv, pa);

    if (!cause && !pmp_check(h, *pa, len, acc, priv))
        cause = access_fault[acc];
    if (cause) {
        rv_raise(h, (uint64_t)cause, va);
        return -1;
    }
    return 0;
}

static void tlb_fill(struct rv_hart *h, struct rv_tlb_entry *t, uint64_t va, uint64_t pa,
                     uint8_t *host)
{
    struct rv_tlb_entry *e = &t[(va >> RV_PAGE_SHIFT) & (RV_TLB_SIZE - 1)];

    /* an entry already valid is logged already (or the log overflowed) */
    if (e->tag == RV_TLB_INVALID && h->tlb_nlog <= RV_TLB_LOG) {
        if (h->tlb_nlog < RV_TLB_LOG)
            h->tlb_log[h->tlb_nlog] = (uint32_t)((uint8_t *)e - (uint8_t *)h);
        h->tlb_nlog++;
    }

    e->tag = va & RV_PAGE_MASK;
    e->addend = (uintptr_t)(host - (pa & ~RV_PAGE_MASK)) - (uintptr_t)(va & RV_PAGE_MASK);
}

static uint64_t host_read(const uint8_t *p, unsigned size)
{
    switch (size) {
    case 1: return *p;
    case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
    case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
    default: { uint64_t v; memcpy(&v, p, 8); return v; }
    }
}

static void host_write(uint8_t *p, unsigned size, uint64_t v)
{
    switch (size) {
    case 1: *p = (uint8_t)v; break;
    case 2: { uint16_t x = (uint16_t)v; memcpy(p, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy(p, &x, 4); break; }
    default: memcpy(p, &v, 8); break;
    }
}

/* --- --jit-verify: the store log (struct rv_memlog) ---------------------- */

/* Refuse an access the log cannot undo or replay. */
static int memlog_refuse(struct rv_hart *h)
{
    h->memlog->refused = 1;
    h->fatal = 1;       /* ends the recorded run; jit_verify.c restores it */
    return RV_TRAP;
}

/* Log a store of val to RAM at pa (host p) before it happens; NULL when it
 * must be refused: it could invalidate code or talk to the host (HTIF). */
static struct rv_memlog_entry *memlog_add(struct rv_hart *h, uint64_t pa, const uint8_t *p,
                                          unsigned size, uint64_t val)
{
    struct rv_memlog *l = h->memlog;
    struct rv_memlog_entry *e;

    if (l->n >= RV_MEMLOG_MAX || rv_bc_page_has_code(h, pa) || is_htif_page(h, pa))
        return NULL;
    e = &l->e[l->n++];
    e->pa = pa;
    e->size = size;
    e->old = host_read(p, size);
    e->val = size == 8 ? val : val & ((1ull << (8 * size)) - 1);
    return e;
}

int rv_load_slow(struct rv_hart *h, uint64_t va, unsigned size, uint64_t *val)
{
    uint64_t pa, v;
    uint8_t *host;

    h->ctr.dtlb_misses++;
    if (va & (size - 1)) {
        /* misaligned: assembled byte by byte, each byte translated, so a
         * fault reports the first faulting byte's page */
        uint64_t r = 0;
        for (unsigned i = 0; i < size; i++) {
            if (rv_load_slow(h, va + i, 1, &v))
                return RV_TRAP;
            r |= v << (8 * i);
        }
        *val = r;
        return RV_CONT;
    }
    if (data_xlate(h, va, size, RV_ACC_LOAD, &pa))
        return RV_TRAP;
    host = rv_ram_ptr(h, pa, size);
    if (host) {
        if (pmp_page_ok(h, pa, RV_ACC_LOAD, rv_data_priv(h)))
            tlb_fill(h, h->tlb_load[h->mmu_idx_data], va, pa, host);
        *val = host_read(host, size);
        return RV_CONT;
    }
    if (h->memlog)
        return memlog_refuse(h);    /* device reads may have side effects */
    if (!h->env.bus || bus_read(h->env.bus, pa, size, &v) < 0) {
        rv_raise(h, RV_EXC_LOAD_ACCESS, va);
        return RV_TRAP;
    }
    *val = v;
    return RV_CONT;
}

int rv_store_slow(struct rv_hart *h, uint64_t va, unsigned size, uint64_t val)
{
    uint64_t pa;
    uint8_t *host;

    h->ctr.dtlb_misses++;
    if (va & (size - 1)) {
        int ret = RV_CONT;
        uint64_t pa0;
        /* check every byte's translation first so a fault leaves memory
         * untouched */
        for (unsigned i = 0; i < size; i++)
            if (data_xlate(h, va + i, 1, RV_ACC_STORE, &pa0))
                return RV_TRAP;
        for (unsigned i = 0; i < size; i++) {
            int r = rv_store_slow(h, va + i, 1, val >> (8 * i));
            if (r == RV_TRAP)
                return RV_TRAP;
            if (r == RV_DONE)
                ret = RV_DONE;
        }
        return ret;
    }
    if (data_xlate(h, va, size, RV_ACC_STORE, &pa))
        return RV_TRAP;
    host = rv_ram_ptr(h, pa, size);
    if (host) {
        int ret = RV_CONT;
        if (h->memlog && !memlog_add(h, pa, host, size, val))
            return memlog_refuse(h);
        if (rv_bc_page_has_code(h, pa) && rv_bc_invalidate(h, pa, size))
            ret = RV_DONE;      /* this very block may be stale now */
        host_write(host, size, val);
        if (is_htif_page(h, pa)) {
            if (pa == h->env.tohost && h->env.htif_write) {
                h->env.htif_write(h->env.opaque, host_read(host, 8));
                ret = RV_DONE;
            }
        } else if (!h->memlog && !rv_bc_page_has_code(h, pa) &&
                   pmp_page_ok(h, pa, RV_ACC_STORE, rv_data_priv(h))) {
            tlb_fill(h, h->tlb_store[h->mmu_idx_data], va, pa, host);
        }
        return ret;
    }
    if (h->memlog)
        return memlog_refuse(h);
    if (!h->env.bus || bus_write(h->env.bus, pa, size, val) < 0) {
        rv_raise(h, RV_EXC_STORE_ACCESS, va);
        return RV_TRAP;
    }
    /* end the block: a device write may have asked the hart to stop */
    return RV_DONE;
}

/* Fetch translation for the block cache: guest-physical pc or a raised
 * fault (returns -1). */
int rv_fetch_xlate(struct rv_hart *h, uint64_t va, uint64_t *pa)
{
    struct rv_tlb_entry *t = h->tlb_fetch[h->priv];
    struct rv_tlb_entry *e = &t[(va >> RV_PAGE_SHIFT) & (RV_TLB_SIZE - 1)];
    int cause;
    uint8_t *host;

    h->ctr.itlb_lookups++;
    if (e->tag == (va & RV_PAGE_MASK)) {
        uintptr_t hp = (uintptr_t)(va + e->addend);
        *pa = (uint64_t)(hp - (uintptr_t)h->env.ram) + h->env.ram_base;
        return 0;
    }
    h->ctr.itlb_misses++;
    cause = rv_translate(h, va, RV_ACC_FETCH, h->priv, pa);
    if (!cause && !pmp_check(h, *pa, 2, RV_ACC_FETCH, h->priv))
        cause = RV_EXC_INSN_ACCESS;
    if (!cause && !(host = rv_ram_ptr(h, *pa, 2)))
        cause = RV_EXC_INSN_ACCESS;
    if (cause) {
        rv_raise(h, (uint64_t)cause, va);
        return -1;
    }
    if (pmp_page_ok(h, *pa, RV_ACC_FETCH, h->priv))
        tlb_fill(h, t, va, *pa, host);
    return 0;
}

uint32_t rv_fetch_raw(struct rv_hart *h, uint64_t pc, unsigned len)
{
    uint32_t raw = 0;

    for (unsigned i = 0; i < len; i += 2) {
        uint64_t pa;
        const uint8_t *p;
        if (rv_translate(h, pc + i, RV_ACC_FETCH, h->priv, &pa))
            return 0;
        p = rv_ram_ptr(h, pa, 2);
        if (!p)
            return 0;
        raw |= (uint32_t)(p[0] | (p[1] << 8)) << (8 * i);
    }
    return raw;
}

/* --- A extension -------------------------------------------------------- */

/* An atomic that wrote into a page holding decoded code ends the block. */
static int rv_amo_done(struct rv_hart *h, const struct rv_insn *in)
{
    h->pc += in->len;
    h->instret++;
    return RV_DONE;
}

static uint64_t amo_compute(unsigned f, uint64_t old, uint64_t src, int dbl)
{
    int64_t so = dbl ? (int64_t)old : (int32_t)old;
    int64_t ss = dbl ? (int64_t)src : (int32_t)src;
    uint64_t uo = dbl ? old : (uint32_t)old, us = dbl ? src : (uint32_t)src;

    switch (f) {
    case RV_AMO_SWAP: return src;
    case RV_AMO_ADD: return old + src;
    case RV_AMO_XOR: return old ^ src;
    case RV_AMO_OR: return old | src;
    case RV_AMO_AND: return old & src;
    case RV_AMO_MIN: return so < ss ? old : src;
    case RV_AMO_MAX: return so > ss ? old : src;
    case RV_AMO_MINU: return uo < us ? old : src;
    default: return uo > us ? old : src;    /* MAXU */
    }
}

int rv_exec_amo(struct rv_hart *h, const struct rv_insn *in)
{
    int dbl = in->op == RV_OP_LR_D || in->op == RV_OP_SC_D || in->op == RV_OP_AMO_D;
    unsigned size = dbl ? 8 : 4;
    uint64_t va = h->x[in->rs1], pa;
    int is_lr = in->op == RV_OP_LR_W || in->op == RV_OP_LR_D;
    enum rv_access acc = is_lr ? RV_ACC_LOAD : RV_ACC_STORE;
    uint8_t *host;

    if (va & (size - 1)) {
        rv_raise(h, is_lr ? RV_EXC_LOAD_MISALIGNED : RV_EXC_STORE_MISALIGNED, va);
        return RV_TRAP;
    }
    if (data_xlate(h, va, size, acc, &pa))
        return RV_TRAP;
    host = rv_ram_ptr(h, pa, size);
    if (!host) {
        /* atomics to devices are not supported: access fault */
        rv_raise(h, is_lr ? RV_EXC_LOAD_ACCESS : RV_EXC_STORE_ACCESS, va);
        return RV_TRAP;
    }
    if (is_lr) {
        uint64_t v = dbl ? __atomic_load_n((uint64_t *)host, __ATOMIC_ACQUIRE)
                         : (uint64_t)(int64_t)__atomic_load_n((int32_t *)host, __ATOMIC_ACQUIRE);
        h->resv_addr = pa;
        h->resv_val = v;
        h->x[in->rd] = v;
        return RV_CONT;
    }
    if (in->op == RV_OP_SC_W || in->op == RV_OP_SC_D) {
        int ok = 0;
        struct rv_memlog_entry *e = NULL;
        if (h->memlog && h->resv_addr == pa &&
            !(e = memlog_add(h, pa, host, size, h->x[in->rs2])))
            return memlog_refuse(h);
        if (h->resv_addr == pa) {
            /* succeeds only if memory still holds what LR saw */
            if (dbl) {
                uint64_t exp = h->resv_val;
                ok = __atomic_compare_exchange_n((uint64_t *)host, &exp, h->x[in->rs2], 0,
                                                 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            } else {
                uint32_t exp = (uint32_t)h->resv_val;
                ok = __atomic_compare_exchange_n((uint32_t *)host, &exp, (uint32_t)h->x[in->rs2],
                                                 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
            }
        }
        h->resv_addr = ~0ull;
        if (e && !ok)
            h->memlog->n--;         /* it stored nothing */
        h->x[in->rd] = ok ? 0 : 1;
        if (ok && rv_bc_page_has_code(h, pa) && rv_bc_invalidate(h, pa, size))
            return rv_amo_done(h, in);
        return RV_CONT;
    }
    {
        uint64_t old, nv, src = h->x[in->rs2];
        struct rv_memlog_entry *e = NULL;
        if (h->memlog && !(e = memlog_add(h, pa, host, size, 0)))
            return memlog_refuse(h);
        if (dbl) {
            uint64_t *p = (uint64_t *)host;
            old = __atomic_load_n(p, __ATOMIC_RELAXED);
            do {
                nv = amo_compute(in->rm, old, src, 1);
            } while (!__atomic_compare_exchange_n(p, &old, nv, 1, __ATOMIC_SEQ_CST,
                                                  __ATOMIC_RELAXED));
            h->x[in->rd] = old;
        } else {
            uint32_t *p = (uint32_t *)host, o32 = __atomic_load_n(p, __ATOMIC_RELAXED);
            do {
                nv = amo_compute(in->rm, o32, src, 0);
            } while (!__atomic_compare_exchange_n(p, &o32, (uint32_t)nv, 1, __ATOMIC_SEQ_CST,
                                                  __ATOMIC_RELAXED));
            h->x[in->rd] = (uint64_t)(int64_t)(int32_t)o32;
            old = o32;
        }
        if (e) {
            e->old = old;
            e->val = dbl ? nv : (uint32_t)nv;
        }
        if (rv_bc_page_has_code(h, pa) && rv_bc_invalidate(h, pa, size))
            return rv_amo_done(h, in);
        return RV_CONT;
    }
}
