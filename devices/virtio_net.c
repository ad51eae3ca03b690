/* virtio-net back-end. See virtio_net.h for the contract. */
#define _DEFAULT_SOURCE         /* htole16 */
#include <endian.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio_net.h"

#define CFG_BYTES   8           /* mac, status; the rest reads 0 */

struct frame {
    uint8_t *data;
    size_t len;
};

struct net_counters {
    _Atomic uint64_t tx_frames, tx_bytes, tx_dropped;
    _Atomic uint64_t rx_frames, rx_bytes, rx_dropped;
};

struct virtio_net {
    const struct net_backend_ops *be_ops;
    void *be;
    uint8_t config[CFG_BYTES];
    struct virtio_mmio *vm;     /* set by attach */
    struct net_counters st;

    /* Under the transport lock. */
    struct frame backlog[VIRTIO_NET_BACKLOG];
    unsigned bl_head, bl_count;
    uint8_t tx_buf[VIRTIO_NET_MAX_FRAME];
};

const uint8_t virtio_net_default_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static void count(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static uint64_t load(const _Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* ---- receive (network to guest), all locked ---- */

static void backlog_drop_all(struct virtio_net *n)
{
    while (n->bl_count) {
        free(n->backlog[n->bl_head].data);
        n->bl_head = (n->bl_head + 1) % VIRTIO_NET_BACKLOG;
        n->bl_count--;
        count(&n->st.rx_dropped, 1);
    }
    n->bl_head = 0;
}

/* Put one frame into the next receive chain. 1 when the chain was used
 * (frame delivered, or dropped because the buffer was too small), 0 when
 * the driver has no buffer posted, -EIO when the queue is broken. */
static int deliver_one(struct virtio_net *n, struct virtqueue *vq,
                       const uint8_t *data, size_t len)
{
    /* flags, gso_type, hdr_len, gso_size, csum_start, csum_offset all 0:
     * no offloads; num_buffers 1: no mergeable buffers. */
    uint8_t hdr[VIRTIO_NET_HDR_BYTES] = { 0 };
    uint16_t one = htole16(1);
    struct virtq_elem *e;
    int r = virtq_pop(vq, &e);

    if (r <= 0)
        return r;
    if (e->in_len < VIRTIO_NET_HDR_BYTES) {
        virtq_fail(vq, "receive buffer shorter than the 12-byte header");
        return -EIO;
    }
    if (e->in_len - VIRTIO_NET_HDR_BYTES < len) {
        /* Cannot un-pop: hand the buffer back empty (Linux counts a length
         * error and reposts it) and lose the frame. */
        virtq_push(vq, e, 0);
        virtio_mmio_account(n->vm, 0, 0, 1);
        count(&n->st.rx_dropped, 1);
        return 1;
    }
    memcpy(hdr + 10, &one, 2);
    virtq_write(e, 0, hdr, sizeof(hdr));
    virtq_write(e, VIRTIO_NET_HDR_BYTES, data, len);
    virtq_push(vq, e, (uint32_t)(VIRTIO_NET_HDR_BYTES + len));
    virtio_mmio_account(n->vm, 0, VIRTIO_NET_HDR_BYTES + len, 0);
    count(&n->st.rx_frames, 1);
    count(&n->st.rx_bytes, len);
    return 1;
}

/* Move waiting frames into posted buffers, oldest first. True if any
 * chain was used. */
static bool backlog_flush(struct virtio_net *n, struct virtqueue *vq)
{
    bool used = false;

    while (n->bl_count) {
        struct frame *f = &n->backlog[n->bl_head];
        int r = deliver_one(n, vq, f->data, f->len);

        if (r < 0) {
            backlog_drop_all(n);
            break;
        }
        if (r == 0)
            break;
        used = true;
        free(f->data);
        f->data = NULL;
        n->bl_head = (n->bl_head + 1) % VIRTIO_NET_BACKLOG;
        n->bl_count--;
    }
    return used;
}

static void backlog_add(struct virtio_net *n, const uint8_t *data, size_t len)
{
    struct frame *f;
    uint8_t *copy;

    if (n->bl_count == VIRTIO_NET_BACKLOG || !(copy = malloc(len))) {
        count(&n->st.rx_dropped, 1);
        return;
    }
    memcpy(copy, data, len);
    f = &n->backlog[(n->bl_head + n->bl_count) % VIRTIO_NET_BACKLOG];
    f->data = copy;
    f->len = len;
    n->bl_count++;
}

/* The back-end's receiver: any thread, without the transport lock. */
static void net_rx(void *opaque, const uint8_t *frame, size_t len)
{
    struct virtio_net *n = opaque;
    struct virtqueue *vq;
    bool used = false;

    virtio_mmio_lock(n->vm);
    vq = virtio_mmio_queue(n->vm, VIRTIO_NET_RXQ);
    if (!frame || !len || len > VIRTIO_NET_MAX_FRAME || !vq->enabled) {
        /* The driver is not running (or never was): like a NIC with its
         * receiver off, and no stale frames for a driver that comes up. */
        backlog_drop_all(n);
        count(&n->st.rx_dropped, 1);
        goto out;
    }
    used = backlog_flush(n, vq);
    if (n->bl_count) {
        backlog_add(n, frame, len);
    } else {
        int r = deliver_one(n, vq, frame, len);

        if (r > 0)
            used = true;
        else if (r == 0)
            backlog_add(n, frame, len);
        else
            count(&n->st.rx_dropped, 1);
    }
out:
    if (used)
        virtio_mmio_notify_used(n->vm, vq);
    virtio_mmio_unlock(n->vm);
}

/* ---- transmit (guest to network), locked ---- */

static void transmit(struct virtio_net *n, struct virtio_mmio *vm,
                     struct virtqueue *vq)
{
    struct virtq_elem *e;
    unsigned i;

    /* At most a queue's worth a kick, so a guest refilling forever cannot
     * pin the vCPU inside this MMIO write. */
    for (i = 0; i < vq->num && virtq_pop(vq, &e) > 0; i++) {
        uint64_t len;
        int r = -EMSGSIZE;

        if (e->out_len < VIRTIO_NET_HDR_BYTES) {
            virtq_fail(vq, "transmit request shorter than the 12-byte header");
            break;
        }
        /* The header asks for nothing we could honour (no offloads were
         * negotiated), so only the frame after it matters. */
        len = e->out_len - VIRTIO_NET_HDR_BYTES;
        if (len && len <= VIRTIO_NET_MAX_FRAME) {
            virtq_read(e, VIRTIO_NET_HDR_BYTES, n->tx_buf, (size_t)len);
            r = n->be_ops->send(n->be, n->tx_buf, (size_t)len);
        }
        if (r < 0) {
            count(&n->st.tx_dropped, 1);
        } else {
            count(&n->st.tx_frames, 1);
            count(&n->st.tx_bytes, len);
        }
        virtq_push(vq, e, 0);
        virtio_mmio_account(vm, e->out_len, 0, r < 0);
    }
    virtio_mmio_notify_used(vm, vq);
}

/* ---- transport callbacks ---- */

static void net_notify(void *dev, struct virtio_mmio *vm, struct virtqueue *vq,
                       unsigned idx)
{
    struct virtio_net *n = dev;

    if (idx == VIRTIO_NET_TXQ) {
        transmit(n, vm, vq);
    } else if (backlog_flush(n, vq)) {
        /* New receive buffers: frames that waited for them go now. */
        virtio_mmio_notify_used(vm, vq);
    }
}

static uint64_t net_features(void *dev)
{
    (void)dev;
    return VIRTIO_BIT(VIRTIO_NET_F_MAC) | VIRTIO_BIT(VIRTIO_NET_F_STATUS);
}

static uint64_t net_config_read(void *dev, unsigned off, unsigned size)
{
    struct virtio_net *n = dev;

    return virtio_config_bytes(n->config, sizeof(n->config), off, size);
}

static void net_config_write(void *dev, unsigned off, unsigned size,
                             uint64_t val)
{
    /* The MAC is read-only for a VERSION_1 driver (5.1.4.2); nothing else
     * here is writable. */
    (void)dev;
    (void)off;
    (void)size;
    (void)val;
}

static void net_reset(void *dev)
{
    backlog_drop_all(dev);
}

static int net_attach(void *dev, struct virtio_mmio *vm)
{
    struct virtio_net *n = dev;

    n->vm = vm;
    n->be_ops->set_receiver(n->be, net_rx, n);
    return 0;
}

static void net_destroy(void *dev)
{
    struct virtio_net *n = dev;

    if (!n)
        return;
    /* First make sure no receive is running or can start: it would take
     * the transport lock and touch n. */
    n->be_ops->set_receiver(n->be, NULL, NULL);
    if (n->be_ops->destroy)
        n->be_ops->destroy(n->be);
    while (n->bl_count) {
        free(n->backlog[n->bl_head].data);
        n->bl_head = (n->bl_head + 1) % VIRTIO_NET_BACKLOG;
        n->bl_count--;
    }
    free(n);
}

static const struct virtio_dev_ops net_ops = {
    .name = "virtio-net",
    .device_id = VIRTIO_ID_NET,
    .num_queues = 2,
    .queue_max = VIRTIO_NET_QUEUE_MAX,
    .features = net_features,
    .config_read = net_config_read,
    .config_write = net_config_write,
    .queue_notify = net_notify,
    .reset = net_reset,
    .attach = net_attach,
    .destroy = net_destroy,
};

void virtio_net_stats(void *dev, struct virtio_net_stats *out)
{
    const struct virtio_net *n = dev;

    out->tx_frames = load(&n->st.tx_frames);
    out->tx_bytes = load(&n->st.tx_bytes);
    out->tx_dropped = load(&n->st.tx_dropped);
    out->rx_frames = load(&n->st.rx_frames);
    out->rx_bytes = load(&n->st.rx_bytes);
    out->rx_dropped = load(&n->st.rx_dropped);
}

int virtio_net_new(const struct net_backend_ops *be_ops, void *be,
                   const uint8_t mac[6], struct virtio_backend *out,
                   char *err, size_t errlen)
{
    struct virtio_net *n;
    uint16_t status = htole16(VIRTIO_NET_S_LINK_UP);

    if (!be_ops || !be_ops->send || !be_ops->set_receiver) {
        snprintf(err, errlen, "virtio-net: no network back-end");
        if (be_ops && be_ops->destroy)
            be_ops->destroy(be);
        return -EINVAL;
    }
    if (!mac)
        mac = virtio_net_default_mac;
    if (mac[0] & 1) {
        snprintf(err, errlen,
                 "virtio-net: MAC %02x:%02x:%02x:%02x:%02x:%02x is a "
                 "multicast address; use a unicast one such as "
                 "52:54:00:12:34:56", mac[0], mac[1], mac[2], mac[3],
                 mac[4], mac[5]);
        if (be_ops->destroy)
            be_ops->destroy(be);
        return -EINVAL;
    }
    n = calloc(1, sizeof(*n));
    if (!n) {
        snprintf(err, errlen, "virtio-net: out of memory");
        if (be_ops->destroy)
            be_ops->destroy(be);
        return -ENOMEM;
    }
    n->be_ops = be_ops;
    n->be = be;
    memcpy(n->config + VIRTIO_NET_CFG_MAC, mac, 6);
    memcpy(n->config + VIRTIO_NET_CFG_STATUS, &status, 2);
    out->ops = &net_ops;
    out->dev = n;
    return 0;
}
