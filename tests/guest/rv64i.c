/* RV64I: every base integer instruction (ECALL/EBREAK are in exceptions.c,
 * FENCE.I in smc.c).  Expected values are worked out from the unprivileged
 * spec by hand: shifts use the low 6 (W forms: 5) bits of the amount, W forms
 * sign-extend their 32-bit result, immediates are sign-extended 12 bits. */
#include "insn.h"

#define MIN64 0x8000000000000000UL
#define MAX64 0x7fffffffffffffffUL

static void alu_reg(void)
{
    T_RR(add, 1, 2, 3);
    T_RR(add, -1, 1, 0);
    T_RR(add, MAX64, 1, MIN64);
    T_RR(sub, 3, 5, -2);
    T_RR(sub, MIN64, 1, MAX64);
    T_RR(sub, 0, -1, 1);
    T_RR(sll, 1, 63, MIN64);
    T_RR(sll, 1, 64, 1);
    T_RR(sll, 0xff, 0x44, 0xff0);
    T_RR(srl, MIN64, 63, 1);
    T_RR(srl, -1, 4, 0x0fffffffffffffffUL);
    T_RR(srl, -1, 68, 0x0fffffffffffffffUL);
    T_RR(sra, MIN64, 63, -1);
    T_RR(sra, -16, 2, -4);
    T_RR(sra, 0x7000000000000000UL, 0x7c, 7);
    T_RR(slt, -1, 0, 1);
    T_RR(slt, 0, -1, 0);
    T_RR(slt, 5, 5, 0);
    T_RR(slt, MIN64, MAX64, 1);
    T_RR(sltu, -1, 0, 0);
    T_RR(sltu, 0, -1, 1);
    T_RR(sltu, 4, 5, 1);
    T_RR(xor, 0xff00ff00ff00ff00UL, 0x0ff00ff00ff00ff0UL, 0xf0f0f0f0f0f0f0f0UL);
    T_RR(or, 0xff00ff00ff00ff00UL, 0x0ff00ff00ff00ff0UL, 0xfff0fff0fff0fff0UL);
    T_RR(and, 0xff00ff00ff00ff00UL, 0x0ff00ff00ff00ff0UL, 0x0f000f000f000f00UL);
}

static void alu_imm(void)
{
    T_RI(addi, 1, -1, 0);
    T_RI(addi, MAX64, 1, MIN64);
    T_RI(addi, 0, 2047, 2047);
    T_RI(addi, 0, -2048, -2048);
    T_RI(slti, -1, 0, 1);
    T_RI(slti, 0, -1, 0);
    T_RI(slti, 10, 11, 1);
    T_RI(slti, MIN64, -2048, 1);
    T_RI(sltiu, 0, -1, 1);      /* immediate sign-extended, compared unsigned */
    T_RI(sltiu, -1, -1, 0);
    T_RI(sltiu, 1, 1, 0);
    T_RI(sltiu, 0, 1, 1);
    T_RI(xori, 0xff, -1, 0xffffffffffffff00UL);
    T_RI(xori, 0xf0, 0xff, 0x0f);
    T_RI(ori, 0x100, -2048, 0xfffffffffffff900UL);
    T_RI(ori, 0x5, 0x2, 0x7);
    T_RI(andi, -1, -2048, 0xfffffffffffff800UL);
    T_RI(andi, 0x1234, 0xff, 0x34);
    T_RI(slli, 1, 63, MIN64);
    T_RI(slli, 0x0123456789abcdefUL, 4, 0x123456789abcdef0UL);
    T_RI(srli, MIN64, 63, 1);
    T_RI(srli, -1, 1, MAX64);
    T_RI(srli, -1, 0, -1);
    T_RI(srai, MIN64, 1, 0xc000000000000000UL);
    T_RI(srai, -2, 1, -1);
    T_RI(srai, MAX64, 62, 1);
}

static void alu_word(void)
{
    T_RR(addw, 0x7fffffff, 1, 0xffffffff80000000UL);
    T_RR(addw, 0xffffffff00000001UL, 1, 2);
    T_RR(addw, -1, -1, -2);
    T_RR(subw, 0, 1, -1);
    T_RR(subw, 0x80000000, 1, 0x7fffffff);
    T_RR(subw, 0x100000000UL, 0, 0);
    T_RR(sllw, 1, 31, 0xffffffff80000000UL);
    T_RR(sllw, 1, 32, 1);
    T_RR(sllw, 0xffffffff00000003UL, 1, 6);
    T_RR(srlw, 0x80000000, 31, 1);
    T_RR(srlw, -1, 0, -1);
    T_RR(srlw, 0xffffffff80000000UL, 4, 0x08000000);
    T_RR(srlw, 0xffffffff, 33, 0x7fffffff);
    T_RR(sraw, 0x80000000, 31, -1);
    T_RR(sraw, 0x7fffffff, 30, 1);
    T_RR(sraw, 0x80000000, 32, 0xffffffff80000000UL);
    T_RI(addiw, 0x7fffffff, 1, 0xffffffff80000000UL);
    T_RI(addiw, 0xffffffff, 0, -1);
    T_RI(addiw, 0x123456789UL, 0, 0x23456789);
    T_RI(addiw, 0, -2048, -2048);
    T_RI(slliw, 1, 31, 0xffffffff80000000UL);
    T_RI(slliw, 0xffffffff00000001UL, 0, 1);
    T_RI(srliw, 0x80000000, 31, 1);
    T_RI(srliw, -1, 0, -1);
    T_RI(srliw, 0xffff0000, 16, 0xffff);
    T_RI(sraiw, 0x80000000, 31, -1);
    T_RI(sraiw, 0xfffffff0, 2, -4);
    T_RI(sraiw, 0x7fffffff, 1, 0x3fffffff);
}

static void upper(void)
{
    T_U(lui, 0x12345, 0x12345000);
    T_U(lui, 0x80000, 0xffffffff80000000UL);
    T_U(lui, 0xfffff, 0xfffffffffffff000UL);
    ulong r, here;
    asm volatile("1: auipc %0, 0x1\n\tla %1, 1b" : "=r"(r), "=r"(here));
    check(r - here, 0x1000, "auipc 0x1");
    asm volatile("1: auipc %0, 0x80000\n\tla %1, 1b" : "=r"(r), "=r"(here));
    check(r - here, -0x80000000UL, "auipc 0x80000 (negative)");
    asm volatile("1: auipc %0, 0\n\tla %1, 1b" : "=r"(r), "=r"(here));
    check(r, here, "auipc 0");
}

static void branches(void)
{
    T_BR(beq, 5, 5, 1);
    T_BR(beq, 5, 6, 0);
    T_BR(bne, 5, 6, 1);
    T_BR(bne, -1, -1, 0);
    T_BR(blt, -1, 0, 1);
    T_BR(blt, 0, -1, 0);
    T_BR(blt, 3, 3, 0);
    T_BR(bge, 3, 3, 1);
    T_BR(bge, -1, 0, 0);
    T_BR(bge, MAX64, MIN64, 1);
    T_BR(bltu, 0, -1, 1);
    T_BR(bltu, -1, 0, 0);
    T_BR(bltu, 7, 7, 0);
    T_BR(bgeu, -1, 0, 1);
    T_BR(bgeu, 0, -1, 0);
    T_BR(bgeu, 7, 7, 1);
    /* backward branch: count down 10 iterations */
    ulong n = 10, it = 0;
    asm volatile("1: addi %0, %0, 1\n\taddi %1, %1, -1\n\tbnez %1, 1b" : "+r"(it), "+r"(n));
    check(it, 10, "backward bne loop");
}

static void jumps(void)
{
    ulong link, back, flag = 1;
    asm volatile(".option push\n.option norvc\n"
                 "jal %0, 1f\n"
                 "2: li %2, 0\n"
                 "1: la %1, 2b\n"
                 ".option pop" : "=&r"(link), "=&r"(back), "+r"(flag));
    check(link, back, "jal link = pc+4");
    check(flag, 1, "jal skips");

    /* jalr clears bit 0 of the target; offset added before that */
    ulong t;
    flag = 1;
    asm volatile(".option push\n.option norvc\n"
                 "la %1, 1f + 1 - 8\n"
                 "jalr %0, 8(%1)\n"
                 "2: li %2, 0\n"
                 "1: la %1, 2b\n"
                 ".option pop" : "=&r"(link), "=&r"(t), "+r"(flag));
    check(link, t, "jalr link = pc+4");
    check(flag, 1, "jalr odd target clears bit 0");

    /* rd == rs1: target uses the old value */
    flag = 1;
    asm volatile(".option push\n.option norvc\n"
                 "la %0, 1f\n"
                 "jalr %0, 0(%0)\n"
                 "2: li %2, 0\n"
                 "1: la %1, 2b\n"
                 ".option pop" : "=&r"(link), "=&r"(t), "+r"(flag));
    check(link, t, "jalr rd==rs1 link");
    check(flag, 1, "jalr rd==rs1 target");

    /* jal with negative offset */
    asm volatile(".option push\n.option norvc\n"
                 "j 2f\n"
                 "1: li %0, 42\n"
                 "j 3f\n"
                 "2: jal x0, 1b\n"
                 "3:\n"
                 ".option pop" : "=r"(t));
    check(t, 42, "jal backward");
}

static uint64_t mem[4] __attribute__((aligned(16))) = {
    0x0897a655e47382f1UL, 0x8877665544332211UL, 0, 0,
};

static void loads(void)
{
    uint64_t *p = mem, *q = mem + 1;
    T_LD(lb, p, 0, 0xfffffffffffffff1UL);
    T_LD(lb, p, 1, 0xffffffffffffff82UL);
    T_LD(lb, p, 2, 0x73);
    T_LD(lbu, p, 0, 0xf1);
    T_LD(lbu, p, 3, 0xe4);
    T_LD(lh, p, 0, 0xffffffffffff82f1UL);
    T_LD(lh, p, 2, 0xffffffffffffe473UL);
    T_LD(lh, p, 6, 0x0897);
    T_LD(lhu, p, 0, 0x82f1);
    T_LD(lw, p, 0, 0xffffffffe47382f1UL);
    T_LD(lw, p, 4, 0x0897a655);
    T_LD(lwu, p, 0, 0xe47382f1);
    T_LD(ld, p, 0, 0x0897a655e47382f1UL);
    T_LD(ld, p, 8, 0x8877665544332211UL);
    T_LD(lw, q, -4, 0x0897a655);
    T_LD(lb, q, -1, 0x08);
    /* misaligned accesses complete (as on QEMU); little-endian byte order */
    T_LD(lw, p, 1, 0x55e47382);
    T_LD(lh, p, 7, 0x1108);
    T_LD(lh, p, 5, 0xffffffffffff97a6UL);
    T_LD(lhu, p, 5, 0x97a6);
    T_LD(lwu, p, 6, 0x22110897);
    T_LD(ld, p, 3, 0x3322110897a655e4UL);
}

#define T_ST(op, off, val, word, exp) do { \
    mem[2] = mem[3] = 0; \
    asm volatile(#op " %1, %2(%0)" :: "r"(&mem[2]), "r"((ulong)(val)), "i"(off) : "memory"); \
    check(mem[2 + (word)], (ulong)(exp), #op " %s at +%d", #val, off); \
} while (0)

static void stores(void)
{
    T_ST(sb, 0, 0x1ff, 0, 0xff);
    T_ST(sb, 7, 0xab, 0, 0xab00000000000000UL);
    T_ST(sh, 2, 0x12345, 0, 0x23450000);
    T_ST(sw, 4, 0xdeadbeefcafef00dUL, 0, 0xcafef00d00000000UL);
    T_ST(sd, 8, 0x0123456789abcdefUL, 1, 0x0123456789abcdefUL);
    /* misaligned stores (complete, may straddle the two words) */
    T_ST(sh, 7, 0xbbaa, 0, 0xaa00000000000000UL);
    T_ST(sh, 7, 0xbbaa, 1, 0xbb);
    T_ST(sw, 3, 0x44332211, 0, 0x0044332211000000UL);
    T_ST(sd, 5, 0x8877665544332211UL, 0, 0x3322110000000000UL);
    T_ST(sd, 5, 0x8877665544332211UL, 1, 0x0000008877665544UL);
}

static void misc(void)
{
    ulong r = 7;
    asm volatile("add x0, %1, %1\n\tmv %0, x0" : "=r"(r) : "r"(r));
    check(r, 0, "write to x0 is discarded");
    asm volatile("addi x0, x0, 5\n\tmv %0, x0" : "=r"(r));
    check(r, 0, "addi x0, x0, 5 (hint)");
    asm volatile("fence rw, rw\n\tfence iorw, iorw\n\tfence.tso\n\tfence w, r\n\tli %0, 1" : "=r"(r) :: "memory");
    check(r, 1, "fence variants execute");
}

int main(void)
{
    rt_puts("# rv64i\n");
    alu_reg();
    alu_imm();
    alu_word();
    upper();
    branches();
    jumps();
    loads();
    stores();
    misc();
    test_done();
}
