#define _GNU_SOURCE
#include <endian.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "virtio_harness.h"
#include "virtqueue.h"

uint8_t *ram_map(void *opaque, uint64_t gpa, uint64_t len, int write)
{
    struct fake_ram *r = opaque;

    (void)write;
    if (gpa < r->base || gpa - r->base > r->size || len > r->size - (gpa - r->base))
        return NULL;
    return r->mem + (gpa - r->base);
}

void fake_irq_set(void *opaque, unsigned n, int level)
{
    struct fake_irq *f = opaque;

    assert_int_equal(n, f->line);
    assert_true(level == 0 || level == 1);
    atomic_store(&f->level, level);
    atomic_fetch_add(&f->sets, 1);
}

void tdev_init(struct tdev *t, struct virtio_backend be, unsigned line)
{
    memset(t, 0, sizeof(*t));
    t->ram.mem = calloc(1, RAM_SIZE);
    assert_non_null(t->ram.mem);
    t->ram.base = RAM_BASE;
    t->ram.size = RAM_SIZE;
    t->gm = (struct guest_mem){ ram_map, &t->ram };
    t->irq.line = line;
    t->dev = be.dev;
    t->vm = virtio_mmio_new(be.ops, be.dev, &t->gm,
                            (struct irq_line){ fake_irq_set, &t->irq, line });
    assert_non_null(t->vm);
    t->data_next = DATA_BASE;
}

void tdev_fini(struct tdev *t)
{
    virtio_mmio_free(t->vm);
    free(t->ram.mem);
}

uint32_t rd(struct tdev *t, uint64_t off)
{
    return (uint32_t)virtio_mmio_ops.read(t->vm, off, 4);
}

void wr(struct tdev *t, uint64_t off, uint32_t v)
{
    virtio_mmio_ops.write(t->vm, off, 4, v);
}

uint8_t *gp(struct tdev *t, uint64_t gpa)
{
    assert_true(gpa >= RAM_BASE && gpa < RAM_BASE + RAM_SIZE);
    return t->ram.mem + (gpa - RAM_BASE);
}

uint64_t alloc(struct tdev *t, uint64_t len)
{
    uint64_t a = t->data_next;

    t->data_next = (t->data_next + len + 15) & ~UINT64_C(15);
    assert_true(t->data_next <= RAM_BASE + RAM_SIZE);
    return a;
}

void put16(struct tdev *t, uint64_t gpa, uint16_t v)
{
    v = htole16(v);
    memcpy(gp(t, gpa), &v, 2);
}

uint16_t get16(struct tdev *t, uint64_t gpa)
{
    uint16_t v;

    memcpy(&v, gp(t, gpa), 2);
    return le16toh(v);
}

uint32_t get32(struct tdev *t, uint64_t gpa)
{
    uint32_t v;

    memcpy(&v, gp(t, gpa), 4);
    return le32toh(v);
}

uint32_t drv_negotiate(struct tdev *t, uint64_t want)
{
    uint64_t offered;

    assert_int_equal(rd(t, VIRTIO_MMIO_MAGIC_VALUE), VIRTIO_MMIO_MAGIC);
    assert_int_equal(rd(t, VIRTIO_MMIO_VERSION), 2);
    wr(t, VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(rd(t, VIRTIO_MMIO_STATUS), 0);
    wr(t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    wr(t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    offered = (uint64_t)rd(t, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
    wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    offered |= rd(t, VIRTIO_MMIO_DEVICE_FEATURES);
    want &= offered;
    wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(want >> 32));
    wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)want);
    wr(t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                              VIRTIO_STATUS_FEATURES_OK);
    return rd(t, VIRTIO_MMIO_STATUS);
}

void drv_queue_regs(struct tdev *t, unsigned qi, unsigned num, uint64_t desc,
                    uint64_t avail, uint64_t used)
{
    wr(t, VIRTIO_MMIO_QUEUE_SEL, qi);
    wr(t, VIRTIO_MMIO_QUEUE_NUM, num);
    wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
    wr(t, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
    wr(t, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
    wr(t, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
    wr(t, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
    wr(t, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
    wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
    if (qi < 2)
        t->q[qi] = (struct tq){ .desc = desc, .avail = avail, .used = used, .num = num };
}

void drv_queue_at(struct tdev *t, unsigned qi, unsigned num, uint64_t desc,
                  uint64_t avail, uint64_t used)
{
    wr(t, VIRTIO_MMIO_QUEUE_SEL, qi);
    assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_READY), 0);
    assert_true(rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX) != 0);
    drv_queue_regs(t, qi, num, desc, avail, used);
}

void drv_queue(struct tdev *t, unsigned qi, unsigned num)
{
    uint64_t base = RAM_BASE + (uint64_t)QUEUE_AREA * qi;

    drv_queue_at(t, qi, num, base, base + 0x4000, base + 0x8000);
}

void drv_ok(struct tdev *t)
{
    wr(t, VIRTIO_MMIO_STATUS, rd(t, VIRTIO_MMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
}

void put_desc(struct tdev *t, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
              uint16_t flags, uint16_t next)
{
    uint8_t *p = gp(t, table + 16 * (uint64_t)i);
    uint64_t a = htole64(addr);
    uint32_t l = htole32(len);
    uint16_t f = htole16(flags), n = htole16(next);

    memcpy(p, &a, 8);
    memcpy(p + 8, &l, 4);
    memcpy(p + 12, &f, 2);
    memcpy(p + 14, &n, 2);
}

void publish(struct tdev *t, unsigned qi, uint16_t head)
{
    struct tq *q = &t->q[qi];

    put16(t, q->avail + 4 + 2 * (q->avail_idx % q->num), head);
    q->avail_idx++;
    /* a device thread (console input, net receive) may read it meanwhile */
    __atomic_store_n((uint16_t *)(void *)gp(t, q->avail + 2), htole16(q->avail_idx),
                     __ATOMIC_RELEASE);
}

void notify(struct tdev *t, unsigned qi)
{
    wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, qi);
}

uint16_t submit(struct tdev *t, unsigned qi, const struct seg *s, unsigned n)
{
    struct tq *q = &t->q[qi];
    uint16_t head = q->next_desc;

    for (unsigned i = 0; i < n; i++) {
        uint16_t d = (uint16_t)((head + i) % q->num);

        put_desc(t, q->desc, d, s[i].addr, s[i].len,
                 (s[i].write ? VIRTQ_DESC_F_WRITE : 0) |
                 (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0),
                 (uint16_t)((d + 1) % q->num));
    }
    q->next_desc = (uint16_t)((head + n) % q->num);
    publish(t, qi, head);
    return head;
}

uint16_t used_idx(struct tdev *t, unsigned qi)
{
    return le16toh(__atomic_load_n((uint16_t *)(void *)gp(t, t->q[qi].used + 2),
                                   __ATOMIC_ACQUIRE));
}

void take_used(struct tdev *t, unsigned qi, uint32_t *id, uint32_t *len)
{
    struct tq *q = &t->q[qi];
    uint64_t e = q->used + 4 + 8 * (uint64_t)(q->used_seen % q->num);

    assert_true(used_idx(t, qi) != q->used_seen);
    *id = get32(t, e);
    *len = get32(t, e + 4);
    q->used_seen++;
}

bool needs_reset(struct tdev *t)
{
    return rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET;
}
