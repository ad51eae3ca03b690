/* RV64GC disassembler, written from the RISC-V unprivileged (20191213) and
 * privileged (1.12) specifications. The output mimics GNU objdump with
 * -M no-aliases so that traces can be diffed against binutils.
 *
 * Decoding is table-driven: every instruction is a (mask, match) pair plus
 * an operand template, scanned in order; the first row whose fixed bits
 * match decides. Anything no row claims, or a row whose extra constraint
 * fails (reserved compressed forms, reserved rounding modes), is printed as
 * "unknown". */
#include "rv_disas.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

/* ---- names ------------------------------------------------------------ */

static const char *const rv_xreg[32] = {
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2",
    "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
    "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7",
    "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
};

static const char *const rv_freg[32] = {
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7",
    "fs0", "fs1", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5",
    "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7",
    "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11",
};

const char *rv_reg_name(unsigned r)
{
    return r < 32 ? rv_xreg[r] : NULL;
}

const char *rv_freg_name(unsigned r)
{
    return r < 32 ? rv_freg[r] : NULL;
}

/* Numbered CSR families are spelled out by the preprocessor so that the
 * whole name table stays a constant array (no formatting at run time). */
#define RV_SEQ_0_15(X, b, p)                                               \
    X(b, p, 0) X(b, p, 1) X(b, p, 2) X(b, p, 3) X(b, p, 4) X(b, p, 5)      \
    X(b, p, 6) X(b, p, 7) X(b, p, 8) X(b, p, 9) X(b, p, 10) X(b, p, 11)    \
    X(b, p, 12) X(b, p, 13) X(b, p, 14) X(b, p, 15)
#define RV_SEQ_16_31(X, b, p)                                              \
    X(b, p, 16) X(b, p, 17) X(b, p, 18) X(b, p, 19) X(b, p, 20)            \
    X(b, p, 21) X(b, p, 22) X(b, p, 23) X(b, p, 24) X(b, p, 25)            \
    X(b, p, 26) X(b, p, 27) X(b, p, 28) X(b, p, 29) X(b, p, 30)            \
    X(b, p, 31)
#define RV_SEQ_32_63(X, b, p)                                              \
    X(b, p, 32) X(b, p, 33) X(b, p, 34) X(b, p, 35) X(b, p, 36)            \
    X(b, p, 37) X(b, p, 38) X(b, p, 39) X(b, p, 40) X(b, p, 41)            \
    X(b, p, 42) X(b, p, 43) X(b, p, 44) X(b, p, 45) X(b, p, 46)            \
    X(b, p, 47) X(b, p, 48) X(b, p, 49) X(b, p, 50) X(b, p, 51)            \
    X(b, p, 52) X(b, p, 53) X(b, p, 54) X(b, p, 55) X(b, p, 56)            \
    X(b, p, 57) X(b, p, 58) X(b, p, 59) X(b, p, 60) X(b, p, 61)            \
    X(b, p, 62) X(b, p, 63)
/* Counters and events 3..31 (0..2 are cycle/time/instret). */
#define RV_SEQ_3_31(X, b, p)                                               \
    X(b, p, 3) X(b, p, 4) X(b, p, 5) X(b, p, 6) X(b, p, 7) X(b, p, 8)      \
    X(b, p, 9) X(b, p, 10) X(b, p, 11) X(b, p, 12) X(b, p, 13)             \
    X(b, p, 14) X(b, p, 15) RV_SEQ_16_31(X, b, p)
#define RV_CSR_N(b, p, n) [(b) + (n)] = p #n,
#define RV_CSR_NH(b, p, n) [(b) + (n)] = p #n "h",

static const char *const rv_csr_names[4096] = {
    /* unprivileged: FP, vector, entropy source, counters */
    [0x001] = "fflags", [0x002] = "frm", [0x003] = "fcsr",
    [0x008] = "vstart", [0x009] = "vxsat", [0x00a] = "vxrm",
    [0x00f] = "vcsr", [0x015] = "seed",
    [0xc00] = "cycle", [0xc01] = "time", [0xc02] = "instret",
    RV_SEQ_3_31(RV_CSR_N, 0xc00, "hpmcounter")
    [0xc20] = "vl", [0xc21] = "vtype", [0xc22] = "vlenb",
    [0xc80] = "cycleh", [0xc81] = "timeh", [0xc82] = "instreth",
    RV_SEQ_3_31(RV_CSR_NH, 0xc80, "hpmcounter")

    /* supervisor (incl. Smstateen, Sstc, AIA, Sscofpmf) */
    [0x100] = "sstatus", [0x104] = "sie", [0x105] = "stvec",
    [0x106] = "scounteren", [0x10a] = "senvcfg",
    [0x10c] = "sstateen0", [0x10d] = "sstateen1",
    [0x10e] = "sstateen2", [0x10f] = "sstateen3", [0x114] = "sieh",
    [0x140] = "sscratch", [0x141] = "sepc", [0x142] = "scause",
    [0x143] = "stval", [0x144] = "sip", [0x14d] = "stimecmp",
    [0x150] = "siselect", [0x151] = "sireg", [0x154] = "siph",
    [0x15c] = "stopei", [0x15d] = "stimecmph", [0x180] = "satp",
    [0x5a8] = "scontext", [0xda0] = "scountovf", [0xdb0] = "stopi",

    /* virtual supervisor */
    [0x200] = "vsstatus", [0x204] = "vsie", [0x205] = "vstvec",
    [0x214] = "vsieh", [0x240] = "vsscratch", [0x241] = "vsepc",
    [0x242] = "vscause", [0x243] = "vstval", [0x244] = "vsip",
    [0x24d] = "vstimecmp", [0x250] = "vsiselect", [0x251] = "vsireg",
    [0x254] = "vsiph", [0x25c] = "vstopei", [0x25d] = "vstimecmph",
    [0x280] = "vsatp", [0xeb0] = "vstopi",

    /* hypervisor */
    [0x600] = "hstatus", [0x602] = "hedeleg", [0x603] = "hideleg",
    [0x604] = "hie", [0x605] = "htimedelta", [0x606] = "hcounteren",
    [0x607] = "hgeie", [0x608] = "hvien", [0x609] = "hvictl",
    [0x60a] = "henvcfg", [0x60c] = "hstateen0", [0x60d] = "hstateen1",
    [0x60e] = "hstateen2", [0x60f] = "hstateen3", [0x613] = "hidelegh",
    [0x615] = "htimedeltah", [0x618] = "hvienh", [0x61a] = "henvcfgh",
    [0x61c] = "hstateen0h", [0x61d] = "hstateen1h",
    [0x61e] = "hstateen2h", [0x61f] = "hstateen3h", [0x643] = "htval",
    [0x644] = "hip", [0x645] = "hvip", [0x646] = "hviprio1",
    [0x647] = "hviprio2", [0x64a] = "htinst", [0x655] = "hviph",
    [0x656] = "hviprio1h", [0x657] = "hviprio2h", [0x680] = "hgatp",
    [0x6a8] = "hcontext", [0xe12] = "hgeip",

    /* machine */
    [0x300] = "mstatus", [0x301] = "misa", [0x302] = "medeleg",
    [0x303] = "mideleg", [0x304] = "mie", [0x305] = "mtvec",
    [0x306] = "mcounteren", [0x308] = "mvien", [0x309] = "mvip",
    [0x30a] = "menvcfg", [0x30c] = "mstateen0", [0x30d] = "mstateen1",
    [0x30e] = "mstateen2", [0x30f] = "mstateen3", [0x310] = "mstatush",
    [0x313] = "midelegh", [0x314] = "mieh", [0x318] = "mvienh",
    [0x319] = "mviph", [0x31a] = "menvcfgh", [0x31c] = "mstateen0h",
    [0x31d] = "mstateen1h", [0x31e] = "mstateen2h",
    [0x31f] = "mstateen3h", [0x320] = "mcountinhibit",
    RV_SEQ_3_31(RV_CSR_N, 0x320, "mhpmevent")
    [0x340] = "mscratch", [0x341] = "mepc", [0x342] = "mcause",
    [0x343] = "mtval", [0x344] = "mip", [0x34a] = "mtinst",
    [0x34b] = "mtval2", [0x350] = "miselect", [0x351] = "mireg",
    [0x354] = "miph", [0x35c] = "mtopei",
    RV_SEQ_0_15(RV_CSR_N, 0x3a0, "pmpcfg")
    RV_SEQ_0_15(RV_CSR_N, 0x3b0, "pmpaddr")
    RV_SEQ_16_31(RV_CSR_N, 0x3b0, "pmpaddr")
    RV_SEQ_32_63(RV_CSR_N, 0x3b0, "pmpaddr")
    RV_SEQ_3_31(RV_CSR_NH, 0x720, "mhpmevent")
    [0x747] = "mseccfg", [0x757] = "mseccfgh",
    [0xb00] = "mcycle", [0xb02] = "minstret",
    RV_SEQ_3_31(RV_CSR_N, 0xb00, "mhpmcounter")
    [0xb80] = "mcycleh", [0xb82] = "minstreth",
    RV_SEQ_3_31(RV_CSR_NH, 0xb80, "mhpmcounter")
    [0xf11] = "mvendorid", [0xf12] = "marchid", [0xf13] = "mimpid",
    [0xf14] = "mhartid", [0xf15] = "mconfigptr", [0xfb0] = "mtopi",

    /* debug and trigger module */
    [0x7a0] = "tselect", [0x7a1] = "tdata1", [0x7a2] = "tdata2",
    [0x7a3] = "tdata3", [0x7a4] = "tinfo", [0x7a5] = "tcontrol",
    [0x7a8] = "mcontext", [0x7aa] = "mscontext", [0x7b0] = "dcsr",
    [0x7b1] = "dpc", [0x7b2] = "dscratch0", [0x7b3] = "dscratch1",
};

const char *rv_csr_name(unsigned csr)
{
    return csr < 4096 ? rv_csr_names[csr] : NULL;
}

/* Index 5 and 6 are reserved encodings: NULL marks them invalid. */
static const char *const rv_rm_name[8] = {
    "rne", "rtz", "rdn", "rup", "rmm", NULL, NULL, "dyn",
};

/* ---- bounded output --------------------------------------------------- */

struct rv_out {
    char *buf;
    size_t size;
    size_t len;   /* length the text would have without truncation */
};

__attribute__((format(printf, 2, 3)))
static void rv_put(struct rv_out *o, const char *fmt, ...)
{
    size_t room = o->len < o->size ? o->size - o->len : 0;
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

static void rv_restart(struct rv_out *o)
{
    o->len = 0;
    if (o->size)
        o->buf[0] = '\0';
}

/* ---- field helpers ---------------------------------------------------- */

static inline uint32_t rv_bits(uint32_t v, unsigned lo, unsigned len)
{
    return (v >> lo) & ((1u << len) - 1);
}

static inline int64_t rv_sext(uint64_t v, unsigned bits)
{
    uint64_t m = 1ull << (bits - 1);
    return (int64_t)((v ^ m) - m);
}

/* ---- 32-bit instructions ---------------------------------------------- */

/* Operand templates (one character per operand, others copied literally):
 *   d s t    x registers rd, rs1, rs2      D S T R  f registers rd..rs3
 *   i        I-type immediate (decimal)    o        S-type immediate
 *   u        U-type immediate >> 12 (hex)  h        shift amount (hex)
 *   b        branch target (absolute)      j        jal target (absolute)
 *   c        CSR name or number            z        5-bit CSR immediate
 *   m        ",rm" unless dyn              M        ",rm" unless rne (the
 *                                                   exact widening converts)
 *   P Q      fence predecessor / successor sets
 * Name templates: '?' becomes the FP format letter (s/d, from bit 25), '#'
 * the AMO width (w/d, from funct3 bit 0), '@' the .aq/.rl/.aqrl suffix. */
struct rv_op32 {
    uint32_t mask;
    uint32_t match;
    const char *name;
    const char *args;
};

#define F3(x) ((uint32_t)(x) << 12)
#define F5(x) ((uint32_t)(x) << 27)
#define F6(x) ((uint32_t)(x) << 26)
#define F7(x) ((uint32_t)(x) << 25)
#define RS2(x) ((uint32_t)(x) << 20)
#define FMT_D F7(1)

#define M_OP      0x0000007fu  /* opcode only */
#define M_F3      0x0000707fu  /* + funct3 */
#define M_R       0xfe00707fu  /* + funct7 */
#define M_SH      0xfc00707fu  /* + funct6 (RV64 shifts by up to 63) */
#define M_AMO     0xf800607fu  /* funct5, funct3 = 01x; aq/rl free */
#define M_LR      0xf9f0607fu  /* + rs2 = 0 */
#define M_FMA     0x0400007fu  /* fmt bit 26 (S/D only); bit 25 free */
#define M_FP      0xfc00007fu  /* funct5 + fmt bit 26, rm free */
#define M_FP_F3   0xfc00707fu  /* same with funct3 fixed */
#define M_FP1     0xfdf0007fu  /* unary: + rs2, rm free */
#define M_FP1_F3  0xfdf0707fu  /* unary with funct3 fixed */
#define M_FX1     0xfff0007fu  /* unary, fixed format, rm free */
#define M_FX1_F3  0xfff0707fu  /* unary, fixed format, funct3 fixed */
#define M_ALL     0xffffffffu

enum {
    OPC_LOAD = 0x03, OPC_LOAD_FP = 0x07, OPC_MISC_MEM = 0x0f,
    OPC_OP_IMM = 0x13, OPC_AUIPC = 0x17, OPC_OP_IMM_32 = 0x1b,
    OPC_STORE = 0x23, OPC_STORE_FP = 0x27, OPC_AMO = 0x2f, OPC_OP = 0x33,
    OPC_LUI = 0x37, OPC_OP_32 = 0x3b, OPC_MADD = 0x43, OPC_MSUB = 0x47,
    OPC_NMSUB = 0x4b, OPC_NMADD = 0x4f, OPC_OP_FP = 0x53,
    OPC_BRANCH = 0x63, OPC_JALR = 0x67, OPC_JAL = 0x6f, OPC_SYSTEM = 0x73,
};

static const struct rv_op32 rv_ops32[] = {
    /* RV64I */
    {M_OP, OPC_LUI, "lui", "d,u"},
    {M_OP, OPC_AUIPC, "auipc", "d,u"},
    {M_OP, OPC_JAL, "jal", "d,j"},
    {M_F3, F3(0) | OPC_JALR, "jalr", "d,i(s)"},
    {M_F3, F3(0) | OPC_BRANCH, "beq", "s,t,b"},
    {M_F3, F3(1) | OPC_BRANCH, "bne", "s,t,b"},
    {M_F3, F3(4) | OPC_BRANCH, "blt", "s,t,b"},
    {M_F3, F3(5) | OPC_BRANCH, "bge", "s,t,b"},
    {M_F3, F3(6) | OPC_BRANCH, "bltu", "s,t,b"},
    {M_F3, F3(7) | OPC_BRANCH, "bgeu", "s,t,b"},
    {M_F3, F3(0) | OPC_LOAD, "lb", "d,i(s)"},
    {M_F3, F3(1) | OPC_LOAD, "lh", "d,i(s)"},
    {M_F3, F3(2) | OPC_LOAD, "lw", "d,i(s)"},
    {M_F3, F3(3) | OPC_LOAD, "ld", "d,i(s)"},
    {M_F3, F3(4) | OPC_LOAD, "lbu", "d,i(s)"},
    {M_F3, F3(5) | OPC_LOAD, "lhu", "d,i(s)"},
    {M_F3, F3(6) | OPC_LOAD, "lwu", "d,i(s)"},
    {M_F3, F3(0) | OPC_STORE, "sb", "t,o(s)"},
    {M_F3, F3(1) | OPC_STORE, "sh", "t,o(s)"},
    {M_F3, F3(2) | OPC_STORE, "sw", "t,o(s)"},
    {M_F3, F3(3) | OPC_STORE, "sd", "t,o(s)"},
    {M_F3, F3(0) | OPC_OP_IMM, "addi", "d,s,i"},
    {M_F3, F3(2) | OPC_OP_IMM, "slti", "d,s,i"},
    {M_F3, F3(3) | OPC_OP_IMM, "sltiu", "d,s,i"},
    {M_F3, F3(4) | OPC_OP_IMM, "xori", "d,s,i"},
    {M_F3, F3(6) | OPC_OP_IMM, "ori", "d,s,i"},
    {M_F3, F3(7) | OPC_OP_IMM, "andi", "d,s,i"},
    {M_SH, F3(1) | OPC_OP_IMM, "slli", "d,s,h"},
    {M_SH, F3(5) | OPC_OP_IMM, "srli", "d,s,h"},
    {M_SH, F6(0x10) | F3(5) | OPC_OP_IMM, "srai", "d,s,h"},
    {M_R, F3(0) | OPC_OP, "add", "d,s,t"},
    {M_R, F7(0x20) | F3(0) | OPC_OP, "sub", "d,s,t"},
    {M_R, F3(1) | OPC_OP, "sll", "d,s,t"},
    {M_R, F3(2) | OPC_OP, "slt", "d,s,t"},
    {M_R, F3(3) | OPC_OP, "sltu", "d,s,t"},
    {M_R, F3(4) | OPC_OP, "xor", "d,s,t"},
    {M_R, F3(5) | OPC_OP, "srl", "d,s,t"},
    {M_R, F7(0x20) | F3(5) | OPC_OP, "sra", "d,s,t"},
    {M_R, F3(6) | OPC_OP, "or", "d,s,t"},
    {M_R, F3(7) | OPC_OP, "and", "d,s,t"},
    {M_F3, F3(0) | OPC_OP_IMM_32, "addiw", "d,s,i"},
    {M_R, F3(1) | OPC_OP_IMM_32, "slliw", "d,s,h"},
    {M_R, F3(5) | OPC_OP_IMM_32, "srliw", "d,s,h"},
    {M_R, F7(0x20) | F3(5) | OPC_OP_IMM_32, "sraiw", "d,s,h"},
    {M_R, F3(0) | OPC_OP_32, "addw", "d,s,t"},
    {M_R, F7(0x20) | F3(0) | OPC_OP_32, "subw", "d,s,t"},
    {M_R, F3(1) | OPC_OP_32, "sllw", "d,s,t"},
    {M_R, F3(5) | OPC_OP_32, "srlw", "d,s,t"},
    {M_R, F7(0x20) | F3(5) | OPC_OP_32, "sraw", "d,s,t"},
    /* fm, rs1 and rd must be zero; fm = 1000 only as fence.tso. */
    {0xf00fffff, OPC_MISC_MEM, "fence", "P,Q"},
    {M_ALL, 0x8330000f, "fence.tso", ""},
    {M_ALL, F3(1) | OPC_MISC_MEM, "fence.i", ""},
    /* SYSTEM: environment calls, trap returns, CSRs */
    {M_ALL, 0x00000073, "ecall", ""},
    {M_ALL, 0x00100073, "ebreak", ""},
    {M_ALL, 0x10200073, "sret", ""},
    {M_ALL, 0x30200073, "mret", ""},
    {M_ALL, 0x10500073, "wfi", ""},
    {0xfe007fff, 0x12000073, "sfence.vma", "s,t"},
    {M_F3, F3(1) | OPC_SYSTEM, "csrrw", "d,c,s"},
    {M_F3, F3(2) | OPC_SYSTEM, "csrrs", "d,c,s"},
    {M_F3, F3(3) | OPC_SYSTEM, "csrrc", "d,c,s"},
    {M_F3, F3(5) | OPC_SYSTEM, "csrrwi", "d,c,z"},
    {M_F3, F3(6) | OPC_SYSTEM, "csrrsi", "d,c,z"},
    {M_F3, F3(7) | OPC_SYSTEM, "csrrci", "d,c,z"},
    /* M */
    {M_R, F7(1) | F3(0) | OPC_OP, "mul", "d,s,t"},
    {M_R, F7(1) | F3(1) | OPC_OP, "mulh", "d,s,t"},
    {M_R, F7(1) | F3(2) | OPC_OP, "mulhsu", "d,s,t"},
    {M_R, F7(1) | F3(3) | OPC_OP, "mulhu", "d,s,t"},
    {M_R, F7(1) | F3(4) | OPC_OP, "div", "d,s,t"},
    {M_R, F7(1) | F3(5) | OPC_OP, "divu", "d,s,t"},
    {M_R, F7(1) | F3(6) | OPC_OP, "rem", "d,s,t"},
    {M_R, F7(1) | F3(7) | OPC_OP, "remu", "d,s,t"},
    {M_R, F7(1) | F3(0) | OPC_OP_32, "mulw", "d,s,t"},
    {M_R, F7(1) | F3(4) | OPC_OP_32, "divw", "d,s,t"},
    {M_R, F7(1) | F3(5) | OPC_OP_32, "divuw", "d,s,t"},
    {M_R, F7(1) | F3(6) | OPC_OP_32, "remw", "d,s,t"},
    {M_R, F7(1) | F3(7) | OPC_OP_32, "remuw", "d,s,t"},
    /* A (.w and .d share a row; lr has no rs2) */
    {M_LR, F5(0x02) | F3(2) | OPC_AMO, "lr.#@", "d,(s)"},
    {M_AMO, F5(0x03) | F3(2) | OPC_AMO, "sc.#@", "d,t,(s)"},
    {M_AMO, F5(0x01) | F3(2) | OPC_AMO, "amoswap.#@", "d,t,(s)"},
    {M_AMO, F5(0x00) | F3(2) | OPC_AMO, "amoadd.#@", "d,t,(s)"},
    {M_AMO, F5(0x04) | F3(2) | OPC_AMO, "amoxor.#@", "d,t,(s)"},
    {M_AMO, F5(0x0c) | F3(2) | OPC_AMO, "amoand.#@", "d,t,(s)"},
    {M_AMO, F5(0x08) | F3(2) | OPC_AMO, "amoor.#@", "d,t,(s)"},
    {M_AMO, F5(0x10) | F3(2) | OPC_AMO, "amomin.#@", "d,t,(s)"},
    {M_AMO, F5(0x14) | F3(2) | OPC_AMO, "amomax.#@", "d,t,(s)"},
    {M_AMO, F5(0x18) | F3(2) | OPC_AMO, "amominu.#@", "d,t,(s)"},
    {M_AMO, F5(0x1c) | F3(2) | OPC_AMO, "amomaxu.#@", "d,t,(s)"},
    /* F and D: rows with '?' cover both formats */
    {M_F3, F3(2) | OPC_LOAD_FP, "flw", "D,i(s)"},
    {M_F3, F3(3) | OPC_LOAD_FP, "fld", "D,i(s)"},
    {M_F3, F3(2) | OPC_STORE_FP, "fsw", "T,o(s)"},
    {M_F3, F3(3) | OPC_STORE_FP, "fsd", "T,o(s)"},
    {M_FMA, OPC_MADD, "fmadd.?", "D,S,T,Rm"},
    {M_FMA, OPC_MSUB, "fmsub.?", "D,S,T,Rm"},
    {M_FMA, OPC_NMSUB, "fnmsub.?", "D,S,T,Rm"},
    {M_FMA, OPC_NMADD, "fnmadd.?", "D,S,T,Rm"},
    {M_FP, F5(0x00) | OPC_OP_FP, "fadd.?", "D,S,Tm"},
    {M_FP, F5(0x01) | OPC_OP_FP, "fsub.?", "D,S,Tm"},
    {M_FP, F5(0x02) | OPC_OP_FP, "fmul.?", "D,S,Tm"},
    {M_FP, F5(0x03) | OPC_OP_FP, "fdiv.?", "D,S,Tm"},
    {M_FP1, F5(0x0b) | OPC_OP_FP, "fsqrt.?", "D,Sm"},
    {M_FP_F3, F5(0x04) | F3(0) | OPC_OP_FP, "fsgnj.?", "D,S,T"},
    {M_FP_F3, F5(0x04) | F3(1) | OPC_OP_FP, "fsgnjn.?", "D,S,T"},
    {M_FP_F3, F5(0x04) | F3(2) | OPC_OP_FP, "fsgnjx.?", "D,S,T"},
    {M_FP_F3, F5(0x05) | F3(0) | OPC_OP_FP, "fmin.?", "D,S,T"},
    {M_FP_F3, F5(0x05) | F3(1) | OPC_OP_FP, "fmax.?", "D,S,T"},
    {M_FX1, F5(0x08) | RS2(1) | OPC_OP_FP, "fcvt.s.d", "D,Sm"},
    {M_FX1, F5(0x08) | FMT_D | OPC_OP_FP, "fcvt.d.s", "D,SM"},
    {M_FP_F3, F5(0x14) | F3(2) | OPC_OP_FP, "feq.?", "d,S,T"},
    {M_FP_F3, F5(0x14) | F3(1) | OPC_OP_FP, "flt.?", "d,S,T"},
    {M_FP_F3, F5(0x14) | F3(0) | OPC_OP_FP, "fle.?", "d,S,T"},
    {M_FP1_F3, F5(0x1c) | F3(1) | OPC_OP_FP, "fclass.?", "d,S"},
    {M_FP1, F5(0x18) | RS2(0) | OPC_OP_FP, "fcvt.w.?", "d,Sm"},
    {M_FP1, F5(0x18) | RS2(1) | OPC_OP_FP, "fcvt.wu.?", "d,Sm"},
    {M_FP1, F5(0x18) | RS2(2) | OPC_OP_FP, "fcvt.l.?", "d,Sm"},
    {M_FP1, F5(0x18) | RS2(3) | OPC_OP_FP, "fcvt.lu.?", "d,Sm"},
    {M_FX1, F5(0x1a) | RS2(0) | OPC_OP_FP, "fcvt.s.w", "D,sm"},
    {M_FX1, F5(0x1a) | RS2(1) | OPC_OP_FP, "fcvt.s.wu", "D,sm"},
    {M_FX1, F5(0x1a) | FMT_D | RS2(0) | OPC_OP_FP, "fcvt.d.w", "D,sM"},
    {M_FX1, F5(0x1a) | FMT_D | RS2(1) | OPC_OP_FP, "fcvt.d.wu", "D,sM"},
    {M_FP1, F5(0x1a) | RS2(2) | OPC_OP_FP, "fcvt.?.l", "D,sm"},
    {M_FP1, F5(0x1a) | RS2(3) | OPC_OP_FP, "fcvt.?.lu", "D,sm"},
    {M_FX1_F3, F5(0x1c) | OPC_OP_FP, "fmv.x.w", "d,S"},
    {M_FX1_F3, F5(0x1c) | FMT_D | OPC_OP_FP, "fmv.x.d", "d,S"},
    {M_FX1_F3, F5(0x1e) | OPC_OP_FP, "fmv.w.x", "D,s"},
    {M_FX1_F3, F5(0x1e) | FMT_D | OPC_OP_FP, "fmv.d.x", "D,s"},
};

static void rv_put_fence_set(struct rv_out *o, unsigned set)
{
    static const char flags[] = "iorw";

    if (!set) {
        rv_put(o, "unknown");   /* objdump's spelling of the empty set */
        return;
    }
    for (unsigned b = 0; b < 4; b++)
        if (set & (8u >> b))
            rv_put(o, "%c", flags[b]);
}

/* Print a rounding-mode suffix; false for the reserved modes. */
static bool rv_put_rm(struct rv_out *o, unsigned rm, unsigned omit)
{
    if (!rv_rm_name[rm])
        return false;
    if (rm != omit)
        rv_put(o, ",%s", rv_rm_name[rm]);
    return true;
}

static void rv_put_name32(struct rv_out *o, const char *name, uint32_t insn)
{
    static const char *const aqrl[4] = {"", ".rl", ".aq", ".aqrl"};

    for (const char *c = name; *c; c++) {
        switch (*c) {
        case '?':
            rv_put(o, "%c", (insn >> 25) & 1 ? 'd' : 's');
            break;
        case '#':
            rv_put(o, "%c", (insn >> 12) & 1 ? 'd' : 'w');
            break;
        case '@':
            rv_put(o, "%s", aqrl[rv_bits(insn, 25, 2)]);
            break;
        default:
            rv_put(o, "%c", *c);
        }
    }
}

static bool rv_put_args32(struct rv_out *o, const char *args, uint64_t pc,
                          uint32_t insn)
{
    unsigned rd = rv_bits(insn, 7, 5), rs1 = rv_bits(insn, 15, 5);
    unsigned rs2 = rv_bits(insn, 20, 5), rs3 = rv_bits(insn, 27, 5);
    unsigned rm = rv_bits(insn, 12, 3);
    int64_t imm_i = rv_sext(insn >> 20, 12);
    int64_t imm_s = rv_sext(rv_bits(insn, 25, 7) << 5 | rd, 12);
    uint64_t imm_b = rv_bits(insn, 31, 1) << 12 | rv_bits(insn, 7, 1) << 11 |
                     rv_bits(insn, 25, 6) << 5 | rv_bits(insn, 8, 4) << 1;
    uint64_t imm_j = rv_bits(insn, 31, 1) << 20 | rv_bits(insn, 12, 8) << 12 |
                     rv_bits(insn, 20, 1) << 11 | rv_bits(insn, 21, 10) << 1;

    for (const char *a = args; *a; a++) {
        switch (*a) {
        case 'd': rv_put(o, "%s", rv_xreg[rd]); break;
        case 's': rv_put(o, "%s", rv_xreg[rs1]); break;
        case 't': rv_put(o, "%s", rv_xreg[rs2]); break;
        case 'D': rv_put(o, "%s", rv_freg[rd]); break;
        case 'S': rv_put(o, "%s", rv_freg[rs1]); break;
        case 'T': rv_put(o, "%s", rv_freg[rs2]); break;
        case 'R': rv_put(o, "%s", rv_freg[rs3]); break;
        case 'i': rv_put(o, "%lld", (long long)imm_i); break;
        case 'o': rv_put(o, "%lld", (long long)imm_s); break;
        case 'u': rv_put(o, "0x%x", insn >> 12); break;
        case 'h': rv_put(o, "0x%x", rv_bits(insn, 20, 6)); break;
        case 'z': rv_put(o, "%u", rs1); break;
        case 'b':
            rv_put(o, "0x%llx",
                   (unsigned long long)(pc + (uint64_t)rv_sext(imm_b, 13)));
            break;
        case 'j':
            rv_put(o, "0x%llx",
                   (unsigned long long)(pc + (uint64_t)rv_sext(imm_j, 21)));
            break;
        case 'c': {
            const char *n = rv_csr_names[insn >> 20];
            if (n)
                rv_put(o, "%s", n);
            else
                rv_put(o, "0x%x", insn >> 20);
            break;
        }
        case 'm':
            if (!rv_put_rm(o, rm, 7))
                return false;
            break;
        case 'M':
            if (!rv_put_rm(o, rm, 0))
                return false;
            break;
        case 'P': rv_put_fence_set(o, rv_bits(insn, 24, 4)); break;
        case 'Q': rv_put_fence_set(o, rv_bits(insn, 20, 4)); break;
        default: rv_put(o, "%c", *a);
        }
    }
    return true;
}

static bool rv_disas32(struct rv_out *o, uint64_t pc, uint32_t insn)
{
    for (size_t i = 0; i < sizeof(rv_ops32) / sizeof(rv_ops32[0]); i++) {
        const struct rv_op32 *op = &rv_ops32[i];

        if ((insn & op->mask) != op->match)
            continue;
        rv_put_name32(o, op->name, insn);
        if (op->args[0])
            rv_put(o, " ");
        return rv_put_args32(o, op->args, pc, insn);
    }
    return false;
}

/* ---- 16-bit (C extension) instructions -------------------------------- */

/* Compressed immediates scatter their bits; each kind lists its pieces as
 * (instruction bit, width, immediate bit) and how objdump prints it. */
enum rv_cimm_kind {
    CI_NONE, CI_ADDI4SPN, CI_LSW, CI_LSD, CI_SIMM6, CI_LUI, CI_ADDI16SP,
    CI_SHAMT, CI_JUMP, CI_BRANCH, CI_LWSP, CI_LDSP, CI_SWSP, CI_SDSP,
};

enum rv_cimm_style { ST_DEC, ST_HEX, ST_HEX20, ST_TARGET };

struct rv_cimm {
    uint8_t sign_bit;   /* 0: unsigned */
    uint8_t style;
    uint8_t npieces;
    struct {
        uint8_t src, len, dst;
    } p[8];
};

static const struct rv_cimm rv_cimms[] = {
    [CI_ADDI4SPN] = {0, ST_DEC, 4, {{11, 2, 4}, {7, 4, 6}, {6, 1, 2},
                                    {5, 1, 3}}},
    [CI_LSW] = {0, ST_DEC, 3, {{10, 3, 3}, {6, 1, 2}, {5, 1, 6}}},
    [CI_LSD] = {0, ST_DEC, 2, {{10, 3, 3}, {5, 2, 6}}},
    [CI_SIMM6] = {5, ST_DEC, 2, {{2, 5, 0}, {12, 1, 5}}},
    [CI_LUI] = {5, ST_HEX20, 2, {{2, 5, 0}, {12, 1, 5}}},
    [CI_ADDI16SP] = {9, ST_DEC, 5, {{12, 1, 9}, {6, 1, 4}, {5, 1, 6},
                                    {3, 2, 7}, {2, 1, 5}}},
    [CI_SHAMT] = {0, ST_HEX, 2, {{2, 5, 0}, {12, 1, 5}}},
    [CI_JUMP] = {11, ST_TARGET, 8, {{12, 1, 11}, {11, 1, 4}, {9, 2, 8},
                                    {8, 1, 10}, {7, 1, 6}, {6, 1, 7},
                                    {3, 3, 1}, {2, 1, 5}}},
    [CI_BRANCH] = {8, ST_TARGET, 5, {{12, 1, 8}, {10, 2, 3}, {5, 2, 6},
                                     {3, 2, 1}, {2, 1, 5}}},
    [CI_LWSP] = {0, ST_DEC, 3, {{12, 1, 5}, {4, 3, 2}, {2, 2, 6}}},
    [CI_LDSP] = {0, ST_DEC, 3, {{12, 1, 5}, {5, 2, 3}, {2, 3, 6}}},
    [CI_SWSP] = {0, ST_DEC, 2, {{9, 4, 2}, {7, 2, 6}}},
    [CI_SDSP] = {0, ST_DEC, 2, {{10, 3, 3}, {7, 3, 6}}},
};

static int64_t rv_cimm_value(const struct rv_cimm *k, uint32_t insn)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < k->npieces; i++)
        v |= (uint64_t)rv_bits(insn, k->p[i].src, k->p[i].len) << k->p[i].dst;
    return k->sign_bit ? rv_sext(v, k->sign_bit + 1u) : (int64_t)v;
}

/* Extra validity rules the mask cannot express (the spec's "reserved"). */
enum rv_ccheck { CK_NONE, CK_RD_NZ, CK_IMM_NZ };

/* Operand templates: d/D rd or rs1 at [11:7] (x/f), t/T rs2 at [6:2],
 * w/W rd' or rs2' at [4:2], v rs1' at [9:7], p the implied sp, i the
 * row's immediate; anything else is copied. */
struct rv_op16 {
    uint16_t mask;
    uint16_t match;
    const char *name;
    const char *args;
    uint8_t imm;
    uint8_t check;
};

static const struct rv_op16 rv_ops16[] = {
    /* quadrant 0 (0x8000 is reserved) */
    {0xe003, 0x0000, "c.addi4spn", "w,p,i", CI_ADDI4SPN, CK_IMM_NZ},
    {0xe003, 0x2000, "c.fld", "W,i(v)", CI_LSD, CK_NONE},
    {0xe003, 0x4000, "c.lw", "w,i(v)", CI_LSW, CK_NONE},
    {0xe003, 0x6000, "c.ld", "w,i(v)", CI_LSD, CK_NONE},
    {0xe003, 0xa000, "c.fsd", "W,i(v)", CI_LSD, CK_NONE},
    {0xe003, 0xc000, "c.sw", "w,i(v)", CI_LSW, CK_NONE},
    {0xe003, 0xe000, "c.sd", "w,i(v)", CI_LSD, CK_NONE},
    /* quadrant 1 */
    {0xe003, 0x0001, "c.addi", "d,i", CI_SIMM6, CK_NONE},
    {0xe003, 0x2001, "c.addiw", "d,i", CI_SIMM6, CK_RD_NZ},
    {0xe003, 0x4001, "c.li", "d,i", CI_SIMM6, CK_NONE},
    {0xef83, 0x6101, "c.addi16sp", "d,i", CI_ADDI16SP, CK_IMM_NZ},
    {0xe003, 0x6001, "c.lui", "d,i", CI_LUI, CK_IMM_NZ},
    /* shamt 0 shifts are HINTs; objdump names them *64 (RV128 heritage) */
    {0xfc7f, 0x8001, "c.srli64", "v", CI_NONE, CK_NONE},
    {0xec03, 0x8001, "c.srli", "v,i", CI_SHAMT, CK_NONE},
    {0xfc7f, 0x8401, "c.srai64", "v", CI_NONE, CK_NONE},
    {0xec03, 0x8401, "c.srai", "v,i", CI_SHAMT, CK_NONE},
    {0xec03, 0x8801, "c.andi", "v,i", CI_SIMM6, CK_NONE},
    {0xfc63, 0x8c01, "c.sub", "v,w", CI_NONE, CK_NONE},
    {0xfc63, 0x8c21, "c.xor", "v,w", CI_NONE, CK_NONE},
    {0xfc63, 0x8c41, "c.or", "v,w", CI_NONE, CK_NONE},
    {0xfc63, 0x8c61, "c.and", "v,w", CI_NONE, CK_NONE},
    {0xfc63, 0x9c01, "c.subw", "v,w", CI_NONE, CK_NONE},
    {0xfc63, 0x9c21, "c.addw", "v,w", CI_NONE, CK_NONE},
    {0xe003, 0xa001, "c.j", "i", CI_JUMP, CK_NONE},
    {0xe003, 0xc001, "c.beqz", "v,i", CI_BRANCH, CK_NONE},
    {0xe003, 0xe001, "c.bnez", "v,i", CI_BRANCH, CK_NONE},
    /* quadrant 2 */
    {0xf07f, 0x0002, "c.slli64", "d", CI_NONE, CK_NONE},
    {0xe003, 0x0002, "c.slli", "d,i", CI_SHAMT, CK_NONE},
    {0xe003, 0x2002, "c.fldsp", "D,i(p)", CI_LDSP, CK_NONE},
    {0xe003, 0x4002, "c.lwsp", "d,i(p)", CI_LWSP, CK_RD_NZ},
    {0xe003, 0x6002, "c.ldsp", "d,i(p)", CI_LDSP, CK_RD_NZ},
    {0xf07f, 0x8002, "c.jr", "d", CI_NONE, CK_RD_NZ},
    {0xf003, 0x8002, "c.mv", "d,t", CI_NONE, CK_NONE},
    {0xffff, 0x9002, "c.ebreak", "", CI_NONE, CK_NONE},
    {0xf07f, 0x9002, "c.jalr", "d", CI_NONE, CK_NONE},
    {0xf003, 0x9002, "c.add", "d,t", CI_NONE, CK_NONE},
    {0xe003, 0xa002, "c.fsdsp", "T,i(p)", CI_SDSP, CK_NONE},
    {0xe003, 0xc002, "c.swsp", "t,i(p)", CI_SWSP, CK_NONE},
    {0xe003, 0xe002, "c.sdsp", "t,i(p)", CI_SDSP, CK_NONE},
};

static void rv_put_cimm(struct rv_out *o, enum rv_cimm_kind kind,
                        uint64_t pc, uint32_t insn)
{
    const struct rv_cimm *k = &rv_cimms[kind];
    int64_t v = rv_cimm_value(k, insn);

    switch (k->style) {
    case ST_DEC: rv_put(o, "%lld", (long long)v); break;
    case ST_HEX: rv_put(o, "0x%llx", (unsigned long long)v); break;
    case ST_HEX20:
        rv_put(o, "0x%llx", (unsigned long long)v & 0xfffffull);
        break;
    default:
        rv_put(o, "0x%llx", (unsigned long long)(pc + (uint64_t)v));
    }
}

static bool rv_disas16(struct rv_out *o, uint64_t pc, uint32_t insn)
{
    const struct rv_op16 *op = NULL;

    for (size_t i = 0; i < sizeof(rv_ops16) / sizeof(rv_ops16[0]); i++) {
        if ((insn & rv_ops16[i].mask) == rv_ops16[i].match) {
            op = &rv_ops16[i];
            break;
        }
    }
    if (!op)
        return false;

    unsigned rd = rv_bits(insn, 7, 5), rs2 = rv_bits(insn, 2, 5);
    unsigned rdp = 8 + rv_bits(insn, 2, 3), rs1p = 8 + rv_bits(insn, 7, 3);

    if (op->check == CK_RD_NZ && rd == 0)
        return false;
    if (op->check == CK_IMM_NZ && rv_cimm_value(&rv_cimms[op->imm], insn) == 0)
        return false;

    rv_put(o, "%s%s", op->name, op->args[0] ? " " : "");
    for (const char *a = op->args; *a; a++) {
        switch (*a) {
        case 'd': rv_put(o, "%s", rv_xreg[rd]); break;
        case 'D': rv_put(o, "%s", rv_freg[rd]); break;
        case 't': rv_put(o, "%s", rv_xreg[rs2]); break;
        case 'T': rv_put(o, "%s", rv_freg[rs2]); break;
        case 'w': rv_put(o, "%s", rv_xreg[rdp]); break;
        case 'W': rv_put(o, "%s", rv_freg[rdp]); break;
        case 'v': rv_put(o, "%s", rv_xreg[rs1p]); break;
        case 'p': rv_put(o, "sp"); break;
        case 'i': rv_put_cimm(o, op->imm, pc, insn); break;
        default: rv_put(o, "%c", *a);
        }
    }
    return true;
}

/* ---- entry point ------------------------------------------------------ */

int rv_disas(char *buf, size_t bufsz, uint64_t pc, uint32_t insn)
{
    struct rv_out o = {buf, bufsz, 0};
    bool is16 = (insn & 3) != 3;
    bool ok;

    rv_restart(&o);
    if (is16) {
        insn &= 0xffff;
        ok = rv_disas16(&o, pc, insn);
    } else {
        /* bits [4:2] == 111 announce 48-bit and longer encodings */
        ok = (insn & 0x1f) != 0x1f && rv_disas32(&o, pc, insn);
    }
    if (!ok) {
        rv_restart(&o);
        rv_put(&o, is16 ? "unknown 0x%04x" : "unknown 0x%08x", insn);
    }
    return is16 ? 2 : 4;
}
