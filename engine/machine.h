/* The riscv64 `virt` machine: RAM, bus, devices and harts assembled from a
 * run_config, and the loop that runs them. */
#ifndef GB_MACHINE_H
#define GB_MACHINE_H

#include <stdint.h>
#include <pthread.h>
#include <signal.h>
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
struct control;

struct machine {
    struct run_config cfg;
    uint8_t *ram;
    uint64_t ram_size;
    /* per RAM page, bumped by every device write into it (rv_env.page_wgen) */
    _Atomic uint32_t *page_wgen;
    struct bus bus;
    struct clint *clint;
    struct plic *plic;
    struct uart16550 *uart;
    struct sifive_test *test;
    struct console *console;
    struct virtio_mmio *virtio[VIRT_VIRTIO_COUNT];
    char virtio_name[VIRT_VIRTIO_COUNT][24];    /* "blk0", "net0", ...; "" for an empty slot */
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
    struct jit_mgr *jit;        /* the JIT's compile worker, NULL when off */
    struct load_info info;
    uint8_t *kernel_data, *bios_data, *initrd_data;
    size_t kernel_len, bios_len, initrd_len;
    struct boot_state boot;
    /* The guest clock, one word so readers need no lock: bit 63 clear,
     * the CLOCK_MONOTONIC ns at which mtime was 0 (running); bit 63 set,
     * mtime in ns frozen while paused (QEMU stops the virtual clock too). */
    _Atomic uint64_t clock;
    _Atomic int hart_tid[GB_MAX_HARTS];     /* host thread ids (NUMA report, query-cpus) */
    pthread_mutex_t ctl_lock;   /* serializes pause/resume/reset/quit callers */
    const char *reset_reason, *shutdown_reason;
    struct control *ctl;        /* the QMP socket, NULL when not started */
    /* NUMA placement report, owned by the stats sampler thread */
    struct numa_reporter *reporter;
    char bind_warn[NUMA_MSG_LEN + 32];  /* last refused vCPU pinning (under lock) */
    /* touched-page count, owned by the stats sampler thread */
    unsigned char *mincore_vec;
    uint64_t touched_pages, touched_at_ns;
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
/* The signals machine_run() handles on its own thread: main() blocks them
 * (pthread_sigmask) before machine_init so every thread inherits that. */
void machine_signal_set(sigset_t *set);
void machine_destroy(struct machine *m);

/* Steering from another thread (QMP, console): thread-safe, 0 or -errno
 * with a one-line reason. pause returns once every vCPU has stopped and
 * freezes the guest clock; pause/resume of a VM already in that state
 * succeed (as QEMU's stop/cont do). reset while paused resets in place
 * and stays paused. powerdown only records the request: the virt machine
 * has no power button (as in QEMU). quit stops the VM; the reason lands
 * in the SHUTDOWN event. */
int machine_pause(struct machine *m, char *err, size_t errlen);
int machine_resume(struct machine *m, char *err, size_t errlen);
int machine_reset(struct machine *m, const char *reason, char *err, size_t errlen);
int machine_powerdown(struct machine *m, char *err, size_t errlen);
int machine_quit(struct machine *m, const char *reason, char *err, size_t errlen);
/* Open the QMP socket (engine/machine_ctl.c). */
int machine_control_start(struct machine *m, char *err, size_t errlen);

#endif
