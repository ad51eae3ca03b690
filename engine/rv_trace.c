/* --trace: one line per instruction, printed once its effects are known:
 *   core 0: M 0x0000000080000000 (0x00000297) auipc t0,0x0  t0=0x0000000080000000
 * The form (priv, pc, raw bits, disassembly, register writes) diffs easily
 * against Spike's commit log or a filtered QEMU -d in_asm,cpu log. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv_cpu.h"
#include "rv_disas.h"
#include "rv_helpers.h"
#include "rv_trace.h"

struct rv_tracer {
    FILE *out;
    uint64_t x[32], f[32];
    int pending;
    uint64_t pc;
    uint32_t raw;
    uint8_t priv;
};

struct rv_tracer *rv_tracer_new(FILE *out)
{
    struct rv_tracer *t = calloc(1, sizeof(*t));
    if (t)
        t->out = out;
    return t;
}

static void flush_pending(struct rv_hart *h, struct rv_tracer *t)
{
    static const char privs[4] = { 'U', 'S', '?', 'M' };
    char dis[96];

    if (!t->pending)
        return;
    rv_disas(dis, sizeof(dis), t->pc, t->raw);
    fprintf(t->out, "core %" PRIu64 ": %c 0x%016" PRIx64 " (0x%0*" PRIx32 ") %s",
            h->mhartid, privs[t->priv & 3], t->pc, (t->raw & 3) == 3 ? 8 : 4,
            (t->raw & 3) == 3 ? t->raw : (t->raw & 0xffff), dis);
    for (int i = 1; i < 32; i++)
        if (h->x[i] != t->x[i])
            fprintf(t->out, "  %s=0x%016" PRIx64, rv_reg_name((unsigned)i), h->x[i]);
    for (int i = 0; i < 32; i++)
        if (h->f[i] != t->f[i])
            fprintf(t->out, "  %s=0x%016" PRIx64, rv_freg_name((unsigned)i), h->f[i]);
    if (h->priv != t->priv)
        fprintf(t->out, "  -> %c 0x%016" PRIx64, privs[h->priv & 3], h->pc);
    fputc('\n', t->out);
    t->pending = 0;
}

void rv_trace_insn(struct rv_hart *h, uint64_t pc, const struct rv_insn *in)
{
    struct rv_tracer *t = h->trace;

    flush_pending(h, t);
    memcpy(t->x, h->x, sizeof(t->x));
    memcpy(t->f, h->f, sizeof(t->f));
    t->pc = pc;
    t->raw = rv_fetch_raw(h, pc, in->len ? in->len : 2);
    t->priv = h->priv;
    t->pending = 1;
}

void rv_tracer_finish(struct rv_hart *h)
{
    struct rv_tracer *t = h->trace;
    if (t) {
        flush_pending(h, t);
        fflush(t->out);
    }
}

void rv_tracer_free(struct rv_tracer *t)
{
    free(t);
}
