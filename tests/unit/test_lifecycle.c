/*
 * Unit tests for engine/lifecycle.c: every allowed and every refused
 * transition (against a table written out here, independently of the
 * one in lifecycle.c), the event callback, the JSON-lines journal (each
 * line parsed with json-c, one fsync per event), parking vCPU threads
 * while paused, and concurrent transitions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "lifecycle.h"

/* Interposed fsync: counts calls per descriptor so the test can check
 * that every journal line was synced. */
static _Atomic unsigned fsync_calls;
int fsync(int fd)
{
    atomic_fetch_add(&fsync_calls, 1);
    return (int)syscall(SYS_fsync, fd);
}

#define C GB_VM_CREATED
#define R GB_VM_RUNNING
#define P GB_VM_PAUSED
#define SD GB_VM_SHUTTING_DOWN
#define ST GB_VM_STOPPED
#define E GB_VM_ERROR

/* expected[from][to]: 1 allowed */
static const int expected[GB_VM_STATE_COUNT][GB_VM_STATE_COUNT] = {
    [C] = { [R] = 1, [P] = 1, [SD] = 1, [E] = 1 },
    [R] = { [P] = 1, [SD] = 1, [E] = 1 },
    [P] = { [R] = 1, [SD] = 1, [E] = 1 },
    [SD] = { [ST] = 1, [E] = 1 },
};

static struct lifecycle *make(const char *log, lifecycle_event_fn fn, void *opaque)
{
    struct lifecycle_config cfg = { .vm_name = "vm1", .event_log = log, .on_event = fn,
                                    .opaque = opaque };
    struct lifecycle *lc;
    char err[256];

    if (lifecycle_create(&lc, &cfg, err, sizeof(err)) != 0)
        fail_msg("lifecycle_create: %s", err);
    return lc;
}

/* Drive a fresh lifecycle into state s along allowed transitions. */
static void reach(struct lifecycle *lc, int s)
{
    char err[256];
    static const int path[GB_VM_STATE_COUNT][3] = {
        [C] = { 0 }, [R] = { R }, [P] = { P }, [SD] = { SD }, [ST] = { SD, ST }, [E] = { E },
    };
    for (int i = 0; i < 3 && path[s][i]; i++)
        if (lifecycle_transition(lc, path[s][i], "test", err, sizeof(err)) != 0)
            fail_msg("reaching %s: %s", gb_vm_state_name((uint32_t)s), err);
    assert_int_equal(lifecycle_state(lc), s);
}

static void test_all_transitions(void **state)
{
    unsigned allowed = 0, refused = 0;
    (void)state;

    for (int from = C; from <= E; from++) {
        for (int to = C; to <= E; to++) {
            struct lifecycle *lc = make(NULL, NULL, NULL);
            struct lifecycle_status before, after;
            char err[256] = "";

            reach(lc, from);
            lifecycle_get(lc, &before);
            assert_int_equal(lifecycle_allowed(from, to), expected[from][to]);
            int r = lifecycle_transition(lc, to, "why", err, sizeof(err));
            lifecycle_get(lc, &after);
            if (expected[from][to]) {
                if (r != 0)
                    fail_msg("%s -> %s refused: %s", gb_vm_state_name((uint32_t)from),
                             gb_vm_state_name((uint32_t)to), err);
                assert_int_equal(after.state, to);
                assert_int_equal(after.prev, from);
                assert_true(after.since_mono_ns >= before.since_mono_ns);
                assert_string_equal(after.reason, "why");
                assert_non_null(lifecycle_event_name(from, to));
                allowed++;
            } else {
                char want[128];
                if (r != -EINVAL)
                    fail_msg("%s -> %s: got %d, want -EINVAL", gb_vm_state_name((uint32_t)from),
                             gb_vm_state_name((uint32_t)to), r);
                snprintf(want, sizeof(want), "cannot go from %s to %s",
                         gb_vm_state_name((uint32_t)from), gb_vm_state_name((uint32_t)to));
                assert_non_null(strstr(err, want));
                /* refused: nothing changed */
                assert_int_equal(after.state, before.state);
                assert_true(after.since_mono_ns == before.since_mono_ns);
                assert_null(lifecycle_event_name(from, to));
                refused++;
            }
            lifecycle_destroy(lc);
        }
    }
    assert_int_equal(allowed, 12);
    assert_int_equal(refused, 36 - 12);
    /* out-of-range states */
    assert_int_equal(lifecycle_allowed(0, R), 0);
    assert_int_equal(lifecycle_allowed(R, 99), 0);
}

static void test_error_needs_reason(void **state)
{
    struct lifecycle *lc = make(NULL, NULL, NULL);
    char err[256];
    (void)state;

    assert_int_equal(lifecycle_transition(lc, GB_VM_ERROR, NULL, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "needs a reason"));
    assert_int_equal(lifecycle_transition(lc, GB_VM_ERROR, "", err, sizeof(err)), -EINVAL);
    assert_int_equal(lifecycle_state(lc), GB_VM_CREATED);
    assert_int_equal(lifecycle_transition(lc, GB_VM_ERROR, "no RAM", err, sizeof(err)), 0);
    lifecycle_destroy(lc);
}

struct seen {
    char names[16][16];
    int from[16], to[16];
    unsigned n;
};

static void record(void *opaque, const struct lifecycle_event *ev)
{
    struct seen *s = opaque;

    if (s->n < 16) {
        snprintf(s->names[s->n], sizeof(s->names[0]), "%s", ev->event);
        s->from[s->n] = ev->from;
        s->to[s->n] = ev->to;
        s->n++;
    }
}

static void test_callback(void **state)
{
    struct seen s = { 0 };
    struct lifecycle *lc = make(NULL, record, &s);
    char err[256];
    (void)state;

    assert_int_equal(lifecycle_transition(lc, R, NULL, err, sizeof(err)), 0);
    assert_int_equal(lifecycle_transition(lc, P, NULL, err, sizeof(err)), 0);
    assert_int_equal(lifecycle_transition(lc, R, NULL, err, sizeof(err)), 0);
    assert_int_equal(lifecycle_note(lc, "RESET", "guest asked", err, sizeof(err)), 0);
    assert_int_equal(lifecycle_transition(lc, ST, NULL, err, sizeof(err)), -EINVAL);
    assert_int_equal(lifecycle_transition(lc, SD, NULL, err, sizeof(err)), 0);
    assert_int_equal(lifecycle_transition(lc, ST, NULL, err, sizeof(err)), 0);
    assert_int_equal(lifecycle_note(lc, "", NULL, err, sizeof(err)), -EINVAL);
    static const char *const want[] = { "START", "STOP", "RESUME", "RESET", "SHUTDOWN",
                                        "TERMINATED" };
    assert_int_equal(s.n, 6);
    for (unsigned i = 0; i < 6; i++)
        assert_string_equal(s.names[i], want[i]);
    assert_int_equal(s.from[3], R);
    assert_int_equal(s.to[3], R);
    lifecycle_destroy(lc);
}

/* ---- journal ----------------------------------------------------------------- */

static char *tmp_log(void)
{
    char *path = strdup("/tmp/gb-lifecycle-XXXXXX");
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    close(fd);
    unlink(path);       /* lifecycle creates it */
    return path;
}

/* Parse every line; check the fields and return the number of lines. */
static unsigned check_journal(const char *path, const char *const *events, unsigned nev)
{
    FILE *f = fopen(path, "r");
    char line[2048];
    unsigned n = 0;
    const char *prev_to = NULL;
    char prev_buf[32] = "";

    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        size_t len = strlen(line);
        assert_true(len > 0 && line[len - 1] == '\n');
        enum json_tokener_error jerr;
        json_object *o = json_tokener_parse_verbose(line, &jerr);
        if (!o)
            fail_msg("line %u is not JSON (%s): %s", n + 1, json_tokener_error_desc(jerr), line);
        json_object *ts, *vm, *ev, *from, *to, *reason;
        assert_true(json_object_object_get_ex(o, "ts", &ts));
        assert_true(json_object_is_type(ts, json_type_double));
        assert_true(json_object_get_double(ts) > 1.5e9);
        assert_true(json_object_object_get_ex(o, "vm", &vm));
        assert_string_equal(json_object_get_string(vm), "vm1");
        assert_true(json_object_object_get_ex(o, "event", &ev));
        assert_true(json_object_object_get_ex(o, "from", &from));
        assert_true(json_object_object_get_ex(o, "to", &to));
        assert_true(json_object_object_get_ex(o, "reason", &reason));
        assert_true(reason == NULL || json_object_is_type(reason, json_type_string));
        if (events && n < nev)
            assert_string_equal(json_object_get_string(ev), events[n]);
        /* a chain: each event starts where the previous ended, except
         * when a new engine appends to the same journal */
        if (prev_to && strcmp(json_object_get_string(from), "created") != 0)
            assert_string_equal(json_object_get_string(from), prev_to);
        snprintf(prev_buf, sizeof(prev_buf), "%s", json_object_get_string(to));
        prev_to = prev_buf;
        json_object_put(o);
        n++;
    }
    fclose(f);
    return n;
}

static void test_journal(void **state)
{
    char *path = tmp_log();
    struct lifecycle *lc = make(path, NULL, NULL);
    char err[256];
    unsigned f0 = atomic_load(&fsync_calls);
    (void)state;

    assert_int_equal(lifecycle_transition(lc, R, NULL, err, sizeof(err)), 0);
    assert_int_equal(atomic_load(&fsync_calls), f0 + 1);
    assert_int_equal(lifecycle_transition(lc, P, "ctl: \"stop\"\n\tby \x01 user \xc3\xa9", err,
                                          sizeof(err)), 0);
    assert_int_equal(lifecycle_transition(lc, ST, NULL, err, sizeof(err)), -EINVAL);
    assert_int_equal(lifecycle_note(lc, "RESET", NULL, err, sizeof(err)), 0);
    char big[3000];
    memset(big, '"', sizeof(big) - 1);     /* worst case: every byte escaped */
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(lifecycle_transition(lc, E, big, err, sizeof(err)), 0);
    /* one fsync per event; none for the refused transition */
    assert_int_equal(atomic_load(&fsync_calls), f0 + 4);
    lifecycle_destroy(lc);

    static const char *const want[] = { "START", "STOP", "RESET", "ERROR" };
    assert_int_equal(check_journal(path, want, 4), 4);
    /* the reason survives escaping */
    FILE *f = fopen(path, "r");
    char line[2048];
    assert_non_null(fgets(line, sizeof(line), f));
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    json_object *o = json_tokener_parse(line), *reason;
    assert_non_null(o);
    assert_true(json_object_object_get_ex(o, "reason", &reason));
    assert_string_equal(json_object_get_string(reason), "ctl: \"stop\"\n\tby \x01 user ??");
    json_object_put(o);

    /* appending: a second engine adds to the same journal */
    lc = make(path, NULL, NULL);
    assert_int_equal(lifecycle_transition(lc, R, NULL, err, sizeof(err)), 0);
    lifecycle_destroy(lc);
    assert_int_equal(check_journal(path, NULL, 0), 5);
    unlink(path);
    free(path);
}

static void test_journal_open_error(void **state)
{
    struct lifecycle_config cfg = { .vm_name = "vm1",
                                    .event_log = "/nonexistent-dir/glassbox/events.jsonl" };
    struct lifecycle *lc;
    char err[256];
    (void)state;

    assert_int_equal(lifecycle_create(&lc, &cfg, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "--event-log '/nonexistent-dir/glassbox/events.jsonl'"));
}

/* ---- parking and concurrency -------------------------------------------------- */

struct vcpu {
    struct lifecycle *lc;
    _Atomic uint64_t slices;
    enum gb_vm_state exit_state;
};

static void *vcpu_main(void *arg)
{
    struct vcpu *v = arg;

    for (;;) {
        enum gb_vm_state s = lifecycle_wait_running(v->lc);
        if (s != GB_VM_RUNNING) {
            v->exit_state = s;
            return NULL;
        }
        atomic_fetch_add(&v->slices, 1);
        usleep(100);
    }
}

static void test_park(void **state)
{
    struct lifecycle *lc = make(NULL, NULL, NULL);
    struct vcpu v[2] = { { .lc = lc }, { .lc = lc } };
    pthread_t t[2];
    char err[256];
    (void)state;

    /* created: the vCPUs park until the VM starts */
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, vcpu_main, &v[i]), 0);
    assert_int_equal(lifecycle_wait_parked(lc, 2, 5000), 0);
    assert_int_equal(atomic_load(&v[0].slices), 0);
    assert_int_equal(lifecycle_transition(lc, R, NULL, err, sizeof(err)), 0);
    while (atomic_load(&v[0].slices) < 10 || atomic_load(&v[1].slices) < 10)
        usleep(1000);
    assert_int_equal(lifecycle_transition(lc, P, NULL, err, sizeof(err)), 0);
    assert_int_equal(lifecycle_wait_parked(lc, 2, 5000), 0);
    uint64_t a = atomic_load(&v[0].slices), b = atomic_load(&v[1].slices);
    usleep(20000);
    assert_true(atomic_load(&v[0].slices) == a && atomic_load(&v[1].slices) == b);
    assert_int_equal(lifecycle_wait_parked(lc, 3, 10), -ETIMEDOUT);
    /* shutting down releases parked vCPUs with the new state */
    assert_int_equal(lifecycle_transition(lc, SD, NULL, err, sizeof(err)), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(v[i].exit_state, GB_VM_SHUTTING_DOWN);
    }
    lifecycle_destroy(lc);
}

struct toggler {
    struct lifecycle *lc;
    enum gb_vm_state to;
    unsigned ok;
};

static void *toggle_main(void *arg)
{
    struct toggler *t = arg;
    char err[256];

    for (int i = 0; i < 300; i++)
        if (lifecycle_transition(t->lc, t->to, NULL, err, sizeof(err)) == 0)
            t->ok++;
    return NULL;
}

static void test_concurrent(void **state)
{
    char *path = tmp_log();
    struct lifecycle *lc = make(path, NULL, NULL);
    struct toggler tg[2] = { { lc, GB_VM_PAUSED, 0 }, { lc, GB_VM_RUNNING, 0 } };
    pthread_t t[2];
    char err[256];
    (void)state;

    assert_int_equal(lifecycle_transition(lc, R, NULL, err, sizeof(err)), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, toggle_main, &tg[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    lifecycle_destroy(lc);
    /* every success is one line, and the lines form an unbroken chain */
    assert_int_equal(check_journal(path, NULL, 0), 1 + tg[0].ok + tg[1].ok);
    assert_true(tg[0].ok >= 1);
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_transitions),
        cmocka_unit_test(test_error_needs_reason),
        cmocka_unit_test(test_callback),
        cmocka_unit_test(test_journal),
        cmocka_unit_test(test_journal_open_error),
        cmocka_unit_test(test_park),
        cmocka_unit_test(test_concurrent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
