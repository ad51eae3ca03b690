/* glasstop's model: snapshots of a stats region (glassbox-stats(5)) and
 * the rates between two of them, history rings for sparklines, the tail
 * of the event ring, and the symbol/disassembly cache fed by QMP's
 * query-hot-blocks. Pure computation apart from gt_snap_take() and
 * gt_model_update(), which read the region; nothing here draws. */
#ifndef GT_MODEL_H
#define GT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "glassbox/stats.h"
#include "stats_reader.h"

/* One consistent-per-record copy of everything glasstop shows. */
struct gt_snap {
    uint64_t taken_ns;          /* reader's CLOCK_MONOTONIC when copied */
    uint64_t heartbeat_ns;      /* sampler's last sample */
    uint64_t sample_count;
    uint32_t sample_hz, hot_window_ms;
    uint16_t abi_major, abi_minor;
    uint32_t pid, nvcpus;
    uint64_t start_mono_ns, start_real_ns;
    char name[GB_STATS_NAME_MAX];
    char arch[16], accel[16], machine[160];
    struct gb_stats_status status;
    struct gb_stats_vcpu vcpu[GB_STATS_MAX_VCPUS];
    struct gb_stats_hot_list hot[2];        /* enum gb_stats_hot_kind */
    struct gb_stats_device dev[GB_STATS_MAX_DEVICES];
    struct gb_stats_memory mem;
    struct gb_stats_numa numa;              /* format 0: no report */
};

/* Copy the region into *s (large: allocate it). 0, or -EAGAIN when a
 * record stayed mid-update (its previous content is kept). */
int gt_snap_take(struct gt_snap *s, const struct gb_reader *r, uint64_t now_ns);

/* Rates between two snapshots. Fractions are 0..1, or -1 when nothing
 * was looked up in the interval (no rate rather than a made-up 100%). */
struct gt_tlb_rates {
    double itlb_hit, dtlb_hit;          /* over the interval */
    double itlb_hit_total, dtlb_hit_total;  /* since start */
    double itlb_miss_s, dtlb_miss_s;
    double flush_s;                     /* I + D flushes */
    double walk_s;
    double bc_hit;                      /* block cache, over the interval */
    double bc_inval_s;
};

struct gt_vcpu_rates {
    double mips;
    double priv_share[4];               /* of the interval's insns, by privilege; -1: none */
    double exc_s, irq_s;
    double idle;                        /* share of the interval in WFI */
    double jit_share;                   /* of the interval's insns, the share run compiled;
                                         * -1: none, or not published (ABI < 1.2) */
    struct gt_tlb_rates tlb;
};

struct gt_dev_rates {
    double req_s, in_bps, out_bps, err_s, notify_s, irq_s;
};

struct gt_rates {
    double dt_s;                        /* between the two samples; 0: no rates */
    double mips, mips_avg;              /* all harts: now, since start */
    double exc_s, irq_s;
    double jit_compiled_s;              /* blocks compiled per second, all harts */
    double jit_share;                   /* all harts' interval insns run compiled, or -1 */
    struct gt_vcpu_rates vcpu[GB_STATS_MAX_VCPUS];
    struct gt_tlb_rates tlb;            /* all harts */
    struct gt_dev_rates dev[GB_STATS_MAX_DEVICES];
};

/* Rates from a (older) to b (newer). Each vCPU's interval comes from its
 * own sample timestamps and the devices' from the heartbeats, so the
 * numbers follow the sampler's clock, not the reader's. */
void gt_rates_compute(const struct gt_snap *a, const struct gt_snap *b, struct gt_rates *out);
/* Hit fraction of hits out of lookups, or -1 when lookups is 0. */
double gt_frac(uint64_t hits, uint64_t lookups);
/* Share of the instructions since start that ran compiled, of vCPU
 * `hart` or of all of them (hart < 0); -1 when none ran or the region
 * does not publish it (ABI < 1.2: jit_insns reads as zero there). */
double gt_jit_share_total(const struct gt_snap *s, int hart);

/* History ring of one number (newest last). Values < 0 mean "no value". */
#define GT_HIST 256
struct gt_hist {
    double v[GT_HIST];
    unsigned n, next;
};
void gt_hist_push(struct gt_hist *h, double v);
/* The newest min(max, n) values, oldest first; returns the count. */
unsigned gt_hist_last(const struct gt_hist *h, double *out, unsigned max);

/* ---- drawing helpers shared by the text and curses renderers ---------- */
/* A sparkline of n values (negative: blank) scaled between their min and
 * max, but over at least min_span around their middle so that noise does
 * not look like swings: UTF-8 block elements, or the ASCII ramp
 * "_.:-=+*#". out is NUL-terminated; returns the columns written. */
unsigned gt_spark(const double *v, unsigned n, double min_span, int utf8, char *out,
                  size_t outlen);
/* A bar of `width` columns filled to frac (clamped to 0..1): UTF-8 full
 * and eighth blocks, or '#' in ASCII; padded with spaces (UTF-8) or '.'. */
unsigned gt_bar(double frac, unsigned width, int utf8, char *out, size_t outlen);
/* Display columns of a UTF-8 string (every code point counts one: all that
 * glasstop draws is single-width), and the byte length of its first
 * `cols` columns. */
unsigned gt_cols(const char *s);
size_t gt_clip(const char *s, unsigned cols);
/* 1234567 -> "1.23M"; bytes -> "12.3 MiB"; ns -> "1d 02:03:04". */
void gt_fmt_si(char *buf, size_t len, double v);
void gt_fmt_bytes(char *buf, size_t len, double v);
void gt_fmt_dur(char *buf, size_t len, uint64_t ns);
const char *gt_priv_name(uint32_t priv);

/* ---- hot-block order ----------------------------------------------- */
enum gt_sort { GT_SORT_EXECS, GT_SORT_SHARE, GT_SORT_PC, GT_SORT_COUNT };
const char *gt_sort_name(enum gt_sort s);
/* Fill idx[0..count) with the list's entries in the given order. */
unsigned gt_hot_order(const struct gb_stats_hot_list *l, enum gt_sort s, unsigned *idx);

/* ---- symbol and disassembly cache (filled from query-hot-blocks) ------ */
#define GT_SYM_MAX 96
#define GT_DIS_LINE 96
struct gt_sym {
    uint64_t vpc, ppc;
    uint32_t hart;
    char symbol[GT_SYM_MAX];            /* "" when the guest has none */
    unsigned ndis;
    char (*dis)[GT_DIS_LINE];           /* ndis lines, malloc'd */
    uint64_t stamp;
};
#define GT_SYM_CACHE 128
struct gt_symcache {
    struct gt_sym e[GT_SYM_CACHE];
    unsigned n;
    uint64_t clock;
};
/* Insert or replace (keeping the longer disassembly); 0 or -ENOMEM. */
int gt_sym_put(struct gt_symcache *c, uint32_t hart, uint64_t vpc, uint64_t ppc,
               const char *symbol, const char *const *dis, unsigned ndis);
const struct gt_sym *gt_sym_find(const struct gt_symcache *c, uint32_t hart, uint64_t ppc);
void gt_sym_free(struct gt_symcache *c);

/* ---- the model ------------------------------------------------------ */
/* A sampler silent for this long is reported (it samples at >= 5 Hz). */
#define GT_STALL_NS 3000000000ull
#define GT_EV_TAIL 64

enum gt_vm_fate { GT_VM_LIVE = 0, GT_VM_EXITED };

struct gt_model {
    struct gt_snap *prev, *cur;         /* cur: the newest; prev: the rate base */
    struct gt_snap *scratch;
    int nsnaps;
    struct gt_rates rates;
    struct gt_hist h_mips, h_itlb, h_dtlb;
    struct gb_stats_event ev[GT_EV_TAIL];   /* ring, newest at ev_next - 1 */
    unsigned nev, ev_next;
    uint64_t ev_cursor, ev_lost;
    enum gt_vm_fate fate;               /* set by the caller (gt_vm_check) */
    char fate_text[96];
};

int gt_model_init(struct gt_model *m);
void gt_model_free(struct gt_model *m);
/* Take a snapshot, compute rates against the previous one when the
 * sampler has produced a new sample since, push history, read new events. */
int gt_model_update(struct gt_model *m, const struct gb_reader *r, uint64_t now_ns);
/* The i-th newest event (0 = newest) or NULL. */
const struct gb_stats_event *gt_model_event(const struct gt_model *m, unsigned i);
/* Whether the VM behind the region is gone: the engine process died, or
 * the shm object was removed or replaced (ino differs from the one seen
 * at attach). Updates m->fate and m->fate_text. */
void gt_vm_check(struct gt_model *m, const char *name, uint64_t ino);
/* Inode of /dev/shm/glassbox.NAME, 0 when absent. */
uint64_t gt_region_ino(const char *name);
uint64_t gt_now_ns(void);

#endif
