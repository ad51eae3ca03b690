/* Inside numa/ only: the topology handle and its snapshot. The planner
 * reads the snapshot alone, so it stays pure and testable. */
#ifndef GB_NUMA_PRIV_H
#define GB_NUMA_PRIV_H

#include <hwloc.h>

#include "numa.h"

struct numa_topo {
    hwloc_topology_t hw;
    bool this_system;
    unsigned nnodes;
    struct numa_node_info *nodes;   /* logical order */
    struct numa_set cpus, node_set;
    uint64_t memory;
    unsigned ncores;
    struct numa_set *cores;         /* PUs of each core, logical order */
    uint64_t *dist;                 /* nnodes*nnodes by logical index, or NULL */
};

#endif
