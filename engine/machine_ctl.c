/* The machine's side of the control socket: the struct control_ops that
 * engine/control.c calls on its I/O thread, mapped onto the machine's
 * steering functions, its harts and its guest image. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "lifecycle.h"
#include "machine.h"
#include "numa_json.h"
#include "rv_disas.h"
#include "rv_insn.h"
#include "stats.h"

static int op_pause(void *opaque, char *err, size_t errlen)
{
    return machine_pause(opaque, err, errlen);
}

static int op_resume(void *opaque, char *err, size_t errlen)
{
    return machine_resume(opaque, err, errlen);
}

static int op_reset(void *opaque, char *err, size_t errlen)
{
    return machine_reset(opaque, "host-qmp-system-reset", err, errlen);
}

static int op_powerdown(void *opaque, char *err, size_t errlen)
{
    return machine_powerdown(opaque, err, errlen);
}

static int op_quit(void *opaque, char *err, size_t errlen)
{
    return machine_quit(opaque, "host-qmp-quit", err, errlen);
}

static unsigned op_ncpus(void *opaque)
{
    const struct machine *m = opaque;
    return m->nharts;
}

/* pc and priv belong to the hart's thread: a racy but untorn snapshot,
 * like the stats sampler's. */
static void op_cpu_info(void *opaque, unsigned i, struct control_cpu_info *out)
{
    struct machine *m = opaque;
    struct rv_hart *h;

    memset(out, 0, sizeof(*out));
    out->index = i;
    if (i >= m->nharts)
        return;
    h = m->harts[i];
    out->thread_id = atomic_load(&m->hart_tid[i]);
    out->pc = __atomic_load_n(&h->pc, __ATOMIC_RELAXED);
    out->priv = __atomic_load_n(&h->priv, __ATOMIC_RELAXED);
    out->halted = lifecycle_state(m->lc) == GB_VM_PAUSED;
}

/* The block at guest-physical ppc as the decoder would cut it: up to its
 * block-ending instruction, never past its page. Reads guest RAM only. */
static int op_disas(void *opaque, uint64_t ppc, uint64_t vpc, unsigned max_insns,
                    char (*lines)[96], unsigned maxlines)
{
    struct machine *m = opaque;
    uint64_t off = ppc - VIRT_DRAM_BASE, page_end;
    unsigned n = 0;

    if (ppc < VIRT_DRAM_BASE || off >= m->ram_size)
        return -ERANGE;
    page_end = (ppc | 0xfff) + 1 - VIRT_DRAM_BASE;
    if (page_end > m->ram_size)
        page_end = m->ram_size;
    while (n < max_insns && n < maxlines && off + 2 <= page_end) {
        const uint8_t *p = m->ram + off;
        uint32_t raw = (uint32_t)p[0] | (uint32_t)p[1] << 8;
        struct rv_insn in;
        char text[80];
        int len;

        if ((raw & 3) == 3) {
            if (off + 4 > page_end)
                break;
            raw |= (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        }
        len = rv_disas(text, sizeof(text), vpc, raw);
        snprintf(lines[n++], sizeof(lines[0]), "0x%08llx  %s", (unsigned long long)vpc, text);
        if (rv_op_ends_block(rv_decode(raw, &in)))
            break;
        off += (uint64_t)len;
        vpc += (uint64_t)len;
    }
    return (int)n;
}

static int op_symbol(void *opaque, uint64_t vpc, char *name, size_t len, uint64_t *offset)
{
    const struct machine *m = opaque;
    const struct loader_symbol *s = load_info_symbol(&m->info, vpc);

    if (!s)
        return -ENOENT;
    snprintf(name, len, "%s", s->name);
    *offset = vpc - s->value;
    return 0;
}

/* The report the stats sampler published last (once a second); NULL
 * without one (--no-stats). */
static struct json_object *op_query_numa(void *opaque)
{
    struct machine *m = opaque;
    struct gb_stats_header *hdr;
    struct gb_stats_numa *n;
    struct json_object *j = NULL;

    if (!m->stats)
        return NULL;
    hdr = stats_header(m->stats);
    n = malloc(sizeof(*n));
    if (!n)
        return NULL;
    if (gb_stats_seq_load((const uint8_t *)hdr + hdr->sections[GB_STATS_SEC_NUMA].offset, n,
                          sizeof(*n), GB_STATS_SEQ_TRIES) == 0 &&
        n->format == GB_STATS_NUMA_FORMAT)
        j = numa_report_json((const struct gb_stats_numa_report *)(const void *)n->data);
    free(n);
    return j;
}

static const struct control_ops machine_control_ops = {
    .pause = op_pause,
    .resume = op_resume,
    .reset = op_reset,
    .powerdown = op_powerdown,
    .quit = op_quit,
    .ncpus = op_ncpus,
    .cpu_info = op_cpu_info,
    .disas = op_disas,
    .symbol = op_symbol,
    .query_numa = op_query_numa,
};

int machine_control_start(struct machine *m, char *err, size_t errlen)
{
    struct control_config cc = {
        .vm_name = m->name,
        .socket_path = m->cfg.qmp_socket,
        .lc = m->lc,
        .stats = m->stats,
        .ops = &machine_control_ops,
        .opaque = m,
    };

    return control_start(&m->ctl, &cc, err, errlen);
}
