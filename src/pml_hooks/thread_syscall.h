/* Which system call a thread of this process waits in, as the kernel says
 * (/proc/self/task/TID/syscall, readable for the process's own threads without ptrace rights):
 * "NR ARG1 ... SP PC" while in one, "-1 SP PC" when stopped outside one, "running" else. Read by
 * outside.c (what a rank outside MPI blocks in) and lower_reset.c (whether a thread waits for
 * ld.so's stack lock). A header of its own, static inline: lower_reset.c is also built alone
 * (tests/mpi/ckpt/ldso_chain) and runs in the checkpoint's thread, so this allocates nothing
 * and takes no lock (open, read, strtol). The descriptor is held inside a fork guard section
 * (common/fd_guard.h): a worker the application forked while the agent read it inherited it, and
 * the worker's image took it for a file of its own to open again (issue 7, rank_child-mpich in
 * CI: "cannot reopen /proc/PID/task/TID/syscall"). */
#ifndef PML_HOOKS_THREAD_SYSCALL_H
#define PML_HOOKS_THREAD_SYSCALL_H

#include "common/fd_guard.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

/* 1 with the call's number in *NR and its first two arguments in ARGS when thread TID is in a
 * system call; 0 when it is in none (running, stopped) or cannot be read. */
static inline int pml_thread_syscall2(pid_t tid, long *nr, unsigned long args[2])
{
    char path[64], b[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
    revive_fd_enter();
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        revive_fd_leave();
        return 0;
    }
    revive_fd_window();
    ssize_t n = read(fd, b, sizeof b - 1);
    close(fd);
    revive_fd_leave();
    if (n <= 0)
        return 0;
    b[n] = 0;
    char *e, *e2;
    long v = strtol(b, &e, 10);
    if (e == b || v < 0)
        return 0;
    unsigned long a = strtoul(e, &e2, 16); /* "0x..." */
    if (e2 == e)
        return 0;
    *nr = v;
    args[0] = a;
    args[1] = strtoul(e2, &e, 16);
    return 1;
}

/* The same, the first argument only. */
static inline int pml_thread_syscall(pid_t tid, long *nr, unsigned long *arg0)
{
    unsigned long a[2];
    if (!pml_thread_syscall2(tid, nr, a))
        return 0;
    *arg0 = a[0];
    return 1;
}

#endif
