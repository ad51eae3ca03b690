/* Unit tests for the virtio-mmio transport, split virtqueues and the blk,
 * rng and console back-ends. A fake guest RAM buffer stands in for the
 * engine's memory; the tests drive the registers exactly as Linux's
 * virtio_mmio driver does and build rings in that RAM by hand. */
#define _GNU_SOURCE             /* pipe2, memfd */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "glassbox/bus.h"
#include "glassbox/guest_mem.h"
#include "virtio_harness.h"
#include "virtio_mmio.h"
#include "virtqueue.h"
#include "virtio_blk.h"
#include "virtio_rng.h"
#include "virtio_console.h"

#define SECTORS     64
#define IRQ_LINE    7

/* Full bring-up: features, nq queues of num, DRIVER_OK. */
static void drv_up(struct tdev *t, uint64_t want, unsigned nq, unsigned num)
{
    unsigned i;

    assert_true(drv_negotiate(t, want | F(VIRTIO_F_VERSION_1)) &
                VIRTIO_STATUS_FEATURES_OK);
    for (i = 0; i < nq; i++)
        drv_queue(t, i, num);
    drv_ok(t);
    assert_int_equal(rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

/* ---------------------------------------------------------------- blk */

static char blk_path[64];

static void make_image(void)
{
    uint8_t sec[VIRTIO_BLK_SECTOR];
    unsigned s, i;
    int fd;

    strcpy(blk_path, "/tmp/gb-virtio-XXXXXX");
    fd = mkstemp(blk_path);
    assert_true(fd >= 0);
    for (s = 0; s < SECTORS; s++) {
        for (i = 0; i < sizeof(sec); i++)
            sec[i] = (uint8_t)(s * 7 + i);
        assert_int_equal(write(fd, sec, sizeof(sec)), sizeof(sec));
    }
    close(fd);
}

static int blk_setup(void **state)
{
    struct tdev *t = calloc(1, sizeof(*t));
    struct virtio_backend be;
    char err[256];

    make_image();
    assert_int_equal(virtio_blk_new(blk_path, 0, &be, err, sizeof(err)), 0);
    tdev_init(t, be, IRQ_LINE);
    *state = t;
    return 0;
}

static int blk_ro_setup(void **state)
{
    struct tdev *t = calloc(1, sizeof(*t));
    struct virtio_backend be;
    char err[256];

    make_image();
    assert_int_equal(virtio_blk_new(blk_path, 1, &be, err, sizeof(err)), 0);
    tdev_init(t, be, IRQ_LINE);
    *state = t;
    return 0;
}

static int dev_teardown(void **state)
{
    struct tdev *t = *state;

    tdev_fini(t);
    free(t);
    if (blk_path[0])
        unlink(blk_path);
    blk_path[0] = 0;
    return 0;
}

/* One block request: header in two pieces (no framing may be assumed),
 * data, status. Returns the status byte; *used_len gets the used length. */
static uint8_t blk_req(struct tdev *t, uint32_t type, uint64_t sector,
                       uint64_t data, uint32_t len, uint32_t *used_len)
{
    uint64_t hdr = alloc(t, 16), st = alloc(t, 1);
    uint32_t tp = htole32(type), id, ulen;
    uint64_t sec = htole64(sector);
    struct seg s[4] = {
        { hdr, 8, false }, { hdr + 8, 8, false },
        { data, len, type != VIRTIO_BLK_T_OUT }, { st, 1, true },
    };
    struct seg s3[3] = { s[0], s[1], s[3] };
    uint16_t head;

    memcpy(gp(t, hdr), &tp, 4);
    memset(gp(t, hdr + 4), 0, 4);
    memcpy(gp(t, hdr + 8), &sec, 8);
    *gp(t, st) = 0xee;
    head = len ? submit(t, 0, s, 4) : submit(t, 0, s3, 3);
    notify(t, 0);
    take_used(t, 0, &id, &ulen);
    assert_int_equal(id, head);
    if (used_len)
        *used_len = ulen;
    return *gp(t, st);
}

static void file_read(uint64_t off, void *buf, size_t len)
{
    int fd = open(blk_path, O_RDONLY);

    assert_true(fd >= 0);
    assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
    close(fd);
}

static void check_pattern(const uint8_t *p, unsigned sector, unsigned n)
{
    unsigned s, i;

    for (s = 0; s < n; s++)
        for (i = 0; i < VIRTIO_BLK_SECTOR; i++)
            assert_int_equal(p[s * VIRTIO_BLK_SECTOR + i],
                             (uint8_t)((sector + s) * 7 + i));
}

static void test_empty_slot(void **state)
{
    struct fake_ram ram = { 0 };
    struct guest_mem gm = { ram_map, &ram };
    struct virtio_mmio *vm = virtio_mmio_new(NULL, NULL, &gm,
                                             (struct irq_line){ 0 });

    (void)state;
    assert_non_null(vm);
    assert_int_equal(virtio_mmio_ops.read(vm, VIRTIO_MMIO_MAGIC_VALUE, 4),
                     VIRTIO_MMIO_MAGIC);
    assert_int_equal(virtio_mmio_ops.read(vm, VIRTIO_MMIO_VERSION, 4), 2);
    assert_int_equal(virtio_mmio_ops.read(vm, VIRTIO_MMIO_DEVICE_ID, 4), 0);
    assert_int_equal(virtio_mmio_ops.read(vm, VIRTIO_MMIO_VENDOR_ID, 4),
                     VIRTIO_MMIO_VENDOR);
    virtio_mmio_ops.write(vm, VIRTIO_MMIO_STATUS, 4, 0xff);
    virtio_mmio_ops.write(vm, VIRTIO_MMIO_QUEUE_NOTIFY, 4, 0);
    assert_int_equal(virtio_mmio_ops.read(vm, VIRTIO_MMIO_STATUS, 4), 0);
    assert_int_equal(virtio_mmio_ops.read(vm, VIRTIO_MMIO_QUEUE_NUM_MAX, 4), 0);
    assert_int_equal(virtio_mmio_ops.read(vm, VIRTIO_MMIO_CONFIG, 4), 0);
    virtio_mmio_reset(vm);
    virtio_mmio_free(vm);
    virtio_mmio_free(NULL);
    virtio_mmio_reset(NULL);
}

static int destroyed;

static void count_destroy(void *dev)
{
    (void)dev;
    destroyed++;
}

static void nop_notify(void *dev, struct virtio_mmio *vm, struct virtqueue *vq,
                       unsigned idx)
{
    (void)dev;
    (void)vm;
    (void)vq;
    (void)idx;
}

static int failing_attach(void *dev, struct virtio_mmio *vm)
{
    (void)dev;
    (void)vm;
    return -EMFILE;
}

static void test_new_args(void **state)
{
    struct fake_ram ram = { 0 };
    struct guest_mem gm = { ram_map, &ram };
    struct virtio_dev_ops bad = {
        .name = "bad", .device_id = 99, .num_queues = 1, .queue_max = 3,
        .queue_notify = nop_notify, .destroy = count_destroy,
    };
    struct virtio_dev_ops att = bad;

    (void)state;
    destroyed = 0;
    errno = 0;
    assert_null(virtio_mmio_new(&bad, NULL, &gm, (struct irq_line){ 0 }));
    assert_int_equal(errno, EINVAL);
    assert_int_equal(destroyed, 1);     /* ownership taken even on failure */
    bad.queue_max = 4;
    bad.num_queues = 0;
    assert_null(virtio_mmio_new(&bad, NULL, &gm, (struct irq_line){ 0 }));
    bad.num_queues = 1;
    assert_null(virtio_mmio_new(&bad, NULL, NULL, (struct irq_line){ 0 }));
    assert_int_equal(destroyed, 3);
    att.queue_max = 8;
    att.attach = failing_attach;
    assert_null(virtio_mmio_new(&att, NULL, &gm, (struct irq_line){ 0 }));
    assert_int_equal(errno, EMFILE);
    assert_int_equal(destroyed, 4);
}

static void test_features(void **state)
{
    struct tdev *t = *state;
    uint32_t lo, hi;

    assert_int_equal(rd(t, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
    wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    lo = rd(t, VIRTIO_MMIO_DEVICE_FEATURES);
    wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    hi = rd(t, VIRTIO_MMIO_DEVICE_FEATURES);
    wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
    assert_int_equal(rd(t, VIRTIO_MMIO_DEVICE_FEATURES), 0);
    assert_int_equal(hi, 1);                     /* VERSION_1 only */
    assert_int_equal(lo, F(VIRTIO_BLK_F_SEG_MAX) | F(VIRTIO_BLK_F_BLK_SIZE) |
                         F(VIRTIO_BLK_F_FLUSH) | F(VIRTIO_F_INDIRECT_DESC));

    /* A legacy driver (no VERSION_1) is refused: FEATURES_OK won't stick. */
    assert_int_equal(drv_negotiate(t, F(VIRTIO_BLK_F_FLUSH)) &
                     VIRTIO_STATUS_FEATURES_OK, 0);
    /* Queues do not run without FEATURES_OK even with DRIVER_OK. */
    drv_queue(t, 0, 8);
    drv_ok(t);
    uint64_t buf = alloc(t, 512);
    struct seg s[3] = { { alloc(t, 16), 16, false }, { buf, 512, true },
                        { alloc(t, 1), 1, true } };
    submit(t, 0, s, 3);
    notify(t, 0);
    assert_int_equal(used_idx(t, 0), 0);

    /* A modern driver is accepted; feature writes after FEATURES_OK are
     * ignored (indirect stays off here: a chain using it is refused). */
    assert_true(drv_negotiate(t, F(VIRTIO_F_VERSION_1)) &
                VIRTIO_STATUS_FEATURES_OK);
    wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(t, VIRTIO_MMIO_DRIVER_FEATURES, F(VIRTIO_F_INDIRECT_DESC));
    memset(&t->q[0], 0, sizeof(t->q[0]));
    memset(gp(t, RAM_BASE), 0, QUEUE_AREA);
    drv_queue(t, 0, 8);
    drv_ok(t);
    put_desc(t, t->q[0].desc, 0, alloc(t, 32), 32, VIRTQ_DESC_F_INDIRECT, 0);
    publish(t, 0, 0);
    notify(t, 0);
    assert_true(needs_reset(t));
}

static void test_queue_regs(void **state)
{
    struct tdev *t = *state;

    wr(t, VIRTIO_MMIO_QUEUE_SEL, 0);
    assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTIO_BLK_QUEUE_MAX);
    wr(t, VIRTIO_MMIO_QUEUE_SEL, 1);
    assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
    assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_READY), 0);
    wr(t, VIRTIO_MMIO_QUEUE_READY, 1);          /* no such queue: ignored */
    assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_READY), 0);
    /* SHM: no regions, length -1. */
    wr(t, VIRTIO_MMIO_SHM_SEL, 0);
    assert_int_equal(rd(t, VIRTIO_MMIO_SHM_LEN_LOW), UINT32_MAX);
    assert_int_equal(rd(t, VIRTIO_MMIO_SHM_LEN_HIGH), UINT32_MAX);

    assert_true(drv_negotiate(t, F(VIRTIO_F_VERSION_1)) &
                VIRTIO_STATUS_FEATURES_OK);
    drv_queue(t, 0, 16);
    assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_READY), 1);
    assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_DESC_LOW), (uint32_t)RAM_BASE);
    assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_DRIVER_LOW),
                     (uint32_t)RAM_BASE + 0x4000);
    /* A live ring cannot be moved or resized. */
    wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
    wr(t, VIRTIO_MMIO_QUEUE_NUM, 4);
    assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_DESC_LOW), (uint32_t)RAM_BASE);
    assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_NUM), 16);
    /* Non-32-bit register accesses are ignored. */
    virtio_mmio_ops.write(t->vm, VIRTIO_MMIO_STATUS, 1, 0);
    assert_int_not_equal(rd(t, VIRTIO_MMIO_STATUS), 0);
    assert_int_equal(virtio_mmio_ops.read(t->vm, VIRTIO_MMIO_MAGIC_VALUE, 2), 0);
    assert_int_equal(virtio_mmio_ops.read(t->vm, VIRTIO_MMIO_MAGIC_VALUE + 2, 4),
                     0);
    /* Queue disable reads back 0 (Linux checks this on teardown). */
    wr(t, VIRTIO_MMIO_QUEUE_READY, 0);
    assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_READY), 0);
    /* Reset clears the lot. */
    wr(t, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(rd(t, VIRTIO_MMIO_STATUS), 0);
    assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_DESC_LOW), 0);
    assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_NUM), VIRTIO_BLK_QUEUE_MAX);
}

static void test_config_changed(void **state)
{
    struct tdev *t = *state;

    virtio_mmio_lock(t->vm);
    virtio_mmio_config_changed(t->vm);      /* before DRIVER_OK: silent */
    virtio_mmio_unlock(t->vm);
    assert_int_equal(rd(t, VIRTIO_MMIO_CONFIG_GENERATION), 1);
    assert_int_equal(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    drv_up(t, 0, 1, 16);
    virtio_mmio_lock(t->vm);
    virtio_mmio_config_changed(t->vm);
    virtio_mmio_unlock(t->vm);
    assert_int_equal(rd(t, VIRTIO_MMIO_CONFIG_GENERATION), 2);
    assert_int_equal(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
    assert_int_equal(atomic_load(&t->irq.level), 1);
    assert_int_equal(virtio_mmio_status(t->vm) & VIRTIO_STATUS_NEEDS_RESET, 0);
    /* A back-end's own verdict takes the same path as a bad ring. */
    virtio_mmio_lock(t->vm);
    virtio_mmio_needs_reset(t->vm, "backing file vanished");
    virtio_mmio_unlock(t->vm);
    assert_true(virtio_mmio_status(t->vm) & VIRTIO_STATUS_NEEDS_RESET);
    /* Machine reset clears it and lowers the line. */
    virtio_mmio_reset(t->vm);
    assert_int_equal(virtio_mmio_status(t->vm), 0);
    assert_int_equal(atomic_load(&t->irq.level), 0);
}

static void test_blk_config(void **state)
{
    struct tdev *t = *state;
    uint64_t cap;

    cap = virtio_mmio_ops.read(t->vm, VIRTIO_MMIO_CONFIG, 8);
    assert_int_equal(cap, SECTORS);
    assert_int_equal(rd(t, VIRTIO_MMIO_CONFIG), SECTORS);
    assert_int_equal(rd(t, VIRTIO_MMIO_CONFIG + 4), 0);
    assert_int_equal(rd(t, VIRTIO_MMIO_CONFIG + VIRTIO_BLK_CFG_SEG_MAX),
                     VIRTIO_BLK_QUEUE_MAX - 2);
    assert_int_equal(rd(t, VIRTIO_MMIO_CONFIG + VIRTIO_BLK_CFG_BLK_SIZE), 512);
    assert_int_equal(virtio_mmio_ops.read(t->vm, VIRTIO_MMIO_CONFIG +
                                          VIRTIO_BLK_CFG_BLK_SIZE + 1, 1), 2);
    assert_int_equal(rd(t, VIRTIO_MMIO_CONFIG + 0x100), 0);
    assert_int_equal(virtio_mmio_ops.read(t->vm, VIRTIO_MMIO_SIZE - 8, 8), 0);
    virtio_mmio_ops.write(t->vm, VIRTIO_MMIO_CONFIG, 8, 0);    /* read-only */
    assert_int_equal(rd(t, VIRTIO_MMIO_CONFIG), SECTORS);
    assert_int_equal(rd(t, VIRTIO_MMIO_CONFIG_GENERATION), 0);
}

static void test_blk_read(void **state)
{
    struct tdev *t = *state;
    uint64_t buf;
    uint32_t ulen;

    drv_up(t, 0, 1, 128);
    buf = alloc(t, 3 * 512);
    assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 5, buf, 3 * 512, &ulen),
                     VIRTIO_BLK_S_OK);
    assert_int_equal(ulen, 3 * 512 + 1);
    check_pattern(gp(t, buf), 5, 3);
    /* Interrupt raised with the used-buffer bit; ACK lowers the line. */
    assert_int_equal(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
    assert_int_equal(atomic_load(&t->irq.level), 1);
    wr(t, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
    assert_int_equal(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
    assert_int_equal(atomic_load(&t->irq.level), 0);

    /* The last sector, and a read split over several data buffers. */
    uint64_t a = alloc(t, 100), b = alloc(t, 412), hdr = alloc(t, 16),
             st = alloc(t, 1);
    uint32_t tp = htole32(VIRTIO_BLK_T_IN), id;
    uint64_t sec = htole64(SECTORS - 1);
    struct seg s[4] = { { hdr, 16, false }, { a, 100, true }, { b, 412, true },
                        { st, 1, true } };

    memcpy(gp(t, hdr), &tp, 4);
    memcpy(gp(t, hdr + 8), &sec, 8);
    submit(t, 0, s, 4);
    notify(t, 0);
    take_used(t, 0, &id, &ulen);
    assert_int_equal(*gp(t, st), VIRTIO_BLK_S_OK);
    uint8_t joined[512];
    memcpy(joined, gp(t, a), 100);
    memcpy(joined + 100, gp(t, b), 412);
    check_pattern(joined, SECTORS - 1, 1);

    /* With interrupts suppressed by the driver, none is raised. */
    wr(t, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
    put16(t, t->q[0].avail, VIRTQ_AVAIL_F_NO_INTERRUPT);
    assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 0, buf, 512, NULL),
                     VIRTIO_BLK_S_OK);
    assert_int_equal(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
}

static void test_blk_write_flush(void **state)
{
    struct tdev *t = *state;
    uint64_t buf;
    uint8_t back[1024];
    struct virtio_stats st;
    unsigned i;

    drv_up(t, F(VIRTIO_BLK_F_FLUSH), 1, 64);
    buf = alloc(t, 1024);
    for (i = 0; i < 1024; i++)
        gp(t, buf)[i] = (uint8_t)(i * 13 + 1);
    assert_int_equal(blk_req(t, VIRTIO_BLK_T_OUT, 10, buf, 1024, NULL),
                     VIRTIO_BLK_S_OK);
    file_read(10 * 512, back, sizeof(back));
    assert_memory_equal(back, gp(t, buf), 1024);
    file_read(9 * 512, back, 512);          /* neighbours untouched */
    check_pattern(back, 9, 1);
    file_read(12 * 512, back, 512);
    check_pattern(back, 12, 1);
    assert_int_equal(blk_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, NULL),
                     VIRTIO_BLK_S_OK);

    virtio_mmio_stats(t->vm, &st);
    assert_int_equal(st.requests, 2);
    assert_int_equal(st.bytes_out, 1024);
    assert_int_equal(st.bytes_in, 0);
    assert_int_equal(st.errors, 0);
    assert_int_equal(st.notifications, 2);
    assert_int_equal(st.interrupts, 2);
}

static void test_blk_get_id(void **state)
{
    struct tdev *t = *state;
    uint64_t buf;
    char want[VIRTIO_BLK_ID_BYTES] = { 0 };
    uint32_t ulen;

    drv_up(t, 0, 1, 64);
    buf = alloc(t, 32);
    memset(gp(t, buf), 'x', 32);
    assert_int_equal(blk_req(t, VIRTIO_BLK_T_GET_ID, 0, buf, 20, &ulen),
                     VIRTIO_BLK_S_OK);
    const char *base = strrchr(blk_path, '/') + 1;

    memcpy(want, base, strlen(base) < sizeof(want) ? strlen(base) : sizeof(want));
    assert_memory_equal(gp(t, buf), want, 20);
    assert_int_equal(ulen, 21);
    /* A shorter buffer gets what fits. */
    assert_int_equal(blk_req(t, VIRTIO_BLK_T_GET_ID, 0, buf, 4, &ulen),
                     VIRTIO_BLK_S_OK);
    assert_int_equal(ulen, 5);
}

static void test_blk_errors(void **state)
{
    struct tdev *t = *state;
    uint64_t buf;
    struct virtio_stats st;

    drv_up(t, 0, 1, 64);
    buf = alloc(t, 1024);
    /* Past the end, straddling it, at a wrapping sector. */
    assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, SECTORS, buf, 512, NULL),
                     VIRTIO_BLK_S_IOERR);
    assert_int_equal(blk_req(t, VIRTIO_BLK_T_OUT, SECTORS - 1, buf, 1024, NULL),
                     VIRTIO_BLK_S_IOERR);
    assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, UINT64_MAX, buf, 512, NULL),
                     VIRTIO_BLK_S_IOERR);
    assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, UINT64_MAX / 512 + 1, buf,
                             1024, NULL), VIRTIO_BLK_S_IOERR);
    /* Not whole sectors. */
    assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 0, buf, 100, NULL),
                     VIRTIO_BLK_S_IOERR);
    /* Unknown and unoffered types (DISCARD is 11). */
    assert_int_equal(blk_req(t, 11, 0, buf, 512, NULL), VIRTIO_BLK_S_UNSUPP);
    assert_int_equal(blk_req(t, 0xdeadbeef, 0, buf, 512, NULL),
                     VIRTIO_BLK_S_UNSUPP);
    /* Zero-length data is a legal no-op read. */
    assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 0, buf, 0, NULL),
                     VIRTIO_BLK_S_OK);
    assert_false(needs_reset(t));
    /* Still serving. */
    assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 2, buf, 512, NULL),
                     VIRTIO_BLK_S_OK);
    check_pattern(gp(t, buf), 2, 1);
    virtio_mmio_stats(t->vm, &st);
    assert_int_equal(st.errors, 7);
}

static void test_blk_readonly(void **state)
{
    struct tdev *t = *state;
    uint64_t buf;
    uint8_t back[512];

    wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    assert_true(rd(t, VIRTIO_MMIO_DEVICE_FEATURES) & F(VIRTIO_BLK_F_RO));
    drv_up(t, F(VIRTIO_BLK_F_RO), 1, 64);
    buf = alloc(t, 512);
    memset(gp(t, buf), 0x5a, 512);
    assert_int_equal(blk_req(t, VIRTIO_BLK_T_OUT, 1, buf, 512, NULL),
                     VIRTIO_BLK_S_IOERR);
    file_read(512, back, 512);
    check_pattern(back, 1, 1);
    assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 1, buf, 512, NULL),
                     VIRTIO_BLK_S_OK);
    check_pattern(gp(t, buf), 1, 1);
    assert_int_equal(blk_req(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0, NULL),
                     VIRTIO_BLK_S_OK);
}

static void test_blk_new_errors(void **state)
{
    struct virtio_backend be, be2;
    char err[256];

    (void)state;
    assert_int_equal(virtio_blk_new("/nonexistent/disk.img", 0, &be, err,
                                    sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "'/nonexistent/disk.img'"));
    assert_null(strchr(err, '\n'));
    assert_int_equal(virtio_blk_new("/tmp", 1, &be, err, sizeof(err)),
                     -EISDIR);
    assert_int_equal(virtio_blk_new("/dev/null", 1, &be, err, sizeof(err)),
                     -EINVAL);
    assert_int_equal(virtio_blk_new(NULL, 1, &be, err, sizeof(err)), -EINVAL);
    /* Tiny message buffers are fine. */
    assert_int_equal(virtio_blk_new("/nonexistent", 0, &be, err, 4), -ENOENT);
    assert_int_equal(strlen(err), 3);
    assert_int_equal(virtio_blk_new("/nonexistent", 0, &be, NULL, 0), -ENOENT);

    /* Two writers on one image: the second is refused. */
    make_image();
    assert_int_equal(virtio_blk_new(blk_path, 0, &be, err, sizeof(err)), 0);
    assert_int_equal(virtio_blk_new(blk_path, 0, &be2, err, sizeof(err)),
                     -EAGAIN);
    assert_non_null(strstr(err, "in use"));
    assert_int_equal(virtio_blk_new(blk_path, 1, &be2, err, sizeof(err)),
                     -EAGAIN);
    be.ops->destroy(be.dev);
    assert_int_equal(virtio_blk_new(blk_path, 1, &be, err, sizeof(err)), 0);
    assert_int_equal(virtio_blk_new(blk_path, 1, &be2, err, sizeof(err)), 0);
    be.ops->destroy(be.dev);
    be2.ops->destroy(be2.dev);
    /* No permission to write: says what to do. */
    if (geteuid() != 0) {
        assert_int_equal(chmod(blk_path, 0400), 0);
        assert_int_equal(virtio_blk_new(blk_path, 0, &be, err, sizeof(err)),
                         -EACCES);
        assert_non_null(strstr(err, "readonly=on"));
    }
    unlink(blk_path);
    blk_path[0] = 0;
}

static void test_indirect(void **state)
{
    struct tdev *t = *state;
    uint64_t table = alloc(t, 4 * 16), hdr = alloc(t, 16), st = alloc(t, 1),
             buf = alloc(t, 1024);
    uint32_t tp = htole32(VIRTIO_BLK_T_IN), id, len;
    uint64_t sec = htole64(20);

    drv_up(t, F(VIRTIO_F_INDIRECT_DESC), 1, 64);
    memcpy(gp(t, hdr), &tp, 4);
    memcpy(gp(t, hdr + 8), &sec, 8);
    /* Table order scrambled through next, as the spec allows. */
    put_desc(t, table, 0, hdr, 16, VIRTQ_DESC_F_NEXT, 2);
    put_desc(t, table, 2, buf, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    put_desc(t, table, 1, buf + 512, 512,
             VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
    put_desc(t, table, 3, st, 1, VIRTQ_DESC_F_WRITE, 0);
    put_desc(t, t->q[0].desc, 5, table, 64, VIRTQ_DESC_F_INDIRECT, 0);
    publish(t, 0, 5);
    notify(t, 0);
    take_used(t, 0, &id, &len);
    assert_int_equal(id, 5);
    assert_int_equal(len, 1025);
    assert_int_equal(*gp(t, st), VIRTIO_BLK_S_OK);
    check_pattern(gp(t, buf), 20, 2);

    /* Direct descriptors followed by one indirect one (2.7.5.3.2). */
    put_desc(t, table, 0, buf, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    put_desc(t, table, 1, st, 1, VIRTQ_DESC_F_WRITE, 0);
    put_desc(t, t->q[0].desc, 7, hdr, 16, VIRTQ_DESC_F_NEXT, 8);
    put_desc(t, t->q[0].desc, 8, table, 32, VIRTQ_DESC_F_INDIRECT, 0);
    sec = htole64(30);
    memcpy(gp(t, hdr + 8), &sec, 8);
    publish(t, 0, 7);
    notify(t, 0);
    take_used(t, 0, &id, &len);
    assert_int_equal(id, 7);
    check_pattern(gp(t, buf), 30, 1);
    assert_false(needs_reset(t));
}

/* ---------------------------------------------------------------- hostile */

/* After a violation: needs-reset with a config interrupt, a diagnostic,
 * nothing used, and the queue ignored until a reset. */
static void expect_broken(struct tdev *t, uint16_t used_before)
{
    char why[256];
    uint64_t buf = alloc(t, 512);

    assert_true(needs_reset(t));
    assert_true(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
    assert_int_equal(atomic_load(&t->irq.level), 1);
    assert_int_equal(virtio_mmio_error(t->vm, why, sizeof(why)), 1);
    assert_non_null(strstr(why, "virtio-blk: queue 0: "));
    assert_int_equal(used_idx(t, 0), used_before);
    /* A good request now is not served. */
    struct seg s[3] = { { alloc(t, 16), 16, false }, { buf, 512, true },
                        { alloc(t, 1), 1, true } };
    memset(gp(t, s[0].addr), 0, 16);
    submit(t, 0, s, 3);
    notify(t, 0);
    assert_int_equal(used_idx(t, 0), used_before);
    /* Writing Status cannot clear NEEDS_RESET; a reset does. */
    wr(t, VIRTIO_MMIO_STATUS, 0x0f);
    assert_true(needs_reset(t));
    memset(gp(t, RAM_BASE), 0, QUEUE_AREA);
    memset(t->q, 0, sizeof(t->q));
    drv_up(t, F(VIRTIO_F_INDIRECT_DESC), 1, 16);
    assert_int_equal(virtio_mmio_error(t->vm, why, sizeof(why)), 0);
    assert_int_equal(atomic_load(&t->irq.level), 0);
    assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 3, buf, 512, NULL),
                     VIRTIO_BLK_S_OK);
    check_pattern(gp(t, buf), 3, 1);
}

enum hostile {
    H_OUT_OF_RAM, H_HUGE_LEN, H_WRAP_ADDR, H_LOOP, H_LOOP2, H_HEAD_RANGE,
    H_NEXT_RANGE, H_READ_AFTER_WRITE, H_INDIRECT_LOOP, H_INDIRECT_NESTED,
    H_INDIRECT_LEN, H_INDIRECT_ZERO, H_INDIRECT_NEXT, H_INDIRECT_OUT,
    H_INDIRECT_HUGE, H_TOO_MANY, H_AVAIL_JUMP, H_NO_HEADER, H_NO_STATUS,
    H_COUNT
};

static void build_hostile(struct tdev *t, enum hostile h)
{
    uint64_t d = t->q[0].desc, tab = alloc(t, 64 * 16), buf = alloc(t, 512),
             hdr = alloc(t, 16);
    uint16_t W = VIRTQ_DESC_F_WRITE, N = VIRTQ_DESC_F_NEXT,
             I = VIRTQ_DESC_F_INDIRECT;

    memset(gp(t, hdr), 0, 16);
    switch (h) {
    case H_OUT_OF_RAM:
        put_desc(t, d, 0, hdr, 16, N, 1);
        put_desc(t, d, 1, RAM_BASE + RAM_SIZE - 256, 512, N | W, 2);
        put_desc(t, d, 2, buf, 1, W, 0);
        break;
    case H_HUGE_LEN:
        put_desc(t, d, 0, hdr, 16, N, 1);
        put_desc(t, d, 1, buf, UINT32_MAX, W, 0);
        break;
    case H_WRAP_ADDR:
        put_desc(t, d, 0, UINT64_MAX - 7, 16, 0, 0);
        break;
    case H_LOOP:
        put_desc(t, d, 0, hdr, 16, N, 0);
        break;
    case H_LOOP2:
        put_desc(t, d, 0, hdr, 16, N, 1);
        put_desc(t, d, 1, buf, 0, N | W, 2);
        put_desc(t, d, 2, buf, 0, N | W, 1);
        break;
    case H_HEAD_RANGE:
        publish(t, 0, 16);
        return;
    case H_NEXT_RANGE:
        put_desc(t, d, 0, hdr, 16, N, 999);
        break;
    case H_READ_AFTER_WRITE:
        put_desc(t, d, 0, buf, 1, N | W, 1);
        put_desc(t, d, 1, hdr, 16, N, 2);
        put_desc(t, d, 2, buf, 1, W, 0);
        break;
    case H_INDIRECT_LOOP:
        put_desc(t, tab, 0, hdr, 16, N, 1);
        put_desc(t, tab, 1, buf, 1, N | W, 0);
        put_desc(t, d, 0, tab, 32, I, 0);
        break;
    case H_INDIRECT_NESTED:
        put_desc(t, tab, 0, tab, 32, I, 0);
        put_desc(t, d, 0, tab, 32, I, 0);
        break;
    case H_INDIRECT_LEN:
        put_desc(t, d, 0, tab, 24, I, 0);
        break;
    case H_INDIRECT_ZERO:
        put_desc(t, d, 0, tab, 0, I, 0);
        break;
    case H_INDIRECT_NEXT:
        put_desc(t, tab, 0, hdr, 16, 0, 0);
        put_desc(t, d, 0, tab, 16, I | N, 1);
        put_desc(t, d, 1, buf, 1, W, 0);
        break;
    case H_INDIRECT_OUT:
        put_desc(t, d, 0, RAM_BASE + RAM_SIZE - 16, 32, I, 0);
        break;
    case H_INDIRECT_HUGE:
        put_desc(t, d, 0, RAM_BASE, (VIRTIO_BLK_QUEUE_MAX + 1) * 16, I, 0);
        break;
    case H_TOO_MANY: {
        /* Each part within bounds, together over QueueNumMax buffers. */
        uint64_t big = alloc(t, VIRTIO_BLK_QUEUE_MAX * 16);
        unsigned i;

        for (i = 0; i < VIRTIO_BLK_QUEUE_MAX; i++)
            put_desc(t, big, i, buf, 1, W | (i + 1 < VIRTIO_BLK_QUEUE_MAX ? N : 0),
                     (uint16_t)(i + 1));
        put_desc(t, d, 0, hdr, 16, N, 1);
        put_desc(t, d, 1, big, VIRTIO_BLK_QUEUE_MAX * 16, I, 0);
        break;
    }
    case H_AVAIL_JUMP:
        t->q[0].avail_idx = (uint16_t)(t->q[0].avail_idx + t->q[0].num);
        put_desc(t, d, 0, hdr, 16, N, 1);
        put_desc(t, d, 1, buf, 1, W, 0);
        break;
    case H_NO_HEADER:
        put_desc(t, d, 0, hdr, 8, N, 1);
        put_desc(t, d, 1, buf, 1, W, 0);
        break;
    case H_NO_STATUS:
        put_desc(t, d, 0, hdr, 16, 0, 0);
        break;
    case H_COUNT:
        break;
    }
    publish(t, 0, 0);
}

static void test_hostile_rings(void **state)
{
    struct tdev *t = *state;
    enum hostile h;

    for (h = 0; h < H_COUNT; h++) {
        uint16_t before;

        memset(gp(t, RAM_BASE), 0, QUEUE_AREA);
        memset(t->q, 0, sizeof(t->q));
        t->data_next = DATA_BASE;
        drv_up(t, F(VIRTIO_F_INDIRECT_DESC), 1, 16);
        /* A good request first, so "used" has something to protect. */
        assert_int_equal(blk_req(t, VIRTIO_BLK_T_IN, 1, alloc(t, 512), 512,
                                 NULL), VIRTIO_BLK_S_OK);
        wr(t, VIRTIO_MMIO_INTERRUPT_ACK, 3);
        before = used_idx(t, 0);
        t->q[0].next_desc = 0;
        build_hostile(t, h);
        notify(t, 0);
        print_message("hostile case %d\n", h);
        expect_broken(t, before);
    }
}

static void test_bad_queue_setup(void **state)
{
    struct tdev *t = *state;
    static const unsigned nums[] = { 0, 3, 100, 512, 0x10000 };
    unsigned i;

    for (i = 0; i < 5 + 4; i++) {
        assert_true(drv_negotiate(t, F(VIRTIO_F_VERSION_1)) &
                    VIRTIO_STATUS_FEATURES_OK);
        if (i < 5)
            drv_queue_at(t, 0, nums[i], RAM_BASE, RAM_BASE + 0x4000,
                         RAM_BASE + 0x8000);
        else if (i == 5)    /* rings outside RAM */
            drv_queue_at(t, 0, 16, 0x1000, RAM_BASE + 0x4000,
                         RAM_BASE + 0x8000);
        else if (i == 6)    /* used ring running off the end of RAM */
            drv_queue_at(t, 0, 256, RAM_BASE, RAM_BASE + 0x4000,
                         RAM_BASE + RAM_SIZE - 0x100);
        else if (i == 7)    /* misaligned descriptor table */
            drv_queue_at(t, 0, 16, RAM_BASE + 8, RAM_BASE + 0x4000,
                         RAM_BASE + 0x8000);
        else                /* address beyond 4 GiB through the high half */
            drv_queue_at(t, 0, 16, RAM_BASE | (UINT64_C(1) << 40),
                         RAM_BASE + 0x4000, RAM_BASE + 0x8000);
        assert_true(needs_reset(t));
        /* Before DRIVER_OK there is no config interrupt to send. */
        assert_int_equal(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
        drv_ok(t);
        assert_true(needs_reset(t));
    }
}

/* Descriptors far larger than RAM would allow, through a guest_mem whose
 * "RAM" is a 9 GiB reservation with only the first MiB accessible: the
 * sum check must reject chains before anything is touched. */
static uint8_t *huge_map(void *opaque, uint64_t gpa, uint64_t len, int write)
{
    uint8_t *base = opaque;
    const uint64_t size = UINT64_C(9) << 30;

    (void)write;
    if (gpa < RAM_BASE || gpa - RAM_BASE > size || len > size - (gpa - RAM_BASE))
        return NULL;
    return base + (gpa - RAM_BASE);
}

static void test_huge_lengths(void **state)
{
    const uint64_t size = UINT64_C(9) << 30;
    uint8_t *big = mmap(NULL, size, PROT_NONE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    struct virtio_backend be;
    struct tdev t;
    uint32_t id, len;

    (void)state;
    if (big == MAP_FAILED)
        skip();
    assert_int_equal(mprotect(big, RAM_SIZE, PROT_READ | PROT_WRITE), 0);
    assert_int_equal(virtio_rng_new(&be), 0);
    tdev_init(&t, be, IRQ_LINE);
    free(t.ram.mem);
    t.ram.mem = big;        /* gp() still sees the accessible MiB */
    t.gm = (struct guest_mem){ huge_map, big };
    virtio_mmio_free(t.vm);
    assert_int_equal(virtio_rng_new(&be), 0);
    t.vm = virtio_mmio_new(be.ops, be.dev, &t.gm,
                           (struct irq_line){ fake_irq_set, &t.irq, IRQ_LINE });
    assert_non_null(t.vm);
    drv_up(&t, 0, 1, 16);

    /* One 4 GiB - 1 buffer: legal; the device fills only its cap. */
    struct seg one = { RAM_BASE + 0x80000, UINT32_MAX, true };
    submit(&t, 0, &one, 1);
    notify(&t, 0);
    take_used(&t, 0, &id, &len);
    assert_int_equal(len, VIRTIO_RNG_MAX_FILL);
    assert_false(needs_reset(&t));

    /* Two of them overflow the 32-bit total. */
    struct seg two[2] = { { RAM_BASE + 0x80000, UINT32_MAX, true },
                          { RAM_BASE + 0x100000000ull, UINT32_MAX, true } };
    submit(&t, 0, two, 2);
    notify(&t, 0);
    assert_true(needs_reset(&t));
    assert_int_equal(used_idx(&t, 0), 1);

    virtio_mmio_free(t.vm);
    munmap(big, size);
}

/* ---------------------------------------------------------------- rng */

static void test_rng(void **state)
{
    struct virtio_backend be;
    struct tdev t;
    uint64_t a, b;
    uint32_t id, len;
    unsigned i, nonzero = 0;

    (void)state;
    assert_int_equal(virtio_rng_new(&be), 0);
    tdev_init(&t, be, IRQ_LINE);
    assert_int_equal(rd(&t, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
    drv_up(&t, 0, 1, 64);
    a = alloc(&t, 64);
    b = alloc(&t, 64);
    struct seg s[2] = { { a, 40, true }, { b, 24, true } };
    submit(&t, 0, s, 2);
    /* Read-only buffer only: nothing to fill, still returned. */
    struct seg r = { b, 8, false };
    submit(&t, 0, &r, 1);
    notify(&t, 0);
    take_used(&t, 0, &id, &len);
    assert_int_equal(len, 64);
    take_used(&t, 0, &id, &len);
    assert_int_equal(len, 0);
    for (i = 0; i < 40; i++)
        nonzero += gp(&t, a)[i] != 0;
    assert_true(nonzero > 20);
    assert_int_equal(atomic_load(&t.irq.level), 1);
    tdev_fini(&t);
}

/* ---------------------------------------------------------------- console */

static void test_console_tx(void **state)
{
    struct virtio_backend be;
    struct tdev t;
    int p[2];
    char got[32] = { 0 };
    uint64_t a, b;
    uint32_t id, len;

    (void)state;
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    assert_int_equal(virtio_console_new(-1, p[1], 0, 0, &be), 0);
    tdev_init(&t, be, IRQ_LINE);
    assert_int_equal(rd(&t, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
    wr(&t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    assert_int_equal(rd(&t, VIRTIO_MMIO_DEVICE_FEATURES),
                     F(VIRTIO_CONSOLE_F_EMERG_WRITE) | F(VIRTIO_F_INDIRECT_DESC));
    assert_int_equal(rd(&t, VIRTIO_MMIO_CONFIG + VIRTIO_CONSOLE_CFG_NR_PORTS), 1);
    assert_int_equal(rd(&t, VIRTIO_MMIO_CONFIG), 0);
    drv_up(&t, 0, 2, 64);
    a = alloc(&t, 8);
    b = alloc(&t, 8);
    memcpy(gp(&t, a), "hel", 3);
    memcpy(gp(&t, b), "lo\n", 3);
    struct seg s[2] = { { a, 3, false }, { b, 3, false } };
    submit(&t, 1, s, 2);
    notify(&t, 1);
    take_used(&t, 1, &id, &len);
    assert_int_equal(len, 0);
    assert_int_equal(read(p[0], got, sizeof(got)), 6);
    assert_string_equal(got, "hello\n");
    /* Emergency write. */
    virtio_mmio_ops.write(t.vm, VIRTIO_MMIO_CONFIG + VIRTIO_CONSOLE_CFG_EMERG_WR,
                          4, '!');
    assert_int_equal(read(p[0], got, sizeof(got)), 1);
    assert_int_equal(got[0], '!');
    tdev_fini(&t);
    close(p[0]);
    close(p[1]);
}

/* Wait (bounded) until queue qi has n used entries. */
static bool wait_used(struct tdev *t, unsigned qi, uint16_t n)
{
    int i;

    for (i = 0; i < 2000; i++) {
        virtio_mmio_lock(t->vm);     /* orders us after the reader */
        uint16_t u = used_idx(t, qi);
        virtio_mmio_unlock(t->vm);
        if (u == n)
            return true;
        usleep(1000);
    }
    return false;
}

static void test_console_rx(void **state)
{
    struct virtio_backend be;
    struct tdev t;
    int p[2];
    uint64_t a;
    uint32_t id, len;

    (void)state;
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    assert_int_equal(virtio_console_new(p[0], -1, 80, 25, &be), 0);
    tdev_init(&t, be, IRQ_LINE);
    wr(&t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    assert_true(rd(&t, VIRTIO_MMIO_DEVICE_FEATURES) & F(VIRTIO_CONSOLE_F_SIZE));
    assert_int_equal(rd(&t, VIRTIO_MMIO_CONFIG), 80 | (25 << 16));

    /* Input before the driver is up waits in the device. */
    assert_int_equal(write(p[1], "early", 5), 5);
    assert_true(drv_negotiate(&t, F(VIRTIO_F_VERSION_1)) &
                VIRTIO_STATUS_FEATURES_OK);
    drv_queue(&t, 0, 64);
    drv_queue(&t, 1, 64);
    a = alloc(&t, 64);
    struct seg s = { a, 3, true };
    submit(&t, 0, &s, 1);
    notify(&t, 0);              /* before DRIVER_OK: must not be used */
    usleep(20000);
    assert_int_equal(used_idx(&t, 0), 0);
    drv_ok(&t);                 /* the kick on DRIVER_OK delivers */
    assert_true(wait_used(&t, 0, 1));
    take_used(&t, 0, &id, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(gp(&t, a), "ear", 3);
    /* The rest goes out when the next buffer arrives. */
    s.addr = a + 8;
    s.len = 16;
    submit(&t, 0, &s, 1);
    notify(&t, 0);
    assert_true(wait_used(&t, 0, 2));
    take_used(&t, 0, &id, &len);
    assert_int_equal(len, 2);
    assert_memory_equal(gp(&t, a + 8), "ly", 2);
    /* Input arriving with a buffer already posted. */
    s.addr = a + 32;
    submit(&t, 0, &s, 1);
    notify(&t, 0);
    assert_int_equal(write(p[1], "xyz", 3), 3);
    assert_true(wait_used(&t, 0, 3));
    take_used(&t, 0, &id, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(gp(&t, a + 32), "xyz", 3);
    assert_true(rd(&t, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_VRING);
    tdev_fini(&t);              /* joins the reader */
    close(p[0]);
    close(p[1]);
}

/* More input than the device buffers, with no receive buffers: the reader
 * must block (not drop, not spin) and free must still end it. */
static void test_console_backpressure(void **state)
{
    struct virtio_backend be;
    struct tdev t;
    int p[2];
    char junk[8192];

    (void)state;
    assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    assert_int_equal(virtio_console_new(p[0], -1, 0, 0, &be), 0);
    tdev_init(&t, be, IRQ_LINE);
    memset(junk, 'q', sizeof(junk));
    assert_int_equal(write(p[1], junk, sizeof(junk)), sizeof(junk));
    usleep(20000);
    tdev_fini(&t);
    close(p[0]);
    close(p[1]);
}

/* ---------------------------------------------------------------- chaos */

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* A structurally plausible request on queue qi: a 16-byte header of a
 * random (mostly known) type, then up to three buffers, usually readable
 * before writable, of random lengths in the data area. */
static void chaos_chain(struct tdev *t, uint64_t *seed, unsigned qi)
{
    struct seg s[4];
    unsigned n = 1 + rnd(seed) % 4, i;
    uint64_t hdr = DATA_BASE + (rnd(seed) % 0x8000) * 16;
    uint32_t type = htole32((uint32_t)(rnd(seed) % 10));
    uint64_t sec = htole64(rnd(seed) % (SECTORS + 8));
    bool w = false;

    memcpy(gp(t, hdr), &type, 4);
    memcpy(gp(t, hdr + 8), &sec, 8);
    s[0] = (struct seg){ hdr, 16, false };
    for (i = 1; i < n; i++) {
        uint64_t r = rnd(seed);
        uint32_t len = (r & 1) ? 512 * (uint32_t)((r >> 1) % 5)
                               : (uint32_t)((r >> 1) % 2048);

        w = w || (r >> 20) % 3 == 0 || i == n - 1;
        if ((r >> 24) % 64 == 0)
            w = !w;             /* now and then out of order */
        s[i] = (struct seg){ DATA_BASE + (r >> 32) % 0x80000, len, w };
    }
    if (t->q[qi].num)
        submit(t, qi, s, n);
}

/* Random register traffic, with plausible ring addresses, random RAM and
 * random-but-plausible requests, against each device; ASan/UBSan police
 * the host side. */
static void chaos(struct virtio_backend be, uint64_t seed, unsigned iters)
{
    static const unsigned sizes[] = { 1, 2, 4, 8 };
    struct virtio_stats st;
    struct tdev t;
    unsigned i, q;

    tdev_init(&t, be, IRQ_LINE);
    for (i = 0; i < RAM_SIZE; i += 8) {
        uint64_t v = rnd(&seed);

        memcpy(t.ram.mem + i, &v, 8);
    }
    for (i = 0; i < iters; i++) {
        uint64_t r = rnd(&seed), v = rnd(&seed);
        uint64_t off = (r >> 8) % 0x140;
        unsigned size = sizes[(r >> 20) & 3];

        if ((r & 0xff) < 3) {       /* sometimes a proper bring-up */
            memset(t.q, 0, sizeof(t.q));
            memset(t.ram.mem, 0, 2 * QUEUE_AREA);
            drv_negotiate(&t, v | F(VIRTIO_F_VERSION_1));
            for (q = 0; q < 2; q++) {
                wr(&t, VIRTIO_MMIO_QUEUE_SEL, q);
                if (!rd(&t, VIRTIO_MMIO_QUEUE_NUM_MAX))
                    break;
                if ((v >> 50) % 8)
                    drv_queue(&t, q, 1u << ((v >> 40) % 7));
                else        /* or rings anywhere */
                    drv_queue_at(&t, q, 1u << ((v >> 40) % 9),
                                 RAM_BASE + (v & 0xff000),
                                 RAM_BASE + ((v >> 8) & 0xffffe),
                                 RAM_BASE + ((v >> 20) & 0xffffc));
            }
            drv_ok(&t);
            continue;
        }
        if ((r & 0xff) < 60) {      /* requests, RAM pokes, notifies */
            q = (unsigned)(v & 1);
            if ((r & 0xff) < 40)
                chaos_chain(&t, &seed, q);
            else
                t.ram.mem[(v >> 8) % RAM_SIZE] = (uint8_t)(v >> 32);
            wr(&t, VIRTIO_MMIO_QUEUE_NOTIFY, q);
            continue;
        }
        if ((r & 0xff) < 64)
            off = VIRTIO_MMIO_STATUS;
        if ((r >> 30) & 1) {
            /* Offsets near the ring registers get RAM-ish values. */
            if (off >= VIRTIO_MMIO_QUEUE_DESC_LOW && !(off & 4))
                v = RAM_BASE + (v % RAM_SIZE);
            virtio_mmio_ops.write(t.vm, off, size, v);
        } else {
            virtio_mmio_ops.read(t.vm, off, size);
        }
    }
    virtio_mmio_stats(t.vm, &st);
    print_message("chaos: %llu notifies, %llu requests, %llu errors\n",
                  (unsigned long long)st.notifications,
                  (unsigned long long)st.requests,
                  (unsigned long long)st.errors);
    assert_true(st.requests > 0 && st.errors > 0);
    tdev_fini(&t);
}

static void test_chaos(void **state)
{
    struct virtio_backend be;
    char err[256];
    int p[2], devnull;

    (void)state;
    make_image();
    assert_int_equal(virtio_blk_new(blk_path, 0, &be, err, sizeof(err)), 0);
    chaos(be, 0x1234567, 100000);
    assert_int_equal(virtio_rng_new(&be), 0);
    chaos(be, 0x7654321, 100000);
    /* Output to /dev/null: looping it back into the input pipe could
     * fill both and wedge the test, not the device. */
    assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    assert_true(devnull >= 0);
    assert_int_equal(virtio_console_new(p[0], devnull, 0, 0, &be), 0);
    assert_int_equal(write(p[1], "input", 5), 5);
    chaos(be, 0xabcdef, 100000);
    close(p[0]);
    close(p[1]);
    close(devnull);
    unlink(blk_path);
    blk_path[0] = 0;
}

/* ---------------------------------------------------------------- queue */

/* virtqueue helpers on their own: piecewise copies and iovec slices. */
static void test_virtq_copy(void **state)
{
    uint8_t a[5], b[7], c[3], out[16];
    struct virtq_iov iov[3] = { { a, 5 }, { b, 7 }, { c, 3 } };
    struct virtq_elem e = { .nout = 1, .nin = 2, .out_len = 5, .in_len = 10,
                            .iov = iov };
    struct iovec v[4];

    (void)state;
    memcpy(a, "ABCDE", 5);
    assert_int_equal(virtq_read(&e, 2, out, 16), 3);
    assert_memory_equal(out, "CDE", 3);
    assert_int_equal(virtq_read(&e, 9, out, 16), 0);
    assert_int_equal(virtq_write(&e, 5, "0123456789", 10), 5);
    assert_memory_equal(b + 5, "01", 2);
    assert_memory_equal(c, "234", 3);
    assert_int_equal(virtq_iovec(&e, true, 6, 3, v, 4), 2);
    assert_ptr_equal(v[0].iov_base, b + 6);
    assert_int_equal(v[0].iov_len, 1);
    assert_ptr_equal(v[1].iov_base, c);
    assert_int_equal(v[1].iov_len, 2);
    assert_int_equal(virtq_iovec(&e, true, 0, 100, v, 1), 1);
    assert_int_equal(v[0].iov_len, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_slot),
        cmocka_unit_test(test_new_args),
        cmocka_unit_test(test_virtq_copy),
        cmocka_unit_test_setup_teardown(test_features, blk_setup, dev_teardown),
        cmocka_unit_test_setup_teardown(test_queue_regs, blk_setup, dev_teardown),
        cmocka_unit_test_setup_teardown(test_blk_config, blk_setup, dev_teardown),
        cmocka_unit_test_setup_teardown(test_config_changed, blk_setup,
                                        dev_teardown),
        cmocka_unit_test_setup_teardown(test_blk_read, blk_setup, dev_teardown),
        cmocka_unit_test_setup_teardown(test_blk_write_flush, blk_setup,
                                        dev_teardown),
        cmocka_unit_test_setup_teardown(test_blk_get_id, blk_setup,
                                        dev_teardown),
        cmocka_unit_test_setup_teardown(test_blk_errors, blk_setup,
                                        dev_teardown),
        cmocka_unit_test_setup_teardown(test_blk_readonly, blk_ro_setup,
                                        dev_teardown),
        cmocka_unit_test(test_blk_new_errors),
        cmocka_unit_test_setup_teardown(test_indirect, blk_setup, dev_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_rings, blk_setup,
                                        dev_teardown),
        cmocka_unit_test_setup_teardown(test_bad_queue_setup, blk_setup,
                                        dev_teardown),
        cmocka_unit_test(test_huge_lengths),
        cmocka_unit_test(test_rng),
        cmocka_unit_test(test_console_tx),
        cmocka_unit_test(test_console_rx),
        cmocka_unit_test(test_console_backpressure),
        cmocka_unit_test(test_chaos),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
