/* SiFive test finisher, as on QEMU's virt machine (0x100000, 0x1000 bytes).
 *
 * A 16- or 32-bit write at offset 0 whose low 16 bits are
 *   0x5555  finishes with PASS (code 0),
 *   0x3333  finishes with FAIL, code = bits 31..16 (0..65535),
 *   0x7777  requests a RESET (code 0).
 * QEMU exits with exactly that code, so a FAIL whose code is 0 (OpenSBI
 * writes a bare 16-bit 0x3333 for a shutdown with a failure reason) exits
 * 0 there; the callback gets the raw code and the engine decides. Other
 * values, offsets and sizes are ignored (QEMU rejects 8-byte and 1-byte
 * accesses); reads return 0. */
#ifndef GLASSBOX_DEVICES_SIFIVE_TEST_H
#define GLASSBOX_DEVICES_SIFIVE_TEST_H

#include "glassbox/bus.h"

#define SIFIVE_TEST_MMIO_SIZE 0x1000

enum sifive_test_kind {
    SIFIVE_TEST_PASS,
    SIFIVE_TEST_FAIL,
    SIFIVE_TEST_RESET,
};

struct sifive_test;

/* on_finish runs on the writing vCPU thread, inside the MMIO write; it
 * should request the lifecycle change and return. NULL on no memory or a
 * NULL callback (errno set). */
struct sifive_test *sifive_test_new(
    void (*on_finish)(void *opaque, enum sifive_test_kind kind, int code),
    void *opaque);
void sifive_test_free(struct sifive_test *test);

/* opaque = the struct sifive_test */
extern const struct bus_ops sifive_test_ops;

#endif
