/* Integer matrix multiply, C = A * B (mod 2^32), i-k-j order so the inner
 * loop streams rows; iterated so each product feeds the next. */
#include "bench.h"

#define DIM    160
#define ROUNDS 40

const char bench_name[] = "matmul";

static uint32_t ma[DIM][DIM], mb[DIM][DIM], mc[DIM][DIM];

static void matmul(uint32_t c[DIM][DIM], const uint32_t a[DIM][DIM],
                   const uint32_t b[DIM][DIM])
{
    for (int i = 0; i < DIM; i++) {
        for (int j = 0; j < DIM; j++)
            c[i][j] = 0;
        for (int k = 0; k < DIM; k++) {
            uint32_t aik = a[i][k];
            for (int j = 0; j < DIM; j++)
                c[i][j] += aik * b[k][j];
        }
    }
}

uint64_t bench_main(void)
{
    uint64_t seed = 0x5eed0004, sum = 0;

    for (int i = 0; i < DIM; i++)
        for (int j = 0; j < DIM; j++) {
            ma[i][j] = (uint32_t)rng_next(&seed);
            mb[i][j] = (uint32_t)rng_next(&seed) & 0xffff;
        }
    for (int r = 0; r < ROUNDS; r++) {
        matmul(mc, ma, mb);
        /* Next A is this product, perturbed so it never degenerates. */
        for (int i = 0; i < DIM; i++)
            for (int j = 0; j < DIM; j++)
                ma[i][j] = mc[i][j] ^ (uint32_t)(i * DIM + j + r);
        sum = mix64(sum, mc[r % DIM][(r * 7) % DIM]);
    }
    for (int i = 0; i < DIM; i++)
        for (int j = 0; j < DIM; j++)
            sum += (uint64_t)mc[i][j] * (uint64_t)(i ^ j);
    return sum;
}
