/*
 * Guest kernel loader: ELF64 RISC-V executables and raw binaries.
 * See loader.h for the contract. The image is untrusted input: fields are
 * read byte-wise as little-endian (no host-endianness or alignment
 * assumptions), every offset/size pair is bounds-checked without overflow,
 * and nothing is written to guest RAM until the whole image has been
 * validated.
 */
#include "loader.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* On-disk sizes of the ELF64 structures we parse (not host struct sizes). */
#define LOADER_EHDR_SIZE 64u
#define LOADER_PHDR_SIZE 56u
#define LOADER_SHDR_SIZE 64u
#define LOADER_SYM_SIZE 24u

/* A PT_LOAD segment that puts at least one byte into guest RAM. */
struct loader_seg {
    uint64_t offset, filesz, memsz, paddr, vaddr;
    uint32_t flags;
    unsigned idx;               /* program header index, as readelf shows */
};

static uint16_t loader_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static uint32_t loader_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t loader_rd64(const uint8_t *p)
{
    return (uint64_t)loader_rd32(p) | (uint64_t)loader_rd32(p + 4) << 32;
}

__attribute__((format(printf, 4, 5)))
static int loader_fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* [off, off + size) inside a buffer of len bytes, without overflow. */
static int loader_in_file(uint64_t off, uint64_t size, size_t len)
{
    return off <= len && size <= (uint64_t)len - off;
}

/* [addr, addr + size) inside guest RAM; RAM itself was checked not to wrap. */
static int loader_in_ram(uint64_t addr, uint64_t size, uint64_t ram_base,
                         uint64_t ram_size)
{
    return addr >= ram_base && addr - ram_base <= ram_size &&
           size <= ram_size - (addr - ram_base);
}

static int loader_check_args(const uint8_t *data, size_t len,
                             uint64_t ram_base, uint64_t ram_size,
                             const uint8_t *ram_host,
                             struct load_info *info, char *err,
                             size_t errlen)
{
    if (!info)
        return loader_fail(-EINVAL, err, errlen, "no load_info to fill");
    memset(info, 0, sizeof(*info));
    if (!data && len)
        return loader_fail(-EINVAL, err, errlen, "no image data");
    if (!ram_host && ram_size)
        return loader_fail(-EINVAL, err, errlen,
                           "no host memory for guest RAM");
    if (ram_size > UINT64_MAX - ram_base || ram_size > SIZE_MAX)
        return loader_fail(-EINVAL, err, errlen,
                           "guest RAM at 0x%" PRIx64 " of 0x%" PRIx64
                           " bytes runs past the end of the address space",
                           ram_base, ram_size);
    return 0;
}

static const char *loader_machine_name(unsigned m)
{
    switch (m) {
    case EM_386: return "i386";
    case EM_X86_64: return "x86-64";
    case EM_ARM: return "ARM";
    case EM_AARCH64: return "AArch64";
    case EM_MIPS: return "MIPS";
    case EM_PPC: return "PowerPC";
    case EM_PPC64: return "PowerPC64";
    case EM_S390: return "S/390";
    case EM_SPARC: return "SPARC";
    case EM_SPARCV9: return "SPARC V9";
    case 258: return "LoongArch";   /* EM_LOONGARCH, absent from old elf.h */
    default: return NULL;
    }
}

static const char *loader_type_name(unsigned t)
{
    switch (t) {
    case ET_NONE: return "no file type";
    case ET_REL: return "relocatable object";
    case ET_DYN: return "shared object or PIE";
    case ET_CORE: return "core dump";
    default: return "unknown type";
    }
}

static int loader_seg_cmp(const void *a, const void *b)
{
    const struct loader_seg *x = a, *y = b;

    if (x->paddr != y->paddr)
        return x->paddr < y->paddr ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int loader_sym_cmp(const void *a, const void *b)
{
    const struct loader_symbol *x = a, *y = b;

    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    /* Larger first, so a backward scan meets the innermost symbol first. */
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Last byte a symbol covers (a zero-size symbol covers its own address),
 * saturating rather than wrapping at the top of the address space. */
static uint64_t loader_sym_last(const struct loader_symbol *s)
{
    if (s->size == 0)
        return s->value;
    if (s->size - 1 > UINT64_MAX - s->value)
        return UINT64_MAX;
    return s->value + (s->size - 1);
}

/* Virtual address to physical through the segment holding it; identity
 * when no segment does (e.g. an HTIF symbol outside the image). */
static uint64_t loader_virt_to_phys(const struct loader_seg *segs, size_t n,
                                    uint64_t v)
{
    for (size_t i = 0; i < n; i++) {
        if (v >= segs[i].vaddr && v - segs[i].vaddr < segs[i].memsz)
            return segs[i].paddr + (v - segs[i].vaddr);
    }
    return v;
}

/* The tables needed to walk symbols, or found == 0. */
struct loader_symtab {
    int found;
    const uint8_t *syms;        /* first entry */
    uint64_t nsyms, entsize;
    const uint8_t *str;
    uint64_t strsize;
};

/* Check and record symbol table section i and its linked string table.
 * Returns 0 when it is unusable. */
static int loader_use_symtab(const uint8_t *data, size_t len, uint64_t shoff,
                             uint64_t shentsize, uint64_t shnum,
                             const uint8_t *sh, struct loader_symtab *st)
{
    uint64_t off = loader_rd64(sh + 0x18), size = loader_rd64(sh + 0x20);
    uint64_t link = loader_rd32(sh + 0x28);
    uint64_t entsize = loader_rd64(sh + 0x38);

    if (entsize < LOADER_SYM_SIZE || !loader_in_file(off, size, len) ||
        link == 0 || link >= shnum)
        return 0;

    const uint8_t *strsh = data + shoff + link * shentsize;
    uint64_t stroff = loader_rd64(strsh + 0x18);
    uint64_t strsize = loader_rd64(strsh + 0x20);

    if (loader_rd32(strsh + 4) != SHT_STRTAB ||
        !loader_in_file(stroff, strsize, len))
        return 0;
    st->found = 1;
    st->syms = data + off;
    st->nsyms = size / entsize;
    st->entsize = entsize;
    st->str = data + stroff;
    st->strsize = strsize;
    return 1;
}

/* Locate the first .symtab, or failing that the first .dynsym (stripped
 * firmware such as OpenSBI keeps one), and its string table. Any
 * inconsistency leaves found == 0: symbols are a debugging aid and must
 * not stop an image that loads. */
static void loader_find_symtab(const uint8_t *data, size_t len,
                               struct loader_symtab *st)
{
    uint64_t shoff = loader_rd64(data + 0x28);
    uint64_t shentsize = loader_rd16(data + 0x3a);
    uint64_t shnum = loader_rd16(data + 0x3c);

    memset(st, 0, sizeof(*st));
    if (shoff == 0 || shentsize < LOADER_SHDR_SIZE ||
        !loader_in_file(shoff, LOADER_SHDR_SIZE, len))
        return;
    if (shnum == 0)     /* >= SHN_LORESERVE sections: count in sh_size of 0 */
        shnum = loader_rd64(data + shoff + 0x20);
    if (shnum > ((uint64_t)len - shoff) / shentsize)
        return;

    static const uint32_t kinds[] = { SHT_SYMTAB, SHT_DYNSYM };
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        for (uint64_t i = 0; i < shnum; i++) {
            const uint8_t *sh = data + shoff + i * shentsize;

            /* Only the first table of a kind counts; if it is broken,
             * there are no symbols (rather than guessing at another). */
            if (loader_rd32(sh + 4) == kinds[k]) {
                loader_use_symtab(data, len, shoff, shentsize, shnum, sh, st);
                return;
            }
        }
    }
}

/* One symbol table entry, decoded. */
struct loader_rawsym {
    uint64_t name, value, size;
    unsigned type, bind;
};

/* Decode entry i (1 <= i < nsyms) and say whether it is usable at all:
 * defined (not SHN_UNDEF) and with a non-empty name NUL-terminated inside
 * the string table. A name at offset o is terminated iff some NUL lies at
 * or after o, i.e. o <= last_nul: O(1) per symbol, however long the table. */
static int loader_sym_at(const struct loader_symtab *st, uint64_t last_nul,
                         uint64_t i, struct loader_rawsym *r)
{
    const uint8_t *s = st->syms + i * st->entsize;

    r->name = loader_rd32(s);
    r->type = s[4] & 0xf;
    r->bind = s[4] >> 4;
    r->value = loader_rd64(s + 8);
    r->size = loader_rd64(s + 16);
    return r->name <= last_nul && st->str[r->name] != 0 &&
           loader_rd16(s + 6) != SHN_UNDEF;
}

static int loader_sym_listed(const struct loader_rawsym *r)
{
    return r->type == STT_FUNC || r->type == STT_OBJECT;
}

/* Fill info->syms / tohost from the symbol table. Returns 0 (symbols possibly
 * absent) or -ENOMEM. */
static int loader_read_symbols(const uint8_t *data, size_t len,
                               const struct loader_seg *segs, size_t nsegs,
                               struct load_info *info, char *err,
                               size_t errlen)
{
    struct loader_symtab st;

    loader_find_symtab(data, len, &st);
    if (!st.found || st.nsyms < 2 || st.strsize == 0)
        return 0;

    uint64_t last_nul = st.strsize;
    for (uint64_t i = st.strsize; i-- > 0;) {
        if (st.str[i] == 0) {
            last_nul = i;
            break;
        }
    }
    if (last_nul == st.strsize)
        return 0;

    size_t count = 0;
    int tohost_global = 0, have_fromhost = 0;
    uint64_t tohost = 0, fromhost = 0;
    struct loader_rawsym r;

    /* Entry 0 is the reserved null symbol. */
    for (uint64_t i = 1; i < st.nsyms; i++) {
        if (!loader_sym_at(&st, last_nul, i, &r))
            continue;
        if (loader_sym_listed(&r))
            count++;
        if (r.type == STT_SECTION || r.type == STT_FILE)
            continue;

        /* HTIF symbols are often NOTYPE (defined in assembly), so any
         * defined data/code symbol qualifies; a global beats a local. */
        const char *n = (const char *)st.str + r.name;
        if (strcmp(n, "tohost") == 0) {
            if (!info->has_tohost || (!tohost_global && r.bind == STB_GLOBAL)) {
                info->has_tohost = 1;
                tohost_global = r.bind == STB_GLOBAL;
                tohost = r.value;
            }
        } else if (strcmp(n, "fromhost") == 0 && !have_fromhost) {
            have_fromhost = 1;
            fromhost = r.value;
        }
    }
    if (info->has_tohost) {
        info->tohost = loader_virt_to_phys(segs, nsegs, tohost);
        if (have_fromhost)
            info->fromhost = loader_virt_to_phys(segs, nsegs, fromhost);
    }
    if (count == 0)
        return 0;

    /* One block: symbol array, running-max array, copy of the string
     * table. Names point into the copy, so a table whose names all share
     * one long string costs its size once, not once per symbol. */
    size_t per = sizeof(struct loader_symbol) + sizeof(uint64_t);
    if (count > (SIZE_MAX - st.strsize) / per)
        return loader_fail(-ENOMEM, err, errlen,
                           "out of memory for %zu symbols", count);
    uint8_t *block = malloc(count * per + st.strsize);
    if (!block)
        return loader_fail(-ENOMEM, err, errlen,
                           "out of memory for %zu symbols", count);

    struct loader_symbol *syms = (struct loader_symbol *)block;
    uint64_t *last_max = (uint64_t *)(block + count * sizeof(*syms));
    char *names = (char *)(last_max + count);
    size_t k = 0;

    memcpy(names, st.str, st.strsize);
    for (uint64_t i = 1; i < st.nsyms && k < count; i++) {
        if (!loader_sym_at(&st, last_nul, i, &r) || !loader_sym_listed(&r))
            continue;
        syms[k].name = names + r.name;
        syms[k].value = r.value;
        syms[k].size = r.size;
        k++;
    }
    qsort(syms, k, sizeof(*syms), loader_sym_cmp);
    for (size_t i = 0; i < k; i++) {
        uint64_t last = loader_sym_last(&syms[i]);

        last_max[i] = i && last_max[i - 1] > last ? last_max[i - 1] : last;
    }
    info->syms = syms;
    info->nsyms = k;
    info->sym_last_max = last_max;
    return 0;
}

int loader_load_elf(const uint8_t *data, size_t len, uint64_t ram_base,
                    uint64_t ram_size, uint8_t *ram_host,
                    struct load_info *info, char *err, size_t errlen)
{
    int rc = loader_check_args(data, len, ram_base, ram_size, ram_host, info,
                               err, errlen);
    if (rc)
        return rc;

    if (len < SELFMAG || memcmp(data, ELFMAG, SELFMAG) != 0)
        return loader_fail(-ENOEXEC, err, errlen, "not an ELF file");
    if (len < LOADER_EHDR_SIZE)
        return loader_fail(-ENOEXEC, err, errlen,
                           "truncated: ELF header needs %u bytes, file has %zu",
                           LOADER_EHDR_SIZE, len);
    if (data[EI_CLASS] == ELFCLASS32)
        return loader_fail(-ENOEXEC, err, errlen,
                           "ELF class 32 is not supported: need ELF64");
    if (data[EI_CLASS] != ELFCLASS64)
        return loader_fail(-ENOEXEC, err, errlen,
                           "invalid ELF class byte %u: need 2 (ELF64)",
                           data[EI_CLASS]);
    if (data[EI_DATA] != ELFDATA2LSB)
        return loader_fail(-ENOEXEC, err, errlen,
                           "ELF data encoding %u%s is not supported: need "
                           "little-endian", data[EI_DATA],
                           data[EI_DATA] == ELFDATA2MSB ? " (big-endian)" : "");
    if (data[EI_VERSION] != EV_CURRENT)
        return loader_fail(-ENOEXEC, err, errlen,
                           "ELF version %u is not supported: need 1",
                           data[EI_VERSION]);

    unsigned machine = loader_rd16(data + 0x12);
    if (machine != EM_RISCV) {
        const char *name = loader_machine_name(machine);

        if (name)
            return loader_fail(-ENOEXEC, err, errlen,
                               "ELF machine %u (%s) is not RISC-V", machine,
                               name);
        return loader_fail(-ENOEXEC, err, errlen,
                           "ELF machine %u is not RISC-V", machine);
    }
    unsigned type = loader_rd16(data + 0x10);
    if (type != ET_EXEC)
        return loader_fail(-ENOEXEC, err, errlen,
                           "ELF type %u (%s) is not supported: need an "
                           "executable (ET_EXEC)", type,
                           loader_type_name(type));

    uint64_t e_entry = loader_rd64(data + 0x18);
    uint64_t phoff = loader_rd64(data + 0x20);
    unsigned phentsize = loader_rd16(data + 0x36);
    unsigned phnum = loader_rd16(data + 0x38);

    if (phnum == PN_XNUM)
        return loader_fail(-ENOEXEC, err, errlen,
                           "extended program header count (PN_XNUM) is not "
                           "supported");
    if (phnum == 0)
        return loader_fail(-ENOEXEC, err, errlen, "no loadable segments");
    if (phentsize < LOADER_PHDR_SIZE)
        return loader_fail(-ENOEXEC, err, errlen,
                           "program header entry size %u is too small: need "
                           "at least %u", phentsize, LOADER_PHDR_SIZE);
    if (!loader_in_file(phoff, (uint64_t)phnum * phentsize, len))
        return loader_fail(-ENOEXEC, err, errlen,
                           "truncated: program header table (%u entries at "
                           "0x%" PRIx64 ") past end of file", phnum, phoff);

    struct loader_seg *segs = malloc(phnum * sizeof(*segs));
    if (!segs)
        return loader_fail(-ENOMEM, err, errlen,
                           "out of memory for %u program headers", phnum);
    size_t nsegs = 0;

    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = data + phoff + (uint64_t)i * phentsize;
        struct loader_seg s;

        if (loader_rd32(ph) != PT_LOAD)
            continue;
        s.flags = loader_rd32(ph + 4);
        s.offset = loader_rd64(ph + 0x08);
        s.vaddr = loader_rd64(ph + 0x10);
        s.paddr = loader_rd64(ph + 0x18);
        s.filesz = loader_rd64(ph + 0x20);
        s.memsz = loader_rd64(ph + 0x28);
        s.idx = i;

        if (s.filesz > s.memsz) {
            rc = loader_fail(-ENOEXEC, err, errlen,
                             "segment %u: file size 0x%" PRIx64
                             " exceeds memory size 0x%" PRIx64,
                             i, s.filesz, s.memsz);
            goto out;
        }
        /* p_offset only matters when there is file data to copy. */
        if (s.filesz && !loader_in_file(s.offset, s.filesz, len)) {
            rc = loader_fail(-ENOEXEC, err, errlen,
                             "truncated: segment %u data past end of file", i);
            goto out;
        }
        if (s.memsz > UINT64_MAX - s.paddr) {
            rc = loader_fail(-ENOEXEC, err, errlen,
                             "segment %u at 0x%" PRIx64 " of 0x%" PRIx64
                             " bytes runs past the end of the address space",
                             i, s.paddr, s.memsz);
            goto out;
        }
        if (s.memsz == 0)       /* writes nothing: ignore, like QEMU */
            continue;
        if (!loader_in_ram(s.paddr, s.memsz, ram_base, ram_size)) {
            rc = loader_fail(-ERANGE, err, errlen,
                             "segment %u [0x%" PRIx64 ", 0x%" PRIx64
                             ") lies outside guest RAM [0x%" PRIx64
                             ", 0x%" PRIx64 ")", i, s.paddr,
                             s.paddr + s.memsz, ram_base, ram_base + ram_size);
            goto out;
        }
        segs[nsegs++] = s;
    }
    if (nsegs == 0) {
        rc = loader_fail(-ENOEXEC, err, errlen, "no loadable segments");
        goto out;
    }

    /* Sorted by start, a segment overlaps an earlier one iff it starts
     * before the furthest end seen so far: O(n log n) for any phnum. */
    qsort(segs, nsegs, sizeof(*segs), loader_seg_cmp);
    size_t far = 0;
    for (size_t i = 1; i < nsegs; i++) {
        if (segs[i].paddr - segs[far].paddr < segs[far].memsz) {
            unsigned a = segs[far].idx, b = segs[i].idx;

            rc = loader_fail(-ENOEXEC, err, errlen,
                             "segments %u and %u overlap at 0x%" PRIx64,
                             a < b ? a : b, a < b ? b : a, segs[i].paddr);
            goto out;
        }
        if (segs[i].paddr + segs[i].memsz > segs[far].paddr + segs[far].memsz)
            far = i;
    }

    /* e_entry is virtual; when the executable segment holding it is linked
     * at a different physical address, start at the physical one (QEMU's
     * rule, so both start the same image at the same place). */
    uint64_t entry = e_entry;
    unsigned best = 0;
    int translated = 0;
    for (size_t i = 0; i < nsegs; i++) {
        const struct loader_seg *s = &segs[i];

        if ((s->flags & PF_X) && s->vaddr != s->paddr &&
            e_entry >= s->vaddr && e_entry - s->vaddr < s->filesz &&
            (!translated || s->idx > best)) {
            entry = s->paddr + (e_entry - s->vaddr);
            best = s->idx;
            translated = 1;
        }
    }
    int inside = 0;
    for (size_t i = 0; i < nsegs && !inside; i++)
        inside = entry >= segs[i].paddr &&
                 entry - segs[i].paddr < segs[i].memsz;
    if (!inside) {
        rc = loader_fail(-ENOEXEC, err, errlen,
                         "entry 0x%" PRIx64 " is not inside a loaded segment",
                         e_entry);
        goto out;
    }

    rc = loader_read_symbols(data, len, segs, nsegs, info, err, errlen);
    if (rc)
        goto out;

    /* Validated: now, and only now, touch guest RAM. */
    info->entry = entry;
    info->low = segs[0].paddr;
    info->high = segs[far].paddr + (segs[far].memsz - 1);
    for (size_t i = 0; i < nsegs; i++) {
        uint8_t *dst = ram_host + (segs[i].paddr - ram_base);

        if (segs[i].filesz)     /* p_offset is unchecked when filesz is 0 */
            memmove(dst, data + segs[i].offset, segs[i].filesz);
        memset(dst + segs[i].filesz, 0, segs[i].memsz - segs[i].filesz);
    }
out:
    free(segs);
    if (rc)
        load_info_free(info);
    return rc;
}

int loader_load_raw(const uint8_t *data, size_t len, uint64_t load_addr,
                    uint64_t ram_base, uint64_t ram_size, uint8_t *ram_host,
                    struct load_info *info, char *err, size_t errlen)
{
    int rc = loader_check_args(data, len, ram_base, ram_size, ram_host, info,
                               err, errlen);
    if (rc)
        return rc;

    if (len == 0)
        return loader_fail(-ENOEXEC, err, errlen, "empty image");
    if (!loader_in_ram(load_addr, len, ram_base, ram_size))
        return loader_fail(-ERANGE, err, errlen,
                           "image of %zu bytes at 0x%" PRIx64
                           " does not fit in guest RAM [0x%" PRIx64
                           ", 0x%" PRIx64 ")", len, load_addr, ram_base,
                           ram_base + ram_size);
    memmove(ram_host + (load_addr - ram_base), data, len);
    info->entry = load_addr;
    info->low = load_addr;
    info->high = load_addr + (len - 1);
    return 0;
}

int loader_load(const uint8_t *data, size_t len, uint64_t load_addr,
                uint64_t ram_base, uint64_t ram_size, uint8_t *ram_host,
                struct load_info *info, char *err, size_t errlen)
{
    if (data && len >= SELFMAG && memcmp(data, ELFMAG, SELFMAG) == 0)
        return loader_load_elf(data, len, ram_base, ram_size, ram_host, info,
                               err, errlen);
    return loader_load_raw(data, len, load_addr, ram_base, ram_size, ram_host,
                           info, err, errlen);
}

void load_info_free(struct load_info *info)
{
    if (!info)
        return;
    free(info->syms);           /* names and sym_last_max share this block */
    memset(info, 0, sizeof(*info));
}

int loader_read_file(const char *path, uint8_t **data, size_t *len,
                     size_t max_len, char *err, size_t errlen)
{
    if (!path || !data || !len)
        return loader_fail(-EINVAL, err, errlen, "no file to read");
    *data = NULL;
    *len = 0;

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;

        return loader_fail(-e, err, errlen, "kernel '%s': %s", path,
                           strerror(e));
    }

    struct stat sb;
    int rc = 0;
    if (fstat(fd, &sb) < 0) {
        rc = -errno;
        loader_fail(rc, err, errlen, "kernel '%s': %s", path, strerror(-rc));
        goto out;
    }
    if (S_ISDIR(sb.st_mode)) {
        rc = loader_fail(-EISDIR, err, errlen, "kernel '%s': %s", path,
                         strerror(EISDIR));
        goto out;
    }

    /* Regular files are sized up front; pipes and devices grow the buffer.
     * Either way, stop as soon as the cap is exceeded. */
    size_t cap = 65536;
    if (S_ISREG(sb.st_mode) && sb.st_size >= 0) {
        if ((uint64_t)sb.st_size > max_len) {
            rc = loader_fail(-EFBIG, err, errlen,
                             "kernel '%s': file is %lld bytes, more than the "
                             "limit of %zu", path, (long long)sb.st_size,
                             max_len);
            goto out;
        }
        cap = (size_t)sb.st_size + 1;   /* +1 sees growth since fstat */
    }
    if (cap > max_len && max_len < SIZE_MAX)
        cap = max_len + 1;

    uint8_t *buf = malloc(cap);
    size_t n = 0;
    if (!buf) {
        rc = loader_fail(-ENOMEM, err, errlen, "kernel '%s': out of memory",
                         path);
        goto out;
    }
    for (;;) {
        if (n == cap) {
            if (n > max_len)
                break;
            size_t ncap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
            if (ncap > max_len && max_len < SIZE_MAX)
                ncap = max_len + 1;
            uint8_t *nbuf = ncap > cap ? realloc(buf, ncap) : NULL;
            if (!nbuf) {
                free(buf);
                rc = loader_fail(-ENOMEM, err, errlen,
                                 "kernel '%s': out of memory", path);
                goto out;
            }
            buf = nbuf;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            free(buf);
            loader_fail(rc, err, errlen, "kernel '%s': %s", path,
                        strerror(-rc));
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > max_len) {
        free(buf);
        rc = loader_fail(-EFBIG, err, errlen,
                         "kernel '%s': file is more than the limit of %zu "
                         "bytes", path, max_len);
        goto out;
    }
    *data = buf;
    *len = n;
out:
    close(fd);
    return rc;
}

const struct loader_symbol *load_info_symbol(const struct load_info *info,
                                             uint64_t addr)
{
    if (!info || !info->syms || info->nsyms == 0)
        return NULL;

    /* First symbol with value > addr; candidates lie below it. */
    size_t lo = 0, hi = info->nsyms;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (info->syms[mid].value <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i-- > 0;) {
        const struct loader_symbol *s = &info->syms[i];

        if (info->sym_last_max && info->sym_last_max[i] < addr)
            break;          /* nothing at or before i reaches addr */
        if (addr - s->value <= loader_sym_last(s) - s->value)
            return s;
    }
    return NULL;
}
