/*
 * The image reader's access to the file and its words for what is wrong
 * (image_reader_int.h): reading bytes at an offset from the image's start,
 * checking padding, string references into STRINGS, the error messages
 * (fail, truncated), and the advice a caller puts in place of the generic one
 * (crs_image_advise).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crs/base/image.h"
#include "crs/base/image_reader_int.h"

__attribute__((format(printf, 3, 4)))
int crs_ir_fail(struct crs_image *img, int err, const char *fmt, ...)
{
    int n = snprintf(img->err, sizeof(img->err), "image %s: ", img->name ? img->name : "?");
    if (n < 0 || (size_t)n >= sizeof(img->err))
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(img->err + n, sizeof(img->err) - (size_t)n, fmt, ap);
    va_end(ap);
    return -err;
}

int crs_ir_truncated(struct crs_image *img, uint64_t have, uint64_t want)
{
    return crs_ir_fail(img, EBADMSG,
                "truncated at byte %" PRIu64 " of %" PRIu64
                ": the file is incomplete" CRS_IMAGE_ADVICE, have, want);
}

/* Reads exactly len bytes at `off` from the image's start. */
int crs_ir_get(struct crs_image *img, uint64_t off, void *buf, size_t len)
{
    char *p = buf;
    uint64_t want = off + len;
    while (len) {
        ssize_t n = pread(img->fd, p, len, (off_t)(img->base + off));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            return crs_ir_fail(img, e, "read failed at byte %" PRIu64 ": %s", off, strerror(e));
        }
        if (n == 0) /* the file shrank while we read it */
            return crs_ir_truncated(img, off, want);
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

/* Checks that [off, off+len) holds only zero bytes (padding). */
int crs_ir_check_zero(struct crs_image *img, uint64_t off, size_t len, const char *where)
{
    char buf[CRS_IMAGE_ALIGN];
    while (len) {
        size_t n = len < sizeof(buf) ? len : sizeof(buf);
        int rc = crs_ir_get(img, off, buf, n);
        if (rc)
            return rc;
        for (size_t i = 0; i < n; i++)
            if (buf[i])
                return crs_ir_fail(img, EBADMSG, "non-zero byte %" PRIu64 " in the padding %s: " CORRUPT,
                            off + i, where);
        off += n;
        len -= n;
    }
    return 0;
}

bool crs_ir_str_ok(const struct crs_image *img, struct crs_strref r)
{
    if (r.offset == 0 && r.length == 0)
        return true;
    if ((uint64_t)r.offset + r.length >= img->strings_len)
        return false;
    /* NUL right at the end and nowhere before it: the length is exact */
    return img->strings[r.offset + r.length] == '\0' &&
           memchr(img->strings + r.offset, '\0', r.length) == NULL;
}

const char *crs_image_str(const struct crs_image *img, struct crs_strref ref)
{
    if (ref.length == 0 || !img->strings || !crs_ir_str_ok(img, ref))
        return "";
    return img->strings + ref.offset;
}

void crs_image_advise(char *msg, size_t len, const char *advice)
{
    size_t al = strlen(CRS_IMAGE_ADVICE), nl = strlen(advice);
    for (char *at = strstr(msg, CRS_IMAGE_ADVICE); at; at = strstr(at, CRS_IMAGE_ADVICE)) {
        size_t tail = strlen(at + al), keep = (size_t)(at - msg);
        size_t room = len - 1 - keep; /* for the advice and what follows it */
        size_t an = nl < room ? nl : room;
        size_t tn = tail < room - an ? tail : room - an;
        memmove(at + an, at + al, tn);
        memcpy(at, advice, an);
        at[an + tn] = 0;
        at += an;
    }
}

void crs_file_stamp_from(const struct stat *st, struct crs_file_stamp *s)
{
    s->dev = (uint64_t)st->st_dev;
    s->ino = (uint64_t)st->st_ino;
    s->size = (uint64_t)st->st_size;
    s->ctime_sec = (int64_t)st->st_ctim.tv_sec;
    s->ctime_nsec = (int64_t)st->st_ctim.tv_nsec;
}

int crs_file_stamp_of(int fd, struct crs_file_stamp *s)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    crs_file_stamp_from(&st, s);
    return 0;
}

int crs_file_stamp_settled(const struct crs_file_stamp *s, int64_t now_sec)
{
    return s->ctime_sec + 1 < now_sec;
}

int crs_file_stamp_same(const struct crs_file_stamp *a, const struct crs_file_stamp *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->ctime_sec == b->ctime_sec && a->ctime_nsec == b->ctime_nsec;
}
