/* A directory's flock that holds the directory still named so (dir_lock.h). */
#define _GNU_SOURCE
#include "filem/dir_lock.h"
#include "common/fd_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int filem_dir_lock(const char *dir, int exclusive, int wait_ms)
{
    /* owned (common/fd_guard.h): a child a rank forks must not hold the lock (a flock belongs
     * to the open file, which the child's copy keeps) */
    int fd = revive_open_owned(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
    if (fd < 0)
        return -errno;
    int how = exclusive ? LOCK_EX : LOCK_SH;
    if (wait_ms < 0) {
        if (flock(fd, how) < 0) {
            int e = errno;
            close(fd);
            return -e;
        }
    } else {
        for (int waited = 0; flock(fd, how | LOCK_NB) < 0; waited += 20) {
            int e = errno;
            if ((e != EWOULDBLOCK && e != EINTR) || waited >= wait_ms) {
                close(fd);
                return -e;
            }
            struct timespec d = {0, 20 * 1000 * 1000};
            nanosleep(&d, NULL);
        }
    }
    struct stat held, now;
    if (fstat(fd, &held) < 0 || held.st_nlink == 0 || stat(dir, &now) < 0 ||
        now.st_dev != held.st_dev || now.st_ino != held.st_ino) {
        close(fd);
        return -ENOENT;
    }
    return fd;
}
