/* virtio-rng back-end. See virtio_rng.h. */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "virtio_rng.h"

struct virtio_rng {
    int unused;                 /* no state; a distinct object per device */
};

/* Fill the chain's writable buffers; returns the bytes written. */
static uint32_t rng_fill(const struct virtq_elem *e)
{
    uint64_t left = VIRTIO_RNG_MAX_FILL, done = 0;
    unsigned i;

    for (i = e->nout; i < e->nout + e->nin && left; i++) {
        uint8_t *p = e->iov[i].base;
        size_t want = e->iov[i].len < left ? e->iov[i].len : (size_t)left;

        while (want) {
            ssize_t r = getrandom(p, want, 0);

            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return (uint32_t)done;
            p += r;
            want -= (size_t)r;
            done += (uint64_t)r;
            left -= (uint64_t)r;
        }
    }
    return (uint32_t)done;
}

static void rng_notify(void *dev, struct virtio_mmio *vm, struct virtqueue *vq,
                       unsigned idx)
{
    struct virtq_elem *e;
    unsigned n;

    (void)dev;
    (void)idx;
    /* One queue's worth a kick; see blk_notify(). */
    for (n = 0; n < vq->num && virtq_pop(vq, &e) > 0; n++) {
        uint32_t len = rng_fill(e);

        virtq_push(vq, e, len);
        virtio_mmio_account(vm, 0, len, 0);
    }
    virtio_mmio_notify_used(vm, vq);
}

static void rng_destroy(void *dev)
{
    free(dev);
}

static const struct virtio_dev_ops rng_ops = {
    .name = "virtio-rng",
    .device_id = VIRTIO_ID_RNG,
    .num_queues = 1,
    .queue_max = VIRTIO_RNG_QUEUE_MAX,
    .queue_notify = rng_notify,
    .destroy = rng_destroy,
};

int virtio_rng_new(struct virtio_backend *be)
{
    struct virtio_rng *r = calloc(1, sizeof(*r));

    if (!r)
        return -ENOMEM;
    be->ops = &rng_ops;
    be->dev = r;
    return 0;
}
