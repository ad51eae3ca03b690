/* --jit-verify (issue 6): check each entry into a compiled block against
 * one interpreted run of the same block from the same state. See
 * jit_verify.c; the hook in the interpreter is rv_jit_verify (rv_cpu.h). */
#ifndef JIT_VERIFY_H
#define JIT_VERIFY_H

#include <stdint.h>

#include "rv_cpu.h"

struct jit_verify_stats {
    uint64_t checked;       /* compiled runs compared with the interpreter */
    uint64_t skipped;       /* runs that could not be replayed (MMIO, ...) */
    uint64_t mismatches;
};

/* Turn checking on for h (before it runs). report gets the multi-line
 * diff of a mismatch (from the hart's thread); it may be NULL. 0 or -errno. */
int jit_verify_attach(struct rv_hart *h, void (*report)(void *opaque, const char *msg),
                      void *opaque);
void jit_verify_detach(struct rv_hart *h);
/* 0, or -ENOENT when h is not verified. */
int jit_verify_get_stats(const struct rv_hart *h, struct jit_verify_stats *st);
/* The last mismatch's diff ("" when none). */
const char *jit_verify_last_diff(const struct rv_hart *h);

#endif
