/* Guest console on host stdio (raw terminal, Ctrl-a escapes). */
#ifndef GB_CONSOLE_H
#define GB_CONSOLE_H

struct console;

/* Start forwarding in_fd to *guest_fd (a pipe the guest's UART reads).
 * When in_fd is a terminal it is put in raw mode until console_close() or
 * any exit. With escape set, Ctrl-a x calls on_quit (from the console
 * thread), Ctrl-a h prints help, Ctrl-a a sends a literal Ctrl-a. */
int console_open(struct console **c, int in_fd, int escape, void (*on_quit)(void *opaque),
                 void *opaque, int *guest_fd);
void console_close(struct console *c);

#endif
