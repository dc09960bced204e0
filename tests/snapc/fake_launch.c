/* fake_launch -np N PROGRAM ARGS...: a stand-in for mpirun in the snapc tests
 * (no MPI): starts N copies of PROGRAM with FAKE_RANK, FAKE_SIZE and a shared
 * memory descriptor FAKE_SHM_FD for their simulated collectives, forwards
 * SIGINT/SIGTERM/SIGHUP to them, and like mpirun ends the others when one
 * fails. Exit status: 0 when every rank exited 0, else the first failure's
 * (128 + signal for a signal), 128 + the signal it passed on first. With
 * FAKE_LAUNCH_RANKS_STATUS=1 a signal passed on does not count: the ranks' status
 * is the job's, as Hydra's mpiexec, signalled, now and then says 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_shm.h"

static volatile sig_atomic_t got_sig;

static void on_sig(int s)
{
    got_sig = s;
}

static void on_child(int s)
{
    (void)s; /* only wakes sigsuspend */
}

int main(int argc, char **argv)
{
    if (argc < 4 || strcmp(argv[1], "-np") != 0) {
        fprintf(stderr, "usage: fake_launch -np N PROGRAM ARGS...\n");
        return 2;
    }
    int n = atoi(argv[2]);
    if (n < 1 || n > FAKE_MAX_RANKS) {
        fprintf(stderr, "fake_launch: -np must be 1..%d\n", FAKE_MAX_RANKS);
        return 2;
    }
    int fd = memfd_create("fake-mpi", 0);
    if (fd < 0 || ftruncate(fd, sizeof(struct fake_shm)) < 0) {
        perror("fake_launch: memfd");
        return 1;
    }
    char fds[16], sz[16];
    snprintf(fds, sizeof fds, "%d", fd);
    snprintf(sz, sizeof sz, "%d", n);
    /* The signals stay blocked except inside sigsuspend: one that came between the got_sig
     * check and a blocking waitpid was lost (the ranks ran on until they ended by themselves). */
    sigset_t held, before, waiting;
    sigemptyset(&held);
    sigaddset(&held, SIGINT);
    sigaddset(&held, SIGTERM);
    sigaddset(&held, SIGHUP);
    sigaddset(&held, SIGCHLD);
    sigprocmask(SIG_BLOCK, &held, &before);
    waiting = before;
    sigdelset(&waiting, SIGINT);
    sigdelset(&waiting, SIGTERM);
    sigdelset(&waiting, SIGHUP);
    sigdelset(&waiting, SIGCHLD);
    struct sigaction sa = {.sa_handler = on_sig};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    struct sigaction sc = {.sa_handler = on_child};
    sigaction(SIGCHLD, &sc, NULL);
    pid_t *pids = calloc((size_t)n, sizeof *pids);
    for (int r = 0; r < n; r++) {
        pid_t p = fork();
        if (p < 0) {
            perror("fake_launch: fork");
            for (int k = 0; k < r; k++)
                kill(pids[k], SIGKILL);
            return 1;
        }
        if (p == 0) {
            char rk[16];
            snprintf(rk, sizeof rk, "%d", r);
            setenv("FAKE_RANK", rk, 1);
            setenv("FAKE_SIZE", sz, 1);
            setenv("FAKE_SHM_FD", fds, 1);
            signal(SIGINT, SIG_DFL);
            signal(SIGTERM, SIG_DFL);
            signal(SIGHUP, SIG_DFL);
            signal(SIGCHLD, SIG_DFL);
            sigprocmask(SIG_SETMASK, &before, NULL);
            execvp(argv[3], argv + 3);
            fprintf(stderr, "fake_launch: cannot run %s: %s\n", argv[3], strerror(errno));
            _exit(127);
        }
        pids[r] = p;
    }
    close(fd);
    int left = n, status = 0, forwarded = 0;
    while (left > 0) {
        if (got_sig && !forwarded) {
            for (int r = 0; r < n; r++)
                if (pids[r] > 0)
                    kill(pids[r], got_sig);
            forwarded = 1;
            const char *rs = getenv("FAKE_LAUNCH_RANKS_STATUS");
            if (!status && !(rs && *rs == '1'))
                status = 128 + got_sig;
        }
        int st;
        pid_t p = waitpid(-1, &st, WNOHANG);
        if (p == 0) {
            sigsuspend(&waiting); /* returns once a handler ran: a signal or a child's end */
            continue;
        }
        if (p < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int r = 0; r < n; r++)
            if (pids[r] == p) {
                pids[r] = -1;
                left--;
                int s = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                if (s && !status) {
                    status = s;
                    fprintf(stderr, "fake_launch: rank %d ended with status %d; ending the job\n",
                            r, s);
                    for (int k = 0; k < n; k++)
                        if (pids[k] > 0)
                            kill(pids[k], SIGKILL);
                }
            }
    }
    return status;
}
