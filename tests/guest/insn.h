/* Table-style macros for single-instruction checks: run one instruction on
 * given operands and compare its result with the value the spec defines.
 * The check name is the instruction and its operands as written. */
#ifndef INSN_H
#define INSN_H
#include "rt.h"

/* rd = op rs1, rs2 */
#define T_RR(op, a, b, exp) do { \
    ulong r_; \
    asm volatile(#op " %0, %1, %2" : "=r"(r_) : "r"((ulong)(a)), "r"((ulong)(b))); \
    check(r_, (ulong)(exp), #op " " #a ", " #b); \
} while (0)

/* rd = op rs1, imm */
#define T_RI(op, a, imm, exp) do { \
    ulong r_; \
    asm volatile(#op " %0, %1, %2" : "=r"(r_) : "r"((ulong)(a)), "i"(imm)); \
    check(r_, (ulong)(exp), #op " " #a ", " #imm); \
} while (0)

/* rd = op imm (lui/auipc-like, result adjusted by caller) */
#define T_U(op, imm, exp) do { \
    ulong r_; \
    asm volatile(#op " %0, %1" : "=r"(r_) : "i"(imm)); \
    check(r_, (ulong)(exp), #op " " #imm); \
} while (0)

/* branch taken? */
#define T_BR(op, a, b, taken) do { \
    ulong t_; \
    asm volatile("li %0, 1\n\t" #op " %1, %2, 1f\n\tli %0, 0\n1:" \
                 : "=&r"(t_) : "r"((ulong)(a)), "r"((ulong)(b))); \
    check(t_, (ulong)(taken), #op " " #a ", " #b); \
} while (0)

/* load from p+off */
#define T_LD(op, p, off, exp) do { \
    ulong r_; \
    asm volatile(#op " %0, %2(%1)" : "=r"(r_) : "r"(p), "i"(off) : "memory"); \
    check(r_, (ulong)(exp), #op " " #off "(" #p ")"); \
} while (0)

#endif
