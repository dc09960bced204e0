/*
 * A parked thread's own kernel state, which nothing in /proc shows and only the
 * thread itself can read or set: described into its record as it parks (fs
 * base, tid address, robust list, rseq area, name, alternate signal stack,
 * parent-death signal, securebits) and put back as it resumes after a restart
 * (with glibc's cached tid and the thread's capability sets).
 */
#define _GNU_SOURCE
#include "crs/uspace/park.h"

#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "crs/uspace/park_state.h"

#ifndef ARCH_GET_FS
#define ARCH_GET_FS 0x1003
#endif
#ifndef PR_GET_TID_ADDRESS
#define PR_GET_TID_ADDRESS 40
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#define CRS_RSEQ_SIG 0x53053053u
#define CRS_RSEQ_LEN 32u

/* Offset of the tid inside glibc's struct pthread, found at run time (0: unknown). */
size_t crs_park_tid_offset;

/* glibc keeps each thread's tid in its struct pthread and trusts it (mutex
 * owners, pthread_kill); when a restart changes ids it must be corrected. */
void crs_park_find_tid_offset(void)
{
    const pid_t tid = crs_park_my_tid();
    const unsigned char *self = (const unsigned char *)pthread_self();
    for (size_t off = 0; off < 2048; off += sizeof(pid_t)) {
        pid_t v;
        memcpy(&v, self + off, sizeof v);
        if (v == tid) {
            crs_park_tid_offset = off;
            return;
        }
    }
}

void crs_thread_describe(struct crs_rec_thread *rec)
{
    rec->tid = crs_park_my_tid();
    rec->flags = rec->tid == getpid() ? CRS_THREAD_F_MAIN : 0;
    unsigned long fs = 0;
    syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
    rec->fsbase = fs;
    unsigned long ctid = 0;
    if (prctl(PR_GET_TID_ADDRESS, &ctid, 0, 0, 0) == 0)
        rec->clear_child_tid = ctid;
    void *head = NULL;
    size_t len = 0;
    if (syscall(SYS_get_robust_list, 0, &head, &len) == 0) {
        rec->robust_list = (uint64_t)head;
        rec->robust_len = len;
    }
    if (__rseq_size > 0) {
        const struct rseq *area = (const struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
        if ((int32_t)area->cpu_id >= 0) {
            rec->rseq = (uint64_t)area;
            rec->rseq_len = CRS_RSEQ_LEN;
            rec->rseq_sig = CRS_RSEQ_SIG;
        }
    }
    prctl(PR_GET_NAME, rec->comm, 0, 0, 0);
    rec->comm[sizeof rec->comm - 1] = 0;
    stack_t ss;
    if (sigaltstack(NULL, &ss) == 0) {
        rec->altstack_sp = (uint64_t)ss.ss_sp;
        rec->altstack_size = ss.ss_size;
        rec->altstack_flags = ss.ss_flags & ~SS_ONSTACK;
    } else {
        rec->altstack_flags = SS_DISABLE;
    }
    /* the signal it gets when its parent dies (per thread; /proc does not show it) */
    int pdeath = 0;
    if (prctl(PR_GET_PDEATHSIG, &pdeath, 0, 0, 0) == 0 && pdeath > 0)
        rec->pdeathsig = (uint32_t)pdeath;
    /* its securebits (per thread too; nothing in /proc shows them) */
    int sb = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
    if (sb > 0) {
        rec->securebits = (uint32_t)sb;
        rec->flags |= CRS_THREAD_F_SECUREBITS;
    }
}

/* The image's capability sets, in the calling thread (capabilities are per
 * thread): inheritable first and the ambient ones while the restarter's
 * effective set may still raise them, then the bounding set's drops (which
 * need CAP_SETPCAP), then the effective and permitted sets. restore_check.c
 * refused a restart that cannot give them. */
static void set_caps(const struct crs_rec_thread *rec, const struct crs_restart_info *info)
{
    /* the thread's own sets when they differ from the process's (THREADCAPS) */
    uint64_t eff = info->cap_eff, prm = info->cap_prm, inh = info->cap_inh, amb = info->cap_amb,
             bnd = info->cap_bnd;
    const struct crs_rec_thread_caps *tc = (const struct crs_rec_thread_caps *)info->tcaps;
    for (uint64_t i = 0; info->caps && tc && i < info->ntcaps; i++)
        if (tc[i].tid == rec->tid) {
            eff = tc[i].eff, prm = tc[i].prm, inh = tc[i].inh, amb = tc[i].amb, bnd = tc[i].bnd;
            break;
        }
    /* every permitted one effective for the steps below (taking on the
     * image's uids cleared the effective set), then the inheritable set */
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2], was[2];
    int got = syscall(SYS_capget, &h, d) == 0;
    if (got) {
        memcpy(was, d, sizeof was);
        d[0].effective = d[0].permitted;
        d[1].effective = d[1].permitted;
        if (info->caps) {
            d[0].inheritable = (uint32_t)inh;
            d[1].inheritable = (uint32_t)(inh >> 32);
        }
        syscall(SYS_capset, &h, d);
    }
    if (info->caps) {
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        for (unsigned c = 0; c < 64; c++)
            if ((amb >> c) & 1)
                prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
        for (unsigned c = 0; c < 64; c++)
            if (!((bnd >> c) & 1) && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
                prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
    }
    /* securebits after the ambient raises (SECBIT_NO_CAP_AMBIENT_RAISE would
     * refuse them) and while CAP_SETPCAP is still held (restore_check.c);
     * they set SECBIT_KEEP_CAPS as the image had it, so the restart's
     * PR_SET_KEEPCAPS needs no clearing then */
    int has_sb = (rec->flags & CRS_THREAD_F_SECUREBITS) != 0;
    if (has_sb && prctl(PR_GET_SECUREBITS, 0, 0, 0, 0) != (int)rec->securebits)
        prctl(PR_SET_SECUREBITS, (unsigned long)rec->securebits, 0, 0, 0);
    if (info->caps) {
        d[0] = (struct __user_cap_data_struct){ (uint32_t)eff, (uint32_t)prm, (uint32_t)inh };
        d[1] = (struct __user_cap_data_struct){ (uint32_t)(eff >> 32), (uint32_t)(prm >> 32), (uint32_t)(inh >> 32) };
        syscall(SYS_capset, &h, d);
    } else if (got) {
        syscall(SYS_capset, &h, was);   /* the effective set as it was */
    }
    if (info->keepcaps && !has_sb)
        prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
}

/* 1 when every page of the thread's alternate signal stack is mapped (mincore: no write, the
 * thread may be parked on that stack). A stack in memory the image left out (a capture filter's:
 * the MPI layer's lower half, where UCX gives the thread that loads it one) is gone after a
 * restart, and the first signal with SA_ONSTACK would kill the process there (diffrev50 R-M2). */
static int altstack_mapped(uint64_t sp, uint64_t size)
{
    unsigned char vec[256];
    uint64_t lo = sp & ~4095ull, hi = (sp + size + 4095) & ~4095ull;
    while (lo < hi) {
        uint64_t n = (hi - lo) / 4096 < sizeof vec ? hi - lo : sizeof vec * 4096ull;
        if (mincore((void *)lo, n, vec) != 0)
            return 0;
        lo += n;
    }
    return 1;
}

/* A fresh stack of the same size in the gone one's place (the thread had one: a handler with
 * SA_ONSTACK, a stack overflow's SIGSEGV among them, runs on it as before). Fresh memory at the
 * gone stack's own address first: every record of the stack still names it (the frame of a
 * signal handler the thread was inside when it parked, without SA_ONSTACK: its return sets the
 * alternate stack the frame holds; the checkpointing thread's; the program's or the library's own
 * note of the stack, as a runtime that compares sigaltstack() with it), and the memory is made
 * once, where the image's stack was, not once more at every restart. Elsewhere only when that
 * place is taken (MAP_FIXED_NOREPLACE: EEXIST; a kernel before 4.17 takes it as a hint). Before
 * session 52 always elsewhere: a thread parked inside such a handler got the gone stack back at
 * its return, and the next SA_ONSTACK signal killed it (tests/crs/uspace/altstack_lost). */
static void altstack_fresh(stack_t *ss)
{
    /* page by page, the pages that are not mapped (another thread's stack may share one, mapped
     * again for that thread already) */
    uintptr_t lo = (uintptr_t)ss->ss_sp & ~(uintptr_t)4095;
    uintptr_t hi = ((uintptr_t)ss->ss_sp + ss->ss_size + 4095) & ~(uintptr_t)4095;
    int placed = 1;
    for (uintptr_t a = lo; a < hi && placed; a += 4096) {
        unsigned char v;
        if (mincore((void *)a, 4096, &v) == 0)
            continue;
        void *p = mmap((void *)a, 4096, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (p != (void *)a) {
            if (p != MAP_FAILED)
                munmap(p, 4096); /* elsewhere: the hint not taken */
            placed = 0;
        }
    }
    if (placed)
        return; /* the same stack_t, now mapped */
    void *p = mmap(NULL, ss->ss_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        ss->ss_flags = SS_DISABLE; /* none rather than one that kills */
        return;
    }
    ss->ss_sp = p;
}

void crs_thread_altstack_check(void)
{
    stack_t ss;
    if (sigaltstack(NULL, &ss) != 0 || (ss.ss_flags & (SS_DISABLE | SS_ONSTACK)) || !ss.ss_size ||
        altstack_mapped((uint64_t)ss.ss_sp, ss.ss_size))
        return;
    ss.ss_flags = 0;
    altstack_fresh(&ss);
    sigaltstack(&ss, NULL);
}

void crs_thread_reinstate(const struct crs_rec_thread *rec, const struct crs_restart_info *info)
{
    if (info->ids_changed && crs_park_tid_offset) {
        pid_t tid = crs_park_my_tid();
        memcpy((char *)pthread_self() + crs_park_tid_offset, &tid, sizeof tid);
    }
    if (rec->comm[0])
        prctl(PR_SET_NAME, rec->comm, 0, 0, 0);
    if (info->caps || (rec->flags & CRS_THREAD_F_SECUREBITS))
        set_caps(rec, info);
    if (rec->pdeathsig)   /* its parent now: the restarter's process, or the tree's parent member */
        prctl(PR_SET_PDEATHSIG, (unsigned long)rec->pdeathsig, 0, 0, 0);
    if (rec->robust_list)
        syscall(SYS_set_robust_list, (void *)rec->robust_list, (size_t)rec->robust_len);
    if (rec->rseq)
        syscall(SYS_rseq, (void *)rec->rseq, rec->rseq_len, 0, rec->rseq_sig);
    if (!(rec->altstack_flags & SS_DISABLE) && rec->altstack_size) {
        stack_t ss = { .ss_sp = (void *)rec->altstack_sp, .ss_size = rec->altstack_size,
                       .ss_flags = rec->altstack_flags };
        if (!altstack_mapped(rec->altstack_sp, rec->altstack_size))
            altstack_fresh(&ss);
        sigaltstack(&ss, NULL);
    }
}
