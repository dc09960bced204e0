#define _GNU_SOURCE
#include "crs/uspace/park.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "crs/base/capture_filter.h"
#include "crs/base/component.h"
#include "crs/base/hooks.h"
#include "crs/uspace/cpu_context.h"
#include "crs/uspace/park_sleep.h"
#include "crs/uspace/seccomp_restore.h"
#include "crs/base/seccomp_notes.h"
#include "crs/uspace/thread_attr.h"
#include "crs/uspace/timers.h"
#include "common/clock.h"
#include "common/procfs.h"

#ifndef ARCH_GET_FS
#define ARCH_GET_FS 0x1003
#endif
#ifndef PR_GET_TID_ADDRESS
#define PR_GET_TID_ADDRESS 40
#endif
#define CRS_RSEQ_SIG 0x53053053u
#define CRS_RSEQ_LEN 32u

enum { PHASE_IDLE = 0, PHASE_PARKING = 1 };

static int park_sig;
static _Atomic int phase;
static _Atomic uint32_t nslots, nparked, release_gen, nrestored;
/* Each crs_park_all is a round; threads inside a park-deferral section note
 * theirs and park when they leave it (capture_filter.h). */
static _Atomic uint32_t park_round;
static pid_t deferring[CRS_MAX_THREADS];
/* 1: that thread deferred inside a call that may wait (a SEM_UNDO semop,
 * crs_park_call_begin): a park signal that came just before the call could
 * not interrupt it, so the park sends it again while it waits (nudge). */
static unsigned char deferring_call[CRS_MAX_THREADS];
static _Atomic uint32_t ndeferring;
static struct crs_rec_thread *slots[CRS_MAX_THREADS];
/* each parked thread's attributes, beside its record on its stack */
static struct crs_rec_thread_attr *attr_slots[CRS_MAX_THREADS];
/* After a restart, each parked thread's id now (slot by slot). */
static pid_t tids_now[CRS_MAX_THREADS];
static pid_t self_old, self_now;
static pid_t signaled[CRS_MAX_THREADS];
/* /proc is mounted for the outer pid namespace: in a restarted process that
 * runs in a namespace of its own, /proc/self/task lists outer ids while
 * system calls take inner ones. */
static pid_t signaled_outer[CRS_MAX_THREADS];
/* Offset of the tid inside glibc's struct pthread, found at run time (0: unknown). */
static size_t tid_offset;

static int (*park_hook)(void);

/* Threads inside execve (crs_park_exec_enter until exec_leave): the park
 * signal is never sent to one. A signal the kernel holds for a thread when
 * its execve succeeds stays pending in the new program, whose handler is
 * the default one (terminate) until its libcr, if any, puts ours in: the
 * program died of it (signal 62, status 0x3e) when a checkpoint caught a
 * shell's child between fork and exec. Each slot holds a tid or 0; the
 * thread stores its tid, then looks whether a round is on, while the
 * parking thread stores PHASE_PARKING, then looks at the slots (both
 * sequentially consistent), so at least one of them sees the other. */
#define CRS_MAX_EXECING 64
static _Atomic pid_t execing[CRS_MAX_EXECING];

/* Real-time signals queued to one thread (pthread_sigqueue, tgsigqueueinfo):
 * only that thread can take them off its queue, so each takes its own while
 * it parks (take_own_queue), records them here and queues them again. */
#define CRS_TQ_MAX 1024
static struct crs_rec_siginfo tq[CRS_TQ_MAX];
static _Atomic uint32_t ntq;
/* signals none takes: the park signal */
static uint64_t tq_leave;
/* Signals of POSIX timers (/proc/self/timers). A thread-directed timer's
 * (SIGEV_THREAD_ID) on a thread's own queue is taken too, which gives its
 * overrun and rearms the timer: it is not queued again as a record but
 * noted in tt, and the thread makes the timer queue it again itself
 * (crs_timer_pend, from the expiry whose signal it took), so that the
 * kernel counts the overrun at delivery as it would have; the capture
 * records the timer as pending (capture_sigqueue.c), and a restart pends it
 * the same way. */
static uint64_t tq_timers;
#define CRS_TT_MAX 256
static struct crs_park_timer tt[CRS_TT_MAX];
static _Atomic uint32_t ntt;
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
static _Atomic uint32_t nmq;
static _Atomic int main_parked;

/* Threads kept parked after a release (crs_park_release_holding): held[i] for slot i, set by
 * the releasing thread before the release; each held thread sleeps on `holding` in its park
 * handler, signals blocked, until crs_park_unhold. */
static unsigned char held[CRS_MAX_THREADS];
static _Atomic uint32_t holding;


static long futex(_Atomic uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
    return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

static void futex_wait(_Atomic uint32_t *addr, uint32_t val, long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    futex(addr, FUTEX_WAIT_PRIVATE, val, ms >= 0 ? &ts : NULL);
}

static void futex_wake(_Atomic uint32_t *addr)
{
    futex(addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
}

static pid_t my_tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

/* glibc keeps each thread's tid in its struct pthread and trusts it (mutex
 * owners, pthread_kill); when a restart changes ids it must be corrected. */
static void find_tid_offset(void)
{
    const pid_t tid = my_tid();
    const unsigned char *self = (const unsigned char *)pthread_self();
    for (size_t off = 0; off < 2048; off += sizeof(pid_t)) {
        pid_t v;
        memcpy(&v, self + off, sizeof v);
        if (v == tid) {
            tid_offset = off;
            return;
        }
    }
}

void crs_thread_describe(struct crs_rec_thread *rec)
{
    rec->tid = my_tid();
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

void crs_thread_reinstate(const struct crs_rec_thread *rec, const struct crs_restart_info *info)
{
    if (info->ids_changed && tid_offset) {
        pid_t tid = my_tid();
        memcpy((char *)pthread_self() + tid_offset, &tid, sizeof tid);
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
        sigaltstack(&ss, NULL);
    }
}

/* The process's pending set (ShdPnd) as the checkpoint thread read it when
 * this round's parking began; all ones when it could not. */
static _Atomic uint64_t shared_at_park;

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
        return v & ~atomic_load(&shared_at_park);
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
    if (tid || !needs_receiver(si) || my_tid() == pid) {
        requeue_one(pid, &q, 0);   /* to the caller's own thread, or allowed from any */
        return;
    }
    uint32_t k = atomic_fetch_add(&nmq, 1);
    if (k >= CRS_MQ_MAX) {
        atomic_fetch_sub(&nmq, 1);
        requeue_one(pid, &q, 1);
        return;
    }
    mq[k] = q;
}

/* The noted signals, queued with their siginfo (the main thread) or bare. */
static void drain_mq(int bare)
{
    uint32_t n = atomic_exchange(&nmq, 0);
    pid_t pid = getpid();
    for (uint32_t k = 0; k < n && k < CRS_MQ_MAX; k++)
        requeue_one(pid, &mq[k], bare);
}

/* In a restarted thread (old id `old`): its records that the restart could
 * not queue (restore_switch.c leaves a code >= 0 or SI_TKILL to a thread
 * other than the main one to that thread), queued again to itself. */
static void requeue_own(pid_t old)
{
    uint32_t n = atomic_load(&ntq);
    pid_t pid = getpid(), tid = my_tid();
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
static void take_own_queue(void)
{
    pid_t tid = my_tid(), pid = getpid();
    uint64_t take = own_pending() & crs_park_takeable() & ~tq_leave;
    uint32_t mine[64], nmine = 0;   /* its entries in tt */
    struct timespec now = { 0, 0 };
    for (int s = 1; s <= 64 && take; s++) {
        uint64_t one = 1ull << (s - 1);
        if (!(take & one))
            continue;
        uint32_t first = UINT32_MAX, last = 0;
        siginfo_t si;
        while ((own_pending() & one) && syscall(SYS_rt_sigtimedwait, &one, &si, &now, 8) == s) {
            if ((tq_timers & one) && si.si_code == SI_TIMER) {
                int over = si.si_overrun > 0 ? si.si_overrun : 0, again = 0;
                for (uint32_t i = 0; i < nmine && !again; i++)
                    if ((again = tt[mine[i]].id == si.si_timerid)) {   /* it came again meanwhile: one signal */
                        tt[mine[i]].overrun += 1 + over;
                        tt[mine[i]].first = crs_timer_first(si.si_timerid, clock_of(si.si_timerid),
                                                            (uint64_t)tt[mine[i]].overrun);
                    }
                if (again)
                    continue;
                uint32_t k = atomic_fetch_add(&ntt, 1);
                if (k < CRS_TT_MAX && nmine < sizeof mine / sizeof mine[0]) {
                    /* the expiry that queued it, read at once (the take rearmed the timer, which
                     * may queue its signal again before the loop's next take) */
                    tt[k] = (struct crs_park_timer){ tid, si.si_timerid, over,
                                                     crs_timer_first(si.si_timerid, clock_of(si.si_timerid),
                                                                     (uint64_t)over) };
                    mine[nmine++] = k;
                    continue;
                }
                atomic_fetch_sub(&ntt, 1);   /* no room: queued again as a record (overrun lost) */
            }
            uint32_t k = atomic_fetch_add(&ntq, 1);
            if (k >= CRS_TQ_MAX) {
                atomic_fetch_sub(&ntq, 1);
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
    uint32_t k = atomic_load(&ntt);
    *n = k < CRS_TT_MAX ? k : CRS_TT_MAX;
    return tt;
}

const struct crs_rec_siginfo *crs_park_thread_siginfos(size_t *n)
{
    uint32_t k = atomic_load(&ntq);
    *n = k < CRS_TQ_MAX ? k : CRS_TQ_MAX;
    return tq;
}

/* Signals POSIX timers of the process deliver (/proc/self/timers); each
 * timer's clock noted in tclock, for take_own_queue. */
static uint64_t timer_signals(void)
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

/* Parks the calling thread; `mask`: its signal mask outside the handler
 * (recorded for cr_info), or NULL. */
static int park_here_mask(const void *mask)
{
    struct crs_rec_thread rec;
    struct crs_rec_thread_attr attr;
    memset(&rec, 0, sizeof rec);
    take_own_queue();
    crs_thread_describe(&rec);
    crs_thread_attr_describe(&attr);
    rec.record = (uint64_t)&rec;
    if (mask)
        memcpy(&rec.blocked, mask, sizeof rec.blocked);
    pid_t me = my_tid();
    if (me == getpid())
        atomic_store(&main_parked, 1);
    uint32_t idx = atomic_fetch_add(&nslots, 1);
    if (idx >= CRS_MAX_THREADS)
        return 0; /* crs_park_all notices the missing thread and gives up */
    attr_slots[idx] = &attr;
    slots[idx] = &rec;
    long r = crs_ctx_save(&rec.ctx);
    uint32_t gen = atomic_load(&release_gen);
    if (r == 0) {
        atomic_fetch_add(&nparked, 1);
        futex_wake(&nparked);
    } else {
        crs_thread_reinstate(&rec, (const struct crs_restart_info *)r);
        crs_thread_attr_reinstate(&attr);
        crs_park_call_restarted();
        tids_now[idx] = my_tid();
        atomic_fetch_add(&nrestored, 1);
        futex_wake(&nrestored);
    }
    while (atomic_load(&release_gen) == gen)
        futex_wait(&release_gen, gen, -1);
    /* After a restart: the signals queued to this thread alone that only it
     * may queue again with their sender (the restart left them to us). */
    if (r != 0)
        requeue_own(rec.tid);
    /* signals only we may queue with their sender: again in the process
     * that runs on; a restarted one got them from its image */
    if (me == getpid() || (r != 0 && my_tid() == getpid())) {
        if (r == 0)
            drain_mq(0);
        else
            atomic_store(&nmq, 0);
    }
    if (held[idx]) {
        held[idx] = 0;
        while (atomic_load(&holding))
            futex_wait(&holding, 1, -1);
    }
    if (r != 0)
        crs_seccomp_restore_own(&attr);   /* last: the rest of its seccomp filters */
    return r != 0;
}

int crs_park_here(void)
{
    return park_here_mask(NULL);
}

static int is_deferring(pid_t tid)
{
    uint32_t n = atomic_load(&ndeferring);
    for (uint32_t i = 0; i < n && i < CRS_MAX_THREADS; i++)
        if (deferring[i] == tid)
            return 1;
    return 0;
}

/* A thread that deferred its park leaves its section: parks now, as in the
 * handler (every signal blocked, signal-context callbacks first), if the
 * checkpoint of that round still waits. */
static void park_late(uint32_t round)
{
    if (atomic_load(&phase) != PHASE_PARKING || atomic_load(&park_round) != round)
        return;
    uint64_t all = ~0ull, old = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, 8);
    int saved_errno = errno;
    int (*hook)(void) = park_hook;
    if (!hook || !hook())
        park_here_mask(&old);
    crs_park_call_signals(old, park_sig);
    errno = saved_errno;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, 8);
}

static void park_handler(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    int saved_errno = errno;
    if (si->si_code == SI_TKILL && atomic_load(&phase) == PHASE_PARKING) {
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
        if (crs_park_defer_note(atomic_load(&park_round))) {
            pid_t me = my_tid();
            if (!is_deferring(me)) {
                uint32_t i = atomic_fetch_add(&ndeferring, 1);
                if (i < CRS_MAX_THREADS) {
                    deferring_call[i] = (unsigned char)in_call;
                    deferring[i] = me;
                }
            }
        } else {
            int (*hook)(void) = park_hook;
            if (!hook || !hook())
                restarted = park_here_mask(&((ucontext_t *)ucv)->uc_sigmask);
        }
        uint64_t mask;
        memcpy(&mask, &((ucontext_t *)ucv)->uc_sigmask, sizeof mask);
        crs_park_call_signals(mask, park_sig);
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
    park_sig = 0;
    /* A forked child starts here again (libcr's fork handler) with a copy of
     * its parent's memory: a fork that slipped in while the parent was
     * parking its threads left the round on in the copy, where no thread
     * would ever end it (a thread entering execve waited for it), and the
     * marks of the parent's threads inside execve */
    atomic_store(&phase, PHASE_IDLE);
    for (int i = 0; i < CRS_MAX_EXECING; i++)
        atomic_store(&execing[i], 0);
    find_tid_offset();
    crs_park_defer_init(park_late);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = park_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0)
        return -errno;
    park_sig = sig;
    return 0;
}

int crs_park_signal(void)
{
    return park_sig;
}

/* A vfork child runs on its parent's thread (same memory and thread
 * descriptor) but is a process of its own that no park reaches: glibc's
 * cached tid is still the parent thread's there. */
static int in_vfork_child(void)
{
    pid_t cached;
    if (!tid_offset)
        return 0;
    memcpy(&cached, (const char *)pthread_self() + tid_offset, sizeof cached);
    return cached != my_tid();
}

void crs_park_exec_enter(struct crs_exec_guard *g)
{
    g->slot = -1;
    g->blocked = 0;
    int sig = park_sig;
    if (sig <= 0 || in_vfork_child())
        return;
    uint64_t one = 1ull << (sig - 1);
    pid_t me = my_tid();
    for (;;) {
        syscall(SYS_rt_sigprocmask, SIG_BLOCK, &one, &g->mask, 8);
        g->blocked = 1;
        int k = -1;
        for (int i = 0; i < CRS_MAX_EXECING && k < 0; i++) {
            pid_t free_slot = 0;
            if (atomic_compare_exchange_strong(&execing[i], &free_slot, me))
                k = i;
        }
        if (k >= 0 && atomic_load(&phase) == PHASE_IDLE) {
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
            atomic_store(&execing[k], 0);
        syscall(SYS_rt_sigprocmask, SIG_SETMASK, &g->mask, NULL, 8);
        g->blocked = 0;
        uint32_t gen = atomic_load(&release_gen);
        if (atomic_load(&phase) == PHASE_PARKING)
            futex_wait(&release_gen, gen, 10);
        else if (k < 0) {
            struct timespec ts = { 0, 1000000L };
            nanosleep(&ts, NULL);
        }
    }
}

void crs_park_exec_leave(const struct crs_exec_guard *g)
{
    if (g->slot >= 0 && g->slot < CRS_MAX_EXECING)
        atomic_store(&execing[g->slot], 0);
    /* a park signal sent from here on (or held while blocked) parks us */
    if (g->blocked)
        syscall(SYS_rt_sigprocmask, SIG_SETMASK, &g->mask, NULL, 8);
}

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
    uint32_t ns = atomic_load(&nslots);
    for (uint32_t i = 0; i < ns && i < CRS_MAX_THREADS; i++)
        if (tids_now[i] && slots[i] && slots[i]->tid == old)
            return tids_now[i];
    return old;
}

struct signal_walk {
    long nsig;
    pid_t self;
    int nested;
    pid_t execing;   /* a thread left unsignalled because it is inside execve */
};

static int is_execing(pid_t tid)
{
    for (int i = 0; i < CRS_MAX_EXECING; i++)
        if (atomic_load(&execing[i]) == tid)
            return 1;
    return 0;
}

/* Slots of threads that are not ours (any more): none should be (a forked
 * child clears the table, vfork children take none), but a slot left so
 * would hold every round up until its timeout. */
static void forget_foreign_execing(void)
{
    pid_t pid = getpid();
    for (int i = 0; i < CRS_MAX_EXECING; i++) {
        pid_t t = atomic_load(&execing[i]);
        if (t && syscall(SYS_tgkill, pid, t, 0) != 0 && errno == ESRCH)
            atomic_compare_exchange_strong(&execing[i], &t, 0);
    }
}

static long signal_one(long n, int dirfd, void *arg)
{
    (void)dirfd;
    struct signal_walk *sw = arg;
    pid_t outer = (pid_t)n, tid = outer;
    if (sw->nested && (tid = inner_tid(outer)) < 0)
        return 0;
    if (tid == sw->self)
        return 0;
    if (is_execing(tid)) {
        sw->execing = tid;   /* signalled once it is out of execve (or gone with us) */
        return 0;
    }
    for (long i = 0; i < sw->nsig; i++)
        if (signaled[i] == tid)
            return 0;
    if (sw->nsig == CRS_MAX_THREADS)
        return -E2BIG;
    if (syscall(SYS_tgkill, getpid(), tid, park_sig) == 0) {
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
    uint32_t ns = atomic_load(&nslots);
    for (long i = 0; i < nsig; i++) {
        int parked = 0;
        for (uint32_t j = 0; j < ns && j < CRS_MAX_THREADS && !parked; j++)
            parked = slots[j] && slots[j]->tid == signaled[i];
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
    if (blocked & (1ull << (park_sig - 1)))
        snprintf(err, errlen, "thread %d (%s) blocks every signal, Revive's checkpoint signal %d among them, so it "
                 "cannot be stopped for a checkpoint; glibc makes such threads for POSIX AIO (aio_read...), "
                 "mq_notify and SIGEV_THREAD timers made before libcr was loaded: let libcr load first "
                 "(cr_run, or -lcr), or end those before the checkpoint", tid, name, park_sig);
    else
        snprintf(err, errlen, "thread %d (%s) did not stop within %d ms although it does not block signal %d, "
                 "Revive's checkpoint signal (is it stuck in the kernel, or traced?)", tid, name, timeout_ms,
                 park_sig);
}


static int is_parked(pid_t tid)
{
    uint32_t ns = atomic_load(&nslots);
    for (uint32_t j = 0; j < ns && j < CRS_MAX_THREADS; j++)
        if (slots[j] && slots[j]->tid == tid)
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
    return park_sig > 0 && (blocked & (1ull << (park_sig - 1))) != 0;
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
    uint32_t n = atomic_load(&ndeferring);
    for (uint32_t i = 0; i < n && i < CRS_MAX_THREADS; i++)
        if (deferring_call[i] && deferring[i] && !is_parked(deferring[i]))
            syscall(SYS_tgkill, getpid(), deferring[i], park_sig);
}

long crs_park_all(int timeout_ms, char *err, size_t errlen)
{
    pid_t self = my_tid();
    atomic_store(&nslots, 0);
    atomic_store(&nparked, 0);
    atomic_store(&nrestored, 0);
    memset(slots, 0, sizeof slots);
    memset(attr_slots, 0, sizeof attr_slots);
    memset(tids_now, 0, sizeof tids_now);
    memset(signaled, 0, sizeof signaled);
    atomic_store(&ndeferring, 0);
    memset(deferring, 0, sizeof deferring);
    memset(deferring_call, 0, sizeof deferring_call);
    atomic_store(&ntq, 0);
    atomic_store(&nmq, 0);
    atomic_store(&main_parked, 0);
    atomic_store(&ntt, 0);
    tq_timers = timer_signals();
    tq_leave = park_sig > 0 ? 1ull << (park_sig - 1) : 0;
    if (crs_seccomp_notes_installed()) {   /* own_pending's without /proc */
        static char st[4096];
        uint64_t shd = ~0ull;
        long r = revive_read_file("/proc/self/status", st, sizeof st);
        if ((r > 0 || r == -ENOSPC) && revive_status_x64(st, "ShdPnd", &shd) != 0)
            shd = ~0ull;
        atomic_store(&shared_at_park, shd);
    }
    atomic_fetch_add(&park_round, 1);
    forget_foreign_execing();
    atomic_store(&phase, PHASE_PARKING);
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
            uint32_t p = atomic_load(&nparked);
            if ((long)p >= expect)
                break;
            if (waited >= timeout_ms) {
                if (is_deferring(straggler))
                    snprintf(err, errlen, "thread %d stayed inside a section that defers checkpoints "
                             "(crs_park_defer_enter) for more than %d ms", straggler, timeout_ms);
                else
                    describe_straggler(straggler, timeout_ms, err, errlen);
                crs_park_release();
                return -ETIMEDOUT;
            }
            futex_wait(&nparked, p, 10);
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
    return (long)atomic_load(&nparked);
}

/* A thread counts itself parked just before it goes to sleep; until it is
 * asleep it still writes its own stack (the futex calls' frames), which the
 * image must not catch half-changed. Waits until every parked thread sleeps. */
static int all_asleep(int timeout_ms)
{
    uint32_t ns = atomic_load(&nslots);
    for (uint32_t i = 0; i < ns && i < CRS_MAX_THREADS; i++) {
        if (!slots[i])
            continue;
        char buf[1024];
        pid_t proc_tid = crs_park_proc_tid(slots[i]->tid);
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

int crs_park_restored(size_t i)
{
    return i < CRS_MAX_THREADS && tids_now[i] != 0;
}

struct crs_rec_thread_attr *crs_park_attr(size_t i)
{
    return i < CRS_MAX_THREADS ? attr_slots[i] : NULL;
}

struct crs_rec_thread *const *crs_park_records(size_t *n)
{
    uint32_t ns = atomic_load(&nslots);
    *n = ns < CRS_MAX_THREADS ? ns : CRS_MAX_THREADS;
    return slots;
}

void crs_park_release_holding(int (*hold)(void *arg, pid_t tid), void *arg)
{
    uint32_t ns = atomic_load(&nslots);
    int any = 0;
    for (uint32_t i = 0; i < ns && i < CRS_MAX_THREADS; i++) {
        held[i] = slots[i] && hold(arg, slots[i]->tid);
        any |= held[i];
    }
    if (any)
        atomic_store(&holding, 1);
    crs_park_release();
}

void crs_park_release_restarted(int (*hold)(void *arg, pid_t tid), void *arg)
{
    /* held[] came back with the image: every slot is decided again */
    uint32_t ns = atomic_load(&nslots);
    int any = 0;
    for (uint32_t i = 0; i < ns && i < CRS_MAX_THREADS; i++) {
        held[i] = hold && slots[i] && tids_now[i] && hold(arg, tids_now[i]);
        /* none runs on before the seccomp filters that wait for the unhold went in */
        held[i] |= slots[i] && tids_now[i] && crs_seccomp_restore_waiting();
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
    futex_wake(&holding);
}

void crs_park_release(void)
{
    if (!atomic_load(&main_parked))
        drain_mq(1);   /* no main thread to queue them with their senders */
    atomic_store(&phase, PHASE_IDLE);
    atomic_fetch_add(&release_gen, 1);
    futex_wake(&release_gen);
}

void crs_park_wait_restored(size_t n)
{
    for (;;) {
        uint32_t v = atomic_load(&nrestored);
        if (v >= n)
            return;
        futex_wait(&nrestored, v, 100);
    }
}
