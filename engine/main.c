/* glassbox: command-line entry. Only main prints and exits; everything
 * below returns errors (DESIGN.md, Conventions). Exit status: the guest's
 * own code, 1 for runtime errors, 2 for usage errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "config.h"
#include "machine.h"
#include "stats.h"
#include "../tui/qmp_client.h"

#define CTL_TIMEOUT_MS 30000    /* stop waits for the vCPUs to park */

static void usage(FILE *f)
{
    fputs("usage: glassbox COMMAND [options]\n"
          "commands:\n"
          "  run        run a guest (glassbox run --help)\n"
          "  list       list running VMs (--prune removes regions of dead ones)\n"
          "  ctl        send one QMP command (glassbox ctl NAME COMMAND [JSON-ARGS])\n"
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

/* Exactly one JSON object, nothing after it but white space. */
static int parse_json_args(const char *text, struct json_object **out, char *err, size_t errlen)
{
    struct json_tokener *tok = json_tokener_new();
    size_t len = strlen(text), end;
    enum json_tokener_error je;

    *out = NULL;
    if (!tok) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    *out = json_tokener_parse_ex(tok, text, (int)len);
    je = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (je == json_tokener_continue)
        snprintf(err, errlen, "'%s' is not a complete JSON object", text);
    else if (je != json_tokener_success)
        snprintf(err, errlen, "'%s' is not JSON: %s", text, json_tokener_error_desc(je));
    else if (end < len && text[end + strspn(text + end, " \t\r\n")])
        snprintf(err, errlen, "'%s' has text after the JSON object", text);
    else if (!json_object_is_type(*out, json_type_object))
        snprintf(err, errlen, "'%s' is not a JSON object ({\"name\": value, ...})", text);
    else
        return 0;
    json_object_put(*out);
    *out = NULL;
    return -EINVAL;
}

/* glassbox ctl [--timeout S] NAME|--socket PATH COMMAND [JSON-ARGS]: one
 * QMP command, the reply's return value pretty-printed. */
static int cmd_ctl(int argc, char **argv)
{
    static const char use[] = "glassbox: usage: glassbox ctl [--timeout SECONDS] "
                              "NAME|--socket PATH COMMAND [JSON-ARGS]\n";
    struct json_object *args = NULL, *ret = NULL;
    struct qmp_client *c;
    char err[512], path[4096];
    const char *target = NULL;
    unsigned timeout_ms = CTL_TIMEOUT_MS;
    int i = 1, r;

    while (i < argc && argv[i][0] == '-') {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(use + strlen("glassbox: "), stdout);
            return 0;
        }
        if (strcmp(argv[i], "--socket") && strcmp(argv[i], "--timeout")) {
            fprintf(stderr, "glassbox: ctl: '%s' is not a VM name or an option (use --socket "
                    "PATH for a socket)\n", argv[i]);
            return 2;
        }
        if (i + 1 >= argc || !argv[i + 1][0]) {
            fprintf(stderr, "glassbox: ctl: %s needs %s\n", argv[i],
                    argv[i][2] == 's' ? "a socket path" : "a number of seconds");
            return 2;
        }
        if (argv[i][2] == 't') {
            char *end;
            double sec = strtod(argv[i + 1], &end);
            if (*end || !(sec > 0 && sec <= 3600)) {
                fprintf(stderr, "glassbox: ctl: --timeout '%s': want seconds, more than 0 "
                        "and at most 3600\n", argv[i + 1]);
                return 2;
            }
            timeout_ms = (unsigned)(sec * 1000 + 0.5);
        } else {
            /* a '/' tells the client library it is a path, not a name */
            snprintf(path, sizeof(path), "%s%s", strchr(argv[i + 1], '/') ? "" : "./",
                     argv[i + 1]);
            target = path;
        }
        i += 2;
    }
    if (!target && i < argc) {
        target = argv[i++];
        if (strchr(target, '/')) {
            fprintf(stderr, "glassbox: ctl: '%s' is not a VM name (use --socket PATH for a "
                    "socket)\n", target);
            return 2;
        }
    }
    if (!target || argc - i < 1 || argc - i > 2 || !argv[i][0]) {
        fputs(use, stderr);
        return 2;
    }
    if (argc - i == 2 && (r = parse_json_args(argv[i + 1], &args, err, sizeof(err))) < 0) {
        fprintf(stderr, "glassbox: ctl: JSON-ARGS: %s\n", err);
        return 2;
    }
    r = qmp_client_open(&c, target, timeout_ms, err, sizeof(err));
    if (r == 0) {
        r = qmp_client_execute(c, argv[i], args, &ret, timeout_ms, err, sizeof(err));
        qmp_client_close(c);
    }
    json_object_put(args);
    if (r < 0) {
        fprintf(stderr, "glassbox: ctl: %s\n", err);
        return 1;
    }
    printf("%s\n", json_object_to_json_string_ext(ret, JSON_C_TO_STRING_PRETTY |
                                                   JSON_C_TO_STRING_SPACED |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(ret);
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
    /* a generated name is only useful if the operator sees it; scripts
     * (stderr not a terminal) find it with glassbox list */
    if (!cfg.name && isatty(STDERR_FILENO))
        fprintf(stderr, "glassbox: VM '%s' (watch: glasstop %s; steer: glassbox ctl %s ...)\r\n",
                m.name, m.name, m.name);
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
    if (!strcmp(argv[1], "ctl"))
        return cmd_ctl(argc - 1, argv + 1);
    fprintf(stderr, "glassbox: unknown command '%s' (try glassbox --help)\n", argv[1]);
    return 2;
}
