/* Traps, interrupts, privileged instructions and hart lifecycle.
 * Trap entry and xRET follow the privileged spec 1.12, section 3.1.6
 * (M) and 4.1.1 (S); interrupt priority is MEI, MSI, MTI, SEI, SSI, STI,
 * with interrupts for M-mode taken before those delegated to S-mode. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rv_cpu.h"
#include "rv_helpers.h"

static const char *exc_name(uint64_t cause)
{
    static const char *const names[16] = {
        "instruction address misaligned", "instruction access fault",
        "illegal instruction", "breakpoint", "load address misaligned",
        "load access fault", "store/AMO address misaligned", "store/AMO access fault",
        "environment call from U-mode", "environment call from S-mode", "reserved",
        "environment call from M-mode", "instruction page fault", "load page fault",
        "reserved", "store/AMO page fault",
    };
    if (cause >> 63) {
        switch (cause & 0xff) {
        case RV_IRQ_SSI: return "supervisor software interrupt";
        case RV_IRQ_MSI: return "machine software interrupt";
        case RV_IRQ_STI: return "supervisor timer interrupt";
        case RV_IRQ_MTI: return "machine timer interrupt";
        case RV_IRQ_SEI: return "supervisor external interrupt";
        case RV_IRQ_MEI: return "machine external interrupt";
        default: return "interrupt";
        }
    }
    return cause < 16 ? names[cause] : "unknown";
}

void rv_update_mmu_idx(struct rv_hart *h)
{
    unsigned p = rv_data_priv(h);

    if (p == RV_PRIV_M)
        h->mmu_idx_data = RV_MMU_M;
    else if (p == RV_PRIV_S)
        h->mmu_idx_data = (h->mstatus & MSTATUS_SUM) ? RV_MMU_S_SUM : RV_MMU_S;
    else
        h->mmu_idx_data = RV_MMU_U;
}

unsigned rv_data_priv(const struct rv_hart *h)
{
    if (h->priv == RV_PRIV_M && (h->mstatus & MSTATUS_MPRV))
        return (h->mstatus & MSTATUS_MPP) >> 11;
    return h->priv;
}

static uint64_t trap_target(uint64_t tvec, uint64_t cause)
{
    uint64_t base = tvec & ~3ull;

    if ((tvec & 3) == 1 && (cause >> 63))
        return base + 4 * (cause & 0x3f);
    return base;
}

void rv_raise(struct rv_hart *h, uint64_t cause, uint64_t tval)
{
    int irq = (int)(cause >> 63);
    unsigned code = (unsigned)(cause & 0x3f);
    uint64_t deleg = irq ? h->mideleg : h->medeleg;

    h->traps++;
    if (irq)
        h->ctr.interrupts[code & 15]++;
    else
        h->ctr.exceptions[code & 15]++;

    if (h->priv <= RV_PRIV_S && ((deleg >> code) & 1)) {
        uint64_t s = h->mstatus;
        /* see the M-mode case below; S can still be rescued by an M-level
         * interrupt, so only when none is enabled */
        int again = !irq && h->priv == RV_PRIV_S && h->scause == cause &&
                    h->sepc == h->pc && h->stval == tval && !(h->mie & ~h->mideleg) &&
                    trap_target(h->stvec, cause) == h->pc;
        h->scause = cause;
        h->sepc = h->pc;
        h->stval = tval;
        s = (s & ~MSTATUS_SPP) | ((uint64_t)h->priv << 8);
        s = (s & ~MSTATUS_SPIE) | ((s & MSTATUS_SIE) ? MSTATUS_SPIE : 0);
        s &= ~MSTATUS_SIE;
        again = again && h->mstatus == s;
        h->mstatus = s;
        h->priv = RV_PRIV_S;
        h->pc = trap_target(h->stvec, cause);
        if (again) {
            snprintf(h->fatal_msg, sizeof(h->fatal_msg),
                     "no usable trap handler (stvec=0x%" PRIx64 "): the handler itself "
                     "raises %s at pc 0x%" PRIx64 ", tval 0x%" PRIx64,
                     h->stvec, exc_name(cause), h->pc, tval);
            h->fatal = 1;
        }
    } else {
        uint64_t s = h->mstatus;
        uint64_t from_pc = h->pc;
        /* A synchronous trap taken in M at the handler's own address, with
         * mcause/mepc/mtval/mstatus already holding exactly what this trap
         * writes, leaves the hart in the state it was in: with MIE = 0 no
         * interrupt can intervene, so it would repeat forever without
         * retiring an instruction (and --max-insns could never stop it). */
        int again = !irq && h->priv == RV_PRIV_M && h->mcause == cause &&
                    h->mepc == from_pc && h->mtval == tval;
        h->mcause = cause;
        h->mepc = from_pc;
        h->mtval = tval;
        s = (s & ~MSTATUS_MPP) | ((uint64_t)h->priv << 11);
        s = (s & ~MSTATUS_MPIE) | ((s & MSTATUS_MIE) ? MSTATUS_MPIE : 0);
        s &= ~MSTATUS_MIE;
        again = again && h->mstatus == s;
        h->mstatus = s;
        h->priv = RV_PRIV_M;
        h->pc = trap_target(h->mtvec, cause);
        /* M-mode fetches are physical: a handler outside RAM can never
         * run, and the guest would loop on fetch faults forever. */
        if (!rv_ram_ptr(h, h->pc, 2)) {
            snprintf(h->fatal_msg, sizeof(h->fatal_msg),
                     "no usable trap handler (mtvec=0x%" PRIx64 "): %s at pc 0x%" PRIx64
                     ", tval 0x%" PRIx64, h->mtvec, exc_name(cause), from_pc, tval);
            h->fatal = 1;
        } else if (again && h->pc == from_pc) {
            snprintf(h->fatal_msg, sizeof(h->fatal_msg),
                     "no usable trap handler (mtvec=0x%" PRIx64 "): the handler itself "
                     "raises %s at pc 0x%" PRIx64 ", tval 0x%" PRIx64,
                     h->mtvec, exc_name(cause), from_pc, tval);
            h->fatal = 1;
        }
    }
    rv_update_mmu_idx(h);
}

const char *rv_cause_name(uint64_t cause)
{
    return exc_name(cause);
}

int rv_check_interrupts(struct rv_hart *h)
{
    static const unsigned order[] = {
        RV_IRQ_MEI, RV_IRQ_MSI, RV_IRQ_MTI, RV_IRQ_SEI, RV_IRQ_SSI, RV_IRQ_STI,
    };
    uint64_t pending = (atomic_load_explicit(&h->mip, memory_order_relaxed) | h->mip_sw) & h->mie;
    uint64_t m_pend = pending & ~h->mideleg, s_pend = pending & h->mideleg;
    uint64_t take = 0;

    if (h->priv < RV_PRIV_M || (h->mstatus & MSTATUS_MIE))
        take = m_pend;
    if (!take && (h->priv < RV_PRIV_S || (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_SIE))))
        take = s_pend;
    if (!take)
        return 0;
    for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (take & (1ull << order[i])) {
            rv_raise(h, (1ull << 63) | order[i], 0);
            return 1;
        }
    }
    return 0;
}

/* WFI: sleep until an interrupt enabled in mie is pending (whatever the
 * global enables say), the timer fires, or another thread asks. */
static void wfi_wait(struct rv_hart *h)
{
    struct timespec t0, t1;

    h->ctr.wfi_count++;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        /* idle time accrues while waiting, so a hart parked in WFI for
         * good still shows as idle */
        clock_gettime(CLOCK_MONOTONIC, &t1);
        h->ctr.wfi_ns += (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000ll +
                                    (t1.tv_nsec - t0.tv_nsec));
        t0 = t1;
        uint64_t now, cmp, wait_ticks;
        struct timespec ts;

        if (h->env.poll_timer)
            h->env.poll_timer(h->env.opaque, (unsigned)h->mhartid);
        if ((atomic_load(&h->mip) | h->mip_sw) & h->mie)
            break;
        if (atomic_load(&h->req) || h->fatal)
            break;
        /* nothing can wake an idle hart without interrupts enabled but a
         * request; poll for those at a relaxed rate */
        wait_ticks = 100000;    /* 10 ms at 10 MHz */
        if (h->env.get_time && h->env.next_timer && (h->mie & (1ull << RV_IRQ_MTI))) {
            now = h->env.get_time(h->env.opaque);
            cmp = h->env.next_timer(h->env.opaque, (unsigned)h->mhartid);
            if (cmp > now && cmp - now < wait_ticks)
                wait_ticks = cmp - now;
            else if (cmp <= now)
                wait_ticks = 0;
        }
        if (wait_ticks == 0)
            continue;
        ts.tv_sec = 0;
        ts.tv_nsec = (long)(wait_ticks * 100);
        rv_hart_idle_wait(h, &ts);
    }
}

static void retire_next(struct rv_hart *h, const struct rv_insn *in)
{
    h->pc += in->len;
    h->instret++;
}

static int illegal_insn(struct rv_hart *h, const struct rv_insn *in)
{
    rv_raise(h, RV_EXC_ILLEGAL, rv_fetch_raw(h, h->pc, in->len));
    return RV_TRAP;
}

int rv_exec_system(struct rv_hart *h, const struct rv_insn *in)
{
    uint64_t s = h->mstatus;

    switch (in->op) {
    case RV_OP_ECALL:
        rv_raise(h, h->priv == RV_PRIV_U ? RV_EXC_ECALL_U :
                    h->priv == RV_PRIV_S ? RV_EXC_ECALL_S : RV_EXC_ECALL_M, 0);
        return RV_TRAP;
    case RV_OP_EBREAK:
        /* mtval 0, as QEMU does (the spec allows 0 or the pc) */
        rv_raise(h, RV_EXC_BREAKPOINT, 0);
        return RV_TRAP;
    case RV_OP_MRET: {
        unsigned mpp;
        if (h->priv != RV_PRIV_M)
            return illegal_insn(h, in);
        mpp = (unsigned)((s & MSTATUS_MPP) >> 11);
        s = (s & ~MSTATUS_MIE) | ((s & MSTATUS_MPIE) ? MSTATUS_MIE : 0);
        s |= MSTATUS_MPIE;
        s &= ~MSTATUS_MPP;      /* MPP := U, the least-privileged mode */
        if (mpp != RV_PRIV_M)
            s &= ~MSTATUS_MPRV;
        h->mstatus = s;
        h->priv = (uint8_t)mpp;
        h->pc = h->mepc;
        h->instret++;
        rv_update_mmu_idx(h);
        return RV_DONE;
    }
    case RV_OP_SRET: {
        unsigned spp;
        if (h->priv == RV_PRIV_U || (h->priv == RV_PRIV_S && (s & MSTATUS_TSR)))
            return illegal_insn(h, in);
        spp = (s & MSTATUS_SPP) ? RV_PRIV_S : RV_PRIV_U;
        s = (s & ~MSTATUS_SIE) | ((s & MSTATUS_SPIE) ? MSTATUS_SIE : 0);
        s |= MSTATUS_SPIE;
        s &= ~MSTATUS_SPP;
        s &= ~MSTATUS_MPRV;     /* the new mode is never M */
        h->mstatus = s;
        h->priv = (uint8_t)spp;
        h->pc = h->sepc;
        h->instret++;
        rv_update_mmu_idx(h);
        return RV_DONE;
    }
    case RV_OP_WFI:
        if (h->priv == RV_PRIV_U || (h->priv == RV_PRIV_S && (s & MSTATUS_TW)))
            return illegal_insn(h, in);
        retire_next(h, in);
        if (!((atomic_load(&h->mip) | h->mip_sw) & h->mie))
            wfi_wait(h);
        return RV_DONE;
    case RV_OP_SFENCE_VMA:
        if (h->priv == RV_PRIV_U || (h->priv == RV_PRIV_S && (s & MSTATUS_TVM)))
            return illegal_insn(h, in);
        /* TLB entries carry no ASID, so an ASID-only fence flushes all. */
        if (in->rs1 != 0)
            rv_tlb_flush_page(h, h->x[in->rs1]);
        else
            rv_tlb_flush_all(h);
        retire_next(h, in);
        return RV_DONE;
    case RV_OP_FENCE_I:
        /* Linux runs FENCE.I for every new executable mapping: ~800 times
         * in a boot, and each dropped all decoded and compiled code */
        rv_bc_fence_i(h);
        retire_next(h, in);
        return RV_DONE;
    default:
        return illegal_insn(h, in);
    }
}

/* --- lifecycle ------------------------------------------------------- */

int rv_hart_init(struct rv_hart *h, unsigned hartid, const struct rv_env *env)
{
    memset(h, 0, offsetof(struct rv_hart, env));
    h->env = *env;
    h->mhartid = hartid;
    h->bc = NULL;
    h->trace = NULL;
    h->fatal = 0;
    h->fatal_msg[0] = 0;
    h->jit_start = 0;               /* the machine turns the JIT on */
    h->jit_tier2_work = ~0ull;
    h->jit = NULL;
    atomic_store(&h->jit_ready, 0);
    {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_mutex_init(&h->idle_lock, NULL);
        pthread_cond_init(&h->idle_cond, &ca);
        pthread_condattr_destroy(&ca);
    }
    h->scratch = calloc(1, sizeof(struct rv_block) + 2 * sizeof(struct rv_insn));
    if (!h->scratch)
        return -ENOMEM;
    rv_hart_reset(h, env->ram_base);
    return 0;
}

void rv_hart_destroy(struct rv_hart *h)
{
    free(h->scratch);
    h->scratch = NULL;
    pthread_mutex_destroy(&h->idle_lock);
    pthread_cond_destroy(&h->idle_cond);
}

void rv_hart_reset(struct rv_hart *h, uint64_t pc)
{
    memset(h->x, 0, sizeof(h->x));
    memset(h->f, 0, sizeof(h->f));
    h->pc = pc;
    h->priv = RV_PRIV_M;
    h->instret = 0;
    h->traps = 0;
    h->mcycle_off = h->minstret_off = 0;
    /* UXL = SXL = 64-bit; FS starts Off and firmware turns it on. */
    h->mstatus = (2ull << 32) | (2ull << 34);
    h->misa = (2ull << 62) | (1u << 0) | (1u << 2) | (1u << 3) | (1u << 5) |
              (1u << 8) | (1u << 12) | (1u << 18) | (1u << 20);
    h->medeleg = h->mideleg = h->mie = 0;
    h->mtvec = h->mscratch = h->mepc = h->mcause = h->mtval = 0;
    h->mcounteren = h->menvcfg = 0;
    h->stvec = h->sscratch = h->sepc = h->scause = h->stval = 0;
    h->scounteren = h->senvcfg = h->satp = 0;
    h->mip_sw = 0;
    atomic_store(&h->mip, 0);
    h->fflags = h->frm = 0;
    memset(h->pmpcfg, 0, sizeof(h->pmpcfg));
    memset(h->pmpaddr, 0, sizeof(h->pmpaddr));
    h->resv_addr = ~0ull;
    rv_update_mmu_idx(h);
    h->tlb_nlog = RV_TLB_LOG + 1;   /* nothing is known of the entries: clear all */
    rv_tlb_flush_all(h);
}

void rv_hart_request(struct rv_hart *h, uint32_t bits)
{
    atomic_fetch_or(&h->req, bits);
    atomic_store(&h->run_limit, 0);     /* then the hart's next block boundary looks */
    rv_hart_kick(h);
}

void rv_hart_kick(struct rv_hart *h)
{
    pthread_mutex_lock(&h->idle_lock);
    pthread_cond_broadcast(&h->idle_cond);
    pthread_mutex_unlock(&h->idle_lock);
}

void rv_hart_idle_wait(struct rv_hart *h, const struct timespec *rel)
{
    struct timespec abs;

    clock_gettime(CLOCK_MONOTONIC, &abs);
    abs.tv_sec += rel->tv_sec;
    abs.tv_nsec += rel->tv_nsec;
    if (abs.tv_nsec >= 1000000000) {
        abs.tv_sec++;
        abs.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&h->idle_lock);
    /* re-check under the lock so a kick between the test and the wait
     * is not lost */
    if (!((atomic_load(&h->mip) | h->mip_sw) & h->mie) && !atomic_load(&h->req))
        pthread_cond_timedwait(&h->idle_cond, &h->idle_lock, &abs);
    pthread_mutex_unlock(&h->idle_lock);
}

void rv_hart_set_irq(void *opaque, unsigned irq, int level)
{
    struct rv_hart *h = opaque;
    uint64_t bit = 1ull << irq;

    /* kick only on a rising edge: the CLINT re-asserts MTIP on every poll */
    if (level) {
        if (!(atomic_fetch_or(&h->mip, bit) & bit))
            rv_hart_request(h, RV_REQ_CHECK);   /* seen at the next block boundary; kicks */
    } else {
        atomic_fetch_and(&h->mip, ~bit);
    }
}
