/* Constants shared by the assembly runtime and C (no C syntax here). */
#ifndef RT_ASM_H
#define RT_ASM_H

#define FRAME_SIZE          (32 * 8)
#define RT_ECALL_RETURN     0x676c6173  /* "glas": lower mode is done */

#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

#define MSTATUS_SIE         0x2
#define MSTATUS_MIE         0x8
#define MSTATUS_SPIE        0x20
#define MSTATUS_UBE         0x40
#define MSTATUS_MPIE        0x80
#define MSTATUS_SPP         0x100
#define MSTATUS_MPP         0x1800
#define MSTATUS_FS          0x6000
#define MSTATUS_FS_INITIAL  0x2000
#define MSTATUS_FS_CLEAN    0x4000
#define MSTATUS_FS_DIRTY    0x6000
#define MSTATUS_XS          0x18000
#define MSTATUS_MPRV        0x20000
#define MSTATUS_SUM         0x40000
#define MSTATUS_MXR         0x80000
#define MSTATUS_TVM         0x100000
#define MSTATUS_TW          0x200000
#define MSTATUS_TSR         0x400000
#define MSTATUS_UXL         0x300000000
#define MSTATUS_SXL         0xc00000000
#define MSTATUS_SBE         0x1000000000
#define MSTATUS_MBE         0x2000000000
#define MSTATUS_SD          0x8000000000000000

#endif
