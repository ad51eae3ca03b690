/* Device tree of the riscv64 virt machine (QEMU-compatible layout). */
#ifndef GB_VIRT_FDT_H
#define GB_VIRT_FDT_H

#include <stddef.h>
#include <stdint.h>

#define VIRT_FDT_MAX_HARTS 8
#define VIRT_FDT_MAX_NUMA 16

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
    /* guest NUMA (QEMU riscv virt layout): 0 = none; else one memory node
     * per range with numa-node-id, numa-node-id on each cpu, distance-map */
    unsigned nnuma_mem;
    struct { uint64_t base, size; uint32_t node; } numa_mem[VIRT_FDT_MAX_NUMA];
    uint32_t cpu_node[VIRT_FDT_MAX_HARTS];
    unsigned nnodes;
    uint8_t dist[VIRT_FDT_MAX_NUMA][VIRT_FDT_MAX_NUMA];
};

/* Build into buf; 0, or -errno with a one-line reason in err. */
int virt_fdt_build(const struct virt_fdt_config *c, void *buf, size_t size, char *err,
                   size_t errlen);
size_t virt_fdt_size(const void *buf);

#endif
