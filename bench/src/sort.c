/* Integer sort: quicksort (median-of-three, Hoare partition, insertion
 * sort for short ranges) and bottom-up mergesort on the same PRNG array;
 * both results must agree and be ordered.  Branchy compares and
 * data-dependent loads. */
#include "bench.h"

#define N      200000
#define ROUNDS 9

const char bench_name[] = "sort";

static uint32_t qbuf[N], mbuf[N], tmp[N];

static void insertion_sort(uint32_t *v, long n)
{
    for (long i = 1; i < n; i++) {
        uint32_t x = v[i];
        long j = i - 1;
        while (j >= 0 && v[j] > x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
}

static inline void swap32(uint32_t *a, uint32_t *b)
{
    uint32_t t = *a;
    *a = *b;
    *b = t;
}

static void quick_sort(uint32_t *v, long n)
{
    /* Recurse into the smaller side, loop on the larger: O(log n) stack. */
    while (n > 16) {
        long mid = n / 2;
        if (v[mid] < v[0])
            swap32(&v[mid], &v[0]);
        if (v[n - 1] < v[0])
            swap32(&v[n - 1], &v[0]);
        if (v[n - 1] < v[mid])
            swap32(&v[n - 1], &v[mid]);
        /* v[0] <= pivot <= v[n-1] bounds both scans and keeps each side
         * non-empty. */
        uint32_t p = v[mid];
        long i = -1, j = n;
        for (;;) {
            do
                i++;
            while (v[i] < p);
            do
                j--;
            while (v[j] > p);
            if (i >= j)
                break;
            swap32(&v[i], &v[j]);
        }
        long left = j + 1;
        if (left < n - left) {
            quick_sort(v, left);
            v += left;
            n -= left;
        } else {
            quick_sort(v + left, n - left);
            n = left;
        }
    }
    insertion_sort(v, n);
}

static void merge(const uint32_t *src, uint32_t *dst, long lo, long mid, long hi)
{
    long i = lo, j = mid, k = lo;

    while (i < mid && j < hi)
        dst[k++] = src[j] < src[i] ? src[j++] : src[i++];
    while (i < mid)
        dst[k++] = src[i++];
    while (j < hi)
        dst[k++] = src[j++];
}

static void merge_sort(uint32_t *v, long n)
{
    uint32_t *src = v, *dst = tmp;

    for (long width = 1; width < n; width *= 2) {
        for (long lo = 0; lo < n; lo += 2 * width) {
            long mid = lo + width < n ? lo + width : n;
            long hi = lo + 2 * width < n ? lo + 2 * width : n;
            merge(src, dst, lo, mid, hi);
        }
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, (size_t)n * sizeof *v);
}

uint64_t bench_main(void)
{
    uint64_t seed = 0x5eed0001, sum = 0;

    for (int r = 0; r < ROUNDS; r++) {
        /* Alternate full-range keys with a narrow range full of
         * duplicates, which stresses the partition's equal-key path. */
        uint32_t mask = (r & 1) ? 0x3ffu : 0xffffffffu;
        for (long i = 0; i < N; i++)
            qbuf[i] = mbuf[i] = (uint32_t)rng_next(&seed) & mask;
        quick_sort(qbuf, N);
        merge_sort(mbuf, N);
        for (long i = 0; i < N; i++) {
            if (qbuf[i] != mbuf[i])
                bench_fail("quicksort and mergesort disagree");
            if (i && qbuf[i - 1] > qbuf[i])
                bench_fail("result not sorted");
            sum += (uint64_t)qbuf[i] * (uint64_t)(i + 1);
        }
        sum = mix64(sum, (uint64_t)r);
    }
    return sum;
}
