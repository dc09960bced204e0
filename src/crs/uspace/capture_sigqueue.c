/* Real-time signals queued for the process, with their siginfo. The
 * pending mask (/proc status ShdPnd) says only which signals wait, once
 * each: sigqueue(3)'d values, several instances of one signal and their
 * senders would come back as one bare kill(2). The kernel shows a queue only
 * to a tracer (PTRACE_PEEKSIGINFO), which a thread of the process cannot be;
 * so the checkpoint thread, with every other thread parked and every signal
 * blocked, takes the process-directed ones off the queue (rt_sigtimedwait,
 * no wait), records them and queues them again at once, in the same order
 * (rt_sigqueueinfo keeps si_code, sender and value). The restart queues the
 * records from the main thread (restore_switch.c).
 *
 * Signals queued to one thread: only that thread can take them off its
 * queue, which each does while it parks (park.c, take_own_queue); their
 * records (tid set) follow the process's here, and the restart queues each
 * to its thread again.
 *
 * Left alone: standard signals (1-31: one instance each, the mask restores
 * them), signals a POSIX timer of the process delivers (dequeuing one
 * rearms the timer) and Revive's park signal. A record whose si_code is
 * not negative (sent with kill(2), or by the kernel) cannot be queued again
 * from this thread with its sender (the kernel allows that only to a
 * process's main thread): it is raised with kill(2) in the running process,
 * and comes back exact after a restart. */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"
#include "crs/uspace/park.h"

#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CRS_SIGQUEUE_MAX 4096   /* records at most; more stay queued, as bits */

void crs_capture_sigqueue(struct crs_capture *c)
{
    uint64_t take = c->proc.shared_pending & ~((1ull << (SIGRTMIN - 1)) - 1);
    int park = crs_park_signal();
    if (park > 0)
        take &= ~(1ull << (park - 1));
    for (size_t i = 0; i < c->ntimers; i++)
        if (c->timers[i].signo > 0 && c->timers[i].signo <= 64)
            take &= ~(1ull << (c->timers[i].signo - 1));
    size_t nthr = 0;
    const struct crs_rec_siginfo *thr = crs_park_thread_siginfos(&nthr);
    if (!take && !nthr)
        return;
    c->siginfos = crs_scratch_alloc(c->scratch, CRS_SIGQUEUE_MAX * sizeof *c->siginfos);
    if (!c->siginfos)
        return;
    pid_t pid = getpid();
    struct timespec now = { 0, 0 };
    /* signal by signal, lowest first, as the kernel delivers them; each
     * signal's instances in their order */
    for (int s = SIGRTMIN; s <= 64 && c->nsiginfos < CRS_SIGQUEUE_MAX; s++) {
        if (!((take >> (s - 1)) & 1))
            continue;
        uint64_t one = 1ull << (s - 1);
        size_t first = c->nsiginfos;
        siginfo_t si;
        while (c->nsiginfos < CRS_SIGQUEUE_MAX && syscall(SYS_rt_sigtimedwait, &one, &si, &now, 8) == s) {
            struct crs_rec_siginfo *r = &c->siginfos[c->nsiginfos++];
            memset(r, 0, sizeof *r);
            memcpy(r->info, &si, sizeof si < sizeof r->info ? sizeof si : sizeof r->info);
        }
        for (size_t k = first; k < c->nsiginfos; k++) {
            memcpy(&si, c->siginfos[k].info, sizeof si);
            if (si.si_code >= 0 || si.si_code == SI_TKILL ||
                syscall(SYS_rt_sigqueueinfo, pid, s, &si) != 0)
                kill(pid, s);
        }
    }
    for (size_t k = 0; k < nthr && c->nsiginfos < CRS_SIGQUEUE_MAX; k++)
        c->siginfos[c->nsiginfos++] = thr[k];
}
