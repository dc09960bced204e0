/* POSIX timers (image_format.h: TIMERS). Captured from /proc/self/timers
 * (id, signal and value, notification, clock) and timer_gettime (time left,
 * interval); recreated in the restarted process, once its threads are back
 * (a timer may notify one of them), under their ids. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/uspace/capture.h"
#include "crs/uspace/park.h"
#include "crs/uspace/timers.h"
#include "common/log.h"
#include "common/procfs.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef PR_TIMER_CREATE_RESTORE_IDS
#define PR_TIMER_CREATE_RESTORE_IDS 77
#define PR_TIMER_CREATE_RESTORE_IDS_OFF 0
#define PR_TIMER_CREATE_RESTORE_IDS_ON 1
#endif

/* CPU-time clocks of other threads and processes are encoded: the id in the
 * upper bits (complemented), per-thread in bit 2, the kind in bits 0-1. */
#define CPUCLOCK_PERTHREAD_MASK 4
#define CPUCLOCK_PID(clock) ((pid_t) ~((clock) >> 3))
#define MAKE_CPUCLOCK(pid, kind) ((~(clockid_t)(pid) << 3) | (clockid_t)(kind))

#define TIMERS_BUF (8u << 20)
#define TIMERS_MAX 65536

static int64_t ns_of(const struct timespec *ts)
{
    return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* The value after "key: " on the line starting at *p (then moves *p to the
 * next line), or NULL when the line is another one. */
static const char *field(const char **p, const char *key)
{
    size_t n = strlen(key);
    if (strncmp(*p, key, n))
        return NULL;
    const char *v = *p + n;
    const char *nl = strchr(v, '\n');
    *p = nl ? nl + 1 : v + strlen(v);
    return v;
}

static int parse_timer(const char **p, struct crs_rec_timer *t)
{
    const char *v;
    uint64_t u;
    int64_t i;
    memset(t, 0, sizeof *t);
    if (!(v = field(p, "ID: ")) || revive_parse_i64(&v, &i) || i < 0 || i > INT32_MAX)
        return -EIO;
    t->id = (int32_t)i;
    if (!(v = field(p, "signal: ")) || revive_parse_u64(&v, &u) || u > 64 || *v++ != '/' || revive_parse_x64(&v, &t->value))
        return -EIO;
    t->signo = (int32_t)u;
    if (!(v = field(p, "notify: ")))
        return -EIO;
    int thread_id = 0;
    if (!strncmp(v, "signal/", 7))
        t->notify = SIGEV_SIGNAL;
    else if (!strncmp(v, "none/", 5))
        t->notify = SIGEV_NONE;
    else if (!strncmp(v, "thread/", 7))
        t->notify = SIGEV_THREAD;   /* the kernel never notifies by thread itself: refused below */
    else
        return -EIO;
    v = strchr(v, '/') + 1;
    if (!strncmp(v, "tid.", 4))
        thread_id = 1;
    else if (strncmp(v, "pid.", 4))
        return -EIO;
    v += 4;
    if (revive_parse_i64(&v, &i))
        return -EIO;
    if (thread_id) {
        t->notify |= SIGEV_THREAD_ID;
        t->tid = crs_park_inner_tid((pid_t)i);   /* /proc may count in an outer namespace */
    }
    if (!(v = field(p, "ClockID: ")) || revive_parse_i64(&v, &i))
        return -EIO;
    t->clock = (int32_t)i;
    return 0;
}

int crs_capture_timers(struct crs_capture *c)
{
    char *buf = crs_scratch_alloc(c->scratch, TIMERS_BUF);
    c->timers = crs_scratch_alloc(c->scratch, TIMERS_MAX * sizeof *c->timers);
    if (!buf || !c->timers) {
        crs_capture_error(c, "out of scratch memory for the POSIX timers");
        return -ENOMEM;
    }
    long len = revive_read_file("/proc/self/timers", buf, TIMERS_BUF);
    if (len == -ENOENT)
        return 0;   /* a kernel without CONFIG_CHECKPOINT_RESTORE: see crs_timers_check */
    if (len < 0) {
        crs_capture_error(c, "cannot read /proc/self/timers: %s", strerror((int)-len));
        return (int)len;
    }
    const char *p = buf;
    while (*p) {
        if (c->ntimers == TIMERS_MAX) {
            crs_capture_error(c, "the process has more than %d POSIX timers", TIMERS_MAX);
            return -E2BIG;
        }
        struct crs_rec_timer *t = &c->timers[c->ntimers];
        if (parse_timer(&p, t)) {
            crs_capture_error(c, "cannot parse /proc/self/timers near \"%.40s\"", p);
            return -EIO;
        }
        if ((t->notify & ~SIGEV_THREAD_ID) == SIGEV_THREAD) {
            crs_capture_error(c, "POSIX timer %d notifies in a way Revive does not know (SIGEV_THREAD in the "
                              "kernel); delete it before the checkpoint", t->id);
            return -ENOTSUP;
        }
        if (t->clock == CLOCK_THREAD_CPUTIME_ID) {
            crs_capture_error(c, "POSIX timer %d counts a thread's CPU time (CLOCK_THREAD_CPUTIME_ID), and which "
                              "thread's cannot be seen from outside it, so it cannot be restored; use "
                              "pthread_getcpuclockid() for that thread's clock, or CLOCK_PROCESS_CPUTIME_ID", t->id);
            return -ENOTSUP;
        }
        if (t->clock < 0 && !(t->clock & CPUCLOCK_PERTHREAD_MASK) && CPUCLOCK_PID(t->clock) != 0 &&
            CPUCLOCK_PID(t->clock) != getpid()) {
            crs_capture_error(c, "POSIX timer %d counts the CPU time of process %d, another process; delete it "
                              "before the checkpoint", t->id, (int)CPUCLOCK_PID(t->clock));
            return -ENOTSUP;
        }
        if (t->clock < 0 && (t->clock & CPUCLOCK_PERTHREAD_MASK) && CPUCLOCK_PID(t->clock) != 0)
            t->clock = (int32_t)MAKE_CPUCLOCK(crs_park_inner_tid(CPUCLOCK_PID(t->clock)), t->clock & 7);
        struct itimerspec its;
        if (syscall(SYS_timer_gettime, t->id, &its) != 0) {
            crs_capture_error(c, "cannot read POSIX timer %d: %s", t->id, strerror(errno));
            return -errno;
        }
        t->value_ns = ns_of(&its.it_value);
        t->interval_ns = ns_of(&its.it_interval);
        c->ntimers++;
    }
    /* ascending ids, as the format asks (the kernel lists them newest first) */
    for (size_t i = 1; i < c->ntimers; i++)
        for (size_t k = i; k > 0 && c->timers[k - 1].id > c->timers[k].id; k--) {
            struct crs_rec_timer tmp = c->timers[k];
            c->timers[k] = c->timers[k - 1];
            c->timers[k - 1] = tmp;
        }
    return 0;
}

static struct timespec ts_of(int64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) };
    return ts;
}

/* Whether `clock` can be read here: not a per-thread CPU clock of the checkpoint (another tid now, maybe). */
static int clock_readable(int clock)
{
    return clock >= 0 || !(clock & CPUCLOCK_PERTHREAD_MASK);
}

int64_t crs_timer_first(int id, int clock, uint64_t overrun)
{
    struct timespec now, after;
    struct itimerspec its;
    if (!clock_readable(clock))
        return 0;
    /* the kernel's clock (a system call: libcr's clock_gettime adds a restarted process's CPU
     * offset, libcr/cpuclock.c), read just before the time left: the two reads apart (the thread preempted in
     * between) put the expiry early by that much, so read again while they are a quarter period
     * apart or more (a few times at most) */
    for (int tries = 0;; tries++) {
        if (syscall(SYS_clock_gettime, clock, &now) != 0 || syscall(SYS_timer_gettime, id, &its) != 0 ||
            syscall(SYS_clock_gettime, clock, &after) != 0)
            return 0;
        if (tries == 3 || (ns_of(&after) - ns_of(&now)) * 4 < ns_of(&its.it_interval))
            break;
    }
    int64_t left = ns_of(&its.it_value), iv = ns_of(&its.it_interval);
    if (iv <= 0 || left <= 0 || overrun >= (uint64_t)INT64_MAX / 2 / (uint64_t)iv)
        return 0;
    int64_t at = ns_of(&now) + left - (int64_t)(overrun + 1) * iv;
    return at > 0 ? at : 0;
}

int crs_timer_pend_first(int id, int64_t first_ns, int64_t interval_ns)
{
    struct itimerspec its = { ts_of(interval_ns), ts_of(first_ns) };
    return syscall(SYS_timer_settime, id, TIMER_ABSTIME, &its, NULL) == 0 ? 0 : -errno;
}

int crs_timer_pending_now(int clock, int64_t first_ns, int64_t interval_ns, int64_t *left_ns, uint64_t *pending)
{
    struct timespec now;
    if (first_ns <= 0 || interval_ns <= 0 || !clock_readable(clock) || syscall(SYS_clock_gettime, clock, &now) != 0 ||
        ns_of(&now) < first_ns)
        return -1;
    uint64_t over = (uint64_t)(ns_of(&now) - first_ns) / (uint64_t)interval_ns;
    *left_ns = first_ns + (int64_t)(over + 1) * interval_ns - ns_of(&now);
    *pending = 1 + over;
    return 0;
}

int crs_timer_pend(int id, int clock, int64_t left_ns, int64_t interval_ns, uint64_t overrun)
{
    struct itimerspec its = { ts_of(interval_ns), { 0, 1 } };
    int flags = 0;
    struct timespec now;
    /* a per-thread CPU clock of the checkpoint (another tid now, maybe):
     * at once, the overrun counted from here */
    if (interval_ns > 0 && left_ns > 0 && clock_readable(clock) && syscall(SYS_clock_gettime, clock, &now) == 0 &&
        overrun < (uint64_t)INT64_MAX / 2 / (uint64_t)interval_ns) {
        int64_t at = ns_of(&now) + left_ns - (int64_t)(overrun + 1) * interval_ns;
        if (at > 0) {
            its.it_value = ts_of(at);
            flags = TIMER_ABSTIME;
        }
    }
    return syscall(SYS_timer_settime, id, flags, &its, NULL) == 0 ? 0 : -errno;
}

/* One timer under its old id: by asking for it (Linux 6.15's
 * PR_TIMER_CREATE_RESTORE_IDS), or else by creating timers until the kernel
 * hands it out (ids count up from 0 in a process that has none; the ones
 * made on the way are deleted at the end). */
static int create_as(const struct crs_rec_timer *t, struct sigevent *ev, int by_request, int *spare, int *nspare,
                     int spare_cap)
{
    int id = t->id;
    if (by_request)
        return syscall(SYS_timer_create, t->clock, ev, &id) == 0 && id == t->id ? 0 : -errno;
    for (;;) {
        int got;
        if (syscall(SYS_timer_create, t->clock, ev, &got) != 0)
            return -errno;
        if (got == t->id)
            return 0;
        if (got > t->id || *nspare == spare_cap) {
            syscall(SYS_timer_delete, got);
            return -EBUSY;
        }
        spare[(*nspare)++] = got;
    }
}

int crs_timers_restore(const struct crs_rec_timer *timers, size_t n, pid_t (*tid_now)(pid_t old), char *err,
                       size_t errlen)
{
    if (!n)
        return 0;
    int by_request = prctl(PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_ON, 0, 0, 0) == 0;
    int spare[4096], nspare = 0, e = 0;
    for (size_t i = 0; i < n && !e; i++) {
        const struct crs_rec_timer *t = &timers[i];
        struct crs_rec_timer now = *t;
        struct sigevent ev;
        memset(&ev, 0, sizeof ev);
        ev.sigev_notify = t->notify;
        ev.sigev_signo = t->signo;
        ev.sigev_value.sival_ptr = (void *)(uintptr_t)t->value;
        if (t->notify & SIGEV_THREAD_ID)
            ev._sigev_un._tid = tid_now(t->tid);
        if (t->clock < 0 && (t->clock & CPUCLOCK_PERTHREAD_MASK) && CPUCLOCK_PID(t->clock) != 0)
            now.clock = (int32_t)MAKE_CPUCLOCK(tid_now(CPUCLOCK_PID(t->clock)), t->clock & 7);
        else if (t->clock < 0 && CPUCLOCK_PID(t->clock) != 0)
            now.clock = (int32_t)MAKE_CPUCLOCK(getpid(), t->clock & 7);
        e = create_as(&now, &ev, by_request, spare, &nspare, (int)(sizeof spare / sizeof spare[0]));
        if (e) {
            snprintf(err, errlen, "cannot recreate POSIX timer %d (clock %d): %s", t->id, t->clock, strerror(-e));
            break;
        }
        struct itimerspec its = { ts_of(t->interval_ns), ts_of(t->value_ns) };
        if (t->pending)   /* its signal was queued: queued again by the kernel, with its siginfo */
            e = crs_timer_pend(t->id, now.clock, t->value_ns, t->interval_ns, t->pending - 1);
        else if (syscall(SYS_timer_settime, t->id, 0, &its, NULL) != 0)
            e = -errno;
        if (e)
            snprintf(err, errlen, "cannot set POSIX timer %d again: %s", t->id, strerror(-e));
    }
    if (by_request)
        prctl(PR_TIMER_CREATE_RESTORE_IDS, PR_TIMER_CREATE_RESTORE_IDS_OFF, 0, 0, 0);
    for (int i = 0; i < nspare; i++)
        syscall(SYS_timer_delete, spare[i]);
    return e;
}
