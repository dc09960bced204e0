/* A directory flushed (dirsync.h). */
#include "common/dirsync.h"

#include <fcntl.h>
#include <unistd.h>

void revive_fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}
