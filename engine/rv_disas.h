/* RISC-V RV64GC disassembler (RV64IMAFDC, Zicsr, Zifencei, mret/sret/wfi/
 * sfence.vma). Output follows GNU objdump -M no-aliases with ABI register
 * names and a single space between mnemonic and operands. Pure functions:
 * no state, safe from any thread. */
#ifndef RV_DISAS_H
#define RV_DISAS_H

#include <stddef.h>
#include <stdint.h>

/* Disassemble one instruction at guest address pc. If (insn & 3) != 3 it is
 * a 16-bit compressed instruction (upper 16 bits ignored). Writes a
 * NUL-terminated string (truncated safely to bufsz; buf may be NULL when
 * bufsz is 0) and returns the instruction length, 2 or 4. Unknown/reserved
 * encodings print as "unknown 0x%08x" (or 0x%04x for 16-bit) and still
 * return the length. Encodings of 48 bits or longer (low five bits all set)
 * print as unknown with length 4: RV64GC has none. */
int rv_disas(char *buf, size_t bufsz, uint64_t pc, uint32_t insn);

/* ABI names ("zero", "ra", "sp", ... "t6"); NULL when r > 31. */
const char *rv_reg_name(unsigned r);

/* ABI names ("ft0" ... "ft11"); NULL when r > 31. */
const char *rv_freg_name(unsigned r);

/* Name of a CSR as objdump prints it ("mstatus"); NULL when it has none
 * (including numbers above 0xfff). */
const char *rv_csr_name(unsigned csr);

#endif
