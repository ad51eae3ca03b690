/*
 * libFuzzer harness for engine/jit/jit_cache.c: the input becomes one
 * DIR/<x>.gbjit file, then jit_cache_open() indexes DIR and
 * jit_cache_find() is asked for the members the manifest claims.
 * Build and run: see tests/fuzz/README.
 *
 * The first input byte picks how the file is made:
 *   even: the rest is the file, byte for byte (a foreign build's header is
 *         refused at once, which is the point: nothing else is read);
 *   odd:  the rest is a header and body, with the harness writing the
 *         magic, this build's hash and options, and the manifest checksum
 *         (when man_len fits the body), so that mutations reach the
 *         manifest parser. The object checksum is never fixed up, and
 *         jit_cache_code() is never called: fuzzed bytes are not dlopen()ed.
 *
 * Beyond ASan/UBSan it checks that a file is either indexed whole (regions,
 * no reject) or refused and counted once, and that every region the index
 * returns is inside one page, within the region limits, and holds the bytes
 * asked for.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jit/jit_cache.h"

#define FUZZ_BUILD 0x6a69742d63616368ull
#define FUZZ_OPTS 0x10001u
#define HDR_LEN 56
#define HDR_MAN_LEN 24
#define HDR_MAN_SUM 40
#define REGION_LEN 24
#define MEMBER_LEN 12

#define FUZZ_CHECK(c)                                                            \
    do {                                                                         \
        if (!(c)) {                                                              \
            fprintf(stderr, "fuzz_jit_cache: check failed: %s (line %d)\n", #c, \
                    __LINE__);                                                   \
            abort();                                                             \
        }                                                                        \
    } while (0)

static char fuzz_dir[64];

static void fuzz_cleanup(void)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/f.gbjit", fuzz_dir);
    unlink(path);
    rmdir(fuzz_dir);
}

static const char *fuzz_dir_get(void)
{
    if (!fuzz_dir[0]) {
        snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/fuzz_jit_cache.XXXXXX");
        FUZZ_CHECK(mkdtemp(fuzz_dir) != NULL);
        atexit(fuzz_cleanup);
    }
    return fuzz_dir;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, 8);
    return v;
}

struct probe {
    const uint8_t *want;
    unsigned len, off, hits;
};

static int fuzz_hit(void *ctx, const struct jit_cached *e, unsigned k)
{
    struct probe *pr = ctx;
    uint32_t at;

    FUZZ_CHECK(e->nblk >= 1 && e->nblk <= JIT_REGION_BLOCKS && k < e->nblk);
    FUZZ_CHECK(e->nbytes <= RV_PAGE_SIZE && e->page_off < RV_PAGE_SIZE);
    FUZZ_CHECK(e->span_lo < e->span_hi && e->span_hi <= RV_PAGE_SIZE);
    FUZZ_CHECK(e->b[0].delta == 0);
    for (unsigned j = 0; j < e->nblk; j++) {
        int64_t pos = (int64_t)e->page_off + e->b[j].delta;
        FUZZ_CHECK(pos >= 0 && pos + e->blen[j] <= (int64_t)RV_PAGE_SIZE && e->blen[j] > 0);
        FUZZ_CHECK(e->b[j].first + e->blen[j] <= e->nbytes);
        FUZZ_CHECK(e->b[j].n >= 1 && e->b[j].n <= JIT_REGION_INSNS);
    }
    at = (uint32_t)((int64_t)e->page_off + e->b[k].delta);
    FUZZ_CHECK(at == pr->off && e->blen[k] == pr->len);
    FUZZ_CHECK(memcmp(e->bytes + e->b[k].first, pr->want, pr->len) == 0);
    pr->hits++;
    return 0;
}

/* Ask the index for each member the first region of the manifest claims
 * (read here only as far as it lies inside the body). */
static void fuzz_probe(struct jit_cache *c, const uint8_t *man, size_t len)
{
    uint32_t nblk;
    uint16_t page_off;
    size_t at, bytes;

    if (len < REGION_LEN)
        return;
    memcpy(&nblk, man + 8, 4);
    memcpy(&page_off, man + 12, 2);
    if (nblk > JIT_REGION_BLOCKS || len - REGION_LEN < (size_t)nblk * MEMBER_LEN)
        return;
    bytes = REGION_LEN + (size_t)nblk * MEMBER_LEN;
    for (uint32_t k = 0; k < nblk; k++) {
        const uint8_t *m = man + REGION_LEN + (size_t)k * MEMBER_LEN;
        int32_t delta;
        uint16_t blen;
        struct probe pr;

        memcpy(&delta, m, 4);
        memcpy(&blen, m + 10, 2);
        if (len - bytes < blen)
            return;
        at = bytes;
        bytes += blen;
        pr = (struct probe){ man + at, blen, (unsigned)((page_off + delta) & 0xffff), 0 };
        jit_cache_find(c, pr.off, pr.want, pr.len, fuzz_hit, &pr);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fuzz_dir_get();
    struct jit_cache *c = NULL;
    uint8_t *file;
    size_t len;
    char path[128], err[256];
    FILE *f;

    if (size < 1)
        return 0;
    len = size - 1;
    file = malloc(len ? len : 1);
    FUZZ_CHECK(file != NULL);
    memcpy(file, data + 1, len);
    if ((data[0] & 1) && len >= HDR_LEN) {
        uint64_t man_len = get64(file + HDR_MAN_LEN), build = FUZZ_BUILD;
        uint32_t opts = FUZZ_OPTS;
        memcpy(file, "GBJIT01\n", 8);
        memcpy(file + 8, &build, 8);
        memcpy(file + 16, &opts, 4);
        if (man_len <= len - HDR_LEN) {
            uint64_t sum = jit_hash(JIT_HASH_SEED, file + HDR_LEN, (size_t)man_len);
            memcpy(file + HDR_MAN_SUM, &sum, 8);
        }
    }
    snprintf(path, sizeof(path), "%s/f.gbjit", dir);
    f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(fwrite(file, 1, len, f) == len);
    FUZZ_CHECK(fclose(f) == 0);

    FUZZ_CHECK(jit_cache_open(&c, dir, FUZZ_BUILD, FUZZ_OPTS, err, sizeof(err)) == 0);
    /* one file: indexed whole, or refused and counted once */
    FUZZ_CHECK((jit_cache_regions(c) == 0) == (jit_cache_rejects(c) == 1));
    FUZZ_CHECK(jit_cache_rejects(c) <= 1);
    if (jit_cache_regions(c) && len >= HDR_LEN)
        fuzz_probe(c, file + HDR_LEN, len - HDR_LEN);
    jit_cache_close(c);
    free(file);
    return 0;
}

#ifdef FUZZ_JIT_CACHE_MAKE_SEEDS
/* cc -DFUZZ_JIT_CACHE_MAKE_SEEDS ... -o mkseeds && ./mkseeds DIR writes
 * well-formed inputs (odd first byte): one region of two members, and two
 * regions. Their object is 16 junk bytes. */
static size_t put_region(uint8_t *p, uint64_t seq, uint16_t page_off, unsigned nblk)
{
    uint32_t n32 = nblk;
    uint16_t span[2] = { page_off, (uint16_t)(page_off + 0x60) }, pad = 0;
    size_t pos = 0;

    memcpy(p, &seq, 8);
    memcpy(p + 8, &n32, 4);
    memcpy(p + 12, &page_off, 2);
    memcpy(p + 14, span, 4);
    memcpy(p + 18, &pad, 2);
    memset(p + 20, 0, 4);
    pos = REGION_LEN;
    for (unsigned k = 0; k < nblk; k++) {
        int32_t delta = (int32_t)k * 0x20;
        uint32_t n = 2 + k;
        uint16_t nmem = 1, blen = 8;
        memcpy(p + pos, &delta, 4);
        memcpy(p + pos + 4, &n, 4);
        memcpy(p + pos + 8, &nmem, 2);
        memcpy(p + pos + 10, &blen, 2);
        pos += MEMBER_LEN;
    }
    for (unsigned i = 0; i < 8 * nblk; i++)
        p[pos++] = (uint8_t)(0x13 + 3 * i + seq);
    return pos;
}

static void seed(const char *dir, const char *name, unsigned nreg)
{
    uint8_t buf[1024];
    uint64_t man_len = 0, so_len = 16, zero = 0;
    uint32_t nr = nreg;
    char path[512];
    FILE *f;

    memset(buf, 0, sizeof(buf));
    buf[0] = 1;
    for (unsigned i = 0; i < nreg; i++)
        man_len += put_region(buf + 1 + HDR_LEN + man_len, 3 + i, (uint16_t)(0x100 * (i + 1)), 2);
    memset(buf + 1 + HDR_LEN + man_len, 0x7f, so_len);
    memcpy(buf + 1 + 20, &nr, 4);
    memcpy(buf + 1 + HDR_MAN_LEN, &man_len, 8);
    memcpy(buf + 1 + 32, &so_len, 8);
    memcpy(buf + 1 + 48, &zero, 8);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, 1 + HDR_LEN + man_len + so_len, f) != 1 + HDR_LEN + man_len + so_len ||
        fclose(f)) {
        perror(path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    seed(argv[1], "seed_one_region", 1);
    seed(argv[1], "seed_two_regions", 2);
    return 0;
}
#endif
