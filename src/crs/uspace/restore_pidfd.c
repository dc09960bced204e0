/* pidfds (capture_pidfd.c) come back last, once every process of a tree
 * exists under its pid (cr_restart's members wait for that before they
 * restore) and before any of them runs on (before
 * crs_restart_opts.before_switch): a zombie member can be named as long as
 * nobody has waited for it, and no parent runs before every member has
 * opened its pidfds, whatever the order the members get there. Each is
 * opened with pidfd_open, with its flags, at its number; an epoll that
 * watched one watches it again. A pidfd of a process that had ended and
 * been waited for at the checkpoint is made from a child that ends as it
 * ended and is waited for here: poll says it ended, waitid gives ECHILD,
 * pidfd_send_signal ESRCH, PIDFD_GET_INFO its exit code. */
#define _GNU_SOURCE
#include "crs/uspace/restore.h"
#include "common/fault.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

const struct crs_rec_fd *crs_restore_fd_record(const struct crs_image *img, int fd)
{
    for (size_t i = 0; i < img->nfds; i++)
        if (img->fds[i].fd == fd)
            return &img->fds[i];
    return NULL;
}

/* A pidfd of a process that has ended with wait status `status` (-1: 0)
 * and been waited for: a child made with clone3 CLONE_PIDFD that signals
 * nobody when it ends (exit_signal 0: the program's SIGCHLD handler, in
 * place already, sees nothing), ends so, and is reaped here. */
static int ended_pidfd(void)
{
    int pidfd = -1;
    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_PIDFD;
    ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
    ca.exit_signal = 0;
    long pid = syscall(SYS_clone3, &ca, sizeof ca);
    if (pid < 0)
        return -1;
    if (pid == 0)
        return -2;   /* the child: the caller ends it */
    siginfo_t si;
    while (syscall(SYS_waitid, P_PIDFD, pidfd, &si, WEXITED | __WALL, NULL) < 0 && errno == EINTR)
        ;
    return pidfd;
}

static void __attribute__((noreturn)) end_like(int64_t status)
{
    if (status > 0 && WIFSIGNALED((int)status)) {
        /* the signal's default action, whatever the program's handlers
         * and mask: it ends the process (no core file: the status only) */
        int sig = WTERMSIG((int)status);
        struct rlimit none = { 0, 0 };
        setrlimit(RLIMIT_CORE, &none);
        signal(sig, SIG_DFL);
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, sig);
        sigprocmask(SIG_UNBLOCK, &one, NULL);
        syscall(SYS_kill, syscall(SYS_getpid), sig);
        syscall(SYS_exit_group, 1);
    }
    syscall(SYS_exit_group, status > 0 ? WEXITSTATUS((int)status) : 0);
    for (;;)
        ;
}

/* Whether pidfd record f names one of the image's own threads other than
 * the main one (directly, or as a dup of such a pidfd). */
static int names_own_thread(const struct crs_image *img, const struct crs_rec_fd *f)
{
    if (f->kind != CRS_FD_PIDFD)
        return 0;
    if (f->dup_of >= 0) {
        const struct crs_rec_fd *o = crs_restore_fd_record(img, f->dup_of);
        return o && o != f && o->dup_of < 0 && names_own_thread(img, o);
    }
    if (f->memfd <= 0 || f->memfd == (int32_t)img->process->pid)
        return 0;
    for (size_t i = 0; i < img->nthreads; i++)
        if (img->threads[i].tid == f->memfd)
            return 1;
    return 0;
}

size_t crs_restore_thread_pidfds(const struct crs_image *img, struct crs_restart_tpidfd *out)
{
    size_t n = 0;
    for (size_t i = 0; i < img->nfds; i++) {
        const struct crs_rec_fd *f = &img->fds[i];
        if (!names_own_thread(img, f))
            continue;
        if (out)
            out[n] = (struct crs_restart_tpidfd){ .fd = f->fd, .old_tid = f->dup_of >= 0 ? 0 : f->memfd,
                                                  .dup_of = f->dup_of, .epfd = -1,
                                                  .flags = f->open_flags & (O_NONBLOCK | PIDFD_THREAD),
                                                  .fd_flags = f->fd_flags & FD_CLOEXEC };
        n++;
    }
    /* the epolls' watches of them, once they are open */
    struct crs_epoll_watch ew = { 0 };
    while (crs_restore_epoll_watch_next(img, &ew)) {
        if (!ew.target || !names_own_thread(img, ew.target))
            continue;
        if (out)
            out[n] = (struct crs_restart_tpidfd){ .fd = ew.t->tfd, .dup_of = -1, .epfd = ew.ep->fd,
                                                  .events = ew.t->events, .data = ew.t->data };
        n++;
    }
    return n;
}

int crs_thread_pidfds_open(const struct crs_restart_tpidfd *t, size_t n, pid_t (*tid_now)(pid_t old), char *err,
                           size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i].epfd >= 0) {
            struct epoll_event ev = { .events = t[i].events, .data.u64 = t[i].data };
            if (epoll_ctl(t[i].epfd, EPOLL_CTL_ADD, t[i].fd, &ev) != 0) {
                snprintf(err, errlen, "cannot make epoll descriptor %d watch the pidfd %d of a thread again: %s",
                         t[i].epfd, t[i].fd, strerror(errno));
                return -errno;
            }
            continue;
        }
        int fd;
        if (t[i].dup_of >= 0) {
            fd = dup(t[i].dup_of);
        } else {
            pid_t tid = tid_now(t[i].old_tid);
            fd = (int)syscall(SYS_pidfd_open, tid, t[i].flags);
            if (fd < 0) {
                snprintf(err, errlen, "cannot open the pidfd %d of thread %d (now %d) again: %s", t[i].fd,
                         (int)t[i].old_tid, (int)tid, strerror(errno));
                return -errno;
            }
        }
        if (fd < 0 || dup3(fd, t[i].fd, (t[i].fd_flags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
            snprintf(err, errlen, "cannot place the pidfd %d of a thread: %s", t[i].fd, strerror(errno));
            if (fd >= 0)
                close(fd);
            return -EIO;
        }
        close(fd);
    }
    return 0;
}

static int open_one(struct crs_restore *r, const struct crs_rec_fd *f)
{
    if (f->dup_of >= 0 && f->dup_of < f->fd) {
        if (dup2(f->dup_of, f->fd) < 0) {
            crs_restore_error(r, "cannot share descriptor %d with %d: %s", f->fd, f->dup_of, strerror(errno));
            return -EIO;
        }
    } else {
        /* the process itself may come back under another pid (an MPI rank,
         * --no-restore-pid) */
        pid_t pid = f->memfd == (int32_t)r->img->process->pid ? getpid() : (pid_t)f->memfd;
        unsigned flags = (unsigned)f->open_flags & (O_NONBLOCK | PIDFD_THREAD);
        int fd;
        if (f->memfd == 0) {
            fd = ended_pidfd();
            if (fd == -2)
                end_like(f->offset);
            if (fd < 0) {
                crs_restore_error(r, "cannot make descriptor %d again, a pidfd of a process that had ended: %s",
                                  f->fd, strerror(errno));
                return -EIO;
            }
            if (flags & O_NONBLOCK)
                fcntl(fd, F_SETFL, O_NONBLOCK);
        } else {
            fd = (int)syscall(SYS_pidfd_open, pid, flags);
        }
        if (fd < 0) {
            crs_restore_error(r, "cannot open a pidfd of process %d again as descriptor %d: %s", (int)pid, f->fd,
                              strerror(errno));
            return -EIO;
        }
        if (fd != f->fd) {
            if (dup2(fd, f->fd) < 0) {
                crs_restore_error(r, "cannot place descriptor %d: %s", f->fd, strerror(errno));
                close(fd);
                return -EIO;
            }
            close(fd);
        }
    }
    fcntl(f->fd, F_SETFD, (int)f->fd_flags & FD_CLOEXEC);
    return 0;
}

int crs_restore_pidfds(struct crs_restore *r)
{
    const struct crs_image *img = r->img;
    int any = 0;
    for (size_t i = 0; i < img->nfds && revive_fault(REVIVE_FAULT_restore_pidfd_late); i++)
        if (img->fds[i].kind == CRS_FD_PIDFD) {
            /* tests: the others run on first, were they let go before us */
            struct timespec late = { 1, 0 };
            nanosleep(&late, NULL);
            break;
        }
    for (size_t i = 0; i < img->nfds; i++) {
        const struct crs_rec_fd *f = &img->fds[i];
        if (f->kind != CRS_FD_PIDFD || names_own_thread(img, f))
            continue;   /* a thread's: the restored process opens it (crs_thread_pidfds_open) */
        int e = open_one(r, f);
        if (e)
            return e;
        any = 1;
    }
    if (!any)
        return 0;
    /* what the epolls watched of them (crs_restore_epolls left these out) */
    struct crs_epoll_watch ew = { 0 };
    while (crs_restore_epoll_watch_next(img, &ew)) {
        const struct crs_rec_epoll_tgt *t = ew.t;
        if (!ew.target || ew.target->kind != CRS_FD_PIDFD || names_own_thread(img, ew.target) ||
            crs_restore_filled_elsewhere(r, ew.ep->fd))
            continue;
        struct epoll_event ev = { .events = t->events, .data.u64 = t->data };
        if (epoll_ctl(ew.ep->fd, EPOLL_CTL_ADD, t->tfd, &ev) != 0) {
            crs_restore_error(r, "cannot make epoll descriptor %d watch pidfd %d again (events 0x%x): %s",
                              ew.ep->fd, t->tfd, t->events, strerror(errno));
            return -EIO;
        }
    }
    return 0;
}
