/* RISC-V CLINT (core-local interruptor), QEMU virt layout:
 *   msip[h]     0x0000 + 4*h   32-bit, bit 0 drives hart h's MSIP
 *   mtimecmp[h] 0x4000 + 8*h   64-bit (or two 32-bit halves)
 *   mtime       0xbff8         64-bit (or two 32-bit halves), writable
 * in a 0x10000-byte window. Accesses must be naturally aligned; msip takes
 * 32-bit accesses, mtimecmp/mtime 32- and 64-bit ones. Anything else reads
 * 0 and is ignored on write.
 *
 * mtime = now() + offset, where now() counts ticks of the 10 MHz timebase
 * and a guest write of mtime changes only the offset. All entry points are
 * safe to call from any thread; irq lines are set from the calling thread
 * (a vCPU writing another hart's mtimecmp or msip sets that hart's line),
 * under a per-hart lock, so the last level driven is never stale. */
#ifndef GLASSBOX_DEVICES_CLINT_H
#define GLASSBOX_DEVICES_CLINT_H

#include <stdint.h>

#include "glassbox/bus.h"

#define CLINT_MMIO_SIZE     0x10000
#define CLINT_MSIP_BASE     0x0000
#define CLINT_MTIMECMP_BASE 0x4000
#define CLINT_MTIME         0xbff8
/* mtimecmp[4094] is the last one below mtime. */
#define CLINT_MAX_HARTS     4095

struct clint;

/* nharts in 1..CLINT_MAX_HARTS; msip_lines and mtip_lines are arrays of
 * nharts lines (copied), either may be NULL for none. NULL with errno set
 * on bad arguments (EINVAL) or no memory. */
struct clint *clint_new(unsigned nharts, uint64_t (*now)(void *opaque),
                        void *clock_opaque, const struct irq_line *msip_lines,
                        const struct irq_line *mtip_lines);
void clint_free(struct clint *clint);
/* Power-on state: msip 0, mtimecmp all-ones, mtime offset 0; lines lowered. */
void clint_reset(struct clint *clint);

/* opaque = the struct clint */
extern const struct bus_ops clint_ops;

uint64_t clint_mtime(struct clint *clint);
/* Drive hart's MTIP from mtime >= mtimecmp. Cheap when nothing changed
 * (one now() call, no lock); meant to be called often by the hart's own
 * thread. Out-of-range harts are ignored. */
void clint_poll(struct clint *clint, unsigned hart);
/* UINT64_MAX for an out-of-range hart. */
uint64_t clint_mtimecmp(struct clint *clint, unsigned hart);

#endif
