/*
 * Threads inside execve: the park signal is never sent to one (see execing
 * below). A thread marks itself in crs_park_exec_enter, waiting out a round
 * that is on, and clears its mark in crs_park_exec_leave; crs_park_all leaves
 * a marked thread unsignalled (is_execing).
 */
#define _GNU_SOURCE
#include "crs/uspace/park.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "crs/base/component.h"
#include "crs/uspace/park_state.h"

/* Threads inside execve (crs_park_exec_enter until exec_leave): the park
 * signal is never sent to one. A signal the kernel holds for a thread when
 * its execve succeeds stays pending in the new program, whose handler is
 * the default one (terminate) until its libcr, if any, puts ours in: the
 * program died of it (signal 62, status 0x3e) when a checkpoint caught a
 * shell's child between fork and exec. Each slot holds a tid or 0; the
 * thread stores its tid, then looks whether a round is on, while the
 * parking thread stores PHASE_PARKING, then looks at the slots (both
 * sequentially consistent), so at least one of them sees the other.
 * (CRS_MAX_EXECING is in park_state.h.) */
_Atomic pid_t crs_park_execing[CRS_MAX_EXECING];

/* A vfork child runs on its parent's thread (same memory and thread
 * descriptor) but is a process of its own that no park reaches: glibc's
 * cached tid is still the parent thread's there. */
static int in_vfork_child(void)
{
    pid_t cached;
    if (!crs_park_tid_offset)
        return 0;
    memcpy(&cached, (const char *)pthread_self() + crs_park_tid_offset, sizeof cached);
    return cached != crs_park_my_tid();
}

void crs_park_exec_enter(struct crs_exec_guard *g)
{
    g->slot = -1;
    g->blocked = 0;
    int sig = crs_park_park_sig;
    if (sig <= 0 || in_vfork_child())
        return;
    uint64_t one = 1ull << (sig - 1);
    pid_t me = crs_park_my_tid();
    for (;;) {
        syscall(SYS_rt_sigprocmask, SIG_BLOCK, &one, &g->mask, 8);
        g->blocked = 1;
        int k = -1;
        for (int i = 0; i < CRS_MAX_EXECING && k < 0; i++) {
            pid_t free_slot = 0;
            if (atomic_compare_exchange_strong(&crs_park_execing[i], &free_slot, me))
                k = i;
        }
        if (k >= 0 && !crs_park_round_ours()) {
            /* No round is on, and none signals us before exec_leave. A park
             * signal still pending is an old round's, which its handler
             * would drop (not parking): dropped here instead of being left
             * to the new program. */
            struct timespec zero = { 0, 0 };
            while (syscall(SYS_rt_sigtimedwait, &one, NULL, &zero, 8) == sig)
                ;
            g->slot = k;
            return;
        }
        /* A round is on (or every slot is taken): out of the way, unblocked,
         * so that the round parks us; then again. */
        if (k >= 0)
            atomic_store(&crs_park_execing[k], 0);
        syscall(SYS_rt_sigprocmask, SIG_SETMASK, &g->mask, NULL, 8);
        g->blocked = 0;
        uint32_t gen = atomic_load(&crs_park_release_gen);
        if (crs_park_round_ours())
            crs_park_futex_wait(&crs_park_release_gen, gen, 10);
        else if (k < 0) {
            struct timespec ts = { 0, 1000000L };
            nanosleep(&ts, NULL);
        }
    }
}

void crs_park_exec_leave(const struct crs_exec_guard *g)
{
    if (g->slot >= 0 && g->slot < CRS_MAX_EXECING)
        atomic_store(&crs_park_execing[g->slot], 0);
    /* a park signal sent from here on (or held while blocked) parks us */
    if (g->blocked)
        syscall(SYS_rt_sigprocmask, SIG_SETMASK, &g->mask, NULL, 8);
}

int crs_park_is_execing(pid_t tid)
{
    for (int i = 0; i < CRS_MAX_EXECING; i++)
        if (atomic_load(&crs_park_execing[i]) == tid)
            return 1;
    return 0;
}

/* Slots of threads that are not ours (any more): none should be (a forked
 * child clears the table, vfork children take none), but a slot left so
 * would hold every round up until its timeout. */
void crs_park_forget_foreign_execing(void)
{
    pid_t pid = getpid();
    for (int i = 0; i < CRS_MAX_EXECING; i++) {
        pid_t t = atomic_load(&crs_park_execing[i]);
        if (t && syscall(SYS_tgkill, pid, t, 0) != 0 && errno == ESRCH)
            atomic_compare_exchange_strong(&crs_park_execing[i], &t, 0);
    }
}
