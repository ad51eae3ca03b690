/* glasstop's panels as lines of text. Both front ends use them: the
 * --once snapshot prints them, the curses UI places them in windows and
 * colours them by their attribute. */
#ifndef GT_PANELS_H
#define GT_PANELS_H

#include <stdio.h>

#include "gt_model.h"

enum gt_panel {
    GT_P_HEADER, GT_P_VCPU, GT_P_HOT, GT_P_TLB, GT_P_DEV, GT_P_NUMA, GT_P_EVENTS,
    GT_P_COUNT
};

/* How a line wants to look; the curses UI maps these to colours. */
enum gt_attr {
    GT_A_NORMAL, GT_A_HEAD,     /* column headings */
    GT_A_GOOD, GT_A_WARN, GT_A_BAD, GT_A_DIM,
    GT_A_COUNT
};

struct gt_view {
    int utf8;                   /* block elements, or ASCII */
    unsigned width;             /* columns; 0: no limit (text snapshot) */
    enum gt_sort sort;          /* hot-block order */
    unsigned hot_window;        /* enum gb_stats_hot_kind shown */
    unsigned hot_max;           /* at most this many hot blocks; 0: all */
    unsigned ev_max;            /* at most this many events (the newest); 0: all kept */
    const struct gt_symcache *syms;     /* may be NULL */
    const char *ctl_note;       /* why there are no symbols, or NULL */
    int titled;                 /* the front end titles panels with window and sort:
                                 * the hot panel leaves out its summary line */
};

/* Receives one line. `item` is the hot-block index (into the list) on
 * the hot panel's block rows, -1 elsewhere. */
typedef void (*gt_line_fn)(void *ctx, enum gt_attr a, int item, const char *text);

const char *gt_panel_title(enum gt_panel p);
/* Emit panel p's lines for the model's newest snapshot. */
void gt_panel_lines(enum gt_panel p, const struct gt_model *m, const struct gt_view *v,
                    gt_line_fn fn, void *ctx);
/* One-word state for the header: "running", "paused", ..., and "exited"
 * once the engine is gone. */
const char *gt_state_word(const struct gt_model *m);

/* Lines for each panel below the header (rows[GT_P_HEADER] is 0) when
 * `avail` lines are free and panel p has need[p] lines: every panel gets a
 * few, the focused one up to 3/5 of the room, the others in a fixed order
 * (hot blocks, TLB, vCPUs, devices, NUMA, events), the rest to the focus.
 * On a screen too small the least important shrink first. */
void gt_layout(const int need[GT_P_COUNT], enum gt_panel focus, int avail, int rows[GT_P_COUNT]);

/* The --once snapshot: every panel, titled, to f. */
void gt_text_snapshot(FILE *f, const struct gt_model *m, const struct gt_view *v);

#endif
