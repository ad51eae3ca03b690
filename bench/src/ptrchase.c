/* Memory-bound pointer chasing: a singly linked list threaded through an
 * 8 MiB node pool in random order (larger than a host L2), walked
 * repeatedly with a dependent load and a store per node.  Measures load
 * latency through the emulator's memory path rather than ALU work. */
#include "bench.h"

#define NODES  (1u << 19)
#define PASSES 6

const char bench_name[] = "ptrchase";

struct node {
    struct node *next;
    uint64_t val;
};

static struct node pool[NODES];
static uint32_t order[NODES];

uint64_t bench_main(void)
{
    uint64_t seed = 0x5eed0006, sum = 0;

    /* Fisher-Yates shuffle, then link in shuffled order: one cycle
     * through every node, with no locality for caches to exploit. */
    for (uint32_t i = 0; i < NODES; i++)
        order[i] = i;
    for (uint32_t i = NODES - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(rng_next(&seed) % (i + 1));
        uint32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (uint32_t k = 0; k < NODES; k++) {
        struct node *n = &pool[order[k]];
        n->next = &pool[order[(k + 1) % NODES]];
        n->val = k;
    }

    struct node *p = &pool[order[0]];
    for (int pass = 0; pass < PASSES; pass++) {
        for (uint32_t k = 0; k < NODES; k++) {
            sum += p->val;
            p->val = (p->val ^ sum) + (uint64_t)pass;
            p = p->next;
        }
        sum = mix64(sum, (uint64_t)pass);
    }
    if (p != &pool[order[0]])
        bench_fail("list walk did not return to its head");
    return sum;
}
