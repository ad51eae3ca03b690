/* --jit-cache DIR: see jit_cache.h. Every length read from a file is
 * checked against the file's size and the region limits before use; a
 * file that fails any check is skipped as a whole. */
#define _GNU_SOURCE     /* memfd_create */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jit_cache.h"

#define CACHE_MAGIC "GBJIT01\n"
#define CACHE_FILE_MAX (64u << 20)

struct file_hdr {
    char magic[8];
    uint64_t build;             /* jit_build_hash() of the writer */
    uint32_t opts, nreg;
    uint64_t man_len, so_len;
    uint64_t man_sum, so_sum;   /* jit_hash of the manifest, of the object */
};

struct man_region {
    uint64_t fn_seq;
    uint32_t nblk;
    uint16_t page_off, span_lo, span_hi, pad;
    uint32_t pad2;              /* named, so zeroed: records are written as they
                                 * are, and implicit padding would carry stack bytes */
};

struct man_member {
    int32_t delta;
    uint32_t n;
    uint16_t nmem, blen;
};

/* the file format: no implicit padding anywhere */
_Static_assert(sizeof(struct file_hdr) == 56 && sizeof(struct man_region) == 24 &&
               sizeof(struct man_member) == 12, "jit cache records changed size");

struct jit_cache_file {
    struct jit_cache_file *next;
    char *path;
    uint64_t so_off, so_len, so_sum;
    uint8_t *man;               /* the manifest (regions point into it) */
    void *so;                   /* loaded object */
    int mfd;                    /* its memfd: open while loaded, so that its
                                 * /proc/self/fd name stays unique (dlopen
                                 * returns an already loaded object of the
                                 * same name) */
    int state;                  /* 0 not loaded, 1 loaded, -1 refused */
};

struct idx_ent {
    uint64_t key;               /* 0: empty */
    uint32_t region;
    uint32_t k;
};

struct jit_cache {
    char *dir;
    uint64_t build;
    uint32_t opts;
    pthread_mutex_t lock;
    struct jit_cache_file *files;
    struct jit_cached *regions;
    unsigned nregions, cap;
    struct idx_ent *tab;
    unsigned tabmask;
    _Atomic uint64_t rejects;
};

uint64_t jit_hash(uint64_t h, const void *p, size_t len)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

uint64_t jit_build_hash(void)
{
    uint8_t buf[65536];
    uint64_t h = JIT_HASH_SEED;
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return 0;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        h = jit_hash(h, buf, (size_t)n);
    close(fd);
    return n < 0 ? 0 : h;
}

static uint64_t member_key(unsigned off, const uint8_t *p, unsigned len)
{
    uint16_t o = (uint16_t)off;
    return jit_hash(jit_hash(JIT_HASH_SEED, &o, sizeof(o)), p, len) | 1;
}

/* Read exactly len bytes at offset off. */
static int read_at(int fd, void *buf, size_t len, off_t off)
{
    uint8_t *p = buf;

    while (len) {
        ssize_t n = pread(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

/* Parse one region at man[*pos]; 0 and the region, or -1. */
static int parse_region(const uint8_t *man, size_t len, size_t *pos, struct jit_cached *e)
{
    struct man_region mr;
    size_t bytes = 0;
    unsigned ni = 0;

    if (len - *pos < sizeof(mr))
        return -1;
    memcpy(&mr, man + *pos, sizeof(mr));
    *pos += sizeof(mr);
    if (mr.nblk == 0 || mr.nblk > JIT_REGION_BLOCKS || mr.page_off >= RV_PAGE_SIZE ||
        mr.span_lo >= mr.span_hi || mr.span_hi > RV_PAGE_SIZE ||
        len - *pos < (size_t)mr.nblk * sizeof(struct man_member))
        return -1;
    memset(e, 0, sizeof(*e));
    e->fn_seq = mr.fn_seq;
    e->nblk = mr.nblk;
    e->page_off = mr.page_off;
    e->span_lo = mr.span_lo;
    e->span_hi = mr.span_hi;
    for (unsigned k = 0; k < mr.nblk; k++) {
        struct man_member mm;
        int64_t at;
        memcpy(&mm, man + *pos, sizeof(mm));
        *pos += sizeof(mm);
        at = (int64_t)mr.page_off + mm.delta;
        /* every member inside the page, limits as when it was compiled */
        if (at < 0 || at + mm.blen > (int64_t)RV_PAGE_SIZE || mm.blen == 0 || mm.n == 0 ||
            mm.n > JIT_REGION_INSNS || (k == 0 && mm.delta != 0))
            return -1;
        e->b[k].delta = mm.delta;
        e->b[k].first = (uint32_t)bytes;
        e->b[k].n = mm.n;
        e->b[k].nmem = mm.nmem;
        e->blen[k] = mm.blen;
        bytes += mm.blen;
        ni += mm.n + 1;
    }
    if (bytes > RV_PAGE_SIZE || ni > JIT_REGION_INSNS || len - *pos < bytes)
        return -1;
    e->bytes = man + *pos;
    e->nbytes = (uint32_t)bytes;
    *pos += bytes;
    return 0;
}

static int add_region(struct jit_cache *c, const struct jit_cached *e)
{
    if (c->nregions == c->cap) {
        unsigned cap = c->cap ? 2 * c->cap : 64;
        struct jit_cached *r = realloc(c->regions, cap * sizeof(*r));
        if (!r)
            return -ENOMEM;
        c->regions = r;
        c->cap = cap;
    }
    c->regions[c->nregions++] = *e;
    return 0;
}

/* Index one file: 0, or -1 (refused: the caller counts it). */
static int load_file(struct jit_cache *c, const char *path)
{
    struct jit_cache_file *f = NULL;
    struct file_hdr hd;
    struct stat st;
    size_t pos = 0;
    unsigned first = c->nregions;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < sizeof(hd) ||
        (uint64_t)st.st_size > CACHE_FILE_MAX || read_at(fd, &hd, sizeof(hd), 0) < 0)
        goto bad;
    if (memcmp(hd.magic, CACHE_MAGIC, 8) || hd.build != c->build ||
        (hd.opts & ~JIT_CACHE_TIER2) != c->opts ||
        hd.man_len > (uint64_t)st.st_size || hd.so_len > (uint64_t)st.st_size ||
        sizeof(hd) + hd.man_len + hd.so_len != (uint64_t)st.st_size || hd.nreg == 0 ||
        hd.nreg > JIT_BATCH_MAX)
        goto bad;
    f = calloc(1, sizeof(*f));
    if (!f || !(f->man = malloc(hd.man_len ? hd.man_len : 1)) || !(f->path = strdup(path)) ||
        read_at(fd, f->man, hd.man_len, sizeof(hd)) < 0 ||
        jit_hash(JIT_HASH_SEED, f->man, hd.man_len) != hd.man_sum)
        goto bad;
    for (unsigned i = 0; i < hd.nreg; i++) {
        struct jit_cached e;
        if (parse_region(f->man, hd.man_len, &pos, &e) < 0)
            goto bad;
        e.file = f;
        e.tier = hd.opts & JIT_CACHE_TIER2 ? 2 : 1;
        if (add_region(c, &e) < 0)
            goto bad;
    }
    if (pos != hd.man_len)
        goto bad;
    f->so_off = sizeof(hd) + hd.man_len;
    f->so_len = hd.so_len;
    f->so_sum = hd.so_sum;
    f->next = c->files;
    c->files = f;
    close(fd);
    return 0;
bad:
    c->nregions = first;
    if (f) {
        free(f->man);
        free(f->path);
        free(f);
    }
    close(fd);
    return -1;
}

static int build_index(struct jit_cache *c)
{
    unsigned members = 0, size = 16;

    for (unsigned i = 0; i < c->nregions; i++)
        members += c->regions[i].nblk;
    while (size < 2 * members)
        size *= 2;
    c->tab = calloc(size, sizeof(*c->tab));
    if (!c->tab)
        return -ENOMEM;
    c->tabmask = size - 1;
    for (unsigned i = 0; i < c->nregions; i++) {
        const struct jit_cached *e = &c->regions[i];
        for (unsigned k = 0; k < e->nblk; k++) {
            uint64_t key = member_key((unsigned)(e->page_off + e->b[k].delta),
                                      e->bytes + e->b[k].first, e->blen[k]);
            unsigned s = (unsigned)key & c->tabmask;
            while (c->tab[s].key)
                s = (s + 1) & c->tabmask;
            c->tab[s] = (struct idx_ent){ key, i, k };
        }
    }
    return 0;
}

struct prune_ent {
    char *path;
    uint64_t bytes;
    struct timespec mtime;
};

static int older(const void *a, const void *b)
{
    const struct prune_ent *x = a, *y = b;

    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : x->mtime.tv_nsec > y->mtime.tv_nsec;
}

unsigned jit_cache_prune(const char *dir, uint64_t max_bytes)
{
    struct prune_ent *v = NULL;
    size_t n = 0, cap = 0;
    uint64_t total = 0;
    unsigned removed = 0;
    struct dirent *de;
    DIR *d = opendir(dir);

    while (d && (de = readdir(d))) {
        size_t len = strlen(de->d_name);
        struct stat st;
        char path[4096];
        if (len < 7 || strcmp(de->d_name + len - 6, ".gbjit"))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            struct prune_ent *nv = realloc(v, (cap = cap ? 2 * cap : 64) * sizeof(*v));
            if (!nv)
                break;
            v = nv;
        }
        if (!(v[n].path = strdup(path)))
            break;
        v[n].bytes = (uint64_t)st.st_size;
        v[n].mtime = st.st_mtim;
        total += v[n++].bytes;
    }
    if (d)
        closedir(d);
    if (total > max_bytes) {
        /* least recently used first (loading an entry touches it), down to
         * 3/4 of the bound so that the next runs do not prune again */
        qsort(v, n, sizeof(*v), older);
        for (size_t i = 0; i < n && total > max_bytes / 4 * 3; i++)
            if (unlink(v[i].path) == 0) {
                total -= v[i].bytes;
                removed++;
            }
    }
    for (size_t i = 0; i < n; i++)
        free(v[i].path);
    free(v);
    return removed;
}

int jit_cache_open(struct jit_cache **out, const char *dir, uint64_t build, uint32_t opts,
                   char *err, size_t errlen)
{
    struct jit_cache *c;
    struct stat st;
    DIR *d;
    struct dirent *de;
    int r;

    *out = NULL;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        r = -errno;
        snprintf(err, errlen, "--jit-cache %s: cannot create the directory: %s", dir, strerror(errno));
        return r;
    }
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "--jit-cache %s: not a directory", dir);
        return -ENOTDIR;
    }
    if (access(dir, R_OK | W_OK | X_OK) < 0) {
        r = -errno;
        snprintf(err, errlen, "--jit-cache %s: not writable: %s", dir, strerror(errno));
        return r;
    }
    c = calloc(1, sizeof(*c));
    if (!c || !(c->dir = strdup(dir))) {
        free(c);
        snprintf(err, errlen, "--jit-cache %s: out of memory", dir);
        return -ENOMEM;
    }
    c->build = build;
    c->opts = opts;
    pthread_mutex_init(&c->lock, NULL);
    d = opendir(dir);
    while (d && (de = readdir(d))) {
        size_t n = strlen(de->d_name);
        char path[4096];
        if (n < 7 || strcmp(de->d_name + n - 6, ".gbjit"))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (load_file(c, path) < 0)
            c->rejects++;
    }
    if (d)
        closedir(d);
    if (build_index(c) < 0) {
        jit_cache_close(c);
        snprintf(err, errlen, "--jit-cache %s: out of memory", dir);
        return -ENOMEM;
    }
    *out = c;
    return 0;
}

void jit_cache_close(struct jit_cache *c)
{
    if (!c)
        return;
    while (c->files) {
        struct jit_cache_file *f = c->files;
        c->files = f->next;
        if (f->so) {
            dlclose(f->so);
            close(f->mfd);
        }
        free(f->man);
        free(f->path);
        free(f);
    }
    pthread_mutex_destroy(&c->lock);
    free(c->regions);
    free(c->tab);
    free(c->dir);
    free(c);
}

uint64_t jit_cache_rejects(struct jit_cache *c)
{
    return c ? atomic_load(&c->rejects) : 0;
}

unsigned jit_cache_regions(struct jit_cache *c)
{
    return c ? c->nregions : 0;
}

void jit_cache_find(struct jit_cache *c, unsigned off, const uint8_t *p, unsigned len,
                    int (*fn)(void *ctx, const struct jit_cached *e, unsigned k), void *ctx)
{
    uint64_t key;

    if (!c->nregions)
        return;
    key = member_key(off, p, len);
    for (unsigned s = (unsigned)key & c->tabmask; c->tab[s].key; s = (s + 1) & c->tabmask) {
        const struct idx_ent *ie = &c->tab[s];
        const struct jit_cached *e = &c->regions[ie->region];
        if (ie->key != key || e->blen[ie->k] != len ||
            e->page_off + e->b[ie->k].delta != (int64_t)off ||
            memcmp(e->bytes + e->b[ie->k].first, p, len))
            continue;
        if (fn(ctx, e, ie->k))
            return;
    }
}

/* Load f's object from memory after checking its checksum (so the
 * bytes checked are the bytes loaded). Under c->lock. */
static void load_object(struct jit_cache *c, struct jit_cache_file *f)
{
    uint8_t *buf = malloc(f->so_len ? f->so_len : 1);
    int fd = open(f->path, O_RDONLY | O_CLOEXEC), mfd = -1;
    char p[64];

    f->state = -1;
    if (buf && fd >= 0 && read_at(fd, buf, f->so_len, (off_t)f->so_off) == 0 &&
        jit_hash(JIT_HASH_SEED, buf, f->so_len) == f->so_sum &&
        (mfd = memfd_create("glassbox-jit", MFD_CLOEXEC)) >= 0 &&
        write(mfd, buf, f->so_len) == (ssize_t)f->so_len) {
        snprintf(p, sizeof(p), "/proc/self/fd/%d", mfd);
        f->so = dlopen(p, RTLD_NOW | RTLD_LOCAL);
        if (f->so) {
            f->state = 1;
            f->mfd = mfd;
            mfd = -1;
            /* used: the newest for jit_cache_prune (which goes by mtime) */
            futimens(fd, NULL);
        }
    }
    if (f->state < 0)
        c->rejects++;
    if (mfd >= 0)
        close(mfd);
    if (fd >= 0)
        close(fd);
    free(buf);
}

rv_jit_fn jit_cache_code(struct jit_cache *c, const struct jit_cached *e)
{
    struct jit_cache_file *f = e->file;
    char name[48];
    void *fn = NULL;

    pthread_mutex_lock(&c->lock);
    if (f->state == 0)
        load_object(c, f);
    if (f->state > 0) {
        snprintf(name, sizeof(name), "gb_blk_%lu", e->fn_seq);
        fn = dlsym(f->so, name);
    }
    pthread_mutex_unlock(&c->lock);
    return (rv_jit_fn)fn;
}

/* The manifest of a compiled batch (regions with code only). */
static uint8_t *manifest(struct jit_req **arr, unsigned n, unsigned long first_seq, size_t *len,
                         unsigned *nreg)
{
    size_t cap = 0, pos = 0;
    uint8_t *m;

    for (unsigned i = 0; i < n; i++)
        cap += sizeof(struct man_region) + arr[i]->nblk * sizeof(struct man_member) +
               arr[i]->nbytes;
    m = malloc(cap ? cap : 1);
    if (!m)
        return NULL;
    *nreg = 0;
    for (unsigned i = 0; i < n; i++) {
        const struct jit_req *r = arr[i];
        struct man_region mr = { first_seq + i, r->nblk, (uint16_t)(r->paddr & ~RV_PAGE_MASK),
                                 r->span_lo, r->span_hi, 0, 0 };
        if (!r->fn || r->nbytes == 0)
            continue;
        memcpy(m + pos, &mr, sizeof(mr));
        pos += sizeof(mr);
        for (unsigned k = 0; k < r->nblk; k++) {
            const struct rv_insn *end = &r->insns[r->b[k].first + r->b[k].n];
            struct man_member mm = { r->b[k].delta, r->b[k].n, r->b[k].nmem, end->off };
            memcpy(m + pos, &mm, sizeof(mm));
            pos += sizeof(mm);
        }
        memcpy(m + pos, r->bytes, r->nbytes);
        pos += r->nbytes;
        (*nreg)++;
    }
    *len = pos;
    return m;
}

static int write_all(int fd, const void *p, size_t len)
{
    const uint8_t *b = p;

    while (len) {
        ssize_t k = write(fd, b, len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        b += k;
        len -= (size_t)k;
    }
    return 0;
}

int jit_cache_store(struct jit_cache *c, const char *so_path, struct jit_req **arr, unsigned n,
                    unsigned long first_seq)
{
    struct file_hdr hd;
    uint8_t *man = NULL, *so = NULL;
    size_t man_len = 0;
    unsigned nreg = 0;
    struct stat st;
    char tmp[4096], fin[4096];
    int fd = -1, r = -EIO;

    memset(&hd, 0, sizeof(hd));
    fd = open(so_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_size > CACHE_FILE_MAX)
        goto out;
    so = malloc((size_t)st.st_size + 1);
    man = manifest(arr, n, first_seq, &man_len, &nreg);
    if (!so || !man || nreg == 0 || read_at(fd, so, (size_t)st.st_size, 0) < 0)
        goto out;
    close(fd);
    memcpy(hd.magic, CACHE_MAGIC, 8);
    hd.build = c->build;
    hd.opts = c->opts | (arr[0]->tier >= 2 ? JIT_CACHE_TIER2 : 0);
    hd.nreg = nreg;
    hd.man_len = man_len;
    hd.so_len = (uint64_t)st.st_size;
    hd.man_sum = jit_hash(JIT_HASH_SEED, man, man_len);
    hd.so_sum = jit_hash(JIT_HASH_SEED, so, hd.so_len);
    snprintf(tmp, sizeof(tmp), "%s/.tmp-%d-%lu", c->dir, (int)getpid(), first_seq);
    snprintf(fin, sizeof(fin), "%s/%016" PRIx64 ".gbjit", c->dir, hd.man_sum ^ hd.so_sum);
    /* written whole under a temporary name, then renamed: a reader (or a
     * second glassbox) never sees half a file */
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write_all(fd, &hd, sizeof(hd)) < 0 || write_all(fd, man, man_len) < 0 ||
        write_all(fd, so, hd.so_len) < 0 || close(fd) < 0) {
        if (fd >= 0)
            unlink(tmp);
        fd = -1;
        goto out;
    }
    fd = -1;
    r = rename(tmp, fin) < 0 ? -errno : 0;
    if (r < 0)
        unlink(tmp);
out:
    if (fd >= 0)
        close(fd);
    free(so);
    free(man);
    return r;
}
