/* A guest that runs until the host stops it: the subject of the control,
 * console and signal tests. It spends its time in one hot function
 * (spin_hot_loop, a symbol the hot-block panel should name) and prints
 * "tick N" once per second of guest time (mtime), so a test can see the
 * guest clock stand still while the VM is paused. */
#include "rt.h"

static volatile uint64_t sink;

/* noinline: one recognisable hot block under a known symbol */
__attribute__((noinline)) uint64_t spin_hot_loop(uint64_t seed, unsigned n)
{
    uint64_t x = seed;

    for (unsigned i = 0; i < n; i++)
        x = x * 6364136223846793005ull + 1442695040888963407ull + (x >> 29);
    return x;
}

int main(void)
{
    const uint64_t hz = 10000000;       /* mtime: 10 MHz on glassbox and QEMU virt */
    uint64_t next = mmio64(CLINT_MTIME) + hz;
    unsigned tick = 0;
    uint64_t x = 1;

    rt_puts("spin: running\n");
    for (;;) {
        x = spin_hot_loop(x, 4096);
        sink = x;
        if (mmio64(CLINT_MTIME) >= next) {
            rt_printf("tick %u\n", ++tick);
            next += hz;
        }
    }
}
