/* Device tree of the riscv64 virt machine (QEMU-compatible layout). */
#ifndef GB_VIRT_FDT_H
#define GB_VIRT_FDT_H

#include <stddef.h>
#include <stdint.h>

#define VIRT_FDT_MAX_HARTS 8

struct virt_fdt_config {
    unsigned nharts;
    const char *isa;            /* riscv,isa: exactly what the hart implements */
    const char *mmu_type;       /* "riscv,sv48" */
    uint32_t timebase_hz;
    uint64_t ram_base, ram_size;
    const char *bootargs;       /* NULL: none */
    uint64_t initrd_start, initrd_end;  /* end <= start: no initrd */
    uint64_t test_base, clint_base, plic_base, uart_base, virtio_base;
    uint32_t uart_irq, virtio_irq0, plic_ndev;
    unsigned nvirtio;           /* slots described (QEMU lists all 8) */
};

/* Build into buf; 0, or -errno with a one-line reason in err. */
int virt_fdt_build(const struct virt_fdt_config *c, void *buf, size_t size, char *err,
                   size_t errlen);
size_t virt_fdt_size(const void *buf);

#endif
