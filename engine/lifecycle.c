/* VM lifecycle state machine and JSON-lines event journal (lifecycle.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lifecycle.h"

struct lifecycle {
    pthread_mutex_t lock;
    pthread_cond_t run_cond;        /* state left created/paused */
    pthread_cond_t park_cond;       /* a thread parked */
    _Atomic int state_fast;         /* mirror of state for the vCPU fast path */
    enum gb_vm_state state, prev;
    uint64_t since_mono_ns, since_real_ns;
    char reason[256];
    unsigned parked;
    char vm[64];
    char *log_path;
    int log_fd;
    lifecycle_event_fn on_event;
    void *opaque;
};

/* [from][to]: allowed transitions and their event names */
static const char *const transitions[GB_VM_STATE_COUNT][GB_VM_STATE_COUNT] = {
    [GB_VM_CREATED] = {
        [GB_VM_RUNNING] = "START", [GB_VM_PAUSED] = "STOP",
        [GB_VM_SHUTTING_DOWN] = "SHUTDOWN", [GB_VM_ERROR] = "ERROR",
    },
    [GB_VM_RUNNING] = {
        [GB_VM_PAUSED] = "STOP", [GB_VM_SHUTTING_DOWN] = "SHUTDOWN", [GB_VM_ERROR] = "ERROR",
    },
    [GB_VM_PAUSED] = {
        [GB_VM_RUNNING] = "RESUME", [GB_VM_SHUTTING_DOWN] = "SHUTDOWN", [GB_VM_ERROR] = "ERROR",
    },
    [GB_VM_SHUTTING_DOWN] = {
        [GB_VM_STOPPED] = "TERMINATED", [GB_VM_ERROR] = "ERROR",
    },
};

static uint64_t clock_ns(clockid_t c)
{
    struct timespec ts;

    clock_gettime(c, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int state_valid(int s)
{
    return s >= GB_VM_CREATED && s < GB_VM_STATE_COUNT;
}

int lifecycle_allowed(enum gb_vm_state from, enum gb_vm_state to)
{
    return state_valid((int)from) && state_valid((int)to) && transitions[from][to] != NULL;
}

const char *lifecycle_event_name(enum gb_vm_state from, enum gb_vm_state to)
{
    return lifecycle_allowed(from, to) ? transitions[from][to] : NULL;
}

int lifecycle_create(struct lifecycle **out, const struct lifecycle_config *cfg, char *err,
                     size_t errlen)
{
    struct lifecycle *lc = calloc(1, sizeof(*lc));

    *out = NULL;
    if (!lc) {
        snprintf(err, errlen, "lifecycle: out of memory");
        return -ENOMEM;
    }
    lc->log_fd = -1;
    if (cfg->event_log) {
        /* append-only and never truncated: the journal outlives the VM */
        lc->log_fd = open(cfg->event_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (lc->log_fd < 0) {
            int e = -errno;
            snprintf(err, errlen, "--event-log '%s': %s", cfg->event_log, strerror(errno));
            free(lc);
            return e;
        }
        lc->log_path = strdup(cfg->event_log);
    }
    snprintf(lc->vm, sizeof(lc->vm), "%s", cfg->vm_name ? cfg->vm_name : "");
    lc->on_event = cfg->on_event;
    lc->opaque = cfg->opaque;
    lc->state = lc->prev = GB_VM_CREATED;
    atomic_init(&lc->state_fast, GB_VM_CREATED);
    lc->since_mono_ns = clock_ns(CLOCK_MONOTONIC);
    lc->since_real_ns = clock_ns(CLOCK_REALTIME);
    pthread_mutex_init(&lc->lock, NULL);
    pthread_cond_init(&lc->run_cond, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&lc->park_cond, &ca);
    pthread_condattr_destroy(&ca);
    *out = lc;
    return 0;
}

void lifecycle_destroy(struct lifecycle *lc)
{
    if (!lc)
        return;
    if (lc->log_fd >= 0)
        close(lc->log_fd);
    free(lc->log_path);
    pthread_mutex_destroy(&lc->lock);
    pthread_cond_destroy(&lc->run_cond);
    pthread_cond_destroy(&lc->park_cond);
    free(lc);
}

enum gb_vm_state lifecycle_state(const struct lifecycle *lc)
{
    return (enum gb_vm_state)atomic_load_explicit(&lc->state_fast, memory_order_acquire);
}

void lifecycle_get(struct lifecycle *lc, struct lifecycle_status *st)
{
    pthread_mutex_lock(&lc->lock);
    st->state = lc->state;
    st->prev = lc->prev;
    st->since_mono_ns = lc->since_mono_ns;
    st->since_real_ns = lc->since_real_ns;
    memcpy(st->reason, lc->reason, sizeof(st->reason));
    pthread_mutex_unlock(&lc->lock);
}

/* Append s as a JSON string, cut to fit but always closed: each escape
 * is written whole or not at all, and room for the closing quote is kept.
 * Control characters are escaped; bytes of 0x80 and above become '?', so
 * the line is valid JSON even when a reason holds bytes that are not UTF-8. */
static void json_str(char *buf, size_t len, size_t *pos, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t p = *pos;

    if (!s) {
        if (p + 4 < len) {
            memcpy(buf + p, "null", 4);
            p += 4;
        }
        buf[p] = '\0';
        *pos = p;
        return;
    }
    if (p + 2 >= len)
        return;
    buf[p++] = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        size_t n;

        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            n = 2;
        } else if (c == '\n' || c == '\t') {
            esc[0] = '\\';
            esc[1] = c == '\n' ? 'n' : 't';
            n = 2;
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        } else {
            esc[0] = c >= 0x80 ? '?' : (char)c;
            n = 1;
        }
        if (p + n + 2 > len)    /* + closing quote + NUL */
            break;
        memcpy(buf + p, esc, n);
        p += n;
    }
    buf[p++] = '"';
    buf[p] = '\0';
    *pos = p;
}

static void json_raw(char *buf, size_t len, size_t *pos, const char *s)
{
    int n = snprintf(buf + *pos, len - *pos, "%s", s);
    if (n > 0)
        *pos += (size_t)n < len - *pos ? (size_t)n : len - *pos - 1;
}

/* Write one journal line and fsync it: what happened to a VM must survive
 * a host crash right after it. Called with the lock held. */
static int journal(struct lifecycle *lc, const struct lifecycle_event *ev, char *err,
                   size_t errlen)
{
    char line[1024], ts[48];
    size_t pos = 0;

    if (lc->log_fd < 0)
        return 0;
    snprintf(ts, sizeof(ts), "{\"ts\":%llu.%06llu,\"vm\":",
             (unsigned long long)(ev->real_ns / 1000000000ull),
             (unsigned long long)(ev->real_ns % 1000000000ull / 1000));
    json_raw(line, sizeof(line), &pos, ts);
    json_str(line, sizeof(line), &pos, ev->vm);
    json_raw(line, sizeof(line), &pos, ",\"event\":");
    json_str(line, sizeof(line), &pos, ev->event);
    json_raw(line, sizeof(line), &pos, ",\"from\":");
    json_str(line, sizeof(line), &pos, gb_vm_state_name(ev->from));
    json_raw(line, sizeof(line), &pos, ",\"to\":");
    json_str(line, sizeof(line), &pos, gb_vm_state_name(ev->to));
    json_raw(line, sizeof(line), &pos, ",\"reason\":");
    /* leave room for the closing brace and newline even if the reason was cut */
    json_str(line, sizeof(line) - 3, &pos, ev->reason);
    line[pos++] = '}';
    line[pos++] = '\n';

    /* one write() on an O_APPEND descriptor: lines never interleave */
    ssize_t w = write(lc->log_fd, line, pos);
    if (w != (ssize_t)pos || fsync(lc->log_fd) < 0) {
        int e = w < 0 || w == (ssize_t)pos ? errno : EIO;
        snprintf(err, errlen, "VM '%s' is now %s, but event log '%s' could not be written: %s",
                 lc->vm, gb_vm_state_name(ev->to), lc->log_path, strerror(e));
        return -EIO;
    }
    return 0;
}

static int emit(struct lifecycle *lc, const char *event, enum gb_vm_state from,
                enum gb_vm_state to, const char *reason, uint64_t mono, uint64_t real,
                char *err, size_t errlen)
{
    struct lifecycle_event ev = {
        .vm = lc->vm, .event = event, .from = from, .to = to,
        .reason = reason && reason[0] ? reason : NULL, .mono_ns = mono, .real_ns = real,
    };

    if (lc->on_event)
        lc->on_event(lc->opaque, &ev);
    return journal(lc, &ev, err, errlen);
}

int lifecycle_transition(struct lifecycle *lc, enum gb_vm_state to, const char *reason,
                         char *err, size_t errlen)
{
    enum gb_vm_state from;
    const char *name;
    int r;

    pthread_mutex_lock(&lc->lock);
    from = lc->state;
    name = lifecycle_event_name(from, to);
    if (!name) {
        pthread_mutex_unlock(&lc->lock);
        snprintf(err, errlen, "VM '%s' cannot go from %s to %s", lc->vm,
                 gb_vm_state_name(from), gb_vm_state_name(to));
        return -EINVAL;
    }
    if (to == GB_VM_ERROR && (!reason || !reason[0])) {
        pthread_mutex_unlock(&lc->lock);
        snprintf(err, errlen, "VM '%s': an error state needs a reason", lc->vm);
        return -EINVAL;
    }
    lc->prev = from;
    lc->state = to;
    lc->since_mono_ns = clock_ns(CLOCK_MONOTONIC);
    lc->since_real_ns = clock_ns(CLOCK_REALTIME);
    snprintf(lc->reason, sizeof(lc->reason), "%s", reason ? reason : "");
    atomic_store_explicit(&lc->state_fast, to, memory_order_release);
    /* parked vCPUs re-check on every change: resume, or leave on shutdown */
    pthread_cond_broadcast(&lc->run_cond);
    r = emit(lc, name, from, to, lc->reason, lc->since_mono_ns, lc->since_real_ns, err, errlen);
    pthread_mutex_unlock(&lc->lock);
    return r;
}

int lifecycle_note(struct lifecycle *lc, const char *event, const char *reason, char *err,
                   size_t errlen)
{
    int r;

    if (!event || !event[0]) {
        snprintf(err, errlen, "lifecycle note without an event name");
        return -EINVAL;
    }
    pthread_mutex_lock(&lc->lock);
    r = emit(lc, event, lc->state, lc->state, reason, clock_ns(CLOCK_MONOTONIC),
             clock_ns(CLOCK_REALTIME), err, errlen);
    pthread_mutex_unlock(&lc->lock);
    return r;
}

static int parks(int s)
{
    return s == GB_VM_CREATED || s == GB_VM_PAUSED;
}

enum gb_vm_state lifecycle_wait_running(struct lifecycle *lc)
{
    int s = atomic_load_explicit(&lc->state_fast, memory_order_acquire);
    enum gb_vm_state out;

    if (!parks(s))
        return (enum gb_vm_state)s;
    pthread_mutex_lock(&lc->lock);
    lc->parked++;
    pthread_cond_broadcast(&lc->park_cond);
    while (parks((int)lc->state))
        pthread_cond_wait(&lc->run_cond, &lc->lock);
    lc->parked--;
    out = lc->state;
    pthread_mutex_unlock(&lc->lock);
    return out;
}

int lifecycle_wait_parked(struct lifecycle *lc, unsigned n, unsigned timeout_ms)
{
    struct timespec ts;
    uint64_t dl = clock_ns(CLOCK_MONOTONIC) + (uint64_t)timeout_ms * 1000000ull;
    int r = 0;

    ts.tv_sec = (time_t)(dl / 1000000000ull);
    ts.tv_nsec = (long)(dl % 1000000000ull);
    pthread_mutex_lock(&lc->lock);
    while (lc->parked < n && r == 0)
        r = pthread_cond_timedwait(&lc->park_cond, &lc->lock, &ts);
    r = lc->parked >= n ? 0 : -ETIMEDOUT;
    pthread_mutex_unlock(&lc->lock);
    return r;
}
