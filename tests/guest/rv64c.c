/* RV64C: every compressed encoding (written with explicit c.* mnemonics,
 * which the assembler encodes as exactly that 16-bit form), the HINT encodings that must
 * execute as no-ops, and the reserved encodings that must raise an illegal
 * instruction exception with mtval = the 16-bit instruction. */
#include "insn.h"

#define CLOBBERS "a0", "a1", "a2", "a3", "a4", "a5", "s0", "s1", "ra", "fa0", "fa1", "memory"

/* Run `setup` (any size), the compressed `insn`, then `tail`; read a0. */
#define TCT(setup, insn, tail, exp) do { \
    ulong r_; \
    asm volatile(".option push\n.option rvc\n.option norelax\n" setup "\n\t" insn "\n\t" tail "\n" \
                 ".option pop\n\tmv %0, a0" : "=r"(r_) : "r"(buf) : CLOBBERS); \
    check(r_, (ulong)(exp), "%s", insn); \
} while (0)
#define TC(setup, insn, exp) TCT(setup, insn, "", exp)

static uint64_t buf[32] __attribute__((aligned(8)));

static void quadrant0(void)
{
    ulong sp;
    asm volatile("mv %0, sp" : "=r"(sp));
    TC("", "c.addi4spn a0, sp, 4", sp + 4);
    TC("", "c.addi4spn a0, sp, 1020", sp + 1020);
    buf[1] = 0xffffffff80000001UL;
    buf[2] = 0x0123456789abcdefUL;
    buf[31] = 0x4000000000000000UL;
    TC("mv a1, %1", "c.lw a0, 12(a1)", 0xffffffffffffffffUL);
    TC("mv a1, %1", "c.lw a0, 8(a1)", 0xffffffff80000001UL);
    TC("mv a1, %1", "c.ld a0, 16(a1)", 0x0123456789abcdefUL);
    TC("mv a1, %1", "c.ld a0, 248(a1)", 0x4000000000000000UL);
    TC("mv a1, %1\n\tfmv.d.x fa0, x0\n\tli a0, 0", "c.fld fa0, 248(a1)", 0);   /* a0 unused */
    check(({ ulong r; asm volatile("fmv.x.d %0, fa0" : "=r"(r)); r; }), 0x4000000000000000UL, "c.fld loaded");
    TC("mv a1, %1\n\tli a0, 0\n\tli a2, -7", "c.sw a2, 124(a1)", 0);
    check(buf[15] >> 32, 0xfffffff9, "c.sw stored");
    TC("mv a1, %1\n\tli a0, 0\n\tli a2, -7", "c.sd a2, 240(a1)", 0);
    check(buf[30], -7UL, "c.sd stored");
    TC("mv a1, %1\n\tli a0, 0\n\tli a2, 3\n\tfcvt.d.l fa1, a2", "c.fsd fa1, 232(a1)", 0);
    check(buf[29], 0x4008000000000000UL, "c.fsd stored");
}

static void quadrant1(void)
{
    TC("li a0, 1", "c.nop", 1);
    TC("li a0, 1", "c.addi a0, -32", -31);
    TC("li a0, 1", "c.addi a0, 31", 32);
    TC("li a0, 0x7fffffff", "c.addiw a0, 1", 0xffffffff80000000UL);
    TC("li a0, -1\n\tslli a0, a0, 32", "c.addiw a0, 0", 0);      /* sext.w */
    TC("", "c.li a0, -32", -32);
    TC("", "c.li a0, 31", 31);
    TCT("mv a1, sp", "c.addi16sp sp, -512", "sub a0, a1, sp\n\tc.addi16sp sp, 496\n\tc.addi16sp sp, 16", 512);
    TC("", "c.lui a0, 0x1f", 0x1f000);
    TC("", "c.lui a0, 0xfffe0", 0xfffffffffffe0000UL);
    TC("li a0, -1", "c.srli a0, 60", 0xf);
    TC("li a0, -1", "c.srli a0, 1", 0x7fffffffffffffffUL);
    TC("li a0, -16", "c.srai a0, 2", -4);
    TC("li a0, 1\n\tslli a0, a0, 63", "c.srai a0, 63", -1);
    TC("li a0, 0x7ff", "c.andi a0, -32", 0x7e0);
    TC("li a0, 0x7ff", "c.andi a0, 5", 5);
    TC("li a0, 10\n\tli a1, 3", "c.sub a0, a1", 7);
    TC("li a0, 10\n\tli a1, 3", "c.xor a0, a1", 9);
    TC("li a0, 10\n\tli a1, 3", "c.or a0, a1", 11);
    TC("li a0, 10\n\tli a1, 3", "c.and a0, a1", 2);
    TC("li a0, 0\n\tli a1, 0x80000000", "c.subw a0, a1", 0xffffffff80000000UL);
    TC("li a0, 0x7fffffff\n\tli a1, 1", "c.addw a0, a1", 0xffffffff80000000UL);
    TCT("li a0, 1", "c.j 3f", "li a0, 2\n3:", 1);
    TCT("li a0, 1\n\tj 4f\n3:\tli a0, 5\n\tj 5f\n4:", "c.j 3b", "5:", 5);
    TCT("li a0, 0\n\tli a1, 7", "c.beqz a0, 3f", "li a1, 8\n3:\tmv a0, a1", 7);
    TCT("li a0, 1\n\tli a1, 7", "c.beqz a0, 3f", "li a1, 8\n3:\tmv a0, a1", 8);
    TCT("li a0, 1\n\tli a1, 7", "c.bnez a0, 3f", "li a1, 8\n3:\tmv a0, a1", 7);
    TCT("li a0, 0\n\tli a1, 7", "c.bnez a0, 3f", "li a1, 8\n3:\tmv a0, a1", 8);
}

static void quadrant2(void)
{
    TC("li a0, 1", "c.slli a0, 63", 0x8000000000000000UL);
    TC("li a0, 3", "c.slli a0, 4", 0x30);
    /* stack-pointer relative: move sp down first so the frame is not hit */
#define SPDOWN "addi sp, sp, -512\n\t"
#define SPUP "\n\taddi sp, sp, 512"
    TCT(SPDOWN "li a1, -5", "c.swsp a1, 252(sp)", "lw a0, 252(sp)" SPUP, -5);
    TCT(SPDOWN "li a1, -5\n\tsw a1, 252(sp)", "c.lwsp a0, 252(sp)", SPUP, -5);
    TCT(SPDOWN "li a1, 0x123\n\tslli a1, a1, 40", "c.sdsp a1, 504(sp)", "ld a0, 504(sp)" SPUP, 0x1230000000000UL);
    TCT(SPDOWN "li a1, 0x123\n\tslli a1, a1, 40\n\tsd a1, 504(sp)", "c.ldsp a0, 504(sp)", SPUP, 0x1230000000000UL);
    TCT(SPDOWN "li a1, 0x4000\n\tslli a1, a1, 48\n\tfmv.d.x fa1, a1", "c.fsdsp fa1, 504(sp)",
        "ld a0, 504(sp)" SPUP, 0x4000000000000000UL);
    TCT(SPDOWN "li a1, 0x4008\n\tslli a1, a1, 48\n\tsd a1, 8(sp)", "c.fldsp fa0, 8(sp)",
        "fmv.x.d a0, fa0" SPUP, 0x4008000000000000UL);
    TCT("li a1, 7\n\tlla a2, 3f", "c.jr a2", "li a1, 8\n3:\tmv a0, a1", 7);
    TCT("lla a2, 3f", "c.jalr a2", "4:\tnop\n3:\tlla a3, 4b\n\tsub a0, ra, a3", 0);
    TC("li a1, -9", "c.mv a0, a1", -9);
    TC("li a0, 5\n\tli a1, -9", "c.add a0, a1", -4);
    TCT("li a0, 5\n\tli s1, 6", "c.add s1, a0", "mv a0, s1", 11);
    /* c.ebreak: breakpoint exception at its own address */
    ulong at;
    trap_expect(0);
    asm volatile(".option push\n.option rvc\n1: c.ebreak\n.option pop\n\tlla %0, 1b" : "=r"(at));
    check_trap(CAUSE_BREAKPOINT, 0, at, "c.ebreak raises breakpoint, mepc = its address");
}

/* HINT encodings: legal, no architectural effect. */
static void hints(void)
{
    trap_expect(0);
    TC("li a0, 3", ".2byte 0x0005", 3);     /* c.addi x0, 1 (c.nop with imm) */
    TC("li a0, 3", ".2byte 0x4005", 3);     /* c.li x0, 1 */
    TC("li a0, 3", ".2byte 0x6005", 3);     /* c.lui x0, 1 */
    TC("li a0, 3", ".2byte 0x802a", 3);     /* c.mv x0, a0 */
    TC("li a0, 3", ".2byte 0x902a", 3);     /* c.add x0, a0 */
    TC("li a0, 3", ".2byte 0x0006", 3);     /* c.slli x0, 1 */
    TC("li a0, 3", ".2byte 0x0502", 3);     /* c.slli a0, 0 (shamt 0) */
    TC("li a0, 3", ".2byte 0x0501", 3);     /* c.addi a0, 0 */
    check_no_trap("compressed HINTs do not trap");
}

/* Reserved encodings: illegal instruction, mtval = the 16-bit encoding. */
static const struct { uint16_t bits; const char *what; } reserved[] = {
    { 0x0000, "all-zero (c.addi4spn x8, 0)" },
    { 0x0008, "c.addi4spn a0, sp, 0 (nzuimm=0)" },
    { 0x4002, "c.lwsp x0 (rd=0)" },
    { 0x6002, "c.ldsp x0 (rd=0)" },
    { 0x6501, "c.lui a0, 0 (nzimm=0)" },
    { 0x6101, "c.addi16sp sp, 0 (nzimm=0)" },
    { 0x8002, "c.jr x0 (rs1=0)" },
    { 0x2005, "c.addiw x0, 1 (rd=0)" },
    { 0x8000, "quadrant 0 funct3=100" },
    { 0x9c41, "quadrant 1 100 1 11 .. 10 (reserved ALU op)" },
    { 0x9c61, "quadrant 1 100 1 11 .. 11 (reserved ALU op)" },
};

static void reserved_encodings(void)
{
    static uint16_t code[2] __attribute__((aligned(4)));
    for (unsigned i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
        /* place the encoding followed by c.jr ra and call it; fence.i
         * makes the freshly stored instruction visible to fetch */
        code[0] = reserved[i].bits;
        code[1] = 0x8082;   /* c.jr ra */
        asm volatile("fence.i" ::: "memory");
        trap_expect(0);
        ((void (*)(void))code)();
        check_trap(CAUSE_ILLEGAL, reserved[i].bits, (ulong)code, "reserved %s is illegal", reserved[i].what);
    }
}

int main(void)
{
    rt_puts("# rv64c\n");
    quadrant0();
    quadrant1();
    quadrant2();
    hints();
    reserved_encodings();
    test_done();
}
