/*
 * Unit tests for engine/cli.c: size and count parsing, and `glassbox run`
 * option parsing with the exact one-line errors a user sees (each names
 * the offending value). The numbers are worked out here by hand: sizes
 * without a suffix are MiB (like QEMU's -m), K/M/G/T are binary; counts
 * take decimal k/M/G multipliers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"

/* ---- cli_parse_size ------------------------------------------------------ */

typedef int (*parse_fn)(const char *s, uint64_t *out);

/* parse(s) must succeed with want, or fail with -EINVAL (want_ok 0) */
static void parse_check(parse_fn parse, const char *what, const char *s, int want_ok,
                        uint64_t want)
{
    uint64_t v = 0xdead;
    int r = parse(s, &v);

    if (!want_ok) {
        if (r != -EINVAL)
            fail_msg("%s '%s' accepted as %llu", what, s ? s : "(null)", (unsigned long long)v);
        return;
    }
    if (r != 0)
        fail_msg("%s '%s' rejected", what, s);
    if (v != want)
        fail_msg("%s '%s' = %llu, want %llu", what, s, (unsigned long long)v,
                 (unsigned long long)want);
}

#define size_ok(s, want) parse_check(cli_parse_size, "size", (s), 1, (want))
#define size_bad(s) parse_check(cli_parse_size, "size", (s), 0, 0)
#define count_ok(s, want) parse_check(cli_parse_count, "count", (s), 1, (want))
#define count_bad(s) parse_check(cli_parse_count, "count", (s), 0, 0)

static void test_parse_size(void **state)
{
    (void)state;
    size_ok("128", 128ull << 20);           /* plain number: MiB */
    size_ok("1", 1ull << 20);
    size_ok("0", 0);                        /* parses; `run` rejects it */
    size_ok("512K", 512ull << 10);
    size_ok("512k", 512ull << 10);
    size_ok("64M", 64ull << 20);
    size_ok("64MiB", 64ull << 20);
    size_ok("64MB", 64ull << 20);
    size_ok("2G", 2ull << 30);
    size_ok("2GiB", 2ull << 30);
    size_ok("1T", 1ull << 40);
    size_ok("4096B", 4096);
    size_ok("16777215T", (16777215ull) << 40);  /* 2^64 - 2^40: the largest T */
    size_ok("17592186044415", 17592186044415ull << 20);

    size_bad("");
    size_bad("lots");
    size_bad("12X");
    size_bad("G");
    size_bad("1.5G");
    size_bad("1GG");
    size_bad("1Gi");
    size_bad("1 G");
    size_bad("-1");
    size_bad("+1");
    size_bad(" -1B");                       /* a negative number in disguise */
    size_bad(" 64M");
    size_bad("0x40M");
    size_bad("16777216T");                  /* 2^64: overflow */
    size_bad("17592186044416");             /* 2^44 MiB = 2^64 bytes */
    size_bad("18446744073709551616B");      /* 2^64 */
    size_bad("99999999999999999999999");
    size_bad(NULL);
}

/* ---- cli_parse_count ----------------------------------------------------- */

static void test_parse_count(void **state)
{
    (void)state;
    count_ok("1000", 1000);
    count_ok("0", 0);
    count_ok("5k", 5000);
    count_ok("5K", 5000);
    count_ok("2M", 2000000);
    count_ok("3G", 3000000000ull);
    count_ok("18446744073709551615", UINT64_MAX);
    count_ok("0x10", 16);
    count_ok("0XfF", 255);
    count_ok("0x10k", 16000);
    /* a leading zero does not make a count octal */
    count_ok("010", 10);
    count_ok("1000000000", 1000000000ull);

    count_bad("");
    count_bad("lots");
    count_bad("-1");
    count_bad(" -1");                       /* would wrap to 2^64 - 1 */
    count_bad("+1");
    count_bad(" 1");
    count_bad("1.5");
    count_bad("5kk");
    count_bad("5k5");
    count_bad("5T");
    count_bad("12X");
    count_bad("0x");
    count_bad("0x0x10");
    count_bad("0xg");
    count_bad("18446744073709551616");      /* 2^64 */
    count_bad("18446744073709552k");        /* 2^64 + a bit after scaling */
    count_bad(NULL);
}

/* ---- cli_parse_run ------------------------------------------------------- */

struct parsed {
    int r;
    struct run_config cfg;
    char err[512];
};

/* Parse a NULL-terminated list of arguments after "run". */
static struct parsed run_args(const char *first, ...)
{
    static char *argv[64];
    static char store[64][128];
    struct parsed p;
    va_list ap;
    int argc = 0;
    const char *a;

    snprintf(store[argc], sizeof(store[argc]), "run");
    argv[argc] = store[argc];
    argc++;
    va_start(ap, first);
    for (a = first; a; a = va_arg(ap, const char *)) {
        snprintf(store[argc], sizeof(store[argc]), "%s", a);
        argv[argc] = store[argc];
        argc++;
    }
    va_end(ap);
    argv[argc] = NULL;
    memset(&p, 0, sizeof(p));
    strcpy(p.err, "(untouched)");
    p.r = cli_parse_run(argc, argv, &p.cfg, p.err, sizeof(p.err));
    return p;
}

#define RUN(...) run_args(__VA_ARGS__, (const char *)NULL)

static void expect_error(struct parsed p, const char *needle1, const char *needle2)
{
    if (p.r != -EINVAL)
        fail_msg("parse returned %d, want -EINVAL (err '%s')", p.r, p.err);
    if (needle1 && !strstr(p.err, needle1))
        fail_msg("error '%s' does not mention '%s'", p.err, needle1);
    if (needle2 && !strstr(p.err, needle2))
        fail_msg("error '%s' does not mention '%s'", p.err, needle2);
    /* one line */
    assert_null(strchr(p.err, '\n'));
    assert_true(strlen(p.err) > 10);
}

static void test_run_good(void **state)
{
    struct parsed p;

    (void)state;
    p = RUN("--bios", "none", "--kernel", "guest.elf");
    assert_int_equal(p.r, 0);
    assert_string_equal(p.cfg.bios, "none");
    assert_string_equal(p.cfg.kernel, "guest.elf");
    assert_int_equal(p.cfg.memory, 128ull << 20);
    assert_int_equal(p.cfg.max_insns, 0);
    assert_int_equal(p.cfg.trace, 0);

    p = RUN("--kernel", "k", "--bios", "none", "--memory", "256M", "--max-insns", "2k",
            "--trace");
    assert_int_equal(p.r, 0);
    assert_int_equal(p.cfg.memory, 256ull << 20);
    assert_int_equal(p.cfg.max_insns, 2000);
    assert_int_equal(p.cfg.trace, 1);

    /* --opt=value and unique prefixes work as with any getopt_long tool */
    p = RUN("--bios=none", "--kernel=k", "--memory=1G", "--max-insns=7");
    assert_int_equal(p.r, 0);
    assert_string_equal(p.cfg.kernel, "k");
    assert_int_equal(p.cfg.memory, 1ull << 30);
    assert_int_equal(p.cfg.max_insns, 7);

    /* the bounds themselves */
    p = RUN("--bios", "none", "--kernel", "k", "--memory", "1M");
    assert_int_equal(p.r, 0);
    assert_int_equal(p.cfg.memory, 1ull << 20);
    p = RUN("--bios", "none", "--kernel", "k", "--memory", "64G");
    assert_int_equal(p.r, 0);
    assert_int_equal(p.cfg.memory, GB_MAX_MEMORY);
}

static void test_run_bad_memory(void **state)
{
    (void)state;
    expect_error(RUN("--bios", "none", "--kernel", "k", "--memory", "0"), "--memory", "'0'");
    expect_error(RUN("--bios", "none", "--kernel", "k", "--memory", "lots"), "--memory",
                 "'lots'");
    expect_error(RUN("--bios", "none", "--kernel", "k", "--memory", "12X"), "--memory",
                 "'12X'");
    expect_error(RUN("--bios", "none", "--kernel", "k", "--memory", "-5"), "--memory", "'-5'");
    expect_error(RUN("--bios", "none", "--kernel", "k", "--memory", "1T"), "'1T'", "64G");
    expect_error(RUN("--bios", "none", "--kernel", "k", "--memory", "65G"), "'65G'", "64G");
    expect_error(RUN("--bios", "none", "--kernel", "k", "--memory", "512K"), "'512K'", "1M");
    expect_error(RUN("--bios", "none", "--kernel", "k", "--memory", "99999999999999999999"),
                 "'99999999999999999999'", NULL);
    /* not a multiple of the 4 KiB page: the value is named too */
    expect_error(RUN("--bios", "none", "--kernel", "k", "--memory", "1025K"), "'1025K'",
                 "4 KiB");
    expect_error(RUN("--bios", "none", "--kernel", "k", "--memory="), "--memory", "''");
}

static void test_run_bad_count(void **state)
{
    (void)state;
    expect_error(RUN("--bios", "none", "--kernel", "k", "--max-insns", "0"), "--max-insns",
                 "'0'");
    expect_error(RUN("--bios", "none", "--kernel", "k", "--max-insns", "lots"), "'lots'", NULL);
    expect_error(RUN("--bios", "none", "--kernel", "k", "--max-insns", "-3"), "'-3'", NULL);
    expect_error(RUN("--bios", "none", "--kernel", "k", "--max-insns", " -1"), "' -1'", NULL);
    expect_error(RUN("--bios", "none", "--kernel", "k", "--max-insns", "18446744073709551616"),
                 "'18446744073709551616'", NULL);
}

static void test_run_usage_errors(void **state)
{
    (void)state;
    /* with --bios none a kernel is required */
    expect_error(RUN("--bios", "none"), "--kernel", NULL);
    expect_error(RUN("--bios", "none", "--memory", "64M"), "--kernel", NULL);
    /* unknown options are named */
    expect_error(RUN("--bios", "none", "--kernel", "k", "--bogus"), "'--bogus'", "--help");
    expect_error(RUN("--bogus=3", "--kernel", "k"), "--bogus", NULL);
    expect_error(RUN("-x", "--kernel", "k"), "-x", NULL);
    /* in a cluster of short options the bad letter is named, not a
     * neighbouring argument */
    struct parsed p = RUN("--kernel", "k", "-xq");
    expect_error(p, "-x", NULL);
    assert_null(strstr(p.err, "'k'"));
    p = RUN("-qz");
    expect_error(p, "-q", NULL);
    assert_null(strstr(p.err, "'run'"));
    /* a missing value */
    expect_error(RUN("--bios", "none", "--kernel"), "'--kernel'", "value");
    expect_error(RUN("--bios", "none", "--kernel", "k", "--memory"), "'--memory'", "value");
    expect_error(RUN("--bios", "none", "--kernel", "k", "--max-insns"), "'--max-insns'",
                 "value");
    /* a stray argument */
    expect_error(RUN("--bios", "none", "--kernel", "k", "extra"), "'extra'", NULL);
    /* an option that takes no value given one */
    expect_error(RUN("--bios", "none", "--kernel", "k", "--trace=yes"), "--trace", NULL);
}

/* getopt keeps hidden state between calls: a parse that stopped in the
 * middle of a cluster must not leak into the next one. */
static void test_run_repeatable(void **state)
{
    struct parsed p;

    (void)state;
    for (int i = 0; i < 3; i++) {
        p = RUN("-xyz");
        assert_int_equal(p.r, -EINVAL);
        p = RUN("--bios", "none", "--kernel", "k2");
        assert_int_equal(p.r, 0);
        assert_string_equal(p.cfg.kernel, "k2");
        p = RUN("--memory", "lots", "--kernel", "k");
        assert_int_equal(p.r, -EINVAL);
        p = RUN("--bios", "none", "--kernel", "k3", "--memory", "32M");
        assert_int_equal(p.r, 0);
        assert_int_equal(p.cfg.memory, 32ull << 20);
    }
}

/* --help prints the usage on stdout and returns 1 (main then exits 0). */
static void test_run_help(void **state)
{
    char path[] = "/tmp/test_cli_XXXXXX";
    int fd = mkstemp(path), saved;
    char buf[4096];
    ssize_t n;
    struct parsed p;

    (void)state;
    assert_true(fd >= 0);
    unlink(path);
    fflush(stdout);
    saved = dup(1);
    dup2(fd, 1);
    p = RUN("--help");
    fflush(stdout);
    struct parsed q = RUN("--bios", "none", "-h");
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    assert_int_equal(p.r, 1);
    assert_int_equal(q.r, 1);
    lseek(fd, 0, SEEK_SET);
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    assert_true(n > 0);
    buf[n] = 0;
    assert_non_null(strstr(buf, "usage: glassbox run"));
    assert_non_null(strstr(buf, "--kernel"));
    assert_non_null(strstr(buf, "--memory"));
    assert_non_null(strstr(buf, "--max-insns"));
    assert_non_null(strstr(buf, "--trace"));
    assert_non_null(strstr(buf, "--bios"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_parse_count),
        cmocka_unit_test(test_run_good),
        cmocka_unit_test(test_run_bad_memory),
        cmocka_unit_test(test_run_bad_count),
        cmocka_unit_test(test_run_usage_errors),
        cmocka_unit_test(test_run_repeatable),
        cmocka_unit_test(test_run_help),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
