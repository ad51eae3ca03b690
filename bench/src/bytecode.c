/* A small stack-machine interpreter (switch dispatch) running a
 * loop-heavy bytecode program: Collatz trajectory lengths for 1..LIMIT,
 * histogrammed into VM data memory.  Indirect branches and unpredictable
 * control flow, like any interpreter's inner loop. */
#include "bench.h"

#define LIMIT     18000
#define STACK_MAX 64
#define MEM_WORDS 256
#define CODE_MAX  128
#define LABEL_MAX 16

const char bench_name[] = "bytecode";

enum op {
    OP_HALT, OP_PUSH, OP_LOAD, OP_STORE, OP_INC, OP_DUP, OP_DROP,
    OP_ADD, OP_SUB, OP_MUL, OP_AND, OP_XOR, OP_SHRI, OP_SHLI,
    OP_EQ, OP_LT, OP_JMP, OP_JZ, OP_JNZ, OP_LOADM, OP_STOREM,
};

/* One 32-bit word per instruction: opcode in bits 0-7, signed argument
 * (immediate, local slot or jump target) in bits 8-31. */
#define INSN(op, arg) ((uint32_t)(op) | (uint32_t)(arg) << 8)
#define ARG(w)        ((int32_t)(w) >> 8)

struct vm {
    int64_t stack[STACK_MAX];
    int64_t locals[8];
    int64_t mem[MEM_WORDS];
    uint64_t executed;
};

/* Tiny assembler with forward labels, so the program reads like source. */
struct asm_state {
    uint32_t code[CODE_MAX];
    int len;
    int label_at[LABEL_MAX];
    int fix_at[CODE_MAX], fix_label[CODE_MAX], nfix;
};

static void emit(struct asm_state *a, enum op op, int32_t arg)
{
    if (a->len >= CODE_MAX)
        bench_fail("bytecode program too long");
    a->code[a->len++] = INSN(op, arg);
}

static void emit_jump(struct asm_state *a, enum op op, int label)
{
    a->fix_at[a->nfix] = a->len;
    a->fix_label[a->nfix++] = label;
    emit(a, op, 0);
}

static void place(struct asm_state *a, int label)
{
    a->label_at[label] = a->len;
}

static void link_labels(struct asm_state *a)
{
    for (int i = 0; i < a->nfix; i++)
        a->code[a->fix_at[i]] |= (uint32_t)a->label_at[a->fix_label[i]] << 8;
}

enum { L_OUTER, L_INNER, L_EVEN, L_NEXT, L_DONE };
enum { V_I, V_N, V_STEPS, V_TOTAL };

static void assemble(struct asm_state *a)
{
    memset(a, 0, sizeof *a);
    emit(a, OP_PUSH, 1);
    emit(a, OP_STORE, V_I);
    place(a, L_OUTER);                 /* n = i; steps = 0 */
    emit(a, OP_LOAD, V_I);
    emit(a, OP_STORE, V_N);
    emit(a, OP_PUSH, 0);
    emit(a, OP_STORE, V_STEPS);
    place(a, L_INNER);                 /* while (n != 1) */
    emit(a, OP_LOAD, V_N);
    emit(a, OP_PUSH, 1);
    emit(a, OP_EQ, 0);
    emit_jump(a, OP_JNZ, L_DONE);
    emit(a, OP_LOAD, V_N);             /* if (n & 1) n = 3n + 1 */
    emit(a, OP_PUSH, 1);
    emit(a, OP_AND, 0);
    emit_jump(a, OP_JZ, L_EVEN);
    emit(a, OP_LOAD, V_N);
    emit(a, OP_PUSH, 3);
    emit(a, OP_MUL, 0);
    emit(a, OP_PUSH, 1);
    emit(a, OP_ADD, 0);
    emit(a, OP_STORE, V_N);
    emit_jump(a, OP_JMP, L_NEXT);
    place(a, L_EVEN);                  /* else n >>= 1 */
    emit(a, OP_LOAD, V_N);
    emit(a, OP_SHRI, 1);
    emit(a, OP_STORE, V_N);
    place(a, L_NEXT);
    emit(a, OP_INC, V_STEPS);
    emit_jump(a, OP_JMP, L_INNER);
    place(a, L_DONE);                  /* mem[i & 255] += steps */
    emit(a, OP_LOAD, V_I);
    emit(a, OP_PUSH, MEM_WORDS - 1);
    emit(a, OP_AND, 0);
    emit(a, OP_DUP, 0);
    emit(a, OP_LOADM, 0);
    emit(a, OP_LOAD, V_STEPS);
    emit(a, OP_ADD, 0);
    emit(a, OP_STOREM, 0);
    emit(a, OP_LOAD, V_TOTAL);         /* total = (total << 5) - total ^ steps */
    emit(a, OP_SHLI, 5);
    emit(a, OP_LOAD, V_TOTAL);
    emit(a, OP_SUB, 0);
    emit(a, OP_LOAD, V_STEPS);
    emit(a, OP_XOR, 0);
    emit(a, OP_STORE, V_TOTAL);
    emit(a, OP_INC, V_I);              /* while (++i < LIMIT) */
    emit(a, OP_LOAD, V_I);
    emit(a, OP_PUSH, LIMIT);
    emit(a, OP_LT, 0);
    emit_jump(a, OP_JNZ, L_OUTER);
    emit(a, OP_HALT, 0);
    link_labels(a);
}

static void vm_run(struct vm *vm, const uint32_t *code, int code_len)
{
    int64_t *sp = vm->stack;  /* points at the next free slot */
    int pc = 0;
    uint64_t executed = 0;

    for (;;) {
        if ((unsigned)pc >= (unsigned)code_len)
            bench_fail("bytecode pc out of range");
        uint32_t w = code[pc++];
        executed++;
        switch ((enum op)(w & 0xff)) {
        case OP_HALT:
            vm->executed = executed;
            return;
        case OP_PUSH:
            *sp++ = ARG(w);
            break;
        case OP_LOAD:
            *sp++ = vm->locals[ARG(w) & 7];
            break;
        case OP_STORE:
            vm->locals[ARG(w) & 7] = *--sp;
            break;
        case OP_INC:
            vm->locals[ARG(w) & 7]++;
            break;
        case OP_DUP:
            sp[0] = sp[-1];
            sp++;
            break;
        case OP_DROP:
            sp--;
            break;
        /* Arithmetic in uint64_t: wraparound is the defined semantics. */
        case OP_ADD:
            sp--;
            sp[-1] = (int64_t)((uint64_t)sp[-1] + (uint64_t)sp[0]);
            break;
        case OP_SUB:
            sp--;
            sp[-1] = (int64_t)((uint64_t)sp[-1] - (uint64_t)sp[0]);
            break;
        case OP_MUL:
            sp--;
            sp[-1] = (int64_t)((uint64_t)sp[-1] * (uint64_t)sp[0]);
            break;
        case OP_AND:
            sp--;
            sp[-1] &= sp[0];
            break;
        case OP_XOR:
            sp--;
            sp[-1] ^= sp[0];
            break;
        case OP_SHRI:
            sp[-1] = (int64_t)((uint64_t)sp[-1] >> (ARG(w) & 63));
            break;
        case OP_SHLI:
            sp[-1] = (int64_t)((uint64_t)sp[-1] << (ARG(w) & 63));
            break;
        case OP_EQ:
            sp--;
            sp[-1] = sp[-1] == sp[0];
            break;
        case OP_LT:
            sp--;
            sp[-1] = sp[-1] < sp[0];
            break;
        case OP_JMP:
            pc = ARG(w);
            break;
        case OP_JZ:
            if (*--sp == 0)
                pc = ARG(w);
            break;
        case OP_JNZ:
            if (*--sp != 0)
                pc = ARG(w);
            break;
        case OP_LOADM:
            sp[-1] = vm->mem[(uint64_t)sp[-1] % MEM_WORDS];
            break;
        case OP_STOREM:
            sp -= 2;
            vm->mem[(uint64_t)sp[0] % MEM_WORDS] = sp[1];
            break;
        default:
            bench_fail("bad opcode");
        }
        if (sp < vm->stack || sp > vm->stack + STACK_MAX - 2)
            bench_fail("bytecode stack out of range");
    }
}

uint64_t bench_main(void)
{
    static struct asm_state prog;
    static struct vm vm;
    uint64_t sum;

    assemble(&prog);
    memset(&vm, 0, sizeof vm);
    vm_run(&vm, prog.code, prog.len);

    sum = mix64((uint64_t)vm.locals[V_TOTAL], vm.executed);
    for (int i = 0; i < MEM_WORDS; i++)
        sum = mix64(sum, (uint64_t)vm.mem[i]);
    return sum;
}
