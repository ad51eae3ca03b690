/* virtio-rng back-end (device id 4): one request queue whose
 * device-writable buffers are filled from getrandom(2), synchronously in
 * the notifying vCPU's thread. At most VIRTIO_RNG_MAX_FILL bytes a chain
 * (the used length says how many), so a huge buffer cannot stall the vCPU;
 * the driver simply asks again. */
#ifndef GLASSBOX_DEVICES_VIRTIO_RNG_H
#define GLASSBOX_DEVICES_VIRTIO_RNG_H

#include "virtio_mmio.h"

#define VIRTIO_ID_RNG           4
#define VIRTIO_RNG_QUEUE_MAX    64
#define VIRTIO_RNG_MAX_FILL     65536

/* 0 or -ENOMEM; fills *be. */
int virtio_rng_new(struct virtio_backend *be);

#endif
