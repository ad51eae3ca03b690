/* The virtio-mmio slots of the virt machine: drives first, then the
 * network, the entropy device and the console; unused slots answer with device ID 0
 * as QEMU's do, so the guest's probe of all eight sees the same layout. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "machine.h"
#include "plic.h"
#include "virt_devices.h"
#include "virtio_blk.h"
#include "virtio_console.h"
#include "net_slirp.h"
#include "virtio_mmio.h"
#include "virtio_net.h"
#include "virtio_rng.h"

/* DMA: a device may touch exactly guest RAM. Code a hart decoded from a
 * page the device writes is dropped by that hart's FENCE.I, which the
 * guest must execute before running freshly loaded code anyway: writes
 * bump the pages' generations, which FENCE.I compares (rv_bc_fence_i). */
static uint8_t *gm_map(void *opaque, uint64_t gpa, uint64_t len, int write)
{
    struct machine *m = opaque;
    uint64_t off = gpa - VIRT_DRAM_BASE;

    if (gpa < VIRT_DRAM_BASE || off > m->ram_size || len > m->ram_size - off)
        return NULL;
    if (write && len && m->page_wgen)
        for (uint64_t p = off >> RV_PAGE_SHIFT; p <= (off + len - 1) >> RV_PAGE_SHIFT; p++)
            atomic_fetch_add_explicit(&m->page_wgen[p], 1, memory_order_release);
    return m->ram + off;
}

static int add_slot(struct machine *m, unsigned slot, const struct virtio_backend *be,
                    char *err, size_t errlen)
{
    struct irq_line line = { plic_set_irq, m->plic, VIRT_VIRTIO_IRQ + slot };
    m->virtio[slot] = virtio_mmio_new(be ? be->ops : NULL, be ? be->dev : NULL,
                                      be ? &m->gm : NULL, line);
    if (!m->virtio[slot]) {
        snprintf(err, errlen, "cannot create virtio slot %u", slot);
        return -ENOMEM;
    }
    if (bus_map(&m->bus, VIRT_VIRTIO_BASE + VIRTIO_MMIO_SIZE * slot, VIRTIO_MMIO_SIZE,
                &virtio_mmio_ops, m->virtio[slot], "virtio") < 0) {
        snprintf(err, errlen, "virtio slot %u: address in use", slot);
        return -EEXIST;
    }
    return 0;
}

/* Release back-ends that never reached a slot. */
static void drop_backends(struct virtio_backend *be, unsigned from, unsigned to)
{
    for (unsigned i = from; i < to; i++)
        be[i].ops->destroy(be[i].dev);
}

int virt_devices_create(struct machine *m, int console_in, char *err, size_t errlen)
{
    struct virtio_backend be[VIRT_VIRTIO_COUNT];
    const char *kind[VIRT_VIRTIO_COUNT];
    unsigned n = 0;
    int r;

    m->gm = (struct guest_mem){ gm_map, m };
    for (unsigned i = 0; i < m->cfg.ndrives; i++) {
        const struct drive_config *d = &m->cfg.drives[i];
        r = virtio_blk_new(d->file, d->readonly, &be[n], err, errlen);
        if (r < 0) {
            drop_backends(be, 0, n);
            return r;
        }
        kind[n++] = "blk";
    }
    if (m->cfg.net) {
        struct net_slirp *ns;
        r = net_slirp_new(m->cfg.net, &ns, err, errlen);
        if (r == 0)
            r = virtio_net_new(&net_slirp_ops, ns, NULL, &be[n], err, errlen);
        if (r < 0) {
            drop_backends(be, 0, n);
            return r;
        }
        kind[n++] = "net";
    }
    r = virtio_rng_new(&be[n]);
    if (r == 0)
        kind[n++] = "rng";
    r = virtio_console_new(console_in, m->out_fd, 0, 0, &be[n]);
    if (r == 0)
        kind[n++] = "console";
    /* stats names: kind and index among its kind (blk0, blk1, net0, ...) */
    for (unsigned i = 0; i < n; i++) {
        unsigned same = 0;
        for (unsigned j = 0; j < i; j++)
            same += !strcmp(kind[j], kind[i]);
        snprintf(m->virtio_name[i], sizeof(m->virtio_name[i]), "%s%u", kind[i], same);
    }
    for (unsigned slot = 0; slot < VIRT_VIRTIO_COUNT; slot++) {
        r = add_slot(m, slot, slot < n ? &be[slot] : NULL, err, errlen);
        if (r < 0) {
            /* the slot took ownership of its back-end; free the rest */
            drop_backends(be, slot + 1, n);
            return r;
        }
    }
    return 0;
}

void virt_devices_destroy(struct machine *m)
{
    for (unsigned i = 0; i < VIRT_VIRTIO_COUNT; i++) {
        virtio_mmio_free(m->virtio[i]);
        m->virtio[i] = NULL;
    }
}
