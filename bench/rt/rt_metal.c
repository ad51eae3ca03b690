/* Bare-metal runtime: 16550 UART output, SiFive test finisher exit, and
 * the counter reads around the kernel.  Addresses are QEMU virt's. */
#include "bench.h"

#define UART0_BASE    0x10000000UL
#define UART_THR      0
#define UART_LSR      5
#define UART_LSR_THRE 0x20
#define FINISHER_BASE 0x100000UL
#define FINISHER_PASS 0x5555u
#define FINISHER_FAIL 0x3333u
#define CLINT_MTIME   0x0200bff8UL

static void uart_putc(char c)
{
    volatile uint8_t *uart = (volatile uint8_t *)UART0_BASE;

    while (!(uart[UART_LSR] & UART_LSR_THRE))
        ;
    uart[UART_THR] = (uint8_t)c;
}

static void put_str(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

static void put_dec(uint64_t v)
{
    char buf[24];
    int i = 0;

    do {
        buf[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (i)
        uart_putc(buf[--i]);
}

static void put_hex(uint64_t v)
{
    put_str("0x");
    for (int shift = 60; shift >= 0; shift -= 4)
        uart_putc("0123456789abcdef"[(v >> shift) & 0xf]);
}

static _Noreturn void finish(uint32_t code)
{
    volatile uint32_t *fin = (volatile uint32_t *)FINISHER_BASE;

    *fin = code ? (FINISHER_FAIL | code << 16) : FINISHER_PASS;
    for (;;)
        __asm__ volatile("wfi");
}

/* "memory" clobbers keep the reads where they are relative to the kernel. */
static inline uint64_t rd_instret(void)
{
    uint64_t v;
    __asm__ volatile("rdinstret %0" : "=r"(v) : : "memory");
    return v;
}

static inline uint64_t rd_cycle(void)
{
    uint64_t v;
    __asm__ volatile("rdcycle %0" : "=r"(v) : : "memory");
    return v;
}

static inline uint64_t rd_mtime(void)
{
    return *(volatile uint64_t *)CLINT_MTIME;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;

    while (n--)
        *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;

    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;

    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x < *y ? -1 : 1;
    return 0;
}

_Noreturn void bench_fail(const char *why)
{
    put_str("bench: ");
    put_str(bench_name);
    put_str(" FAIL ");
    put_str(why);
    uart_putc('\n');
    finish(3);
}

_Noreturn void rt_trap(uint64_t cause, uint64_t epc, uint64_t tval);

_Noreturn void rt_trap(uint64_t cause, uint64_t epc, uint64_t tval)
{
    put_str("bench: ");
    put_str(bench_name);
    put_str(" TRAP mcause=");
    put_hex(cause);
    put_str(" mepc=");
    put_hex(epc);
    put_str(" mtval=");
    put_hex(tval);
    uart_putc('\n');
    finish(4);
}

_Noreturn void rt_main(void);

_Noreturn void rt_main(void)
{
    uint64_t t0 = rd_mtime();
    uint64_t c0 = rd_cycle();
    uint64_t i0 = rd_instret();
    uint64_t sum = bench_main();
    uint64_t i1 = rd_instret();
    uint64_t c1 = rd_cycle();
    uint64_t t1 = rd_mtime();

    put_str("bench: ");
    put_str(bench_name);
    put_str(" insns=");
    put_dec(i1 - i0);
    put_str(" cycles=");
    put_dec(c1 - c0);
    put_str(" mtime=");
    put_dec(t1 - t0);
    put_str(" checksum=");
    put_hex(sum);
    uart_putc('\n');
    finish(0);
}
