/* Host topology from hwloc, copied into plain arrays once at open. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numa_priv.h"

static int bitmap_to_set(hwloc_const_bitmap_t b, struct numa_set *s)
{
    int i;

    numa_set_zero(s);
    if (!b)
        return 0;
    if (hwloc_bitmap_weight(b) < 0)
        return -ERANGE;                 /* infinite set */
    hwloc_bitmap_foreach_begin(i, b)
        if (numa_set_add(s, (unsigned)i) < 0)
            return -ERANGE;
    hwloc_bitmap_foreach_end();
    return 0;
}

static int snapshot(struct numa_topo *t, char *err, size_t errlen)
{
    hwloc_topology_t hw = t->hw;
    int depth = hwloc_get_type_depth(hw, HWLOC_OBJ_NUMANODE);
    int n = hwloc_get_nbobjs_by_depth(hw, depth);
    int nc = hwloc_get_nbobjs_by_type(hw, HWLOC_OBJ_CORE);
    hwloc_obj_t root = hwloc_get_root_obj(hw);

    if (n <= 0) {
        snprintf(err, errlen, "hwloc found no NUMA node");
        return -ENODEV;
    }
    if (bitmap_to_set(root->cpuset, &t->cpus) < 0) {
        snprintf(err, errlen, "host CPU numbers go beyond glassbox's limit of %d",
                 NUMA_SET_BITS - 1);
        return -ERANGE;
    }
    t->nodes = calloc((size_t)n, sizeof(*t->nodes));
    if (!t->nodes)
        goto nomem;
    t->nnodes = (unsigned)n;
    for (int i = 0; i < n; i++) {
        hwloc_obj_t o = hwloc_get_obj_by_depth(hw, depth, (unsigned)i);
        struct numa_node_info *ni = &t->nodes[i];
        ni->os_index = o->os_index;
        ni->memory = o->attr ? o->attr->numanode.local_memory : 0;
        if (numa_set_add(&t->node_set, o->os_index) < 0 ||
            bitmap_to_set(o->cpuset, &ni->cpus) < 0) {
            snprintf(err, errlen, "host NUMA node %u goes beyond glassbox's limit "
                     "of %d", o->os_index, NUMA_SET_BITS - 1);
            return -ERANGE;
        }
        numa_set_and(&ni->cpus, &t->cpus);
        t->memory += ni->memory;
    }
    /* without cores (some XML files), every PU is its own core */
    if (nc <= 0) {
        nc = (int)numa_set_count(&t->cpus);
        t->cores = calloc((size_t)nc, sizeof(*t->cores));
        if (!t->cores)
            goto nomem;
        int c = 0;
        for (int i = numa_set_first(&t->cpus); i >= 0; i = numa_set_next(&t->cpus, i))
            numa_set_add(&t->cores[c++], (unsigned)i);
    } else {
        t->cores = calloc((size_t)nc, sizeof(*t->cores));
        if (!t->cores)
            goto nomem;
        for (int i = 0; i < nc; i++)
            bitmap_to_set(hwloc_get_obj_by_type(hw, HWLOC_OBJ_CORE, (unsigned)i)->cpuset,
                          &t->cores[i]);
    }
    t->ncores = (unsigned)nc;

    unsigned nr = 1;
    struct hwloc_distances_s *d = NULL;
    if (hwloc_distances_get_by_type(hw, HWLOC_OBJ_NUMANODE, &nr, &d, 0, 0) == 0 &&
        nr >= 1) {
        t->dist = calloc((size_t)n * (size_t)n, sizeof(*t->dist));
        if (t->dist) {
            for (unsigned a = 0; a < d->nbobjs; a++) {
                for (unsigned b = 0; b < d->nbobjs; b++) {
                    unsigned la = d->objs[a]->logical_index;
                    unsigned lb = d->objs[b]->logical_index;
                    if (la < (unsigned)n && lb < (unsigned)n)
                        t->dist[la * (unsigned)n + lb] = d->values[a * d->nbobjs + b];
                }
            }
        }
        hwloc_distances_release(hw, d);
        if (!t->dist)
            goto nomem;
    }
    return 0;
nomem:
    snprintf(err, errlen, "out of memory reading the host topology");
    return -ENOMEM;
}

int numa_topo_open(struct numa_topo **tp, const char *xml, const char *synthetic,
                   char *err, size_t errlen)
{
    struct numa_topo *t = calloc(1, sizeof(*t));
    int r;

    *tp = NULL;
    if (!t) {
        snprintf(err, errlen, "out of memory reading the host topology");
        return -ENOMEM;
    }
    if (hwloc_topology_init(&t->hw) < 0) {
        r = -errno;
        free(t);
        snprintf(err, errlen, "hwloc: cannot initialise: %s", strerror(-r));
        return r;
    }
    if (xml && hwloc_topology_set_xml(t->hw, xml) < 0) {
        r = -errno;
        snprintf(err, errlen, "topology '%s': cannot read it as hwloc XML (%s)",
                 xml, strerror(-r));
        goto fail;
    }
    if (!xml && synthetic && hwloc_topology_set_synthetic(t->hw, synthetic) < 0) {
        r = -EINVAL;
        snprintf(err, errlen, "synthetic topology '%s': hwloc rejects it", synthetic);
        goto fail;
    }
    if (hwloc_topology_load(t->hw) < 0) {
        r = -errno;
        snprintf(err, errlen, "hwloc: cannot load the topology: %s", strerror(-r));
        goto fail;
    }
    t->this_system = hwloc_topology_is_thissystem(t->hw);
    r = snapshot(t, err, errlen);
    if (r < 0)
        goto fail;
    *tp = t;
    return 0;
fail:
    numa_topo_close(t);
    return r < 0 ? r : -EINVAL;
}

void numa_topo_close(struct numa_topo *t)
{
    if (!t)
        return;
    hwloc_topology_destroy(t->hw);
    free(t->nodes);
    free(t->cores);
    free(t->dist);
    free(t);
}

unsigned numa_topo_nnodes(const struct numa_topo *t)
{
    return t->nnodes;
}

const struct numa_node_info *numa_topo_node(const struct numa_topo *t, unsigned i)
{
    return i < t->nnodes ? &t->nodes[i] : NULL;
}

int numa_topo_node_index(const struct numa_topo *t, unsigned os_index)
{
    for (unsigned i = 0; i < t->nnodes; i++)
        if (t->nodes[i].os_index == os_index)
            return (int)i;
    return -ENOENT;
}

const struct numa_set *numa_topo_cpus(const struct numa_topo *t)
{
    return &t->cpus;
}

const struct numa_set *numa_topo_nodes(const struct numa_topo *t)
{
    return &t->node_set;
}

uint64_t numa_topo_memory(const struct numa_topo *t)
{
    return t->memory;
}

int numa_topo_distance(const struct numa_topo *t, unsigned from, unsigned to,
                       uint64_t *val)
{
    int a = numa_topo_node_index(t, from), b = numa_topo_node_index(t, to);

    if (a < 0 || b < 0)
        return -ENOENT;
    if (!t->dist)
        return -ENODATA;
    *val = t->dist[(unsigned)a * t->nnodes + (unsigned)b];
    return 0;
}

bool numa_topo_is_this_system(const struct numa_topo *t)
{
    return t->this_system;
}

int numa_topo_cpu_node(const struct numa_topo *t, unsigned cpu)
{
    for (unsigned i = 0; i < t->nnodes; i++)
        if (numa_set_has(&t->nodes[i].cpus, cpu))
            return (int)t->nodes[i].os_index;
    return -1;
}
