/* The VM lifecycle: one state machine, thread-safe.
 *
 *   created -> running | paused | shutting-down | error
 *   running -> paused | shutting-down | error
 *   paused  -> running | shutting-down | error
 *   shutting-down -> stopped | error
 *   stopped, error: final
 *
 * Every transition is timestamped and reported to the event callback (the
 * stats ring, QMP events) and, with an event log, appended to a JSON-lines
 * journal that is fsync'd per event. Harts park in lifecycle_wait_running()
 * between slices while the VM is created or paused. */
#ifndef GB_LIFECYCLE_H
#define GB_LIFECYCLE_H

#include <stddef.h>
#include <stdint.h>

#include "glassbox/stats.h"     /* enum gb_vm_state */

struct lifecycle;

struct lifecycle_event {
    const char *vm;
    const char *event;          /* "START", "STOP", "RESUME", "SHUTDOWN", "TERMINATED",
                                 * "ERROR", or a note's name ("RESET", ...) */
    enum gb_vm_state from, to;  /* equal for notes */
    const char *reason;         /* NULL when none */
    uint64_t mono_ns, real_ns;
};

/* Called with the lifecycle lock held, in transition order; it must not
 * call back into the lifecycle. */
typedef void (*lifecycle_event_fn)(void *opaque, const struct lifecycle_event *ev);

struct lifecycle_config {
    const char *vm_name;
    const char *event_log;      /* --event-log FILE, NULL: none */
    lifecycle_event_fn on_event;    /* may be NULL */
    void *opaque;
};

/* Starts in `created`. -errno with a message when the event log cannot
 * be opened for appending. */
int lifecycle_create(struct lifecycle **out, const struct lifecycle_config *cfg, char *err,
                     size_t errlen);
void lifecycle_destroy(struct lifecycle *lc);

/* Move to `to`. 0 on success; -EINVAL with a message naming both states
 * when the transition is not allowed (or an error lacks a reason), and
 * nothing changes; -EIO when the transition happened but the journal
 * could not be written (the message says so). */
int lifecycle_transition(struct lifecycle *lc, enum gb_vm_state to, const char *reason,
                         char *err, size_t errlen);
/* An event that is not a transition (RESET, POWERDOWN, ...): reported and
 * journaled like one, with from == to == the current state. */
int lifecycle_note(struct lifecycle *lc, const char *event, const char *reason, char *err,
                   size_t errlen);

/* Lock-free read of the current state. */
enum gb_vm_state lifecycle_state(const struct lifecycle *lc);
struct lifecycle_status {
    enum gb_vm_state state, prev;
    uint64_t since_mono_ns, since_real_ns;
    char reason[256];
};
void lifecycle_get(struct lifecycle *lc, struct lifecycle_status *st);

int lifecycle_allowed(enum gb_vm_state from, enum gb_vm_state to);
/* Event name of an allowed transition, NULL otherwise. */
const char *lifecycle_event_name(enum gb_vm_state from, enum gb_vm_state to);

/* For vCPU threads, between slices: returns at once while running (one
 * atomic load); blocks while created or paused; returns the state that
 * ended the wait (running, or shutting-down/stopped/error: leave the loop). */
enum gb_vm_state lifecycle_wait_running(struct lifecycle *lc);
/* Wait until n threads are parked in lifecycle_wait_running() (after a
 * pause, to answer `stop` once the vCPUs really stopped). 0, or -ETIMEDOUT. */
int lifecycle_wait_parked(struct lifecycle *lc, unsigned n, unsigned timeout_ms);

#endif
