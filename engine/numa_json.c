/* The NUMA report as JSON (query-numa); field names as in glassbox-qmp(7). */
#include <json-c/json.h>
#include <string.h>

#include "numa_json.h"

/* Fixed-size text fields of the report may lack a NUL if corrupted. */
static struct json_object *text(const char *s, size_t len)
{
    return json_object_new_string_len(s, (int)strnlen(s, len));
}

static struct json_object *int_or_null(int64_t v)
{
    return v < 0 ? NULL : json_object_new_int64(v);
}

static int add(struct json_object *o, const char *key, struct json_object *v, int may_be_null)
{
    if (!v && !may_be_null)
        return -1;
    return json_object_object_add(o, key, v);
}

static struct json_object *node_json(const void *rec)
{
    const struct gb_stats_numa_node *n = rec;
    struct json_object *o = json_object_new_object();

    if (!o)
        return NULL;
    if (add(o, "node", json_object_new_int64(n->os_index), 0) ||
        add(o, "cpus", text(n->cpus, sizeof(n->cpus)), 0) ||
        add(o, "pus", json_object_new_int64(n->npus), 0) ||
        add(o, "memory-bytes", json_object_new_uint64(n->mem_bytes), 0) ||
        add(o, "in-policy", json_object_new_boolean(!!(n->flags & GB_NUMA_NODE_IN_POLICY)), 0) ||
        add(o, "no-memory", json_object_new_boolean(!!(n->flags & GB_NUMA_NODE_NO_MEMORY)), 0) ||
        add(o, "sampled-pages", json_object_new_uint64(n->sampled_pages), 0) ||
        add(o, "estimated-bytes", json_object_new_uint64(n->est_bytes), 0)) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

static struct json_object *vcpu_json(const void *rec)
{
    const struct gb_stats_numa_vcpu *v = rec;
    struct json_object *o = json_object_new_object();

    if (!o)
        return NULL;
    if (add(o, "vcpu", json_object_new_int64(v->vcpu), 0) ||
        add(o, "tid", json_object_new_int64(v->tid), 0) ||
        add(o, "cpu", int_or_null(v->cpu), 1) ||
        add(o, "node", int_or_null(v->node), 1) ||
        add(o, "allowed", text(v->allowed, sizeof(v->allowed)), 0) ||
        add(o, "pinned", json_object_new_boolean(!!(v->flags & GB_NUMA_VCPU_PINNED)), 0) ||
        add(o, "away", json_object_new_boolean(!!(v->flags & GB_NUMA_VCPU_AWAY)), 0) ||
        add(o, "unknown", json_object_new_boolean(!!(v->flags & GB_NUMA_VCPU_UNKNOWN)), 0) ||
        add(o, "guest-node", int_or_null(v->guest_node), 1)) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

/* Appends one element per record; f converts one record. */
static struct json_object *array_of(const void *recs, size_t stride, unsigned n,
                                    struct json_object *(*f)(const void *))
{
    struct json_object *a = json_object_new_array();

    for (unsigned i = 0; a && i < n; i++) {
        struct json_object *e = f((const char *)recs + i * stride);
        if (!e || json_object_array_add(a, e)) {
            json_object_put(e);
            json_object_put(a);
            return NULL;
        }
    }
    return a;
}

struct json_object *numa_report_json(const struct gb_stats_numa_report *r)
{
    unsigned nn = r->nnodes < GB_STATS_NUMA_MAX_NODES ? r->nnodes : GB_STATS_NUMA_MAX_NODES;
    unsigned nv = r->nvcpus < GB_STATS_NUMA_MAX_VCPUS ? r->nvcpus : GB_STATS_NUMA_MAX_VCPUS;
    struct json_object *o = json_object_new_object();

    if (!o)
        return NULL;
    if (add(o, "policy", text(r->policy_text, sizeof(r->policy_text)), 0) ||
        add(o, "strict", json_object_new_boolean(r->strict != 0), 0) ||
        add(o, "ram-bytes", json_object_new_uint64(r->ram_bytes), 0) ||
        add(o, "sample-pages", json_object_new_uint64(r->sample_pages), 0) ||
        add(o, "sampled-resident", json_object_new_uint64(r->sampled_resident), 0) ||
        add(o, "sampled-absent", json_object_new_uint64(r->sampled_absent), 0) ||
        add(o, "passes", json_object_new_uint64(r->passes), 0) ||
        add(o, "pass-ns", json_object_new_uint64(r->pass_ns), 0) ||
        add(o, "bind-failures", json_object_new_int64(r->bind_failures), 0) ||
        add(o, "warning", text(r->warning, sizeof(r->warning)), 0) ||
        add(o, "guest-nodes", json_object_new_int64(r->guest_nodes), 0) ||
        add(o, "nodes", array_of(r->node, sizeof(r->node[0]), nn, node_json), 0) ||
        add(o, "vcpus", array_of(r->vcpu, sizeof(r->vcpu[0]), nv, vcpu_json), 0)) {
        json_object_put(o);
        return NULL;
    }
    return o;
}
