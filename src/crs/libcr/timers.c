/*
 * POSIX timers that notify by starting a thread (SIGEV_THREAD), done by libcr
 * instead of glibc. glibc serves them with a helper thread it creates with
 * every signal blocked, Revive's park signal among them: such a thread can
 * never be parked, and a checkpoint would wait for it in vain. Here the
 * kernel timer signals libcr's own helper (SIGEV_THREAD_ID), a thread like
 * any other: it is parked, saved and brought back, and the timer with it
 * (crs restores every kernel timer by its id; see capture_timers.c).
 *
 * timer_create with SIGEV_THREAD is interposed; the timer_t it returns is the
 * kernel's timer id, as glibc's own are for the other notifications, so
 * glibc's timer_settime, timer_gettime and timer_getoverrun work on it as they
 * are. timer_delete is interposed to forget the timer. The helper waits for
 * signal 32 (glibc's SIGTIMER, which glibc keeps to itself: no program uses
 * it) and starts a detached thread per expiration with the timer's
 * attributes and every signal blocked, as glibc's own callback threads run
 * (measured with glibc 2.36: SigBlk fffffffe7ffbfeff, all but its internal
 * 32 and 33): a signal the program blocks and collects elsewhere (a
 * signalfd, sigwait) must never be delivered to a callback thread. The
 * park signal stays open too, so that a checkpoint parks the callback.
 */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "libcr"
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "crs/base/hooks.h"
#include "crs/libcr/runtime.h"

#define HELPER_SIGNAL 32   /* glibc's SIGTIMER: reserved, never the application's */
#define MAX_TIMERS 1024

struct thread_timer {
    _Atomic int used;
    int kid;                       /* the kernel's timer id */
    void (*fn)(union sigval);
    union sigval value;
    size_t stacksize, guardsize;   /* of the attributes given, 0: the default */
};

static struct thread_timer table[MAX_TIMERS];
static pthread_once_t helper_once = PTHREAD_ONCE_INIT;
static _Atomic pid_t helper_tid;
static int helper_error;

struct start {
    void (*fn)(union sigval);
    union sigval value;
};

static void *run_callback(void *arg)
{
    struct start st = *(struct start *)arg;
    free(arg);
    crs_runtime_block_signals();
    st.fn(st.value);
    return NULL;
}

static void start_callback(struct thread_timer *t)
{
    struct start *st = malloc(sizeof *st);
    if (!st)
        return;   /* as glibc: nothing to do without memory */
    st->fn = t->fn;
    st->value = t->value;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    if (t->stacksize)
        pthread_attr_setstacksize(&a, t->stacksize);
    if (t->guardsize)
        pthread_attr_setguardsize(&a, t->guardsize);
    pthread_t th;
    if (pthread_create(&th, &a, run_callback, st) != 0)
        free(st);
    pthread_attr_destroy(&a);
}

static void *helper_main(void *arg)
{
    (void)arg;
    /* named by itself (a prctl): naming another thread opens /proc/self/task/TID/comm inside
     * glibc, which a fork of the application's meanwhile copies (fork_guard.h) */
    pthread_setname_np(pthread_self(), "revive-timers");
    /* every signal blocked but the park signal (so a checkpoint parks this
     * thread like any other) and glibc's SIGSETXID (33: setuid() in a
     * threaded program waits until every thread has taken it; blocked here,
     * it hung); the timers' signal (32) is taken by sigwaitinfo. Callback
     * threads get glibc's pthread_create mask (its own signals open). */
    uint64_t mask = ~0ull & ~(1ull << (33 - 1));
    int park = crs_runtime_park_signal();
    if (park > 0)
        mask &= ~(1ull << (park - 1));
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, 8);
    atomic_store(&helper_tid, (pid_t)syscall(SYS_gettid));
    uint64_t wait = 1ull << (HELPER_SIGNAL - 1);
    for (;;) {
        siginfo_t si;
        long r = syscall(SYS_rt_sigtimedwait, &wait, &si, NULL, 8);
        if (r != HELPER_SIGNAL || si.si_code != SI_TIMER)
            continue;   /* EINTR: parked and let go again */
        struct thread_timer *t = si.si_ptr;
        if (t >= table && t < table + MAX_TIMERS && atomic_load(&t->used) && t->fn)
            start_callback(t);
    }
    return NULL;
}

static void start_helper(void)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, 256 << 10);
    pthread_t th;
    helper_error = pthread_create(&th, &a, helper_main, NULL);
    pthread_attr_destroy(&a);
    while (!helper_error && !atomic_load(&helper_tid))
        sched_yield();
}

typedef int (*timer_create_fn)(clockid_t, struct sigevent *, timer_t *);
typedef int (*timer_delete_fn)(timer_t);

#ifdef REVIVE_LIBCR_STATIC   /* see runtime.h */
int __real_timer_create(clockid_t, struct sigevent *, timer_t *);
int __real_timer_delete(timer_t);
int __wrap_timer_create(clockid_t, struct sigevent *, timer_t *);
int __wrap_timer_delete(timer_t);
#endif

int CRS_INTERPOSE(timer_create)(clockid_t clock, struct sigevent *ev, timer_t *id)
{
    static timer_create_fn real;
    if (!ev || ev->sigev_notify != SIGEV_THREAD || !crs_runtime_park_signal()) {
        if (!real)
            real = CRS_NEXT(timer_create_fn, timer_create);
        if (!real) {
            errno = ENOSYS;
            return -1;
        }
        return real(clock, ev, id);
    }
    pthread_once(&helper_once, start_helper);
    if (helper_error) {
        errno = helper_error;
        return -1;
    }
    struct thread_timer *t = NULL;
    for (int i = 0; i < MAX_TIMERS && !t; i++) {
        int free_slot = 0;
        if (atomic_compare_exchange_strong(&table[i].used, &free_slot, 1))
            t = &table[i];
    }
    if (!t) {
        errno = EAGAIN;
        return -1;
    }
    t->fn = ev->sigev_notify_function;
    t->value = ev->sigev_value;
    t->stacksize = t->guardsize = 0;
    if (ev->sigev_notify_attributes) {
        pthread_attr_getstacksize(ev->sigev_notify_attributes, &t->stacksize);
        pthread_attr_getguardsize(ev->sigev_notify_attributes, &t->guardsize);
    }
    struct sigevent kev;
    memset(&kev, 0, sizeof kev);
    kev.sigev_notify = SIGEV_SIGNAL | SIGEV_THREAD_ID;
    kev.sigev_signo = HELPER_SIGNAL;
    kev.sigev_value.sival_ptr = t;
    kev._sigev_un._tid = atomic_load(&helper_tid);
    int kid;
    if (syscall(SYS_timer_create, clock, &kev, &kid) != 0) {
        int e = errno;
        atomic_store(&t->used, 0);
        errno = e;
        return -1;
    }
    t->kid = kid;
    *id = (timer_t)(intptr_t)kid;
    return 0;
}

int CRS_INTERPOSE(timer_delete)(timer_t id)
{
    static timer_delete_fn real;
    intptr_t v = (intptr_t)id;
    if (v >= 0 && v <= INT32_MAX)
        for (int i = 0; i < MAX_TIMERS; i++)
            if (atomic_load(&table[i].used) && table[i].kid == (int)v) {
                if (syscall(SYS_timer_delete, (int)v) != 0)
                    return -1;
                table[i].fn = NULL;
                atomic_store(&table[i].used, 0);
                return 0;
            }
    if (!real)
        real = CRS_NEXT(timer_delete_fn, timer_delete);
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    return real(id);
}

/* After a restart (a restart hook: every thread is back, parked): the
 * helper may run under a new id, which new timers must name. */
void crs_timers_after_restart(void)
{
    pid_t t = atomic_load(&helper_tid);
    if (t)
        atomic_store(&helper_tid, crs_restart_tid(t));
}

/* A forked child has no helper thread (and no timers: fork does not copy
 * them): the next SIGEV_THREAD timer starts one. */
void crs_timers_after_fork_child(void)
{
    for (int i = 0; i < MAX_TIMERS; i++)
        atomic_store(&table[i].used, 0);
    atomic_store(&helper_tid, 0);
    helper_error = 0;
    helper_once = (pthread_once_t)PTHREAD_ONCE_INIT;
}
