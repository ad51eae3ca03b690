/* HTIF (glassbox only: QEMU virt has no HTIF, so the differential test
 * skips this program).  tohost/fromhost live in their own .tohost section,
 * placed by the linker after .data, so the host must find them through the
 * symbol table.  All output goes through the console-putchar command
 * (device 1, cmd 1) and the program ends by writing 1 (pass) or
 * (code << 1) | 1 (fail) to tohost; the UART and the finisher are unused. */
#include "rt.h"

volatile uint64_t tohost __attribute__((section(".tohost"), aligned(8)));
volatile uint64_t fromhost __attribute__((section(".tohost"), aligned(8)));

#define HTIF_CMD(dev, cmd, payload) ((uint64_t)(dev) << 56 | (uint64_t)(cmd) << 48 | (payload))

static int lost;    /* the host never consumed a command */

/* Wait until the host has taken the previous command (tohost back to 0). */
static int htif_wait(void)
{
    for (long i = 0; i < 10000000; i++) {
        if (fromhost)
            fromhost = 0;
        if (!tohost)
            return 1;
    }
    lost = 1;
    return 0;
}

static void htif_putc(int c)
{
    htif_wait();
    tohost = HTIF_CMD(1, 1, (uint8_t)c);
}

static void htif_exit(int code)
{
    htif_wait();
    tohost = code ? ((uint64_t)code << 1) | 1 : 1;
    for (;;)
        asm volatile("wfi");
}

int main(void)
{
    rt_putc_hook = htif_putc;
    rt_exit_hook = htif_exit;
    rt_puts("# htif\n");
    check_true(((ulong)&tohost & 7) == 0, "tohost is 8-byte aligned");
    check_true((ulong)&tohost >= 0x80000000UL, "tohost is in RAM");
    /* each character above went out as one command the host cleared */
    htif_putc('#');
    htif_putc('\n');
    check_true(htif_wait() && !lost, "host clears tohost after every putchar");
    check(tohost, 0, "tohost is 0 between commands");
    long x = 6;
    asm volatile("mul %0, %0, %0" : "+r"(x));
    check(x, 36, "the hart runs normally under HTIF");
    test_done();
}
