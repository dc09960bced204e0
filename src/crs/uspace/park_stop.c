/*
 * The checkpoint thread's side of a park: crs_park_all signals every other
 * thread of the process (again as new ones appear; never one inside execve),
 * waits until each has parked and sleeps, and explains one that does not (a
 * thread that blocks the park signal, one inside a deferring section); with
 * the ids /proc gives those threads inside a pid namespace of their own.
 */
#define _GNU_SOURCE
#include "crs/uspace/park.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "crs/base/hooks.h"
#include "crs/base/seccomp_notes.h"
#include "crs/uspace/park_state.h"
#include "common/clock.h"
#include "common/procfs.h"

static pid_t signaled[CRS_MAX_THREADS];
/* /proc is mounted for the outer pid namespace: in a restarted process that
 * runs in a namespace of its own, /proc/self/task lists outer ids while
 * system calls take inner ones. */
static pid_t signaled_outer[CRS_MAX_THREADS];

static int nested_pid_namespace(void)
{
    pid_t outer = revive_proc_self_pid();
    return outer > 0 && outer != getpid();
}

/* The id in our own namespace of the task /proc calls `outer`: the last of its NSpid ids. */
static pid_t inner_tid(pid_t outer)
{
    char buf[4096];
    int64_t ids[40]; /* a pid namespace is at most 32 deep */
    long len = revive_proc_read(0, outer, "status", buf, sizeof buf);
    if (len < 0 && len != -ENOSPC) /* -ENOSPC: the beginning, where NSpid is, is there */
        return -1;
    int n = revive_status_ids(buf, "NSpid", ids, 40);
    if (n <= 0)
        return outer;
    return n <= 40 ? (pid_t)ids[n - 1] : -1;
}

pid_t crs_park_proc_tid(pid_t tid)
{
    for (int i = 0; i < CRS_MAX_THREADS && signaled[i]; i++)
        if (signaled[i] == tid)
            return signaled_outer[i];
    return tid;
}

pid_t crs_park_inner_tid(pid_t outer)
{
    if (!nested_pid_namespace())
        return outer;
    pid_t t = inner_tid(outer);
    return t > 0 ? t : outer;
}

struct signal_walk {
    long nsig;
    pid_t self;
    int nested;
    pid_t execing;   /* a thread left unsignalled because it is inside execve */
};

static long signal_one(long n, int dirfd, void *arg)
{
    (void)dirfd;
    struct signal_walk *sw = arg;
    pid_t outer = (pid_t)n, tid = outer;
    if (sw->nested && (tid = inner_tid(outer)) < 0)
        return 0;
    if (tid == sw->self)
        return 0;
    if (crs_park_is_execing(tid)) {
        sw->execing = tid;   /* signalled once it is out of execve (or gone with us) */
        return 0;
    }
    for (long i = 0; i < sw->nsig; i++)
        if (signaled[i] == tid)
            return 0;
    if (sw->nsig == CRS_MAX_THREADS)
        return -E2BIG;
    if (syscall(SYS_tgkill, getpid(), tid, crs_park_park_sig) == 0) {
        signaled_outer[sw->nsig] = outer;
        signaled[sw->nsig++] = tid;
    }
    return 0;
}

/* Signals every thread not signalled yet but those inside execve (one of
 * them in *exec_tid, else 0); returns how many are now signalled. */
static long signal_new_threads(long nsig, pid_t self, pid_t *exec_tid)
{
    struct signal_walk sw = { nsig, self, nested_pid_namespace(), 0 };
    long e = revive_proc_for_each_number("/proc/self/task", signal_one, &sw);
    *exec_tid = sw.execing;
    return e < 0 ? e : sw.nsig;
}

static int thread_alive(pid_t tid)
{
    char path[64];
    return revive_proc_path(path, sizeof path, 0, crs_park_proc_tid(tid), NULL) > 0 && access(path, F_OK) == 0;
}

/* Threads signalled but neither parked nor alive any more do not count. */
static long expected_parked(long nsig, pid_t *straggler)
{
    long expect = 0;
    uint32_t ns = atomic_load(&crs_park_nslots);
    for (long i = 0; i < nsig; i++) {
        int parked = 0;
        for (uint32_t j = 0; j < ns && j < CRS_MAX_THREADS && !parked; j++)
            parked = crs_park_slots[j] && crs_park_slots[j]->tid == signaled[i];
        if (parked || thread_alive(signaled[i])) {
            expect++;
            if (!parked)
                *straggler = signaled[i];
        }
    }
    return expect;
}

static int all_asleep(int timeout_ms);

/* Why a thread did not stop: most often it blocks the park signal, as the
 * threads glibc makes for itself do (POSIX AIO; the SIGEV_THREAD timer
 * helper when a timer was made before libcr was loaded, or statically). */
static void describe_straggler(pid_t tid, int timeout_ms, char *err, size_t errlen)
{
    char buf[4096], name[32] = "?";
    uint64_t blocked = 0;
    long len = revive_proc_read(0, crs_park_proc_tid(tid), "status", buf, sizeof buf);
    if (len >= 0 || len == -ENOSPC) {
        const char *v = revive_status_find(buf, "Name");
        size_t n = 0;
        while (v && v[n] && v[n] != '\n' && n < sizeof name - 1)
            n++;
        if (v) {
            memcpy(name, v, n);
            name[n] = 0;
        }
        revive_status_x64(buf, "SigBlk", &blocked);
    }
    if (blocked & (1ull << (crs_park_park_sig - 1)))
        snprintf(err, errlen, "thread %d (%s) blocks every signal, Revive's checkpoint signal %d among them, so it "
                 "cannot be stopped for a checkpoint; glibc makes such threads for POSIX AIO (aio_read...), "
                 "mq_notify and SIGEV_THREAD timers made before libcr was loaded: let libcr load first "
                 "(cr_run, or -lcr), or end those before the checkpoint", tid, name, crs_park_park_sig);
    else
        snprintf(err, errlen, "thread %d (%s) did not stop within %d ms although it does not block signal %d, "
                 "Revive's checkpoint signal (is it stuck in the kernel, or traced?)", tid, name, timeout_ms,
                 crs_park_park_sig);
}

static int is_parked(pid_t tid)
{
    uint32_t ns = atomic_load(&crs_park_nslots);
    for (uint32_t j = 0; j < ns && j < CRS_MAX_THREADS; j++)
        if (crs_park_slots[j] && crs_park_slots[j]->tid == tid)
            return 1;
    return 0;
}

/* Whether thread tid blocks the park signal (its /proc status's SigBlk). */
static int blocks_park_signal(pid_t tid)
{
    char buf[4096];
    uint64_t blocked = 0;
    long len = revive_proc_read(0, crs_park_proc_tid(tid), "status", buf, sizeof buf);
    if ((len < 0 && len != -ENOSPC) || revive_status_x64(buf, "SigBlk", &blocked) != 0)
        return 0;
    return crs_park_park_sig > 0 && (blocked & (1ull << (crs_park_park_sig - 1))) != 0;
}

/* The threads signalled, alive and not parked that block the park signal: no signal stops
 * them, only their own progress ends this wait, and a checkpoint hook may hold what they wait
 * for (hooks.h, crs_hooks_blocked: glibc ends a detached thread with every signal blocked, then
 * takes ld.so's thread-stack lock, which the MPI layer holds from before the park). The hooks
 * may let each through. 0, or -errno with a message in err (the park ends). */
static int ask_hooks_about_blocked(long nsig, char *err, size_t errlen)
{
    for (long i = 0; i < nsig; i++) {
        pid_t t = signaled[i];
        if (!t || is_parked(t) || !thread_alive(t) || !blocks_park_signal(t))
            continue;
        int e = crs_hooks_blocked(crs_park_proc_tid(t), err, errlen);
        if (e < 0)
            return e;
    }
    return 0;
}

/* Sends the park signal again to threads that deferred inside a call that
 * may wait and have not parked yet: one whose signal came just before it
 * entered the call waits there until something interrupts it. Only while
 * a checkpoint waits for them: the program's waits cost nothing. */
static void nudge_calls(void)
{
    uint32_t n = atomic_load(&crs_park_ndeferring);
    for (uint32_t i = 0; i < n && i < CRS_MAX_THREADS; i++)
        if (crs_park_deferring_call[i] && crs_park_deferring[i] && !is_parked(crs_park_deferring[i]))
            syscall(SYS_tgkill, getpid(), crs_park_deferring[i], crs_park_park_sig);
}

long crs_park_all(int timeout_ms, char *err, size_t errlen)
{
    pid_t self = crs_park_my_tid();
    atomic_store(&crs_park_nslots, 0);
    atomic_store(&crs_park_nparked, 0);
    atomic_store(&crs_park_nrestored, 0);
    memset(crs_park_slots, 0, sizeof crs_park_slots);
    memset(crs_park_attr_slots, 0, sizeof crs_park_attr_slots);
    memset(crs_park_tids_now, 0, sizeof crs_park_tids_now);
    memset(signaled, 0, sizeof signaled);
    atomic_store(&crs_park_ndeferring, 0);
    memset(crs_park_deferring, 0, sizeof crs_park_deferring);
    memset(crs_park_deferring_call, 0, sizeof crs_park_deferring_call);
    atomic_store(&crs_park_ntq, 0);
    atomic_store(&crs_park_nmq, 0);
    atomic_store(&crs_park_main_parked, 0);
    atomic_store(&crs_park_ntt, 0);
    crs_park_tq_timers = crs_park_timer_signals();
    crs_park_tq_leave = crs_park_park_sig > 0 ? 1ull << (crs_park_park_sig - 1) : 0;
    if (crs_seccomp_notes_installed()) {   /* own_pending's without /proc */
        static char st[4096];
        uint64_t shd = ~0ull;
        long r = revive_read_file("/proc/self/status", st, sizeof st);
        if ((r > 0 || r == -ENOSPC) && revive_status_x64(st, "ShdPnd", &shd) != 0)
            shd = ~0ull;
        atomic_store(&crs_park_shared_at_park, shd);
    }
    atomic_fetch_add(&crs_park_park_round, 1);
    crs_park_forget_foreign_execing();
    atomic_store(&crs_park_round_pid, getpid());   /* before the phase: crs_park_round_ours */
    atomic_store(&crs_park_phase, PHASE_PARKING);
    long nsig = 0, waited = 0, next_ask = 100;
    for (;;) {
        pid_t exec_tid = 0;
        long n = signal_new_threads(nsig, self, &exec_tid);
        if (n < 0) {
            snprintf(err, errlen, "cannot stop the threads: %s", strerror((int)-n));
            crs_park_release();
            return n;
        }
        /* a thread inside execve: a successful one ends this process's
         * program (and this checkpoint with it: the requester sees the
         * connection go), a failed one comes back and is signalled then */
        int grew = n != nsig || exec_tid;
        nsig = n;
        if (exec_tid) {
            if (waited >= timeout_ms) {
                snprintf(err, errlen, "thread %d stayed inside execve (starting another program) for more than %d ms",
                         (int)exec_tid, timeout_ms);
                crs_park_release();
                return -ETIMEDOUT;
            }
            struct timespec ts = { 0, 1000000L };
            nanosleep(&ts, NULL);
            waited += 1;
        }
        for (;;) {
            pid_t straggler = 0;
            long expect = expected_parked(nsig, &straggler);
            uint32_t p = atomic_load(&crs_park_nparked);
            if ((long)p >= expect)
                break;
            if (waited >= timeout_ms) {
                if (crs_park_is_deferring(straggler))
                    snprintf(err, errlen, "thread %d stayed inside a section that defers checkpoints "
                             "(crs_park_defer_enter) for more than %d ms", straggler, timeout_ms);
                else
                    describe_straggler(straggler, timeout_ms, err, errlen);
                crs_park_release();
                return -ETIMEDOUT;
            }
            crs_park_futex_wait(&crs_park_nparked, p, 10);
            waited += 10;
            nudge_calls();
            if (waited >= next_ask) {
                /* the time the hooks take counts against the timeout too */
                int64_t t0 = revive_mono_ns();
                int he = ask_hooks_about_blocked(nsig, err, errlen);
                waited += (long)((revive_mono_ns() - t0) / 1000000);
                if (he < 0) {
                    crs_park_release();
                    return he;
                }
                next_ask = waited + 100;
            }
        }
        if (!grew)
            break;
    }
    if (all_asleep(timeout_ms) != 0) {
        snprintf(err, errlen, "a thread did not settle within %d ms after stopping", timeout_ms);
        crs_park_release();
        return -ETIMEDOUT;
    }
    return (long)atomic_load(&crs_park_nparked);
}

/* A thread counts itself parked just before it goes to sleep; until it is
 * asleep it still writes its own stack (the futex calls' frames), which the
 * image must not catch half-changed. Waits until every parked thread sleeps. */
static int all_asleep(int timeout_ms)
{
    uint32_t ns = atomic_load(&crs_park_nslots);
    for (uint32_t i = 0; i < ns && i < CRS_MAX_THREADS; i++) {
        if (!crs_park_slots[i])
            continue;
        char buf[1024];
        pid_t proc_tid = crs_park_proc_tid(crs_park_slots[i]->tid);
        for (int waited = 0;; waited++) {
            /* -ENOSPC still gives the beginning, where the state is */
            long n = revive_proc_read(0, proc_tid, "stat", buf, sizeof buf);
            if (n < 0 && n != -ENOSPC)
                break; /* gone */
            char st = revive_stat_state(buf);
            if (st == 'S' || st == 'D')
                break;
            if (waited >= timeout_ms * 10)
                return -ETIMEDOUT;
            struct timespec ts = { 0, 100000 };
            nanosleep(&ts, NULL);
        }
    }
    return 0;
}
