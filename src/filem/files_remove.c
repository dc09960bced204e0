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
    struct stat st, fst = {0};
    if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    const char *why = ops && ops->kept ? ops->kept(&st, ops->arg) : NULL;
    int dir = S_ISDIR(st.st_mode), kept = 0, chmodded = 0;
    DIR *d = NULL;
    if (dir) {
        int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return why ? 1 : 0;
        if (fstat(fd, &fst) < 0 || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
            close(fd);
            return why ? 1 : 0;
        }
        /* u+rwx to empty it; put back below when it stays (diffrev39 R-L2: a kept 0555
         * directory came out 0700) */
        chmodded = (fst.st_mode & 0700) != 0700 && fchmod(fd, 0700) == 0;
        d = fdopendir(fd);
        if (!d) {
            if (chmodded)
                (void)fchmod(fd, fst.st_mode & 07777);
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
    }
    int ret = 0, gone = 0;
    if (why) {
        if (ops->tell && path)
            ops->tell(path, why, dir, ops->arg);
        ret = kept + 1;
    } else if (kept) {
        ret = kept; /* a directory holding what is kept stays */
    } else if (unlinkat(pfd, name, dir ? AT_REMOVEDIR : 0) == 0) {
        gone = 1;
        if (ops && ops->tell && path)
            ops->tell(path, NULL, dir, ops->arg);
    } /* else best effort: the caller sees it there */
    if (d) {
        if (chmodded && !gone)
            (void)fchmod(dirfd(d), fst.st_mode & 07777);
        closedir(d);
    }
    return ret;
}
