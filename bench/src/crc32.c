/* CRC-32 (IEEE, reflected, poly 0xEDB88320) two ways: byte-at-a-time with
 * a 256-entry table (load-heavy) and bit-at-a-time (shift/branch-heavy).
 * Both must agree with each other and with the standard check value. */
#include "bench.h"

#define BUF_LEN      (256 * 1024)
#define TABLE_ROUNDS 240
#define BIT_ROUNDS   6

const char bench_name[] = "crc32";

static uint32_t table[256];
static uint8_t buf[BUF_LEN];

static void make_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xedb88320u : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc32_table(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n--)
        crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static uint32_t crc32_bitwise(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

uint64_t bench_main(void)
{
    static const uint8_t check[] = "123456789";
    uint64_t seed = 0x5eed0003, sum = 0;

    make_table();
    if (crc32_table(0, check, 9) != 0xcbf43926u ||
        crc32_bitwise(0, check, 9) != 0xcbf43926u)
        bench_fail("CRC-32(\"123456789\") known answer mismatch");

    for (size_t i = 0; i < BUF_LEN; i++)
        buf[i] = (uint8_t)rng_next(&seed);

    uint32_t crc = 0;
    for (int r = 0; r < TABLE_ROUNDS; r++) {
        crc = crc32_table(crc, buf, BUF_LEN);
        buf[r] ^= (uint8_t)crc;  /* chain rounds */
        sum = mix64(sum, crc);
    }
    for (int r = 0; r < BIT_ROUNDS; r++) {
        uint32_t a = crc32_bitwise(r, buf, BUF_LEN);
        if (a != crc32_table(r, buf, BUF_LEN))
            bench_fail("table and bitwise CRC disagree");
        sum = mix64(sum, a);
    }
    return sum;
}
