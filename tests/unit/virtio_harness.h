/* A fake guest (RAM buffer, interrupt line) and a driver that speaks the
 * virtio-mmio registers the way Linux's virtio_mmio does, shared by the
 * virtio transport/blk/rng/console tests and the virtio-net tests. */
#ifndef TEST_VIRTIO_HARNESS_H
#define TEST_VIRTIO_HARNESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "glassbox/bus.h"
#include "glassbox/guest_mem.h"
#include "virtio_mmio.h"

#define RAM_BASE    UINT64_C(0x80000000)
#define RAM_SIZE    (1u << 20)
#define QUEUE_AREA  0x10000     /* queue i's rings at RAM_BASE + i*0x10000 */
#define DATA_BASE   (RAM_BASE + 0x40000)
#define F(b)        VIRTIO_BIT(b)

struct fake_ram {
    uint8_t *mem;
    uint64_t base, size;
};

/* guest_mem map over a fake_ram: NULL unless the range lies inside it */
uint8_t *ram_map(void *opaque, uint64_t gpa, uint64_t len, int write);

struct fake_irq {
    atomic_int level;
    atomic_int sets;
    unsigned line;              /* the irq number the device must use */
};

void fake_irq_set(void *opaque, unsigned n, int level);

/* One device under test with its guest RAM and a driver's view of it. */
struct tq {
    uint64_t desc, avail, used;
    unsigned num;
    uint16_t avail_idx, used_seen, next_desc;
};

struct tdev {
    struct fake_ram ram;
    struct guest_mem gm;
    struct fake_irq irq;
    struct virtio_mmio *vm;
    void *dev;                  /* the back-end, for device-specific stats */
    struct tq q[2];
    uint64_t data_next;         /* bump allocator for buffers */
};

struct seg {
    uint64_t addr;
    uint32_t len;
    bool write;
};

/* Fake RAM plus the transport around be, on interrupt line `line`. */
void tdev_init(struct tdev *t, struct virtio_backend be, unsigned line);
void tdev_fini(struct tdev *t);
uint32_t rd(struct tdev *t, uint64_t off);
void wr(struct tdev *t, uint64_t off, uint32_t v);
uint8_t *gp(struct tdev *t, uint64_t gpa);
uint64_t alloc(struct tdev *t, uint64_t len);
void put16(struct tdev *t, uint64_t gpa, uint16_t v);
uint16_t get16(struct tdev *t, uint64_t gpa);
uint32_t get32(struct tdev *t, uint64_t gpa);

/* Linux's order: reset, ACKNOWLEDGE, DRIVER, read features, write the
 * subset wanted, FEATURES_OK. Returns the final Status. */
uint32_t drv_negotiate(struct tdev *t, uint64_t want);
/* Program a queue's registers as given (no checks: hostile tests use it). */
void drv_queue_regs(struct tdev *t, unsigned qi, unsigned num, uint64_t desc,
                    uint64_t avail, uint64_t used);
/* The same as a well-behaved driver: the queue must be idle and offered. */
void drv_queue_at(struct tdev *t, unsigned qi, unsigned num, uint64_t desc,
                  uint64_t avail, uint64_t used);
void drv_queue(struct tdev *t, unsigned qi, unsigned num);
void drv_ok(struct tdev *t);
void put_desc(struct tdev *t, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
              uint16_t flags, uint16_t next);
/* Make head available (ring entry, then the index, as a driver does). */
void publish(struct tdev *t, unsigned qi, uint16_t head);
void notify(struct tdev *t, unsigned qi);
/* A direct chain in consecutive free descriptors; returns the head. */
uint16_t submit(struct tdev *t, unsigned qi, const struct seg *s, unsigned n);
uint16_t used_idx(struct tdev *t, unsigned qi);
/* The next used element; fails the test if there is none. */
void take_used(struct tdev *t, unsigned qi, uint32_t *id, uint32_t *len);
bool needs_reset(struct tdev *t);

#endif
