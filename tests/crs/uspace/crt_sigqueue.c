/*
 * State test: signals a program blocks and collects through a signalfd
 * (issue 10: queued signals; libcr's own threads).
 *   queued  real-time signals queued with sigqueue(3) and blocked: five
 *           instances of SIGRTMIN+5 (values 100-104) and one of SIGRTMIN+6
 *           (value 7) wait at each point; read after it, each must come
 *           back once, in order, with its value, SI_QUEUE and its sender
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

static void queue_them(void)
{
    sender = getpid();
    for (int i = 0; i < 5; i++)
        if (sigqueue(sender, SIGRTMIN + 5, (union sigval){ .sival_int = 100 + i }) != 0)
            crt_die("sigqueue: %s", strerror(errno));
    if (sigqueue(sender, SIGRTMIN + 6, (union sigval){ .sival_int = 7 }) != 0)
        crt_die("sigqueue: %s", strerror(errno));
}

static void check_queued(int point)
{
    char name[128];
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
    crt_check(name, !sigismember(&p, SIGRTMIN + 5) && !sigismember(&p, SIGRTMIN + 6), "still pending");
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
    if (sigprocmask(SIG_BLOCK, &m, NULL) != 0 || (sfd = signalfd(-1, &m, SFD_CLOEXEC)) < 0)
        crt_die("signalfd: %s", strerror(errno));
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
    crt_finish();
}
