/* glassbox: command-line entry. Only main prints and exits; everything
 * below returns errors (DESIGN.md, Conventions). Exit status: the guest's
 * own code, 1 for runtime errors, 2 for usage errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "machine.h"
#include "stats.h"

static void usage(FILE *f)
{
    fputs("usage: glassbox COMMAND [options]\n"
          "commands:\n"
          "  run        run a guest (glassbox run --help)\n"
          "  list       list running VMs (--prune removes regions of dead ones)\n"
          "options:\n"
          "  -h, --help     this help\n"
          "  -V, --version  print the version\n", f);
}

/* NUMA placement warnings: what was asked for but did not happen */
static void print_warnings(const struct numa_msgs *w)
{
    unsigned n = w->n < NUMA_MAX_MSGS ? w->n : NUMA_MAX_MSGS;

    for (unsigned i = 0; i < n; i++)
        fprintf(stderr, "glassbox: warning: %s\n", w->msg[i]);
    if (w->n > n)
        fprintf(stderr, "glassbox: warning: ... and %u more\n", w->n - n);
}

/* --dump-dtb: the tree of the machine the options describe, including
 * the guest NUMA layout the placement plan gives; nothing runs. */
static int dump_dtb(const struct run_config *cfg)
{
    static struct machine m;    /* large; zeroed */
    static struct numa_plan plan;
    char err[512];
    int r;

    m.cfg = *cfg;
    m.ram_size = cfg->memory;
    r = numa_topo_open(&m.topo, cfg->numa_topology, NULL, err, sizeof(err));
    if (r == 0) {
        r = numa_plan_build(m.topo, &cfg->numa, cfg->memory, cfg->smp, &plan, err, sizeof(err));
        if (r < 0) {
            fprintf(stderr, "glassbox: %s\n", err);
            numa_topo_close(m.topo);
            return 2;
        }
        m.plan = &plan;
        r = boot_write_dtb(&m, cfg->dump_dtb, err, sizeof(err));
        numa_topo_close(m.topo);
    }
    if (r < 0) {
        fprintf(stderr, "glassbox: %s\n", err);
        return 1;
    }
    return 0;
}

static int cmd_list(int argc, char **argv)
{
    struct stats_entry *v = NULL;
    size_t n = 0, pruned = 0;
    char err[512];

    if (argc > 2 || (argc == 2 && strcmp(argv[1], "--prune"))) {
        fprintf(stderr, "glassbox: usage: glassbox list [--prune]\n");
        return 2;
    }
    if (argc == 2 && stats_prune(&pruned, err, sizeof(err)) < 0) {
        fprintf(stderr, "glassbox: %s\n", err);
        return 1;
    }
    if (stats_list(&v, &n, err, sizeof(err)) < 0) {
        fprintf(stderr, "glassbox: %s\n", err);
        return 1;
    }
    stats_list_print(stdout, v, n);
    if (argc == 2)
        printf("pruned %zu stale region%s\n", pruned, pruned == 1 ? "" : "s");
    free(v);
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    struct run_config cfg;
    struct machine m;
    char err[512];
    int r;

    r = cli_parse_run(argc, argv, &cfg, err, sizeof(err));
    if (r == 1)
        return 0;
    if (r < 0) {
        fprintf(stderr, "glassbox: %s\n", err);
        return 2;
    }
    if (cfg.dump_dtb)
        return dump_dtb(&cfg);
    {
        sigset_t set;
        machine_signal_set(&set);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
    }
    if (machine_init(&m, &cfg, err, sizeof(err)) < 0) {
        int usage = m.usage_error;
        fprintf(stderr, "glassbox: %s\n", err);
        machine_destroy(&m);
        return usage ? 2 : 1;
    }
    print_warnings(&m.plan->warnings);
    print_warnings(&m.numa_warn);
    err[0] = 0;
    r = machine_run(&m, err, sizeof(err));
    machine_destroy(&m);
    if (err[0])
        fprintf(stderr, "glassbox: %s\n", err);
    return r;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
        printf("glassbox %s\n", PACKAGE_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(argv[1], "list"))
        return cmd_list(argc - 1, argv + 1);
    fprintf(stderr, "glassbox: unknown command '%s' (try glassbox --help)\n", argv[1]);
    return 2;
}
