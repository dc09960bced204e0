/* An MPI program that installs a handler for signal SIG (default 62, SIGRTMAX-2: Revive's
 * default park signal) and sigqueue()s it to itself once per step between Allreduces (newuser7b
 * F2). Rank 0 prints its sigaction's result and the handler's count and sum (park_signal.sh). */
#define _GNU_SOURCE
#include <errno.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t calls, sum;

static void on_sig(int s, siginfo_t *i, void *c)
{
    (void)s, (void)c;
    calls++;
    sum += i->si_value.sival_int;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, sig = argc > 1 ? atoi(argv[1]) : SIGRTMAX - 2, steps = 20;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sig;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    int rc = sigaction(sig, &sa, NULL);
    int e = errno;
    long total = 0;
    for (int s = 1; s <= steps; s++) {
        union sigval v = { .sival_int = s };
        sigqueue(getpid(), sig, v);
        long mine = calls, all;
        MPI_Allreduce(&mine, &all, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        total = all;
    }
    if (rank == 0)
        printf("sigaction(%d): %s; handler calls %d sum %d; all ranks' calls %ld\n", sig,
               rc ? (e == EINVAL ? "EINVAL" : strerror(e)) : "ok", (int)calls, (int)sum, total);
    MPI_Finalize();
    return 0;
}
