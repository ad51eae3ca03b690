/* QMP server: see qmp.h. Wording of errors follows QEMU's monitor so that
 * QMP clients and scripts written for QEMU understand them. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "qmp.h"

struct qmp_conn {
    struct qmp_server *srv;
    struct qmp_conn *next;
    int fd;                     /* -1: socket-less */
    struct json_tokener *tok;
    size_t pending;             /* bytes fed to tok since the last complete object */
    int recovering;             /* after an error: skip to a newline, NUL or 0xff */
    char in_str;                /* quote of the string the tokener is in, or 0 */
    int escaped;                /* previous byte in that string was a backslash */
    int negotiated;             /* under srv->lock */
    int dead;                   /* under srv->lock: output overflowed or write failed */
    char *out;                  /* under srv->lock */
    size_t out_len, out_cap;
};

struct qmp_server {
    struct qmp_server_config cfg;
    char *path;
    int listen_fd, wake_fd;
    dev_t sock_dev;
    ino_t sock_ino;
    pthread_t thread;
    int have_thread;
    atomic_int stopping;
    pthread_mutex_t lock;       /* conns list, their output and flags */
    struct qmp_conn *conns;
    unsigned nconns;
};

/* ---- output ---------------------------------------------------------------- */

/* Append one line; lock held. Marks the connection dead past the cap. */
static void conn_append_locked(struct qmp_conn *c, const char *s, size_t n)
{
    if (c->dead)
        return;
    if (c->out_len + n + 3 > QMP_MAX_OUTPUT) {
        c->dead = 1;
        return;
    }
    if (c->out_len + n + 3 > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        char *p;
        while (cap < c->out_len + n + 3)
            cap *= 2;
        p = realloc(c->out, cap);
        if (!p) {
            c->dead = 1;
            return;
        }
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, s, n);
    memcpy(c->out + c->out_len + n, "\r\n", 3);  /* QEMU ends each message so */
    c->out_len += n + 2;
}

static void wake(struct qmp_server *s)
{
    uint64_t one = 1;

    if (s->wake_fd >= 0 && write(s->wake_fd, &one, sizeof(one)) < 0) {
        /* counter saturated: the thread is awake anyway */
    }
}

/* Serialize and queue obj (consumed). */
static void conn_send(struct qmp_conn *c, struct json_object *obj)
{
    const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE);

    pthread_mutex_lock(&c->srv->lock);
    conn_append_locked(c, s, strlen(s));
    pthread_mutex_unlock(&c->srv->lock);
    json_object_put(obj);
}

static void send_error(struct qmp_conn *c, struct json_object *id, const char *cls,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void send_error(struct qmp_conn *c, struct json_object *id, const char *cls,
                       const char *fmt, ...)
{
    struct json_object *r = json_object_new_object(), *e = json_object_new_object();
    char desc[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(desc, sizeof(desc), fmt, ap);
    va_end(ap);
    json_object_object_add(e, "class", json_object_new_string(cls));
    json_object_object_add(e, "desc", json_object_new_string(desc));
    json_object_object_add(r, "error", e);
    if (id)
        json_object_object_add(r, "id", json_object_get(id));
    conn_send(c, r);
}

static struct json_object *version_object(const struct qmp_server *s)
{
    struct json_object *v = json_object_new_object(), *q = json_object_new_object();

    json_object_object_add(q, "major", json_object_new_int((int)s->cfg.version[0]));
    json_object_object_add(q, "minor", json_object_new_int((int)s->cfg.version[1]));
    json_object_object_add(q, "micro", json_object_new_int((int)s->cfg.version[2]));
    json_object_object_add(v, "qemu", q);
    json_object_object_add(v, "package",
                           json_object_new_string(s->cfg.package ? s->cfg.package : ""));
    return v;
}

static void send_greeting(struct qmp_conn *c)
{
    struct json_object *g = json_object_new_object(), *q = json_object_new_object();

    json_object_object_add(q, "version", version_object(c->srv));
    json_object_object_add(q, "capabilities", json_object_new_array());
    json_object_object_add(g, "QMP", q);
    conn_send(c, g);
}

void qmp_server_emit_event(struct qmp_server *s, const char *name, struct json_object *data)
{
    struct json_object *ev = json_object_new_object(), *ts = json_object_new_object();
    struct timespec now;
    const char *str;

    clock_gettime(CLOCK_REALTIME, &now);
    json_object_object_add(ev, "event", json_object_new_string(name));
    if (data)
        json_object_object_add(ev, "data", data);
    json_object_object_add(ts, "seconds", json_object_new_int64(now.tv_sec));
    json_object_object_add(ts, "microseconds", json_object_new_int64(now.tv_nsec / 1000));
    json_object_object_add(ev, "timestamp", ts);
    str = json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
                                         JSON_C_TO_STRING_NOSLASHESCAPE);
    pthread_mutex_lock(&s->lock);
    for (struct qmp_conn *c = s->conns; c; c = c->next)
        if (c->negotiated)
            conn_append_locked(c, str, strlen(str));
    pthread_mutex_unlock(&s->lock);
    json_object_put(ev);
    wake(s);
}

/* ---- built-in commands ------------------------------------------------------ */

static const char *const type_names[] = {
    [QMP_T_INT] = "integer", [QMP_T_STR] = "string", [QMP_T_BOOL] = "boolean",
    [QMP_T_NUMBER] = "number", [QMP_T_OBJECT] = "object", [QMP_T_ARRAY] = "array",
};

const char *qmp_type_name(enum qmp_type t)
{
    return (unsigned)t < sizeof(type_names) / sizeof(type_names[0]) ? type_names[t] : "value";
}

static int type_matches(struct json_object *v, enum qmp_type t)
{
    switch (t) {
    case QMP_T_INT: return json_object_is_type(v, json_type_int);
    case QMP_T_STR: return json_object_is_type(v, json_type_string);
    case QMP_T_BOOL: return json_object_is_type(v, json_type_boolean);
    case QMP_T_NUMBER:
        return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
    case QMP_T_OBJECT: return json_object_is_type(v, json_type_object);
    case QMP_T_ARRAY: return json_object_is_type(v, json_type_array);
    }
    return 0;
}

/* QEMU's qobject input visitor wording. */
static int check_args(const struct qmp_command *cmd, struct json_object *args, char *err,
                      size_t errlen)
{
    json_object_object_foreach(args, key, val) {
        unsigned i;
        for (i = 0; i < cmd->nargs && strcmp(cmd->args[i].name, key); i++)
            ;
        if (i == cmd->nargs) {
            snprintf(err, errlen, "Parameter '%s' is unexpected", key);
            return -EINVAL;
        }
        if (!type_matches(val, cmd->args[i].type)) {
            snprintf(err, errlen, "Invalid parameter type for '%s', expected: %s", key,
                     qmp_type_name(cmd->args[i].type));
            return -EINVAL;
        }
    }
    for (unsigned i = 0; i < cmd->nargs; i++)
        if (cmd->args[i].required && !json_object_object_get_ex(args, cmd->args[i].name, NULL)) {
            snprintf(err, errlen, "Parameter '%s' is missing", cmd->args[i].name);
            return -EINVAL;
        }
    return 0;
}

static int cmd_capabilities(void *ctx, struct json_object *args, struct json_object **ret,
                            char *err, size_t errlen)
{
    struct json_object *en;

    (void)ctx;
    *ret = NULL;
    /* we offer no capability, so any requested one is unavailable */
    if (json_object_object_get_ex(args, "enable", &en)) {
        for (size_t i = 0; i < json_object_array_length(en); i++) {
            struct json_object *cap = json_object_array_get_idx(en, i);
            if (!json_object_is_type(cap, json_type_string)) {
                snprintf(err, errlen, "Invalid parameter type for 'enable[%zu]', expected: "
                         "string", i);
                return -EINVAL;
            }
            snprintf(err, errlen, "Capability '%s' not available", json_object_get_string(cap));
            return -EINVAL;
        }
    }
    return 0;
}

static int cmd_query_version(void *ctx, struct json_object *args, struct json_object **ret,
                             char *err, size_t errlen)
{
    (void)args, (void)err, (void)errlen;
    *ret = version_object(ctx);
    return 0;
}

static void add_name(struct json_object *arr, const char *name)
{
    struct json_object *o = json_object_new_object();

    json_object_object_add(o, "name", json_object_new_string(name));
    json_object_array_add(arr, o);
}

static const struct qmp_arg capabilities_args[] = { { "enable", QMP_T_ARRAY, 0 } };

static int cmd_query_commands(void *ctx, struct json_object *args, struct json_object **ret,
                              char *err, size_t errlen);

static const struct qmp_command builtins[] = {
    { "qmp_capabilities", cmd_capabilities, capabilities_args, 1 },
    { "query-commands", cmd_query_commands, NULL, 0 },
    { "query-version", cmd_query_version, NULL, 0 },
};
#define NBUILTINS (sizeof(builtins) / sizeof(builtins[0]))

static int cmd_query_commands(void *ctx, struct json_object *args, struct json_object **ret,
                              char *err, size_t errlen)
{
    const struct qmp_server *s = ctx;
    struct json_object *arr = json_object_new_array();

    (void)args, (void)err, (void)errlen;
    for (unsigned i = 0; i < NBUILTINS; i++)
        add_name(arr, builtins[i].name);
    for (unsigned i = 0; i < s->cfg.ncmds; i++)
        add_name(arr, s->cfg.cmds[i].name);
    *ret = arr;
    return 0;
}

/* ---- dispatch -------------------------------------------------------------- */

static const struct qmp_command *find_command(const struct qmp_server *s, const char *name,
                                              int *builtin)
{
    for (unsigned i = 0; i < NBUILTINS; i++)
        if (!strcmp(builtins[i].name, name)) {
            *builtin = 1;
            return &builtins[i];
        }
    *builtin = 0;
    for (unsigned i = 0; i < s->cfg.ncmds; i++)
        if (!strcmp(s->cfg.cmds[i].name, name))
            return &s->cfg.cmds[i];
    return NULL;
}

/* The checks and their order follow QEMU's qmp_dispatch(). */
static void dispatch(struct qmp_conn *c, struct json_object *req)
{
    struct qmp_server *s = c->srv;
    struct json_object *id = NULL, *exec = NULL, *args = NULL, *ret = NULL, *empty = NULL;
    const struct qmp_command *cmd;
    const char *name;
    char err[512] = "";
    int builtin, negotiated, r;

    if (!json_object_is_type(req, json_type_object)) {
        send_error(c, NULL, "GenericError", "QMP input must be a JSON object");
        return;
    }
    json_object_object_get_ex(req, "id", &id);
    json_object_object_foreach(req, key, val) {
        if (!strcmp(key, "execute")) {
            if (!json_object_is_type(val, json_type_string)) {
                send_error(c, id, "GenericError", "QMP input member 'execute' must be a string");
                return;
            }
            exec = val;
        } else if (!strcmp(key, "arguments")) {
            if (!json_object_is_type(val, json_type_object)) {
                send_error(c, id, "GenericError",
                           "QMP input member 'arguments' must be an object");
                return;
            }
            args = val;
        } else if (strcmp(key, "id")) {
            send_error(c, id, "GenericError", "QMP input member '%.64s' is unexpected", key);
            return;
        }
    }
    if (!exec) {
        send_error(c, id, "GenericError", "QMP input lacks member 'execute'");
        return;
    }
    name = json_object_get_string(exec);
    pthread_mutex_lock(&s->lock);
    negotiated = c->negotiated;
    pthread_mutex_unlock(&s->lock);
    cmd = find_command(s, name, &builtin);
    if (!negotiated && (!cmd || cmd->fn != cmd_capabilities)) {
        send_error(c, id, "CommandNotFound",
                   "Expecting capabilities negotiation with 'qmp_capabilities'");
        return;
    }
    if (!cmd) {
        send_error(c, id, "CommandNotFound", "The command %.128s has not been found", name);
        return;
    }
    if (negotiated && cmd->fn == cmd_capabilities) {
        send_error(c, id, "CommandNotFound",
                   "Capabilities negotiation is already complete, command ignored");
        return;
    }
    if (!args)
        args = empty = json_object_new_object();
    r = check_args(cmd, args, err, sizeof(err));
    if (r == 0)
        r = cmd->fn(builtin ? (void *)s : s->cfg.ctx, args, &ret, err, sizeof(err));
    json_object_put(empty);
    if (r < 0) {
        json_object_put(ret);
        send_error(c, id, "GenericError", "%s", err[0] ? err : strerror(-r));
        return;
    }
    if (cmd->fn == cmd_capabilities) {
        pthread_mutex_lock(&s->lock);
        c->negotiated = 1;
        pthread_mutex_unlock(&s->lock);
    }
    struct json_object *reply = json_object_new_object();
    json_object_object_add(reply, "return", ret ? ret : json_object_new_object());
    if (id)
        json_object_object_add(reply, "id", json_object_get(id));
    conn_send(c, reply);
}

/* ---- parsing --------------------------------------------------------------- */

static int is_reset_byte(unsigned char ch)
{
    /* QEMU's lexer also treats NUL and 0xff as "start over" */
    return ch == '\n' || ch == 0 || ch == 0xff;
}

static void parse_failed(struct qmp_conn *c, const char *fmt, const char *what)
{
    send_error(c, NULL, "GenericError", fmt, what);
    json_tokener_reset(c->tok);
    c->pending = 0;
    c->in_str = 0;
    c->escaped = 0;
    c->recovering = 1;
}

/* Follow string quoting over n bytes; return the offset of the first raw
 * control character inside a string, or n. json-c accepts those, JSON
 * and QEMU do not: refusing them lets a truncated command followed by a
 * newline end in an error instead of swallowing the next line. */
static size_t scan_strings(char *in_str, int *escaped, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = p[i];
        if (!*in_str) {
            if (ch == '"' || ch == '\'')
                *in_str = (char)ch;
        } else if (ch < 0x20) {
            return i;
        } else if (*escaped) {
            *escaped = 0;
        } else if (ch == '\\') {
            *escaped = 1;
        } else if (ch == (unsigned char)*in_str) {
            *in_str = 0;
        }
    }
    return n;
}

int qmp_conn_feed(struct qmp_conn *c, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    int dead;

    while (len > 0) {
        if (c->recovering) {
            while (len > 0 && !is_reset_byte(*p))
                p++, len--;
            if (len > 0) {
                p++, len--;
                c->recovering = 0;
            }
            continue;
        }
        if (c->pending == 0 && (*p == ' ' || *p == '\t' || *p == '\r' || is_reset_byte(*p))) {
            p++, len--;
            continue;
        }
        size_t room = QMP_MAX_MESSAGE - c->pending;
        size_t chunk = len < room ? len : room;
        char in_str = c->in_str;
        int escaped = c->escaped;
        size_t bad = scan_strings(&in_str, &escaped, p, chunk);

        if (bad == 0) {
            parse_failed(c, "JSON parse error, %s", "control character in a string");
            continue;   /* recovery starts at that byte: it may be the newline */
        }
        chunk = bad;
        struct json_object *obj = json_tokener_parse_ex(c->tok, (const char *)p, (int)chunk);
        enum json_tokener_error jerr = json_tokener_get_error(c->tok);
        size_t used = json_tokener_get_parse_end(c->tok);

        if (used > chunk || jerr == json_tokener_continue)
            used = chunk;
        scan_strings(&c->in_str, &c->escaped, p, used);
        if (jerr == json_tokener_success) {
            json_tokener_reset(c->tok);
            c->pending = 0;
            c->in_str = 0;
            c->escaped = 0;
            p += used, len -= used;
            if (obj)
                dispatch(c, obj);
            else    /* a bare null */
                send_error(c, NULL, "GenericError", "QMP input must be a JSON object");
            json_object_put(obj);
        } else if (jerr == json_tokener_continue) {
            c->pending += chunk;
            p += chunk, len -= chunk;
            if (c->pending >= QMP_MAX_MESSAGE)
                parse_failed(c, "JSON parse error, %s", "message larger than 65536 bytes");
        } else {
            /* recovery starts at the offending byte: it may be the newline,
             * or the '{' of the next command after a truncated one (but not
             * one more level of a nesting that was too deep) */
            p += used, len -= used;
            parse_failed(c, "JSON parse error, %s", json_tokener_error_desc(jerr));
            if (len > 0 && *p == '{' && jerr != json_tokener_error_depth)
                c->recovering = 0;
        }
        pthread_mutex_lock(&c->srv->lock);
        dead = c->dead;
        pthread_mutex_unlock(&c->srv->lock);
        if (dead)
            return -EMSGSIZE;
    }
    return 0;
}

/* ---- connections ----------------------------------------------------------- */

static struct qmp_conn *conn_create(struct qmp_server *s, int fd)
{
    struct qmp_conn *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->tok = json_tokener_new_ex(QMP_MAX_DEPTH);
    if (!c->tok) {
        free(c);
        return NULL;
    }
    json_tokener_set_flags(c->tok, JSON_TOKENER_VALIDATE_UTF8);
    c->srv = s;
    c->fd = fd;
    pthread_mutex_lock(&s->lock);
    c->next = s->conns;
    s->conns = c;
    s->nconns++;
    pthread_mutex_unlock(&s->lock);
    send_greeting(c);
    return c;
}

/* Unlinked already. */
static void conn_destroy(struct qmp_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    json_tokener_free(c->tok);
    free(c->out);
    free(c);
}

struct qmp_conn *qmp_conn_new(struct qmp_server *s)
{
    return conn_create(s, -1);
}

const char *qmp_conn_output(struct qmp_conn *c, size_t *len)
{
    /* socket-less connections are used by one thread (plus emitters): the
     * caller reads between feeds */
    *len = c->out_len;
    return c->out ? c->out : "";
}

void qmp_conn_drain(struct qmp_conn *c)
{
    pthread_mutex_lock(&c->srv->lock);
    c->out_len = 0;
    if (c->out)
        c->out[0] = 0;
    pthread_mutex_unlock(&c->srv->lock);
}

void qmp_conn_free(struct qmp_conn *c)
{
    struct qmp_server *s;

    if (!c)
        return;
    s = c->srv;
    pthread_mutex_lock(&s->lock);
    for (struct qmp_conn **pp = &s->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            s->nconns--;
            break;
        }
    pthread_mutex_unlock(&s->lock);
    conn_destroy(c);
}

unsigned qmp_server_clients(struct qmp_server *s)
{
    unsigned n;

    pthread_mutex_lock(&s->lock);
    n = s->nconns;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* Write what the socket takes now; lock held. -1 when the peer is gone. */
static int conn_flush_locked(struct qmp_conn *c)
{
    size_t off = 0;

    while (off < c->out_len) {
        ssize_t w = send(c->fd, c->out + off, c->out_len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            c->dead = 1;
            break;
        }
        off += (size_t)w;
    }
    memmove(c->out, c->out + off, c->out_len - off);
    c->out_len -= off;
    return c->dead ? -1 : 0;
}

/* ---- the I/O thread -------------------------------------------------------- */

static void accept_client(struct qmp_server *s)
{
    static const char busy[] = "{\"error\": {\"class\": \"GenericError\", \"desc\": "
                               "\"too many QMP clients\"}}\r\n";
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    unsigned max = s->cfg.max_clients ? s->cfg.max_clients : QMP_MAX_CLIENTS;

    if (fd < 0)
        return;
    if (qmp_server_clients(s) >= max) {
        if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
            /* it goes away either way */
        }
        close(fd);
        return;
    }
    if (!conn_create(s, fd))
        close(fd);
}

static void read_client(struct qmp_conn *c)
{
    char buf[16384];

    for (;;) {
        ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            if (qmp_conn_feed(c, buf, (size_t)n) < 0)
                return;
            if ((size_t)n < sizeof(buf))
                return;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        pthread_mutex_lock(&c->srv->lock);
        c->dead = 1;    /* EOF or error */
        pthread_mutex_unlock(&c->srv->lock);
        return;
    }
}

static void *io_thread(void *arg)
{
    struct qmp_server *s = arg;
    unsigned max = s->cfg.max_clients ? s->cfg.max_clients : QMP_MAX_CLIENTS;
    struct pollfd *pfd = calloc(max + 2, sizeof(*pfd));
    struct qmp_conn **who = calloc(max + 2, sizeof(*who));

    pthread_setname_np(pthread_self(), "gb-qmp");     /* for top -H and the tests */

    while (pfd && who && !atomic_load(&s->stopping)) {
        unsigned n = 0;

        pfd[n++] = (struct pollfd){ .fd = s->wake_fd, .events = POLLIN };
        pfd[n++] = (struct pollfd){ .fd = s->listen_fd, .events = POLLIN };
        pthread_mutex_lock(&s->lock);
        for (struct qmp_conn **pp = &s->conns; *pp;) {
            struct qmp_conn *c = *pp;
            if (!c->dead && c->out_len && c->fd >= 0)
                conn_flush_locked(c);
            if (c->dead) {
                *pp = c->next;
                s->nconns--;
                pthread_mutex_unlock(&s->lock);
                conn_destroy(c);
                pthread_mutex_lock(&s->lock);
                continue;
            }
            if (c->fd >= 0 && n < max + 2) {
                who[n] = c;
                pfd[n++] = (struct pollfd){ .fd = c->fd,
                                            .events = POLLIN | (c->out_len ? POLLOUT : 0) };
            }
            pp = &c->next;
        }
        pthread_mutex_unlock(&s->lock);

        if (poll(pfd, n, -1) < 0)
            continue;
        if (pfd[0].revents & POLLIN) {
            uint64_t v;
            if (read(s->wake_fd, &v, sizeof(v)) < 0) {
                /* nothing pending */
            }
        }
        if (pfd[1].revents & POLLIN)
            accept_client(s);
        for (unsigned i = 2; i < n; i++) {
            if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
                read_client(who[i]);
        }
    }
    /* pending replies (to quit) are flushed by qmp_server_destroy() */
    free(pfd);
    free(who);
    return NULL;
}

/* ---- socket setup ---------------------------------------------------------- */

/* The socket's directory: created 0700 when missing. With private_dir, an
 * existing one must be a real directory of ours and is closed to others;
 * otherwise (a path the user chose, say in /tmp) it is left alone. */
static int prepare_dir(const char *path, int private_dir, char *err, size_t errlen)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct stat st;
    char *slash;

    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = 0;
    if (mkdir(dir, 0700) == 0)
        return 0;
    if (errno != EEXIST) {
        int e = errno;
        snprintf(err, errlen, "cannot create the control socket directory %s: %s", dir,
                 strerror(e));
        return -e;
    }
    if (!private_dir)
        return 0;
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "control socket directory %s is not a directory", dir);
        return -ENOTDIR;
    }
    if (st.st_uid != getuid()) {
        snprintf(err, errlen, "control socket directory %s belongs to uid %u, not to us",
                 dir, (unsigned)st.st_uid);
        return -EPERM;
    }
    if ((st.st_mode & 077) && chmod(dir, 0700) < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot make %s private (mode 0700): %s", dir, strerror(e));
        return -e;
    }
    return 0;
}

/* -EADDRINUSE when a server answers on path; a dead socket file is
 * removed. */
static int claim_path(const struct sockaddr_un *sa, char *err, size_t errlen)
{
    struct stat st;
    int fd, r;

    if (lstat(sa->sun_path, &st) < 0)
        return 0;
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "%s exists and is not a socket; remove it", sa->sun_path);
        return -EEXIST;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
    close(fd);
    if (r == 0) {
        snprintf(err, errlen, "control socket %s is in use by a running engine "
                 "(is another VM of that name running?)", sa->sun_path);
        return -EADDRINUSE;
    }
    if (unlink(sa->sun_path) < 0 && errno != ENOENT) {
        int e = errno;
        snprintf(err, errlen, "cannot remove the stale control socket %s: %s", sa->sun_path,
                 strerror(e));
        return -e;
    }
    return 0;
}

static int open_socket(struct qmp_server *s, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct stat st;
    int r;

    if (strlen(s->path) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "control socket path %s is too long (%zu bytes at most)",
                 s->path, sizeof(sa.sun_path) - 1);
        return -ENAMETOOLONG;
    }
    memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
    r = prepare_dir(s->path, s->cfg.private_dir, err, errlen);
    if (r == 0)
        r = claim_path(&sa, err, errlen);
    if (r < 0)
        return r;
    s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->listen_fd < 0)
        goto fail;
    if (bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        goto fail;
    /* the directory is 0700 already; this is for a socket moved elsewhere */
    if (chmod(s->path, 0600) < 0 || stat(s->path, &st) < 0 || listen(s->listen_fd, 16) < 0)
        goto fail;
    s->sock_dev = st.st_dev;
    s->sock_ino = st.st_ino;
    return 0;
fail:
    r = -errno;
    snprintf(err, errlen, "control socket %s: %s", s->path, strerror(errno));
    return r;
}

int qmp_server_create(struct qmp_server **out, const struct qmp_server_config *cfg, char *err,
                      size_t errlen)
{
    struct qmp_server *s = calloc(1, sizeof(*s));
    int r;

    *out = NULL;
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    s->cfg = *cfg;
    s->listen_fd = s->wake_fd = -1;
    pthread_mutex_init(&s->lock, NULL);
    if (cfg->socket_path) {
        s->path = strdup(cfg->socket_path);
        s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (!s->path || s->wake_fd < 0) {
            r = s->path ? -errno : -ENOMEM;
            snprintf(err, errlen, "control socket: %s", strerror(-r));
            goto fail;
        }
        if ((r = open_socket(s, err, errlen)) < 0)
            goto fail;
        r = -pthread_create(&s->thread, NULL, io_thread, s);
        if (r < 0) {
            snprintf(err, errlen, "cannot start the control socket thread: %s", strerror(-r));
            goto fail;
        }
        s->have_thread = 1;
    }
    *out = s;
    return 0;
fail:
    qmp_server_destroy(s);
    return r;
}

void qmp_server_destroy(struct qmp_server *s)
{
    struct stat st;

    if (!s)
        return;
    if (s->have_thread) {
        atomic_store(&s->stopping, 1);
        wake(s);
        pthread_join(s->thread, NULL);
    }
    /* the reply to `quit` (and the SHUTDOWN event) may still sit in an
     * output buffer: give each client up to half a second to take it */
    for (struct qmp_conn *c = s->conns; c; c = c->next) {
        for (int tries = 0; tries < 50 && c->fd >= 0 && !c->dead && c->out_len; tries++) {
            struct pollfd p = { .fd = c->fd, .events = POLLOUT };
            if (poll(&p, 1, 10) > 0)
                conn_flush_locked(c);
        }
    }
    while (s->conns)
        qmp_conn_free(s->conns);
    if (s->listen_fd >= 0) {
        close(s->listen_fd);
        /* unlink only our own socket, not a successor's */
        if (stat(s->path, &st) == 0 && st.st_dev == s->sock_dev && st.st_ino == s->sock_ino)
            unlink(s->path);
    }
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    pthread_mutex_destroy(&s->lock);
    free(s->path);
    free(s);
}

const char *qmp_server_path(const struct qmp_server *s)
{
    return s->path;
}
