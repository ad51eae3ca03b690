/* RV64M: every multiply/divide instruction, including the spec's defined
 * results for division by zero (quotient all ones, remainder = dividend) and
 * signed overflow (MIN / -1 = MIN, remainder 0), and W-form sign extension. */
#include "insn.h"

#define MIN64 0x8000000000000000UL
#define MAX64 0x7fffffffffffffffUL

int main(void)
{
    rt_puts("# rv64m\n");
    T_RR(mul, 3, 7, 21);
    T_RR(mul, -1, -1, 1);
    T_RR(mul, MIN64, -1, MIN64);
    T_RR(mul, 0x100000000UL, 0x100000000UL, 0);
    T_RR(mulh, -1, -1, 0);
    T_RR(mulh, MIN64, MIN64, 0x4000000000000000UL);
    T_RR(mulh, MAX64, MAX64, 0x3fffffffffffffffUL);
    T_RR(mulh, -1, 1, -1);
    T_RR(mulh, MIN64, 1, -1);
    T_RR(mulhsu, -1, -1, -1);
    T_RR(mulhsu, 1, -1, 0);
    T_RR(mulhsu, MIN64, 2, -1);
    T_RR(mulhsu, 2, MIN64, 1);
    T_RR(mulhu, -1, -1, 0xfffffffffffffffeUL);
    T_RR(mulhu, MIN64, 2, 1);
    T_RR(mulhu, 3, 5, 0);
    T_RR(mulw, 0x7fffffff, 2, -2);
    T_RR(mulw, 0x100000003UL, 0x100000005UL, 15);
    T_RR(mulw, -1, -1, 1);
    T_RR(mulw, 0x10000, 0x8000, 0xffffffff80000000UL);

    T_RR(div, 20, 6, 3);
    T_RR(div, -20, 6, -3);
    T_RR(div, 20, -6, -3);
    T_RR(div, MIN64, -1, MIN64);
    T_RR(div, 5, 0, -1);
    T_RR(divu, 20, 6, 3);
    T_RR(divu, -1, 2, MAX64);
    T_RR(divu, 5, 0, -1);
    T_RR(rem, 20, 6, 2);
    T_RR(rem, -20, 6, -2);
    T_RR(rem, 20, -6, 2);
    T_RR(rem, MIN64, -1, 0);
    T_RR(rem, 5, 0, 5);
    T_RR(remu, -1, 10, 5);
    T_RR(remu, 5, 0, 5);
    T_RR(divw, 0x80000000, -1, 0xffffffff80000000UL);
    T_RR(divw, -20, 6, -3);
    T_RR(divw, 7, 0, -1);
    T_RR(divw, 0x100000014UL, 6, 3);
    T_RR(divuw, 0xffffffff, 2, 0x7fffffff);
    T_RR(divuw, 0x80000000, 1, 0xffffffff80000000UL);
    T_RR(divuw, 7, 0, -1);
    T_RR(remw, 0x80000000, -1, 0);
    T_RR(remw, -20, 6, -2);
    T_RR(remw, 7, 0, 7);
    T_RR(remw, 0xfffffff9, 0, -7);
    T_RR(remuw, 0xffffffff, 10, 5);
    T_RR(remuw, 7, 0, 7);
    T_RR(remuw, 0x80000001, 0, 0xffffffff80000001UL);
    test_done();
}
