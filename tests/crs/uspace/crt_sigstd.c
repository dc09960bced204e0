/*
 * State test: standard signals (1-31) and POSIX timers' signals pending at
 * a checkpoint keep their siginfo (issue 10). At each point, all blocked:
 *   from a child  a child sends SIGUSR1 with kill(2) and SIGUSR2 with
 *           sigqueue(3) (value 55), then exits 9 and is reaped: SIGUSR1
 *           (SI_USER), SIGUSR2 (SI_QUEUE, 55) and SIGCHLD (CLD_EXITED,
 *           status 9) must each come back from that child's pid and uid
 *   to a thread  tgkill(2) of SIGURG and rt_tgsigqueueinfo(2) of SIGWINCH
 *           (SI_QUEUE, value 77) to a second thread, which takes them with
 *           sigtimedwait after the point: code, value, the process as sender
 *   timers  a one-shot timer that expired (SIGPWR, value 0x5151) and one
 *           with a real-time signal (SIGRTMIN+2, value 0x7272): SI_TIMER,
 *           the timer's id and value
 * With --cont and --fork the running process must see the same, senders
 * included. And setuid(2)/setgid(2) return in this threaded process while
 * a SIGEV_THREAD timer made through libcr (its helper thread) exists: glibc
 * has every thread take its SIGSETXID first (libcr's helper once blocked it:
 * setuid hung).
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static _Atomic pid_t self0;   /* the sender's pid when it sent (another after --no-restore-pid) */
static _Atomic int t2_go, t2_done, t2_ok, t2_tid, t2_ready;
static char t2_what[128];

static int take(int sig, siginfo_t *si)
{
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    struct timespec ts = { 60, 0 };
    memset(si, 0, sizeof *si);
    int r;
    while ((r = sigtimedwait(&one, si, &ts)) < 0 && errno == EINTR)
        ;
    return r;
}

static void *second(void *arg)
{
    (void)arg;
    for (;;) {
        /* its id now (another after a restart under a new pid) */
        atomic_store(&t2_tid, (int)gettid());
        atomic_store(&t2_ready, 1);
        while (!atomic_load(&t2_go))
            crt_sleep_ms(1);
        atomic_store(&t2_go, 0);
        siginfo_t si, sq;
        int r = take(SIGURG, &si);
        int q = take(SIGWINCH, &sq);
        /* tgkill's code: SI_TKILL, SI_USER on some kernels */
        atomic_store(&t2_ok, r == SIGURG && (si.si_code == SI_TKILL || si.si_code == SI_USER) &&
                                 si.si_pid == self0 && si.si_uid == getuid() && q == SIGWINCH &&
                                 sq.si_code == SI_QUEUE && sq.si_value.sival_int == 77 && sq.si_pid == self0);
        snprintf(t2_what, sizeof t2_what, "signal %d, code %d, pid %s; signal %d, code %d, value %d, pid %s", r,
                 si.si_code, si.si_pid == self0 ? "right" : "wrong", q, sq.si_code, sq.si_value.sival_int,
                 sq.si_pid == self0 ? "right" : "wrong");
        atomic_store(&t2_done, 1);
    }
    return NULL;
}

static void check_info(const char *name, int r, int sig, const siginfo_t *si, int code, pid_t pid)
{
    crt_check(name, r == sig && si->si_code == code && si->si_pid == pid && si->si_uid == getuid(),
              "signal %d, code %d, pid %s, uid %d", r, si->si_code, si->si_pid == pid ? "right" : "wrong",
              (int)si->si_uid);
}

static timer_t arm(int sig, uintptr_t value)
{
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = sig;
    ev.sigev_value.sival_ptr = (void *)value;
    timer_t id;
    if (timer_create(CLOCK_MONOTONIC, &ev, &id))
        crt_die("timer_create: %s", strerror(errno));
    struct itimerspec it = { { 0, 0 }, { 0, 1000000 } };
    if (timer_settime(id, 0, &it, NULL))
        crt_die("timer_settime: %s", strerror(errno));
    return id;
}

static void callback(union sigval v)
{
    (void)v;
}

static _Atomic int setid_done;

static void *setid(void *arg)
{
    (void)arg;
    atomic_store(&setid_done, setuid(getuid()) == 0 && setgid(getgid()) == 0 ? 1 : 2);
    return NULL;
}

static void check_setid(int n)
{
    atomic_store(&setid_done, 0);
    pthread_t t;
    if (pthread_create(&t, NULL, setid, NULL))
        crt_die("pthread_create");
    for (int i = 0; i < 30000 && !atomic_load(&setid_done); i++)
        crt_sleep_ms(1);
    char name[96];
    snprintf(name, sizeof name, "point %d: setuid and setgid return beside the timer thread", n);
    crt_check(name, atomic_load(&setid_done) == 1, "%s", atomic_load(&setid_done) ? "failed" : "hung 30 s");
    if (atomic_load(&setid_done))
        pthread_join(t, NULL);
}

static int pending(int sig)
{
    sigset_t p;
    sigpending(&p);
    return sigismember(&p, sig) == 1;
}

static void check_timer(const char *name, int sig, timer_t id, uintptr_t value)
{
    siginfo_t si;
    int r = take(sig, &si);
    crt_check(name, r == sig && si.si_code == SI_TIMER && si.si_value.sival_ptr == (void *)value &&
                        si.si_timerid == (int)(intptr_t)id,
              "signal %d, code %d, value %p, timer %s", r, si.si_code, si.si_value.sival_ptr,
              si.si_timerid == (int)(intptr_t)id ? "right" : "wrong");
    timer_delete(id);
}

int main(void)
{
    self0 = getpid();
    sigset_t all;
    sigemptyset(&all);
    int sigs[] = { SIGUSR1, SIGUSR2, SIGCHLD, SIGURG, SIGWINCH, SIGPWR, SIGRTMIN + 2 };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&all, sigs[i]);
    if (pthread_sigmask(SIG_BLOCK, &all, NULL))
        crt_die("sigprocmask");
    pthread_t t2;
    if (pthread_create(&t2, NULL, second, NULL))
        crt_die("pthread_create");
    struct sigevent tev;
    memset(&tev, 0, sizeof tev);
    tev.sigev_notify = SIGEV_THREAD;
    tev.sigev_notify_function = callback;
    timer_t tt;
    struct itimerspec once = { { 0, 0 }, { 0, 1000000 } };
    if (timer_create(CLOCK_MONOTONIC, &tev, &tt) || timer_settime(tt, 0, &once, NULL))
        crt_die("timer_create (SIGEV_THREAD): %s", strerror(errno));
    for (int n = 1; n <= 2; n++) {
        pid_t kid = fork();
        if (kid == 0) {
            union sigval v = { .sival_int = 55 };
            kill(getppid(), SIGUSR1);
            sigqueue(getppid(), SIGUSR2, v);
            _exit(9);
        }
        int st;
        if (kid < 0 || waitpid(kid, &st, 0) != kid)
            crt_die("fork/waitpid: %s", strerror(errno));
        while (!atomic_load(&t2_ready))
            crt_sleep_ms(1);
        atomic_store(&t2_ready, 0);
        self0 = getpid();
        syscall(SYS_tgkill, getpid(), atomic_load(&t2_tid), SIGURG);
        siginfo_t q;
        memset(&q, 0, sizeof q);
        q.si_signo = SIGWINCH;
        q.si_code = SI_QUEUE;
        q.si_pid = getpid();
        q.si_uid = getuid();
        q.si_value.sival_int = 77;
        syscall(SYS_rt_tgsigqueueinfo, getpid(), atomic_load(&t2_tid), SIGWINCH, &q);
        timer_t a = arm(SIGPWR, 0x5151), b = arm(SIGRTMIN + 2, 0x7272);
        for (int i = 0; i < 60000 && !(pending(SIGPWR) && pending(SIGRTMIN + 2)); i++)
            crt_sleep_ms(1);
        crt_check("the signals wait", pending(SIGUSR1) && pending(SIGUSR2) && pending(SIGCHLD) && pending(SIGPWR) &&
                  pending(SIGRTMIN + 2), "not all pending");

        crt_checkpoint_point(n);
        char name[96];
        siginfo_t si;
        int r = take(SIGUSR1, &si);
        snprintf(name, sizeof name, "point %d: SIGUSR1 from the child, SI_USER", n);
        check_info(name, r, SIGUSR1, &si, SI_USER, kid);
        r = take(SIGUSR2, &si);
        snprintf(name, sizeof name, "point %d: SIGUSR2 from the child, SI_QUEUE, value 55", n);
        check_info(name, r == SIGUSR2 && si.si_value.sival_int == 55 ? r : -1, SIGUSR2, &si, SI_QUEUE, kid);
        r = take(SIGCHLD, &si);
        snprintf(name, sizeof name, "point %d: SIGCHLD of the child, CLD_EXITED 9", n);
        check_info(name, r == SIGCHLD && si.si_status == 9 ? r : -1, SIGCHLD, &si, CLD_EXITED, kid);
        atomic_store(&t2_done, 0);
        atomic_store(&t2_go, 1);
        while (!atomic_load(&t2_done))
            crt_sleep_ms(1);
        snprintf(name, sizeof name, "point %d: SIGURG (tgkill) and SIGWINCH (value 77) to the second thread, from the process", n);
        crt_check(name, atomic_load(&t2_ok), "%s", t2_what);
        snprintf(name, sizeof name, "point %d: the timer's SIGPWR, SI_TIMER, its id and value", n);
        check_timer(name, SIGPWR, a, 0x5151);
        snprintf(name, sizeof name, "point %d: the timer's SIGRTMIN+2, SI_TIMER, its id and value", n);
        check_timer(name, SIGRTMIN + 2, b, 0x7272);
        check_setid(n);
    }
    crt_finish();
}
