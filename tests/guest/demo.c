/* The built-in default guest: a bare-metal program that shows the machine
 * working (UART, integer and FP arithmetic, the CLINT timer, counters) and
 * powers off through the finisher. `tools/quickstart` runs it. */
#include "rt.h"

/* Count primes below n with a bit sieve: exercises loads/stores and
 * branches enough to be worth a MIPS figure. */
static unsigned sieve(unsigned n)
{
    static uint8_t bits[1 << 17];
    unsigned count = 0;

    for (unsigned i = 0; i < sizeof(bits); i++)
        bits[i] = 0;
    for (unsigned i = 2; i < n; i++) {
        if (bits[i >> 3] & (1u << (i & 7)))
            continue;
        count++;
        for (unsigned j = i * 2; j < n; j += i)
            bits[j >> 3] |= (uint8_t)(1u << (j & 7));
    }
    return count;
}

/* ASCII Mandelbrot set in double precision. */
static void mandelbrot(void)
{
    static const char shades[] = " .:-=+*#%@";

    for (int y = -10; y <= 10; y++) {
        for (int x = -39; x <= 20; x++) {
            double cr = x / 20.0, ci = y / 10.0, zr = 0, zi = 0;
            int it = 0;
            while (it < 60 && zr * zr + zi * zi < 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2 * zr * zi + ci;
                zr = t;
                it++;
            }
            rt_putc(shades[it >= 60 ? 9 : it % 9]);
        }
        rt_putc('\n');
    }
}

int main(void)
{
    ulong t0 = mmio64(CLINT_MTIME), i0 = csr_read(minstret), t1, i1;
    unsigned primes;

    rt_printf("glassbox demo guest: RV64GC hart %lu on the virt machine\n",
              csr_read(mhartid));
    rt_printf("misa = 0x%lx\n\n", csr_read(misa));
    mandelbrot();
    primes = sieve(1000000);
    t1 = mmio64(CLINT_MTIME);
    i1 = csr_read(minstret);
    rt_printf("\nprimes below 1000000: %u (expected 78498)\n", primes);
    rt_printf("%lu instructions in %lu us of guest time\n", i1 - i0, (t1 - t0) / 10);
    rt_printf("powering off through the test finisher\n");
    rt_exit(primes == 78498 ? 0 : 1);
}
