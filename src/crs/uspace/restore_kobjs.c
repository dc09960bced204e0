/* Kernel objects a system call makes, made again at restart (image_format.h:
 * KFDS, EPOLLTGTS, INWATCHES): eventfd with its count, timerfd armed as it
 * was (and its unread expirations), signalfd with its mask, inotify with its
 * watches under their numbers, epoll empty (its watches: restore_epoll.c). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/uspace/restore.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#ifndef TFD_IOC_SET_TICKS
#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)
#endif

static struct timespec ts_of(int64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) };
    return ts;
}

/* Watches under their numbers: the kernel hands numbers out counting up and
 * never gives one back soon, so a gap (a watch removed) is filled with a
 * watch on a file of a folder of our own, removed at the end. */
static int add_watches(struct crs_restore *r, int fd, const struct crs_rec_kfd *k, int at)
{
    const struct crs_image *img = r->img;
    char dir[64] = "";
    int ndummy = 0, e = 0;
    int32_t next = 1;
    for (uint32_t i = 0; i < k->count && !e; i++) {
        const struct crs_rec_inwatch *w = &img->inwatches[k->first + i];
        const char *path = crs_restore_path(r, crs_image_str(img, w->path));
        while (next < w->wd && !e) {   /* a gap */
            char f[96];
            if (!dir[0]) {
                snprintf(dir, sizeof dir, "/tmp/revive-inotify.XXXXXX");
                if (!mkdtemp(dir)) {
                    dir[0] = 0;
                    e = -errno;
                    break;
                }
            }
            snprintf(f, sizeof f, "%s/%d", dir, ndummy++);
            int t = open(f, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
            if (t >= 0)
                close(t);
            int got = inotify_add_watch(fd, f, IN_ATTRIB);
            if (got < 0)
                e = -errno;
            else
                next = got + 1;
        }
        if (e)
            break;
        int got = inotify_add_watch(fd, path, w->mask);
        if (got != w->wd) {
            crs_restore_error(r, "cannot watch %s again for inotify descriptor %d (watch %d): %s%s", path, at, w->wd,
                              got < 0 ? strerror(errno) : "the kernel gave another number",
                              got < 0 && errno == ENOENT ? "; if it moved, restart with --relocate OLD=NEW" : "");
            return -EIO;
        }
        next = got + 1;
    }
    if (e)
        crs_restore_error(r, "cannot number the watches of inotify descriptor %d as they were: %s", at, strerror(-e));
    /* the fillers go (their numbers stay unused) */
    for (int i = 0; i < ndummy; i++) {
        char f[96];
        snprintf(f, sizeof f, "%s/%d", dir, i);
        unlink(f);
    }
    if (dir[0])
        rmdir(dir);
    /* and so do the events their going queued (IN_ATTRIB, IN_IGNORED): the
     * queue starts empty, as the capture left it (its unread events come
     * back from the process's memory, inotify_saved.h) */
    char ev[4096];
    for (int q = 0; ndummy && ioctl(fd, FIONREAD, &q) == 0 && q > 0;)
        if (read(fd, ev, sizeof ev) <= 0)
            break;
    return e ? -EIO : 0;
}

int crs_restore_kobj_open(struct crs_restore *r, const struct crs_rec_fd *f)
{
    const struct crs_rec_kfd *k = &r->img->kfds[f->memfd];
    int nb = (int)f->open_flags & O_NONBLOCK, fd = -1;
    switch (f->kind) {
    case CRS_FD_EVENTFD:
        fd = eventfd(0, (nb ? EFD_NONBLOCK : 0) | (k->flags ? EFD_SEMAPHORE : 0));
        if (fd >= 0 && k->a) {
            uint64_t v = (uint64_t)k->a;
            if (write(fd, &v, sizeof v) != sizeof v) {
                crs_restore_error(r, "cannot give eventfd %d its count %llu again: %s", f->fd, (unsigned long long)v,
                                  strerror(errno));
                close(fd);
                return -1;
            }
        }
        break;
    case CRS_FD_TIMERFD: {
        fd = timerfd_create((int)k->a, nb ? TFD_NONBLOCK : 0);
        if (fd < 0)
            break;
        /* A periodic timerfd whose expirations were not read yet is not
         * re-armed by the kernel until they are: it shows no time left. It
         * goes on a period from now (at once when none was counted yet). */
        int64_t left = k->b;
        if (!left && k->c)
            left = k->d ? k->c : 1;
        struct itimerspec its = { ts_of(k->c), ts_of(left) };
        uint64_t ticks = (uint64_t)k->d;
        if (timerfd_settime(fd, 0, &its, NULL) != 0 ||
            (ticks && ioctl(fd, TFD_IOC_SET_TICKS, &ticks) != 0)) {
            crs_restore_error(r, "cannot arm timerfd %d again (clock %lld%s): %s", f->fd, (long long)k->a,
                              ticks ? ", with its unread expirations" : "", strerror(errno));
            close(fd);
            return -1;
        }
        break;
    }
    case CRS_FD_SIGNALFD: {
        uint64_t mask = (uint64_t)k->a;
        fd = (int)syscall(SYS_signalfd4, -1, &mask, 8, nb ? SFD_NONBLOCK : 0);
        break;
    }
    case CRS_FD_EPOLL:
        fd = epoll_create1(0);   /* what it watches: crs_restore_epolls, once all is back */
        break;
    case CRS_FD_INOTIFY:
        fd = inotify_init1(nb ? IN_NONBLOCK : 0);
        if (fd >= 0 && add_watches(r, fd, k, f->fd) != 0) {
            close(fd);
            return -1;
        }
        break;
    default:
        errno = EINVAL;
    }
    if (fd < 0 && !r->err[0])
        crs_restore_error(r, "cannot make descriptor %d again (%s): %s", f->fd, crs_image_str(r->img, f->path),
                          strerror(errno));
    return fd;
}
