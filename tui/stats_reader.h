/* Read-only access to a glassbox stats region (glassbox-stats(5)): maps
 * it, refuses a layout it does not understand, and copies records out
 * under the seqlock. Never writes, never blocks the engine. */
#ifndef GB_STATS_READER_H
#define GB_STATS_READER_H

#include <stddef.h>
#include <stdint.h>

#include "glassbox/stats.h"

struct gb_reader {
    const uint8_t *base;
    size_t size;
    const struct gb_stats_header *hdr;
    int owned;                  /* base is our mapping */
};

/* Map /glassbox.NAME read-only and validate it. -ENOENT: no such VM;
 * -EAGAIN: the engine is still creating it; -EPROTO: another ABI major,
 * bad magic or inconsistent sizes (the message says which). */
int gb_reader_open(struct gb_reader *r, const char *name, char *err, size_t errlen);
/* Validate an existing mapping (the region of a test, a copied file). */
int gb_reader_attach(struct gb_reader *r, const void *base, size_t size, char *err,
                     size_t errlen);
void gb_reader_close(struct gb_reader *r);

/* Consistent copies; 0, -ERANGE for an index out of range, or -EAGAIN
 * when the writer stayed mid-update (e.g. it died there). */
int gb_reader_status(const struct gb_reader *r, struct gb_stats_status *out);
int gb_reader_vcpu(const struct gb_reader *r, unsigned i, struct gb_stats_vcpu *out);
int gb_reader_hot(const struct gb_reader *r, unsigned which, struct gb_stats_hot_list *out);
int gb_reader_device(const struct gb_reader *r, unsigned i, struct gb_stats_device *out);
int gb_reader_memory(const struct gb_reader *r, struct gb_stats_memory *out);
/* The NUMA section; out->format 0 means the engine published no report.
 * Heap-sized: 16 KiB. */
int gb_reader_numa(const struct gb_reader *r, struct gb_stats_numa *out);
uint64_t gb_reader_heartbeat(const struct gb_reader *r);

/* Events from number *cursor on, at most max of them, into out; returns
 * how many were copied and advances *cursor. Events overwritten before
 * they were read are skipped and counted in *lost (may be NULL). */
int gb_reader_events(const struct gb_reader *r, uint64_t *cursor, struct gb_stats_event *out,
                     unsigned max, uint64_t *lost);

#endif
