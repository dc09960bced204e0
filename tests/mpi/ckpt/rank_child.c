/* A rank that keeps helper child processes (review19 MEDIUM-1, issue 7):
 *   rank_child STEPS PACEFILE MS
 * Every 4 steps each rank forks a child that computes four numbers and sends them over a pipe,
 * a few milliseconds apart, then ends: with an exit code, or (every third child) killed by
 * SIGUSR1. The rank reads one number from the pipe per step (the child has ended by the second:
 * the pipe holds the rest, its writing end closed) and waits for the child (waitpid of its pid)
 * only once it has forked the next one, 4 steps later (the last one at the last step), adding
 * its wait status to the sum: from the first step on the rank always has a child, and a snapshot
 * finds one that ended and was not reaped (a zombie), or a new one still running (the capture
 * tries again until it has ended: then it is a zombie). Rank 0 prints "step N: SUM" per step and
 * "done: ACC"; while PACEFILE exists each step also sleeps MS ms (rst_pace.h).
 * With RANK_CHILD_KEEP set, rank 0 also keeps a child that runs (a loop of sleeps) from the start
 * until the last step, where it is ended and waited for: no snapshot can be taken meanwhile.
 * With RANK_CHILD_ZOMBIES=N, rank 0 also makes N children that end at once and reaps them only at
 * the last step (more than a snapshot keeps: 64); the sums are the same as without them.
 * With RANK_CHILD_WORKER set, each rank also forks a worker at the start, joined by two pipes:
 * each step the rank sends it a number and reads back the worker's running total (its state,
 * in its memory); the worker asks a helper of its own (the rank's grandchild, on two pipes) for
 * a part of each answer; at the last step the rank closes its end, the worker ends its helper,
 * exits with its total and the helper's exit code modulo 251 and the rank adds the wait status
 * waitpid gives (a snapshot always finds both running: they come along in the rank's image, a
 * tree file, and back at the restart). Rank 0's worker forks its helper from a second thread,
 * which then sleeps. With RANK_CHILD_SETSID set, each worker starts a session of its own (its
 * helper in it too).
 * With RANK_CHILD_CLONES=N, rank 0 also makes N children with a raw clone, exit signal none (as a
 * library's helper thread-like process), that end at once and are never waited for: zombies that
 * only waitpid with __WALL reaps (rank_many.sh). With RANK_CHILD_SLEEPERS=N, rank 0 also forks N
 * children that sleep until the last step, where it ends and waits for them (rank_many.sh). */
#include <mpi.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rst_pace.h"

static long value(int me, int batch, int j)
{
    return (long)(me + 1) * 1000 + batch * 37 + j * j * 11;
}

/* The child pid ended: its wait status added to x as a number (what the rank computes with it). */
static void reap_child(pid_t pid, int me, int s, long *x)
{
    int st = 0;
    pid_t w = waitpid(pid, &st, 0);
    if (w != pid) {
        fprintf(stderr, "rank %d step %d: waitpid(%d): %s\n", me, s, (int)pid, strerror(errno));
        *x -= 300000;
    } else if (WIFSIGNALED(st)) {
        *x += 500 + WTERMSIG(st);
    } else {
        *x += WEXITSTATUS(st);
    }
}

/* The worker's helper (the rank's grandchild): each number it is sent back squared plus one,
 * modulo a prime; the count of numbers as its exit code at the end of its pipe. */
static void __attribute__((noreturn)) helper(int rfd, int wfd)
{
    long v, count = 0;
    ssize_t n;
    while ((n = read(rfd, &v, sizeof v)) == (ssize_t)sizeof v || (n < 0 && errno == EINTR)) {
        if (n < 0)
            continue;
        count++;
        v = (v * v + 1) % 999983L;
        if (write(wfd, &v, sizeof v) != (ssize_t)sizeof v)
            _exit(99);
    }
    _exit((int)(count % 199));
}

/* The helper's start: in the calling thread; its pid, or -1. */
static pid_t start_helper(int rfd, int wfd, const int a[2], const int b[2])
{
    pid_t h = fork();
    if (h == 0) {
        close(rfd);
        close(wfd);
        close(a[1]);
        close(b[0]);
        helper(a[0], b[1]);
    }
    return h;
}

struct forker {
    int rfd, wfd, a[2], b[2];
    pid_t h; /* 0 until the thread has forked */
};

/* Rank 0's worker's second thread: forks the helper, then sleeps for ever (it never returns:
 * the worker ends by _exit with it still there) */
static void *forker_thread(void *arg)
{
    struct forker *f = arg;
    pid_t h = start_helper(f->rfd, f->wfd, f->a, f->b);
    __atomic_store_n(&f->h, h, __ATOMIC_SEQ_CST);
    for (;;) {
        struct timespec d = { 1, 0 };
        nanosleep(&d, NULL);
    }
    return NULL;
}

/* The worker: a running total of what it is sent and of its helper's answers, each answer the
 * total so far; its helper's exit code in its own. Rank 0's forks its helper from a second
 * thread, which stays (sleeping): the helper is on that thread's list of children
 * (/proc/W/task/T/children) alone, not on the worker's main thread's (diffrev27 T-H1': the walk
 * of the main threads' lists left it stopped after a failed --term epoch, and after a --term).
 * The same numbers either way. */
static void __attribute__((noreturn)) worker(int rfd, int wfd, int me)
{
    static struct forker f;
    int *a = f.a, *b = f.b;
    if (getenv("RANK_CHILD_SETSID"))
        setsid(); /* with its helper out of the rank's session and group, as a daemon's */
    if (pipe(a) != 0 || pipe(b) != 0)
        _exit(98);
    pid_t h;
    if (me == 0) {
        pthread_t t;
        f.rfd = rfd, f.wfd = wfd;
        if (pthread_create(&t, NULL, forker_thread, &f) != 0)
            _exit(94);
        while ((h = __atomic_load_n(&f.h, __ATOMIC_SEQ_CST)) == 0) {
            struct timespec d = { 0, 1000 * 1000 };
            nanosleep(&d, NULL);
        }
    } else {
        h = start_helper(rfd, wfd, a, b);
    }
    if (h < 0)
        _exit(97);
    close(a[0]);
    close(b[1]);
    long total = me * 7, v, hv = 0;
    ssize_t n;
    while ((n = read(rfd, &v, sizeof v)) == (ssize_t)sizeof v || (n < 0 && errno == EINTR)) {
        if (n < 0)
            continue;
        if (write(a[1], &v, sizeof v) != (ssize_t)sizeof v || read(b[0], &hv, sizeof hv) != (ssize_t)sizeof hv)
            _exit(96);
        total = (total * 31 + v * v + hv + 1) % 1000003L;
        if (write(wfd, &total, sizeof total) != (ssize_t)sizeof total)
            _exit(99);
    }
    close(a[1]);
    int st = 0;
    if (waitpid(h, &st, 0) != h || !WIFEXITED(st))
        _exit(95);
    _exit((int)((total + WEXITSTATUS(st)) % 251));
}

static void __attribute__((noreturn)) child(int wfd, int me, int batch)
{
    for (int j = 0; j < 4; j++) {
        long v = value(me, batch, j);
        struct timespec d = { 0, 3 * 1000 * 1000 };
        if (write(wfd, &v, sizeof v) != (ssize_t)sizeof v)
            _exit(99);
        nanosleep(&d, NULL);
    }
    close(wfd);
    if (batch % 3 == 2) {
        signal(SIGUSR1, SIG_DFL);
        kill(getpid(), SIGUSR1);
    }
    _exit((batch * 13 + me) % 256);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int me;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    int steps = argc > 1 ? atoi(argv[1]) : 40;
    const char *pace = argc > 2 ? argv[2] : NULL;
    long ms = argc > 3 ? atol(argv[3]) : 0;
    pid_t kept = -1;
    if (me == 0 && getenv("RANK_CHILD_KEEP")) {
        kept = fork();
        if (kept == 0) {
            for (;;) {
                struct timespec d = { 0, 50 * 1000 * 1000 };
                nanosleep(&d, NULL);
            }
        }
    }
    int many = me == 0 && getenv("RANK_CHILD_ZOMBIES") ? atoi(getenv("RANK_CHILD_ZOMBIES")) : 0;
    pid_t *ended = many > 0 ? calloc((size_t)many, sizeof *ended) : NULL;
    for (int i = 0; i < many; i++) {
        if ((ended[i] = fork()) == 0)
            _exit(i % 7);
        if (ended[i] < 0) {
            perror("fork");
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    }
    int clones = me == 0 && getenv("RANK_CHILD_CLONES") ? atoi(getenv("RANK_CHILD_CLONES")) : 0;
    for (int i = 0; i < clones; i++) {
        long c = syscall(SYS_clone, 0UL, 0UL, 0UL, 0UL, 0UL); /* a copy, exit signal none */
        if (c == 0)
            syscall(SYS_exit_group, 0);
        if (c < 0) {
            perror("clone");
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    }
    int nsleep = me == 0 && getenv("RANK_CHILD_SLEEPERS") ? atoi(getenv("RANK_CHILD_SLEEPERS")) : 0;
    pid_t *sleepers = nsleep > 0 ? calloc((size_t)nsleep, sizeof *sleepers) : NULL;
    for (int i = 0; i < nsleep; i++) {
        if ((sleepers[i] = fork()) == 0)
            for (;;)
                pause();
        if (sleepers[i] < 0) {
            perror("fork");
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    }
    pid_t wpid = -1;
    int wto = -1, wfrom = -1;
    if (getenv("RANK_CHILD_WORKER")) {
        int a[2], b[2];
        if (pipe(a) != 0 || pipe(b) != 0) {
            perror("pipe");
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
        wpid = fork();
        if (wpid == 0) {
            close(a[1]);
            close(b[0]);
            worker(a[0], b[1], me);
        }
        if (wpid < 0) {
            perror("fork");
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
        close(a[0]);
        close(b[1]);
        wto = a[1];
        wfrom = b[0];
    }
    long acc = 0;
    pid_t reap = -1;
    int rfd = -1, got = 0;
    for (int s = 1; s <= steps; s++) {
        long x = 0;
        if ((s - 1) % 4 == 0 && s + 3 <= steps) {
            int p[2];
            if (pipe(p) != 0) {
                perror("pipe");
                MPI_Abort(MPI_COMM_WORLD, 2);
            }
            int batch = (s - 1) / 4;
            pid_t kid = fork();
            if (kid == 0) {
                close(p[0]);
                child(p[1], me, batch);
            }
            if (kid < 0) {
                perror("fork");
                MPI_Abort(MPI_COMM_WORLD, 2);
            }
            close(p[1]);
            rfd = p[0];
            got = 0;
            /* the previous child is reaped only now that there is a new one: the rank is never
             * without a child (at a snapshot: a zombie, or a running one that soon is one) */
            if (reap > 0)
                reap_child(reap, me, s, &x);
            reap = kid;
        }
        if (rfd >= 0) {
            long v = -1;
            ssize_t n = read(rfd, &v, sizeof v);
            x += n == (ssize_t)sizeof v ? v : -100000;
            if (++got == 4) {
                char c;
                if (read(rfd, &c, 1) != 0) /* its end: the child closed its end and ended */
                    x -= 200000;
                close(rfd);
                rfd = -1;
            }
        }
        if (s == steps && reap > 0) {
            reap_child(reap, me, s, &x);
            reap = -1;
        }
        if (s == steps && kept > 0) {
            kill(kept, SIGTERM);
            waitpid(kept, NULL, 0);
        }
        for (int i = 0; s == steps && i < nsleep; i++)
            kill(sleepers[i], SIGKILL);
        for (int i = 0; s == steps && i < nsleep; i++) { /* as native (none) when each was there */
            int st = 0;
            if (waitpid(sleepers[i], &st, 0) != sleepers[i] || !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
                x -= 700000;
        }
        for (int i = 0; s == steps && i < many; i++) { /* as native (none) when each ended so */
            int st = 0;
            if (waitpid(ended[i], &st, 0) != ended[i] || !WIFEXITED(st) || WEXITSTATUS(st) != i % 7)
                x -= 300000;
        }
        if (wpid > 0) {
            long v = (long)s * (me + 3), t = -1;
            if (write(wto, &v, sizeof v) != (ssize_t)sizeof v || read(wfrom, &t, sizeof t) != (ssize_t)sizeof t)
                x -= 400000;
            x += t % 1000;
            if (s == steps) {
                close(wto);
                close(wfrom);
                reap_child(wpid, me, s, &x);
                wpid = -1;
            }
        }
        long sum = 0;
        MPI_Allreduce(&x, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        acc = (acc * 3 + sum) % 1000000007L;
        if (me == 0) {
            printf("step %d: %ld\n", s, sum);
            fflush(stdout);
        }
        rst_pace(pace, ms, steps - s);
    }
    free(ended);
    free(sleepers);
    if (me == 0) {
        printf("done: %ld\n", acc);
        fflush(stdout);
    }
    MPI_Finalize();
    return 0;
}
