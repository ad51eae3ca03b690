/* A small QMP client for the glassbox control socket (glassbox-qmp(7)):
 * connects, negotiates, runs one command at a time and queues the events
 * that arrive meanwhile. Not thread-safe: one user thread per client. */
#ifndef GB_QMP_CLIENT_H
#define GB_QMP_CLIENT_H

#include <stddef.h>

struct json_object;
struct qmp_client;

/* vm_name_or_path: a VM name (socket at gb_control_path()) or, when it
 * contains a '/', a socket path. Connects, reads the greeting and runs
 * qmp_capabilities. -ENOENT: no such VM; -ECONNREFUSED: a stale socket;
 * -ETIMEDOUT; -EPROTO: not a QMP server; -EREMOTEIO: the server refused
 * us ("GenericError: too many QMP clients"). */
int qmp_client_open(struct qmp_client **out, const char *vm_name_or_path, unsigned timeout_ms,
                    char *err, size_t errlen);
/* 0 and *ret (the caller json_object_put()s it) = the "return" value;
 * -EREMOTEIO with err "Class: desc" for a QMP error; other -errno
 * (-ETIMEDOUT, -ECONNRESET when the engine closed the socket, -EPROTO)
 * with a message. Events arriving meanwhile are queued. */
int qmp_client_execute(struct qmp_client *c, const char *cmd,
                       struct json_object *args /* borrowed, may be NULL */,
                       struct json_object **ret, unsigned timeout_ms, char *err, size_t errlen);
/* Reads what the socket has without waiting, then: 1 and *ev (the whole
 * event object, the caller puts it), or 0 when none is queued. */
int qmp_client_next_event(struct qmp_client *c, struct json_object **ev);
/* The socket, for poll() (readable: call qmp_client_next_event). */
int qmp_client_fd(const struct qmp_client *c);
void qmp_client_close(struct qmp_client *c);

#endif
