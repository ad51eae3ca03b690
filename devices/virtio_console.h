/* virtio-console back-end (device id 3), a single port (no MULTIPORT):
 * queue 0 receives, queue 1 transmits; usable as Linux's hvc0.
 *
 * Output: transmitq chains are written to out_fd in the notifying vCPU's
 * thread before the chain is returned (as the 16550 does). Input: a reader
 * thread copies in_fd into a small ring and hands bytes to the guest
 * whenever receive buffers are available (now, or when the driver adds
 * some); when the ring is full the thread waits, nothing is dropped. All
 * of it runs under the transport lock (virtio_mmio.h).
 *
 * Config: cols, rows (VIRTIO_CONSOLE_F_SIZE offered only when either is
 * non-zero), max_nr_ports 1, and emerg_wr (VIRTIO_CONSOLE_F_EMERG_WRITE):
 * a write there sends one byte to out_fd at once.
 *
 * Writing to a pipe or socket whose reader has gone raises SIGPIPE; the
 * process that owns out_fd should ignore SIGPIPE. */
#ifndef GLASSBOX_DEVICES_VIRTIO_CONSOLE_H
#define GLASSBOX_DEVICES_VIRTIO_CONSOLE_H

#include "virtio_mmio.h"

#define VIRTIO_ID_CONSOLE       3
#define VIRTIO_CONSOLE_QUEUE_MAX 64

#define VIRTIO_CONSOLE_F_SIZE   0
#define VIRTIO_CONSOLE_F_EMERG_WRITE 2

#define VIRTIO_CONSOLE_CFG_COLS 0       /* le16 */
#define VIRTIO_CONSOLE_CFG_ROWS 2       /* le16 */
#define VIRTIO_CONSOLE_CFG_NR_PORTS 4   /* le32 */
#define VIRTIO_CONSOLE_CFG_EMERG_WR 8   /* le32, write-only */

/* in_fd -1: no input; out_fd -1: output discarded. The descriptors are
 * not owned and never closed. The reader thread starts when the back-end
 * is attached to its transport. 0 or -ENOMEM; fills *be. */
int virtio_console_new(int in_fd, int out_fd, unsigned cols, unsigned rows,
                       struct virtio_backend *be);

#endif
