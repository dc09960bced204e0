/* sig_ctor STEPS PACEFILE MS (sig_ctor.sh FLAVOR): a rank's signal actions, as natively, through
 * MPI_Init and across a restart. Natively the MPI library's constructors run before main (MPICH's
 * UCX, libucs: handlers for SIGHUP, its debug signal, and for SIGILL, SIGBUS, SIGFPE, SIGSEGV, and
 * an alternate signal stack) and what the program sets afterwards wins; MPI_Init installs its own
 * (Open MPI's opal: SIGABRT, SIGBUS, SIGFPE, SIGSEGV at the default; with the UCX PML UCX's, and an
 * alternate stack for the thread that called it; MPICH: SIGUSR1, calling the program's handler it
 * found). Before MPI_Init the program ignores SIGHUP and installs its own handlers for SIGFPE,
 * SIGSEGV, SIGUSR1 and SIGUSR2 (SA_ONSTACK); after it, for SIGILL. Every step prints the action of
 * every signal 1-31 but SIGSEGV (the guard's under Revive) by class (D default, I ignored, P the
 * program's, else the file of the handler: the library's) and flag (+ SA_ONSTACK), whether the
 * main thread's alternate stack is set and mapped, then raises SIGHUP, SIGFPE, SIGSEGV, SIGUSR2
 * and SIGILL and sends itself SIGUSR1 (as Slurm's --signal), counting the program's handler calls
 * (SIGHUP, SIGFPE and SIGSEGV not raised with SIG_CTOR_LIB_FAULTS=1).
 * Before session 49, under MPICH, SIGHUP and SIGFPE had UCX's handlers after MPI_Init, and a
 * restart lost the program's SIGSEGV handler on both MPIs. Before session 51, after a restart:
 * MPICH's fresh SIGUSR1 handler called the default in place of the program's (no call counted);
 * with Open MPI's UCX PML, UCX's SIGILL handler replaced the program's, and the main thread's
 * alternate stack lay in the dead lower half (the SA_ONSTACK SIGUSR2 killed the rank); until ucx51
 * libcr's fresh stack was undone by the return of the thread's park handler (the same death).
 * A flipper thread outside MPI installs another SIGUSR2 handler as soon as the rank is restarted
 * (below); before session 52 the fresh MPI_Init's put-back replaced it with the checkpoint's. */
#define _GNU_SOURCE /* dladdr */
#include <signal.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "rst_pace.h"

static volatile sig_atomic_t calls[NSIG], stale;

/* which of the program's SIGUSR2 handlers it installed last: 1 mine, 2 mine_r (the flipper's) */
static atomic_int usr2_set = 1;

static void mine(int sig)
{
    if (sig == SIGUSR2 && atomic_load(&usr2_set) != 1)
        stale++; /* the program installed another since: it must not run */
    else
        calls[sig]++;
}

/* the flipper thread's SIGUSR2 handler, installed after a restart */
static void mine_r(int sig)
{
    if (atomic_load(&usr2_set) != 2)
        stale++;
    else
        calls[sig]++;
}

static void mine_info(int sig, siginfo_t *si, void *ctx)
{
    (void)si;
    (void)ctx;
    calls[sig]++;
}

static void own_as(int sig, int info, void (*h)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    if (sig == SIGUSR2)
        sa.sa_flags = SA_ONSTACK; /* run on the alternate stack, when the thread has one */
    if (info) {
        sa.sa_sigaction = mine_info;
        sa.sa_flags |= SA_SIGINFO;
    } else {
        sa.sa_handler = h;
    }
    if (sigaction(sig, &sa, NULL) != 0) {
        perror("sig_ctor: sigaction");
        exit(2);
    }
}

static void own(int sig, int info)
{
    own_as(sig, info, mine);
}

/* The flipper: a thread of the program that never calls MPI and watches its own thread id, which
 * a restart changes (the restarted rank is a process of the restart's launcher). When it changes
 * it installs its own SIGUSR2 handler (mine_r) in place of mine, once, and says so on stderr
 * (sig_ctor.sh checks that it did). It runs on from its park at once, while the checkpoint agent
 * loads and initialises the fresh MPI library: natively the handler a program installs last is the
 * one that runs, so a SIGUSR2 that reaches the other one counts as stale (both are "P" in the
 * signals lines; the step results, natively no stale call, then differ). Before session 52 the
 * fresh MPI_Init's put-back set SIGUSR2 back to mine (src/pml_hooks/sig_lib.c). */
static atomic_int stop;

static void *flipper(void *arg)
{
    (void)arg;
    pid_t tid = (pid_t)syscall(SYS_gettid);
    struct timespec ms = {0, 1000000L};
    while (!atomic_load(&stop)) {
        if ((pid_t)syscall(SYS_gettid) != tid) {
            own_as(SIGUSR2, 0, mine_r);
            atomic_store(&usr2_set, 2);
            fprintf(stderr, "sig_ctor: restarted: the flipper installed its SIGUSR2 handler\n");
            return NULL;
        }
        nanosleep(&ms, NULL);
    }
    return NULL;
}

/* what SIG does now, appended to LINE: I ignored, D default, P the program's handler, else the
 * base name of the file that holds the handler (the library's); + when it runs on the alternate
 * stack. Nothing for the default. */
static void what(int sig, char *line, size_t len)
{
    struct sigaction sa;
    size_t o = strlen(line);
    if (sigaction(sig, NULL, &sa) != 0) {
        snprintf(line + o, len - o, " %d?", sig);
        return;
    }
    void *h = (sa.sa_flags & SA_SIGINFO) ? (void *)sa.sa_sigaction : (void *)sa.sa_handler;
    const char *on = (sa.sa_flags & SA_ONSTACK) ? "+" : "";
    Dl_info di;
    if (h == (void *)SIG_DFL)
        return;
    if (h == (void *)SIG_IGN)
        snprintf(line + o, len - o, " %dI", sig);
    else if (h == (void *)mine || h == (void *)mine_info || h == (void *)mine_r)
        snprintf(line + o, len - o, " %dP%s", sig, on);
    else if (dladdr(h, &di) && di.dli_fname && di.dli_fname[0])
        snprintf(line + o, len - o, " %d%s:%s", sig, on,
                 strrchr(di.dli_fname, '/') ? strrchr(di.dli_fname, '/') + 1 : di.dli_fname);
    else
        snprintf(line + o, len - o, " %d%s:unknown", sig, on); /* in no loaded file: gone */
}

/* the calling thread's alternate signal stack: none, or set and mapped (mincore), or set where
 * nothing is mapped */
static const char *alt_stack(void)
{
    stack_t ss;
    if (sigaltstack(NULL, &ss) != 0 || (ss.ss_flags & SS_DISABLE))
        return "none";
    unsigned char vec[1024];
    uintptr_t lo = (uintptr_t)ss.ss_sp & ~(uintptr_t)4095, hi = ((uintptr_t)ss.ss_sp + ss.ss_size + 4095) & ~(uintptr_t)4095;
    if (hi - lo > sizeof vec * 4096 || mincore((void *)lo, hi - lo, vec) != 0)
        return "gone";
    return "mapped";
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: sig_ctor STEPS PACEFILE MS\n");
        return 2;
    }
    /* SIG_CTOR_LIB_FAULTS=1 (sig_ctor.sh ompi-ucx): UCX, loaded by MPI_Init, puts its handlers
     * over the program's SIGHUP, SIGFPE and SIGSEGV natively: raising them kills the rank there
     * or turns on UCX's debug log */
    const char *lf = getenv("SIG_CTOR_LIB_FAULTS");
    int lib_faults = lf && !strcmp(lf, "1");
    signal(SIGHUP, SIG_IGN);
    own(SIGFPE, 1);
    own(SIGSEGV, 1);
    own(SIGUSR2, 0);
    own(SIGUSR1, 0);
    struct rst_run r = rst_begin(&argc, &argv, "sig_ctor");
    own(SIGILL, 0);
    pthread_t flip;
    if (pthread_create(&flip, NULL, flipper, NULL) != 0) {
        fprintf(stderr, "sig_ctor: cannot start the flipper thread\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    for (int s = 1; s <= r.steps; s++) {
        /* SIGSEGV is not asked: Revive's guard of the program's copy of the library handles it
         * and passes it on (tested by raising it) */
        /* read once MPI is back: after a restart the application's threads run on while the
         * checkpoint agent loads and initialises the fresh library (an MPI call waits for it),
         * and meanwhile the library's signals have the actions the first MPI_Init found */
        MPI_Barrier(MPI_COMM_WORLD);
        char line[1024] = "";
        for (int sig = 1; sig < 32; sig++)
            if (sig != SIGKILL && sig != SIGSTOP && sig != SIGSEGV)
                what(sig, line, sizeof line);
        size_t o = strlen(line);
        snprintf(line + o, sizeof line - o, " alt %s", alt_stack());
        if (!lib_faults) {
            raise(SIGHUP);
            raise(SIGFPE);
            raise(SIGSEGV);
        }
        raise(SIGUSR2);
        raise(SIGILL);
        /* to the process, as a batch system sends it (the main thread takes it: it is the one
         * kill() names first and it does not block it) */
        kill(getpid(), SIGUSR1);
        long long mine_calls = calls[SIGFPE] + 10LL * calls[SIGSEGV] + 100LL * calls[SIGUSR2] +
                               1000LL * calls[SIGHUP] + 10000LL * calls[SIGUSR1] +
                               100000LL * calls[SIGILL] + 1000000LL * stale;
        /* every rank's line must be rank 0's: a rank that differs says so (not "step N:" lines:
         * ckptenv.sh counts those, one a step, to know where the snapshot fell) */
        char first[sizeof line];
        memcpy(first, line, sizeof line);
        MPI_Bcast(first, sizeof first, MPI_CHAR, 0, MPI_COMM_WORLD);
        if (strcmp(first, line))
            printf("signals rank %d:%s\n", r.me, line);
        if (r.me == 0)
            printf("signals %d:%s\n", s, line);
        fflush(stdout);
        rst_step_sum(&r, s, mine_calls);
    }
    atomic_store(&stop, 1);
    pthread_join(flip, NULL);
    rst_done_sum(&r, (long long)calls[SIGSEGV]);
    MPI_Finalize();
    return 0;
}
