/* Parsers for --memory-policy, --memory-backend, --cpu-affinity and --numa.
 * Each error is one line that quotes the option's value and names the bad
 * part; whether a node or CPU exists is the planner's job (it has the
 * topology). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "numa.h"

#define PAGE_4K 4096ull

void numa_options_init(struct numa_options *o)
{
    memset(o, 0, sizeof(*o));
}

int numa_parse_size(const char *s, size_t len, uint64_t *out)
{
    const char *p = s, *end = s + len;
    uint64_t n = 0, mul = 1ull << 20;

    if (p == end || !isdigit((unsigned char)*p))
        return -EINVAL;
    while (p < end && isdigit((unsigned char)*p)) {
        if (n > (UINT64_MAX - 9) / 10)
            return -ERANGE;
        n = n * 10 + (uint64_t)(*p++ - '0');
    }
    if (p < end) {
        switch (toupper((unsigned char)*p)) {
        case 'K': mul = 1ull << 10; break;
        case 'M': mul = 1ull << 20; break;
        case 'G': mul = 1ull << 30; break;
        case 'T': mul = 1ull << 40; break;
        default: return -EINVAL;
        }
        p++;
        if (end - p == 2 && p[0] == 'i' && toupper((unsigned char)p[1]) == 'B')
            p += 2;
        else if (end - p == 1 && toupper((unsigned char)p[0]) == 'B')
            p++;
    }
    if (p != end)
        return -EINVAL;
    if (n && mul > UINT64_MAX / n)
        return -ERANGE;
    *out = n * mul;
    return 0;
}

/* A list value runs on over ','-separated tokens that start with a digit,
 * so "host-nodes=0-1,3,mem=1G" reads as host-nodes=0-1,3 then mem=1G. */
static const char *list_end(const char *v, const char *stop_chars)
{
    const char *p = v;

    for (;;) {
        while (*p && *p != ',' && !strchr(stop_chars, *p))
            p++;
        if (*p == ',' && isdigit((unsigned char)p[1])) {
            p++;
            continue;
        }
        return p;
    }
}

static bool is_on_off(const char *v, size_t n, bool *out)
{
    if (n == 2 && !memcmp(v, "on", 2)) {
        *out = true;
        return true;
    }
    if (n == 3 && !memcmp(v, "off", 3)) {
        *out = false;
        return true;
    }
    return false;
}

int numa_parse_memory_policy(const char *s, struct numa_mem_policy *p,
                             char *err, size_t errlen)
{
    static const struct {
        const char *prefix;
        enum numa_policy policy;
    } kinds[] = {
        { "bind=", NUMA_POLICY_BIND },
        { "interleave=", NUMA_POLICY_INTERLEAVE },
        { "preferred=", NUMA_POLICY_PREFERRED },
    };
    size_t len = strlen(s);
    char why[128];

    memset(p, 0, sizeof(*p));
    if (len >= 7 && !strcmp(s + len - 7, ",strict")) {
        p->strict = true;
        len -= 7;
    }
    if (len == 7 && !memcmp(s, "default", 7)) {
        if (p->strict) {
            snprintf(err, errlen, "--memory-policy '%s': strict needs bind, "
                     "interleave or preferred", s);
            return -EINVAL;
        }
        return 0;
    }
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t pl = strlen(kinds[i].prefix);
        if (len < pl || memcmp(s, kinds[i].prefix, pl))
            continue;
        p->policy = kinds[i].policy;
        if (numa_set_parse(s + pl, len - pl, &p->nodes, why, sizeof(why)) < 0) {
            snprintf(err, errlen, "--memory-policy '%s': %.*s: %s", s,
                     (int)(pl - 1), s, why);
            return -EINVAL;
        }
        if (p->policy == NUMA_POLICY_PREFERRED && numa_set_count(&p->nodes) != 1) {
            snprintf(err, errlen, "--memory-policy '%s': preferred takes exactly "
                     "one node", s);
            return -EINVAL;
        }
        return 0;
    }
    snprintf(err, errlen, "--memory-policy '%s': unknown policy '%.*s' (want "
             "default, bind=NODES, interleave=NODES or preferred=NODE, then "
             "optionally ,strict)", s, (int)len, s);
    return -EINVAL;
}

int numa_parse_memory_backend(const char *s, struct numa_backend *b,
                              char *err, size_t errlen)
{
    const char *p = s;
    bool seen_huge = false, seen_pre = false;

    memset(b, 0, sizeof(*b));
    if (!*s) {
        snprintf(err, errlen, "--memory-backend '': empty (want hugepages=on|off "
                 "and/or prealloc=on|off)");
        return -EINVAL;
    }
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        bool on;

        if (n > 10 && !memcmp(p, "hugepages=", 10)) {
            const char *v = p + 10;
            size_t vn = n - 10;
            if (seen_huge)
                goto twice;
            seen_huge = true;
            if (is_on_off(v, vn, &on)) {
                b->hugepages = on ? NUMA_HUGE_THP : NUMA_HUGE_OFF;
            } else if (v[0] == '/' && vn < sizeof(b->hugetlbfs)) {
                b->hugepages = NUMA_HUGE_HUGETLBFS;
                memcpy(b->hugetlbfs, v, vn);
                b->hugetlbfs[vn] = '\0';
            } else {
                snprintf(err, errlen, "--memory-backend '%s': '%.*s': hugepages= "
                         "wants on, off or an absolute hugetlbfs directory", s,
                         (int)n, p);
                return -EINVAL;
            }
        } else if (n > 9 && !memcmp(p, "prealloc=", 9)) {
            if (seen_pre)
                goto twice;
            seen_pre = true;
            if (!is_on_off(p + 9, n - 9, &on)) {
                snprintf(err, errlen, "--memory-backend '%s': '%.*s': prealloc= "
                         "wants on or off", s, (int)n, p);
                return -EINVAL;
            }
            b->prealloc = on;
        } else {
            snprintf(err, errlen, "--memory-backend '%s': unknown part '%.*s' (want "
                     "hugepages=on|off|DIR or prealloc=on|off)", s, (int)n, p);
            return -EINVAL;
        }
        if (!e)
            break;
        p = e + 1;
        if (!*p) {
            snprintf(err, errlen, "--memory-backend '%s': trailing ','", s);
            return -EINVAL;
        }
        continue;
twice:
        snprintf(err, errlen, "--memory-backend '%s': '%.*s' is given twice", s,
                 (int)(strchr(p, '=') - p), p);
        return -EINVAL;
    }
    return 0;
}

int numa_parse_cpu_affinity(const char *s, struct numa_affinity *a,
                            char *err, size_t errlen)
{
    const char *p = s;
    char why[128];

    memset(a, 0, sizeof(*a));
    if (!strcmp(s, "auto")) {
        a->mode = NUMA_AFFINITY_AUTO;
        return 0;
    }
    if (!strcmp(s, "none"))
        return 0;
    a->mode = NUMA_AFFINITY_EXPLICIT;
    for (;;) {
        const char *q = p, *v, *ve;
        unsigned long n = 0;

        if (strncmp(p, "vcpu", 4)) {
            size_t tl = strcspn(p, ",:");
            if ((tl == 4 && (!strncmp(p, "auto", 4) || !strncmp(p, "none", 4))))
                snprintf(err, errlen, "--cpu-affinity '%s': '%.4s' cannot be "
                         "combined with vcpuN=CPUS", s, p);
            else
                snprintf(err, errlen, "--cpu-affinity '%s': '%.*s' is not auto, "
                         "none or vcpuN=CPUS", s, (int)tl, p);
            return -EINVAL;
        }
        q = p + 4;
        while (isdigit((unsigned char)*q) && n <= NUMA_MAX_VCPUS)
            n = n * 10 + (unsigned long)(*q++ - '0');
        if (q == p + 4 || (*q != '=' && *q && *q != ',' && *q != ':')) {
            snprintf(err, errlen, "--cpu-affinity '%s': '%.*s' is not vcpuN=CPUS", s,
                     (int)strcspn(p, "=,:"), p);
            return -EINVAL;
        }
        if (*q != '=') {
            snprintf(err, errlen, "--cpu-affinity '%s': '%.*s' needs =CPUS", s,
                     (int)(q - p), p);
            return -EINVAL;
        }
        if (n >= NUMA_MAX_VCPUS) {
            snprintf(err, errlen, "--cpu-affinity '%s': '%.*s' is above the limit "
                     "of vcpu%d", s, (int)(q - p), p, NUMA_MAX_VCPUS - 1);
            return -EINVAL;
        }
        if (a->pinned[n]) {
            snprintf(err, errlen, "--cpu-affinity '%s': vcpu%lu is given twice", s, n);
            return -EINVAL;
        }
        v = q + 1;
        ve = list_end(v, ":");
        if (numa_set_parse(v, (size_t)(ve - v), &a->cpus[n], why, sizeof(why)) < 0) {
            snprintf(err, errlen, "--cpu-affinity '%s': vcpu%lu: %s", s, n, why);
            return -EINVAL;
        }
        a->pinned[n] = true;
        if (!*ve)
            return 0;
        p = ve + 1;
    }
}

static int parse_dist(const char *s, const char *p, struct numa_guest_topo *g,
                      char *err, size_t errlen)
{
    long v[3] = { -1, -1, -1 };
    static const char *const keys[3] = { "src", "dst", "val" };

    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        unsigned k;

        for (k = 0; k < 3; k++)
            if (n > 4 && !memcmp(p, keys[k], 3) && p[3] == '=')
                break;
        if (k == 3) {
            snprintf(err, errlen, "--numa '%s': unknown part '%.*s' (want src=, "
                     "dst= and val=)", s, (int)n, p);
            return -EINVAL;
        }
        unsigned long x = 0;
        const char *d = p + 4;
        while (d < p + n && isdigit((unsigned char)*d) && x < 100000)
            x = x * 10 + (unsigned long)(*d++ - '0');
        if (d != p + n) {
            snprintf(err, errlen, "--numa '%s': '%.*s' is not a number", s,
                     (int)(n - 4), p + 4);
            return -EINVAL;
        }
        v[k] = (long)x;
        if (!e)
            break;
        p = e + 1;
        if (!*p) {
            snprintf(err, errlen, "--numa '%s': trailing ','", s);
            return -EINVAL;
        }
    }
    for (unsigned k = 0; k < 3; k++) {
        if (v[k] < 0) {
            snprintf(err, errlen, "--numa '%s': %s= is required", s, keys[k]);
            return -EINVAL;
        }
    }
    for (unsigned k = 0; k < 2; k++) {
        if (v[k] >= NUMA_MAX_GUEST_NODES) {
            snprintf(err, errlen, "--numa '%s': %s=%ld is above the limit of %d", s,
                     keys[k], v[k], NUMA_MAX_GUEST_NODES - 1);
            return -EINVAL;
        }
    }
    if (v[2] < 10 || v[2] > 255) {
        snprintf(err, errlen, "--numa '%s': val=%ld: distances go from 10 to 255",
                 s, v[2]);
        return -EINVAL;
    }
    if (v[0] == v[1] && v[2] != 10) {
        snprintf(err, errlen, "--numa '%s': the distance from a node to itself "
                 "is 10", s);
        return -EINVAL;
    }
    if (g->dist[v[0]][v[1]]) {
        snprintf(err, errlen, "--numa '%s': the distance %ld->%ld is given twice",
                 s, v[0], v[1]);
        return -EINVAL;
    }
    g->dist[v[0]][v[1]] = (uint8_t)v[2];
    return 0;
}

static int parse_node(const char *s, const char *p, struct numa_guest_topo *g,
                      char *err, size_t errlen)
{
    struct numa_guest_node nd;
    long id = -1;
    bool have_mem = false;
    char why[128];

    memset(&nd, 0, sizeof(nd));
    while (*p) {
        const char *eq = p + strcspn(p, "=,");
        const char *v = eq + 1, *e;
        size_t kn = (size_t)(eq - p);

        if (*eq != '=') {
            snprintf(err, errlen, "--numa '%s': '%.*s' is not KEY=VALUE", s,
                     (int)kn, p);
            return -EINVAL;
        }
        if ((kn == 4 && !memcmp(p, "cpus", 4)) ||
            (kn == 10 && !memcmp(p, "host-nodes", 10))) {
            struct numa_set set;
            e = list_end(v, "");
            if (numa_set_parse(v, (size_t)(e - v), &set, why, sizeof(why)) < 0) {
                snprintf(err, errlen, "--numa '%s': %.*s: %s", s, (int)kn, p, why);
                return -EINVAL;
            }
            if (kn == 4) {
                int last = numa_set_first(&set), i;
                while ((i = numa_set_next(&set, last)) >= 0)
                    last = i;
                if (last >= NUMA_MAX_VCPUS) {
                    snprintf(err, errlen, "--numa '%s': cpus: vCPU %d is above the "
                             "limit of %d", s, last, NUMA_MAX_VCPUS - 1);
                    return -EINVAL;
                }
                numa_set_or(&nd.cpus, &set);    /* cpus= may repeat, as in QEMU */
            } else {
                numa_set_or(&nd.host_nodes, &set);
                nd.has_host_nodes = true;
            }
        } else if (kn == 3 && !memcmp(p, "mem", 3)) {
            e = v + strcspn(v, ",");
            if (numa_parse_size(v, (size_t)(e - v), &nd.mem) < 0) {
                snprintf(err, errlen, "--numa '%s': mem: '%.*s' is not a size "
                         "(e.g. 512M, 2G)", s, (int)(e - v), v);
                return -EINVAL;
            }
            if (nd.mem % PAGE_4K) {
                snprintf(err, errlen, "--numa '%s': mem: '%.*s' is not a multiple "
                         "of 4K", s, (int)(e - v), v);
                return -EINVAL;
            }
            have_mem = true;
        } else if (kn == 6 && !memcmp(p, "nodeid", 6)) {
            unsigned long x = 0;
            e = v + strcspn(v, ",");
            const char *d = v;
            while (d < e && isdigit((unsigned char)*d) && x < 100000)
                x = x * 10 + (unsigned long)(*d++ - '0');
            if (d == v || d != e) {
                snprintf(err, errlen, "--numa '%s': nodeid: '%.*s' is not a number",
                         s, (int)(e - v), v);
                return -EINVAL;
            }
            if (x >= NUMA_MAX_GUEST_NODES) {
                snprintf(err, errlen, "--numa '%s': nodeid=%lu is above the limit "
                         "of %d", s, x, NUMA_MAX_GUEST_NODES - 1);
                return -EINVAL;
            }
            id = (long)x;
        } else {
            snprintf(err, errlen, "--numa '%s': unknown key '%.*s' (want nodeid=, "
                     "cpus=, mem= or host-nodes=)", s, (int)kn, p);
            return -EINVAL;
        }
        if (!*e)
            break;
        p = e + 1;
        if (!*p) {
            snprintf(err, errlen, "--numa '%s': trailing ','", s);
            return -EINVAL;
        }
    }
    if (!have_mem) {
        snprintf(err, errlen, "--numa '%s': mem=SIZE is required", s);
        return -EINVAL;
    }
    if (id < 0)
        id = g->nnodes;
    if (id >= NUMA_MAX_GUEST_NODES) {
        snprintf(err, errlen, "--numa '%s': more than %d guest nodes", s,
                 NUMA_MAX_GUEST_NODES);
        return -EINVAL;
    }
    if (g->nodes[id].defined) {
        snprintf(err, errlen, "--numa '%s': guest node %ld is given twice", s, id);
        return -EINVAL;
    }
    nd.defined = true;
    g->nodes[id] = nd;
    if ((unsigned)id + 1 > g->nnodes)
        g->nnodes = (unsigned)id + 1;
    return 0;
}

int numa_parse_numa(const char *s, struct numa_guest_topo *g, char *err, size_t errlen)
{
    if (!strncmp(s, "node", 4) && (s[4] == ',' || !s[4]))
        return parse_node(s, s[4] ? s + 5 : s + 4, g, err, errlen);
    if (!strncmp(s, "dist", 4) && (s[4] == ',' || !s[4]))
        return parse_dist(s, s[4] ? s + 5 : s + 4, g, err, errlen);
    snprintf(err, errlen, "--numa '%s': want node,cpus=A-B,mem=SIZE[,host-nodes="
             "NODES] or dist,src=I,dst=J,val=D", s);
    return -EINVAL;
}
