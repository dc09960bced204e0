/* The target of descriptor FD as DIR shows it ("/proc/self/fd", "/proc/PID/fd"): a path,
 * "socket:[INO]", "anon_inode:[eventfd]", ... For test programs that look at which descriptors a
 * process holds (tests/crs/uspace/crt_forkloop.c, tests/mpi/ckpt/rank_forkloop.c). 0 and OUT
 * (cut to CAP - 1 bytes, terminated), or -1 when FD is not open there. readlink only: also in a
 * forked child of a threaded program. */
#ifndef REVIVE_TESTS_FD_LINK_H
#define REVIVE_TESTS_FD_LINK_H

#include <stdio.h>
#include <unistd.h>

static inline int link_of(const char *dir, int fd, char *out, size_t cap)
{
    char p[128];
    snprintf(p, sizeof p, "%.64s/%d", dir, fd);
    ssize_t n = readlink(p, out, cap - 1);
    if (n < 0)
        return -1;
    out[n] = 0;
    return 0;
}

#endif
