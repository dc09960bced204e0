/*
 * A thread's park (park.h): the handler of the park signal saves the thread's
 * context and record and sleeps until the release, the same whether it then
 * runs on or was restarted from an image; a thread in a park-deferral section
 * parks as it leaves it (park_late); the release, holding some threads
 * parked; the parked threads' records. This file owns the round's state that
 * the other park files share (park_state.h): park_stop.c stops the threads,
 * park_sigqueue.c takes their own queued signals, park_exec.c keeps the
 * signal from threads inside execve, park_thread.c describes and puts back
 * each thread's own kernel state.
 */
#define _GNU_SOURCE
#include "crs/uspace/park.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "crs/base/capture_filter.h"
#include "crs/base/seccomp_notes.h"
#include "crs/uspace/cpu_context.h"
#include "crs/uspace/park_sleep.h"
#include "crs/uspace/cpu_clocks.h"
#include "crs/uspace/park_state.h"
#include "crs/uspace/seccomp_restore.h"
#include "crs/uspace/thread_attr.h"

int crs_park_park_sig;
_Atomic int crs_park_phase;
_Atomic uint32_t crs_park_nslots, crs_park_nparked, crs_park_release_gen, crs_park_nrestored;
/* Each crs_park_all is a round; threads inside a park-deferral section note
 * theirs and park when they leave it (capture_filter.h). */
_Atomic uint32_t crs_park_park_round;
_Atomic pid_t crs_park_round_pid;
pid_t crs_park_deferring[CRS_MAX_THREADS];
/* 1: that thread deferred inside a call that may wait (a SEM_UNDO semop,
 * crs_park_call_begin): a park signal that came just before the call could
 * not interrupt it, so the park sends it again while it waits (nudge). */
unsigned char crs_park_deferring_call[CRS_MAX_THREADS];
_Atomic uint32_t crs_park_ndeferring;
struct crs_rec_thread *crs_park_slots[CRS_MAX_THREADS];
/* each parked thread's attributes, beside its record on its stack */
struct crs_rec_thread_attr *crs_park_attr_slots[CRS_MAX_THREADS];
/* After a restart, each parked thread's id now (slot by slot). */
pid_t crs_park_tids_now[CRS_MAX_THREADS];
static pid_t self_old, self_now;
/* Whether the main thread parked this round (it queues mq's signals again). */
_Atomic int crs_park_main_parked;

static int (*park_hook)(void);
/* The park handler's frame of this thread while the handler runs (else NULL). Its return
 * (rt_sigreturn) sets the thread's alternate signal stack to the one the frame holds: the stack
 * the thread had when the park signal came. After a restart that stack may be gone (memory the
 * image left out: UCX's, in the MPI layer's lower half), so the thread's stack as
 * crs_thread_altstack_check leaves it is written into the frame. Without it the handler's return
 * gave the dead stack back and the next SA_ONSTACK signal killed the thread (a forced SIGSEGV:
 * tests/mpi/ckpt/sig_ctor-ompi-ucx). */
static __thread ucontext_t *t_park_frame __attribute__((tls_model("initial-exec")));

/* Threads kept parked after a release (crs_park_release_holding): held[i] for slot i, set by
 * the releasing thread before the release; each held thread sleeps on `holding` in its park
 * handler, signals blocked, until crs_park_unhold. */
static unsigned char held[CRS_MAX_THREADS];
static _Atomic uint32_t holding;

static long futex(_Atomic uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
    return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

void crs_park_futex_wait(_Atomic uint32_t *addr, uint32_t val, long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    futex(addr, FUTEX_WAIT_PRIVATE, val, ms >= 0 ? &ts : NULL);
}

void crs_park_futex_wake(_Atomic uint32_t *addr)
{
    futex(addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
}

pid_t crs_park_my_tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

/* Parks the calling thread; `mask`: its signal mask outside the handler
 * (recorded for cr_info), or NULL. */
static int park_here_mask(const void *mask)
{
    struct crs_rec_thread rec;
    struct crs_rec_thread_attr attr;
    memset(&rec, 0, sizeof rec);
    crs_park_take_own_queue();
    crs_thread_describe(&rec);
    crs_thread_attr_describe(&attr);
    rec.record = (uint64_t)&rec;
    if (mask)
        memcpy(&rec.blocked, mask, sizeof rec.blocked);
    crs_cpu_park_note(); /* the CPU times it could have seen: a restart goes on from them */
    pid_t me = crs_park_my_tid();
    if (me == getpid())
        atomic_store(&crs_park_main_parked, 1);
    uint32_t idx = atomic_fetch_add(&crs_park_nslots, 1);
    if (idx >= CRS_MAX_THREADS)
        return 0; /* crs_park_all notices the missing thread and gives up */
    crs_park_attr_slots[idx] = &attr;
    crs_park_slots[idx] = &rec;
    long r = crs_ctx_save(&rec.ctx);
    uint32_t gen = atomic_load(&crs_park_release_gen);
    if (r == 0) {
        atomic_fetch_add(&crs_park_nparked, 1);
        crs_park_futex_wake(&crs_park_nparked);
    } else {
        crs_thread_reinstate(&rec, (const struct crs_restart_info *)r);
        crs_thread_attr_reinstate(&attr);
        crs_cpu_thread_restarted();
        crs_park_call_restarted();
        crs_park_tids_now[idx] = crs_park_my_tid();
        atomic_fetch_add(&crs_park_nrestored, 1);
        crs_park_futex_wake(&crs_park_nrestored);
    }
    while (atomic_load(&crs_park_release_gen) == gen)
        crs_park_futex_wait(&crs_park_release_gen, gen, -1);
    if (r != 0) {
        crs_thread_altstack_check();
        if (t_park_frame)
            sigaltstack(NULL, &t_park_frame->uc_stack);
    }
    /* After a restart: the signals queued to this thread alone that only it
     * may queue again with their sender (the restart left them to us). */
    if (r != 0)
        crs_park_requeue_own(rec.tid);
    /* signals only we may queue with their sender: again in the process
     * that runs on; a restarted one got them from its image */
    if (me == getpid() || (r != 0 && crs_park_my_tid() == getpid())) {
        if (r == 0)
            crs_park_drain_mq(0);
        else
            atomic_store(&crs_park_nmq, 0);
    }
    if (held[idx]) {
        held[idx] = 0;
        while (atomic_load(&holding))
            crs_park_futex_wait(&holding, 1, -1);
    }
    if (r != 0)
        crs_seccomp_restore_own(&attr);   /* last: the rest of its seccomp filters */
    return r != 0;
}

int crs_park_here(void)
{
    return park_here_mask(NULL);
}

int crs_park_is_deferring(pid_t tid)
{
    uint32_t n = atomic_load(&crs_park_ndeferring);
    for (uint32_t i = 0; i < n && i < CRS_MAX_THREADS; i++)
        if (crs_park_deferring[i] == tid)
            return 1;
    return 0;
}

int crs_park_round_ours(void)
{
    return atomic_load(&crs_park_phase) == PHASE_PARKING && atomic_load(&crs_park_round_pid) == getpid();
}

/* A thread that deferred its park leaves its section: parks now, as in the
 * handler (every signal blocked, signal-context callbacks first), if the
 * checkpoint of that round still waits. The deferral may be a copy: a park
 * signal that came while the thread forked (libcr's prepare handler enters a
 * park-deferral section that lasts until the fork is done) left its note in
 * the thread's memory, which the child copies with the round's state. The
 * child leaves that section in its first fork handler, before it has a
 * checkpoint thread of its own (or never gets one: _Fork): parked there in
 * its parent's round, nobody ever released it, every signal blocked, and its
 * parent waited for it for ever (crs_forkpark.sh). Only a round of this very
 * process parks it (getpid: a system call, as in a handler). */
static void park_late(uint32_t round)
{
    if (!crs_park_round_ours() || atomic_load(&crs_park_park_round) != round)
        return;
    uint64_t all = ~0ull, old = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, 8);
    int saved_errno = errno;
    int (*hook)(void) = park_hook;
    if (!hook || !hook())
        park_here_mask(&old);
    crs_park_call_signals(old, crs_park_park_sig);
    errno = saved_errno;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
}

static void park_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    int saved_errno = errno;
    if (si->si_code == SI_TKILL && atomic_load(&crs_park_phase) == PHASE_PARKING) {
        int restarted = 0;
        /* our signal is invisible to the application: a wait it interrupted goes on */
        struct crs_sleep_call call;
        crs_sleep_note(ucv, &call);
        int in_call = crs_park_call_inside();
        if (in_call) {   /* libcr's wrapper makes the call again */
            call.restartable = 0;
            if (call.interrupted)
                crs_park_call_interrupted();
        }
        if (crs_park_defer_note(atomic_load(&crs_park_park_round))) {
            pid_t me = crs_park_my_tid();
            if (!crs_park_is_deferring(me)) {
                uint32_t i = atomic_fetch_add(&crs_park_ndeferring, 1);
                if (i < CRS_MAX_THREADS) {
                    crs_park_deferring_call[i] = (unsigned char)in_call;
                    crs_park_deferring[i] = me;
                }
            }
        } else {
            ucontext_t *outer = t_park_frame;
            t_park_frame = ucv;
            int (*hook)(void) = park_hook;
            if (!hook || !hook())
                restarted = park_here_mask(&((ucontext_t *)ucv)->uc_sigmask);
            t_park_frame = outer;
        }
        uint64_t mask;
        memcpy(&mask, &((ucontext_t *)ucv)->uc_sigmask, sizeof mask);
        crs_park_call_signals(mask, crs_park_park_sig);
        crs_sleep_resume(ucv, &call, restarted);
    }
    errno = saved_errno;
}

void crs_park_set_hook(int (*hook)(void))
{
    park_hook = hook;
}

int crs_park_init(int sig)
{
    /* No park signal while the handler goes in: libcr's sigaction guard
     * refuses handlers for the park signal once it is known. */
    crs_park_park_sig = 0;
    /* A forked child starts here again (libcr's fork handler) with a copy of
     * its parent's memory: a fork that slipped in while the parent was
     * parking its threads left the round on in the copy, where no thread
     * would ever end it (a thread entering execve waited for it), and the
     * marks of the parent's threads inside execve */
    atomic_store(&crs_park_phase, PHASE_IDLE);
    for (int i = 0; i < CRS_MAX_EXECING; i++)
        atomic_store(&crs_park_execing[i], 0);
    crs_park_find_tid_offset();
    crs_park_defer_init(park_late);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = park_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0)
        return -errno;
    crs_park_park_sig = sig;
    return 0;
}

int crs_park_signal(void)
{
    return crs_park_park_sig;
}

void crs_park_set_self_tids(pid_t old, pid_t now)
{
    self_old = old;
    self_now = now;
}

pid_t crs_park_tid_now(pid_t old)
{
    if (old == self_old && self_now)
        return self_now;
    /* A slot points into its thread's stack. A thread the image left out (an MPI rank's
     * lower-half threads: their stacks are not in it) was not restored (tids_now 0) and its
     * stack is not mapped: tids_now first, or a SIGEV_THREAD_ID timer's restore read there and
     * every restarted rank with a SIGEV_THREAD timer died of SIGSEGV (review13 HIGH-10). */
    uint32_t ns = atomic_load(&crs_park_nslots);
    for (uint32_t i = 0; i < ns && i < CRS_MAX_THREADS; i++)
        if (crs_park_tids_now[i] && crs_park_slots[i] && crs_park_slots[i]->tid == old)
            return crs_park_tids_now[i];
    return old;
}

int crs_park_restored(size_t i)
{
    return i < CRS_MAX_THREADS && crs_park_tids_now[i] != 0;
}

struct crs_rec_thread_attr *crs_park_attr(size_t i)
{
    return i < CRS_MAX_THREADS ? crs_park_attr_slots[i] : NULL;
}

struct crs_rec_thread *const *crs_park_records(size_t *n)
{
    uint32_t ns = atomic_load(&crs_park_nslots);
    *n = ns < CRS_MAX_THREADS ? ns : CRS_MAX_THREADS;
    return crs_park_slots;
}

void crs_park_release_holding(int (*hold)(void *arg, pid_t tid), void *arg)
{
    uint32_t ns = atomic_load(&crs_park_nslots);
    int any = 0;
    for (uint32_t i = 0; i < ns && i < CRS_MAX_THREADS; i++) {
        held[i] = crs_park_slots[i] && hold(arg, crs_park_slots[i]->tid);
        any |= held[i];
    }
    if (any)
        atomic_store(&holding, 1);
    crs_park_release();
}

void crs_park_release_restarted(int (*hold)(void *arg, pid_t tid), void *arg)
{
    crs_cpu_restarted(); /* every thread is back, none runs on yet */
    /* held[] came back with the image: every slot is decided again */
    uint32_t ns = atomic_load(&crs_park_nslots);
    int any = 0;
    for (uint32_t i = 0; i < ns && i < CRS_MAX_THREADS; i++) {
        held[i] = hold && crs_park_slots[i] && crs_park_tids_now[i] && hold(arg, crs_park_tids_now[i]);
        /* none runs on before the seccomp filters that wait for the unhold went in */
        held[i] |= crs_park_slots[i] && crs_park_tids_now[i] && crs_seccomp_restore_waiting();
        any |= held[i];
    }
    if (any)
        atomic_store(&holding, 1);
    crs_park_release();
}

void crs_park_unhold(void)
{
    crs_seccomp_restore_late();   /* first: the held threads take theirs as they run on */
    atomic_store(&holding, 0);
    crs_park_futex_wake(&holding);
}

void crs_park_release(void)
{
    if (!atomic_load(&crs_park_main_parked))
        crs_park_drain_mq(1);   /* no main thread to queue them with their senders */
    atomic_store(&crs_park_phase, PHASE_IDLE);
    atomic_fetch_add(&crs_park_release_gen, 1);
    crs_park_futex_wake(&crs_park_release_gen);
}

void crs_park_wait_restored(size_t n)
{
    for (;;) {
        uint32_t v = atomic_load(&crs_park_nrestored);
        if (v >= n)
            return;
        crs_park_futex_wait(&crs_park_nrestored, v, 100);
    }
}
