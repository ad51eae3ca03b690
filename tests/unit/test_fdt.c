/* The virt device tree: parse what virt_fdt_build() wrote back with libfdt
 * and check every node and property the firmware and Linux rely on. */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <libfdt.h>

#include "virt_fdt.h"

static uint8_t buf[65536];

static struct virt_fdt_config cfg(unsigned nharts)
{
    struct virt_fdt_config c = {
        .nharts = nharts, .isa = "rv64imafdc_zicntr_zicsr_zifencei", .mmu_type = "riscv,sv48",
        .timebase_hz = 10000000, .ram_base = 0x80000000, .ram_size = 256ull << 20,
        .bootargs = "console=ttyS0 earlycon=sbi", .initrd_start = 0x88200000,
        .initrd_end = 0x88300000, .test_base = 0x100000, .clint_base = 0x2000000,
        .plic_base = 0xc000000, .uart_base = 0x10000000, .virtio_base = 0x10001000,
        .uart_irq = 10, .virtio_irq0 = 1, .plic_ndev = 95, .nvirtio = 8,
    };
    return c;
}

static uint64_t get_u64_pair(const void *fdt, int node, const char *prop, int idx)
{
    int len;
    const uint8_t *p = fdt_getprop(fdt, node, prop, &len);
    assert_non_null(p);
    assert_true(len >= (int)((idx + 1) * 8));
    /* properties are only 4-byte aligned in the blob */
    return fdt64_ld((const fdt64_t *)(const void *)(p + 8 * idx));
}

static uint32_t get_u32(const void *fdt, int node, const char *prop)
{
    int len;
    const fdt32_t *p = fdt_getprop(fdt, node, prop, &len);
    assert_non_null(p);
    assert_int_equal(len, 4);
    return fdt32_to_cpu(*p);
}

static void test_root_memory_chosen(void **state)
{
    struct virt_fdt_config c = cfg(1);
    char err[128];
    int n;

    (void)state;
    assert_int_equal(virt_fdt_build(&c, buf, sizeof(buf), err, sizeof(err)), 0);
    assert_int_equal(fdt_check_header(buf), 0);
    assert_true(virt_fdt_size(buf) <= sizeof(buf));
    n = fdt_path_offset(buf, "/memory@80000000");
    assert_true(n >= 0);
    assert_string_equal(fdt_getprop(buf, n, "device_type", NULL), "memory");
    assert_int_equal(get_u64_pair(buf, n, "reg", 0), 0x80000000);
    assert_int_equal(get_u64_pair(buf, n, "reg", 1), 256ull << 20);
    n = fdt_path_offset(buf, "/chosen");
    assert_true(n >= 0);
    assert_string_equal(fdt_getprop(buf, n, "bootargs", NULL), "console=ttyS0 earlycon=sbi");
    assert_string_equal(fdt_getprop(buf, n, "stdout-path", NULL), "/soc/serial@10000000");
    assert_int_equal(get_u64_pair(buf, n, "linux,initrd-start", 0), 0x88200000);
    assert_int_equal(get_u64_pair(buf, n, "linux,initrd-end", 0), 0x88300000);
}

static void test_no_initrd_no_bootargs(void **state)
{
    struct virt_fdt_config c = cfg(1);
    char err[128];
    int n;

    (void)state;
    c.bootargs = NULL;
    c.initrd_start = c.initrd_end = 0;
    assert_int_equal(virt_fdt_build(&c, buf, sizeof(buf), err, sizeof(err)), 0);
    n = fdt_path_offset(buf, "/chosen");
    assert_null(fdt_getprop(buf, n, "bootargs", NULL));
    assert_null(fdt_getprop(buf, n, "linux,initrd-start", NULL));
}

static void test_cpus(void **state)
{
    struct virt_fdt_config c = cfg(4);
    char err[128], path[64];
    int n, len, plic;
    const fdt32_t *ie;

    (void)state;
    assert_int_equal(virt_fdt_build(&c, buf, sizeof(buf), err, sizeof(err)), 0);
    n = fdt_path_offset(buf, "/cpus");
    assert_int_equal(get_u32(buf, n, "timebase-frequency"), 10000000);
    for (unsigned h = 0; h < 4; h++) {
        snprintf(path, sizeof(path), "/cpus/cpu@%u", h);
        n = fdt_path_offset(buf, path);
        assert_true(n >= 0);
        assert_int_equal(get_u32(buf, n, "reg"), h);
        assert_string_equal(fdt_getprop(buf, n, "riscv,isa", NULL), c.isa);
        assert_string_equal(fdt_getprop(buf, n, "mmu-type", NULL), "riscv,sv48");
        snprintf(path, sizeof(path), "/cpus/cpu@%u/interrupt-controller", h);
        assert_true(fdt_path_offset(buf, path) >= 0);
    }
    assert_true(fdt_path_offset(buf, "/cpus/cpu@4") < 0);
    /* PLIC: two contexts (M external 11, S external 9) per hart */
    plic = fdt_path_offset(buf, "/soc/plic@c000000");
    assert_true(plic >= 0);
    ie = fdt_getprop(buf, plic, "interrupts-extended", &len);
    assert_int_equal(len, 4 * 2 * 2 * 4);
    assert_int_equal(fdt32_to_cpu(ie[1]), 11);
    assert_int_equal(fdt32_to_cpu(ie[3]), 9);
    assert_int_equal(get_u32(buf, plic, "riscv,ndev"), 95);
    /* the phandle in interrupts-extended resolves to hart 3's controller */
    n = fdt_node_offset_by_phandle(buf, fdt32_to_cpu(ie[12]));
    assert_true(n >= 0);
    assert_int_equal(fdt_parent_offset(buf, n), fdt_path_offset(buf, "/cpus/cpu@3"));
}

static void test_devices(void **state)
{
    struct virt_fdt_config c = cfg(1);
    char err[128], path[64];
    int n, test;

    (void)state;
    assert_int_equal(virt_fdt_build(&c, buf, sizeof(buf), err, sizeof(err)), 0);
    n = fdt_path_offset(buf, "/soc/serial@10000000");
    assert_true(n >= 0);
    assert_string_equal(fdt_getprop(buf, n, "compatible", NULL), "ns16550a");
    assert_int_equal(get_u32(buf, n, "interrupts"), 10);
    assert_int_equal(fdt_node_offset_by_phandle(buf, get_u32(buf, n, "interrupt-parent")),
                     fdt_path_offset(buf, "/soc/plic@c000000"));
    for (unsigned i = 0; i < 8; i++) {
        snprintf(path, sizeof(path), "/soc/virtio_mmio@%x", 0x10001000 + 0x1000 * i);
        n = fdt_path_offset(buf, path);
        assert_true(n >= 0);
        assert_int_equal(get_u32(buf, n, "interrupts"), 1 + i);
        assert_int_equal(get_u64_pair(buf, n, "reg", 0), 0x10001000 + 0x1000 * i);
    }
    assert_true(fdt_path_offset(buf, "/soc/clint@2000000") >= 0);
    test = fdt_path_offset(buf, "/soc/test@100000");
    assert_true(test >= 0);
    assert_int_equal(fdt_stringlist_search(buf, test, "compatible", "syscon"), 2);
    n = fdt_path_offset(buf, "/poweroff");
    assert_int_equal(get_u32(buf, n, "value"), 0x5555);
    assert_int_equal(fdt_node_offset_by_phandle(buf, get_u32(buf, n, "regmap")), test);
    n = fdt_path_offset(buf, "/reboot");
    assert_int_equal(get_u32(buf, n, "value"), 0x7777);
}

static void test_numa(void **state)
{
    struct virt_fdt_config c = cfg(2);
    char err[128];
    int n, len;
    const fdt32_t *dm;

    (void)state;
    c.nnuma_mem = 2;
    c.numa_mem[0].base = 0x80000000;
    c.numa_mem[0].size = 128ull << 20;
    c.numa_mem[0].node = 0;
    c.numa_mem[1].base = 0x88000000;
    c.numa_mem[1].size = 128ull << 20;
    c.numa_mem[1].node = 1;
    c.cpu_node[0] = 0;
    c.cpu_node[1] = 1;
    c.nnodes = 2;
    c.dist[0][0] = c.dist[1][1] = 10;
    c.dist[0][1] = c.dist[1][0] = 15;
    assert_int_equal(virt_fdt_build(&c, buf, sizeof(buf), err, sizeof(err)), 0);
    n = fdt_path_offset(buf, "/memory@88000000");
    assert_true(n >= 0);
    assert_int_equal(get_u32(buf, n, "numa-node-id"), 1);
    assert_int_equal(get_u64_pair(buf, n, "reg", 1), 128ull << 20);
    assert_int_equal(get_u32(buf, fdt_path_offset(buf, "/memory@80000000"), "numa-node-id"), 0);
    assert_int_equal(get_u32(buf, fdt_path_offset(buf, "/cpus/cpu@1"), "numa-node-id"), 1);
    n = fdt_path_offset(buf, "/distance-map");
    assert_true(n >= 0);
    dm = fdt_getprop(buf, n, "distance-matrix", &len);
    assert_int_equal(len, 4 * 3 * 4);
    /* (0,1) -> 15 is the second triple */
    assert_int_equal(fdt32_to_cpu(dm[3]), 0);
    assert_int_equal(fdt32_to_cpu(dm[4]), 1);
    assert_int_equal(fdt32_to_cpu(dm[5]), 15);
    /* without guest NUMA there is no numa-node-id anywhere */
    c = cfg(2);
    assert_int_equal(virt_fdt_build(&c, buf, sizeof(buf), err, sizeof(err)), 0);
    assert_null(fdt_getprop(buf, fdt_path_offset(buf, "/cpus/cpu@0"), "numa-node-id", NULL));
    assert_true(fdt_path_offset(buf, "/distance-map") < 0);
}

static void test_errors(void **state)
{
    struct virt_fdt_config c = cfg(0);
    char err[128];

    (void)state;
    assert_int_equal(virt_fdt_build(&c, buf, sizeof(buf), err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "0 harts"));
    c = cfg(9);
    assert_int_equal(virt_fdt_build(&c, buf, sizeof(buf), err, sizeof(err)), -EINVAL);
    c = cfg(1);
    assert_int_equal(virt_fdt_build(&c, buf, 256, err, sizeof(err)), -ENOSPC);
    assert_non_null(strstr(err, "device tree"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_memory_chosen),
        cmocka_unit_test(test_no_initrd_no_bootargs),
        cmocka_unit_test(test_cpus),
        cmocka_unit_test(test_devices),
        cmocka_unit_test(test_numa),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
