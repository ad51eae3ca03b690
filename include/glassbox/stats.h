/* The glassbox stats region: a versioned, fixed-layout shared-memory ABI.
 *
 * The engine creates shm_open("/glassbox.NAME") (mode 0600) and writes it;
 * any process of the same user maps it read-only. Layout and reader
 * protocol are documented in glassbox-stats(5). All integers are host
 * byte order, naturally aligned; every record is a multiple of 8 bytes so
 * that readers can copy it as 64-bit words.
 *
 * Versioning: a reader must refuse a region whose magic differs or whose
 * abi_major differs from the one it was built with. A minor bump only
 * appends: new fields come out of reserved space or after the current
 * end of a record/header (header_size and each section's stride say how
 * big they really are), so an older reader of the same major still reads
 * correctly what it knows.
 *
 * Consistency: every record that changes after creation starts with a
 * uint64_t sequence counter (seqlock). A writer makes it odd, writes the
 * record, makes it even; a reader copies the record and retries while the
 * counter was odd or changed. Readers never write and never block the
 * engine. Use gb_stats_seq_load() below.
 *
 * This header is shared by the engine and the console (tui) and therefore
 * includes nothing of the project. */
#ifndef GLASSBOX_STATS_H
#define GLASSBOX_STATS_H

#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>

#define GB_STATS_MAGIC      0x31534253584f4247ull   /* "GBOXSBS1" in memory on LE hosts */
#define GB_STATS_ABI_MAJOR  1
#define GB_STATS_ABI_MINOR  2
#define GB_STATS_MINOR_JIT_TIER 2                   /* first minor with gb_stats_vcpu.jit_insns.. */
#define GB_STATS_SHM_PREFIX "/glassbox."            /* shm_open name: prefix + VM name */
#define GB_STATS_NAME_MAX   64                      /* including the NUL */

/* capacities (part of the major version) */
#define GB_STATS_MAX_VCPUS    64
#define GB_STATS_HOT_N        32
#define GB_STATS_MAX_DEVICES  32
#define GB_STATS_EVENTS       256                   /* power of two */
#define GB_STATS_EVENT_TEXT   216
#define GB_STATS_NUMA_BYTES   16384
#define GB_STATS_HEADER_SIZE  1024
#define GB_STATS_ALIGN        64                    /* section offsets are multiples of this */

/* Lifecycle states (header status.state). 0 never appears in a live region. */
enum gb_vm_state {
    GB_VM_CREATED = 1,
    GB_VM_RUNNING = 2,
    GB_VM_PAUSED = 3,
    GB_VM_SHUTTING_DOWN = 4,
    GB_VM_STOPPED = 5,
    GB_VM_ERROR = 6,
};
#define GB_VM_STATE_COUNT 7

static inline const char *gb_vm_state_name(uint32_t s)
{
    static const char *const names[GB_VM_STATE_COUNT] = {
        "unknown", "created", "running", "paused", "shutting-down", "stopped", "error",
    };
    return s < GB_VM_STATE_COUNT ? names[s] : "unknown";
}

/* Section indices into gb_stats_header.sections[]. */
enum gb_stats_section_id {
    GB_STATS_SEC_VCPU = 0,      /* count = GB_STATS_MAX_VCPUS records of gb_stats_vcpu */
    GB_STATS_SEC_HOT = 1,       /* count = 2 gb_stats_hot_list: [0] since start, [1] last window */
    GB_STATS_SEC_DEVICE = 2,    /* count = GB_STATS_MAX_DEVICES gb_stats_device */
    GB_STATS_SEC_MEMORY = 3,    /* count = 1 gb_stats_memory */
    GB_STATS_SEC_NUMA = 4,      /* count = 1 gb_stats_numa (format 1: the placement report) */
    GB_STATS_SEC_EVENT = 5,     /* gb_stats_event_ring then count slots of stride bytes */
    GB_STATS_SEC_COUNT = 6,
};
#define GB_STATS_SEC_SLOTS 8    /* room for two more sections in a minor version */

struct gb_stats_section {
    uint64_t offset;            /* from the start of the region */
    uint64_t size;              /* bytes */
    uint32_t count;             /* records */
    uint32_t stride;            /* bytes per record */
};

/* Lifecycle status; one writer (the engine's lifecycle module). */
struct gb_stats_status {
    uint64_t seq;
    uint32_t state;             /* enum gb_vm_state */
    uint32_t prev_state;
    uint64_t since_mono_ns;     /* CLOCK_MONOTONIC of the last transition */
    uint64_t since_real_ns;     /* CLOCK_REALTIME of the same */
    uint64_t transitions;       /* number of transitions so far */
    char reason[152];           /* NUL-terminated; error reason or "" */
};

struct gb_stats_header {
    uint64_t magic;             /* GB_STATS_MAGIC, stored last at creation */
    uint16_t abi_major;
    uint16_t abi_minor;
    uint32_t header_size;       /* sizeof(struct gb_stats_header) of the writer */
    uint64_t total_size;        /* bytes of the whole region */
    uint32_t section_count;     /* GB_STATS_SEC_COUNT of the writer */
    uint32_t flags;             /* 0 */
    struct gb_stats_section sections[GB_STATS_SEC_SLOTS];
    /* identity: written once before magic */
    uint32_t pid;               /* engine process */
    uint32_t nvcpus;            /* vCPU records in use: [0, nvcpus) */
    uint64_t pid_start_ticks;   /* /proc/PID/stat starttime: tells pid reuse apart */
    uint64_t start_mono_ns;     /* CLOCK_MONOTONIC at creation (uptime base) */
    uint64_t start_real_ns;     /* CLOCK_REALTIME at creation */
    char name[GB_STATS_NAME_MAX];
    char arch[16];              /* "riscv64", "x86_64" */
    char accel[16];             /* "tcg", "kvm" */
    char machine[160];          /* one-line summary: "virt, 2 harts, 256 MiB, ..." */
    struct gb_stats_status status;
    /* sampler: single 64-bit words, read with one atomic load */
    uint64_t heartbeat_mono_ns; /* CLOCK_MONOTONIC of the last sample */
    uint64_t sample_count;
    uint32_t sample_hz;
    uint32_t hot_window_ms;     /* length of the "recent" hot-block window */
    uint8_t reserved[296];
};

/* Per vCPU; one writer (the sampler). Counters are cumulative since start. */
struct gb_stats_vcpu {
    uint64_t seq;
    uint32_t index;
    uint32_t priv;              /* riscv: 0 U, 1 S, 3 M */
    uint64_t pc;
    uint64_t instret;
    uint64_t sample_mono_ns;
    uint32_t online;            /* 1: this vCPU exists */
    uint32_t flags;             /* 0 */
    uint64_t insns_by_priv[4];  /* indexed by priv; proxy for time per mode */
    uint64_t exceptions[16];    /* by cause */
    uint64_t interrupts[16];    /* by cause */
    uint64_t wfi_count;
    uint64_t wfi_ns;
    uint64_t itlb_lookups, itlb_hits, itlb_misses, itlb_flushes;
    uint64_t dtlb_lookups, dtlb_hits, dtlb_misses, dtlb_flushes;
    uint64_t page_walks;
    uint64_t bc_lookups, bc_hits, bc_misses, bc_invalidations, bc_decoded;
    /* JIT (zero until the JIT fills them) */
    uint64_t jit_blocks_by_tier[4];
    uint64_t jit_queue_len;
    uint64_t jit_code_bytes;
    uint64_t jit_compile_ns;
    uint64_t jit_compiled;
    /* ABI 1.2 (zero in a 1.1 region: "not provided") */
    uint64_t jit_insns;         /* instructions retired in compiled code; the rest interpreted */
    uint64_t jit_region_blocks; /* guest blocks covered by installed regions */
    uint64_t jit_evictions;     /* regions evicted with their batch (bounded code cache) */
    uint64_t jit_cache_loads;   /* regions taken from the persistent --jit-cache */
    uint64_t jit_cache_rejects; /* persistent-cache entries refused (corrupt, mismatched) */
    uint64_t jit_chain_hits;    /* exits that went on to compiled code without the dispatcher */
    uint64_t reserved[8];
};

#define GB_STATS_HOT_VPC_UNKNOWN 1u   /* gb_stats_hot_block.flags: vpc not known */

struct gb_stats_hot_block {
    uint64_t vpc;               /* guest virtual pc of the block's first insn */
    uint64_t ppc;               /* guest physical pc */
    uint64_t execs;             /* executions in the list's window */
    uint64_t insns;             /* execs * ninsns */
    uint32_t hart;
    uint32_t ninsns;
    uint32_t share_ppm;         /* insns / all instructions of the window, parts per million */
    uint16_t tier;              /* 0 interpreter, 1.. JIT tiers */
    uint16_t guest_bytes;
    uint32_t code_bytes;        /* host code size (JIT), 0 for the interpreter */
    uint32_t flags;             /* GB_STATS_HOT_* */
    uint64_t compile_ns;
};

enum gb_stats_hot_kind { GB_STATS_HOT_TOTAL = 0, GB_STATS_HOT_RECENT = 1 };

/* One ranked list; one writer (the sampler). */
struct gb_stats_hot_list {
    uint64_t seq;
    uint32_t kind;              /* enum gb_stats_hot_kind */
    uint32_t count;             /* valid entries */
    uint64_t sample_mono_ns;
    uint64_t window_ns;         /* 0 for TOTAL (since start) */
    uint64_t window_insns;      /* all instructions retired in the window */
    uint64_t reserved[3];
    struct gb_stats_hot_block b[GB_STATS_HOT_N];
};

/* Per device; one writer (the sampler). Directions as in virtio: "out"
 * is guest to device (disk writes, sent packets, console output), "in"
 * device to guest (disk reads, received packets, entropy). */
struct gb_stats_device {
    uint64_t seq;
    char name[32];
    uint32_t present;           /* 1: slot in use */
    uint32_t flags;
    uint64_t requests;
    uint64_t bytes_in;          /* device -> guest */
    uint64_t bytes_out;         /* guest -> device */
    uint64_t errors;
    uint64_t notifications;     /* queue notifications (virtio kicks) */
    uint64_t interrupts;
    uint64_t reserved[4];
};

/* One writer (the sampler). */
struct gb_stats_memory {
    uint64_t seq;
    uint64_t ram_base;
    uint64_t ram_bytes;
    uint64_t page_size;
    uint64_t touched_pages;     /* pages resident in the host mapping */
    uint64_t reserved[11];
};

/* NUMA placement; one writer (the sampler). format 0: no report (the
 * engine publishes none, e.g. --no-numa-report); format 1 (ABI 1.1): data
 * holds a struct gb_stats_numa_report of `used` bytes. A reader that
 * finds another format shows no placement rather than misreading it. */
struct gb_stats_numa {
    uint64_t seq;
    uint32_t format;
    uint32_t used;
    uint8_t data[GB_STATS_NUMA_BYTES - 16];
};

#define GB_STATS_NUMA_FORMAT     1
#define GB_STATS_NUMA_MAX_NODES  16
#define GB_STATS_NUMA_MAX_VCPUS  GB_STATS_MAX_VCPUS

enum gb_numa_policy {
    GB_NUMA_POLICY_DEFAULT = 0, GB_NUMA_POLICY_BIND = 1,
    GB_NUMA_POLICY_INTERLEAVE = 2, GB_NUMA_POLICY_PREFERRED = 3,
};

#define GB_NUMA_NODE_IN_POLICY  1u  /* node is in the guest RAM policy's set */
#define GB_NUMA_NODE_NO_MEMORY  2u  /* hwloc reports no memory on it */

/* One host NUMA node. */
struct gb_stats_numa_node {
    int32_t os_index;           /* host node number */
    uint32_t flags;             /* GB_NUMA_NODE_* */
    uint64_t mem_bytes;         /* the node's memory according to hwloc */
    uint64_t sampled_pages;     /* sampled guest pages found on this node (last pass) */
    uint64_t est_bytes;         /* guest RAM estimated on this node: sampled_pages /
                                 * sample_pages x ram_bytes (untouched pages count nowhere) */
    uint32_t npus;              /* processing units of the node */
    uint32_t reserved;
    char cpus[40];              /* its PUs as a list: "0-3,8" */
};

#define GB_NUMA_VCPU_PINNED     1u  /* the thread has a placement (--cpu-affinity) */
#define GB_NUMA_VCPU_AWAY       2u  /* runs on a node that holds none of its guest memory
                                     * while another node does */
#define GB_NUMA_VCPU_UNKNOWN    4u  /* cpu/node could not be read */

/* One vCPU thread: where it really runs (not where it was asked to). */
struct gb_stats_numa_vcpu {
    uint32_t vcpu;
    int32_t cpu;                /* host CPU it last ran on, -1 unknown */
    int32_t node;               /* that CPU's node, -1 unknown */
    uint32_t flags;             /* GB_NUMA_VCPU_* */
    int32_t guest_node;         /* guest NUMA node of this vCPU, -1 without --numa */
    uint32_t tid;               /* host thread id */
    char allowed[24];           /* its allowed CPUs as a list */
};

/* gb_stats_numa.data when format == GB_STATS_NUMA_FORMAT. */
struct gb_stats_numa_report {
    uint32_t nnodes;            /* node[] entries in use */
    uint32_t nvcpus;            /* vcpu[] entries in use */
    uint32_t policy;            /* enum gb_numa_policy of guest RAM */
    uint32_t strict;            /* 1: refused bindings are errors */
    char policy_text[64];       /* the policy as in force: "bind=0", "default" */
    uint64_t ram_bytes;         /* guest RAM */
    uint64_t sample_pages;      /* pages looked at per pass */
    uint64_t sampled_resident;  /* of those, pages that had a node (touched) */
    uint64_t sampled_absent;    /* of those, pages never touched (-ENOENT) */
    uint64_t passes;            /* sampling passes so far */
    uint64_t pass_ns;           /* CPU time of the last pass */
    uint64_t sample_mono_ns;    /* when the last pass ended */
    uint32_t bind_failures;     /* bindings the kernel refused (memory and threads) */
    uint32_t guest_nodes;       /* guest NUMA nodes (--numa node), 0 without */
    char warning[128];          /* last refused binding, "" when none */
    struct gb_stats_numa_node node[GB_STATS_NUMA_MAX_NODES];
    struct gb_stats_numa_vcpu vcpu[GB_STATS_NUMA_MAX_VCPUS];
};

enum gb_stats_event_kind {
    GB_EVENT_INFO = 0,
    GB_EVENT_LIFECYCLE = 1,     /* text: "EVENT from -> to[: reason]" */
    GB_EVENT_RESET = 2,
    GB_EVENT_ERROR = 3,
    GB_EVENT_CONTROL = 4,       /* a control-socket command */
    GB_EVENT_GUEST = 5,         /* something the guest did (finisher, HTIF) */
};

/* Event ring: the ring header sits at the section's offset, the slots
 * follow at offset + sizeof(struct gb_stats_event_ring). Event number n
 * (from 0) lives in slot n % capacity; head is the next number. */
struct gb_stats_event_ring {
    uint64_t head;              /* read with one atomic load */
    uint32_t capacity;          /* GB_STATS_EVENTS */
    uint32_t slot_size;         /* sizeof(struct gb_stats_event) */
    uint64_t reserved[6];
};

struct gb_stats_event {
    uint64_t seq;
    uint64_t number;            /* event number; tells an overwritten slot apart */
    uint64_t mono_ns;
    uint64_t real_ns;
    uint32_t kind;              /* enum gb_stats_event_kind */
    uint32_t flags;
    char text[GB_STATS_EVENT_TEXT];
};

/* ---- layout guards: a change here is an ABI change ---------------------- */
_Static_assert(sizeof(struct gb_stats_section) == 24, "section");
_Static_assert(sizeof(struct gb_stats_status) == 192, "status");
_Static_assert(offsetof(struct gb_stats_header, sections) == 32, "header.sections");
_Static_assert(offsetof(struct gb_stats_header, pid) == 224, "header.pid");
_Static_assert(offsetof(struct gb_stats_header, name) == 256, "header.name");
_Static_assert(offsetof(struct gb_stats_header, machine) == 352, "header.machine");
_Static_assert(offsetof(struct gb_stats_header, status) == 512, "header.status");
_Static_assert(offsetof(struct gb_stats_header, heartbeat_mono_ns) == 704, "header.heartbeat");
_Static_assert(sizeof(struct gb_stats_header) == GB_STATS_HEADER_SIZE, "header");
_Static_assert(offsetof(struct gb_stats_vcpu, insns_by_priv) == 48, "vcpu.insns_by_priv");
_Static_assert(offsetof(struct gb_stats_vcpu, itlb_lookups) == 352, "vcpu.itlb");
_Static_assert(offsetof(struct gb_stats_vcpu, jit_blocks_by_tier) == 464, "vcpu.jit");
_Static_assert(offsetof(struct gb_stats_vcpu, jit_insns) == 528, "vcpu.jit_insns (1.2)");
_Static_assert(offsetof(struct gb_stats_vcpu, jit_chain_hits) == 568, "vcpu.jit_chain_hits (1.2)");
_Static_assert(offsetof(struct gb_stats_vcpu, reserved) == 576, "vcpu.reserved");
_Static_assert(sizeof(struct gb_stats_vcpu) == 640, "vcpu");
_Static_assert(sizeof(struct gb_stats_hot_block) == 64, "hot block");
_Static_assert(offsetof(struct gb_stats_hot_list, b) == 64, "hot list.b");
_Static_assert(sizeof(struct gb_stats_hot_list) == 64 + 64 * GB_STATS_HOT_N, "hot list");
_Static_assert(sizeof(struct gb_stats_device) == 128, "device");
_Static_assert(sizeof(struct gb_stats_memory) == 128, "memory");
_Static_assert(sizeof(struct gb_stats_numa) == GB_STATS_NUMA_BYTES, "numa");
_Static_assert(sizeof(struct gb_stats_numa_node) == 80, "numa node");
_Static_assert(sizeof(struct gb_stats_numa_vcpu) == 48, "numa vcpu");
_Static_assert(offsetof(struct gb_stats_numa_report, node) == 272, "numa report.node");
_Static_assert(sizeof(struct gb_stats_numa_report) <= GB_STATS_NUMA_BYTES - 16, "numa report");
_Static_assert(sizeof(struct gb_stats_event_ring) == 64, "event ring");
_Static_assert(sizeof(struct gb_stats_event) == 256, "event");
_Static_assert((GB_STATS_EVENTS & (GB_STATS_EVENTS - 1)) == 0, "event ring capacity");

/* ---- seqlock ---------------------------------------------------------------
 * Records are copied as 64-bit words with atomic accesses, so the
 * concurrent copy is not a data race in the C11 sense (and TSan agrees).
 * Ordering comes from the words themselves, without fences: the writer's
 * release stores keep "counter odd" before every data word, and the
 * reader's acquire loads keep every data word before the counter's
 * re-read. On x86-64 all of these are plain moves. rec and the local copy
 * both start with the seq word; size is the record size. */

/* Writer: publish *src (a private copy) into the shared record *rec. Only
 * the record's single writer may call this. */
static inline void gb_stats_seq_store(void *rec, const void *src, size_t size)
{
    uint64_t *d = rec;
    const uint64_t *s = src;
    uint64_t seq = __atomic_load_n(&d[0], __ATOMIC_RELAXED);

    __atomic_store_n(&d[0], seq + 1, __ATOMIC_RELAXED);
    for (size_t i = 1; i < size / 8; i++)
        __atomic_store_n(&d[i], s[i], __ATOMIC_RELEASE);
    __atomic_store_n(&d[0], seq + 2, __ATOMIC_RELEASE);
}

/* Reader: copy *rec into *dst. 0 on a consistent copy; -EAGAIN when the
 * writer was mid-update on every one of max_tries attempts (a writer that
 * died mid-update leaves the counter odd forever: never spin unbounded). */
static inline int gb_stats_seq_load(const void *rec, void *dst, size_t size, unsigned max_tries)
{
    const uint64_t *s = rec;
    uint64_t *d = dst;

    for (unsigned t = 0; t < max_tries; t++) {
        uint64_t s1 = __atomic_load_n(&s[0], __ATOMIC_ACQUIRE);
        if (t % 64 == 63)
            sched_yield();      /* let a preempted writer finish */
        if (s1 & 1)
            continue;
        for (size_t i = 1; i < size / 8; i++)
            d[i] = __atomic_load_n(&s[i], __ATOMIC_ACQUIRE);
        if (__atomic_load_n(&s[0], __ATOMIC_RELAXED) == s1) {
            d[0] = s1;
            return 0;
        }
    }
    return -EAGAIN;
}

#define GB_STATS_SEQ_TRIES 10000

#endif
