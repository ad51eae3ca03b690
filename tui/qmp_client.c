/* QMP client: see qmp_client.h. Requests carry an "id" so that a late
 * reply to a request that timed out is never taken for the next one. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "glassbox/control.h"
#include "qmp_client.h"

#define CLIENT_EVENTS   256         /* queued events; the oldest go first */
#define CLIENT_REPLIES  16
#define CLIENT_MAX_MSG  (64u << 20) /* one incoming JSON value */

struct obj_queue {
    struct json_object **v;
    unsigned cap, head, n;
};

struct qmp_client {
    int fd;
    struct json_tokener *tok;
    size_t pending;
    struct obj_queue events, replies;
    int64_t next_id;
    char path[GB_CONTROL_PATH_MAX];
};

static void q_push(struct obj_queue *q, struct json_object *o)
{
    if (q->n == q->cap) {
        json_object_put(q->v[q->head]);
        q->head = (q->head + 1) % q->cap;
        q->n--;
    }
    q->v[(q->head + q->n) % q->cap] = o;
    q->n++;
}

static struct json_object *q_pop(struct obj_queue *q)
{
    struct json_object *o;

    if (!q->n)
        return NULL;
    o = q->v[q->head];
    q->head = (q->head + 1) % q->cap;
    q->n--;
    return o;
}

static void q_free(struct obj_queue *q)
{
    struct json_object *o;

    while ((o = q_pop(q)))
        json_object_put(o);
    free(q->v);
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int remaining(uint64_t deadline)
{
    uint64_t now = now_ms();

    return now >= deadline ? 0 : (int)(deadline - now < INT32_MAX ? deadline - now : INT32_MAX);
}

/* Parse what arrived; events and replies go to their queues. */
static int feed(struct qmp_client *c, const char *buf, size_t len, char *err, size_t errlen)
{
    while (len > 0) {
        if (c->pending == 0 && (*buf == ' ' || *buf == '\r' || *buf == '\n' || *buf == '\t')) {
            buf++, len--;
            continue;
        }
        struct json_object *o = json_tokener_parse_ex(c->tok, buf, (int)len);
        enum json_tokener_error je = json_tokener_get_error(c->tok);
        size_t used = json_tokener_get_parse_end(c->tok);

        if (je == json_tokener_continue) {
            c->pending += len;
            if (c->pending > CLIENT_MAX_MSG) {
                snprintf(err, errlen, "%s: reply larger than %u bytes", c->path,
                         CLIENT_MAX_MSG);
                return -EPROTO;
            }
            return 0;
        }
        if (je != json_tokener_success || !json_object_is_type(o, json_type_object)) {
            json_object_put(o);
            snprintf(err, errlen, "%s: not a QMP server (%s)", c->path,
                     je != json_tokener_success ? json_tokener_error_desc(je)
                                                : "a message is not a JSON object");
            return -EPROTO;
        }
        json_tokener_reset(c->tok);
        c->pending = 0;
        buf += used, len -= used;
        q_push(json_object_object_get_ex(o, "event", NULL) ? &c->events : &c->replies, o);
    }
    return 0;
}

/* Read once, waiting up to timeout_ms (0: not at all). 0 when something
 * was read or nothing came in time, -errno when the connection broke. */
static int pump(struct qmp_client *c, int timeout_ms, char *err, size_t errlen)
{
    struct pollfd p = { .fd = c->fd, .events = POLLIN };
    char buf[16384];
    ssize_t n;

    if (poll(&p, 1, timeout_ms) <= 0)
        return 0;
    n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0) {
        snprintf(err, errlen, "%s: the engine closed the connection", c->path);
        return -ECONNRESET;
    }
    return feed(c, buf, (size_t)n, err, errlen);
}

static int send_all(struct qmp_client *c, const char *s, size_t len, uint64_t deadline,
                    char *err, size_t errlen)
{
    while (len > 0) {
        ssize_t w = send(c->fd, s, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            s += w, len -= (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            struct pollfd p = { .fd = c->fd, .events = POLLOUT };
            if (poll(&p, 1, remaining(deadline)) == 0) {
                snprintf(err, errlen, "%s: timed out sending", c->path);
                return -ETIMEDOUT;
            }
            continue;
        }
        snprintf(err, errlen, "%s: the engine closed the connection", c->path);
        return -ECONNRESET;
    }
    return 0;
}

/* "Class: desc" of an error reply. */
static void error_text(struct json_object *e, char *err, size_t errlen)
{
    struct json_object *cls = NULL, *desc = NULL;

    json_object_object_get_ex(e, "class", &cls);
    json_object_object_get_ex(e, "desc", &desc);
    snprintf(err, errlen, "%s: %s", cls ? json_object_get_string(cls) : "GenericError",
             desc ? json_object_get_string(desc) : "(no description)");
}

/* Wait for a reply that the predicate accepts; others are dropped, except
 * an error without an id: the server refused us as a whole (too many
 * clients) or could not parse what we sent. */
static int wait_reply(struct qmp_client *c, int (*want)(struct json_object *, int64_t),
                      int64_t id, struct json_object **out, uint64_t deadline, char *err,
                      size_t errlen)
{
    for (;;) {
        struct json_object *o, *e;
        while ((o = q_pop(&c->replies))) {
            if (want(o, id)) {
                *out = o;
                return 0;
            }
            if (json_object_object_get_ex(o, "error", &e) &&
                !json_object_object_get_ex(o, "id", NULL)) {
                error_text(e, err, errlen);
                json_object_put(o);
                return -EREMOTEIO;
            }
            json_object_put(o);
        }
        int t = remaining(deadline);
        if (t == 0) {
            snprintf(err, errlen, "%s: no answer from the engine in time", c->path);
            return -ETIMEDOUT;
        }
        int r = pump(c, t, err, errlen);
        if (r < 0)
            return r;
    }
}

static int is_greeting(struct json_object *o, int64_t id)
{
    (void)id;
    return json_object_object_get_ex(o, "QMP", NULL);
}

static int is_reply_to(struct json_object *o, int64_t id)
{
    struct json_object *v;

    return json_object_object_get_ex(o, "id", &v) && json_object_is_type(v, json_type_int) &&
           json_object_get_int64(v) == id;
}

int qmp_client_execute(struct qmp_client *c, const char *cmd, struct json_object *args,
                       struct json_object **ret, unsigned timeout_ms, char *err, size_t errlen)
{
    uint64_t deadline = now_ms() + timeout_ms;
    struct json_object *req = json_object_new_object(), *reply = NULL, *v, *e;
    int64_t id = ++c->next_id;
    int r;

    *ret = NULL;
    json_object_object_add(req, "execute", json_object_new_string(cmd));
    if (args)
        json_object_object_add(req, "arguments", json_object_get(args));
    json_object_object_add(req, "id", json_object_new_int64(id));
    const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE);
    /* one write with its newline: after `quit` the engine may close before
     * a separate "\n" arrives, and unread bytes at close turn the reply
     * we are owed into ECONNRESET on an AF_UNIX socket */
    char *line = malloc(strlen(s) + 2);
    if (!line) {
        json_object_put(req);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    strcpy(line, s);
    strcat(line, "\n");
    r = send_all(c, line, strlen(line), deadline, err, errlen);
    free(line);
    json_object_put(req);
    if (r == 0)
        r = wait_reply(c, is_reply_to, id, &reply, deadline, err, errlen);
    if (r < 0)
        return r;
    if (json_object_object_get_ex(reply, "return", &v)) {
        *ret = json_object_get(v);
        r = 0;
    } else if (json_object_object_get_ex(reply, "error", &e)) {
        error_text(e, err, errlen);
        r = -EREMOTEIO;
    } else {
        snprintf(err, errlen, "%s: a reply without 'return' or 'error'", c->path);
        r = -EPROTO;
    }
    json_object_put(reply);
    return r;
}

int qmp_client_next_event(struct qmp_client *c, struct json_object **ev)
{
    char err[128];

    /* take what is there without waiting; a broken socket just ends the stream */
    while (pump(c, 0, err, sizeof(err)) == 0) {
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        if (poll(&p, 1, 0) <= 0)
            break;
    }
    *ev = q_pop(&c->events);
    return *ev != NULL;
}

int qmp_client_fd(const struct qmp_client *c)
{
    return c->fd;
}

static int resolve(struct qmp_client *c, const char *target, char *err, size_t errlen)
{
    if (strchr(target, '/')) {
        if (strlen(target) >= sizeof(c->path)) {
            snprintf(err, errlen, "socket path %s is too long", target);
            return -ENAMETOOLONG;
        }
        snprintf(c->path, sizeof(c->path), "%s", target);
        return 0;
    }
    int r = gb_control_path(c->path, sizeof(c->path), target);
    if (r < 0)
        snprintf(err, errlen, "'%s' is not a VM name", target);
    return r;
}

static int connect_to(struct qmp_client *c, const char *target, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int e;

    memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        e = errno;
        snprintf(err, errlen, "socket: %s", strerror(e));
        return -e;
    }
    if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
        return 0;
    e = errno;
    if (e == ENOENT && !strchr(target, '/'))
        snprintf(err, errlen, "no VM named '%s' is running (no control socket %s)", target,
                 c->path);
    else if (e == ECONNREFUSED)
        snprintf(err, errlen, "%s: nobody listens (a stale socket of an engine that died?)",
                 c->path);
    else
        snprintf(err, errlen, "%s: %s", c->path, strerror(e));
    return -e;
}

int qmp_client_open(struct qmp_client **out, const char *target, unsigned timeout_ms,
                    char *err, size_t errlen)
{
    uint64_t deadline = now_ms() + timeout_ms;
    struct qmp_client *c = calloc(1, sizeof(*c));
    struct json_object *greeting = NULL, *ret = NULL;
    int r = -ENOMEM;

    *out = NULL;
    if (c)
        c->fd = -1;
    if (!c || !(c->tok = json_tokener_new()) ||
        !(c->events.v = calloc(CLIENT_EVENTS, sizeof(*c->events.v))) ||
        !(c->replies.v = calloc(CLIENT_REPLIES, sizeof(*c->replies.v)))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    c->events.cap = CLIENT_EVENTS;
    c->replies.cap = CLIENT_REPLIES;
    if (!target || !target[0]) {
        snprintf(err, errlen, "no VM name or socket path given");
        r = -EINVAL;
        goto fail;
    }
    if ((r = resolve(c, target, err, errlen)) < 0 || (r = connect_to(c, target, err, errlen)) < 0)
        goto fail;
    r = wait_reply(c, is_greeting, 0, &greeting, deadline, err, errlen);
    if (r == -ETIMEDOUT)
        snprintf(err, errlen, "%s: no QMP greeting in time", c->path);
    json_object_put(greeting);
    if (r < 0)
        goto fail;
    r = qmp_client_execute(c, "qmp_capabilities", NULL, &ret, remaining(deadline), err,
                           errlen);
    json_object_put(ret);
    if (r < 0)
        goto fail;
    *out = c;
    return 0;
fail:
    qmp_client_close(c);
    return r;
}

void qmp_client_close(struct qmp_client *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    if (c->tok)
        json_tokener_free(c->tok);
    if (c->events.v)
        q_free(&c->events);
    if (c->replies.v)
        q_free(&c->replies);
    free(c);
}
