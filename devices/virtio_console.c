/* virtio-console back-end. See virtio_console.h for the contract. */
#define _GNU_SOURCE             /* pipe2 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtio_console.h"

#define RXQ         0
#define TXQ         1
#define RX_RING     4096        /* a paste's worth; power of two */
#define CFG_BYTES   12

struct virtio_console {
    int in_fd, out_fd;
    uint8_t config[CFG_BYTES];
    struct virtio_mmio *vm;     /* set by attach */

    /* Input, under the transport lock. */
    pthread_cond_t space;       /* the reader waits here while rx is full */
    uint8_t rx[RX_RING];
    unsigned rx_head, rx_count;
    bool stop;

    int wake[2];                /* self-pipe that ends the reader's poll() */
    pthread_t reader;
    bool have_reader;
};

/* Best effort, like the 16550: a byte is lost only on a hard error. */
static void out_bytes(int fd, const uint8_t *p, size_t len)
{
    while (fd >= 0 && len) {
        ssize_t n = write(fd, p, len);

        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pf = { .fd = fd, .events = POLLOUT };

            if (poll(&pf, 1, -1) >= 0 || errno == EINTR)
                continue;
        }
        return;
    }
}

/* Locked. Move buffered input into whatever receive buffers the driver
 * has posted. */
static void deliver(struct virtio_console *c)
{
    struct virtqueue *vq = virtio_mmio_queue(c->vm, RXQ);
    struct virtq_elem *e;
    bool any = false;
    unsigned n;

    for (n = 0; n < vq->num && c->rx_count && virtq_pop(vq, &e) > 0; n++) {
        uint64_t done = 0;

        while (c->rx_count) {
            size_t run = RX_RING - c->rx_head;
            size_t k;

            if (run > c->rx_count)
                run = c->rx_count;
            k = virtq_write(e, done, c->rx + c->rx_head, run);
            if (!k)
                break;          /* this buffer is full */
            done += k;
            c->rx_head = (unsigned)((c->rx_head + k) % RX_RING);
            c->rx_count -= (unsigned)k;
        }
        virtq_push(vq, e, (uint32_t)done);
        virtio_mmio_account(c->vm, 0, done, 0);
        any = true;
    }
    if (any) {
        virtio_mmio_notify_used(c->vm, vq);
        pthread_cond_signal(&c->space);
    }
}

static void transmit(struct virtio_console *c, struct virtio_mmio *vm,
                     struct virtqueue *vq)
{
    struct virtq_elem *e;
    unsigned n, i;

    for (n = 0; n < vq->num && virtq_pop(vq, &e) > 0; n++) {
        for (i = 0; i < e->nout; i++)
            out_bytes(c->out_fd, e->iov[i].base, e->iov[i].len);
        virtq_push(vq, e, 0);
        virtio_mmio_account(vm, e->out_len, 0, 0);
    }
    virtio_mmio_notify_used(vm, vq);
}

static void console_notify(void *dev, struct virtio_mmio *vm,
                           struct virtqueue *vq, unsigned idx)
{
    struct virtio_console *c = dev;

    if (idx == RXQ)
        deliver(c);             /* new receive buffers: hand over input */
    else
        transmit(c, vm, vq);
}

static uint64_t console_features(void *dev)
{
    struct virtio_console *c = dev;
    bool sized = c->config[VIRTIO_CONSOLE_CFG_COLS] ||
                 c->config[VIRTIO_CONSOLE_CFG_COLS + 1] ||
                 c->config[VIRTIO_CONSOLE_CFG_ROWS] ||
                 c->config[VIRTIO_CONSOLE_CFG_ROWS + 1];

    return VIRTIO_BIT(VIRTIO_CONSOLE_F_EMERG_WRITE) |
           (sized ? VIRTIO_BIT(VIRTIO_CONSOLE_F_SIZE) : 0);
}

static uint64_t console_config_read(void *dev, unsigned off, unsigned size)
{
    struct virtio_console *c = dev;

    /* emerg_wr is write-only: the image holds 0 there. */
    return virtio_config_bytes(c->config, sizeof(c->config), off, size);
}

static void console_config_write(void *dev, unsigned off, unsigned size,
                                 uint64_t val)
{
    struct virtio_console *c = dev;
    uint8_t b = (uint8_t)val;

    (void)size;
    if (off == VIRTIO_CONSOLE_CFG_EMERG_WR)
        out_bytes(c->out_fd, &b, 1);
}

/* ---- input thread ---- */

static void *reader_main(void *arg)
{
    struct virtio_console *c = arg;
    uint8_t buf[256];

    for (;;) {
        struct pollfd p[2] = {
            { .fd = c->in_fd, .events = POLLIN },
            { .fd = c->wake[0], .events = POLLIN },
        };
        ssize_t n, i;

        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents || (p[0].revents & POLLNVAL))
            break;
        if (!p[0].revents)
            continue;
        n = read(c->in_fd, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN ||
                      errno == EWOULDBLOCK))
            continue;
        if (n <= 0)
            break;              /* EOF or a dead descriptor: no more input */

        virtio_mmio_lock(c->vm);
        for (i = 0; i < n && !c->stop;) {
            if (c->rx_count == RX_RING) {
                deliver(c);
                /* Still full: wait for the guest rather than drop. */
                if (c->rx_count == RX_RING)
                    virtio_mmio_cond_wait(c->vm, &c->space);
                continue;
            }
            c->rx[(c->rx_head + c->rx_count) % RX_RING] = buf[i++];
            c->rx_count++;
        }
        deliver(c);
        virtio_mmio_unlock(c->vm);
    }
    return NULL;
}

static int console_attach(void *dev, struct virtio_mmio *vm)
{
    struct virtio_console *c = dev;
    sigset_t all, old;
    int err;

    c->vm = vm;
    if (c->in_fd < 0)
        return 0;
    if (pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) < 0)
        return -errno;
    /* A full mask: process signals go to threads that expect them. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    err = pthread_create(&c->reader, NULL, reader_main, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        close(c->wake[0]);
        close(c->wake[1]);
        return -err;
    }
    c->have_reader = true;
    return 0;
}

static void console_destroy(void *dev)
{
    struct virtio_console *c = dev;

    if (!c)
        return;
    if (c->have_reader) {
        static const char one = 1;
        ssize_t r;

        virtio_mmio_lock(c->vm);
        c->stop = true;
        pthread_cond_broadcast(&c->space);
        virtio_mmio_unlock(c->vm);
        do {
            r = write(c->wake[1], &one, 1);
        } while (r < 0 && errno == EINTR);
        pthread_join(c->reader, NULL);
        close(c->wake[0]);
        close(c->wake[1]);
    }
    pthread_cond_destroy(&c->space);
    free(c);
}

static const struct virtio_dev_ops console_ops = {
    .name = "virtio-console",
    .device_id = VIRTIO_ID_CONSOLE,
    .num_queues = 2,
    .queue_max = VIRTIO_CONSOLE_QUEUE_MAX,
    .features = console_features,
    .config_read = console_config_read,
    .config_write = console_config_write,
    .queue_notify = console_notify,
    .attach = console_attach,
    .destroy = console_destroy,
};

static void put_le16(uint8_t *p, uint16_t v)
{
    v = htole16(v);
    memcpy(p, &v, 2);
}

int virtio_console_new(int in_fd, int out_fd, unsigned cols, unsigned rows,
                       struct virtio_backend *be)
{
    struct virtio_console *c = calloc(1, sizeof(*c));
    uint32_t ports = htole32(1);
    int err;

    if (!c)
        return -ENOMEM;
    if ((err = pthread_cond_init(&c->space, NULL)) != 0) {
        free(c);
        return -err;
    }
    c->in_fd = in_fd;
    c->out_fd = out_fd;
    c->wake[0] = c->wake[1] = -1;
    put_le16(c->config + VIRTIO_CONSOLE_CFG_COLS,
             (uint16_t)(cols > UINT16_MAX ? UINT16_MAX : cols));
    put_le16(c->config + VIRTIO_CONSOLE_CFG_ROWS,
             (uint16_t)(rows > UINT16_MAX ? UINT16_MAX : rows));
    memcpy(c->config + VIRTIO_CONSOLE_CFG_NR_PORTS, &ports, 4);
    be->ops = &console_ops;
    be->dev = c;
    return 0;
}
