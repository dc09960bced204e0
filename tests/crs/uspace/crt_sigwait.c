/*
 * State test: a program that blocks every signal and takes them by waiting, as daemons and some
 * MPI codes do, each set made with sigfillset (so holding Revive's park signal too):
 *   - thread W waits in sigwait for every signal but SIGUSR2 and SIGHUP,
 *   - thread I in sigwaitinfo for every signal but SIGUSR1 and SIGHUP,
 *   - thread F reads a signalfd of every signal but SIGUSR1 and SIGUSR2 (a blocking read);
 *   - thread P waits in ppoll for a pipe with every signal blocked by ppoll's own mask;
 * the main thread sends the process SIGUSR1, SIGUSR2 and SIGHUP and writes a byte to the pipe
 * three times (at start, after point 1, after point 2), each time waiting until the one thread
 * that takes it says so. Each wait must give what was sent and nothing else (the park signal
 * taken by a wait showed here as "got 62"; that thread, and P whose mask blocked the park signal,
 * were never parked: the checkpoint failed, src/crs/libcr/sigwait.c).
 * The checkpoints come while the three threads wait. Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

enum { W, I, F, P, NWAITERS };
static const char *const names[NWAITERS] = { "sigwait", "sigwaitinfo", "signalfd read", "ppoll" };
static atomic_int got[NWAITERS]; /* the last signal each took (0: none yet) */
static atomic_int takes[NWAITERS];
static int sfd = -1, pipefd[2] = { -1, -1 };

/* every signal but a and b (and those sigfillset leaves out) */
static void all_but(sigset_t *s, int a, int b)
{
    sigfillset(s);
    sigdelset(s, a);
    sigdelset(s, b);
}

static void took(int who, int sig)
{
    atomic_store(&got[who], sig);
    atomic_fetch_add(&takes[who], 1);
}

static void *waiter_w(void *arg)
{
    (void)arg;
    sigset_t s;
    all_but(&s, SIGUSR2, SIGHUP);
    for (;;) {
        int sig = 0;
        if (sigwait(&s, &sig) == 0)
            took(W, sig);
    }
    return NULL;
}

static void *waiter_i(void *arg)
{
    (void)arg;
    sigset_t s;
    all_but(&s, SIGUSR1, SIGHUP);
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&s, &si);
        if (sig > 0)
            took(I, sig);
        else if (errno != EINTR)
            took(I, -errno);
    }
    return NULL;
}

static void *waiter_f(void *arg)
{
    (void)arg;
    for (;;) {
        struct signalfd_siginfo si;
        ssize_t n = read(sfd, &si, sizeof si);
        if (n == (ssize_t)sizeof si)
            took(F, (int)si.ssi_signo);
        else if (n < 0 && errno != EINTR)
            took(F, -errno);
    }
    return NULL;
}

static void *waiter_p(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    for (;;) {
        struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
        int n = ppoll(&p, 1, NULL, &all);
        char c;
        if (n == 1 && read(pipefd[0], &c, 1) == 1)
            took(P, c);
        else if (n < 0 && errno != EINTR)
            took(P, -errno);
    }
    return NULL;
}

/* sends sig to the process (a byte down the pipe for P); the one waiter that takes it must say so within 20 s */
static void send_and_see(int who, int sig, const char *when)
{
    int before = atomic_load(&takes[who]);
    if (who == P) {
        char c = (char)sig;
        if (write(pipefd[1], &c, 1) != 1)
            crt_die("write to the pipe: %s", strerror(errno));
    } else {
        kill(getpid(), sig);
    }
    for (int i = 0; i < 20000 && atomic_load(&takes[who]) == before; i++) {
        struct timespec t = { 0, 1000 * 1000 };
        nanosleep(&t, NULL);
    }
    struct timespec t = { 0, 20 * 1000 * 1000 };
    nanosleep(&t, NULL); /* another take, were there one, comes meanwhile */
    int n = atomic_load(&takes[who]) - before, g = atomic_load(&got[who]);
    crt_check_when(names[who], when, n == 1 && g == sig, "took %d, the last %d; sent %d", n, g, sig);
}

static void check(const char *when)
{
    send_and_see(W, SIGUSR1, when);
    send_and_see(I, SIGUSR2, when);
    send_and_see(F, SIGHUP, when);
    send_and_see(P, 'p', when);
}

int main(void)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* every thread started below inherits it */
    sigset_t fs;
    all_but(&fs, SIGUSR1, SIGUSR2);
    sfd = signalfd(-1, &fs, SFD_CLOEXEC);
    if (sfd < 0)
        crt_die("signalfd: %s", strerror(errno));
    if (pipe(pipefd) != 0)
        crt_die("pipe: %s", strerror(errno));
    void *(*fns[NWAITERS])(void *) = { waiter_w, waiter_i, waiter_f, waiter_p };
    for (int k = 0; k < NWAITERS; k++) {
        pthread_t t;
        if (pthread_create(&t, NULL, fns[k], NULL) != 0)
            crt_die("pthread_create");
    }
    crt_check_around_points(check);
}
