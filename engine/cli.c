#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "stats.h"

int cli_parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    uint64_t mult = 1ull << 20;

    /* strtoull would skip blanks and accept a sign (" -1" wraps around) */
    if (!s || !isdigit((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -EINVAL;
    if (*end) {
        switch (*end) {
        case 'k': case 'K': mult = 1ull << 10; break;
        case 'm': case 'M': mult = 1ull << 20; break;
        case 'g': case 'G': mult = 1ull << 30; break;
        case 't': case 'T': mult = 1ull << 40; break;
        case 'b': case 'B': mult = 1; break;
        default: return -EINVAL;
        }
        end++;
        if (mult != 1 && (!strcmp(end, "iB") || !strcmp(end, "B")))
            end += strlen(end);
        if (*end)
            return -EINVAL;
    }
    if (v > UINT64_MAX / mult)
        return -EINVAL;
    *out = v * mult;
    return 0;
}

int cli_parse_count(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    uint64_t mult = 1;

    /* digits first (no blanks or sign: " -1" would wrap around); decimal,
     * or hex with 0x, but a leading 0 does not mean octal */
    if (!s || !isdigit((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        /* base 16 would take a second "0x" prefix itself */
        if (!isxdigit((unsigned char)s[2]) || (s[2] == '0' && (s[3] == 'x' || s[3] == 'X')))
            return -EINVAL;
        v = strtoull(s + 2, &end, 16);
    } else {
        v = strtoull(s, &end, 10);
    }
    if (errno || end == s)
        return -EINVAL;
    if (*end) {
        switch (*end) {
        case 'k': case 'K': mult = 1000ull; break;
        case 'm': case 'M': mult = 1000000ull; break;
        case 'g': case 'G': mult = 1000000000ull; break;
        default: return -EINVAL;
        }
        if (end[1])
            return -EINVAL;
    }
    if (v > UINT64_MAX / mult)
        return -EINVAL;
    *out = v * mult;
    return 0;
}

int cli_parse_drive(const char *s, struct drive_config *d, char *err, size_t errlen)
{
    const char *p = s;

    memset(d, 0, sizeof(*d));
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!strncmp(p, "file=", 5) && len > 5) {
            /* a comma ends the path, as in QEMU */
            if (len - 5 >= sizeof(d->file)) {
                snprintf(err, errlen, "--drive '%s': path too long", s);
                return -EINVAL;
            }
            memcpy(d->file, p + 5, len - 5);
            d->file[len - 5] = 0;
        } else if (len == 11 && !strncmp(p, "readonly=on", 11)) {
            d->readonly = 1;
        } else if (len == 12 && !strncmp(p, "readonly=off", 12)) {
            d->readonly = 0;
        } else {
            snprintf(err, errlen, "--drive '%s': unknown item '%.*s' (expected file=PATH "
                     "and optionally readonly=on)", s, (int)len, p);
            return -EINVAL;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    if (!d->file[0]) {
        snprintf(err, errlen, "--drive '%s': missing file=PATH", s);
        return -EINVAL;
    }
    return 0;
}

void cli_usage_run(void *stream)
{
    fputs("usage: glassbox run [options]\n"
          "  --bios none|FILE     firmware at 0x80000000 (default: Debian's OpenSBI\n"
          "                       fw_dynamic); 'none' starts the kernel in M-mode\n"
          "  --kernel FILE        ELF or raw image (raw at 0x80200000 after firmware,\n"
          "                       at 0x80000000 with --bios none)\n"
          "  --initrd FILE        initial ramdisk, placed high in RAM\n"
          "  --append STRING      kernel command line (/chosen/bootargs)\n"
          "  --dump-dtb FILE      write the machine's device tree and exit\n"
          "  --memory SIZE        guest RAM (default 128M; suffixes K M G; plain = MiB)\n"
          "  --smp N              harts, 1 to 8, one host thread each (default 1)\n"
          "  --drive file=PATH[,readonly=on]  virtio-blk disk from a raw image\n"
          "                       (repeatable)\n"
          "  --net user[,hostfwd=tcp:127.0.0.1:HOSTPORT-:GUESTPORT]...\n"
          "                       virtio-net with user-mode networking (libslirp)\n"
          "  --memory-policy default|bind=NODES|interleave=NODES|preferred=NODE[,strict]\n"
          "                       host NUMA placement of guest RAM (before first touch)\n"
          "  --memory-backend hugepages=on|off|DIR[,prealloc=on|off]\n"
          "  --cpu-affinity none|auto|vcpuN=CPUS[,vcpuM=CPUS...]  pin vCPU threads\n"
          "  --numa node[,cpus=VCPUS],mem=SIZE[,host-nodes=NODES] | dist,src=I,dst=J,val=D\n"
          "                       guest NUMA topology (repeatable)\n"
          "  --numa-topology FILE plan against a saved hwloc XML topology\n"
          "  --name NAME          VM name for the stats region (default vm-PID)\n"
          "  --event-log FILE     append lifecycle events as JSON lines (fsync'd)\n"
          "  --no-stats           publish no statistics region (to measure its cost)\n"
          "  --no-numa-report     no NUMA placement sampling (to measure its cost)\n"
          "  --qmp-socket PATH    control socket (default $XDG_RUNTIME_DIR/glassbox/NAME.sock;\n"
          "                       'none': no control socket)\n"
          "  --console ttyS0|hvc0 device that gets standard input (default ttyS0,\n"
          "                       or hvc0 when --append asks for console=hvc0)\n"
          "  --jit on|off         compile hot blocks to host code (default on)\n"
          "  --jit-threshold N    block executions before compiling (default 1000;\n"
          "                       0 compiles every block at its first execution)\n"
          "  --jit-verify         check every compiled block run against the\n"
          "                       interpreter; stop with a diff on mismatch (slow)\n"
          "  --jit-cache DIR      keep compiled code in DIR and reuse it in later runs\n"
          "  --jit-cache-max SIZE at start, remove the least recently used entries of\n"
          "                       DIR beyond SIZE (default 256M)\n"
          "  --jit-code-max SIZE  loaded compiled code beyond SIZE evicts the oldest\n"
          "                       (default 64M)\n"
          "  --max-insns N        stop with an error after N instructions\n"
          "  --trace              print every instruction and its register writes\n"
          "  -h, --help           this help\n", stream);
}

int cli_parse_run(int argc, char **argv, struct run_config *cfg, char *err, size_t errlen)
{
    enum { O_BIOS = 256, O_KERNEL, O_MEMORY, O_MAX_INSNS, O_TRACE, O_INITRD, O_APPEND,
           O_DUMP_DTB, O_SMP, O_DRIVE, O_CONSOLE, O_NET, O_MEMPOLICY, O_MEMBACKEND,
           O_AFFINITY, O_NUMA, O_NUMA_TOPO, O_NAME, O_EVENT_LOG, O_NO_STATS,
           O_QMP_SOCKET, O_JIT, O_JIT_THRESHOLD, O_NO_NUMA_REPORT, O_JIT_VERIFY,
           O_JIT_CACHE, O_JIT_CODE_MAX, O_JIT_CACHE_MAX };
    static const struct option opts[] = {
        { "bios", required_argument, NULL, O_BIOS },
        { "kernel", required_argument, NULL, O_KERNEL },
        { "memory", required_argument, NULL, O_MEMORY },
        { "max-insns", required_argument, NULL, O_MAX_INSNS },
        { "trace", no_argument, NULL, O_TRACE },
        { "initrd", required_argument, NULL, O_INITRD },
        { "append", required_argument, NULL, O_APPEND },
        { "dump-dtb", required_argument, NULL, O_DUMP_DTB },
        { "smp", required_argument, NULL, O_SMP },
        { "drive", required_argument, NULL, O_DRIVE },
        { "console", required_argument, NULL, O_CONSOLE },
        { "net", required_argument, NULL, O_NET },
        { "memory-policy", required_argument, NULL, O_MEMPOLICY },
        { "memory-backend", required_argument, NULL, O_MEMBACKEND },
        { "cpu-affinity", required_argument, NULL, O_AFFINITY },
        { "numa", required_argument, NULL, O_NUMA },
        { "numa-topology", required_argument, NULL, O_NUMA_TOPO },
        { "name", required_argument, NULL, O_NAME },
        { "event-log", required_argument, NULL, O_EVENT_LOG },
        { "no-stats", no_argument, NULL, O_NO_STATS },
        { "qmp-socket", required_argument, NULL, O_QMP_SOCKET },
        { "no-numa-report", no_argument, NULL, O_NO_NUMA_REPORT },
        { "jit", required_argument, NULL, O_JIT },
        { "jit-threshold", required_argument, NULL, O_JIT_THRESHOLD },
        { "jit-verify", no_argument, NULL, O_JIT_VERIFY },
        { "jit-cache", required_argument, NULL, O_JIT_CACHE },
        { "jit-code-max", required_argument, NULL, O_JIT_CODE_MAX },
        { "jit-cache-max", required_argument, NULL, O_JIT_CACHE_MAX },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    memset(cfg, 0, sizeof(*cfg));
    cfg->memory = GB_DEFAULT_MEMORY;
    cfg->smp = 1;
    cfg->jit = 1;
    cfg->jit_threshold = GB_DEFAULT_JIT_THRESHOLD;
    numa_options_init(&cfg->numa);
    optind = 0;     /* 0, not 1: GNU getopt then also resets its position
                       inside a cluster left over from an earlier parse */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_BIOS:
            cfg->bios = optarg;
            break;
        case O_KERNEL:
            cfg->kernel = optarg;
            break;
        case O_MEMORY:
            if (cli_parse_size(optarg, &cfg->memory) < 0 || cfg->memory == 0) {
                snprintf(err, errlen, "--memory '%s': expected a non-zero size such as 128M or 1G",
                         optarg);
                return -EINVAL;
            }
            if (cfg->memory > GB_MAX_MEMORY || cfg->memory < (1ull << 20)) {
                snprintf(err, errlen, "--memory '%s': must be between 1M and %" PRIu64 "G",
                         optarg, (uint64_t)(GB_MAX_MEMORY >> 30));
                return -EINVAL;
            }
            if (cfg->memory & 0xfff) {
                snprintf(err, errlen, "--memory '%s': must be a multiple of 4 KiB", optarg);
                return -EINVAL;
            }
            break;
        case O_MAX_INSNS:
            if (cli_parse_count(optarg, &cfg->max_insns) < 0 || cfg->max_insns == 0) {
                snprintf(err, errlen, "--max-insns '%s': expected a positive count", optarg);
                return -EINVAL;
            }
            break;
        case O_TRACE:
            cfg->trace = 1;
            break;
        case O_JIT:
            if (strcmp(optarg, "on") && strcmp(optarg, "off")) {
                snprintf(err, errlen, "--jit '%s': expected on or off", optarg);
                return -EINVAL;
            }
            cfg->jit = !strcmp(optarg, "on");
            break;
        case O_JIT_THRESHOLD:
            if (cli_parse_count(optarg, &cfg->jit_threshold) < 0 ||
                cfg->jit_threshold > UINT32_MAX) {
                snprintf(err, errlen, "--jit-threshold '%s': expected a count from 0 to %u",
                         optarg, UINT32_MAX);
                return -EINVAL;
            }
            break;
        case O_JIT_VERIFY:
            cfg->jit_verify = 1;
            break;
        case O_JIT_CACHE:
            if (!*optarg) {
                snprintf(err, errlen, "--jit-cache: expected a directory");
                return -EINVAL;
            }
            cfg->jit_cache = optarg;
            break;
        case O_JIT_CODE_MAX:
            if (cli_parse_size(optarg, &cfg->jit_code_max) < 0 || cfg->jit_code_max == 0) {
                snprintf(err, errlen, "--jit-code-max '%s': expected a size like 64M", optarg);
                return -EINVAL;
            }
            break;
        case O_JIT_CACHE_MAX:
            if (cli_parse_size(optarg, &cfg->jit_cache_max) < 0 || cfg->jit_cache_max == 0) {
                snprintf(err, errlen, "--jit-cache-max '%s': expected a size like 256M", optarg);
                return -EINVAL;
            }
            break;
        case O_INITRD:
            cfg->initrd = optarg;
            break;
        case O_APPEND:
            cfg->append = optarg;
            break;
        case O_DUMP_DTB:
            cfg->dump_dtb = optarg;
            break;
        case O_SMP: {
            uint64_t n;
            if (cli_parse_count(optarg, &n) < 0 || n < 1 || n > GB_MAX_HARTS) {
                snprintf(err, errlen, "--smp '%s': expected a number of harts from 1 to %d",
                         optarg, GB_MAX_HARTS);
                return -EINVAL;
            }
            cfg->smp = (unsigned)n;
            break;
        }
        case O_DRIVE:
            if (cfg->ndrives == GB_MAX_DRIVES) {
                snprintf(err, errlen, "--drive: at most %d drives", GB_MAX_DRIVES);
                return -EINVAL;
            }
            if (cli_parse_drive(optarg, &cfg->drives[cfg->ndrives], err, errlen) < 0)
                return -EINVAL;
            cfg->ndrives++;
            break;
        case O_MEMPOLICY:
            if (numa_parse_memory_policy(optarg, &cfg->numa.policy, err, errlen) < 0)
                return -EINVAL;
            break;
        case O_MEMBACKEND:
            if (numa_parse_memory_backend(optarg, &cfg->numa.backend, err, errlen) < 0)
                return -EINVAL;
            break;
        case O_AFFINITY:
            if (numa_parse_cpu_affinity(optarg, &cfg->numa.affinity, err, errlen) < 0)
                return -EINVAL;
            break;
        case O_NUMA:
            if (numa_parse_numa(optarg, &cfg->numa.guest, err, errlen) < 0)
                return -EINVAL;
            break;
        case O_NAME:
            if (stats_name_valid(optarg) < 0) {
                snprintf(err, errlen, "--name '%s': use 1 to 63 of A-Z a-z 0-9 . _ -", optarg);
                return -EINVAL;
            }
            cfg->name = optarg;
            break;
        case O_EVENT_LOG:
            cfg->event_log = optarg;
            break;
        case O_NO_STATS:
            cfg->no_stats = 1;
            break;
        case O_NO_NUMA_REPORT:
            cfg->no_numa_report = 1;
            break;
        case O_QMP_SOCKET:
            if (!optarg[0] || strlen(optarg) >= 108) {
                snprintf(err, errlen, "--qmp-socket: a UNIX socket path of 1 to 107 bytes, "
                         "or 'none'");
                return -EINVAL;
            }
            cfg->qmp_socket = optarg;
            break;
        case O_NUMA_TOPO:
            cfg->numa_topology = optarg;
            break;
        case O_NET:
            if (strncmp(optarg, "user", 4) || (optarg[4] && optarg[4] != ',')) {
                snprintf(err, errlen, "--net '%s': only user networking is supported "
                         "(user[,hostfwd=tcp:127.0.0.1:HOSTPORT-:GUESTPORT])", optarg);
                return -EINVAL;
            }
            if (cfg->net) {
                snprintf(err, errlen, "--net: one network device per VM (repeat hostfwd= "
                         "inside it instead)");
                return -EINVAL;
            }
            cfg->net = optarg;
            break;
        case O_CONSOLE:
            if (strcmp(optarg, "ttyS0") && strcmp(optarg, "hvc0")) {
                snprintf(err, errlen, "--console '%s': expected ttyS0 or hvc0", optarg);
                return -EINVAL;
            }
            cfg->console = optarg;
            break;
        case 'h':
            cli_usage_run(stdout);
            return 1;
        case ':':
            snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
            return -EINVAL;
        default:
            /* a bad letter inside a cluster ("-xq") is only in optopt;
             * optopt >= 256 is one of ours given a value it does not take */
            if (optopt >= 256)
                snprintf(err, errlen, "option '%s' takes no value", argv[optind - 1]);
            else if (optopt > 0)
                snprintf(err, errlen, "unknown option '-%c' (see glassbox run --help)",
                         optopt);
            else
                snprintf(err, errlen, "unknown option '%s' (see glassbox run --help)",
                         argv[optind - 1]);
            return -EINVAL;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
        return -EINVAL;
    }
    if (!cfg->bios)
        cfg->bios = GB_DEFAULT_BIOS;
    if (!cfg->kernel && !strcmp(cfg->bios, "none") && !cfg->dump_dtb) {
        snprintf(err, errlen, "no guest given: use --kernel FILE (required with --bios none)");
        return -EINVAL;
    }
    if (!cfg->console)
        cfg->console = cfg->append && strstr(cfg->append, "console=hvc0") ? "hvc0" : "ttyS0";
    if (cfg->initrd && !cfg->kernel) {
        snprintf(err, errlen, "--initrd needs --kernel");
        return -EINVAL;
    }
    if (cfg->jit_cache && (!cfg->jit || cfg->trace)) {
        snprintf(err, errlen, "--jit-cache keeps compiled code, but %s",
                 cfg->jit ? "--trace runs everything interpreted" : "--jit off turns the JIT off");
        return -EINVAL;
    }
    if (cfg->jit_cache_max && !cfg->jit_cache) {
        snprintf(err, errlen, "--jit-cache-max bounds the --jit-cache directory, and there is none");
        return -EINVAL;
    }
    if (cfg->jit_verify && (!cfg->jit || cfg->trace)) {
        snprintf(err, errlen, "--jit-verify checks compiled code, but %s",
                 cfg->jit ? "--trace runs everything interpreted" : "--jit off turns the JIT off");
        return -EINVAL;
    }
    return 0;
}
