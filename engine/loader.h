/*
 * Guest kernel loader: ELF64 RISC-V executables and raw binaries.
 *
 * Everything here is a pure function over buffers (the engine reads the file
 * and supplies guest RAM), so it can be unit-tested and fuzzed without files.
 * The input image is untrusted: every header field is checked before use, and
 * the loader never reads outside data[0, len) nor writes outside
 * ram_host[0, ram_size).
 *
 * Errors are returned as a negative errno plus a one-line reason in err
 * (no trailing newline; the caller adds "glassbox: kernel 'X': "):
 *   -EINVAL   bad arguments (NULL buffers, guest RAM range that wraps)
 *   -ENOEXEC  the image itself is malformed or unsupported (bad magic, class,
 *             machine, type, truncation, overlapping segments, bad entry, ...)
 *   -ERANGE   the image is well-formed but does not fit in guest RAM
 *   -ENOMEM   host allocation failed
 * A load that fails leaves guest RAM untouched and *info zeroed: everything
 * is validated before the first byte is written.
 */
#ifndef GLASSBOX_ENGINE_LOADER_H
#define GLASSBOX_ENGINE_LOADER_H

#include <stddef.h>
#include <stdint.h>

/* A FUNC or OBJECT symbol, for symbolising hot blocks. value is the ELF
 * st_value, i.e. the address the code runs at (virtual if the image is
 * linked to run with the MMU on). */
struct loader_symbol {
    char *name;
    uint64_t value, size;
};

struct load_info {
    uint64_t entry;       /* guest-physical start address */
    uint64_t low, high;   /* lowest / highest (inclusive) guest-physical
                             address written, zero fill included */
    /* HTIF symbols if the ELF defines them; fromhost is optional (0 when
     * absent). Guest-physical: translated through the PT_LOAD segment whose
     * virtual range holds them (identity for the usual bare-metal image). */
    int has_tohost;
    uint64_t tohost, fromhost;
    /* FUNC and OBJECT symbols with a name and a section, sorted by value
     * (ties: larger size first, then name); NULL / 0 when the image has no
     * usable symbol table. Names live in the same allocation as the array. */
    struct loader_symbol *syms;
    size_t nsyms;
    /* private to the loader: running maximum of the last byte covered by
     * syms[0..i], so lookups can stop early; NULL means "scan linearly". */
    uint64_t *sym_last_max;
};

/*
 * Load an ELF64 little-endian EM_RISCV executable (ET_EXEC). PT_LOAD
 * segments go to their physical address p_paddr, with p_memsz beyond
 * p_filesz zero-filled; segments with p_memsz == 0 are ignored, and so is
 * p_offset when p_filesz is 0 (strip can leave it past the end). The entry
 * point is e_entry, translated to physical through an executable segment
 * whose virtual range holds it when p_vaddr != p_paddr (as QEMU's
 * load_elf does); it must lie inside a loaded segment. Segments are named
 * by their program header index, as `readelf -l` numbers them.
 *
 * Symbols come from the first SHT_SYMTAB section (else the first
 * SHT_DYNSYM, which stripped firmware such as OpenSBI keeps) and its linked
 * string table. They are optional: a missing or malformed section header
 * table, symbol table or string table (bad bounds, bad sh_link, entry size
 * too small) means no symbols and no HTIF, and a symbol whose name is out of
 * range or not NUL-terminated inside the string table is skipped; neither
 * fails a load whose segments are sound.
 */
int loader_load_elf(const uint8_t *data, size_t len, uint64_t ram_base,
                    uint64_t ram_size, uint8_t *ram_host,
                    struct load_info *info, char *err, size_t errlen);

/* Raw binary: copied to load_addr (must fit entirely in RAM; an empty image
 * is an error), entry = load_addr. */
int loader_load_raw(const uint8_t *data, size_t len, uint64_t load_addr,
                    uint64_t ram_base, uint64_t ram_size, uint8_t *ram_host,
                    struct load_info *info, char *err, size_t errlen);

/* Decide by content: ELF magic -> ELF (errors are ELF errors, load_addr is
 * ignored); anything else -> raw at load_addr. */
int loader_load(const uint8_t *data, size_t len, uint64_t load_addr,
                uint64_t ram_base, uint64_t ram_size, uint8_t *ram_host,
                struct load_info *info, char *err, size_t errlen);

/* Free what a successful load allocated and zero *info; safe on a zeroed
 * or already-freed info. */
void load_info_free(struct load_info *info);

/* Read a whole file into a malloc'd buffer (caller frees *data; non-NULL
 * even for an empty file). Files larger than max_len fail with -EFBIG.
 * Errors: -errno and "kernel 'X': No such file or directory". */
int loader_read_file(const char *path, uint8_t **data, size_t *len,
                     size_t max_len, char *err, size_t errlen);

/* The symbol containing addr (value <= addr < value + max(size, 1)); when
 * several do, the one starting closest below addr, and of those the
 * smallest. NULL if none. */
const struct loader_symbol *load_info_symbol(const struct load_info *info,
                                             uint64_t addr);

#endif
