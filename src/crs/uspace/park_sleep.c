#define _GNU_SOURCE
#include "crs/uspace/park_sleep.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* Why two ways of going on. The kernel turns an interrupted sleep's "restart
 * me" into EINTR because a handler ran, but until rt_sigreturn it still holds
 * the call's restart block (nanosleep, clock_nanosleep, timed futex and poll
 * waits): restart_syscall(2) from the handler finishes the call exactly. That
 * block is gone in a process restarted from an image, and after a second park
 * inside the resumed wait (every rt_sigreturn resets it, the inner handler's
 * too): then a sleep goes on to the deadline noted before the first park,
 * and any other call returns EINTR, as the kernel makes it for a signal. */

/* A thread that sleeps through many checkpoints (a poll without timeout) is
 * parked again while it sleeps inside crs_sleep_resume: the inner handler
 * leaves the wait to the outer one (which loops), so the frames do not pile up
 * on its stack checkpoint after checkpoint. */
static __thread int resuming __attribute__((tls_model("initial-exec")));
static __thread int parked_inside __attribute__((tls_model("initial-exec")));
static __thread int restored_inside __attribute__((tls_model("initial-exec")));
/* When this thread last parked (CLOCK_MONOTONIC of the process that parked it). */
static __thread struct timespec parked_at __attribute__((tls_model("initial-exec")));

#define NSEC 1000000000L

static struct timespec ts_add(struct timespec a, struct timespec b)
{
    a.tv_sec += b.tv_sec;
    a.tv_nsec += b.tv_nsec;
    if (a.tv_nsec >= NSEC) {
        a.tv_sec++;
        a.tv_nsec -= NSEC;
    }
    return a;
}

/* a - b, or zero when b is later */
static struct timespec ts_left(struct timespec a, struct timespec b)
{
    struct timespec d = {a.tv_sec - b.tv_sec, a.tv_nsec - b.tv_nsec};
    if (d.tv_nsec < 0) {
        d.tv_sec--;
        d.tv_nsec += NSEC;
    }
    if (d.tv_sec < 0)
        d.tv_sec = d.tv_nsec = 0;
    return d;
}

static int interrupted_call(const ucontext_t *uc)
{
    const greg_t *g = uc->uc_mcontext.gregs;
    const unsigned char *ip = (const unsigned char *)g[REG_RIP];
    return g[REG_RAX] == -EINTR && ip[-2] == 0x0f && ip[-1] == 0x05;
}

/* The number of the call, when the instructions before `syscall` load it as
 * an immediate (glibc's wrappers: b8 imm32 0f 05); -1 when not known. The
 * operands are checked before anything is believed (decode_sleep). */
static long call_number(const ucontext_t *uc)
{
    const unsigned char *ip = (const unsigned char *)uc->uc_mcontext.gregs[REG_RIP];
    if (((uintptr_t)ip & 4095) < 7) /* the mov could be on another page: not read */
        return -1;
    if (ip[-7] != 0xb8)
        return -1;
    uint32_t nr;
    memcpy(&nr, ip - 6, sizeof nr);
    return nr;
}

/* Reads the application's memory without trusting the pointer: 0 or -1. */
static int read_user(void *dst, const void *src, size_t len)
{
    struct iovec local = {dst, len}, remote = {(void *)src, len};
    return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

static int valid_ts(const struct timespec *t)
{
    return t->tv_sec >= 0 && t->tv_nsec >= 0 && t->tv_nsec < NSEC;
}

static void decode_sleep(const ucontext_t *uc, long nr, struct crs_sleep_call *c)
{
    const greg_t *g = uc->uc_mcontext.gregs;
    long clock, flags;
    const void *req;
    struct timespec *rem;
    if (nr == SYS_nanosleep) {
        clock = CLOCK_MONOTONIC;
        flags = 0;
        req = (const void *)g[REG_RDI];
        rem = (struct timespec *)g[REG_RSI];
    } else {
        clock = g[REG_RDI];
        flags = g[REG_RSI];
        req = (const void *)g[REG_RDX];
        rem = (struct timespec *)g[REG_R10];
    }
    if (clock < 0 || clock > CLOCK_TAI || (flags & ~(long)TIMER_ABSTIME) != 0)
        return;
    struct timespec asked, left;
    if (read_user(&asked, req, sizeof asked) != 0 || !valid_ts(&asked))
        return;
    c->clock = (int)clock;
    if (flags & TIMER_ABSTIME) {
        c->absolute = 1;
        c->when = asked;
    } else {
        /* the kernel wrote the time left into rem before the handler ran; without rem the
         * whole request is the bound (never shorter than asked) */
        if (rem && read_user(&left, rem, sizeof left) == 0 && valid_ts(&left))
            c->rem = rem;
        else
            left = asked;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        c->when = ts_add(now, left);
    }
    c->sleep = 1;
}

void crs_sleep_note(const ucontext_t *uc, struct crs_sleep_call *c)
{
    memset(c, 0, sizeof *c);
    c->restartable = 1;
    clock_gettime(CLOCK_MONOTONIC, &parked_at);
    if (!interrupted_call(uc))
        return;
    c->interrupted = 1;
    if (resuming) /* inside the outer handler's wait: that one owns the call */
        return;
    long nr = call_number(uc);
    switch (nr) {
    case SYS_nanosleep:
    case SYS_clock_nanosleep:
        decode_sleep(uc, nr, c);
        break;
    /* waits that end in EINTR with no restart block: restart_syscall would run whatever
     * block the thread last left (e.g. a sleep continued after a SIGSTOP) */
    case SYS_epoll_wait:
    case SYS_epoll_pwait:
    case SYS_select:
    case SYS_pselect6:
    case SYS_ppoll:
    case SYS_pause:
    case SYS_rt_sigsuspend:
    case SYS_rt_sigtimedwait:
        c->restartable = 0;
        break;
    default:
        break;
    }
}

static long raw_result(long r)
{
    return r < 0 ? -errno : r;
}

/* The deadline of a relative sleep whose process was restarted: the time it had left when it
 * parked, from now (the time the image waited is not the program's). */
static struct timespec restarted_deadline(struct timespec when)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return ts_add(now, ts_left(when, parked_at));
}

void crs_sleep_resume(ucontext_t *uc, const struct crs_sleep_call *c, int restarted)
{
    if (!c->interrupted)
        return;
    if (resuming) {
        parked_inside = 1;
        restored_inside |= restarted;
        return;
    }
    resuming = 1;
    /* the thread's mask exactly, by the raw call: glibc's pthread_sigmask never blocks its
     * internal signals 32 and 33, so libcr's timer helper (timers.c), which keeps 32 blocked
     * and pending for its sigtimedwait, was killed by it here (signal 32's default action)
     * whenever a timer had fired while it was parked: crs_timers "stop" every time at load */
    uint64_t inside;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &uc->uc_sigmask, &inside, 8);
    struct timespec when = c->when;
    long r = -EINTR;
    parked_inside = restored_inside = 0;
    if (restarted) {
        if (c->sleep && !c->absolute)
            when = restarted_deadline(when);
    } else if (c->restartable) {
        __asm__ volatile("syscall" : "=a"(r) : "a"((long)SYS_restart_syscall) : "rcx", "r11", "memory");
    }
    while (r == -EINTR && c->sleep && (restarted || parked_inside)) {
        if (restored_inside && !c->absolute)
            when = restarted_deadline(when);
        restarted = parked_inside = restored_inside = 0;
        r = raw_result(syscall(SYS_clock_nanosleep, c->absolute ? c->clock : CLOCK_MONOTONIC,
                               TIMER_ABSTIME, &when, NULL));
    }
    if (r == -EINTR && c->rem) { /* the application's own signal: rem as the kernel gives it */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        *c->rem = ts_left(when, now);
    }
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &inside, NULL, 8);
    resuming = 0;
    uc->uc_mcontext.gregs[REG_RAX] = r;
}
