/* The fork guard (src/crs/libcr/fork_guard.h) in a program linked with libcr; two parts:
 *
 * wait: a thread inside a section starts a thread and waits until that one has been inside a
 *   section of its own (made an eventfd there), while another thread forks one child after the
 *   other; 200 rounds. The shape of the MPI library's dlopen (diffrev32 R-L8): the section covers
 *   the constructors of the objects it loads, and a constructor may start a progress thread that
 *   makes its eventfd through the layer's wrappers and wait for it. A fork waits only until no
 *   section is open and sections wait only while a fork copies the process, so the started
 *   thread never waits for the fork: none of the rounds may hang (the watchdog: 60 s). A round
 *   with a fork pending meanwhile is counted: none at all proves nothing (said, exit 77).
 *
 * raw: glibc's _Fork (no fork handler) while the main thread holds a descriptor inside a section
 *   (as Revive's threads do with /proc files): the child must not hold it (libcr's _Fork waits
 *   for the section, as fork does). 5 rounds; the child looks with system calls only.
 *
 * handler: a signal whose handler calls _Fork (async-signal-safe), sent to the main thread over
 *   and over while it does nothing but enter and leave sections: a signal that lands in the few
 *   instructions of the entry or exit (the guard's word changed, this thread's mark not yet, or
 *   the other way round) made the handler's fork wait for its own thread's count for ever
 *   (diffrev33 R-L10). Each signal's handler must end within 10 s (else: FAIL, the program ends;
 *   the main thread spins in the handler for good); 4 s of signals, or 20000.
 *
 * close: revive_close_owned (common/fd_guard.h), the one way Revive closes a descriptor it owns
 *   (its MPI layer's files at a snapshot and a restart, --term's stderr copies): the descriptor
 *   owned before, disowned and closed after (an owned number left behind would be taken for
 *   Revive's when the program gets that number again); -1 left alone.
 *
 * Prints "PASS: ..." or "FAIL: ..." per part; exit 0 when all passed, 1 when one failed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fd_guard.h"
#include "crs/libcr/fork_guard.h"

#define ROUNDS 200

static atomic_int stop, in_fork, up;
static atomic_long forks;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *forker(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        atomic_store(&in_fork, 1);
        pid_t p = fork();
        atomic_store(&in_fork, 0);
        if (p == 0)
            _exit(0);
        if (p > 0) {
            while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
                ;
            atomic_fetch_add(&forks, 1);
        }
    }
    return NULL;
}

/* a library's progress thread: its eventfd made inside a section, as the layer's wrapper does */
static void *progress(void *arg)
{
    (void)arg;
    crs_fork_guard_enter();
    int fd = eventfd(0, EFD_CLOEXEC);
    if (fd >= 0)
        crs_fork_guard_own(fd);
    if (fd >= 0) {
        crs_fork_guard_disown(fd);
        close(fd);
    }
    crs_fork_guard_leave();
    atomic_store(&up, 1);
    return NULL;
}

static int part_wait(void)
{
    pthread_t f;
    if (pthread_create(&f, NULL, forker, NULL)) {
        printf("FAIL: wait: pthread_create\n");
        return 1;
    }
    int pending = 0, bad = 0;
    for (int r = 0; r < ROUNDS && !bad; r++) {
        crs_fork_guard_enter(); /* the dlopen's section */
        struct timespec d = { 0, 300 * 1000 };
        nanosleep(&d, NULL); /* a fork comes and waits */
        atomic_store(&up, 0);
        pthread_t b;
        if (pthread_create(&b, NULL, progress, NULL)) {
            crs_fork_guard_leave();
            printf("FAIL: wait: pthread_create in round %d\n", r);
            bad = 1;
            break;
        }
        double t0 = now();
        while (!atomic_load(&up) && now() - t0 < 20)
            sched_yield(); /* the constructor waits for its thread to come up */
        pending += atomic_load(&in_fork);
        crs_fork_guard_leave();
        if (!atomic_load(&up)) {
            printf("FAIL: wait: round %d: the started thread did not come up within 20 s\n", r);
            bad = 1;
        }
        pthread_join(b, NULL);
    }
    atomic_store(&stop, 1);
    pthread_join(f, NULL);
    if (bad)
        return 1;
    if (pending == 0) {
        printf("SKIP-PART: wait: no fork was pending in any of %d rounds (%ld forks): proves nothing\n", ROUNDS,
               atomic_load(&forks));
        return 77;
    }
    printf("PASS: wait: %d rounds, a fork pending in %d of them (%ld forks): none hung\n", ROUNDS, pending,
           atomic_load(&forks));
    return 0;
}

static atomic_int held;
static int held_fd = -1;
static struct stat held_st;

static void *raw_forker(void *arg)
{
    (void)arg;
    while (!atomic_load(&held))
        sched_yield();
    pid_t p = _Fork();
    if (p == 0) {
        struct stat st;
        /* the section's descriptor, the same file: copied while it was held */
        _exit(fstat(held_fd, &st) == 0 && st.st_ino == held_st.st_ino && st.st_dev == held_st.st_dev ? 3 : 0);
    }
    int status = -1;
    if (p > 0)
        while (waitpid(p, &status, 0) < 0 && errno == EINTR)
            ;
    return (void *)(long)(p < 0 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128);
}

static int part_raw(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/section.file", dir);
    int copied = 0;
    for (int r = 0; r < 5; r++) {
        atomic_store(&held, 0);
        pthread_t t;
        if (pthread_create(&t, NULL, raw_forker, NULL)) {
            printf("FAIL: raw: pthread_create\n");
            return 1;
        }
        crs_fork_guard_enter();
        held_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (held_fd < 0 || fstat(held_fd, &held_st) != 0) {
            crs_fork_guard_leave();
            printf("FAIL: raw: cannot open %s: %s\n", path, strerror(errno));
            atomic_store(&held, 1);
            pthread_join(t, NULL);
            return 1;
        }
        atomic_store(&held, 1);
        struct timespec d = { 0, 30 * 1000 * 1000 };
        nanosleep(&d, NULL); /* the other thread's _Fork comes meanwhile */
        close(held_fd);
        crs_fork_guard_leave();
        void *rv;
        pthread_join(t, &rv);
        long st = (long)rv;
        if (st == -1) {
            printf("SKIP-PART: raw: _Fork failed (%s)\n", strerror(errno));
            return 77;
        }
        if (st == 3)
            copied++;
        else if (st != 0) {
            printf("FAIL: raw: round %d: the child ended with %ld\n", r, st);
            return 1;
        }
    }
    unlink(path);
    if (copied) {
        printf("FAIL: raw: in %d of 5 rounds the child of _Fork held the descriptor a section held at that moment\n",
               copied);
        return 1;
    }
    printf("PASS: raw: 5 children of _Fork made while a section held a descriptor: none held it\n");
    return 0;
}

static atomic_long handled;
static atomic_int spin_stop;

static void fork_in_handler(int sig)
{
    (void)sig;
    int e = errno;
    pid_t p = _Fork();
    if (p == 0)
        _exit(0);
    if (p > 0)
        while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
            ;
    atomic_fetch_add(&handled, 1);
    errno = e;
}

static void *signaller(void *arg)
{
    pthread_t target = *(pthread_t *)arg;
    double t0 = now();
    long sent = 0;
    while (sent < 20000 && now() - t0 < 4) {
        long h = atomic_load(&handled);
        pthread_kill(target, SIGUSR1);
        sent++;
        double t1 = now();
        while (atomic_load(&handled) == h) {
            if (now() - t1 > 10) {
                printf("FAIL: handler: signal %ld's handler (_Fork) did not return within 10 s while the main "
                       "thread entered and left sections: it hangs (%ld handled before)\n",
                       sent, h);
                _exit(1);
            }
            sched_yield();
        }
    }
    atomic_store(&spin_stop, 1);
    return (void *)sent;
}

static int part_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fork_in_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) != 0) {
        printf("FAIL: handler: sigaction: %s\n", strerror(errno));
        return 1;
    }
    pthread_t me = pthread_self(), t;
    if (pthread_create(&t, NULL, signaller, &me)) {
        printf("FAIL: handler: pthread_create\n");
        return 1;
    }
    double t0 = now();
    long rounds = 0;
    while (!atomic_load(&spin_stop)) {
        crs_fork_guard_enter();
        crs_fork_guard_leave();
        rounds++;
    }
    void *rv;
    pthread_join(t, &rv);
    long sent = (long)rv;
    signal(SIGUSR1, SIG_DFL);
    if (atomic_load(&handled) != sent) {
        printf("FAIL: handler: %ld signals sent, %ld handled\n", sent, atomic_load(&handled));
        return 1;
    }
    printf("PASS: handler: %ld signals whose handler called _Fork, while the main thread entered and left "
           "%ld sections in %.1f s: none hung\n",
           sent, rounds, now() - t0);
    return 0;
}

static int part_close(void)
{
    int fd = revive_open_owned("/dev/null", O_RDONLY, 0);
    if (fd < 0) {
        printf("FAIL: close: cannot open /dev/null: %s\n", strerror(errno));
        return 1;
    }
    int owned = revive_fd_owned(fd), rc = revive_close_owned(fd), after = revive_fd_owned(fd);
    int closed = fcntl(fd, F_GETFD) < 0 && errno == EBADF, none = revive_close_owned(-1);
    if (!owned || rc != 0 || after || !closed || none != 0) {
        printf("FAIL: close: owned before %d, close %d, owned after %d, closed %d, of -1 %d\n",
               owned, rc, after, closed, none);
        return 1;
    }
    printf("PASS: close: an owned descriptor disowned and closed in one call; -1 left alone\n");
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    alarm(120); /* a hang ends the program (SIGALRM): the test says so */
    int a = part_wait();
    int b = part_raw(argc > 1 ? argv[1] : "/tmp");
    int c = part_handler();
    int e = part_close();
    return a == 1 || b == 1 || c == 1 || e == 1 ? 1 : 0;
}
