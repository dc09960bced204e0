/* What the program's noted seccomp filters do to a system call (seccomp_notes.h): the filters'
 * classic BPF run here on the seccomp_data the kernel would give them, as the kernel runs them
 * (every filter of the thread, the action of highest precedence wins). */
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

/* The kernel's order: the lowest action value wins, KILL_PROCESS first (its value as signed). */
static int rank_of(uint32_t action)
{
    uint32_t a = action & SECCOMP_RET_ACTION_FULL;
    return a == SECCOMP_RET_KILL_PROCESS ? -1 : (int)(a >> 16);
}

int crs_seccomp_mine_forbids(long nr, const uint64_t args[6], uint32_t *action)
{
    size_t n = 0;
    int inh;
    const char *why;
    const struct crs_seccomp_note *notes = crs_seccomp_notes(&inh, &n, &why);
    long mine = crs_seccomp_thread_mine().n;
    if (!notes || mine <= 0)
        return 0;
    struct seccomp_data d;
    memset(&d, 0, sizeof d);
    d.nr = (int)nr;
    d.arch = AUDIT_ARCH_X86_64;
    memcpy(d.args, args, sizeof d.args);
    const struct sock_filter *insns = crs_seccomp_notes_insns();
    int worst = 0;
    uint32_t act = SECCOMP_RET_ALLOW;
    for (long i = 0; i < mine && (size_t)i < n; i++) {
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
