/* Stats writer: creates the shared-memory region of include/glassbox/stats.h,
 * runs the sampler thread that fills it, appends events, and lists/prunes
 * regions for `glassbox list [--prune]`.
 *
 * Threads: registration calls (stats_attach_harts, stats_add_device, ...)
 * happen before stats_start(); stats_event() and stats_set_status() are
 * thread-safe; stats_hart_poll() is called by each hart's own thread. */
#ifndef GB_STATS_H
#define GB_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "glassbox/stats.h"

struct stats;
struct rv_hart;

struct stats_config {
    const char *name;           /* VM name: [A-Za-z0-9._-], 1..63 chars */
    const char *arch;           /* "riscv64" */
    const char *accel;          /* "tcg" */
    const char *machine;        /* one-line summary, may be NULL */
    unsigned nvcpus;
    uint64_t ram_base, ram_bytes;
    unsigned sample_hz;         /* 0: default (10); clamped to [5, 1000] */
    unsigned hot_window_ms;     /* 0: default (1000) */
};

/* Create the region (O_CREAT|O_EXCL, 0600). A region of the same name
 * left by a dead engine is reclaimed; one whose engine lives is -EEXIST
 * with a message naming its pid. */
int stats_create(struct stats **out, const struct stats_config *cfg, char *err, size_t errlen);
/* Stop the sampler and take a last sample, so that consoles keep the
 * final numbers; call it while the harts still exist. */
void stats_stop(struct stats *s);
/* Stop the sampler (no sample), unlink and unmap. */
void stats_destroy(struct stats *s);
/* The mapped region (for tests and the control server's query-stats). */
struct gb_stats_header *stats_header(struct stats *s);

/* --- sources (before stats_start) ------------------------------------- */
/* The sampler copies each hart's counters, instret, pc and priv. The hart
 * writes those as plain fields; the sampler reads them word-wise with
 * relaxed atomic loads (never torn on 64-bit hosts). */
int stats_attach_harts(struct stats *s, struct rv_hart *const *harts, unsigned n);

/* Same meaning as the fields of struct gb_stats_device (and of virtio's
 * struct virtio_stats): bytes_out guest -> device, bytes_in device -> guest. */
struct stats_dev_counters {
    uint64_t requests, bytes_in, bytes_out, errors, notifications, interrupts;
};
/* Called from the sampler thread: fill *out with the device's cumulative
 * counters (read them atomically or accept per-field staleness). */
typedef void (*stats_dev_read_fn)(void *opaque, struct stats_dev_counters *out);
int stats_add_device(struct stats *s, const char *name, stats_dev_read_fn read, void *opaque);

/* Called from the sampler thread: resident pages of guest RAM. */
typedef uint64_t (*stats_touched_fn)(void *opaque);
void stats_set_memory_source(struct stats *s, stats_touched_fn fn, void *opaque);

/* NUMA placement (glassbox-stats(5), format 1). Called from the sampler
 * thread every every_ms (0: 1000), not every sample: fill *out (zeroed)
 * and return 0 to publish it, or -errno to leave the previous report.
 * Without a source the section stays format 0 (no report). */
struct gb_stats_numa_report;
typedef int (*stats_numa_fn)(void *opaque, struct gb_stats_numa_report *out);
void stats_set_numa_source(struct stats *s, stats_numa_fn fn, void *opaque, unsigned every_ms);

/* Hot blocks. The block cache belongs to its hart's thread, so the walk
 * runs there: stats_hart_poll() (cheap: one atomic load unless the
 * sampler asked) calls the walker, which calls visit() once per valid
 * block. */
struct stats_block_sample {
    uint64_t vpc;               /* UINT64_MAX when unknown */
    uint64_t ppc;
    uint64_t execs;             /* cumulative executions (since decode) */
    uint32_t ninsns;
    uint16_t guest_bytes;
    uint16_t tier;
    uint32_t code_bytes;
    uint64_t compile_ns;
};
typedef void (*stats_block_visit_fn)(void *ctx, const struct stats_block_sample *b);
typedef void (*stats_block_walk_fn)(void *arg, unsigned hart, stats_block_visit_fn visit,
                                    void *ctx);
void stats_set_block_walker(struct stats *s, stats_block_walk_fn walk, void *arg);
/* From hart `hart`'s own thread, between slices; instret is the hart's. */
void stats_hart_poll(struct stats *s, unsigned hart, uint64_t instret);

/* --- running ------------------------------------------------------------ */
int stats_start(struct stats *s, char *err, size_t errlen);
/* One sampler pass, synchronously (tests; not while the thread runs). */
void stats_sample_now(struct stats *s);

/* Thread-safe: append to the event ring. Text is truncated to fit. */
void stats_event(struct stats *s, uint32_t kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Thread-safe: publish the lifecycle status into the header. */
void stats_set_status(struct stats *s, uint32_t state, uint32_t prev, uint64_t since_mono_ns,
                      uint64_t since_real_ns, const char *reason);

/* A lifecycle_event_fn (lifecycle.h): pass stats as its opaque. Publishes
 * the state into the header and appends a GB_EVENT_LIFECYCLE event. */
struct lifecycle_event;
void stats_on_lifecycle(void *stats, const struct lifecycle_event *ev);

/* --- listing ------------------------------------------------------------ */
struct stats_entry {
    char name[GB_STATS_NAME_MAX];
    uint32_t pid;
    uint32_t state;             /* enum gb_vm_state, 0 when unreadable */
    uint64_t uptime_ns;
    uint64_t state_since_ns;    /* time in the current state */
    int stale;                  /* engine is gone */
    int incompatible;           /* other ABI major / bad magic: only name known */
};
/* Enumerate /dev/shm/glassbox.*; *out is malloc'd (free it), sorted by name. */
int stats_list(struct stats_entry **out, size_t *n, char *err, size_t errlen);
/* Print the listing as `glassbox list` shows it: a header line, then one
 * line per region with name, pid, state, uptime and a stale/incompatible
 * note. */
void stats_list_print(void *stream, const struct stats_entry *v, size_t n);
/* Unlink every stale region; *pruned counts them. */
int stats_prune(size_t *pruned, char *err, size_t errlen);
/* Whether the region NAME (without prefix) belongs to a dead engine:
 * 1 stale, 0 alive, -errno when it cannot be read. */
int stats_region_stale(const char *name);
/* Validate a VM name for use in a shm name. 0 or -EINVAL. */
int stats_name_valid(const char *name);

#endif
