/*
 * State test: POSIX timers whose signals are queued at the checkpoint and
 * several timers sharing one signal (issue 10). Before each point, with the
 * signals blocked:
 *   alpha, beta  SIGRTMIN+4, sigev_value a pointer to a struct of the
 *                program (alpha one-shot, beta periodic every hour, so its
 *                overrun stays 0), both expired: two signals queued
 *   c300, d400   SIGUSR2 (a standard signal), values 300 and 400, both
 *                one-shot and expired: two signals queued
 *   fast         SIGRTMIN+5 every 2 ms, expired 20 ms or more ago: one
 *                signal queued with an overrun of at least 5
 * After each point the program takes the queued signals (sigtimedwait):
 * each timer's exactly once, as SI_TIMER with its own id and value (the
 * pointers still lead to their structs), overrun 0 but for fast, whose
 * overrun is at least 5 and what timer_getoverrun says; then each timer
 * fires again once unblocked (a handler). A restart that gave a bare signal,
 * one signal for two timers or another timer's id fails here.
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct named {
    char name[16];
    int serial;
};
static struct named obj_alpha = { "alpha", 1 }, obj_beta = { "beta", 2 };

#define NT 5
static timer_t tm[NT];
static const char *tname[NT] = { "alpha", "beta", "c300", "d400", "fast" };
static int tsig[NT];
static volatile sig_atomic_t fired[NT];

static int which(int timerid)
{
    for (int i = 0; i < NT; i++)
        if ((int)(intptr_t)tm[i] == timerid)
            return i;
    return -1;
}

static void on_timer(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    int i = si->si_code == SI_TIMER ? which(si->si_timerid) : -1;
    if (i >= 0)
        fired[i]++;
}

static void make(int i, int sig, union sigval v)
{
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = sig;
    ev.sigev_value = v;
    tsig[i] = sig;
    if (timer_create(CLOCK_MONOTONIC, &ev, &tm[i]) != 0)
        crt_die("timer_create: %s", strerror(errno));
}

static void arm(int i, long first_ms, long every_ms)
{
    struct itimerspec its = { { every_ms / 1000, (every_ms % 1000) * 1000000L },
                              { first_ms / 1000, (first_ms % 1000) * 1000000L } };
    if (timer_settime(tm[i], 0, &its, NULL) != 0)
        crt_die("timer_settime: %s", strerror(errno));
}

static sigset_t ours(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGRTMIN + 4);
    sigaddset(&s, SIGRTMIN + 5);
    sigaddset(&s, SIGUSR2);
    return s;
}

/* Queues one signal of every timer (they expire while blocked). */
static void queue_all(void)
{
    sigset_t s = ours();
    sigprocmask(SIG_BLOCK, &s, NULL);
    arm(0, 5, 0);
    arm(1, 5, 3600 * 1000L);
    arm(2, 5, 0);
    arm(3, 5, 0);
    arm(4, 2, 2);
    crt_sleep_ms(30);
    /* every one-shot has expired, beta once */
    for (int k = 0; k < 60000; k++) {
        struct itimerspec a, c, d, b;
        timer_gettime(tm[0], &a), timer_gettime(tm[2], &c), timer_gettime(tm[3], &d), timer_gettime(tm[1], &b);
        if (!a.it_value.tv_sec && !a.it_value.tv_nsec && !c.it_value.tv_sec && !c.it_value.tv_nsec &&
            !d.it_value.tv_sec && !d.it_value.tv_nsec && b.it_value.tv_sec < 3599)
            break;
        crt_sleep_ms(1);
    }
}

static void take_all(int n)
{
    sigset_t s = ours();
    struct timespec zero = { 0, 0 };
    siginfo_t si;
    int got[NT] = { 0 }, bad = 0, fast_over = -1, fast_get = -2;
    char what[256] = "";
    int r;
    while ((r = sigtimedwait(&s, &si, &zero)) > 0) {
        int i = si.si_code == SI_TIMER ? which(si.si_timerid) : -1;
        if (i < 0 || tsig[i] != r) {
            if (!bad++)
                snprintf(what, sizeof what, "signal %d code %d timerid %d", r, si.si_code, si.si_timerid);
            continue;
        }
        if (i == 4 && got[4])
            continue;   /* fast came again meanwhile (it runs on once taken) */
        got[i]++;
        int value_ok = i == 0   ? si.si_value.sival_ptr == &obj_alpha && !strcmp(obj_alpha.name, "alpha")
                       : i == 1 ? si.si_value.sival_ptr == &obj_beta && ((struct named *)si.si_value.sival_ptr)->serial == 2
                       : i == 2 ? si.si_value.sival_int == 300
                       : i == 3 ? si.si_value.sival_int == 400
                                : si.si_value.sival_int == 500;
        if (i == 4) {
            fast_over = si.si_overrun;
            fast_get = timer_getoverrun(tm[4]);
        } else if (si.si_overrun != 0 || timer_getoverrun(tm[i]) != 0) {
            value_ok = 0;
        }
        if (!value_ok && !bad++)
            snprintf(what, sizeof what, "%s: value or overrun wrong (overrun %d)", tname[i], si.si_overrun);
    }
    arm(4, 0, 0);
    while (sigtimedwait(&s, &si, &zero) > 0)   /* fast's, should it have come again */
        ;
    char name[128];
    snprintf(name, sizeof name, "point %d: each timer's queued signal once, with its own id and value", n);
    crt_check(name, !bad && got[0] == 1 && got[1] == 1 && got[2] == 1 && got[3] == 1 && got[4] == 1,
              "%s; alpha %d beta %d c300 %d d400 %d fast %d", what, got[0], got[1], got[2], got[3], got[4]);
    snprintf(name, sizeof name, "point %d: fast's overrun counted (at least 5) and timer_getoverrun agrees", n);
    crt_check(name, fast_over >= 5 && fast_get == fast_over, "si_overrun %d, timer_getoverrun %d", fast_over,
              fast_get);
    /* and each fires again, through the handler */
    for (int i = 0; i < NT; i++)
        fired[i] = 0;
    for (int i = 0; i < 4; i++)
        arm(i, 3 + i, 0);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    for (int k = 0; k < 60000 && !(fired[0] && fired[1] && fired[2] && fired[3]); k++)
        crt_sleep_ms(1);
    arm(1, 0, 0);
    snprintf(name, sizeof name, "point %d: the four fire again to their handler", n);
    crt_check(name, fired[0] == 1 && fired[1] == 1 && fired[2] == 1 && fired[3] == 1, "%d %d %d %d", fired[0],
              fired[1], fired[2], fired[3]);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_timer;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGRTMIN + 4, &sa, NULL);
    sigaction(SIGRTMIN + 5, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    make(0, SIGRTMIN + 4, (union sigval){ .sival_ptr = &obj_alpha });
    make(1, SIGRTMIN + 4, (union sigval){ .sival_ptr = &obj_beta });
    make(2, SIGUSR2, (union sigval){ .sival_int = 300 });
    make(3, SIGUSR2, (union sigval){ .sival_int = 400 });
    make(4, SIGRTMIN + 5, (union sigval){ .sival_int = 500 });
    int distinct = 1;
    for (int i = 0; i < NT; i++)
        for (int k = 0; k < i; k++)
            distinct &= tm[i] != tm[k];
    crt_check("five timers, five ids, two sharing SIGRTMIN+4 and two SIGUSR2", distinct, "ids not distinct");
    for (int n = 1; n <= 2; n++) {
        queue_all();
        crt_checkpoint_point(n);
        take_all(n);
    }
    crt_finish();
}
