/* Which of the MPI library's opens and closes may wait (lower_waits.h). System calls only: the
 * lower root logs nothing and may run in any thread of the library's. errno is left as it was
 * (the call that follows is the library's). */
#define _GNU_SOURCE
#include "pml_hooks/lower_waits.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* A terminal: its open may wait for the line (carrier), its close for its output to drain. Linux's
 * fixed majors: 4 (virtual consoles, serial ttyS), 5 (/dev/tty, /dev/console, /dev/ptmx), 136-143
 * (pseudo-terminal slaves, /dev/pts). */
static int tty_major(unsigned m)
{
    return m == 4 || m == 5 || (m >= 136 && m <= 143);
}

int pml_lower_kind_waits(unsigned mode, unsigned long rdev, int accmode, int closing)
{
    if (S_ISFIFO(mode)) /* the open waits for the other end (Linux's O_RDWR does not); a close never */
        return !closing && accmode != O_RDWR;
    return S_ISCHR(mode) && tty_major(major(rdev));
}

static int kind_waits(const struct stat *st, int accmode)
{
    return pml_lower_kind_waits(st->st_mode, st->st_rdev, accmode, 0);
}

int pml_lower_open_waits(int dir, const char *path, int flags)
{
    if (!path || (flags & (O_NONBLOCK | O_PATH)))
        return 0;
    int e = errno;
    struct stat st;
    int r = (int)syscall(SYS_newfstatat, dir, path, &st, (flags & O_NOFOLLOW) ? AT_SYMLINK_NOFOLLOW : 0);
    errno = e;
    return r == 0 && kind_waits(&st, flags & O_ACCMODE);
}

int pml_lower_fopen_waits(const char *path, const char *mode, int fd)
{
    int acc = O_RDONLY;
    if (mode && (mode[0] == 'w' || mode[0] == 'a'))
        acc = O_WRONLY;
    for (const char *m = mode; m && *m; m++)
        if (*m == '+')
            acc = O_RDWR;
    int e = errno;
    struct stat st;
    int r = (int)(path ? syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0) : syscall(SYS_fstat, fd, &st));
    errno = e;
    return r == 0 && kind_waits(&st, acc);
}

static int close_kind_waits(int fd)
{
    struct stat st;
    if (syscall(SYS_fstat, fd, &st) != 0)
        return 0;
    if (S_ISSOCK(st.st_mode)) {
        struct linger l;
        socklen_t n = sizeof l;
        return syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_LINGER, &l, &n) == 0 && l.l_onoff && l.l_linger > 0;
    }
    return pml_lower_kind_waits(st.st_mode, st.st_rdev, 0, 1);
}

int pml_lower_close_waits(int fd)
{
    int e = errno;
    int w = close_kind_waits(fd);
    errno = e;
    return w;
}
