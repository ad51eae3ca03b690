/* Boot images and the firmware handoff, as QEMU's virt board does it:
 * firmware at 0x80000000, kernel at 0x80200000, initrd at kernel +
 * min(RAM/2, 128 MiB), device tree at the top of RAM (below 3 GiB, 2 MiB
 * aligned), fw_dynamic info for OpenSBI, and a0 = hart id, a1 = DTB,
 * a2 = fw_dynamic info in every hart. With --bios none the kernel is the
 * program and starts in M-mode at its own entry. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"
#include "machine.h"
#include "virt_fdt.h"

#define KERNEL_OFFSET 0x200000ull
#define IMAGE_MAX (1ull << 30)
#define FDT_MAX (64u << 10)
#define FW_JUMP_FDT_ADDR 0x82200000ull
#define FW_DYN_MAGIC 0x4942534full   /* "OSBI" */
#define FW_DYN_VERSION 2
#define FW_DYN_NEXT_MODE_S 1

struct fw_dynamic_info {
    uint64_t magic, version, next_addr, next_mode, options, boot_hart;
};

int boot_read_images(struct machine *m, char *err, size_t errlen)
{
    const struct run_config *c = &m->cfg;
    int r;

    if (c->kernel) {
        r = loader_read_file(c->kernel, &m->kernel_data, &m->kernel_len, IMAGE_MAX, err, errlen);
        if (r < 0)
            return r;
    }
    if (strcmp(c->bios, "none") != 0) {
        r = loader_read_file(c->bios, &m->bios_data, &m->bios_len, IMAGE_MAX, err, errlen);
        if (r < 0) {
            if (!strcmp(c->bios, GB_DEFAULT_BIOS))
                snprintf(err + strlen(err), errlen - strlen(err),
                         " (install the Debian package opensbi, or give --bios)");
            return r;
        }
    }
    if (c->initrd) {
        r = loader_read_file(c->initrd, &m->initrd_data, &m->initrd_len, IMAGE_MAX, err, errlen);
        if (r < 0)
            return r;
    }
    return 0;
}

static int overlaps(uint64_t a_lo, uint64_t a_hi, uint64_t b_lo, uint64_t b_hi)
{
    return a_lo < b_hi && b_lo < a_hi;
}

static int build_fdt(struct machine *m, uint8_t *buf, size_t size, char *err, size_t errlen)
{
    struct virt_fdt_config fc = {
        .nharts = m->cfg.smp,
        .isa = "rv64imafdc_zicntr_zicsr_zifencei",
        .mmu_type = "riscv,sv48",
        .timebase_hz = 10000000,
        .ram_base = VIRT_DRAM_BASE,
        .ram_size = m->ram_size,
        .bootargs = m->cfg.append,
        .initrd_start = m->boot.initrd_start,
        .initrd_end = m->boot.initrd_end,
        .test_base = VIRT_TEST_BASE,
        .clint_base = VIRT_CLINT_BASE,
        .plic_base = VIRT_PLIC_BASE,
        .uart_base = VIRT_UART0_BASE,
        .virtio_base = VIRT_VIRTIO_BASE,
        .uart_irq = VIRT_UART0_IRQ,
        .virtio_irq0 = VIRT_VIRTIO_IRQ,
        .plic_ndev = VIRT_PLIC_NDEV,
        .nvirtio = VIRT_VIRTIO_COUNT,
    };
    /* guest NUMA from the placement plan (absent for --dump-dtb without
     * a machine: then the options alone cannot place ranges) */
    if (m->plan && m->plan->nguest_nodes) {
        const struct numa_plan *p = m->plan;
        for (unsigned i = 0; i < p->nranges && fc.nnuma_mem < VIRT_FDT_MAX_NUMA; i++) {
            if (!p->ranges[i].size)
                continue;
            fc.numa_mem[fc.nnuma_mem].base = VIRT_DRAM_BASE + p->ranges[i].offset;
            fc.numa_mem[fc.nnuma_mem].size = p->ranges[i].size;
            fc.numa_mem[fc.nnuma_mem].node = (uint32_t)p->ranges[i].guest_node;
            fc.nnuma_mem++;
        }
        for (unsigned h = 0; h < fc.nharts && h < VIRT_FDT_MAX_HARTS; h++)
            fc.cpu_node[h] = (uint32_t)(p->vcpu_guest_node[h] < 0 ? 0 : p->vcpu_guest_node[h]);
        fc.nnodes = p->nguest_nodes;
        for (unsigned i = 0; i < fc.nnodes; i++)
            for (unsigned j = 0; j < fc.nnodes; j++)
                fc.dist[i][j] = p->guest_dist[i][j];
    }
    return virt_fdt_build(&fc, buf, size, err, errlen);
}

int boot_write_dtb(struct machine *m, const char *path, char *err, size_t errlen)
{
    uint8_t *buf = calloc(1, FDT_MAX);
    FILE *f;
    int r;

    if (!buf)
        return -ENOMEM;
    r = build_fdt(m, buf, FDT_MAX, err, errlen);
    if (r == 0) {
        f = fopen(path, "wb");
        if (!f || fwrite(buf, 1, virt_fdt_size(buf), f) != virt_fdt_size(buf)) {
            snprintf(err, errlen, "--dump-dtb '%s': %s", path, strerror(errno));
            r = -errno;
        }
        if (f && fclose(f) != 0 && r == 0) {
            snprintf(err, errlen, "--dump-dtb '%s': %s", path, strerror(errno));
            r = -errno;
        }
    }
    free(buf);
    return r;
}

/* Load everything into RAM and decide where each hart starts. */
int boot_load(struct machine *m, char *err, size_t errlen)
{
    const uint64_t ram_end = VIRT_DRAM_BASE + m->ram_size;
    char lerr[256];
    struct load_info fw = { 0 };
    uint64_t kernel_entry = 0, k_lo = 0, k_hi = 0;
    uint8_t fdt[FDT_MAX];
    uint64_t fdt_addr, dyn_addr;
    int r;

    load_info_free(&m->info);
    memset(&m->info, 0, sizeof(m->info));
    memset(&m->boot, 0, sizeof(m->boot));

    if (!strcmp(m->cfg.bios, "none")) {
        /* bare metal: the kernel is the program */
        r = loader_load(m->kernel_data, m->kernel_len, VIRT_DRAM_BASE, VIRT_DRAM_BASE,
                        m->ram_size, m->ram, &m->info, lerr, sizeof(lerr));
        if (r < 0) {
            snprintf(err, errlen, "kernel '%s': %s", m->cfg.kernel, lerr);
            return r;
        }
        m->boot.entry = m->info.entry;
        return 0;
    }

    r = loader_load(m->bios_data, m->bios_len, VIRT_DRAM_BASE, VIRT_DRAM_BASE, m->ram_size,
                    m->ram, &fw, lerr, sizeof(lerr));
    if (r < 0) {
        snprintf(err, errlen, "bios '%s': %s", m->cfg.bios, lerr);
        return r;
    }
    m->boot.entry = fw.entry;
    if (m->kernel_data) {
        r = loader_load(m->kernel_data, m->kernel_len, VIRT_DRAM_BASE + KERNEL_OFFSET,
                        VIRT_DRAM_BASE, m->ram_size, m->ram, &m->info, lerr, sizeof(lerr));
        if (r < 0) {
            snprintf(err, errlen, "kernel '%s': %s", m->cfg.kernel, lerr);
            load_info_free(&fw);
            return r;
        }
        kernel_entry = m->info.entry;
        k_lo = m->info.low;
        k_hi = m->info.high + 1;
        if (overlaps(fw.low, fw.high + 1, k_lo, k_hi)) {
            snprintf(err, errlen, "kernel '%s' [0x%" PRIx64 ", 0x%" PRIx64
                     ") overlaps the firmware [0x%" PRIx64 ", 0x%" PRIx64 ")",
                     m->cfg.kernel, k_lo, k_hi, fw.low, fw.high + 1);
            load_info_free(&fw);
            return -EINVAL;
        }
    }
    load_info_free(&fw);

    if (m->initrd_data) {
        uint64_t half = m->ram_size / 2 < (128ull << 20) ? m->ram_size / 2 : (128ull << 20);
        uint64_t start = kernel_entry + half;
        if (start < k_hi)
            start = (k_hi + 0xfff) & ~0xfffull;
        /* Debian's fw_jump copies the device tree to a fixed address; an
         * initrd there would be overwritten (QEMU's 64 MiB layout is) */
        if (overlaps(start, start + m->initrd_len, FW_JUMP_FDT_ADDR,
                     FW_JUMP_FDT_ADDR + FDT_MAX))
            start = FW_JUMP_FDT_ADDR + FDT_MAX;
        if (m->initrd_len > ram_end - start || start > ram_end) {
            snprintf(err, errlen, "initrd '%s' (%zu bytes) does not fit in RAM above "
                     "0x%" PRIx64 ": give more --memory", m->cfg.initrd, m->initrd_len, start);
            return -ENOSPC;
        }
        memcpy(m->ram + (start - VIRT_DRAM_BASE), m->initrd_data, m->initrd_len);
        m->boot.initrd_start = start;
        m->boot.initrd_end = start + m->initrd_len;
    }

    r = build_fdt(m, fdt, sizeof(fdt), err, errlen);
    if (r < 0)
        return r;
    {
        uint64_t top = ram_end < 0xc0000000ull ? ram_end : 0xc0000000ull;
        uint64_t size = virt_fdt_size(fdt);
        fdt_addr = (top - size) & ~((2ull << 20) - 1);
        if (fdt_addr < VIRT_DRAM_BASE || overlaps(fdt_addr, fdt_addr + size, k_lo, k_hi) ||
            overlaps(fdt_addr, fdt_addr + size, m->boot.initrd_start, m->boot.initrd_end)) {
            snprintf(err, errlen, "no room for the device tree at the top of RAM: "
                     "give more --memory");
            return -ENOSPC;
        }
        memcpy(m->ram + (fdt_addr - VIRT_DRAM_BASE), fdt, size);
    }
    /* fw_dynamic's info block, just below the device tree */
    {
        struct fw_dynamic_info info = {
            .magic = FW_DYN_MAGIC, .version = FW_DYN_VERSION,
            .next_addr = kernel_entry ? kernel_entry : VIRT_DRAM_BASE + KERNEL_OFFSET,
            .next_mode = FW_DYN_NEXT_MODE_S, .options = 0, .boot_hart = ~0ull,
        };
        dyn_addr = fdt_addr - sizeof(info);
        memcpy(m->ram + (dyn_addr - VIRT_DRAM_BASE), &info, sizeof(info));
    }
    m->boot.fdt_addr = fdt_addr;
    m->boot.dyn_addr = dyn_addr;
    return 0;
}

void boot_free(struct machine *m)
{
    free(m->bios_data);
    free(m->initrd_data);
    m->bios_data = m->initrd_data = NULL;
}
