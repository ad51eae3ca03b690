/* virtio-mmio transport, virtio 1.2 section 4.2, modern (Version 2) only.
 *
 * Registers 0x000..0x0ff are 32-bit (other widths read 0 and are ignored,
 * as the spec allows the driver nothing else); the device-specific config
 * space starts at 0x100 and takes 1-, 2-, 4- and 8-byte accesses, which go
 * to the back-end. One transport serves one device back-end plugged in
 * through struct virtio_dev_ops; with ops NULL it is an empty slot
 * (DeviceID 0), as QEMU's virt leaves unused slots.
 *
 * The transport always offers VIRTIO_F_VERSION_1 and
 * VIRTIO_F_INDIRECT_DESC and refuses FEATURES_OK (the bit does not stick)
 * when the driver did not accept VERSION_1. Queues run only after
 * FEATURES_OK and DRIVER_OK; on DRIVER_OK every ready queue is kicked
 * once, so buffers added before it are seen.
 *
 * Needs-reset: when a queue turns out malformed (see virtqueue.h), or a
 * back-end calls virtio_mmio_needs_reset(), the device sets
 * DEVICE_NEEDS_RESET (64) in Status, stops every queue and, if DRIVER_OK
 * was set, raises a configuration-change interrupt. Only a reset (Status
 * written 0) brings it back. The reason is kept for the engine to report.
 *
 * Locking: one mutex per transport, which is also the back-end's lock.
 * Every ops callback runs with it held; a back-end's own threads take it
 * with virtio_mmio_lock() before touching queues. The functions marked
 * "locked" below must be called with it held (from a callback or between
 * lock/unlock). The irq line is driven with it held, so the lock order is
 * transport -> PLIC -> hart line; set() must not call back in here. */
#ifndef GLASSBOX_DEVICES_VIRTIO_MMIO_H
#define GLASSBOX_DEVICES_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdint.h>

#include "glassbox/bus.h"
#include "glassbox/guest_mem.h"
#include "virtqueue.h"

#define VIRTIO_MMIO_SIZE            0x1000  /* one slot on QEMU's virt */
#define VIRTIO_MMIO_CONFIG          0x100   /* device config space */

/* Register offsets (virtio 1.2 4.2.2). */
#define VIRTIO_MMIO_MAGIC_VALUE     0x000
#define VIRTIO_MMIO_VERSION         0x004
#define VIRTIO_MMIO_DEVICE_ID       0x008
#define VIRTIO_MMIO_VENDOR_ID       0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL       0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX   0x034
#define VIRTIO_MMIO_QUEUE_NUM       0x038
#define VIRTIO_MMIO_QUEUE_READY     0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY    0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK   0x064
#define VIRTIO_MMIO_STATUS          0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW  0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_SHM_SEL         0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW     0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH    0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW    0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH   0x0bc
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc

#define VIRTIO_MMIO_MAGIC           0x74726976  /* "virt" */
#define VIRTIO_MMIO_VENDOR          0x554d4551  /* "QEMU", as QEMU */

#define VIRTIO_MMIO_INT_VRING       1
#define VIRTIO_MMIO_INT_CONFIG      2

/* Device status bits (virtio 1.2 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE   1
#define VIRTIO_STATUS_DRIVER        2
#define VIRTIO_STATUS_DRIVER_OK     4
#define VIRTIO_STATUS_FEATURES_OK   8
#define VIRTIO_STATUS_NEEDS_RESET   64
#define VIRTIO_STATUS_FAILED        128

/* Reserved feature bits (virtio 1.2 6). */
#define VIRTIO_F_INDIRECT_DESC      28
#define VIRTIO_F_EVENT_IDX          29
#define VIRTIO_F_VERSION_1          32

#define VIRTIO_BIT(b)               (UINT64_C(1) << (b))

struct virtio_mmio;

/* A device back-end. Callbacks run with the transport lock held. */
struct virtio_dev_ops {
    const char *name;           /* "virtio-blk", for diagnostics */
    uint32_t device_id;
    unsigned num_queues;
    unsigned queue_max;         /* QueueNumMax: power of two */
    /* Device-specific feature bits for this instance; NULL for none. */
    uint64_t (*features)(void *dev);
    /* Config space, off relative to 0x100, size 1/2/4/8. Out of range
     * reads 0 (virtio_config_bytes() does this); NULL for no config. */
    uint64_t (*config_read)(void *dev, unsigned off, unsigned size);
    void (*config_write)(void *dev, unsigned off, unsigned size,
                         uint64_t val);
    /* The driver notified queue idx (enabled, device not needing reset).
     * Pop, process, push, then virtio_mmio_notify_used(). */
    void (*queue_notify)(void *dev, struct virtio_mmio *vm,
                         struct virtqueue *vq, unsigned idx);
    /* Device reset (Status written 0): drop in-flight state. May be NULL. */
    void (*reset)(void *dev);
    /* Called once from virtio_mmio_new(), before any other callback and
     * without the lock (nothing runs yet): start threads. May be NULL. */
    int (*attach)(void *dev, struct virtio_mmio *vm);
    /* Stop threads and free dev. Called by virtio_mmio_free(), without
     * the lock. */
    void (*destroy)(void *dev);
};

/* What a device constructor hands back: plug into virtio_mmio_new(), or
 * release with be.ops->destroy(be.dev) if it never gets there. */
struct virtio_backend {
    const struct virtio_dev_ops *ops;
    void *dev;
};

/* Counters the stats sampler reads without taking the lock. Direction
 * follows virtio: "out" is driver to device (disk writes, console output),
 * "in" device to driver (disk reads, entropy, console input). */
struct virtio_stats {
    uint64_t requests;          /* chains completed */
    uint64_t bytes_out, bytes_in;
    uint64_t errors;            /* failed requests and ring violations */
    uint64_t notifications;     /* QueueNotify writes */
    uint64_t interrupts;        /* used-buffer and config interrupts */
};

/* Takes ownership of dev: on failure dev is destroyed too. ops NULL gives
 * an empty slot. gm (copied) and ops must outlive the transport. NULL with
 * errno set on bad ops (EINVAL), no memory or a failing attach(). */
struct virtio_mmio *virtio_mmio_new(const struct virtio_dev_ops *ops,
                                    void *dev, const struct guest_mem *gm,
                                    struct irq_line irq);
/* Destroys the back-end first, then the transport. NULL is allowed. */
void virtio_mmio_free(struct virtio_mmio *vm);
/* Machine reset: as if the driver wrote 0 to Status. */
void virtio_mmio_reset(struct virtio_mmio *vm);

/* opaque = the struct virtio_mmio */
extern const struct bus_ops virtio_mmio_ops;

void virtio_mmio_lock(struct virtio_mmio *vm);
void virtio_mmio_unlock(struct virtio_mmio *vm);
/* Wait on cond with the transport lock (held) released meanwhile. */
void virtio_mmio_cond_wait(struct virtio_mmio *vm, pthread_cond_t *cond);

/* Locked. Queue idx, or NULL if out of range. */
struct virtqueue *virtio_mmio_queue(struct virtio_mmio *vm, unsigned idx);
/* Locked. After pushing to vq: raise the used-buffer interrupt unless the
 * driver suppressed it. */
void virtio_mmio_notify_used(struct virtio_mmio *vm, struct virtqueue *vq);
/* Locked. The config space changed: bump ConfigGeneration and interrupt. */
void virtio_mmio_config_changed(struct virtio_mmio *vm);
/* Locked. Enter the needs-reset state; why is kept for the engine. */
void virtio_mmio_needs_reset(struct virtio_mmio *vm, const char *why);
/* Locked. Count one completed request; error != 0 counts an error too. */
void virtio_mmio_account(struct virtio_mmio *vm, uint64_t bytes_out,
                         uint64_t bytes_in, int error);

/* Any thread, lock-free snapshot. */
void virtio_mmio_stats(struct virtio_mmio *vm, struct virtio_stats *out);
/* Any thread. 1 and the reason ("virtio-blk: queue 0: ...") in buf if the
 * device has been in needs-reset since its last reset, else 0. */
int virtio_mmio_error(struct virtio_mmio *vm, char *buf, size_t len);
/* Any thread: the Status register (for diagnostics and tests). */
uint32_t virtio_mmio_status(struct virtio_mmio *vm);

/* Little-endian read of size bytes at off of a config image of len bytes;
 * bytes beyond it read 0. */
uint64_t virtio_config_bytes(const void *cfg, size_t len, unsigned off,
                             unsigned size);

#endif
