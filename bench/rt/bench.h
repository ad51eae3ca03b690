/* Shared interface between the benchmark kernels and the two runtimes
 * (rt_metal.c for the bare-metal riscv64 ELF, rt_host.c for the native
 * reference build).  A kernel defines bench_name and bench_main(); the
 * runtime times bench_main() and prints one machine-readable line:
 *
 *   bench: NAME insns=N cycles=N mtime=N checksum=0x...   (bare metal)
 *   bench: NAME ns=N checksum=0x...                       (host)
 *
 * Kernels use only fixed-width integer types and IEEE double so both
 * builds compute bit-identical checksums. */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef BENCH_HOST
#include <string.h>
#else
/* Freestanding: rt_metal.c provides these (gcc may also emit calls). */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
#endif

extern const char bench_name[];

/* Runs the kernel once and returns its checksum. */
uint64_t bench_main(void);

/* A kernel's own self-check failed: report and exit with status 3. */
_Noreturn void bench_fail(const char *why);

/* splitmix64: tiny, full-period, good enough to fill inputs. */
static inline uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Order-sensitive fold of a value into a running checksum. */
static inline uint64_t mix64(uint64_t h, uint64_t v)
{
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h * 0xff51afd7ed558ccdULL;
}

/* Bit pattern of a double, for folding FP results into a checksum. */
static inline uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

/* Keep the compiler from precomputing or deleting a kernel's work. */
#define OPAQUE(x) __asm__ volatile("" : "+r"(x))

#endif
