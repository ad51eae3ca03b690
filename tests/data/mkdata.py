#!/usr/bin/env python3
"""Generate the small fixed inputs of tests/cli-errors.sh.

    python3 tests/data/mkdata.py [OUTDIR]      (default: this directory)

The files are committed, so running the tests needs neither python nor a
cross compiler; re-run this after changing it. Every ELF here is built
byte by byte from the ELF-64 specification (no toolchain), and every guest
is a handful of hand-assembled RV64 instructions (the assembly is next to
each word).

Bad ELF images (the engine must refuse them with a one-line error, exit 1):
  elf32.elf         ELFCLASS32 RISC-V executable
  x86_64.elf        a well-formed ELF64 executable for EM_X86_64
  bigendian.elf     ELFDATA2MSB (RISC-V has no big-endian ELF here)
  outside-ram.elf   a PT_LOAD at 0x10000000, far below RAM
  beyond-ram.elf    a PT_LOAD at the top of a 1 MiB RAM + 4 KiB
  overlap.elf       two PT_LOADs writing the same bytes of RAM
  truncated.elf     a valid image cut in the middle of its program headers
  header-only.elf   just the 64-byte ELF header, e_phnum = 1
  text.txt          a text file (taken as a raw binary: it is not an ELF)
Guests (raw binaries at 0x80000000, and one ELF):
  pass.bin          writes 0x5555 to the SiFive test finisher: exit 0
  fail7.bin         writes 0x3333 | 7 << 16: exit 7
  pass.elf          pass.bin as an ELF64 executable: exit 0
  ecall.bin         ecall with mtvec = 0 (reset value): no handler
  handler-loop.bin  mtvec -> zeroed RAM, then ecall: the handler itself traps
  jump-unmapped.bin jumps to 0x40000000 (no RAM or device there)
  spin.bin          j . forever (for --max-insns)
"""
import os
import struct
import sys

RAM = 0x80000000


def ehdr(machine=243, cls=2, data=1, etype=2, entry=RAM, phoff=64, phnum=1,
         shoff=0, shnum=0):
    ident = b"\x7fELF" + bytes([cls, data, 1, 0]) + bytes(8)
    end = "<" if data == 1 else ">"
    return ident + struct.pack(end + "HHIQQQIHHHHHH", etype, machine, 1, entry,
                               phoff, shoff, 0, 64, 56, phnum, 64, shnum, 0)


def phdr(offset, paddr, filesz, memsz=None, flags=5, data=1, vaddr=None):
    end = "<" if data == 1 else ">"
    return struct.pack(end + "IIQQQQQQ", 1, flags, offset,
                       paddr if vaddr is None else vaddr, paddr, filesz,
                       filesz if memsz is None else memsz, 0x1000)


def elf(code, segs=None, **kw):
    """An ELF64 executable: headers, then code at file offset 0x1000."""
    segs = segs or [(0x1000, RAM, len(code))]
    img = ehdr(phnum=len(segs), **kw)
    data = kw.get("data", 1)
    for off, pa, sz in segs:
        img += phdr(off, pa, sz, data=data)
    img = img.ljust(0x1000, b"\0")
    return img + code


def words(*ws):
    return b"".join(struct.pack("<I", w) for w in ws)


# --- guests ---------------------------------------------------------------
PASS = words(
    0x001002b7,     # lui   t0, 0x100          t0 = 0x100000 (finisher)
    0x00005337,     # lui   t1, 0x5
    0x5553031b,     # addiw t1, t1, 0x555      t1 = 0x5555
    0x0062a023,     # sw    t1, 0(t0)
    0x0000006f,     # j     .
)
FAIL7 = words(
    0x001002b7,     # lui   t0, 0x100
    0x00073337,     # lui   t1, 0x73           t1 = 0x73000
    0x3333031b,     # addiw t1, t1, 0x333      t1 = 0x73333 (code 7)
    0x0062a023,     # sw    t1, 0(t0)
    0x0000006f,     # j     .
)
ECALL = words(
    0x00000073,     # ecall                    mtvec = 0 at reset
)
HANDLER_LOOP = words(
    0x00001297,     # auipc t0, 0x1            t0 = 0x80001000 (zeroed RAM)
    0x30529073,     # csrw  mtvec, t0
    0x00000073,     # ecall                    -> 0x80001000: illegal, forever
)
JUMP_UNMAPPED = words(
    0x400002b7,     # lui   t0, 0x40000        t0 = 0x40000000
    0x00028067,     # jr    t0
)
SPIN = words(
    0x0000006f,     # j     .
)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    files = {}
    code = PASS
    files["pass.bin"] = PASS
    files["fail7.bin"] = FAIL7
    files["ecall.bin"] = ECALL
    files["handler-loop.bin"] = HANDLER_LOOP
    files["jump-unmapped.bin"] = JUMP_UNMAPPED
    files["spin.bin"] = SPIN
    files["pass.elf"] = elf(code)

    # ELF32: a 52-byte Elf32_Ehdr and one Elf32_Phdr
    e32 = (b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8) +
           struct.pack("<HHIIIIIHHHHHH", 2, 243, 1, RAM, 52, 0, 0, 52, 32, 1, 40, 0, 0) +
           struct.pack("<IIIIIIII", 1, 0x1000, RAM, RAM, len(code), len(code), 5, 0x1000))
    files["elf32.elf"] = e32.ljust(0x1000, b"\0") + code
    files["x86_64.elf"] = elf(b"\xf4" * 16, machine=62)          # hlt
    files["bigendian.elf"] = elf(code, data=2)
    files["outside-ram.elf"] = elf(code, segs=[(0x1000, 0x10000000, len(code))],
                                   entry=0x10000000)
    # placed for a 1 MiB guest: starts 4 KiB before the end, 8 KiB long
    big = code.ljust(0x2000, b"\0")
    files["beyond-ram.elf"] = elf(big, segs=[(0x1000, RAM + 0xff000, len(big))],
                                  entry=RAM + 0xff000)
    files["overlap.elf"] = elf(code.ljust(0x100, b"\0"),
                               segs=[(0x1000, RAM, 0x100), (0x1000, RAM + 0x80, 0x80)])
    good = elf(code)
    files["truncated.elf"] = good[:64 + 20]
    files["header-only.elf"] = good[:64]
    files["text.txt"] = (b"#!/bin/sh\n# not a kernel, just a shell script\n"
                         b"echo 'hello, world'\nexit 0\n")

    for name, blob in sorted(files.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    main()
