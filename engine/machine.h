/* The riscv64 `virt` machine: RAM, bus, devices and harts assembled from a
 * run_config, and the loop that runs them. */
#ifndef GB_MACHINE_H
#define GB_MACHINE_H

#include <stdint.h>
#include <pthread.h>
#include <stdio.h>

#include "boot.h"
#include "cli.h"
#include "glassbox/bus.h"
#include "glassbox/guest_mem.h"
#include "loader.h"
#include "numa.h"
#include "rv_cpu.h"

/* QEMU virt memory map */
#define VIRT_TEST_BASE   0x100000ull
#define VIRT_CLINT_BASE  0x2000000ull
#define VIRT_PLIC_BASE   0xc000000ull
#define VIRT_UART0_BASE  0x10000000ull
#define VIRT_VIRTIO_BASE 0x10001000ull
#define VIRT_DRAM_BASE   0x80000000ull
#define VIRT_UART0_IRQ   10
#define VIRT_VIRTIO_IRQ  1          /* slot i uses IRQ 1 + i */
#define VIRT_VIRTIO_COUNT 8
#define VIRT_PLIC_NDEV   95

struct clint;
struct plic;
struct uart16550;
struct sifive_test;
struct console;
struct virtio_mmio;
struct stats;
struct lifecycle;

struct machine {
    struct run_config cfg;
    uint8_t *ram;
    uint64_t ram_size;
    struct bus bus;
    struct clint *clint;
    struct plic *plic;
    struct uart16550 *uart;
    struct sifive_test *test;
    struct console *console;
    struct virtio_mmio *virtio[VIRT_VIRTIO_COUNT];
    struct guest_mem gm;
    /* host placement (numa/): the plan, the RAM mapping it made, and the
     * warnings main prints (bindings refused, capacity, THP) */
    struct numa_topo *topo;
    struct numa_plan *plan;
    struct numa_ram nram;
    struct numa_msgs numa_warn;
    int usage_error;            /* machine_init failed on the options */
    struct stats *stats;        /* the shared-memory region glasstop reads */
    struct lifecycle *lc;
    char name[64];
    int journal_warned;
    _Atomic unsigned bind_failures;  /* vCPU pinnings the kernel refused */
    struct rv_hart *harts[GB_MAX_HARTS];
    unsigned nharts;
    struct load_info info;
    uint8_t *kernel_data, *bios_data, *initrd_data;
    size_t kernel_len, bios_len, initrd_len;
    struct boot_state boot;
    uint64_t t0_ns;             /* mtime epoch */
    int out_fd;
    /* set by the finisher, HTIF, the console or a hart thread; the main
     * thread waits on cond for any of them */
    _Atomic int finished, exit_code, reset_requested, failed;
    char fail_msg[384];
    pthread_mutex_t lock;
    pthread_cond_t cond;
};

/* Build the machine; 0 or -errno with a one-line reason in err. */
int machine_init(struct machine *m, const struct run_config *cfg, char *err, size_t errlen);
/* Run until the guest finishes. Returns the process exit status (guest's
 * code, or 1 with a diagnostic in err). */
int machine_run(struct machine *m, char *err, size_t errlen);
void machine_destroy(struct machine *m);

#endif
