#define _GNU_SOURCE     /* sched_getaffinity, cpu_set_t */
#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clint.h"
#include "console.h"
#include "control.h"
#include "lifecycle.h"
#include "machine.h"
#include "jit/jit.h"
#include "jit/jit_cache.h"
#include "plic.h"
#include "rv_trace.h"
#include "stats.h"
#include "sifive_test.h"
#include "uart16550.h"
#include "virt_devices.h"
#include "virtio_mmio.h"

#define RUN_SLICE 16384     /* instructions between timer polls */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define CLOCK_FROZEN (1ull << 63)

/* Guest time in ns: stands still while the VM is paused. */
static uint64_t guest_ns(struct machine *m)
{
    uint64_t c = atomic_load_explicit(&m->clock, memory_order_acquire);
    return (c & CLOCK_FROZEN) ? c & ~CLOCK_FROZEN : now_ns() - c;
}

/* mtime: a 10 MHz timebase since the machine started */
static uint64_t mtime_now(void *opaque)
{
    return guest_ns(opaque) / 100;
}

static uint64_t env_time(void *opaque)
{
    struct machine *m = opaque;
    return clint_mtime(m->clint);
}

static void env_poll_timer(void *opaque, unsigned hart)
{
    struct machine *m = opaque;
    clint_poll(m->clint, hart);
}

static uint64_t env_next_timer(void *opaque, unsigned hart)
{
    struct machine *m = opaque;
    return clint_mtimecmp(m->clint, hart);
}

/* Wake the main thread, which stops the harts and decides what next. */
static void machine_signal(struct machine *m)
{
    pthread_mutex_lock(&m->lock);
    pthread_cond_broadcast(&m->cond);
    pthread_mutex_unlock(&m->lock);
}

static void stop_harts(struct machine *m)
{
    for (unsigned i = 0; i < m->nharts; i++)
        rv_hart_request(m->harts[i], RV_REQ_EXIT);
}

static void finish(struct machine *m, int code, const char *reason)
{
    if (!m->shutdown_reason)
        m->shutdown_reason = reason;
    m->exit_code = code;      /* before finished: the main thread reads them in that order */
    m->finished = 1;
    stop_harts(m);
    machine_signal(m);
}

static void on_console_quit(void *opaque)
{
    finish(opaque, 0, "host-ui");
}

static void on_test_finish(void *opaque, enum sifive_test_kind kind, int code)
{
    struct machine *m = opaque;

    if (kind == SIFIVE_TEST_RESET) {
        m->reset_reason = "guest-reset";
        m->reset_requested = 1;
        stop_harts(m);
        machine_signal(m);
        return;
    }
    finish(m, kind == SIFIVE_TEST_PASS ? 0 : code, "guest-shutdown");
}

/* HTIF as Spike does it: 1 = pass, (n << 1) | 1 = fail with n; device 1
 * command 1 prints the low byte; the host then clears tohost. */
static void env_htif_write(void *opaque, uint64_t val)
{
    struct machine *m = opaque;
    uint8_t *p = m->ram + (m->info.tohost - VIRT_DRAM_BASE);
    unsigned dev = (unsigned)(val >> 56), cmd = (unsigned)((val >> 48) & 0xff);

    if (val == 0)
        return;
    if (dev == 0 && cmd == 0 && (val & 1)) {
        uint64_t code = (val & 0xffffffffffffull) >> 1;
        finish(m, code > 255 ? 255 : (int)code, "guest-shutdown");
        return;
    }
    if (dev == 1 && cmd == 1) {
        char c = (char)(val & 0xff);
        ssize_t r = write(m->out_fd, &c, 1);
        (void)r;
    }
    memset(p, 0, 8);
}

static void irq_msip_set(void *opaque, unsigned n, int level)
{
    (void)n;
    rv_hart_set_irq(opaque, RV_IRQ_MSI, level);
}

static void irq_mtip_set(void *opaque, unsigned n, int level)
{
    (void)n;
    rv_hart_set_irq(opaque, RV_IRQ_MTI, level);
}

/* PLIC context 2h drives hart h's MEIP, context 2h+1 its SEIP (QEMU's
 * order); n is the context number. */
static void irq_plic_ctx_set(void *opaque, unsigned n, int level)
{
    rv_hart_set_irq(opaque, (n & 1) ? RV_IRQ_SEI : RV_IRQ_MEI, level);
}

static void reset_harts(struct machine *m)
{
    for (unsigned i = 0; i < m->nharts; i++) {
        struct rv_hart *h = m->harts[i];
        rv_hart_reset(h, m->boot.entry);
        h->x[10] = h->mhartid;          /* a0 = hart id */
        h->x[11] = m->boot.fdt_addr;    /* a1 = device tree */
        h->x[12] = m->boot.dyn_addr;    /* a2 = fw_dynamic info */
        rv_bc_flush(h);
    }
}

static void jit_warn(void *opaque, const char *msg)
{
    (void)opaque;
    fprintf(stderr, "glassbox: warning: %s\n", msg);
}

/* The JIT's compile worker, shared by all harts (tracing keeps every
 * instruction in the interpreter). */
static int create_jit(struct machine *m, char *err, size_t errlen)
{
    /* threshold 0 is the testing mode: every block runs compiled. -O1:
     * for single blocks it compiles ~35% faster than -O2 and the code
     * runs as fast (bench/run --jit). */
    struct jit_config jc = { .threshold = m->cfg.jit_threshold, .opt_level = 1,
                             .sync = m->cfg.jit_threshold == 0,
                             /* bench/boot --smp 2 on 2 CPUs: nice 0 1.45x QEMU,
                              * nice 10 1.03x, nice 19 0.84x (the compiler
                              * takes a CPU only when a vCPU leaves one);
                              * compute benchmarks at --smp 1 unchanged */
                             .nice = 19,
                             .verify = m->cfg.jit_verify,
                             .code_max = m->cfg.jit_code_max,
                             .warn = jit_warn, .opaque = m };
    int r;

    if (!m->cfg.jit || m->cfg.trace)
        return 0;
    if (m->cfg.jit_cache) {
        /* entries are valid for this very build and these options only */
        uint32_t opts = (uint32_t)jc.opt_level | (uint32_t)jc.verify << 8 |
                        jit_host_features() << 9 | JIT_CACHE_FORMAT << 16;
        jit_cache_prune(m->cfg.jit_cache,
                        m->cfg.jit_cache_max ? m->cfg.jit_cache_max : JIT_CACHE_DEFAULT_MAX);
        r = jit_cache_open(&jc.cache, m->cfg.jit_cache, jit_build_hash(), opts, err, errlen);
        if (r < 0)
            return r;
    }
    r = jit_mgr_new(&m->jit, &jc);
    for (unsigned i = 0; r == 0 && i < m->nharts; i++)
        r = jit_attach_hart(m->jit, m->harts[i]);
    if (r < 0)
        snprintf(err, errlen, "cannot start the JIT: %s", strerror(-r));
    return r;
}

static int create_harts(struct machine *m, char *err, size_t errlen)
{
    struct rv_env env;

    memset(&env, 0, sizeof(env));
    env.ram = m->ram;
    env.ram_base = VIRT_DRAM_BASE;
    env.ram_size = m->ram_size;
    env.bus = &m->bus;
    env.get_time = env_time;
    env.poll_timer = env_poll_timer;
    env.next_timer = env_next_timer;
    env.opaque = m;
    /* FENCE.I checks these pages only when this hart's own stores are the
     * only other writers (they drop what they overwrite themselves) */
    env.page_wgen = m->nharts == 1 ? m->page_wgen : NULL;
    if (m->info.has_tohost && !strcmp(m->cfg.bios, "none")) {
        env.tohost = m->info.tohost;
        env.fromhost = m->info.fromhost;
        env.htif_write = env_htif_write;
    }
    for (unsigned i = 0; i < m->nharts; i++) {
        struct rv_hart *h = aligned_alloc(64, (sizeof(struct rv_hart) + 63) & ~(size_t)63);
        int r;

        if (!h) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
        memset(h, 0, sizeof(*h));
        m->harts[i] = h;
        r = rv_hart_init(h, i, &env);
        if (r < 0) {
            snprintf(err, errlen, "cannot create hart %u: %s", i, strerror(-r));
            return r;
        }
        /* one block cache per hart: no locking on the hot path, and
         * cross-hart code changes are covered by the FENCE.I the
         * architecture requires of the executing hart */
        h->bc = rv_bc_new(VIRT_DRAM_BASE, m->ram_size);
        if (!h->bc) {
            snprintf(err, errlen, "out of memory");
            return -ENOMEM;
        }
        if (m->cfg.trace) {
            h->trace = rv_tracer_new(stderr);
            if (!h->trace) {
                snprintf(err, errlen, "out of memory");
                return -ENOMEM;
            }
        }
    }
    return 0;
}

static int create_devices(struct machine *m, char *err, size_t errlen)
{
    struct irq_line msip[GB_MAX_HARTS], mtip[GB_MAX_HARTS], ctx[2 * GB_MAX_HARTS];
    int r, guest_in = -1;

    for (unsigned i = 0; i < m->nharts; i++) {
        msip[i] = (struct irq_line){ irq_msip_set, m->harts[i], 0 };
        mtip[i] = (struct irq_line){ irq_mtip_set, m->harts[i], 0 };
        ctx[2 * i] = (struct irq_line){ irq_plic_ctx_set, m->harts[i], 0 };
        ctx[2 * i + 1] = (struct irq_line){ irq_plic_ctx_set, m->harts[i], 1 };
    }
    bus_init(&m->bus);
    m->clint = clint_new(m->nharts, mtime_now, m, msip, mtip);
    m->plic = plic_new(VIRT_PLIC_NDEV + 1, 2 * m->nharts, ctx);
    r = console_open(&m->console, STDIN_FILENO, isatty(STDIN_FILENO), on_console_quit, m,
                     &guest_in);
    if (r < 0) {
        snprintf(err, errlen, "cannot set up the console: %s", strerror(-r));
        return r;
    }
    /* standard input goes to the device the guest's console is on */
    m->uart = uart16550_new(strcmp(m->cfg.console, "hvc0") ? guest_in : -1, m->out_fd,
                            (struct irq_line){ plic_set_irq, m->plic, VIRT_UART0_IRQ });
    m->test = sifive_test_new(on_test_finish, m);
    if (!m->clint || !m->plic || !m->uart || !m->test) {
        snprintf(err, errlen, "cannot create devices");
        return -ENOMEM;
    }
    if (bus_map(&m->bus, VIRT_TEST_BASE, 0x1000, &sifive_test_ops, m->test, "test") < 0 ||
        bus_map(&m->bus, VIRT_CLINT_BASE, 0x10000, &clint_ops, m->clint, "clint") < 0 ||
        bus_map(&m->bus, VIRT_PLIC_BASE, PLIC_MMIO_SIZE, &plic_ops, m->plic, "plic") < 0 ||
        bus_map(&m->bus, VIRT_UART0_BASE, 0x100, &uart16550_ops, m->uart, "uart0") < 0) {
        snprintf(err, errlen, "device map overlap");
        return -EEXIST;
    }
    return virt_devices_create(m, strcmp(m->cfg.console, "hvc0") ? -1 : guest_in, err, errlen);
}

static void virtio_stats_read(void *opaque, struct stats_dev_counters *c)
{
    struct virtio_stats v;

    virtio_mmio_stats(opaque, &v);
    *c = (struct stats_dev_counters){ v.requests, v.bytes_in, v.bytes_out, v.errors,
                                      v.notifications, v.interrupts };
}

/* Sampler thread: guest RAM pages the host has backed (mincore), at most
 * once a second — a walk of 1 GiB of page tables is not free. */
static uint64_t touched_pages(void *opaque)
{
    struct machine *m = opaque;
    uint64_t now = now_ns(), n = 0, pages = m->ram_size / (uint64_t)getpagesize();

    if (m->touched_at_ns && now - m->touched_at_ns < 1000000000ull)
        return m->touched_pages;
    if (!m->mincore_vec)
        m->mincore_vec = malloc(pages);
    if (!m->mincore_vec || mincore(m->ram, m->ram_size, m->mincore_vec) < 0)
        return m->touched_pages;
    for (uint64_t i = 0; i < pages; i++)
        n += m->mincore_vec[i] & 1;
    m->touched_pages = n;
    m->touched_at_ns = now;
    return n;
}

/* Sampler thread, once a second: where guest RAM and the vCPU threads
 * really are. Refused bindings: memory ones from setup, thread ones as
 * the hart threads met them. */
static int numa_source(void *opaque, struct gb_stats_numa_report *out)
{
    struct machine *m = opaque;
    int tids[GB_MAX_HARTS];
    char warn[sizeof(m->bind_warn)] = "";
    unsigned fails = m->numa_warn.n + atomic_load(&m->bind_failures);

    for (unsigned i = 0; i < m->nharts; i++)
        tids[i] = atomic_load(&m->hart_tid[i]);
    pthread_mutex_lock(&m->lock);
    if (m->bind_warn[0])
        snprintf(warn, sizeof(warn), "%s", m->bind_warn);
    pthread_mutex_unlock(&m->lock);
    if (!warn[0] && m->numa_warn.n)
        snprintf(warn, sizeof(warn), "%s", m->numa_warn.msg[0]);
    return numa_reporter_fill(m->reporter, tids, m->nharts, NULL, fails, warn[0] ? warn : NULL,
                              out);
}

struct walk_ctx {
    stats_block_visit_fn visit;
    void *ctx;
};

static void walk_one(void *arg, const struct rv_block *b)
{
    struct walk_ctx *w = arg;
    struct stats_block_sample s = {
        .vpc = b->vpc, .ppc = b->paddr, .execs = rv_block_execs(b), .ninsns = b->n,
        .guest_bytes = b->bytes, .tier = b->jit_region ? b->jit_region->tier : 0,
        .code_bytes = b->jit_code_bytes, .compile_ns = (uint64_t)b->jit_compile_us * 1000,
    };
    w->visit(w->ctx, &s);
}

/* Runs on hart `hart`'s own thread (stats_hart_poll): the block cache is
 * that thread's alone. */
static void walk_blocks(void *arg, unsigned hart, stats_block_visit_fn visit, void *ctx)
{
    struct machine *m = arg;
    struct walk_ctx w = { visit, ctx };

    if (hart < m->nharts)
        rv_bc_for_each(m->harts[hart], walk_one, &w);
}

/* Lifecycle events go to the stats ring and to QMP clients. */
static void on_lifecycle(void *opaque, const struct lifecycle_event *ev)
{
    struct machine *m = opaque;

    if (m->stats)
        stats_on_lifecycle(m->stats, ev);
    if (m->ctl)
        control_on_lifecycle(m->ctl, ev);
}

/* The stats region and the lifecycle: created once the machine exists. */
static int create_observability(struct machine *m, char *err, size_t errlen)
{
    char sum[160];
    struct stats_config sc;
    struct lifecycle_config lcc;
    int r;

    if (m->cfg.name)
        snprintf(m->name, sizeof(m->name), "%s", m->cfg.name);
    else
        snprintf(m->name, sizeof(m->name), "vm-%ld", (long)getpid());
    snprintf(sum, sizeof(sum), "virt, %u hart%s, %" PRIu64 " MiB RAM", m->nharts,
             m->nharts == 1 ? "" : "s", m->ram_size >> 20);
    lcc = (struct lifecycle_config){ .vm_name = m->name, .event_log = m->cfg.event_log,
                                     .on_event = on_lifecycle, .opaque = m };
    if (m->cfg.no_stats)
        return lifecycle_create(&m->lc, &lcc, err, errlen);
    sc = (struct stats_config){ .name = m->name, .arch = "riscv64", .accel = "tcg",
                                .machine = sum, .nvcpus = m->nharts,
                                .ram_base = VIRT_DRAM_BASE, .ram_bytes = m->ram_size };
    r = stats_create(&m->stats, &sc, err, errlen);
    if (r < 0)
        return r;
    r = lifecycle_create(&m->lc, &lcc, err, errlen);
    if (r < 0)
        return r;
    stats_attach_harts(m->stats, m->harts, m->nharts);
    stats_set_block_walker(m->stats, walk_blocks, m);
    stats_set_memory_source(m->stats, touched_pages, m);
    if (!m->cfg.no_numa_report) {
        r = numa_reporter_new(&m->reporter, m->topo, m->plan, m->ram, m->ram_size, 0);
        if (r < 0) {
            snprintf(err, errlen, "cannot set up the NUMA placement report: %s", strerror(-r));
            return r;
        }
        stats_set_numa_source(m->stats, numa_source, m, 0);
    }
    /* slots with a device only; empty ones answer device id 0 */
    for (unsigned i = 0; i < VIRT_VIRTIO_COUNT; i++)
        if (m->virtio[i] && m->virtio_name[i][0])
            stats_add_device(m->stats, m->virtio_name[i], virtio_stats_read, m->virtio[i]);
    return stats_start(m->stats, err, errlen);
}

/* Everything that starts I/O-side threads: device input readers, the
 * libslirp thread, the stats sampler, the QMP socket. */
static int create_io(struct machine *m, char *err, size_t errlen)
{
    int r = create_devices(m, err, errlen);

    if (r == 0)
        r = create_observability(m, err, errlen);
    if (r == 0 && !(m->cfg.qmp_socket && !strcmp(m->cfg.qmp_socket, "none")))
        r = machine_control_start(m, err, errlen);
    return r;
}

/* Run fn with the calling thread on cpus, so that the threads it starts
 * inherit that placement (numa_plan: the I/O thread and JIT workers go
 * to the memory's CPUs that no pinned vCPU uses); then restore. A refused
 * binding is counted like a vCPU's. */
static int placed(struct machine *m, bool pinned, const struct numa_set *cpus,
                  int (*fn)(struct machine *, char *, size_t), char *err, size_t errlen)
{
    cpu_set_t old;
    char msg[NUMA_MSG_LEN];
    int saved = pinned && sched_getaffinity(0, sizeof(old), &old) == 0;
    int r;

    if (saved && numa_bind_thread(m->topo, 0, cpus, false, msg, sizeof(msg)) == NUMA_WARNED)
        atomic_fetch_add(&m->bind_failures, 1);
    r = fn(m, err, errlen);
    if (saved)
        sched_setaffinity(0, sizeof(old), &old);
    return r;
}

int machine_init(struct machine *m, const struct run_config *cfg, char *err, size_t errlen)
{
    int r;

    memset(m, 0, sizeof(*m));
    m->cfg = *cfg;
    m->nharts = cfg->smp ? cfg->smp : 1;
    m->out_fd = STDOUT_FILENO;
    m->clock = now_ns();
    pthread_mutex_init(&m->ctl_lock, NULL);
    pthread_mutex_init(&m->lock, NULL);
    pthread_cond_init(&m->cond, NULL);

    r = boot_read_images(m, err, errlen);
    if (r < 0)
        return r;
    /* guest RAM: planned and bound before anything touches it */
    r = numa_topo_open(&m->topo, cfg->numa_topology, NULL, err, errlen);
    if (r < 0)
        return r;
    m->plan = calloc(1, sizeof(*m->plan));
    if (!m->plan)
        return -ENOMEM;
    r = numa_plan_build(m->topo, &cfg->numa, cfg->memory, m->nharts, m->plan, err, errlen);
    if (r < 0) {
        m->usage_error = 1;
        return r;
    }
    r = numa_setup_ram(m->topo, m->plan, &m->nram, &m->numa_warn, err, errlen);
    if (r < 0)
        return r;
    m->ram = m->nram.addr;
    m->ram_size = cfg->memory;
    m->page_wgen = calloc(m->ram_size >> RV_PAGE_SHIFT, sizeof(*m->page_wgen));
    if (!m->page_wgen) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    r = boot_load(m, err, errlen);
    if (r < 0)
        return r;
    /* harts before devices: devices get the harts' interrupt lines */
    r = create_harts(m, err, errlen);
    if (r == 0)
        r = placed(m, m->plan->jit_pinned, &m->plan->jit_cpus, create_jit, err, errlen);
    if (r == 0)
        r = placed(m, m->plan->io_pinned, &m->plan->io_cpus, create_io, err, errlen);
    if (r < 0)
        return r;
    reset_harts(m);
    return 0;
}

static int machine_run_loop(struct machine *m, char *err, size_t errlen);

static const char *priv_name(unsigned p)
{
    return p == RV_PRIV_M ? "M" : p == RV_PRIV_S ? "S" : "U";
}

/* One thread per hart: run in slices, polling this hart's timer between
 * them, until a request, a fatal stop or the instruction limit. */
static void *hart_thread(void *arg)
{
    struct rv_hart *h = arg;
    struct machine *m = h->env.opaque;
    char msg[sizeof(m->fail_msg)] = "";
    char tname[16];

    snprintf(tname, sizeof(tname), "gb-vcpu%u", (unsigned)h->mhartid);
    pthread_setname_np(pthread_self(), tname);

    atomic_store(&m->hart_tid[h->mhartid], (int)syscall(SYS_gettid));

    /* pin before running guest code; threads are recreated after a reset */
    if (m->plan->vcpu_pinned[h->mhartid]) {
        char bmsg[NUMA_MSG_LEN];
        int r = numa_bind_thread(m->topo, 0, &m->plan->vcpu_cpus[h->mhartid],
                                 m->plan->ranges[0].strict, bmsg, sizeof(bmsg));
        if (r < 0)
            snprintf(msg, sizeof(msg), "vCPU %" PRIu64 ": %s", h->mhartid, bmsg);
        else if (r == NUMA_WARNED) {
            atomic_fetch_add(&m->bind_failures, 1);
            pthread_mutex_lock(&m->lock);
            snprintf(m->bind_warn, sizeof(m->bind_warn), "vCPU %" PRIu64 ": %s", h->mhartid,
                     bmsg);
            pthread_mutex_unlock(&m->lock);
        }
    }

    while (!msg[0] && !m->finished && !m->reset_requested && !m->failed) {
        uint64_t slice = RUN_SLICE;
        enum rv_exit e;

        /* paused: park here (one atomic load while running) */
        if (lifecycle_wait_running(m->lc) != GB_VM_RUNNING)
            break;

        if (m->cfg.max_insns) {
            /* instructions plus traps: a trap storm retires nothing */
            uint64_t steps = h->instret + h->traps;
            if (steps >= m->cfg.max_insns) {
                char last[96] = "";
                if (h->traps)
                    snprintf(last, sizeof(last), "; last M-mode trap: %s",
                             rv_cause_name(h->mcause));
                snprintf(msg, sizeof(msg), "guest did not finish within %"
                         PRIu64 " instructions (--max-insns): hart %" PRIu64
                         " stopped at pc 0x%" PRIx64 " in %s-mode after %" PRIu64
                         " traps%s", m->cfg.max_insns, h->mhartid, h->pc,
                         priv_name(h->priv), h->traps, last);
                break;
            }
            if (m->cfg.max_insns - steps < slice)
                slice = m->cfg.max_insns - steps;
        }
        clint_poll(m->clint, (unsigned)h->mhartid);
        e = rv_hart_run(h, slice);
        stats_hart_poll(m->stats, (unsigned)h->mhartid, h->instret);
        if (e == RV_EXIT_FATAL) {
            snprintf(msg, sizeof(msg), "guest stopped: hart %" PRIu64 ": %s",
                     h->mhartid, h->fatal_msg);
            break;
        }
    }
    if (msg[0]) {
        /* the first failure is the one reported */
        pthread_mutex_lock(&m->lock);
        if (!m->failed) {
            memcpy(m->fail_msg, msg, sizeof(msg));
            m->failed = 1;
        }
        pthread_cond_broadcast(&m->cond);
        pthread_mutex_unlock(&m->lock);
        stop_harts(m);
    }
    return NULL;
}

/* Lifecycle bookkeeping; a journal that cannot be written is reported
 * once, the VM goes on. */
static void transition(struct machine *m, enum gb_vm_state to, const char *reason)
{
    char msg[256];

    if (lifecycle_transition(m->lc, to, reason, msg, sizeof(msg)) == -EIO && !m->journal_warned) {
        m->journal_warned = 1;
        fprintf(stderr, "glassbox: warning: %s\n", msg);
    }
}

/* SIGINT, SIGTERM and SIGHUP stop the VM as `quit` does (QEMU's
 * "terminating on signal"), so the region, journal and terminal are
 * cleaned up. main() blocks them in every thread before machine_init;
 * SIGUSR1 only ends this thread. */
static void *signal_thread(void *arg)
{
    struct machine *m = arg;
    sigset_t set;
    siginfo_t si;
    char msg[256];

    machine_signal_set(&set);
    for (;;) {
        int sig = sigwaitinfo(&set, &si);
        if (sig < 0)
            continue;
        if (sig == SIGUSR1)
            return NULL;
        fprintf(stderr, "glassbox: terminating on signal %d from pid %ld\n", sig,
                (long)si.si_pid);
        machine_quit(m, "host-signal", msg, sizeof(msg));
    }
}

void machine_signal_set(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1);
}

int machine_run(struct machine *m, char *err, size_t errlen)
{
    pthread_t sig_tid;
    int sig_ok;
    int r;

    sig_ok = pthread_create(&sig_tid, NULL, signal_thread, m) == 0;
    r = machine_run_loop(m, err, errlen);
    if (sig_ok) {
        pthread_kill(sig_tid, SIGUSR1);
        pthread_join(sig_tid, NULL);
    }
    return r;
}

static int machine_run_loop(struct machine *m, char *err, size_t errlen)
{
    transition(m, GB_VM_RUNNING, NULL);
    for (;;) {
        pthread_t tid[GB_MAX_HARTS];
        unsigned started = 0;

        for (unsigned i = 0; i < m->nharts; i++) {
            if (pthread_create(&tid[i], NULL, hart_thread, m->harts[i]) != 0) {
                snprintf(err, errlen, "cannot start the thread of hart %u", i);
                m->failed = 1;
                stop_harts(m);
                break;
            }
            started++;
        }
        pthread_mutex_lock(&m->lock);
        while (!m->finished && !m->reset_requested && !m->failed)
            pthread_cond_wait(&m->cond, &m->lock);
        pthread_mutex_unlock(&m->lock);
        stop_harts(m);
        for (unsigned i = 0; i < started; i++)
            pthread_join(tid[i], NULL);

        if (m->failed) {
            if (m->fail_msg[0])
                snprintf(err, errlen, "%s", m->fail_msg);
            transition(m, GB_VM_ERROR, m->fail_msg[0] ? m->fail_msg : "failed");
            return 1;
        }
        if (m->finished) {
            /* machine_quit() may have moved there already */
            if (lifecycle_state(m->lc) != GB_VM_SHUTTING_DOWN)
                transition(m, GB_VM_SHUTTING_DOWN, m->shutdown_reason);
            transition(m, GB_VM_STOPPED, NULL);
            return m->exit_code;
        }
        {
            char msg[256];
            lifecycle_note(m->lc, "RESET", m->reset_reason ? m->reset_reason : "guest-reset",
                           msg, sizeof(msg));
        }
        /* reset: reload the images and start over, as QEMU does */
        m->reset_requested = 0;
        for (unsigned i = 0; i < m->nharts; i++)
            atomic_store(&m->harts[i]->req, 0);
        if (boot_load(m, err, errlen) < 0)
            return 1;
        reset_harts(m);
    }
}

void machine_destroy(struct machine *m)
{
    /* no more commands: they reach into the harts */
    if (m->ctl) {
        control_stop(m->ctl);
        m->ctl = NULL;
    }
    /* the sampler reads the harts: stop it while they still exist */
    if (m->stats)
        stats_stop(m->stats);
    /* the hart threads are gone: no vCPU runs compiled code any more */
    jit_mgr_free(m->jit);
    m->jit = NULL;
    for (unsigned i = 0; i < m->nharts; i++) {
        struct rv_hart *h = m->harts[i];
        if (!h)
            continue;
        rv_tracer_finish(h);
        rv_tracer_free(h->trace);
        rv_bc_free(h->bc);
        rv_hart_destroy(h);
        free(h);
    }
    virt_devices_destroy(m);
    if (m->uart)
        uart16550_free(m->uart);
    console_close(m->console);     /* after the UART: it reads the pipe */
    if (m->clint)
        clint_free(m->clint);
    if (m->plic)
        plic_free(m->plic);
    if (m->test)
        sifive_test_free(m->test);
    if (m->ram)
        numa_ram_free(&m->nram);
    free(m->page_wgen);
    if (m->topo)
        numa_topo_close(m->topo);
    numa_reporter_free(m->reporter);
    free(m->plan);
    free(m->mincore_vec);
    load_info_free(&m->info);
    free(m->kernel_data);
    boot_free(m);
    if (m->lc)
        lifecycle_destroy(m->lc);
    if (m->stats)
        stats_destroy(m->stats);
    if (m->nharts) {
        pthread_mutex_destroy(&m->lock);
        pthread_cond_destroy(&m->cond);
        pthread_mutex_destroy(&m->ctl_lock);
    }
    memset(m, 0, sizeof(*m));
}

/* ---- steering ---------------------------------------------------------- */

/* Make every hart leave rv_hart_run() (and WFI) soon, so that it reaches
 * the top of its loop and parks. */
static void nudge_harts(struct machine *m)
{
    for (unsigned i = 0; i < m->nharts; i++) {
        rv_hart_request(m->harts[i], RV_REQ_EXIT);
        rv_hart_kick(m->harts[i]);
    }
}

static int lc_move(struct machine *m, enum gb_vm_state to, const char *reason, char *err,
                   size_t errlen)
{
    int r = lifecycle_transition(m->lc, to, reason, err, errlen);

    if (r == -EIO) {            /* happened; only the journal failed */
        if (!m->journal_warned) {
            m->journal_warned = 1;
            fprintf(stderr, "glassbox: warning: %s\n", err);
        }
        r = 0;
    }
    return r;
}

static int bad_state(enum gb_vm_state st, char *err, size_t errlen)
{
    snprintf(err, errlen, "the VM is %s", gb_vm_state_name(st));
    return -EINVAL;
}

static int do_pause(struct machine *m, enum gb_vm_state st, const char *reason, char *err,
                    size_t errlen)
{
    uint64_t t = guest_ns(m);
    int r;

    (void)reason;
    if (st == GB_VM_PAUSED)
        return 0;
    if (st != GB_VM_RUNNING)
        return bad_state(st, err, errlen);
    r = lc_move(m, GB_VM_PAUSED, NULL, err, errlen);
    if (r < 0)
        return r;
    atomic_store(&m->clock, t | CLOCK_FROZEN);
    nudge_harts(m);
    if (lifecycle_wait_parked(m->lc, m->nharts, 5000) < 0) {
        snprintf(err, errlen, "paused, but not every vCPU stopped within 5 s");
        return -ETIMEDOUT;
    }
    return 0;
}

static int do_resume(struct machine *m, enum gb_vm_state st, const char *reason, char *err,
                     size_t errlen)
{
    uint64_t c = atomic_load(&m->clock);
    int r;

    (void)reason;
    if (st == GB_VM_RUNNING)
        return 0;
    if (st != GB_VM_PAUSED)
        return bad_state(st, err, errlen);
    /* restart the clock where it stood, before any vCPU reads it */
    if (c & CLOCK_FROZEN)
        atomic_store(&m->clock, now_ns() - (c & ~CLOCK_FROZEN));
    r = lc_move(m, GB_VM_RUNNING, NULL, err, errlen);
    if (r < 0)
        atomic_store(&m->clock, c);
    return r;
}

static int do_reset(struct machine *m, enum gb_vm_state st, const char *reason, char *err,
                    size_t errlen)
{
    char msg[256];
    int r;

    if (st == GB_VM_RUNNING) {
        /* the main thread restarts the harts, as for a guest reset */
        m->reset_reason = reason;
        m->reset_requested = 1;
        stop_harts(m);
        machine_signal(m);
        return 0;
    }
    if (st != GB_VM_PAUSED)
        return bad_state(st, err, errlen);
    /* every vCPU is parked: reset in place, stay paused */
    r = boot_load(m, err, errlen);
    if (r < 0)
        return r;
    reset_harts(m);
    lifecycle_note(m->lc, "RESET", reason, msg, sizeof(msg));
    return 0;
}

static int do_quit(struct machine *m, enum gb_vm_state st, const char *reason, char *err,
                   size_t errlen)
{
    int r;

    if (st == GB_VM_SHUTTING_DOWN || st == GB_VM_STOPPED)
        return 0;
    if (st != GB_VM_RUNNING && st != GB_VM_PAUSED)
        return bad_state(st, err, errlen);
    /* leaving paused also wakes the parked vCPUs, which then exit */
    r = lc_move(m, GB_VM_SHUTTING_DOWN, reason, err, errlen);
    if (r == 0)
        finish(m, 0, reason);
    return r;
}

/* One steering request at a time, against the state it found. */
static int steer(struct machine *m,
                 int (*fn)(struct machine *, enum gb_vm_state, const char *, char *, size_t),
                 const char *reason, char *err, size_t errlen)
{
    int r;

    pthread_mutex_lock(&m->ctl_lock);
    r = fn(m, lifecycle_state(m->lc), reason, err, errlen);
    pthread_mutex_unlock(&m->ctl_lock);
    return r;
}

int machine_pause(struct machine *m, char *err, size_t errlen)
{
    return steer(m, do_pause, NULL, err, errlen);
}

int machine_resume(struct machine *m, char *err, size_t errlen)
{
    return steer(m, do_resume, NULL, err, errlen);
}

int machine_reset(struct machine *m, const char *reason, char *err, size_t errlen)
{
    return steer(m, do_reset, reason, err, errlen);
}

int machine_powerdown(struct machine *m, char *err, size_t errlen)
{
    enum gb_vm_state s = lifecycle_state(m->lc);
    char msg[256];

    if (s != GB_VM_RUNNING && s != GB_VM_PAUSED)
        return bad_state(s, err, errlen);
    lifecycle_note(m->lc, "POWERDOWN", "the virt machine has no power button: the guest is not told",
                   msg, sizeof(msg));
    return 0;
}

int machine_quit(struct machine *m, const char *reason, char *err, size_t errlen)
{
    return steer(m, do_quit, reason, err, errlen);
}
