/* RV64GC decoder: raw instruction bits -> struct rv_insn.
 * Compressed forms expand to the op of their 32-bit equivalent; reserved
 * encodings become RV_OP_ILLEGAL carrying the raw bits for mtval. */
#include <string.h>

#include "rv_insn.h"

static inline uint32_t bits(uint32_t v, int hi, int lo)
{
    return (v >> lo) & ((1u << (hi - lo + 1)) - 1);
}

static inline int32_t sext(uint32_t v, int width)
{
    return (int32_t)(v << (32 - width)) >> (32 - width);
}

static enum rv_op illegal(uint32_t raw, struct rv_insn *o)
{
    memset(o, 0, sizeof(*o));
    o->op = RV_OP_ILLEGAL;
    o->imm = (int32_t)raw;
    return RV_OP_ILLEGAL;
}

/* Fill an instruction whose rd is an integer register; rd = x0 goes to
 * the sink so the interpreter never tests for it. */
static enum rv_op set_x(struct rv_insn *o, enum rv_op op, unsigned rd, unsigned rs1,
                        unsigned rs2, int32_t imm)
{
    o->op = op;
    o->rd = rd ? rd : RV_REG_SINK;
    o->rs1 = rs1;
    o->rs2 = rs2;
    o->imm = imm;
    return op;
}

/* Same, but rd is not an integer destination (stores, branches, FP). */
static enum rv_op set_raw(struct rv_insn *o, enum rv_op op, unsigned rd, unsigned rs1,
                          unsigned rs2, int32_t imm)
{
    o->op = op;
    o->rd = rd;
    o->rs1 = rs1;
    o->rs2 = rs2;
    o->imm = imm;
    return op;
}

static enum rv_op decode_op_fp(uint32_t raw, struct rv_insn *o)
{
    unsigned f7 = bits(raw, 31, 25), rs2 = bits(raw, 24, 20), rm = bits(raw, 14, 12);
    unsigned rd = bits(raw, 11, 7), rs1 = bits(raw, 19, 15);
    unsigned fmt = f7 & 3, base = f7 & ~3u;
    int int_rd = 0;         /* destination is an integer register */
    int uses_rm = 0;        /* rm is a rounding mode (checked at run time) */

    if (fmt > 1)
        return illegal(raw, o);
    switch (base) {
    case 0x00: case 0x04: case 0x08: case 0x0c:     /* add sub mul div */
        uses_rm = 1;
        break;
    case 0x2c:                                      /* sqrt */
        if (rs2 != 0)
            return illegal(raw, o);
        uses_rm = 1;
        break;
    case 0x10:                                      /* sgnj, sgnjn, sgnjx */
        if (rm > 2)
            return illegal(raw, o);
        break;
    case 0x14:                                      /* min, max */
        if (rm > 1)
            return illegal(raw, o);
        break;
    case 0x20:                                      /* fcvt.s.d / fcvt.d.s */
        if (rs2 != (fmt == 0 ? 1u : 0u))
            return illegal(raw, o);
        uses_rm = 1;
        break;
    case 0x50:                                      /* fle, flt, feq */
        if (rm > 2)
            return illegal(raw, o);
        int_rd = 1;
        break;
    case 0x60:                                      /* fcvt.{w,wu,l,lu}.fmt */
        if (rs2 > 3)
            return illegal(raw, o);
        int_rd = 1;
        uses_rm = 1;
        break;
    case 0x68:                                      /* fcvt.fmt.{w,wu,l,lu} */
        if (rs2 > 3)
            return illegal(raw, o);
        uses_rm = 1;
        break;
    case 0x70:                                      /* fmv.x.fmt, fclass */
        if (rs2 != 0 || rm > 1)
            return illegal(raw, o);
        int_rd = 1;
        break;
    case 0x78:                                      /* fmv.fmt.x */
        if (rs2 != 0 || rm != 0)
            return illegal(raw, o);
        break;
    default:
        return illegal(raw, o);
    }
    if (uses_rm && (rm == 5 || rm == 6))
        return illegal(raw, o);
    if (int_rd)
        set_x(o, fmt ? RV_OP_FP_D : RV_OP_FP_S, rd, rs1, rs2, 0);
    else
        set_raw(o, fmt ? RV_OP_FP_D : RV_OP_FP_S, rd, rs1, rs2, 0);
    o->rm = rm;
    o->fop = base;
    return o->op;
}

static enum rv_op decode_amo(uint32_t raw, struct rv_insn *o)
{
    unsigned f3 = bits(raw, 14, 12), f5 = bits(raw, 31, 27);
    unsigned rd = bits(raw, 11, 7), rs1 = bits(raw, 19, 15), rs2 = bits(raw, 24, 20);
    int dbl;

    if (f3 != 2 && f3 != 3)
        return illegal(raw, o);
    dbl = f3 == 3;
    switch (f5) {
    case 0x02:
        if (rs2 != 0)
            return illegal(raw, o);
        return set_x(o, dbl ? RV_OP_LR_D : RV_OP_LR_W, rd, rs1, 0, 0);
    case 0x03:
        return set_x(o, dbl ? RV_OP_SC_D : RV_OP_SC_W, rd, rs1, rs2, 0);
    case RV_AMO_ADD: case RV_AMO_SWAP: case RV_AMO_XOR: case RV_AMO_OR: case RV_AMO_AND:
    case RV_AMO_MIN: case RV_AMO_MAX: case RV_AMO_MINU: case RV_AMO_MAXU:
        set_x(o, dbl ? RV_OP_AMO_D : RV_OP_AMO_W, rd, rs1, rs2, 0);
        o->rm = f5;
        return o->op;
    default:
        return illegal(raw, o);
    }
}

static enum rv_op decode_system(uint32_t raw, struct rv_insn *o)
{
    unsigned f3 = bits(raw, 14, 12), rd = bits(raw, 11, 7), rs1 = bits(raw, 19, 15);
    static const enum rv_op csr_ops[8] = {
        RV_OP_ILLEGAL, RV_OP_CSRRW, RV_OP_CSRRS, RV_OP_CSRRC,
        RV_OP_ILLEGAL, RV_OP_CSRRWI, RV_OP_CSRRSI, RV_OP_CSRRCI,
    };

    if (f3 == 0) {
        switch (raw) {
        case 0x00000073: return set_raw(o, RV_OP_ECALL, 0, 0, 0, 0);
        case 0x00100073: return set_raw(o, RV_OP_EBREAK, 0, 0, 0, 0);
        case 0x10200073: return set_raw(o, RV_OP_SRET, 0, 0, 0, 0);
        case 0x30200073: return set_raw(o, RV_OP_MRET, 0, 0, 0, 0);
        case 0x10500073: return set_raw(o, RV_OP_WFI, 0, 0, 0, 0);
        }
        if (bits(raw, 31, 25) == 0x09 && rd == 0)
            return set_raw(o, RV_OP_SFENCE_VMA, 0, rs1, bits(raw, 24, 20), 0);
        return illegal(raw, o);
    }
    if (csr_ops[f3] == RV_OP_ILLEGAL)
        return illegal(raw, o);
    /* rd = x0 matters for CSRRW (no read side effects), so keep it raw and
     * let the helper redirect; rs1 doubles as zimm for the I forms. */
    set_raw(o, csr_ops[f3], rd, rs1, 0, (int32_t)bits(raw, 31, 20));
    return o->op;
}

static enum rv_op decode32(uint32_t raw, struct rv_insn *o)
{
    unsigned opc = raw & 0x7f, f3 = bits(raw, 14, 12), f7 = bits(raw, 31, 25);
    unsigned rd = bits(raw, 11, 7), rs1 = bits(raw, 19, 15), rs2 = bits(raw, 24, 20);
    int32_t imm_i = (int32_t)raw >> 20;
    int32_t imm_s = sext((bits(raw, 31, 25) << 5) | bits(raw, 11, 7), 12);
    int32_t imm_b = sext((bits(raw, 31, 31) << 12) | (bits(raw, 7, 7) << 11) |
                         (bits(raw, 30, 25) << 5) | (bits(raw, 11, 8) << 1), 13);
    int32_t imm_j = sext((bits(raw, 31, 31) << 20) | (bits(raw, 19, 12) << 12) |
                         (bits(raw, 20, 20) << 11) | (bits(raw, 30, 21) << 1), 21);
    static const enum rv_op loads[8] = {
        RV_OP_LB, RV_OP_LH, RV_OP_LW, RV_OP_LD, RV_OP_LBU, RV_OP_LHU, RV_OP_LWU, RV_OP_ILLEGAL,
    };
    static const enum rv_op stores[8] = {
        RV_OP_SB, RV_OP_SH, RV_OP_SW, RV_OP_SD,
        RV_OP_ILLEGAL, RV_OP_ILLEGAL, RV_OP_ILLEGAL, RV_OP_ILLEGAL,
    };
    static const enum rv_op branches[8] = {
        RV_OP_BEQ, RV_OP_BNE, RV_OP_ILLEGAL, RV_OP_ILLEGAL,
        RV_OP_BLT, RV_OP_BGE, RV_OP_BLTU, RV_OP_BGEU,
    };
    static const enum rv_op opimm[8] = {
        RV_OP_ADDI, RV_OP_SLLI, RV_OP_SLTI, RV_OP_SLTIU,
        RV_OP_XORI, RV_OP_SRLI, RV_OP_ORI, RV_OP_ANDI,
    };
    static const enum rv_op op_base[8] = {
        RV_OP_ADD, RV_OP_SLL, RV_OP_SLT, RV_OP_SLTU, RV_OP_XOR, RV_OP_SRL, RV_OP_OR, RV_OP_AND,
    };
    static const enum rv_op op_mul[8] = {
        RV_OP_MUL, RV_OP_MULH, RV_OP_MULHSU, RV_OP_MULHU,
        RV_OP_DIV, RV_OP_DIVU, RV_OP_REM, RV_OP_REMU,
    };
    static const enum rv_op op_mulw[8] = {
        RV_OP_MULW, RV_OP_ILLEGAL, RV_OP_ILLEGAL, RV_OP_ILLEGAL,
        RV_OP_DIVW, RV_OP_DIVUW, RV_OP_REMW, RV_OP_REMUW,
    };
    enum rv_op op;

    switch (opc) {
    case 0x37:
        return set_x(o, RV_OP_LUI, rd, 0, 0, (int32_t)(raw & 0xfffff000u));
    case 0x17:
        return set_x(o, RV_OP_AUIPC, rd, 0, 0, (int32_t)(raw & 0xfffff000u));
    case 0x6f:
        return set_x(o, RV_OP_JAL, rd, 0, 0, imm_j);
    case 0x67:
        if (f3 != 0)
            return illegal(raw, o);
        return set_x(o, RV_OP_JALR, rd, rs1, 0, imm_i);
    case 0x63:
        if (branches[f3] == RV_OP_ILLEGAL)
            return illegal(raw, o);
        return set_raw(o, branches[f3], 0, rs1, rs2, imm_b);
    case 0x03:
        if (loads[f3] == RV_OP_ILLEGAL)
            return illegal(raw, o);
        return set_x(o, loads[f3], rd, rs1, 0, imm_i);
    case 0x23:
        if (stores[f3] == RV_OP_ILLEGAL)
            return illegal(raw, o);
        return set_raw(o, stores[f3], 0, rs1, rs2, imm_s);
    case 0x13:
        op = opimm[f3];
        if (f3 == 1) {
            if (bits(raw, 31, 26) != 0)
                return illegal(raw, o);
            return set_x(o, op, rd, rs1, 0, (int32_t)bits(raw, 25, 20));
        }
        if (f3 == 5) {
            unsigned f6 = bits(raw, 31, 26);
            if (f6 != 0 && f6 != 0x10)
                return illegal(raw, o);
            return set_x(o, f6 ? RV_OP_SRAI : RV_OP_SRLI, rd, rs1, 0, (int32_t)bits(raw, 25, 20));
        }
        if (op == RV_OP_ADDI && rs1 == 0)
            return set_x(o, RV_OP_LI, rd, 0, 0, imm_i);
        return set_x(o, op, rd, rs1, 0, imm_i);
    case 0x33:
        if (f7 == 0x00)
            op = op_base[f3];
        else if (f7 == 0x01)
            op = op_mul[f3];
        else if (f7 == 0x20 && f3 == 0)
            op = RV_OP_SUB;
        else if (f7 == 0x20 && f3 == 5)
            op = RV_OP_SRA;
        else
            return illegal(raw, o);
        return set_x(o, op, rd, rs1, rs2, 0);
    case 0x1b:
        if (f3 == 0)
            return set_x(o, RV_OP_ADDIW, rd, rs1, 0, imm_i);
        if (f3 == 1 && f7 == 0)
            return set_x(o, RV_OP_SLLIW, rd, rs1, 0, (int32_t)rs2);
        if (f3 == 5 && (f7 == 0 || f7 == 0x20))
            return set_x(o, f7 ? RV_OP_SRAIW : RV_OP_SRLIW, rd, rs1, 0, (int32_t)rs2);
        return illegal(raw, o);
    case 0x3b:
        if (f7 == 0x01)
            op = op_mulw[f3];
        else if (f7 == 0x00 && f3 == 0)
            op = RV_OP_ADDW;
        else if (f7 == 0x20 && f3 == 0)
            op = RV_OP_SUBW;
        else if (f7 == 0x00 && f3 == 1)
            op = RV_OP_SLLW;
        else if (f7 == 0x00 && f3 == 5)
            op = RV_OP_SRLW;
        else if (f7 == 0x20 && f3 == 5)
            op = RV_OP_SRAW;
        else
            op = RV_OP_ILLEGAL;
        if (op == RV_OP_ILLEGAL)
            return illegal(raw, o);
        return set_x(o, op, rd, rs1, rs2, 0);
    case 0x0f:
        if (f3 == 0)
            return set_raw(o, RV_OP_FENCE, 0, 0, 0, 0);
        if (f3 == 1)
            return set_raw(o, RV_OP_FENCE_I, 0, 0, 0, 0);
        return illegal(raw, o);
    case 0x73:
        return decode_system(raw, o);
    case 0x2f:
        return decode_amo(raw, o);
    case 0x07:
        if (f3 == 2 || f3 == 3)
            return set_raw(o, f3 == 2 ? RV_OP_FLW : RV_OP_FLD, rd, rs1, 0, imm_i);
        return illegal(raw, o);
    case 0x27:
        if (f3 == 2 || f3 == 3)
            return set_raw(o, f3 == 2 ? RV_OP_FSW : RV_OP_FSD, 0, rs1, rs2, imm_s);
        return illegal(raw, o);
    case 0x43: case 0x47: case 0x4b: case 0x4f: {
        unsigned fmt = bits(raw, 26, 25);
        if (fmt > 1 || f3 == 5 || f3 == 6)
            return illegal(raw, o);
        set_raw(o, fmt ? RV_OP_FMA_D : RV_OP_FMA_S, rd, rs1, rs2, 0);
        o->rs3 = bits(raw, 31, 27);
        o->rm = f3;
        o->fop = (opc >> 2) & 3;    /* 0 madd, 1 msub, 2 nmsub, 3 nmadd */
        return o->op;
    }
    case 0x53:
        return decode_op_fp(raw, o);
    default:
        return illegal(raw, o);
    }
}

/* Compressed register fields name x8..x15. */
#define CR(v) (8 + (v))

static enum rv_op decode16(uint32_t raw, struct rv_insn *o)
{
    unsigned q = raw & 3, f3 = bits(raw, 15, 13);
    unsigned rd = bits(raw, 11, 7), rs2 = bits(raw, 6, 2);
    unsigned rdp = CR(bits(raw, 4, 2)), rs1p = CR(bits(raw, 9, 7));
    uint32_t u;
    int32_t imm;

    if (q == 0) {
        switch (f3) {
        case 0:     /* c.addi4spn */
            u = (bits(raw, 12, 11) << 4) | (bits(raw, 10, 7) << 6) |
                (bits(raw, 6, 6) << 2) | (bits(raw, 5, 5) << 3);
            if (u == 0)
                return illegal(raw, o);
            return set_x(o, RV_OP_ADDI, rdp, 2, 0, (int32_t)u);
        case 1:     /* c.fld */
        case 3:     /* c.ld */
            u = (bits(raw, 12, 10) << 3) | (bits(raw, 6, 5) << 6);
            if (f3 == 1)
                return set_raw(o, RV_OP_FLD, rdp, rs1p, 0, (int32_t)u);
            return set_x(o, RV_OP_LD, rdp, rs1p, 0, (int32_t)u);
        case 2:     /* c.lw */
            u = (bits(raw, 12, 10) << 3) | (bits(raw, 6, 6) << 2) | (bits(raw, 5, 5) << 6);
            return set_x(o, RV_OP_LW, rdp, rs1p, 0, (int32_t)u);
        case 5:     /* c.fsd */
        case 7:     /* c.sd */
            u = (bits(raw, 12, 10) << 3) | (bits(raw, 6, 5) << 6);
            return set_raw(o, f3 == 5 ? RV_OP_FSD : RV_OP_SD, 0, rs1p, rdp, (int32_t)u);
        case 6:     /* c.sw */
            u = (bits(raw, 12, 10) << 3) | (bits(raw, 6, 6) << 2) | (bits(raw, 5, 5) << 6);
            return set_raw(o, RV_OP_SW, 0, rs1p, rdp, (int32_t)u);
        default:
            return illegal(raw, o);
        }
    }
    if (q == 1) {
        imm = sext((bits(raw, 12, 12) << 5) | bits(raw, 6, 2), 6);
        switch (f3) {
        case 0:     /* c.addi / c.nop (hints included) */
            return set_x(o, RV_OP_ADDI, rd, rd, 0, imm);
        case 1:     /* c.addiw */
            if (rd == 0)
                return illegal(raw, o);
            return set_x(o, RV_OP_ADDIW, rd, rd, 0, imm);
        case 2:     /* c.li */
            return set_x(o, RV_OP_LI, rd, 0, 0, imm);
        case 3:
            if (rd == 2) {  /* c.addi16sp */
                imm = sext((bits(raw, 12, 12) << 9) | (bits(raw, 6, 6) << 4) |
                           (bits(raw, 5, 5) << 6) | (bits(raw, 4, 3) << 7) |
                           (bits(raw, 2, 2) << 5), 10);
                if (imm == 0)
                    return illegal(raw, o);
                return set_x(o, RV_OP_ADDI, 2, 2, 0, imm);
            }
            /* c.lui */
            imm = sext((bits(raw, 12, 12) << 17) | (bits(raw, 6, 2) << 12), 18);
            if (imm == 0)
                return illegal(raw, o);
            return set_x(o, RV_OP_LUI, rd, 0, 0, imm);
        case 4: {
            unsigned f2 = bits(raw, 11, 10);
            unsigned shamt = (bits(raw, 12, 12) << 5) | bits(raw, 6, 2);
            if (f2 == 0)
                return set_x(o, RV_OP_SRLI, rs1p, rs1p, 0, (int32_t)shamt);
            if (f2 == 1)
                return set_x(o, RV_OP_SRAI, rs1p, rs1p, 0, (int32_t)shamt);
            if (f2 == 2)
                return set_x(o, RV_OP_ANDI, rs1p, rs1p, 0, imm);
            {
                static const enum rv_op ops[8] = {
                    RV_OP_SUB, RV_OP_XOR, RV_OP_OR, RV_OP_AND,
                    RV_OP_SUBW, RV_OP_ADDW, RV_OP_ILLEGAL, RV_OP_ILLEGAL,
                };
                enum rv_op op = ops[(bits(raw, 12, 12) << 2) | bits(raw, 6, 5)];
                if (op == RV_OP_ILLEGAL)
                    return illegal(raw, o);
                return set_x(o, op, rs1p, rs1p, rdp, 0);
            }
        }
        case 5:     /* c.j */
            imm = sext((bits(raw, 12, 12) << 11) | (bits(raw, 11, 11) << 4) |
                       (bits(raw, 10, 9) << 8) | (bits(raw, 8, 8) << 10) |
                       (bits(raw, 7, 7) << 6) | (bits(raw, 6, 6) << 7) |
                       (bits(raw, 5, 3) << 1) | (bits(raw, 2, 2) << 5), 12);
            return set_x(o, RV_OP_JAL, 0, 0, 0, imm);
        default:    /* 6 c.beqz, 7 c.bnez */
            imm = sext((bits(raw, 12, 12) << 8) | (bits(raw, 11, 10) << 3) |
                       (bits(raw, 6, 5) << 6) | (bits(raw, 4, 3) << 1) |
                       (bits(raw, 2, 2) << 5), 9);
            return set_raw(o, f3 == 6 ? RV_OP_BEQ : RV_OP_BNE, 0, rs1p, 0, imm);
        }
    }
    /* q == 2 */
    switch (f3) {
    case 0:         /* c.slli */
        return set_x(o, RV_OP_SLLI, rd, rd, 0, (int32_t)((bits(raw, 12, 12) << 5) | rs2));
    case 1:         /* c.fldsp */
    case 3:         /* c.ldsp */
        u = (bits(raw, 12, 12) << 5) | (bits(raw, 6, 5) << 3) | (bits(raw, 4, 2) << 6);
        if (f3 == 1)
            return set_raw(o, RV_OP_FLD, rd, 2, 0, (int32_t)u);
        if (rd == 0)
            return illegal(raw, o);
        return set_x(o, RV_OP_LD, rd, 2, 0, (int32_t)u);
    case 2:         /* c.lwsp */
        if (rd == 0)
            return illegal(raw, o);
        u = (bits(raw, 12, 12) << 5) | (bits(raw, 6, 4) << 2) | (bits(raw, 3, 2) << 6);
        return set_x(o, RV_OP_LW, rd, 2, 0, (int32_t)u);
    case 4:
        if (bits(raw, 12, 12) == 0) {
            if (rs2 == 0) {     /* c.jr */
                if (rd == 0)
                    return illegal(raw, o);
                return set_x(o, RV_OP_JALR, 0, rd, 0, 0);
            }
            return set_x(o, RV_OP_MV, rd, rs2, 0, 0);   /* c.mv */
        }
        if (rs2 == 0) {
            if (rd == 0)
                return set_raw(o, RV_OP_EBREAK, 0, 0, 0, 0);
            return set_x(o, RV_OP_JALR, 1, rd, 0, 0);   /* c.jalr */
        }
        return set_x(o, RV_OP_ADD, rd, rd, rs2, 0);     /* c.add */
    case 5:         /* c.fsdsp */
    case 7:         /* c.sdsp */
        u = (bits(raw, 12, 10) << 3) | (bits(raw, 9, 7) << 6);
        return set_raw(o, f3 == 5 ? RV_OP_FSD : RV_OP_SD, 0, 2, rs2, (int32_t)u);
    default:        /* 6 c.swsp */
        u = (bits(raw, 12, 9) << 2) | (bits(raw, 8, 7) << 6);
        return set_raw(o, RV_OP_SW, 0, 2, rs2, (int32_t)u);
    }
}

enum rv_op rv_decode(uint32_t raw, struct rv_insn *out)
{
    memset(out, 0, sizeof(*out));
    if ((raw & 3) != 3) {
        raw &= 0xffff;
        out->len = 2;
        decode16(raw, out);
        out->len = 2;
        return out->op;
    }
    /* 48-bit and longer encodings (bits 4:2 all ones) are not supported */
    if ((raw & 0x1c) == 0x1c)
        illegal(raw, out);
    else
        decode32(raw, out);
    out->len = 4;
    return out->op;
}

int rv_op_ends_block(enum rv_op op)
{
    switch (op) {
    case RV_OP_ILLEGAL: case RV_OP_JAL: case RV_OP_JALR:
    case RV_OP_BEQ: case RV_OP_BNE: case RV_OP_BLT: case RV_OP_BGE:
    case RV_OP_BLTU: case RV_OP_BGEU:
    case RV_OP_FENCE_I: case RV_OP_ECALL: case RV_OP_EBREAK: case RV_OP_MRET:
    case RV_OP_SRET: case RV_OP_WFI: case RV_OP_SFENCE_VMA:
    case RV_OP_CSRRW: case RV_OP_CSRRS: case RV_OP_CSRRC:
    case RV_OP_CSRRWI: case RV_OP_CSRRSI: case RV_OP_CSRRCI:
    case RV_OP_END:
        return 1;
    default:
        return 0;
    }
}

const char *rv_op_name(enum rv_op op)
{
    static const char *const names[] = {
#define RV_OP_NAME(name) #name,
        RV_OPS(RV_OP_NAME)
#undef RV_OP_NAME
    };
    return (unsigned)op < RV_OP__COUNT ? names[op] : "?";
}
