/* The glassbox QMP command set (control.h, glassbox-qmp(7)). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "control.h"
#include "glassbox/control.h"
#include "lifecycle.h"
#include "qmp.h"
#include "stats.h"
#include "../tui/stats_reader.h"

#define HOT_DISAS_MAX 64        /* instructions per block query-hot-blocks disassembles */

/* QEMU ShutdownCause names; a lifecycle reason that starts with one of
 * them (then end, ':' or ' ') gives the event its reason. */
static const char *const shutdown_causes[] = {
    "none", "host-error", "host-qmp-quit", "host-qmp-system-reset", "host-signal", "host-ui",
    "guest-shutdown", "guest-reset", "guest-panic", "subsystem-reset", "snapshot-load",
};

struct control {
    char name[64];
    struct lifecycle *lc;
    struct stats *stats;
    struct gb_reader reader;    /* valid when stats */
    const struct control_ops *ops;
    void *opaque;
    struct qmp_server *srv;
    /* the cause of the next SHUTDOWN / RESET when a QMP command asked for it */
    _Atomic(const char *) pending_shutdown, pending_reset;
};

/* ---- JSON helpers ------------------------------------------------------------ */

static void put_u64(struct json_object *o, const char *key, uint64_t v)
{
    json_object_object_add(o, key, json_object_new_uint64(v));
}

static void put_str(struct json_object *o, const char *key, const char *v)
{
    json_object_object_add(o, key, json_object_new_string(v));
}

static void put_bool(struct json_object *o, const char *key, int v)
{
    json_object_object_add(o, key, json_object_new_boolean(v != 0));
}

static struct json_object *u64_array(const uint64_t *v, unsigned n)
{
    struct json_object *a = json_object_new_array_ext((int)n);

    for (unsigned i = 0; i < n; i++)
        json_object_array_add(a, json_object_new_uint64(v[i]));
    return a;
}

/* Copy a fixed-size char field that may lack its NUL. */
static void put_field(struct json_object *o, const char *key, const char *field, size_t size)
{
    json_object_object_add(o, key, json_object_new_string_len(field, (int)strnlen(field, size)));
}

/* ---- lifecycle commands -------------------------------------------------------- */

static const char *qmp_status_name(enum gb_vm_state s)
{
    switch (s) {
    case GB_VM_CREATED: return "prelaunch";
    case GB_VM_RUNNING: return "running";
    case GB_VM_PAUSED: return "paused";
    case GB_VM_SHUTTING_DOWN:
    case GB_VM_STOPPED: return "shutdown";
    case GB_VM_ERROR: return "internal-error";
    }
    return "internal-error";
}

static int cmd_query_status(void *ctx, struct json_object *args, struct json_object **ret,
                            char *err, size_t errlen)
{
    struct control *c = ctx;
    enum gb_vm_state st = lifecycle_state(c->lc);
    struct json_object *o = json_object_new_object();

    (void)args, (void)err, (void)errlen;
    put_str(o, "status", qmp_status_name(st));
    put_bool(o, "running", st == GB_VM_RUNNING);
    put_bool(o, "singlestep", 0);
    *ret = o;
    return 0;
}

static int cmd_query_name(void *ctx, struct json_object *args, struct json_object **ret,
                          char *err, size_t errlen)
{
    struct control *c = ctx;

    (void)args, (void)err, (void)errlen;
    *ret = json_object_new_object();
    put_str(*ret, "name", c->name);
    return 0;
}

static int cmd_query_cpus_fast(void *ctx, struct json_object *args, struct json_object **ret,
                               char *err, size_t errlen)
{
    struct control *c = ctx;
    unsigned n = c->ops->ncpus ? c->ops->ncpus(c->opaque) : 0;
    struct json_object *a = json_object_new_array();

    (void)args, (void)err, (void)errlen;
    for (unsigned i = 0; i < n; i++) {
        struct control_cpu_info ci = { .index = i };
        struct json_object *o = json_object_new_object();
        char qom[64];

        if (c->ops->cpu_info)
            c->ops->cpu_info(c->opaque, i, &ci);
        snprintf(qom, sizeof(qom), "/machine/soc0/harts[%u]", ci.index);
        json_object_object_add(o, "cpu-index", json_object_new_int((int)ci.index));
        put_str(o, "qom-path", qom);
        json_object_object_add(o, "thread-id", json_object_new_int(ci.thread_id));
        put_str(o, "target", "riscv64");
        put_u64(o, "pc", ci.pc);
        json_object_object_add(o, "priv", json_object_new_int((int)ci.priv));
        put_bool(o, "halted", ci.halted);
        json_object_array_add(a, o);
    }
    *ret = a;
    return 0;
}

/* A state-changing command: refuse it once the VM is going away, skip it
 * when the VM is already where it asks, note it in the stats ring. */
static int run_op(struct control *c, const char *cmd, enum gb_vm_state noop_state,
                  int (*op)(void *, char *, size_t), char *err, size_t errlen)
{
    enum gb_vm_state st = lifecycle_state(c->lc);

    if (st == GB_VM_SHUTTING_DOWN || st == GB_VM_STOPPED || st == GB_VM_ERROR) {
        snprintf(err, errlen, "VM '%s' is %s: '%s' is not possible any more", c->name,
                 gb_vm_state_name(st), cmd);
        return -EBUSY;
    }
    if (st == noop_state)
        return 0;
    if (!op) {
        snprintf(err, errlen, "'%s' is not supported by this machine", cmd);
        return -EOPNOTSUPP;
    }
    if (c->stats)
        stats_event(c->stats, GB_EVENT_CONTROL, "qmp: %s", cmd);
    return op(c->opaque, err, errlen);
}

static int cmd_stop(void *ctx, struct json_object *args, struct json_object **ret, char *err,
                    size_t errlen)
{
    struct control *c = ctx;

    (void)args, (void)ret;
    return run_op(c, "stop", GB_VM_PAUSED, c->ops->pause, err, errlen);
}

static int cmd_cont(void *ctx, struct json_object *args, struct json_object **ret, char *err,
                    size_t errlen)
{
    struct control *c = ctx;

    (void)args, (void)ret;
    return run_op(c, "cont", GB_VM_RUNNING, c->ops->resume, err, errlen);
}

static int cmd_system_reset(void *ctx, struct json_object *args, struct json_object **ret,
                            char *err, size_t errlen)
{
    struct control *c = ctx;
    int r;

    (void)args, (void)ret;
    atomic_store(&c->pending_reset, "host-qmp-system-reset");
    r = run_op(c, "system_reset", 0, c->ops->reset, err, errlen);
    if (r < 0)
        atomic_store(&c->pending_reset, NULL);
    return r;
}

static int cmd_system_powerdown(void *ctx, struct json_object *args, struct json_object **ret,
                                char *err, size_t errlen)
{
    struct control *c = ctx;

    (void)args, (void)ret;
    return run_op(c, "system_powerdown", 0, c->ops->powerdown, err, errlen);
}

static int cmd_quit(void *ctx, struct json_object *args, struct json_object **ret, char *err,
                    size_t errlen)
{
    struct control *c = ctx;
    enum gb_vm_state st = lifecycle_state(c->lc);
    int r;

    (void)args, (void)ret;
    /* quitting an engine that is already going away is fine */
    if (st == GB_VM_SHUTTING_DOWN || st == GB_VM_STOPPED || st == GB_VM_ERROR)
        return 0;
    atomic_store(&c->pending_shutdown, "host-qmp-quit");
    r = run_op(c, "quit", 0, c->ops->quit, err, errlen);
    if (r < 0)
        atomic_store(&c->pending_shutdown, NULL);
    return r;
}

/* ---- stats ------------------------------------------------------------------- */

static int need_stats(const struct control *c, char *err, size_t errlen)
{
    if (c->stats)
        return 0;
    snprintf(err, errlen, "VM '%s' runs without a stats region (--no-stats)", c->name);
    return -ENODATA;
}

static int busy(int r, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "stats %s unreadable: %s", what,
             r == -EAGAIN ? "the writer is stuck mid-update" : strerror(-r));
    return r;
}

static struct json_object *tlb_object(uint64_t lookups, uint64_t hits, uint64_t misses,
                                      uint64_t flushes)
{
    struct json_object *o = json_object_new_object();

    put_u64(o, "lookups", lookups);
    put_u64(o, "hits", hits);
    put_u64(o, "misses", misses);
    put_u64(o, "flushes", flushes);
    return o;
}

static struct json_object *vcpu_object(const struct gb_stats_vcpu *v)
{
    struct json_object *o = json_object_new_object(), *bc, *jit;

    json_object_object_add(o, "index", json_object_new_int((int)v->index));
    put_bool(o, "online", v->online);
    put_u64(o, "pc", v->pc);
    json_object_object_add(o, "priv", json_object_new_int((int)v->priv));
    put_u64(o, "instret", v->instret);
    put_u64(o, "sample-ns", v->sample_mono_ns);
    json_object_object_add(o, "insns-by-priv", u64_array(v->insns_by_priv, 4));
    json_object_object_add(o, "exceptions", u64_array(v->exceptions, 16));
    json_object_object_add(o, "interrupts", u64_array(v->interrupts, 16));
    put_u64(o, "wfi-count", v->wfi_count);
    put_u64(o, "wfi-ns", v->wfi_ns);
    json_object_object_add(o, "itlb", tlb_object(v->itlb_lookups, v->itlb_hits, v->itlb_misses,
                                                 v->itlb_flushes));
    json_object_object_add(o, "dtlb", tlb_object(v->dtlb_lookups, v->dtlb_hits, v->dtlb_misses,
                                                 v->dtlb_flushes));
    put_u64(o, "page-walks", v->page_walks);
    bc = json_object_new_object();
    put_u64(bc, "lookups", v->bc_lookups);
    put_u64(bc, "hits", v->bc_hits);
    put_u64(bc, "misses", v->bc_misses);
    put_u64(bc, "invalidations", v->bc_invalidations);
    put_u64(bc, "decoded", v->bc_decoded);
    json_object_object_add(o, "block-cache", bc);
    jit = json_object_new_object();
    json_object_object_add(jit, "blocks-by-tier", u64_array(v->jit_blocks_by_tier, 4));
    put_u64(jit, "queue-len", v->jit_queue_len);
    put_u64(jit, "code-bytes", v->jit_code_bytes);
    put_u64(jit, "compile-ns", v->jit_compile_ns);
    put_u64(jit, "compiled", v->jit_compiled);
    put_u64(jit, "insns", v->jit_insns);
    put_u64(jit, "region-blocks", v->jit_region_blocks);
    put_u64(jit, "evictions", v->jit_evictions);
    put_u64(jit, "cache-loads", v->jit_cache_loads);
    put_u64(jit, "cache-rejects", v->jit_cache_rejects);
    put_u64(jit, "chain-hits", v->jit_chain_hits);
    json_object_object_add(o, "jit", jit);
    return o;
}

static struct json_object *status_object(const struct gb_stats_status *s)
{
    struct json_object *o = json_object_new_object();

    put_str(o, "state", gb_vm_state_name(s->state));
    put_str(o, "prev-state", gb_vm_state_name(s->prev_state));
    put_u64(o, "since-mono-ns", s->since_mono_ns);
    put_u64(o, "since-real-ns", s->since_real_ns);
    put_u64(o, "transitions", s->transitions);
    put_field(o, "reason", s->reason, sizeof(s->reason));
    return o;
}

static struct json_object *identity_object(const struct gb_stats_header *h)
{
    struct json_object *o = json_object_new_object(), *abi = json_object_new_object();

    json_object_object_add(abi, "major", json_object_new_int(h->abi_major));
    json_object_object_add(abi, "minor", json_object_new_int(h->abi_minor));
    json_object_object_add(o, "abi", abi);
    put_field(o, "name", h->name, sizeof(h->name));
    put_field(o, "arch", h->arch, sizeof(h->arch));
    put_field(o, "accel", h->accel, sizeof(h->accel));
    put_field(o, "machine", h->machine, sizeof(h->machine));
    put_u64(o, "pid", h->pid);
    put_u64(o, "nvcpus", h->nvcpus);
    put_u64(o, "start-mono-ns", h->start_mono_ns);
    put_u64(o, "start-real-ns", h->start_real_ns);
    put_u64(o, "sample-hz", h->sample_hz);
    put_u64(o, "hot-window-ms", h->hot_window_ms);
    return o;
}

static int cmd_query_stats(void *ctx, struct json_object *args, struct json_object **ret,
                           char *err, size_t errlen)
{
    struct control *c = ctx;
    const struct gb_reader *r = &c->reader;
    struct gb_stats_status st;
    struct gb_stats_vcpu v;
    struct gb_stats_device d;
    struct gb_stats_memory m;
    struct json_object *o, *arr, *mem;
    int e;

    (void)args;
    if ((e = need_stats(c, err, errlen)) < 0)
        return e;
    if ((e = gb_reader_status(r, &st)) < 0)
        return busy(e, "status", err, errlen);
    if ((e = gb_reader_memory(r, &m)) < 0)
        return busy(e, "memory", err, errlen);
    o = identity_object(r->hdr);
    json_object_object_add(o, "status", status_object(&st));
    put_u64(o, "heartbeat-ns", gb_reader_heartbeat(r));
    put_u64(o, "sample-count", __atomic_load_n(&r->hdr->sample_count, __ATOMIC_RELAXED));
    arr = json_object_new_array();
    for (unsigned i = 0; i < r->hdr->nvcpus; i++) {
        if ((e = gb_reader_vcpu(r, i, &v)) < 0) {
            json_object_put(arr);
            json_object_put(o);
            return busy(e, "vCPU record", err, errlen);
        }
        json_object_array_add(arr, vcpu_object(&v));
    }
    json_object_object_add(o, "vcpus", arr);
    arr = json_object_new_array();
    for (unsigned i = 0; gb_reader_device(r, i, &d) == 0; i++) {
        struct json_object *dev;
        if (!d.present)
            continue;
        dev = json_object_new_object();
        put_field(dev, "name", d.name, sizeof(d.name));
        put_u64(dev, "requests", d.requests);
        put_u64(dev, "bytes-in", d.bytes_in);
        put_u64(dev, "bytes-out", d.bytes_out);
        put_u64(dev, "errors", d.errors);
        put_u64(dev, "notifications", d.notifications);
        put_u64(dev, "interrupts", d.interrupts);
        json_object_array_add(arr, dev);
    }
    json_object_object_add(o, "devices", arr);
    mem = json_object_new_object();
    put_u64(mem, "ram-base", m.ram_base);
    put_u64(mem, "ram-bytes", m.ram_bytes);
    put_u64(mem, "page-size", m.page_size);
    put_u64(mem, "touched-pages", m.touched_pages);
    json_object_object_add(o, "memory", mem);
    *ret = o;
    return 0;
}

/* ---- hot blocks ---------------------------------------------------------------- */

static struct json_object *hot_block_object(struct control *c, const struct gb_stats_hot_block *b,
                                            unsigned ndisas)
{
    struct json_object *o = json_object_new_object();
    int vpc_known = !(b->flags & GB_STATS_HOT_VPC_UNKNOWN);
    char sym[128];
    uint64_t off;

    json_object_object_add(o, "hart", json_object_new_int((int)b->hart));
    put_u64(o, "vpc", b->vpc);
    put_u64(o, "ppc", b->ppc);
    put_bool(o, "vpc-known", vpc_known);
    put_u64(o, "execs", b->execs);
    put_u64(o, "insns", b->insns);
    put_u64(o, "ninsns", b->ninsns);
    put_u64(o, "share-ppm", b->share_ppm);
    json_object_object_add(o, "tier", json_object_new_int(b->tier));
    put_u64(o, "guest-bytes", b->guest_bytes);
    put_u64(o, "code-bytes", b->code_bytes);
    put_u64(o, "compile-ns", b->compile_ns);
    if (vpc_known && c->ops->symbol &&
        c->ops->symbol(c->opaque, b->vpc, sym, sizeof(sym), &off) == 0) {
        char text[160];
        sym[sizeof(sym) - 1] = 0;
        if (off)
            snprintf(text, sizeof(text), "%s+0x%llx", sym, (unsigned long long)off);
        else
            snprintf(text, sizeof(text), "%s", sym);
        put_str(o, "symbol", text);
    }
    if (ndisas && c->ops->disas) {
        char lines[HOT_DISAS_MAX][96];
        int n = c->ops->disas(c->opaque, b->ppc, vpc_known ? b->vpc : b->ppc, ndisas, lines,
                              HOT_DISAS_MAX);
        struct json_object *a = json_object_new_array();
        for (int i = 0; i < n && i < HOT_DISAS_MAX; i++) {
            lines[i][sizeof(lines[i]) - 1] = 0;
            json_object_array_add(a, json_object_new_string(lines[i]));
        }
        json_object_object_add(o, "disas", a);
    }
    return o;
}

/* An optional integer argument within [0, max]. */
static int int_arg(struct json_object *args, const char *name, int64_t dflt, int64_t max,
                   int64_t *out, char *err, size_t errlen)
{
    struct json_object *v;

    *out = dflt;
    if (!json_object_object_get_ex(args, name, &v))
        return 0;
    *out = json_object_get_int64(v);
    if (*out < 0 || *out > max) {
        snprintf(err, errlen, "Parameter '%s' expects a value from 0 to %lld", name,
                 (long long)max);
        return -ERANGE;
    }
    return 0;
}

static int cmd_query_hot_blocks(void *ctx, struct json_object *args, struct json_object **ret,
                                char *err, size_t errlen)
{
    struct control *c = ctx;
    struct gb_stats_hot_list l;
    struct json_object *o, *arr, *w;
    const char *window = "total";
    int64_t count, ndisas;
    int e;

    if ((e = need_stats(c, err, errlen)) < 0)
        return e;
    if (json_object_object_get_ex(args, "window", &w))
        window = json_object_get_string(w);
    if (strcmp(window, "total") && strcmp(window, "recent")) {
        snprintf(err, errlen, "Parameter 'window' expects 'total' or 'recent'");
        return -EINVAL;
    }
    if ((e = int_arg(args, "count", GB_STATS_HOT_N, INT32_MAX, &count, err, errlen)) < 0 ||
        (e = int_arg(args, "disas", 0, HOT_DISAS_MAX, &ndisas, err, errlen)) < 0)
        return e;
    e = gb_reader_hot(&c->reader, strcmp(window, "total") ? GB_STATS_HOT_RECENT
                                                          : GB_STATS_HOT_TOTAL, &l);
    if (e < 0)
        return busy(e, "hot-block list", err, errlen);
    o = json_object_new_object();
    put_str(o, "window", window);
    put_u64(o, "window-ns", l.window_ns);
    put_u64(o, "window-insns", l.window_insns);
    put_u64(o, "sample-ns", l.sample_mono_ns);
    arr = json_object_new_array();
    for (unsigned i = 0; i < l.count && i < GB_STATS_HOT_N && i < count; i++)
        json_object_array_add(arr, hot_block_object(c, &l.b[i], (unsigned)ndisas));
    json_object_object_add(o, "blocks", arr);
    *ret = o;
    return 0;
}

static int cmd_query_numa(void *ctx, struct json_object *args, struct json_object **ret,
                          char *err, size_t errlen)
{
    struct control *c = ctx;

    (void)args;
    *ret = c->ops->query_numa ? c->ops->query_numa(c->opaque) : NULL;
    if (!*ret) {
        snprintf(err, errlen, "no NUMA report");
        return -ENODATA;
    }
    return 0;
}

/* ---- table and setup ----------------------------------------------------------- */

static const struct qmp_arg hot_args[] = {
    { "window", QMP_T_STR, 0 }, { "count", QMP_T_INT, 0 }, { "disas", QMP_T_INT, 0 },
};

static const struct qmp_command commands[] = {
    { "query-status", cmd_query_status, NULL, 0 },
    { "query-name", cmd_query_name, NULL, 0 },
    { "query-cpus-fast", cmd_query_cpus_fast, NULL, 0 },
    { "stop", cmd_stop, NULL, 0 },
    { "cont", cmd_cont, NULL, 0 },
    { "system_reset", cmd_system_reset, NULL, 0 },
    { "system_powerdown", cmd_system_powerdown, NULL, 0 },
    { "quit", cmd_quit, NULL, 0 },
    { "query-stats", cmd_query_stats, NULL, 0 },
    { "query-hot-blocks", cmd_query_hot_blocks, hot_args, 3 },
    { "query-numa", cmd_query_numa, NULL, 0 },
};

static int start(struct control **out, const struct control_config *cfg, int with_socket,
                 char *err, size_t errlen)
{
    struct qmp_server_config qc = {
        .cmds = commands, .ncmds = sizeof(commands) / sizeof(commands[0]),
        .package = "glassbox " PACKAGE_VERSION,
    };
    char path[GB_CONTROL_PATH_MAX];
    struct control *c;
    int r;

    *out = NULL;
    if (!cfg->vm_name || !cfg->lc || !cfg->ops) {
        snprintf(err, errlen, "control: a VM name, a lifecycle and ops are required");
        return -EINVAL;
    }
    if (with_socket && !cfg->socket_path &&
        gb_control_path(path, sizeof(path), cfg->vm_name) < 0) {
        snprintf(err, errlen, "VM name '%s' does not make a control socket path", cfg->vm_name);
        return -ENAMETOOLONG;
    }
    c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    snprintf(c->name, sizeof(c->name), "%s", cfg->vm_name);
    c->lc = cfg->lc;
    c->stats = cfg->stats;
    c->ops = cfg->ops;
    c->opaque = cfg->opaque;
    if (c->stats) {
        const struct gb_stats_header *h = stats_header(c->stats);
        r = gb_reader_attach(&c->reader, h, (size_t)h->total_size, err, errlen);
        if (r < 0) {
            free(c);
            return r;
        }
    }
    sscanf(PACKAGE_VERSION, "%u.%u.%u", &qc.version[0], &qc.version[1], &qc.version[2]);
    qc.ctx = c;
    qc.socket_path = with_socket ? (cfg->socket_path ? cfg->socket_path : path) : NULL;
    qc.private_dir = !cfg->socket_path;     /* the default directory is glassbox's own */
    r = qmp_server_create(&c->srv, &qc, err, errlen);
    if (r < 0) {
        free(c);
        return r;
    }
    *out = c;
    return 0;
}

int control_start(struct control **out, const struct control_config *cfg, char *err,
                  size_t errlen)
{
    return start(out, cfg, 1, err, errlen);
}

int control_start_detached(struct control **out, const struct control_config *cfg, char *err,
                           size_t errlen)
{
    return start(out, cfg, 0, err, errlen);
}

void control_stop(struct control *c)
{
    if (!c)
        return;
    qmp_server_destroy(c->srv);
    free(c);
}

const char *control_socket_path(const struct control *c)
{
    return qmp_server_path(c->srv);
}

struct qmp_server *control_server(struct control *c)
{
    return c->srv;
}

/* ---- events -------------------------------------------------------------------- */

static const char *cause_of(const char *reason, const char *dflt)
{
    if (reason)
        for (size_t i = 0; i < sizeof(shutdown_causes) / sizeof(shutdown_causes[0]); i++) {
            size_t n = strlen(shutdown_causes[i]);
            if (!strncmp(reason, shutdown_causes[i], n) &&
                (reason[n] == 0 || reason[n] == ':' || reason[n] == ' '))
                return shutdown_causes[i];
        }
    return dflt;
}

/* {"guest": bool, "reason": CAUSE}: a pending QMP cause wins, then the
 * lifecycle reason's leading cause word, then the default. */
static struct json_object *cause_data(_Atomic(const char *) *pending, const char *reason,
                                      const char *dflt)
{
    const char *cause = atomic_exchange(pending, NULL);
    struct json_object *d = json_object_new_object();

    if (!cause)
        cause = cause_of(reason, dflt);
    put_bool(d, "guest", !strncmp(cause, "guest-", 6));
    put_str(d, "reason", cause);
    return d;
}

void control_on_lifecycle(void *control, const struct lifecycle_event *ev)
{
    struct control *c = control;

    if (!c)
        return;
    if (ev->from == ev->to) {
        if (!strcmp(ev->event, "RESET"))
            qmp_server_emit_event(c->srv, "RESET",
                                  cause_data(&c->pending_reset, ev->reason, "guest-reset"));
        else if (!strcmp(ev->event, "POWERDOWN"))
            qmp_server_emit_event(c->srv, "POWERDOWN", NULL);
        return;
    }
    if (ev->from == GB_VM_RUNNING && ev->to == GB_VM_PAUSED)
        qmp_server_emit_event(c->srv, "STOP", NULL);
    else if (ev->from == GB_VM_PAUSED && ev->to == GB_VM_RUNNING)
        qmp_server_emit_event(c->srv, "RESUME", NULL);
    else if (ev->to == GB_VM_SHUTTING_DOWN)
        qmp_server_emit_event(c->srv, "SHUTDOWN",
                              cause_data(&c->pending_shutdown, ev->reason, "guest-shutdown"));
}
