/* The guest console on the host's stdio: raw terminal mode, an escape key
 * (Ctrl-a) for glassbox commands, and a pipe that feeds the guest's UART or
 * virtio-console. The terminal is restored on every exit path: normal
 * return, exit(), fatal signals. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "console.h"

#define ESC_KEY 0x01    /* Ctrl-a, as in QEMU */

struct console {
    int in_fd;
    int pipe_rd, pipe_wr;       /* guest side reads pipe_rd */
    int wake_rd, wake_wr;       /* stops the thread */
    int escape;
    int raw;
    pthread_t thread;
    int started;
    void (*on_quit)(void *opaque);
    void *opaque;
};

/* The saved terminal state lives in static storage because signal
 * handlers and atexit() can reach nothing else; it is written once, before
 * any handler is installed. */
static struct termios saved_tio;
static volatile sig_atomic_t tio_saved;
static int tio_fd = -1;

static void restore_tty(void)
{
    if (tio_saved) {
        tcsetattr(tio_fd, TCSANOW, &saved_tio);
        tio_saved = 0;
    }
}

static void fatal_signal(int sig)
{
    restore_tty();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        p += w;
        len -= (size_t)w;
    }
}

static void help(void)
{
    static const char msg[] =
        "\r\nglassbox console escapes (Ctrl-a then):\r\n"
        "  x    quit glassbox (the guest is stopped)\r\n"
        "  h    this help\r\n"
        "  a    send Ctrl-a to the guest\r\n";
    write_all(STDERR_FILENO, msg, sizeof(msg) - 1);
}

static void *console_thread(void *arg)
{
    struct console *c = arg;
    int pending_esc = 0;

    for (;;) {
        struct pollfd pfd[2] = { { c->in_fd, POLLIN, 0 }, { c->wake_rd, POLLIN, 0 } };
        unsigned char buf[256], out[256];
        size_t n_out = 0;
        ssize_t n;

        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[1].revents)
            break;
        n = read(c->in_fd, buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            break;              /* EOF: the guest just gets no more input */
        for (ssize_t i = 0; i < n; i++) {
            unsigned char ch = buf[i];
            if (pending_esc) {
                pending_esc = 0;
                if (ch == 'x' || ch == 'X') {
                    write_all(c->pipe_wr, out, n_out);
                    write_all(STDERR_FILENO, "\r\nglassbox: quit from the console\r\n", 35);
                    c->on_quit(c->opaque);
                    return NULL;
                }
                if (ch == 'h' || ch == 'H' || ch == '?') {
                    help();
                    continue;
                }
                if (ch != ESC_KEY && ch != 'a')
                    continue;
                ch = ESC_KEY;
            } else if (c->escape && ch == ESC_KEY) {
                pending_esc = 1;
                continue;
            }
            out[n_out++] = ch;
        }
        write_all(c->pipe_wr, out, n_out);
    }
    return NULL;
}

int console_open(struct console **out, int in_fd, int escape, void (*on_quit)(void *),
                 void *opaque, int *guest_fd)
{
    struct console *c = calloc(1, sizeof(*c));
    int p[2], w[2];

    if (!c)
        return -ENOMEM;
    if (pipe(p) < 0) {
        free(c);
        return -errno;
    }
    if (pipe(w) < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        free(c);
        return -e;
    }
    c->in_fd = in_fd;
    c->pipe_rd = p[0];
    c->pipe_wr = p[1];
    c->wake_rd = w[0];
    c->wake_wr = w[1];
    c->escape = escape;
    c->on_quit = on_quit;
    c->opaque = opaque;

    if (isatty(in_fd) && tcgetattr(in_fd, &saved_tio) == 0) {
        struct termios raw = saved_tio;
        tio_fd = in_fd;
        tio_saved = 1;
        atexit(restore_tty);
        signal(SIGTERM, fatal_signal);
        signal(SIGHUP, fatal_signal);
        signal(SIGSEGV, fatal_signal);
        signal(SIGABRT, fatal_signal);
        signal(SIGBUS, fatal_signal);
        /* raw input so Ctrl-C and friends reach the guest; keep output
         * processing so the guest's \n still returns the carriage */
        raw.c_iflag &= ~(unsigned)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
        raw.c_lflag &= ~(unsigned)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
        raw.c_cflag |= CS8;
        raw.c_cc[VMIN] = 1;
        raw.c_cc[VTIME] = 0;
        tcsetattr(in_fd, TCSANOW, &raw);
        c->raw = 1;
    }
    if (pthread_create(&c->thread, NULL, console_thread, c) != 0) {
        console_close(c);
        return -EAGAIN;
    }
    c->started = 1;
    *guest_fd = c->pipe_rd;
    *out = c;
    return 0;
}

void console_close(struct console *c)
{
    if (!c)
        return;
    if (c->started) {
        write_all(c->wake_wr, "x", 1);
        pthread_join(c->thread, NULL);
    }
    if (c->raw)
        restore_tty();
    close(c->pipe_rd);
    close(c->pipe_wr);
    close(c->wake_rd);
    close(c->wake_wr);
    free(c);
}
