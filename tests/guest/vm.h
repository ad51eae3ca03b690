/* Page-table building for the Sv39/Sv48 tests: tables are carved from the
 * free RAM after the image (__heap_start), 4 KiB each, zeroed. */
#ifndef VM_H
#define VM_H
#include "rt.h"

#define PTE_V (1UL << 0)
#define PTE_R (1UL << 1)
#define PTE_W (1UL << 2)
#define PTE_X (1UL << 3)
#define PTE_U (1UL << 4)
#define PTE_G (1UL << 5)
#define PTE_A (1UL << 6)
#define PTE_D (1UL << 7)
#define PTE_RWX (PTE_R | PTE_W | PTE_X)
#define PTE_AD (PTE_A | PTE_D)

#define SATP_SV39 (8UL << 60)
#define SATP_SV48 (9UL << 60)
#define PAGE 4096UL

static ulong vm_next;
static int vm_levels = 3;

static inline uint64_t *vm_alloc(void)
{
    if (!vm_next)
        vm_next = (ulong)__heap_start;
    uint64_t *p = (uint64_t *)vm_next;
    vm_next += PAGE;
    memset(p, 0, PAGE);
    return p;
}

/* a fresh 4 KiB page of scratch memory */
static inline void *vm_page(void) { return vm_alloc(); }

static inline ulong vm_pte(ulong pa, ulong flags) { return (pa >> 12) << 10 | flags; }

/* Map va -> pa with a leaf at `level` (0 = 4K, 1 = 2M, 2 = 1G, 3 = 512G)
 * and return the leaf PTE's address (tests edit PTEs in place). */
static inline uint64_t *vm_map(uint64_t *root, ulong va, ulong pa, int level, ulong flags)
{
    uint64_t *t = root;
    for (int l = vm_levels - 1; l > level; l--) {
        uint64_t *e = &t[(va >> (12 + 9 * l)) & 511];
        if (!(*e & PTE_V))
            *e = vm_pte((ulong)vm_alloc(), PTE_V);
        t = (uint64_t *)((*e >> 10) << 12);
    }
    uint64_t *leaf = &t[(va >> (12 + 9 * level)) & 511];
    *leaf = vm_pte(pa, flags);
    return leaf;
}

static inline ulong vm_satp(uint64_t *root, ulong asid)
{
    return (vm_levels == 4 ? SATP_SV48 : SATP_SV39) | asid << 44 | (ulong)root >> 12;
}

static inline void sfence_all(void) { asm volatile("sfence.vma" ::: "memory"); }

#endif
