/* Signals pending for the process, with their siginfo. The pending mask
 * (/proc status ShdPnd) says only which signals wait, once each: the
 * sender, si_code, sigqueue(3)'d values and several instances of one
 * real-time signal would come back as one bare kill(2). The kernel shows a
 * queue only to a tracer (PTRACE_PEEKSIGINFO), which a thread of the
 * process cannot be; so the checkpoint thread, with every other thread
 * parked and every signal blocked, takes the process-directed ones off the
 * queue (rt_sigtimedwait, no wait), standard (1-31) and real-time alike,
 * records them and queues them again at once, in the same order
 * (rt_sigqueueinfo keeps si_code, sender and value). One whose si_code is
 * not negative (sent with kill(2), or by the kernel) only the main thread
 * may queue again with its sender: it does so as it leaves its park
 * (park_sigqueue.c, crs_park_requeue). The restart queues the records from the main
 * thread (restore_switch.c).
 *
 * Signals queued to one thread: only that thread can take them off its
 * queue, which each does while it parks (park_sigqueue.c, crs_park_take_own_queue); their
 * records (tid set) follow the process's here, and the restart queues each
 * to its thread again.
 *
 * A POSIX timer's signal (process-directed) is taken off too, which tells
 * which timers' signals were queued (several timers may share a signal)
 * and their overruns; it is not queued again as a record: the timer is set
 * to expire at once instead (crs_timer_pend: a periodic one at its first
 * missed expiry), in the running process now and in the restarted one when
 * libcr recreates it (the timer record's `pending`), so that the kernel
 * queues it with the timer's own siginfo (id, value) and counts the overrun
 * at delivery, as timer_getoverrun(2) then says. A thread-directed one
 * (SIGEV_THREAD_ID) is on its thread's queue, which that thread takes off
 * while it parks (park_sigqueue.c, crs_park_take_own_queue): it notes the timer and its
 * overrun, and makes the timer queue it again in the running process; here
 * the timer is recorded as pending (the restart pends it the same way) and
 * the thread's pending bit is dropped (the timer, not a bare signal, brings
 * it back). Only when the parking thread had no room to note it does it
 * stay a record; then, when exactly one timer uses that signal, a record is
 * made from the timer's (SI_TIMER, id, value, overrun 0). Left alone:
 * glibc's internal signals and Revive's park signal. */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"
#include "crs/uspace/park.h"
#include "crs/uspace/timers.h"
#include "common/fault.h"

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CRS_SIGQUEUE_MAX 4096   /* records at most; more stay queued, as bits */

/* Whether timer t notifies by a signal (SIGEV_SIGNAL is 0). */
static int by_signal(const struct crs_rec_timer *t)
{
    return (t->notify & ~SIGEV_THREAD_ID) == SIGEV_SIGNAL && t->signo > 0 && t->signo <= 64;
}

/* The timer whose signal s is, when exactly one timer uses s; else NULL. */
static const struct crs_rec_timer *only_timer(const struct crs_capture *c, int s)
{
    const struct crs_rec_timer *t = NULL;
    for (size_t i = 0; i < c->ntimers; i++) {
        if (!by_signal(&c->timers[i]) || c->timers[i].signo != s)
            continue;
        if (t)
            return NULL;
        t = &c->timers[i];
    }
    return t;
}

/* A record of what timer t's pending signal holds, to tid (0: the process). */
static void timer_record(struct crs_capture *c, const struct crs_rec_timer *t, int32_t tid)
{
    if (c->nsiginfos == CRS_SIGQUEUE_MAX)
        return;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = t->signo;
    si.si_code = SI_TIMER;
    si.si_timerid = t->id;
    si.si_overrun = 0;
    si.si_value.sival_ptr = (void *)(uintptr_t)t->value;
    struct crs_rec_siginfo *r = &c->siginfos[c->nsiginfos++];
    memset(r, 0, sizeof *r);
    r->tid = tid;
    memcpy(r->info, &si, sizeof si < sizeof r->info ? sizeof si : sizeof r->info);
}

/* The process-directed timer whose signal si is, or NULL. */
static struct crs_rec_timer *timer_of(struct crs_capture *c, const siginfo_t *si)
{
    if (si->si_code != SI_TIMER)
        return NULL;
    for (size_t i = 0; i < c->ntimers; i++) {
        struct crs_rec_timer *t = &c->timers[i];
        if (t->id == si->si_timerid && by_signal(t) && !(t->notify & SIGEV_THREAD_ID) && t->signo == si->si_signo)
            return t;
    }
    return NULL;
}

/* Timer t's signal was taken off with overrun `over`, which rearmed a
 * periodic timer: counted into t->pending (1 + the overruns since the expiry
 * that queued it) and that expiry noted at once in *first (crs_timer_first).
 * A timer every few ms may queue its signal again before the next take (the
 * capture thread preempted, or REVIVE_FAULT=capture-timer-late): that take
 * adds 1 + its overrun. Once, it replaced the first's: the image held
 * overrun 0, and the restart counted the overrun from its own start (CI:
 * crs_timershare flavour tty, "overrun 4" for a signal pending 300 ms). */
static void timer_took(struct crs_rec_timer *t, int over, int64_t *first)
{
    t->pending += 1 + (uint64_t)(over > 0 ? over : 0);
    *first = crs_timer_first(t->id, t->clock, t->pending - 1);
}

/* Timer t's signal, taken off (t->pending), made to come again in the running
 * process: from the expiry that queued it (first, or else from its time left
 * now, which the delivery rearmed), and the time left and overrun the image
 * records are those of one moment, counted from that expiry. */
static void timer_taken(struct crs_rec_timer *t, int64_t first)
{
    int64_t left;
    uint64_t pending;
    if (first > 0 && crs_timer_pending_now(t->clock, first, t->interval_ns, &left, &pending) == 0) {
        crs_timer_pend_first(t->id, first, t->interval_ns);
        t->value_ns = left;
        t->pending = pending;
        return;
    }
    struct itimerspec its;
    if (syscall(SYS_timer_gettime, t->id, &its) == 0) {
        t->value_ns = (int64_t)its.it_value.tv_sec * 1000000000 + its.it_value.tv_nsec;
        t->interval_ns = (int64_t)its.it_interval.tv_sec * 1000000000 + its.it_interval.tv_nsec;
    }
    crs_timer_pend(t->id, t->clock, t->value_ns, t->interval_ns, t->pending - 1);
}

/* REVIVE_FAULT=capture-timer-late: 3 ms after the capture's first take of a
 * periodic timer's signal, each signal's, before it reads the timer, so that
 * a timer every 2 ms queues its signal again (crs_timershare_late.sh). */
static void timer_late(int *done)
{
    if (*done || !revive_fault(REVIVE_FAULT_capture_timer_late))
        return;
    *done = 1;
    struct timespec ts = { 0, 3000000 };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

void crs_capture_sigqueue(struct crs_capture *c)
{
    uint64_t timers = 0;
    for (size_t i = 0; i < c->ntimers; i++)
        if (by_signal(&c->timers[i]))
            timers |= 1ull << (c->timers[i].signo - 1);
    uint64_t take = c->proc.shared_pending & crs_park_takeable();
    int park = crs_park_signal();
    if (park > 0)
        take &= ~(1ull << (park - 1));
    uint64_t ttimer = 0;
    for (size_t k = 0; k < c->nthreads; k++)
        ttimer |= c->threads[k].pending & timers;
    size_t nthr = 0, ntt = 0;
    const struct crs_rec_siginfo *thr = crs_park_thread_siginfos(&nthr);
    const struct crs_park_timer *tt = crs_park_thread_timers(&ntt);
    for (size_t i = 0; i < ntt; i++)   /* thread-directed timers' signals their threads took */
        for (size_t k = 0; k < c->ntimers; k++) {
            struct crs_rec_timer *t = &c->timers[k];
            if (t->id != tt[i].id || !(t->notify & SIGEV_THREAD_ID) || !by_signal(t))
                continue;
            t->pending = 1 + (uint64_t)tt[i].overrun;
            /* the parking thread made it pend from that expiry (park.c): time left and overrun
             * of this moment (capture_timers read the time left later than the overrun) */
            int64_t left;
            uint64_t pending;
            if (tt[i].first > 0 && crs_timer_pending_now(t->clock, tt[i].first, t->interval_ns, &left, &pending) == 0) {
                t->value_ns = left;
                t->pending = pending;
            }
            for (size_t j = 0; j < c->nthreads; j++)
                if (c->threads[j].tid == tt[i].tid)
                    c->threads[j].pending &= ~(1ull << (t->signo - 1));
        }
    if (!take && !nthr && !ttimer)
        return;
    c->siginfos = crs_scratch_alloc(c->scratch, CRS_SIGQUEUE_MAX * sizeof *c->siginfos);
    if (!c->siginfos)
        return;
    int64_t *tfirst = crs_scratch_alloc(c->scratch, (c->ntimers + 1) * sizeof *tfirst);
    if (!tfirst)
        return;
    memset(tfirst, 0, (c->ntimers + 1) * sizeof *tfirst);
    struct timespec now = { 0, 0 };
    /* signal by signal, lowest first, as the kernel delivers them; each
     * signal's instances in their order */
    for (int s = 1; s <= 64 && c->nsiginfos < CRS_SIGQUEUE_MAX; s++) {
        if (!((take >> (s - 1)) & 1))
            continue;
        uint64_t one = 1ull << (s - 1);
        size_t first = c->nsiginfos;
        siginfo_t si;
        int late = 0;
        while (c->nsiginfos < CRS_SIGQUEUE_MAX && syscall(SYS_rt_sigtimedwait, &one, &si, &now, 8) == s) {
            struct crs_rec_timer *t = timer_of(c, &si);
            if (t) {   /* made to come again below */
                if (t->interval_ns > 0)
                    timer_late(&late);
                timer_took(t, si.si_overrun, &tfirst[t - c->timers]);
                continue;
            }
            struct crs_rec_siginfo *r = &c->siginfos[c->nsiginfos++];
            memset(r, 0, sizeof *r);
            memcpy(r->info, &si, sizeof si < sizeof r->info ? sizeof si : sizeof r->info);
        }
        int timers_taken = 0;
        for (size_t k = 0; k < c->ntimers; k++)
            if (c->timers[k].pending && c->timers[k].signo == s) {
                timer_taken(&c->timers[k], tfirst[k]);
                timers_taken++;
            }
        if (timers_taken && c->nsiginfos == first)   /* the timers queue it again, not the restart's raise of the pending bit */
            c->proc.shared_pending &= ~one;
        for (size_t k = first; k < c->nsiginfos; k++) {
            memcpy(&si, c->siginfos[k].info, sizeof si);
            crs_park_requeue(0, &si);
        }
    }
    for (size_t k = 0; k < c->nthreads; k++)
        for (int s = 1; s <= 64; s++) {
            const struct crs_rec_timer *t;
            if (((c->threads[k].pending & ttimer) >> (s - 1)) & 1 && (t = only_timer(c, s)) &&
                (t->notify & SIGEV_THREAD_ID) && t->tid == c->threads[k].tid && !t->pending)
                timer_record(c, t, c->threads[k].tid);
        }
    for (size_t k = 0; k < nthr && c->nsiginfos < CRS_SIGQUEUE_MAX; k++)
        c->siginfos[c->nsiginfos++] = thr[k];
}
