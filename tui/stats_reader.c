/* Stats region reader: see stats_reader.h. Records are located through
 * the header's section table and stride, so a newer minor version with
 * larger records still reads correctly. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stats_reader.h"

static const size_t min_stride[GB_STATS_SEC_COUNT] = {
    [GB_STATS_SEC_VCPU] = sizeof(struct gb_stats_vcpu),
    [GB_STATS_SEC_HOT] = sizeof(struct gb_stats_hot_list),
    [GB_STATS_SEC_DEVICE] = sizeof(struct gb_stats_device),
    [GB_STATS_SEC_MEMORY] = sizeof(struct gb_stats_memory),
    [GB_STATS_SEC_NUMA] = sizeof(struct gb_stats_numa),
    [GB_STATS_SEC_EVENT] = sizeof(struct gb_stats_event),
};

int gb_reader_attach(struct gb_reader *r, const void *base, size_t size, char *err,
                     size_t errlen)
{
    const struct gb_stats_header *h = base;
    uint64_t magic;

    memset(r, 0, sizeof(*r));
    if (size < 32) {
        snprintf(err, errlen, "stats region too small (%zu bytes) for a header", size);
        return -EPROTO;
    }
    magic = __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE);
    if (magic == 0) {
        snprintf(err, errlen, "stats region is not ready yet (the engine is starting)");
        return -EAGAIN;
    }
    if (magic != GB_STATS_MAGIC) {
        snprintf(err, errlen, "not a glassbox stats region (magic 0x%016llx)",
                 (unsigned long long)magic);
        return -EPROTO;
    }
    if (h->abi_major != GB_STATS_ABI_MAJOR) {
        snprintf(err, errlen, "stats region has ABI version %u.%u; this program reads %u.x: "
                 "use the glasstop that came with that engine", h->abi_major, h->abi_minor,
                 GB_STATS_ABI_MAJOR);
        return -EPROTO;
    }
    if (h->header_size < sizeof(*h) || size < sizeof(*h) || h->total_size > size) {
        snprintf(err, errlen, "stats region sizes are inconsistent (header %u, total %llu, "
                 "mapped %zu)", h->header_size, (unsigned long long)h->total_size, size);
        return -EPROTO;
    }
    if (h->section_count < GB_STATS_SEC_COUNT || h->nvcpus > GB_STATS_MAX_VCPUS) {
        snprintf(err, errlen, "stats region lacks sections (%u) or has %u vCPUs",
                 h->section_count, h->nvcpus);
        return -EPROTO;
    }
    for (unsigned i = 0; i < GB_STATS_SEC_COUNT; i++) {
        const struct gb_stats_section *s = &h->sections[i];
        uint64_t need = (uint64_t)s->count * s->stride
            + (i == GB_STATS_SEC_EVENT ? sizeof(struct gb_stats_event_ring) : 0);
        if (s->stride < min_stride[i] || s->stride % 8 || s->offset % 8 || s->size < need
            || s->offset > h->total_size || s->size > h->total_size - s->offset) {
            snprintf(err, errlen, "stats region section %u is malformed (offset %llu, size "
                     "%llu, stride %u)", i, (unsigned long long)s->offset,
                     (unsigned long long)s->size, s->stride);
            return -EPROTO;
        }
    }
    const struct gb_stats_section *ev = &h->sections[GB_STATS_SEC_EVENT];
    const struct gb_stats_event_ring *ring = (const void *)((const uint8_t *)base + ev->offset);
    if (ring->capacity != ev->count || ring->capacity == 0
        || (ring->capacity & (ring->capacity - 1))) {
        snprintf(err, errlen, "stats region event ring is malformed (capacity %u)",
                 ring->capacity);
        return -EPROTO;
    }
    r->base = base;
    r->size = size;
    r->hdr = h;
    return 0;
}

int gb_reader_open(struct gb_reader *r, const char *name, char *err, size_t errlen)
{
    char shm[GB_STATS_NAME_MAX + 16];
    struct stat st;
    void *p;
    int fd, e;

    memset(r, 0, sizeof(*r));
    if (!name || !name[0] || strchr(name, '/') || strlen(name) >= GB_STATS_NAME_MAX) {
        snprintf(err, errlen, "'%s' is not a VM name", name ? name : "");
        return -EINVAL;
    }
    snprintf(shm, sizeof(shm), GB_STATS_SHM_PREFIX "%s", name);
    fd = shm_open(shm, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
        e = -errno;
        if (e == -ENOENT)
            snprintf(err, errlen, "no VM named '%s' is running (no /dev/shm%s)", name, shm);
        else
            snprintf(err, errlen, "cannot open /dev/shm%s: %s", shm, strerror(errno));
        return e;
    }
    if (fstat(fd, &st) < 0 || st.st_size <= 0) {
        close(fd);
        snprintf(err, errlen, "stats region of '%s' is empty (the engine is starting)", name);
        return -EAGAIN;
    }
    p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    e = errno;
    close(fd);
    if (p == MAP_FAILED) {
        snprintf(err, errlen, "cannot map /dev/shm%s: %s", shm, strerror(e));
        return -e;
    }
    e = gb_reader_attach(r, p, (size_t)st.st_size, err, errlen);
    if (e < 0) {
        munmap(p, (size_t)st.st_size);
        return e;
    }
    r->owned = 1;
    return 0;
}

void gb_reader_close(struct gb_reader *r)
{
    if (r->owned && r->base)
        munmap((void *)r->base, r->size);
    memset(r, 0, sizeof(*r));
}

static const void *rec(const struct gb_reader *r, unsigned sec, unsigned i, uint64_t skip)
{
    const struct gb_stats_section *s = &r->hdr->sections[sec];

    if (i >= s->count)
        return NULL;
    return r->base + s->offset + skip + (uint64_t)i * s->stride;
}

static int load(const void *p, void *out, size_t size)
{
    if (!p)
        return -ERANGE;
    return gb_stats_seq_load(p, out, size, GB_STATS_SEQ_TRIES);
}

int gb_reader_status(const struct gb_reader *r, struct gb_stats_status *out)
{
    return load(&r->hdr->status, out, sizeof(*out));
}

int gb_reader_vcpu(const struct gb_reader *r, unsigned i, struct gb_stats_vcpu *out)
{
    return load(rec(r, GB_STATS_SEC_VCPU, i, 0), out, sizeof(*out));
}

int gb_reader_hot(const struct gb_reader *r, unsigned which, struct gb_stats_hot_list *out)
{
    return load(rec(r, GB_STATS_SEC_HOT, which, 0), out, sizeof(*out));
}

int gb_reader_device(const struct gb_reader *r, unsigned i, struct gb_stats_device *out)
{
    return load(rec(r, GB_STATS_SEC_DEVICE, i, 0), out, sizeof(*out));
}

int gb_reader_memory(const struct gb_reader *r, struct gb_stats_memory *out)
{
    return load(rec(r, GB_STATS_SEC_MEMORY, 0, 0), out, sizeof(*out));
}

int gb_reader_numa(const struct gb_reader *r, struct gb_stats_numa *out)
{
    int e = load(rec(r, GB_STATS_SEC_NUMA, 0, 0), out, sizeof(*out));

    /* a format this reader does not know reads as "no report" */
    if (e == 0 && (out->format != GB_STATS_NUMA_FORMAT ||
                   out->used < sizeof(struct gb_stats_numa_report) ||
                   out->used > sizeof(out->data)))
        out->format = 0;
    return e;
}

uint64_t gb_reader_heartbeat(const struct gb_reader *r)
{
    return __atomic_load_n(&r->hdr->heartbeat_mono_ns, __ATOMIC_ACQUIRE);
}

int gb_reader_events(const struct gb_reader *r, uint64_t *cursor, struct gb_stats_event *out,
                     unsigned max, uint64_t *lost)
{
    const struct gb_stats_section *s = &r->hdr->sections[GB_STATS_SEC_EVENT];
    const struct gb_stats_event_ring *ring = (const void *)(r->base + s->offset);
    uint64_t head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
    uint64_t cap = s->count, n = *cursor;
    unsigned got = 0;

    if (n > head)           /* a cursor from an earlier engine of the same name */
        n = head > cap ? head - cap : 0;
    if (head - n > cap) {
        if (lost)
            *lost += head - cap - n;
        n = head - cap;
    }
    for (; n < head && got < max; n++) {
        const void *slot = rec(r, GB_STATS_SEC_EVENT, (unsigned)(n & (cap - 1)),
                               sizeof(struct gb_stats_event_ring));
        if (load(slot, &out[got], sizeof(out[got])) < 0 || out[got].number != n) {
            /* overwritten by a newer event while we read */
            if (lost)
                (*lost)++;
            continue;
        }
        out[got].text[sizeof(out[got].text) - 1] = '\0';
        got++;
    }
    *cursor = n;
    return (int)got;
}
