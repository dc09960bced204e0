/* Open file descriptors: what can be put back at restart and how. */
#define _GNU_SOURCE
#include "crs/uspace/capture.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int crs_capture_memfd_index(struct crs_capture *c, uint64_t ino, const char *mapname, uint64_t min_size);

static int skipped(const struct crs_capture *c, int fd)
{
    for (int i = 0; i < c->nskip_fds; i++)
        if (c->skip_fds[i] == fd)
            return 1;
    return 0;
}

static int classify(struct crs_capture *c, struct crs_rec_fd *r, const char *link, const struct stat *st)
{
    int fd = r->fd;
    if (S_ISREG(st->st_mode)) {
        if (!strncmp(link, "/memfd:", 7)) {
            r->kind = CRS_FD_MEMFD;
            r->memfd = crs_capture_memfd_index(c, st->st_ino, link, (uint64_t)st->st_size);
            c->memfds[r->memfd].size = (uint64_t)st->st_size;
            int seals = fcntl(fd, F_GET_SEALS);
            c->memfds[r->memfd].seals = seals > 0 ? (uint32_t)seals : 0;
            return 0;
        }
        size_t len = strlen(link);
        if (len > 10 && !strcmp(link + len - 10, " (deleted)"))
            return -1;
        r->kind = CRS_FD_REGULAR;
        return 0;
    }
    if (S_ISDIR(st->st_mode)) {
        r->kind = CRS_FD_DIRECTORY;
        return 0;
    }
    if (fd <= 2 && (S_ISCHR(st->st_mode) || S_ISFIFO(st->st_mode) || S_ISSOCK(st->st_mode))) {
        r->kind = CRS_FD_INHERIT;
        return 0;
    }
    if (S_ISCHR(st->st_mode) && !strncmp(link, "/dev/", 5) && strncmp(link, "/dev/pts/", 9) &&
        strcmp(link, "/dev/tty") && strcmp(link, "/dev/ptmx")) {
        r->kind = CRS_FD_CHARDEV;
        return 0;
    }
    return -1;
}

/* Descriptors made by dup() share one open file (and its offset): the
 * restart must share it again. The kernel tells, through kcmp. */
static void find_shared_files(struct crs_capture *c)
{
    pid_t pid = getpid();
    for (size_t i = 0; i < c->nfds; i++) {
        struct crs_rec_fd *a = &c->fds[i];
        if (a->kind == CRS_FD_INHERIT || a->kind == CRS_FD_CLOSED)
            continue;
        for (size_t j = 0; j < i; j++) {
            const struct crs_rec_fd *b = &c->fds[j];
            if (b->dev != a->dev || b->ino != a->ino || b->dup_of >= 0 || b->kind != a->kind)
                continue;
            if (syscall(SYS_kcmp, pid, pid, 0 /* KCMP_FILE */, a->fd, b->fd) == 0) {
                a->dup_of = b->fd;
                break;
            }
        }
    }
}

static long record_fd(long n, int dirfd, void *arg)
{
    struct crs_capture *c = arg;
    int fd = (int)n;
    if (fd == dirfd || skipped(c, fd))
        return 0;
    if (c->nfds == 65536) {
        crs_capture_error(c, "more than %d open file descriptors", 65536);
        return -EMFILE;
    }
    struct crs_rec_fd *r = &c->fds[c->nfds];
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->memfd = -1;
    r->dup_of = -1;
    char path[64], link[4096];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    ssize_t ll = readlink(path, link, sizeof link - 1);
    link[ll > 0 ? ll : 0] = 0;
    struct stat st;
    if (fstat(fd, &st) != 0)
        return 0; /* closed meanwhile */
    r->open_flags = (uint32_t)fcntl(fd, F_GETFL);
    r->fd_flags = (uint32_t)fcntl(fd, F_GETFD);
    r->offset = lseek(fd, 0, SEEK_CUR);
    r->mode = st.st_mode;
    r->dev = st.st_dev;
    r->ino = st.st_ino;
    if (classify(c, r, link, &st) != 0) {
        if (!c->opts.ignore_fds) {
            crs_capture_error(c, "file descriptor %d (%s) cannot be checkpointed: Revive restores "
                              "regular files, directories, devices, memfds and standard streams; "
                              "close it first, or checkpoint with --ignore-fds to have it closed "
                              "in the restarted process", fd, link);
            return -ENOTSUP;
        }
        r->kind = CRS_FD_CLOSED;
    }
    c->fd_paths[c->nfds] = crs_capture_strdup(c, link);
    c->nfds++;
    return 0;
}

int crs_capture_fds(struct crs_capture *c)
{
    size_t cap = 65536;
    c->fds = crs_scratch_alloc(c->scratch, cap * sizeof *c->fds);
    c->fd_paths = crs_scratch_alloc(c->scratch, cap * sizeof *c->fd_paths);
    if (!c->fds || !c->fd_paths) {
        crs_capture_error(c, "out of scratch memory for file descriptors");
        return -ENOMEM;
    }
    long ret = crs_for_each_number("/proc/self/fd", record_fd, c);
    if (ret < 0 && !c->err[0])
        crs_capture_error(c, "cannot list /proc/self/fd: %s", strerror((int)-ret));
    if (!ret)
        find_shared_files(c);
    return (int)ret;
}
