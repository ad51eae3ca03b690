/* The glassbox control socket: the QMP command set of glassbox-qmp(7) on
 * top of qmp.c. It reaches the machine only through control_ops, the
 * lifecycle (query-status) and the stats region (query-stats,
 * query-hot-blocks).
 *
 * Wiring: create the lifecycle with an on_event that calls
 * control_on_lifecycle(control, ev) (and stats_on_lifecycle), then
 * control_start(). control_on_lifecycle(NULL, ev) does nothing, so the
 * callback may run before control_start() and after control_stop() as long
 * as the pointer it reads is NULL then. */
#ifndef GB_CONTROL_H
#define GB_CONTROL_H

#include <stddef.h>
#include <stdint.h>

struct json_object;
struct lifecycle;
struct lifecycle_event;
struct stats;
struct control;

struct control_cpu_info {
    unsigned index;
    int thread_id;              /* host tid, 0 when unknown */
    uint64_t pc;
    unsigned priv;              /* 0 U, 1 S, 3 M */
    int halted;                 /* in WFI */
};

/* Called on the control I/O thread, one at a time. Return 0, or -errno
 * with a one-line message in err (sent to the client as GenericError). */
struct control_ops {
    int (*pause)(void *opaque, char *err, size_t errlen);     /* returns once the vCPUs stopped */
    int (*resume)(void *opaque, char *err, size_t errlen);
    int (*reset)(void *opaque, char *err, size_t errlen);
    int (*powerdown)(void *opaque, char *err, size_t errlen); /* ask the guest */
    int (*quit)(void *opaque, char *err, size_t errlen);      /* stop the VM, engine exits */
    unsigned (*ncpus)(void *opaque);
    void (*cpu_info)(void *opaque, unsigned i, struct control_cpu_info *out);
    /* up to max_insns lines "0x80000000  addi a0,a0,1" of the block at
     * guest-physical ppc (vpc for display); line count or -errno.
     * May be NULL. */
    int (*disas)(void *opaque, uint64_t ppc, uint64_t vpc, unsigned max_insns,
                 char (*lines)[96], unsigned maxlines);
    /* guest symbol containing vpc: 0 with name and offset, or -ENOENT.
     * May be NULL. */
    int (*symbol)(void *opaque, uint64_t vpc, char *name, size_t len, uint64_t *offset);
    /* query-numa: a JSON object (the caller puts it), NULL when there is
     * no report. May be NULL. */
    struct json_object *(*query_numa)(void *opaque);
};

struct control_config {
    const char *vm_name;
    const char *socket_path;    /* NULL: gb_control_path(vm_name) */
    struct lifecycle *lc;
    struct stats *stats;        /* NULL with --no-stats */
    const struct control_ops *ops;
    void *opaque;
};

/* Listen on the socket (see qmp_server_create: -EADDRINUSE when a live
 * engine owns it). 0 or -errno with a one-line message. */
int control_start(struct control **out, const struct control_config *cfg, char *err,
                  size_t errlen);
/* Closes every connection, unlinks the socket. NULL is fine. */
void control_stop(struct control *c);
const char *control_socket_path(const struct control *c);
/* A lifecycle_event_fn: maps lifecycle events to QMP events (STOP,
 * RESUME, RESET, POWERDOWN, SHUTDOWN). */
void control_on_lifecycle(void *control, const struct lifecycle_event *ev);

/* The server underneath (tests and the fuzzer: qmp_conn_new on it). */
struct qmp_server *control_server(struct control *c);
/* Like control_start without a socket or thread (fuzzer). */
int control_start_detached(struct control **out, const struct control_config *cfg, char *err,
                           size_t errlen);

#endif
