/* Durable replacement of a file: see durable.h. */
#define _GNU_SOURCE
#include "crs/base/durable.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fault.h"
#include "common/fd_guard.h"

/* dirname and basename without touching the caller's string. */
static int split_path(struct crs_durable *d, const char *path)
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    if (len == 0)
        return -ENOENT;
    if (len >= sizeof d->path)
        return -ENAMETOOLONG;
    memcpy(d->path, path, len);
    d->path[len] = 0;
    const char *slash = strrchr(d->path, '/');
    const char *base = slash ? slash + 1 : d->path;
    if (!slash)
        snprintf(d->dir, sizeof d->dir, ".");
    else if (slash == d->path)
        snprintf(d->dir, sizeof d->dir, "/");
    else
        snprintf(d->dir, sizeof d->dir, "%.*s", (int)(slash - d->path), d->path);
    if (strlen(base) >= sizeof d->name)
        return -ENAMETOOLONG;
    if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
        return -EISDIR;
    snprintf(d->name, sizeof d->name, "%s", base);
    return 0;
}

int crs_durable_open(struct crs_durable *d, const char *path, mode_t mode)
{
    memset(d, 0, sizeof *d);
    d->fd = d->dirfd = -1;
    int e = split_path(d, path);
    if (e)
        return e;
    /* Revive's while the program's threads may run (a rank's agent, libcr's thread): owned, so
     * that a child the program forks meanwhile does not hold the image (common/fd_guard.h) */
    revive_fd_enter();
    d->dirfd = open(d->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (d->dirfd < 0) {
        e = -errno;
        revive_fd_leave();
        return e;
    }
    revive_fd_own(d->dirfd);
    for (int n = 0; n < 100; n++) {
        int len = n ? snprintf(d->tmpname, sizeof d->tmpname, ".%s.tmp.%d.%d", d->name, (int)getpid(), n)
                    : snprintf(d->tmpname, sizeof d->tmpname, ".%s.tmp.%d", d->name, (int)getpid());
        if (len < 0 || (size_t)len >= sizeof d->tmpname) {
            e = -ENAMETOOLONG;
            break;
        }
        d->fd = openat(d->dirfd, d->tmpname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (d->fd >= 0) {
            fchmod(d->fd, mode);   /* as asked, whatever the umask */
            /* held until the file is renamed or removed (closed): a sweep of partial files
             * (src/filem/local_gc.c) sees a live writer by it, also one in another pid
             * namespace whose PID in the name means nothing there; a file system without
             * flock just goes without it */
            (void)flock(d->fd, LOCK_EX | LOCK_NB);
            snprintf(d->tmp, sizeof d->tmp, "%s/%s", d->dir, d->tmpname);
            revive_fd_own(d->fd);
            revive_fd_leave();
            return 0;
        }
        e = -errno;
        if (errno != EEXIST)
            break;
    }
    revive_fd_disown(d->dirfd);
    close(d->dirfd);
    revive_fd_leave();
    d->dirfd = -1;
    return e;
}

int crs_durable_commit(struct crs_durable *d, char *err, size_t errlen)
{
    if (fsync(d->fd) != 0) {
        int e = errno;
        snprintf(err, errlen, "cannot flush %s to disk: %s", d->tmp, strerror(e));
        return -e;
    }
    if (revive_fault(REVIVE_FAULT_image_commit)) {
        snprintf(err, errlen, "fault injected before renaming %s (REVIVE_FAULT=image-commit)", d->tmp);
        return -EIO;
    }
    if (renameat(d->dirfd, d->tmpname, d->dirfd, d->name) != 0) {
        int e = errno;
        snprintf(err, errlen, "cannot rename %s to %s: %s", d->tmp, d->path, strerror(e));
        return -e;
    }
    /* The rename itself must reach the disk; a directory we cannot open for
     * reading (write and search permission only) is left to the kernel. */
    revive_fd_enter();
    int dfd = openat(d->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    revive_fd_leave();
    d->tmpname[0] = 0;
    return 0;
}

void crs_durable_close(struct crs_durable *d)
{
    revive_fd_enter();
    if (d->fd >= 0) {
        revive_fd_disown(d->fd);
        close(d->fd);
    }
    if (d->dirfd >= 0) {
        revive_fd_disown(d->dirfd);
        close(d->dirfd);
    }
    revive_fd_leave();
    d->fd = d->dirfd = -1;
}

void crs_durable_abort(struct crs_durable *d)
{
    if (d->dirfd >= 0 && d->tmpname[0])
        unlinkat(d->dirfd, d->tmpname, 0);
    d->tmpname[0] = 0;
    crs_durable_close(d);
}

int crs_durable_is_temp_name(const char *name)
{
    const char *t = name[0] == '.' ? strstr(name + 1, ".tmp.") : NULL;
    while (t && strstr(t + 1, ".tmp."))
        t = strstr(t + 1, ".tmp.");   /* the last one: NAME may hold ".tmp." itself */
    if (!t || t == name + 1)
        return 0;
    const char *p = t + 5;
    size_t d = strspn(p, "0123456789");
    if (!d)
        return 0;
    if (!p[d])
        return 1;
    if (p[d] != '.' || !p[d + 1])
        return 0;
    return strspn(p + d + 1, "0123456789") == strlen(p + d + 1);
}

int crs_durable_drop_orphan(int fd, const char *given)
{
    char link[64], path[PATH_MAX];
    struct stat mine, there;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0 || (size_t)n >= sizeof path - 1)
        return n < 0 ? -errno : -ENAMETOOLONG;
    path[n] = 0;
    if (fstat(fd, &mine) != 0)
        return -errno;
    if (!S_ISREG(mine.st_mode) || mine.st_nlink == 0 || path[0] != '/')
        return 0;   /* removed already (" (deleted)"), or not a file of a directory */
    const char *base = strrchr(path, '/') + 1;
    if ((given && strcmp(given, path)) || !crs_durable_is_temp_name(base))
        return 0;   /* renamed to its final name: the image is kept */
    if (lstat(path, &there) != 0 || there.st_dev != mine.st_dev || there.st_ino != mine.st_ino)
        return 0;   /* another file by that name now */
    if (unlink(path) == 0)
        return 1;
    int e = errno;
    if (ftruncate(fd, 0) == 0)
        return 2;
    return -e;
}

int crs_durable_write_file(const char *path, const void *data, size_t len, mode_t mode, char *err,
                           size_t errlen)
{
    struct crs_durable d;
    int e = crs_durable_open(&d, path, mode);
    if (e) {
        snprintf(err, errlen, "cannot create %s (in %s): %s", path, d.dir[0] ? d.dir : ".", strerror(-e));
        return e;
    }
    for (size_t off = 0; off < len;) {
        ssize_t n = write(d.fd, (const char *)data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            e = n < 0 ? -errno : -EIO;
            snprintf(err, errlen, "cannot write %s: %s", d.tmp, strerror(-e));
            crs_durable_abort(&d);
            return e;
        }
        off += (size_t)n;
    }
    if ((e = crs_durable_commit(&d, err, errlen))) {
        crs_durable_abort(&d);
        return e;
    }
    crs_durable_close(&d);
    return 0;
}
