/* A file that is one process's image or a tree file (tree.h) whose member 0 is the process that
 * matters: an MPI rank with running children has its image as member 0 of a tree file
 * (src/pml_hooks/capture.c), and the checks of a snapshot (checksums, staging, ckpt-info
 * --verify, the restart's window check) read that member as they read a rank's plain image. */
#define _GNU_SOURCE
#include "crs/base/tree.h"
#include "crs/base/image.h"
#include "common/fd_guard.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

int crs_tree_first_image(int fd, uint64_t *offset)
{
    off_t at = lseek(fd, 0, SEEK_CUR);
    *offset = at > 0 ? (uint64_t)at : 0;
    int k = crs_tree_is_tree(fd);
    if (k <= 0)
        return k;
    struct crs_tree t;
    char err[256];
    int e = crs_tree_read(fd, &t, err, sizeof err);
    if (e)
        return e;
    if (t.hdr.nmembers == 0 || t.members[0].kind != CRS_TREE_PROCESS)
        e = -EBADMSG;
    else
        *offset = t.base + t.members[0].image_offset;
    crs_tree_free(&t);
    lseek(fd, at > 0 ? at : 0, SEEK_SET);
    return e ? e : 1;
}

int crs_image_open_first(struct crs_image *img, const char *path)
{
    int fd = revive_open_owned(path, O_RDONLY, 0); /* (read while a rank runs: fd_guard.h) */
    if (fd < 0)
        return crs_image_open(img, path);   /* its message */
    return crs_image_open_first_fd(img, fd, path);
}

int crs_image_open_first_fd(struct crs_image *img, int fd, const char *path)
{
    uint64_t at;
    if (lseek(fd, 0, SEEK_SET) != 0)
        return crs_image_open_fd(img, fd, path); /* its message (no regular file) */
    int k = crs_tree_first_image(fd, &at);
    if (k == 0)
        return crs_image_open_fd(img, fd, path); /* (kept: owned while a rank's agent reads it) */
    if (k < 0 || lseek(fd, (off_t)at, SEEK_SET) < 0) {
        int e = k < 0 ? k : -errno;
        close(fd);
        memset(img, 0, sizeof *img);
        img->fd = -1;
        snprintf(img->err, sizeof img->err, "image %s: a process tree's file whose table cannot be read (%s)%s",
                 path, e == -EBADMSG ? "damaged or cut short" : strerror(-e), CRS_IMAGE_ADVICE);
        return e == -EINVAL ? -EBADMSG : e;
    }
    char name[4200];
    snprintf(name, sizeof name, "%s (its first process)", path);
    return crs_image_open_fd(img, fd, name);
}

/* The fd variants read the file from its start whatever fd's offset, and leave the offset where
 * it was (the caller's image reader of member 0 reads with pread, from its own base). */
static off_t offset_save(int fd)
{
    off_t at = lseek(fd, 0, SEEK_CUR);
    return at >= 0 && lseek(fd, 0, SEEK_SET) == 0 ? at : -1;
}

static void offset_restore(int fd, off_t at)
{
    if (at >= 0)
        lseek(fd, at, SEEK_SET);
}

/* Another descriptor of fd's open file (no new open of its path: the very file checked), owned
 * in a rank as revive_open_owned's; -1 with errno. Its offset is fd's (one open file). */
static int dup_owned(int fd)
{
    revive_fd_enter();
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    int e = errno;
    revive_fd_own(d);
    revive_fd_leave();
    errno = e;
    return d;
}

/* crs_image_verify_members_fd with fd at the file's start */
static int verify_members(int fd, const char *path, int deep, char *err, size_t errlen)
{
    /* Every check that a rank's file is whole reads member 0 through crs_image_open_first;
     * the rank's children are the other process members of the same file, and a copy damaged
     * there must not be called verified (diffrev26 T-H1). */
    int k = crs_tree_is_tree(fd);
    if (k <= 0) {
        if (k < 0)
            snprintf(err, errlen, "image %s: %s", path, strerror(-k));
        return k;
    }
    struct crs_tree t;
    char terr[512];
    int e = crs_tree_read(fd, &t, terr, sizeof terr);
    if (e) {
        snprintf(err, errlen, "image %s: a process tree's file whose table cannot be read (%s)%s", path, terr,
                 CRS_IMAGE_ADVICE);
        return e == -EINVAL ? -EBADMSG : e;
    }
    for (uint32_t i = 1; i < t.hdr.nmembers && !e; i++) {
        const struct crs_tree_member *m = &t.members[i];
        if (m->kind != CRS_TREE_PROCESS)
            continue;   /* a zombie: no image */
        /* the reader takes its base from the descriptor's offset once, then reads with pread */
        int mfd = dup_owned(fd);
        if (mfd < 0 || lseek(mfd, (off_t)(t.base + m->image_offset), SEEK_SET) < 0) {
            e = -errno;
            if (mfd >= 0)
                close(mfd);
            snprintf(err, errlen, "image %s: %s", path, strerror(-e));
            break;
        }
        char name[4200];
        snprintf(name, sizeof name, "%s (process %d '%.16s', a child of its first)", path, (int)m->pid, m->comm);
        struct crs_image img;
        e = crs_image_open_fd(&img, mfd, name);   /* header and tables checked; mfd its own */
        if (e == 0) {
            if (deep)
                e = crs_image_verify_chunks(&img);
            if (e < 0)
                snprintf(err, errlen, "%s", img.err);
            crs_image_close(&img);
        } else {
            snprintf(err, errlen, "%s", img.err);
        }
    }
    crs_tree_free(&t);
    return e < 0 ? e : 0;
}

int crs_image_verify_members_fd(int fd, const char *path, int deep, char *err, size_t errlen)
{
    off_t at = offset_save(fd);
    if (at < 0) {
        int e = -errno;
        snprintf(err, errlen, "image %s: %s", path, strerror(-e));
        return e;
    }
    int e = verify_members(fd, path, deep, err, errlen);
    offset_restore(fd, at);
    return e;
}

int crs_image_verify_members(const char *path, int deep, char *err, size_t errlen)
{
    int fd = revive_open_owned(path, O_RDONLY, 0);
    if (fd < 0) {
        int e = -errno;
        snprintf(err, errlen, "image %s: %s", path, strerror(-e));
        return e;
    }
    int e = verify_members(fd, path, deep, err, errlen);
    close(fd);
    return e;
}

/* One member's image header at off: read and its own checksum checked (the image reader's
 * check, without the rest of its opening: only the header's checksum field is needed here). */
static int member_header_sum(int fd, uint64_t off, const char *path, int member, uint64_t *sum,
                             char *err, size_t errlen)
{
    struct crs_image_header h;
    ssize_t n = pread(fd, &h, sizeof h, (off_t)off);
    if (n < 0) {
        int e = -errno;
        snprintf(err, errlen, "image %s: %s", path, strerror(-e));
        return e;
    }
    if (n != (ssize_t)sizeof h || memcmp(h.magic, CRS_IMAGE_MAGIC, sizeof h.magic) != 0 ||
        h.header_size != sizeof h ||
        XXH3_64bits(&h, offsetof(struct crs_image_header, header_checksum)) != h.header_checksum) {
        if (member < 0)
            snprintf(err, errlen, "image %s: its header is damaged or cut short%s", path, CRS_IMAGE_ADVICE);
        else
            snprintf(err, errlen, "image %s: the image header of the tree's process %d is damaged or "
                     "cut short%s", path, member, CRS_IMAGE_ADVICE);
        return -EBADMSG;
    }
    *sum = h.header_checksum;
    return 0;
}

/* The sum of the file open at fd, read from its start (its offset unused: pread) */
static int file_sum(int fd, const char *path, uint64_t *sum, uint64_t *first, int *tree, char *err,
                    size_t errlen)
{
    int k = crs_tree_is_tree(fd);
    if (tree)
        *tree = k == 1;
    if (k < 0) {
        snprintf(err, errlen, "image %s: %s", path, strerror(-k));
        return k;
    }
    if (k == 0) {
        uint64_t s = 0;
        int e = member_header_sum(fd, 0, path, -1, &s, err, errlen);
        if (e == 0) {
            *sum = s;
            if (first)
                *first = s;
        }
        return e;
    }
    struct crs_tree t;
    char terr[512];
    int e = crs_tree_read(fd, &t, terr, sizeof terr);
    if (e) {
        snprintf(err, errlen, "image %s: a process tree's file whose table cannot be read (%s)%s", path, terr,
                 CRS_IMAGE_ADVICE);
        return e == -EINVAL ? -EBADMSG : e;
    }
    /* the table's own checksum (members, their offsets and lengths, shared files, pipes' bytes),
     * then each member: a change of any member's image, or of which member is where, changes it */
    XXH3_state_t *st = XXH3_createState();
    if (!st) {
        crs_tree_free(&t);
        snprintf(err, errlen, "image %s: out of memory", path);
        return -ENOMEM;
    }
    XXH3_64bits_reset(st);
    XXH3_64bits_update(st, "RVVSUM1", 8);
    XXH3_64bits_update(st, &t.hdr.checksum, sizeof t.hdr.checksum);
    uint64_t s0 = 0;
    for (uint32_t i = 0; i < t.hdr.nmembers && !e; i++) {
        const struct crs_tree_member *m = &t.members[i];
        uint64_t ms = 0;
        if (m->kind == CRS_TREE_PROCESS)
            e = member_header_sum(fd, t.base + m->image_offset, path, (int)i, &ms, err, errlen);
        if (i == 0)
            s0 = ms;
        uint64_t rec[2] = {m->kind, ms};
        XXH3_64bits_update(st, rec, sizeof rec);
    }
    uint64_t all = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    crs_tree_free(&t);
    if (e)
        return e;
    *sum = all;
    if (first)
        *first = s0;
    return 0;
}

/* A rank's agent sums its image while the application's threads run (--continue): the reads are
 * of headers and tables only, inside a fork guard section (common/fd_guard.h). */
int crs_image_file_sum(const char *path, uint64_t *sum, uint64_t *first, int *tree, char *err,
                       size_t errlen)
{
    revive_fd_enter();
    int fd = revive_open_owned(path, O_RDONLY, 0);
    int e = fd < 0 ? -errno : 0;
    if (fd < 0) {
        if (tree)
            *tree = 0;
        snprintf(err, errlen, "image %s: %s", path, strerror(-e));
    } else {
        e = file_sum(fd, path, sum, first, tree, err, errlen);
        close(fd);
    }
    revive_fd_leave();
    return e;
}

int crs_image_file_sum_fd(int fd, const char *path, uint64_t *sum, uint64_t *first, int *tree,
                          char *err, size_t errlen)
{
    revive_fd_enter();
    off_t at = offset_save(fd);
    int e = at < 0 ? -errno : 0;
    if (at < 0)
        snprintf(err, errlen, "image %s: %s", path, strerror(-e));
    else
        e = file_sum(fd, path, sum, first, tree, err, errlen);
    offset_restore(fd, at);
    revive_fd_leave();
    return e;
}
