/* The glassbox control socket: where it lives. Shared by the engine's
 * server and every client (glassbox ctl, glasstop); the protocol itself
 * is QMP and documented in glassbox-qmp(7).
 *
 * Location: $XDG_RUNTIME_DIR/glassbox/NAME.sock. When XDG_RUNTIME_DIR is
 * unset, empty, relative, too long or not an existing directory, the
 * fallback is /tmp/glassbox-UID/NAME.sock. The server creates the last
 * directory component with mode 0700 and refuses one that another user
 * owns or that others can enter.
 *
 * This header includes nothing of the project. */
#ifndef GLASSBOX_CONTROL_H
#define GLASSBOX_CONTROL_H

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GB_CONTROL_SUBDIR   "glassbox"
#define GB_CONTROL_SUFFIX   ".sock"
#define GB_CONTROL_PATH_MAX 108         /* sizeof(sockaddr_un.sun_path) on Linux */

/* The directory holding the sockets. 0, or -ENAMETOOLONG when buf is too
 * small. */
static inline int gb_control_dir(char *buf, size_t len)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    char dir[GB_CONTROL_PATH_MAX + sizeof(GB_CONTROL_SUBDIR) + 1];
    struct stat st;

    if (xdg && xdg[0] == '/' && strlen(xdg) < GB_CONTROL_PATH_MAX &&
        stat(xdg, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(dir, sizeof(dir), "%s/" GB_CONTROL_SUBDIR, xdg);
    else
        snprintf(dir, sizeof(dir), "/tmp/" GB_CONTROL_SUBDIR "-%u", (unsigned)getuid());
    /* measured first, so that nothing is ever cut short */
    if (strlen(dir) >= len)
        return -ENAMETOOLONG;
    memcpy(buf, dir, strlen(dir) + 1);
    return 0;
}

/* DIR/NAME.sock. -EINVAL for an empty name or one with a '/', and
 * -ENAMETOOLONG when the path does not fit buf or a socket address. */
static inline int gb_control_path(char *buf, size_t len, const char *vm_name)
{
    char dir[GB_CONTROL_PATH_MAX];
    size_t d, v;

    if (!vm_name || !vm_name[0] || strchr(vm_name, '/'))
        return -EINVAL;
    if (gb_control_dir(dir, sizeof(dir)) < 0)
        return -ENAMETOOLONG;
    d = strlen(dir);
    v = strlen(vm_name);
    if (d + 1 + v + sizeof(GB_CONTROL_SUFFIX) > len ||
        d + 1 + v + sizeof(GB_CONTROL_SUFFIX) > GB_CONTROL_PATH_MAX)
        return -ENAMETOOLONG;
    memcpy(buf, dir, d);
    buf[d] = '/';
    memcpy(buf + d + 1, vm_name, v);
    memcpy(buf + d + 1 + v, GB_CONTROL_SUFFIX, sizeof(GB_CONTROL_SUFFIX));
    return 0;
}

#endif
