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
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
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

/* ", blocked opening PATH (...)" (ckpt.h): the path read from this process's own memory, where the
 * waiting call holds it (at most 200 bytes shown) */
void pml_inside_open_what(pid_t tid, char *buf, size_t n)
{
    long nr;
    unsigned long a[2];
    buf[0] = 0;
    if (tid <= 0 || !pml_thread_syscall2(tid, &nr, a))
        return;
    const char *path = nr == SYS_open ? (const char *)a[0] : nr == SYS_openat ? (const char *)a[1] : NULL;
    if (!path)
        return;
    char p[201];
    /* two pieces, at the page's end: a read never splits one, and the string may end just
     * before an unmapped page (an argv string at the stack's top) */
    uintptr_t a0 = (uintptr_t)path, cut = (a0 | 4095) + 1;
    size_t first = cut - a0 < sizeof p - 1 ? cut - a0 : sizeof p - 1;
    struct iovec here = { p, sizeof p - 1 };
    struct iovec there[2] = { { (void *)path, first }, { (void *)cut, sizeof p - 1 - first } };
    ssize_t k = process_vm_readv(getpid(), &here, 1, there, there[1].iov_len ? 2 : 1, 0);
    if (k <= 0)
        return;
    p[k] = 0;
    p[strnlen(p, (size_t)k)] = 0;
    struct stat st;
    const char *kind = stat(p, &st) != 0 ? "" : S_ISFIFO(st.st_mode) ? " (a FIFO: the open waits for its other end)"
                                          : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? " (a device)"
                                                                                       : "";
    snprintf(buf, n, ", blocked opening %s%s", p, kind);
}
