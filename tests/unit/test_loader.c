/*
 * Unit tests for engine/loader.c. ELF images are built in memory by a small
 * builder below, then individual header fields are corrupted to hit each
 * error path; success paths check the exact bytes that land in guest RAM.
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

#include "../../engine/loader.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE 0x10000ull     /* 64 KiB is plenty for in-memory images */
#define FILL 0xaa               /* RAM poison: anything else was written */

/* ELF constants, spelled out so the test does not share the loader's
 * source of truth (<elf.h>). */
enum {
    T_PT_LOAD = 1, T_PT_NOTE = 4,
    T_PF_X = 1, T_PF_W = 2, T_PF_R = 4,
    T_SHT_SYMTAB = 2, T_SHT_STRTAB = 3, T_SHT_PROGBITS = 1, T_SHT_DYNSYM = 11,
    T_STT_NOTYPE = 0, T_STT_OBJECT = 1, T_STT_FUNC = 2, T_STT_SECTION = 3,
    T_STT_FILE = 4,
    T_STB_LOCAL = 0, T_STB_GLOBAL = 1,
    T_SHN_UNDEF = 0, T_SHN_ABS = 0xfff1,
};

/* Offsets inside the ELF64 header / program header / section header. */
enum {
    EH_TYPE = 0x10, EH_MACHINE = 0x12, EH_ENTRY = 0x18, EH_PHOFF = 0x20,
    EH_SHOFF = 0x28, EH_PHENTSIZE = 0x36, EH_PHNUM = 0x38,
    EH_SHENTSIZE = 0x3a, EH_SHNUM = 0x3c,
    PH_TYPE = 0, PH_FLAGS = 4, PH_OFFSET = 8, PH_VADDR = 0x10,
    PH_PADDR = 0x18, PH_FILESZ = 0x20, PH_MEMSZ = 0x28,
    SH_TYPE = 4, SH_OFFSET = 0x18, SH_SIZE = 0x20, SH_LINK = 0x28,
    SH_ENTSIZE = 0x38,
};

struct tseg {
    uint32_t type, flags;
    uint64_t paddr, filesz, memsz;
    uint64_t vaddr;             /* 0: same as paddr */
    const uint8_t *bytes;       /* NULL: a per-segment pattern */
};

struct tsym {
    const char *name;           /* NULL: st_name 0 (empty) */
    unsigned type, bind;
    uint16_t shndx;
    uint64_t value, size;
};

struct tspec {
    uint64_t entry;
    const struct tseg *segs;
    size_t nsegs;
    const struct tsym *syms;    /* non-NULL: emit .symtab + .strtab */
    size_t nsyms;
    uint32_t symtab_type;       /* 0: SHT_SYMTAB */
};

struct timg {
    uint8_t *buf;
    size_t len;
    size_t shdr_off, symtab_off, strtab_off, strtab_size;
};

struct fx {
    uint8_t *ram;
    struct load_info li;
    char err[256];
};

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, (uint16_t)v);
    wr16(p + 2, (uint16_t)(v >> 16));
}

static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static uint8_t *ph(const struct timg *im, size_t i)
{
    return im->buf + 64 + 56 * i;
}

static uint8_t *sh(const struct timg *im, size_t i)
{
    return im->buf + im->shdr_off + 64 * i;
}

static uint8_t pattern(size_t seg, size_t j)
{
    return (uint8_t)((seg + 1) * 0x11 + j * 7);
}

/* Layout: ehdr | phdrs | segment data | symtab | strtab | shdrs. */
static struct timg build(const struct tspec *sp)
{
    struct timg im = { 0 };
    size_t seg_off[64] = { 0 };
    size_t len = 64 + 56 * sp->nsegs;

    assert_true(sp->nsegs <= 64);
    len = align8(len);
    for (size_t i = 0; i < sp->nsegs; i++) {
        if (sp->segs[i].filesz) {
            seg_off[i] = len;
            len = align8(len + sp->segs[i].filesz);
        }
    }
    if (sp->syms) {
        im.symtab_off = len;
        len += 24 * (sp->nsyms + 1);
        im.strtab_off = len;
        im.strtab_size = 1;
        for (size_t i = 0; i < sp->nsyms; i++) {
            if (sp->syms[i].name)
                im.strtab_size += strlen(sp->syms[i].name) + 1;
        }
        len = align8(len + im.strtab_size);
        im.shdr_off = len;
        len += 3 * 64;
    }
    im.buf = calloc(1, len);
    assert_non_null(im.buf);
    im.len = len;

    uint8_t *e = im.buf;
    memcpy(e, "\x7f" "ELF", 4);
    e[4] = 2;                   /* ELFCLASS64 */
    e[5] = 1;                   /* little-endian */
    e[6] = 1;                   /* EV_CURRENT */
    wr16(e + EH_TYPE, 2);       /* ET_EXEC */
    wr16(e + EH_MACHINE, 243);  /* EM_RISCV */
    wr32(e + 0x14, 1);
    wr64(e + EH_ENTRY, sp->entry);
    wr64(e + EH_PHOFF, sp->nsegs ? 64 : 0);
    wr16(e + 0x34, 64);
    wr16(e + EH_PHENTSIZE, 56);
    wr16(e + EH_PHNUM, (uint16_t)sp->nsegs);

    for (size_t i = 0; i < sp->nsegs; i++) {
        const struct tseg *s = &sp->segs[i];
        uint8_t *p = ph(&im, i);

        wr32(p + PH_TYPE, s->type);
        wr32(p + PH_FLAGS, s->flags);
        wr64(p + PH_OFFSET, seg_off[i]);
        wr64(p + PH_VADDR, s->vaddr ? s->vaddr : s->paddr);
        wr64(p + PH_PADDR, s->paddr);
        wr64(p + PH_FILESZ, s->filesz);
        wr64(p + PH_MEMSZ, s->memsz);
        wr64(p + 0x30, 0x1000);
        for (size_t j = 0; j < s->filesz; j++)
            im.buf[seg_off[i] + j] = s->bytes ? s->bytes[j] : pattern(i, j);
    }

    if (sp->syms) {
        size_t name_off = 1;

        for (size_t i = 0; i < sp->nsyms; i++) {
            const struct tsym *y = &sp->syms[i];
            uint8_t *p = im.buf + im.symtab_off + 24 * (i + 1);

            if (y->name) {
                wr32(p, (uint32_t)name_off);
                strcpy((char *)im.buf + im.strtab_off + name_off, y->name);
                name_off += strlen(y->name) + 1;
            }
            p[4] = (uint8_t)(y->bind << 4 | y->type);
            wr16(p + 6, y->shndx);
            wr64(p + 8, y->value);
            wr64(p + 16, y->size);
        }
        wr64(e + EH_SHOFF, im.shdr_off);
        wr16(e + EH_SHENTSIZE, 64);
        wr16(e + EH_SHNUM, 3);
        wr32(sh(&im, 1) + SH_TYPE,
             sp->symtab_type ? sp->symtab_type : T_SHT_SYMTAB);
        wr64(sh(&im, 1) + SH_OFFSET, im.symtab_off);
        wr64(sh(&im, 1) + SH_SIZE, 24 * (sp->nsyms + 1));
        wr32(sh(&im, 1) + SH_LINK, 2);
        wr32(sh(&im, 1) + 0x2c, 1);
        wr64(sh(&im, 1) + SH_ENTSIZE, 24);
        wr32(sh(&im, 2) + SH_TYPE, T_SHT_STRTAB);
        wr64(sh(&im, 2) + SH_OFFSET, im.strtab_off);
        wr64(sh(&im, 2) + SH_SIZE, im.strtab_size);
    }
    return im;
}

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    f->ram = malloc(RAM_SIZE);
    if (!f->ram) {
        free(f);
        return -1;
    }
    memset(f->ram, FILL, RAM_SIZE);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;

    load_info_free(&f->li);
    free(f->ram);
    free(f);
    return 0;
}

static int load(struct fx *f, const struct timg *im)
{
    f->err[0] = 0;
    return loader_load_elf(im->buf, im->len, RAM_BASE, RAM_SIZE, f->ram,
                           &f->li, f->err, sizeof(f->err));
}

static uint8_t *ram_at(struct fx *f, uint64_t addr)
{
    assert_true(addr >= RAM_BASE && addr - RAM_BASE < RAM_SIZE);
    return f->ram + (addr - RAM_BASE);
}

/* Every byte of [addr, addr + n) still holds the poison. */
static void assert_poison(struct fx *f, uint64_t addr, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        assert_int_equal(*ram_at(f, addr + i), FILL);
}

static void assert_failed_cleanly(struct fx *f)
{
    static const struct load_info zero;

    assert_poison(f, RAM_BASE, RAM_SIZE);
    assert_memory_equal(&f->li, &zero, sizeof(zero));
    assert_true(f->err[0] != 0);
}

/* Build, load, expect rc and the exact message, expect RAM untouched. */
static void expect_error(struct fx *f, const struct timg *im, int rc,
                         const char *msg)
{
    assert_int_equal(load(f, im), rc);
    assert_string_equal(f->err, msg);
    assert_failed_cleanly(f);
}

/* Designated initializers keep -Wmissing-field-initializers quiet. */
#define SEG(t, fl, pa, fs, ms) \
    { .type = (t), .flags = (fl), .paddr = (pa), .filesz = (fs), .memsz = (ms) }
#define SEGV(t, fl, pa, fs, ms, va) \
    { .type = (t), .flags = (fl), .paddr = (pa), .filesz = (fs), \
      .memsz = (ms), .vaddr = (va) }
#define SEGB(t, fl, pa, fs, ms, va, b) \
    { .type = (t), .flags = (fl), .paddr = (pa), .filesz = (fs), \
      .memsz = (ms), .vaddr = (va), .bytes = (b) }
#define SYM(n, ty, bi, sx, v, sz) \
    { .name = (n), .type = (ty), .bind = (bi), .shndx = (sx), .value = (v), \
      .size = (sz) }
#define SEGS(...) (const struct tseg[]){ __VA_ARGS__ }, \
    sizeof((const struct tseg[]){ __VA_ARGS__ }) / sizeof(struct tseg)
#define SYMS(...) (const struct tsym[]){ __VA_ARGS__ }, \
    sizeof((const struct tsym[]){ __VA_ARGS__ }) / sizeof(struct tsym)

/* One 0x100-byte text segment at RAM_BASE, entry at its start. */
static struct timg simple(void)
{
    struct tspec sp = {
        .entry = RAM_BASE,
        .segs = SEGS(SEG(T_PT_LOAD, T_PF_R | T_PF_X, RAM_BASE, 0x100, 0x100)),
    };
    return build(&sp);
}

/* ---- success paths ---- */

static void test_single_segment_exact_bytes(void **state)
{
    struct fx *f = *state;
    static const uint8_t code[] = {
        0x97, 0x02, 0x00, 0x00,     /* auipc t0, 0 */
        0x13, 0x03, 0x10, 0x00,     /* li t1, 1 */
        0x6f, 0x00, 0x00, 0x00,     /* j . */
    };
    struct tspec sp = {
        .entry = RAM_BASE + 0x104,
        .segs = SEGS(SEGB(T_PT_LOAD, T_PF_R | T_PF_X, RAM_BASE + 0x100,
                          sizeof(code), sizeof(code), 0, code)),
    };
    struct timg im = build(&sp);

    assert_int_equal(load(f, &im), 0);
    assert_memory_equal(ram_at(f, RAM_BASE + 0x100), code, sizeof(code));
    assert_poison(f, RAM_BASE, 0x100);
    assert_poison(f, RAM_BASE + 0x100 + sizeof(code),
                  RAM_SIZE - 0x100 - sizeof(code));
    assert_int_equal(f->li.entry, RAM_BASE + 0x104);
    assert_int_equal(f->li.low, RAM_BASE + 0x100);
    assert_int_equal(f->li.high, RAM_BASE + 0x100 + sizeof(code) - 1);
    assert_int_equal(f->li.has_tohost, 0);
    assert_null(f->li.syms);
    assert_int_equal(f->li.nsyms, 0);
    free(im.buf);
}

static void test_multi_segment_with_bss(void **state)
{
    struct fx *f = *state;
    struct tspec sp = {
        .entry = RAM_BASE + 0x10,
        .segs = SEGS(
            SEG(T_PT_NOTE, T_PF_R, 0, 0x20, 0x20),               /* ignored */
            SEG(T_PT_LOAD, T_PF_R | T_PF_X, RAM_BASE, 0x40, 0x40),
            SEG(T_PT_LOAD, T_PF_R | T_PF_W, RAM_BASE + 0x1000, 0x10, 0x100),
            SEG(T_PT_LOAD, T_PF_R, RAM_BASE + 0x500, 0, 0),      /* empty */
            SEG(T_PT_LOAD, T_PF_R | T_PF_W, RAM_BASE + 0x3000, 0, 0x200)),
    };
    struct timg im = build(&sp);

    assert_int_equal(load(f, &im), 0);
    /* Bytes equal the file contents at each p_offset. */
    assert_memory_equal(ram_at(f, RAM_BASE),
                        im.buf + rd64(ph(&im, 1) + PH_OFFSET), 0x40);
    assert_memory_equal(ram_at(f, RAM_BASE + 0x1000),
                        im.buf + rd64(ph(&im, 2) + PH_OFFSET), 0x10);
    for (size_t j = 0; j < 0x40; j++)
        assert_int_equal(*ram_at(f, RAM_BASE + j), pattern(1, j));
    for (size_t j = 0; j < 0x10; j++)
        assert_int_equal(*ram_at(f, RAM_BASE + 0x1000 + j), pattern(2, j));
    for (size_t j = 0x10; j < 0x100; j++)
        assert_int_equal(*ram_at(f, RAM_BASE + 0x1000 + j), 0);
    for (size_t j = 0; j < 0x200; j++)
        assert_int_equal(*ram_at(f, RAM_BASE + 0x3000 + j), 0);
    /* Gaps and the zero-size segment's address were not touched. */
    assert_poison(f, RAM_BASE + 0x40, 0x1000 - 0x40);
    assert_poison(f, RAM_BASE + 0x1100, 0x3000 - 0x1100);
    assert_poison(f, RAM_BASE + 0x3200, RAM_SIZE - 0x3200);
    assert_int_equal(f->li.entry, RAM_BASE + 0x10);
    assert_int_equal(f->li.low, RAM_BASE);
    assert_int_equal(f->li.high, RAM_BASE + 0x31ff);
    free(im.buf);
}

static void test_segments_out_of_order_and_touching(void **state)
{
    struct fx *f = *state;
    struct tspec sp = {
        .entry = RAM_BASE + 0x2000,
        .segs = SEGS(
            SEG(T_PT_LOAD, T_PF_R | T_PF_W, RAM_BASE + 0x3000, 0x10, 0x1000),
            SEG(T_PT_LOAD, T_PF_R | T_PF_X, RAM_BASE + 0x2000, 0x1000, 0x1000),
            SEG(T_PT_LOAD, T_PF_R, RAM_BASE + 0x1000, 0x20, 0x20)),
    };
    struct timg im = build(&sp);

    assert_int_equal(load(f, &im), 0);
    assert_int_equal(f->li.low, RAM_BASE + 0x1000);
    assert_int_equal(f->li.high, RAM_BASE + 0x3fff);
    assert_int_equal(*ram_at(f, RAM_BASE + 0x2fff), pattern(1, 0xfff));
    assert_int_equal(*ram_at(f, RAM_BASE + 0x3000), pattern(0, 0));
    free(im.buf);
}

static void test_segment_ending_at_ram_end(void **state)
{
    struct fx *f = *state;
    struct tspec sp = {
        .entry = RAM_BASE + RAM_SIZE - 1,
        .segs = SEGS(SEG(T_PT_LOAD, T_PF_X, RAM_BASE + RAM_SIZE - 0x10, 8,
                         0x10)),
    };
    struct timg im = build(&sp);

    assert_int_equal(load(f, &im), 0);
    assert_int_equal(f->li.high, RAM_BASE + RAM_SIZE - 1);
    assert_int_equal(*ram_at(f, RAM_BASE + RAM_SIZE - 1), 0);
    assert_int_equal(*ram_at(f, RAM_BASE + RAM_SIZE - 0x10), pattern(0, 0));
    free(im.buf);
}

static void test_entry_in_bss_is_accepted(void **state)
{
    struct fx *f = *state;
    struct tspec sp = {
        .entry = RAM_BASE + 0x80,
        .segs = SEGS(SEG(T_PT_LOAD, T_PF_X, RAM_BASE, 0x10, 0x100)),
    };
    struct timg im = build(&sp);

    assert_int_equal(load(f, &im), 0);
    assert_int_equal(f->li.entry, RAM_BASE + 0x80);
    free(im.buf);
}

/* A kernel linked to run at a high virtual address but loaded low: entry
 * and HTIF symbols are translated to physical, other symbols stay virtual
 * (they name PCs). */
static void test_virtual_entry_translated(void **state)
{
    struct fx *f = *state;
    const uint64_t va = 0xffffffff80000000ull;
    struct tspec sp = {
        .entry = va + 0x10,
        .segs = SEGS(
            SEGV(T_PT_LOAD, T_PF_R | T_PF_X, RAM_BASE + 0x2000, 0x100, 0x100,
                 va),
            SEGV(T_PT_LOAD, T_PF_R | T_PF_W, RAM_BASE + 0x3000, 0x80, 0x100,
                 va + 0x1000)),
        .syms = SYMS(
            SYM("_start", T_STT_FUNC, T_STB_GLOBAL, 1, va, 0x20),
            SYM("tohost", T_STT_NOTYPE, T_STB_GLOBAL, 1, va + 0x1040, 0),
            SYM("fromhost", T_STT_NOTYPE, T_STB_GLOBAL, 1, va + 0x1048, 0)),
    };
    struct timg im = build(&sp);

    assert_int_equal(load(f, &im), 0);
    assert_int_equal(f->li.entry, RAM_BASE + 0x2010);
    assert_int_equal(f->li.has_tohost, 1);
    assert_int_equal(f->li.tohost, RAM_BASE + 0x3040);
    assert_int_equal(f->li.fromhost, RAM_BASE + 0x3048);
    assert_int_equal(f->li.nsyms, 1);
    assert_int_equal(f->li.syms[0].value, va);
    assert_string_equal(load_info_symbol(&f->li, va + 0x1f)->name, "_start");
    free(im.buf);
}

/* Translation only applies through an executable segment (QEMU's rule). */
static void test_virtual_entry_needs_exec_segment(void **state)
{
    struct fx *f = *state;
    const uint64_t va = 0xffffffff80000000ull;
    struct tspec sp = {
        .entry = va + 0x10,
        .segs = SEGS(SEGV(T_PT_LOAD, T_PF_R | T_PF_W, RAM_BASE, 0x100, 0x100,
                          va)),
    };
    struct timg im = build(&sp);

    expect_error(f, &im, -ENOEXEC,
                 "entry 0xffffffff80000010 is not inside a loaded segment");
    free(im.buf);
}

/* ---- header errors ---- */

static void test_not_elf(void **state)
{
    struct fx *f = *state;
    static const uint8_t junk[] = "just some text, definitely not ELF....."
                                  "..................................";

    assert_int_equal(loader_load_elf(junk, sizeof(junk), RAM_BASE, RAM_SIZE,
                                     f->ram, &f->li, f->err, sizeof(f->err)),
                     -ENOEXEC);
    assert_string_equal(f->err, "not an ELF file");
    assert_failed_cleanly(f);
    /* Shorter than the magic, and empty. */
    assert_int_equal(loader_load_elf((const uint8_t *)"\x7f" "EL", 3, RAM_BASE,
                                     RAM_SIZE, f->ram, &f->li, f->err,
                                     sizeof(f->err)), -ENOEXEC);
    assert_string_equal(f->err, "not an ELF file");
    assert_int_equal(loader_load_elf(NULL, 0, RAM_BASE, RAM_SIZE, f->ram,
                                     &f->li, f->err, sizeof(f->err)),
                     -ENOEXEC);
    assert_string_equal(f->err, "not an ELF file");
    assert_failed_cleanly(f);
}

static void test_truncated_header(void **state)
{
    struct fx *f = *state;
    struct timg im = simple();

    im.len = 40;
    expect_error(f, &im, -ENOEXEC,
                 "truncated: ELF header needs 64 bytes, file has 40");
    free(im.buf);
}

static void test_class32(void **state)
{
    struct fx *f = *state;
    struct timg im = simple();

    im.buf[4] = 1;
    expect_error(f, &im, -ENOEXEC, "ELF class 32 is not supported: need ELF64");
    im.buf[4] = 7;
    expect_error(f, &im, -ENOEXEC, "invalid ELF class byte 7: need 2 (ELF64)");
    free(im.buf);
}

static void test_big_endian(void **state)
{
    struct fx *f = *state;
    struct timg im = simple();

    im.buf[5] = 2;
    expect_error(f, &im, -ENOEXEC,
                 "ELF data encoding 2 (big-endian) is not supported: need "
                 "little-endian");
    im.buf[5] = 0;
    expect_error(f, &im, -ENOEXEC,
                 "ELF data encoding 0 is not supported: need little-endian");
    free(im.buf);
}

static void test_bad_version(void **state)
{
    struct fx *f = *state;
    struct timg im = simple();

    im.buf[6] = 0;
    expect_error(f, &im, -ENOEXEC, "ELF version 0 is not supported: need 1");
    free(im.buf);
}

static void test_wrong_machine(void **state)
{
    struct fx *f = *state;
    struct timg im = simple();

    wr16(im.buf + EH_MACHINE, 62);
    expect_error(f, &im, -ENOEXEC, "ELF machine 62 (x86-64) is not RISC-V");
    wr16(im.buf + EH_MACHINE, 183);
    expect_error(f, &im, -ENOEXEC, "ELF machine 183 (AArch64) is not RISC-V");
    wr16(im.buf + EH_MACHINE, 9999);
    expect_error(f, &im, -ENOEXEC, "ELF machine 9999 is not RISC-V");
    free(im.buf);
}

static void test_wrong_type(void **state)
{
    struct fx *f = *state;
    struct timg im = simple();

    wr16(im.buf + EH_TYPE, 3);
    expect_error(f, &im, -ENOEXEC,
                 "ELF type 3 (shared object or PIE) is not supported: need an "
                 "executable (ET_EXEC)");
    wr16(im.buf + EH_TYPE, 1);
    expect_error(f, &im, -ENOEXEC,
                 "ELF type 1 (relocatable object) is not supported: need an "
                 "executable (ET_EXEC)");
    free(im.buf);
}

/* ---- program header table errors ---- */

static void test_phentsize_too_small(void **state)
{
    struct fx *f = *state;
    struct timg im = simple();

    wr16(im.buf + EH_PHENTSIZE, 55);
    expect_error(f, &im, -ENOEXEC,
                 "program header entry size 55 is too small: need at least 56");
    wr16(im.buf + EH_PHENTSIZE, 0);
    expect_error(f, &im, -ENOEXEC,
                 "program header entry size 0 is too small: need at least 56");
    free(im.buf);
}

static void test_phdr_table_bounds(void **state)
{
    struct fx *f = *state;
    struct timg im = simple();

    /* Table runs past the end of the file. */
    wr16(im.buf + EH_PHNUM, 1000);
    expect_error(f, &im, -ENOEXEC,
                 "truncated: program header table (1000 entries at 0x40) past "
                 "end of file");
    /* Offset so large that phoff + size wraps. */
    wr16(im.buf + EH_PHNUM, 2);
    wr64(im.buf + EH_PHOFF, UINT64_MAX - 8);
    expect_error(f, &im, -ENOEXEC,
                 "truncated: program header table (2 entries at "
                 "0xfffffffffffffff7) past end of file");
    /* Huge entry size: count * size overflows 32 bits, not 64. */
    wr64(im.buf + EH_PHOFF, 64);
    wr16(im.buf + EH_PHENTSIZE, 0xffff);
    wr16(im.buf + EH_PHNUM, 0xfffe);
    expect_error(f, &im, -ENOEXEC,
                 "truncated: program header table (65534 entries at 0x40) "
                 "past end of file");
    /* PN_XNUM extension. */
    wr16(im.buf + EH_PHENTSIZE, 56);
    wr16(im.buf + EH_PHNUM, 0xffff);
    expect_error(f, &im, -ENOEXEC,
                 "extended program header count (PN_XNUM) is not supported");
    free(im.buf);
}

static void test_no_loadable_segments(void **state)
{
    struct fx *f = *state;
    struct timg im = simple();

    wr16(im.buf + EH_PHNUM, 0);
    expect_error(f, &im, -ENOEXEC, "no loadable segments");
    free(im.buf);

    struct tspec sp = {
        .entry = RAM_BASE,
        .segs = SEGS(SEG(T_PT_NOTE, T_PF_R, RAM_BASE, 0x10, 0x10),
                     SEG(T_PT_LOAD, T_PF_R | T_PF_X, RAM_BASE, 0, 0)),
    };
    im = build(&sp);
    expect_error(f, &im, -ENOEXEC, "no loadable segments");
    free(im.buf);
}

/* ---- segment errors ---- */

static void test_filesz_exceeds_memsz(void **state)
{
    struct fx *f = *state;
    struct timg im = simple();

    wr64(ph(&im, 0) + PH_MEMSZ, 0xff);
    expect_error(f, &im, -ENOEXEC,
                 "segment 0: file size 0x100 exceeds memory size 0xff");
    free(im.buf);
}

static void test_segment_data_truncated(void **state)
{
    struct fx *f = *state;
    struct tspec sp = {
        .entry = RAM_BASE,
        .segs = SEGS(SEG(T_PT_LOAD, T_PF_X, RAM_BASE, 0x100, 0x100),
                     SEG(T_PT_LOAD, T_PF_R, RAM_BASE + 0x1000, 0x100, 0x100)),
    };
    struct timg im = build(&sp);

    /* Cut the file one byte short of segment 1's data. */
    im.len -= 1;
    expect_error(f, &im, -ENOEXEC,
                 "truncated: segment 1 data past end of file");
    im.len += 1;
    /* p_offset + p_filesz wraps around 2^64. */
    wr64(ph(&im, 1) + PH_OFFSET, UINT64_MAX - 0x10);
    expect_error(f, &im, -ENOEXEC,
                 "truncated: segment 1 data past end of file");
    /* p_offset alone beyond the file, one byte of data. */
    wr64(ph(&im, 1) + PH_OFFSET, im.len);
    wr64(ph(&im, 1) + PH_FILESZ, 1);
    expect_error(f, &im, -ENOEXEC,
                 "truncated: segment 1 data past end of file");
    /* No file data at all: p_offset is irrelevant (strip can leave a
     * bss-only segment's offset past the end), so this loads. */
    wr64(ph(&im, 1) + PH_OFFSET, UINT64_MAX);
    wr64(ph(&im, 1) + PH_FILESZ, 0);
    assert_int_equal(load(f, &im), 0);
    for (size_t j = 0; j < 0x100; j++)
        assert_int_equal(*ram_at(f, RAM_BASE + 0x1000 + j), 0);
    free(im.buf);
}

static void test_segment_address_wraps(void **state)
{
    struct fx *f = *state;
    struct timg im = simple();

    wr64(ph(&im, 0) + PH_PADDR, UINT64_MAX - 0xf);
    expect_error(f, &im, -ENOEXEC,
                 "segment 0 at 0xfffffffffffffff0 of 0x100 bytes runs past the "
                 "end of the address space");
    free(im.buf);
}

static void test_segment_outside_ram(void **state)
{
    struct fx *f = *state;
    struct tspec sp = {
        .entry = RAM_BASE,
        .segs = SEGS(SEG(T_PT_LOAD, T_PF_X, RAM_BASE, 0x100, 0x100),
                     SEG(T_PT_LOAD, T_PF_R, RAM_BASE + 0x1000, 0x100, 0x100),
                     SEG(T_PT_LOAD, T_PF_R, 0x1000, 0x100, 0x1000)),
    };
    struct timg im = build(&sp);
    uint8_t *big = calloc(1, 0x08000000);   /* untouched pages: cheap */

    /* The exact message from the interface description, with 128 MiB. */
    assert_non_null(big);
    assert_int_equal(loader_load_elf(im.buf, im.len, RAM_BASE, 0x08000000,
                                     big, &f->li, f->err, sizeof(f->err)),
                     -ERANGE);
    assert_string_equal(f->err,
                        "segment 2 [0x1000, 0x2000) lies outside guest RAM "
                        "[0x80000000, 0x88000000)");
    free(big);
    assert_failed_cleanly(f);

    /* Straddling the end of RAM by one byte. */
    wr64(ph(&im, 2) + PH_PADDR, RAM_BASE + RAM_SIZE - 0xfff);
    expect_error(f, &im, -ERANGE,
                 "segment 2 [0x8000f001, 0x80010001) lies outside guest RAM "
                 "[0x80000000, 0x80010000)");
    /* Starting just below RAM. */
    wr64(ph(&im, 2) + PH_PADDR, RAM_BASE - 1);
    expect_error(f, &im, -ERANGE,
                 "segment 2 [0x7fffffff, 0x80000fff) lies outside guest RAM "
                 "[0x80000000, 0x80010000)");
    /* Entirely above RAM. */
    wr64(ph(&im, 2) + PH_PADDR, 0x90000000);
    expect_error(f, &im, -ERANGE,
                 "segment 2 [0x90000000, 0x90001000) lies outside guest RAM "
                 "[0x80000000, 0x80010000)");
    free(im.buf);
}

static void test_segments_overlap(void **state)
{
    struct fx *f = *state;
    struct tspec sp = {
        .entry = RAM_BASE,
        .segs = SEGS(SEG(T_PT_LOAD, T_PF_X, RAM_BASE, 0x100, 0x100),
                     SEG(T_PT_LOAD, T_PF_R, RAM_BASE + 0x800, 0x10, 0x1000),
                     SEG(T_PT_LOAD, T_PF_R, RAM_BASE + 0x1000, 0x10, 0x1000)),
    };
    struct timg im = build(&sp);

    expect_error(f, &im, -ENOEXEC, "segments 1 and 2 overlap at 0x80001000");
    /* Reported lower index first even when the later one starts lower. */
    wr64(ph(&im, 2) + PH_PADDR, RAM_BASE + 0x400);
    expect_error(f, &im, -ENOEXEC, "segments 1 and 2 overlap at 0x80000800");
    /* A segment wholly inside an earlier, bigger one. */
    wr64(ph(&im, 0) + PH_MEMSZ, 0x8000);
    wr64(ph(&im, 1) + PH_PADDR, RAM_BASE + 0x6000);
    wr64(ph(&im, 1) + PH_MEMSZ, 0x10);
    wr64(ph(&im, 2) + PH_PADDR, RAM_BASE + 0x9000);
    expect_error(f, &im, -ENOEXEC, "segments 0 and 1 overlap at 0x80006000");
    /* Overlap through zero-fill only (the bss part) counts too. */
    wr64(ph(&im, 0) + PH_MEMSZ, 0x100);
    wr64(ph(&im, 1) + PH_PADDR, RAM_BASE + 0x8000);
    wr64(ph(&im, 1) + PH_MEMSZ, 0x1001);
    expect_error(f, &im, -ENOEXEC, "segments 1 and 2 overlap at 0x80009000");
    /* Identical ranges. */
    wr64(ph(&im, 1) + PH_MEMSZ, 0x100);
    wr64(ph(&im, 1) + PH_PADDR, RAM_BASE);
    expect_error(f, &im, -ENOEXEC, "segments 0 and 1 overlap at 0x80000000");
    free(im.buf);
}

static void test_entry_outside_segments(void **state)
{
    struct fx *f = *state;
    struct timg im = simple();

    wr64(im.buf + EH_ENTRY, 0x90000000);
    expect_error(f, &im, -ENOEXEC,
                 "entry 0x90000000 is not inside a loaded segment");
    /* One past the end of the only segment. */
    wr64(im.buf + EH_ENTRY, RAM_BASE + 0x100);
    expect_error(f, &im, -ENOEXEC,
                 "entry 0x80000100 is not inside a loaded segment");
    wr64(im.buf + EH_ENTRY, RAM_BASE - 1);
    expect_error(f, &im, -ENOEXEC,
                 "entry 0x7fffffff is not inside a loaded segment");
    free(im.buf);
}

/* A good segment followed by a bad one: nothing at all may be written. */
static void test_error_after_good_segment_writes_nothing(void **state)
{
    struct fx *f = *state;
    struct tspec sp = {
        .entry = RAM_BASE,
        .segs = SEGS(SEG(T_PT_LOAD, T_PF_X, RAM_BASE, 0x100, 0x200),
                     SEG(T_PT_LOAD, T_PF_R, RAM_BASE + 0x1000, 0x10, 0x10)),
        .syms = SYMS(SYM("tohost", T_STT_OBJECT, T_STB_GLOBAL, 1, RAM_BASE, 8)),
    };
    struct timg im = build(&sp);

    wr64(ph(&im, 1) + PH_PADDR, RAM_BASE + RAM_SIZE);
    expect_error(f, &im, -ERANGE,
                 "segment 1 [0x80010000, 0x80010010) lies outside guest RAM "
                 "[0x80000000, 0x80010000)");
    free(im.buf);
}

/* Many segments: the overlap check is not quadratic and handles them all. */
static void test_many_segments(void **state)
{
    struct fx *f = *state;
    const size_t n = 4000;
    size_t len = 64 + 56 * n + n;
    uint8_t *buf = calloc(1, len);
    struct timg im;

    assert_non_null(buf);
    memcpy(buf, "\x7f" "ELF\x02\x01\x01", 7);
    wr16(buf + EH_TYPE, 2);
    wr16(buf + EH_MACHINE, 243);
    wr64(buf + EH_ENTRY, RAM_BASE + 5);
    wr64(buf + EH_PHOFF, 64);
    wr16(buf + EH_PHENTSIZE, 56);
    wr16(buf + EH_PHNUM, (uint16_t)n);
    im.buf = buf;
    im.len = len;
    /* Segment i holds one byte, in reverse order of address. */
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = ph(&im, i);

        wr32(p + PH_TYPE, T_PT_LOAD);
        wr32(p + PH_FLAGS, T_PF_X);
        wr64(p + PH_OFFSET, 64 + 56 * n + i);
        wr64(p + PH_PADDR, RAM_BASE + 4 * (n - 1 - i));
        wr64(p + PH_FILESZ, 1);
        wr64(p + PH_MEMSZ, 2);
        buf[64 + 56 * n + i] = (uint8_t)(i * 13);
    }
    assert_int_equal(load(f, &im), 0);
    assert_int_equal(f->li.low, RAM_BASE);
    assert_int_equal(f->li.high, RAM_BASE + 4 * (n - 1) + 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t a = RAM_BASE + 4 * (n - 1 - i);

        assert_int_equal(*ram_at(f, a), (uint8_t)(i * 13));
        assert_int_equal(*ram_at(f, a + 1), 0);
        assert_int_equal(*ram_at(f, a + 2), FILL);
    }
    load_info_free(&f->li);
    memset(f->ram, FILL, RAM_SIZE);

    /* Now make the last one collide with the first. */
    wr64(ph(&im, n - 1) + PH_PADDR, RAM_BASE + 4 * (n - 1) + 1);
    expect_error(f, &im, -ENOEXEC, "segments 0 and 3999 overlap at 0x80003e7d");
    free(buf);
}

/* ---- symbols and HTIF ---- */

static struct tspec sym_spec(const struct tsym *syms, size_t nsyms)
{
    /* static: the spec outlives this call (a compound literal would not) */
    static const struct tseg segs[] = {
        SEG(T_PT_LOAD, T_PF_R | T_PF_X, RAM_BASE, 0x100, 0x100),
        SEG(T_PT_LOAD, T_PF_R | T_PF_W, RAM_BASE + 0x4000, 0x40, 0x2000),
    };
    struct tspec sp = {
        .entry = RAM_BASE,
        .segs = segs,
        .nsegs = 2,
        .syms = syms,
        .nsyms = nsyms,
    };
    return sp;
}

static void test_tohost_anywhere(void **state)
{
    struct fx *f = *state;
    /* tohost deep inside the second segment's bss, NOTYPE as assemblers
     * emit it, listed after unrelated symbols; fromhost before it. */
    struct tspec sp = sym_spec(SYMS(
        SYM("main", T_STT_FUNC, T_STB_GLOBAL, 1, RAM_BASE + 0x10, 0x20),
        SYM("fromhost", T_STT_NOTYPE, T_STB_GLOBAL, 2, RAM_BASE + 0x5f48, 0),
        SYM("counter", T_STT_OBJECT, T_STB_GLOBAL, 2, RAM_BASE + 0x4000, 4),
        SYM("tohost", T_STT_NOTYPE, T_STB_GLOBAL, 2, RAM_BASE + 0x5f40, 0)));
    struct timg im = build(&sp);

    assert_int_equal(load(f, &im), 0);
    assert_int_equal(f->li.has_tohost, 1);
    assert_int_equal(f->li.tohost, RAM_BASE + 0x5f40);
    assert_int_equal(f->li.fromhost, RAM_BASE + 0x5f48);
    free(im.buf);
}

static void test_tohost_outside_image_and_without_fromhost(void **state)
{
    struct fx *f = *state;
    /* An HTIF address the image does not load (e.g. a fixed MMIO-ish
     * location) is reported as is. */
    struct tspec sp = sym_spec(SYMS(
        SYM("tohost", T_STT_OBJECT, T_STB_GLOBAL, T_SHN_ABS, 0x40008000, 8)));
    struct timg im = build(&sp);

    assert_int_equal(load(f, &im), 0);
    assert_int_equal(f->li.has_tohost, 1);
    assert_int_equal(f->li.tohost, 0x40008000);
    assert_int_equal(f->li.fromhost, 0);
    free(im.buf);
}

static void test_tohost_prefers_global_and_ignores_undefined(void **state)
{
    struct fx *f = *state;
    struct tspec sp = sym_spec(SYMS(
        SYM("tohost", T_STT_NOTYPE, T_STB_GLOBAL, T_SHN_UNDEF, 0x1234, 0),
        SYM("tohost", T_STT_SECTION, T_STB_LOCAL, 2, RAM_BASE + 0x4100, 0),
        SYM("tohost", T_STT_OBJECT, T_STB_LOCAL, 2, RAM_BASE + 0x4200, 8),
        SYM("tohost", T_STT_OBJECT, T_STB_GLOBAL, 2, RAM_BASE + 0x4300, 8),
        SYM("tohost", T_STT_OBJECT, T_STB_GLOBAL, 2, RAM_BASE + 0x4400, 8)));
    struct timg im = build(&sp);

    assert_int_equal(load(f, &im), 0);
    assert_int_equal(f->li.has_tohost, 1);
    assert_int_equal(f->li.tohost, RAM_BASE + 0x4300);
    free(im.buf);
}

static void test_no_tohost(void **state)
{
    struct fx *f = *state;
    struct tspec sp = sym_spec(SYMS(
        SYM("fromhost", T_STT_NOTYPE, T_STB_GLOBAL, 2, RAM_BASE + 0x4008, 0),
        SYM("tohost_not", T_STT_NOTYPE, T_STB_GLOBAL, 2, RAM_BASE + 0x4000, 0),
        SYM("tohos", T_STT_NOTYPE, T_STB_GLOBAL, 2, RAM_BASE + 0x4000, 0)));
    struct timg im = build(&sp);

    assert_int_equal(load(f, &im), 0);
    assert_int_equal(f->li.has_tohost, 0);
    assert_int_equal(f->li.tohost, 0);
    assert_int_equal(f->li.fromhost, 0);
    free(im.buf);
}

static void test_symbols_filtered_and_sorted(void **state)
{
    struct fx *f = *state;
    struct tspec sp = sym_spec(SYMS(
        SYM("zeta", T_STT_FUNC, T_STB_GLOBAL, 1, RAM_BASE + 0x80, 0x10),
        SYM("label", T_STT_NOTYPE, T_STB_LOCAL, 1, RAM_BASE + 0x20, 0),
        SYM(".text", T_STT_SECTION, T_STB_LOCAL, 1, RAM_BASE, 0),
        SYM("main.c", T_STT_FILE, T_STB_LOCAL, T_SHN_ABS, 0, 0),
        SYM("puts", T_STT_FUNC, T_STB_GLOBAL, T_SHN_UNDEF, 0, 0),
        SYM(NULL, T_STT_FUNC, T_STB_GLOBAL, 1, RAM_BASE + 0x40, 4),
        SYM("table", T_STT_OBJECT, T_STB_LOCAL, 2, RAM_BASE + 0x4000, 0x40),
        SYM("alpha", T_STT_FUNC, T_STB_GLOBAL, 1, RAM_BASE + 0x10, 0x20),
        SYM("alias", T_STT_FUNC, T_STB_GLOBAL, 1, RAM_BASE + 0x80, 0x10),
        SYM("abs_obj", T_STT_OBJECT, T_STB_GLOBAL, T_SHN_ABS, 0x1000, 8)));
    struct timg im = build(&sp);
    static const struct { const char *name; uint64_t value, size; } want[] = {
        { "abs_obj", 0x1000, 8 },
        { "alpha", RAM_BASE + 0x10, 0x20 },
        { "alias", RAM_BASE + 0x80, 0x10 },
        { "zeta", RAM_BASE + 0x80, 0x10 },
        { "table", RAM_BASE + 0x4000, 0x40 },
    };

    assert_int_equal(load(f, &im), 0);
    assert_int_equal(f->li.nsyms, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < f->li.nsyms; i++) {
        assert_string_equal(f->li.syms[i].name, want[i].name);
        assert_int_equal(f->li.syms[i].value, want[i].value);
        assert_int_equal(f->li.syms[i].size, want[i].size);
    }
    free(im.buf);
}

static void test_symbol_lookup(void **state)
{
    struct fx *f = *state;
    const uint64_t b = RAM_BASE;
    struct tspec sp = sym_spec(SYMS(
        SYM("big", T_STT_OBJECT, T_STB_GLOBAL, 1, b + 0x100, 0x100),
        SYM("inner", T_STT_FUNC, T_STB_GLOBAL, 1, b + 0x120, 0x10),
        SYM("mark", T_STT_FUNC, T_STB_GLOBAL, 1, b + 0x300, 0),
        SYM("after", T_STT_FUNC, T_STB_GLOBAL, 1, b + 0x400, 0x20),
        SYM("head", T_STT_FUNC, T_STB_GLOBAL, 1, b + 0x500, 0x10),
        SYM("wrap", T_STT_OBJECT, T_STB_GLOBAL, 1, b + 0x500, 0x100),
        SYM("top", T_STT_OBJECT, T_STB_GLOBAL, T_SHN_ABS, UINT64_MAX - 0xf,
            0x100)));
    struct timg im = build(&sp);
    const struct loader_symbol *s;

    assert_int_equal(load(f, &im), 0);
    assert_null(load_info_symbol(&f->li, b));               /* before all */
    assert_string_equal(load_info_symbol(&f->li, b + 0x100)->name, "big");
    assert_string_equal(load_info_symbol(&f->li, b + 0x11f)->name, "big");
    assert_string_equal(load_info_symbol(&f->li, b + 0x120)->name, "inner");
    assert_string_equal(load_info_symbol(&f->li, b + 0x12f)->name, "inner");
    /* Past inner, still inside big: the scan must look further back. */
    assert_string_equal(load_info_symbol(&f->li, b + 0x130)->name, "big");
    assert_string_equal(load_info_symbol(&f->li, b + 0x1ff)->name, "big");
    assert_null(load_info_symbol(&f->li, b + 0x200));       /* gap */
    assert_string_equal(load_info_symbol(&f->li, b + 0x300)->name, "mark");
    assert_null(load_info_symbol(&f->li, b + 0x301));       /* size 0 = 1 */
    s = load_info_symbol(&f->li, b + 0x41f);
    assert_non_null(s);
    assert_string_equal(s->name, "after");
    assert_int_equal(s->value, b + 0x400);
    assert_null(load_info_symbol(&f->li, b + 0x420));
    /* Same start: the smallest symbol that still contains addr. */
    assert_string_equal(load_info_symbol(&f->li, b + 0x505)->name, "head");
    assert_string_equal(load_info_symbol(&f->li, b + 0x510)->name, "wrap");
    assert_string_equal(load_info_symbol(&f->li, b + 0x5ff)->name, "wrap");
    /* A symbol running past 2^64 saturates instead of wrapping. */
    assert_string_equal(load_info_symbol(&f->li, UINT64_MAX)->name, "top");
    assert_null(load_info_symbol(&f->li, 0));

    /* A hand-built info without the private index still works. */
    struct load_info hand = { 0 };
    struct loader_symbol hs[] = {
        { "outer", 0x1000, 0x1000 }, { "a", 0x1100, 0x10 }, { "b", 0x1200, 0 },
    };
    hand.syms = hs;
    hand.nsyms = 3;
    assert_string_equal(load_info_symbol(&hand, 0x1300)->name, "outer");
    assert_string_equal(load_info_symbol(&hand, 0x1200)->name, "b");
    assert_string_equal(load_info_symbol(&hand, 0x1105)->name, "a");
    assert_null(load_info_symbol(&hand, 0x2000));
    assert_null(load_info_symbol(NULL, 0x1000));
    hand.nsyms = 0;
    assert_null(load_info_symbol(&hand, 0x1000));
    free(im.buf);
}

static struct tspec two_syms(void)
{
    static const struct tsym syms[] = {
        SYM("main", T_STT_FUNC, T_STB_GLOBAL, 1, RAM_BASE + 0x10, 0x20),
        SYM("tohost", T_STT_OBJECT, T_STB_GLOBAL, 2, RAM_BASE + 0x4000, 8),
    };
    return sym_spec(syms, 2);
}

/* Load must succeed with the segments intact but no symbols. */
static void expect_no_symbols(struct fx *f, const struct timg *im)
{
    load_info_free(&f->li);
    assert_int_equal(load(f, im), 0);
    assert_null(f->li.syms);
    assert_int_equal(f->li.nsyms, 0);
    assert_int_equal(f->li.has_tohost, 0);
    assert_int_equal(f->li.entry, RAM_BASE);
    assert_int_equal(*ram_at(f, RAM_BASE), pattern(0, 0));
}

static void test_broken_section_table_means_no_symbols(void **state)
{
    struct fx *f = *state;
    struct tspec sp = two_syms();
    struct timg im = build(&sp);

    assert_int_equal(load(f, &im), 0);      /* sanity: intact image has them */
    assert_int_equal(f->li.nsyms, 2);
    assert_int_equal(f->li.has_tohost, 1);

    /* Each corruption on a fresh copy of the image. */
    struct timg c = im;
    c.buf = malloc(im.len);
    assert_non_null(c.buf);
#define FRESH() memcpy(c.buf, im.buf, im.len)

    FRESH();            /* shoff past EOF */
    wr64(c.buf + EH_SHOFF, im.len);
    expect_no_symbols(f, &c);
    FRESH();            /* shoff wraps */
    wr64(c.buf + EH_SHOFF, UINT64_MAX - 0x20);
    expect_no_symbols(f, &c);
    FRESH();            /* shentsize small */
    wr16(c.buf + EH_SHENTSIZE, 40);
    expect_no_symbols(f, &c);
    FRESH();            /* shnum past EOF */
    wr16(c.buf + EH_SHNUM, 0xff00);
    expect_no_symbols(f, &c);
    FRESH();            /* absurd extended shnum */
    wr16(c.buf + EH_SHNUM, 0);
    wr64(sh(&c, 0) + SH_SIZE, UINT64_MAX);
    expect_no_symbols(f, &c);
    FRESH();            /* link out of range */
    wr32(sh(&c, 1) + SH_LINK, 3);
    expect_no_symbols(f, &c);
    FRESH();            /* link to section 0 */
    wr32(sh(&c, 1) + SH_LINK, 0);
    expect_no_symbols(f, &c);
    FRESH();            /* link not a strtab */
    wr32(sh(&c, 2) + SH_TYPE, T_SHT_PROGBITS);
    expect_no_symbols(f, &c);
    FRESH();            /* symtab past EOF */
    wr64(sh(&c, 1) + SH_SIZE, im.len);
    expect_no_symbols(f, &c);
    FRESH();            /* symtab offset wraps */
    wr64(sh(&c, 1) + SH_OFFSET, UINT64_MAX - 0x10);
    expect_no_symbols(f, &c);
    FRESH();            /* strtab past EOF */
    wr64(sh(&c, 2) + SH_SIZE, im.len - im.strtab_off + 1);
    expect_no_symbols(f, &c);
    FRESH();            /* entsize too small */
    wr64(sh(&c, 1) + SH_ENTSIZE, 23);
    expect_no_symbols(f, &c);
    FRESH();            /* entsize 0 */
    wr64(sh(&c, 1) + SH_ENTSIZE, 0);
    expect_no_symbols(f, &c);
    FRESH();            /* empty strtab */
    wr64(sh(&c, 2) + SH_SIZE, 0);
    expect_no_symbols(f, &c);
    FRESH();            /* strtab without any NUL byte */
    memset(c.buf + im.strtab_off, 'x', im.strtab_size);
    expect_no_symbols(f, &c);
#undef FRESH
    free(c.buf);
    free(im.buf);
}

static void test_bad_symbol_names_are_skipped(void **state)
{
    struct fx *f = *state;
    struct tspec sp = sym_spec(SYMS(
        SYM("good", T_STT_FUNC, T_STB_GLOBAL, 1, RAM_BASE + 0x10, 0x20),
        SYM("beyond", T_STT_FUNC, T_STB_GLOBAL, 1, RAM_BASE + 0x40, 4),
        SYM("unterminated", T_STT_FUNC, T_STB_GLOBAL, 1, RAM_BASE + 0x50, 4)));
    struct timg im = build(&sp);
    uint8_t *sym2 = im.buf + im.symtab_off + 24 * 2;

    /* Symbol 2's name offset lies past the end of the string table. */
    wr32(sym2, (uint32_t)im.strtab_size + 100);
    /* Shrink the table so the last name loses its NUL terminator. */
    wr64(sh(&im, 2) + SH_SIZE, im.strtab_size - 1);
    assert_int_equal(load(f, &im), 0);
    assert_int_equal(f->li.nsyms, 1);
    assert_string_equal(f->li.syms[0].name, "good");
    /* Offset exactly at the end of the table. */
    load_info_free(&f->li);
    wr32(sym2, (uint32_t)im.strtab_size - 1);
    assert_int_equal(load(f, &im), 0);
    assert_int_equal(f->li.nsyms, 1);
    free(im.buf);
}

/* e_shnum == 0 with the real count in section 0's sh_size. */
static void test_extended_section_count(void **state)
{
    struct fx *f = *state;
    struct tspec sp = two_syms();
    struct timg im = build(&sp);

    wr16(im.buf + EH_SHNUM, 0);
    wr64(sh(&im, 0) + SH_SIZE, 3);
    assert_int_equal(load(f, &im), 0);
    assert_int_equal(f->li.nsyms, 2);
    assert_int_equal(f->li.has_tohost, 1);
    free(im.buf);
}

static void test_dynsym_fallback(void **state)
{
    struct fx *f = *state;
    struct tspec sp = two_syms();

    sp.symtab_type = T_SHT_DYNSYM;
    struct timg im = build(&sp);

    assert_int_equal(load(f, &im), 0);
    assert_int_equal(f->li.nsyms, 2);
    assert_string_equal(f->li.syms[0].name, "main");
    free(im.buf);
}

/* Names are copied: the loaded info outlives the file buffer. */
static void test_symbols_outlive_image(void **state)
{
    struct fx *f = *state;
    struct tspec sp = two_syms();
    struct timg im = build(&sp);

    assert_int_equal(load(f, &im), 0);
    memset(im.buf, 0, im.len);
    free(im.buf);
    assert_string_equal(load_info_symbol(&f->li, RAM_BASE + 0x2f)->name,
                        "main");
}

/* ---- raw images and dispatch ---- */

static void test_raw_load(void **state)
{
    struct fx *f = *state;
    static const uint8_t img[] = { 1, 2, 3, 4, 5, 6, 7 };

    assert_int_equal(loader_load_raw(img, sizeof(img), RAM_BASE, RAM_BASE,
                                     RAM_SIZE, f->ram, &f->li,
                                     f->err, sizeof(f->err)), 0);
    assert_memory_equal(ram_at(f, RAM_BASE), img, sizeof(img));
    assert_poison(f, RAM_BASE + sizeof(img), RAM_SIZE - sizeof(img));
    assert_int_equal(f->li.entry, RAM_BASE);
    assert_int_equal(f->li.low, RAM_BASE);
    assert_int_equal(f->li.high, RAM_BASE + 6);
    assert_null(f->li.syms);

    /* Exactly filling the end of RAM is fine. */
    load_info_free(&f->li);
    assert_int_equal(loader_load_raw(img, sizeof(img),
                                     RAM_BASE + RAM_SIZE - sizeof(img),
                                     RAM_BASE, RAM_SIZE, f->ram, &f->li,
                                     f->err, sizeof(f->err)), 0);
    assert_memory_equal(ram_at(f, RAM_BASE + RAM_SIZE - sizeof(img)), img,
                        sizeof(img));
}

static void expect_raw_error(struct fx *f, const uint8_t *d, size_t n,
                             uint64_t at, int rc, const char *msg)
{
    assert_int_equal(loader_load_raw(d, n, at, RAM_BASE, RAM_SIZE, f->ram,
                                     &f->li, f->err, sizeof(f->err)), rc);
    assert_string_equal(f->err, msg);
    assert_failed_cleanly(f);
}

static void test_raw_errors(void **state)
{
    struct fx *f = *state;
    static const uint8_t img[16];

    expect_raw_error(f, img, 16, RAM_BASE + RAM_SIZE - 15, -ERANGE,
                     "image of 16 bytes at 0x8000fff1 does not fit in guest "
                     "RAM [0x80000000, 0x80010000)");
    expect_raw_error(f, img, 16, RAM_BASE - 1, -ERANGE,
                     "image of 16 bytes at 0x7fffffff does not fit in guest "
                     "RAM [0x80000000, 0x80010000)");
    expect_raw_error(f, img, 16, UINT64_MAX - 3, -ERANGE,
                     "image of 16 bytes at 0xfffffffffffffffc does not fit in "
                     "guest RAM [0x80000000, 0x80010000)");
    expect_raw_error(f, img, 0, RAM_BASE, -ENOEXEC, "empty image");
    expect_raw_error(f, NULL, 0, RAM_BASE, -ENOEXEC, "empty image");
}

static void test_dispatch_by_content(void **state)
{
    struct fx *f = *state;
    struct timg im = simple();
    static const uint8_t raw[] = { 0x13, 0, 0, 0, 0x7f, 'E', 'L', 'F' };

    /* ELF magic: ELF rules, load_addr ignored. */
    assert_int_equal(loader_load(im.buf, im.len, RAM_BASE + 0x8000, RAM_BASE,
                                 RAM_SIZE, f->ram, &f->li, f->err,
                                 sizeof(f->err)), 0);
    assert_int_equal(f->li.entry, RAM_BASE);
    assert_int_equal(*ram_at(f, RAM_BASE), pattern(0, 0));
    load_info_free(&f->li);
    memset(f->ram, FILL, RAM_SIZE);

    /* A broken ELF is an ELF error, never silently loaded as raw. */
    wr16(im.buf + EH_MACHINE, 62);
    assert_int_equal(loader_load(im.buf, im.len, RAM_BASE, RAM_BASE, RAM_SIZE,
                                 f->ram, &f->li, f->err, sizeof(f->err)),
                     -ENOEXEC);
    assert_string_equal(f->err, "ELF machine 62 (x86-64) is not RISC-V");
    assert_failed_cleanly(f);
    assert_int_equal(loader_load(im.buf, 10, RAM_BASE, RAM_BASE, RAM_SIZE,
                                 f->ram, &f->li, f->err, sizeof(f->err)),
                     -ENOEXEC);
    assert_string_equal(f->err,
                        "truncated: ELF header needs 64 bytes, file has 10");

    /* Anything else is raw at load_addr. */
    assert_int_equal(loader_load(raw, sizeof(raw), RAM_BASE + 0x1000,
                                 RAM_BASE, RAM_SIZE, f->ram, &f->li, f->err,
                                 sizeof(f->err)), 0);
    assert_int_equal(f->li.entry, RAM_BASE + 0x1000);
    assert_memory_equal(ram_at(f, RAM_BASE + 0x1000), raw, sizeof(raw));
    load_info_free(&f->li);
    assert_int_equal(loader_load(raw, 0, RAM_BASE, RAM_BASE, RAM_SIZE, f->ram,
                                 &f->li, f->err, sizeof(f->err)), -ENOEXEC);
    assert_string_equal(f->err, "empty image");
    free(im.buf);
}

/* ---- arguments and error buffer ---- */

static void test_bad_arguments(void **state)
{
    struct fx *f = *state;
    struct timg im = simple();

    assert_int_equal(loader_load_elf(im.buf, im.len, RAM_BASE, RAM_SIZE,
                                     f->ram, NULL, f->err, sizeof(f->err)),
                     -EINVAL);
    assert_int_equal(loader_load_elf(im.buf, im.len, RAM_BASE, RAM_SIZE, NULL,
                                     &f->li, f->err, sizeof(f->err)), -EINVAL);
    assert_int_equal(loader_load_elf(NULL, 10, RAM_BASE, RAM_SIZE, f->ram,
                                     &f->li, f->err, sizeof(f->err)), -EINVAL);
    assert_int_equal(loader_load_raw(im.buf, im.len, 0, UINT64_MAX - 10, 100,
                                     f->ram, &f->li, f->err, sizeof(f->err)),
                     -EINVAL);
    assert_string_equal(f->err,
                        "guest RAM at 0xfffffffffffffff5 of 0x64 bytes runs "
                        "past the end of the address space");
    /* No RAM at all: every segment lies outside it. */
    assert_int_equal(loader_load_elf(im.buf, im.len, RAM_BASE, 0, NULL,
                                     &f->li, f->err, sizeof(f->err)), -ERANGE);
    assert_failed_cleanly(f);
    free(im.buf);
}

static void test_error_buffer_handling(void **state)
{
    struct fx *f = *state;
    struct timg im = simple();
    char small[8];

    wr16(im.buf + EH_MACHINE, 62);
    /* NULL / zero-length buffers are allowed. */
    assert_int_equal(loader_load_elf(im.buf, im.len, RAM_BASE, RAM_SIZE,
                                     f->ram, &f->li, NULL, 0), -ENOEXEC);
    memset(small, 'z', sizeof(small));
    assert_int_equal(loader_load_elf(im.buf, im.len, RAM_BASE, RAM_SIZE,
                                     f->ram, &f->li, small, 0), -ENOEXEC);
    assert_int_equal(small[0], 'z');
    /* Truncated, still terminated. */
    assert_int_equal(loader_load_elf(im.buf, im.len, RAM_BASE, RAM_SIZE,
                                     f->ram, &f->li, small, sizeof(small)),
                     -ENOEXEC);
    assert_string_equal(small, "ELF mac");
    free(im.buf);
}

static void test_load_info_free_is_idempotent(void **state)
{
    struct fx *f = *state;
    struct tspec sp = two_syms();
    struct timg im = build(&sp);
    struct load_info zero = { 0 };

    load_info_free(NULL);
    load_info_free(&zero);
    assert_int_equal(load(f, &im), 0);
    load_info_free(&f->li);
    assert_null(f->li.syms);
    assert_int_equal(f->li.nsyms, 0);
    load_info_free(&f->li);
    /* A second load into a used info replaces it without leaking (ASan). */
    assert_int_equal(load(f, &im), 0);
    load_info_free(&f->li);
    free(im.buf);
}

/* ---- loader_read_file ---- */

static char *write_temp(const void *d, size_t n)
{
    char *path = strdup("/tmp/test_loader_XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, d, n), (ssize_t)n);
    close(fd);
    return path;
}

static void test_read_file(void **state)
{
    (void)state;
    uint8_t content[5000];
    uint8_t *data = (uint8_t *)"x";
    size_t len = 1;
    char err[256];

    for (size_t i = 0; i < sizeof(content); i++)
        content[i] = (uint8_t)(i * 31);
    char *path = write_temp(content, sizeof(content));

    assert_int_equal(loader_read_file(path, &data, &len, sizeof(content), err,
                                      sizeof(err)), 0);
    assert_int_equal(len, sizeof(content));
    assert_memory_equal(data, content, sizeof(content));
    free(data);

    /* One byte over the cap. */
    assert_int_equal(loader_read_file(path, &data, &len, sizeof(content) - 1,
                                      err, sizeof(err)), -EFBIG);
    assert_null(data);
    assert_int_equal(len, 0);
    char want[512];
    snprintf(want, sizeof(want),
             "kernel '%s': file is 5000 bytes, more than the limit of 4999",
             path);
    assert_string_equal(err, want);
    unlink(path);
    free(path);

    /* Empty file: success, non-NULL buffer, zero length. */
    path = write_temp("", 0);
    assert_int_equal(loader_read_file(path, &data, &len, 100, err,
                                      sizeof(err)), 0);
    assert_non_null(data);
    assert_int_equal(len, 0);
    free(data);
    unlink(path);
    free(path);
}

static void test_read_file_errors(void **state)
{
    (void)state;
    uint8_t *data;
    size_t len;
    char err[256];

    assert_int_equal(loader_read_file("/nonexistent/Image", &data, &len, 100,
                                      err, sizeof(err)), -ENOENT);
    assert_string_equal(err,
                        "kernel '/nonexistent/Image': No such file or "
                        "directory");
    assert_null(data);
    assert_int_equal(loader_read_file("/tmp", &data, &len, 100, err,
                                      sizeof(err)), -EISDIR);
    assert_string_equal(err, "kernel '/tmp': Is a directory");
    assert_int_equal(loader_read_file(NULL, &data, &len, 100, err,
                                      sizeof(err)), -EINVAL);
}

/* A non-regular file (no size from fstat) is read in chunks and still
 * capped. */
static void test_read_file_pipe(void **state)
{
    (void)state;
    uint8_t *data;
    size_t len;
    char err[256];
    int fds[2];

    assert_int_equal(pipe(fds), 0);
    char path[64];
    snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
    static uint8_t chunk[3000];
    memset(chunk, 0x5a, sizeof(chunk));
    assert_int_equal(write(fds[1], chunk, sizeof(chunk)),
                     (ssize_t)sizeof(chunk));
    close(fds[1]);
    assert_int_equal(loader_read_file(path, &data, &len, 2999, err,
                                      sizeof(err)), -EFBIG);
    close(fds[0]);

    assert_int_equal(pipe(fds), 0);
    snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
    assert_int_equal(write(fds[1], chunk, sizeof(chunk)),
                     (ssize_t)sizeof(chunk));
    close(fds[1]);
    assert_int_equal(loader_read_file(path, &data, &len, 3000, err,
                                      sizeof(err)), 0);
    assert_int_equal(len, 3000);
    assert_int_equal(data[2999], 0x5a);
    free(data);
    close(fds[0]);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_single_segment_exact_bytes),
        T(test_multi_segment_with_bss),
        T(test_segments_out_of_order_and_touching),
        T(test_segment_ending_at_ram_end),
        T(test_entry_in_bss_is_accepted),
        T(test_virtual_entry_translated),
        T(test_virtual_entry_needs_exec_segment),
        T(test_not_elf),
        T(test_truncated_header),
        T(test_class32),
        T(test_big_endian),
        T(test_bad_version),
        T(test_wrong_machine),
        T(test_wrong_type),
        T(test_phentsize_too_small),
        T(test_phdr_table_bounds),
        T(test_no_loadable_segments),
        T(test_filesz_exceeds_memsz),
        T(test_segment_data_truncated),
        T(test_segment_address_wraps),
        T(test_segment_outside_ram),
        T(test_segments_overlap),
        T(test_entry_outside_segments),
        T(test_error_after_good_segment_writes_nothing),
        T(test_many_segments),
        T(test_tohost_anywhere),
        T(test_tohost_outside_image_and_without_fromhost),
        T(test_tohost_prefers_global_and_ignores_undefined),
        T(test_no_tohost),
        T(test_symbols_filtered_and_sorted),
        T(test_symbol_lookup),
        T(test_broken_section_table_means_no_symbols),
        T(test_bad_symbol_names_are_skipped),
        T(test_extended_section_count),
        T(test_dynsym_fallback),
        T(test_symbols_outlive_image),
        T(test_raw_load),
        T(test_raw_errors),
        T(test_dispatch_by_content),
        T(test_bad_arguments),
        T(test_error_buffer_handling),
        T(test_load_info_free_is_idempotent),
        T(test_read_file),
        T(test_read_file_errors),
        T(test_read_file_pipe),
    };

    return cmocka_run_group_tests_name("loader", tests, NULL, NULL);
}
