/* Split virtqueues (virtio 1.2 section 2.7), device side.
 *
 * The ring lives in guest RAM and the guest may scribble on it at any time,
 * so every value read from it is read once into a local, checked, and only
 * then used: ring addresses and sizes, descriptor indices, chain length,
 * indirect tables, flag order and lengths. Any violation makes the queue
 * "broken": virtq_pop() and virtq_push() refuse to touch it again and the
 * owner's fail() callback runs once (the virtio-mmio transport turns that
 * into DEVICE_NEEDS_RESET). Host memory is only ever reached through
 * pointers that guest_mem_map() returned for exactly the bytes used.
 *
 * Chains: zero or more direct descriptors, optionally ending in one
 * INDIRECT descriptor (not combined with NEXT) whose table holds the rest;
 * no indirect inside a table. All device-readable buffers come before all
 * device-writable ones. At most `max` (the device's QueueNumMax) buffers a
 * chain, direct ones bounded by the queue size, which is what stops loops.
 * Zero-length descriptors are accepted and skipped. Each direction's total
 * must fit in 32 bits (the used ring's length field).
 *
 * Not thread-safe by itself: the owner serialises all calls on a queue
 * (the transport's lock). Only the guest side runs concurrently, which is
 * what the acquire/release accesses on the ring indices are for. */
#ifndef GLASSBOX_DEVICES_VIRTQUEUE_H
#define GLASSBOX_DEVICES_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "glassbox/guest_mem.h"

#define VIRTQ_MAX_SIZE          32768   /* spec limit for a split queue */

#define VIRTQ_DESC_F_NEXT       1
#define VIRTQ_DESC_F_WRITE      2
#define VIRTQ_DESC_F_INDIRECT   4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY  1

/* One buffer of a chain: host pointer from guest_mem_map() and length. */
struct virtq_iov {
    uint8_t *base;
    uint32_t len;
};

/* A popped chain. iov[0..nout) are device-readable ("out", driver to
 * device), iov[nout..nout+nin) device-writable ("in"). */
struct virtq_elem {
    uint16_t head;
    unsigned nout, nin;
    uint64_t out_len, in_len;   /* byte totals, each <= UINT32_MAX */
    struct virtq_iov *iov;      /* max entries, owned by the queue */
};

struct virtqueue;
typedef void virtq_fail_fn(void *opaque, struct virtqueue *vq,
                           const char *why);

struct virtqueue {
    /* Set once by virtq_init(). */
    const struct guest_mem *gm;
    unsigned index;
    unsigned max;               /* QueueNumMax: power of two */
    virtq_fail_fn *fail;
    void *fail_opaque;

    /* Driver configuration, written by the transport while not ready. */
    unsigned num;               /* QueueNum */
    uint64_t desc, avail, used; /* guest-physical ring addresses */
    bool ready;                 /* QueueReady as the driver wrote it */

    /* Device state. */
    bool enabled;               /* ready and the transport lets it run */
    bool indirect;              /* VIRTIO_F_INDIRECT_DESC negotiated */
    bool broken;                /* a violation was seen: hands off */
    bool need_signal;           /* pushed since the last virtq_signal() */
    uint16_t last_avail;        /* next avail ring slot to consume */
    uint16_t used_idx;          /* our copy of used->idx */
    struct virtq_elem elem;     /* the one element in flight */
};

/* gm must outlive the queue. max is a power of two in 1..VIRTQ_MAX_SIZE.
 * 0 or -EINVAL / -ENOMEM. */
int virtq_init(struct virtqueue *vq, const struct guest_mem *gm,
               unsigned index, unsigned max, virtq_fail_fn *fail,
               void *opaque);
void virtq_destroy(struct virtqueue *vq);
/* Back to the reset state: not ready, num = max, addresses 0. */
void virtq_reset(struct virtqueue *vq);

/* The driver set QueueReady: check num and the three rings (size, alignment,
 * inside RAM) and start from index 0. 0, or -EINVAL after marking the queue
 * broken (fail() runs). */
int virtq_start(struct virtqueue *vq);

/* Take the next available chain. 1 with *elem set (valid until the next
 * pop), 0 when there is none or the queue is not enabled, -EIO when the
 * queue is (or just became) broken. */
int virtq_pop(struct virtqueue *vq, struct virtq_elem **elem);
/* Return elem to the driver with len bytes written into its in buffers
 * (clamped to in_len). 0 or -EIO when broken. */
int virtq_push(struct virtqueue *vq, const struct virtq_elem *elem,
               uint32_t len);
/* After one or more pushes: should the driver be interrupted? Clears the
 * pushed flag; honours VIRTQ_AVAIL_F_NO_INTERRUPT. */
bool virtq_signal(struct virtqueue *vq);
/* Mark broken and report why (once). For device-level violations such as
 * a block request without a header. */
void virtq_fail(struct virtqueue *vq, const char *why);

/* Copy between the element's buffers and host memory, starting off bytes
 * into the readable (virtq_read) or writable (virtq_write) part. Return
 * the bytes copied, short at the end of the buffers. */
size_t virtq_read(const struct virtq_elem *e, uint64_t off, void *buf,
                  size_t len);
size_t virtq_write(const struct virtq_elem *e, uint64_t off, const void *buf,
                   size_t len);
/* Describe bytes [off, off+len) of the readable (writable = false) or
 * writable part as up to max struct iovecs, for preadv/pwritev. Returns
 * the count; the covered length is clipped to what the element has. */
unsigned virtq_iovec(const struct virtq_elem *e, bool writable, uint64_t off,
                     uint64_t len, struct iovec *iov, unsigned max);

#endif
