/* Device bus: a small sorted table of MMIO regions.
 *
 * Regions are mapped while the machine is assembled, before any vCPU thread
 * runs; bus_map() is therefore not synchronised against accesses. Lookups
 * may run concurrently from every vCPU thread: the table is read-only then
 * and the one-entry `last` cache is read and written with relaxed atomics
 * (any region it points at is valid; a stale hint only costs a search). */
#include <errno.h>
#include <string.h>

#include "glassbox/bus.h"

void bus_init(struct bus *bus)
{
    memset(bus, 0, sizeof(*bus));
}

/* Inclusive end, so a region may end exactly at the top of the address
 * space without base + size wrapping to 0. */
static inline uint64_t region_last(const struct bus_region *r)
{
    return r->base + (r->size - 1);
}

/* True when [addr, addr + size) lies inside r; written so that no sum can
 * wrap (size >= 1 is the caller's job). */
static inline int region_covers(const struct bus_region *r, uint64_t addr,
                                unsigned size)
{
    return addr >= r->base && size <= r->size &&
           addr - r->base <= r->size - size;
}

int bus_map(struct bus *bus, uint64_t base, uint64_t size,
            const struct bus_ops *ops, void *opaque, const char *name)
{
    int i, pos;

    if (!bus || !ops || size == 0 || size - 1 > UINT64_MAX - base)
        return -EINVAL;

    /* pos = first region starting above base; only its neighbours can
     * overlap because the table is sorted and non-overlapping. */
    for (pos = 0; pos < bus->n && bus->regions[pos].base <= base; pos++)
        ;
    if (pos > 0 && region_last(&bus->regions[pos - 1]) >= base)
        return -EEXIST;
    if (pos < bus->n && base + (size - 1) >= bus->regions[pos].base)
        return -EEXIST;
    if (bus->n >= BUS_MAX_REGIONS)
        return -ENOSPC;

    for (i = bus->n; i > pos; i--)
        bus->regions[i] = bus->regions[i - 1];
    bus->regions[pos] = (struct bus_region){
        .base = base, .size = size, .ops = ops, .opaque = opaque, .name = name,
    };
    bus->n++;
    /* Entries moved. A stale hint would still be safe (bus_find checks the
     * slot's bounds before trusting it) but would name another region. */
    __atomic_store_n(&bus->last, NULL, __ATOMIC_RELAXED);
    return 0;
}

const struct bus_region *bus_find(struct bus *bus, uint64_t addr,
                                  unsigned size)
{
    const struct bus_region *r;
    int lo, hi;

    if (!bus || size == 0)
        return NULL;

    r = __atomic_load_n(&bus->last, __ATOMIC_RELAXED);
    if (r && region_covers(r, addr, size))
        return r;

    /* Binary search for the last region with base <= addr. */
    lo = 0;
    hi = bus->n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;

        if (bus->regions[mid].base <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    r = &bus->regions[lo - 1];
    if (!region_covers(r, addr, size))
        return NULL;        /* unmapped, or straddles the region's end */
    __atomic_store_n(&bus->last, r, __ATOMIC_RELAXED);
    return r;
}

static inline int size_valid(unsigned size)
{
    return size == 1 || size == 2 || size == 4 || size == 8;
}

static inline uint64_t size_mask(unsigned size)
{
    return size == 8 ? UINT64_MAX : (UINT64_C(1) << (8 * size)) - 1;
}

int bus_read(struct bus *bus, uint64_t addr, unsigned size, uint64_t *val)
{
    const struct bus_region *r;

    if (!val)
        return -EINVAL;
    *val = 0;
    if (!size_valid(size))
        return -EINVAL;
    r = bus_find(bus, addr, size);
    if (!r)
        return -ENODEV;
    if (r->ops->read)
        /* Mask so a sloppy device cannot leak high bits into a register. */
        *val = r->ops->read(r->opaque, addr - r->base, size) & size_mask(size);
    return 0;
}

int bus_write(struct bus *bus, uint64_t addr, unsigned size, uint64_t val)
{
    const struct bus_region *r;

    if (!size_valid(size))
        return -EINVAL;
    r = bus_find(bus, addr, size);
    if (!r)
        return -ENODEV;
    if (r->ops->write)
        r->ops->write(r->opaque, addr - r->base, size, val & size_mask(size));
    return 0;
}
