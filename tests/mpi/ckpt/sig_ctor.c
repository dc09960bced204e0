/* sig_ctor STEPS PACEFILE MS (sig_ctor.sh FLAVOR): the program's signal actions set before
 * MPI_Init stay its own through MPI_Init and across a restart, as natively. Natively the MPI
 * library's constructors run before main (MPICH's UCX, libucs: handlers for SIGHUP, its debug
 * signal, and for SIGILL, SIGBUS, SIGFPE, SIGSEGV) and what the program sets afterwards wins; under
 * Revive the lower half's copies of those constructors run again at MPI_Init. Before MPI_Init the
 * program ignores SIGHUP and installs its own handlers for SIGFPE, SIGSEGV and SIGUSR2 (SIGILL and
 * SIGBUS left as they are). Every step prints what each of those signals does (ignored, default,
 * the program's handler, another handler) and raises SIGHUP, SIGFPE, SIGSEGV and SIGUSR2, counting
 * the program's handler calls. Before session 49, under MPICH, SIGHUP and SIGFPE had UCX's
 * handlers after MPI_Init (a SIGHUP turned on UCX's debug log on stderr), and a restart lost the
 * program's SIGSEGV handler on both MPIs. */
#include <signal.h>
#include <string.h>
#include "rst_pace.h"

static volatile sig_atomic_t calls[NSIG];

static void mine(int sig)
{
    calls[sig]++;
}

static void mine_info(int sig, siginfo_t *si, void *ctx)
{
    (void)si;
    (void)ctx;
    calls[sig]++;
}

static void own(int sig, int info)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    if (info) {
        sa.sa_sigaction = mine_info;
        sa.sa_flags = SA_SIGINFO;
    } else {
        sa.sa_handler = mine;
    }
    if (sigaction(sig, &sa, NULL) != 0) {
        perror("sig_ctor: sigaction");
        exit(2);
    }
}

/* what SIG does now: I ignored, D default, P the program's handler, O another handler */
static char what(int sig)
{
    struct sigaction sa;
    if (sigaction(sig, NULL, &sa) != 0)
        return '?';
    if (!(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_IGN)
        return 'I';
    if (!(sa.sa_flags & SA_SIGINFO) && sa.sa_handler == SIG_DFL)
        return 'D';
    if ((sa.sa_flags & SA_SIGINFO) ? sa.sa_sigaction == mine_info : sa.sa_handler == mine)
        return 'P';
    return 'O';
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: sig_ctor STEPS PACEFILE MS\n");
        return 2;
    }
    signal(SIGHUP, SIG_IGN);
    own(SIGFPE, 1);
    own(SIGSEGV, 1);
    own(SIGUSR2, 0);
    struct rst_run r = rst_begin(&argc, &argv, "sig_ctor");
    for (int s = 1; s <= r.steps; s++) {
        /* SIGSEGV is not asked: Revive's guard of the program's copy of the library handles it
         * and passes it on (tested by raising it) */
        char line[64];
        snprintf(line, sizeof line, "HUP %c ILL %c BUS %c FPE %c USR2 %c", what(SIGHUP),
                 what(SIGILL), what(SIGBUS), what(SIGFPE), what(SIGUSR2));
        raise(SIGHUP);
        raise(SIGFPE);
        raise(SIGSEGV);
        raise(SIGUSR2);
        long long mine_calls = calls[SIGFPE] + 100LL * calls[SIGSEGV] + 10000LL * calls[SIGUSR2] +
                               1000000LL * calls[SIGHUP];
        /* every rank's line must be rank 0's: a rank that differs says so (not "step N:" lines:
         * ckptenv.sh counts those, one a step, to know where the snapshot fell) */
        char first[64];
        memcpy(first, line, sizeof line);
        MPI_Bcast(first, sizeof first, MPI_CHAR, 0, MPI_COMM_WORLD);
        if (strcmp(first, line))
            printf("signals rank %d: %s\n", r.me, line);
        if (r.me == 0)
            printf("signals %d: %s\n", s, line);
        fflush(stdout);
        rst_step_sum(&r, s, mine_calls);
    }
    rst_done_sum(&r, (long long)calls[SIGSEGV]);
    MPI_Finalize();
    return 0;
}
