/* Revive's descriptors and the application's fork (fd_guard.h): libcr's guard, reached through
 * weak references (each shared object that links src/common has its own copy of this file; all of
 * them reach the one guard libcr.so exports). */
#define _GNU_SOURCE
#include "common/fd_guard.h"
#include "common/fault.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define WEAK __attribute__((weak, visibility("default")))
void crs_fork_guard_enter(void) WEAK;
void crs_fork_guard_leave(void) WEAK;
void crs_fork_guard_own(int fd) WEAK;
void crs_fork_guard_disown(int fd) WEAK;
int crs_fork_guard_owns(int fd) WEAK;

void revive_fd_enter(void)
{
    if (crs_fork_guard_enter)
        crs_fork_guard_enter();
}

void revive_fd_leave(void)
{
    if (crs_fork_guard_leave)
        crs_fork_guard_leave();
}

void revive_fd_own(int fd)
{
    if (crs_fork_guard_own)
        crs_fork_guard_own(fd);
}

void revive_fd_disown(int fd)
{
    if (crs_fork_guard_disown)
        crs_fork_guard_disown(fd);
}

int revive_open_owned(const char *path, int flags, unsigned mode)
{
    revive_fd_enter();
    int fd = open(path, flags | O_CLOEXEC, (mode_t)mode);
    int e = errno;
    revive_fd_own(fd);
    revive_fd_leave();
    errno = e;
    return fd;
}

int revive_close_owned(int fd)
{
    if (fd < 0)
        return 0;
    revive_fd_enter();
    revive_fd_disown(fd);
    int rc = close(fd);
    int e = errno;
    revive_fd_leave();
    errno = e;
    return rc;
}

int revive_fd_owned(int fd)
{
    return crs_fork_guard_owns ? crs_fork_guard_owns(fd) : 0;
}

void revive_fd_window(void)
{
    if (!crs_fork_guard_enter || !revive_fault(REVIVE_FAULT_fork_window_wide))
        return;
    struct timespec t = { 0, 20 * 1000 * 1000 };
    syscall(SYS_nanosleep, &t, NULL);
}
