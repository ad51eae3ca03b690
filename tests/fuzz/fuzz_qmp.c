/* libFuzzer harness for the QMP server's per-connection parser and the
 * glassbox command set (engine/qmp.c, engine/control.c), without sockets:
 * the input is what a client writes, cut into reads at points the input's
 * first byte chooses. Beyond ASan/UBSan it checks that everything the
 * server sends back is a sequence of JSON objects, each CRLF-terminated
 * and each a greeting, a return, an error or an event.
 *
 * Build and run: see tests/fuzz/README (fuzz_qmp). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "control.h"
#include "glassbox/stats.h"
#include "lifecycle.h"
#include "qmp.h"
#include "stats.h"

static struct lifecycle *lc;
static struct stats *st;
static struct control *ctl;

/* pause and resume really move the lifecycle, so STOP/RESUME events and
 * the "already there" paths are reachable; quit does nothing so that the
 * state never becomes final across inputs. */
static int op_pause(void *o, char *err, size_t errlen)
{
    (void)o;
    return lifecycle_transition(lc, GB_VM_PAUSED, NULL, err, errlen);
}

static int op_resume(void *o, char *err, size_t errlen)
{
    (void)o;
    return lifecycle_transition(lc, GB_VM_RUNNING, NULL, err, errlen);
}

static int op_reset(void *o, char *err, size_t errlen)
{
    (void)o;
    return lifecycle_note(lc, "RESET", NULL, err, errlen);
}

static int op_fail(void *o, char *err, size_t errlen)
{
    (void)o;
    snprintf(err, errlen, "not in the fuzzer");
    return -1;
}

static unsigned op_ncpus(void *o)
{
    (void)o;
    return 2;
}

static void op_cpu_info(void *o, unsigned i, struct control_cpu_info *out)
{
    (void)o;
    *out = (struct control_cpu_info){ .index = i, .pc = 0x80000000ull + i };
}

static int op_disas(void *o, uint64_t ppc, uint64_t vpc, unsigned max_insns, char (*lines)[96],
                    unsigned maxlines)
{
    (void)o, (void)ppc;
    for (unsigned i = 0; i < max_insns && i < maxlines; i++)
        snprintf(lines[i], 96, "0x%llx  nop", (unsigned long long)(vpc + 4 * i));
    return (int)(max_insns < maxlines ? max_insns : maxlines);
}

static int op_symbol(void *o, uint64_t vpc, char *name, size_t len, uint64_t *off)
{
    (void)o;
    snprintf(name, len, "sym");
    *off = vpc & 0xff;
    return (vpc & 0x100) ? -2 : 0;
}

static const struct control_ops ops = {
    .pause = op_pause, .resume = op_resume, .reset = op_reset, .powerdown = op_fail,
    .quit = op_fail, .ncpus = op_ncpus, .cpu_info = op_cpu_info, .disas = op_disas,
    .symbol = op_symbol,
};

static void cleanup(void)
{
    control_stop(ctl);
    lifecycle_destroy(lc);
    stats_destroy(st);
}

static void publish_hot(void)
{
    struct gb_stats_header *h = stats_header(st);
    struct gb_stats_hot_list l = { .count = GB_STATS_HOT_N };

    for (unsigned i = 0; i < GB_STATS_HOT_N; i++)
        l.b[i] = (struct gb_stats_hot_block){ .vpc = 0x80000000ull + 0x80 * i,
                                              .ppc = 0x80000000ull + 0x80 * i, .execs = i,
                                              .flags = i % 3 ? 0 : GB_STATS_HOT_VPC_UNKNOWN };
    for (unsigned k = 0; k < 2; k++)
        gb_stats_seq_store((uint8_t *)h + h->sections[GB_STATS_SEC_HOT].offset +
                           k * h->sections[GB_STATS_SEC_HOT].stride, &l, sizeof(l));
}

/* control exists only after the lifecycle: read it at event time */
static void on_event(void *opaque, const struct lifecycle_event *ev)
{
    (void)opaque;
    control_on_lifecycle(ctl, ev);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char name[64], err[256];
    struct stats_config sc = { .arch = "riscv64", .accel = "tcg", .nvcpus = 2,
                               .ram_base = 0x80000000ull, .ram_bytes = 1 << 20 };
    struct lifecycle_config lcc = { .vm_name = "fuzz", .on_event = on_event };
    struct control_config cc = { .vm_name = "fuzz", .ops = &ops };

    (void)argc, (void)argv;
    snprintf(name, sizeof(name), "fuzzqmp-%d", (int)getpid());
    sc.name = name;
    if (stats_create(&st, &sc, err, sizeof(err)) < 0 ||
        lifecycle_create(&lc, &lcc, err, sizeof(err)) < 0) {
        fprintf(stderr, "fuzz_qmp: %s\n", err);
        abort();
    }
    publish_hot();
    cc.lc = lc;
    cc.stats = st;
    if (control_start_detached(&ctl, &cc, err, sizeof(err)) < 0) {
        fprintf(stderr, "fuzz_qmp: %s\n", err);
        abort();
    }
    lifecycle_transition(lc, GB_VM_RUNNING, NULL, err, sizeof(err));
    atexit(cleanup);
    return 0;
}

/* Every message: a JSON object ending in CRLF with one known top key. */
static void check_output(const char *out, size_t len)
{
    struct json_tokener *tok = json_tokener_new();
    size_t off = 0;

    while (off < len) {
        struct json_object *o = json_tokener_parse_ex(tok, out + off, (int)(len - off));
        size_t used = json_tokener_get_parse_end(tok);
        if (json_tokener_get_error(tok) != json_tokener_success || !o ||
            !json_object_is_type(o, json_type_object))
            abort();
        if (!json_object_object_get_ex(o, "QMP", NULL) &&
            !json_object_object_get_ex(o, "return", NULL) &&
            !json_object_object_get_ex(o, "error", NULL) &&
            !json_object_object_get_ex(o, "event", NULL))
            abort();
        json_object_put(o);
        json_tokener_reset(tok);
        /* json-c may have eaten the white space after the object */
        size_t end = off + used;
        while (end > off && (out[end - 1] == '\r' || out[end - 1] == '\n'))
            end--;
        if (len - end < 2 || memcmp(out + end, "\r\n", 2))
            abort();
        off = end + 2;
    }
    json_tokener_free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct qmp_conn *c;
    const char *out;
    size_t len, step;

    if (size == 0)
        return 0;
    step = (size_t)data[0] * 7 + 1;     /* read sizes from 1 to 1786 bytes */
    data++, size--;
    c = qmp_conn_new(control_server(ctl));
    if (!c)
        return 0;
    for (size_t off = 0; off < size; off += step) {
        size_t n = size - off < step ? size - off : step;
        int r = qmp_conn_feed(c, data + off, n);
        out = qmp_conn_output(c, &len);
        check_output(out, len);
        qmp_conn_drain(c);
        if (r < 0)
            break;
    }
    qmp_conn_free(c);
    /* back to running for the next input */
    if (lifecycle_state(lc) == GB_VM_PAUSED) {
        char err[128];
        lifecycle_transition(lc, GB_VM_RUNNING, NULL, err, sizeof(err));
    }
    return 0;
}
