/* Command-line parsing for `glassbox run`, kept apart from main() so the
 * unit tests can drive it. */
#ifndef GB_CLI_H
#define GB_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "numa.h"

#define GB_MAX_DRIVES 6

struct drive_config {
    char file[1024];
    int readonly;
};

struct run_config {
    const char *bios;           /* "none" or a firmware path */
    const char *kernel;
    const char *initrd;         /* NULL: none */
    const char *append;         /* kernel command line, NULL: none */
    const char *dump_dtb;       /* write the device tree here and exit */
    unsigned smp;
    struct drive_config drives[GB_MAX_DRIVES];
    unsigned ndrives;
    const char *console;        /* "ttyS0" or "hvc0": which device gets stdin */
    const char *net;            /* --net user[,hostfwd=...], NULL: no network */
    const char *numa_topology;  /* hwloc XML to plan against, NULL: this host */
    const char *name;           /* VM name (stats region, control); NULL: vm-PID */
    const char *event_log;      /* JSON-lines lifecycle journal, NULL: none */
    int no_stats;               /* --no-stats: publish no region (overhead A/B) */
    int no_numa_report;         /* --no-numa-report: no placement sampler (overhead A/B) */
    const char *qmp_socket;     /* control socket path, "none", NULL: the default */
    struct numa_options numa;   /* placement of guest RAM and vCPU threads */
    uint64_t memory;            /* bytes */
    uint64_t max_insns;         /* 0 = unlimited */
    int jit;                    /* --jit on|off: compile hot blocks (engine/jit) */
    uint64_t jit_threshold;     /* executions before a block is compiled; 0 = first */
    int jit_verify;             /* --jit-verify: check compiled blocks (slow, testing) */
    const char *jit_cache;      /* --jit-cache DIR: persistent compiled code, or NULL */
    uint64_t jit_code_max;      /* --jit-code-max: bound of loaded code (0: default) */
    uint64_t jit_cache_max;     /* --jit-cache-max: bound of DIR's entries (0: default) */
    int trace;
};

#define GB_DEFAULT_MEMORY (128ull << 20)
/* Debian's OpenSBI (package opensbi), generic platform */
#define GB_DEFAULT_BIOS "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin"
#define GB_MAX_HARTS 8
/* Block executions before the JIT compiles a block: compilation is off the
 * vCPU thread but costs a few ms of host CPU per block, so only blocks
 * that already ran ~1000 times (loop bodies, hot paths) are worth it. */
#define GB_DEFAULT_JIT_THRESHOLD 1000
#define GB_MAX_MEMORY (64ull << 30)

/* Parse a size: plain numbers are MiB (like QEMU's -m); K, M, G, T
 * suffixes (optionally followed by B or iB). 0 or -EINVAL. */
int cli_parse_size(const char *s, uint64_t *out);
/* Parse a non-negative integer with an optional k/M/G multiplier. */
int cli_parse_count(const char *s, uint64_t *out);
/* Parse a --drive value "file=PATH[,readonly=on|off]". */
int cli_parse_drive(const char *s, struct drive_config *d, char *err, size_t errlen);
/* Parse `run` options (argv[0] is "run"). 0 on success; -EINVAL with a
 * one-line message in err on a usage error; 1 when --help was printed. */
int cli_parse_run(int argc, char **argv, struct run_config *cfg, char *err, size_t errlen);
void cli_usage_run(void *stream);

#endif
