/*
 * State test: a periodic ITIMER_REAL whose SIGALRM is pending at each point (newuser10 F4: the
 * timer was gone after a restart whenever its SIGALRM was pending at the checkpoint; a program
 * waiting for ticks hung). SIGALRM is blocked, the timer (every 10 ms) armed and let expire, so
 * that at the point its signal waits and the kernel has not armed it again (it does when the
 * signal is taken). After each point: the interval is still 10 ms; SIGALRM unblocked, the handler
 * runs and ticks keep coming (3 within 2 s; the pending SIGALRM alone is one);
 * then blocked again and let expire for the next point. ITIMER_VIRTUAL with 5 ms every 5 ms is
 * armed beside it and must be too. Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static volatile sig_atomic_t ticks;

static void on_alarm(int sig)
{
    (void)sig;
    ticks++;
}

static void block_and_expire(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGALRM);
    sigprocmask(SIG_BLOCK, &s, NULL);
    crt_sleep_ms(60);   /* several periods: the first expiry's SIGALRM waits, the timer stops */
    sigset_t p;
    sigpending(&p);
    if (!sigismember(&p, SIGALRM))
        crt_die("SIGALRM is not pending after 60 ms of a 10 ms ITIMER_REAL");
}

static void check(const char *when)
{
    char name[128];
    struct itimerval it;
    getitimer(ITIMER_REAL, &it);
    snprintf(name, sizeof name, "ITIMER_REAL every 10 ms %s", when);
    crt_check(name, it.it_interval.tv_sec == 0 && it.it_interval.tv_usec == 10000, "interval %ld.%06ld",
              (long)it.it_interval.tv_sec, (long)it.it_interval.tv_usec);
    getitimer(ITIMER_VIRTUAL, &it);
    snprintf(name, sizeof name, "ITIMER_VIRTUAL every 5 ms %s", when);
    crt_check(name, it.it_interval.tv_sec == 0 && it.it_interval.tv_usec == 5000, "interval %ld.%06ld",
              (long)it.it_interval.tv_sec, (long)it.it_interval.tv_usec);
    ticks = 0;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGALRM);
    sigprocmask(SIG_UNBLOCK, &s, NULL);
    /* the pending SIGALRM is one tick; more come only from a timer still armed (a loaded machine
     * runs the handler late and merges expiries: 3 within 2 s, where 200 expire) */
    int waited = 0;
    while (ticks < 3 && waited < 2000) {
        crt_sleep_ms(10);
        waited += 10;
    }
    int got = ticks;
    snprintf(name, sizeof name, "ticks keep coming once SIGALRM is unblocked %s", when);
    crt_check(name, got >= 3, "%d in 2 s", got);
    block_and_expire();
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    signal(SIGVTALRM, SIG_IGN);
    struct itimerval real = { { 0, 10000 }, { 0, 10000 } }, virt = { { 0, 5000 }, { 0, 5000 } };
    setitimer(ITIMER_VIRTUAL, &virt, NULL);
    setitimer(ITIMER_REAL, &real, NULL);
    crt_say("ITIMER_REAL every 10 ms, ITIMER_VIRTUAL every 5 ms, SIGALRM blocked and pending at each point");
    block_and_expire();
    crt_check_around_points(check);
}
