/* virtio-mmio slots of the virt machine. */
#ifndef GB_VIRT_DEVICES_H
#define GB_VIRT_DEVICES_H

#include <stddef.h>

struct machine;

/* console_in: fd the virtio-console reads (-1: none). */
int virt_devices_create(struct machine *m, int console_in, char *err, size_t errlen);
void virt_devices_destroy(struct machine *m);

#endif
