/* The placement planner: options + topology + RAM size + vCPU count ->
 * where each piece of guest RAM and each thread goes. Pure: it reads the
 * topology snapshot only, so tests run it on synthetic hosts.
 *
 * Rules (documented in glassbox(1)):
 *  - one RAM range per guest node (or one for all RAM); a guest node's
 *    host-nodes= win over the policy's nodes but must lie inside them;
 *    host-nodes= with the default policy means bind;
 *  - more RAM than the chosen nodes hold: a warning, an error with strict;
 *  - auto affinity gives each vCPU one PU of its memory's nodes, filling
 *    every core once before using SMT siblings, least-used PU first;
 *  - the I/O thread and JIT workers get the memory nodes' CPUs that no
 *    pinned vCPU uses, else all the memory nodes' CPUs, else all CPUs. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numa_priv.h"

static const char *policy_name(enum numa_policy p)
{
    switch (p) {
    case NUMA_POLICY_BIND: return "bind";
    case NUMA_POLICY_INTERLEAVE: return "interleave";
    case NUMA_POLICY_PREFERRED: return "preferred";
    default: return "default";
    }
}

static uint64_t nodes_memory(const struct numa_topo *t, const struct numa_set *nodes)
{
    uint64_t m = 0;
    for (unsigned i = 0; i < t->nnodes; i++)
        if (numa_set_has(nodes, t->nodes[i].os_index))
            m += t->nodes[i].memory;
    return m;
}

static void nodes_cpus(const struct numa_topo *t, const struct numa_set *nodes,
                       struct numa_set *cpus)
{
    numa_set_zero(cpus);
    for (unsigned i = 0; i < t->nnodes; i++)
        if (numa_set_has(nodes, t->nodes[i].os_index))
            numa_set_or(cpus, &t->nodes[i].cpus);
}

/* Host nodes named by an option: they must exist and hold some memory. */
static int check_nodes(const struct numa_topo *t, const char *what,
                       const struct numa_set *nodes, char *err, size_t errlen)
{
    char have[128], list[128];

    numa_set_format(&t->node_set, have, sizeof(have));
    numa_set_format(nodes, list, sizeof(list));
    if (numa_set_empty(nodes)) {
        snprintf(err, errlen, "%s: empty host node list", what);
        return -EINVAL;
    }
    for (int n = numa_set_first(nodes); n >= 0; n = numa_set_next(nodes, n)) {
        if (!numa_set_has(&t->node_set, (unsigned)n)) {
            snprintf(err, errlen, "%s: host NUMA node %d does not exist (this host "
                     "has node%s %s)", what, n, t->nnodes > 1 ? "s" : "", have);
            return -EINVAL;
        }
    }
    if (nodes_memory(t, nodes) == 0) {
        snprintf(err, errlen, "%s: host node%s %s ha%s no memory", what,
                 numa_set_count(nodes) > 1 ? "s" : "", list,
                 numa_set_count(nodes) > 1 ? "ve" : "s");
        return -EINVAL;
    }
    return 0;
}

static int check_guest(const struct numa_topo *t, const struct numa_options *o,
                       uint64_t ram_size, unsigned nvcpus, struct numa_plan *plan,
                       char *err, size_t errlen)
{
    const struct numa_guest_topo *g = &o->guest;
    const struct numa_mem_policy *pol = &o->policy;
    uint64_t sum = 0;
    struct numa_set seen;
    char what[64], a[128], b[128];

    numa_set_zero(&seen);
    for (unsigned i = 0; i < g->nnodes; i++) {
        const struct numa_guest_node *nd = &g->nodes[i];
        if (!nd->defined) {
            snprintf(err, errlen, "--numa: guest node %u is missing (node ids go "
                     "from 0 to %u without gaps)", i, g->nnodes - 1);
            return -EINVAL;
        }
        sum += nd->mem;
        for (int c = numa_set_first(&nd->cpus); c >= 0; c = numa_set_next(&nd->cpus, c)) {
            if ((unsigned)c >= nvcpus) {
                snprintf(err, errlen, "--numa node %u: vCPU %d does not exist (the "
                         "guest has %u vCPU%s)", i, c, nvcpus, nvcpus > 1 ? "s" : "");
                return -EINVAL;
            }
            if (numa_set_has(&seen, (unsigned)c)) {
                snprintf(err, errlen, "--numa node %u: vCPU %d is already in guest "
                         "node %d", i, c, plan->vcpu_guest_node[c]);
                return -EINVAL;
            }
            numa_set_add(&seen, (unsigned)c);
            plan->vcpu_guest_node[c] = (int)i;
        }
        if (nd->has_host_nodes) {
            snprintf(what, sizeof(what), "--numa node %u host-nodes", i);
            int r = check_nodes(t, what, &nd->host_nodes, err, errlen);
            if (r < 0)
                return r;
            numa_set_format(&nd->host_nodes, a, sizeof(a));
            numa_set_format(&pol->nodes, b, sizeof(b));
            if (pol->policy != NUMA_POLICY_DEFAULT &&
                !numa_set_subset(&nd->host_nodes, &pol->nodes)) {
                snprintf(err, errlen, "--numa node %u host-nodes=%s contradicts "
                         "--memory-policy %s=%s", i, a, policy_name(pol->policy), b);
                return -EINVAL;
            }
        }
    }
    for (unsigned c = 0; c < nvcpus; c++) {
        if (!numa_set_has(&seen, c)) {
            snprintf(err, errlen, "--numa: vCPU %u is in no guest node (the nodes' "
                     "cpus= must cover 0-%u)", c, nvcpus - 1);
            return -EINVAL;
        }
    }
    if (sum != ram_size) {
        snprintf(err, errlen, "--numa: the guest nodes' mem= add up to %" PRIu64
                 " MiB but guest RAM is %" PRIu64 " MiB", sum >> 20, ram_size >> 20);
        return -EINVAL;
    }
    /* distances: as QEMU, once any is given each pair needs one direction */
    bool any = false;
    for (unsigned i = 0; i < NUMA_MAX_GUEST_NODES; i++) {
        for (unsigned j = 0; j < NUMA_MAX_GUEST_NODES; j++) {
            if (!g->dist[i][j])
                continue;
            if (i >= g->nnodes || j >= g->nnodes) {
                snprintf(err, errlen, "--numa dist,src=%u,dst=%u: the guest has %u "
                         "node%s", i, j, g->nnodes, g->nnodes > 1 ? "s" : "");
                return -EINVAL;
            }
            any = true;
        }
    }
    for (unsigned i = 0; i < g->nnodes; i++) {
        for (unsigned j = 0; j < g->nnodes; j++) {
            uint8_t d = g->dist[i][j] ? g->dist[i][j] : g->dist[j][i];
            if (i == j)
                d = 10;
            else if (!d && any) {
                snprintf(err, errlen, "--numa: the distance between guest nodes %u "
                         "and %u is missing (give dist,src=%u,dst=%u,val=D)",
                         i, j, i, j);
                return -EINVAL;
            } else if (!d)
                d = 20;
            plan->guest_dist[i][j] = d;
        }
    }
    plan->nguest_nodes = g->nnodes;
    return 0;
}

static void build_ranges(const struct numa_options *o, uint64_t ram_size,
                         struct numa_plan *plan)
{
    const struct numa_guest_topo *g = &o->guest;
    uint64_t off = 0;

    if (!g->nnodes) {
        struct numa_range *r = &plan->ranges[plan->nranges++];
        r->size = ram_size;
        r->guest_node = -1;
        r->policy = o->policy.policy;
        r->host_nodes = o->policy.nodes;
        r->strict = o->policy.strict;
        return;
    }
    for (unsigned i = 0; i < g->nnodes; i++) {
        struct numa_range *r = &plan->ranges[plan->nranges++];
        r->offset = off;
        r->size = g->nodes[i].mem;
        r->guest_node = (int)i;
        r->policy = o->policy.policy;
        r->host_nodes = o->policy.nodes;
        r->strict = o->policy.strict;
        if (g->nodes[i].has_host_nodes) {
            r->host_nodes = g->nodes[i].host_nodes;
            if (r->policy == NUMA_POLICY_DEFAULT)
                r->policy = NUMA_POLICY_BIND;
        }
        off += r->size;
    }
}

/* bind and interleave cannot spill; preferred and default can */
static int check_capacity(const struct numa_topo *t, struct numa_plan *plan,
                          uint64_t ram_size, char *err, size_t errlen)
{
    struct numa_set all;
    uint64_t demand = 0;
    char list[128];

    numa_set_zero(&all);
    for (unsigned i = 0; i < plan->nranges; i++) {
        const struct numa_range *r = &plan->ranges[i];
        uint64_t cap = nodes_memory(t, &r->host_nodes);
        char where[48] = "guest RAM";

        if (r->policy == NUMA_POLICY_DEFAULT || r->policy == NUMA_POLICY_PREFERRED)
            continue;
        if (r->guest_node >= 0)
            snprintf(where, sizeof(where), "guest node %d", r->guest_node);
        numa_set_format(&r->host_nodes, list, sizeof(list));
        numa_set_or(&all, &r->host_nodes);
        demand += r->size;
        if (r->size > cap) {
            if (r->strict) {
                snprintf(err, errlen, "%s: %" PRIu64 " MiB do not fit in host node%s "
                         "%s (%" PRIu64 " MiB) under strict", where, r->size >> 20,
                         numa_set_count(&r->host_nodes) > 1 ? "s" : "", list, cap >> 20);
                return -ENOMEM;
            }
            numa_msgs_add(&plan->warnings, "%s: %" PRIu64 " MiB exceed host node%s "
                          "%s (%" PRIu64 " MiB): expect swapping or OOM", where,
                          r->size >> 20, numa_set_count(&r->host_nodes) > 1 ? "s" : "",
                          list, cap >> 20);
        }
    }
    /* ranges sharing nodes: their sum must fit too */
    uint64_t cap = nodes_memory(t, &all);
    if (plan->nranges > 1 && demand > cap) {
        numa_set_format(&all, list, sizeof(list));
        if (plan->ranges[0].strict) {
            snprintf(err, errlen, "guest nodes: %" PRIu64 " MiB bound to host "
                     "nodes %s (%" PRIu64 " MiB) do not fit under strict",
                     demand >> 20, list, cap >> 20);
            return -ENOMEM;
        }
        numa_msgs_add(&plan->warnings, "guest nodes: %" PRIu64 " MiB bound to host "
                      "nodes %s exceed their %" PRIu64 " MiB", demand >> 20, list,
                      cap >> 20);
    }
    if (ram_size > t->memory)
        numa_msgs_add(&plan->warnings, "guest RAM (%" PRIu64 " MiB) exceeds the "
                      "host's memory (%" PRIu64 " MiB)", ram_size >> 20,
                      t->memory >> 20);
    return 0;
}

/* the memory nodes' CPUs for a vCPU; all host CPUs under the default policy */
static void memory_cpus(const struct numa_topo *t, const struct numa_plan *plan,
                        unsigned v, struct numa_set *cpus)
{
    int gn = plan->vcpu_guest_node[v];
    const struct numa_range *r = &plan->ranges[gn >= 0 ? gn : 0];

    if (r->policy == NUMA_POLICY_DEFAULT)
        *cpus = t->cpus;
    else
        nodes_cpus(t, &r->host_nodes, cpus);
}

static int plan_affinity(const struct numa_topo *t, const struct numa_affinity *a,
                         unsigned nvcpus, struct numa_plan *plan,
                         char *err, size_t errlen)
{
    char have[128], list[128];

    numa_set_format(&t->cpus, have, sizeof(have));
    for (unsigned v = 0; v < nvcpus; v++)
        plan->vcpu_cpus[v] = t->cpus;
    if (a->mode == NUMA_AFFINITY_EXPLICIT) {
        for (unsigned v = 0; v < NUMA_MAX_VCPUS; v++) {
            struct numa_set mem, extra;
            if (!a->pinned[v])
                continue;
            if (v >= nvcpus) {
                snprintf(err, errlen, "--cpu-affinity: vcpu%u does not exist (the "
                         "guest has %u vCPU%s: vcpu0-vcpu%u)", v, nvcpus,
                         nvcpus > 1 ? "s" : "", nvcpus - 1);
                return -EINVAL;
            }
            extra = a->cpus[v];
            numa_set_andnot(&extra, &t->cpus);
            if (!numa_set_empty(&extra)) {
                snprintf(err, errlen, "--cpu-affinity: vcpu%u: host CPU %d does not "
                         "exist (this host has CPUs %s)", v, numa_set_first(&extra),
                         have);
                return -EINVAL;
            }
            plan->vcpu_pinned[v] = true;
            plan->vcpu_cpus[v] = a->cpus[v];
            memory_cpus(t, plan, v, &mem);
            numa_set_and(&mem, &a->cpus[v]);
            if (numa_set_empty(&mem)) {
                numa_set_format(&a->cpus[v], list, sizeof(list));
                numa_msgs_add(&plan->warnings, "vcpu%u runs on host CPUs %s, away "
                              "from the nodes that hold its memory", v, list);
            }
        }
        return 0;
    }
    if (a->mode != NUMA_AFFINITY_AUTO)
        return 0;

    /* PUs in packing order: first PU of every core, then the second... */
    int *order = malloc(NUMA_SET_BITS * sizeof(*order));
    unsigned *use = calloc(NUMA_SET_BITS, sizeof(*use));
    unsigned norder = 0;
    bool shared = false, fallback = false;

    if (!order || !use) {
        free(order);
        free(use);
        snprintf(err, errlen, "out of memory planning vCPU placement");
        return -ENOMEM;
    }
    for (unsigned round = 0, added = 1; added; round++) {
        added = 0;
        for (unsigned c = 0; c < t->ncores; c++) {
            int pu = numa_set_first(&t->cores[c]);
            for (unsigned k = 0; k < round && pu >= 0; k++)
                pu = numa_set_next(&t->cores[c], pu);
            if (pu >= 0 && numa_set_has(&t->cpus, (unsigned)pu)) {
                order[norder++] = pu;
                added = 1;
            }
        }
    }
    for (unsigned v = 0; v < nvcpus; v++) {
        struct numa_set cand;
        int best = -1;
        memory_cpus(t, plan, v, &cand);
        if (numa_set_empty(&cand)) {
            cand = t->cpus;             /* CPU-less memory node */
            fallback = true;
        }
        for (unsigned k = 0; k < norder; k++) {
            int pu = order[k];
            if (numa_set_has(&cand, (unsigned)pu) && (best < 0 || use[pu] < use[best]))
                best = pu;
        }
        if (best < 0) {
            free(order);
            free(use);
            snprintf(err, errlen, "--cpu-affinity auto: no host CPU for vcpu%u", v);
            return -EINVAL;
        }
        if (use[best])
            shared = true;
        use[best]++;
        numa_set_zero(&plan->vcpu_cpus[v]);
        numa_set_add(&plan->vcpu_cpus[v], (unsigned)best);
        plan->vcpu_pinned[v] = true;
    }
    free(order);
    free(use);
    if (shared)
        numa_msgs_add(&plan->warnings, "--cpu-affinity auto: more vCPUs than host "
                      "CPUs near their memory; some vCPUs share a CPU");
    if (fallback)
        numa_msgs_add(&plan->warnings, "--cpu-affinity auto: the memory's nodes "
                      "have no CPUs; vCPUs go on any host CPU");
    return 0;
}

static void plan_helpers(const struct numa_topo *t, struct numa_plan *plan)
{
    struct numa_set mem, used;

    numa_set_zero(&mem);
    numa_set_zero(&used);
    for (unsigned i = 0; i < plan->nranges; i++) {
        struct numa_set c;
        if (plan->ranges[i].policy == NUMA_POLICY_DEFAULT)
            c = t->cpus;
        else
            nodes_cpus(t, &plan->ranges[i].host_nodes, &c);
        numa_set_or(&mem, &c);
    }
    if (numa_set_empty(&mem))
        mem = t->cpus;
    for (unsigned v = 0; v < plan->nvcpus; v++)
        if (plan->vcpu_pinned[v])
            numa_set_or(&used, &plan->vcpu_cpus[v]);
    plan->io_cpus = mem;
    numa_set_andnot(&plan->io_cpus, &used);
    if (numa_set_empty(&plan->io_cpus))
        plan->io_cpus = mem;
    plan->io_pinned = !numa_set_equal(&plan->io_cpus, &t->cpus);
    plan->jit_cpus = plan->io_cpus;
    plan->jit_pinned = plan->io_pinned;
}

int numa_plan_build(const struct numa_topo *t, const struct numa_options *o,
                    uint64_t ram_size, unsigned nvcpus, struct numa_plan *plan,
                    char *err, size_t errlen)
{
    int r;

    memset(plan, 0, sizeof(*plan));
    for (unsigned v = 0; v < NUMA_MAX_VCPUS; v++)
        plan->vcpu_guest_node[v] = -1;
    if (nvcpus == 0 || nvcpus > NUMA_MAX_VCPUS) {
        snprintf(err, errlen, "%u vCPUs: glassbox places 1 to %d", nvcpus,
                 NUMA_MAX_VCPUS);
        return -EINVAL;
    }
    plan->nvcpus = nvcpus;
    plan->backend = o->backend;
    if (o->policy.policy != NUMA_POLICY_DEFAULT) {
        char what[64];
        snprintf(what, sizeof(what), "--memory-policy %s", policy_name(o->policy.policy));
        r = check_nodes(t, what, &o->policy.nodes, err, errlen);
        if (r < 0)
            return r;
        for (unsigned i = 0; i < t->nnodes; i++)
            if (numa_set_has(&o->policy.nodes, t->nodes[i].os_index) &&
                !t->nodes[i].memory)
                numa_msgs_add(&plan->warnings, "%s: host node %u has no memory; "
                              "pages go to the other nodes", what,
                              t->nodes[i].os_index);
    }
    if (o->guest.nnodes) {
        r = check_guest(t, o, ram_size, nvcpus, plan, err, errlen);
        if (r < 0)
            return r;
    }
    build_ranges(o, ram_size, plan);
    r = check_capacity(t, plan, ram_size, err, errlen);
    if (r < 0)
        return r;
    r = plan_affinity(t, &o->affinity, nvcpus, plan, err, errlen);
    if (r < 0)
        return r;
    plan_helpers(t, plan);
    return 0;
}
