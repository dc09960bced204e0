/* rm -rf under a directory descriptor, keeping what a predicate keeps (files_remove.h). */
#define _GNU_SOURCE
#include "filem/files_remove.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int filem_remove_at(int pfd, const char *name, const char *path, const struct filem_remove_ops *ops)
{
    struct stat st, fst;
    if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    const char *why = ops && ops->kept ? ops->kept(&st, ops->arg) : NULL;
    int dir = S_ISDIR(st.st_mode), kept = 0;
    if (dir) {
        int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return why ? 1 : 0;
        if (fstat(fd, &fst) < 0 || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
            close(fd);
            return why ? 1 : 0;
        }
        if ((fst.st_mode & 0700) != 0700)
            (void)fchmod(fd, 0700);
        DIR *d = fdopendir(fd);
        if (!d) {
            close(fd);
            return why ? 1 : 0;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char sub[PATH_MAX];
            int l = path ? snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) : -1;
            kept += filem_remove_at(dirfd(d), de->d_name, l > 0 && l < (int)sizeof sub ? sub : NULL,
                                    ops);
        }
        closedir(d);
    }
    if (why) {
        if (ops->tell && path)
            ops->tell(path, why, dir, ops->arg);
        return kept + 1;
    }
    if (kept)
        return kept; /* a directory holding what is kept stays */
    if (unlinkat(pfd, name, dir ? AT_REMOVEDIR : 0) < 0)
        return 0; /* best effort: the caller sees it there */
    if (ops && ops->tell && path)
        ops->tell(path, NULL, dir, ops->arg);
    return 0;
}
