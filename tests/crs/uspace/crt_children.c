/*
 * Child processes (issue 10, point 1, until process trees are saved): at
 * point 1 the program has a running child and an unreaped zombie, so a
 * checkpoint must be refused naming them; it then ends and reaps both, and
 * at point 2 (no children left) a checkpoint and restart work.
 * Contract: crt_common.h.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int pfd[2];
    if (pipe(pfd) != 0)
        crt_die("pipe: %s", strerror(errno));
    pid_t running = fork();
    if (running == 0) {
        char c;
        close(pfd[1]);
        while (read(pfd[0], &c, 1) < 0 && errno == EINTR)
            ;
        _exit(7);   /* when the parent closes the pipe */
    }
    close(pfd[0]);
    pid_t zombie = fork();
    if (zombie == 0)
        _exit(3);
    if (running < 0 || zombie < 0)
        crt_die("fork: %s", strerror(errno));
    /* the zombie is one once it has exited: wait for that without reaping */
    siginfo_t si;
    while (waitid(P_PID, (id_t)zombie, &si, WEXITED | WNOWAIT) != 0 && errno == EINTR)
        ;
    crt_say("a running child and a zombie");
    crt_checkpoint_point(1);
    close(pfd[1]);
    int st1 = 0, st2 = 0;
    while (waitpid(running, &st1, 0) < 0 && errno == EINTR)
        ;
    while (waitpid(zombie, &st2, 0) < 0 && errno == EINTR)
        ;
    CRT_CHECK_U64("the running child ended with its status", WIFEXITED(st1) ? WEXITSTATUS(st1) : 999, 7);
    CRT_CHECK_U64("the zombie's status reaped", WIFEXITED(st2) ? WEXITSTATUS(st2) : 999, 3);
    crt_checkpoint_point(2);
    errno = 0;
    CRT_CHECK_U64("no child left (ECHILD)", waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD, 1);
    crt_finish();
}
