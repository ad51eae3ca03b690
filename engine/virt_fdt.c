/* The flattened device tree of the riscv64 virt machine, built with libfdt
 * from the machine actually assembled. Node names, compatibles and
 * properties follow QEMU's virt board so firmware and kernels see the
 * same description on both. */
#include <errno.h>
#include <inttypes.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "virt_fdt.h"

#define PH_PLIC 1
#define PH_TEST 2
#define PH_CPU_INTC(h) (16 + (h))

/* libfdt calls return negative FDT_ERR_* codes; stop at the first one. */
#define T(call) do { int r_ = (call); if (r_ < 0) return r_; } while (0)

static int prop_reg(void *fdt, uint64_t base, uint64_t size)
{
    fdt64_t reg[2] = { cpu_to_fdt64(base), cpu_to_fdt64(size) };
    return fdt_property(fdt, "reg", reg, sizeof(reg));
}

static int build_cpus(void *fdt, const struct virt_fdt_config *c)
{
    char name[32];

    T(fdt_begin_node(fdt, "cpus"));
    T(fdt_property_u32(fdt, "#address-cells", 1));
    T(fdt_property_u32(fdt, "#size-cells", 0));
    T(fdt_property_u32(fdt, "timebase-frequency", c->timebase_hz));
    for (unsigned h = 0; h < c->nharts; h++) {
        snprintf(name, sizeof(name), "cpu@%u", h);
        T(fdt_begin_node(fdt, name));
        T(fdt_property_u32(fdt, "phandle", 64 + h));
        T(fdt_property_string(fdt, "device_type", "cpu"));
        T(fdt_property_u32(fdt, "reg", h));
        T(fdt_property_string(fdt, "status", "okay"));
        T(fdt_property_string(fdt, "compatible", "riscv"));
        T(fdt_property_string(fdt, "riscv,isa", c->isa));
        T(fdt_property_string(fdt, "mmu-type", c->mmu_type));
        if (c->nnuma_mem)
            T(fdt_property_u32(fdt, "numa-node-id", c->cpu_node[h]));
        T(fdt_begin_node(fdt, "interrupt-controller"));
        T(fdt_property_u32(fdt, "#interrupt-cells", 1));
        T(fdt_property(fdt, "interrupt-controller", NULL, 0));
        T(fdt_property_string(fdt, "compatible", "riscv,cpu-intc"));
        T(fdt_property_u32(fdt, "phandle", PH_CPU_INTC(h)));
        T(fdt_end_node(fdt));
        T(fdt_end_node(fdt));
    }
    T(fdt_begin_node(fdt, "cpu-map"));
    T(fdt_begin_node(fdt, "cluster0"));
    for (unsigned h = 0; h < c->nharts; h++) {
        snprintf(name, sizeof(name), "core%u", h);
        T(fdt_begin_node(fdt, name));
        T(fdt_property_u32(fdt, "cpu", 64 + h));
        T(fdt_end_node(fdt));
    }
    T(fdt_end_node(fdt));
    T(fdt_end_node(fdt));
    return fdt_end_node(fdt);
}

/* interrupts-extended: for each hart, (intc phandle, irq) per entry of ids */
static int prop_irqs_ext(void *fdt, const struct virt_fdt_config *c, const uint32_t *ids,
                         unsigned nids)
{
    fdt32_t cells[2 * 2 * VIRT_FDT_MAX_HARTS];
    unsigned n = 0;

    for (unsigned h = 0; h < c->nharts; h++) {
        for (unsigned i = 0; i < nids; i++) {
            cells[n++] = cpu_to_fdt32(PH_CPU_INTC(h));
            cells[n++] = cpu_to_fdt32(ids[i]);
        }
    }
    return fdt_property(fdt, "interrupts-extended", cells, n * sizeof(cells[0]));
}

static int build_soc(void *fdt, const struct virt_fdt_config *c)
{
    static const uint32_t clint_irqs[] = { 3, 7 };     /* MSI, MTI */
    static const uint32_t plic_irqs[] = { 11, 9 };     /* MEI, SEI contexts */
    static const char clint_compat[] = "sifive,clint0\0riscv,clint0";
    static const char plic_compat[] = "sifive,plic-1.0.0\0riscv,plic0";
    static const char test_compat[] = "sifive,test1\0sifive,test0\0syscon";
    char name[48];

    T(fdt_begin_node(fdt, "soc"));
    T(fdt_property_u32(fdt, "#address-cells", 2));
    T(fdt_property_u32(fdt, "#size-cells", 2));
    T(fdt_property_string(fdt, "compatible", "simple-bus"));
    T(fdt_property(fdt, "ranges", NULL, 0));

    snprintf(name, sizeof(name), "test@%" PRIx64, c->test_base);
    T(fdt_begin_node(fdt, name));
    T(fdt_property_u32(fdt, "phandle", PH_TEST));
    T(prop_reg(fdt, c->test_base, 0x1000));
    T(fdt_property(fdt, "compatible", test_compat, sizeof(test_compat)));
    T(fdt_end_node(fdt));

    for (unsigned i = 0; i < c->nvirtio; i++) {
        uint64_t base = c->virtio_base + 0x1000ull * i;
        snprintf(name, sizeof(name), "virtio_mmio@%" PRIx64, base);
        T(fdt_begin_node(fdt, name));
        T(fdt_property_u32(fdt, "interrupts", c->virtio_irq0 + i));
        T(fdt_property_u32(fdt, "interrupt-parent", PH_PLIC));
        T(prop_reg(fdt, base, 0x1000));
        T(fdt_property_string(fdt, "compatible", "virtio,mmio"));
        T(fdt_end_node(fdt));
    }

    snprintf(name, sizeof(name), "serial@%" PRIx64, c->uart_base);
    T(fdt_begin_node(fdt, name));
    T(fdt_property_u32(fdt, "interrupts", c->uart_irq));
    T(fdt_property_u32(fdt, "interrupt-parent", PH_PLIC));
    T(fdt_property_u32(fdt, "clock-frequency", 0x384000));
    T(prop_reg(fdt, c->uart_base, 0x100));
    T(fdt_property_string(fdt, "compatible", "ns16550a"));
    T(fdt_end_node(fdt));

    snprintf(name, sizeof(name), "plic@%" PRIx64, c->plic_base);
    T(fdt_begin_node(fdt, name));
    T(fdt_property_u32(fdt, "phandle", PH_PLIC));
    T(fdt_property_u32(fdt, "riscv,ndev", c->plic_ndev));
    T(prop_reg(fdt, c->plic_base, 0x600000));
    T(prop_irqs_ext(fdt, c, plic_irqs, 2));
    T(fdt_property(fdt, "interrupt-controller", NULL, 0));
    T(fdt_property(fdt, "compatible", plic_compat, sizeof(plic_compat)));
    T(fdt_property_u32(fdt, "#address-cells", 0));
    T(fdt_property_u32(fdt, "#interrupt-cells", 1));
    T(fdt_end_node(fdt));

    snprintf(name, sizeof(name), "clint@%" PRIx64, c->clint_base);
    T(fdt_begin_node(fdt, name));
    T(prop_irqs_ext(fdt, c, clint_irqs, 2));
    T(prop_reg(fdt, c->clint_base, 0x10000));
    T(fdt_property(fdt, "compatible", clint_compat, sizeof(clint_compat)));
    T(fdt_end_node(fdt));

    return fdt_end_node(fdt);
}

/* Guest NUMA: a memory node per range and the distance map, as QEMU's
 * riscv virt board describes them. */
static int build_numa(void *fdt, const struct virt_fdt_config *c)
{
    fdt32_t cells[3 * VIRT_FDT_MAX_NUMA * VIRT_FDT_MAX_NUMA];
    unsigned n = 0;
    char name[48];

    for (unsigned i = 0; i < c->nnuma_mem; i++) {
        snprintf(name, sizeof(name), "memory@%" PRIx64, c->numa_mem[i].base);
        T(fdt_begin_node(fdt, name));
        T(fdt_property_u32(fdt, "numa-node-id", c->numa_mem[i].node));
        T(prop_reg(fdt, c->numa_mem[i].base, c->numa_mem[i].size));
        T(fdt_property_string(fdt, "device_type", "memory"));
        T(fdt_end_node(fdt));
    }
    T(fdt_begin_node(fdt, "distance-map"));
    for (unsigned i = 0; i < c->nnodes; i++) {
        for (unsigned j = 0; j < c->nnodes; j++) {
            cells[n++] = cpu_to_fdt32(i);
            cells[n++] = cpu_to_fdt32(j);
            cells[n++] = cpu_to_fdt32(c->dist[i][j]);
        }
    }
    T(fdt_property(fdt, "distance-matrix", cells, n * sizeof(cells[0])));
    T(fdt_property_string(fdt, "compatible", "numa-distance-map-v1"));
    return fdt_end_node(fdt);
}

static int build(void *fdt, size_t size, const struct virt_fdt_config *c)
{
    char name[48];

    T(fdt_create(fdt, (int)size));
    T(fdt_finish_reservemap(fdt));
    T(fdt_begin_node(fdt, ""));
    T(fdt_property_u32(fdt, "#address-cells", 2));
    T(fdt_property_u32(fdt, "#size-cells", 2));
    T(fdt_property_string(fdt, "compatible", "riscv-virtio"));
    T(fdt_property_string(fdt, "model", "riscv-virtio,qemu"));

    /* syscon poweroff/reboot through the test finisher, as QEMU describes */
    T(fdt_begin_node(fdt, "poweroff"));
    T(fdt_property_u32(fdt, "value", 0x5555));
    T(fdt_property_u32(fdt, "offset", 0));
    T(fdt_property_u32(fdt, "regmap", PH_TEST));
    T(fdt_property_string(fdt, "compatible", "syscon-poweroff"));
    T(fdt_end_node(fdt));
    T(fdt_begin_node(fdt, "reboot"));
    T(fdt_property_u32(fdt, "value", 0x7777));
    T(fdt_property_u32(fdt, "offset", 0));
    T(fdt_property_u32(fdt, "regmap", PH_TEST));
    T(fdt_property_string(fdt, "compatible", "syscon-reboot"));
    T(fdt_end_node(fdt));

    T(fdt_begin_node(fdt, "chosen"));
    if (c->bootargs)
        T(fdt_property_string(fdt, "bootargs", c->bootargs));
    snprintf(name, sizeof(name), "/soc/serial@%" PRIx64, c->uart_base);
    T(fdt_property_string(fdt, "stdout-path", name));
    if (c->initrd_end > c->initrd_start) {
        T(fdt_property_u64(fdt, "linux,initrd-start", c->initrd_start));
        T(fdt_property_u64(fdt, "linux,initrd-end", c->initrd_end));
    }
    T(fdt_end_node(fdt));

    if (c->nnuma_mem) {
        T(build_numa(fdt, c));
    } else {
        snprintf(name, sizeof(name), "memory@%" PRIx64, c->ram_base);
        T(fdt_begin_node(fdt, name));
        T(fdt_property_string(fdt, "device_type", "memory"));
        T(prop_reg(fdt, c->ram_base, c->ram_size));
        T(fdt_end_node(fdt));
    }

    T(build_cpus(fdt, c));
    T(build_soc(fdt, c));
    T(fdt_end_node(fdt));
    return fdt_finish(fdt);
}

int virt_fdt_build(const struct virt_fdt_config *c, void *buf, size_t size, char *err,
                   size_t errlen)
{
    int r;

    if (c->nnuma_mem > VIRT_FDT_MAX_NUMA || c->nnodes > VIRT_FDT_MAX_NUMA) {
        snprintf(err, errlen, "device tree: too many NUMA nodes");
        return -EINVAL;
    }
    if (c->nharts == 0 || c->nharts > VIRT_FDT_MAX_HARTS) {
        snprintf(err, errlen, "device tree: %u harts (1 to %d supported)", c->nharts,
                 VIRT_FDT_MAX_HARTS);
        return -EINVAL;
    }
    r = build(buf, size, c);
    if (r < 0) {
        snprintf(err, errlen, "device tree: %s", fdt_strerror(r));
        return r == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;
    }
    return 0;
}

size_t virt_fdt_size(const void *buf)
{
    return fdt_totalsize(buf);
}
