/* Tiny runtime for the bare-metal guest tests: console, checks, traps. */
#ifndef RT_H
#define RT_H

#include <stdarg.h>
#include <stdint.h>
#include "rt_asm.h"

typedef unsigned long ulong;

#define STR_(x) #x
#define STR(x) STR_(x)

#define csr_read(c) ({ ulong v_; asm volatile("csrr %0, " #c : "=r"(v_) :: "memory"); v_; })
#define csr_write(c, v) asm volatile("csrw " #c ", %0" :: "rK"((ulong)(v)) : "memory")
#define csr_set(c, v) asm volatile("csrs " #c ", %0" :: "rK"((ulong)(v)) : "memory")
#define csr_clear(c, v) asm volatile("csrc " #c ", %0" :: "rK"((ulong)(v)) : "memory")
#define csr_swap(c, v) ({ ulong v_; asm volatile("csrrw %0, " #c ", %1" : "=r"(v_) : "rK"((ulong)(v)) : "memory"); v_; })

/* exception causes (privileged spec table 3.6) */
enum {
    CAUSE_MISALIGNED_FETCH = 0, CAUSE_FETCH_ACCESS = 1, CAUSE_ILLEGAL = 2,
    CAUSE_BREAKPOINT = 3, CAUSE_MISALIGNED_LOAD = 4, CAUSE_LOAD_ACCESS = 5,
    CAUSE_MISALIGNED_STORE = 6, CAUSE_STORE_ACCESS = 7, CAUSE_ECALL_U = 8,
    CAUSE_ECALL_S = 9, CAUSE_ECALL_M = 11, CAUSE_FETCH_PAGE = 12,
    CAUSE_LOAD_PAGE = 13, CAUSE_STORE_PAGE = 15,
};
#define CAUSE_INTR (1UL << 63)
enum { IRQ_SSI = 1, IRQ_MSI = 3, IRQ_STI = 5, IRQ_MTI = 7, IRQ_SEI = 9, IRQ_MEI = 11 };
#define MIP_SSIP (1UL << IRQ_SSI)
#define MIP_MSIP (1UL << IRQ_MSI)
#define MIP_STIP (1UL << IRQ_STI)
#define MIP_MTIP (1UL << IRQ_MTI)
#define MIP_SEIP (1UL << IRQ_SEI)
#define MIP_MEIP (1UL << IRQ_MEI)

/* QEMU virt devices */
#define UART0_BASE      0x10000000UL
#define FINISHER_BASE   0x100000UL
#define CLINT_BASE      0x2000000UL
#define CLINT_MSIP      (CLINT_BASE + 0x0)
#define CLINT_MTIMECMP  (CLINT_BASE + 0x4000)
#define CLINT_MTIME     (CLINT_BASE + 0xbff8)

#define mmio32(a) (*(volatile uint32_t *)(ulong)(a))
#define mmio64(a) (*(volatile uint64_t *)(ulong)(a))

/* console and exit; the hooks replace the UART / finisher (htif.c) */
extern void (*rt_putc_hook)(int c);
extern void (*rt_exit_hook)(int code);
void rt_putc(int c);
void rt_puts(const char *s);
void rt_printf(const char *fmt, ...);
void rt_vprintf(const char *fmt, va_list ap);

/* checks: print "ok N - what" or "not ok N - what: got X expected Y" */
int check(ulong got, ulong expected, const char *fmt, ...);
int check_true(int cond, const char *fmt, ...);
/* Low level: count a check and print "ok N - what" or "not ok N - what"
 * WITHOUT the newline: the caller adds ": got ... expected ..." on failure,
 * then '\n'.  Returns pass. */
int rt_report(int pass, const char *fmt, ...);
extern int rt_checks, rt_failed;
/* print the plan and exit through the finisher (pass iff no failure) */
void __attribute__((noreturn)) test_done(void);
void __attribute__((noreturn)) rt_exit(int code);

/*
 * Trap recording.  A test arms an expectation with trap_expect(resume);
 * the next exception is recorded in `trap` and execution continues at
 * `resume` (or, when resume is 0, after the trapping instruction, whose
 * length is read from memory: the code must be identity-mapped).  An
 * exception with nothing armed is a test failure and ends the program.
 * Handlers run in M (rt_mtrap) or S (rt_strap, when stvec is set to
 * rt_strap_entry and the cause is delegated).
 */
struct trap_rec {
    volatile ulong count;       /* exceptions recorded since trap_expect */
    volatile ulong cause, epc, tval;
    volatile ulong mode;        /* mode that handled it: PRV_M or PRV_S */
    volatile ulong prev;        /* xPP: the mode the trap came from */
    volatile ulong status;      /* mstatus/sstatus as seen by the handler */
};
extern struct trap_rec trap;
extern volatile int trap_armed;
extern volatile ulong trap_resume;
void trap_expect(ulong resume);
/* Optional hooks (interrupts, custom ecalls).  Return nonzero if handled. */
struct rt_frame { ulong x[32]; };
extern int (*rt_irq_hook)(ulong cause, int mode, struct rt_frame *f);
extern int (*rt_exc_hook)(ulong cause, int mode, struct rt_frame *f);

/* One check: exactly one trap with this cause and tval (and epc unless
 * TRAP_ANY).  Disarms any expectation left over. */
#define TRAP_ANY (~0UL)
int check_trap(ulong cause, ulong tval, ulong epc, const char *fmt, ...);
/* One check: no trap was taken since trap_expect(). */
int check_no_trap(const char *fmt, ...);

/* Convenience: run one statement expecting a trap, then check cause/tval. */
#define EXPECT_TRAP(stmt) do { trap_expect(0); stmt; } while (0)

/* Run fn(arg) in PRV_U, PRV_S or PRV_M (entered through mret) and return
 * its result in M; the body may change mode on its own (see crt0.S). */
long rt_run_in(int mode, long (*fn)(long), long arg);
void rt_strap_entry(void);
void rt_mtrap_entry(void);
extern char __heap_start[], __stack_top[];

void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);

#endif
