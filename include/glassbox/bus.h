/* Device bus: MMIO (and port-I/O) regions and interrupt lines.
 *
 * Every CPU path (interpreter, JIT slow path, KVM exit handler) ends in
 * bus_read()/bus_write(). Devices know only this header. */
#ifndef GLASSBOX_BUS_H
#define GLASSBOX_BUS_H

#include <stdint.h>
#include <stddef.h>

struct bus_ops {
    /* size is 1, 2, 4 or 8; offset is relative to the region base and is
     * always < region size (the bus checks). Accesses the device does not
     * implement read as 0 and ignore writes. */
    uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
    void (*write)(void *opaque, uint64_t offset, unsigned size, uint64_t value);
};

struct bus_region {
    uint64_t base, size;
    const struct bus_ops *ops;
    void *opaque;
    const char *name;
};

#define BUS_MAX_REGIONS 32

struct bus {
    struct bus_region regions[BUS_MAX_REGIONS];
    int n;
    /* one-entry cache of the last region hit; a pointer into regions[] */
    const struct bus_region *last;
};

void bus_init(struct bus *bus);
/* 0, or -EEXIST when the range overlaps a mapped one, -ENOSPC when full,
 * -EINVAL for an empty or wrapping range. */
int bus_map(struct bus *bus, uint64_t base, uint64_t size,
            const struct bus_ops *ops, void *opaque, const char *name);
const struct bus_region *bus_find(struct bus *bus, uint64_t addr, unsigned size);
/* 0 on success; -ENODEV when no region covers [addr, addr+size). */
int bus_read(struct bus *bus, uint64_t addr, unsigned size, uint64_t *val);
int bus_write(struct bus *bus, uint64_t addr, unsigned size, uint64_t val);

/* An interrupt line handed to a device by the machine: a PLIC input or a
 * hart's local interrupt on riscv, KVM_IRQ_LINE on x86. */
struct irq_line {
    void (*set)(void *opaque, unsigned n, int level);
    void *opaque;
    unsigned n;
};

static inline void irq_set(const struct irq_line *l, int level)
{
    if (l && l->set)
        l->set(l->opaque, l->n, level);
}

#endif
