/* Split virtqueue, device side. See virtqueue.h for the rules enforced. */
#define _DEFAULT_SOURCE         /* le16toh and friends */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtqueue.h"

/* Ring layouts (virtio 1.2 2.7): sizes in bytes for a queue of num. */
#define DESC_SIZE               16
#define AVAIL_RING(i)           (4 + 2 * (uint64_t)(i))
#define USED_RING(i)            (4 + 8 * (uint64_t)(i))
#define AVAIL_BYTES(num)        (6 + 2 * (uint64_t)(num))
#define USED_BYTES(num)         (6 + 8 * (uint64_t)(num))

struct vdesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

void virtq_fail(struct virtqueue *vq, const char *why)
{
    if (vq->broken)
        return;
    vq->broken = true;
    vq->enabled = false;
    if (vq->fail)
        vq->fail(vq->fail_opaque, vq, why);
}

static int fail(struct virtqueue *vq, const char *why)
{
    virtq_fail(vq, why);
    return -EIO;
}

/* Host pointer to len bytes of a ring at gpa, or NULL if any of it is not
 * RAM or the host address is not aligned for the atomics used on it. */
static uint8_t *ring_ptr(const struct virtqueue *vq, uint64_t gpa,
                         uint64_t len, int write, unsigned align)
{
    uint8_t *p = guest_mem_map(vq->gm, gpa, len, write);

    if (p && ((uintptr_t)p & (align - 1)))
        return NULL;
    return p;
}

static int load16(const struct virtqueue *vq, uint64_t gpa, int order,
                  uint16_t *v)
{
    const uint16_t *p = (const uint16_t *)ring_ptr(vq, gpa, 2, 0, 2);

    if (!p)
        return -1;
    *v = le16toh(__atomic_load_n(p, order));
    return 0;
}

static int read_desc(const struct virtqueue *vq, uint64_t table, unsigned i,
                     struct vdesc *d)
{
    const uint8_t *p = guest_mem_map(vq->gm, table + (uint64_t)DESC_SIZE * i,
                                     DESC_SIZE, 0);
    uint64_t a;
    uint32_t l;
    uint16_t f, n;

    if (!p)
        return -1;
    /* One copy of each field: the guest may change the table meanwhile. */
    memcpy(&a, p, 8);
    memcpy(&l, p + 8, 4);
    memcpy(&f, p + 12, 2);
    memcpy(&n, p + 14, 2);
    d->addr = le64toh(a);
    d->len = le32toh(l);
    d->flags = le16toh(f);
    d->next = le16toh(n);
    return 0;
}

/* ---- lifetime and configuration ---- */

static bool pow2(unsigned n)
{
    return n && !(n & (n - 1));
}

int virtq_init(struct virtqueue *vq, const struct guest_mem *gm,
               unsigned index, unsigned max, virtq_fail_fn *fail_fn,
               void *opaque)
{
    memset(vq, 0, sizeof(*vq));
    if (!gm || !pow2(max) || max > VIRTQ_MAX_SIZE)
        return -EINVAL;
    vq->elem.iov = calloc(max, sizeof(*vq->elem.iov));
    if (!vq->elem.iov)
        return -ENOMEM;
    vq->gm = gm;
    vq->index = index;
    vq->max = max;
    vq->fail = fail_fn;
    vq->fail_opaque = opaque;
    virtq_reset(vq);
    return 0;
}

void virtq_destroy(struct virtqueue *vq)
{
    free(vq->elem.iov);
    vq->elem.iov = NULL;
}

void virtq_reset(struct virtqueue *vq)
{
    vq->num = vq->max;
    vq->desc = vq->avail = vq->used = 0;
    vq->ready = vq->enabled = vq->indirect = false;
    vq->broken = vq->need_signal = false;
    vq->last_avail = vq->used_idx = 0;
}

int virtq_start(struct virtqueue *vq)
{
    vq->last_avail = vq->used_idx = 0;
    vq->need_signal = false;
    if (!pow2(vq->num) || vq->num > vq->max)
        return fail(vq, "queue size is not a power of two up to QueueNumMax");
    if ((vq->desc & 15) || (vq->avail & 1) || (vq->used & 3))
        return fail(vq, "ring address misaligned");
    if (!ring_ptr(vq, vq->desc, (uint64_t)DESC_SIZE * vq->num, 0, 16) ||
        !ring_ptr(vq, vq->avail, AVAIL_BYTES(vq->num), 0, 2) ||
        !ring_ptr(vq, vq->used, USED_BYTES(vq->num), 1, 4))
        return fail(vq, "ring outside guest RAM");
    return 0;
}

/* ---- taking chains ---- */

static int add_buffer(struct virtqueue *vq, struct virtq_elem *e,
                      const struct vdesc *d, bool *seen_write)
{
    bool w = d->flags & VIRTQ_DESC_F_WRITE;
    uint64_t *total = w ? &e->in_len : &e->out_len;
    uint8_t *p;

    if (!w && *seen_write)
        return fail(vq, "device-readable descriptor after a writable one");
    *seen_write |= w;
    if (d->len == 0)
        return 0;
    if (*total + d->len > UINT32_MAX)
        return fail(vq, "chain length does not fit in 32 bits");
    if (e->nout + e->nin >= vq->max)
        return fail(vq, "chain has more buffers than QueueNumMax");
    p = guest_mem_map(vq->gm, d->addr, d->len, w);
    if (!p)
        return fail(vq, "buffer outside guest RAM");
    e->iov[e->nout + e->nin] = (struct virtq_iov){ p, d->len };
    if (w)
        e->nin++;
    else
        e->nout++;
    *total += d->len;
    return 0;
}

static int walk(struct virtqueue *vq, uint16_t head, struct virtq_elem *e)
{
    uint64_t table = vq->desc;
    unsigned size = vq->num, budget = vq->num, i = head;
    bool in_table = false, seen_write = false;
    struct vdesc d;
    int err;

    e->head = head;
    e->nout = e->nin = 0;
    e->out_len = e->in_len = 0;
    for (;;) {
        if (i >= size)
            return fail(vq, "descriptor index out of range");
        /* A well-formed chain visits each descriptor at most once. */
        if (budget-- == 0)
            return fail(vq, "descriptor chain longer than its table (loop)");
        if (read_desc(vq, table, i, &d) < 0)
            return fail(vq, "descriptor table outside guest RAM");
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            if (!vq->indirect)
                return fail(vq, "indirect descriptor not negotiated");
            if (in_table)
                return fail(vq, "indirect descriptor in an indirect table");
            if (d.flags & VIRTQ_DESC_F_NEXT)
                return fail(vq, "indirect descriptor with NEXT");
            if (d.len == 0 || d.len % DESC_SIZE)
                return fail(vq, "indirect table length not a multiple of 16");
            if (d.len / DESC_SIZE > vq->max)
                return fail(vq, "indirect table longer than QueueNumMax");
            if (!guest_mem_map(vq->gm, d.addr, d.len, 0))
                return fail(vq, "indirect table outside guest RAM");
            table = d.addr;
            size = budget = d.len / DESC_SIZE;
            i = 0;
            in_table = true;
            continue;
        }
        if ((err = add_buffer(vq, e, &d, &seen_write)) < 0)
            return err;
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            return 0;
        i = d.next;
    }
}

int virtq_pop(struct virtqueue *vq, struct virtq_elem **elem)
{
    uint16_t avail_idx, head;
    int err;

    if (vq->broken)
        return -EIO;
    if (!vq->enabled)
        return 0;
    /* Acquire: the ring entry and descriptors are read after the index. */
    if (load16(vq, vq->avail + 2, __ATOMIC_ACQUIRE, &avail_idx) < 0)
        return fail(vq, "available ring outside guest RAM");
    if (avail_idx == vq->last_avail)
        return 0;
    if ((uint16_t)(avail_idx - vq->last_avail) > vq->num)
        return fail(vq, "available index moved by more than the queue size");
    /* num divides 65536, so the free-running index maps straight on. */
    if (load16(vq, vq->avail + AVAIL_RING(vq->last_avail % vq->num),
               __ATOMIC_RELAXED, &head) < 0)
        return fail(vq, "available ring outside guest RAM");
    if ((err = walk(vq, head, &vq->elem)) < 0)
        return err;
    vq->last_avail++;
    *elem = &vq->elem;
    return 1;
}

int virtq_push(struct virtqueue *vq, const struct virtq_elem *elem,
               uint32_t len)
{
    uint32_t ent[2];
    uint8_t *slot;
    uint16_t *idx;

    if (vq->broken)
        return -EIO;
    if (len > elem->in_len)
        len = (uint32_t)elem->in_len;
    slot = ring_ptr(vq, vq->used + USED_RING(vq->used_idx % vq->num), 8, 1, 4);
    idx = (uint16_t *)ring_ptr(vq, vq->used + 2, 2, 1, 2);
    if (!slot || !idx)
        return fail(vq, "used ring outside guest RAM");
    ent[0] = htole32(elem->head);
    ent[1] = htole32(len);
    memcpy(slot, ent, sizeof(ent));
    vq->used_idx++;
    /* Release: the element (and the data) are visible before the index. */
    __atomic_store_n(idx, htole16(vq->used_idx), __ATOMIC_RELEASE);
    vq->need_signal = true;
    return 0;
}

bool virtq_signal(struct virtqueue *vq)
{
    uint16_t flags;

    if (!vq->need_signal)
        return false;
    vq->need_signal = false;
    /* The used index store must be visible before the flags are read, or
     * a driver re-enabling interrupts at the same time could miss one. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (load16(vq, vq->avail, __ATOMIC_RELAXED, &flags) < 0)
        return true;
    return !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* ---- buffer access ---- */

/* Visit [off, off+len) of one part as (pointer, length) pieces. */
struct piece_walk {
    const struct virtq_iov *iov;
    unsigned n, i;
    uint64_t skip;
};

static void piece_begin(struct piece_walk *w, const struct virtq_elem *e,
                        bool writable, uint64_t off)
{
    w->iov = writable ? e->iov + e->nout : e->iov;
    w->n = writable ? e->nin : e->nout;
    w->i = 0;
    w->skip = off;
}

/* Next piece of at most *len bytes; NULL at the end of the part. */
static uint8_t *piece_next(struct piece_walk *w, uint64_t *len)
{
    while (w->i < w->n) {
        const struct virtq_iov *v = &w->iov[w->i++];

        if (w->skip >= v->len) {
            w->skip -= v->len;
            continue;
        }
        uint8_t *p = v->base + w->skip;
        uint64_t avail = v->len - w->skip;

        w->skip = 0;
        if (*len > avail)
            *len = avail;
        return p;
    }
    return NULL;
}

size_t virtq_read(const struct virtq_elem *e, uint64_t off, void *buf,
                  size_t len)
{
    struct piece_walk w;
    size_t done = 0;
    uint64_t n = len;
    uint8_t *p;

    piece_begin(&w, e, false, off);
    while (done < len && (n = len - done, p = piece_next(&w, &n))) {
        memcpy((uint8_t *)buf + done, p, n);
        done += n;
    }
    return done;
}

size_t virtq_write(const struct virtq_elem *e, uint64_t off, const void *buf,
                   size_t len)
{
    struct piece_walk w;
    size_t done = 0;
    uint64_t n;
    uint8_t *p;

    piece_begin(&w, e, true, off);
    while (done < len && (n = len - done, p = piece_next(&w, &n))) {
        memcpy(p, (const uint8_t *)buf + done, n);
        done += n;
    }
    return done;
}

unsigned virtq_iovec(const struct virtq_elem *e, bool writable, uint64_t off,
                     uint64_t len, struct iovec *iov, unsigned max)
{
    struct piece_walk w;
    unsigned cnt = 0;
    uint64_t n;
    uint8_t *p;

    piece_begin(&w, e, writable, off);
    while (len && cnt < max && (n = len, p = piece_next(&w, &n))) {
        iov[cnt].iov_base = p;
        iov[cnt].iov_len = n;
        cnt++;
        len -= n;
    }
    return cnt;
}
