/*
 * Unit tests for the control socket (engine/qmp.c, engine/control.c) and
 * the client library (tui/qmp_client.c): a real server on a real UNIX
 * socket with fake machine ops, a real lifecycle and a real stats region,
 * driven by raw socket clients that check every reply against QEMU's
 * shapes and wording. Covers negotiation, every command, events to every
 * client, hostile input (the connection stays usable after each), many
 * clients, clients that vanish or never read, and socket ownership.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "control.h"
#include "glassbox/control.h"
#include "glassbox/stats.h"
#include "lifecycle.h"
#include "qmp.h"
#include "stats.h"
#include "../../tui/qmp_client.h"

#define TIMEOUT_MS 5000

/* ---- fixture: fake machine, real lifecycle, real stats region -------------- */

struct fixture {
    char name[64], dir[128], path[192];
    struct stats *stats;
    struct lifecycle *lc;
    struct control *_Atomic ctl;
    atomic_int pause_calls, resume_calls, reset_calls, powerdown_calls, quit_calls;
    int fail_pause, no_numa;
};

static void on_event(void *opaque, const struct lifecycle_event *ev)
{
    struct fixture *f = opaque;

    stats_on_lifecycle(f->stats, ev);
    control_on_lifecycle(atomic_load(&f->ctl), ev);
}

static int fake_transition(struct fixture *f, enum gb_vm_state to, const char *why, char *err,
                           size_t errlen)
{
    return lifecycle_transition(f->lc, to, why, err, errlen);
}

static int op_pause(void *o, char *err, size_t errlen)
{
    struct fixture *f = o;

    atomic_fetch_add(&f->pause_calls, 1);
    if (f->fail_pause) {
        snprintf(err, errlen, "fake pause failed");
        return -EIO;
    }
    return fake_transition(f, GB_VM_PAUSED, NULL, err, errlen);
}

static int op_resume(void *o, char *err, size_t errlen)
{
    struct fixture *f = o;

    atomic_fetch_add(&f->resume_calls, 1);
    return fake_transition(f, GB_VM_RUNNING, NULL, err, errlen);
}

static int op_reset(void *o, char *err, size_t errlen)
{
    struct fixture *f = o;

    atomic_fetch_add(&f->reset_calls, 1);
    return lifecycle_note(f->lc, "RESET", "requested over QMP", err, errlen);
}

static int op_powerdown(void *o, char *err, size_t errlen)
{
    struct fixture *f = o;

    atomic_fetch_add(&f->powerdown_calls, 1);
    return lifecycle_note(f->lc, "POWERDOWN", NULL, err, errlen);
}

static int op_quit(void *o, char *err, size_t errlen)
{
    struct fixture *f = o;

    atomic_fetch_add(&f->quit_calls, 1);
    return fake_transition(f, GB_VM_SHUTTING_DOWN, "quit over QMP", err, errlen);
}

static unsigned op_ncpus(void *o)
{
    (void)o;
    return 2;
}

static void op_cpu_info(void *o, unsigned i, struct control_cpu_info *out)
{
    (void)o;
    *out = (struct control_cpu_info){ .index = i, .thread_id = 1000 + (int)i,
                                      .pc = 0x80000000ull + 4 * i, .priv = i ? 1 : 3,
                                      .halted = (int)i };
}

static int op_disas(void *o, uint64_t ppc, uint64_t vpc, unsigned max_insns, char (*lines)[96],
                    unsigned maxlines)
{
    unsigned n = max_insns < 3 ? max_insns : 3;

    (void)o, (void)ppc;
    for (unsigned i = 0; i < n && i < maxlines; i++)
        snprintf(lines[i], 96, "0x%llx  insn%u", (unsigned long long)(vpc + 4 * i), i);
    return (int)n;
}

static int op_symbol(void *o, uint64_t vpc, char *name, size_t len, uint64_t *off)
{
    (void)o;
    if (vpc < 0x80001000ull || vpc >= 0x80001100ull)
        return -ENOENT;
    snprintf(name, len, "hot_loop");
    *off = vpc - 0x80001000ull;
    return 0;
}

static struct json_object *op_numa(void *o)
{
    struct fixture *f = o;
    struct json_object *r;

    if (f->no_numa)
        return NULL;
    r = json_object_new_object();
    json_object_object_add(r, "nodes", json_object_new_int(1));
    return r;
}

static const struct control_ops fake_ops = {
    .pause = op_pause, .resume = op_resume, .reset = op_reset, .powerdown = op_powerdown,
    .quit = op_quit, .ncpus = op_ncpus, .cpu_info = op_cpu_info, .disas = op_disas,
    .symbol = op_symbol, .query_numa = op_numa,
};

static void *sec_rec(struct gb_stats_header *h, unsigned sec, unsigned i)
{
    return (uint8_t *)h + h->sections[sec].offset + (uint64_t)i * h->sections[sec].stride;
}

/* The sampler does not run: the test is the single writer of these. */
static void publish_stats(struct fixture *f)
{
    struct gb_stats_header *h = stats_header(f->stats);
    struct gb_stats_vcpu v = { .index = 1, .priv = 1, .pc = 0x80001234ull, .instret = 12345,
                               .online = 1, .itlb_lookups = 10, .itlb_hits = 9,
                               .jit_insns = 101, .jit_region_blocks = 102,
                               .jit_evictions = 103, .jit_cache_loads = 104,
                               .jit_cache_rejects = 105, .jit_chain_hits = 106 };
    struct gb_stats_device d = { .present = 1, .requests = 7, .bytes_in = 4096 };
    struct gb_stats_hot_list l = { .kind = GB_STATS_HOT_TOTAL, .count = 3,
                                   .window_insns = 1000000, .sample_mono_ns = 42 };

    gb_stats_seq_store(sec_rec(h, GB_STATS_SEC_VCPU, 1), &v, sizeof(v));
    snprintf(d.name, sizeof(d.name), "virtio-blk0");
    gb_stats_seq_store(sec_rec(h, GB_STATS_SEC_DEVICE, 0), &d, sizeof(d));
    l.b[0] = (struct gb_stats_hot_block){ .vpc = 0x80001010ull, .ppc = 0x80001010ull,
                                          .execs = 5000, .insns = 40000, .ninsns = 8,
                                          .share_ppm = 40000, .guest_bytes = 32 };
    l.b[1] = (struct gb_stats_hot_block){ .vpc = 0, .ppc = 0x80003000ull, .execs = 100,
                                          .insns = 300, .ninsns = 3, .share_ppm = 300,
                                          .flags = GB_STATS_HOT_VPC_UNKNOWN, .hart = 1 };
    l.b[2] = (struct gb_stats_hot_block){ .vpc = 0xffffffff80002000ull, .ppc = 0x80002000ull,
                                          .execs = 10, .insns = 20, .ninsns = 2, .tier = 1,
                                          .code_bytes = 64, .compile_ns = 1500 };
    gb_stats_seq_store(sec_rec(h, GB_STATS_SEC_HOT, GB_STATS_HOT_TOTAL), &l, sizeof(l));
    l.kind = GB_STATS_HOT_RECENT;
    l.count = 1;
    l.window_ns = 1000000000ull;
    gb_stats_seq_store(sec_rec(h, GB_STATS_SEC_HOT, GB_STATS_HOT_RECENT), &l, sizeof(l));
}

static int fixture_start(struct fixture *f, int with_stats, const char *socket_path)
{
    struct lifecycle_config lcc = { .on_event = on_event, .opaque = f };
    struct stats_config sc = { .arch = "riscv64", .accel = "tcg", .machine = "virt, qmp test",
                               .nvcpus = 2, .ram_base = 0x80000000ull, .ram_bytes = 64 << 20 };
    struct control_config cc = { .ops = &fake_ops, .opaque = f };
    struct control *ctl;
    char err[256] = "";

    lcc.vm_name = sc.name = cc.vm_name = f->name;
    if (with_stats && stats_create(&f->stats, &sc, err, sizeof(err)) != 0)
        fail_msg("stats_create: %s", err);
    if (f->stats)
        publish_stats(f);
    if (lifecycle_create(&f->lc, &lcc, err, sizeof(err)) != 0)
        fail_msg("lifecycle_create: %s", err);
    cc.lc = f->lc;
    cc.stats = f->stats;
    cc.socket_path = socket_path;
    if (control_start(&ctl, &cc, err, sizeof(err)) != 0)
        fail_msg("control_start: %s", err);
    atomic_store(&f->ctl, ctl);
    return 0;
}

static int setup_common(void **state, int with_stats)
{
    struct fixture *f = calloc(1, sizeof(*f));
    static unsigned seq;

    snprintf(f->name, sizeof(f->name), "qmptest-%d-%u", (int)getpid(), seq++);
    snprintf(f->dir, sizeof(f->dir), "/tmp/%s", f->name);
    snprintf(f->path, sizeof(f->path), "%s/sub/vm.sock", f->dir);
    mkdir(f->dir, 0700);
    fixture_start(f, with_stats, f->path);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_common(state, 1);
}

static int setup_no_stats(void **state)
{
    return setup_common(state, 0);
}

static void fixture_stop(struct fixture *f)
{
    struct control *c = atomic_exchange(&f->ctl, NULL);

    control_stop(c);
    if (f->lc)
        lifecycle_destroy(f->lc);
    if (f->stats)
        stats_destroy(f->stats);
    f->lc = NULL;
    f->stats = NULL;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char sub[256];

    fixture_stop(f);
    snprintf(sub, sizeof(sub), "%s/sub", f->dir);
    rmdir(sub);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void go(struct fixture *f, enum gb_vm_state to)
{
    char err[256];

    if (lifecycle_transition(f->lc, to, NULL, err, sizeof(err)) != 0)
        fail_msg("transition: %s", err);
}

/* ---- a raw QMP client ---------------------------------------------------------- */

struct rc {
    int fd;
    struct json_tokener *tok;
    struct json_object *q[256];     /* parsed, not yet taken */
    unsigned n;
    int eof;
};

static int raw_connect(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        fail_msg("connect %s: %s", path, strerror(errno));
    return fd;
}

static void rc_open(struct rc *c, const char *path)
{
    memset(c, 0, sizeof(*c));
    c->fd = raw_connect(path);
    c->tok = json_tokener_new();
}

static void rc_close(struct rc *c)
{
    for (unsigned i = 0; i < c->n; i++)
        json_object_put(c->q[i]);
    if (c->fd >= 0)
        close(c->fd);
    json_tokener_free(c->tok);
    c->fd = -1;
    c->n = 0;
}

static void rc_send_len(struct rc *c, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t w = send(c->fd, p, len, MSG_NOSIGNAL);
        if (w <= 0)
            fail_msg("send: %s", strerror(errno));
        p += w;
        len -= (size_t)w;
    }
}

static void rc_send(struct rc *c, const char *s)
{
    rc_send_len(c, s, strlen(s));
}

/* Read until at least one more object is queued or timeout/EOF. */
static int rc_fill(struct rc *c, int timeout_ms)
{
    unsigned before = c->n;

    while (c->n == before && !c->eof) {
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        char buf[65536];
        ssize_t n;
        size_t off = 0;

        if (poll(&p, 1, timeout_ms) <= 0)
            return -ETIMEDOUT;
        n = recv(c->fd, buf, sizeof(buf), 0);
        if (n <= 0) {
            c->eof = 1;
            break;
        }
        while (off < (size_t)n) {
            if (buf[off] == '\r' || buf[off] == '\n') {
                off++;
                continue;
            }
            struct json_object *o = json_tokener_parse_ex(c->tok, buf + off, (int)(n - off));
            enum json_tokener_error e = json_tokener_get_error(c->tok);
            if (e == json_tokener_continue)
                break;
            if (e != json_tokener_success)
                fail_msg("server sent bad JSON: %s", json_tokener_error_desc(e));
            off += json_tokener_get_parse_end(c->tok);
            json_tokener_reset(c->tok);
            assert_true(c->n < 256);
            c->q[c->n++] = o;
        }
    }
    return c->n > before ? 0 : -ECONNRESET;
}

static struct json_object *take(struct rc *c, unsigned i)
{
    struct json_object *o = c->q[i];

    memmove(&c->q[i], &c->q[i + 1], (c->n - i - 1) * sizeof(c->q[0]));
    c->n--;
    return o;
}

static int is_event(struct json_object *o)
{
    return json_object_object_get_ex(o, "event", NULL);
}

/* The next message that is not an event (events stay queued). */
static struct json_object *rc_reply(struct rc *c)
{
    for (;;) {
        for (unsigned i = 0; i < c->n; i++)
            if (!is_event(c->q[i]))
                return take(c, i);
        if (rc_fill(c, TIMEOUT_MS) < 0)
            fail_msg("no reply from the server");
    }
}

/* The next event called name, or NULL after timeout_ms. Other events
 * before it are dropped. */
static struct json_object *rc_event(struct rc *c, const char *name, int timeout_ms)
{
    for (;;) {
        for (unsigned i = 0; i < c->n; i++) {
            struct json_object *ev;
            if (!json_object_object_get_ex(c->q[i], "event", &ev))
                continue;
            if (!strcmp(json_object_get_string(ev), name))
                return take(c, i);
        }
        if (rc_fill(c, timeout_ms) < 0)
            return NULL;
    }
}

/* The first event queued or arriving within timeout_ms. */
static struct json_object *rc_any_event(struct rc *c, int timeout_ms)
{
    for (;;) {
        for (unsigned i = 0; i < c->n; i++)
            if (is_event(c->q[i]))
                return take(c, i);
        if (rc_fill(c, timeout_ms) < 0)
            return NULL;
    }
}

static struct json_object *rc_cmd(struct rc *c, const char *json)
{
    rc_send(c, json);
    rc_send(c, "\n");
    return rc_reply(c);
}

static struct json_object *get(struct json_object *o, const char *path)
{
    char key[64];
    const char *dot;

    while (o && (dot = strchr(path, '.'))) {
        snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
        if (!json_object_object_get_ex(o, key, &o))
            return NULL;
        path = dot + 1;
    }
    return o && json_object_object_get_ex(o, path, &o) ? o : NULL;
}

static const char *sget(struct json_object *o, const char *path)
{
    struct json_object *v = get(o, path);

    if (!v || !json_object_is_type(v, json_type_string))
        fail_msg("no string at '%s' in %s", path, json_object_to_json_string(o));
    return json_object_get_string(v);
}

static int64_t iget(struct json_object *o, const char *path)
{
    struct json_object *v = get(o, path);

    if (!v || !json_object_is_type(v, json_type_int))
        fail_msg("no integer at '%s' in %s", path, json_object_to_json_string(o));
    return json_object_get_int64(v);
}

static uint64_t uget(struct json_object *o, const char *path)
{
    struct json_object *v = get(o, path);

    if (!v || !json_object_is_type(v, json_type_int))
        fail_msg("no integer at '%s' in %s", path, json_object_to_json_string(o));
    return json_object_get_uint64(v);
}

static int bget(struct json_object *o, const char *path)
{
    struct json_object *v = get(o, path);

    if (!v || !json_object_is_type(v, json_type_boolean))
        fail_msg("no boolean at '%s' in %s", path, json_object_to_json_string(o));
    return json_object_get_boolean(v);
}

static void expect_error(struct json_object *r, const char *cls, const char *desc_part)
{
    if (!get(r, "error"))
        fail_msg("expected an error, got %s", json_object_to_json_string(r));
    assert_string_equal(sget(r, "error.class"), cls);
    if (!strstr(sget(r, "error.desc"), desc_part))
        fail_msg("error '%s' lacks '%s'", sget(r, "error.desc"), desc_part);
    assert_int_equal(json_object_object_length(r), get(r, "id") ? 2 : 1);
    assert_int_equal(json_object_object_length(get(r, "error")), 2);
    json_object_put(r);
}

/* A reply that is {"return": ...}; returns the value (caller puts). */
static struct json_object *expect_return(struct json_object *r)
{
    struct json_object *v = get(r, "return");

    if (!v)
        fail_msg("expected a return, got %s", json_object_to_json_string(r));
    json_object_get(v);
    json_object_put(r);
    return v;
}

static void expect_empty_return(struct json_object *r)
{
    struct json_object *v = expect_return(r);

    assert_true(json_object_is_type(v, json_type_object));
    assert_int_equal(json_object_object_length(v), 0);
    json_object_put(v);
}

static void negotiate(struct rc *c)
{
    json_object_put(rc_reply(c));      /* greeting */
    expect_empty_return(rc_cmd(c, "{\"execute\": \"qmp_capabilities\"}"));
}

static void open_negotiated(struct rc *c, const struct fixture *f)
{
    rc_open(c, f->path);
    negotiate(c);
}

/* ---- tests ------------------------------------------------------------------- */

static void test_greeting_and_negotiation(void **state)
{
    struct fixture *f = *state;
    struct json_object *g, *caps;
    struct stat st;
    struct rc c;

    /* the socket is private: 0600 in a 0700 directory */
    assert_int_equal(stat(f->path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_string_equal(control_socket_path(atomic_load(&f->ctl)), f->path);
    {
        char sub[256];
        snprintf(sub, sizeof(sub), "%s/sub", f->dir);
        assert_int_equal(stat(sub, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
    }

    rc_open(&c, f->path);
    g = rc_reply(&c);
    assert_int_equal(json_object_object_length(g), 1);
    assert_true(iget(g, "QMP.version.qemu.major") >= 0);
    assert_true(iget(g, "QMP.version.qemu.minor") >= 0);
    assert_true(iget(g, "QMP.version.qemu.micro") >= 0);
    assert_true(!strncmp(sget(g, "QMP.version.package"), "glassbox ", 9));
    caps = get(g, "QMP.capabilities");
    assert_non_null(caps);
    assert_true(json_object_is_type(caps, json_type_array));
    assert_int_equal(json_object_array_length(caps), 0);
    json_object_put(g);

    /* negotiation mode: everything but qmp_capabilities is refused */
    expect_error(rc_cmd(&c, "{\"execute\": \"query-status\"}"), "CommandNotFound",
                 "Expecting capabilities negotiation with 'qmp_capabilities'");
    expect_error(rc_cmd(&c, "{\"execute\": \"no-such-command\"}"), "CommandNotFound",
                 "Expecting capabilities negotiation with 'qmp_capabilities'");
    expect_error(rc_cmd(&c, "{\"execute\": \"qmp_capabilities\", \"arguments\": "
                        "{\"enable\": [\"oob\"]}}"), "GenericError",
                 "Capability 'oob' not available");
    expect_error(rc_cmd(&c, "{\"execute\": \"qmp_capabilities\", \"arguments\": "
                        "{\"enable\": \"oob\"}}"), "GenericError",
                 "Invalid parameter type for 'enable', expected: array");
    /* the capability command with an id */
    g = rc_cmd(&c, "{\"execute\": \"qmp_capabilities\", \"id\": \"neg-1\"}");
    assert_string_equal(sget(g, "id"), "neg-1");
    expect_empty_return(g);
    expect_error(rc_cmd(&c, "{\"execute\": \"qmp_capabilities\"}"), "CommandNotFound",
                 "Capabilities negotiation is already complete, command ignored");
    expect_error(rc_cmd(&c, "{\"execute\": \"no-such-command\"}"), "CommandNotFound",
                 "The command no-such-command has not been found");
    json_object_put(expect_return(rc_cmd(&c, "{\"execute\": \"query-status\"}")));
    rc_close(&c);
}

static void test_queries(void **state)
{
    struct fixture *f = *state;
    struct json_object *r, *a, *o;
    struct rc c;

    open_negotiated(&c, f);
    /* created = QEMU's prelaunch */
    r = expect_return(rc_cmd(&c, "{\"execute\": \"query-status\"}"));
    assert_string_equal(sget(r, "status"), "prelaunch");
    assert_false(bget(r, "running"));
    assert_false(bget(r, "singlestep"));
    json_object_put(r);
    go(f, GB_VM_RUNNING);
    r = expect_return(rc_cmd(&c, "{\"execute\": \"query-status\"}"));
    assert_string_equal(sget(r, "status"), "running");
    assert_true(bget(r, "running"));
    assert_int_equal(json_object_object_length(r), 3);
    json_object_put(r);

    r = expect_return(rc_cmd(&c, "{\"execute\": \"query-name\"}"));
    assert_string_equal(sget(r, "name"), f->name);
    json_object_put(r);

    r = expect_return(rc_cmd(&c, "{\"execute\": \"query-version\"}"));
    assert_true(iget(r, "qemu.major") >= 0);
    assert_true(!strncmp(sget(r, "package"), "glassbox ", 9));
    json_object_put(r);

    /* every command of glassbox-qmp(7), each once */
    static const char *const all[] = {
        "qmp_capabilities", "query-commands", "query-version", "query-status", "query-name",
        "query-cpus-fast", "stop", "cont", "system_reset", "system_powerdown", "quit",
        "query-stats", "query-hot-blocks", "query-numa",
    };
    a = expect_return(rc_cmd(&c, "{\"execute\": \"query-commands\"}"));
    assert_int_equal(json_object_array_length(a), sizeof(all) / sizeof(all[0]));
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        size_t hits = 0;
        for (size_t j = 0; j < json_object_array_length(a); j++)
            hits += !strcmp(sget(json_object_array_get_idx(a, j), "name"), all[i]);
        if (hits != 1)
            fail_msg("query-commands lists '%s' %zu times", all[i], hits);
    }
    json_object_put(a);

    a = expect_return(rc_cmd(&c, "{\"execute\": \"query-cpus-fast\"}"));
    assert_int_equal(json_object_array_length(a), 2);
    for (int i = 0; i < 2; i++) {
        char qom[64];
        o = json_object_array_get_idx(a, i);
        assert_int_equal(iget(o, "cpu-index"), i);
        assert_int_equal(iget(o, "thread-id"), 1000 + i);
        assert_string_equal(sget(o, "target"), "riscv64");
        snprintf(qom, sizeof(qom), "/machine/soc0/harts[%d]", i);
        assert_string_equal(sget(o, "qom-path"), qom);
        assert_int_equal(uget(o, "pc"), 0x80000000ull + 4 * (unsigned)i);
        assert_int_equal(iget(o, "priv"), i ? 1 : 3);
        assert_int_equal(bget(o, "halted"), i);
    }
    json_object_put(a);

    r = expect_return(rc_cmd(&c, "{\"execute\": \"query-numa\"}"));
    assert_int_equal(iget(r, "nodes"), 1);
    json_object_put(r);
    f->no_numa = 1;
    expect_error(rc_cmd(&c, "{\"execute\": \"query-numa\"}"), "GenericError", "no NUMA report");

    /* query-stats: identity, status, the published vCPU and device */
    r = expect_return(rc_cmd(&c, "{\"execute\": \"query-stats\"}"));
    assert_string_equal(sget(r, "name"), f->name);
    assert_string_equal(sget(r, "arch"), "riscv64");
    assert_string_equal(sget(r, "accel"), "tcg");
    assert_string_equal(sget(r, "machine"), "virt, qmp test");
    assert_int_equal(iget(r, "abi.major"), GB_STATS_ABI_MAJOR);
    assert_int_equal(iget(r, "pid"), getpid());
    assert_string_equal(sget(r, "status.state"), "running");
    assert_string_equal(sget(r, "status.prev-state"), "created");
    a = get(r, "vcpus");
    assert_non_null(a);
    assert_int_equal(json_object_array_length(a), 2);
    o = json_object_array_get_idx(a, 1);
    assert_int_equal(iget(o, "index"), 1);
    assert_int_equal(uget(o, "instret"), 12345);
    assert_int_equal(uget(o, "pc"), 0x80001234ull);
    assert_int_equal(uget(o, "itlb.lookups"), 10);
    assert_int_equal(uget(o, "itlb.hits"), 9);
    assert_int_equal(json_object_array_length(get(o, "exceptions")), 16);
    assert_non_null(get(o, "block-cache.hits"));
    assert_non_null(get(o, "jit.blocks-by-tier"));
    /* the JIT tier's counters (ABI 1.2), each from its own field */
    static const char *const tier_keys[] = {
        "jit.insns", "jit.region-blocks", "jit.evictions",
        "jit.cache-loads", "jit.cache-rejects", "jit.chain-hits",
    };
    for (unsigned k = 0; k < sizeof(tier_keys) / sizeof(tier_keys[0]); k++)
        assert_int_equal(uget(o, tier_keys[k]), 101 + k);
    assert_int_equal(iget(r, "abi.minor"), GB_STATS_ABI_MINOR);
    a = get(r, "devices");
    assert_int_equal(json_object_array_length(a), 1);
    o = json_object_array_get_idx(a, 0);
    assert_string_equal(sget(o, "name"), "virtio-blk0");
    assert_int_equal(uget(o, "requests"), 7);
    assert_int_equal(uget(o, "bytes-in"), 4096);
    assert_int_equal(uget(r, "memory.ram-bytes"), 64u << 20);
    assert_int_equal(uget(r, "memory.ram-base"), 0x80000000ull);
    assert_non_null(get(r, "heartbeat-ns"));
    json_object_put(r);

    /* ids of any JSON type come back as they were */
    static const char *const ids[] = { "\"abc\"", "17", "{\"k\": [1, 2]}", "null", "[true]" };
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        char req[128];
        struct json_object *want = json_tokener_parse(ids[i]);
        snprintf(req, sizeof(req), "{\"id\": %s, \"execute\": \"query-name\"}", ids[i]);
        r = rc_cmd(&c, req);
        if (want)
            assert_true(json_object_equal(get(r, "id"), want));
        json_object_put(want);
        json_object_put(expect_return(r));
    }
    rc_close(&c);
}

static void expect_event(struct rc *c, const char *name, int with_data)
{
    struct json_object *ev = rc_event(c, name, TIMEOUT_MS);

    if (!ev)
        fail_msg("no %s event", name);
    assert_true(iget(ev, "timestamp.seconds") > 1000000000);
    assert_true(iget(ev, "timestamp.microseconds") >= 0 &&
                iget(ev, "timestamp.microseconds") < 1000000);
    assert_int_equal(get(ev, "data") != NULL, with_data);
    json_object_put(ev);
}

static void expect_cause(struct rc *c, const char *name, int guest, const char *reason)
{
    struct json_object *ev = rc_event(c, name, TIMEOUT_MS);

    if (!ev)
        fail_msg("no %s event", name);
    assert_int_equal(bget(ev, "data.guest"), guest);
    assert_string_equal(sget(ev, "data.reason"), reason);
    json_object_put(ev);
}

static void expect_no_event(struct rc *c, int timeout_ms)
{
    struct json_object *ev = rc_any_event(c, timeout_ms);

    if (ev)
        fail_msg("unexpected event %s", json_object_to_json_string(ev));
}

static void test_stop_cont_events(void **state)
{
    struct fixture *f = *state;
    struct rc c[3], raw;
    struct json_object *r;

    for (int i = 0; i < 3; i++)
        open_negotiated(&c[i], f);
    rc_open(&raw, f->path);     /* never negotiates: gets no events */
    json_object_put(rc_reply(&raw));

    /* created -> running is START, not a QMP event */
    go(f, GB_VM_RUNNING);
    expect_no_event(&c[0], 200);

    expect_empty_return(rc_cmd(&c[1], "{\"execute\": \"stop\"}"));
    assert_int_equal(atomic_load(&f->pause_calls), 1);
    for (int i = 0; i < 3; i++)
        expect_event(&c[i], "STOP", 0);
    r = expect_return(rc_cmd(&c[0], "{\"execute\": \"query-status\"}"));
    assert_string_equal(sget(r, "status"), "paused");
    assert_false(bget(r, "running"));
    json_object_put(r);
    /* stop while paused: QEMU answers {} and does nothing */
    expect_empty_return(rc_cmd(&c[0], "{\"execute\": \"stop\"}"));
    assert_int_equal(atomic_load(&f->pause_calls), 1);

    expect_empty_return(rc_cmd(&c[2], "{\"execute\": \"cont\"}"));
    assert_int_equal(atomic_load(&f->resume_calls), 1);
    for (int i = 0; i < 3; i++)
        expect_event(&c[i], "RESUME", 0);
    expect_empty_return(rc_cmd(&c[2], "{\"execute\": \"cont\"}"));
    assert_int_equal(atomic_load(&f->resume_calls), 1);

    expect_empty_return(rc_cmd(&c[0], "{\"execute\": \"system_reset\"}"));
    assert_int_equal(atomic_load(&f->reset_calls), 1);
    for (int i = 0; i < 3; i++)
        expect_cause(&c[i], "RESET", 0, "host-qmp-system-reset");
    /* a reset the guest asked for */
    {
        char err[128];
        assert_int_equal(lifecycle_note(f->lc, "RESET", NULL, err, sizeof(err)), 0);
        expect_cause(&c[0], "RESET", 1, "guest-reset");
    }

    expect_empty_return(rc_cmd(&c[0], "{\"execute\": \"system_powerdown\"}"));
    assert_int_equal(atomic_load(&f->powerdown_calls), 1);
    expect_event(&c[1], "POWERDOWN", 0);

    /* a failing op is a GenericError carrying its message */
    f->fail_pause = 1;
    expect_error(rc_cmd(&c[0], "{\"execute\": \"stop\"}"), "GenericError", "fake pause failed");

    expect_empty_return(rc_cmd(&c[0], "{\"execute\": \"quit\"}"));
    assert_int_equal(atomic_load(&f->quit_calls), 1);
    for (int i = 0; i < 3; i++)
        expect_cause(&c[i], "SHUTDOWN", 0, "host-qmp-quit");
    r = expect_return(rc_cmd(&c[0], "{\"execute\": \"query-status\"}"));
    assert_string_equal(sget(r, "status"), "shutdown");
    json_object_put(r);
    expect_error(rc_cmd(&c[0], "{\"execute\": \"cont\"}"), "GenericError", "shutting-down");
    assert_int_equal(atomic_load(&f->resume_calls), 1);
    /* quit again is harmless */
    expect_empty_return(rc_cmd(&c[0], "{\"execute\": \"quit\"}"));
    assert_int_equal(atomic_load(&f->quit_calls), 1);

    /* the unnegotiated client saw none of it */
    expect_no_event(&raw, 100);
    for (int i = 0; i < 3; i++)
        rc_close(&c[i]);
    rc_close(&raw);
}

static void test_guest_shutdown_cause(void **state)
{
    struct fixture *f = *state;
    struct rc c;

    open_negotiated(&c, f);
    go(f, GB_VM_RUNNING);
    go(f, GB_VM_PAUSED);
    expect_event(&c, "STOP", 0);
    {
        char err[128];
        assert_int_equal(lifecycle_transition(f->lc, GB_VM_SHUTTING_DOWN, "host-signal: SIGTERM",
                                              err, sizeof(err)), 0);
    }
    expect_cause(&c, "SHUTDOWN", 0, "host-signal");
    /* shutting-down -> stopped has no QMP event */
    go(f, GB_VM_STOPPED);
    expect_no_event(&c, 200);
    rc_close(&c);
}

static void test_guest_poweroff_cause(void **state)
{
    struct fixture *f = *state;
    struct rc c;

    open_negotiated(&c, f);
    go(f, GB_VM_RUNNING);
    go(f, GB_VM_SHUTTING_DOWN);     /* no reason: the guest powered off */
    expect_cause(&c, "SHUTDOWN", 1, "guest-shutdown");
    rc_close(&c);
}

/* Each bad input is followed by a good command on the next line: the
 * bad one gets GenericError(s), the good one its reply. */
static void test_malformed(void **state)
{
    struct fixture *f = *state;
    struct rc c;
    static const struct {
        const char *in;
        size_t len;             /* 0: strlen */
        const char *desc;       /* expected in the first error */
    } cases[] = {
        { "{\"execute\": \"query-st", 0, "JSON parse error" },
        { "{\"execute\": \"query-name\"", 0, "JSON parse error" },
        { "garbage!", 0, "JSON parse error" },
        { "\x01\x02\x80\xfe\x7f", 0, "JSON parse error" },
        { "{\"exe\0cute\": 1}", 15, "JSON parse error" },
        { "{\"execute\": \"query-name\", \"x\": \0}", 33, "JSON parse error" },
        { "\"\xc3\x28\"", 0, "JSON parse error" },
        { "[1, 2, 3]", 0, "QMP input must be a JSON object" },
        { "42", 0, "QMP input must be a JSON object" },
        { "\"execute\"", 0, "QMP input must be a JSON object" },
        { "null", 0, "QMP input must be a JSON object" },
        { "{}", 0, "QMP input lacks member 'execute'" },
        { "{\"arguments\": {}}", 0, "QMP input lacks member 'execute'" },
        { "{\"execute\": 1}", 0, "QMP input member 'execute' must be a string" },
        { "{\"execute\": [\"stop\"]}", 0, "QMP input member 'execute' must be a string" },
        { "{\"execute\": \"query-name\", \"arguments\": []}", 0,
          "QMP input member 'arguments' must be an object" },
        { "{\"execute\": \"query-name\", \"arguments\": \"x\"}", 0,
          "QMP input member 'arguments' must be an object" },
        { "{\"execute\": \"query-name\", \"extra\": 1}", 0,
          "QMP input member 'extra' is unexpected" },
        { "{\"execute\": \"query-name\", \"arguments\": {\"x\": 1}}", 0,
          "Parameter 'x' is unexpected" },
        { "{\"execute\": \"query-hot-blocks\", \"arguments\": {\"count\": \"3\"}}", 0,
          "Invalid parameter type for 'count', expected: integer" },
        { "{\"execute\": \"query-hot-blocks\", \"arguments\": {\"count\": 1.5}}", 0,
          "Invalid parameter type for 'count', expected: integer" },
        { "{\"execute\": \"query-hot-blocks\", \"arguments\": {\"count\": -1}}", 0,
          "Parameter 'count' expects a value from 0" },
        { "{\"execute\": \"query-hot-blocks\", \"arguments\": {\"window\": 1}}", 0,
          "Invalid parameter type for 'window', expected: string" },
        { "{\"execute\": \"query-hot-blocks\", \"arguments\": {\"window\": \"soon\"}}", 0,
          "Parameter 'window' expects 'total' or 'recent'" },
        { "{\"execute\": \"query-hot-blocks\", \"arguments\": {\"disas\": true}}", 0,
          "Invalid parameter type for 'disas', expected: integer" },
        { "{\"execute\": \"query-hot-blocks\", \"arguments\": {\"disas\": 100000}}", 0,
          "Parameter 'disas' expects a value from 0 to 64" },
        { "{\"execute\": \"nope\"}", 0, "The command nope has not been found" },
        { "}}}]]]", 0, "JSON parse error" },
    };

    open_negotiated(&c, f);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
        struct json_object *r;
        int errors = 0;

        rc_send_len(&c, cases[i].in, len);
        rc_send(&c, "\n{\"execute\": \"query-name\", \"id\": \"ok\"}\n");
        for (;;) {
            r = rc_reply(&c);
            if (get(r, "return"))
                break;
            if (errors++ == 0 && !strstr(sget(r, "error.desc"), cases[i].desc))
                fail_msg("case %zu: error '%s' lacks '%s'", i, sget(r, "error.desc"),
                         cases[i].desc);
            assert_string_equal(sget(r, "error.class"), cases[i].desc[0] == 'T'
                                ? "CommandNotFound" : "GenericError");
            json_object_put(r);
        }
        if (!errors)
            fail_msg("case %zu ('%s') got no error", i, cases[i].in);
        assert_string_equal(sget(r, "id"), "ok");
        assert_string_equal(sget(r, "return.name"), f->name);
        json_object_put(r);
    }
    rc_close(&c);
}

/* Oversized and deep input: an error, and the connection lives on. */
static void test_hostile_sizes(void **state)
{
    struct fixture *f = *state;
    size_t big = 1u << 20;
    char *buf = malloc(big + 64);
    struct json_object *r;
    struct rc c;

    open_negotiated(&c, f);
    /* 10000 levels of nesting, of arrays and of objects: one error each */
    for (int k = 0; k < 2; k++) {
        memset(buf, k ? '[' : '{', 10000);
        if (!k)
            for (int i = 1; i < 10000; i += 6)
                memcpy(buf + i, "\"a\": {", 6);
        rc_send_len(&c, buf, 10000);
        rc_send(&c, "\n{\"execute\": \"query-name\", \"id\": 1}\n");
        expect_error(rc_reply(&c), "GenericError", "JSON parse error");
        r = rc_reply(&c);
        assert_int_equal(iget(r, "id"), 1);
        json_object_put(expect_return(r));
    }
    /* a 1 MiB string, sent in pieces */
    memcpy(buf, "{\"execute\": \"", 13);
    memset(buf + 13, 'a', big - 13);
    rc_send_len(&c, buf, big);
    rc_send(&c, "\"}\n{\"execute\": \"query-name\", \"id\": 2}\n");
    expect_error(rc_reply(&c), "GenericError", "larger than 65536");
    r = rc_reply(&c);
    assert_int_equal(iget(r, "id"), 2);
    json_object_put(expect_return(r));
    /* a megabyte of whitespace between commands is no message at all */
    memset(buf, ' ', big);
    rc_send_len(&c, buf, big);
    r = rc_cmd(&c, "{\"execute\": \"query-name\", \"id\": 3}");
    assert_int_equal(iget(r, "id"), 3);
    json_object_put(expect_return(r));
    /* several commands in one write, one command over many writes */
    rc_send(&c, "{\"execute\":\"query-name\",\"id\":4}{\"execute\":\"query-name\",\"id\":5}");
    for (int id = 4; id <= 5; id++) {
        r = rc_reply(&c);
        assert_int_equal(iget(r, "id"), id);
        json_object_put(expect_return(r));
    }
    {
        const char *msg = "{\"execute\": \"query-status\", \"id\": 6}";
        for (const char *p = msg; *p; p++) {
            rc_send_len(&c, p, 1);
            usleep(200);
        }
        r = rc_reply(&c);
        assert_int_equal(iget(r, "id"), 6);
        json_object_put(expect_return(r));
    }
    free(buf);
    rc_close(&c);
}

static void test_many_clients(void **state)
{
    struct fixture *f = *state;
    struct rc c[QMP_MAX_CLIENTS + 1];

    go(f, GB_VM_RUNNING);
    for (int i = 0; i < 8; i++)
        open_negotiated(&c[i], f);
    /* interleaved requests, each answered on its own connection */
    for (int i = 0; i < 8; i++) {
        char req[96];
        snprintf(req, sizeof(req), "{\"execute\": \"query-name\", \"id\": %d}\n", i);
        rc_send(&c[i], req);
    }
    for (int i = 7; i >= 0; i--) {
        struct json_object *r = rc_reply(&c[i]);
        assert_int_equal(iget(r, "id"), i);
        json_object_put(expect_return(r));
    }
    expect_empty_return(rc_cmd(&c[3], "{\"execute\": \"stop\"}"));
    for (int i = 0; i < 8; i++)
        expect_event(&c[i], "STOP", 0);
    /* fill up to the limit; one more is turned away with an error */
    for (int i = 8; i < QMP_MAX_CLIENTS; i++)
        open_negotiated(&c[i], f);
    rc_open(&c[QMP_MAX_CLIENTS], f->path);
    expect_error(rc_reply(&c[QMP_MAX_CLIENTS]), "GenericError", "too many QMP clients");
    assert_int_equal(rc_fill(&c[QMP_MAX_CLIENTS], TIMEOUT_MS), -ECONNRESET);
    rc_close(&c[QMP_MAX_CLIENTS]);
    {
        struct qmp_client *qc = NULL;
        char err[256];
        assert_int_equal(qmp_client_open(&qc, f->path, TIMEOUT_MS, err, sizeof(err)),
                         -EREMOTEIO);
        assert_string_equal(err, "GenericError: too many QMP clients");
        assert_null(qc);
    }
    /* one leaves, a new one fits */
    rc_close(&c[0]);
    for (int t = 0; t < 500 && qmp_server_clients(control_server(f->ctl)) >= QMP_MAX_CLIENTS;
         t++)
        usleep(10000);
    open_negotiated(&c[0], f);
    for (int i = 0; i < QMP_MAX_CLIENTS; i++)
        rc_close(&c[i]);
}

static void wait_clients_at(struct fixture *f, unsigned n, int line)
{
    for (int t = 0; t < 1000 && qmp_server_clients(control_server(f->ctl)) != n; t++)
        usleep(10000);
    if (qmp_server_clients(control_server(f->ctl)) != n)
        fail_msg("line %d: clients: %u, want %u", line,
                 qmp_server_clients(control_server(f->ctl)), n);
}

#define wait_clients(f, n) wait_clients_at(f, n, __LINE__)

static void test_vanishing_clients(void **state)
{
    struct fixture *f = *state;
    struct json_object *r;
    struct rc c, keep;

    go(f, GB_VM_RUNNING);
    open_negotiated(&keep, f);
    /* sends stop and leaves before the reply */
    open_negotiated(&c, f);
    rc_send(&c, "{\"execute\": \"stop\"}\n");
    rc_close(&c);
    /* leaves in the middle of a command */
    open_negotiated(&c, f);
    rc_send(&c, "{\"execute\": \"query-st");
    rc_close(&c);
    /* asks for a big reply and leaves */
    open_negotiated(&c, f);
    rc_send(&c, "{\"execute\": \"query-stats\"}\n");
    shutdown(c.fd, SHUT_RDWR);
    rc_close(&c);
    wait_clients(f, 1);
    expect_event(&keep, "STOP", 0);
    r = expect_return(rc_cmd(&keep, "{\"execute\": \"query-status\"}"));
    assert_string_equal(sget(r, "status"), "paused");
    json_object_put(r);
    assert_int_equal(atomic_load(&f->pause_calls), 1);

    /* never reads: dropped once its queued output passes the cap */
    open_negotiated(&c, f);
    {
        const char req[] = "{\"execute\": \"query-stats\"}\n";
        char *flood = malloc(sizeof(req) * 20000);
        for (int i = 0; i < 20000; i++)
            memcpy(flood + i * (sizeof(req) - 1), req, sizeof(req) - 1);
        /* the server drops us partway: a failed send is fine */
        size_t total = (sizeof(req) - 1) * 20000, off = 0;
        while (off < total) {
            ssize_t w = send(c.fd, flood + off, total - off, MSG_NOSIGNAL);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        free(flood);
    }
    wait_clients(f, 1);
    rc_close(&c);
    r = expect_return(rc_cmd(&keep, "{\"execute\": \"query-name\"}"));
    assert_string_equal(sget(r, "name"), f->name);
    json_object_put(r);
    rc_close(&keep);
}

static void test_hot_blocks(void **state)
{
    struct fixture *f = *state;
    struct json_object *r, *a, *b;
    struct rc c;

    open_negotiated(&c, f);
    r = expect_return(rc_cmd(&c, "{\"execute\": \"query-hot-blocks\"}"));
    assert_string_equal(sget(r, "window"), "total");
    assert_int_equal(uget(r, "window-ns"), 0);
    assert_int_equal(uget(r, "window-insns"), 1000000);
    assert_int_equal(uget(r, "sample-ns"), 42);
    a = get(r, "blocks");
    assert_int_equal(json_object_array_length(a), 3);
    b = json_object_array_get_idx(a, 0);
    assert_int_equal(iget(b, "hart"), 0);
    assert_int_equal(uget(b, "vpc"), 0x80001010ull);
    assert_int_equal(uget(b, "ppc"), 0x80001010ull);
    assert_true(bget(b, "vpc-known"));
    assert_int_equal(uget(b, "execs"), 5000);
    assert_int_equal(uget(b, "insns"), 40000);
    assert_int_equal(uget(b, "ninsns"), 8);
    assert_int_equal(uget(b, "share-ppm"), 40000);
    assert_int_equal(iget(b, "tier"), 0);
    assert_int_equal(uget(b, "guest-bytes"), 32);
    assert_string_equal(sget(b, "symbol"), "hot_loop+0x10");
    assert_null(get(b, "disas"));
    b = json_object_array_get_idx(a, 1);
    assert_false(bget(b, "vpc-known"));
    assert_int_equal(iget(b, "hart"), 1);
    assert_null(get(b, "symbol"));
    b = json_object_array_get_idx(a, 2);
    assert_int_equal(uget(b, "vpc"), 0xffffffff80002000ull);
    assert_int_equal(iget(b, "tier"), 1);
    assert_int_equal(uget(b, "code-bytes"), 64);
    assert_int_equal(uget(b, "compile-ns"), 1500);
    assert_null(get(b, "symbol"));
    json_object_put(r);

    r = expect_return(rc_cmd(&c, "{\"execute\": \"query-hot-blocks\", \"arguments\": "
                             "{\"window\": \"total\", \"count\": 2, \"disas\": 2}}"));
    a = get(r, "blocks");
    assert_int_equal(json_object_array_length(a), 2);
    b = get(json_object_array_get_idx(a, 0), "disas");
    assert_int_equal(json_object_array_length(b), 2);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(b, 0)),
                        "0x80001010  insn0");
    assert_string_equal(json_object_get_string(json_object_array_get_idx(b, 1)),
                        "0x80001014  insn1");
    /* an unknown vpc is displayed at its physical address */
    b = get(json_object_array_get_idx(a, 1), "disas");
    assert_string_equal(json_object_get_string(json_object_array_get_idx(b, 0)),
                        "0x80003000  insn0");
    json_object_put(r);

    r = expect_return(rc_cmd(&c, "{\"execute\": \"query-hot-blocks\", \"arguments\": "
                             "{\"window\": \"recent\", \"count\": 0}}"));
    assert_string_equal(sget(r, "window"), "recent");
    assert_int_equal(json_object_array_length(get(r, "blocks")), 0);
    json_object_put(r);
    r = expect_return(rc_cmd(&c, "{\"execute\": \"query-hot-blocks\", \"arguments\": "
                             "{\"window\": \"recent\"}}"));
    assert_int_equal(uget(r, "window-ns"), 1000000000ull);
    assert_int_equal(json_object_array_length(get(r, "blocks")), 1);
    json_object_put(r);
    rc_close(&c);
}

static void test_no_stats(void **state)
{
    struct fixture *f = *state;
    struct rc c;

    open_negotiated(&c, f);
    expect_error(rc_cmd(&c, "{\"execute\": \"query-stats\"}"), "GenericError", "--no-stats");
    expect_error(rc_cmd(&c, "{\"execute\": \"query-hot-blocks\"}"), "GenericError",
                 "--no-stats");
    json_object_put(expect_return(rc_cmd(&c, "{\"execute\": \"query-status\"}")));
    rc_close(&c);
}

static void test_client_library(void **state)
{
    struct fixture *f = *state;
    struct json_object *ret = NULL, *ev, *args;
    struct qmp_client *qc;
    char err[256];
    int r;

    r = qmp_client_open(&qc, f->path, TIMEOUT_MS, err, sizeof(err));
    if (r != 0)
        fail_msg("qmp_client_open: %s", err);
    go(f, GB_VM_RUNNING);
    assert_int_equal(qmp_client_execute(qc, "query-status", NULL, &ret, TIMEOUT_MS, err,
                                        sizeof(err)), 0);
    assert_string_equal(sget(ret, "status"), "running");
    json_object_put(ret);

    r = qmp_client_execute(qc, "no-such", NULL, &ret, TIMEOUT_MS, err, sizeof(err));
    assert_int_equal(r, -EREMOTEIO);
    assert_null(ret);
    assert_string_equal(err, "CommandNotFound: The command no-such has not been found");
    args = json_tokener_parse("{\"count\": \"x\"}");
    r = qmp_client_execute(qc, "query-hot-blocks", args, &ret, TIMEOUT_MS, err, sizeof(err));
    json_object_put(args);
    assert_int_equal(r, -EREMOTEIO);
    assert_string_equal(err, "GenericError: Invalid parameter type for 'count', expected: "
                        "integer");

    /* events that arrive while a command runs are queued */
    assert_int_equal(qmp_client_next_event(qc, &ev), 0);
    assert_int_equal(qmp_client_execute(qc, "stop", NULL, &ret, TIMEOUT_MS, err, sizeof(err)),
                     0);
    json_object_put(ret);
    assert_int_equal(qmp_client_execute(qc, "cont", NULL, &ret, TIMEOUT_MS, err, sizeof(err)),
                     0);
    json_object_put(ret);
    assert_int_equal(qmp_client_next_event(qc, &ev), 1);
    assert_string_equal(sget(ev, "event"), "STOP");
    json_object_put(ev);
    for (int t = 0; t < 500 && !qmp_client_next_event(qc, &ev); t++)
        usleep(10000), ev = NULL;
    assert_non_null(ev);
    assert_string_equal(sget(ev, "event"), "RESUME");
    json_object_put(ev);
    assert_int_equal(qmp_client_next_event(qc, &ev), 0);

    /* the engine going away is -ECONNRESET, not a hang */
    fixture_stop(f);
    r = qmp_client_execute(qc, "query-status", NULL, &ret, TIMEOUT_MS, err, sizeof(err));
    assert_true(r == -ECONNRESET);
    qmp_client_close(qc);

    /* no such socket */
    r = qmp_client_open(&qc, f->path, TIMEOUT_MS, err, sizeof(err));
    assert_int_equal(r, -ENOENT);
    assert_null(qc);
}

/* The default location under $XDG_RUNTIME_DIR, open by name, a second
 * engine refused, a stale socket reclaimed, a non-socket left alone. */
static void test_socket_ownership(void **state)
{
    struct fixture *f = *state;
    char xdg[160], want[GB_CONTROL_PATH_MAX], err[256];
    struct control_config cc = { .vm_name = f->name, .ops = &fake_ops, .opaque = f };
    struct control *second = NULL;
    struct qmp_client *qc;
    struct json_object *ret;
    struct stat st;
    int r;

    /* replace the fixture's server with one at the default path */
    snprintf(xdg, sizeof(xdg), "%s/xdg", f->dir);
    mkdir(xdg, 0700);
    setenv("XDG_RUNTIME_DIR", xdg, 1);
    control_stop(atomic_exchange(&f->ctl, NULL));
    cc.lc = f->lc;
    cc.stats = f->stats;
    assert_int_equal(gb_control_path(want, sizeof(want), f->name), 0);
    assert_true(!strncmp(want, xdg, strlen(xdg)));
    /* glassbox's own directory: one of another user is refused, an open
     * one of ours is closed (0700) */
    snprintf(err, sizeof(err), "%s/glassbox", xdg);
    assert_int_equal(mkdir(err, 0755), 0);
    assert_int_equal(chmod(err, 0755), 0);
    if (getuid() == 0) {
        char msg[256];
        assert_int_equal(chown(err, 65534, 65534), 0);
        assert_int_equal(control_start(&second, &cc, msg, sizeof(msg)), -EPERM);
        assert_non_null(strstr(msg, "belongs to uid 65534"));
        assert_int_equal(chown(err, 0, 0), 0);
    }
    if (control_start(&second, &cc, err, sizeof(err)) != 0)
        fail_msg("control_start: %s", err);
    atomic_store(&f->ctl, second);
    assert_string_equal(control_socket_path(second), want);
    {
        char expect[256];
        snprintf(expect, sizeof(expect), "%s/glassbox/%s.sock", xdg, f->name);
        assert_string_equal(want, expect);
        snprintf(expect, sizeof(expect), "%s/glassbox", xdg);
        assert_int_equal(stat(expect, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
    }
    /* by name, as glassbox ctl does */
    r = qmp_client_open(&qc, f->name, TIMEOUT_MS, err, sizeof(err));
    if (r != 0)
        fail_msg("qmp_client_open by name: %s", err);
    assert_int_equal(qmp_client_execute(qc, "query-name", NULL, &ret, TIMEOUT_MS, err,
                                        sizeof(err)), 0);
    assert_string_equal(sget(ret, "name"), f->name);
    json_object_put(ret);
    qmp_client_close(qc);
    r = qmp_client_open(&qc, "no-such-vm", TIMEOUT_MS, err, sizeof(err));
    assert_int_equal(r, -ENOENT);
    assert_non_null(strstr(err, "no VM named 'no-such-vm'"));

    /* a second engine of the same name is refused */
    struct control *third = NULL;
    r = control_start(&third, &cc, err, sizeof(err));
    assert_int_equal(r, -EADDRINUSE);
    assert_null(third);
    assert_non_null(strstr(err, "in use by a running engine"));
    assert_int_equal(stat(want, &st), 0);   /* and left the socket alone */

    /* a socket whose engine died is reclaimed */
    control_stop(atomic_exchange(&f->ctl, NULL));
    assert_int_equal(stat(want, &st), -1);
    {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", want);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        close(fd);      /* the file stays, nobody listens */
    }
    assert_int_equal(control_start(&second, &cc, err, sizeof(err)), 0);
    atomic_store(&f->ctl, second);
    r = qmp_client_open(&qc, f->name, TIMEOUT_MS, err, sizeof(err));
    assert_int_equal(r, 0);
    qmp_client_close(qc);
    control_stop(atomic_exchange(&f->ctl, NULL));

    /* a directory the user chose is used as it is */
    {
        char open_dir[256], sock[300];
        struct control *chosen = NULL;
        snprintf(open_dir, sizeof(open_dir), "%s/open", f->dir);
        snprintf(sock, sizeof(sock), "%s/chosen.sock", open_dir);
        assert_int_equal(mkdir(open_dir, 0755), 0);
        assert_int_equal(chmod(open_dir, 0755), 0);
        cc.socket_path = sock;
        if (control_start(&chosen, &cc, err, sizeof(err)) != 0)
            fail_msg("control_start at %s: %s", sock, err);
        assert_int_equal(stat(open_dir, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0755);
        assert_int_equal(stat(sock, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        control_stop(chosen);
        assert_int_equal(stat(sock, &st), -1);  /* removed on the way out */
        rmdir(open_dir);
        cc.socket_path = NULL;
    }

    /* a regular file is not ours to remove */
    FILE *fp = fopen(want, "w");
    assert_non_null(fp);
    fclose(fp);
    r = control_start(&third, &cc, err, sizeof(err));
    assert_int_equal(r, -EEXIST);
    assert_non_null(strstr(err, "is not a socket"));
    unlink(want);
    snprintf(err, sizeof(err), "%s/glassbox", xdg);
    rmdir(err);
    rmdir(xdg);
    unsetenv("XDG_RUNTIME_DIR");

    /* fallback when XDG_RUNTIME_DIR is unusable */
    setenv("XDG_RUNTIME_DIR", "relative/dir", 1);
    assert_int_equal(gb_control_path(want, sizeof(want), "vm1"), 0);
    snprintf(err, sizeof(err), "/tmp/glassbox-%u/vm1.sock", (unsigned)getuid());
    assert_string_equal(want, err);
    unsetenv("XDG_RUNTIME_DIR");
    assert_int_equal(gb_control_path(want, sizeof(want), "vm1"), 0);
    assert_string_equal(want, err);
    assert_int_equal(gb_control_path(want, sizeof(want), "a/b"), -EINVAL);
    assert_int_equal(gb_control_path(want, sizeof(want), ""), -EINVAL);
    assert_int_equal(gb_control_path(want, 8, "vm1"), -ENAMETOOLONG);
}

/* The socket-less parser the fuzzer drives: same replies. */
static void test_detached_parser(void **state)
{
    struct fixture *f = *state;
    struct control_config cc = { .vm_name = f->name, .ops = &fake_ops, .opaque = f,
                                 .lc = f->lc, .stats = f->stats };
    struct control *d;
    struct qmp_conn *conn;
    const char *out;
    size_t len;
    char err[256];

    assert_int_equal(control_start_detached(&d, &cc, err, sizeof(err)), 0);
    assert_null(qmp_server_path(control_server(d)));
    conn = qmp_conn_new(control_server(d));
    out = qmp_conn_output(conn, &len);
    assert_non_null(strstr(out, "{\"QMP\":"));
    assert_string_equal(out + len - 2, "\r\n");
    qmp_conn_drain(conn);
    static const char in[] = "{\"execute\":\"query-name\"}\n{\"execute\":\"qmp_capabilities\"}"
                             "{\"execute\":\"query-name\",\"id\":9}";
    assert_int_equal(qmp_conn_feed(conn, in, sizeof(in) - 1), 0);
    out = qmp_conn_output(conn, &len);
    assert_non_null(strstr(out, "Expecting capabilities negotiation"));
    assert_non_null(strstr(out, "{\"return\":{}}"));
    assert_non_null(strstr(out, "\"id\":9"));
    qmp_conn_free(conn);
    control_stop(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_greeting_and_negotiation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_cont_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guest_shutdown_cause, setup, teardown),
        cmocka_unit_test_setup_teardown(test_guest_poweroff_cause, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vanishing_clients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hot_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_stats, setup_no_stats, teardown),
        cmocka_unit_test_setup_teardown(test_client_library, setup, teardown),
        cmocka_unit_test_setup_teardown(test_socket_ownership, setup, teardown),
        cmocka_unit_test_setup_teardown(test_detached_parser, setup, teardown),
    };

    unsetenv("XDG_RUNTIME_DIR");
    return cmocka_run_group_tests(tests, NULL, NULL);
}
