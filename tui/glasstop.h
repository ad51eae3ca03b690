/* glasstop: options shared by main and the curses front end. */
#ifndef GLASSTOP_H
#define GLASSTOP_H

#include <stddef.h>
#include <stdint.h>

#include "stats_reader.h"

struct gt_opts {
    int once;
    int no_color;
    double interval;            /* seconds between refreshes */
    const char *name;           /* VM; NULL: the only one running */
};

/* The interactive console on the VM whose region r maps (ino: its
 * inode, to notice a replacement). Returns the exit status; err says
 * why when it is not 0. */
int gt_curses_run(const struct gt_opts *o, struct gb_reader *r, const char *name, uint64_t ino,
                  char *err, size_t errlen);

#endif
