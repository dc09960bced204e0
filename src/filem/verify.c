/* Verification of a sequence against its metadata, through crs's image
 * reader (see filem.h). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "filem"
#include "filem/filem.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crs/base/image.h"
#include "crs/base/tree.h"
#include "filem/file_sum.h"

/* The image reader's message without its advice for one process ("use an earlier checkpoint"):
 * the callers of the snapshot store give their own (another sequence), once. */
static void reader_msg(char *out, size_t len, const char *img_err)
{
    filem_fmt(out, len, "%s", img_err);
    crs_image_advise(out, len, "");
}

int filem_image_checksum(const char *path, uint64_t *checksum, uint64_t *size, char *err,
                         size_t errlen)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        int e = errno;
        filem_fmt(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    struct crs_image img;
    int e = crs_image_open_first(&img, path);
    if (e < 0) {
        reader_msg(err, errlen, img.err);
        return e;
    }
    crs_image_close(&img);
    /* the whole file's: a tree file's every member (file_sum.h) */
    e = crs_image_file_sum(path, checksum, NULL, NULL, err, errlen);
    if (e < 0) {
        crs_image_advise(err, errlen, ""); /* as reader_msg */
        return e;
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

static int check_rank(const char *seqdir, const struct filem_meta *m, int r, int deep, char *msg,
                      size_t len)
{
    char key[64], want_name[32];
    filem_fmt(key, sizeof key, "rank.%d.image", r);
    const char *name = filem_meta_get(m, key);
    snprintf(want_name, sizeof want_name, "rank_%d.img", r);
    if (!name || strcmp(name, want_name) != 0) {
        filem_fmt(msg, len, "the metadata names no image for rank %d", r);
        return -EBADMSG;
    }
    uint64_t size, sum;
    filem_fmt(key, sizeof key, "rank.%d.size", r);
    int e1 = filem_meta_get_u64(m, key, &size);
    filem_fmt(key, sizeof key, "rank.%d.checksum", r);
    int e2 = filem_meta_get_u64(m, key, &sum);
    if (e1 < 0 || e2 < 0) {
        filem_fmt(msg, len, "the metadata gives no size or checksum for rank %d", r);
        return -EBADMSG;
    }
    char path[PATH_MAX];
    filem_fmt(path, sizeof path, "%s/%s", seqdir, name);
    struct stat st;
    if (lstat(path, &st) < 0) {
        int e = errno;
        filem_fmt(msg, len, "%s: %s", path, strerror(e));
        return -e;
    }
    if (!S_ISREG(st.st_mode)) {
        filem_fmt(msg, len, "%s is not a regular file", path);
        return -EBADMSG;
    }
    if (st.st_uid != geteuid() || (st.st_mode & 077)) {
        filem_fmt(msg, len, "%s is not private (uid %u, mode %04o)", path, (unsigned)st.st_uid,
                 (unsigned)(st.st_mode & 07777));
        return -EPERM;
    }
    if ((uint64_t)st.st_size != size) {
        filem_fmt(msg, len, "%s has %llu bytes, the metadata says %llu (truncated or replaced)",
                 path, (unsigned long long)st.st_size, (unsigned long long)size);
        return -EBADMSG;
    }
    struct crs_image img;
    int e = crs_image_open_first(&img, path);
    if (e < 0) {
        reader_msg(msg, len, img.err);
        return e;
    }
    /* the checksum of the whole file: for a tree file every member's image, not member 0's only
     * (a child's image replaced by another whole one passed every check) */
    e = filem_file_sum_check(path, sum, "the metadata says", NULL, msg, len);
    if (e < 0) {
        /* -EBADMSG is either the file's checksum differing from the metadata's (another file:
         * "replaced") or a tree member's header failing its own checksum, which the image
         * reader says with its one-process advice (as stage.c's open_checked tells them apart) */
        if (e == -EBADMSG && !strstr(msg, CRS_IMAGE_ADVICE) && strlen(msg) + 12 < len)
            strcat(msg, " (replaced)");
        else
            crs_image_advise(msg, len, ""); /* as reader_msg */
        crs_image_close(&img);
        return e;
    }
    if (deep) {
        e = crs_image_verify_chunks(&img);
        if (e < 0) {
            reader_msg(msg, len, img.err);
            crs_image_close(&img);
            return e;
        }
    }
    crs_image_close(&img);
    /* a rank with running children: they are the tree file's other members */
    e = crs_image_verify_members(path, deep, msg, len);
    if (e < 0) {
        crs_image_advise(msg, len, ""); /* as reader_msg */
        return e;
    }
    filem_fmt(msg, len, "%s: %llu bytes, checksum %016" PRIx64 "%s", name,
             (unsigned long long)size, sum, deep ? ", every chunk verified" : "");
    return 0;
}

int filem_verify_seq(const char *jobdir, uint64_t seq, const struct filem_meta *m, int deep,
                     void (*report)(void *arg, int rank, int status, const char *msg), void *arg,
                     char *err, size_t errlen)
{
    char seqdir[PATH_MAX];
    filem_seq_path(seqdir, sizeof seqdir, jobdir, seq);
    uint64_t ranks;
    if (filem_meta_get_u64(m, "ranks", &ranks) < 0 || ranks == 0 || ranks > (1u << 20)) {
        filem_fmt(err, errlen, "%s/%s gives no number of ranks", seqdir, FILEM_META_NAME);
        return -EBADMSG;
    }
    int rc = 0;
    for (uint64_t r = 0; r < ranks; r++) {
        char msg[REVIVE_TEXT_PATHS(2)]; /* the image's path, and the reader's words naming it */
        int e = check_rank(seqdir, m, (int)r, deep, msg, sizeof msg);
        if (report)
            report(arg, (int)r, e, msg);
        if (e < 0 && rc == 0) {
            rc = e;
            filem_fmt(err, errlen, "rank %d: %s", (int)r, msg);
        }
    }
    return rc;
}
