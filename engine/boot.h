/* Boot images, device tree placement and the firmware handoff. */
#ifndef GB_BOOT_H
#define GB_BOOT_H

#include <stddef.h>
#include <stdint.h>

struct machine;

struct boot_state {
    uint64_t entry;             /* where every hart starts */
    uint64_t fdt_addr;          /* a1 (0 with --bios none) */
    uint64_t dyn_addr;          /* a2: fw_dynamic info (0 with --bios none) */
    uint64_t initrd_start, initrd_end;
};

/* Read the files named by the configuration once. */
int boot_read_images(struct machine *m, char *err, size_t errlen);
/* (Re)load them into RAM and place the device tree; also on reset. */
int boot_load(struct machine *m, char *err, size_t errlen);
int boot_write_dtb(struct machine *m, const char *path, char *err, size_t errlen);
void boot_free(struct machine *m);

#endif
