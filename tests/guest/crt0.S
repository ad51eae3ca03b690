/*
 * Bare-metal start-up and trap plumbing for the guest test programs.
 * The hart starts in M-mode at 0x80000000 with a0 = hart id (QEMU virt,
 * -bios none).  Only hart 0 runs tests; any other hart parks in WFI.
 */
#include "rt_asm.h"

    .section .text.init, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    csrr    t0, mhartid
    bnez    t0, park
    la      sp, __stack_top
    la      t0, rt_mtrap_entry
    csrw    mtvec, t0
    la      t0, __mtrap_stack_top
    csrw    mscratch, t0
    /* Without a matching PMP entry S/U accesses fail: open the whole space. */
    li      t0, -1
    csrw    pmpaddr0, t0
    li      t0, 0x1f                /* NAPOT, R W X */
    csrw    pmpcfg0, t0
    /* FS=Initial so compiled C may touch FP registers. */
    li      t0, MSTATUS_FS_INITIAL
    csrs    mstatus, t0
    /* zero .bss */
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:  call    main
    call    rt_exit
park:
    wfi
    j       park

/*
 * Trap entries.  The x-scratch CSR holds the trap-stack top; swap it with sp,
 * save every GPR into a frame, call the C dispatcher with the frame, restore.
 * The C side reads/writes xepc itself.  Frame: 32 slots, slot i = xi.
 */
.macro SAVE_REGS scratch
    csrrw   sp, \scratch, sp
    addi    sp, sp, -FRAME_SIZE
    .irp r,1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sd      x\r, \r*8(sp)
    .endr
    csrr    t0, \scratch            /* interrupted sp */
    sd      t0, 2*8(sp)
    addi    t0, sp, FRAME_SIZE
    csrw    \scratch, t0            /* re-arm for the next trap */
.endm

.macro RESTORE_REGS
    .irp r,1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld      x\r, \r*8(sp)
    .endr
    ld      sp, 2*8(sp)
.endm

    .text
    .balign 4
    .globl rt_mtrap_entry
rt_mtrap_entry:
    SAVE_REGS mscratch
    mv      a0, sp
    call    rt_mtrap
    RESTORE_REGS
    mret

    .balign 4
    .globl rt_strap_entry
rt_strap_entry:
    SAVE_REGS sscratch
    mv      a0, sp
    call    rt_strap
    RESTORE_REGS
    sret

/*
 * long rt_run_in(int mode, long (*fn)(long), long arg)
 * Runs fn(arg) in mode (PRV_U or PRV_S) with the current satp/mstatus, on
 * the current stack, and returns its result.  fn returns to rt_lower_tramp,
 * which ecalls with a7 = RT_ECALL_RETURN; the M handler then calls
 * rt_resume_m(), which unwinds back here.
 */
    .globl rt_run_in
rt_run_in:
    la      t0, rt_mctx
    sd      ra, 0(t0)
    sd      sp, 8(t0)
    .irp i,0,1,2,3,4,5,6,7,8,9,10,11
    sd      s\i, (16+\i*8)(t0)
    .endr
    /* MPP = mode */
    li      t1, MSTATUS_MPP
    csrc    mstatus, t1
    slli    t1, a0, 11
    csrs    mstatus, t1
    la      t1, rt_lower_tramp
    csrw    mepc, t1
    mv      t2, a1
    mv      a0, a2
    mret
rt_lower_tramp:
    jalr    t2
    li      a7, RT_ECALL_RETURN
    ecall
1:  j       1b

/* void rt_resume_m(long val): back to rt_run_in's caller in M-mode. */
    .globl rt_resume_m
rt_resume_m:
    la      t0, rt_mctx
    ld      ra, 0(t0)
    ld      sp, 8(t0)
    .irp i,0,1,2,3,4,5,6,7,8,9,10,11
    ld      s\i, (16+\i*8)(t0)
    .endr
    ret

    .bss
    .balign 8
rt_mctx:
    .space  16 + 12*8
