/* virtio-mmio transport. See virtio_mmio.h for behaviour and locking. */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio_mmio.h"

/* Bits a back-end may offer (virtio 1.2 6: 0..23 and 50..127 are device
 * specific); the transport decides the reserved ones itself. */
#define DEVICE_BITS_MASK  ((VIRTIO_BIT(24) - 1) | ~(VIRTIO_BIT(50) - 1))
#define TRANSPORT_FEATURES (VIRTIO_BIT(VIRTIO_F_VERSION_1) | \
                            VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC))
#define MAX_QUEUES        64    /* far above any device here */

struct stats_counters {
    _Atomic uint64_t requests, bytes_out, bytes_in, errors, notifications,
        interrupts;
};

struct virtio_mmio {
    pthread_mutex_t lock;
    const struct virtio_dev_ops *ops;   /* NULL: empty slot */
    void *dev;
    struct guest_mem gm;
    struct irq_line irq;
    int irq_level;

    uint64_t device_features, driver_features;
    uint32_t dev_feat_sel, drv_feat_sel, queue_sel, shm_sel;
    uint32_t status, isr, config_gen;

    struct stats_counters stats;
    bool has_error;
    char error[192];

    unsigned nqueues;
    struct virtqueue *vqs;
};

static void count(_Atomic uint64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* ---- interrupts and state, all with vm->lock held ---- */

static void update_irq(struct virtio_mmio *vm)
{
    int level = vm->isr != 0;

    if (level != vm->irq_level) {
        vm->irq_level = level;
        irq_set(&vm->irq, level);
    }
}

static void raise_irq(struct virtio_mmio *vm, uint32_t bit)
{
    vm->isr |= bit;
    count(&vm->stats.interrupts, 1);
    update_irq(vm);
}

static bool live(const struct virtio_mmio *vm)
{
    const uint32_t need = VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK;

    return vm->ops && (vm->status & need) == need &&
           !(vm->status & VIRTIO_STATUS_NEEDS_RESET);
}

/* Re-derive which queues may run after any status/ready/feature change. */
static void refresh_queues(struct virtio_mmio *vm)
{
    bool on = live(vm);
    unsigned i;

    for (i = 0; i < vm->nqueues; i++) {
        struct virtqueue *vq = &vm->vqs[i];

        vq->indirect = vm->driver_features & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
        vq->enabled = on && vq->ready && !vq->broken;
    }
}

void virtio_mmio_needs_reset(struct virtio_mmio *vm, const char *why)
{
    if (vm->status & VIRTIO_STATUS_NEEDS_RESET)
        return;
    snprintf(vm->error, sizeof(vm->error), "%s: %s",
             vm->ops ? vm->ops->name : "virtio", why);
    vm->has_error = true;
    count(&vm->stats.errors, 1);
    vm->status |= VIRTIO_STATUS_NEEDS_RESET;
    refresh_queues(vm);
    if (vm->status & VIRTIO_STATUS_DRIVER_OK)
        raise_irq(vm, VIRTIO_MMIO_INT_CONFIG);
}

static void queue_failed(void *opaque, struct virtqueue *vq, const char *why)
{
    char buf[160];

    snprintf(buf, sizeof(buf), "queue %u: %s", vq->index, why);
    virtio_mmio_needs_reset(opaque, buf);
}

static void device_reset(struct virtio_mmio *vm)
{
    unsigned i;

    if (vm->ops && vm->ops->reset)
        vm->ops->reset(vm->dev);
    vm->status = 0;
    vm->driver_features = 0;
    vm->dev_feat_sel = vm->drv_feat_sel = vm->queue_sel = vm->shm_sel = 0;
    vm->isr = 0;
    vm->has_error = false;
    for (i = 0; i < vm->nqueues; i++)
        virtq_reset(&vm->vqs[i]);
    update_irq(vm);
}

static void kick(struct virtio_mmio *vm, unsigned idx)
{
    struct virtqueue *vq = &vm->vqs[idx];

    if (vq->enabled)
        vm->ops->queue_notify(vm->dev, vm, vq, idx);
}

static void set_status(struct virtio_mmio *vm, uint32_t v)
{
    uint32_t old = vm->status, now;
    unsigned i;

    v &= 0xff;
    if (v == 0) {
        device_reset(vm);
        return;
    }
    /* NEEDS_RESET is the device's to set and only a reset clears it. */
    now = (v & ~VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET);
    if ((now & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
        !(vm->driver_features & VIRTIO_BIT(VIRTIO_F_VERSION_1)))
        now &= ~VIRTIO_STATUS_FEATURES_OK;  /* legacy drivers: refused */
    vm->status = now;
    refresh_queues(vm);
    if ((now & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK))
        for (i = 0; i < vm->nqueues; i++)
            kick(vm, i);
}

/* ---- registers ---- */

static uint32_t half(uint64_t v, bool high)
{
    return (uint32_t)(high ? v >> 32 : v);
}

static void set_half(uint64_t *v, bool high, uint32_t val)
{
    if (high)
        *v = (*v & UINT32_MAX) | ((uint64_t)val << 32);
    else
        *v = (*v & ~(uint64_t)UINT32_MAX) | val;
}

static struct virtqueue *selected(struct virtio_mmio *vm)
{
    return vm->queue_sel < vm->nqueues ? &vm->vqs[vm->queue_sel] : NULL;
}

/* The ring address register at off, for the selected queue. */
static uint64_t *ring_addr(struct virtqueue *vq, uint64_t off)
{
    switch (off & ~(uint64_t)4) {
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
        return &vq->desc;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
        return &vq->avail;
    default:
        return &vq->used;
    }
}

static uint32_t reg_read(struct virtio_mmio *vm, uint64_t off)
{
    struct virtqueue *vq = selected(vm);

    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE:
        return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION:
        return 2;
    case VIRTIO_MMIO_DEVICE_ID:
        return vm->ops ? vm->ops->device_id : 0;
    case VIRTIO_MMIO_VENDOR_ID:
        return VIRTIO_MMIO_VENDOR;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        return vm->dev_feat_sel < 2 ?
               half(vm->device_features, vm->dev_feat_sel) : 0;
    case VIRTIO_MMIO_QUEUE_NUM_MAX:
        return vq ? vq->max : 0;
    case VIRTIO_MMIO_QUEUE_NUM:
        return vq ? vq->num : 0;
    case VIRTIO_MMIO_QUEUE_READY:
        return vq ? vq->ready : 0;
    case VIRTIO_MMIO_INTERRUPT_STATUS:
        return vm->isr;
    case VIRTIO_MMIO_STATUS:
        return vm->status;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        return vq ? half(*ring_addr(vq, off), off & 4) : 0;
    case VIRTIO_MMIO_SHM_LEN_LOW:
    case VIRTIO_MMIO_SHM_LEN_HIGH:
    case VIRTIO_MMIO_SHM_BASE_LOW:
    case VIRTIO_MMIO_SHM_BASE_HIGH:
        return UINT32_MAX;      /* no shared memory regions: length -1 */
    case VIRTIO_MMIO_CONFIG_GENERATION:
        return vm->config_gen;
    default:
        return 0;
    }
}

static void reg_write(struct virtio_mmio *vm, uint64_t off, uint32_t v)
{
    struct virtqueue *vq = selected(vm);

    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        vm->dev_feat_sel = v;
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        /* Frozen once FEATURES_OK is set; never more than offered. */
        if (!(vm->status & VIRTIO_STATUS_FEATURES_OK) && vm->drv_feat_sel < 2) {
            set_half(&vm->driver_features, vm->drv_feat_sel, v);
            vm->driver_features &= vm->device_features;
        }
        break;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        vm->drv_feat_sel = v;
        break;
    case VIRTIO_MMIO_QUEUE_SEL:
        vm->queue_sel = v;
        break;
    case VIRTIO_MMIO_QUEUE_NUM:
        if (vq && !vq->ready)
            vq->num = v;
        break;
    case VIRTIO_MMIO_QUEUE_READY:
        if (!vq || (v & 1) == vq->ready)
            break;
        vq->ready = v & 1;
        refresh_queues(vm);
        if (vq->ready)
            virtq_start(vq);    /* a bad ring puts the device in needs-reset */
        break;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        count(&vm->stats.notifications, 1);
        if (v < vm->nqueues)
            kick(vm, v);
        break;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        vm->isr &= ~v;
        update_irq(vm);
        break;
    case VIRTIO_MMIO_STATUS:
        set_status(vm, v);
        break;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        /* The driver must not move a live ring; ignoring it keeps the
         * addresses checked by virtq_start() the ones in use. */
        if (vq && !vq->ready)
            set_half(ring_addr(vq, off), off & 4, v);
        break;
    case VIRTIO_MMIO_SHM_SEL:
        vm->shm_sel = v;
        break;
    default:
        break;
    }
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
    struct virtio_mmio *vm = opaque;
    uint64_t v = 0;

    if (off >= VIRTIO_MMIO_CONFIG) {
        if (!vm->ops || !vm->ops->config_read)
            return 0;
        pthread_mutex_lock(&vm->lock);
        v = vm->ops->config_read(vm->dev, (unsigned)(off - VIRTIO_MMIO_CONFIG),
                                 size);
        pthread_mutex_unlock(&vm->lock);
        return v;
    }
    if (size != 4 || (off & 3))
        return 0;
    pthread_mutex_lock(&vm->lock);
    v = reg_read(vm, off);
    pthread_mutex_unlock(&vm->lock);
    return v;
}

static void mmio_write(void *opaque, uint64_t off, unsigned size, uint64_t v)
{
    struct virtio_mmio *vm = opaque;

    if (!vm->ops)
        return;                 /* empty slot: everything is read-only */
    if (off >= VIRTIO_MMIO_CONFIG) {
        if (!vm->ops->config_write)
            return;
        pthread_mutex_lock(&vm->lock);
        vm->ops->config_write(vm->dev, (unsigned)(off - VIRTIO_MMIO_CONFIG),
                              size, v);
        pthread_mutex_unlock(&vm->lock);
        return;
    }
    if (size != 4 || (off & 3))
        return;
    pthread_mutex_lock(&vm->lock);
    reg_write(vm, off, (uint32_t)v);
    pthread_mutex_unlock(&vm->lock);
}

const struct bus_ops virtio_mmio_ops = {
    .read = mmio_read,
    .write = mmio_write,
};

/* ---- back-end services ---- */

void virtio_mmio_lock(struct virtio_mmio *vm)
{
    pthread_mutex_lock(&vm->lock);
}

void virtio_mmio_unlock(struct virtio_mmio *vm)
{
    pthread_mutex_unlock(&vm->lock);
}

void virtio_mmio_cond_wait(struct virtio_mmio *vm, pthread_cond_t *cond)
{
    pthread_cond_wait(cond, &vm->lock);
}

struct virtqueue *virtio_mmio_queue(struct virtio_mmio *vm, unsigned idx)
{
    return idx < vm->nqueues ? &vm->vqs[idx] : NULL;
}

void virtio_mmio_notify_used(struct virtio_mmio *vm, struct virtqueue *vq)
{
    if (virtq_signal(vq))
        raise_irq(vm, VIRTIO_MMIO_INT_VRING);
}

void virtio_mmio_config_changed(struct virtio_mmio *vm)
{
    vm->config_gen++;
    if (vm->status & VIRTIO_STATUS_DRIVER_OK)
        raise_irq(vm, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_mmio_account(struct virtio_mmio *vm, uint64_t bytes_out,
                         uint64_t bytes_in, int error)
{
    count(&vm->stats.requests, 1);
    count(&vm->stats.bytes_out, bytes_out);
    count(&vm->stats.bytes_in, bytes_in);
    if (error)
        count(&vm->stats.errors, 1);
}

void virtio_mmio_stats(struct virtio_mmio *vm, struct virtio_stats *out)
{
    const struct stats_counters *s = &vm->stats;

    out->requests = atomic_load_explicit(&s->requests, memory_order_relaxed);
    out->bytes_out = atomic_load_explicit(&s->bytes_out, memory_order_relaxed);
    out->bytes_in = atomic_load_explicit(&s->bytes_in, memory_order_relaxed);
    out->errors = atomic_load_explicit(&s->errors, memory_order_relaxed);
    out->notifications =
        atomic_load_explicit(&s->notifications, memory_order_relaxed);
    out->interrupts =
        atomic_load_explicit(&s->interrupts, memory_order_relaxed);
}

int virtio_mmio_error(struct virtio_mmio *vm, char *buf, size_t len)
{
    int has;

    pthread_mutex_lock(&vm->lock);
    has = vm->has_error;
    if (has && buf && len)
        snprintf(buf, len, "%s", vm->error);
    pthread_mutex_unlock(&vm->lock);
    return has;
}

uint32_t virtio_mmio_status(struct virtio_mmio *vm)
{
    uint32_t s;

    pthread_mutex_lock(&vm->lock);
    s = vm->status;
    pthread_mutex_unlock(&vm->lock);
    return s;
}

uint64_t virtio_config_bytes(const void *cfg, size_t len, unsigned off,
                             unsigned size)
{
    const uint8_t *b = cfg;
    uint64_t v = 0;
    unsigned i;

    for (i = 0; i < size && i < 8; i++)
        if ((size_t)off + i < len)
            v |= (uint64_t)b[off + i] << (8 * i);
    return v;
}

/* ---- lifetime ---- */

static bool ops_valid(const struct virtio_dev_ops *ops)
{
    unsigned m = ops->queue_max;

    return ops->queue_notify && ops->destroy && ops->num_queues &&
           ops->num_queues <= MAX_QUEUES && m && !(m & (m - 1)) &&
           m <= VIRTQ_MAX_SIZE;
}

static void release(struct virtio_mmio *vm)
{
    unsigned i;

    for (i = 0; i < vm->nqueues; i++)
        virtq_destroy(&vm->vqs[i]);
    free(vm->vqs);
    free(vm);
}

struct virtio_mmio *virtio_mmio_new(const struct virtio_dev_ops *ops,
                                    void *dev, const struct guest_mem *gm,
                                    struct irq_line irq)
{
    struct virtio_mmio *vm;
    int err = ENOMEM;

    if (ops && (!ops_valid(ops) || !gm || !gm->map)) {
        if (ops->destroy)
            ops->destroy(dev);
        errno = EINVAL;
        return NULL;
    }
    vm = calloc(1, sizeof(*vm));
    if (!vm)
        goto fail_dev;
    vm->ops = ops;
    vm->dev = dev;
    vm->irq = irq;
    if (ops) {
        vm->gm = *gm;
        vm->device_features = TRANSPORT_FEATURES |
            ((ops->features ? ops->features(dev) : 0) & DEVICE_BITS_MASK);
        vm->vqs = calloc(ops->num_queues, sizeof(*vm->vqs));
        if (!vm->vqs)
            goto fail_vm;
        for (; vm->nqueues < ops->num_queues; vm->nqueues++) {
            err = -virtq_init(&vm->vqs[vm->nqueues], &vm->gm, vm->nqueues,
                              ops->queue_max, queue_failed, vm);
            if (err)
                goto fail_vm;
        }
    }
    if ((err = pthread_mutex_init(&vm->lock, NULL)) != 0)
        goto fail_vm;
    if (ops && ops->attach && (err = -ops->attach(dev, vm)) != 0) {
        pthread_mutex_destroy(&vm->lock);
        goto fail_vm;
    }
    return vm;

fail_vm:
    release(vm);
fail_dev:
    if (ops)
        ops->destroy(dev);
    errno = err;
    return NULL;
}

void virtio_mmio_free(struct virtio_mmio *vm)
{
    if (!vm)
        return;
    if (vm->ops)
        vm->ops->destroy(vm->dev);
    pthread_mutex_destroy(&vm->lock);
    release(vm);
}

void virtio_mmio_reset(struct virtio_mmio *vm)
{
    if (!vm)
        return;
    pthread_mutex_lock(&vm->lock);
    device_reset(vm);
    pthread_mutex_unlock(&vm->lock);
}
