/* stop_tree STEPS PACEFILE MS: ranks whose children burn CPU (stop_tree.sh; newuser7 F5). Each
 * rank forks a child ("st_burn") that forks one of its own ("st_burn2"); both burn CPU until the
 * rank closes its pipe, then exit 0 (the child once its own has). STOP_TREE_HELD set: rank 0 also forks "st_held",
 * which it stops itself (SIGSTOP, seen through waitpid WUNTRACED) and ends at the end (SIGKILL):
 * a child the application stopped. STOP_TREE_FORKER set: a thread of each rank forks a child
 * ("st_fork") every 300 ms that sleeps 3 s in 10 ms naps and exits 0, and reaps it (a worker pool
 * that comes and goes: a fork may come at any moment of a --stop). Each step: an MPI_Allreduce,
 * rank 0 prints "step N: SUM", rst_pace. At the end rank 0 prints "done: children ok" when every
 * child ended as told. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include "rst_pace.h"

static atomic_int forker_stop, forker_bad;

static void *forker(void *arg)
{
    (void)arg;
    pid_t kids[32];
    int n = 0;
    while (!atomic_load(&forker_stop) || n > 0) {
        if (!atomic_load(&forker_stop) && n < 32) {
            pid_t k = fork();
            if (k == 0) {
                prctl(PR_SET_NAME, "st_fork");
                struct timespec d = { 0, 10 * 1000 * 1000 };
                for (int i = 0; i < 300; i++)
                    nanosleep(&d, NULL);
                _exit(0);
            }
            if (k > 0)
                kids[n++] = k;
        }
        for (int i = 0; i < n;) { /* the ended ones reaped */
            int st;
            pid_t r = waitpid(kids[i], &st, atomic_load(&forker_stop) ? 0 : WNOHANG);
            if (r == 0 || (r < 0 && errno == EINTR)) {
                i++;
                continue;
            }
            if (r < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                atomic_fetch_add(&forker_bad, 1);
            kids[i] = kids[--n];
        }
        struct timespec d = { 0, 300 * 1000 * 1000 };
        if (!atomic_load(&forker_stop))
            nanosleep(&d, NULL);
    }
    return NULL;
}

static void burn(int rfd)
{
    volatile unsigned long x = 0;
    struct pollfd pf = { rfd, POLLIN, 0 };
    for (;;) {
        for (int k = 0; k < 200000; k++)
            x += (unsigned long)k;
        if (poll(&pf, 1, 0) > 0)
            return;
    }
}

static int reap(pid_t p)
{
    int st;
    while (waitpid(p, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return st;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: stop_tree STEPS PACEFILE MS\n");
        return 2;
    }
    int steps = atoi(argv[1]);
    long ms = atol(argv[3]);
    MPI_Init(&argc, &argv);
    int me, np;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    int p[2];
    if (pipe(p))
        return 1;
    pid_t c = fork();
    if (c == 0) {
        close(p[1]);
        prctl(PR_SET_NAME, "st_burn");
        pid_t g = fork();
        if (g == 0) {
            prctl(PR_SET_NAME, "st_burn2");
            burn(p[0]);
            _exit(0);
        }
        burn(p[0]);
        int st = g > 0 ? reap(g) : -1;
        _exit(st == 0 ? 0 : 3);
    }
    close(p[0]);
    pid_t held = -1;
    if (me == 0 && getenv("STOP_TREE_HELD")) {
        int q[2];
        if (pipe(q))
            return 1;
        held = fork();
        if (held == 0) {
            close(p[1]); /* the burners see the end of the pipe when the rank closes its end */
            close(q[0]);
            prctl(PR_SET_NAME, "st_held");
            close(q[1]); /* named and the pipe closed: the rank may stop it now */
            for (;;)
                pause();
        }
        close(q[1]);
        char b;
        while (read(q[0], &b, 1) < 0 && errno == EINTR)
            ;
        close(q[0]);
        int st;
        kill(held, SIGSTOP);
        while (waitpid(held, &st, WUNTRACED) < 0 && errno == EINTR)
            ;
    }
    pthread_t ft;
    int forking = getenv("STOP_TREE_FORKER") && pthread_create(&ft, NULL, forker, NULL) == 0;
    for (int s = 0; s < steps; s++) {
        int v = s * (me + 1), w = 0;
        MPI_Allreduce(&v, &w, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        if (me == 0) {
            printf("step %d: %d\n", s, w);
            fflush(stdout);
        }
        rst_pace(argv[2], ms, steps - s);
    }
    close(p[1]);
    int ok = c > 0 && reap(c) == 0;
    if (forking) {
        atomic_store(&forker_stop, 1);
        pthread_join(ft, NULL);
        ok = ok && atomic_load(&forker_bad) == 0;
    }
    if (held > 0) {
        kill(held, SIGKILL);
        int st = reap(held);
        ok = ok && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
    }
    int all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (me == 0)
        printf("done: children %s\n", all ? "ok" : "FAILED");
    MPI_Finalize();
    return 0;
}
