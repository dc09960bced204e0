/* Whether a job still runs: a lock its coordinator holds in its job directory (alive.h). */
#define _GNU_SOURCE
#include "filem/alive.h"
#include "common/fd_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

int filem_job_alive_take(const char *jobdir)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", jobdir, FILEM_ALIVE_NAME) >= sizeof path)
        return -ENAMETOOLONG;
    int fd = revive_open_owned(path, O_RDWR | O_CREAT | O_NOFOLLOW, 0600); /* (dir_lock.c) */
    if (fd < 0)
        return -errno;
    for (int i = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; i++) {
        int e = errno;
        if (e != EWOULDBLOCK || i >= 100) {
            close(fd);
            return -e;
        }
        usleep(20000); /* a checker's shared lock is brief */
    }
    return fd;
}

int filem_job_alive(const char *jobdir)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", jobdir, FILEM_ALIVE_NAME) >= sizeof path)
        return 1; /* cannot tell: leave it */
    int fd = revive_open_owned(path, O_RDONLY | O_NOFOLLOW, 0); /* (dir_lock.c) */
    if (fd < 0)
        return errno == ENOENT ? 0 : 1;
    int alive = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
    close(fd); /* releases a shared lock taken */
    return alive;
}

