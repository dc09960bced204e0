/* The committed metadata beside a node's cached images (local_meta.h). */
#define _GNU_SOURCE
#include "filem/local_meta.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crs/base/durable.h"

/* snapshot.meta is bounded (filem.h FILEM_FILE_MAX); not included here: filem.h is libfilem's */
#define META_MAX (1u << 20)

/* Reads PATH whole (a regular file, at most META_MAX bytes): 0 and *out (malloc'd), or -errno. */
static int read_whole(const char *path, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int e = fstat(fd, &st) < 0             ? errno
            : !S_ISREG(st.st_mode)          ? EINVAL
            : st.st_size > (off_t)META_MAX ? EFBIG
                                           : 0;
    if (e) {
        close(fd);
        return -e;
    }
    char *b = malloc((size_t)st.st_size + 1);
    size_t n = 0;
    while (b && n < (size_t)st.st_size) {
        ssize_t k = read(fd, b + n, (size_t)st.st_size - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    e = !b ? -ENOMEM : n != (size_t)st.st_size ? -EIO : 0;
    close(fd);
    if (e < 0) {
        free(b);
        return e;
    }
    *out = b;
    *len = n;
    return 0;
}

int filem_local_keep_meta(const char *shared_seqdir, const char *local_seqdir, char *err,
                          size_t errlen)
{
    char src[PATH_MAX], dst[PATH_MAX];
    if ((size_t)snprintf(src, sizeof src, "%s/%s", shared_seqdir, FILEM_LOCAL_META_NAME) >=
            sizeof src ||
        (size_t)snprintf(dst, sizeof dst, "%s/%s", local_seqdir, FILEM_LOCAL_META_NAME) >=
            sizeof dst) {
        snprintf(err, errlen, "path too long: %s", local_seqdir);
        return -ENAMETOOLONG;
    }
    char *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    int e = read_whole(src, &a, &la);
    if (e < 0) {
        snprintf(err, errlen, "cannot read %s: %s", src, strerror(-e));
        return e;
    }
    e = crs_durable_write_file(dst, a, la, 0600, err, errlen);
    if (e == 0 && (e = read_whole(dst, &b, &lb)) < 0)
        snprintf(err, errlen, "cannot read back %s: %s", dst, strerror(-e));
    else if (e == 0 && (lb != la || memcmp(a, b, la) != 0)) {
        /* another writer's bytes would be the same: a difference is damage */
        unlink(dst);
        e = -EIO;
        snprintf(err, errlen, "%s differs from %s once written; removed", dst, src);
    }
    free(a);
    free(b);
    return e;
}

int filem_local_store_name(const char *n)
{
    size_t l = strlen(n);
    return (l > 4 && strcmp(n + l - 4, ".img") == 0) || strcmp(n, FILEM_LOCAL_META_NAME) == 0 ||
           strcmp(n, FILEM_LOCAL_FAILED_NAME) == 0 ||
           (n[0] == '.' && strstr(n, ".tmp."));
}
