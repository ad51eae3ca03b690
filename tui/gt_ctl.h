/* glasstop's side of the control socket: a qmp_client connection that
 * may be absent (no server, another user's VM), the key commands, and
 * query-hot-blocks into the symbol/disassembly cache. */
#ifndef GT_CTL_H
#define GT_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "gt_model.h"

struct qmp_client;
struct json_object;

struct gt_ctl {
    struct qmp_client *c;       /* NULL: not connected */
    char name[GB_STATS_NAME_MAX];
    char err[256];              /* why not connected / last failure */
    uint64_t next_query_ns;     /* query-hot-blocks no more often than this */
    unsigned timeout_ms;
};

/* Connect to VM `name` (not fatal when it fails: ctl->err says why). */
int gt_ctl_open(struct gt_ctl *ctl, const char *name, unsigned timeout_ms);
void gt_ctl_close(struct gt_ctl *ctl);
/* One command without arguments ("stop", "cont", "system_reset", "quit").
 * 0, or -errno with msg saying why (QMP's "Class: desc" for its errors). */
int gt_ctl_command(struct gt_ctl *ctl, const char *cmd, char *msg, size_t len);
/* query-hot-blocks {"window": window, "count": count, "disas": disas}
 * into *c. 0 or -errno (ctl->err says why). */
int gt_ctl_fetch_hot(struct gt_ctl *ctl, const char *window, unsigned count, unsigned disas,
                     struct gt_symcache *c);
/* Refresh the cache when a block of the lists in *s is missing from it,
 * at most once per `min_gap_ns` (a lost connection is retried then). */
void gt_ctl_refresh(struct gt_ctl *ctl, const struct gt_snap *s, struct gt_symcache *c,
                    uint64_t now_ns, uint64_t min_gap_ns);
/* Store a query-hot-blocks return value {"blocks": [...]} in *c; the
 * number of blocks stored, or -EPROTO when it has another shape. */
int gt_ctl_parse_hot(struct json_object *ret, struct gt_symcache *c);

#endif
