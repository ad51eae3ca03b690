/* Control and status registers: access rules, WARL legalisation and side
 * effects (privileged spec 1.12, chapters 2, 3 and 4). */
#include <string.h>

#include "rv_cpu.h"
#include "rv_csr.h"
#include "rv_helpers.h"

#define MIP_SSIP (1ull << RV_IRQ_SSI)
#define MIP_MSIP (1ull << RV_IRQ_MSI)
#define MIP_STIP (1ull << RV_IRQ_STI)
#define MIP_MTIP (1ull << RV_IRQ_MTI)
#define MIP_SEIP (1ull << RV_IRQ_SEI)
#define MIP_MEIP (1ull << RV_IRQ_MEI)

#define S_INTS (MIP_SSIP | MIP_STIP | MIP_SEIP)
#define ALL_INTS (S_INTS | MIP_MSIP | MIP_MTIP | MIP_MEIP)

/* Writable mstatus bits; MPP is legalised separately, SD is computed. */
#define MSTATUS_WMASK (MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | \
                       MSTATUS_SPP | MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | \
                       MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR)
#define SSTATUS_MASK (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_UBE | MSTATUS_SPP | \
                      MSTATUS_VS | MSTATUS_FS | MSTATUS_XS | MSTATUS_SUM | \
                      MSTATUS_MXR | MSTATUS_UXL | MSTATUS_SD)
#define SSTATUS_WMASK (MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | \
                       MSTATUS_SUM | MSTATUS_MXR)

/* Exceptions that may be delegated to S-mode (ecall from M never). */
#define MEDELEG_MASK ((1ull << RV_EXC_INSN_MISALIGNED) | (1ull << RV_EXC_INSN_ACCESS) | \
                      (1ull << RV_EXC_ILLEGAL) | (1ull << RV_EXC_BREAKPOINT) | \
                      (1ull << RV_EXC_LOAD_MISALIGNED) | (1ull << RV_EXC_LOAD_ACCESS) | \
                      (1ull << RV_EXC_STORE_MISALIGNED) | (1ull << RV_EXC_STORE_ACCESS) | \
                      (1ull << RV_EXC_ECALL_U) | (1ull << RV_EXC_ECALL_S) | \
                      (1ull << RV_EXC_INSN_PAGE) | (1ull << RV_EXC_LOAD_PAGE) | \
                      (1ull << RV_EXC_STORE_PAGE))

#define SATP_MODE_SHIFT 60
#define SATP_ASID_MASK (0xffffull << 44)
#define SATP_PPN_MASK ((1ull << 44) - 1)

#define PMP_A_SHIFT 3
#define PMP_L 0x80

static uint64_t read_mstatus(const struct rv_hart *h)
{
    uint64_t s = h->mstatus;

    if ((s & MSTATUS_FS) == MSTATUS_FS || (s & MSTATUS_XS) == MSTATUS_XS)
        s |= MSTATUS_SD;
    return s;
}

static void write_mstatus(struct rv_hart *h, uint64_t val, uint64_t wmask)
{
    uint64_t old = h->mstatus, s;
    uint64_t mpp = (val & MSTATUS_MPP) >> 11;

    /* MPP is WARL over {U, S, M}: the reserved value 2 keeps the old one */
    if ((wmask & MSTATUS_MPP) && mpp == 2)
        wmask &= ~MSTATUS_MPP;
    s = (old & ~wmask) | (val & wmask);
    h->mstatus = s & ~MSTATUS_SD;
    /* MXR changes what a cached load translation allows; MPRV/MPP/SUM
     * only change which MMU index data accesses use. */
    if ((old ^ s) & MSTATUS_MXR)
        rv_tlb_flush_all(h);
    rv_update_mmu_idx(h);
}

static int counter_allowed(const struct rv_hart *h, unsigned idx)
{
    if (h->priv < RV_PRIV_M && !((h->mcounteren >> idx) & 1))
        return 0;
    if (h->priv < RV_PRIV_S && !((h->scounteren >> idx) & 1))
        return 0;
    return 1;
}

static uint64_t pmp_range_napot_size(uint64_t addr)
{
    /* trailing ones of pmpaddr give the NAPOT size: 2^(ones+3) bytes */
    unsigned ones = (unsigned)__builtin_ctzll(~addr);
    return ones >= 61 ? 0 : (8ull << ones);
}

/* Region [lo, hi) of PMP entry i, or 0 when the entry is off. */
int rv_pmp_region(const struct rv_hart *h, unsigned i, uint64_t *lo, uint64_t *hi)
{
    unsigned a = (h->pmpcfg[i] >> PMP_A_SHIFT) & 3;
    uint64_t addr = h->pmpaddr[i];

    switch (a) {
    case 1:     /* TOR */
        *lo = i ? h->pmpaddr[i - 1] << 2 : 0;
        *hi = addr << 2;
        return *lo < *hi;
    case 2:     /* NA4 */
        *lo = addr << 2;
        *hi = *lo + 4;
        return 1;
    case 3: {   /* NAPOT */
        uint64_t size = pmp_range_napot_size(addr);
        if (size == 0) {
            *lo = 0;
            *hi = ~0ull;
        } else {
            *lo = (addr << 2) & ~(size - 1);
            *hi = *lo + size;
        }
        return 1;
    }
    default:
        return 0;
    }
}

static int pmp_locked(const struct rv_hart *h, unsigned i)
{
    if (h->pmpcfg[i] & PMP_L)
        return 1;
    /* a locked TOR entry also locks the address below it */
    if (i + 1 < 16 && (h->pmpcfg[i + 1] & PMP_L) &&
        ((h->pmpcfg[i + 1] >> PMP_A_SHIFT) & 3) == 1)
        return 1;
    return 0;
}

static void write_pmpcfg(struct rv_hart *h, unsigned reg, uint64_t val)
{
    for (unsigned b = 0; b < 8; b++) {
        unsigned i = reg * 4 + b;     /* reg is the even pmpcfg number */
        uint8_t c = (uint8_t)(val >> (8 * b));
        if (i >= 16 || (h->pmpcfg[i] & PMP_L))
            continue;
        c &= 0x9f;                      /* bits 6:5 are reserved zero */
        if ((c & 3) == 2)               /* W without R is reserved */
            c &= ~2u;
        h->pmpcfg[i] = c;
    }
    rv_tlb_flush_all(h);
}

static uint64_t read_pmpcfg(const struct rv_hart *h, unsigned reg)
{
    uint64_t v = 0;

    for (unsigned b = 0; b < 8; b++) {
        unsigned i = reg * 4 + b;
        if (i < 16)
            v |= (uint64_t)h->pmpcfg[i] << (8 * b);
    }
    return v;
}

static int fp_csr_ok(const struct rv_hart *h)
{
    return (h->mstatus & MSTATUS_FS) != 0;
}

int rv_csr_read(struct rv_hart *h, unsigned csr, uint64_t *val)
{
    if (((csr >> 8) & 3) > h->priv)
        return -1;
    switch (csr) {
    case CSR_FFLAGS:
        if (!fp_csr_ok(h))
            return -1;
        *val = h->fflags;
        return 0;
    case CSR_FRM:
        if (!fp_csr_ok(h))
            return -1;
        *val = h->frm;
        return 0;
    case CSR_FCSR:
        if (!fp_csr_ok(h))
            return -1;
        *val = (h->frm << 5) | h->fflags;
        return 0;
    case CSR_CYCLE:
        if (!counter_allowed(h, 0))
            return -1;
        *val = h->instret + h->mcycle_off;
        return 0;
    case CSR_TIME:
        if (!counter_allowed(h, 1))
            return -1;
        *val = h->env.get_time ? h->env.get_time(h->env.opaque) : 0;
        return 0;
    case CSR_INSTRET:
        if (!counter_allowed(h, 2))
            return -1;
        *val = h->instret + h->minstret_off;
        return 0;
    case CSR_SSTATUS:
        *val = read_mstatus(h) & SSTATUS_MASK;
        return 0;
    case CSR_SIE:
        *val = h->mie & h->mideleg;
        return 0;
    case CSR_STVEC: *val = h->stvec; return 0;
    case CSR_SCOUNTEREN: *val = h->scounteren; return 0;
    case CSR_SENVCFG: *val = h->senvcfg; return 0;
    case CSR_SSCRATCH: *val = h->sscratch; return 0;
    case CSR_SEPC: *val = h->sepc; return 0;
    case CSR_SCAUSE: *val = h->scause; return 0;
    case CSR_STVAL: *val = h->stval; return 0;
    case CSR_SIP:
        *val = (atomic_load(&h->mip) | h->mip_sw) & h->mideleg;
        return 0;
    case CSR_SATP:
        if (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_TVM))
            return -1;
        *val = h->satp;
        return 0;
    case CSR_MVENDORID: case CSR_MARCHID: case CSR_MCONFIGPTR:
        *val = 0;
        return 0;
    case CSR_MIMPID:
        *val = 0x00010000;      /* glassbox 0.1 */
        return 0;
    case CSR_MHARTID: *val = h->mhartid; return 0;
    case CSR_MSTATUS: *val = read_mstatus(h); return 0;
    case CSR_MISA: *val = h->misa; return 0;
    case CSR_MEDELEG: *val = h->medeleg; return 0;
    case CSR_MIDELEG: *val = h->mideleg; return 0;
    case CSR_MIE: *val = h->mie; return 0;
    case CSR_MTVEC: *val = h->mtvec; return 0;
    case CSR_MCOUNTEREN: *val = h->mcounteren; return 0;
    case CSR_MENVCFG: *val = h->menvcfg; return 0;
    case CSR_MCOUNTINHIBIT: *val = 0; return 0;
    case CSR_MSCRATCH: *val = h->mscratch; return 0;
    case CSR_MEPC: *val = h->mepc; return 0;
    case CSR_MCAUSE: *val = h->mcause; return 0;
    case CSR_MTVAL: *val = h->mtval; return 0;
    case CSR_MIP:
        *val = atomic_load(&h->mip) | h->mip_sw;
        return 0;
    case CSR_MCYCLE: *val = h->instret + h->mcycle_off; return 0;
    case CSR_MINSTRET: *val = h->instret + h->minstret_off; return 0;
    }
    if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG0 + 15) {
        if (csr & 1)
            return -1;          /* odd pmpcfg registers do not exist on RV64 */
        *val = read_pmpcfg(h, csr - CSR_PMPCFG0);
        return 0;
    }
    if (csr >= CSR_PMPADDR0 && csr < CSR_PMPADDR0 + 64) {
        unsigned i = csr - CSR_PMPADDR0;
        *val = i < 16 ? h->pmpaddr[i] : 0;
        return 0;
    }
    /* hpmcounters exist and read zero */
    if (csr >= CSR_HPMCOUNTER3 && csr <= CSR_HPMCOUNTER31) {
        if (!counter_allowed(h, csr - CSR_CYCLE))
            return -1;
        *val = 0;
        return 0;
    }
    if ((csr >= CSR_MHPMCOUNTER3 && csr <= CSR_MHPMCOUNTER31) ||
        (csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31)) {
        *val = 0;
        return 0;
    }
    return -1;
}

/* Write side; returns -1 for an illegal access. */
int rv_csr_write(struct rv_hart *h, unsigned csr, uint64_t val)
{
    if (((csr >> 10) & 3) == 3 || ((csr >> 8) & 3) > h->priv)
        return -1;
    switch (csr) {
    case CSR_FFLAGS:
        if (!fp_csr_ok(h))
            return -1;
        h->fflags = val & 0x1f;
        rv_fs_dirty(h);
        return 0;
    case CSR_FRM:
        if (!fp_csr_ok(h))
            return -1;
        h->frm = val & 7;
        rv_fs_dirty(h);
        return 0;
    case CSR_FCSR:
        if (!fp_csr_ok(h))
            return -1;
        h->fflags = val & 0x1f;
        h->frm = (val >> 5) & 7;
        rv_fs_dirty(h);
        return 0;
    case CSR_SSTATUS:
        write_mstatus(h, val, SSTATUS_WMASK);
        return 0;
    case CSR_SIE:
        h->mie = (h->mie & ~h->mideleg) | (val & h->mideleg & S_INTS);
        return 0;
    case CSR_STVEC:
        h->stvec = (val & 3) >= 2 ? (val & ~3ull) | (h->stvec & 3) : val;
        return 0;
    case CSR_SCOUNTEREN: h->scounteren = val & 0xffffffff; return 0;
    case CSR_SENVCFG: h->senvcfg = val & 1; return 0;
    case CSR_SSCRATCH: h->sscratch = val; return 0;
    case CSR_SEPC: h->sepc = val & ~1ull; return 0;
    case CSR_SCAUSE: h->scause = val; return 0;
    case CSR_STVAL: h->stval = val; return 0;
    case CSR_SIP:
        /* only SSIP is writable through sip, and only when delegated */
        if (h->mideleg & MIP_SSIP) {
            if (val & MIP_SSIP)
                atomic_fetch_or(&h->mip, MIP_SSIP);
            else
                atomic_fetch_and(&h->mip, ~MIP_SSIP);
        }
        return 0;
    case CSR_SATP: {
        uint64_t mode = val >> SATP_MODE_SHIFT;
        if (h->priv == RV_PRIV_S && (h->mstatus & MSTATUS_TVM))
            return -1;
        /* an unsupported mode makes the whole write have no effect */
        if (mode != 0 && mode != 8 && mode != 9)
            return 0;
        h->satp = val & ((0xfull << SATP_MODE_SHIFT) | SATP_ASID_MASK | SATP_PPN_MASK);
        rv_tlb_flush_all(h);
        return 0;
    }
    case CSR_MSTATUS:
        write_mstatus(h, val, MSTATUS_WMASK | MSTATUS_MPP);
        return 0;
    case CSR_MISA:
        return 0;               /* read-only: extensions cannot be turned off */
    case CSR_MEDELEG: h->medeleg = val & MEDELEG_MASK; return 0;
    case CSR_MIDELEG: h->mideleg = val & S_INTS; return 0;
    case CSR_MIE: h->mie = val & ALL_INTS; return 0;
    case CSR_MTVEC:
        h->mtvec = (val & 3) >= 2 ? (val & ~3ull) | (h->mtvec & 3) : val;
        return 0;
    case CSR_MCOUNTEREN: h->mcounteren = val & 0xffffffff; return 0;
    case CSR_MENVCFG: h->menvcfg = val & 1; return 0;
    case CSR_MCOUNTINHIBIT: return 0;
    case CSR_MSCRATCH: h->mscratch = val; return 0;
    case CSR_MEPC: h->mepc = val & ~1ull; return 0;
    case CSR_MCAUSE: h->mcause = val; return 0;
    case CSR_MTVAL: h->mtval = val; return 0;
    case CSR_MIP: {
        /* SSIP and STIP live in mip; software SEIP is ORed with the PLIC's */
        uint64_t set = val & (MIP_SSIP | MIP_STIP), clr = ~val & (MIP_SSIP | MIP_STIP);
        atomic_fetch_or(&h->mip, set);
        atomic_fetch_and(&h->mip, ~clr);
        h->mip_sw = val & MIP_SEIP;
        return 0;
    }
    /* The counters are offsets from the hart's own retired count, which
     * the guest cannot change (budgets and --max-insns rely on it). The
     * "+ 1" accounts for this instruction: a write replaces its increment. */
    case CSR_MCYCLE:
        h->mcycle_off = val - (h->instret + 1);
        return 0;
    case CSR_MINSTRET:
        h->minstret_off = val - (h->instret + 1);
        return 0;
    }
    if (csr >= CSR_PMPCFG0 && csr <= CSR_PMPCFG0 + 15) {
        if (csr & 1)
            return -1;
        write_pmpcfg(h, csr - CSR_PMPCFG0, val);
        return 0;
    }
    if (csr >= CSR_PMPADDR0 && csr < CSR_PMPADDR0 + 64) {
        unsigned i = csr - CSR_PMPADDR0;
        if (i < 16 && !pmp_locked(h, i)) {
            h->pmpaddr[i] = val & ((1ull << 54) - 1);
            rv_tlb_flush_all(h);
        }
        return 0;
    }
    if ((csr >= CSR_MHPMCOUNTER3 && csr <= CSR_MHPMCOUNTER31) ||
        (csr >= CSR_MHPMEVENT3 && csr <= CSR_MHPMEVENT31))
        return 0;               /* hardwired to zero */
    return -1;
}

int rv_csr_op(struct rv_hart *h, const struct rv_insn *in)
{
    unsigned csr = (unsigned)in->imm & 0xfff;
    int imm_form = in->op >= RV_OP_CSRRWI;
    uint64_t src = imm_form ? in->rs1 : h->x[in->rs1];
    int is_write = in->op == RV_OP_CSRRW || in->op == RV_OP_CSRRWI || in->rs1 != 0;
    int do_read = !((in->op == RV_OP_CSRRW || in->op == RV_OP_CSRRWI) && in->rd == 0);
    uint64_t old = 0, nv;

    if (do_read || !is_write) {
        if (rv_csr_read(h, csr, &old) < 0)
            goto illegal;
    } else if (((csr >> 8) & 3) > h->priv) {
        goto illegal;
    }
    if (is_write) {
        /* a read-modify-write of mip starts from the software-writable
         * SEIP only, not its OR with the PLIC's line (3.1.9) */
        uint64_t base = csr == CSR_MIP ? (old & ~MIP_SEIP) | h->mip_sw : old;
        switch (in->op) {
        case RV_OP_CSRRW: case RV_OP_CSRRWI: nv = src; break;
        case RV_OP_CSRRS: case RV_OP_CSRRSI: nv = base | src; break;
        default: nv = base & ~src; break;
        }
        if (rv_csr_write(h, csr, nv) < 0)
            goto illegal;
    }
    if (in->rd)
        h->x[in->rd] = old;
    h->pc += in->len;
    h->instret++;
    return RV_DONE;

illegal:
    rv_raise(h, RV_EXC_ILLEGAL, rv_fetch_raw(h, h->pc, in->len));
    return RV_TRAP;
}
