/* Whether the program an exec starts loads libcr (runtime.h): the System V
 * notes go through the execve in a descriptor the new program inherits
 * (crs/base/sysvipc_notes.h), and only a program whose libcr takes it back
 * closes it. A program without libcr (a helper run with LD_PRELOAD taken out
 * of its environment, a static program) kept it for its whole life and gave
 * it to its own children. A dynamic program loads libcr when its
 * environment's LD_PRELOAD names it (as cr_run's does); a static one when
 * libcr.a is linked in (common/static_exe.h). A script's interpreter is
 * taken for a dynamic program. No allocation: a forked child of a threaded
 * program may call it. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/static_exe.h"
#include "crs/libcr/runtime.h"

/* LD_PRELOAD in envp names a libcr.so (a path whose last part starts so). */
static int preload_names_libcr(char *const envp[])
{
    for (size_t i = 0; envp && envp[i]; i++) {
        if (strncmp(envp[i], "LD_PRELOAD=", 11) != 0)
            continue;
        const char *p = envp[i] + 11;
        while (*p) {
            size_t n = strcspn(p, ": ");   /* ld.so takes both as separators */
            const char *base = p;
            for (size_t k = 0; k < n; k++)
                if (p[k] == '/')
                    base = p + k + 1;
            if ((size_t)(p + n - base) >= 8 && !strncmp(base, "libcr.so", 8))
                return 1;
            p += n + (p[n] != 0);
        }
    }
    return 0;
}

/* The file execvp would run for name, opened (glibc's search: PATH, or "/bin:/usr/bin"). */
static int open_searched(const char *name, char *path, size_t cap)
{
    const char *dirs = getenv("PATH");
    if (!dirs)
        dirs = "/bin:/usr/bin";
    while (*dirs) {
        size_t n = strcspn(dirs, ":");
        if ((size_t)snprintf(path, cap, "%.*s%s%s", (int)n, dirs, n ? "/" : "", name) < cap &&
            access(path, X_OK) == 0) {
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd >= 0)
                return fd;
        }
        dirs += n + (dirs[n] == ':');
    }
    return -1;
}

int crs_exec_loads_libcr(int dirfd, const char *path, int at_flags, char *const envp[], int search)
{
    char buf[PATH_MAX];
    int fd = -1;
    if ((at_flags & AT_EMPTY_PATH) && path && !path[0]) {   /* fexecve, execveat(fd, "") */
        snprintf(buf, sizeof buf, "/proc/self/fd/%d", dirfd);
        fd = open(buf, O_RDONLY | O_CLOEXEC);
    } else if (path && search && !strchr(path, '/')) {
        fd = open_searched(path, buf, sizeof buf);
        path = buf;
    } else if (path) {
        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | (at_flags & AT_SYMLINK_NOFOLLOW ? O_NOFOLLOW : 0));
    }
    int takes = -1;
    if (fd >= 0) {
        if (revive_exe_is_static(fd, path))
            takes = revive_exe_has_static_libcr(fd);
        close(fd);
    }
    return takes >= 0 ? takes : preload_names_libcr(envp);
}
