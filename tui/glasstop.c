/* glasstop: a live console for glassbox VMs (glasstop(1)). Reads the
 * stats region read-only, steers the VM over its control socket. Only
 * main prints and exits. Exit status: 0, 1 runtime error, 2 usage. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "glasstop.h"
#include "gt_ctl.h"
#include "gt_panels.h"

static void usage(FILE *f)
{
    fputs("usage: glasstop [--once] [--interval SECONDS] [--no-color] [NAME]\n"
          "Watch and steer a running glassbox VM (the only one running when NAME\n"
          "is not given; with several, pick one from a list).\n"
          "  --once               print one text snapshot of every panel and exit\n"
          "  --interval SECONDS   refresh period, also the --once sampling gap\n"
          "                       (0.1 to 3600, default 1)\n"
          "  --no-color           monochrome\n"
          "  -h, --help           this help\n"
          "  -V, --version        print the version\n"
          "keys: p pause/resume, r reset, k stop the VM, Tab/arrows focus, s sort,\n"
          "      Enter disassembly, h or ? help, q quit glasstop\n", f);
}

/* ---- choosing a VM ------------------------------------------------------- */

struct vm_entry {
    char name[GB_STATS_NAME_MAX];
    uint32_t state;
    int usable;                 /* readable, and its engine lives */
    char note[256];
};

static int engine_alive(uint32_t pid)
{
    return pid && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* The regions in /dev/shm; *out is malloc'd. */
static int list_vms(struct vm_entry **out, size_t *n, char *err, size_t errlen)
{
    const size_t plen = strlen(GB_STATS_SHM_PREFIX) - 1;  /* without the '/' */
    DIR *d = opendir("/dev/shm");
    struct dirent *de;
    struct vm_entry *v = NULL;
    size_t cap = 0;

    *out = NULL;
    *n = 0;
    if (!d) {
        snprintf(err, errlen, "cannot read /dev/shm: %s", strerror(errno));
        return -errno;
    }
    while ((de = readdir(d))) {
        struct gb_reader r;
        struct gb_stats_status st;
        char e[256];

        if (strncmp(de->d_name, &GB_STATS_SHM_PREFIX[1], plen) || !de->d_name[plen]
            || strlen(de->d_name + plen) >= GB_STATS_NAME_MAX)
            continue;
        if (*n == cap) {
            struct vm_entry *nv = realloc(v, (cap = cap ? cap * 2 : 8) * sizeof(*v));
            if (!nv) {
                free(v);
                closedir(d);
                snprintf(err, errlen, "out of memory");
                return -ENOMEM;
            }
            v = nv;
        }
        struct vm_entry *x = &v[(*n)++];
        memset(x, 0, sizeof(*x));
        snprintf(x->name, sizeof(x->name), "%s", de->d_name + plen);
        if (gb_reader_open(&r, x->name, e, sizeof(e)) < 0) {
            snprintf(x->note, sizeof(x->note), "%s", e);
            continue;
        }
        if (gb_reader_status(&r, &st) == 0)
            x->state = st.state;
        if (!engine_alive(r.hdr->pid))
            snprintf(x->note, sizeof(x->note), "stale: engine gone");
        else
            x->usable = 1;
        gb_reader_close(&r);
    }
    closedir(d);
    *out = v;
    return 0;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct vm_entry *)a)->name, ((const struct vm_entry *)b)->name);
}

/* Pick the VM: the only usable one, or one the user chooses. 0, 1 with a
 * usage-type failure (several and no terminal to ask), -1 otherwise. */
static int choose_vm(char *name, size_t len, int interactive, char *err, size_t errlen)
{
    struct vm_entry *v;
    size_t n, usable = 0, first = 0;
    char line[64];

    if (list_vms(&v, &n, err, errlen) < 0)
        return -1;
    qsort(v, n, sizeof(*v), entry_cmp);
    for (size_t i = 0; i < n; i++)
        if (v[i].usable && !usable++)
            first = i;
    if (usable == 1) {
        snprintf(name, len, "%s", v[first].name);
        free(v);
        return 0;
    }
    if (usable == 0) {
        snprintf(err, errlen, "no running glassbox VM found (start one with glassbox run "
                 "--name NAME)");
        free(v);
        return -1;
    }
    if (!interactive) {
        size_t k = (size_t)snprintf(err, errlen, "%zu VMs are running, name one:", usable);
        for (size_t i = 0; i < n && k < errlen; i++)
            if (v[i].usable)
                k += (size_t)snprintf(err + k, errlen - k, " %s", v[i].name);
        free(v);
        return 1;
    }
    printf("glassbox VMs:\n");
    for (size_t i = 0, k = 0; i < n; i++) {
        if (v[i].usable)
            printf("  %2zu) %-24s %s\n", ++k, v[i].name, gb_vm_state_name(v[i].state));
        else
            printf("      %-24s (%s)\n", v[i].name, v[i].note);
    }
    for (;;) {
        printf("pick one [1-%zu], q to quit: ", usable);
        fflush(stdout);
        if (!fgets(line, sizeof(line), stdin) || line[0] == 'q') {
            snprintf(err, errlen, "no VM chosen");
            free(v);
            return -1;
        }
        char *end;
        unsigned long pick = strtoul(line, &end, 10);
        if (end != line && pick >= 1 && pick <= usable) {
            for (size_t i = 0, k = 0; i < n; i++)
                if (v[i].usable && ++k == pick)
                    snprintf(name, len, "%s", v[i].name);
            free(v);
            return 0;
        }
    }
}

/* ---- --once ------------------------------------------------------------ */

static int locale_utf8(void)
{
    const char *cs = nl_langinfo(CODESET);

    return cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8"));
}

static void sleep_s(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - floor(s)) * 1e9) };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int run_once(const struct gt_opts *o, struct gb_reader *r, const char *name,
                    uint64_t ino, char *err, size_t errlen)
{
    struct gt_model m;
    static struct gt_symcache syms;
    struct gt_ctl ctl = { 0 };
    struct gt_view v = { .utf8 = locale_utf8(), .sort = GT_SORT_EXECS, .hot_max = 10,
                         .ev_max = 10, .syms = &syms };

    if (gt_model_init(&m) < 0) {
        snprintf(err, errlen, "out of memory");
        return 1;
    }
    gt_model_update(&m, r, gt_now_ns());
    sleep_s(o->interval);
    gt_model_update(&m, r, gt_now_ns());
    gt_vm_check(&m, name, ino);
    if (m.fate == GT_VM_LIVE && gt_ctl_open(&ctl, name, 3000) == 0) {
        gt_ctl_fetch_hot(&ctl, "recent", GB_STATS_HOT_N, 4, &syms);
        gt_ctl_fetch_hot(&ctl, "total", GB_STATS_HOT_N, 4, &syms);
    }
    if (ctl.err[0])
        v.ctl_note = ctl.err;
    else if (m.fate != GT_VM_LIVE)
        v.ctl_note = "the VM has exited";
    gt_text_snapshot(stdout, &m, &v);
    gt_ctl_close(&ctl);
    gt_sym_free(&syms);
    gt_model_free(&m);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- main -------------------------------------------------------------- */

int main(int argc, char **argv)
{
    enum { O_ONCE = 256, O_INTERVAL, O_NO_COLOR };
    static const struct option opts[] = {
        { "once", no_argument, NULL, O_ONCE },
        { "interval", required_argument, NULL, O_INTERVAL },
        { "no-color", no_argument, NULL, O_NO_COLOR },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { 0, 0, 0, 0 },
    };
    struct gt_opts o = { .interval = 1.0 };
    char name[GB_STATS_NAME_MAX], err[512];
    struct gb_reader r;
    int c, rc;

    setlocale(LC_ALL, "");
    signal(SIGPIPE, SIG_IGN);   /* a closed socket is an error return, not death */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":hV", opts, NULL)) != -1) {
        switch (c) {
        case O_ONCE:
            o.once = 1;
            break;
        case O_INTERVAL: {
            char *end;
            errno = 0;
            o.interval = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(o.interval >= 0.1 && o.interval <= 3600)) {
                fprintf(stderr, "glasstop: --interval '%s': expected seconds from 0.1 to "
                        "3600\n", optarg);
                return 2;
            }
            break;
        }
        case O_NO_COLOR:
            o.no_color = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("glasstop %s (stats ABI %d.%d)\n", PACKAGE_VERSION, GB_STATS_ABI_MAJOR,
                   GB_STATS_ABI_MINOR);
            return 0;
        case ':':
            fprintf(stderr, "glasstop: option '%s' needs a value\n", argv[optind - 1]);
            return 2;
        default:
            if (optopt && optopt < 256)
                fprintf(stderr, "glasstop: unknown option '-%c' (try glasstop --help)\n",
                        optopt);
            else
                fprintf(stderr, "glasstop: bad option '%s' (try glasstop --help)\n",
                        argv[optind - 1]);
            return 2;
        }
    }
    if (argc - optind > 1) {
        fprintf(stderr, "glasstop: one VM name at most (got '%s' and '%s')\n", argv[optind],
                argv[optind + 1]);
        return 2;
    }
    if (optind < argc) {
        o.name = argv[optind];
        snprintf(name, sizeof(name), "%s", o.name);
        if (strlen(o.name) >= GB_STATS_NAME_MAX || !o.name[0] || strchr(o.name, '/')) {
            fprintf(stderr, "glasstop: '%s' is not a VM name\n", o.name);
            return 2;
        }
    } else {
        rc = choose_vm(name, sizeof(name), !o.once && isatty(0) && isatty(1), err, sizeof(err));
        if (rc != 0) {
            fprintf(stderr, "glasstop: %s\n", err);
            return rc > 0 ? 2 : 1;
        }
    }
    uint64_t ino = gt_region_ino(name);
    /* an engine that is still creating its region gets two seconds */
    for (int tries = 0; (rc = gb_reader_open(&r, name, err, sizeof(err))) == -EAGAIN
                        && tries < 20; tries++) {
        sleep_s(0.1);
        ino = gt_region_ino(name);
    }
    if (rc < 0) {
        fprintf(stderr, "glasstop: %s\n", err);
        return 1;
    }
    err[0] = '\0';
    rc = o.once ? run_once(&o, &r, name, ino, err, sizeof(err))
                : gt_curses_run(&o, &r, name, ino, err, sizeof(err));
    gb_reader_close(&r);
    if (rc && err[0])
        fprintf(stderr, "glasstop: %s\n", err);
    return rc;
}
