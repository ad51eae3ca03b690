/* ns16550a UART, as on QEMU's virt machine (reg-shift 0, 8 byte-wide
 * registers at offsets 0..7 of a 0x100-byte window).
 *
 * Output is immediate: every THR write is written to out_fd before the
 * access returns, so LSR always reports THRE|TEMT. Input comes from a
 * reader thread that copies in_fd into a small ring and raises the
 * interrupt; when the ring is full the thread waits for the guest to drain
 * it (nothing is dropped). All register accesses take one mutex, so any
 * number of vCPU threads may use the device. The irq line's set() is
 * called with that mutex held, from vCPU threads and from the reader
 * thread; it must not call back into the UART.
 *
 * Writing to a pipe or socket whose reader has gone raises SIGPIPE; the
 * process that owns out_fd should ignore SIGPIPE. */
#ifndef GLASSBOX_DEVICES_UART16550_H
#define GLASSBOX_DEVICES_UART16550_H

#include "glassbox/bus.h"

#define UART16550_MMIO_SIZE 0x100

struct uart16550;

/* in_fd -1: no input. out_fd -1: output is discarded. The UART does not
 * own the descriptors and never closes them. NULL with errno set when
 * memory or the reader thread cannot be had. */
struct uart16550 *uart16550_new(int in_fd, int out_fd, struct irq_line irq);
/* Stops and joins the reader thread. NULL is allowed. */
void uart16550_free(struct uart16550 *uart);
/* Back to power-on register state (machine reset); pending input is kept,
 * the irq line is lowered. */
void uart16550_reset(struct uart16550 *uart);

/* opaque = the struct uart16550 */
extern const struct bus_ops uart16550_ops;

#endif
