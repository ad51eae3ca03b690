/* Guest-physical memory as devices see it (DMA). Devices know only this
 * interface, never the engine's RAM layout. */
#ifndef GLASSBOX_GUEST_MEM_H
#define GLASSBOX_GUEST_MEM_H

#include <stdint.h>

struct guest_mem {
    /* Host pointer for guest-physical [gpa, gpa + len) when the whole range
     * is guest RAM, else NULL (the device must then treat the request as
     * malformed). write != 0 announces that the device will write there, so
     * the engine can drop code it decoded from those pages. len may be 0. */
    uint8_t *(*map)(void *opaque, uint64_t gpa, uint64_t len, int write);
    void *opaque;
};

static inline uint8_t *guest_mem_map(const struct guest_mem *gm, uint64_t gpa, uint64_t len,
                                     int write)
{
    return gm->map(gm->opaque, gpa, len, write);
}

#endif
