/* SiFive test finisher. See sifive_test.h for the decoding. */
#include <errno.h>
#include <stdlib.h>

#include "sifive_test.h"

#define FINISHER_FAIL   0x3333
#define FINISHER_PASS   0x5555
#define FINISHER_RESET  0x7777

struct sifive_test {
    void (*on_finish)(void *opaque, enum sifive_test_kind kind, int code);
    void *opaque;
};

static uint64_t sifive_test_read(void *opaque, uint64_t offset, unsigned size)
{
    (void)opaque;
    (void)offset;
    (void)size;
    return 0;
}

static void sifive_test_write(void *opaque, uint64_t offset, unsigned size,
                              uint64_t value)
{
    struct sifive_test *t = opaque;
    int code = (int)((value >> 16) & 0xffff);

    /* QEMU only accepts 2- and 4-byte accesses here; OpenSBI uses 2. */
    if (offset != 0 || (size != 2 && size != 4))
        return;
    switch (value & 0xffff) {
    case FINISHER_PASS:
        t->on_finish(t->opaque, SIFIVE_TEST_PASS, 0);
        break;
    case FINISHER_FAIL:
        t->on_finish(t->opaque, SIFIVE_TEST_FAIL, code);
        break;
    case FINISHER_RESET:
        t->on_finish(t->opaque, SIFIVE_TEST_RESET, 0);
        break;
    default:
        break;
    }
}

const struct bus_ops sifive_test_ops = {
    .read = sifive_test_read,
    .write = sifive_test_write,
};

struct sifive_test *sifive_test_new(
    void (*on_finish)(void *opaque, enum sifive_test_kind kind, int code),
    void *opaque)
{
    struct sifive_test *t;

    if (!on_finish) {
        errno = EINVAL;
        return NULL;
    }
    t = malloc(sizeof(*t));
    if (!t)
        return NULL;
    t->on_finish = on_finish;
    t->opaque = opaque;
    return t;
}

void sifive_test_free(struct sifive_test *t)
{
    free(t);
}
