/* A hostile guest: random values of every size to every register of every
 * device (UART, CLINT, PLIC, the eight virtio-mmio slots), then virtio
 * devices handed rings outside RAM, descriptor loops, zero and huge
 * lengths and nested indirect tables. glassbox must keep running (the
 * program finishes and says how far it got) and, under ASan/UBSan, touch
 * nothing outside the guest. Faults the guest provokes on itself are
 * skipped by the exception hook. Runs with a drive and a network attached
 * (tests/hostile.sh). */
#include "rt.h"

#define VIRTIO_BASE 0x10001000UL
#define PLIC_BASE 0xc000000UL
#define ITERATIONS 60000

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic, so a failure reproduces */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static volatile ulong faults;

/* skip whatever faulted: the point is the host's survival */
static int skip_fault(ulong cause, int mode, struct rt_frame *f)
{
    ulong epc = csr_read(mepc);
    uint16_t first = *(volatile uint16_t *)epc;

    (void)cause;
    (void)mode;
    (void)f;
    faults++;
    csr_write(mepc, epc + ((first & 3) == 3 ? 4 : 2));
    return 1;
}

static void poke(ulong base, ulong span)
{
    unsigned size = 1u << (rnd() & 3);
    ulong addr = base + ((rnd() % span) & ~(ulong)(size - 1));
    uint64_t v = rnd();

    if (rnd() & 1) {
        switch (size) {
        case 1: *(volatile uint8_t *)addr = (uint8_t)v; break;
        case 2: *(volatile uint16_t *)addr = (uint16_t)v; break;
        case 4: *(volatile uint32_t *)addr = (uint32_t)v; break;
        default: *(volatile uint64_t *)addr = v; break;
        }
    } else {
        switch (size) {
        case 1: (void)*(volatile uint8_t *)addr; break;
        case 2: (void)*(volatile uint16_t *)addr; break;
        case 4: (void)*(volatile uint32_t *)addr; break;
        default: (void)*(volatile uint64_t *)addr; break;
        }
    }
}

/* virtio-mmio register offsets (virtio 1.2, 4.2.2) */
enum {
    V_MAGIC = 0x000, V_DEVID = 0x008, V_DEVFEAT = 0x010, V_DEVFEATSEL = 0x014,
    V_DRVFEAT = 0x020, V_DRVFEATSEL = 0x024, V_QSEL = 0x030, V_QNUMMAX = 0x034,
    V_QNUM = 0x038, V_QREADY = 0x044, V_QNOTIFY = 0x050, V_ISR = 0x060, V_IACK = 0x064,
    V_STATUS = 0x070, V_QDESC = 0x080, V_QDRV = 0x090, V_QDEV = 0x0a0,
};

struct desc { uint64_t addr; uint32_t len; uint16_t flags, next; };

static struct desc ring_desc[16] __attribute__((aligned(16)));
static uint16_t ring_avail[3 + 16] __attribute__((aligned(2)));
static uint8_t ring_used[8 * 16 + 8] __attribute__((aligned(4)));
static uint8_t buf[512];

static void w32(ulong slot, unsigned off, uint32_t v)
{
    mmio32(slot + off) = v;
}

static void w64(ulong slot, unsigned off, uint64_t v)
{
    mmio32(slot + off) = (uint32_t)v;
    mmio32(slot + off + 4) = (uint32_t)(v >> 32);
}

/* Bring a device up like a driver, but with a malicious ring for queue q. */
static void attack(ulong slot, unsigned q, unsigned variant)
{
    static const uint64_t bad_addrs[] = {
        0, 0x1000, 0x7ffff000, 0xfffffffffffff000ull, 0x80000000ull + (1ull << 40),
    };
    uint16_t n = 8;

    w32(slot, V_STATUS, 0);
    w32(slot, V_STATUS, 1);
    w32(slot, V_STATUS, 1 | 2);
    w32(slot, V_DRVFEATSEL, 1);
    w32(slot, V_DRVFEAT, 1);            /* VERSION_1 */
    w32(slot, V_DRVFEATSEL, 0);
    w32(slot, V_DRVFEAT, 1u << 28);     /* INDIRECT_DESC */
    w32(slot, V_STATUS, 1 | 2 | 8);
    w32(slot, V_QSEL, q);
    w32(slot, V_QNUM, n);
    memset(ring_desc, 0, sizeof(ring_desc));
    memset(ring_avail, 0, sizeof(ring_avail));
    for (unsigned i = 0; i < n; i++) {
        ring_desc[i].addr = (ulong)buf;
        ring_desc[i].len = 64;
        ring_desc[i].flags = (uint16_t)(rnd() & 7);
        ring_desc[i].next = (uint16_t)(rnd() % 20);
    }
    switch (variant % 7) {
    case 0:     /* buffer outside RAM */
        ring_desc[0].addr = bad_addrs[rnd() % 5];
        break;
    case 1:     /* a loop */
        ring_desc[0].flags = 1;
        ring_desc[0].next = 1;
        ring_desc[1].flags = 1;
        ring_desc[1].next = 0;
        break;
    case 2:     /* zero and huge lengths */
        ring_desc[0].len = 0;
        ring_desc[0].flags = 1;
        ring_desc[0].next = 1;
        ring_desc[1].len = 0xffffffffu;
        ring_desc[1].flags = 2;
        break;
    case 3:     /* indirect table that points at itself (nested/looping) */
        ring_desc[0].flags = 4;
        ring_desc[0].addr = (ulong)ring_desc;
        ring_desc[0].len = sizeof(ring_desc);
        break;
    case 4:     /* indirect table of bad length, in a chain */
        ring_desc[0].flags = 4 | 1;
        ring_desc[0].len = 7;
        break;
    default:    /* random everything */
        for (unsigned i = 0; i < n; i++) {
            ring_desc[i].addr = rnd();
            ring_desc[i].len = (uint32_t)rnd();
        }
        break;
    }
    ring_avail[2 + 0] = (uint16_t)(rnd() % 20);  /* head, maybe out of range */
    ring_avail[1] = (uint16_t)(variant % 7 == 6 ? rnd() : 1);   /* idx, maybe a jump */
    /* the ring addresses themselves may be bad too */
    w64(slot, V_QDESC, variant % 5 == 4 ? bad_addrs[rnd() % 5] : (ulong)ring_desc);
    w64(slot, V_QDRV, (ulong)ring_avail);
    w64(slot, V_QDEV, (ulong)ring_used);
    w32(slot, V_QREADY, 1);
    w32(slot, V_STATUS, 1 | 2 | 4 | 8);
    w32(slot, V_QNOTIFY, q);
    w32(slot, V_IACK, mmio32(slot + V_ISR));
    (void)mmio32(slot + V_STATUS);
    w32(slot, V_STATUS, 0);
}

int main(void)
{
    ulong accesses = 0, attacks = 0;

    rt_exc_hook = skip_fault;
    csr_write(mie, 0);          /* random PLIC/CLINT state must not interrupt us */

    for (unsigned i = 0; i < ITERATIONS; i++, accesses++) {
        switch (rnd() % 5) {
        case 0: poke(UART0_BASE, 0x100); break;
        case 1: poke(CLINT_BASE, 0x10000); break;
        case 2: poke(PLIC_BASE, 0x600000); break;
        default: poke(VIRTIO_BASE, 8 * 0x1000); break;
        }
    }
    for (unsigned slot = 0; slot < 8; slot++) {
        ulong base = VIRTIO_BASE + 0x1000UL * slot;
        if (mmio32(base + V_MAGIC) != 0x74726976 || mmio32(base + V_DEVID) == 0)
            continue;
        for (unsigned v = 0; v < 70; v++, attacks++)
            attack(base, v & 1, v);
    }
    /* restore a sane UART so the verdict is readable */
    mmio32(UART0_BASE + 4) = 0;
    *(volatile uint8_t *)(UART0_BASE + 3) = 3;
    *(volatile uint8_t *)(UART0_BASE + 4) = 0;
    rt_printf("\nhostile: %lu device accesses, %lu virtio attacks, %lu faults skipped; "
              "host still standing\n", accesses, attacks, faults);
    rt_exit(0);
}
