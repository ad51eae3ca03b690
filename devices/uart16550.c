/* ns16550a UART model. See uart16550.h for the threading contract. */
#define _GNU_SOURCE             /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uart16550.h"

/* Register offsets (reg-shift 0). */
enum {
    REG_RBR_THR_DLL = 0,
    REG_IER_DLM = 1,
    REG_IIR_FCR = 2,
    REG_LCR = 3,
    REG_MCR = 4,
    REG_LSR = 5,
    REG_MSR = 6,
    REG_SCR = 7,
};

#define IER_RDI     0x01        /* received data available */
#define IER_THRI    0x02        /* transmitter holding register empty */
#define IER_RLSI    0x04        /* receiver line status */
#define IER_MASK    0x0f

#define IIR_NO_INT  0x01
#define IIR_THRI    0x02
#define IIR_RDI     0x04
#define IIR_RLSI    0x06
#define IIR_CTI     0x0c        /* character timeout (FIFO mode) */
#define IIR_FIFO    0xc0        /* both FIFO-enabled bits */

#define FCR_FE      0x01
#define FCR_RFR     0x02        /* clear receive FIFO (self-clearing) */
#define FCR_XFR     0x04        /* clear transmit FIFO (self-clearing) */
#define FCR_KEEP    0xc9        /* FE, DMA mode, trigger level */

#define LCR_DLAB    0x80

#define MCR_DTR     0x01
#define MCR_RTS     0x02
#define MCR_OUT1    0x04
#define MCR_OUT2    0x08
#define MCR_LOOP    0x10
#define MCR_MASK    0x1f

#define LSR_DR      0x01
#define LSR_OE      0x02
#define LSR_THRE    0x20
#define LSR_TEMT    0x40

#define MSR_CTS     0x10
#define MSR_DSR     0x20
#define MSR_RI      0x40
#define MSR_DCD     0x80

/* Larger than the 16-byte hardware FIFO so a paste is not throttled to 16
 * bytes per interrupt; a power of two for cheap wrapping. */
#define RX_RING     256

struct uart16550 {
    pthread_mutex_t lock;
    pthread_cond_t space;       /* the reader waits here while rx is full */
    struct irq_line irq;
    int in_fd, out_fd;
    int wake[2];                /* self-pipe that ends the reader's poll() */
    pthread_t reader;
    bool have_reader;
    bool stop;

    uint8_t rx[RX_RING];
    unsigned rx_head, rx_count;

    uint8_t rbr;                /* last byte handed to the guest */
    uint8_t ier, lcr, mcr, fcr, scr, dll, dlm;
    uint8_t lsr_err;            /* sticky error bits, cleared by reading LSR */
    bool thr_ipending;
    int irq_level;              /* level last driven on irq */
};

static const uint8_t rx_trigger[4] = { 1, 4, 8, 14 };

/* ---- state helpers, all called with uart->lock held ---- */

static uint8_t iir_id(const struct uart16550 *u)
{
    if ((u->ier & IER_RLSI) && (u->lsr_err & LSR_OE))
        return IIR_RLSI;
    if ((u->ier & IER_RDI) && u->rx_count) {
        /* Below the trigger level a real FIFO interrupts after a 4-character
         * timeout; there is no baud clock here, so report the timeout at
         * once rather than leave bytes stranded. */
        if ((u->fcr & FCR_FE) && u->rx_count < rx_trigger[u->fcr >> 6])
            return IIR_CTI;
        return IIR_RDI;
    }
    if ((u->ier & IER_THRI) && u->thr_ipending)
        return IIR_THRI;
    return IIR_NO_INT;
}

static void update_irq(struct uart16550 *u)
{
    int level = iir_id(u) != IIR_NO_INT;

    if (level != u->irq_level) {
        u->irq_level = level;
        irq_set(&u->irq, level);
    }
}

static int rx_push(struct uart16550 *u, uint8_t b)
{
    if (u->rx_count == RX_RING)
        return -ENOSPC;
    u->rx[(u->rx_head + u->rx_count) % RX_RING] = b;
    u->rx_count++;
    return 0;
}

static uint8_t rx_pop(struct uart16550 *u)
{
    uint8_t b = u->rx[u->rx_head];

    u->rx_head = (u->rx_head + 1) % RX_RING;
    u->rx_count--;
    pthread_cond_signal(&u->space);
    return b;
}

static void rx_clear(struct uart16550 *u)
{
    u->rx_head = 0;
    u->rx_count = 0;
    pthread_cond_signal(&u->space);
}

/* Best effort: the byte is dropped only on a hard error (closed terminal),
 * which a guest cannot observe on a real UART either. */
static void out_byte(struct uart16550 *u, uint8_t b)
{
    if (u->out_fd < 0)
        return;
    for (;;) {
        ssize_t n = write(u->out_fd, &b, 1);

        if (n == 1)
            return;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = { .fd = u->out_fd, .events = POLLOUT };

            if (poll(&p, 1, -1) < 0 && errno != EINTR)
                return;
            continue;
        }
        return;
    }
}

static void reset_locked(struct uart16550 *u)
{
    u->ier = 0;
    u->lcr = 0;
    u->mcr = MCR_OUT2;
    u->fcr = 0;
    u->scr = 0;
    u->dll = 0x0c;              /* 9600 baud at 1.8432 MHz, as QEMU */
    u->dlm = 0;
    u->lsr_err = 0;
    u->thr_ipending = false;
    update_irq(u);
}

/* ---- register access ---- */

static uint64_t uart_read(void *opaque, uint64_t offset, unsigned size)
{
    struct uart16550 *u = opaque;
    uint8_t v = 0;

    (void)size;                 /* byte registers: wider accesses see a byte */
    if (offset > REG_SCR)
        return 0;

    pthread_mutex_lock(&u->lock);
    switch (offset) {
    case REG_RBR_THR_DLL:
        if (u->lcr & LCR_DLAB) {
            v = u->dll;
        } else {
            if (u->rx_count)
                u->rbr = rx_pop(u);
            v = u->rbr;
        }
        break;
    case REG_IER_DLM:
        v = (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
        break;
    case REG_IIR_FCR:
        v = iir_id(u);
        /* Reading IIR acknowledges a THR-empty interrupt. */
        if (v == IIR_THRI)
            u->thr_ipending = false;
        if (u->fcr & FCR_FE)
            v |= IIR_FIFO;
        break;
    case REG_LCR:
        v = u->lcr;
        break;
    case REG_MCR:
        v = u->mcr;
        break;
    case REG_LSR:
        v = LSR_THRE | LSR_TEMT | u->lsr_err | (u->rx_count ? LSR_DR : 0);
        u->lsr_err = 0;
        break;
    case REG_MSR:
        if (u->mcr & MCR_LOOP) {
            /* Loopback wires the modem outputs back to the inputs. */
            v = ((u->mcr & MCR_RTS) ? MSR_CTS : 0) |
                ((u->mcr & MCR_DTR) ? MSR_DSR : 0) |
                ((u->mcr & MCR_OUT1) ? MSR_RI : 0) |
                ((u->mcr & MCR_OUT2) ? MSR_DCD : 0);
        } else {
            v = MSR_DCD | MSR_DSR | MSR_CTS;
        }
        break;
    case REG_SCR:
        v = u->scr;
        break;
    }
    update_irq(u);
    pthread_mutex_unlock(&u->lock);
    return v;
}

static void uart_write(void *opaque, uint64_t offset, unsigned size,
                       uint64_t value)
{
    struct uart16550 *u = opaque;
    uint8_t v = (uint8_t)value;

    (void)size;
    if (offset > REG_SCR)
        return;

    pthread_mutex_lock(&u->lock);
    switch (offset) {
    case REG_RBR_THR_DLL:
        if (u->lcr & LCR_DLAB) {
            u->dll = v;
        } else {
            if (u->mcr & MCR_LOOP) {
                if (rx_push(u, v) < 0)
                    u->lsr_err |= LSR_OE;
            } else {
                out_byte(u, v);
            }
            /* Sent at once, so the holding register is empty again and the
             * THRE interrupt re-arms, as on hardware after the shift-out. */
            u->thr_ipending = true;
        }
        break;
    case REG_IER_DLM:
        if (u->lcr & LCR_DLAB) {
            u->dlm = v;
        } else {
            uint8_t changed = (u->ier ^ v) & IER_MASK;

            u->ier = v & IER_MASK;
            /* Enabling THRI while THR is empty (always) raises it at once. */
            if (changed & IER_THRI)
                u->thr_ipending = (u->ier & IER_THRI) != 0;
        }
        break;
    case REG_IIR_FCR:
        /* Toggling the FIFO enable clears both FIFOs, as on the 16550A. */
        if ((v ^ u->fcr) & FCR_FE)
            v |= FCR_RFR | FCR_XFR;
        if (v & FCR_RFR)
            rx_clear(u);
        u->fcr = v & FCR_KEEP;
        break;
    case REG_LCR:
        u->lcr = v;
        break;
    case REG_MCR:
        u->mcr = v & MCR_MASK;
        break;
    case REG_SCR:
        u->scr = v;
        break;
    default:                    /* LSR, MSR: read-only */
        break;
    }
    update_irq(u);
    pthread_mutex_unlock(&u->lock);
}

const struct bus_ops uart16550_ops = {
    .read = uart_read,
    .write = uart_write,
};

/* ---- input ---- */

static void *reader_main(void *arg)
{
    struct uart16550 *u = arg;
    uint8_t buf[64];

    for (;;) {
        struct pollfd p[2] = {
            { .fd = u->in_fd, .events = POLLIN },
            { .fd = u->wake[0], .events = POLLIN },
        };
        ssize_t n, i;

        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;              /* uart16550_free() */
        if (p[0].revents & POLLNVAL)
            break;
        if (!p[0].revents)
            continue;
        n = read(u->in_fd, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN ||
                      errno == EWOULDBLOCK))
            continue;
        if (n <= 0)
            break;              /* EOF or a dead descriptor: no more input */

        pthread_mutex_lock(&u->lock);
        for (i = 0; i < n && !u->stop;) {
            if (rx_push(u, buf[i]) < 0) {
                /* Full: let the guest drain it rather than drop input. */
                pthread_cond_wait(&u->space, &u->lock);
                continue;
            }
            i++;
            update_irq(u);
        }
        pthread_mutex_unlock(&u->lock);
    }
    return NULL;
}

static int start_reader(struct uart16550 *u)
{
    sigset_t all, old;
    int err;

    if (pipe2(u->wake, O_CLOEXEC | O_NONBLOCK) < 0)
        return -errno;
    /* The reader inherits a full mask so process signals (SIGINT, SIGCHLD,
     * the engine's kick signal) go to threads that expect them. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    err = pthread_create(&u->reader, NULL, reader_main, u);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        close(u->wake[0]);
        close(u->wake[1]);
        return -err;
    }
    u->have_reader = true;
    return 0;
}

/* ---- lifetime ---- */

struct uart16550 *uart16550_new(int in_fd, int out_fd, struct irq_line irq)
{
    struct uart16550 *u = calloc(1, sizeof(*u));
    int err;

    if (!u)
        return NULL;
    u->irq = irq;
    u->in_fd = in_fd;
    u->out_fd = out_fd;
    u->wake[0] = u->wake[1] = -1;
    reset_locked(u);            /* not shared yet: no lock needed */

    if ((err = pthread_mutex_init(&u->lock, NULL)) != 0)
        goto fail_free;
    if ((err = pthread_cond_init(&u->space, NULL)) != 0)
        goto fail_mutex;
    if (in_fd >= 0 && (err = -start_reader(u)) != 0)
        goto fail_cond;
    return u;

fail_cond:
    pthread_cond_destroy(&u->space);
fail_mutex:
    pthread_mutex_destroy(&u->lock);
fail_free:
    free(u);
    errno = err;
    return NULL;
}

void uart16550_free(struct uart16550 *u)
{
    if (!u)
        return;
    if (u->have_reader) {
        static const char one = 1;
        ssize_t r;

        pthread_mutex_lock(&u->lock);
        u->stop = true;
        pthread_cond_broadcast(&u->space);
        pthread_mutex_unlock(&u->lock);
        do {
            r = write(u->wake[1], &one, 1);
        } while (r < 0 && errno == EINTR);
        pthread_join(u->reader, NULL);
        close(u->wake[0]);
        close(u->wake[1]);
    }
    pthread_cond_destroy(&u->space);
    pthread_mutex_destroy(&u->lock);
    free(u);
}

void uart16550_reset(struct uart16550 *u)
{
    if (!u)
        return;
    pthread_mutex_lock(&u->lock);
    reset_locked(u);
    pthread_mutex_unlock(&u->lock);
}
