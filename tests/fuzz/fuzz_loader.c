/*
 * libFuzzer harness for engine/loader.c. The input is the kernel file as
 * the engine would read it; loader_load() picks ELF or raw by content.
 * Build and run: see tests/fuzz/README.
 *
 * Beyond ASan/UBSan (input and guest RAM are exact-size heap blocks, so any
 * stray read or write hits a redzone), it checks the loader's contract:
 * success stays inside RAM and writes only [low, high]; failure has a
 * message, a zeroed info and untouched RAM; symbols are sorted with
 * terminated names, and lookups agree with a linear scan.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../engine/loader.h"

#define FUZZ_RAM_BASE 0x80000000ull
#define FUZZ_RAM_SIZE (1u << 20)    /* the seeds load below 0x80100000 */
#define FUZZ_POISON 0xa5

#define FUZZ_CHECK(c)                                                        \
    do {                                                                     \
        if (!(c)) {                                                          \
            fprintf(stderr, "fuzz_loader: check failed: %s (line %d)\n", #c, \
                    __LINE__);                                               \
            abort();                                                         \
        }                                                                    \
    } while (0)

/* Guest RAM is kept poisoned between runs; allocating 1 MiB per input
 * would dominate the run time. Harness-only state. */
static uint8_t *fuzz_ram(void)
{
    static uint8_t *ram;

    if (!ram) {
        ram = malloc(FUZZ_RAM_SIZE);
        FUZZ_CHECK(ram != NULL);
        memset(ram, FUZZ_POISON, FUZZ_RAM_SIZE);
    }
    return ram;
}

static void fuzz_check_poison(const uint8_t *p, size_t n)
{
    static uint8_t page[4096];

    if (page[0] != FUZZ_POISON)
        memset(page, FUZZ_POISON, sizeof(page));
    /* Page-sized memcmp: a 1 MiB scan per failing input stays cheap. */
    for (size_t i = 0; i < n; i += sizeof(page)) {
        size_t k = n - i < sizeof(page) ? n - i : sizeof(page);

        FUZZ_CHECK(memcmp(p + i, page, k) == 0);
    }
}

static int fuzz_contains(const struct loader_symbol *s, uint64_t addr)
{
    uint64_t span = s->size ? s->size : 1;

    return addr >= s->value && addr - s->value < span;
}

/* load_info_symbol must return a symbol containing addr, the one with the
 * greatest start among those that do, or NULL when none does. */
static void fuzz_check_lookup(const struct load_info *li, uint64_t addr)
{
    const struct loader_symbol *got = load_info_symbol(li, addr);
    const struct loader_symbol *best = NULL;

    for (size_t i = 0; i < li->nsyms; i++) {
        if (fuzz_contains(&li->syms[i], addr) &&
            (!best || li->syms[i].value >= best->value))
            best = &li->syms[i];
    }
    if (!best) {
        FUZZ_CHECK(got == NULL);
        return;
    }
    FUZZ_CHECK(got != NULL);
    FUZZ_CHECK(fuzz_contains(got, addr));
    FUZZ_CHECK(got->value == best->value);
}

static void fuzz_check_success(const struct load_info *li, const uint8_t *ram)
{
    FUZZ_CHECK(li->low >= FUZZ_RAM_BASE);
    FUZZ_CHECK(li->low <= li->high);
    FUZZ_CHECK(li->high - FUZZ_RAM_BASE < FUZZ_RAM_SIZE);
    FUZZ_CHECK(li->entry >= li->low && li->entry <= li->high);
    if (!li->has_tohost)
        FUZZ_CHECK(li->tohost == 0 && li->fromhost == 0);

    /* Nothing written outside [low, high]. */
    fuzz_check_poison(ram, li->low - FUZZ_RAM_BASE);
    fuzz_check_poison(ram + (li->high - FUZZ_RAM_BASE) + 1,
                      FUZZ_RAM_SIZE - (li->high - FUZZ_RAM_BASE) - 1);

    FUZZ_CHECK((li->syms == NULL) == (li->nsyms == 0));
    for (size_t i = 0; i < li->nsyms; i++) {
        const struct loader_symbol *s = &li->syms[i];

        FUZZ_CHECK(s->name != NULL && strlen(s->name) > 0);
        if (i)
            FUZZ_CHECK(li->syms[i - 1].value <= s->value);
    }

    /* Lookups: a quadratic cross-check, so bound it. */
    size_t n = li->nsyms < 64 ? li->nsyms : 64;
    fuzz_check_lookup(li, li->entry);
    fuzz_check_lookup(li, 0);
    fuzz_check_lookup(li, UINT64_MAX);
    for (size_t i = 0; i < n; i++) {
        const struct loader_symbol *s = &li->syms[i * (li->nsyms / n)];

        fuzz_check_lookup(li, s->value);
        fuzz_check_lookup(li, s->value - 1);
        fuzz_check_lookup(li, s->value + s->size);
        fuzz_check_lookup(li, s->value + s->size / 2);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct load_info zero;
    uint8_t *ram = fuzz_ram();
    struct load_info li;
    char err[160];

    memset(&li, 0x5a, sizeof(li));      /* the loader must reset it */
    err[0] = 0;
    int rc = loader_load(data, size, FUZZ_RAM_BASE, FUZZ_RAM_BASE,
                         FUZZ_RAM_SIZE, ram, &li, err, sizeof(err));
    if (rc == 0) {
        fuzz_check_success(&li, ram);
        memset(ram + (li.low - FUZZ_RAM_BASE), FUZZ_POISON,
               li.high - li.low + 1);
        load_info_free(&li);
        FUZZ_CHECK(memcmp(&li, &zero, sizeof(li)) == 0);
        return 0;
    }

    FUZZ_CHECK(rc < 0);
    FUZZ_CHECK(err[0] != 0 && strchr(err, '\n') == NULL);
    FUZZ_CHECK(memcmp(&li, &zero, sizeof(li)) == 0);
    fuzz_check_poison(ram, FUZZ_RAM_SIZE);

    /* Same input, tiny and absent message buffers: same verdict, the
     * message truncated but terminated. */
    char small[6];
    FUZZ_CHECK(loader_load(data, size, FUZZ_RAM_BASE, FUZZ_RAM_BASE,
                           FUZZ_RAM_SIZE, ram, &li, small,
                           sizeof(small)) == rc);
    FUZZ_CHECK(strlen(small) < sizeof(small));
    FUZZ_CHECK(strncmp(small, err, sizeof(small) - 1) == 0);
    FUZZ_CHECK(loader_load(data, size, FUZZ_RAM_BASE, FUZZ_RAM_BASE,
                           FUZZ_RAM_SIZE, ram, &li, NULL, 0) == rc);
    return 0;
}
