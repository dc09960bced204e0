/*
 * State test: signals a program blocks and collects through a signalfd
 * (issue 10: queued signals; libcr's own threads).
 *   queued  real-time signals queued with sigqueue(3) and blocked: five
 *           instances of SIGRTMIN+5 (values 100-104) and one of SIGRTMIN+6
 *           (value 7) wait at each point; read after it, each must come
 *           back once, in order, with its value, SI_QUEUE and its sender
 *   to a thread  queued with pthread_sigqueue(3) to one thread, not the
 *           process: three of SIGRTMIN+7 (values 200-202) to the main
 *           thread (read first through the signalfd: the kernel hands out
 *           a thread's own signals before the process's), two of
 *           SIGRTMIN+8 (values 300, 301) to a second thread, which takes
 *           them with sigwaitinfo after the point: value, order, SI_QUEUE,
 *           sender
 *   thread  a SIGEV_THREAD timer's callback still runs while the program
 *           sends itself SIGUSR1, which it blocks and reads through the
 *           signalfd: the callback's thread must block it too (glibc's
 *           callback threads block every signal), or SIGUSR1 would end the
 *           process there
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

static _Atomic int cb_running, cb_release;

static void callback(union sigval v)
{
    (void)v;
    atomic_store(&cb_running, 1);
    while (!atomic_load(&cb_release))
        crt_sleep_ms(1);
    atomic_store(&cb_running, 0);
}

static int sfd;
static pid_t sender;

/* The next signal the signalfd holds (blocking), or a zeroed one. */
static struct signalfd_siginfo next(void)
{
    struct signalfd_siginfo si;
    ssize_t n;
    while ((n = read(sfd, &si, sizeof si)) < 0 && errno == EINTR)
        ;
    if (n != (ssize_t)sizeof si)
        memset(&si, 0, sizeof si);
    return si;
}

/* The second thread: at each point, once told, takes its two SIGRTMIN+8. */
static pthread_t worker;
static _Atomic int worker_go, worker_done;
static int worker_val[3][2], worker_code[3][2], worker_pid[3][2], worker_left[3];

static void *worker_main(void *arg)
{
    (void)arg;
    for (int point = 1; point <= 2; point++) {
        while (atomic_load(&worker_go) < point)
            crt_sleep_ms(1);
        sigset_t w;
        sigemptyset(&w);
        sigaddset(&w, SIGRTMIN + 8);
        for (int i = 0; i < 2; i++) {
            siginfo_t si;
            memset(&si, 0, sizeof si);
            if (sigwaitinfo(&w, &si) == SIGRTMIN + 8) {
                worker_val[point][i] = si.si_value.sival_int;
                worker_code[point][i] = si.si_code;
                worker_pid[point][i] = (int)si.si_pid;
            }
        }
        sigset_t p;
        sigpending(&p);
        worker_left[point] = sigismember(&p, SIGRTMIN + 8);
        atomic_store(&worker_done, point);
    }
    return NULL;
}

static void queue_them(void)
{
    sender = getpid();
    for (int i = 0; i < 3; i++)
        if (pthread_sigqueue(pthread_self(), SIGRTMIN + 7, (union sigval){ .sival_int = 200 + i }) != 0)
            crt_die("pthread_sigqueue: %s", strerror(errno));
    for (int i = 0; i < 2; i++)
        if (pthread_sigqueue(worker, SIGRTMIN + 8, (union sigval){ .sival_int = 300 + i }) != 0)
            crt_die("pthread_sigqueue: %s", strerror(errno));
    for (int i = 0; i < 5; i++)
        if (sigqueue(sender, SIGRTMIN + 5, (union sigval){ .sival_int = 100 + i }) != 0)
            crt_die("sigqueue: %s", strerror(errno));
    if (sigqueue(sender, SIGRTMIN + 6, (union sigval){ .sival_int = 7 }) != 0)
        crt_die("sigqueue: %s", strerror(errno));
}

static void check_queued(int point)
{
    char name[128];
    for (int i = 0; i < 3; i++) {
        struct signalfd_siginfo si = next();
        snprintf(name, sizeof name, "signal %d queued to the main thread after point %d: number, value, SI_QUEUE, sender",
                 i, point);
        crt_check(name, (int)si.ssi_signo == SIGRTMIN + 7 && si.ssi_int == 200 + i && si.ssi_code == SI_QUEUE &&
                            (pid_t)si.ssi_pid == sender,
                  "signal %u value %d code %d pid %u (expected %d %d %d %d)", si.ssi_signo, si.ssi_int,
                  si.ssi_code, si.ssi_pid, SIGRTMIN + 7, 200 + i, SI_QUEUE, (int)sender);
    }
    for (int i = 0; i < 6; i++) {
        struct signalfd_siginfo si = next();
        int want_sig = i < 5 ? SIGRTMIN + 5 : SIGRTMIN + 6, want_val = i < 5 ? 100 + i : 7;
        snprintf(name, sizeof name, "queued signal %d after point %d: its number, value, SI_QUEUE, sender", i, point);
        crt_check(name, (int)si.ssi_signo == want_sig && si.ssi_int == want_val && si.ssi_code == SI_QUEUE &&
                            (pid_t)si.ssi_pid == sender,
                  "signal %u value %d code %d pid %u (expected %d %d %d %d)", si.ssi_signo, si.ssi_int,
                  si.ssi_code, si.ssi_pid, want_sig, want_val, SI_QUEUE, (int)sender);
    }
    sigset_t p;
    sigpending(&p);
    snprintf(name, sizeof name, "nothing else is queued after point %d", point);
    crt_check(name, !sigismember(&p, SIGRTMIN + 5) && !sigismember(&p, SIGRTMIN + 6) && !sigismember(&p, SIGRTMIN + 7),
              "still pending");
    atomic_store(&worker_go, point);
    for (int i = 0; i < 120000 && atomic_load(&worker_done) < point; i++)
        crt_sleep_ms(1);
    snprintf(name, sizeof name, "the second thread took its signals after point %d", point);
    crt_check(name, atomic_load(&worker_done) >= point, "it never did");
    for (int i = 0; i < 2; i++) {
        snprintf(name, sizeof name, "signal %d queued to the second thread after point %d: value, SI_QUEUE, sender", i,
                 point);
        crt_check(name, worker_val[point][i] == 300 + i && worker_code[point][i] == SI_QUEUE &&
                            worker_pid[point][i] == (int)sender,
                  "value %d code %d pid %d (expected %d %d %d)", worker_val[point][i], worker_code[point][i],
                  worker_pid[point][i], 300 + i, SI_QUEUE, (int)sender);
    }
    snprintf(name, sizeof name, "nothing else is queued to the second thread after point %d", point);
    crt_check(name, !worker_left[point], "SIGRTMIN+8 still pending");
}

/* SIGUSR1 sent to the process while a timer callback runs: read through
 * the signalfd, three times. */
static void during_callback(timer_t t, int round)
{
    atomic_store(&cb_release, 0);
    struct itimerspec once = { { 0, 0 }, { 0, 5000000 } };
    if (timer_settime(t, 0, &once, NULL) != 0)
        crt_die("timer_settime: %s", strerror(errno));
    for (int i = 0; i < 60000 && !atomic_load(&cb_running); i++)
        crt_sleep_ms(1);
    int got = 0;
    for (int i = 0; i < 3; i++) {
        kill(getpid(), SIGUSR1);
        struct signalfd_siginfo si = next();
        got += si.ssi_signo == SIGUSR1;
    }
    char name[96];
    snprintf(name, sizeof name, "SIGUSR1 sent while a timer callback runs reaches the signalfd (%d)", round);
    crt_check(name, got == 3 && atomic_load(&cb_running), "%d of 3, callback %s", got,
              atomic_load(&cb_running) ? "running" : "never ran");
    atomic_store(&cb_release, 1);
    for (int i = 0; i < 60000 && atomic_load(&cb_running); i++)
        crt_sleep_ms(1);
}

int main(void)
{
    sigset_t m;
    sigemptyset(&m);
    sigaddset(&m, SIGUSR1);
    sigaddset(&m, SIGRTMIN + 5);
    sigaddset(&m, SIGRTMIN + 6);
    sigaddset(&m, SIGRTMIN + 7);
    if (sigprocmask(SIG_BLOCK, &m, NULL) != 0 || (sfd = signalfd(-1, &m, SFD_CLOEXEC)) < 0)
        crt_die("signalfd: %s", strerror(errno));
    /* blocked before the second thread is made: it inherits the mask */
    sigset_t w;
    sigemptyset(&w);
    sigaddset(&w, SIGRTMIN + 8);
    sigprocmask(SIG_BLOCK, &w, NULL);
    if (pthread_create(&worker, NULL, worker_main, NULL) != 0)
        crt_die("pthread_create failed");
    timer_t t;
    struct sigevent ev = { .sigev_notify = SIGEV_THREAD, .sigev_notify_function = callback };
    if (timer_create(CLOCK_MONOTONIC, &ev, &t) != 0)
        crt_die("timer_create: %s", strerror(errno));
    during_callback(t, 0);
    for (int point = 1; point <= 2; point++) {
        queue_them();
        crt_say("six real-time signals queued before point %d", point);
        crt_checkpoint_point(point);
        check_queued(point);
        during_callback(t, point);
    }
    pthread_join(worker, NULL);
    crt_finish();
}
