/* Host shim: the same kernels as a native program, for the reference
 * column.  Prints the bare-metal line's format minus the guest counters. */
#define _POSIX_C_SOURCE 199309L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

_Noreturn void bench_fail(const char *why)
{
    printf("bench: %s FAIL %s\n", bench_name, why);
    exit(3);
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(void)
{
    uint64_t t0 = now_ns();
    uint64_t sum = bench_main();
    uint64_t t1 = now_ns();

    printf("bench: %s ns=%" PRIu64 " checksum=0x%016" PRIx64 "\n",
           bench_name, t1 - t0, sum);
    return 0;
}
