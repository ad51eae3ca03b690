/* Unit tests for the virtio-net back-end and the libslirp network
 * back-end. A fake guest RAM buffer stands in for the engine's memory and
 * the tests drive the virtio-mmio registers as Linux's driver does; a fake
 * network back-end captures transmitted frames and injects received ones.
 * The slirp tests use only the loopback interface and slirp's own virtual
 * network (its DHCP server answers without any real traffic). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "glassbox/bus.h"
#include "glassbox/guest_mem.h"
#include "virtio_harness.h"
#include "virtio_mmio.h"
#include "virtqueue.h"
#include "virtio_net.h"
#include "net_slirp.h"

#define HDR         VIRTIO_NET_HDR_BYTES
#define RXBUF       (HDR + 1514)
#define IRQ_LINE    1


/* ---------------------------------------------------------------- fakes */

struct fake_be {
    pthread_mutex_t lock;
    net_rx_fn *rx;
    void *rx_opaque;
    unsigned receivers_set, receivers_cleared;
    bool destroyed;
    int send_result;            /* what send() answers */
    unsigned sent;
    uint8_t last[2048];
    size_t last_len;
};

static int fbe_send(void *be, const uint8_t *frame, size_t len)
{
    struct fake_be *f = be;

    if (f->send_result < 0)
        return f->send_result;
    f->sent++;
    f->last_len = len < sizeof(f->last) ? len : sizeof(f->last);
    memcpy(f->last, frame, f->last_len);
    return 0;
}

static void fbe_set_receiver(void *be, net_rx_fn *rx, void *opaque)
{
    struct fake_be *f = be;

    pthread_mutex_lock(&f->lock);
    f->rx = rx;
    f->rx_opaque = opaque;
    if (rx)
        f->receivers_set++;
    else
        f->receivers_cleared++;
    pthread_mutex_unlock(&f->lock);
}

static void fbe_destroy(void *be)
{
    struct fake_be *f = be;

    f->destroyed = true;
}

static const struct net_backend_ops fbe_ops = {
    .send = fbe_send,
    .set_receiver = fbe_set_receiver,
    .destroy = fbe_destroy,
};

/* The network delivers a frame to the device. */
static void inject(struct fake_be *f, const void *frame, size_t len)
{
    pthread_mutex_lock(&f->lock);
    assert_non_null(f->rx);
    f->rx(f->rx_opaque, frame, len);
    pthread_mutex_unlock(&f->lock);
}

/* ---------------------------------------------------------------- driver */

static void tdev_init_be(struct tdev *t, const struct net_backend_ops *ops,
                         void *be, const uint8_t *mac)
{
    struct virtio_backend vb;
    char err[256];

    assert_int_equal(virtio_net_new(ops, be, mac, &vb, err, sizeof(err)), 0);
    tdev_init(t, vb, IRQ_LINE);
}

static void net_tdev_init(struct tdev *t, struct fake_be *f)
{
    memset(f, 0, sizeof(*f));
    pthread_mutex_init(&f->lock, NULL);
    tdev_init_be(t, &fbe_ops, f, NULL);
}

/* Linux's virtio_net bring-up on a device offering MAC and STATUS. */
static void drv_up(struct tdev *t, unsigned num)
{
    assert_true(drv_negotiate(t, F(VIRTIO_F_VERSION_1) |
                                 F(VIRTIO_NET_F_MAC) |
                                 F(VIRTIO_NET_F_STATUS)) &
                VIRTIO_STATUS_FEATURES_OK);
    drv_queue(t, VIRTIO_NET_RXQ, num);
    drv_queue(t, VIRTIO_NET_TXQ, num);
    drv_ok(t);
    assert_int_equal(rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

/* One receive buffer of len bytes; returns its address. */
static uint64_t post_rx(struct tdev *t, uint32_t len)
{
    uint64_t a = alloc(t, len);
    struct seg s = { a, len, true };

    submit(t, VIRTIO_NET_RXQ, &s, 1);
    return a;
}

/* Transmit header + frame from one or two descriptors. */
static void send_frame(struct tdev *t, const void *frame, uint32_t len,
                       bool split)
{
    uint64_t a = alloc(t, HDR + len);

    memset(gp(t, a), 0, HDR);
    memcpy(gp(t, a + HDR), frame, len);
    if (split) {
        /* Header split across descriptors, as a hostile driver may. */
        struct seg s[3] = { { a, 5, false }, { a + 5, HDR - 5 + 3, false },
                            { a + HDR + 3, len - 3, false } };
        submit(t, VIRTIO_NET_TXQ, s, 3);
    } else {
        struct seg s = { a, HDR + len, false };
        submit(t, VIRTIO_NET_TXQ, &s, 1);
    }
    notify(t, VIRTIO_NET_TXQ);
}

static void fill_frame(uint8_t *p, size_t len, unsigned seed)
{
    size_t i;

    for (i = 0; i < len; i++)
        p[i] = (uint8_t)(seed * 31 + i * 7);
}

/* ---------------------------------------------------------------- device */

static void test_bringup_config(void **state)
{
    static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
    struct fake_be f;
    struct tdev t;
    uint64_t feat;
    unsigned i;

    (void)state;
    net_tdev_init(&t, &f);
    assert_int_equal(f.receivers_set, 1);
    assert_int_equal(rd(&t, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
    wr(&t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    feat = rd(&t, VIRTIO_MMIO_DEVICE_FEATURES);
    wr(&t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    feat |= (uint64_t)rd(&t, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
    /* MAC and STATUS; no checksum, GSO, mergeable buffers or control
     * queue (bits 0, 1, 6..14, 15, 17). */
    assert_int_equal(feat, F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS) |
                           F(VIRTIO_F_VERSION_1) | F(VIRTIO_F_INDIRECT_DESC));
    for (i = 0; i < 6; i++)
        assert_int_equal(virtio_mmio_ops.read(t.vm, VIRTIO_MMIO_CONFIG + i, 1),
                         virtio_net_default_mac[i]);
    assert_int_equal(virtio_mmio_ops.read(t.vm, VIRTIO_MMIO_CONFIG +
                                          VIRTIO_NET_CFG_STATUS, 2),
                     VIRTIO_NET_S_LINK_UP);
    assert_int_equal(rd(&t, VIRTIO_MMIO_CONFIG + 4), 0x5634 | (1u << 16));
    assert_int_equal(rd(&t, VIRTIO_MMIO_CONFIG + 8), 0);
    /* Read-only config. */
    virtio_mmio_ops.write(t.vm, VIRTIO_MMIO_CONFIG, 4, 0xffffffff);
    assert_int_equal(rd(&t, VIRTIO_MMIO_CONFIG), 0x12005452);
    for (i = 0; i < 3; i++) {
        wr(&t, VIRTIO_MMIO_QUEUE_SEL, i);
        assert_int_equal(rd(&t, VIRTIO_MMIO_QUEUE_NUM_MAX),
                         i < 2 ? VIRTIO_NET_QUEUE_MAX : 0);
    }
    drv_up(&t, 256);
    tdev_fini(&t);
    assert_true(f.destroyed);
    assert_int_equal(f.receivers_cleared, 1);

    /* A configured MAC. */
    memset(&f, 0, sizeof(f));
    pthread_mutex_init(&f.lock, NULL);
    tdev_init_be(&t, &fbe_ops, &f, mac);
    assert_int_equal(virtio_mmio_ops.read(t.vm, VIRTIO_MMIO_CONFIG, 8),
                     0x0001554433221102ull);
    tdev_fini(&t);
}

static void test_new_errors(void **state)
{
    static const uint8_t mcast[6] = { 0x01, 0, 0x5e, 0, 0, 1 };
    static const struct net_backend_ops no_send = {
        .set_receiver = fbe_set_receiver,
        .destroy = fbe_destroy,
    };
    struct virtio_backend vb;
    struct fake_be f = { .send_result = 0 };
    char err[256];

    (void)state;
    assert_int_equal(virtio_net_new(NULL, NULL, NULL, &vb, err, sizeof(err)),
                     -EINVAL);
    assert_int_equal(virtio_net_new(&no_send, &f, NULL, &vb, err, sizeof(err)),
                     -EINVAL);
    assert_true(f.destroyed);
    f.destroyed = false;
    assert_int_equal(virtio_net_new(&fbe_ops, &f, mcast, &vb, err, sizeof(err)),
                     -EINVAL);
    assert_non_null(strstr(err, "01:00:5e:00:00:01 is a multicast"));
    assert_true(f.destroyed);
}

static void test_tx(void **state)
{
    struct virtio_net_stats ns;
    struct virtio_stats vs;
    struct fake_be f;
    struct tdev t;
    uint8_t frame[1514];
    uint32_t id, len;

    (void)state;
    net_tdev_init(&t, &f);
    drv_up(&t, 16);
    fill_frame(frame, sizeof(frame), 1);
    send_frame(&t, frame, 60, false);
    take_used(&t, VIRTIO_NET_TXQ, &id, &len);
    assert_int_equal(len, 0);
    assert_int_equal(f.sent, 1);
    assert_int_equal(f.last_len, 60);
    assert_memory_equal(f.last, frame, 60);
    assert_int_equal(atomic_load(&t.irq.level), 1);

    fill_frame(frame, sizeof(frame), 2);
    send_frame(&t, frame, sizeof(frame), true);
    take_used(&t, VIRTIO_NET_TXQ, &id, &len);
    assert_int_equal(f.sent, 2);
    assert_int_equal(f.last_len, sizeof(frame));
    assert_memory_equal(f.last, frame, sizeof(frame));

    /* Header only: nothing to send, dropped but not malformed. */
    send_frame(&t, frame, 0, false);
    take_used(&t, VIRTIO_NET_TXQ, &id, &len);
    /* The back-end refusing a frame: returned, counted. */
    f.send_result = -ENOBUFS;
    send_frame(&t, frame, 100, false);
    take_used(&t, VIRTIO_NET_TXQ, &id, &len);
    assert_int_equal(f.sent, 2);
    assert_false(needs_reset(&t));

    virtio_net_stats(t.dev, &ns);
    assert_int_equal(ns.tx_frames, 2);
    assert_int_equal(ns.tx_bytes, 60 + 1514);
    assert_int_equal(ns.tx_dropped, 2);
    virtio_mmio_stats(t.vm, &vs);
    assert_int_equal(vs.requests, 4);
    assert_int_equal(vs.bytes_out, 4 * HDR + 60 + 1514 + 100);
    assert_int_equal(vs.errors, 2);
    tdev_fini(&t);
}

static void check_rx_hdr(const uint8_t *h)
{
    static const uint8_t want[HDR] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0 };

    assert_memory_equal(h, want, HDR);
}

static void test_rx(void **state)
{
    struct virtio_net_stats ns;
    struct fake_be f;
    struct tdev t;
    uint8_t frame[1514];
    uint64_t a, b1, b2;
    uint32_t id, len;

    (void)state;
    net_tdev_init(&t, &f);
    drv_up(&t, 16);
    a = post_rx(&t, RXBUF);
    b1 = alloc(&t, 8);
    b2 = alloc(&t, 1600);
    struct seg s[2] = { { b1, 8, true }, { b2, 1600, true } };
    submit(&t, VIRTIO_NET_RXQ, s, 2);
    notify(&t, VIRTIO_NET_RXQ);
    assert_int_equal(used_idx(&t, VIRTIO_NET_RXQ), 0);

    fill_frame(frame, sizeof(frame), 3);
    inject(&f, frame, 60);
    take_used(&t, VIRTIO_NET_RXQ, &id, &len);
    assert_int_equal(id, 0);
    assert_int_equal(len, HDR + 60);
    check_rx_hdr(gp(&t, a));
    assert_memory_equal(gp(&t, a + HDR), frame, 60);
    assert_int_equal(rd(&t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
    assert_int_equal(atomic_load(&t.irq.level), 1);

    /* The header split over two buffers. */
    fill_frame(frame, sizeof(frame), 4);
    inject(&f, frame, sizeof(frame));
    take_used(&t, VIRTIO_NET_RXQ, &id, &len);
    assert_int_equal(id, 1);
    assert_int_equal(len, HDR + sizeof(frame));
    uint8_t h[HDR];
    memcpy(h, gp(&t, b1), 8);
    memcpy(h + 8, gp(&t, b2), 4);
    check_rx_hdr(h);
    assert_memory_equal(gp(&t, b2 + 4), frame, sizeof(frame));

    virtio_net_stats(t.dev, &ns);
    assert_int_equal(ns.rx_frames, 2);
    assert_int_equal(ns.rx_bytes, 60 + 1514);
    assert_int_equal(ns.rx_dropped, 0);
    tdev_fini(&t);
}

static void test_rx_backlog(void **state)
{
    struct virtio_net_stats ns;
    struct fake_be f;
    struct tdev t;
    uint8_t frame[100];
    uint64_t a[3];
    uint32_t id, len;
    unsigned i;

    (void)state;
    net_tdev_init(&t, &f);
    drv_up(&t, 16);
    /* No buffers yet: frames wait in the device. */
    for (i = 0; i < 3; i++) {
        fill_frame(frame, sizeof(frame), 10 + i);
        inject(&f, frame, 60 + i);
    }
    assert_int_equal(used_idx(&t, VIRTIO_NET_RXQ), 0);
    a[0] = post_rx(&t, RXBUF);
    a[1] = post_rx(&t, RXBUF);
    notify(&t, VIRTIO_NET_RXQ);
    for (i = 0; i < 2; i++) {
        take_used(&t, VIRTIO_NET_RXQ, &id, &len);
        assert_int_equal(len, HDR + 60 + i);
        fill_frame(frame, sizeof(frame), 10 + i);
        assert_memory_equal(gp(&t, a[i] + HDR), frame, 60 + i);
    }
    assert_int_equal(used_idx(&t, VIRTIO_NET_RXQ), 2);
    a[2] = post_rx(&t, RXBUF);
    notify(&t, VIRTIO_NET_RXQ);
    take_used(&t, VIRTIO_NET_RXQ, &id, &len);
    assert_int_equal(len, HDR + 62);
    fill_frame(frame, sizeof(frame), 12);
    assert_memory_equal(gp(&t, a[2] + HDR), frame, 62);

    /* Beyond the backlog, frames are dropped and counted. */
    for (i = 0; i < VIRTIO_NET_BACKLOG + 5; i++) {
        fill_frame(frame, sizeof(frame), 100 + i);
        inject(&f, frame, sizeof(frame));
    }
    virtio_net_stats(t.dev, &ns);
    assert_int_equal(ns.rx_dropped, 5);
    a[0] = post_rx(&t, RXBUF);
    notify(&t, VIRTIO_NET_RXQ);
    take_used(&t, VIRTIO_NET_RXQ, &id, &len);
    fill_frame(frame, sizeof(frame), 100);
    assert_memory_equal(gp(&t, a[0] + HDR), frame, sizeof(frame));

    /* A reset forgets what was waiting. */
    wr(&t, VIRTIO_MMIO_STATUS, 0);
    virtio_net_stats(t.dev, &ns);
    assert_int_equal(ns.rx_dropped, 5 + VIRTIO_NET_BACKLOG - 1);
    memset(t.q, 0, sizeof(t.q));
    memset(gp(&t, RAM_BASE), 0, 2 * QUEUE_AREA);
    drv_up(&t, 16);
    post_rx(&t, RXBUF);
    notify(&t, VIRTIO_NET_RXQ);
    assert_int_equal(used_idx(&t, VIRTIO_NET_RXQ), 0);
    tdev_fini(&t);
}

static void test_rx_driver_down(void **state)
{
    struct virtio_net_stats ns;
    struct fake_be f;
    struct tdev t;
    uint8_t frame[60] = { 0 };

    (void)state;
    net_tdev_init(&t, &f);
    inject(&f, frame, sizeof(frame));       /* nobody listening */
    assert_true(drv_negotiate(&t, F(VIRTIO_F_VERSION_1)) &
                VIRTIO_STATUS_FEATURES_OK);
    drv_queue(&t, VIRTIO_NET_RXQ, 16);
    drv_queue(&t, VIRTIO_NET_TXQ, 16);
    post_rx(&t, RXBUF);
    inject(&f, frame, sizeof(frame));       /* not DRIVER_OK yet */
    drv_ok(&t);
    assert_int_equal(used_idx(&t, VIRTIO_NET_RXQ), 0);
    virtio_net_stats(t.dev, &ns);
    assert_int_equal(ns.rx_dropped, 2);
    /* Zero-length and oversized frames never reach the guest. */
    inject(&f, frame, 0);
    assert_int_equal(used_idx(&t, VIRTIO_NET_RXQ), 0);
    inject(&f, frame, sizeof(frame));
    assert_int_equal(used_idx(&t, VIRTIO_NET_RXQ), 1);
    tdev_fini(&t);
}

static void test_rx_too_small(void **state)
{
    struct virtio_net_stats ns;
    struct fake_be f;
    struct tdev t;
    uint8_t frame[60];
    uint64_t a;
    uint32_t id, len;

    (void)state;
    net_tdev_init(&t, &f);
    drv_up(&t, 16);
    post_rx(&t, HDR + 10);
    fill_frame(frame, sizeof(frame), 5);
    inject(&f, frame, sizeof(frame));
    take_used(&t, VIRTIO_NET_RXQ, &id, &len);
    assert_int_equal(len, 0);
    assert_false(needs_reset(&t));
    /* The next frame goes to the next (big enough) buffer. */
    a = post_rx(&t, RXBUF);
    inject(&f, frame, sizeof(frame));
    take_used(&t, VIRTIO_NET_RXQ, &id, &len);
    assert_int_equal(len, HDR + sizeof(frame));
    assert_memory_equal(gp(&t, a + HDR), frame, sizeof(frame));
    /* An exact fit. */
    a = post_rx(&t, HDR + sizeof(frame));
    inject(&f, frame, sizeof(frame));
    take_used(&t, VIRTIO_NET_RXQ, &id, &len);
    assert_int_equal(len, HDR + sizeof(frame));
    virtio_net_stats(t.dev, &ns);
    assert_int_equal(ns.rx_dropped, 1);
    assert_int_equal(ns.rx_frames, 2);
    tdev_fini(&t);
}

static void test_malformed(void **state)
{
    struct fake_be f;
    struct tdev t;
    uint8_t frame[60] = { 0 };
    char why[200];
    uint64_t a;

    (void)state;
    /* A receive buffer that cannot hold the header. */
    net_tdev_init(&t, &f);
    drv_up(&t, 16);
    post_rx(&t, HDR - 1);
    inject(&f, frame, sizeof(frame));
    assert_true(needs_reset(&t));
    assert_int_equal(virtio_mmio_error(t.vm, why, sizeof(why)), 1);
    assert_non_null(strstr(why, "virtio-net: queue 0: receive buffer shorter"));
    assert_int_equal(rd(&t, VIRTIO_MMIO_INTERRUPT_STATUS) &
                     VIRTIO_MMIO_INT_CONFIG, VIRTIO_MMIO_INT_CONFIG);
    inject(&f, frame, sizeof(frame));       /* dead queue: just dropped */
    tdev_fini(&t);

    /* A transmit request shorter than the header. */
    net_tdev_init(&t, &f);
    drv_up(&t, 16);
    a = alloc(&t, 16);
    struct seg s = { a, HDR - 6, false };
    submit(&t, VIRTIO_NET_TXQ, &s, 1);
    notify(&t, VIRTIO_NET_TXQ);
    assert_true(needs_reset(&t));
    assert_int_equal(f.sent, 0);
    assert_int_equal(virtio_mmio_error(t.vm, why, sizeof(why)), 1);
    assert_non_null(strstr(why, "queue 1: transmit request shorter"));
    tdev_fini(&t);

    /* A transmit chain of device-writable buffers only. */
    net_tdev_init(&t, &f);
    drv_up(&t, 16);
    s = (struct seg){ alloc(&t, 64), 64, true };
    submit(&t, VIRTIO_NET_TXQ, &s, 1);
    notify(&t, VIRTIO_NET_TXQ);
    assert_true(needs_reset(&t));
    /* Reset and the device works again. */
    memset(t.q, 0, sizeof(t.q));
    memset(gp(&t, RAM_BASE), 0, 2 * QUEUE_AREA);
    drv_up(&t, 16);
    assert_false(needs_reset(&t));
    send_frame(&t, frame, sizeof(frame), false);
    assert_int_equal(f.sent, 1);

    /* A descriptor pointing outside RAM (the virtqueue layer's check). */
    s = (struct seg){ RAM_BASE + RAM_SIZE - 8, 64, true };
    submit(&t, VIRTIO_NET_RXQ, &s, 1);
    inject(&f, frame, sizeof(frame));
    assert_true(needs_reset(&t));
    tdev_fini(&t);
}

/* ---------------------------------------------------------------- threads */

#define CONC_FRAMES 20000
#define CONC_NUM    16

struct conc {
    struct fake_be *f;
    atomic_bool done;
};

static void *injector(void *arg)
{
    struct conc *c = arg;
    uint8_t frame[1514];
    uint32_t i;

    for (i = 0; i < CONC_FRAMES; i++) {
        size_t len = 60 + i % (sizeof(frame) - 60);

        memset(frame, (int)(i & 0xff), len);
        memcpy(frame, &i, 4);
        inject(c->f, frame, len);
        if (i % 4 == 0)
            sched_yield();      /* give the driver a chance, sometimes */
    }
    atomic_store(&c->done, true);
    return NULL;
}

/* Frames arrive on another thread while the driver recycles buffers:
 * nothing is lost without being counted, order is kept. */
static void test_rx_concurrent(void **state)
{
    struct virtio_net_stats ns;
    struct fake_be f;
    struct tdev t;
    struct conc c;
    pthread_t th;
    uint64_t bufs[CONC_NUM];
    unsigned i, got = 0;
    int64_t last = -1;

    (void)state;
    net_tdev_init(&t, &f);
    drv_up(&t, CONC_NUM);
    for (i = 0; i < CONC_NUM; i++) {
        bufs[i] = alloc(&t, RXBUF);
        struct seg s = { bufs[i], RXBUF, true };
        assert_int_equal(submit(&t, VIRTIO_NET_RXQ, &s, 1), i);
    }
    notify(&t, VIRTIO_NET_RXQ);
    c.f = &f;
    atomic_init(&c.done, false);
    assert_int_equal(pthread_create(&th, NULL, injector, &c), 0);
    for (;;) {
        bool done = atomic_load(&c.done);
        bool any = false;
        uint32_t id, len, seq;

        while (used_idx(&t, VIRTIO_NET_RXQ) != t.q[0].used_seen) {
            take_used(&t, VIRTIO_NET_RXQ, &id, &len);
            assert_true(id < CONC_NUM);
            assert_true(len >= HDR + 60);
            memcpy(&seq, gp(&t, bufs[id] + HDR), 4);
            assert_true((int64_t)seq > last);
            assert_int_equal(len, HDR + 60 + seq % (1514 - 60));
            last = seq;
            got++;
            any = true;
            struct seg s = { bufs[id], RXBUF, true };
            assert_int_equal(submit(&t, VIRTIO_NET_RXQ, &s, 1), id);
            if (got % 4 == 0)
                notify(&t, VIRTIO_NET_RXQ);
        }
        if (done) {
            /* Drain what still waits in the backlog. */
            notify(&t, VIRTIO_NET_RXQ);
            if (!any && used_idx(&t, VIRTIO_NET_RXQ) == t.q[0].used_seen)
                break;
        }
        sched_yield();
    }
    pthread_join(th, NULL);
    virtio_net_stats(t.dev, &ns);
    assert_int_equal(ns.rx_frames, got);
    assert_int_equal(ns.rx_frames + ns.rx_dropped, CONC_FRAMES);
    print_message("concurrent rx: %llu delivered, %llu dropped\n",
                  (unsigned long long)ns.rx_frames,
                  (unsigned long long)ns.rx_dropped);
    tdev_fini(&t);
}

/* ---------------------------------------------------------------- fuzz */

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static uint32_t fuzz_len(uint64_t r)
{
    switch (r % 8) {
    case 0:
        return (uint32_t)(r >> 8) % HDR;           /* too short */
    case 1:
        return (uint32_t)(r >> 8);                 /* anything */
    case 2:
        return 0;
    default:
        return (uint32_t)(r >> 8) % 2048;
    }
}

/* A plausible chain for queue qi: mostly writable buffers for receive,
 * readable ones for transmit, sometimes the wrong kind or order. */
static void fuzz_chain(struct tdev *t, uint64_t *seed, unsigned qi)
{
    struct seg s[4];
    unsigned n = 1 + rnd(seed) % 4, i;

    for (i = 0; i < n; i++) {
        uint64_t r = rnd(seed);
        bool w = qi == VIRTIO_NET_RXQ;

        if ((r >> 40) % 32 == 0)
            w = !w;
        s[i] = (struct seg){ DATA_BASE + (r >> 44) % 0x80000, fuzz_len(r), w };
        if (s[i].len == 0 && (r >> 50) % 2)
            s[i].len = HDR + 60;
        if (s[i].addr + s[i].len > RAM_BASE + RAM_SIZE && (r >> 52) % 4)
            s[i].len = (uint32_t)(RAM_BASE + RAM_SIZE - s[i].addr);
    }
    if (t->q[qi].num)
        submit(t, qi, s, n);
}

static void test_fuzz(void **state)
{
    static const unsigned sizes[] = { 1, 2, 4, 8 };
    static uint8_t frame[VIRTIO_NET_MAX_FRAME + 16];
    struct virtio_net_stats ns;
    struct virtio_stats st;
    struct fake_be f;
    struct tdev t;
    uint64_t seed = 0x5eed1234abcdull;
    unsigned i, q;

    (void)state;
    net_tdev_init(&t, &f);
    for (i = 0; i < RAM_SIZE; i += 8) {
        uint64_t v = rnd(&seed);

        memcpy(t.ram.mem + i, &v, 8);
    }
    for (i = 0; i < sizeof(frame); i++)
        frame[i] = (uint8_t)rnd(&seed);
    for (i = 0; i < 50000; i++) {
        uint64_t r = rnd(&seed), v = rnd(&seed);
        uint64_t off = (r >> 8) % 0x110;
        unsigned size = sizes[(r >> 20) & 3], k = r & 0xff;

        if (k < 3) {                /* a proper bring-up now and then */
            memset(t.q, 0, sizeof(t.q));
            memset(t.ram.mem, 0, 2 * QUEUE_AREA);
            drv_negotiate(&t, v | F(VIRTIO_F_VERSION_1));
            for (q = 0; q < 2; q++) {
                if ((v >> 50) % 8)
                    drv_queue(&t, q, 1u << ((v >> 40) % 9));
                else
                    drv_queue_regs(&t, q, 1u << ((v >> 40) % 9),
                                 RAM_BASE + (v & 0xff000),
                                 RAM_BASE + ((v >> 8) & 0xffffe),
                                 RAM_BASE + ((v >> 20) & 0xffffc));
            }
            drv_ok(&t);
        } else if (k < 60) {        /* chains and notifies */
            q = (unsigned)(v & 1);
            if (k < 45)
                fuzz_chain(&t, &seed, q);
            else
                t.ram.mem[(v >> 8) % RAM_SIZE] = (uint8_t)(v >> 32);
            notify(&t, q);
        } else if (k < 110) {       /* the network talks */
            size_t len = (v >> 8) % 1600;

            if ((v >> 30) % 64 == 0)
                len = (v >> 8) % sizeof(frame);
            inject(&f, frame + (v >> 40) % 16, len);
        } else if (k < 114) {
            wr(&t, VIRTIO_MMIO_STATUS, (uint32_t)v);
        } else if ((r >> 30) & 1) {
            if (off >= VIRTIO_MMIO_QUEUE_DESC_LOW && off < 0x100 && !(off & 4))
                v = RAM_BASE + (v % RAM_SIZE);
            virtio_mmio_ops.write(t.vm, off, size, v);
        } else {
            virtio_mmio_ops.read(t.vm, off, size);
        }
    }
    virtio_mmio_stats(t.vm, &st);
    virtio_net_stats(t.dev, &ns);
    print_message("fuzz: 50000 iterations, %llu notifies, %llu requests, "
                  "%llu errors; tx %llu sent %llu dropped; rx %llu "
                  "delivered %llu dropped\n",
                  (unsigned long long)st.notifications,
                  (unsigned long long)st.requests,
                  (unsigned long long)st.errors,
                  (unsigned long long)ns.tx_frames,
                  (unsigned long long)ns.tx_dropped,
                  (unsigned long long)ns.rx_frames,
                  (unsigned long long)ns.rx_dropped);
    assert_true(st.requests > 0 && st.errors > 0);
    assert_true(ns.tx_frames > 0 && ns.rx_frames > 0);
    tdev_fini(&t);
}

/* ---------------------------------------------------------------- slirp */

/* A port that was free a moment ago on 127.0.0.1. */
static int free_port(int type)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t sl = sizeof(sa);
    int s = socket(AF_INET, type | SOCK_CLOEXEC, 0);

    assert_true(s >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
    close(s);
    return ntohs(sa.sin_port);
}

/* A socket bound (and for TCP listening) on 127.0.0.1; port 0 for any. */
static int bound_socket(int type, int port, int *got)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t sl = sizeof(sa);
    int s = socket(AF_INET, type | SOCK_CLOEXEC, 0);

    assert_true(s >= 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    if (type == SOCK_STREAM)
        assert_int_equal(listen(s, 4), 0);
    assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &sl), 0);
    if (got)
        *got = ntohs(sa.sin_port);
    return s;
}

static void test_slirp_options(void **state)
{
    static const struct {
        const char *opts, *msg;
    } bad[] = {
        { "user,hostfwd=tcp:x-:80",
          "--net 'user,hostfwd=tcp:x-:80': bad host port 'x'" },
        { "hostfwd=tcp::8080",
          "--net 'user,hostfwd=tcp::8080': bad hostfwd 'tcp::8080': expected "
          "[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport" },
        { "hostfwd=8080-:80",
          "--net 'user,hostfwd=8080-:80': bad hostfwd '8080-:80': expected "
          "[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport" },
        { "hostfwd=sctp::1-:2",
          "--net 'user,hostfwd=sctp::1-:2': bad protocol 'sctp' (tcp or udp)" },
        { "hostfwd=tcp:1.2.3:80-:80",
          "--net 'user,hostfwd=tcp:1.2.3:80-:80': bad host address '1.2.3'" },
        { "hostfwd=tcp::0-:80",
          "--net 'user,hostfwd=tcp::0-:80': bad host port '0'" },
        { "hostfwd=tcp::65536-:80",
          "--net 'user,hostfwd=tcp::65536-:80': bad host port '65536'" },
        { "hostfwd=tcp::80-:",
          "--net 'user,hostfwd=tcp::80-:': bad guest port ''" },
        { "hostfwd=udp::80-:99999",
          "--net 'user,hostfwd=udp::80-:99999': bad guest port '99999'" },
        { "hostfwd=tcp::80-10.0.2.x:80",
          "--net 'user,hostfwd=tcp::80-10.0.2.x:80': bad guest address "
          "'10.0.2.x'" },
        { "hostfwd=tcp::80-192.168.1.5:80",
          "--net 'user,hostfwd=tcp::80-192.168.1.5:80': guest address "
          "'192.168.1.5' is not in 10.0.2.0/24" },
        { "user,restrict=on",
          "--net 'user,restrict=on': unknown option 'restrict=on' (supported: "
          "hostfwd=[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport)" },
    };
    struct net_slirp *ns = (void *)1;
    char err[512];
    unsigned i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(net_slirp_new(bad[i].opts, &ns, err, sizeof(err)),
                         -EINVAL);
        assert_null(ns);
        assert_string_equal(err, bad[i].msg);
    }
    /* Plain user networking, with and without the prefix. */
    assert_int_equal(net_slirp_new("user", &ns, err, sizeof(err)), 0);
    net_slirp_free(ns);
    assert_int_equal(net_slirp_new("", &ns, err, sizeof(err)), 0);
    net_slirp_free(ns);
    assert_int_equal(net_slirp_new(NULL, &ns, err, sizeof(err)), 0);
    net_slirp_free(ns);
    net_slirp_free(NULL);
}

static void test_slirp_hostfwd(void **state)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    struct net_slirp *ns;
    char opts[200], err[256];
    int tp = free_port(SOCK_STREAM), up = free_port(SOCK_DGRAM), tp2, s;

    (void)state;
    tp2 = free_port(SOCK_STREAM);
    snprintf(opts, sizeof(opts),
             "user,hostfwd=tcp::%d-:80,hostfwd=udp:127.0.0.1:%d-10.0.2.15:53,"
             "hostfwd=:127.0.0.1:%d-:22", tp, up, tp2);
    assert_int_equal(net_slirp_new(opts, &ns, err, sizeof(err)), 0);
    /* Something listens there now (slirp accepts and would then SYN the
     * guest; the kernel completes our connect on its own). */
    s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)tp);
    assert_int_equal(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
    close(s);
    net_slirp_free(ns);
    /* ...and the port is released. */
    close(bound_socket(SOCK_STREAM, tp, NULL));
    close(bound_socket(SOCK_DGRAM, up, NULL));
}

static void test_slirp_port_in_use(void **state)
{
    struct net_slirp *ns;
    char opts[200], err[256], want[200];
    int port, l;

    (void)state;
    l = bound_socket(SOCK_STREAM, 0, &port);
    snprintf(opts, sizeof(opts), "user,hostfwd=tcp::%d-:80", port);
    assert_int_equal(net_slirp_new(opts, &ns, err, sizeof(err)), -EADDRINUSE);
    assert_null(ns);
    snprintf(want, sizeof(want), "hostfwd tcp:127.0.0.1:%d: address in use",
             port);
    assert_string_equal(err, want);
    close(l);

    l = bound_socket(SOCK_DGRAM, 0, &port);
    snprintf(opts, sizeof(opts), "hostfwd=udp::%d-:53", port);
    assert_int_equal(net_slirp_new(opts, &ns, err, sizeof(err)), -EADDRINUSE);
    snprintf(want, sizeof(want), "hostfwd udp:127.0.0.1:%d: address in use",
             port);
    assert_string_equal(err, want);
    close(l);

    /* The same port twice in one command line. */
    port = free_port(SOCK_STREAM);
    snprintf(opts, sizeof(opts), "hostfwd=tcp::%d-:80,hostfwd=tcp::%d-:81",
             port, port);
    assert_int_equal(net_slirp_new(opts, &ns, err, sizeof(err)), -EADDRINUSE);
    snprintf(want, sizeof(want), "hostfwd tcp:127.0.0.1:%d: address in use",
             port);
    assert_string_equal(err, want);
}

/* ---- a minimal guest network stack for the end-to-end test ---- */

static const uint8_t guest_ip[4] = { 10, 0, 2, 15 };
static const uint8_t host_ip[4] = { 10, 0, 2, 2 };

static void be16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static unsigned rd16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static uint16_t inet_csum(const uint8_t *p, size_t len, uint32_t sum)
{
    for (; len > 1; p += 2, len -= 2)
        sum += rd16(p);
    if (len)
        sum += (uint32_t)p[0] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Ethernet + IPv4 header for payload bytes; returns the payload offset. */
static size_t ip_frame(uint8_t *f, const uint8_t *dst_mac,
                       const uint8_t *src_ip, const uint8_t *dst_ip,
                       uint8_t proto, size_t payload)
{
    memcpy(f, dst_mac, 6);
    memcpy(f + 6, virtio_net_default_mac, 6);
    be16(f + 12, 0x0800);
    memset(f + 14, 0, 20);
    f[14] = 0x45;
    be16(f + 16, (unsigned)(20 + payload));
    f[22] = 64;
    f[23] = proto;
    memcpy(f + 26, src_ip, 4);
    memcpy(f + 30, dst_ip, 4);
    be16(f + 24, inet_csum(f + 14, 20, 0));
    return 34;
}

#define XID 0x47424f58u         /* "GBOX" */

static size_t dhcp_discover(uint8_t *f)
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    static const uint8_t zero[4], all[4] = { 255, 255, 255, 255 };
    const size_t bootp_len = 548;  /* 236 fixed + 312 options: RFC minimum */
    size_t u = ip_frame(f, bcast, zero, all, 17, 8 + bootp_len);
    uint8_t *b = f + u + 8;

    be16(f + u, 68);
    be16(f + u + 2, 67);
    be16(f + u + 4, (unsigned)(8 + bootp_len));
    be16(f + u + 6, 0);                 /* no UDP checksum */
    memset(b, 0, bootp_len);
    b[0] = 1;                           /* BOOTREQUEST */
    b[1] = 1;                           /* Ethernet */
    b[2] = 6;
    b[4] = XID >> 24, b[5] = XID >> 16 & 0xff, b[6] = XID >> 8 & 0xff,
    b[7] = XID & 0xff;
    b[10] = 0x80;                       /* broadcast reply */
    memcpy(b + 28, virtio_net_default_mac, 6);
    memcpy(b + 236, "\x63\x82\x53\x63", 4);
    memcpy(b + 240, "\x35\x01\x01\xff", 4);     /* DISCOVER, end */
    return u + 8 + bootp_len;
}

static bool is_dhcp_offer(const uint8_t *f, size_t len)
{
    const uint8_t *b = f + 42;
    size_t i;

    if (len < 42 + 240 || rd16(f + 12) != 0x0800 || f[23] != 17 ||
        rd16(f + 34) != 67 || rd16(f + 36) != 68)
        return false;
    if (b[0] != 2 || rd16(b + 4) != XID >> 16 || rd16(b + 6) != (XID & 0xffff))
        return false;
    assert_memory_equal(b + 16, guest_ip, 4);           /* yiaddr */
    assert_memory_equal(b + 28, virtio_net_default_mac, 6);
    for (i = 240; 42 + i + 2 < len && b[i] != 0xff; i += 2 + b[i + 1]) {
        if (b[i] == 0)
            i -= 1;                     /* pad: one byte */
        else if (b[i] == 53)
            return b[i + 2] == 2;       /* DHCPOFFER */
    }
    return false;
}

static size_t arp_frame(uint8_t *f, unsigned op, const uint8_t *dst_mac,
                        const uint8_t *tha, const uint8_t *tpa)
{
    memcpy(f, dst_mac, 6);
    memcpy(f + 6, virtio_net_default_mac, 6);
    be16(f + 12, 0x0806);
    be16(f + 14, 1);
    be16(f + 16, 0x0800);
    f[18] = 6;
    f[19] = 4;
    be16(f + 20, op);
    memcpy(f + 22, virtio_net_default_mac, 6);
    memcpy(f + 28, guest_ip, 4);
    memcpy(f + 32, tha, 6);
    memcpy(f + 38, tpa, 4);
    memset(f + 42, 0, 18);
    return 60;
}

static size_t tcp_syn(uint8_t *f, const uint8_t *dst_mac, unsigned sport,
                      unsigned dport)
{
    size_t t = ip_frame(f, dst_mac, guest_ip, host_ip, 6, 20);
    uint8_t pseudo[12];
    uint32_t sum = 0;
    unsigned i;

    memset(f + t, 0, 20);
    be16(f + t, sport);
    be16(f + t + 2, dport);
    f[t + 4] = 0x12;                    /* seq 0x12345678 */
    f[t + 5] = 0x34;
    f[t + 6] = 0x56;
    f[t + 7] = 0x78;
    f[t + 12] = 5 << 4;
    f[t + 13] = 0x02;                   /* SYN */
    be16(f + t + 14, 65535);
    memcpy(pseudo, guest_ip, 4);
    memcpy(pseudo + 4, host_ip, 4);
    pseudo[8] = 0;
    pseudo[9] = 6;
    be16(pseudo + 10, 20);
    for (i = 0; i < 12; i += 2)
        sum += rd16(pseudo + i);
    be16(f + t + 16, inet_csum(f + t, 20, sum));
    return t + 20;
}

struct guest {
    struct tdev t;
    uint64_t bufs[64];          /* receive buffer by descriptor head */
    uint8_t gw_mac[6];
    unsigned frames;
};

static void guest_post(struct guest *g, uint64_t addr)
{
    struct seg s = { addr, RXBUF, true };
    uint16_t head = submit(&g->t, VIRTIO_NET_RXQ, &s, 1);

    g->bufs[head] = addr;
    notify(&g->t, VIRTIO_NET_RXQ);
}

typedef bool frame_pred(struct guest *g, const uint8_t *f, size_t len);

/* Receive frames for up to 5 s until pred accepts one, answering slirp's
 * ARP questions about the guest on the way. */
static bool guest_wait(struct guest *g, frame_pred *pred)
{
    struct timespec start, now;
    uint8_t reply[60];

    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        while (used_idx(&g->t, VIRTIO_NET_RXQ) != g->t.q[0].used_seen) {
            uint32_t id, len;
            const uint8_t *f;
            bool hit;

            take_used(&g->t, VIRTIO_NET_RXQ, &id, &len);
            assert_true(id < 64 && len > HDR);
            f = gp(&g->t, g->bufs[id] + HDR);
            len -= HDR;
            g->frames++;
            if (len >= 42 && rd16(f + 12) == 0x0806 && rd16(f + 20) == 1 &&
                !memcmp(f + 38, guest_ip, 4)) {
                send_frame(&g->t, reply,
                           (uint32_t)arp_frame(reply, 2, f + 6, f + 22, f + 28),
                           false);
            }
            hit = pred(g, f, len);
            guest_post(g, g->bufs[id]);
            if (hit)
                return true;
        }
        usleep(1000);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec - start.tv_sec < 5);
    return false;
}

static bool pred_offer(struct guest *g, const uint8_t *f, size_t len)
{
    (void)g;
    return is_dhcp_offer(f, len);
}

static bool pred_arp_reply(struct guest *g, const uint8_t *f, size_t len)
{
    if (len < 42 || rd16(f + 12) != 0x0806 || rd16(f + 20) != 2 ||
        memcmp(f + 28, host_ip, 4))
        return false;
    memcpy(g->gw_mac, f + 22, 6);
    return true;
}

static unsigned syn_port;

static bool pred_syn(struct guest *g, const uint8_t *f, size_t len)
{
    (void)g;
    return len >= 54 && rd16(f + 12) == 0x0800 && f[23] == 6 &&
           !memcmp(f + 30, guest_ip, 4) && rd16(f + 36) == syn_port &&
           (f[47] & 0x02);
}

static bool accept_within(int l, int ms)
{
    struct pollfd p = { .fd = l, .events = POLLIN };
    int c;

    if (poll(&p, 1, ms) != 1)
        return false;
    c = accept(l, NULL, NULL);
    if (c < 0)
        return false;
    close(c);
    return true;
}

/* The whole path without a kernel: the test plays a guest driver on the
 * virtio-net device backed by slirp, gets a DHCP offer, resolves the
 * gateway, opens a TCP connection to a listener on the host's loopback
 * (through 10.0.2.2) and receives the SYN of a hostfwd connection. */
static void test_slirp_end_to_end(void **state)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    struct net_slirp_stats ss;
    struct virtio_net_stats ns;
    struct net_slirp *slirp;
    struct guest *g = calloc(1, sizeof(*g));
    char opts[100], err[256];
    uint8_t f[1514];
    unsigned i;
    int fwd_port = free_port(SOCK_STREAM), l, lport, c;

    (void)state;
    assert_non_null(g);
    syn_port = 8080;
    snprintf(opts, sizeof(opts), "user,hostfwd=tcp::%d-:%u", fwd_port,
             syn_port);
    assert_int_equal(net_slirp_new(opts, &slirp, err, sizeof(err)), 0);
    tdev_init_be(&g->t, &net_slirp_ops, slirp, NULL);
    drv_up(&g->t, 64);
    for (i = 0; i < 16; i++)
        guest_post(g, alloc(&g->t, RXBUF));

    send_frame(&g->t, f, (uint32_t)dhcp_discover(f), false);
    assert_true(guest_wait(g, pred_offer));

    arp_frame(f, 1, (const uint8_t *)"\xff\xff\xff\xff\xff\xff",
              (const uint8_t *)"\0\0\0\0\0\0", host_ip);
    send_frame(&g->t, f, 60, false);
    assert_true(guest_wait(g, pred_arp_reply));
    assert_memory_equal(g->gw_mac, "\x52\x55\x0a\x00\x02\x02", 6);

    /* Guest to host: slirp turns the SYN into a connect() to 127.0.0.1. */
    l = bound_socket(SOCK_STREAM, 0, &lport);
    send_frame(&g->t, f, (uint32_t)tcp_syn(f, g->gw_mac, 40000,
                                           (unsigned)lport), false);
    assert_true(accept_within(l, 5000));
    close(l);

    /* Host to guest through the forward: a SYN for 10.0.2.15:8080. */
    c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)fwd_port);
    assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_true(guest_wait(g, pred_syn));
    close(c);

    virtio_net_stats(g->t.dev, &ns);
    net_slirp_stats(slirp, &ss);
    print_message("end-to-end: %u frames to the guest; tx %llu, rx %llu, "
                  "rx dropped %llu\n", g->frames,
                  (unsigned long long)ns.tx_frames,
                  (unsigned long long)ns.rx_frames,
                  (unsigned long long)ns.rx_dropped);
    assert_true(ss.to_slirp >= 3);
    assert_true(ss.to_guest >= 3);
    assert_int_equal(ss.queue_dropped, 0);
    tdev_fini(&g->t);                   /* frees slirp too */
    free(g);
}

/* The guest floods the transmit queue faster than slirp drains it: the
 * bounded queue drops instead of growing or blocking the vCPU. */
static void test_slirp_tx_flood(void **state)
{
    struct net_slirp_stats ss;
    struct net_slirp *ns;
    uint8_t frame[1514];
    char err[256];
    unsigned i, refused = 0;

    (void)state;
    assert_int_equal(net_slirp_new("user", &ns, err, sizeof(err)), 0);
    memset(frame, 0xab, sizeof(frame));
    for (i = 0; i < 20000; i++)
        refused += net_slirp_ops.send(ns, frame, sizeof(frame)) < 0;
    assert_int_equal(net_slirp_ops.send(ns, frame, 0), -EMSGSIZE);
    net_slirp_stats(ns, &ss);
    assert_int_equal(ss.queue_dropped, refused);
    net_slirp_free(ns);                 /* with frames still queued */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bringup_config),
        cmocka_unit_test(test_new_errors),
        cmocka_unit_test(test_tx),
        cmocka_unit_test(test_rx),
        cmocka_unit_test(test_rx_backlog),
        cmocka_unit_test(test_rx_driver_down),
        cmocka_unit_test(test_rx_too_small),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_rx_concurrent),
        cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_slirp_options),
        cmocka_unit_test(test_slirp_hostfwd),
        cmocka_unit_test(test_slirp_port_in_use),
        cmocka_unit_test(test_slirp_end_to_end),
        cmocka_unit_test(test_slirp_tx_flood),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
