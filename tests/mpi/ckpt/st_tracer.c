/* st_tracer PID (stop_tree.sh part 3): traces process PID as a debugger holding it would
 * (PTRACE_SEIZE, from outside the job's tree). Every signal the process gets is passed on to it
 * (Revive's checkpoint signal, SIGCONT...) but SIGSTOP: there the process is kept in its
 * signal-delivery stop (state t in /proc) until this program gets SIGUSR1, then resumed without
 * the SIGSTOP. Prints "tracing PID" once attached; exits 0 when the process ends, 2 on a usage
 * or ptrace error (said). */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: st_tracer PID\n");
        return 2;
    }
    pid_t pid = (pid_t)atoi(argv[1]);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    if (ptrace(PTRACE_SEIZE, pid, 0, 0) != 0) {
        fprintf(stderr, "st_tracer: cannot trace %d: %s\n", (int)pid, strerror(errno));
        return 2;
    }
    printf("tracing %d\n", (int)pid);
    fflush(stdout);
    for (;;) {
        int st;
        if (waitpid(pid, &st, __WALL) < 0) {
            if (errno == EINTR)
                continue;
            return errno == ECHILD ? 0 : 2;
        }
        if (WIFEXITED(st) || WIFSIGNALED(st))
            return 0;
        if (!WIFSTOPPED(st))
            continue;
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
}
