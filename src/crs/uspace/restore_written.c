/* A file the process held open for writing (CRS_FOBJ_WRITTEN, capture_written.c) put back under
 * its name as it was at the checkpoint, when it is gone or holds other bytes (it grew after a
 * continuing snapshot, a restart ran on from this one before, the node's /tmp was cleaned), so
 * that the restarted run writes on from where the checkpoint left it, as an uninterrupted run
 * did. A file that holds those bytes is left untouched (its times too). Ranks that share the
 * file compare and write it one after the other (flock): the first puts it back, the others
 * find it equal. DMTCP (--checkpoint-open-files) and CRIU keep such bytes only for files
 * deleted while open; BLCR restored offsets only. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/uspace/restore.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Whether [off, off+len) of fd reads as zeros (buf: CRS_CHUNK_MAX bytes). */
static int zeros_at(int fd, char *buf, uint64_t off, uint64_t len)
{
    while (len) {
        size_t n = len < CRS_CHUNK_MAX ? (size_t)len : CRS_CHUNK_MAX;
        if (pread(fd, buf, n, (off_t)off) != (ssize_t)n)
            return 0;
        for (size_t i = 0; i < n; i++)
            if (buf[i])
                return 0;
        off += n;
        len -= n;
    }
    return 1;
}

/* Whether fd holds exactly f's bytes: its size, each extent's bytes, zeros between. */
static int holds(struct crs_restore *r, const struct crs_rec_fobj *f, int fd, char *mine, char *theirs)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_size != f->size)
        return 0;
    uint64_t at = 0;
    for (uint32_t k = 0; k < f->nextents; k++) {
        const struct crs_rec_fextent *x = &r->img->fextents[f->first_extent + k];
        if (!zeros_at(fd, theirs, at, x->offset - at) || crs_image_read_fextent(r->img, f->first_extent + k, mine) ||
            pread(fd, theirs, x->length, (off_t)x->offset) != (ssize_t)x->length ||
            memcmp(mine, theirs, x->length))
            return 0;
        at = x->offset + x->length;
    }
    return zeros_at(fd, theirs, at, f->size - at);
}

/* [off, off+len) of fd made zeros: a hole where the file system makes one, else written. */
static int zero(int fd, char *buf, uint64_t off, uint64_t len)
{
    if (!len || fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
        return 0;
    memset(buf, 0, len < CRS_CHUNK_MAX ? (size_t)len : CRS_CHUNK_MAX);
    while (len) {
        size_t n = len < CRS_CHUNK_MAX ? (size_t)len : CRS_CHUNK_MAX;
        if (pwrite(fd, buf, n, (off_t)off) != (ssize_t)n)
            return -1;
        off += n;
        len -= n;
    }
    return 0;
}

/* f's bytes into fd, its size f->size. 0, or -errno with the message set. */
static int put_back(struct crs_restore *r, const struct crs_rec_fobj *f, int fd, char *buf, const char *path)
{
    uint64_t at = 0;
    for (uint32_t k = 0; k < f->nextents; k++) {
        const struct crs_rec_fextent *x = &r->img->fextents[f->first_extent + k];
        if (crs_image_read_fextent(r->img, f->first_extent + k, buf)) {
            crs_restore_error(r, "%s", r->img->err);
            return -EIO;
        }
        if (pwrite(fd, buf, x->length, (off_t)x->offset) != (ssize_t)x->length ||
            zero(fd, buf, at, x->offset - at) != 0)   /* after: buf holds the extent until written */
            goto fail;
        at = x->offset + x->length;
    }
    if (ftruncate(fd, (off_t)f->size) != 0 || (at < f->size && zero(fd, buf, at, f->size - at) != 0))
        goto fail;
    return 0;
fail:
    crs_restore_error(r, "cannot write %s back as it was at the checkpoint (%llu bytes, saved in the image): %s",
                      path, (unsigned long long)f->size, strerror(errno ? errno : ENOSPC));
    return -EIO;
}

/* flock(LOCK_EX) on fd, waiting at most 2 s: a lock another process holds for good (a live
 * process's own flock on its log) must not hold the restart; without it the compare and write go
 * on unlocked (ranks sharing the file write the same bytes). */
static void lock_for_a_while(int fd, const char *path)
{
    struct timespec pause = {0, 10 * 1000 * 1000};
    for (int k = 0; k < 200; k++) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0 || errno != EWOULDBLOCK)
            return;
        nanosleep(&pause, NULL);
    }
    revive_log_warn("%s is locked (flock) by another process for more than 2 s: compared with the "
                    "image and written back without the lock", path);
}

int crs_restore_written(struct crs_restore *r, size_t i)
{
    const struct crs_rec_fobj *f = &r->img->fobjs[i];
    const char *path = crs_restore_path(r, crs_image_str(r->img, f->path));
    int gone = 0, readable = 1;
    int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 && errno == ENOENT) {
        gone = 1;   /* made with its mode (less the umask); a rank sharing it may make it first */
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, f->mode & 07777);
    }
    if (fd < 0 && errno == EACCES && (fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY)) >= 0)
        readable = 0;   /* mode 0200: written back whole */
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        fd = -1;
        errno = EISDIR;   /* something else under its name now */
    }
    if (fd < 0) {
        int e = errno;
        crs_restore_error(r, "cannot put back %s, which the process held open for writing (its %llu bytes at the "
                          "checkpoint are in the image): %s", path, (unsigned long long)f->size,
                          e == EISDIR ? "it is not a regular file now" : strerror(e));
        crs_restore_outside(r, e);
        return -e;
    }
    if (gone)
        fchmod(fd, f->mode & 07777);   /* its mode, not less cr_restart's umask */
    char *mine = malloc(CRS_CHUNK_MAX), *theirs = malloc(CRS_CHUNK_MAX);
    int e = !mine || !theirs ? -ENOMEM : 0;
    if (!e) {
        lock_for_a_while(fd, path);   /* a rank sharing it compares once this one has written it */
        if (!readable || !holds(r, f, fd, mine, theirs)) {
            e = put_back(r, f, fd, mine, path);
            if (!e)
                revive_log_info("%s put back as it was at the checkpoint (%llu bytes): it %s", path,
                                (unsigned long long)f->size, gone ? "was gone" : "had changed since");
        }
        flock(fd, LOCK_UN);
    }
    free(mine);
    free(theirs);
    int moved = e ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, r->work_fd_min);
    if (!e && moved < 0) {
        e = -errno;
        crs_restore_error(r, "cannot keep %s open: %s", path, strerror(errno));
    }
    close(fd);
    return e ? e : moved;
}
