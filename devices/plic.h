/* RISC-V PLIC (platform-level interrupt controller), QEMU virt layout:
 *   priority[s]        0x000000 + 4*s          source s in 1..nsources-1
 *   pending bits       0x001000 + 4*w          read-only, 32 sources a word
 *   enable bits        0x002000 + 0x80*c + 4*w per context c
 *   threshold[c]       0x200000 + 0x1000*c
 *   claim/complete[c]  0x200004 + 0x1000*c
 * in a 0x600000-byte window. Context 2*h is hart h's M-mode (MEIP), 2*h+1
 * its S-mode (SEIP), as on QEMU's virt. Registers are 32-bit; other sizes
 * and misaligned accesses read 0 and are ignored on write. Priority and
 * threshold are WARL with 3 bits (0..7); priority 0 never interrupts.
 *
 * All sources are level-triggered (the ns16550a and virtio-mmio lines are
 * levels). The gateway keeps pending = level && !claimed: a claimed source
 * is not pended again until it is completed, and a line that drops before
 * the claim withdraws its request (as QEMU does; it spares the guest
 * spurious claims). Completing an id that is not enabled for the context,
 * or not claimed, is ignored, as the spec says.
 *
 * Thread-safety: every entry point takes the PLIC's mutex. Context lines
 * are driven (only when their level changes) with that mutex held, from
 * whichever thread caused the change (a device raising a source, a vCPU
 * claiming), so a context line's set() must not call back into the PLIC.
 * plic_set_irq() is meant to be called with the device's own lock held:
 * the lock order is device -> PLIC -> hart line. */
#ifndef GLASSBOX_DEVICES_PLIC_H
#define GLASSBOX_DEVICES_PLIC_H

#include "glassbox/bus.h"

#define PLIC_MMIO_SIZE       0x600000
#define PLIC_PRIORITY_BASE   0x000000
#define PLIC_PENDING_BASE    0x001000
#define PLIC_ENABLE_BASE     0x002000
#define PLIC_ENABLE_STRIDE   0x80
#define PLIC_CONTEXT_BASE    0x200000
#define PLIC_CONTEXT_STRIDE  0x1000
#define PLIC_MAX_PRIORITY    7
/* Source ids are 10 bits in the enable/pending layout (0x80 bytes a
 * context); contexts are limited by the 0x600000-byte window. */
#define PLIC_MAX_SOURCES     1024
#define PLIC_MAX_CONTEXTS    ((PLIC_MMIO_SIZE - PLIC_CONTEXT_BASE) / PLIC_CONTEXT_STRIDE)

struct plic;

/* nsources in 2..PLIC_MAX_SOURCES counts source 0 (reserved): 96 gives
 * sources 1..95 (the device tree's riscv,ndev is nsources - 1).
 * ncontexts in 1..PLIC_MAX_CONTEXTS; ctx_lines is an array of ncontexts
 * lines (copied), or NULL for none. NULL with errno set on bad arguments
 * (EINVAL) or no memory. */
struct plic *plic_new(unsigned nsources, unsigned ncontexts,
                      const struct irq_line *ctx_lines);
void plic_free(struct plic *plic);
/* Power-on state: priorities, enables and thresholds 0, nothing claimed;
 * input levels are kept (they belong to the devices). Lines are driven. */
void plic_reset(struct plic *plic);

/* Input line for devices: struct irq_line{ plic_set_irq, plic, source }.
 * Sources 0 and >= nsources are ignored. */
void plic_set_irq(void *plic, unsigned source, int level);

/* opaque = the struct plic */
extern const struct bus_ops plic_ops;

#endif
