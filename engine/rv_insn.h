/* Predecoded RISC-V instructions: what the decoder produces once per guest
 * basic block and what the interpreter (and later the JIT) consume.
 * Compressed instructions decode to the same ops as their 32-bit
 * equivalents; only `len` tells them apart. */
#ifndef RV_INSN_H
#define RV_INSN_H

#include <stdint.h>

/* X-macro list: one entry per distinct semantic operation. The interpreter
 * builds its computed-goto table from it and the names feed diagnostics. */
#define RV_OPS(X) \
    X(ILLEGAL) X(NOP) \
    X(LUI) X(AUIPC) X(JAL) X(JALR) \
    X(BEQ) X(BNE) X(BLT) X(BGE) X(BLTU) X(BGEU) \
    X(LB) X(LH) X(LW) X(LD) X(LBU) X(LHU) X(LWU) \
    X(SB) X(SH) X(SW) X(SD) \
    X(ADDI) X(SLTI) X(SLTIU) X(XORI) X(ORI) X(ANDI) X(SLLI) X(SRLI) X(SRAI) \
    X(ADD) X(SUB) X(SLL) X(SLT) X(SLTU) X(XOR) X(SRL) X(SRA) X(OR) X(AND) \
    X(ADDIW) X(SLLIW) X(SRLIW) X(SRAIW) \
    X(ADDW) X(SUBW) X(SLLW) X(SRLW) X(SRAW) \
    X(MUL) X(MULH) X(MULHSU) X(MULHU) X(DIV) X(DIVU) X(REM) X(REMU) \
    X(MULW) X(DIVW) X(DIVUW) X(REMW) X(REMUW) \
    X(FENCE) X(FENCE_I) \
    X(ECALL) X(EBREAK) X(MRET) X(SRET) X(WFI) X(SFENCE_VMA) \
    X(CSRRW) X(CSRRS) X(CSRRC) X(CSRRWI) X(CSRRSI) X(CSRRCI) \
    X(LR_W) X(SC_W) X(LR_D) X(SC_D) X(AMO_W) X(AMO_D) \
    X(FLW) X(FSW) X(FLD) X(FSD) \
    X(FP_S) X(FP_D) X(FMA_S) X(FMA_D) \
    X(LI) X(MV) \
    X(JIT) \
    X(END)

enum rv_op {
#define RV_OP_ENUM(name) RV_OP_##name,
    RV_OPS(RV_OP_ENUM)
#undef RV_OP_ENUM
    RV_OP__COUNT
};

/* AMO function (funct5) kept in `rm` for AMO_W/AMO_D. */
enum {
    RV_AMO_ADD = 0x00, RV_AMO_SWAP = 0x01, RV_AMO_XOR = 0x04, RV_AMO_OR = 0x08,
    RV_AMO_AND = 0x0c, RV_AMO_MIN = 0x10, RV_AMO_MAX = 0x14, RV_AMO_MINU = 0x18,
    RV_AMO_MAXU = 0x1c,
};

/* RV_OP_JIT is never decoded: the JIT puts it in place of a compiled
 * block's first instruction, so the interpreter's dispatch runs the code
 * (struct rv_block.jit_code) without a test of its own. */

/* Register index the decoder substitutes for rd = x0 so that a write
 * needs no test: x[RV_REG_SINK] absorbs it and x[0] stays zero. */
#define RV_REG_SINK 32

struct rv_insn {
    uint16_t op;        /* enum rv_op */
    uint8_t rd, rs1, rs2, rs3;
    uint8_t rm;         /* FP rounding mode / AMO funct5 / FP sub-op */
    uint8_t len;        /* 2 or 4 */
    int32_t imm;        /* immediate; CSR number; raw bits for ILLEGAL */
    uint16_t off;       /* byte offset of this instruction in its block */
    uint16_t fop;       /* FP_S/FP_D: funct7<<5 | rs2-field selector */
};

_Static_assert(sizeof(struct rv_insn) == 16, "rv_insn must stay 16 bytes");

/* Decode one instruction (16- or 32-bit, chosen by the low bits of raw).
 * Returns the op and fills *out (off is left to the caller). Reserved
 * and unknown encodings give RV_OP_ILLEGAL with imm = raw bits. */
enum rv_op rv_decode(uint32_t raw, struct rv_insn *out);

/* True when the op must end a block (control flow, or state the block
 * boundary logic has to see: CSRs, traps, fences, WFI). */
int rv_op_ends_block(enum rv_op op);

const char *rv_op_name(enum rv_op op);

/* Loads and stores whose fast path probes the data TLB (the
 * dtlb_lookups counter); AMOs and LR/SC always take a helper. */
static inline int rv_op_uses_dtlb(enum rv_op op)
{
    return (op >= RV_OP_LB && op <= RV_OP_SD) || (op >= RV_OP_FLW && op <= RV_OP_FSD);
}

#endif
