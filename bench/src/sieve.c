/* Sieve of Eratosthenes two ways: one byte per odd number (strided byte
 * stores) and one bit per odd number (shift/mask read-modify-write).
 * Both count the primes below LIMIT and must find pi(10^7) = 664579. */
#include "bench.h"

#define LIMIT      10000000
#define ODD        (LIMIT / 2)  /* index i stands for 2i+1 */
#define BYTE_REPS  4
#define BIT_REPS   3

const char bench_name[] = "sieve";

static uint8_t composite[ODD];
static uint64_t bits[(ODD + 63) / 64];

static uint64_t sieve_bytes(uint64_t *prime_sum)
{
    uint64_t count = 1, psum = 2;  /* 2 is prime and not represented */

    memset(composite, 0, sizeof composite);
    for (uint64_t i = 1; i < ODD; i++) {
        if (composite[i])
            continue;
        uint64_t p = 2 * i + 1;
        count++;
        psum += p;
        for (uint64_t j = (p * p) / 2; j < ODD; j += p)
            composite[j] = 1;
    }
    *prime_sum = psum;
    return count;
}

static uint64_t sieve_bits(void)
{
    uint64_t count = 1;

    memset(bits, 0, sizeof bits);
    for (uint64_t i = 1; i < ODD; i++) {
        if (bits[i >> 6] >> (i & 63) & 1)
            continue;
        uint64_t p = 2 * i + 1;
        count++;
        for (uint64_t j = (p * p) / 2; j < ODD; j += p)
            bits[j >> 6] |= 1ULL << (j & 63);
    }
    return count;
}

uint64_t bench_main(void)
{
    uint64_t sum = 0, psum = 0;

    for (int r = 0; r < BYTE_REPS; r++) {
        uint64_t n = sieve_bytes(&psum);
        if (n != 664579)
            bench_fail("byte sieve: wrong prime count");
        sum = mix64(sum, n ^ psum);
    }
    for (int r = 0; r < BIT_REPS; r++) {
        uint64_t n = sieve_bits();
        if (n != 664579)
            bench_fail("bit sieve: wrong prime count");
        sum = mix64(sum, n);
    }
    /* Fold the final bitmap so its exact contents count too. */
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
        sum = mix64(sum, bits[i]);
    return sum;
}
