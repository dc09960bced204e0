/*
 * State test: signals and other per-process settings. The program installs
 * its own handlers (SA_SIGINFO, SA_ONSTACK, SA_RESETHAND, SA_RESTART, handler
 * masks, SIG_IGN), an alternate signal stack, a signal mask, a pending
 * blocked signal, an armed ITIMER_REAL, and lowered rlimits. After the
 * checkpoint each must be as it was and work: handlers run, on the alternate
 * stack where asked, the pending signal arrives once when unblocked.
 * Checkpoint point 2 is taken inside a handler running on the alternate
 * stack, so restore must return through the signal frame.
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#define ALT_SIZE (64 * 1024)

static volatile sig_atomic_t usr1_count, usr2_count, usr2_on_alt, hup_count, alrm_count,
    rt_count, rt_value, in_handler_point, winch_count;
static char *alt_mem;

static int on_alt_stack(void *p)
{
    return (char *)p >= alt_mem && (char *)p < alt_mem + ALT_SIZE;
}

static void on_usr1(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)si;
    (void)uc;
    usr1_count++;
}

static void on_usr2(int sig)
{
    int local;
    (void)sig;
    usr2_count++;
    usr2_on_alt = on_alt_stack(&local);
    if (in_handler_point) {
        stack_t cur;
        in_handler_point = 0;
        sigaltstack(NULL, &cur);
        crt_check("2nd point reached on the alternate stack",
                  usr2_on_alt && (cur.ss_flags & SS_ONSTACK), "on_alt=%d ss_flags=%#x",
                  (int)usr2_on_alt, cur.ss_flags);
        crt_checkpoint_point(2);
        sigaltstack(NULL, &cur);
        crt_check("still on the alternate stack after the 2nd point",
                  on_alt_stack(&local) && (cur.ss_flags & SS_ONSTACK), "ss_flags=%#x",
                  cur.ss_flags);
    }
}

static void on_hup(int sig)
{
    (void)sig;
    hup_count++;
}

static void on_winch(int sig)
{
    (void)sig;
    winch_count++;
}

static void on_alrm(int sig)
{
    (void)sig;
    alrm_count++;
}

static void on_rt(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    rt_count++;
    rt_value = si->si_value.sival_int;
}

struct watched {
    int sig;
    const char *name;
    struct sigaction before;
};
static struct watched watched[] = {
    {.sig = SIGUSR1, .name = "SIGUSR1"}, {.sig = SIGUSR2, .name = "SIGUSR2"},
    {.sig = SIGHUP, .name = "SIGHUP"},   {.sig = SIGALRM, .name = "SIGALRM"},
    {.sig = SIGPIPE, .name = "SIGPIPE"}, {.sig = SIGTERM, .name = "SIGTERM"},
    {.sig = 0, .name = "SIGRTMIN+4"},
};
#define NWATCHED (sizeof(watched) / sizeof(watched[0]))

static int same_sigaction(const struct sigaction *a, const struct sigaction *b)
{
    return a->sa_sigaction == b->sa_sigaction && a->sa_flags == b->sa_flags &&
           memcmp(&a->sa_mask, &b->sa_mask, 8) == 0;
}

static uint64_t mask_bits(const sigset_t *s)
{
    uint64_t b = 0;
    for (int i = 1; i <= 64; i++)
        if (sigismember(s, i) == 1)
            b |= 1ULL << (i - 1);
    return b;
}

static void install(int sig, void *fn, int flags, int mask_sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    if (flags & SA_SIGINFO)
        sa.sa_sigaction = fn;
    else
        sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (mask_sig)
        sigaddset(&sa.sa_mask, mask_sig);
    if (sigaction(sig, &sa, NULL) < 0)
        crt_die("sigaction %d: %s", sig, strerror(errno));
}

int main(void)
{
    stack_t ss, cur;
    sigset_t blk, now, pend;
    struct itimerval itv;
    struct rlimit rl_nofile, rl_core, r;
    uint64_t mask_before;
    int rtsig = SIGRTMIN + 4;
    int pfd[2];

    watched[NWATCHED - 1].sig = rtsig;
    alt_mem = malloc(ALT_SIZE);
    ss.ss_sp = alt_mem;
    ss.ss_size = ALT_SIZE;
    ss.ss_flags = 0;
    if (!alt_mem || sigaltstack(&ss, NULL) < 0)
        crt_die("sigaltstack: %s", strerror(errno));

    install(SIGUSR1, (void *)on_usr1, SA_SIGINFO | SA_RESTART, SIGHUP);
    install(SIGUSR2, (void *)on_usr2, SA_ONSTACK, 0);
    install(SIGHUP, (void *)on_hup, SA_RESETHAND, 0);
    install(SIGALRM, (void *)on_alrm, SA_RESTART, 0);
    install(SIGWINCH, (void *)on_winch, SA_RESTART, 0);
    install(rtsig, (void *)on_rt, SA_SIGINFO, SIGUSR2);
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < NWATCHED; i++)
        sigaction(watched[i].sig, NULL, &watched[i].before);

    sigemptyset(&blk);
    sigaddset(&blk, SIGUSR1);
    sigaddset(&blk, SIGWINCH);
    sigaddset(&blk, SIGURG);
    sigprocmask(SIG_BLOCK, &blk, NULL);
    sigprocmask(SIG_BLOCK, NULL, &now);
    mask_before = mask_bits(&now);
    raise(SIGUSR1);            /* stays pending for this thread: blocked */
    kill(getpid(), SIGWINCH); /* stays pending for the process: blocked */

    itv.it_interval.tv_sec = 0;
    itv.it_interval.tv_usec = 0;
    itv.it_value.tv_sec = 1000;
    itv.it_value.tv_usec = 0;
    setitimer(ITIMER_REAL, &itv, NULL);

    getrlimit(RLIMIT_NOFILE, &rl_nofile);
    rl_nofile.rlim_cur = 200;
    getrlimit(RLIMIT_CORE, &rl_core);
    rl_core.rlim_cur = 0;
    if (setrlimit(RLIMIT_NOFILE, &rl_nofile) < 0 || setrlimit(RLIMIT_CORE, &rl_core) < 0)
        crt_die("setrlimit: %s", strerror(errno));

    raise(SIGUSR2);
    crt_check("SIGUSR2 ran on the alternate stack", usr2_count == 1 && usr2_on_alt,
              "count %d on_alt %d", (int)usr2_count, (int)usr2_on_alt);
    sigpending(&pend);
    crt_check("SIGUSR1 pending while blocked", sigismember(&pend, SIGUSR1) && usr1_count == 0,
              "pending %d count %d", sigismember(&pend, SIGUSR1), (int)usr1_count);
    crt_check("SIGWINCH pending while blocked", sigismember(&pend, SIGWINCH) && winch_count == 0,
              "pending %d count %d", sigismember(&pend, SIGWINCH), (int)winch_count);

    crt_checkpoint_point(1);

    for (size_t i = 0; i < NWATCHED; i++) {
        struct sigaction sa;
        char name[64];
        sigaction(watched[i].sig, NULL, &sa);
        snprintf(name, sizeof(name), "disposition of %s kept", watched[i].name);
        crt_check(name, same_sigaction(&sa, &watched[i].before),
                  "handler %p flags %#x, was %p flags %#x", (void *)sa.sa_sigaction,
                  (unsigned)sa.sa_flags, (void *)watched[i].before.sa_sigaction,
                  (unsigned)watched[i].before.sa_flags);
    }
    sigprocmask(SIG_BLOCK, NULL, &now);
    crt_check_u64("signal mask kept", mask_bits(&now), mask_before);
    sigaltstack(NULL, &cur);
    crt_check("alternate stack kept",
              cur.ss_sp == alt_mem && cur.ss_size == ALT_SIZE && cur.ss_flags == 0,
              "sp %p size %zu flags %#x", cur.ss_sp, cur.ss_size, cur.ss_flags);
    sigpending(&pend);
    crt_check("SIGUSR1 (raised: thread-directed) still pending",
              sigismember(&pend, SIGUSR1) == 1 && usr1_count == 0, "pending %d count %d",
              sigismember(&pend, SIGUSR1), (int)usr1_count);
    crt_check("SIGWINCH (kill: process-directed) still pending",
              sigismember(&pend, SIGWINCH) == 1 && winch_count == 0, "pending %d count %d",
              sigismember(&pend, SIGWINCH), (int)winch_count);
    sigprocmask(SIG_UNBLOCK, &blk, NULL);
    crt_check("pending SIGUSR1 delivered once when unblocked", usr1_count == 1, "count %d",
              (int)usr1_count);
    crt_check("pending SIGWINCH delivered once when unblocked", winch_count == 1, "count %d",
              (int)winch_count);
    sigprocmask(SIG_BLOCK, &blk, NULL);

    usr2_on_alt = 0;
    raise(SIGUSR2);
    crt_check("SIGUSR2 runs on the alternate stack", usr2_count == 2 && usr2_on_alt,
              "count %d on_alt %d", (int)usr2_count, (int)usr2_on_alt);
    raise(SIGHUP);
    {
        struct sigaction sa;
        sigaction(SIGHUP, NULL, &sa);
        crt_check("SA_RESETHAND handler ran once and reset",
                  hup_count == 1 && sa.sa_handler == SIG_DFL, "count %d", (int)hup_count);
    }
    {
        union sigval v = {.sival_int = 4242};
        sigqueue(getpid(), rtsig, v);
        crt_check("real-time signal with a value", rt_count == 1 && rt_value == 4242,
                  "count %d value %d", (int)rt_count, (int)rt_value);
    }
    if (pipe(pfd) == 0) {
        ssize_t n;
        close(pfd[0]);
        n = write(pfd[1], "x", 1);
        crt_check("SIGPIPE still ignored", n < 0 && errno == EPIPE, "write gave %zd", n);
        close(pfd[1]);
    }
    getitimer(ITIMER_REAL, &itv);
    crt_check("ITIMER_REAL still armed",
              itv.it_value.tv_sec > 0 && itv.it_value.tv_sec <= 1000 && alrm_count == 0,
              "value %lds, fired %d", (long)itv.it_value.tv_sec, (int)alrm_count);
    getrlimit(RLIMIT_NOFILE, &r);
    crt_check("RLIMIT_NOFILE kept", r.rlim_cur == 200 && r.rlim_max == rl_nofile.rlim_max,
              "cur %llu max %llu", (unsigned long long)r.rlim_cur,
              (unsigned long long)r.rlim_max);
    getrlimit(RLIMIT_CORE, &r);
    crt_check("RLIMIT_CORE kept", r.rlim_cur == 0 && r.rlim_max == rl_core.rlim_max,
              "cur %llu max %llu", (unsigned long long)r.rlim_cur,
              (unsigned long long)r.rlim_max);

    /* Point 2 inside the SIGUSR2 handler, on the alternate stack. */
    in_handler_point = 1;
    raise(SIGUSR2);
    crt_check("returned from the handler", usr2_count == 3 && in_handler_point == 0, "count %d",
              (int)usr2_count);
    sigprocmask(SIG_BLOCK, NULL, &now);
    crt_check_u64("signal mask kept after the 2nd point", mask_bits(&now), mask_before);
    sigaltstack(NULL, &cur);
    crt_check("off the alternate stack again", cur.ss_flags == 0, "ss_flags %#x", cur.ss_flags);
    raise(SIGUSR2);
    crt_check("SIGUSR2 still works", usr2_count == 4 && usr2_on_alt, "count %d", (int)usr2_count);

    itv.it_value.tv_sec = 0;
    setitimer(ITIMER_REAL, &itv, NULL);
    crt_finish();
}
