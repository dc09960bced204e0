/*
 * The signals queued to a parking thread: real-time signals queued to one
 * thread alone, which only that thread can take off its queue, are taken as it
 * parks (crs_park_take_own_queue), recorded for the capture and queued again; signals
 * whose siginfo only the main thread may queue again wait for it (mq); the
 * signals of thread-directed POSIX timers make their timer queue them again.
 */
#define _GNU_SOURCE
#include "crs/uspace/park.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "crs/base/seccomp_notes.h"
#include "crs/uspace/park_state.h"
#include "crs/uspace/timers.h"
#include "common/procfs.h"

/* Real-time signals queued to one thread (pthread_sigqueue, tgsigqueueinfo):
 * only that thread can take them off its queue, so each takes its own while
 * it parks (crs_park_take_own_queue), records them here and queues them again. */
#define CRS_TQ_MAX 1024
static struct crs_rec_siginfo tq[CRS_TQ_MAX];
_Atomic uint32_t crs_park_ntq;
/* signals none takes: the park signal */
uint64_t crs_park_tq_leave;
/* Signals of POSIX timers (/proc/self/timers). A thread-directed timer's
 * (SIGEV_THREAD_ID) on a thread's own queue is taken too, which gives its
 * overrun and rearms the timer: it is not queued again as a record but
 * noted in tt, and the thread makes the timer queue it again itself
 * (crs_timer_pend, from the expiry whose signal it took), so that the
 * kernel counts the overrun at delivery as it would have; the capture
 * records the timer as pending (capture_sigqueue.c), and a restart pends it
 * the same way. */
uint64_t crs_park_tq_timers;
#define CRS_TT_MAX 256
static struct crs_park_timer tt[CRS_TT_MAX];
_Atomic uint32_t crs_park_ntt;
/* The timers' ids and clocks, read with tq_timers. */
#define CRS_TCLOCK_MAX 1024
static int tclock[CRS_TCLOCK_MAX][2];
static int ntclock;

/* Signals whose siginfo only the main thread may queue again (a code >= 0,
 * sent by kill(2), tgkill(2) or the kernel: rt_[tg]sigqueueinfo takes those
 * only from the process's main thread), taken off a queue while parking or
 * by the capture: the main thread queues them again as it leaves its park
 * (the process runs on after --cont, --fork, --stop), so the sender stays.
 * Without a parked main thread, crs_park_release raises them bare. */
#define CRS_MQ_MAX 1024
static struct crs_rec_siginfo mq[CRS_MQ_MAX];
_Atomic uint32_t crs_park_nmq;

/* The process's pending set (ShdPnd) as the checkpoint thread read it when
 * this round's parking began; all ones when it could not. */
_Atomic uint64_t crs_park_shared_at_park;

/* The calling thread's own pending set (SigPnd of its task; ShdPnd is the
 * process's, which the checkpoint thread takes). In a program that installed
 * seccomp filters, not from /proc: a filter that forbids openat would kill the
 * parking thread, or fail the read, and then its queued signals came back from
 * a restart as bare bits, their values and count lost. There it is the
 * thread's and the process's pending set (rt_sigpending: every signal is
 * blocked here) without the process's at the park's beginning. A signal
 * pending for both then stays on the thread's queue, untaken (the capture
 * still records its bit); one sent to the process after the park began may be
 * taken as the thread's (a restart queues it to this thread). */
static uint64_t own_pending(void)
{
    char buf[4096];
    uint64_t v = 0;
    if (crs_seccomp_notes_installed()) {
        if (syscall(SYS_rt_sigpending, &v, 8) != 0)
            return 0;
        return v & ~atomic_load(&crs_park_shared_at_park);
    }
    /* thread-self: right in a restarted process's pid namespace too, where
     * /proc may be the outer one's */
    long r = revive_read_file("/proc/thread-self/status", buf, sizeof buf);
    if (r > 0 || r == -ENOSPC)
        revive_status_x64(buf, "SigPnd", &v);
    return v;
}

static void requeue_one(pid_t pid, const struct crs_rec_siginfo *q, int bare)
{
    siginfo_t si;
    memcpy(&si, q->info, sizeof si < sizeof q->info ? sizeof si : sizeof q->info);
    int s = si.si_signo;
    if (q->tid) {
        if (bare || syscall(SYS_rt_tgsigqueueinfo, pid, q->tid, s, &si) != 0)
            syscall(SYS_tgkill, pid, q->tid, s);
    } else if (bare || syscall(SYS_rt_sigqueueinfo, pid, s, &si) != 0) {
        kill(pid, s);
    }
}

/* Whether only the receiver may queue siginfo si again with its code and
 * sender (rt_[tg]sigqueueinfo take a code >= 0 or SI_TKILL only from the
 * thread they queue to, or for a whole process from its main thread). */
static int needs_receiver(const siginfo_t *si)
{
    return si->si_code >= 0 || si->si_code == SI_TKILL;
}

void crs_park_requeue(pid_t tid, const siginfo_t *si)
{
    struct crs_rec_siginfo q;
    memset(&q, 0, sizeof q);
    q.tid = tid;
    memcpy(q.info, si, sizeof *si < sizeof q.info ? sizeof *si : sizeof q.info);
    pid_t pid = getpid();
    if (tid || !needs_receiver(si) || crs_park_my_tid() == pid) {
        requeue_one(pid, &q, 0);   /* to the caller's own thread, or allowed from any */
        return;
    }
    uint32_t k = atomic_fetch_add(&crs_park_nmq, 1);
    if (k >= CRS_MQ_MAX) {
        atomic_fetch_sub(&crs_park_nmq, 1);
        requeue_one(pid, &q, 1);
        return;
    }
    mq[k] = q;
}

/* The noted signals, queued with their siginfo (the main thread) or bare. */
void crs_park_drain_mq(int bare)
{
    uint32_t n = atomic_exchange(&crs_park_nmq, 0);
    pid_t pid = getpid();
    for (uint32_t k = 0; k < n && k < CRS_MQ_MAX; k++)
        requeue_one(pid, &mq[k], bare);
}

/* In a restarted thread (old id `old`): its records that the restart could
 * not queue (restore_switch.c leaves a code >= 0 or SI_TKILL to a thread
 * other than the main one to that thread), queued again to itself. */
void crs_park_requeue_own(pid_t old)
{
    uint32_t n = atomic_load(&crs_park_ntq);
    pid_t pid = getpid(), tid = crs_park_my_tid();
    for (uint32_t k = 0; k < n && k < CRS_TQ_MAX; k++) {
        siginfo_t si;
        memcpy(&si, tq[k].info, sizeof si);
        if (tq[k].tid != old || tid == pid || !needs_receiver(&si))
            continue;
        if (syscall(SYS_rt_tgsigqueueinfo, pid, tid, si.si_signo, &si) != 0)
            syscall(SYS_tgkill, pid, tid, si.si_signo);
    }
}

/* Timer id's clock (tclock), CLOCK_MONOTONIC when not noted. */
static int clock_of(int id)
{
    for (int c = 0; c < ntclock; c++)
        if (tclock[c][0] == id)
            return tclock[c][1];
    return CLOCK_MONOTONIC;
}

/* Takes the real-time signals queued to this thread alone, in the order the
 * kernel would deliver them (lowest signal first, each signal's instances
 * in order), records each and queues it again to this thread at once (the
 * process runs on after --cont). Every signal is blocked here (handler of
 * the park signal, or park_late). A signal pending both for this thread and
 * for the process is taken only while this thread's own bit is set: the
 * kernel hands out the thread's instances first. */
void crs_park_take_own_queue(void)
{
    pid_t tid = crs_park_my_tid(), pid = getpid();
    uint64_t take = own_pending() & crs_park_takeable() & ~crs_park_tq_leave;
    uint32_t mine[64], nmine = 0;   /* its entries in tt */
    struct timespec now = { 0, 0 };
    for (int s = 1; s <= 64 && take; s++) {
        uint64_t one = 1ull << (s - 1);
        if (!(take & one))
            continue;
        uint32_t first = UINT32_MAX, last = 0;
        siginfo_t si;
        while ((own_pending() & one) && syscall(SYS_rt_sigtimedwait, &one, &si, &now, 8) == s) {
            if ((crs_park_tq_timers & one) && si.si_code == SI_TIMER) {
                int over = si.si_overrun > 0 ? si.si_overrun : 0, again = 0;
                for (uint32_t i = 0; i < nmine && !again; i++)
                    if ((again = tt[mine[i]].id == si.si_timerid)) {   /* it came again meanwhile: one signal */
                        tt[mine[i]].overrun += 1 + over;
                        tt[mine[i]].first = crs_timer_first(si.si_timerid, clock_of(si.si_timerid),
                                                            (uint64_t)tt[mine[i]].overrun);
                    }
                if (again)
                    continue;
                uint32_t k = atomic_fetch_add(&crs_park_ntt, 1);
                if (k < CRS_TT_MAX && nmine < sizeof mine / sizeof mine[0]) {
                    /* the expiry that queued it, read at once (the take rearmed the timer, which
                     * may queue its signal again before the loop's next take) */
                    tt[k] = (struct crs_park_timer){ tid, si.si_timerid, over,
                                                     crs_timer_first(si.si_timerid, clock_of(si.si_timerid),
                                                                     (uint64_t)over) };
                    mine[nmine++] = k;
                    continue;
                }
                atomic_fetch_sub(&crs_park_ntt, 1);   /* no room: queued again as a record (overrun lost) */
            }
            uint32_t k = atomic_fetch_add(&crs_park_ntq, 1);
            if (k >= CRS_TQ_MAX) {
                atomic_fetch_sub(&crs_park_ntq, 1);
                syscall(SYS_rt_tgsigqueueinfo, pid, tid, s, &si);   /* stays queued, unrecorded */
                break;
            }
            memset(&tq[k], 0, sizeof tq[k]);
            tq[k].tid = tid;
            memcpy(tq[k].info, &si, sizeof si < sizeof tq[k].info ? sizeof si : sizeof tq[k].info);
            if (first == UINT32_MAX)
                first = k;
            last = k;
        }
        /* again, in order (to itself: the kernel takes any code then) */
        for (uint32_t k = first; first != UINT32_MAX && k <= last; k++) {
            if (tq[k].tid != tid)
                continue;
            memcpy(&si, tq[k].info, sizeof si);
            crs_park_requeue(tid, &si);
        }
    }
    /* Its timers' signals, taken above: each timer queues its own again
     * (after the loop, which would take it once more), from the expiry
     * whose signal was taken, so that the overrun counted at delivery is
     * the one it would have been; also when no capture follows. */
    for (uint32_t i = 0; i < nmine; i++) {
        uint32_t k = mine[i];
        struct itimerspec its;
        if (syscall(SYS_timer_gettime, tt[k].id, &its) != 0)
            continue;
        int64_t every = (int64_t)its.it_interval.tv_sec * 1000000000 + its.it_interval.tv_nsec;
        if (tt[k].first > 0 && every > 0) {
            crs_timer_pend_first(tt[k].id, tt[k].first, every);
            continue;
        }
        crs_timer_pend(tt[k].id, clock_of(tt[k].id), (int64_t)its.it_value.tv_sec * 1000000000 + its.it_value.tv_nsec,
                       (int64_t)its.it_interval.tv_sec * 1000000000 + its.it_interval.tv_nsec,
                       (uint64_t)tt[k].overrun);
    }
}

uint64_t crs_park_takeable(void)
{
    /* 1-31 and the real-time ones; glibc's own (32 and 33: thread
     * cancellation, setxid) and SIGKILL, SIGSTOP never */
    uint64_t m = ~((1ull << (SIGRTMIN - 1)) - 1) | ((1ull << 31) - 1);
    return m & ~(1ull << (SIGKILL - 1)) & ~(1ull << (SIGSTOP - 1));
}

const struct crs_park_timer *crs_park_thread_timers(size_t *n)
{
    uint32_t k = atomic_load(&crs_park_ntt);
    *n = k < CRS_TT_MAX ? k : CRS_TT_MAX;
    return tt;
}

const struct crs_rec_siginfo *crs_park_thread_siginfos(size_t *n)
{
    uint32_t k = atomic_load(&crs_park_ntq);
    *n = k < CRS_TQ_MAX ? k : CRS_TQ_MAX;
    return tq;
}

/* Signals POSIX timers of the process deliver (/proc/self/timers); each
 * timer's clock noted in tclock, for crs_park_take_own_queue. */
uint64_t crs_park_timer_signals(void)
{
    static char buf[65536];
    uint64_t m = 0;
    ntclock = 0;
    if (revive_read_file("/proc/self/timers", buf, sizeof buf) <= 0)
        return 0;
    int64_t id = -1, v;
    for (const char *l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        const char *p = l;
        if (!strncmp(l, "ID: ", 4) && (p += 4, revive_parse_i64(&p, &v) == 0)) {
            id = v;
        } else if (!strncmp(l, "signal: ", 8) && (p += 8, revive_parse_i64(&p, &v) == 0) && v >= 1 && v <= 64) {
            m |= 1ull << (v - 1);
        } else if (!strncmp(l, "ClockID: ", 9) && (p += 9, revive_parse_i64(&p, &v) == 0) && id >= 0 &&
                   ntclock < CRS_TCLOCK_MAX) {
            tclock[ntclock][0] = (int)id;
            tclock[ntclock][1] = (int)v;
            ntclock++;
        }
    }
    return m;
}
