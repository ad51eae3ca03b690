/*
 * Unit tests for engine/rv_csr.c and engine/rv_trap.c: CSR access rules,
 * WARL legalisation and side effects, trap entry, interrupt selection and
 * the trap-return instructions. Expected values come from the privileged
 * specification 1.12 (chapter/section numbers in the comments), not from
 * glassbox's own output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rv_cpu.h"
#include "rv_csr.h"
#include "rv_insn.h"
#include "hart_fixture.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1ull << 20)
#define CODE (RAM_BASE + 0x1000)      /* where single instructions are placed */

/* mip / mie bits (privileged 3.1.9) */
#define SSI (1ull << 1)
#define MSI (1ull << 3)
#define STI (1ull << 5)
#define MTI (1ull << 7)
#define SEI (1ull << 9)
#define MEI (1ull << 11)
#define IRQ (1ull << 63)

/* mstatus bits (privileged 3.1.6), spelled out here on purpose */
#define S_SIE (1ull << 1)
#define S_MIE (1ull << 3)
#define S_SPIE (1ull << 5)
#define S_UBE (1ull << 6)
#define S_MPIE (1ull << 7)
#define S_SPP (1ull << 8)
#define S_VS (3ull << 9)
#define S_MPP (3ull << 11)
#define S_FS (3ull << 13)
#define S_XS (3ull << 15)
#define S_MPRV (1ull << 17)
#define S_SUM (1ull << 18)
#define S_MXR (1ull << 19)
#define S_TVM (1ull << 20)
#define S_TW (1ull << 21)
#define S_TSR (1ull << 22)
#define S_UXL (3ull << 32)
#define S_SXL (3ull << 34)
#define S_SBE (1ull << 36)
#define S_MBE (1ull << 37)
#define S_SD (1ull << 63)
#define XL64 ((2ull << 32) | (2ull << 34))

struct fixture {
    struct rv_hart *h;
    uint8_t *ram;
};

static uint64_t fake_time(void *opaque)
{
    (void)opaque;
    return 0x123456789ull;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    f->h = test_hart_new(&f->ram, RAM_BASE, RAM_SIZE, fake_time);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;

    test_hart_free(f->h, f->ram);
    free(f);
    return 0;
}

#define H (((struct fixture *)*state)->h)
#define RAM (((struct fixture *)*state)->ram)

/* CSR access at a given privilege, failing the test if it is illegal. */
static uint64_t rd_p(struct rv_hart *h, unsigned priv, unsigned csr)
{
    uint64_t v = 0xdeadbeefdeadbeefull;
    uint8_t saved = h->priv;

    h->priv = (uint8_t)priv;
    if (rv_csr_read(h, csr, &v) != 0)
        fail_msg("read of CSR 0x%03x unexpectedly illegal at priv %u", csr, priv);
    h->priv = saved;
    return v;
}

static void wr_p(struct rv_hart *h, unsigned priv, unsigned csr, uint64_t v)
{
    uint8_t saved = h->priv;

    h->priv = (uint8_t)priv;
    if (rv_csr_write(h, csr, v) != 0)
        fail_msg("write of CSR 0x%03x unexpectedly illegal at priv %u", csr, priv);
    h->priv = saved;
}

/* The same from M-mode (setting up state), leaving h->priv alone. */
static uint64_t rd(struct rv_hart *h, unsigned csr)
{
    return rd_p(h, RV_PRIV_M, csr);
}

static void wr(struct rv_hart *h, unsigned csr, uint64_t v)
{
    wr_p(h, RV_PRIV_M, csr, v);
}

static void put32(uint8_t *ram, uint64_t pa, uint32_t w)
{
    memcpy(ram + (pa - RAM_BASE), &w, 4);
}

/* Execute one SYSTEM instruction placed at CODE through the shared
 * helpers, as the interpreter would. Returns the helper's result. */
static int exec1(struct rv_hart *h, uint8_t *ram, uint32_t raw)
{
    struct rv_insn in;
    enum rv_op op;

    h->pc = CODE;
    put32(ram, CODE, raw);
    op = rv_decode(raw, &in);
    switch (op) {
    case RV_OP_CSRRW: case RV_OP_CSRRS: case RV_OP_CSRRC:
    case RV_OP_CSRRWI: case RV_OP_CSRRSI: case RV_OP_CSRRCI:
        return rv_csr_op(h, &in);
    default:
        return rv_exec_system(h, &in);
    }
}

/* Encoders for CSR instructions and a few others (unprivileged 9.1). */
static uint32_t csr_insn(unsigned f3, unsigned rd_, unsigned rs1, unsigned csr)
{
    return csr << 20 | rs1 << 15 | f3 << 12 | rd_ << 7 | 0x73;
}
#define CSRRW(rd_, csr, rs1) csr_insn(1, rd_, rs1, csr)
#define CSRRS(rd_, csr, rs1) csr_insn(2, rd_, rs1, csr)
#define CSRRC(rd_, csr, rs1) csr_insn(3, rd_, rs1, csr)
#define CSRRWI(rd_, csr, z) csr_insn(5, rd_, z, csr)
#define CSRRSI(rd_, csr, z) csr_insn(6, rd_, z, csr)
#define CSRRCI(rd_, csr, z) csr_insn(7, rd_, z, csr)
#define ECALL 0x00000073u
#define EBREAK 0x00100073u
#define SRET 0x10200073u
#define MRET 0x30200073u
#define WFI 0x10500073u
#define SFENCE_VMA(rs1, rs2) (0x12000073u | (rs2) << 20 | (rs1) << 15)

/* Run an instruction expected to be illegal: mcause 2, mepc = its pc,
 * mtval = its bits (glassbox reports the instruction bits, which 3.1.16
 * allows), and the hart now in M at mtvec. */
static void expect_illegal(struct rv_hart *h, uint8_t *ram, uint32_t raw)
{
    unsigned priv = h->priv;
    uint64_t instret = h->instret;

    h->mtvec = RAM_BASE + 0x100;
    h->medeleg = 0;
    if (exec1(h, ram, raw) != 1)
        fail_msg("0x%08x at priv %u: helper did not report a trap", raw, priv);
    if (h->mcause != 2 || h->mepc != CODE || h->mtval != raw || h->priv != 3 ||
        h->pc != RAM_BASE + 0x100)
        fail_msg("0x%08x at priv %u: mcause %llu mepc 0x%llx mtval 0x%llx priv %u pc 0x%llx", raw,
                 priv, (unsigned long long)h->mcause, (unsigned long long)h->mepc,
                 (unsigned long long)h->mtval, h->priv, (unsigned long long)h->pc);
    assert_int_equal(h->instret, instret);      /* not retired */
    h->priv = (uint8_t)priv;
}

static void expect_ok(struct rv_hart *h, uint8_t *ram, uint32_t raw)
{
    unsigned priv = h->priv;
    uint64_t instret = h->instret;
    int r = exec1(h, ram, raw);

    if (r == 1)
        fail_msg("0x%08x at priv %u trapped: mcause %llu", raw, priv,
                 (unsigned long long)h->mcause);
    assert_int_equal(h->instret, instret + 1);
}

/* ---- mstatus / sstatus ---------------------------------------------------- */

static void test_mstatus_reset_and_mask(void **state)
{
    struct rv_hart *h = H;
    uint64_t all;

    /* reset: M-mode, MIE = MPRV = 0 (3.4), 64-bit UXL/SXL, FS Off here */
    assert_int_equal(h->priv, RV_PRIV_M);
    assert_int_equal(rd(h, CSR_MSTATUS) & (S_MIE | S_MPRV), 0);
    assert_int_equal(rd(h, CSR_MSTATUS) & (S_UXL | S_SXL), XL64);

    wr(h, CSR_MSTATUS, ~0ull);
    all = S_SIE | S_MIE | S_SPIE | S_MPIE | S_SPP | S_MPP | S_FS | S_MPRV | S_SUM | S_MXR |
          S_TVM | S_TW | S_TSR | XL64 | S_SD;
    /* no V (VS=0), no custom extension state (XS=0), little-endian only
     * (UBE/SBE/MBE=0), UXL/SXL read-only 64-bit */
    assert_int_equal(rd(h, CSR_MSTATUS), all);
    wr(h, CSR_MSTATUS, 0);
    assert_int_equal(rd(h, CSR_MSTATUS), XL64);
    /* UXL/SXL cannot be changed to 32-bit */
    wr(h, CSR_MSTATUS, (1ull << 32) | (1ull << 34));
    assert_int_equal(rd(h, CSR_MSTATUS) & (S_UXL | S_SXL), XL64);
}

static void test_mstatus_mpp_warl(void **state)
{
    struct rv_hart *h = H;

    for (uint64_t v = 0; v < 4; v++) {
        wr(h, CSR_MSTATUS, S_MPP);                  /* start at M */
        wr(h, CSR_MSTATUS, v << 11);
        uint64_t mpp = (rd(h, CSR_MSTATUS) >> 11) & 3;
        if (v == 2)
            assert_true(mpp != 2);  /* 2 is reserved: must read back legal */
        else
            assert_int_equal(mpp, v);
    }
    /* SPP is one bit: S or U */
    wr(h, CSR_MSTATUS, S_SPP);
    assert_int_equal(rd(h, CSR_MSTATUS) & S_SPP, S_SPP);
}

static void test_mstatus_sd_from_fs(void **state)
{
    struct rv_hart *h = H;

    for (uint64_t fs = 0; fs < 4; fs++) {
        wr(h, CSR_MSTATUS, fs << 13);
        uint64_t m = rd(h, CSR_MSTATUS), s = rd(h, CSR_SSTATUS);
        assert_int_equal((m >> 13) & 3, fs);
        /* SD summarises FS/VS/XS == Dirty (3.1.6.6) */
        assert_int_equal(m >> 63, fs == 3);
        assert_int_equal(s >> 63, fs == 3);
    }
    /* SD itself is read-only */
    wr(h, CSR_MSTATUS, S_SD);
    assert_int_equal(rd(h, CSR_MSTATUS) >> 63, 0);
}

static void test_sstatus_view(void **state)
{
    struct rv_hart *h = H;
    uint64_t smask = S_SIE | S_SPIE | S_UBE | S_SPP | S_VS | S_FS | S_XS | S_SUM | S_MXR | S_UXL |
                     S_SD;
    uint64_t m;

    wr(h, CSR_MSTATUS, ~0ull);
    /* sstatus is a restricted view of mstatus (4.1.1) */
    assert_int_equal(rd(h, CSR_SSTATUS), rd(h, CSR_MSTATUS) & smask);
    assert_int_equal(rd(h, CSR_SSTATUS) & (S_MIE | S_MPIE | S_MPP | S_MPRV | S_TVM | S_TW |
                                          S_TSR | S_SXL), 0);

    /* writing sstatus touches only S fields */
    wr(h, CSR_MSTATUS, S_MIE | (1ull << 11) | S_TSR);  /* MPP = S */
    wr_p(h, RV_PRIV_S, CSR_SSTATUS, ~0ull);
    m = rd(h, CSR_MSTATUS);
    assert_int_equal(m & (S_MIE | S_MPIE | S_MPP | S_MPRV | S_TVM | S_TW | S_TSR),
                     S_MIE | (1ull << 11) | S_TSR);
    assert_int_equal(m & (S_SIE | S_SPIE | S_SPP | S_FS | S_SUM | S_MXR),
                     S_SIE | S_SPIE | S_SPP | S_FS | S_SUM | S_MXR);
    wr_p(h, RV_PRIV_S, CSR_SSTATUS, 0);
    m = rd(h, CSR_MSTATUS);
    assert_int_equal(m & (S_SIE | S_SPIE | S_SPP | S_FS | S_SUM | S_MXR), 0);
    assert_int_equal(m & S_MIE, S_MIE);
}

/* ---- interrupts: mie/mip/mideleg/sie/sip ---------------------------------- */

static void test_mideleg_medeleg_masks(void **state)
{
    struct rv_hart *h = H;
    uint64_t v;

    wr(h, CSR_MIDELEG, ~0ull);
    v = rd(h, CSR_MIDELEG);
    /* S-level interrupts are delegable; M-level ones never (3.1.8) */
    assert_int_equal(v & (SSI | STI | SEI), SSI | STI | SEI);
    assert_int_equal(v & (MSI | MTI | MEI), 0);

    wr(h, CSR_MEDELEG, ~0ull);
    v = rd(h, CSR_MEDELEG);
    /* medeleg[11] (ecall from M) is read-only zero */
    assert_int_equal((v >> 11) & 1, 0);
    static const unsigned deleg[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 15};
    for (size_t i = 0; i < sizeof(deleg) / sizeof(deleg[0]); i++)
        assert_int_equal((v >> deleg[i]) & 1, 1);
    wr(h, CSR_MEDELEG, 0);
    assert_int_equal(rd(h, CSR_MEDELEG), 0);
}

static void test_sie_sip_through_mideleg(void **state)
{
    struct rv_hart *h = H;
    const unsigned S = RV_PRIV_S;

    wr(h, CSR_MIE, MEI | MTI);
    wr(h, CSR_MIDELEG, 0);
    wr_p(h, S, CSR_SIE, ~0ull);
    assert_int_equal(rd_p(h, S, CSR_SIE), 0);   /* nothing delegated: nothing visible */
    assert_int_equal(rd(h, CSR_MIE), MEI | MTI);

    wr(h, CSR_MIDELEG, SSI | STI | SEI);
    wr_p(h, S, CSR_SIE, ~0ull);
    assert_int_equal(rd_p(h, S, CSR_SIE), SSI | STI | SEI);
    /* sie writes do not touch the M-level enables (4.1.3) */
    assert_int_equal(rd(h, CSR_MIE), MEI | MTI | SSI | STI | SEI);
    wr_p(h, S, CSR_SIE, 0);
    assert_int_equal(rd(h, CSR_MIE), MEI | MTI);

    /* only STI delegated: sie shows only STIE */
    wr(h, CSR_MIE, ~0ull);
    wr(h, CSR_MIDELEG, STI);
    assert_int_equal(rd_p(h, S, CSR_SIE), STI);

    /* sip: SSIP writable when delegated, STIP/SEIP read-only there */
    wr(h, CSR_MIDELEG, SSI | STI | SEI);
    wr(h, CSR_MIP, 0);
    wr_p(h, S, CSR_SIP, ~0ull);
    assert_int_equal(rd_p(h, S, CSR_SIP), SSI);
    assert_int_equal(rd(h, CSR_MIP), SSI);
    wr(h, CSR_MIP, STI | SEI);                  /* M sets STIP/SEIP */
    assert_int_equal(rd_p(h, S, CSR_SIP), STI | SEI);
    wr_p(h, S, CSR_SIP, 0);                     /* S cannot clear them */
    assert_int_equal(rd_p(h, S, CSR_SIP), STI | SEI);
    /* not delegated: invisible in sip and not writable through it */
    wr(h, CSR_MIDELEG, 0);
    wr(h, CSR_MIP, 0);
    assert_int_equal(rd_p(h, S, CSR_SIP), 0);
    wr_p(h, S, CSR_SIP, SSI);
    assert_int_equal(rd(h, CSR_MIP), 0);
}

static void test_mip_writable_bits(void **state)
{
    struct rv_hart *h = H;

    wr(h, CSR_MIP, ~0ull);
    /* M-mode can write SSIP, STIP, SEIP; MSIP/MTIP/MEIP are read-only,
     * driven by the CLINT/PLIC (3.1.9) */
    assert_int_equal(rd(h, CSR_MIP), SSI | STI | SEI);
    wr(h, CSR_MIP, 0);
    assert_int_equal(rd(h, CSR_MIP), 0);
    rv_hart_set_irq(h, RV_IRQ_MTI, 1);
    rv_hart_set_irq(h, RV_IRQ_MEI, 1);
    assert_int_equal(rd(h, CSR_MIP), MTI | MEI);
    wr(h, CSR_MIP, 0);
    assert_int_equal(rd(h, CSR_MIP), MTI | MEI);    /* a write cannot clear them */
    rv_hart_set_irq(h, RV_IRQ_MTI, 0);
    rv_hart_set_irq(h, RV_IRQ_MEI, 0);
    assert_int_equal(rd(h, CSR_MIP), 0);
    /* mie: the six standard enables, nothing else */
    wr(h, CSR_MIE, ~0ull);
    assert_int_equal(rd(h, CSR_MIE), SSI | MSI | STI | MTI | SEI | MEI);
}

/* mip.SEIP reads as the OR of the software bit and the external line, but
 * CSRRS/CSRRC modify only the software bit (3.1.9): setting SSIP while the
 * PLIC asserts SEIP must not latch SEIP for good. */
static void test_mip_seip_rmw(void **state)
{
    struct rv_hart *h = H;

    h->priv = RV_PRIV_M;
    wr(h, CSR_MIP, 0);
    rv_hart_set_irq(h, RV_IRQ_SEI, 1);          /* external line high */
    h->x[5] = SSI;
    expect_ok(h, RAM, CSRRS(10, CSR_MIP, 5));   /* csrrs a0, mip, t0 */
    assert_int_equal(h->x[10], SEI);            /* the read sees the line */
    rv_hart_set_irq(h, RV_IRQ_SEI, 0);
    assert_int_equal(rd(h, CSR_MIP), SSI);      /* SEIP went with the line */
    /* the software bit set by software stays until software clears it */
    h->x[5] = SEI;
    expect_ok(h, RAM, CSRRS(0, CSR_MIP, 5));
    assert_int_equal(rd(h, CSR_MIP), SSI | SEI);
    expect_ok(h, RAM, CSRRC(0, CSR_MIP, 5));
    assert_int_equal(rd(h, CSR_MIP), SSI);
}

/* ---- trap vectors and epc ------------------------------------------------- */

static void test_tvec_legalisation(void **state)
{
    struct rv_hart *h = H;
    static const unsigned csrs[2] = {CSR_MTVEC, CSR_STVEC};

    for (int i = 0; i < 2; i++) {
        wr(h, csrs[i], RAM_BASE + 0x200);           /* direct */
        assert_int_equal(rd(h, csrs[i]), RAM_BASE + 0x200);
        wr(h, csrs[i], RAM_BASE + 0x400 + 1);       /* vectored */
        assert_int_equal(rd(h, csrs[i]), RAM_BASE + 0x401);
        /* modes 2 and 3 are reserved: MODE must read back 0 or 1 */
        wr(h, csrs[i], RAM_BASE + 0x800 + 2);
        assert_true((rd(h, csrs[i]) & 3) < 2);
        wr(h, csrs[i], RAM_BASE + 0x800 + 3);
        assert_true((rd(h, csrs[i]) & 3) < 2);
    }
}

static void test_epc_bit0(void **state)
{
    struct rv_hart *h = H;

    /* IALIGN = 16 with C: only bit 0 is zero (3.1.14) */
    wr(h, CSR_MEPC, 0x80000003ull);
    assert_int_equal(rd(h, CSR_MEPC), 0x80000002ull);
    wr(h, CSR_MEPC, ~0ull);
    assert_int_equal(rd(h, CSR_MEPC), ~1ull);
    wr(h, CSR_SEPC, 0x80000001ull);
    assert_int_equal(rd(h, CSR_SEPC), 0x80000000ull);
    /* scratch registers hold anything */
    wr(h, CSR_MSCRATCH, 0x0123456789abcdefull);
    assert_int_equal(rd(h, CSR_MSCRATCH), 0x0123456789abcdefull);
    wr(h, CSR_SSCRATCH, ~0ull);
    assert_int_equal(rd(h, CSR_SSCRATCH), ~0ull);
}

/* ---- satp ----------------------------------------------------------------- */

static void test_satp(void **state)
{
    struct rv_hart *h = H;
    uint64_t sv39 = (8ull << 60) | 0x80123ull;
    uint8_t *ram = RAM;

    wr(h, CSR_SATP, sv39);
    assert_int_equal(rd(h, CSR_SATP) >> 60, 8);
    assert_int_equal(rd(h, CSR_SATP) & ((1ull << 44) - 1), 0x80123);
    /* unsupported modes (Sv32 = 1, Sv57 = 10 here, reserved 2..7, 11..15):
     * "the entire write has no effect" (4.1.11) */
    static const uint64_t bad[] = {1, 2, 7, 10, 11, 15};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        wr(h, CSR_SATP, (bad[i] << 60) | 0x555);
        assert_int_equal(rd(h, CSR_SATP), sv39);
    }
    wr(h, CSR_SATP, (9ull << 60) | 0x42);
    assert_int_equal(rd(h, CSR_SATP), (9ull << 60) | 0x42);
    wr(h, CSR_SATP, 0);
    assert_int_equal(rd(h, CSR_SATP), 0);

    /* TVM: satp access from S is illegal (3.1.6.5); from M it is fine */
    wr(h, CSR_MSTATUS, S_TVM);
    h->priv = RV_PRIV_S;
    uint64_t v;
    assert_int_equal(rv_csr_read(h, CSR_SATP, &v), -1);
    assert_int_equal(rv_csr_write(h, CSR_SATP, sv39), -1);
    expect_illegal(h, ram, CSRRS(10, CSR_SATP, 0));
    h->priv = RV_PRIV_S;
    expect_illegal(h, ram, CSRRW(0, CSR_SATP, 10));
    h->priv = RV_PRIV_M;
    assert_int_equal(rd(h, CSR_SATP), 0);
    wr(h, CSR_MSTATUS, 0);
    h->priv = RV_PRIV_S;
    h->x[10] = sv39;
    expect_ok(h, ram, CSRRW(0, CSR_SATP, 10));
    h->priv = RV_PRIV_M;
    assert_int_equal(rd(h, CSR_SATP), sv39);
}

/* ---- counters --------------------------------------------------------------- */

static void test_counter_gating(void **state)
{
    struct rv_hart *h = H;
    uint64_t v;
    static const unsigned ctr[] = {CSR_CYCLE, CSR_TIME, CSR_INSTRET, CSR_HPMCOUNTER3,
                                   CSR_HPMCOUNTER31};
    static const unsigned bit[] = {0, 1, 2, 3, 31};

    for (size_t i = 0; i < 5; i++) {
        for (unsigned mc = 0; mc < 2; mc++) {
            for (unsigned sc = 0; sc < 2; sc++) {
                h->priv = RV_PRIV_M;
                wr(h, CSR_MCOUNTEREN, (uint64_t)mc << bit[i]);
                wr(h, CSR_SCOUNTEREN, (uint64_t)sc << bit[i]);
                /* M: always; S: mcounteren; U: mcounteren and scounteren (3.1.11) */
                assert_int_equal(rv_csr_read(h, ctr[i], &v), 0);
                h->priv = RV_PRIV_S;
                assert_int_equal(rv_csr_read(h, ctr[i], &v), mc ? 0 : -1);
                h->priv = RV_PRIV_U;
                assert_int_equal(rv_csr_read(h, ctr[i], &v), (mc && sc) ? 0 : -1);
            }
        }
    }
    h->priv = RV_PRIV_M;
    /* the other bits do not leak: CY alone does not allow instret */
    wr(h, CSR_MCOUNTEREN, 1);
    h->priv = RV_PRIV_S;
    assert_int_equal(rv_csr_read(h, CSR_INSTRET, &v), -1);
    /* the trap is an illegal instruction with the bits in mtval */
    expect_illegal(h, RAM, CSRRS(10, CSR_INSTRET, 0));
    h->priv = RV_PRIV_M;
    /* time comes from the platform's timebase */
    assert_int_equal(rd(h, CSR_TIME), 0x123456789ull);
}

/* Write minstret/mcycle and read them back with real instructions: a read
 * right after the write sees the value written; every later retired
 * instruction adds one. */
static void test_counter_write_read(void **state)
{
    struct rv_hart *h = H;
    uint8_t *ram = RAM;
    uint64_t pc = RAM_BASE;
    uint32_t prog[] = {
        CSRRW(0, CSR_MINSTRET, 10),     /* csrw minstret, a0 */
        CSRRS(11, CSR_MINSTRET, 0),     /* csrr a1, minstret */
        0x00000013,                     /* nop */
        CSRRS(12, CSR_INSTRET, 0),      /* csrr a2, instret */
        CSRRW(0, CSR_MCYCLE, 13),       /* csrw mcycle, a3 */
        CSRRS(14, CSR_MCYCLE, 0),       /* csrr a4, mcycle */
        CSRRS(15, CSR_CYCLE, 0),        /* csrr a5, cycle */
        0x0000006f,                     /* j . */
    };

    for (size_t i = 0; i < sizeof(prog) / sizeof(prog[0]); i++)
        put32(ram, pc + 4 * i, prog[i]);
    h->pc = pc;
    h->x[10] = 1000000;
    h->x[13] = 0xfffffffffffffff0ull;
    rv_hart_run(h, 7);
    assert_int_equal(h->x[11], 1000000);
    assert_int_equal(h->x[12], 1000000 + 2);
    assert_int_equal(h->x[14], 0xfffffffffffffff0ull);
    assert_int_equal(h->x[15], 0xfffffffffffffff0ull + 1);
}

/* ---- FP CSRs ------------------------------------------------------------- */

static void test_fp_csrs(void **state)
{
    struct rv_hart *h = H;
    uint64_t v;
    static const unsigned fcsrs[] = {CSR_FFLAGS, CSR_FRM, CSR_FCSR};

    wr(h, CSR_MSTATUS, 0);      /* FS = Off */
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(rv_csr_read(h, fcsrs[i], &v), -1);
        assert_int_equal(rv_csr_write(h, fcsrs[i], 0), -1);
        expect_illegal(h, RAM, CSRRS(10, fcsrs[i], 0));
    }
    wr(h, CSR_MSTATUS, 1ull << 13);     /* FS = Initial */
    wr(h, CSR_FCSR, 0xff);
    assert_int_equal(rd(h, CSR_FCSR), 0xff);
    assert_int_equal(rd(h, CSR_FRM), 7);
    assert_int_equal(rd(h, CSR_FFLAGS), 0x1f);
    /* writing an FP CSR dirties FS, which sets SD */
    assert_int_equal((rd(h, CSR_MSTATUS) >> 13) & 3, 3);
    assert_int_equal(rd(h, CSR_MSTATUS) >> 63, 1);
    /* fcsr bits 31:8 are reserved (read zero) */
    wr(h, CSR_FCSR, ~0ull);
    assert_int_equal(rd(h, CSR_FCSR), 0xff);
    wr(h, CSR_FRM, 0x3);
    assert_int_equal(rd(h, CSR_FCSR), (3 << 5) | 0x1f);
    wr(h, CSR_FFLAGS, 0x21);            /* bit 5 is not a flag */
    assert_int_equal(rd(h, CSR_FFLAGS), 0x01);
    assert_int_equal(rd(h, CSR_FCSR), (3 << 5) | 0x01);
    /* accessible from U-mode (FS on) */
    h->priv = RV_PRIV_U;
    assert_int_equal(rv_csr_read(h, CSR_FCSR, &v), 0);
    h->priv = RV_PRIV_M;
}

/* ---- privilege and read-only rules -------------------------------------- */

static void test_privilege_checks(void **state)
{
    struct rv_hart *h = H;
    uint64_t v;
    static const unsigned mcsr[] = {CSR_MSTATUS, CSR_MISA, CSR_MEDELEG, CSR_MIE, CSR_MTVEC,
                                    CSR_MEPC, CSR_MCAUSE, CSR_MIP, CSR_PMPCFG0, CSR_PMPADDR0,
                                    CSR_MCYCLE, CSR_MINSTRET, CSR_MHARTID, CSR_MSCRATCH};
    static const unsigned scsr[] = {CSR_SSTATUS, CSR_SIE, CSR_STVEC, CSR_SSCRATCH, CSR_SEPC,
                                    CSR_SCAUSE, CSR_STVAL, CSR_SIP, CSR_SATP, CSR_SCOUNTEREN};

    for (size_t i = 0; i < sizeof(mcsr) / sizeof(mcsr[0]); i++) {
        h->priv = RV_PRIV_S;
        assert_int_equal(rv_csr_read(h, mcsr[i], &v), -1);
        assert_int_equal(rv_csr_write(h, mcsr[i], 0), -1);
        expect_illegal(h, RAM, CSRRS(10, mcsr[i], 0));
        h->priv = RV_PRIV_U;
        expect_illegal(h, RAM, CSRRW(0, mcsr[i], 0));
    }
    for (size_t i = 0; i < sizeof(scsr) / sizeof(scsr[0]); i++) {
        h->priv = RV_PRIV_U;
        assert_int_equal(rv_csr_read(h, scsr[i], &v), -1);
        expect_illegal(h, RAM, CSRRS(10, scsr[i], 0));
        h->priv = RV_PRIV_S;
        assert_int_equal(rv_csr_read(h, scsr[i], &v), 0);
        h->priv = RV_PRIV_M;
        assert_int_equal(rv_csr_read(h, scsr[i], &v), 0);
    }
    /* CSRs that do not exist are illegal even in M */
    h->priv = RV_PRIV_M;
    expect_illegal(h, RAM, CSRRS(10, 0x7ff, 0));
    expect_illegal(h, RAM, CSRRS(10, 0x5c0, 0));
    expect_illegal(h, RAM, CSRRW(0, 0x3ff, 10));
    /* odd pmpcfg registers do not exist on RV64 (3.7.1) */
    expect_illegal(h, RAM, CSRRS(10, CSR_PMPCFG0 + 1, 0));
}

static void test_read_only_csrs(void **state)
{
    struct rv_hart *h = H;
    static const unsigned ro[] = {CSR_MVENDORID, CSR_MARCHID, CSR_MIMPID, CSR_MHARTID,
                                  CSR_MCONFIGPTR, CSR_CYCLE, CSR_TIME, CSR_INSTRET,
                                  CSR_HPMCOUNTER3};

    h->priv = RV_PRIV_M;
    h->x[5] = 0;
    for (size_t i = 0; i < sizeof(ro) / sizeof(ro[0]); i++) {
        /* csr[11:10] = 11: read-only; any write attempt is illegal (2.1) */
        assert_int_equal(rv_csr_write(h, ro[i], 0), -1);
        expect_illegal(h, RAM, CSRRW(0, ro[i], 10));
        expect_illegal(h, RAM, CSRRWI(10, ro[i], 0));
        /* CSRRS/CSRRC with rs1 != x0 are writes even if x[rs1] is 0 */
        expect_illegal(h, RAM, CSRRS(10, ro[i], 5));
        expect_illegal(h, RAM, CSRRCI(10, ro[i], 1));
        /* ... but with rs1 = x0 or zimm = 0 they only read */
        expect_ok(h, RAM, CSRRS(10, ro[i], 0));
        expect_ok(h, RAM, CSRRC(10, ro[i], 0));
        expect_ok(h, RAM, CSRRSI(10, ro[i], 0));
        expect_ok(h, RAM, CSRRCI(10, ro[i], 0));
    }
    /* mhartid reads the hart id */
    expect_ok(h, RAM, CSRRS(10, CSR_MHARTID, 0));
    assert_int_equal(h->x[10], 0);
    /* misa: RV64 (MXL=2) with I M A F D C S U (3.1.1) */
    uint64_t misa = rd(h, CSR_MISA);
    assert_int_equal(misa >> 62, 2);
    for (const char *e = "IMAFDCSU"; *e; e++)
        assert_int_equal((misa >> (*e - 'A')) & 1, 1);
    assert_int_equal((misa >> ('H' - 'A')) & 1, 0);
    assert_int_equal((misa >> ('V' - 'A')) & 1, 0);
}

/* CSR instruction semantics: the old value goes to rd; set/clear masks;
 * CSRRW with rd = x0 does not read (observable through the result). */
static void test_csr_instruction_semantics(void **state)
{
    struct rv_hart *h = H;

    wr(h, CSR_MSCRATCH, 0xf0);
    h->x[6] = 0x0f;
    expect_ok(h, RAM, CSRRS(7, CSR_MSCRATCH, 6));
    assert_int_equal(h->x[7], 0xf0);
    assert_int_equal(rd(h, CSR_MSCRATCH), 0xff);
    expect_ok(h, RAM, CSRRCI(7, CSR_MSCRATCH, 0x11));
    assert_int_equal(h->x[7], 0xff);
    assert_int_equal(rd(h, CSR_MSCRATCH), 0xee);
    expect_ok(h, RAM, CSRRWI(7, CSR_MSCRATCH, 31));
    assert_int_equal(h->x[7], 0xee);
    assert_int_equal(rd(h, CSR_MSCRATCH), 31);
    h->x[6] = 0x1234;
    expect_ok(h, RAM, CSRRW(0, CSR_MSCRATCH, 6));
    assert_int_equal(h->x[0], 0);
    assert_int_equal(rd(h, CSR_MSCRATCH), 0x1234);
    assert_int_equal(h->pc, CODE + 4);
}

/* ---- PMP ------------------------------------------------------------------- */

#define PMP_R 1
#define PMP_W 2
#define PMP_X 4
#define PMP_TOR (1 << 3)
#define PMP_NA4 (2 << 3)
#define PMP_NAPOT (3 << 3)
#define PMP_L 0x80

static void test_pmp_cfg(void **state)
{
    struct rv_hart *h = H;

    /* W without R is reserved (3.7.1): must not read back as W=1,R=0 */
    wr(h, CSR_PMPCFG0, PMP_W | PMP_NAPOT);
    assert_true((rd(h, CSR_PMPCFG0) & 3) != PMP_W);
    wr(h, CSR_PMPCFG0, PMP_W | PMP_X | PMP_NAPOT);
    assert_true((rd(h, CSR_PMPCFG0) & 3) != PMP_W);
    /* bits 6:5 are reserved zero; all eight entries of pmpcfg0 kept */
    wr(h, CSR_PMPCFG0, 0x6060606060606060ull | 0x0f0d0b0907050301ull);
    uint64_t v = rd(h, CSR_PMPCFG0);
    for (int i = 0; i < 8; i++)
        assert_int_equal((v >> (8 * i + 5)) & 3, 0);
    assert_int_equal(v & 0xff, 0x01);
    assert_int_equal((v >> 56) & 0x1f, 0x0f);
    /* pmpcfg2 holds entries 8..15 */
    wr(h, CSR_PMPCFG0 + 2, 0x1dull << 56);
    assert_int_equal(rd(h, CSR_PMPCFG0 + 2), 0x1dull << 56);
    assert_int_equal(rd(h, CSR_PMPCFG0), v);

    /* pmpaddr holds bits 55:2 (54 bits) */
    wr(h, CSR_PMPADDR0 + 3, ~0ull);
    assert_int_equal(rd(h, CSR_PMPADDR0 + 3), (1ull << 54) - 1);

    /* lock: entry and its address ignore writes until reset (3.7.1.3) */
    wr(h, CSR_PMPCFG0, 0);
    wr(h, CSR_PMPADDR0, 0x20000000);
    wr(h, CSR_PMPCFG0, PMP_L | PMP_NA4 | PMP_R);
    wr(h, CSR_PMPCFG0, PMP_W | PMP_R | PMP_X | PMP_NAPOT);
    assert_int_equal(rd(h, CSR_PMPCFG0) & 0xff, PMP_L | PMP_NA4 | PMP_R);
    wr(h, CSR_PMPADDR0, 0x1234);
    assert_int_equal(rd(h, CSR_PMPADDR0), 0x20000000);
    /* entry 1 (same register) is still writable */
    wr(h, CSR_PMPCFG0, (uint64_t)(PMP_R | PMP_TOR) << 8);
    assert_int_equal((rd(h, CSR_PMPCFG0) >> 8) & 0xff, PMP_R | PMP_TOR);

    /* a locked TOR entry also locks the pmpaddr below it */
    wr(h, CSR_PMPADDR0 + 4, 0x100);
    wr(h, CSR_PMPCFG0, (uint64_t)(PMP_L | PMP_TOR | PMP_R) << 40);   /* entry 5 */
    wr(h, CSR_PMPADDR0 + 4, 0x200);
    assert_int_equal(rd(h, CSR_PMPADDR0 + 4), 0x100);
    wr(h, CSR_PMPADDR0 + 5, 0x300);
    assert_int_equal(rd(h, CSR_PMPADDR0 + 5), 0);
}

static void test_pmp_region(void **state)
{
    struct rv_hart *h = H;
    uint64_t lo, hi;

    /* OFF */
    h->pmpcfg[0] = 0;
    assert_int_equal(rv_pmp_region(h, 0, &lo, &hi), 0);
    /* TOR entry 0: [0, pmpaddr0 << 2) */
    h->pmpaddr[0] = 0x20000400;
    h->pmpcfg[0] = PMP_TOR | PMP_R;
    assert_int_equal(rv_pmp_region(h, 0, &lo, &hi), 1);
    assert_int_equal(lo, 0);
    assert_int_equal(hi, 0x80001000ull);
    /* TOR entry i: [pmpaddr[i-1] << 2, pmpaddr[i] << 2) */
    h->pmpaddr[1] = 0x20000800;
    h->pmpcfg[1] = PMP_TOR | PMP_R;
    assert_int_equal(rv_pmp_region(h, 1, &lo, &hi), 1);
    assert_int_equal(lo, 0x80001000ull);
    assert_int_equal(hi, 0x80002000ull);
    /* pmpaddr[i-1] >= pmpaddr[i]: matches nothing */
    h->pmpaddr[1] = 0x20000400;
    assert_int_equal(rv_pmp_region(h, 1, &lo, &hi), 0);
    h->pmpaddr[1] = 0x20000100;
    assert_int_equal(rv_pmp_region(h, 1, &lo, &hi), 0);
    /* NA4 */
    h->pmpaddr[2] = 0x20000003;
    h->pmpcfg[2] = PMP_NA4 | PMP_R;
    assert_int_equal(rv_pmp_region(h, 2, &lo, &hi), 1);
    assert_int_equal(lo, 0x8000000cull);
    assert_int_equal(hi, 0x80000010ull);
    /* NAPOT: yyyy...y0 = 8 bytes, y..y01 = 16, y..y011 = 32 ... (Table 3.9) */
    h->pmpcfg[3] = PMP_NAPOT | PMP_R;
    h->pmpaddr[3] = 0x20000000;             /* 8 bytes at 0x80000000 */
    assert_int_equal(rv_pmp_region(h, 3, &lo, &hi), 1);
    assert_int_equal(lo, 0x80000000ull);
    assert_int_equal(hi, 0x80000008ull);
    h->pmpaddr[3] = 0x20000005;             /* ...101: 16 bytes at 0x80000010 */
    assert_int_equal(rv_pmp_region(h, 3, &lo, &hi), 1);
    assert_int_equal(lo, 0x80000010ull);
    assert_int_equal(hi, 0x80000020ull);
    for (unsigned k = 12; k <= 40; k++) {   /* 2^k bytes at a 2^k-aligned base */
        uint64_t base = 1ull << 41, size = 1ull << k;
        h->pmpaddr[3] = (base >> 2) | ((size >> 3) - 1);
        assert_int_equal(rv_pmp_region(h, 3, &lo, &hi), 1);
        assert_int_equal(lo, base);
        assert_int_equal(hi, base + size);
    }
    /* all ones: the whole 2^56-byte physical space */
    h->pmpaddr[3] = (1ull << 54) - 1;
    assert_int_equal(rv_pmp_region(h, 3, &lo, &hi), 1);
    assert_int_equal(lo, 0);
    assert_true(hi >= (1ull << 56) - 1);
}

/* ---- trap entry ------------------------------------------------------------ */

static void test_trap_to_m(void **state)
{
    struct rv_hart *h = H;

    wr(h, CSR_MTVEC, RAM_BASE + 0x100);
    wr(h, CSR_STVEC, RAM_BASE + 0x200);
    wr(h, CSR_MSTATUS, S_MIE | S_SIE);
    h->priv = RV_PRIV_U;
    h->pc = RAM_BASE + 0x444;
    rv_raise(h, RV_EXC_LOAD_PAGE, 0xdead000);
    assert_int_equal(h->priv, RV_PRIV_M);
    assert_int_equal(h->pc, RAM_BASE + 0x100);
    assert_int_equal(h->mepc, RAM_BASE + 0x444);
    assert_int_equal(h->mcause, 13);
    assert_int_equal(h->mtval, 0xdead000);
    uint64_t m = rd(h, CSR_MSTATUS);
    assert_int_equal((m >> 11) & 3, RV_PRIV_U);     /* MPP = previous mode */
    assert_int_equal(m & S_MPIE, S_MPIE);           /* MPIE = old MIE */
    assert_int_equal(m & S_MIE, 0);
    assert_int_equal(m & S_SIE, S_SIE);             /* S fields untouched */
    assert_int_equal(h->scause, 0);
    assert_int_equal(h->sepc, 0);

    /* from S with MIE clear: MPP = S, MPIE = 0 */
    wr(h, CSR_MSTATUS, 0);
    h->priv = RV_PRIV_S;
    h->pc = RAM_BASE + 0x888;
    rv_raise(h, RV_EXC_ECALL_S, 0);
    m = rd(h, CSR_MSTATUS);
    assert_int_equal((m >> 11) & 3, RV_PRIV_S);
    assert_int_equal(m & (S_MPIE | S_MIE), 0);
    assert_int_equal(h->mcause, 9);
    assert_int_equal(h->mepc, RAM_BASE + 0x888);

    /* delegation never lowers privilege: from M a delegated cause stays in M */
    wr(h, CSR_MEDELEG, 1ull << RV_EXC_BREAKPOINT);
    h->priv = RV_PRIV_M;
    h->pc = RAM_BASE + 0x10;
    rv_raise(h, RV_EXC_BREAKPOINT, 0x77);
    assert_int_equal(h->priv, RV_PRIV_M);
    assert_int_equal(h->mcause, 3);
    assert_int_equal(h->mtval, 0x77);
    assert_int_equal((rd(h, CSR_MSTATUS) >> 11) & 3, RV_PRIV_M);
    assert_int_equal(h->pc, RAM_BASE + 0x100);
}

static void test_trap_to_s(void **state)
{
    struct rv_hart *h = H;
    uint64_t m;

    wr(h, CSR_MTVEC, RAM_BASE + 0x100);
    wr(h, CSR_STVEC, RAM_BASE + 0x200);
    wr(h, CSR_MEDELEG, (1ull << RV_EXC_ECALL_U) | (1ull << RV_EXC_STORE_PAGE) |
                           (1ull << RV_EXC_ILLEGAL));
    wr(h, CSR_MEPC, 0x1111);
    wr(h, CSR_MCAUSE, 0x2222);
    wr(h, CSR_MSTATUS, S_SIE | S_MIE | (3ull << 11));

    /* from U: SPP = 0, SPIE = old SIE, SIE = 0 (4.1.1) */
    h->priv = RV_PRIV_U;
    h->pc = 0x10000;
    rv_raise(h, RV_EXC_STORE_PAGE, 0x4008);
    assert_int_equal(h->priv, RV_PRIV_S);
    assert_int_equal(h->pc, RAM_BASE + 0x200);
    assert_int_equal(h->sepc, 0x10000);
    assert_int_equal(h->scause, 15);
    assert_int_equal(h->stval, 0x4008);
    m = rd(h, CSR_MSTATUS);
    assert_int_equal(m & S_SPP, 0);
    assert_int_equal(m & S_SPIE, S_SPIE);
    assert_int_equal(m & S_SIE, 0);
    /* M state untouched */
    assert_int_equal(m & S_MIE, S_MIE);
    assert_int_equal((m >> 11) & 3, 3);
    assert_int_equal(rd(h, CSR_MEPC), 0x1110);      /* bit 0 was cleared on write */
    assert_int_equal(rd(h, CSR_MCAUSE), 0x2222);

    /* from S: SPP = 1, SPIE = old SIE (now 0) */
    h->pc = RAM_BASE + 0x204;
    rv_raise(h, RV_EXC_ILLEGAL, 0x12345678);
    m = rd(h, CSR_MSTATUS);
    assert_int_equal(m & S_SPP, S_SPP);
    assert_int_equal(m & (S_SPIE | S_SIE), 0);
    assert_int_equal(h->scause, 2);
    assert_int_equal(h->stval, 0x12345678);
    assert_int_equal(h->sepc, RAM_BASE + 0x204);

    /* a cause not delegated goes to M even from U */
    h->priv = RV_PRIV_U;
    h->pc = 0x20000;
    rv_raise(h, RV_EXC_LOAD_PAGE, 0x30);
    assert_int_equal(h->priv, RV_PRIV_M);
    assert_int_equal(h->mcause, 13);
    assert_int_equal(h->scause, 2);
}

static void test_vectored_mode(void **state)
{
    struct rv_hart *h = H;

    wr(h, CSR_MTVEC, (RAM_BASE + 0x400) | 1);
    wr(h, CSR_STVEC, (RAM_BASE + 0x800) | 1);
    /* exceptions go to BASE even in vectored mode (3.1.7) */
    h->priv = RV_PRIV_M;
    rv_raise(h, RV_EXC_ILLEGAL, 0);
    assert_int_equal(h->pc, RAM_BASE + 0x400);
    rv_raise(h, RV_EXC_ECALL_M, 0);
    assert_int_equal(h->pc, RAM_BASE + 0x400);
    /* interrupts go to BASE + 4 * cause */
    rv_raise(h, IRQ | RV_IRQ_MTI, 0);
    assert_int_equal(h->pc, RAM_BASE + 0x400 + 4 * 7);
    assert_int_equal(h->mcause, IRQ | 7);
    rv_raise(h, IRQ | RV_IRQ_MEI, 0);
    assert_int_equal(h->pc, RAM_BASE + 0x400 + 4 * 11);
    /* same for stvec on a delegated interrupt */
    wr(h, CSR_MIDELEG, STI);
    h->priv = RV_PRIV_U;
    rv_raise(h, IRQ | RV_IRQ_STI, 0);
    assert_int_equal(h->priv, RV_PRIV_S);
    assert_int_equal(h->pc, RAM_BASE + 0x800 + 4 * 5);
    assert_int_equal(h->scause, IRQ | 5);
    /* direct mode: everything at BASE */
    wr(h, CSR_MTVEC, RAM_BASE + 0x400);
    h->priv = RV_PRIV_M;
    rv_raise(h, IRQ | RV_IRQ_MTI, 0);
    assert_int_equal(h->pc, RAM_BASE + 0x400);
}

/* ---- interrupt selection --------------------------------------------------- */

static void set_pending(struct rv_hart *h, uint64_t bits)
{
    for (unsigned i = 0; i < 12; i++)
        rv_hart_set_irq(h, i, (bits >> i) & 1);
}

/* Which interrupt rv_check_interrupts takes, or -1 (and which mode). */
static int take(struct rv_hart *h, unsigned priv, uint64_t mstatus, unsigned *to)
{
    h->priv = (uint8_t)priv;
    h->mstatus = mstatus | XL64;
    h->pc = RAM_BASE + 0x500;
    h->mcause = h->scause = 0;
    if (!rv_check_interrupts(h))
        return -1;
    *to = h->priv;
    uint64_t c = h->priv == RV_PRIV_M ? h->mcause : h->scause;
    assert_int_equal(c >> 63, 1);
    /* the interrupted pc is saved, tval is 0 */
    assert_int_equal(h->priv == RV_PRIV_M ? h->mepc : h->sepc, RAM_BASE + 0x500);
    assert_int_equal(h->priv == RV_PRIV_M ? h->mtval : h->stval, 0);
    return (int)(c & 0xff);
}

static void test_interrupt_priority(void **state)
{
    struct rv_hart *h = H;
    static const int order[] = {11, 3, 7, 9, 1, 5};    /* MEI MSI MTI SEI SSI STI */
    uint64_t pend = MEI | MSI | MTI | SEI | SSI | STI;
    unsigned to;

    h->mtvec = RAM_BASE + 0x100;
    h->stvec = RAM_BASE + 0x200;
    h->mie = pend;
    h->mideleg = 0;
    for (int i = 0; i < 6; i++) {
        set_pending(h, pend);
        assert_int_equal(take(h, RV_PRIV_M, S_MIE, &to), order[i]);
        assert_int_equal(to, RV_PRIV_M);
        pend &= ~(1ull << order[i]);
    }
    set_pending(h, 0);
    assert_int_equal(take(h, RV_PRIV_M, S_MIE, &to), -1);

    /* an interrupt must be enabled in mie */
    set_pending(h, MEI);
    h->mie = MTI;
    assert_int_equal(take(h, RV_PRIV_U, 0, &to), -1);
    h->mie = MEI;
    assert_int_equal(take(h, RV_PRIV_U, 0, &to), 11);
    set_pending(h, 0);
}

static void test_interrupt_enables_per_mode(void **state)
{
    struct rv_hart *h = H;
    unsigned to;

    h->mtvec = RAM_BASE + 0x100;
    h->stvec = RAM_BASE + 0x200;
    h->mie = MTI | STI | SSI | SEI;
    h->mideleg = SSI | STI | SEI;

    /* M-level interrupt in M: only with MIE */
    set_pending(h, MTI);
    assert_int_equal(take(h, RV_PRIV_M, 0, &to), -1);
    assert_int_equal(take(h, RV_PRIV_M, S_MIE, &to), 7);
    /* in S or U: always (a lower mode never masks M interrupts) */
    assert_int_equal(take(h, RV_PRIV_S, 0, &to), 7);
    assert_int_equal(to, RV_PRIV_M);
    assert_int_equal(take(h, RV_PRIV_U, 0, &to), 7);

    /* delegated S interrupt: never taken in M (even with SIE and MIE) */
    set_pending(h, STI);
    assert_int_equal(take(h, RV_PRIV_M, S_MIE | S_SIE, &to), -1);
    /* in S: only with SIE */
    assert_int_equal(take(h, RV_PRIV_S, 0, &to), -1);
    assert_int_equal(take(h, RV_PRIV_S, S_MIE, &to), -1);
    assert_int_equal(take(h, RV_PRIV_S, S_SIE, &to), 5);
    assert_int_equal(to, RV_PRIV_S);
    /* in U: always */
    assert_int_equal(take(h, RV_PRIV_U, 0, &to), 5);
    assert_int_equal(to, RV_PRIV_S);

    /* M-destined interrupts come before S-destined ones, whatever their
     * place in the priority list: SEI delegated, STI kept in M */
    h->mideleg = SEI;
    set_pending(h, SEI | STI);
    assert_int_equal(take(h, RV_PRIV_S, S_SIE, &to), 5);
    assert_int_equal(to, RV_PRIV_M);
    assert_int_equal(take(h, RV_PRIV_U, 0, &to), 5);
    assert_int_equal(to, RV_PRIV_M);
    /* with M interrupts masked in M-mode, the delegated one still waits */
    assert_int_equal(take(h, RV_PRIV_M, S_SIE, &to), -1);

    /* software-written SEIP (mip.SEIP via csrw) is an interrupt source */
    set_pending(h, 0);
    h->mideleg = SSI | STI | SEI;
    h->priv = RV_PRIV_M;
    wr(h, CSR_MIP, SEI);
    assert_int_equal(take(h, RV_PRIV_S, S_SIE, &to), 9);
    h->priv = RV_PRIV_M;
    wr(h, CSR_MIP, 0);
}

/* ---- xRET, WFI, SFENCE.VMA ------------------------------------------------ */

static void test_mret(void **state)
{
    struct rv_hart *h = H;
    uint8_t *ram = RAM;

    /* MRET to S: MIE = MPIE, MPIE = 1, MPP = U, MPRV cleared (3.1.6.1) */
    wr(h, CSR_MSTATUS, S_MPIE | (1ull << 11) | S_MPRV);
    wr(h, CSR_MEPC, RAM_BASE + 0x3000);
    h->priv = RV_PRIV_M;
    uint64_t ir = h->instret;
    assert_int_equal(exec1(h, ram, MRET), 2);
    assert_int_equal(h->priv, RV_PRIV_S);
    assert_int_equal(h->pc, RAM_BASE + 0x3000);
    assert_int_equal(h->instret, ir + 1);
    h->priv = RV_PRIV_M;
    uint64_t m = rd(h, CSR_MSTATUS);
    assert_int_equal(m & (S_MIE | S_MPIE), S_MIE | S_MPIE);
    assert_int_equal((m >> 11) & 3, RV_PRIV_U);
    assert_int_equal(m & S_MPRV, 0);

    /* MRET to M keeps MPRV; MPIE = 0 gives MIE = 0 */
    wr(h, CSR_MSTATUS, S_MIE | (3ull << 11) | S_MPRV);
    exec1(h, ram, MRET);
    assert_int_equal(h->priv, RV_PRIV_M);
    m = rd(h, CSR_MSTATUS);
    assert_int_equal(m & S_MPRV, S_MPRV);
    assert_int_equal(m & S_MIE, 0);
    assert_int_equal(m & S_MPIE, S_MPIE);

    /* MRET to U */
    wr(h, CSR_MSTATUS, 0);
    exec1(h, ram, MRET);
    assert_int_equal(h->priv, RV_PRIV_U);

    /* MRET outside M is illegal */
    h->priv = RV_PRIV_S;
    expect_illegal(h, ram, MRET);
    h->priv = RV_PRIV_U;
    expect_illegal(h, ram, MRET);
}

static void test_sret(void **state)
{
    struct rv_hart *h = H;
    uint8_t *ram = RAM;
    uint64_t m;

    /* SRET from S to U: SIE = SPIE, SPIE = 1, SPP = U (4.1.1), MPRV = 0 */
    wr(h, CSR_MSTATUS, S_SPIE | S_MPRV | (3ull << 11));
    wr(h, CSR_SEPC, 0x4000);
    h->priv = RV_PRIV_S;
    assert_int_equal(exec1(h, ram, SRET), 2);
    assert_int_equal(h->priv, RV_PRIV_U);
    assert_int_equal(h->pc, 0x4000);
    h->priv = RV_PRIV_M;
    m = rd(h, CSR_MSTATUS);
    assert_int_equal(m & (S_SIE | S_SPIE | S_SPP), S_SIE | S_SPIE);
    assert_int_equal(m & S_MPRV, 0);

    /* SRET to S (SPP = 1), SPIE = 0 */
    wr(h, CSR_MSTATUS, S_SPP | S_SIE);
    h->priv = RV_PRIV_S;
    exec1(h, ram, SRET);
    assert_int_equal(h->priv, RV_PRIV_S);
    h->priv = RV_PRIV_M;
    m = rd(h, CSR_MSTATUS);
    assert_int_equal(m & (S_SIE | S_SPIE | S_SPP), S_SPIE);

    /* SRET in M is allowed (to SPP); TSR makes it illegal in S only */
    wr(h, CSR_MSTATUS, S_TSR | S_SPP);
    h->priv = RV_PRIV_M;
    exec1(h, ram, SRET);
    assert_int_equal(h->priv, RV_PRIV_S);
    expect_illegal(h, ram, SRET);
    /* SRET in U is illegal */
    wr(h, CSR_MSTATUS, 0);
    h->priv = RV_PRIV_U;
    expect_illegal(h, ram, SRET);
}

static void test_wfi_tw_tvm(void **state)
{
    struct rv_hart *h = H;
    uint8_t *ram = RAM;

    /* make WFI return at once: an interrupt enabled in mie is pending */
    h->mie = SSI;
    h->priv = RV_PRIV_M;
    wr(h, CSR_MIP, SSI);
    wr(h, CSR_MSTATUS, S_TW);
    expect_ok(h, ram, WFI);         /* TW does not affect M */
    h->priv = RV_PRIV_S;
    expect_illegal(h, ram, WFI);    /* TW = 1 traps WFI in S (3.1.6.5) */
    wr(h, CSR_MSTATUS, 0);
    h->priv = RV_PRIV_S;
    expect_ok(h, ram, WFI);
    assert_int_equal(h->pc, CODE + 4);
    h->priv = RV_PRIV_U;
    expect_illegal(h, ram, WFI);

    /* SFENCE.VMA: illegal in U, and in S with TVM */
    h->priv = RV_PRIV_S;
    expect_ok(h, ram, SFENCE_VMA(0, 0));
    h->priv = RV_PRIV_U;
    expect_illegal(h, ram, SFENCE_VMA(0, 0));
    wr(h, CSR_MSTATUS, S_TVM);
    h->priv = RV_PRIV_S;
    expect_illegal(h, ram, SFENCE_VMA(10, 11));
    h->priv = RV_PRIV_M;
    expect_ok(h, ram, SFENCE_VMA(10, 11));
    wr(h, CSR_MSTATUS, 0);
    wr(h, CSR_MIP, 0);
}

static void test_ecall_ebreak(void **state)
{
    struct rv_hart *h = H;
    uint8_t *ram = RAM;
    static const unsigned privs[] = {RV_PRIV_U, RV_PRIV_S, RV_PRIV_M};
    static const uint64_t causes[] = {8, 9, 11};

    h->mtvec = RAM_BASE + 0x100;
    for (int i = 0; i < 3; i++) {
        h->priv = (uint8_t)privs[i];
        uint64_t ir = h->instret;
        assert_int_equal(exec1(h, ram, ECALL), 1);
        assert_int_equal(h->mcause, causes[i]);
        assert_int_equal(h->mepc, CODE);        /* the ecall itself */
        assert_int_equal(h->mtval, 0);
        assert_int_equal(h->instret, ir);       /* not retired */
        h->priv = (uint8_t)privs[i];
        exec1(h, ram, EBREAK);
        assert_int_equal(h->mcause, 3);
        assert_int_equal(h->mepc, CODE);
    }
}

/* A trap whose handler faults on its own first instruction can never make
 * progress: glassbox must stop the hart with a diagnostic rather than
 * loop forever (issue 2, Bad input). Here mtvec points at zeroed RAM,
 * whose 16-bit word 0 is an illegal instruction. */
static void test_trap_loop_is_fatal(void **state)
{
    struct rv_hart *h = H;
    uint8_t *ram = RAM;
    uint32_t prog[] = {
        0x00000073,     /* ecall */
    };
    enum rv_exit e;

    put32(ram, RAM_BASE, prog[0]);
    h->mtvec = RAM_BASE + 0x8000;   /* zeroes */
    h->priv = RV_PRIV_M;
    h->pc = RAM_BASE;
    e = rv_hart_run(h, 1000000);
    assert_int_equal(e, RV_EXIT_FATAL);
    assert_non_null(strstr(h->fatal_msg, "0x80008000"));
    assert_non_null(strstr(h->fatal_msg, "illegal instruction"));
}

/* The same for a delegated trap loop in S-mode (stvec at zeroed RAM, bare
 * translation), as long as no M-level interrupt could still intervene. */
static void test_s_trap_loop(void **state)
{
    struct rv_hart *h = H;

    h->stvec = RAM_BASE + 0x9000;       /* zeroes: illegal */
    h->medeleg = 1ull << RV_EXC_ILLEGAL;
    h->mie = 0;
    h->priv = RV_PRIV_S;
    h->pc = RAM_BASE + 0x9000;
    rv_raise(h, RV_EXC_ILLEGAL, 0);     /* first time: state changes */
    assert_int_equal(h->fatal, 0);
    rv_raise(h, RV_EXC_ILLEGAL, 0);     /* second: a fixpoint */
    assert_int_equal(h->fatal, 1);
    assert_non_null(strstr(h->fatal_msg, "0x80009000"));

    /* an enabled M-level interrupt (a timer) could still rescue it */
    h->fatal = 0;
    h->fatal_msg[0] = 0;
    h->mie = MTI;
    rv_raise(h, RV_EXC_ILLEGAL, 0);
    rv_raise(h, RV_EXC_ILLEGAL, 0);
    assert_int_equal(h->fatal, 0);

    /* and a trap at another address than the handler is no loop */
    h->mie = 0;
    h->pc = RAM_BASE + 0x100;
    rv_raise(h, RV_EXC_ILLEGAL, 0);
    assert_int_equal(h->fatal, 0);
}

/* Not a fixpoint: the first M trap from MIE = 1 changes mstatus, and a
 * trap whose mepc differs from the handler is an ordinary nested trap. */
static void test_m_trap_not_loop(void **state)
{
    struct rv_hart *h = H;

    h->mtvec = RAM_BASE + 0x9000;
    h->mstatus |= MSTATUS_MIE;
    h->priv = RV_PRIV_M;
    h->pc = RAM_BASE + 0x9000;
    rv_raise(h, RV_EXC_ILLEGAL, 0);
    assert_int_equal(h->fatal, 0);      /* MIE changed: 1 -> 0 */
    h->pc = RAM_BASE + 0x9004;
    rv_raise(h, RV_EXC_BREAKPOINT, 0);
    assert_int_equal(h->fatal, 0);
    h->pc = RAM_BASE + 0x9000;
    rv_raise(h, RV_EXC_BREAKPOINT, 0);  /* mepc was 0x9004 */
    assert_int_equal(h->fatal, 0);
    rv_raise(h, RV_EXC_BREAKPOINT, 0);  /* now identical: stuck */
    assert_int_equal(h->fatal, 1);
}

/* A handler that is merely far away (reachable) is not fatal. */
static void test_trap_handler_ok(void **state)
{
    struct rv_hart *h = H;
    uint8_t *ram = RAM;

    put32(ram, RAM_BASE, 0x00000073);           /* ecall */
    put32(ram, RAM_BASE + 0x8000, 0x0000006f);  /* handler: j . */
    h->mtvec = RAM_BASE + 0x8000;
    h->priv = RV_PRIV_M;
    h->pc = RAM_BASE;
    assert_int_equal(rv_hart_run(h, 1000), RV_EXIT_BUDGET);
    assert_int_equal(h->fatal, 0);
    assert_int_equal(h->mcause, 11);
    assert_int_equal(h->mepc, RAM_BASE);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_mstatus_reset_and_mask),
        T(test_mstatus_mpp_warl),
        T(test_mstatus_sd_from_fs),
        T(test_sstatus_view),
        T(test_mideleg_medeleg_masks),
        T(test_sie_sip_through_mideleg),
        T(test_mip_writable_bits),
        T(test_mip_seip_rmw),
        T(test_tvec_legalisation),
        T(test_epc_bit0),
        T(test_satp),
        T(test_counter_gating),
        T(test_counter_write_read),
        T(test_fp_csrs),
        T(test_privilege_checks),
        T(test_read_only_csrs),
        T(test_csr_instruction_semantics),
        T(test_pmp_cfg),
        T(test_pmp_region),
        T(test_trap_to_m),
        T(test_trap_to_s),
        T(test_vectored_mode),
        T(test_interrupt_priority),
        T(test_interrupt_enables_per_mode),
        T(test_mret),
        T(test_sret),
        T(test_wfi_tw_tvm),
        T(test_ecall_ebreak),
        T(test_trap_loop_is_fatal),
        T(test_trap_handler_ok),
        T(test_s_trap_loop),
        T(test_m_trap_not_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
