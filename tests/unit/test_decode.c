/*
 * Unit tests for engine/rv_decode.c.
 *
 * 1. Cross-check: the decoder (rv_decode) and the disassembler (rv_disas)
 *    are two independent readings of the RISC-V specifications. For every
 *    16-bit encoding and a systematic sweep of 32-bit encodings (every
 *    opcode x funct3 x funct7 x rs2 field, with varied rd/rs1, plus a few
 *    hundred thousand pseudo-random words) their legal/illegal verdicts
 *    must agree. The only tolerated disagreements are spelled out below,
 *    each with the sentence of the spec that allows it.
 * 2. Field tables: immediates of every 32-bit format and every compressed
 *    immediate format are re-encoded here from the spec's bit layouts
 *    (unprivileged ISA 20191213, chapters 2 and 16) and must come back out
 *    of the decoder exactly, sign-extended; integer destinations x0 go to
 *    RV_REG_SINK; compressed forms expand to the op and registers of their
 *    32-bit equivalent; reserved encodings give ILLEGAL with imm = raw.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rv_disas.h"
#include "rv_insn.h"

/* ---- helpers ----------------------------------------------------------- */

static int disas_legal(uint32_t raw)
{
    char buf[96];

    rv_disas(buf, sizeof(buf), 0x80000000ull, raw);
    return strncmp(buf, "unknown", 7) != 0;
}

static enum rv_op dec(uint32_t raw, struct rv_insn *in)
{
    memset(in, 0xa5, sizeof(*in));     /* poison: every field must be set */
    return rv_decode(raw, in);
}

/* Tiny deterministic PRNG (xorshift64*), so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd32(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

/*
 * Encodings on which the two implementations may legitimately differ.
 * FENCE (funct3 000) and FENCE.I (funct3 001) in MISC-MEM: unprivileged
 * spec 2.7 / 3.1: "The unused fields in the FENCE instructions -- fm, rs1,
 * and rd -- are reserved for finer-grain fences in future extensions. For
 * forward compatibility, base implementations shall ignore these fields",
 * and likewise for FENCE.I's imm, rs1 and rd. An executing hart must accept
 * them (decoder: legal) while a disassembler may print them as unknown.
 * Returns 1 for such a word; the caller then checks the decoder's op.
 */
static int fence_family(uint32_t raw)
{
    return (raw & 0x7f) == 0x0f && ((raw >> 12) & 7) <= 1;
}

struct mismatch_log {
    unsigned n;
};

static void report(struct mismatch_log *log, uint32_t raw, int d_legal, int x_legal)
{
    char buf[96];

    if (log->n++ < 20) {
        rv_disas(buf, sizeof(buf), 0x80000000ull, raw);
        print_message("mismatch 0x%08x: decoder %s, disassembler %s (\"%s\")\n", raw,
                      d_legal ? "legal" : "ILLEGAL", x_legal ? "legal" : "unknown", buf);
    }
}

/* Check one word; returns 0 when consistent. */
static int cross_check(struct mismatch_log *log, uint32_t raw)
{
    struct rv_insn in;
    enum rv_op op = dec(raw, &in);
    int d_legal = op != RV_OP_ILLEGAL;
    int x_legal = disas_legal(raw);
    int is16 = (raw & 3) != 3;

    /* length and the op field agree with the return value for every word */
    if (in.op != op || in.len != (is16 ? 2 : 4)) {
        print_message("0x%08x: op field %u / return %u, len %u\n", raw, in.op, op, in.len);
        log->n++;
        return 1;
    }
    if (!d_legal) {
        uint32_t want = is16 ? (raw & 0xffff) : raw;
        if ((uint32_t)in.imm != want) {
            print_message("0x%08x: ILLEGAL imm 0x%08x, want raw bits 0x%08x\n", raw,
                          (uint32_t)in.imm, want);
            log->n++;
            return 1;
        }
    }
    if (!is16 && fence_family(raw)) {
        enum rv_op want = ((raw >> 12) & 7) == 0 ? RV_OP_FENCE : RV_OP_FENCE_I;
        if (op != want) {
            print_message("0x%08x: fence-family word decoded as %s\n", raw, rv_op_name(op));
            log->n++;
            return 1;
        }
        return 0;
    }
    if (d_legal != x_legal) {
        report(log, raw, d_legal, x_legal);
        return 1;
    }
    return 0;
}

/* ---- 1. cross-check sweeps -------------------------------------------- */

static void test_all_16bit(void **state)
{
    struct mismatch_log log = {0};
    unsigned legal = 0;

    (void)state;
    for (uint32_t raw = 0; raw < 0x10000; raw++) {
        struct rv_insn a, b;
        if ((raw & 3) == 3)
            continue;           /* a 32-bit encoding's low half */
        cross_check(&log, raw);
        /* the upper half of the fetched word never matters */
        dec(raw, &a);
        dec(raw | 0xdead0000u, &b);
        if (a.op != b.op || a.rd != b.rd || a.rs1 != b.rs1 || a.rs2 != b.rs2 ||
            a.imm != b.imm || a.len != 2 || b.len != 2) {
            print_message("0x%04x: upper 16 bits changed the decode\n", raw);
            log.n++;
        }
        legal += a.op != RV_OP_ILLEGAL;
    }
    assert_int_equal(log.n, 0);
    /* sanity: most of the compressed space is defined in RV64GC */
    assert_true(legal > 40000 && legal < 49152);
}

static void test_32bit_sweep(void **state)
{
    struct mismatch_log log = {0};
    static const uint8_t regs[][2] = {  /* (rd, rs1) pairs */
        {0, 0}, {1, 2}, {31, 17}, {10, 0}, {0, 5}, {2, 2},
    };
    unsigned long n = 0;

    (void)state;
    for (uint32_t opc = 3; opc < 128; opc += 4) {
        for (uint32_t f3 = 0; f3 < 8; f3++) {
            for (uint32_t f7 = 0; f7 < 128; f7++) {
                for (uint32_t rs2 = 0; rs2 < 32; rs2++) {
                    for (size_t r = 0; r < sizeof(regs) / sizeof(regs[0]); r++) {
                        uint32_t raw = f7 << 25 | rs2 << 20 | (uint32_t)regs[r][1] << 15 |
                                       f3 << 12 | (uint32_t)regs[r][0] << 7 | opc;
                        cross_check(&log, raw);
                        n++;
                    }
                }
            }
        }
    }
    assert_true(n == 32ul * 8 * 128 * 32 * 6);
    assert_int_equal(log.n, 0);
}

static void test_32bit_random(void **state)
{
    struct mismatch_log log = {0};

    (void)state;
    for (unsigned i = 0; i < 400000; i++) {
        uint32_t raw = rnd32() | 3;
        cross_check(&log, raw);
    }
    /* random words biased towards the defined opcodes, where the
     * interesting rows are (a uniform word is mostly ILLEGAL) */
    static const uint8_t opcs[] = {
        0x03, 0x07, 0x0f, 0x13, 0x17, 0x1b, 0x23, 0x27, 0x2f, 0x33, 0x37, 0x3b,
        0x43, 0x47, 0x4b, 0x4f, 0x53, 0x63, 0x67, 0x6f, 0x73,
    };
    for (unsigned i = 0; i < 400000; i++) {
        uint32_t raw = (rnd32() & ~0x7fu) | opcs[i % sizeof(opcs)];
        cross_check(&log, raw);
    }
    assert_int_equal(log.n, 0);
}

/* The whole SYSTEM opcode with rd = rs1 = 0 and funct3 = 0: exactly the
 * five fixed words and SFENCE.VMA (funct7 0001001) are instructions. */
static void test_system_priv_space(void **state)
{
    (void)state;
    for (uint32_t hi = 0; hi < (1u << 12); hi++) {
        uint32_t raw = hi << 20 | 0x73;
        struct rv_insn in;
        enum rv_op op = dec(raw, &in), want;

        switch (raw) {
        case 0x00000073: want = RV_OP_ECALL; break;
        case 0x00100073: want = RV_OP_EBREAK; break;
        case 0x10200073: want = RV_OP_SRET; break;
        case 0x30200073: want = RV_OP_MRET; break;
        case 0x10500073: want = RV_OP_WFI; break;
        default: want = (hi >> 5) == 0x09 ? RV_OP_SFENCE_VMA : RV_OP_ILLEGAL;
        }
        if (op != want)
            fail_msg("0x%08x decoded as %s, want %s", raw, rv_op_name(op), rv_op_name(want));
    }
    /* uret (0x00200073) and dret (0x7b200073) are not RV64GC S/M-mode */
    struct rv_insn in;
    assert_int_equal(dec(0x00200073, &in), RV_OP_ILLEGAL);
    assert_int_equal(dec(0x7b200073, &in), RV_OP_ILLEGAL);
    /* wfi/mret/sret with a nonzero rd or rs1 are reserved */
    assert_int_equal(dec(0x10500073 | 1u << 7, &in), RV_OP_ILLEGAL);
    assert_int_equal(dec(0x30200073 | 1u << 15, &in), RV_OP_ILLEGAL);
    /* sfence.vma rd != 0 is reserved */
    assert_int_equal(dec(0x12000073 | 5u << 7, &in), RV_OP_ILLEGAL);
}

/* ---- 2. 32-bit field tables -------------------------------------------- */

/* Encoders written from the base-format figures (unprivileged 2.3). */
static uint32_t enc_r(uint32_t f7, uint32_t rs2, uint32_t rs1, uint32_t f3, uint32_t rd,
                      uint32_t opc)
{
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
}
static uint32_t enc_i(int32_t imm, uint32_t rs1, uint32_t f3, uint32_t rd, uint32_t opc)
{
    return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc;
}
static uint32_t enc_s(int32_t imm, uint32_t rs2, uint32_t rs1, uint32_t f3, uint32_t opc)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 5) & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (u & 0x1f) << 7 | opc;
}
static uint32_t enc_b(int32_t imm, uint32_t rs2, uint32_t rs1, uint32_t f3)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | rs2 << 20 | rs1 << 15 |
           f3 << 12 | ((u >> 1) & 0xf) << 8 | ((u >> 11) & 1) << 7 | 0x63;
}
static uint32_t enc_u(uint32_t imm20, uint32_t rd, uint32_t opc)
{
    return (imm20 & 0xfffff) << 12 | rd << 7 | opc;
}
static uint32_t enc_j(int32_t imm, uint32_t rd)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 20) & 1) << 31 | ((u >> 1) & 0x3ff) << 21 | ((u >> 11) & 1) << 20 |
           ((u >> 12) & 0xff) << 12 | rd << 7 | 0x6f;
}

static int32_t sx(uint32_t v, unsigned bits)
{
    uint32_t m = 1u << (bits - 1);
    v &= (bits == 32) ? ~0u : ((1u << bits) - 1);
    return (int32_t)((v ^ m) - m);
}

/* Hand-checked words (assembled by hand from the spec, cross-checked with
 * the encoding figures): op, rd, rs1, rs2, imm. */
struct known {
    uint32_t raw;
    enum rv_op op;
    int rd, rs1, rs2;
    int32_t imm;
};

static void check_known(const struct known *k, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct rv_insn in;
        enum rv_op op = dec(k[i].raw, &in);
        if (op != k[i].op || in.op != k[i].op)
            fail_msg("0x%08x: op %s, want %s", k[i].raw, rv_op_name(op), rv_op_name(k[i].op));
        if (k[i].rd >= 0 && in.rd != k[i].rd)
            fail_msg("0x%08x (%s): rd %u, want %d", k[i].raw, rv_op_name(op), in.rd, k[i].rd);
        if (k[i].rs1 >= 0 && in.rs1 != k[i].rs1)
            fail_msg("0x%08x (%s): rs1 %u, want %d", k[i].raw, rv_op_name(op), in.rs1, k[i].rs1);
        if (k[i].rs2 >= 0 && in.rs2 != k[i].rs2)
            fail_msg("0x%08x (%s): rs2 %u, want %d", k[i].raw, rv_op_name(op), in.rs2, k[i].rs2);
        if (in.imm != k[i].imm)
            fail_msg("0x%08x (%s): imm %d, want %d", k[i].raw, rv_op_name(op), in.imm, k[i].imm);
        if (in.len != ((k[i].raw & 3) == 3 ? 4 : 2))
            fail_msg("0x%08x: len %u", k[i].raw, in.len);
    }
}

#define SINK RV_REG_SINK

static void test_known_words(void **state)
{
    static const struct known k[] = {
        /* addi a0, a1, -1 */
        {0xfff58513, RV_OP_ADDI, 10, 11, -1, -1},
        /* addi x0, x0, 0 (the canonical nop): rd goes to the sink */
        {0x00000013, RV_OP_LI, SINK, -1, -1, 0},
        /* lui a5, 0xfffff: imm is the sign-extended upper immediate */
        {0xfffff7b7, RV_OP_LUI, 15, -1, -1, (int32_t)0xfffff000},
        /* auipc t0, 0x80000 */
        {0x80000297, RV_OP_AUIPC, 5, -1, -1, INT32_MIN},
        /* jal ra, -1 MiB (imm[20] alone) */
        {0x800000ef, RV_OP_JAL, 1, -1, -1, -(1 << 20)},
        /* jal x0, +2: rd x0 -> sink */
        {0x0020006f, RV_OP_JAL, SINK, -1, -1, 2},
        /* jalr x0, 0(ra) (ret) */
        {0x00008067, RV_OP_JALR, SINK, 1, -1, 0},
        /* beq a0, a1, -2 */
        {0xfeb50fe3, RV_OP_BEQ, -1, 10, 11, -2},
        /* bgeu t6, t5, +4094 */
        {0x7fefffe3, RV_OP_BGEU, -1, 31, 30, 4094},
        /* ld s0, -8(sp) */
        {0xff813403, RV_OP_LD, 8, 2, -1, -8},
        /* sd ra, 2047(sp) */
        {0x7e113fa3, RV_OP_SD, -1, 2, 1, 2047},
        /* sw a0, -2048(a1) */
        {0x80a5a023, RV_OP_SW, -1, 11, 10, -2048},
        /* srai a0, a0, 63 */
        {0x43f55513, RV_OP_SRAI, 10, 10, -1, 63},
        /* slli t0, t0, 32 */
        {0x02029293, RV_OP_SLLI, 5, 5, -1, 32},
        /* sraiw a1, a1, 31 */
        {0x41f5d59b, RV_OP_SRAIW, 11, 11, -1, 31},
        /* sub s1, s2, s3 */
        {0x413904b3, RV_OP_SUB, 9, 18, 19, 0},
        /* mulhsu a0, a1, a2 */
        {0x02c5a533, RV_OP_MULHSU, 10, 11, 12, 0},
        /* remuw x0, a1, a2 */
        {0x02c5f03b, RV_OP_REMUW, SINK, 11, 12, 0},
        /* csrrw x0, mscratch, a0: CSR number in imm, rd kept raw (0) */
        {0x34051073, RV_OP_CSRRW, 0, 10, -1, 0x340},
        /* csrrs a0, cycle, x0 */
        {0xc0002573, RV_OP_CSRRS, 10, 0, -1, 0xc00},
        /* csrrci a0, mstatus, 8: zimm in rs1 */
        {0x30047573, RV_OP_CSRRCI, 10, 8, -1, 0x300},
    };
    (void)state;
    check_known(k, sizeof(k) / sizeof(k[0]));
    /* csrrwi x0, 0xfff, 31: rd 0, zimm 31, CSR 0xfff */
    struct rv_insn in;
    assert_int_equal(dec(0xffffd073, &in), RV_OP_CSRRWI);
    assert_int_equal(in.rd, 0);
    assert_int_equal(in.rs1, 31);
    assert_int_equal(in.imm, 0xfff);
}

static void test_imm_i_s(void **state)
{
    (void)state;
    for (int32_t imm = -2048; imm < 2048; imm++) {
        struct rv_insn in;
        /* I: addi, jalr, loads */
        assert_int_equal(dec(enc_i(imm, 7, 0, 9, 0x13), &in), RV_OP_ADDI);
        assert_int_equal(in.imm, imm);
        assert_int_equal(in.rd, 9);
        assert_int_equal(in.rs1, 7);
        assert_int_equal(dec(enc_i(imm, 7, 0, 0, 0x67), &in), RV_OP_JALR);
        assert_int_equal(in.imm, imm);
        assert_int_equal(in.rd, SINK);
        assert_int_equal(dec(enc_i(imm, 3, 4, 0, 0x03), &in), RV_OP_LBU);
        assert_int_equal(in.imm, imm);
        assert_int_equal(in.rd, SINK);
        assert_int_equal(dec(enc_i(imm, 3, 0, 12, 0x1b), &in), RV_OP_ADDIW);
        assert_int_equal(in.imm, imm);
        assert_int_equal(dec(enc_i(imm, 3, 3, 0, 0x07), &in), RV_OP_FLD);
        assert_int_equal(in.imm, imm);
        assert_int_equal(in.rd, 0);     /* f0 is a real register */
        /* S: stores, integer and FP */
        assert_int_equal(dec(enc_s(imm, 21, 4, 1, 0x23), &in), RV_OP_SH);
        assert_int_equal(in.imm, imm);
        assert_int_equal(in.rs1, 4);
        assert_int_equal(in.rs2, 21);
        assert_int_equal(dec(enc_s(imm, 0, 31, 2, 0x27), &in), RV_OP_FSW);
        assert_int_equal(in.imm, imm);
        assert_int_equal(in.rs1, 31);
        assert_int_equal(in.rs2, 0);
    }
}

static void test_imm_b_j_u(void **state)
{
    struct rv_insn in;

    (void)state;
    for (int32_t imm = -4096; imm < 4096; imm += 2) {
        assert_int_equal(dec(enc_b(imm, 12, 13, 5), &in), RV_OP_BGE);
        assert_int_equal(in.imm, imm);
        assert_int_equal(in.rs1, 13);
        assert_int_equal(in.rs2, 12);
    }
    /* J: every bit of the 20-bit offset on its own, both signs */
    for (unsigned b = 1; b <= 20; b++) {
        int32_t imm = sx(1u << b, 21);
        assert_int_equal(dec(enc_j(imm, 1), &in), RV_OP_JAL);
        assert_int_equal(in.imm, imm);
        assert_int_equal(in.rd, 1);
        if (b < 20) {       /* -(-2^20) is out of range */
            assert_int_equal(dec(enc_j(-imm, 0), &in), RV_OP_JAL);
            assert_int_equal(in.imm, -imm);
            assert_int_equal(in.rd, SINK);
        }
    }
    for (unsigned i = 0; i < 20000; i++) {
        int32_t imm = sx(rnd32() & 0x1ffffe, 21);
        assert_int_equal(dec(enc_j(imm, 31), &in), RV_OP_JAL);
        assert_int_equal(in.imm, imm);
    }
    /* U: imm = imm20 << 12 as a signed 32-bit value (sign-extends to 64) */
    for (unsigned i = 0; i < 20000; i++) {
        uint32_t imm20 = i < 20 ? 1u << i : rnd32() & 0xfffff;
        assert_int_equal(dec(enc_u(imm20, 5, 0x37), &in), RV_OP_LUI);
        assert_int_equal(in.imm, (int32_t)(imm20 << 12));
        assert_int_equal(dec(enc_u(imm20, 0, 0x17), &in), RV_OP_AUIPC);
        assert_int_equal(in.imm, (int32_t)(imm20 << 12));
        assert_int_equal(in.rd, SINK);
    }
}

/* rd = x0 of an integer destination goes to the sink for every class of
 * instruction that writes x[rd]; FP destinations, stores and branches keep
 * their field; sources are never rewritten. */
static void test_rd_sink(void **state)
{
    static const struct {
        uint32_t raw;   /* with rd = 0 */
        int int_dest;
    } w[] = {
        {0x00b50033, 1},    /* add x0, a0, a1 */
        {0x02b5003b, 1},    /* mulw x0, a0, a1 */
        {0x0005b003, 1},    /* ld x0, 0(a1) */
        {0x00c5e013, 1},    /* ori x0, a1, 12 */
        {0x0015d01b, 1},    /* srliw x0, a1, 1 */
        {0x1005202f, 1},    /* lr.w x0, (a0) */
        {0x18b5302f, 1},    /* sc.d x0, a1, (a0) */
        {0x08b5202f, 1},    /* amoswap.w x0, a1, (a0) */
        {0xe0050053, 1},    /* fmv.x.w x0, fa0 */
        {0xa0b52053, 1},    /* feq.s x0, fa0, fa1 */
        {0xc2051053, 1},    /* fcvt.w.d x0, fa0, rtz */
        {0xe2051053, 1},    /* fclass.d x0, fa0 */
        {0x00b50053, 0},    /* fadd.s f0, fa0, fa1 */
        {0xd2050053, 0},    /* fcvt.d.w f0, a0 */
        {0xf0050053, 0},    /* fmv.w.x f0, a0 */
        {0x0005b007, 0},    /* fld f0, 0(a1) */
        {0x58b5f043, 0},    /* fmadd.s f0, fa1, fa1, fa1 */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        struct rv_insn in;
        uint32_t raw = w[i].raw & ~0xf80u;
        enum rv_op op = dec(raw, &in);
        if (op == RV_OP_ILLEGAL)
            fail_msg("0x%08x unexpectedly ILLEGAL", raw);
        if (in.rd != (w[i].int_dest ? SINK : 0))
            fail_msg("0x%08x (%s): rd %u", raw, rv_op_name(op), in.rd);
        /* and with rd != 0 the field comes through */
        dec(raw | 17u << 7, &in);
        if (in.rd != 17)
            fail_msg("0x%08x (%s): rd %u with rd=17", raw | 17u << 7, rv_op_name(op), in.rd);
    }
    /* R-type: every register field lands in its slot */
    for (uint32_t r = 0; r < 32; r++) {
        struct rv_insn in;
        dec(enc_r(0x01, (r + 3) & 31, (r + 7) & 31, 4, r, 0x33), &in);   /* div */
        assert_int_equal(in.op, RV_OP_DIV);
        assert_int_equal(in.rd, r ? r : SINK);
        assert_int_equal(in.rs1, (r + 7) & 31);
        assert_int_equal(in.rs2, (r + 3) & 31);
    }
    /* a source of x0 stays x0 (x[0] reads as zero) */
    struct rv_insn in;
    dec(0x00000033 | 5u << 7, &in);     /* add t0, x0, x0 */
    assert_int_equal(in.rs1, 0);
    assert_int_equal(in.rs2, 0);
    assert_int_equal(in.rd, 5);
}

/* Reserved 32-bit encodings, chosen one per rule, give ILLEGAL with the
 * raw word in imm (it becomes mtval). */
static void test_reserved_32(void **state)
{
    static const uint32_t w[] = {
        0xffffffff,             /* >= 80-bit encoding space */
        0x0000001f,             /* 48-bit prefix */
        0x0000003f,             /* 64-bit prefix */
        0x00007003,             /* load funct3 111 */
        0x00004023,             /* store funct3 100 */
        0x00002063,             /* branch funct3 010 */
        0x00001067,             /* jalr funct3 001 */
        0x04001013,             /* slli with funct6 000001 */
        0x02001013 | 0x40000000u, /* slli imm[11:6] = 010000 */
        0x4000501b | 0x02000000u, /* sraiw shamt[5] set (RV64: reserved) */
        0x0200101b,             /* slliw shamt[5] set */
        0x40001033,             /* sll with funct7 0100000 */
        0x40006033,             /* or with funct7 0100000 */
        0x02001033 | 0x08000000u, /* funct7 0000101 */
        0x0200103b,             /* mulw funct3 001 (no mulhw) */
        0x4000603b,             /* OP-32 funct3 110 funct7 0100000 */
        0x00004073,             /* SYSTEM funct3 100 */
        0x0000400f,             /* misc-mem funct3 100 */
        0x0000402f,             /* AMO funct3 100 */
        0x1015202f,             /* lr.w with rs2 != 0 */
        0x2800202f,             /* AMO funct5 00101: unassigned */
        0x00004007,             /* load-fp funct3 100 (no Q/H) */
        0x06000053,             /* fadd with fmt 11 (Q) */
        0x0000d053,             /* fadd.s rm 101 */
        0x0000e053,             /* fadd.s rm 110 */
        0x58100053,             /* fsqrt.s with rs2 = 1 */
        0x20003053,             /* fsgnj.s rm 011 */
        0x28002053,             /* fmin.s rm 010 */
        0xa0003053,             /* feq/flt/fle rm 011 */
        0xc0400053,             /* fcvt.w.s rs2 = 4 */
        0xe0002053,             /* fmv.x.w rm 010 */
        0xf0001053,             /* fmv.w.x rm 001 */
        0xf0100053,             /* fmv.w.x rs2 = 1 */
        0x40000053,             /* fcvt.s.s (rs2 = 0, fmt S) */
        0x42100053,             /* fcvt.d.d */
        0x0400d043,             /* fmadd.s? fmt 10 (H) */
        0x0000d043,             /* fmadd.s rm 101 */
        0x30000053,             /* OP-FP funct5 00110: unassigned */
        0x00000077,             /* OP-P (reserved) */
        0x00000057,             /* OP-V: no V extension */
        0x0000000b,             /* custom-0 */
        0x0000005b,             /* custom-2 */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        struct rv_insn in;
        uint32_t raw = w[i];
        enum rv_op op = dec(raw, &in);
        if (op != RV_OP_ILLEGAL)
            fail_msg("0x%08x decoded as %s, want ILLEGAL", raw, rv_op_name(op));
        assert_int_equal((uint32_t)in.imm, raw);
        assert_int_equal(in.len, 4);
        assert_false(disas_legal(raw));
    }
}

/* ---- 3. compressed ----------------------------------------------------- */

/* Encoders from the RVC figures (unprivileged 16.x, Tables 16.5-16.7).
 * r' fields hold x8..x15 as 0..7. */
static uint32_t c_ciw(uint32_t f3, uint32_t imm, uint32_t rdp)     /* c.addi4spn */
{
    return f3 << 13 | ((imm >> 4) & 3) << 11 | ((imm >> 6) & 15) << 7 |
           ((imm >> 2) & 1) << 6 | ((imm >> 3) & 1) << 5 | (rdp - 8) << 2 | 0;
}
static uint32_t c_cl_w(uint32_t f3, uint32_t imm, uint32_t rs1p, uint32_t rp)  /* lw/sw */
{
    return f3 << 13 | ((imm >> 3) & 7) << 10 | (rs1p - 8) << 7 | ((imm >> 2) & 1) << 6 |
           ((imm >> 6) & 1) << 5 | (rp - 8) << 2 | 0;
}
static uint32_t c_cl_d(uint32_t f3, uint32_t imm, uint32_t rs1p, uint32_t rp)  /* ld/sd/fld/fsd */
{
    return f3 << 13 | ((imm >> 3) & 7) << 10 | (rs1p - 8) << 7 | ((imm >> 6) & 3) << 5 |
           (rp - 8) << 2 | 0;
}
static uint32_t c_ci(uint32_t f3, uint32_t imm6, uint32_t rd, uint32_t q)
{
    return f3 << 13 | ((imm6 >> 5) & 1) << 12 | rd << 7 | (imm6 & 31) << 2 | q;
}
static uint32_t c_addi16sp(int32_t imm)
{
    uint32_t u = (uint32_t)imm;
    return 3u << 13 | ((u >> 9) & 1) << 12 | 2u << 7 | ((u >> 4) & 1) << 6 |
           ((u >> 6) & 1) << 5 | ((u >> 7) & 3) << 3 | ((u >> 5) & 1) << 2 | 1;
}
static uint32_t c_j(uint32_t f3, int32_t imm)
{
    uint32_t u = (uint32_t)imm;
    return f3 << 13 | ((u >> 11) & 1) << 12 | ((u >> 4) & 1) << 11 | ((u >> 8) & 3) << 9 |
           ((u >> 10) & 1) << 8 | ((u >> 6) & 1) << 7 | ((u >> 7) & 1) << 6 |
           ((u >> 1) & 7) << 3 | ((u >> 5) & 1) << 2 | 1;
}
static uint32_t c_b(uint32_t f3, int32_t imm, uint32_t rs1p)
{
    uint32_t u = (uint32_t)imm;
    return f3 << 13 | ((u >> 8) & 1) << 12 | ((u >> 3) & 3) << 10 | (rs1p - 8) << 7 |
           ((u >> 6) & 3) << 5 | ((u >> 1) & 3) << 3 | ((u >> 5) & 1) << 2 | 1;
}
static uint32_t c_lwsp(uint32_t imm, uint32_t rd)
{
    return 2u << 13 | ((imm >> 5) & 1) << 12 | rd << 7 | ((imm >> 2) & 7) << 4 |
           ((imm >> 6) & 3) << 2 | 2;
}
static uint32_t c_ldsp(uint32_t f3, uint32_t imm, uint32_t rd)    /* ldsp/fldsp */
{
    return f3 << 13 | ((imm >> 5) & 1) << 12 | rd << 7 | ((imm >> 3) & 3) << 5 |
           ((imm >> 6) & 7) << 2 | 2;
}
static uint32_t c_swsp(uint32_t imm, uint32_t rs2)
{
    return 6u << 13 | ((imm >> 2) & 15) << 9 | ((imm >> 6) & 3) << 7 | rs2 << 2 | 2;
}
static uint32_t c_sdsp(uint32_t f3, uint32_t imm, uint32_t rs2)   /* sdsp/fsdsp */
{
    return f3 << 13 | ((imm >> 3) & 7) << 10 | ((imm >> 6) & 7) << 7 | rs2 << 2 | 2;
}

static void expect(uint32_t raw, enum rv_op op, int rd, int rs1, int rs2, int32_t imm)
{
    struct rv_insn in;
    enum rv_op got = dec(raw, &in);

    if (got != op)
        fail_msg("c 0x%04x: op %s, want %s", raw, rv_op_name(got), rv_op_name(op));
    if (in.len != 2)
        fail_msg("c 0x%04x: len %u", raw, in.len);
    if (rd >= 0 && in.rd != rd)
        fail_msg("c 0x%04x (%s): rd %u, want %d", raw, rv_op_name(op), in.rd, rd);
    if (rs1 >= 0 && in.rs1 != rs1)
        fail_msg("c 0x%04x (%s): rs1 %u, want %d", raw, rv_op_name(op), in.rs1, rs1);
    if (rs2 >= 0 && in.rs2 != rs2)
        fail_msg("c 0x%04x (%s): rs2 %u, want %d", raw, rv_op_name(op), in.rs2, rs2);
    if (in.imm != imm)
        fail_msg("c 0x%04x (%s): imm %d, want %d", raw, rv_op_name(op), in.imm, imm);
}

static void expect_illegal16(uint32_t raw)
{
    struct rv_insn in;
    enum rv_op got = dec(raw, &in);

    if (got != RV_OP_ILLEGAL)
        fail_msg("c 0x%04x: %s, want ILLEGAL", raw, rv_op_name(got));
    assert_int_equal((uint32_t)in.imm, raw & 0xffff);
    assert_int_equal(in.len, 2);
}

static void test_c_quadrant0(void **state)
{
    (void)state;
    for (uint32_t r = 8; r < 16; r++) {
        /* c.addi4spn rd', sp, nzuimm (multiples of 4 up to 1020) */
        for (uint32_t imm = 4; imm < 1024; imm += 4)
            expect(c_ciw(0, imm, r), RV_OP_ADDI, (int)r, 2, -1, (int32_t)imm);
        expect_illegal16(c_ciw(0, 0, r));       /* nzuimm = 0: reserved */
        for (uint32_t rs = 8; rs < 16; rs += 7) {
            for (uint32_t imm = 0; imm < 128; imm += 4) {
                expect(c_cl_w(2, imm, rs, r), RV_OP_LW, (int)r, (int)rs, -1, (int32_t)imm);
                expect(c_cl_w(6, imm, rs, r), RV_OP_SW, -1, (int)rs, (int)r, (int32_t)imm);
            }
            for (uint32_t imm = 0; imm < 256; imm += 8) {
                expect(c_cl_d(3, imm, rs, r), RV_OP_LD, (int)r, (int)rs, -1, (int32_t)imm);
                expect(c_cl_d(7, imm, rs, r), RV_OP_SD, -1, (int)rs, (int)r, (int32_t)imm);
                expect(c_cl_d(1, imm, rs, r), RV_OP_FLD, (int)r, (int)rs, -1, (int32_t)imm);
                expect(c_cl_d(5, imm, rs, r), RV_OP_FSD, -1, (int)rs, (int)r, (int32_t)imm);
            }
        }
    }
    /* funct3 100 in quadrant 0 is reserved whatever the other bits */
    for (uint32_t low = 0; low < (1u << 13); low += 4)
        expect_illegal16(4u << 13 | low);
    expect_illegal16(0x0000);   /* the all-zero word is defined illegal */
}

static void test_c_quadrant1(void **state)
{
    (void)state;
    for (uint32_t rd = 0; rd < 32; rd++) {
        for (uint32_t i6 = 0; i6 < 64; i6++) {
            int32_t imm = sx(i6, 6);
            /* c.addi (rd=0 or imm=0 are HINTs / nop: still legal ADDI) */
            expect(c_ci(0, i6, rd, 1), RV_OP_ADDI, rd ? (int)rd : SINK, (int)rd, -1, imm);
            /* c.addiw: rd = 0 reserved */
            if (rd)
                expect(c_ci(1, i6, rd, 1), RV_OP_ADDIW, (int)rd, (int)rd, -1, imm);
            else
                expect_illegal16(c_ci(1, i6, 0, 1));
            /* c.li rd, imm = addi rd, x0, imm */
            expect(c_ci(2, i6, rd, 1), RV_OP_LI, rd ? (int)rd : SINK, -1, -1, imm);
            /* c.lui: nzimm[17:12]; rd = 2 is c.addi16sp; imm 0 reserved */
            if (rd != 2) {
                if (i6)
                    expect(c_ci(3, i6, rd, 1), RV_OP_LUI, rd ? (int)rd : SINK, -1, -1,
                           sx(i6 << 12, 18));
                else
                    expect_illegal16(c_ci(3, 0, rd, 1));
            }
        }
    }
    /* c.addi16sp: nzimm multiples of 16 in [-512, 496] */
    for (int32_t imm = -512; imm < 512; imm += 16) {
        if (imm)
            expect(c_addi16sp(imm), RV_OP_ADDI, 2, 2, -1, imm);
        else
            expect_illegal16(c_addi16sp(0));
    }
    for (uint32_t r = 8; r < 16; r++) {
        for (uint32_t sh = 0; sh < 64; sh++) {
            uint32_t base = 4u << 13 | (sh >> 5) << 12 | (r - 8) << 7 | (sh & 31) << 2 | 1;
            expect(base | 0u << 10, RV_OP_SRLI, (int)r, (int)r, -1, (int32_t)sh);
            expect(base | 1u << 10, RV_OP_SRAI, (int)r, (int)r, -1, (int32_t)sh);
            expect(base | 2u << 10, RV_OP_ANDI, (int)r, (int)r, -1, sx(sh, 6));
        }
        for (uint32_t r2 = 8; r2 < 16; r2++) {
            static const enum rv_op ca[8] = {
                RV_OP_SUB, RV_OP_XOR, RV_OP_OR, RV_OP_AND,
                RV_OP_SUBW, RV_OP_ADDW, RV_OP_ILLEGAL, RV_OP_ILLEGAL,
            };
            for (uint32_t k = 0; k < 8; k++) {
                uint32_t raw = 4u << 13 | (k >> 2) << 12 | 3u << 10 | (r - 8) << 7 |
                               (k & 3) << 5 | (r2 - 8) << 2 | 1;
                if (ca[k] == RV_OP_ILLEGAL)
                    expect_illegal16(raw);
                else
                    expect(raw, ca[k], (int)r, (int)r, (int)r2, 0);
            }
        }
        /* c.beqz / c.bnez: offsets -256..254 */
        for (int32_t imm = -256; imm < 256; imm += 2) {
            expect(c_b(6, imm, r), RV_OP_BEQ, -1, (int)r, 0, imm);
            expect(c_b(7, imm, r), RV_OP_BNE, -1, (int)r, 0, imm);
        }
    }
    /* c.j = jal x0: every offset -2048..2046 */
    for (int32_t imm = -2048; imm < 2048; imm += 2)
        expect(c_j(5, imm), RV_OP_JAL, SINK, -1, -1, imm);
}

static void test_c_quadrant2(void **state)
{
    (void)state;
    for (uint32_t rd = 0; rd < 32; rd++) {
        for (uint32_t sh = 0; sh < 64; sh++)
            expect(c_ci(0, sh, rd, 2), RV_OP_SLLI, rd ? (int)rd : SINK, (int)rd, -1,
                   (int32_t)sh);
        for (uint32_t imm = 0; imm < 256; imm += 4) {
            if (rd)
                expect(c_lwsp(imm, rd), RV_OP_LW, (int)rd, 2, -1, (int32_t)imm);
            else
                expect_illegal16(c_lwsp(imm, 0));
            expect(c_swsp(imm, rd), RV_OP_SW, -1, 2, (int)rd, (int32_t)imm);
        }
        for (uint32_t imm = 0; imm < 512; imm += 8) {
            if (rd)
                expect(c_ldsp(3, imm, rd), RV_OP_LD, (int)rd, 2, -1, (int32_t)imm);
            else
                expect_illegal16(c_ldsp(3, imm, 0));
            /* c.fldsp f0 is fine: f0 is a real register */
            expect(c_ldsp(1, imm, rd), RV_OP_FLD, (int)rd, 2, -1, (int32_t)imm);
            expect(c_sdsp(7, imm, rd), RV_OP_SD, -1, 2, (int)rd, (int32_t)imm);
            expect(c_sdsp(5, imm, rd), RV_OP_FSD, -1, 2, (int)rd, (int32_t)imm);
        }
        for (uint32_t rs2 = 0; rs2 < 32; rs2++) {
            uint32_t cr0 = 4u << 13 | rd << 7 | rs2 << 2 | 2;     /* bit 12 = 0 */
            uint32_t cr1 = cr0 | 1u << 12;
            if (rs2 == 0) {
                /* c.jr rs1 = jalr x0, 0(rs1); rs1 = 0 reserved */
                if (rd)
                    expect(cr0, RV_OP_JALR, SINK, (int)rd, -1, 0);
                else
                    expect_illegal16(cr0);
                /* c.jalr rs1 = jalr ra, 0(rs1); rs1 = 0 is c.ebreak */
                if (rd)
                    expect(cr1, RV_OP_JALR, 1, (int)rd, -1, 0);
                else
                    expect(cr1, RV_OP_EBREAK, -1, -1, -1, 0);
            } else {
                /* c.mv rd, rs2 = add rd, x0, rs2 (rd = 0 is a HINT) */
                struct rv_insn in;
                enum rv_op op = dec(cr0, &in);
                if (op != RV_OP_MV && op != RV_OP_ADD)
                    fail_msg("c.mv 0x%04x decoded as %s", cr0, rv_op_name(op));
                assert_int_equal(in.rd, rd ? rd : SINK);
                if (op == RV_OP_MV)
                    assert_int_equal(in.rs1, rs2);      /* MV copies x[rs1] */
                else
                    assert_true(in.rs1 == 0 && in.rs2 == rs2);
                /* c.add rd, rs2 = add rd, rd, rs2 */
                expect(cr1, RV_OP_ADD, rd ? (int)rd : SINK, (int)rd, (int)rs2, 0);
            }
        }
    }
}

/* Compressed and 32-bit forms of the same instruction behave alike: spot
 * checks that the expansions carry exactly the 32-bit decode's fields. */
static void test_c_matches_32(void **state)
{
    static const struct {
        uint32_t c, w;
    } pairs[] = {
        {0x4501, 0x00000513},                   /* c.li a0,0 / addi a0,x0,0 */
        {0x8082, 0x00008067},                   /* c.jr ra / jalr x0,0(ra) */
        {0x9082, 0x000080e7},                   /* c.jalr ra / jalr ra,0(ra) */
        {0x9002, 0x00100073},                   /* c.ebreak / ebreak */
        {0x6522, 0x00813503},                   /* c.ldsp a0,8(sp) / ld a0,8(sp) */
        {0xe42a, 0x00a13423},                   /* c.sdsp a0,8(sp) / sd a0,8(sp) */
        {0x8c0d, 0x40b40433},                   /* c.sub s0,a1 / sub s0,s0,a1 */
        {0x157d, 0xfff50513},                   /* c.addi a0,-1 (assembler's form) */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        struct rv_insn a, b;
        dec(pairs[i].c, &a);
        dec(pairs[i].w, &b);
        /* rs2 of a 32-bit I-type is imm bits, not a register: compare it
         * only for R-type and store forms */
        int has_rs2 = a.op == RV_OP_SUB || a.op == RV_OP_SD;
        if (a.op != b.op || a.rd != b.rd || a.imm != b.imm || a.rs1 != b.rs1 ||
            (has_rs2 && a.rs2 != b.rs2))
            fail_msg("c 0x%04x (%s rd%u rs1 %u imm %d) differs from 0x%08x (%s rd%u rs1 %u imm %d)",
                     pairs[i].c, rv_op_name(a.op), a.rd, a.rs1, a.imm, pairs[i].w,
                     rv_op_name(b.op), b.rd, b.rs1, b.imm);
        assert_int_equal(a.len, 2);
        assert_int_equal(b.len, 4);
    }
}

/* A block must end at control flow and at state-changing system ops, and
 * must not end at ordinary arithmetic (the interpreter relies on this). */
static void test_ends_block(void **state)
{
    (void)state;
    assert_true(rv_op_ends_block(RV_OP_JAL));
    assert_true(rv_op_ends_block(RV_OP_JALR));
    assert_true(rv_op_ends_block(RV_OP_BEQ));
    assert_true(rv_op_ends_block(RV_OP_BGEU));
    assert_true(rv_op_ends_block(RV_OP_ECALL));
    assert_true(rv_op_ends_block(RV_OP_MRET));
    assert_true(rv_op_ends_block(RV_OP_SRET));
    assert_true(rv_op_ends_block(RV_OP_WFI));
    assert_true(rv_op_ends_block(RV_OP_SFENCE_VMA));
    assert_true(rv_op_ends_block(RV_OP_FENCE_I));
    assert_true(rv_op_ends_block(RV_OP_CSRRW));
    assert_true(rv_op_ends_block(RV_OP_CSRRCI));
    assert_true(rv_op_ends_block(RV_OP_ILLEGAL));
    assert_false(rv_op_ends_block(RV_OP_ADD));
    assert_false(rv_op_ends_block(RV_OP_LD));
    assert_false(rv_op_ends_block(RV_OP_SD));
    assert_false(rv_op_ends_block(RV_OP_FP_D));
    assert_string_equal(rv_op_name(RV_OP_ADDI), "ADDI");
    assert_string_equal(rv_op_name(RV_OP_ILLEGAL), "ILLEGAL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_16bit),
        cmocka_unit_test(test_32bit_sweep),
        cmocka_unit_test(test_32bit_random),
        cmocka_unit_test(test_system_priv_space),
        cmocka_unit_test(test_known_words),
        cmocka_unit_test(test_imm_i_s),
        cmocka_unit_test(test_imm_b_j_u),
        cmocka_unit_test(test_rd_sink),
        cmocka_unit_test(test_reserved_32),
        cmocka_unit_test(test_c_quadrant0),
        cmocka_unit_test(test_c_quadrant1),
        cmocka_unit_test(test_c_quadrant2),
        cmocka_unit_test(test_c_matches_32),
        cmocka_unit_test(test_ends_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
