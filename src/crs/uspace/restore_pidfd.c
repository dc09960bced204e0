/* pidfds (capture_pidfd.c) come back last, once every process of a tree is
 * back under its pid (after crs_restart_opts.before_switch): a member may
 * hold one of a sibling that the restart makes after it. Each is opened
 * with pidfd_open, with its flags, at its number; an epoll that watched
 * one watches it again. A zombie member can be named too: pidfd_open takes
 * a process that has ended as long as nobody has waited for it, and its
 * parent has not run yet. */
#define _GNU_SOURCE
#include "crs/uspace/restore.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

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
        int fd = (int)syscall(SYS_pidfd_open, pid, flags);
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
    for (size_t i = 0; i < img->nfds; i++) {
        const struct crs_rec_fd *f = &img->fds[i];
        if (f->kind != CRS_FD_PIDFD)
            continue;
        int e = open_one(r, f);
        if (e)
            return e;
        any = 1;
    }
    if (!any)
        return 0;
    /* what the epolls watched of them (crs_restore_epolls left these out) */
    for (size_t i = 0; i < img->nfds; i++) {
        const struct crs_rec_fd *f = &img->fds[i];
        if (f->kind != CRS_FD_EPOLL || f->dup_of >= 0)
            continue;
        const struct crs_rec_kfd *k = &img->kfds[f->memfd];
        for (uint32_t w = 0; w < k->count; w++) {
            const struct crs_rec_epoll_tgt *t = &img->epoll_tgts[k->first + w];
            const struct crs_rec_fd *tf = crs_restore_fd_record(img, t->tfd);
            if (!tf || tf->kind != CRS_FD_PIDFD)
                continue;
            struct epoll_event ev = { .events = t->events, .data.u64 = t->data };
            if (epoll_ctl(f->fd, EPOLL_CTL_ADD, t->tfd, &ev) != 0) {
                crs_restore_error(r, "cannot make epoll descriptor %d watch pidfd %d again (events 0x%x): %s",
                                  f->fd, t->tfd, t->events, strerror(errno));
                return -EIO;
            }
        }
    }
    return 0;
}
