/* Double-precision kernels: an n-body simulation (sqrt, divide, fused
 * multiply-add) and a dense matrix product with row normalisation.
 * No libm beyond sqrt and fma, which IEEE 754 rounds exactly, and
 * -ffp-contract=off, so riscv64 and the native build agree bit for bit. */
#include "bench.h"

#define NB      20
#define STEPS   14000
#define DIM     40
#define MROUNDS 280
#define EPS     1e-3
#define DT      1e-3

const char bench_name[] = "nbody";

struct body {
    double x, y, z, vx, vy, vz, m;
};

static struct body bodies[NB];
static double fa[DIM][DIM], fb[DIM][DIM], fc[DIM][DIM];

static inline double fsqrt(double x)
{
    return __builtin_sqrt(x);
}

static inline double fmadd(double a, double b, double c)
{
    return __builtin_fma(a, b, c);
}

/* Uniform in [lo, hi): the top 53 bits convert to double exactly. */
static double rng_double(uint64_t *seed, double lo, double hi)
{
    return lo + (hi - lo) * ((double)(rng_next(seed) >> 11) * 0x1p-53);
}

static void nbody_step(void)
{
    for (int i = 0; i < NB; i++) {
        struct body *a = &bodies[i];
        for (int j = i + 1; j < NB; j++) {
            struct body *b = &bodies[j];
            double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z;
            double d2 = fmadd(dx, dx, fmadd(dy, dy, fmadd(dz, dz, EPS)));
            double mag = DT / (d2 * fsqrt(d2));
            double ma = a->m * mag, mb = b->m * mag;
            a->vx = fmadd(-dx, mb, a->vx);
            a->vy = fmadd(-dy, mb, a->vy);
            a->vz = fmadd(-dz, mb, a->vz);
            b->vx = fmadd(dx, ma, b->vx);
            b->vy = fmadd(dy, ma, b->vy);
            b->vz = fmadd(dz, ma, b->vz);
        }
    }
    for (int i = 0; i < NB; i++) {
        struct body *a = &bodies[i];
        a->x = fmadd(DT, a->vx, a->x);
        a->y = fmadd(DT, a->vy, a->y);
        a->z = fmadd(DT, a->vz, a->z);
    }
}

static double energy(void)
{
    double e = 0.0;

    for (int i = 0; i < NB; i++) {
        const struct body *a = &bodies[i];
        e += 0.5 * a->m * (a->vx * a->vx + a->vy * a->vy + a->vz * a->vz);
        for (int j = i + 1; j < NB; j++) {
            const struct body *b = &bodies[j];
            double dx = a->x - b->x, dy = a->y - b->y, dz = a->z - b->z;
            e -= a->m * b->m / fsqrt(dx * dx + dy * dy + dz * dz + EPS);
        }
    }
    return e;
}

/* fc = fa * fb, then each row scaled to unit length; fa = fc. */
static void matmul_normalise(void)
{
    for (int i = 0; i < DIM; i++) {
        for (int j = 0; j < DIM; j++) {
            double s = 0.0;
            for (int k = 0; k < DIM; k++)
                s = fmadd(fa[i][k], fb[k][j], s);
            fc[i][j] = s;
        }
        double n2 = 0.0;
        for (int j = 0; j < DIM; j++)
            n2 += fc[i][j] * fc[i][j];
        double inv = 1.0 / fsqrt(n2 + 1e-300);
        for (int j = 0; j < DIM; j++)
            fa[i][j] = fc[i][j] * inv;
    }
}

uint64_t bench_main(void)
{
    uint64_t seed = 0x5eed0005, sum = 0;

    for (int i = 0; i < NB; i++) {
        struct body *b = &bodies[i];
        b->x = rng_double(&seed, -1.0, 1.0);
        b->y = rng_double(&seed, -1.0, 1.0);
        b->z = rng_double(&seed, -1.0, 1.0);
        b->vx = rng_double(&seed, -0.1, 0.1);
        b->vy = rng_double(&seed, -0.1, 0.1);
        b->vz = rng_double(&seed, -0.1, 0.1);
        b->m = rng_double(&seed, 0.01, 0.1);
    }
    double e0 = energy();
    for (int s = 0; s < STEPS; s++)
        nbody_step();
    double e1 = energy();
    /* A broken FP unit usually shows up as a blown-up energy. */
    if (!(e1 - e0 < 1.0 && e0 - e1 < 1.0))
        bench_fail("n-body energy not conserved");
    sum = mix64(sum, dbits(e0));
    sum = mix64(sum, dbits(e1));
    for (int i = 0; i < NB; i++) {
        sum = mix64(sum, dbits(bodies[i].x));
        sum = mix64(sum, dbits(bodies[i].vy));
    }

    for (int i = 0; i < DIM; i++)
        for (int j = 0; j < DIM; j++) {
            fa[i][j] = rng_double(&seed, -1.0, 1.0);
            fb[i][j] = rng_double(&seed, -1.0, 1.0);
        }
    for (int r = 0; r < MROUNDS; r++)
        matmul_normalise();
    for (int i = 0; i < DIM; i++)
        sum = mix64(sum, dbits(fa[i][(i * 13) % DIM]));
    return sum;
}
