/* A generic QMP server (the QEMU Machine Protocol's wire format) on a
 * UNIX socket: greeting, capabilities negotiation, command dispatch
 * through a table, errors as QEMU words them, and events.
 *
 * Threads: one I/O thread polls the listening socket and every client;
 * command handlers run on it, one at a time. qmp_server_emit_event() is
 * thread-safe and may be called from a handler.
 *
 * The per-connection parser is reachable without sockets (qmp_conn_new,
 * qmp_conn_feed) for the fuzzer and tests. */
#ifndef GB_QMP_H
#define GB_QMP_H

#include <stddef.h>

struct json_object;
struct qmp_server;
struct qmp_conn;

#define QMP_MAX_CLIENTS     16
#define QMP_MAX_MESSAGE     65536           /* bytes of one incoming JSON object */
#define QMP_MAX_OUTPUT      (8u << 20)      /* queued output; a client beyond it is dropped */
#define QMP_MAX_DEPTH       64              /* nesting of incoming JSON */

enum qmp_type { QMP_T_INT, QMP_T_STR, QMP_T_BOOL, QMP_T_NUMBER, QMP_T_OBJECT, QMP_T_ARRAY };

/* One argument a command accepts; the dispatcher checks presence and type
 * before calling the handler and refuses any argument not listed. */
struct qmp_arg {
    const char *name;
    enum qmp_type type;
    int required;
};

/* args: the "arguments" object (an empty one when absent), borrowed.
 * Return 0 with *ret set (NULL means {}; ownership passes to the server),
 * or -errno with a message in err (sent as GenericError). */
typedef int (*qmp_handler_fn)(void *ctx, struct json_object *args, struct json_object **ret,
                              char *err, size_t errlen);

struct qmp_command {
    const char *name;
    qmp_handler_fn fn;
    const struct qmp_arg *args;
    unsigned nargs;
};

struct qmp_server_config {
    const char *socket_path;    /* NULL: no socket and no thread (qmp_conn_* only) */
    const struct qmp_command *cmds;
    unsigned ncmds;
    void *ctx;                  /* handlers' first argument */
    unsigned version[3];        /* greeting and query-version: major, minor, micro */
    const char *package;        /* "glassbox 0.1.0" */
    unsigned max_clients;       /* 0: QMP_MAX_CLIENTS */
    int private_dir;            /* an existing socket directory must be ours; made 0700 */
};

/* Built in: qmp_capabilities, query-commands, query-version. The table is
 * borrowed and must outlive the server. With a socket path: creates its
 * directory (0700) if missing (see private_dir), reclaims a stale socket file, refuses
 * (-EADDRINUSE) one a live server answers on, listens (mode 0600) and
 * starts the I/O thread. */
int qmp_server_create(struct qmp_server **out, const struct qmp_server_config *cfg, char *err,
                      size_t errlen);
/* Stops the thread, flushes what it can, closes every client, unlinks the
 * socket (if it is still ours). */
void qmp_server_destroy(struct qmp_server *s);
const char *qmp_server_path(const struct qmp_server *s);
/* Number of connected clients (tests). */
unsigned qmp_server_clients(struct qmp_server *s);

/* Broadcast {"event": NAME, "data": DATA, "timestamp": ...} to every
 * negotiated client. data is consumed; NULL sends no "data" member. */
void qmp_server_emit_event(struct qmp_server *s, const char *name, struct json_object *data);

/* --- socket-less connections (fuzzer, tests) ---------------------------- */
/* A connection with the greeting already queued as output. */
struct qmp_conn *qmp_conn_new(struct qmp_server *s);
/* Parse bytes, run complete commands, queue replies. 0, or -EMSGSIZE when
 * the queued output passed QMP_MAX_OUTPUT (a socket client is dropped). */
int qmp_conn_feed(struct qmp_conn *c, const void *buf, size_t len);
/* Queued output (NUL-terminated); take it, then empty the queue. Only
 * while no other thread emits events (the fuzzer and tests run commands
 * and events on one thread). */
const char *qmp_conn_output(struct qmp_conn *c, size_t *len);
void qmp_conn_drain(struct qmp_conn *c);
void qmp_conn_free(struct qmp_conn *c);

/* Helpers for handlers: "Parameter 'NAME' ..." errors as QEMU words them. */
const char *qmp_type_name(enum qmp_type t);

#endif
