/* Unit tests for the device bus, ns16550a UART, CLINT and test finisher. */
#define _GNU_SOURCE             /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "glassbox/bus.h"
#include "uart16550.h"
#include "clint.h"
#include "sifive_test.h"

/* QEMU virt addresses, for the whole-machine tests. */
#define VIRT_TEST   0x100000
#define VIRT_CLINT  0x2000000
#define VIRT_UART0  0x10000000

/* ---------------------------------------------------------------- helpers */

/* An irq_line sink that records the level of up to 8 lines (by n) and how
 * often set() was called. Atomics: the UART reader thread calls it too. */
struct fake_irq {
    atomic_int level[8];
    atomic_int sets;
};

static void fake_irq_set(void *opaque, unsigned n, int level)
{
    struct fake_irq *f = opaque;

    assert_true(n < 8);
    assert_true(level == 0 || level == 1);
    atomic_store(&f->level[n], level);
    atomic_fetch_add(&f->sets, 1);
}

static int irq_level(struct fake_irq *f, unsigned n)
{
    return atomic_load(&f->level[n]);
}

static struct irq_line fake_line(struct fake_irq *f, unsigned n)
{
    return (struct irq_line){ .set = fake_irq_set, .opaque = f, .n = n };
}

/* A device that records its last access, for bus tests. */
struct rec_dev {
    int reads, writes;
    uint64_t offset, value;
    unsigned size;
};

static uint64_t rec_read(void *opaque, uint64_t offset, unsigned size)
{
    struct rec_dev *d = opaque;

    d->reads++;
    d->offset = offset;
    d->size = size;
    return UINT64_C(0x8877665544332211);    /* bus must mask to size */
}

static void rec_write(void *opaque, uint64_t offset, unsigned size,
                      uint64_t value)
{
    struct rec_dev *d = opaque;

    d->writes++;
    d->offset = offset;
    d->size = size;
    d->value = value;
}

static const struct bus_ops rec_ops = { .read = rec_read, .write = rec_write };

/* Deterministic PRNG (xorshift64*), so a failure reproduces. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { .tv_sec = ms / 1000,
                           .tv_nsec = (ms % 1000) * 1000000 };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static uint8_t ur(struct uart16550 *u, unsigned off)
{
    return (uint8_t)uart16550_ops.read(u, off, 1);
}

static void uw(struct uart16550 *u, unsigned off, uint8_t v)
{
    uart16550_ops.write(u, off, 1, v);
}

/* Wait (bounded) for a line to reach level, touching no register: only the
 * input path itself can have raised it. */
static bool irq_wait(struct fake_irq *f, unsigned n, int level)
{
    for (int i = 0; i < 5000; i++) {
        if (irq_level(f, n) == level)
            return true;
        sleep_ms(1);
    }
    return false;
}

/* Wait (bounded; correctness, not timing, is asserted) until LSR.DR. */
static bool uart_wait_dr(struct uart16550 *u)
{
    for (int i = 0; i < 5000; i++) {
        if (ur(u, 5) & 0x01)
            return true;
        sleep_ms(1);
    }
    return false;
}

static void write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        assert_true(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

/* -------------------------------------------------------------------- bus */

static void test_bus_map_and_find(void **state)
{
    struct bus bus;
    struct rec_dev a = { 0 }, b = { 0 }, c = { 0 };
    const struct bus_region *r;

    (void)state;
    bus_init(&bus);
    assert_int_equal(bus.n, 0);
    assert_null(bus_find(&bus, 0, 1));

    /* Mapped out of order: the table must stay sorted. */
    assert_int_equal(bus_map(&bus, 0x3000, 0x1000, &rec_ops, &c, "c"), 0);
    assert_int_equal(bus_map(&bus, 0x1000, 0x1000, &rec_ops, &a, "a"), 0);
    assert_int_equal(bus_map(&bus, 0x2000, 0x1000, &rec_ops, &b, "b"), 0);
    assert_int_equal(bus.n, 3);
    for (int i = 1; i < bus.n; i++)
        assert_true(bus.regions[i - 1].base < bus.regions[i].base);

    r = bus_find(&bus, 0x1000, 1);
    assert_non_null(r);
    assert_string_equal(r->name, "a");
    r = bus_find(&bus, 0x2fff, 1);
    assert_non_null(r);
    assert_string_equal(r->name, "b");
    r = bus_find(&bus, 0x3ff8, 8);
    assert_non_null(r);
    assert_string_equal(r->name, "c");
    assert_null(bus_find(&bus, 0xfff, 1));
    assert_null(bus_find(&bus, 0x4000, 1));
    assert_null(bus_find(&bus, 0x1000, 0));

    /* Mapping shifts entries; a cached pointer must not misdirect. */
    r = bus_find(&bus, 0x1004, 4);
    assert_ptr_equal(bus.last, r);
    assert_int_equal(bus_map(&bus, 0x0, 0x1000, &rec_ops, NULL, "z"), 0);
    r = bus_find(&bus, 0x1004, 4);
    assert_non_null(r);
    assert_string_equal(r->name, "a");
    r = bus_find(&bus, 0x10, 4);
    assert_non_null(r);
    assert_string_equal(r->name, "z");
}

static void test_bus_overlap(void **state)
{
    struct bus bus;
    struct rec_dev d = { 0 };

    (void)state;
    bus_init(&bus);
    assert_int_equal(bus_map(&bus, 0x1000, 0x1000, &rec_ops, &d, "a"), 0);
    /* identical, left edge, right edge, containing, contained */
    assert_int_equal(bus_map(&bus, 0x1000, 0x1000, &rec_ops, &d, "x"), -EEXIST);
    assert_int_equal(bus_map(&bus, 0x0800, 0x0801, &rec_ops, &d, "x"), -EEXIST);
    assert_int_equal(bus_map(&bus, 0x1fff, 0x0010, &rec_ops, &d, "x"), -EEXIST);
    assert_int_equal(bus_map(&bus, 0x0000, 0x10000, &rec_ops, &d, "x"),
                     -EEXIST);
    assert_int_equal(bus_map(&bus, 0x1800, 0x0010, &rec_ops, &d, "x"), -EEXIST);
    /* exactly adjacent on both sides is fine */
    assert_int_equal(bus_map(&bus, 0x0800, 0x0800, &rec_ops, &d, "l"), 0);
    assert_int_equal(bus_map(&bus, 0x2000, 0x0800, &rec_ops, &d, "r"), 0);
    assert_int_equal(bus.n, 3);

    /* empty, wrapping and op-less ranges */
    assert_int_equal(bus_map(&bus, 0x9000, 0, &rec_ops, &d, "x"), -EINVAL);
    assert_int_equal(bus_map(&bus, UINT64_MAX - 0xf, 0x20, &rec_ops, &d, "x"),
                     -EINVAL);
    assert_int_equal(bus_map(&bus, 0x9000, 0x10, NULL, &d, "x"), -EINVAL);
    /* ending exactly at the top of the address space does not wrap */
    assert_int_equal(bus_map(&bus, UINT64_MAX - 0xfff, 0x1000, &rec_ops, &d,
                             "top"), 0);
    assert_non_null(bus_find(&bus, UINT64_MAX - 7, 8));
    assert_null(bus_find(&bus, UINT64_MAX - 6, 8));     /* would wrap */
    assert_non_null(bus_find(&bus, UINT64_MAX, 1));
}

static void test_bus_full(void **state)
{
    struct bus bus;
    struct rec_dev d = { 0 };

    (void)state;
    bus_init(&bus);
    for (int i = 0; i < BUS_MAX_REGIONS; i++) {
        uint64_t base = 0x10000 * (uint64_t)(BUS_MAX_REGIONS - i);

        assert_int_equal(bus_map(&bus, base, 0x100, &rec_ops, &d, "r"), 0);
    }
    assert_int_equal(bus.n, BUS_MAX_REGIONS);
    assert_int_equal(bus_map(&bus, 0x10000000, 0x100, &rec_ops, &d, "x"),
                     -ENOSPC);
    assert_int_equal(bus.n, BUS_MAX_REGIONS);
    for (int i = 1; i < bus.n; i++)
        assert_true(bus.regions[i - 1].base < bus.regions[i].base);
    for (int i = 1; i <= BUS_MAX_REGIONS; i++)
        assert_non_null(bus_find(&bus, 0x10000 * (uint64_t)i + 0xff, 1));
}

static void test_bus_access(void **state)
{
    struct bus bus;
    struct rec_dev a = { 0 }, b = { 0 };
    uint64_t v;

    (void)state;
    bus_init(&bus);
    assert_int_equal(bus_map(&bus, 0x1000, 0x100, &rec_ops, &a, "a"), 0);
    assert_int_equal(bus_map(&bus, 0x1100, 0x100, &rec_ops, &b, "b"), 0);

    /* offset is relative to the base; values are masked to the size */
    assert_int_equal(bus_read(&bus, 0x1010, 2, &v), 0);
    assert_int_equal(a.reads, 1);
    assert_int_equal(a.offset, 0x10);
    assert_int_equal(a.size, 2);
    assert_int_equal(v, 0x2211);
    assert_int_equal(bus_read(&bus, 0x1010, 8, &v), 0);
    assert_int_equal(v, UINT64_C(0x8877665544332211));
    assert_int_equal(bus_write(&bus, 0x1104, 4, UINT64_C(0xaabbccdd11223344)),
                     0);
    assert_int_equal(b.writes, 1);
    assert_int_equal(b.offset, 4);
    assert_int_equal(b.value, 0x11223344);
    assert_int_equal(bus_write(&bus, 0x10ff, 1, 0x1ff), 0);
    assert_int_equal(a.value, 0xff);

    /* straddling a region's end, even into a mapped neighbour: no device
     * sees the access */
    a.reads = a.writes = b.reads = b.writes = 0;
    v = 1234;
    assert_int_equal(bus_read(&bus, 0x10fc, 8, &v), -ENODEV);
    assert_int_equal(v, 0);
    assert_int_equal(bus_write(&bus, 0x10ff, 2, 0), -ENODEV);
    assert_int_equal(bus_read(&bus, 0x11fe, 4, &v), -ENODEV);
    assert_int_equal(bus_write(&bus, 0x0fff, 2, 0), -ENODEV);
    assert_int_equal(a.reads + a.writes + b.reads + b.writes, 0);

    /* unmapped */
    assert_int_equal(bus_read(&bus, 0x0, 4, &v), -ENODEV);
    assert_int_equal(bus_write(&bus, 0x1200, 1, 0), -ENODEV);
    assert_int_equal(bus_read(&bus, UINT64_MAX, 1, &v), -ENODEV);
    assert_int_equal(bus_read(&bus, UINT64_MAX - 3, 8, &v), -ENODEV);

    /* bad sizes */
    for (unsigned s = 0; s <= 16; s++) {
        if (s == 1 || s == 2 || s == 4 || s == 8)
            continue;
        assert_int_equal(bus_read(&bus, 0x1000, s, &v), -EINVAL);
        assert_int_equal(bus_write(&bus, 0x1000, s, 0), -EINVAL);
    }
    assert_int_equal(bus_read(&bus, 0x1000, 4, NULL), -EINVAL);
    assert_int_equal(a.reads + a.writes + b.reads + b.writes, 0);

    /* the cache follows accesses between regions */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(bus_read(&bus, 0x1000 + 0x100 * (i & 1), 1, &v), 0);
        assert_ptr_equal(bus.last, &bus.regions[i & 1]);
    }
    assert_int_equal(a.reads, 2);
    assert_int_equal(b.reads, 2);
}

/* ------------------------------------------------------------------- UART */

enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2,
       LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

static void test_uart_registers(void **state)
{
    struct fake_irq irq = { 0 };
    struct uart16550 *u;
    int out[2];
    char buf[16];

    (void)state;
    assert_int_equal(pipe2(out, O_NONBLOCK), 0);
    u = uart16550_new(-1, out[1], fake_line(&irq, 0));
    assert_non_null(u);

    /* power-on state */
    assert_int_equal(ur(u, IER), 0);
    assert_int_equal(ur(u, IIR), 0x01);
    assert_int_equal(ur(u, LCR), 0);
    assert_int_equal(ur(u, LSR), 0x60);
    assert_int_equal(ur(u, MSR), 0xb0);
    assert_int_equal(ur(u, SCR), 0);

    /* DLAB switches offsets 0 and 1 to the divisor latch */
    uw(u, LCR, 0x83);
    uw(u, DLL, 0x01);
    uw(u, DLM, 0x02);
    assert_int_equal(ur(u, DLL), 0x01);
    assert_int_equal(ur(u, DLM), 0x02);
    assert_int_equal(ur(u, LCR), 0x83);
    uw(u, LCR, 0x03);
    assert_int_equal(ur(u, IER), 0);        /* not DLM */
    assert_int_equal(ur(u, LSR) & 0x01, 0); /* DLL write sent nothing */
    assert_int_equal(read(out[0], buf, sizeof(buf)), -1);
    assert_int_equal(errno, EAGAIN);
    uw(u, LCR, 0x80);
    assert_int_equal(ur(u, DLL), 0x01);     /* latch survived */
    assert_int_equal(ur(u, DLM), 0x02);
    uw(u, LCR, 0x03);

    uw(u, IER, 0xff);
    assert_int_equal(ur(u, IER), 0x0f);     /* upper bits reserved */
    uw(u, IER, 0);
    uw(u, SCR, 0x5a);
    assert_int_equal(ur(u, SCR), 0x5a);
    uw(u, MCR, 0xff);
    assert_int_equal(ur(u, MCR), 0x1f);
    uw(u, MCR, 0x08);
    uw(u, LSR, 0x00);                       /* read-only */
    uw(u, MSR, 0x00);
    assert_int_equal(ur(u, LSR), 0x60);
    assert_int_equal(ur(u, MSR), 0xb0);

    /* FIFO enable shows in IIR's top bits */
    uw(u, FCR, 0x07);
    assert_int_equal(ur(u, IIR), 0xc1);
    uw(u, FCR, 0x00);
    assert_int_equal(ur(u, IIR), 0x01);

    /* beyond the 8 registers: reads 0, writes ignored; wide accesses see
     * the byte register */
    assert_int_equal(uart16550_ops.read(u, 8, 1), 0);
    assert_int_equal(uart16550_ops.read(u, 0xff, 1), 0);
    uart16550_ops.write(u, 0x10, 1, 0x41);
    uart16550_ops.write(u, SCR, 4, 0x12345678);
    assert_int_equal(uart16550_ops.read(u, SCR, 4), 0x78);

    /* THR goes straight to out_fd */
    for (const char *p = "hello"; *p; p++)
        uw(u, THR, (uint8_t)*p);
    assert_int_equal(ur(u, LSR), 0x60);     /* THRE|TEMT always */
    memset(buf, 0, sizeof(buf));
    assert_int_equal(read(out[0], buf, sizeof(buf)), 5);
    assert_string_equal(buf, "hello");
    assert_int_equal(irq_level(&irq, 0), 0);    /* no IER: no interrupt */

    /* reset */
    uw(u, LCR, 0x9b);
    uw(u, SCR, 1);
    uart16550_reset(u);
    assert_int_equal(ur(u, LCR), 0);
    assert_int_equal(ur(u, SCR), 0);
    assert_int_equal(ur(u, MCR), 0x08);

    uart16550_free(u);
    close(out[0]);
    close(out[1]);
}

static void test_uart_thr_irq(void **state)
{
    struct fake_irq irq = { 0 };
    struct uart16550 *u;
    int devnull = open("/dev/null", O_WRONLY);

    (void)state;
    assert_true(devnull >= 0);
    u = uart16550_new(-1, devnull, fake_line(&irq, 3));
    assert_non_null(u);

    /* enabling THRI with an empty THR interrupts at once */
    uw(u, IER, 0x02);
    assert_int_equal(irq_level(&irq, 3), 1);
    assert_int_equal(ur(u, IIR), 0x02);
    /* reading IIR acknowledged it */
    assert_int_equal(irq_level(&irq, 3), 0);
    assert_int_equal(ur(u, IIR), 0x01);
    /* a THR write re-arms it once the byte is out (immediately) */
    uw(u, THR, 'x');
    assert_int_equal(irq_level(&irq, 3), 1);
    /* disabling THRI drops the line; re-enabling raises it again */
    uw(u, IER, 0x00);
    assert_int_equal(irq_level(&irq, 3), 0);
    assert_int_equal(ur(u, IIR), 0x01);
    uw(u, IER, 0x02);
    assert_int_equal(irq_level(&irq, 3), 1);
    /* IER rewritten with THRI unchanged keeps the pending state, either
     * way (QEMU: only a 0->1 change of THRI re-arms it) */
    uw(u, IER, 0x02);
    assert_int_equal(irq_level(&irq, 3), 1);
    assert_int_equal(ur(u, IIR), 0x02);
    assert_int_equal(irq_level(&irq, 3), 0);
    uw(u, IER, 0x02);
    assert_int_equal(irq_level(&irq, 3), 0);
    uw(u, IER, 0x03);
    assert_int_equal(irq_level(&irq, 3), 0);
    uw(u, THR, 'y');
    assert_int_equal(irq_level(&irq, 3), 1);
    /* with DLAB, offset 1 is DLM and leaves the interrupt alone */
    uw(u, LCR, 0x80);
    uw(u, DLM, 0x00);
    assert_int_equal(irq_level(&irq, 3), 1);
    uw(u, LCR, 0x03);
    assert_int_equal(ur(u, IIR), 0x02);
    assert_int_equal(irq_level(&irq, 3), 0);

    uart16550_free(u);
    close(devnull);
}

static void test_uart_input(void **state)
{
    struct fake_irq irq = { 0 };
    struct uart16550 *u;
    int in[2], out[2];
    char got[4] = { 0 };
    int n = 0;

    (void)state;
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe2(out, O_NONBLOCK), 0);
    u = uart16550_new(in[0], out[1], fake_line(&irq, 1));
    assert_non_null(u);

    uw(u, IER, 0x03);                       /* RDI | THRI */
    assert_int_equal(ur(u, IIR), 0x02);     /* ack THRI for now */
    assert_int_equal(irq_level(&irq, 1), 0);

    write_all(in[1], "abc", 3);
    assert_true(irq_wait(&irq, 1, 1));     /* raised by arrival alone */
    assert_true(uart_wait_dr(u));
    assert_int_equal(irq_level(&irq, 1), 1);
    /* the reader may still be pushing; RDI is what IIR shows either way */
    assert_int_equal(ur(u, IIR), 0x04);

    while (n < 3) {
        assert_true(uart_wait_dr(u));
        got[n++] = (char)ur(u, RBR);
    }
    assert_string_equal(got, "abc");
    assert_int_equal(ur(u, LSR), 0x60);     /* drained: DR clear */
    assert_int_equal(ur(u, IIR), 0x01);
    assert_int_equal(irq_level(&irq, 1), 0);

    /* RDI outranks THRI; THRI shows once the data is drained */
    uw(u, THR, '!');
    write_all(in[1], "z", 1);
    assert_true(uart_wait_dr(u));
    assert_int_equal(ur(u, IIR), 0x04);
    assert_int_equal(ur(u, RBR), 'z');
    assert_int_equal(ur(u, IIR), 0x02);
    assert_int_equal(irq_level(&irq, 1), 0);

    /* with RDI masked, data is pollable but raises nothing */
    uw(u, IER, 0x00);
    write_all(in[1], "q", 1);
    assert_true(uart_wait_dr(u));
    assert_int_equal(irq_level(&irq, 1), 0);
    assert_int_equal(ur(u, IIR), 0x01);
    /* enabling RDI with data waiting raises the line at once */
    uw(u, IER, 0x01);
    assert_int_equal(irq_level(&irq, 1), 1);
    assert_int_equal(ur(u, RBR), 'q');
    assert_int_equal(irq_level(&irq, 1), 0);
    /* an empty RBR read returns the last byte and changes nothing */
    assert_int_equal(ur(u, RBR), 'q');
    assert_int_equal(ur(u, LSR), 0x60);

    /* EOF on input: the reader ends, the device keeps working */
    close(in[1]);
    sleep_ms(10);
    assert_int_equal(ur(u, LSR), 0x60);
    uw(u, THR, 'k');

    uart16550_free(u);
    close(in[0]);
    close(out[0]);
    close(out[1]);
}

/* More input than the ring holds: the reader must wait, not drop. */
static void test_uart_input_backpressure(void **state)
{
    enum { N = 5000 };
    struct fake_irq irq = { 0 };
    struct uart16550 *u;
    static uint8_t data[N];
    int in[2];

    (void)state;
    for (int i = 0; i < N; i++)
        data[i] = (uint8_t)(i * 7 + i / 256);
    assert_int_equal(pipe(in), 0);
    assert_int_equal(fcntl(in[1], F_SETPIPE_SZ, 65536) >= N, 1);
    u = uart16550_new(in[0], -1, fake_line(&irq, 0));
    assert_non_null(u);
    uw(u, IER, 0x01);
    write_all(in[1], data, N);
    for (int i = 0; i < N; i++) {
        assert_true(uart_wait_dr(u));
        assert_int_equal(irq_level(&irq, 0), 1);
        assert_int_equal(ur(u, RBR), data[i]);
    }
    sleep_ms(5);
    assert_int_equal(ur(u, LSR) & 0x01, 0);
    assert_int_equal(irq_level(&irq, 0), 0);

    /* free while the reader is blocked on a full ring */
    write_all(in[1], data, 1000);
    assert_true(uart_wait_dr(u));
    sleep_ms(20);
    uart16550_free(u);
    close(in[0]);
    close(in[1]);
}

static void test_uart_loopback_fifo(void **state)
{
    struct fake_irq irq = { 0 };
    struct uart16550 *u;
    int out[2];
    char buf[8];

    (void)state;
    assert_int_equal(pipe2(out, O_NONBLOCK), 0);
    u = uart16550_new(-1, out[1], fake_line(&irq, 2));
    assert_non_null(u);

    /* Linux's 8250 probe: loop with RTS|OUT2 must read back CTS|DCD */
    uw(u, MCR, 0x1a);
    assert_int_equal(ur(u, MSR) & 0xf0, 0x90);
    uw(u, MCR, 0x1f);
    assert_int_equal(ur(u, MSR) & 0xf0, 0xf0);

    /* in loopback, THR feeds RBR and nothing leaves */
    uw(u, IER, 0x01);
    uw(u, THR, 'L');
    assert_int_equal(read(out[0], buf, sizeof(buf)), -1);
    assert_int_equal(ur(u, LSR), 0x61);
    assert_int_equal(irq_level(&irq, 2), 1);
    assert_int_equal(ur(u, IIR), 0x04);     /* no FIFO: RDI at one byte */
    assert_int_equal(ur(u, RBR), 'L');
    assert_int_equal(irq_level(&irq, 2), 0);

    /* FIFO, trigger level 4: below it a (immediate) timeout, at it RDI */
    uw(u, FCR, 0x41);
    assert_int_equal(ur(u, IIR), 0xc1);
    for (int i = 0; i < 3; i++)
        uw(u, THR, (uint8_t)('0' + i));
    assert_int_equal(ur(u, IIR), 0xcc);
    assert_int_equal(irq_level(&irq, 2), 1);
    uw(u, THR, '3');
    assert_int_equal(ur(u, IIR), 0xc4);
    /* clearing the receive FIFO drops the data and the interrupt */
    uw(u, FCR, 0x43);
    assert_int_equal(ur(u, LSR), 0x60);
    assert_int_equal(ur(u, IIR), 0xc1);
    assert_int_equal(irq_level(&irq, 2), 0);
    /* trigger 14 */
    uw(u, FCR, 0xc1);
    for (int i = 0; i < 14; i++) {
        assert_int_equal(ur(u, IIR), i ? 0xcc : 0xc1);
        uw(u, THR, (uint8_t)i);
    }
    assert_int_equal(ur(u, IIR), 0xc4);
    for (int i = 0; i < 14; i++)
        assert_int_equal(ur(u, RBR), i);
    /* toggling FIFO enable clears the FIFO */
    uw(u, THR, 'x');
    uw(u, FCR, 0x00);
    assert_int_equal(ur(u, LSR), 0x60);

    /* overrun: the error shows in LSR, and as RLSI above RDI when enabled */
    uw(u, IER, 0x05);
    for (int i = 0; i < 300; i++)
        uw(u, THR, (uint8_t)i);
    assert_int_equal(ur(u, IIR), 0x06);
    assert_int_equal(irq_level(&irq, 2), 1);
    assert_int_equal(ur(u, LSR), 0x63);     /* OE, cleared by this read */
    assert_int_equal(ur(u, IIR), 0x04);
    assert_int_equal(ur(u, RBR), 0);        /* first byte kept, not the last */
    uw(u, FCR, 0x02);
    assert_int_equal(irq_level(&irq, 2), 0);

    /* leaving loopback: modem inputs fixed again, output flows */
    uw(u, MCR, 0x08);
    assert_int_equal(ur(u, MSR), 0xb0);
    uw(u, THR, 'o');
    assert_int_equal(read(out[0], buf, sizeof(buf)), 1);
    assert_int_equal(buf[0], 'o');

    uart16550_free(u);
    close(out[0]);
    close(out[1]);
}

/* ------------------------------------------------------------------ CLINT */

struct fake_clock {
    uint64_t t;
};

static uint64_t fake_now(void *opaque)
{
    return ((struct fake_clock *)opaque)->t;
}

struct clint_fixture {
    struct fake_clock clk;
    struct fake_irq msip, mtip;
    struct clint *c;
};

static struct clint *make_clint(struct clint_fixture *f, unsigned nharts)
{
    struct irq_line ms[8], mt[8];

    for (unsigned i = 0; i < nharts; i++) {
        ms[i] = fake_line(&f->msip, i);
        mt[i] = fake_line(&f->mtip, i);
    }
    f->c = clint_new(nharts, fake_now, &f->clk, ms, mt);
    assert_non_null(f->c);
    return f->c;
}

static uint64_t cr(struct clint *c, uint64_t off, unsigned size)
{
    return clint_ops.read(c, off, size);
}

static void cw(struct clint *c, uint64_t off, unsigned size, uint64_t v)
{
    clint_ops.write(c, off, size, v);
}

static void test_clint_new_args(void **state)
{
    struct fake_clock clk = { 0 };
    struct clint *c;

    (void)state;
    errno = 0;
    assert_null(clint_new(0, fake_now, &clk, NULL, NULL));
    assert_int_equal(errno, EINVAL);
    assert_null(clint_new(CLINT_MAX_HARTS + 1, fake_now, &clk, NULL, NULL));
    assert_null(clint_new(1, NULL, &clk, NULL, NULL));
    /* NULL line arrays are allowed; the largest hart count fits the map */
    c = clint_new(CLINT_MAX_HARTS, fake_now, &clk, NULL, NULL);
    assert_non_null(c);
    cw(c, CLINT_MTIMECMP_BASE + 8 * (CLINT_MAX_HARTS - 1), 8, 0);
    assert_int_equal(clint_mtimecmp(c, CLINT_MAX_HARTS - 1), 0);
    assert_int_equal(CLINT_MTIMECMP_BASE + 8 * CLINT_MAX_HARTS, CLINT_MTIME);
    cw(c, 4 * (CLINT_MAX_HARTS - 1), 4, 1);
    assert_int_equal(cr(c, 4 * (CLINT_MAX_HARTS - 1), 4), 1);
    clint_poll(c, CLINT_MAX_HARTS - 1);
    clint_free(c);
    clint_free(NULL);
}

static void test_clint_mtime(void **state)
{
    struct clint_fixture f = { .clk.t = UINT64_C(0x123456789abcdef0) };
    struct clint *c = make_clint(&f, 2);

    (void)state;
    assert_int_equal(clint_mtime(c), UINT64_C(0x123456789abcdef0));
    assert_int_equal(cr(c, CLINT_MTIME, 8), UINT64_C(0x123456789abcdef0));
    assert_int_equal(cr(c, CLINT_MTIME, 4), 0x9abcdef0);
    assert_int_equal(cr(c, CLINT_MTIME + 4, 4), 0x12345678);
    f.clk.t += 0x10;
    assert_int_equal(cr(c, CLINT_MTIME, 4), 0x9abcdf00);

    /* writes keep an offset from the clock */
    f.clk.t = 100;
    cw(c, CLINT_MTIME, 8, 5000);
    assert_int_equal(clint_mtime(c), 5000);
    f.clk.t = 150;
    assert_int_equal(cr(c, CLINT_MTIME, 8), 5050);
    /* ... and moving backwards works (offset wraps modulo 2^64) */
    cw(c, CLINT_MTIME, 8, 7);
    assert_int_equal(clint_mtime(c), 7);
    f.clk.t = 160;
    assert_int_equal(clint_mtime(c), 17);
    /* 32-bit halves */
    cw(c, CLINT_MTIME + 4, 4, 0xaa);
    assert_int_equal(clint_mtime(c), UINT64_C(0xaa00000011));
    cw(c, CLINT_MTIME, 4, 0xbbbbbbbb);
    assert_int_equal(clint_mtime(c), UINT64_C(0xaabbbbbbbb));
    f.clk.t = 161;
    assert_int_equal(clint_mtime(c), UINT64_C(0xaabbbbbbbc));
    /* misaligned and narrow accesses do nothing */
    cw(c, CLINT_MTIME + 2, 4, 0);
    cw(c, CLINT_MTIME, 2, 0);
    cw(c, CLINT_MTIME + 4, 8, 0);
    cw(c, CLINT_MTIME + 1, 1, 0);
    assert_int_equal(clint_mtime(c), UINT64_C(0xaabbbbbbbc));
    assert_int_equal(cr(c, CLINT_MTIME, 2), 0);
    assert_int_equal(cr(c, CLINT_MTIME + 4, 8), 0);
    assert_int_equal(cr(c, CLINT_MTIME + 1, 4), 0);

    clint_reset(c);
    assert_int_equal(clint_mtime(c), 161);
    clint_free(c);
}

static void test_clint_mtimecmp(void **state)
{
    struct clint_fixture f = { .clk.t = 1000 };
    struct clint *c = make_clint(&f, 2);
    const uint64_t cmp0 = CLINT_MTIMECMP_BASE, cmp1 = CLINT_MTIMECMP_BASE + 8;

    (void)state;
    /* reset value: all-ones, no interrupt */
    assert_int_equal(clint_mtimecmp(c, 0), UINT64_MAX);
    assert_int_equal(cr(c, cmp1, 8), UINT64_MAX);
    assert_int_equal(cr(c, cmp1 + 4, 4), 0xffffffff);
    assert_int_equal(clint_mtimecmp(c, 2), UINT64_MAX);     /* no hart 2 */
    clint_poll(c, 0);
    clint_poll(c, 1);
    assert_int_equal(irq_level(&f.mtip, 0), 0);
    assert_int_equal(atomic_load(&f.mtip.sets), 0);

    /* MTIP rises exactly when the clock reaches the compare value */
    cw(c, cmp0, 8, 1005);
    assert_int_equal(clint_mtimecmp(c, 0), 1005);
    for (f.clk.t = 1000; f.clk.t < 1005; f.clk.t++) {
        clint_poll(c, 0);
        assert_int_equal(irq_level(&f.mtip, 0), 0);
    }
    clint_poll(c, 1);               /* the other hart's poll is not ours */
    assert_int_equal(irq_level(&f.mtip, 0), 0);
    clint_poll(c, 0);
    assert_int_equal(irq_level(&f.mtip, 0), 1);
    assert_int_equal(irq_level(&f.mtip, 1), 0);
    f.clk.t += 100;
    clint_poll(c, 0);
    assert_int_equal(irq_level(&f.mtip, 0), 1);

    /* a write clears or raises MTIP at once, without a poll */
    cw(c, cmp0, 8, 2000);
    assert_int_equal(irq_level(&f.mtip, 0), 0);
    cw(c, cmp0, 8, 0);
    assert_int_equal(irq_level(&f.mtip, 0), 1);
    cw(c, cmp0, 8, UINT64_MAX);
    assert_int_equal(irq_level(&f.mtip, 0), 0);

    /* programming in halves, the usual RV32 sequence */
    cw(c, cmp1 + 4, 4, 0xffffffff);
    cw(c, cmp1, 4, 0x00000010);
    cw(c, cmp1 + 4, 4, 0x00000001);
    assert_int_equal(clint_mtimecmp(c, 1), UINT64_C(0x100000010));
    assert_int_equal(cr(c, cmp1, 4), 0x10);
    assert_int_equal(cr(c, cmp1 + 4, 4), 0x1);
    assert_int_equal(irq_level(&f.mtip, 1), 0);
    f.clk.t = UINT64_C(0x10000000f);
    clint_poll(c, 1);
    assert_int_equal(irq_level(&f.mtip, 1), 0);
    f.clk.t++;
    clint_poll(c, 1);
    assert_int_equal(irq_level(&f.mtip, 1), 1);
    assert_int_equal(clint_mtimecmp(c, 0), UINT64_MAX);     /* untouched */

    /* an mtime write re-evaluates every hart at once */
    cw(c, cmp0, 8, 6000);
    cw(c, CLINT_MTIME, 8, 6000);
    assert_int_equal(irq_level(&f.mtip, 0), 1);
    assert_int_equal(irq_level(&f.mtip, 1), 0);     /* 6000 < 0x100000010 */
    cw(c, CLINT_MTIME, 8, 5999);
    assert_int_equal(irq_level(&f.mtip, 0), 0);
    f.clk.t++;
    clint_poll(c, 0);
    assert_int_equal(irq_level(&f.mtip, 0), 1);

    /* out-of-range harts: reads 0, writes ignored */
    assert_int_equal(cr(c, CLINT_MTIMECMP_BASE + 16, 8), 0);
    cw(c, CLINT_MTIMECMP_BASE + 16, 8, 0);
    clint_poll(c, 2);
    clint_poll(c, UINT32_MAX);

    clint_reset(c);
    assert_int_equal(clint_mtimecmp(c, 0), UINT64_MAX);
    assert_int_equal(clint_mtimecmp(c, 1), UINT64_MAX);
    assert_int_equal(irq_level(&f.mtip, 0), 0);
    assert_int_equal(irq_level(&f.mtip, 1), 0);
    clint_free(c);
}

static void test_clint_msip(void **state)
{
    struct clint_fixture f = { .clk.t = 0 };
    struct clint *c = make_clint(&f, 3);

    (void)state;
    assert_int_equal(cr(c, 0, 4), 0);
    cw(c, 4, 4, 1);
    assert_int_equal(irq_level(&f.msip, 1), 1);
    assert_int_equal(irq_level(&f.msip, 0), 0);
    assert_int_equal(irq_level(&f.msip, 2), 0);
    assert_int_equal(cr(c, 4, 4), 1);
    cw(c, 4, 4, 2);                 /* only bit 0 counts */
    assert_int_equal(irq_level(&f.msip, 1), 0);
    assert_int_equal(cr(c, 4, 4), 0);
    cw(c, 8, 4, 0xffffffff);
    assert_int_equal(irq_level(&f.msip, 2), 1);
    assert_int_equal(cr(c, 8, 4), 1);
    /* 64-bit, narrow and misaligned accesses do nothing */
    cw(c, 0, 8, 1);
    cw(c, 0, 1, 1);
    cw(c, 2, 4, 0x10001);
    assert_int_equal(irq_level(&f.msip, 0), 0);
    assert_int_equal(cr(c, 0, 8), 0);
    assert_int_equal(cr(c, 8, 1), 0);
    /* past the last hart */
    cw(c, 12, 4, 1);
    assert_int_equal(cr(c, 12, 4), 0);
    /* MSIP has nothing to do with MTIP */
    assert_int_equal(atomic_load(&f.mtip.sets), 0);
    clint_reset(c);
    assert_int_equal(irq_level(&f.msip, 2), 0);
    assert_int_equal(cr(c, 8, 4), 0);
    clint_free(c);
}

/* ------------------------------------------------------------- finisher */

struct finish_log {
    int calls;
    enum sifive_test_kind kind;
    int code;
};

static void on_finish(void *opaque, enum sifive_test_kind kind, int code)
{
    struct finish_log *l = opaque;

    l->calls++;
    l->kind = kind;
    l->code = code;
}

static void test_finisher(void **state)
{
    struct finish_log log = { 0 };
    struct sifive_test *t;
    struct bus bus;
    uint64_t v;

    (void)state;
    errno = 0;
    assert_null(sifive_test_new(NULL, NULL));
    assert_int_equal(errno, EINVAL);
    t = sifive_test_new(on_finish, &log);
    assert_non_null(t);
    bus_init(&bus);
    assert_int_equal(bus_map(&bus, VIRT_TEST, SIFIVE_TEST_MMIO_SIZE,
                             &sifive_test_ops, t, "test"), 0);

    assert_int_equal(bus_write(&bus, VIRT_TEST, 4, 0x5555), 0);
    assert_int_equal(log.calls, 1);
    assert_int_equal(log.kind, SIFIVE_TEST_PASS);
    assert_int_equal(log.code, 0);

    assert_int_equal(bus_write(&bus, VIRT_TEST, 4, 0x3333 | (42 << 16)), 0);
    assert_int_equal(log.calls, 2);
    assert_int_equal(log.kind, SIFIVE_TEST_FAIL);
    assert_int_equal(log.code, 42);

    assert_int_equal(bus_write(&bus, VIRT_TEST, 4, 0xffff3333), 0);
    assert_int_equal(log.kind, SIFIVE_TEST_FAIL);
    assert_int_equal(log.code, 0xffff);

    /* OpenSBI's shutdown-with-failure: 16-bit 0x3333, code 0 (as QEMU) */
    assert_int_equal(bus_write(&bus, VIRT_TEST, 2, 0x3333), 0);
    assert_int_equal(log.calls, 4);
    assert_int_equal(log.kind, SIFIVE_TEST_FAIL);
    assert_int_equal(log.code, 0);

    assert_int_equal(bus_write(&bus, VIRT_TEST, 2, 0x7777), 0);
    assert_int_equal(log.calls, 5);
    assert_int_equal(log.kind, SIFIVE_TEST_RESET);
    /* PASS ignores the upper half */
    assert_int_equal(bus_write(&bus, VIRT_TEST, 4, 0x00095555), 0);
    assert_int_equal(log.kind, SIFIVE_TEST_PASS);
    assert_int_equal(log.code, 0);
    assert_int_equal(log.calls, 6);

    /* ignored: other values, offsets, sizes */
    assert_int_equal(bus_write(&bus, VIRT_TEST, 4, 0x1234), 0);
    assert_int_equal(bus_write(&bus, VIRT_TEST, 4, 0x5556), 0);
    assert_int_equal(bus_write(&bus, VIRT_TEST + 4, 4, 0x5555), 0);
    assert_int_equal(bus_write(&bus, VIRT_TEST + 2, 2, 0x5555), 0);
    assert_int_equal(bus_write(&bus, VIRT_TEST, 8, 0x5555), 0);
    assert_int_equal(bus_write(&bus, VIRT_TEST, 1, 0x55), 0);
    assert_int_equal(log.calls, 6);

    assert_int_equal(bus_read(&bus, VIRT_TEST, 4, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(bus_read(&bus, VIRT_TEST + 0xff8, 8, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(bus_read(&bus, VIRT_TEST + 0x1000, 4, &v), -ENODEV);
    sifive_test_free(t);
}

/* -------------------------------------------------------- whole machine */

struct machine {
    struct bus bus;
    struct fake_irq uart_irq, msip, mtip;
    struct fake_clock clk;
    struct finish_log fin;
    struct uart16550 *uart;
    struct clint *clint;
    struct sifive_test *test;
};

/* now NULL: the CLINT runs on m->clk. */
static void machine_init(struct machine *m, int in_fd, int out_fd,
                         unsigned nharts, uint64_t (*now)(void *),
                         void *clock_opaque)
{
    struct irq_line ms[4], mt[4];

    assert_true(nharts <= 4);
    memset(m, 0, sizeof(*m));
    for (unsigned i = 0; i < nharts; i++) {
        ms[i] = fake_line(&m->msip, i);
        mt[i] = fake_line(&m->mtip, i);
    }
    m->uart = uart16550_new(in_fd, out_fd, fake_line(&m->uart_irq, 0));
    if (!now) {
        now = fake_now;
        clock_opaque = &m->clk;
    }
    m->clint = clint_new(nharts, now, clock_opaque, ms, mt);
    m->test = sifive_test_new(on_finish, &m->fin);
    assert_non_null(m->uart);
    assert_non_null(m->clint);
    assert_non_null(m->test);
    bus_init(&m->bus);
    assert_int_equal(bus_map(&m->bus, VIRT_UART0, UART16550_MMIO_SIZE,
                             &uart16550_ops, m->uart, "uart0"), 0);
    assert_int_equal(bus_map(&m->bus, VIRT_CLINT, CLINT_MMIO_SIZE,
                             &clint_ops, m->clint, "clint"), 0);
    assert_int_equal(bus_map(&m->bus, VIRT_TEST, SIFIVE_TEST_MMIO_SIZE,
                             &sifive_test_ops, m->test, "test"), 0);
}

static void machine_fini(struct machine *m)
{
    uart16550_free(m->uart);
    clint_free(m->clint);
    sifive_test_free(m->test);
}

static void test_machine_bus(void **state)
{
    struct machine m;
    int out[2];
    uint64_t v;
    char c;

    (void)state;
    assert_int_equal(pipe2(out, O_NONBLOCK), 0);
    machine_init(&m, -1, out[1], 1, NULL, NULL);
    assert_int_equal(bus_write(&m.bus, VIRT_UART0, 1, 'A'), 0);
    assert_int_equal(read(out[0], &c, 1), 1);
    assert_int_equal(c, 'A');
    assert_int_equal(bus_read(&m.bus, VIRT_UART0 + 5, 1, &v), 0);
    assert_int_equal(v, 0x60);
    m.clk.t = 77;
    assert_int_equal(bus_read(&m.bus, VIRT_CLINT + CLINT_MTIME, 8, &v), 0);
    assert_int_equal(v, 77);
    assert_int_equal(bus_write(&m.bus, VIRT_CLINT + CLINT_MTIMECMP_BASE, 8, 50),
                     0);
    assert_int_equal(irq_level(&m.mtip, 0), 1);
    assert_int_equal(bus_write(&m.bus, VIRT_CLINT, 4, 1), 0);
    assert_int_equal(irq_level(&m.msip, 0), 1);
    assert_int_equal(bus_write(&m.bus, VIRT_TEST, 4, 0x5555), 0);
    assert_int_equal(m.fin.calls, 1);
    /* the hole between the CLINT window and the next device */
    assert_int_equal(bus_read(&m.bus, VIRT_CLINT + CLINT_MMIO_SIZE, 4, &v),
                     -ENODEV);
    assert_int_equal(bus_read(&m.bus, VIRT_UART0 + 0xfc, 8, &v), -ENODEV);
    machine_fini(&m);
    close(out[0]);
    close(out[1]);
}

/* --------------------------------------------------------------- hostile */

static unsigned pick_size(uint64_t r)
{
    static const unsigned sizes[] = { 1, 2, 4, 8, 1, 2, 4, 8, 0, 3, 5, 16 };

    return sizes[r % (sizeof(sizes) / sizeof(sizes[0]))];
}

/* Random offsets, sizes and values at every device, through the bus and
 * straight at the ops (with offsets and sizes the bus would never pass).
 * The assertion is "no crash, no sanitizer report, sane return codes". */
static void test_hostile(void **state)
{
    enum { ITERS = 300000 };
    static const uint64_t bases[] = { VIRT_TEST, VIRT_CLINT, VIRT_UART0 };
    static const uint64_t sizes[] = { SIFIVE_TEST_MMIO_SIZE, CLINT_MMIO_SIZE,
                                      UART16550_MMIO_SIZE };
    const struct bus_ops *ops[3];
    void *opq[3];
    struct machine m;
    uint64_t seed = UINT64_C(0x9e3779b97f4a7c15);
    int in[2], devnull;
    unsigned long ok = 0, nodev = 0, inval = 0;

    (void)state;
    devnull = open("/dev/null", O_WRONLY);
    assert_true(devnull >= 0);
    assert_int_equal(pipe2(in, O_NONBLOCK), 0);
    machine_init(&m, in[0], devnull, 4, NULL, NULL);
    ops[0] = &sifive_test_ops;
    ops[1] = &clint_ops;
    ops[2] = &uart16550_ops;
    opq[0] = m.test;
    opq[1] = m.clint;
    opq[2] = m.uart;

    for (long i = 0; i < ITERS; i++) {
        uint64_t r = rng_next(&seed), val = rng_next(&seed);
        unsigned dev = (unsigned)(r % 3), size = pick_size(r >> 8);
        uint64_t addr, off;
        int rc;

        /* bus: near a device, sometimes anywhere at all */
        if ((r >> 16) % 16 == 0)
            addr = rng_next(&seed);
        else
            addr = bases[dev] - 16 + (rng_next(&seed) % (sizes[dev] + 32));
        if ((r >> 20) & 1) {
            uint64_t v = 0;

            rc = bus_read(&m.bus, addr, size, &v);
            if (rc == 0 && size < 8)
                assert_true(v < (UINT64_C(1) << (8 * size)));
        } else {
            rc = bus_write(&m.bus, addr, size, val);
        }
        if (size != 1 && size != 2 && size != 4 && size != 8)
            assert_int_equal(rc, -EINVAL);
        else
            assert_true(rc == 0 || rc == -ENODEV);
        ok += rc == 0;
        nodev += rc == -ENODEV;
        inval += rc == -EINVAL;

        /* ops directly, past the window and with any size */
        off = rng_next(&seed);
        if ((r >> 24) & 1)
            off %= 2 * sizes[dev];
        size = (unsigned)((r >> 32) % 17);
        if ((r >> 40) & 1)
            (void)ops[dev]->read(opq[dev], off, size);
        else
            ops[dev]->write(opq[dev], off, size, val);

        if (i % 64 == 0) {
            m.clk.t = rng_next(&seed);
            clint_poll(m.clint, (unsigned)(r >> 48) % 6);
        }
        if (i % 1024 == 0) {
            uint8_t junk[32];

            for (unsigned j = 0; j < sizeof(junk); j++)
                junk[j] = (uint8_t)rng_next(&seed);
            (void)!write(in[1], junk, sizeof(junk));
        }
    }
    /* every outcome was exercised */
    assert_true(ok > 1000 && nodev > 1000 && inval > 1000);
    for (int i = 0; i < 8; i++) {
        int l = irq_level(&m.uart_irq, i);

        assert_true(l == 0 || l == 1);
    }
    machine_fini(&m);
    close(in[0]);
    close(in[1]);
    close(devnull);
}

/* Several "vCPU" threads hammer the UART and CLINT while the UART's reader
 * thread takes input; meant for -fsanitize=thread as much as for ASan.
 * Afterwards every line must match its register. */
struct hammer {
    struct machine *m;
    struct thread_clock *clk;
    unsigned hart;
    uint64_t seed;
};

/* A clock every thread may read; it ticks on each read until frozen. */
struct thread_clock {
    atomic_ulong t;
    atomic_bool frozen;
};

static uint64_t thread_now(void *opaque)
{
    struct thread_clock *c = opaque;

    if (atomic_load(&c->frozen))
        return atomic_load(&c->t);
    return atomic_fetch_add(&c->t, 1);
}

static void *hammer_main(void *arg)
{
    struct hammer *h = arg;
    struct bus *bus = &h->m->bus;

    for (int i = 0; i < 50000; i++) {
        uint64_t r = rng_next(&h->seed), v;
        unsigned target = (unsigned)(r % 4);

        switch ((r >> 8) % 6) {
        case 0:
            (void)bus_read(bus, VIRT_UART0 + (r >> 16) % 8, 1, &v);
            break;
        case 1:
            /* keep DLAB and loopback mostly off so data keeps moving */
            (void)bus_write(bus, VIRT_UART0 + (r >> 16) % 8, 1,
                            (r >> 24) & 0x6f);
            break;
        case 2:
            (void)bus_write(bus, VIRT_CLINT + 4 * target, 4, r >> 32);
            break;
        case 3:
            (void)bus_write(bus, VIRT_CLINT + CLINT_MTIMECMP_BASE + 8 * target,
                            8, atomic_load(&h->clk->t) + (r >> 40) % 64);
            break;
        case 4:
            if ((r >> 16) % 64 == 0)
                (void)bus_write(bus, VIRT_CLINT + CLINT_MTIME, 4, r >> 32);
            else
                (void)bus_read(bus, VIRT_CLINT + CLINT_MTIME, 8, &v);
            break;
        default:
            clint_poll(h->m->clint, h->hart);
            break;
        }
    }
    return NULL;
}

static void test_threads(void **state)
{
    enum { NT = 4 };
    struct machine m;
    struct hammer h[NT];
    pthread_t th[NT];
    struct thread_clock clk = { 0 };
    int in[2], devnull, quiet;
    uint8_t junk[256];

    (void)state;
    devnull = open("/dev/null", O_WRONLY);
    assert_int_equal(pipe2(in, O_NONBLOCK), 0);
    machine_init(&m, in[0], devnull, NT, thread_now, &clk);

    for (unsigned i = 0; i < NT; i++) {
        h[i] = (struct hammer){ .m = &m, .clk = &clk, .hart = i,
                              .seed = 0x1234567u + i };
        assert_int_equal(pthread_create(&th[i], NULL, hammer_main, &h[i]), 0);
    }
    for (int k = 0; k < 200; k++) {
        memset(junk, k, sizeof(junk));
        (void)!write(in[1], junk, sizeof(junk));
        sleep_ms(1);
    }
    for (unsigned i = 0; i < NT; i++)
        pthread_join(th[i], NULL);

    /* quiescent: lines must equal what the registers say */
    atomic_store(&clk.frozen, true);
    for (unsigned i = 0; i < NT; i++) {
        assert_int_equal(irq_level(&m.msip, i),
                         (int)clint_ops.read(m.clint, 4 * i, 4));
        clint_poll(m.clint, i);
        assert_int_equal(irq_level(&m.mtip, i),
                         clint_mtime(m.clint) >= clint_mtimecmp(m.clint, i));
    }

    /* drain the UART until input has stopped for good, then check that
     * the line agrees with IIR */
    uart16550_ops.write(m.uart, 3, 1, 0);     /* DLAB off */
    uart16550_ops.write(m.uart, 4, 1, 0);     /* loopback off */
    uart16550_ops.write(m.uart, 1, 1, 0x01);  /* RDI only */
    uart16550_ops.write(m.uart, 2, 1, 0x00);  /* FIFO off */
    close(in[1]);
    for (quiet = 0; quiet < 20;) {
        if (uart16550_ops.read(m.uart, 5, 1) & 1) {
            (void)uart16550_ops.read(m.uart, 0, 1);
            quiet = 0;
        } else {
            sleep_ms(1);
            quiet++;
        }
    }
    assert_int_equal(uart16550_ops.read(m.uart, 2, 1), 0x01);
    assert_int_equal(irq_level(&m.uart_irq, 0), 0);
    uart16550_ops.write(m.uart, 4, 1, 0x10);  /* loopback: one byte in */
    uart16550_ops.write(m.uart, 0, 1, 0x5a);
    assert_int_equal(uart16550_ops.read(m.uart, 2, 1), 0x04);
    assert_int_equal(irq_level(&m.uart_irq, 0), 1);
    assert_int_equal(uart16550_ops.read(m.uart, 0, 1), 0x5a);
    assert_int_equal(irq_level(&m.uart_irq, 0), 0);
    machine_fini(&m);
    close(in[0]);
    close(devnull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bus_map_and_find),
        cmocka_unit_test(test_bus_overlap),
        cmocka_unit_test(test_bus_full),
        cmocka_unit_test(test_bus_access),
        cmocka_unit_test(test_uart_registers),
        cmocka_unit_test(test_uart_thr_irq),
        cmocka_unit_test(test_uart_input),
        cmocka_unit_test(test_uart_input_backpressure),
        cmocka_unit_test(test_uart_loopback_fifo),
        cmocka_unit_test(test_clint_new_args),
        cmocka_unit_test(test_clint_mtime),
        cmocka_unit_test(test_clint_mtimecmp),
        cmocka_unit_test(test_clint_msip),
        cmocka_unit_test(test_finisher),
        cmocka_unit_test(test_machine_bus),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_threads),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
