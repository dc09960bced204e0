/* st_tracer PID [HOLD_MS] (stop_tree.sh parts 3 and 4): traces process PID from outside the job's
 * tree (PTRACE_SEIZE). Prints "tracing PID" once attached; exits 0 when the process ends, 2 on a
 * usage or ptrace error (said).
 * Without HOLD_MS, as a debugger holding it would: every signal the process gets is passed on to
 * it (Revive's checkpoint signal, SIGCONT...) but SIGSTOP: there the process is kept in its
 * signal-delivery stop (state t in /proc) until this program gets SIGUSR1, then resumed without
 * the SIGSTOP.
 * With HOLD_MS, as strace writing to a slow terminal would: the process stops at each system
 * call's entry and exit (state t) and is resumed HOLD_MS milliseconds later, this program
 * printing "sys" for each such stop; every signal is passed on, and a stop signal stops it (a
 * group-stop, state t, kept with PTRACE_LISTEN until SIGCONT), as strace does. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>

/* The traced process's next stop into *st: 1; 0 when it has ended (or is gone: ECHILD), -1 on
 * another error of waitpid. */
static int next_stop(pid_t pid, int *st)
{
    for (;;) {
        if (waitpid(pid, st, __WALL) < 0) {
            if (errno == EINTR)
                continue;
            return errno == ECHILD ? 0 : -1;
        }
        if (WIFEXITED(*st) || WIFSIGNALED(*st))
            return 0;
        if (WIFSTOPPED(*st))
            return 1;
    }
}

/* the strace-like mode: system-call stops held hold_ms each, stop signals honoured */
static int trace_calls(pid_t pid, long hold_ms)
{
    ptrace(PTRACE_INTERRUPT, pid, 0, 0); /* a first stop, to start tracing its calls from */
    struct timespec hold = {hold_ms / 1000, hold_ms % 1000 * 1000000L};
    int st, r;
    while ((r = next_stop(pid, &st)) > 0) {
        int sig = WSTOPSIG(st);
        if (sig == (SIGTRAP | 0x80)) { /* a system call's entry or exit */
            printf("sys\n");
            fflush(stdout);
            nanosleep(&hold, NULL);
            ptrace(PTRACE_SYSCALL, pid, 0, 0);
        } else if (st >> 16 == PTRACE_EVENT_STOP &&
                   (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)) {
            ptrace(PTRACE_LISTEN, pid, 0, 0); /* group-stop: stays stopped until SIGCONT */
        } else if (st >> 16) {
            ptrace(PTRACE_SYSCALL, pid, 0, 0); /* another event (the first stop, a SIGCONT's) */
        } else {
            ptrace(PTRACE_SYSCALL, pid, 0, sig); /* a signal: passed on */
        }
    }
    return r < 0 ? 2 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: st_tracer PID [HOLD_MS]\n");
        return 2;
    }
    pid_t pid = (pid_t)atoi(argv[1]);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    /* (the options only at the seize: PTRACE_SETOPTIONS needs the process stopped) */
    if (ptrace(PTRACE_SEIZE, pid, 0, argc == 3 ? PTRACE_O_TRACESYSGOOD : 0) != 0) {
        fprintf(stderr, "st_tracer: cannot trace %d: %s\n", (int)pid, strerror(errno));
        return 2;
    }
    printf("tracing %d\n", (int)pid);
    fflush(stdout);
    if (argc == 3)
        return trace_calls(pid, atol(argv[2]));
    int st, r;
    while ((r = next_stop(pid, &st)) > 0) {
        int sig = WSTOPSIG(st);
        if (st >> 16) { /* a group-stop or another event: resumed as it is */
            ptrace(PTRACE_CONT, pid, 0, 0);
            continue;
        }
        if (sig == SIGSTOP) { /* held in state t until told */
            int got;
            sigwait(&usr1, &got);
            ptrace(PTRACE_CONT, pid, 0, 0);
            continue;
        }
        ptrace(PTRACE_CONT, pid, 0, sig);
    }
    return r < 0 ? 2 : 0;
}
