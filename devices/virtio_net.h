/* virtio-net back-end (device id 1), virtio 1.2 section 5.1.
 *
 * Two queues, receiveq (0) and transmitq (1); no control queue, no
 * multiqueue, no offloads (no checksum, no GSO, no mergeable buffers).
 * Offered: VIRTIO_NET_F_MAC (the config holds the MAC) and
 * VIRTIO_NET_F_STATUS (link always up). Every packet in either direction
 * is preceded by the 12-byte struct virtio_net_hdr (the VERSION_1 layout,
 * with num_buffers).
 *
 * Transmit runs in the notifying vCPU's thread: each chain's frame (the
 * readable part after the header) is copied out and handed to the network
 * back-end's send(), which must not block. A chain too short to hold the
 * header is a malformed request: the device enters needs-reset.
 *
 * Receive: the back-end calls the receiver (from any thread, usually its
 * I/O thread) with one Ethernet frame; the device takes the transport lock
 * and copies header + frame into the next receive chain (num_buffers 1).
 * When the driver has posted no buffer yet, up to VIRTIO_NET_BACKLOG frames
 * wait in the device and go out when buffers arrive; beyond that, or while
 * the driver is not running, frames are dropped and counted. A buffer too
 * small for the frame is returned empty (length 0) and the frame dropped;
 * one smaller than the header is a malformed ring (needs-reset).
 *
 * Locking: all of it under the transport lock (virtio_mmio.h). The
 * back-end's receiver callback may take other locks before calling in, so
 * the device never calls the back-end's set_receiver() with the transport
 * lock held. */
#ifndef GLASSBOX_DEVICES_VIRTIO_NET_H
#define GLASSBOX_DEVICES_VIRTIO_NET_H

#include <stddef.h>
#include <stdint.h>

#include "virtio_mmio.h"

#define VIRTIO_ID_NET           1
#define VIRTIO_NET_QUEUE_MAX    256
#define VIRTIO_NET_RXQ          0
#define VIRTIO_NET_TXQ          1

#define VIRTIO_NET_F_MAC        5
#define VIRTIO_NET_F_STATUS     16
#define VIRTIO_NET_S_LINK_UP    1

#define VIRTIO_NET_HDR_BYTES    12      /* with num_buffers (VERSION_1) */
#define VIRTIO_NET_MAX_FRAME    65536   /* larger frames are dropped */
#define VIRTIO_NET_BACKLOG      64      /* frames waiting for rx buffers */

/* Config space offsets (virtio 1.2 5.1.4). */
#define VIRTIO_NET_CFG_MAC      0       /* 6 bytes */
#define VIRTIO_NET_CFG_STATUS   6       /* le16 */

/* One Ethernet frame (no FCS) to the guest. */
typedef void net_rx_fn(void *opaque, const uint8_t *frame, size_t len);

/* A network back-end (host side of the wire). be is its private pointer. */
struct net_backend_ops {
    /* A frame from the guest. Called with the transport lock held, from a
     * vCPU thread: copy and return at once, never block. 0, or -errno when
     * the frame was dropped (the device counts it). */
    int (*send)(void *be, const uint8_t *frame, size_t len);
    /* Install (rx non-NULL) or remove (NULL) the function frames for the
     * guest go to. Once set_receiver(NULL) returns, rx is not running and
     * will not be called again. Never called with the transport lock held. */
    void (*set_receiver)(void *be, net_rx_fn *rx, void *opaque);
    /* Stop and free the back-end. May be NULL (not owned). */
    void (*destroy)(void *be);
};

/* Per-device counters, readable from any thread without the lock. "tx" is
 * guest to network, "rx" network to guest. */
struct virtio_net_stats {
    uint64_t tx_frames, tx_bytes;       /* handed to the back-end */
    uint64_t tx_dropped;                /* back-end refused, or too big */
    uint64_t rx_frames, rx_bytes;       /* delivered to the guest */
    uint64_t rx_dropped;                /* no buffer, backlog full, too
                                           small a buffer, driver down */
};

/* The default MAC, QEMU's first NIC: 52:54:00:12:34:56. */
extern const uint8_t virtio_net_default_mac[6];

/* Fill *out with a virtio-net device on the back-end (be_ops, be). The
 * device owns be from here on: it is destroyed with the device, or at once
 * if this fails. mac NULL means virtio_net_default_mac; a multicast MAC is
 * refused. 0, or -errno with a one-line message in err. */
int virtio_net_new(const struct net_backend_ops *be_ops, void *be,
                   const uint8_t mac[6], struct virtio_backend *out,
                   char *err, size_t errlen);

/* dev is the struct virtio_backend's dev (valid until the transport is
 * freed). Lock-free snapshot. */
void virtio_net_stats(void *dev, struct virtio_net_stats *out);

#endif
