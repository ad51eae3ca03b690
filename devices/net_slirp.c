/* libslirp user networking back-end. See net_slirp.h for the contract. */
#define _GNU_SOURCE             /* eventfd, pthread_sigmask */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <libslirp.h>

#include "net_slirp.h"

#define NET_ADDR    "10.0.2.0"
#define NET_MASK    "255.255.255.0"
#define HOST_ADDR   "10.0.2.2"
#define DNS_ADDR    "10.0.2.3"
#define DHCP_START  "10.0.2.15"
#define FWD_HOST_DEFAULT "127.0.0.1"

struct fwd {
    bool udp;
    struct in_addr host, guest;
    int host_port, guest_port;
};

/* A slirp timer; only the I/O thread (or the owner before it starts and
 * after it ends) touches the list. */
struct ns_timer {
    struct ns_timer *next;
    SlirpTimerCb cb;
    void *cb_opaque;
    int64_t expire_ms;          /* -1: not armed */
    bool due;
};

struct pkt {
    uint8_t *data;
    size_t len;
};

struct ns_counters {
    _Atomic uint64_t to_slirp, to_guest, queue_dropped, no_receiver,
        guest_errors;
};

struct net_slirp {
    Slirp *slirp;
    struct ns_timer *timers;
    struct ns_counters st;

    /* I/O thread's poll set, rebuilt every round. */
    struct pollfd *pfd;
    unsigned npfd, cap_pfd;

    int wake_fd;                /* eventfd: tx queued or stop requested */
    pthread_t thread;
    bool have_thread;

    /* Guest-to-slirp queue and the stop flag. */
    pthread_mutex_t lock;
    struct pkt txq[NET_SLIRP_TXQ];
    unsigned tx_head, tx_count;
    bool stop;

    /* The receiver; held while it runs, so removing it waits for it. */
    pthread_mutex_t rx_lock;
    net_rx_fn *rx;
    void *rx_opaque;
};

static void count(_Atomic uint64_t *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void wake(struct net_slirp *ns)
{
    uint64_t one = 1;
    ssize_t r;

    /* EAGAIN would mean the counter is saturated: already awake. */
    do {
        r = write(ns->wake_fd, &one, sizeof(one));
    } while (r < 0 && errno == EINTR);
}

/* ---- slirp callbacks (I/O thread, or the owner when no thread runs) ---- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
    struct net_slirp *ns = opaque;

    pthread_mutex_lock(&ns->rx_lock);
    if (ns->rx) {
        ns->rx(ns->rx_opaque, buf, len);
        count(&ns->st.to_guest);
    } else {
        count(&ns->st.no_receiver);
    }
    pthread_mutex_unlock(&ns->rx_lock);
    return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
    struct net_slirp *ns = opaque;

    /* The guest's own business; counted, never printed from here. */
    (void)msg;
    count(&ns->st.guest_errors);
}

static int64_t cb_clock_get_ns(void *opaque)
{
    (void)opaque;
    return now_ns();
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    struct net_slirp *ns = opaque;
    struct ns_timer *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    t->cb = cb;
    t->cb_opaque = cb_opaque;
    t->expire_ms = -1;
    t->next = ns->timers;
    ns->timers = t;
    return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
    struct net_slirp *ns = opaque;
    struct ns_timer **pp;

    for (pp = &ns->timers; *pp; pp = &(*pp)->next) {
        if (*pp == timer) {
            *pp = (*pp)->next;
            free(timer);
            return;
        }
    }
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    struct ns_timer *t = timer;

    (void)opaque;
    if (t)
        t->expire_ms = expire_ms < 0 ? 0 : expire_ms;
}

/* Every round polls slirp's current sockets afresh, so per-fd
 * registration needs no bookkeeping. */
static void cb_register_poll_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque;
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
    (void)fd;
    (void)opaque;
}

static void cb_notify(void *opaque)
{
    wake(opaque);
}

static const SlirpCb slirp_callbacks = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_unregister_poll_fd,
    .notify = cb_notify,
};

/* ---- the I/O thread ---- */

static int add_poll(int fd, int events, void *opaque)
{
    struct net_slirp *ns = opaque;
    short ev = 0;

    if (ns->npfd == ns->cap_pfd) {
        unsigned cap = ns->cap_pfd ? 2 * ns->cap_pfd : 16;
        struct pollfd *p = realloc(ns->pfd, cap * sizeof(*p));

        if (!p)
            return -1;          /* that socket just waits a round */
        ns->pfd = p;
        ns->cap_pfd = cap;
    }
    if (events & SLIRP_POLL_IN)
        ev |= POLLIN;
    if (events & SLIRP_POLL_OUT)
        ev |= POLLOUT;
    if (events & SLIRP_POLL_PRI)
        ev |= POLLPRI;
    ns->pfd[ns->npfd] = (struct pollfd){ .fd = fd, .events = ev };
    return (int)ns->npfd++;
}

static int get_revents(int idx, void *opaque)
{
    struct net_slirp *ns = opaque;
    short re;
    int ev = 0;

    if (idx < 0 || (unsigned)idx >= ns->npfd)
        return 0;
    re = ns->pfd[idx].revents;
    if (re & POLLIN)
        ev |= SLIRP_POLL_IN;
    if (re & POLLOUT)
        ev |= SLIRP_POLL_OUT;
    if (re & POLLPRI)
        ev |= SLIRP_POLL_PRI;
    if (re & (POLLERR | POLLNVAL))
        ev |= SLIRP_POLL_ERR;
    if (re & POLLHUP)
        ev |= SLIRP_POLL_HUP;
    return ev;
}

/* Milliseconds poll() may sleep given slirp's own timeout and ours. */
static int poll_timeout(struct net_slirp *ns, uint32_t slirp_ms)
{
    int64_t ms = slirp_ms == UINT32_MAX ? -1 : (int64_t)slirp_ms;
    int64_t now = now_ns() / 1000000;
    struct ns_timer *t;

    for (t = ns->timers; t; t = t->next) {
        int64_t left;

        if (t->expire_ms < 0)
            continue;
        left = t->expire_ms > now ? t->expire_ms - now : 0;
        if (ms < 0 || left < ms)
            ms = left;
    }
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void run_timers(struct net_slirp *ns)
{
    int64_t now = now_ns() / 1000000;
    struct ns_timer *t;

    /* Mark first, then fire: a callback may free timers or re-arm itself
     * for "now", which must wait for the next round. */
    for (t = ns->timers; t; t = t->next)
        t->due = t->expire_ms >= 0 && t->expire_ms <= now;
    for (;;) {
        for (t = ns->timers; t && !t->due; t = t->next)
            ;
        if (!t)
            break;
        t->due = false;
        t->expire_ms = -1;
        t->cb(t->cb_opaque);
    }
}

static void *io_main(void *arg)
{
    struct net_slirp *ns = arg;
    struct pkt batch[NET_SLIRP_TXQ];

    for (;;) {
        unsigned n = 0, i;
        uint32_t timeout = UINT32_MAX;
        bool stop;
        int r;

        pthread_mutex_lock(&ns->lock);
        stop = ns->stop;
        while (ns->tx_count) {
            batch[n++] = ns->txq[ns->tx_head];
            ns->tx_head = (ns->tx_head + 1) % NET_SLIRP_TXQ;
            ns->tx_count--;
        }
        pthread_mutex_unlock(&ns->lock);
        for (i = 0; i < n; i++) {
            if (!stop) {
                slirp_input(ns->slirp, batch[i].data, (int)batch[i].len);
                count(&ns->st.to_slirp);
            }
            free(batch[i].data);
        }
        if (stop)
            break;

        ns->npfd = 0;
        add_poll(ns->wake_fd, SLIRP_POLL_IN, ns);
        slirp_pollfds_fill(ns->slirp, &timeout, add_poll, ns);
        r = poll(ns->pfd, ns->npfd, poll_timeout(ns, timeout));
        if (r > 0 && (ns->pfd[0].revents & POLLIN)) {
            uint64_t v;

            if (read(ns->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                break;          /* cannot happen with a sane eventfd */
        }
        /* Always paired with the fill: slirp runs its TCP timers here. */
        slirp_pollfds_poll(ns->slirp, r < 0, get_revents, ns);
        run_timers(ns);
    }
    return NULL;
}

/* ---- back-end ops ---- */

static int ns_send(void *be, const uint8_t *frame, size_t len)
{
    struct net_slirp *ns = be;
    bool was_empty;
    uint8_t *copy;

    if (!len || len > VIRTIO_NET_MAX_FRAME)
        return -EMSGSIZE;
    copy = malloc(len);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, frame, len);
    pthread_mutex_lock(&ns->lock);
    if (ns->stop || ns->tx_count == NET_SLIRP_TXQ) {
        pthread_mutex_unlock(&ns->lock);
        free(copy);
        count(&ns->st.queue_dropped);
        return -ENOBUFS;
    }
    ns->txq[(ns->tx_head + ns->tx_count) % NET_SLIRP_TXQ] =
        (struct pkt){ copy, len };
    was_empty = ns->tx_count++ == 0;
    pthread_mutex_unlock(&ns->lock);
    /* A non-empty queue already has a wake-up pending. */
    if (was_empty)
        wake(ns);
    return 0;
}

static void ns_set_receiver(void *be, net_rx_fn *rx, void *opaque)
{
    struct net_slirp *ns = be;

    pthread_mutex_lock(&ns->rx_lock);
    ns->rx = rx;
    ns->rx_opaque = opaque;
    pthread_mutex_unlock(&ns->rx_lock);
}

static void ns_destroy(void *be)
{
    net_slirp_free(be);
}

const struct net_backend_ops net_slirp_ops = {
    .send = ns_send,
    .set_receiver = ns_set_receiver,
    .destroy = ns_destroy,
};

/* ---- options ---- */

/* 1..65535, decimal digits only. */
static int parse_port(const char *s, size_t len)
{
    int v = 0;
    size_t i;

    if (!len || len > 5)
        return -1;
    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v >= 1 && v <= 65535 ? v : -1;
}

static bool parse_addr(const char *s, size_t len, struct in_addr *a)
{
    char buf[INET_ADDRSTRLEN];

    if (len >= sizeof(buf))
        return false;
    memcpy(buf, s, len);
    buf[len] = 0;
    return inet_pton(AF_INET, buf, a) == 1;
}

/* Split "[ADDR:]PORT" (ADDR may be empty) at its last colon. */
static void split_addr_port(const char *s, size_t len, const char **addr,
                            size_t *alen, const char **port, size_t *plen)
{
    const char *c = memchr(s, ':', len);

    if (c) {
        *addr = s;
        *alen = (size_t)(c - s);
        *port = c + 1;
        *plen = len - *alen - 1;
    } else {
        *addr = s;
        *alen = 0;
        *port = s;
        *plen = len;
    }
}

/* One hostfwd rule: [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT.
 * 0, or -EINVAL with what was wrong in why. */
static int parse_fwd(const char *rule, struct fwd *f, char *why, size_t wl)
{
    const char *dash = strchr(rule, '-'), *colon, *hs, *a, *p;
    size_t hlen, alen, plen;
    struct in_addr net, mask;

    colon = strchr(rule, ':');
    if (!dash || !colon || colon > dash) {
        snprintf(why, wl, "bad hostfwd '%s': expected "
                 "[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport", rule);
        return -EINVAL;
    }
    if (colon == rule || (colon - rule == 3 && !strncmp(rule, "tcp", 3))) {
        f->udp = false;
    } else if (colon - rule == 3 && !strncmp(rule, "udp", 3)) {
        f->udp = true;
    } else {
        snprintf(why, wl, "bad protocol '%.*s' (tcp or udp)",
                 (int)(colon - rule), rule);
        return -EINVAL;
    }

    hs = colon + 1;
    hlen = (size_t)(dash - hs);
    split_addr_port(hs, hlen, &a, &alen, &p, &plen);
    if (!alen) {
        inet_pton(AF_INET, FWD_HOST_DEFAULT, &f->host);
    } else if (!parse_addr(a, alen, &f->host)) {
        snprintf(why, wl, "bad host address '%.*s'", (int)alen, a);
        return -EINVAL;
    }
    if ((f->host_port = parse_port(p, plen)) < 0) {
        snprintf(why, wl, "bad host port '%.*s'", (int)plen, p);
        return -EINVAL;
    }

    split_addr_port(dash + 1, strlen(dash + 1), &a, &alen, &p, &plen);
    inet_pton(AF_INET, NET_ADDR, &net);
    inet_pton(AF_INET, NET_MASK, &mask);
    if (!alen) {
        inet_pton(AF_INET, DHCP_START, &f->guest);
    } else if (!parse_addr(a, alen, &f->guest)) {
        snprintf(why, wl, "bad guest address '%.*s'", (int)alen, a);
        return -EINVAL;
    } else if ((f->guest.s_addr & mask.s_addr) != net.s_addr) {
        snprintf(why, wl, "guest address '%.*s' is not in 10.0.2.0/24",
                 (int)alen, a);
        return -EINVAL;
    }
    if ((f->guest_port = parse_port(p, plen)) < 0) {
        snprintf(why, wl, "bad guest port '%.*s'", (int)plen, p);
        return -EINVAL;
    }
    return 0;
}

/* opts without the leading "user,". Fills fwds; 0 or -EINVAL (why set). */
static int parse_opts(const char *opts, struct fwd *fwds, unsigned *nfwd,
                      char *why, size_t wl)
{
    char *copy = strdup(opts), *tok, *save = NULL;
    int err = 0;

    if (!copy) {
        snprintf(why, wl, "out of memory");
        return -ENOMEM;
    }
    *nfwd = 0;
    for (tok = strtok_r(copy, ",", &save); tok && !err;
         tok = strtok_r(NULL, ",", &save)) {
        if (!strncmp(tok, "hostfwd=", 8)) {
            if (*nfwd == NET_SLIRP_MAX_FWD) {
                snprintf(why, wl, "more than %d hostfwd rules",
                         NET_SLIRP_MAX_FWD);
                err = -EINVAL;
            } else {
                err = parse_fwd(tok + 8, &fwds[*nfwd], why, wl);
                if (!err)
                    (*nfwd)++;
            }
        } else {
            snprintf(why, wl, "unknown option '%s' (supported: "
                     "hostfwd=[tcp|udp]:[hostaddr]:hostport-"
                     "[guestaddr]:guestport)", tok);
            err = -EINVAL;
        }
    }
    free(copy);
    return err;
}

/* ---- lifetime ---- */

static int start_thread(struct net_slirp *ns)
{
    sigset_t all, old;
    int err;

    /* A full mask: process signals go to threads that expect them, and a
     * SIGPIPE from a socket write here stays with this thread (the write
     * just fails with EPIPE) instead of killing the process. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    err = pthread_create(&ns->thread, NULL, io_main, ns);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err)
        return -err;
    ns->have_thread = true;
    return 0;
}

int net_slirp_new(const char *opts, struct net_slirp **out, char *err,
                  size_t errlen)
{
    SlirpConfig cfg = { .version = 1, .in_enabled = true };
    struct fwd fwds[NET_SLIRP_MAX_FWD];
    struct net_slirp *ns;
    char why[200];
    unsigned nfwd, i;
    int r;

    *out = NULL;
    if (!opts)
        opts = "";
    if (!strncmp(opts, "user", 4) && (opts[4] == ',' || !opts[4]))
        opts += opts[4] ? 5 : 4;
    if ((r = parse_opts(opts, fwds, &nfwd, why, sizeof(why))) < 0) {
        snprintf(err, errlen, "--net 'user%s%s': %s", *opts ? "," : "", opts,
                 why);
        return r;
    }

    ns = calloc(1, sizeof(*ns));
    if (!ns) {
        snprintf(err, errlen, "--net user: out of memory");
        return -ENOMEM;
    }
    ns->wake_fd = -1;
    if ((r = pthread_mutex_init(&ns->lock, NULL)) != 0) {
        free(ns);
        snprintf(err, errlen, "--net user: %s", strerror(r));
        return -r;
    }
    if ((r = pthread_mutex_init(&ns->rx_lock, NULL)) != 0) {
        pthread_mutex_destroy(&ns->lock);
        free(ns);
        snprintf(err, errlen, "--net user: %s", strerror(r));
        return -r;
    }
    /* Room up front, so the wake-up descriptor always gets index 0. */
    ns->pfd = calloc(16, sizeof(*ns->pfd));
    ns->cap_pfd = ns->pfd ? 16 : 0;
    ns->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (!ns->pfd || ns->wake_fd < 0) {
        r = ns->pfd ? -errno : -ENOMEM;
        snprintf(err, errlen, "--net user: %s", strerror(-r));
        goto fail;
    }

    inet_pton(AF_INET, NET_ADDR, &cfg.vnetwork);
    inet_pton(AF_INET, NET_MASK, &cfg.vnetmask);
    inet_pton(AF_INET, HOST_ADDR, &cfg.vhost);
    inet_pton(AF_INET, DHCP_START, &cfg.vdhcp_start);
    inet_pton(AF_INET, DNS_ADDR, &cfg.vnameserver);
    ns->slirp = slirp_new(&cfg, &slirp_callbacks, ns);
    if (!ns->slirp) {
        r = -ENOMEM;
        snprintf(err, errlen, "--net user: libslirp failed to start");
        goto fail;
    }

    /* Still single-threaded here, so slirp may be used directly. */
    for (i = 0; i < nfwd; i++) {
        const struct fwd *f = &fwds[i];
        char host[INET_ADDRSTRLEN];

        errno = 0;
        if (slirp_add_hostfwd(ns->slirp, f->udp, f->host, f->host_port,
                              f->guest, f->guest_port) == 0)
            continue;
        r = errno ? -errno : -EADDRINUSE;
        inet_ntop(AF_INET, &f->host, host, sizeof(host));
        snprintf(err, errlen, "hostfwd %s:%s:%d: %s", f->udp ? "udp" : "tcp",
                 host, f->host_port,
                 r == -EADDRINUSE ? "address in use" : strerror(-r));
        goto fail;
    }
    if ((r = start_thread(ns)) < 0) {
        snprintf(err, errlen, "--net user: cannot start the I/O thread: %s",
                 strerror(-r));
        goto fail;
    }
    *out = ns;
    return 0;

fail:
    net_slirp_free(ns);
    return r;
}

void net_slirp_free(struct net_slirp *ns)
{
    if (!ns)
        return;
    if (ns->have_thread) {
        pthread_mutex_lock(&ns->lock);
        ns->stop = true;
        pthread_mutex_unlock(&ns->lock);
        wake(ns);
        pthread_join(ns->thread, NULL);
    }
    while (ns->tx_count) {
        free(ns->txq[ns->tx_head].data);
        ns->tx_head = (ns->tx_head + 1) % NET_SLIRP_TXQ;
        ns->tx_count--;
    }
    if (ns->slirp)
        slirp_cleanup(ns->slirp);   /* frees its timers through us */
    while (ns->timers) {
        struct ns_timer *t = ns->timers;

        ns->timers = t->next;
        free(t);
    }
    if (ns->wake_fd >= 0)
        close(ns->wake_fd);
    free(ns->pfd);
    pthread_mutex_destroy(&ns->rx_lock);
    pthread_mutex_destroy(&ns->lock);
    free(ns);
}

void net_slirp_stats(struct net_slirp *ns, struct net_slirp_stats *out)
{
    const struct ns_counters *s = &ns->st;

    out->to_slirp = atomic_load_explicit(&s->to_slirp, memory_order_relaxed);
    out->to_guest = atomic_load_explicit(&s->to_guest, memory_order_relaxed);
    out->queue_dropped =
        atomic_load_explicit(&s->queue_dropped, memory_order_relaxed);
    out->no_receiver =
        atomic_load_explicit(&s->no_receiver, memory_order_relaxed);
    out->guest_errors =
        atomic_load_explicit(&s->guest_errors, memory_order_relaxed);
}
