/* User-mode networking on libslirp, like QEMU's `-netdev user`: a network
 * back-end (struct net_backend_ops, virtio_net.h) for virtio-net.
 *
 * The guest network is 10.0.2.0/24: gateway/host 10.0.2.2 (which reaches
 * the host's own 127.0.0.1), DNS 10.0.2.3, DHCP from slirp's built-in
 * server handing out addresses from 10.0.2.15. IPv4 only.
 *
 * Options (the text after `--net user,`, comma-separated):
 *   hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT
 * repeatable, as QEMU spells it (the protocol may be empty: tcp). An empty
 * HOSTADDR means 127.0.0.1: forwarded ports are bound on loopback only
 * unless an address is given (unlike QEMU, which binds all). An empty
 * GUESTADDR means 10.0.2.15. "tcp:8080-:80" (no host address part) is
 * accepted as well.
 *
 * Threads: libslirp is not thread-safe, so one I/O thread owns the Slirp
 * instance and does everything with it: a poll() loop over slirp's
 * sockets, slirp's timers and a wake-up eventfd. Frames from the guest
 * (send(), on a vCPU thread) go through a bounded queue to that thread
 * (dropped when full: TCP retransmits); frames from slirp go to the
 * receiver on the I/O thread. */
#ifndef GLASSBOX_DEVICES_NET_SLIRP_H
#define GLASSBOX_DEVICES_NET_SLIRP_H

#include <stddef.h>
#include <stdint.h>

#include "virtio_net.h"

#define NET_SLIRP_TXQ       256     /* frames queued for the I/O thread */
#define NET_SLIRP_MAX_FWD   32      /* hostfwd rules */

struct net_slirp;

/* be = the struct net_slirp. destroy is net_slirp_free. */
extern const struct net_backend_ops net_slirp_ops;

/* Counters, any thread, lock-free. */
struct net_slirp_stats {
    uint64_t to_slirp;          /* guest frames handed to slirp */
    uint64_t to_guest;          /* slirp frames handed to the receiver */
    uint64_t queue_dropped;     /* guest frames lost to a full queue */
    uint64_t no_receiver;       /* slirp frames with nobody to take them */
    uint64_t guest_errors;      /* slirp's guest_error reports */
};

/* Parse opts (a leading "user" or "user," is skipped), set up slirp and
 * the forwards, start the I/O thread. 0, or -errno with one line in err:
 *   --net 'user,hostfwd=tcp:x-:80': bad host port 'x'
 *   hostfwd tcp:127.0.0.1:8080: address in use */
int net_slirp_new(const char *opts, struct net_slirp **out, char *err,
                  size_t errlen);
/* Stop the I/O thread (waiting for it) and free everything. NULL is fine. */
void net_slirp_free(struct net_slirp *ns);
void net_slirp_stats(struct net_slirp *ns, struct net_slirp_stats *out);

#endif
