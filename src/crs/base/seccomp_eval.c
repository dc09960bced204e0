/* What the program's noted seccomp filters do to a system call (seccomp_notes.h): the filters'
 * classic BPF run here on the seccomp_data the kernel would give them, as the kernel runs them
 * (kernel/seccomp.c seccomp_run_filters: every filter of the thread, newest first; the action of
 * highest precedence wins, and of equal ones the newest filter's, with its data). */
#define _GNU_SOURCE
#include "crs/base/seccomp_notes.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <string.h>

/* One filter's action for d; SECCOMP_RET_KILL_THREAD for a program the kernel would not have
 * taken (it checked it at the install: never here). */
static uint32_t run(const struct sock_filter *f, uint32_t len, const struct seccomp_data *d)
{
    uint32_t A = 0, X = 0, M[BPF_MEMWORDS];
    memset(M, 0, sizeof M);
    for (uint32_t pc = 0; pc < len; pc++) {
        const struct sock_filter *i = &f[pc];
        uint32_t k = i->k, src = BPF_SRC(i->code) == BPF_X ? X : k;
        switch (BPF_CLASS(i->code)) {
        case BPF_LD:
            if (BPF_MODE(i->code) == BPF_ABS && k <= sizeof *d - 4 && !(k & 3))
                memcpy(&A, (const char *)d + k, 4);
            else if (BPF_MODE(i->code) == BPF_IMM)
                A = k;
            else if (BPF_MODE(i->code) == BPF_MEM && k < BPF_MEMWORDS)
                A = M[k];
            else if (BPF_MODE(i->code) == BPF_LEN)
                A = sizeof *d;
            else
                return SECCOMP_RET_KILL_THREAD;
            break;
        case BPF_LDX:
            if (BPF_MODE(i->code) == BPF_IMM)
                X = k;
            else if (BPF_MODE(i->code) == BPF_MEM && k < BPF_MEMWORDS)
                X = M[k];
            else if (BPF_MODE(i->code) == BPF_LEN)
                X = sizeof *d;
            else
                return SECCOMP_RET_KILL_THREAD;
            break;
        case BPF_ST:
        case BPF_STX:
            if (k >= BPF_MEMWORDS)
                return SECCOMP_RET_KILL_THREAD;
            M[k] = BPF_CLASS(i->code) == BPF_ST ? A : X;
            break;
        case BPF_ALU:
            switch (BPF_OP(i->code)) {
            case BPF_ADD: A += src; break;
            case BPF_SUB: A -= src; break;
            case BPF_MUL: A *= src; break;
            case BPF_DIV: if (!src) return SECCOMP_RET_KILL_THREAD; A /= src; break;
            case BPF_MOD: if (!src) return SECCOMP_RET_KILL_THREAD; A %= src; break;
            case BPF_OR: A |= src; break;
            case BPF_AND: A &= src; break;
            case BPF_XOR: A ^= src; break;
            case BPF_LSH: A = src < 32 ? A << src : 0; break;
            case BPF_RSH: A = src < 32 ? A >> src : 0; break;
            case BPF_NEG: A = -A; break;
            default: return SECCOMP_RET_KILL_THREAD;
            }
            break;
        case BPF_JMP: {
            int t;
            switch (BPF_OP(i->code)) {
            case BPF_JA: pc += k; continue;
            case BPF_JEQ: t = A == src; break;
            case BPF_JGT: t = A > src; break;
            case BPF_JGE: t = A >= src; break;
            case BPF_JSET: t = (A & src) != 0; break;
            default: return SECCOMP_RET_KILL_THREAD;
            }
            pc += t ? i->jt : i->jf;
            break;
        }
        case BPF_RET:
            return BPF_RVAL(i->code) == BPF_A ? A : k;
        case BPF_MISC:
            if (BPF_MISCOP(i->code) == BPF_TAX)
                X = A;
            else
                A = X;
            break;
        default:
            return SECCOMP_RET_KILL_THREAD;
        }
    }
    return SECCOMP_RET_KILL_THREAD; /* fell off the end: the kernel refuses such a program */
}

/* The kernel's order (ACTION_ONLY): the lowest action value as a signed number wins, so
 * KILL_PROCESS (0x80000000) comes first, then KILL_THREAD (0), TRAP, ERRNO, ... ALLOW. */
static int32_t rank_of(uint32_t action)
{
    return (int32_t)(action & SECCOMP_RET_ACTION_FULL);
}

/* The AUDIT_ARCH_* the kernel puts in seccomp_data.arch for a call of this build's native ABI;
 * 0 when this file does not know it (the notes then cannot tell). */
static uint32_t native_arch(void)
{
#if defined(__x86_64__) && defined(__ILP32__)
    return 0;   /* x32: AUDIT_ARCH_X86_64 with __X32_SYSCALL_BIT in nr; not handled */
#elif defined(__x86_64__)
    return AUDIT_ARCH_X86_64;
#elif defined(__i386__)
    return AUDIT_ARCH_I386;
#elif defined(__aarch64__) && !defined(__AARCH64EB__)
    return AUDIT_ARCH_AARCH64;
#elif defined(__riscv) && __riscv_xlen == 64
    return AUDIT_ARCH_RISCV64;
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return AUDIT_ARCH_PPC64LE;
#elif defined(__s390x__)
    return AUDIT_ARCH_S390X;
#else
    return 0;
#endif
}

int crs_seccomp_mine_forbids(long nr, const uint64_t args[6], uint32_t *action)
{
    size_t n = 0;
    int inh;
    const char *why;
    const struct crs_seccomp_note *notes = crs_seccomp_notes(&inh, &n, &why);
    long mine = crs_seccomp_thread_mine().n;
    uint32_t arch = native_arch();
    if (!notes || mine <= 0 || !arch)
        return 0;
    struct seccomp_data d;
    memset(&d, 0, sizeof d);
    d.nr = (int)nr;
    d.arch = arch;
    memcpy(d.args, args, sizeof d.args);
    const struct sock_filter *insns = crs_seccomp_notes_insns();
    int worst = 0;
    uint32_t act = SECCOMP_RET_ALLOW;
    /* newest first with a strict <: on a tie the newest filter's action and data stand, as the
     * kernel's (two ERRNO filters: the call fails with the newer one's errno) */
    for (long i = (mine < (long)n ? mine : (long)n) - 1; i >= 0; i--) {
        uint32_t a = run(insns + notes[i].first, notes[i].len, &d);
        if (rank_of(a) < rank_of(act)) {
            act = a;
            worst = (int)i + 1;
        }
    }
    uint32_t full = act & SECCOMP_RET_ACTION_FULL;
    /* allowed, logged, or left to another process (a supervisor, a tracer) to decide */
    if (full == SECCOMP_RET_ALLOW || full == SECCOMP_RET_LOG || full == SECCOMP_RET_USER_NOTIF ||
        full == SECCOMP_RET_TRACE)
        return 0;
    *action = act;
    return worst;
}
