/* A directory flushed (dirsync.h). */
#include "common/dirsync.h"
#include "common/fd_guard.h"

#include <fcntl.h>
#include <unistd.h>

void revive_fsync_dir(const char *path)
{
    revive_fd_enter(); /* no fork copies the descriptor (fd_guard.h) */
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    revive_fd_leave();
}
