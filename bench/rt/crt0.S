/* Bare-metal entry for QEMU virt / glassbox --bios none: M-mode, a0 = hart
 * id, all harts start here.  Hart 0 runs the benchmark, others park. */
    .section .text.init, "ax", @progbits
    .globl _start
_start:
    bnez    a0, park
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      sp, __stack_top
    la      t0, trap_entry
    csrw    mtvec, t0
    /* FS = Initial so FP instructions do not trap. */
    li      t0, (1 << 13)
    csrs    mstatus, t0
    csrwi   fcsr, 0
    /* Zero .bss ourselves: not every loader guarantees it. */
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:  call    rt_main
park:
    wfi
    j       park

/* Any trap is a bug (in the kernel or the emulator): report and fail. */
    .align  2
trap_entry:
    la      sp, __stack_top
    csrr    a0, mcause
    csrr    a1, mepc
    csrr    a2, mtval
    call    rt_trap
    j       park
