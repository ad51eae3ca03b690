/*
 * --jit-cache files (engine/jit/jit_cache.c) built by hand: a well-formed
 * entry is indexed and found by (page offset, bytes) only; every hostile
 * header or manifest (region counts, member counts 0 and 33, members
 * outside the page, instruction limits, lengths past the file, checksums,
 * another build or other options) is refused as a whole and counted, and
 * an object that does not load is refused once, counted, never returned.
 * A batch stored by jit_cache_store reads back the same.
 *
 * The file layout mirrored here is the on-disk format (jit_cache.h): a
 * change to it must show up as a failure here.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "jit/jit_cache.h"

#define BUILD 0x1234567890abcdefull
#define OPTS 0x10001u

struct hdr {
    char magic[8];
    uint64_t build;
    uint32_t opts, nreg;
    uint64_t man_len, so_len;
    uint64_t man_sum, so_sum;
};
struct region {
    uint64_t fn_seq;
    uint32_t nblk;
    uint16_t page_off, span_lo, span_hi, pad;
    uint32_t pad2;
};
struct member {
    int32_t delta;
    uint32_t n;
    uint16_t nmem, blen;
};
_Static_assert(sizeof(struct hdr) == 56, "header: 56 bytes");
_Static_assert(sizeof(struct region) == 24, "region record: 24 bytes");
_Static_assert(sizeof(struct member) == 12, "member record: 12 bytes");

#define MAXM 40

/* One region of a manifest, and how to damage the file around it. */
struct spec {
    struct region r;
    unsigned nm;                /* member records written (normally r.nblk) */
    struct member m[MAXM];
    long bytes_adjust;          /* guest bytes written beyond (or short of) the sum */
    unsigned tail;              /* junk after the region */
    uint32_t nreg;              /* the header's region count */
    struct hdr h;               /* header fields a case overrides (0: computed) */
    int no_region;              /* an empty manifest */
    unsigned copies;            /* the region written this many times (0: once) */
    int wrap;                   /* lengths that add up to the file size mod 2^64 */
    int bad_man_sum, bad_magic, file_extra, file_cut;
};

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/test_jit_cache.XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* the guest bytes of member k: a pattern unique to (k, i) */
static uint8_t pat(unsigned k, unsigned i)
{
    return (uint8_t)(0x11 * (k + 1) + 7 * i);
}

/* A good two-member region at page offset 0x100, members at +0 and +0x40. */
static struct spec good(void)
{
    struct spec s;

    memset(&s, 0, sizeof(s));
    s.r = (struct region){ 7, 2, 0x100, 0x100, 0x150, 0, 0 };
    s.nm = 2;
    s.nreg = 1;
    s.m[0] = (struct member){ 0, 2, 1, 8 };
    s.m[1] = (struct member){ 0x40, 3, 0, 16 };
    return s;
}

static size_t manifest(const struct spec *s, uint8_t *buf)
{
    size_t pos = 0, sum = 0;
    long want;

    if (s->no_region)
        return 0;
    for (unsigned i = 1; i < s->copies; i++) {
        struct spec one = *s;
        one.copies = 1;
        one.tail = 0;
        pos += manifest(&one, buf + pos);
    }
    memcpy(buf + pos, &s->r, sizeof(s->r));
    pos += sizeof(s->r);
    for (unsigned k = 0; k < s->nm; k++) {
        memcpy(buf + pos, &s->m[k], sizeof(s->m[k]));
        pos += sizeof(s->m[k]);
        sum += s->m[k].blen;
    }
    /* the members' bytes, bytes_adjust more (0xee) or fewer */
    want = (long)sum + s->bytes_adjust;
    for (unsigned k = 0; k < s->nm; k++)
        for (unsigned i = 0; i < s->m[k].blen && want > 0; i++, want--)
            buf[pos++] = pat(k, i);
    for (; want > 0; want--)
        buf[pos++] = 0xee;
    for (unsigned i = 0; i < s->tail; i++)
        buf[pos++] = 0xdd;
    return pos;
}

/* Write s as DIR/name.gbjit with a (non-loadable) object of so_len bytes. */
static void write_entry(const struct spec *s, const char *name)
{
    static uint8_t man[MAXM * 4096];
    uint8_t so[256];
    size_t man_len = manifest(s, man), so_len = sizeof(so);
    struct hdr h = s->h;
    char path[128];
    FILE *f;

    memset(so, 0x5a, sizeof(so));
    memcpy(h.magic, s->bad_magic ? "GBJIT02\n" : "GBJIT01\n", 8);
    h.build = h.build ? h.build : BUILD;
    h.opts = h.opts ? h.opts : OPTS;
    h.nreg = s->nreg;
    h.man_len = h.man_len ? h.man_len : man_len;
    h.so_len = h.so_len ? h.so_len : so_len;
    h.man_sum = jit_hash(JIT_HASH_SEED, man, man_len) ^ (uint64_t)s->bad_man_sum;
    h.so_sum = h.so_sum ? h.so_sum : jit_hash(JIT_HASH_SEED, so, so_len);
    if (s->wrap) {              /* one length past 2^63, the other the rest */
        uint64_t total = man_len + so_len;
        h.man_len = s->wrap > 0 ? 0 - (uint64_t)10 : total + 10;
        h.so_len = s->wrap > 0 ? total + 10 : 0 - (uint64_t)10;
    }
    snprintf(path, sizeof(path), "%s/%s.gbjit", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    if (s->file_cut) {
        assert_int_equal(fwrite(&h, 1, 20, f), 20);
    } else {
        assert_int_equal(fwrite(&h, sizeof(h), 1, f), 1);
        assert_int_equal(fwrite(man, 1, man_len, f), man_len);
        assert_int_equal(fwrite(so, 1, so_len, f), so_len);
        if (s->file_extra)
            fputc(0, f);
    }
    assert_int_equal(fclose(f), 0);
}

static void clear_dir(void)
{
    teardown(NULL);
    assert_int_equal(mkdir(dir, 0700), 0);
}

static struct jit_cache *open_dir(void)
{
    struct jit_cache *c;
    char err[256] = "";

    assert_int_equal(jit_cache_open(&c, dir, BUILD, OPTS, err, sizeof(err)), 0);
    assert_non_null(c);
    return c;
}

struct hits {
    unsigned n, k, tier2;
    const struct jit_cached *e;
};

static int on_hit(void *ctx, const struct jit_cached *e, unsigned k)
{
    struct hits *h = ctx;

    h->n++;
    h->k = k;
    h->e = e;
    h->tier2 += e->tier == 2;
    return 0;
}

/* member k of the good region: how many regions the index gives for it */
static unsigned lookup(struct jit_cache *c, unsigned off, unsigned k, unsigned len, uint8_t flip,
                       struct hits *h)
{
    uint8_t b[64];

    for (unsigned i = 0; i < len; i++)
        b[i] = pat(k, i);
    b[0] ^= flip;
    memset(h, 0, sizeof(*h));
    jit_cache_find(c, off, b, len, on_hit, h);
    return h->n;
}

static void test_good_entry_found(void **state)
{
    struct spec s = good();
    struct jit_cache *c;
    struct hits h;

    (void)state;
    clear_dir();
    write_entry(&s, "good");
    c = open_dir();
    assert_int_equal(jit_cache_regions(c), 1);
    assert_int_equal(jit_cache_rejects(c), 0);
    assert_int_equal(lookup(c, 0x100, 0, 8, 0, &h), 1);
    assert_int_equal(h.k, 0);
    assert_int_equal(h.e->fn_seq, 7);
    assert_int_equal(h.e->nblk, 2);
    assert_int_equal(h.e->blen[1], 16);
    assert_int_equal(h.e->b[1].delta, 0x40);
    assert_int_equal(h.e->b[1].first, 8);
    assert_int_equal(h.e->nbytes, 24);
    assert_int_equal(lookup(c, 0x140, 1, 16, 0, &h), 1);
    assert_int_equal(h.k, 1);
    /* other bytes, another page offset, another length: not this region */
    assert_int_equal(lookup(c, 0x100, 0, 8, 0x80, &h), 0);
    assert_int_equal(lookup(c, 0x104, 0, 8, 0, &h), 0);
    assert_int_equal(lookup(c, 0x100, 0, 6, 0, &h), 0);
    assert_int_equal(lookup(c, 0x140, 0, 8, 0, &h), 0);
    /* its object does not load (not an ELF): refused once, counted, never returned */
    assert_int_equal(lookup(c, 0x100, 0, 8, 0, &h), 1);
    assert_null(jit_cache_code(c, h.e));
    assert_int_equal(jit_cache_rejects(c), 1);
    assert_null(jit_cache_code(c, h.e));
    assert_int_equal(jit_cache_rejects(c), 1);
    jit_cache_close(c);

    /* another build, other options: nothing indexed, counted */
    {
        struct jit_cache *o;
        char err[64];
        assert_int_equal(jit_cache_open(&o, dir, BUILD + 1, OPTS, err, sizeof(err)), 0);
        assert_int_equal(jit_cache_regions(o), 0);
        assert_int_equal(jit_cache_rejects(o), 1);
        jit_cache_close(o);
        assert_int_equal(jit_cache_open(&o, dir, BUILD, OPTS + 1, err, sizeof(err)), 0);
        assert_int_equal(jit_cache_regions(o), 0);
        assert_int_equal(jit_cache_rejects(o), 1);
        jit_cache_close(o);
    }
}

/* ---- hostile files: each must be refused whole and counted once */

static void nblk0(struct spec *s) { s->r.nblk = 0; s->nm = 0; }
static void nblk33(struct spec *s)
{
    s->r.nblk = s->nm = 33;
    for (unsigned k = 0; k < 33; k++)
        s->m[k] = (struct member){ (int32_t)k * 4, 1, 0, 4 };
}
static void page_off_out(struct spec *s) { s->r.page_off = 4096; }
static void span_empty(struct spec *s) { s->r.span_hi = s->r.span_lo; }
static void span_past(struct spec *s) { s->r.span_hi = 4097; }
static void delta_below(struct spec *s) { s->m[1].delta = -0x101; }
static void delta_past(struct spec *s) { s->m[1].delta = 4096 - 0x100 - 8; }
static void delta_huge(struct spec *s) { s->m[1].delta = INT32_MAX; }
static void first_delta(struct spec *s) { s->m[0].delta = 4; }
static void blen0(struct spec *s) { s->m[1].blen = 0; }
static void n0(struct spec *s) { s->m[1].n = 0; }
static void n_big(struct spec *s) { s->m[1].n = 1025; }
static void n_wrap(struct spec *s) { s->m[1].n = UINT32_MAX; }
static void insns_sum(struct spec *s) { s->m[0].n = 600; s->m[1].n = 600; }
static void bytes_sum(struct spec *s)
{
    s->r.page_off = 0;
    s->r.nblk = s->nm = 32;
    for (unsigned k = 0; k < 32; k++)
        s->m[k] = (struct member){ 0, 1, 0, 200 };
}
static void bytes_short(struct spec *s) { s->bytes_adjust = -1; }
static void bytes_short2(struct spec *s) { s->bytes_adjust = -1; s->nreg = 2; }
static void members_short(struct spec *s) { s->nm = 1; }
static void trailing(struct spec *s) { s->tail = 1; }
static void nreg0(struct spec *s) { s->nreg = 0; s->no_region = 1; }
static void nreg2(struct spec *s) { s->nreg = 2; }
static void nreg65(struct spec *s) { s->nreg = s->copies = 65; }
static void magic(struct spec *s) { s->bad_magic = 1; }
static void man_sum(struct spec *s) { s->bad_man_sum = 1; }
static void man_len_huge(struct spec *s) { s->h.man_len = 1ull << 63; }
static void so_len_past(struct spec *s) { s->h.so_len = 257; }
static void so_len_huge(struct spec *s) { s->h.so_len = ~0ull - 55; }
static void man_wrap(struct spec *s) { s->wrap = 1; }
static void so_wrap(struct spec *s) { s->wrap = -1; }
static void file_long(struct spec *s) { s->file_extra = 1; }
static void file_cut(struct spec *s) { s->file_cut = 1; }

static const struct {
    const char *what;
    void (*damage)(struct spec *s);
} hostile[] = {
    { "no members", nblk0 },
    { "33 members", nblk33 },
    { "page offset 4096", page_off_out },
    { "empty span", span_empty },
    { "span past the page", span_past },
    { "member before the page", delta_below },
    { "member past the page", delta_past },
    { "member at delta INT32_MAX", delta_huge },
    { "first member not at delta 0", first_delta },
    { "member of 0 bytes", blen0 },
    { "member of 0 instructions", n0 },
    { "member of 1025 instructions", n_big },
    { "member of 2^32-1 instructions", n_wrap },
    { "region of 1202 instructions", insns_sum },
    { "region of 6400 bytes", bytes_sum },
    { "bytes past the manifest", bytes_short },
    { "bytes past the manifest, then a region", bytes_short2 },
    { "members past the manifest", members_short },
    { "junk after the last region", trailing },
    { "no regions", nreg0 },
    { "2 regions, 1 present", nreg2 },
    { "65 regions (a batch has at most 64)", nreg65 },
    { "bad magic", magic },
    { "manifest checksum", man_sum },
    { "manifest length 2^63", man_len_huge },
    { "object past the file", so_len_past },
    { "object length near 2^64", so_len_huge },
    { "lengths wrapping: manifest 2^64-10", man_wrap },
    { "lengths wrapping: object 2^64-10", so_wrap },
    { "a byte after the object", file_long },
    { "shorter than the header", file_cut },
};

static void test_hostile_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        struct spec s = good();
        struct jit_cache *c;

        hostile[i].damage(&s);
        clear_dir();
        write_entry(&s, "bad");
        c = open_dir();
        if (jit_cache_regions(c) != 0 || jit_cache_rejects(c) != 1)
            fail_msg("%s: %u regions indexed, %llu rejects (want 0 and 1)", hostile[i].what,
                     jit_cache_regions(c), (unsigned long long)jit_cache_rejects(c));
        jit_cache_close(c);
    }
}

/* A good and a bad entry side by side: the good one still indexed. */
static void test_bad_beside_good(void **state)
{
    struct spec s = good(), b = good();
    struct jit_cache *c;
    struct hits h;
    char path[128];
    FILE *f;

    (void)state;
    clear_dir();
    write_entry(&s, "good");
    b.r.nblk = 33;
    write_entry(&b, "bad");
    snprintf(path, sizeof(path), "%s/empty.gbjit", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/sub.gbjit", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/notes.txt", dir);     /* not an entry: ignored */
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    c = open_dir();
    assert_int_equal(jit_cache_regions(c), 1);
    assert_int_equal(jit_cache_rejects(c), 3);
    assert_int_equal(lookup(c, 0x140, 1, 16, 0, &h), 1);
    jit_cache_close(c);
}

static int fake_code(struct rv_hart *h, uint64_t bpc, uint64_t base, struct jit_region *r)
{
    (void)h, (void)bpc, (void)base, (void)r;
    return 0;
}

/* The padding fields of the first region record of the one entry in dir:
 * the writer must not leave stack bytes there. */
static uint64_t region_pad(void)
{
    char cmd[160], path[128] = "";
    struct region r;
    FILE *f;

    snprintf(cmd, sizeof(cmd), "ls %s/*.gbjit", dir);
    f = popen(cmd, "r");
    assert_non_null(f);
    assert_non_null(fgets(path, sizeof(path), f));
    pclose(f);
    path[strcspn(path, "\n")] = 0;
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, sizeof(struct hdr), SEEK_SET), 0);
    assert_int_equal(fread(&r, sizeof(r), 1, f), 1);
    fclose(f);
    return (uint64_t)r.pad | r.pad2;
}

/* Leave nonzero bytes on the stack below the caller, where the writer's
 * frames will be, so that padding it does not clear shows up. */
static __attribute__((noinline)) void dirty_stack(void)
{
    volatile uint8_t junk[32768];

    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = 0xa5;
}

/* Close c and open the directory again: it must index `regions` entries
 * and reject none. */
static struct jit_cache *reopen(struct jit_cache *c, unsigned regions)
{
    jit_cache_close(c);
    c = open_dir();
    assert_int_equal(jit_cache_regions(c), regions);
    assert_int_equal(jit_cache_rejects(c), 0);
    return c;
}

/* jit_cache_store's manifest reads back as the region it was made from. */
static void test_store_round_trip(void **state)
{
    struct jit_req *r[2];
    struct jit_cache *c;
    struct hits h;
    char so[128];
    FILE *f;

    (void)state;
    clear_dir();
    snprintf(so, sizeof(so), "%s/obj.so", dir);
    f = fopen(so, "w");
    assert_non_null(f);
    fputs("not really an object", f);
    fclose(f);
    for (int i = 0; i < 2; i++) {
        r[i] = calloc(1, sizeof(*r[i]) + 8 * sizeof(struct rv_insn));
        assert_non_null(r[i]);
        r[i]->paddr = 0x80003100;
        r[i]->nblk = 2;
        r[i]->span_lo = 0x100;
        r[i]->span_hi = 0x150;
        r[i]->b[0] = (struct jit_rblk){ 0, 0, 2, 1 };
        r[i]->b[1] = (struct jit_rblk){ 0x40, 3, 3, 0 };
        r[i]->insns[2].off = 8;         /* END of member 0: its byte length */
        r[i]->insns[6].off = 16;
        for (unsigned k = 0, p = 0; k < 2; k++)
            for (unsigned j = 0; j < (k ? 16u : 8u); j++)
                r[i]->bytes[p++] = pat(k, j);
        r[i]->nbytes = 24;
    }
    r[1]->fn = fake_code;       /* r[0] has no code: left out */
    c = open_dir();
    assert_int_equal(jit_cache_store(c, so, r, 1, 40), -EIO);      /* nothing to store */
    dirty_stack();
    assert_int_equal(jit_cache_store(c, so, r, 2, 40), 0);
    c = reopen(c, 1);
    assert_int_equal(lookup(c, 0x140, 1, 16, 0, &h), 1);
    assert_int_equal(h.k, 1);
    assert_int_equal(h.e->fn_seq, 41);
    assert_int_equal(h.e->page_off, 0x100);
    assert_int_equal(h.e->span_hi, 0x150);
    assert_int_equal(h.e->b[0].nmem, 1);
    assert_int_equal(h.e->b[1].n, 3);
    assert_int_equal(lookup(c, 0x100, 0, 8, 0, &h), 1);
    assert_int_equal(h.e->tier, 1);
    /* a tier-2 batch of the same region is a second entry, marked tier 2 */
    r[1]->tier = 2;
    assert_int_equal(jit_cache_store(c, so, &r[1], 1, 50), 0);
    c = reopen(c, 2);
    assert_int_equal(lookup(c, 0x140, 1, 16, 0, &h), 2);
    assert_int_equal(h.tier2, 1);
    jit_cache_close(c);
    assert_int_equal(region_pad(), 0);
    free(r[0]);
    free(r[1]);
}

/* jit_cache_prune: least recently modified .gbjit files first, down to
 * 3/4 of the bound; other files and directories are not its own. */
static void test_prune(void **state)
{
    static const char *const names[] = { "a.gbjit", "b.gbjit", "c.gbjit", "d.gbjit" };
    char path[128];
    struct stat st;

    (void)state;
    clear_dir();
    for (unsigned i = 0; i < 4; i++) {
        /* written newest first: the order must come from mtime, not names
         * or creation */
        struct timespec t[2] = { { 1000000000 + 10 * (4 - i), 0 }, { 1000000000 + 10 * (4 - i), 0 } };
        FILE *f;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        f = fopen(path, "w");
        assert_non_null(f);
        for (unsigned j = 0; j < 1000; j++)
            fputc('x', f);
        fclose(f);
        assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
    }
    snprintf(path, sizeof(path), "%s/notes.txt", dir);     /* older, bigger */
    {
        FILE *f = fopen(path, "w");
        struct timespec t[2] = { { 1, 0 }, { 1, 0 } };
        assert_non_null(f);
        for (unsigned j = 0; j < 5000; j++)
            fputc('y', f);
        fclose(f);
        assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
    }
    snprintf(path, sizeof(path), "%s/sub.gbjit", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(jit_cache_prune(dir, 1 << 20), 0);     /* within the bound */
    /* 4000 bytes over 3000: the two oldest go (down to 2250) */
    assert_int_equal(jit_cache_prune(dir, 3000), 2);
    for (unsigned i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        assert_int_equal(stat(path, &st) == 0, i < 2);      /* d and c were oldest */
    }
    snprintf(path, sizeof(path), "%s/notes.txt", dir);
    assert_int_equal(stat(path, &st), 0);
    snprintf(path, sizeof(path), "%s/sub.gbjit", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(rmdir(path), 0);
    assert_int_equal(jit_cache_prune("/nonexistent/glassbox-test", 1), 0);
}

static void test_open_errors(void **state)
{
    struct jit_cache *c = (struct jit_cache *)1;
    char path[128], err[256] = "";
    FILE *f;

    (void)state;
    clear_dir();
    snprintf(path, sizeof(path), "%s/file", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(jit_cache_open(&c, path, BUILD, OPTS, err, sizeof(err)), -ENOTDIR);
    assert_null(c);
    assert_non_null(strstr(err, "not a directory"));
    snprintf(path, sizeof(path), "%s/file/sub", dir);
    assert_true(jit_cache_open(&c, path, BUILD, OPTS, err, sizeof(err)) < 0);
    assert_null(c);
    assert_non_null(strstr(err, "cannot create"));
    /* a new directory is made, empty: nothing indexed, nothing refused */
    snprintf(path, sizeof(path), "%s/new", dir);
    assert_int_equal(jit_cache_open(&c, path, BUILD, OPTS, err, sizeof(err)), 0);
    assert_int_equal(jit_cache_regions(c), 0);
    assert_int_equal(jit_cache_rejects(c), 0);
    jit_cache_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_entry_found),
        cmocka_unit_test(test_hostile_refused),
        cmocka_unit_test(test_bad_beside_good),
        cmocka_unit_test(test_store_round_trip),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_prune),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
