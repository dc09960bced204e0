/* The program's reads of an inotify whose unread events a checkpoint took
 * out of the kernel get them first (base/inotify_saved.h): read, readv,
 * __read_chk (_FORTIFY_SOURCE) and ioctl(FIONREAD). Every other call goes
 * straight to libc after one load of a counter. Not covered: a read by a
 * raw system call, io_uring, or stdio on the descriptor (libc's own read):
 * those see the kernel's queue (what came after the checkpoint, and our
 * watch's events first). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "crs/base/inotify_saved.h"
#include "crs/libcr/runtime.h"

typedef ssize_t (*read_fn)(int, void *, size_t);
typedef ssize_t (*readv_fn)(int, const struct iovec *, int);
typedef ssize_t (*read_chk_fn)(int, void *, size_t, size_t);
typedef int (*ioctl_fn)(int, unsigned long, ...);

#ifdef REVIVE_LIBCR_STATIC
ssize_t __real_read(int, void *, size_t);
ssize_t __real_readv(int, const struct iovec *, int);
ssize_t __real___read_chk(int, void *, size_t, size_t);
int __real_ioctl(int, unsigned long, ...);
ssize_t __wrap_read(int, void *, size_t);
ssize_t __wrap_readv(int, const struct iovec *, int);
ssize_t __wrap___read_chk(int, void *, size_t, size_t);
int __wrap_ioctl(int, unsigned long, ...);
#else
ssize_t __read_chk(int, void *, size_t, size_t);
#endif

static read_fn real_read_p;
static readv_fn real_readv_p;
static read_chk_fn real_read_chk_p;
static ioctl_fn real_ioctl_p;

/* At load (no dlsym in a read a signal handler makes); before it, the
 * system calls. */
void crs_inotify_read_init(void)
{
    real_read_p = CRS_NEXT(read_fn, read);
    real_readv_p = CRS_NEXT(readv_fn, readv);
    real_read_chk_p = CRS_NEXT(read_chk_fn, __read_chk);
    real_ioctl_p = CRS_NEXT(ioctl_fn, ioctl);
}

static ssize_t real_read(int fd, void *buf, size_t n)
{
    return real_read_p ? real_read_p(fd, buf, n) : syscall(SYS_read, fd, buf, n);
}


ssize_t CRS_INTERPOSE(read)(int fd, void *buf, size_t n)
{
    if (crs_inotify_saved_maybe(fd))
        return crs_inotify_saved_read(fd, buf, n, real_read);
    ssize_t r = real_read(fd, buf, n);
    /* a capture may have come while this read waited in the kernel */
    if (r > 0 && crs_inotify_saved_maybe(fd))
        r = crs_inotify_saved_after_read(fd, buf, n, r, real_read);
    return r;
}

ssize_t CRS_INTERPOSE(__read_chk)(int fd, void *buf, size_t n, size_t buflen)
{
    if (n > buflen && real_read_chk_p)
        return real_read_chk_p(fd, buf, n, buflen);   /* libc's buffer-overflow report */
    return CRS_INTERPOSE(read)(fd, buf, n);
}

ssize_t CRS_INTERPOSE(readv)(int fd, const struct iovec *iov, int iovcnt)
{
    if (crs_inotify_saved_maybe(fd))
        return crs_inotify_saved_readv(fd, iov, iovcnt, real_read);
    return real_readv_p ? real_readv_p(fd, iov, iovcnt) : syscall(SYS_readv, fd, iov, iovcnt);
}

int CRS_INTERPOSE(ioctl)(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    int n;
    if (req == FIONREAD && arg && crs_inotify_saved_maybe(fd) && crs_inotify_saved_fionread(fd, &n)) {
        *(int *)arg = n;
        return 0;
    }
    return real_ioctl_p ? real_ioctl_p(fd, req, arg) : (int)syscall(SYS_ioctl, fd, req, arg);
}
