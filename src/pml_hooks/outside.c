/* What a rank outside MPI is doing, for "no checkpoint: rank R is outside MPI, ...".
 * A rank short of its targets and in no MPI call holds the others up; "is outside MPI"
 * alone left the user to guess why (review9 F2: rank 0 blocked reading its standard input,
 * which the launcher had not yet passed on). The kernel says which system call each thread
 * is in (/proc/self/task/TID/syscall: its number and arguments, or "running"); the blocking
 * ones a program waits in are named, with the file a read waits for. */
#define _GNU_SOURCE
#include "pml_hooks/ckpt.h"
#include "pml_hooks/thread_syscall.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* "fd 0 (its standard input: pipe:[123])" */
static void fd_words(char *buf, size_t n, unsigned long fd)
{
    char link[64], target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%lu", fd);
    ssize_t k = readlink(link, target, sizeof target - 1);
    if (k < 0)
        k = 0;
    target[k] = 0;
    static const char *const std[] = { "its standard input", "its standard output",
                                       "its standard error" };
    if (fd < 3)
        snprintf(buf, n, "fd %lu (%s%s%s)", fd, std[fd], k ? ": " : "", target);
    else
        snprintf(buf, n, "fd %lu%s%s%s", fd, k ? " (" : "", target, k ? ")" : "");
}

/* Words for one blocking call, or NULL for a call not worth naming (a futex: some lock). */
static int describe(char *buf, size_t n, long nr, unsigned long arg0)
{
    char f[PATH_MAX + 64];
    switch (nr) {
    case SYS_read:
    case SYS_readv:
    case SYS_pread64:
    case SYS_preadv:
    case SYS_recvfrom:
    case SYS_recvmsg:
        fd_words(f, sizeof f, arg0);
        snprintf(buf, n, "blocked reading %s", f);
        return 1;
    case SYS_write:
    case SYS_writev:
    case SYS_sendto:
    case SYS_sendmsg:
        fd_words(f, sizeof f, arg0);
        snprintf(buf, n, "blocked writing %s", f);
        return 1;
    case SYS_poll:
    case SYS_ppoll:
    case SYS_select:
    case SYS_pselect6:
    case SYS_epoll_wait:
    case SYS_epoll_pwait:
        snprintf(buf, n, "waiting in poll/select/epoll_wait");
        return 1;
    case SYS_nanosleep:
    case SYS_clock_nanosleep:
        snprintf(buf, n, "sleeping");
        return 1;
    case SYS_wait4:
    case SYS_waitid:
        snprintf(buf, n, "waiting for a child process");
        return 1;
    case SYS_pause:
    case SYS_rt_sigsuspend:
    case SYS_rt_sigtimedwait:
        snprintf(buf, n, "waiting for a signal");
        return 1;
    case SYS_accept:
    case SYS_accept4:
    case SYS_connect:
        fd_words(f, sizeof f, arg0);
        snprintf(buf, n, "waiting for a connection on %s", f);
        return 1;
    default:
        return 0;
    }
}

void pml_outside_what(char *buf, size_t n)
{
    long nr;
    unsigned long arg0;
    char d[PATH_MAX + 128];
    /* the main thread first: the usual place of a program's own blocking read */
    pid_t main_tid = getpid();
    if (pml_thread_syscall(main_tid, &nr, &arg0) && describe(d, sizeof d, nr, arg0)) {
        snprintf(buf, n, "is outside MPI, %s", d);
        return;
    }
    for (int i = 0; i < PML_MAX_SLOTS; i++) {
        struct pml_slot *t = &pml_slots[i];
        if (!t->used || t->agent || t->tid == main_tid || t->tid <= 0)
            continue;
        if (pml_thread_syscall(t->tid, &nr, &arg0) && describe(d, sizeof d, nr, arg0)) {
            snprintf(buf, n, "is outside MPI, thread %d %s", (int)t->tid, d);
            return;
        }
    }
    snprintf(buf, n, "is outside MPI");
}
