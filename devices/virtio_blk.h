/* virtio-blk back-end (device id 2) on a raw image file or block device.
 *
 * Requests are served synchronously in the notifying vCPU's thread:
 * IN (preadv), OUT (pwritev; a read-only drive answers IOERR), FLUSH
 * (fsync), GET_ID (20-byte serial); anything else UNSUPP. Data lengths
 * must be whole 512-byte sectors inside the capacity, else IOERR. The
 * status byte is the last byte of the chain and is written last. A
 * request too short to hold the 16-byte header or the status byte is a
 * malformed ring: the device enters needs-reset.
 *
 * Offered: VIRTIO_BLK_F_SEG_MAX (QueueNumMax - 2), BLK_SIZE (512), FLUSH,
 * and RO for a read-only drive. The image is locked (an OFD lock, shared
 * when read-only) so two writers cannot corrupt it. */
#ifndef GLASSBOX_DEVICES_VIRTIO_BLK_H
#define GLASSBOX_DEVICES_VIRTIO_BLK_H

#include <stddef.h>

#include "virtio_mmio.h"

#define VIRTIO_ID_BLOCK         2
#define VIRTIO_BLK_QUEUE_MAX    256
#define VIRTIO_BLK_SECTOR       512
#define VIRTIO_BLK_ID_BYTES     20

#define VIRTIO_BLK_F_SEG_MAX    2
#define VIRTIO_BLK_F_RO         5
#define VIRTIO_BLK_F_BLK_SIZE   6
#define VIRTIO_BLK_F_FLUSH      9

#define VIRTIO_BLK_T_IN         0
#define VIRTIO_BLK_T_OUT        1
#define VIRTIO_BLK_T_FLUSH      4
#define VIRTIO_BLK_T_GET_ID     8

#define VIRTIO_BLK_S_OK         0
#define VIRTIO_BLK_S_IOERR      1
#define VIRTIO_BLK_S_UNSUPP     2

/* Config space offsets (virtio 1.2 5.2.4). */
#define VIRTIO_BLK_CFG_CAPACITY 0       /* le64, 512-byte sectors */
#define VIRTIO_BLK_CFG_SEG_MAX  12      /* le32 */
#define VIRTIO_BLK_CFG_BLK_SIZE 20      /* le32 */

/* Open path (read-only if readonly) and fill *be. 0, or -errno with a
 * one-line message in err naming the file and what to do. The serial
 * (GET_ID) is the file's base name, cut to 20 bytes. */
int virtio_blk_new(const char *path, int readonly, struct virtio_backend *be,
                   char *err, size_t errlen);

#endif
