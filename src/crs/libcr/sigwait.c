/* A thread that waits for signals (sigwait, sigwaitinfo, sigtimedwait) or reads a signalfd takes
 * the signals of its set off its queue itself, and no handler runs for them. With Revive's park
 * signal in the set (a program that waits for "every signal" made by sigfillset, as daemons and
 * some MPI codes do, its mask blocking every signal but the park signal: interpose.c), the wait
 * took the park signal as the program's: the thread was never parked (the checkpoint waited for it
 * until its timeout) and the program got a signal it never asked for. These calls take the park
 * signal out of the set, as the mask calls do: the park signal then comes through its handler,
 * which parks the thread inside the wait; the wait goes on afterwards (sigwait's glibc loop; for
 * sigwaitinfo and sigtimedwait, which Linux never restarts after a handler, the call is made
 * again when only the park interrupted it, crs_park_call_*, a timeout with the time it had left).
 * A signalfd's mask loses it too: the park signal is sent to one thread, and a read of a signalfd
 * by that thread while the signal came took it. A set the program made naming the park signal
 * itself (not every real-time signal) is said once on stderr (interpose.c's line).
 * The calls that wait under a mask of their own (sigsuspend, ppoll, pselect, epoll_pwait) set it
 * in the kernel, past the mask calls' wrappers: a mask blocking every signal (a daemon that waits
 * for its descriptors only and takes its signals from a signalfd) blocked the park signal for the
 * whole wait; theirs lose it too (the park's EINTR is then the program's to handle, as for any
 * signal these calls return on). Not seen: the raw system calls (rt_sigtimedwait, signalfd4,
 * rt_sigsuspend, ppoll, pselect6, epoll_pwait by syscall(2) or in assembly), epoll_pwait2. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <time.h>

#include "common/clock.h"
#include "crs/base/capture_filter.h"
#include "crs/libcr/runtime.h"

#ifdef REVIVE_LIBCR_STATIC
int __real_sigwait(const sigset_t *, int *);
int __real_sigwaitinfo(const sigset_t *, siginfo_t *);
int __real_sigtimedwait(const sigset_t *, siginfo_t *, const struct timespec *);
int __real_signalfd(int, const sigset_t *, int);
int __wrap_sigwait(const sigset_t *, int *);
int __wrap_sigwaitinfo(const sigset_t *, siginfo_t *);
int __wrap_sigtimedwait(const sigset_t *, siginfo_t *, const struct timespec *);
int __wrap_signalfd(int, const sigset_t *, int);
int __real_sigsuspend(const sigset_t *);
int __real_ppoll(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
int __real_pselect(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
int __real_epoll_pwait(int, struct epoll_event *, int, int, const sigset_t *);
int __wrap_sigsuspend(const sigset_t *);
int __wrap_ppoll(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
int __wrap_pselect(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
int __wrap_epoll_pwait(int, struct epoll_event *, int, int, const sigset_t *);
#endif

typedef int (*sigwait_fn)(const sigset_t *, int *);
typedef int (*sigtimedwait_fn)(const sigset_t *, siginfo_t *, const struct timespec *);
typedef int (*signalfd_fn)(int, const sigset_t *, int);

/* set without the park signal (copy, or set itself when it lacks it); `call` named once when the
 * program named the park signal rather than a range of signals */
static const sigset_t *without_park(const sigset_t *set, sigset_t *copy, const char *call)
{
    int sig = crs_runtime_park_signal();
    if (!set || !sig || !sigismember(set, sig))
        return set;
    int range = 1;
    for (int s = SIGRTMIN; s <= SIGRTMAX && range; s++)
        range = sigismember(set, s) == 1;
    if (!range)
        crs_interpose_tell_waited(call, sig);
    *copy = *set;
    sigdelset(copy, sig);
    return copy;
}

int CRS_INTERPOSE(sigwait)(const sigset_t *set, int *sig)
{
    static sigwait_fn real;
    if (!real)
        real = CRS_NEXT(sigwait_fn, sigwait);
    sigset_t copy;
    return real(without_park(set, &copy, "sigwait"), sig); /* glibc's loops on EINTR */
}

/* sigtimedwait made again while only the park interrupted it, with the time it had left (a
 * timeout the kernel refuses, or a huge one, as given each time: revive_wait_bound) */
static int timed(sigtimedwait_fn real, const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
    struct revive_wait_bound bound;
    revive_wait_bound_start(&bound, timeout);
    for (;;) {
        struct timespec left;
        const struct timespec *t = revive_wait_bound_next(&bound, &left);
        struct crs_park_call pc;
        crs_park_call_begin(&pc);
        int r = real(set, info, t);
        int e = errno;
        crs_park_call_end();
        if (r >= 0)
            return r;
        if (e == EINTR && crs_park_call_again(&pc, revive_wait_bound_deadline(&bound)))
            continue;
        errno = e;
        return -1;
    }
}

int CRS_INTERPOSE(sigtimedwait)(const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
    static sigtimedwait_fn real;
    if (!real)
        real = CRS_NEXT(sigtimedwait_fn, sigtimedwait);
    sigset_t copy;
    return timed(real, without_park(set, &copy, "sigtimedwait"), info, timeout);
}

int CRS_INTERPOSE(sigwaitinfo)(const sigset_t *set, siginfo_t *info)
{
    static sigtimedwait_fn real;
    if (!real)
        real = CRS_NEXT(sigtimedwait_fn, sigtimedwait);
    sigset_t copy;
    return timed(real, without_park(set, &copy, "sigwaitinfo"), info, NULL);
}

int CRS_INTERPOSE(signalfd)(int fd, const sigset_t *mask, int flags)
{
    static signalfd_fn real;
    if (!real)
        real = CRS_NEXT(signalfd_fn, signalfd);
    sigset_t copy;
    return real(fd, without_park(mask, &copy, "signalfd"), flags);
}

/* ---- waits under a mask of their own ---- */

static const sigset_t *mask_without_park(const sigset_t *mask, sigset_t *copy)
{
    int sig = crs_runtime_park_signal();
    if (!mask || !sig || !sigismember(mask, sig))
        return mask;
    *copy = *mask;
    sigdelset(copy, sig);
    return copy;
}

typedef int (*sigsuspend_fn)(const sigset_t *);
typedef int (*ppoll_fn)(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *);
typedef int (*pselect_fn)(int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *);
typedef int (*epoll_pwait_fn)(int, struct epoll_event *, int, int, const sigset_t *);

int CRS_INTERPOSE(sigsuspend)(const sigset_t *mask)
{
    static sigsuspend_fn real;
    if (!real)
        real = CRS_NEXT(sigsuspend_fn, sigsuspend);
    sigset_t copy;
    return real(mask_without_park(mask, &copy));
}

int CRS_INTERPOSE(ppoll)(struct pollfd *fds, nfds_t n, const struct timespec *timeout, const sigset_t *mask)
{
    static ppoll_fn real;
    if (!real)
        real = CRS_NEXT(ppoll_fn, ppoll);
    sigset_t copy;
    return real(fds, n, timeout, mask_without_park(mask, &copy));
}

int CRS_INTERPOSE(pselect)(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *timeout,
                           const sigset_t *mask)
{
    static pselect_fn real;
    if (!real)
        real = CRS_NEXT(pselect_fn, pselect);
    sigset_t copy;
    return real(n, r, w, e, timeout, mask_without_park(mask, &copy));
}

int CRS_INTERPOSE(epoll_pwait)(int epfd, struct epoll_event *ev, int max, int timeout, const sigset_t *mask)
{
    static epoll_pwait_fn real;
    if (!real)
        real = CRS_NEXT(epoll_pwait_fn, epoll_pwait);
    sigset_t copy;
    return real(epfd, ev, max, timeout, mask_without_park(mask, &copy));
}
