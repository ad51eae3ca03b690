/* query-numa: the NUMA placement report (glassbox-stats(5), format 1) as
 * a json-c object, for the control server. */
#ifndef GB_NUMA_JSON_H
#define GB_NUMA_JSON_H

#include "glassbox/stats.h"

struct json_object;

/* A new object (the caller puts it), or NULL when out of memory. Unknown
 * CPUs and nodes (-1) and a vCPU without guest node are JSON null. */
struct json_object *numa_report_json(const struct gb_stats_numa_report *r);

#endif
