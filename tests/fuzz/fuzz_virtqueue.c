/*
 * libFuzzer harness for the virtio-mmio transport and split virtqueues
 * (devices/virtio_mmio.c, devices/virtqueue.c) behind a virtio-blk on a
 * small memfd and a virtio-rng. Build and run: see the end of this file.
 *
 * Input: byte 0 picks the device (bit 0: blk or rng), bytes 1-2 (LE) are
 * the length of a register script, the script follows, and the rest is
 * copied to the start of guest RAM, where the harness's bring-up puts the
 * rings: descriptor table at +0, available ring at +0x1000, used ring at
 * +0x1800. So the fuzzer writes descriptors and the avail ring directly,
 * and the script drives the registers like a (possibly hostile) driver.
 *
 * Beyond ASan/UBSan (guest RAM is an exact-size heap block, so a stray
 * access outside it hits a redzone), it checks: the image never changes
 * size; a device in needs-reset has a one-line reason; no more chains are
 * completed than notifications could have offered.
 */
#define _GNU_SOURCE             /* memfd_create */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "glassbox/guest_mem.h"
#include "virtio_mmio.h"
#include "virtio_blk.h"
#include "virtio_rng.h"

#define RAM_BASE    UINT64_C(0x80000000)
#define RAM_SIZE    0x10000u
#define DESC_OFF    0x0000u
#define AVAIL_OFF   0x1000u
#define USED_OFF    0x1800u
#define IMAGE_SIZE  (64 * 512)

#define FUZZ_CHECK(c)                                                        \
    do {                                                                     \
        if (!(c)) {                                                          \
            fprintf(stderr, "fuzz_virtqueue: check failed: %s (line %d)\n",  \
                    #c, __LINE__);                                           \
            abort();                                                         \
        }                                                                    \
    } while (0)

enum op { OP_WRITE, OP_READ, OP_BRINGUP, OP_NOTIFY, OP_CONFIG, OP_PUBLISH,
          OP_ACK, OP_POKE, OP_COUNT };

static const uint16_t regs[] = {
    VIRTIO_MMIO_MAGIC_VALUE, VIRTIO_MMIO_DEVICE_FEATURES,
    VIRTIO_MMIO_DEVICE_FEATURES_SEL, VIRTIO_MMIO_DRIVER_FEATURES,
    VIRTIO_MMIO_DRIVER_FEATURES_SEL, VIRTIO_MMIO_QUEUE_SEL,
    VIRTIO_MMIO_QUEUE_NUM_MAX, VIRTIO_MMIO_QUEUE_NUM, VIRTIO_MMIO_QUEUE_READY,
    VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_MMIO_INTERRUPT_STATUS,
    VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_STATUS,
    VIRTIO_MMIO_QUEUE_DESC_LOW, VIRTIO_MMIO_QUEUE_DESC_HIGH,
    VIRTIO_MMIO_QUEUE_DRIVER_LOW, VIRTIO_MMIO_QUEUE_DRIVER_HIGH,
    VIRTIO_MMIO_QUEUE_DEVICE_LOW, VIRTIO_MMIO_QUEUE_DEVICE_HIGH,
    VIRTIO_MMIO_SHM_SEL, VIRTIO_MMIO_SHM_LEN_LOW, VIRTIO_MMIO_CONFIG_GENERATION,
    0x0f0, 0x100, 0x10c, 0x114,
};
#define NREGS (sizeof(regs) / sizeof(regs[0]))

struct ram {
    uint8_t *mem;
};

static uint8_t *ram_map(void *opaque, uint64_t gpa, uint64_t len, int write)
{
    struct ram *r = opaque;

    (void)write;
    if (gpa < RAM_BASE || gpa - RAM_BASE > RAM_SIZE ||
        len > RAM_SIZE - (gpa - RAM_BASE))
        return NULL;
    return r->mem + (gpa - RAM_BASE);
}

/* Script reader: bytes past the end read as 0. */
struct cursor {
    const uint8_t *p;
    size_t left;
};

static uint32_t take(struct cursor *c, unsigned n)
{
    uint32_t v = 0;
    unsigned i;

    for (i = 0; i < n; i++) {
        if (c->left) {
            v |= (uint32_t)*c->p << (8 * i);
            c->p++;
            c->left--;
        }
    }
    return v;
}

struct run {
    struct virtio_mmio *vm;
    struct ram ram;
    uint16_t avail_idx;         /* what the "driver" published */
    unsigned num;
};

static uint32_t rd(struct run *r, uint64_t off)
{
    return (uint32_t)virtio_mmio_ops.read(r->vm, off, 4);
}

static void wr(struct run *r, uint64_t off, uint32_t v)
{
    virtio_mmio_ops.write(r->vm, off, 4, v);
}

/* Linux's sequence; feat picks INDIRECT and a few device bits. */
static void bring_up(struct run *r, uint8_t feat, uint8_t numexp)
{
    uint64_t want = VIRTIO_BIT(VIRTIO_F_VERSION_1);
    unsigned q;

    if (feat & 1)
        want |= VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);
    want |= (uint64_t)(feat >> 1) << 1;     /* device bits 1..7 */
    wr(r, VIRTIO_MMIO_STATUS, 0);
    wr(r, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    wr(r, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr(r, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr(r, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(want >> 32));
    wr(r, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr(r, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)want);
    wr(r, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                              VIRTIO_STATUS_FEATURES_OK);
    r->num = 1u << (numexp % 10);
    q = 0;
    wr(r, VIRTIO_MMIO_QUEUE_SEL, q);
    wr(r, VIRTIO_MMIO_QUEUE_NUM, r->num);
    wr(r, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(RAM_BASE + DESC_OFF));
    wr(r, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(RAM_BASE + AVAIL_OFF));
    wr(r, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(RAM_BASE + USED_OFF));
    wr(r, VIRTIO_MMIO_QUEUE_READY, 1);
    /* The avail index may already hold fuzzer bytes: start from it. */
    memcpy(&r->avail_idx, r->ram.mem + AVAIL_OFF + 2, 2);
    r->avail_idx = le16toh(r->avail_idx);
    wr(r, VIRTIO_MMIO_STATUS, rd(r, VIRTIO_MMIO_STATUS) |
                              VIRTIO_STATUS_DRIVER_OK);
}

static void publish(struct run *r, uint16_t head)
{
    unsigned slot;
    uint16_t v;

    if (!r->num)
        return;
    slot = AVAIL_OFF + 4 + 2 * (r->avail_idx % r->num);
    if (slot + 2 > RAM_SIZE)
        return;
    v = htole16(head);
    memcpy(r->ram.mem + slot, &v, 2);
    r->avail_idx++;
    v = htole16(r->avail_idx);
    memcpy(r->ram.mem + AVAIL_OFF + 2, &v, 2);
}

/* Returns 1 for a bring-up (DRIVER_OK kicks the queues once). */
static int step(struct run *r, struct cursor *c)
{
    uint32_t v, off, size;

    switch (take(c, 1) % OP_COUNT) {
    case OP_WRITE:
        off = regs[take(c, 1) % NREGS];
        wr(r, off, take(c, 4));
        break;
    case OP_READ:
        rd(r, regs[take(c, 1) % NREGS]);
        break;
    case OP_BRINGUP:
        v = take(c, 1);
        bring_up(r, (uint8_t)v, (uint8_t)take(c, 1));
        return 1;
    case OP_NOTIFY:
        wr(r, VIRTIO_MMIO_QUEUE_NOTIFY, take(c, 1) & 3);
        break;
    case OP_CONFIG:
        off = VIRTIO_MMIO_CONFIG + take(c, 1);
        size = 1u << (take(c, 1) & 3);
        v = take(c, 4);
        if (v & 1)
            virtio_mmio_ops.write(r->vm, off, size, v);
        else
            virtio_mmio_ops.read(r->vm, off, size);
        break;
    case OP_PUBLISH:
        publish(r, (uint16_t)take(c, 2));
        break;
    case OP_ACK:
        wr(r, VIRTIO_MMIO_INTERRUPT_ACK, rd(r, VIRTIO_MMIO_INTERRUPT_STATUS));
        break;
    case OP_POKE:
        off = take(c, 2) % RAM_SIZE;
        r->ram.mem[off] = (uint8_t)take(c, 1);
        break;
    }
    return 0;
}

/* The image the blk device opens for every input; harness-only state. */
static const char *image_path(void)
{
    static char path[64];

    if (!path[0]) {
        int fd = memfd_create("fuzz-virtio-blk", MFD_CLOEXEC);

        FUZZ_CHECK(fd >= 0);
        FUZZ_CHECK(ftruncate(fd, IMAGE_SIZE) == 0);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct guest_mem gm;
    struct virtio_backend be;
    struct cursor c;
    struct run r = { 0 };
    struct stat st;
    char err[256];
    struct virtio_stats vs;
    uint64_t kicks = 0;
    size_t slen;

    if (size < 3)
        return 0;
    slen = (size_t)data[1] | (size_t)data[2] << 8;
    if (slen > size - 3)
        slen = size - 3;
    c = (struct cursor){ data + 3, slen };

    r.ram.mem = calloc(1, RAM_SIZE);
    FUZZ_CHECK(r.ram.mem != NULL);
    if (size - 3 - slen)
        memcpy(r.ram.mem, data + 3 + slen,
               size - 3 - slen < RAM_SIZE ? size - 3 - slen : RAM_SIZE);
    gm = (struct guest_mem){ ram_map, &r.ram };

    if (data[0] & 1)
        FUZZ_CHECK(virtio_rng_new(&be) == 0);
    else
        FUZZ_CHECK(virtio_blk_new(image_path(), 0, &be, err, sizeof(err)) == 0);
    r.vm = virtio_mmio_new(be.ops, be.dev, &gm, (struct irq_line){ 0 });
    FUZZ_CHECK(r.vm != NULL);

    while (c.left)
        kicks += step(&r, &c);

    if (virtio_mmio_status(r.vm) & VIRTIO_STATUS_NEEDS_RESET) {
        FUZZ_CHECK(virtio_mmio_error(r.vm, err, sizeof(err)) == 1);
        FUZZ_CHECK(err[0] && !strchr(err, '\n'));
    }
    /* Each kick (a QueueNotify, or the one DRIVER_OK gives) completes at
     * most a queue's worth, and queues are at most 512 long here. */
    virtio_mmio_stats(r.vm, &vs);
    FUZZ_CHECK(vs.requests <= (vs.notifications + kicks) * 512);

    virtio_mmio_free(r.vm);
    FUZZ_CHECK(stat(image_path(), &st) == 0 && st.st_size == IMAGE_SIZE);
    free(r.ram.mem);
    return 0;
}

#ifdef FUZZ_VIRTQ_MAKE_SEEDS
/* cc -DFUZZ_VIRTQ_MAKE_SEEDS ... -o mkseeds && ./mkseeds DIR writes a few
 * well-formed inputs: bring-up, one request, notify. */
static void put_desc(uint8_t *ram, unsigned i, uint64_t addr, uint32_t len,
                     uint16_t flags, uint16_t next)
{
    uint8_t *p = ram + DESC_OFF + 16 * i;

    addr = htole64(addr);
    len = htole32(len);
    flags = htole16(flags);
    next = htole16(next);
    memcpy(p, &addr, 8);
    memcpy(p + 8, &len, 4);
    memcpy(p + 12, &flags, 2);
    memcpy(p + 14, &next, 2);
}

static void seed(const char *dir, const char *name, unsigned dev,
                 uint32_t type, int indirect)
{
    static uint8_t ram[0x2100];
    const uint8_t script[] = { OP_BRINGUP, (uint8_t)(indirect | 0x40), 4,
                               OP_PUBLISH, 0, 0, OP_NOTIFY, 0, OP_ACK };
    uint64_t hdr = RAM_BASE + 0x2000, data = RAM_BASE + 0x2010;
    uint16_t W = VIRTQ_DESC_F_WRITE, N = VIRTQ_DESC_F_NEXT;
    uint8_t head[3] = { (uint8_t)dev, sizeof(script), 0 };
    char path[512];
    FILE *f;

    memset(ram, 0, sizeof(ram));
    if (dev) {
        put_desc(ram, 0, data, 64, W, 0);
    } else if (indirect) {
        /* table in the descriptor area's tail */
        put_desc(ram, 8, hdr, 16, N, 1);
        put_desc(ram, 9, data, 0xe0, N | W, 2);
        put_desc(ram, 10, data + 0xe0, 1, W, 0);
        put_desc(ram, 0, RAM_BASE + DESC_OFF + 16 * 8, 48,
                 VIRTQ_DESC_F_INDIRECT, 0);
    } else {
        put_desc(ram, 0, hdr, 16, N, 1);
        put_desc(ram, 1, data, type == VIRTIO_BLK_T_FLUSH ? 0 : 0xe0,
                 N | (type == VIRTIO_BLK_T_OUT ? 0 : W), 2);
        put_desc(ram, 2, data + 0xe0, 1, W, 0);
    }
    ram[0x2000] = (uint8_t)type;
    ram[0x2008] = 3;            /* sector */
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    fwrite(head, 1, sizeof(head), f);
    fwrite(script, 1, sizeof(script), f);
    fwrite(ram, 1, sizeof(ram), f);
    fclose(f);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    seed(argv[1], "blk_in", 0, VIRTIO_BLK_T_IN, 0);
    seed(argv[1], "blk_out", 0, VIRTIO_BLK_T_OUT, 0);
    seed(argv[1], "blk_flush", 0, VIRTIO_BLK_T_FLUSH, 0);
    seed(argv[1], "blk_get_id", 0, VIRTIO_BLK_T_GET_ID, 0);
    seed(argv[1], "blk_indirect", 0, VIRTIO_BLK_T_IN, 1);
    seed(argv[1], "rng", 1, 0, 0);
    return 0;
}
#endif

/*
 * Build (from the top of the tree):
 *
 *   DEV="devices/virtqueue.c devices/virtio_mmio.c devices/virtio_blk.c \
 *        devices/virtio_rng.c"
 *   clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -fno-sanitize-recover=undefined -Iinclude -Idevices \
 *       -o fuzz_virtqueue tests/fuzz/fuzz_virtqueue.c $DEV
 *   clang -std=gnu11 -O1 -DFUZZ_VIRTQ_MAKE_SEEDS -Iinclude -Idevices \
 *       -o mkseeds tests/fuzz/fuzz_virtqueue.c $DEV
 *   mkdir -p /tmp/virtq-seeds /tmp/virtq-corpus && ./mkseeds /tmp/virtq-seeds
 *   ./fuzz_virtqueue -max_total_time=600 -max_len=12288 \
 *       -print_final_stats=1 /tmp/virtq-corpus /tmp/virtq-seeds
 */
