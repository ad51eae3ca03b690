/* glasstop's control-socket use: see gt_ctl.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "gt_ctl.h"
#include "qmp_client.h"

int gt_ctl_open(struct gt_ctl *ctl, const char *name, unsigned timeout_ms)
{
    int rc;

    if (name != ctl->name)
        snprintf(ctl->name, sizeof(ctl->name), "%s", name);
    ctl->timeout_ms = timeout_ms;
    ctl->err[0] = '\0';
    if (ctl->c)
        return 0;
    rc = qmp_client_open(&ctl->c, name, timeout_ms, ctl->err, sizeof(ctl->err));
    if (rc < 0)
        ctl->c = NULL;
    return rc;
}

void gt_ctl_close(struct gt_ctl *ctl)
{
    if (ctl->c)
        qmp_client_close(ctl->c);
    ctl->c = NULL;
}

/* A failed connection is dropped so that the next use reconnects (the VM
 * may have been restarted under the same name). */
static int execute(struct gt_ctl *ctl, const char *cmd, struct json_object *args,
                   struct json_object **ret)
{
    int rc;

    *ret = NULL;
    if (!ctl->c && gt_ctl_open(ctl, ctl->name, ctl->timeout_ms) < 0)
        return -ENOTCONN;
    rc = qmp_client_execute(ctl->c, cmd, args, ret, ctl->timeout_ms, ctl->err,
                            sizeof(ctl->err));
    if (rc < 0 && rc != -EREMOTEIO) {
        gt_ctl_close(ctl);
        return rc;
    }
    /* the stats region shows the state: drop the queued events (STOP,
     * RESUME, ...) rather than let them pile up */
    struct json_object *ev;
    while (qmp_client_next_event(ctl->c, &ev) == 1)
        json_object_put(ev);
    return rc;
}

int gt_ctl_command(struct gt_ctl *ctl, const char *cmd, char *msg, size_t len)
{
    struct json_object *ret;
    int rc = execute(ctl, cmd, NULL, &ret);

    if (rc < 0)
        snprintf(msg, len, "%s: %s", cmd,
                 ctl->err[0] ? ctl->err : "no connection to the control socket");
    else
        snprintf(msg, len, "%s: done", cmd);
    json_object_put(ret);
    return rc;
}

static const char *jstr(struct json_object *o, const char *key)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static int juint(struct json_object *o, const char *key, uint64_t *out)
{
    struct json_object *v;

    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
        return -1;
    *out = json_object_get_uint64(v);
    return 0;
}

int gt_ctl_parse_hot(struct json_object *ret, struct gt_symcache *c)
{
    struct json_object *blocks;
    int stored = 0;

    if (!ret || !json_object_object_get_ex(ret, "blocks", &blocks) ||
        !json_object_is_type(blocks, json_type_array))
        return -EPROTO;
    size_t n = json_object_array_length(blocks);
    for (size_t i = 0; i < n; i++) {
        struct json_object *b = json_object_array_get_idx(blocks, i), *d;
        const char *lines[256];
        unsigned nd = 0;
        uint64_t hart = 0, vpc = 0, ppc = 0;

        if (!json_object_is_type(b, json_type_object) || juint(b, "ppc", &ppc) < 0)
            continue;
        juint(b, "hart", &hart);
        juint(b, "vpc", &vpc);
        if (json_object_object_get_ex(b, "disas", &d) && json_object_is_type(d, json_type_array)) {
            size_t k = json_object_array_length(d);
            for (size_t j = 0; j < k && nd < 256; j++) {
                struct json_object *l = json_object_array_get_idx(d, j);
                if (json_object_is_type(l, json_type_string))
                    lines[nd++] = json_object_get_string(l);
            }
        }
        if (gt_sym_put(c, (uint32_t)hart, vpc, ppc, jstr(b, "symbol"), lines, nd) == 0)
            stored++;
    }
    return stored;
}

int gt_ctl_fetch_hot(struct gt_ctl *ctl, const char *window, unsigned count, unsigned disas,
                     struct gt_symcache *c)
{
    struct json_object *args = json_object_new_object(), *ret = NULL;
    int rc;

    if (!args)
        return -ENOMEM;
    json_object_object_add(args, "window", json_object_new_string(window));
    json_object_object_add(args, "count", json_object_new_int((int)count));
    json_object_object_add(args, "disas", json_object_new_int((int)disas));
    rc = execute(ctl, "query-hot-blocks", args, &ret);
    json_object_put(args);
    if (rc == 0) {
        rc = gt_ctl_parse_hot(ret, c);
        if (rc < 0)
            snprintf(ctl->err, sizeof(ctl->err), "query-hot-blocks: unexpected reply");
        else
            rc = 0;
    }
    json_object_put(ret);
    return rc;
}

static int list_missing(const struct gb_stats_hot_list *l, const struct gt_symcache *c)
{
    for (unsigned i = 0; i < l->count && i < GB_STATS_HOT_N; i++)
        if (!gt_sym_find(c, l->b[i].hart, l->b[i].ppc))
            return 1;
    return 0;
}

void gt_ctl_refresh(struct gt_ctl *ctl, const struct gt_snap *s, struct gt_symcache *c,
                    uint64_t now_ns, uint64_t min_gap_ns)
{
    static const char *const window[2] = { "total", "recent" };

    if (now_ns < ctl->next_query_ns)
        return;
    for (unsigned k = 0; k < 2; k++) {
        if (!list_missing(&s->hot[k], c))
            continue;
        ctl->next_query_ns = now_ns + min_gap_ns;
        if (gt_ctl_fetch_hot(ctl, window[k], GB_STATS_HOT_N, 4, c) == -ENOTCONN)
            return;
    }
}
