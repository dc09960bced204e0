/*
 * State test: POSIX timers of every notification kind (issue 10, point 3).
 *   tick   SIGEV_SIGNAL SIGUSR1, CLOCK_MONOTONIC, every 40 ms
 *   none   SIGEV_NONE, CLOCK_REALTIME, one shot in 1000 s
 *   thread SIGEV_THREAD (a callback in a new thread), every 30 ms: under
 *          glibc alone its helper thread blocks every signal, which once
 *          made every checkpoint time out
 *   value  SIGEV_SIGNAL SIGRTMIN+3 with value 77, armed for 1000 s; after
 *          each point re-armed for 50 ms: the handler must see SI_TIMER and 77
 *   idle   created, never armed
 *   worker SIGEV_THREAD_ID SIGUSR2 to a worker thread, every 40 ms (its id
 *          may change at a restart: --no-restore-pid)
 *   cpu    CLOCK_PROCESS_CPUTIME_ID, one shot in 1000 s of CPU time
 * plus a deleted timer before "value", so the ids have a gap. After each
 * point the ids must be the ones the program holds, each timer armed as
 * before (time left, interval), and each notification must arrive.
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static timer_t tick, none, thr, value, idle, worker, cpu, gone;
static _Atomic long ticks, calls, worker_ticks, value_hits, value_ok;
static _Atomic pid_t worker_tid;
static pthread_t worker_thread;   /* its id may change at a restart, its pthread_t not */

static void on_tick(int sig)
{
    (void)sig;
    ticks++;
}

static void on_value(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    value_hits++;
    if (si->si_code == SI_TIMER && si->si_value.sival_int == 77)
        value_ok++;
}

static void on_worker(int sig)
{
    (void)sig;
    if (pthread_equal(pthread_self(), worker_thread))
        worker_ticks++;
}

static void callback(union sigval v)
{
    if (v.sival_int == 5)
        calls++;
}

static void *worker_main(void *arg)
{
    (void)arg;
    worker_thread = pthread_self();
    worker_tid = (pid_t)syscall(SYS_gettid);
    for (;;)
        pause();
    return NULL;
}

/* CRT_TIMERS_GLIBC=1: the SIGEV_THREAD timer is made by glibc itself (past
 * libcr's timer_create, as a library loaded before libcr would), so that
 * glibc's helper thread, which blocks every signal, exists: a checkpoint
 * must then be refused with a message that says so (timers_glibc.sh). */
static int glibc_create(clockid_t clock, struct sigevent *ev, timer_t *t)
{
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    int (*real)(clockid_t, struct sigevent *, timer_t *) = libc ? dlsym(libc, "timer_create") : NULL;
    return real ? real(clock, ev, t) : timer_create(clock, ev, t);
}

static void make(timer_t *t, clockid_t clock, int notify, int signo, int val, const char *what)
{
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = notify;
    ev.sigev_signo = signo;
    ev.sigev_value.sival_int = val;
    if (notify == SIGEV_THREAD)
        ev.sigev_notify_function = callback;
    if (notify == SIGEV_THREAD_ID)
        ev._sigev_un._tid = worker_tid;
    int r = notify == SIGEV_THREAD && crt_env_long("CRT_TIMERS_GLIBC", 0) ? glibc_create(clock, &ev, t)
                                                                          : timer_create(clock, &ev, t);
    if (r != 0)
        crt_die("timer_create %s: %s", what, strerror(errno));
}

static void arm(timer_t t, long value_ms, long interval_ms)
{
    struct itimerspec its = { { interval_ms / 1000, interval_ms % 1000 * 1000000L },
                              { value_ms / 1000, value_ms % 1000 * 1000000L } };
    if (timer_settime(t, 0, &its, NULL) != 0)
        crt_die("timer_settime: %s", strerror(errno));
}

static double left_s(timer_t t, double *interval)
{
    struct itimerspec its;
    if (timer_gettime(t, &its) != 0)
        return -1;
    if (interval)
        *interval = its.it_interval.tv_sec + its.it_interval.tv_nsec / 1e9;
    return its.it_value.tv_sec + its.it_value.tv_nsec / 1e9;
}

/* Waits until *v reaches want, or WAIT_S seconds (of this process's clock) have passed. */
#define WAIT_S 120
static void wait_count(_Atomic long *v, long want)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        if (*v >= want)
            return;
        crt_sleep_ms(5);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while (t.tv_sec - t0.tv_sec < WAIT_S);
}

static void check(const char *when)
{
    char name[128];
    double iv = 0, left;
#define CHECK(what, cond, ...)                             \
    do {                                                   \
        snprintf(name, sizeof name, "%s %s", what, when); \
        crt_check(name, cond, __VA_ARGS__);                \
    } while (0)

    left = left_s(tick, &iv);
    CHECK("tick: armed, every 40 ms", left >= 0 && left <= 0.04 && iv > 0.039 && iv < 0.041, "%.3f left, every %.3f",
          left, iv);
    long t0 = ticks, c0 = calls, w0 = worker_ticks;
    /* 4 notifications each: waited for, not counted over a fixed time (a loaded machine may
     * not run the process for a while, and a signal pending is delivered once) */
    wait_count(&ticks, t0 + 4);
    wait_count(&calls, c0 + 4);
    wait_count(&worker_ticks, w0 + 4);
    CHECK("tick: SIGUSR1 keeps coming", ticks - t0 >= 4, "%ld ticks in %d s", ticks - t0, WAIT_S);
    CHECK("thread (SIGEV_THREAD): its callback runs in new threads", calls - c0 >= 4, "%ld calls in %d s",
          calls - c0, WAIT_S);
    CHECK("worker (SIGEV_THREAD_ID): SIGUSR2 reaches the worker thread", worker_ticks - w0 >= 4,
          "%ld in %d s", worker_ticks - w0, WAIT_S);
    left = left_s(none, &iv);
    CHECK("none (SIGEV_NONE): armed, 900 to 1000 s left, once", left > 900 && left <= 1000 && iv == 0,
          "%.1f left, every %.3f", left, iv);
    left = left_s(cpu, &iv);
    CHECK("cpu (process CPU time): armed, about 1000 s of CPU left", left > 990 && left <= 1000, "%.1f", left);
    left = left_s(idle, &iv);
    CHECK("idle: still there, never armed", left == 0 && iv == 0, "%.3f left, every %.3f", left, iv);
    left = left_s(value, NULL);
    CHECK("value: armed, about 1000 s left", left > 900 && left <= 1000, "%.1f", left);
    long v0 = value_hits;
    arm(value, 50, 0);
    wait_count(&value_hits, v0 + 1);
    /* a one-shot timer: a second hit would come within its 50 ms if it were re-armed */
    crt_sleep_ms(100);
    CHECK("value: fires once with SI_TIMER and its value 77", value_hits - v0 == 1 && value_ok == value_hits,
          "%ld hits, %ld as expected", value_hits - v0, value_ok);
    arm(value, 1000000, 0);
    CHECK("the deleted timer's id is still free", left_s(gone, NULL) < 0 && errno == EINVAL, "timer_gettime works");
#undef CHECK
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_tick;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_worker;
    sigaction(SIGUSR2, &sa, NULL);
    sa.sa_flags = SA_RESTART | SA_SIGINFO;
    sa.sa_sigaction = on_value;
    sigaction(SIGRTMIN + 3, &sa, NULL);
    /* the main thread leaves SIGUSR2 to the worker */
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR2);
    pthread_t w;
    if (pthread_create(&w, NULL, worker_main, NULL))
        crt_die("pthread_create");
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    while (!worker_tid)
        crt_sleep_ms(1);

    make(&tick, CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, 0, "tick");
    make(&none, CLOCK_REALTIME, SIGEV_NONE, 0, 0, "none");
    make(&thr, CLOCK_MONOTONIC, SIGEV_THREAD, 0, 5, "thread");
    make(&gone, CLOCK_MONOTONIC, SIGEV_NONE, 0, 0, "gone");
    make(&value, CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN + 3, 77, "value");
    make(&idle, CLOCK_BOOTTIME, SIGEV_SIGNAL, SIGUSR1, 0, "idle");
    make(&worker, CLOCK_MONOTONIC, SIGEV_THREAD_ID, SIGUSR2, 0, "worker");
    make(&cpu, CLOCK_PROCESS_CPUTIME_ID, SIGEV_SIGNAL, SIGUSR1, 0, "cpu");
    timer_delete(gone);
    arm(tick, 40, 40);
    arm(none, 1000000, 0);
    arm(thr, 30, 30);
    arm(value, 1000000, 0);
    arm(worker, 40, 40);
    arm(cpu, 1000000, 0);
    crt_say("8 timers made, one deleted, 6 armed");
    crt_check_around_points(check);
}
