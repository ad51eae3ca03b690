/* Fixed-size bitmaps of OS indexes and their "0-1,3" list syntax. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numa.h"

#define NWORDS (NUMA_SET_BITS / 64)

void numa_set_zero(struct numa_set *s)
{
    memset(s, 0, sizeof(*s));
}

int numa_set_add(struct numa_set *s, unsigned i)
{
    if (i >= NUMA_SET_BITS)
        return -ERANGE;
    s->w[i / 64] |= 1ull << (i % 64);
    return 0;
}

bool numa_set_has(const struct numa_set *s, unsigned i)
{
    return i < NUMA_SET_BITS && (s->w[i / 64] >> (i % 64)) & 1;
}

unsigned numa_set_count(const struct numa_set *s)
{
    unsigned n = 0;
    for (unsigned i = 0; i < NWORDS; i++)
        n += (unsigned)__builtin_popcountll(s->w[i]);
    return n;
}

bool numa_set_empty(const struct numa_set *s)
{
    for (unsigned i = 0; i < NWORDS; i++)
        if (s->w[i])
            return false;
    return true;
}

int numa_set_next(const struct numa_set *s, int prev)
{
    unsigned i = (unsigned)(prev + 1);
    while (i < NUMA_SET_BITS) {
        uint64_t w = s->w[i / 64] >> (i % 64);
        if (w)
            return (int)(i + (unsigned)__builtin_ctzll(w));
        i = (i / 64 + 1) * 64;
    }
    return -1;
}

int numa_set_first(const struct numa_set *s)
{
    return numa_set_next(s, -1);
}

void numa_set_or(struct numa_set *d, const struct numa_set *s)
{
    for (unsigned i = 0; i < NWORDS; i++)
        d->w[i] |= s->w[i];
}

void numa_set_and(struct numa_set *d, const struct numa_set *s)
{
    for (unsigned i = 0; i < NWORDS; i++)
        d->w[i] &= s->w[i];
}

void numa_set_andnot(struct numa_set *d, const struct numa_set *s)
{
    for (unsigned i = 0; i < NWORDS; i++)
        d->w[i] &= ~s->w[i];
}

bool numa_set_subset(const struct numa_set *a, const struct numa_set *b)
{
    for (unsigned i = 0; i < NWORDS; i++)
        if (a->w[i] & ~b->w[i])
            return false;
    return true;
}

bool numa_set_equal(const struct numa_set *a, const struct numa_set *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

/* one decimal number of [p, end); NULL when there is none or it overflows */
static const char *parse_uint(const char *p, const char *end, unsigned long *v)
{
    unsigned long n = 0;
    const char *q = p;

    while (q < end && isdigit((unsigned char)*q)) {
        n = n * 10 + (unsigned long)(*q - '0');
        if (n > 1000000)
            return NULL;
        q++;
    }
    if (q == p)
        return NULL;
    *v = n;
    return q;
}

int numa_set_parse(const char *s, size_t len, struct numa_set *out,
                   char *err, size_t errlen)
{
    const char *p = s, *end = s + len;

    numa_set_zero(out);
    if (len == 0) {
        snprintf(err, errlen, "empty list");
        return -EINVAL;
    }
    while (p < end) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma ? comma : end;
        unsigned long lo, hi;
        const char *q = parse_uint(p, e, &lo);

        if (q && q < e && *q == '-')
            q = parse_uint(q + 1, e, &hi);
        else
            hi = lo;
        if (!q || q != e) {
            snprintf(err, errlen, "'%.*s' is not a number or range", (int)(e - p), p);
            return -EINVAL;
        }
        if (hi < lo) {
            snprintf(err, errlen, "'%.*s' is backwards", (int)(e - p), p);
            return -EINVAL;
        }
        if (hi >= NUMA_SET_BITS) {
            snprintf(err, errlen, "%lu is above the limit of %u", hi, NUMA_SET_BITS - 1);
            return -EINVAL;
        }
        for (unsigned long i = lo; i <= hi; i++)
            numa_set_add(out, (unsigned)i);
        if (!comma)
            break;
        p = comma + 1;
        if (p == end) {
            snprintf(err, errlen, "trailing ','");
            return -EINVAL;
        }
    }
    return 0;
}

int numa_set_format(const struct numa_set *s, char *buf, size_t len)
{
    size_t n = 0;
    int i = numa_set_first(s);

    if (len)
        buf[0] = '\0';
    while (i >= 0) {
        int j = i;
        while (numa_set_has(s, (unsigned)j + 1))
            j++;
        char part[32];
        int k = j == i ? snprintf(part, sizeof(part), "%s%d", n ? "," : "", i)
                       : snprintf(part, sizeof(part), "%s%d-%d", n ? "," : "", i, j);
        if (n + (size_t)k < len)
            memcpy(buf + n, part, (size_t)k + 1);
        else if (len)
            buf[len - 1 < n ? len - 1 : n] = '\0';
        n += (size_t)k;
        i = numa_set_next(s, j);
    }
    return (int)n;
}

void numa_msgs_add(struct numa_msgs *m, const char *fmt, ...)
{
    va_list ap;

    if (m->n < NUMA_MAX_MSGS) {
        va_start(ap, fmt);
        vsnprintf(m->msg[m->n], NUMA_MSG_LEN, fmt, ap);
        va_end(ap);
    }
    m->n++;
}
