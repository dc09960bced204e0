/* Verification of a sequence against its metadata, through crs's image
 * reader (see filem.h). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "filem"
#include "filem/filem.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crs/base/image.h"
#include "common/fd_guard.h"
#include "crs/base/tree.h"
#include "filem/file_sum.h"
#include "filem/verified.h"

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
    /* one descriptor: the size, the reader's check and the checksum are of one file */
    int fd = revive_open_owned(path, O_RDONLY, 0);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        filem_fmt(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    struct crs_image img;
    int e = crs_image_open_first_fd(&img, fd, path);
    if (e < 0) {
        reader_msg(err, errlen, img.err);
        return e;
    }
    /* the whole file's: a tree file's every member (file_sum.h) */
    e = crs_image_file_sum_fd(img.fd, path, checksum, NULL, NULL, err, errlen);
    crs_image_close(&img);
    if (e < 0) {
        crs_image_advise(err, errlen, ""); /* as reader_msg */
        return e;
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

/* STAMP (may be NULL): with deep, the file's stamp when every chunk was read and it held
 * meanwhile (verified.h); else its size is 0. CHECK (may be NULL): the caller's own check of
 * the image once it passed the others. Every check reads the one descriptor opened here: the
 * path was opened three times (the reader, the file checksum, the tree's members), each time
 * perhaps another file put in its place meanwhile, and the restart's check paid three opens and
 * header reads per rank. */
static int check_rank(const char *seqdir, const struct filem_meta *m, int r, int deep,
                      filem_image_check_fn check, void *arg, char *msg, size_t len,
                      struct crs_file_stamp *stamp)
{
    struct crs_file_stamp before = {0}, after = {0};
    if (stamp)
        stamp->size = 0;
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
    /* not followed; the file's own type, owner and size are taken from the descriptor below
     * (no O_NONBLOCK: an open of a file another process holds a lease on waits for its break,
     * as the reader's open did) */
    int fd = S_ISREG(st.st_mode) ? revive_open_owned(path, O_RDONLY | O_NOFOLLOW, 0) : -1;
    if (S_ISREG(st.st_mode) && (fd < 0 || fstat(fd, &st) < 0)) {
        int e = errno == ELOOP ? EBADMSG : errno;
        if (fd >= 0)
            close(fd);
        if (e == EBADMSG)
            filem_fmt(msg, len, "%s is not a regular file", path);
        else
            filem_fmt(msg, len, "%s: %s", path, strerror(e));
        return -e;
    }
    int e = 0;
    if (!S_ISREG(st.st_mode)) {
        filem_fmt(msg, len, "%s is not a regular file", path);
        e = -EBADMSG;
    } else if (st.st_uid != geteuid() || (st.st_mode & 077)) {
        filem_fmt(msg, len, "%s is not private (uid %u, mode %04o)", path, (unsigned)st.st_uid,
                 (unsigned)(st.st_mode & 07777));
        e = -EPERM;
    } else if ((uint64_t)st.st_size != size) {
        filem_fmt(msg, len, "%s has %llu bytes, the metadata says %llu (truncated or replaced)",
                 path, (unsigned long long)st.st_size, (unsigned long long)size);
        e = -EBADMSG;
    }
    if (e < 0) {
        if (fd >= 0)
            close(fd);
        return e;
    }
    struct crs_image img;
    e = crs_image_open_first_fd(&img, fd, path); /* fd is the reader's from here */
    if (e < 0) {
        reader_msg(msg, len, img.err);
        return e;
    }
    if (stamp && deep && crs_file_stamp_of(img.fd, &before) < 0)
        before.size = 0; /* nothing handed on */
    /* the checksum of the whole file: for a tree file every member's image, not member 0's only
     * (a child's image replaced by another whole one passed every check) */
    e = filem_file_sum_check_fd(img.fd, path, sum, "the metadata says", NULL, msg, len);
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
    /* a rank with running children: they are the tree file's other members */
    e = crs_image_verify_members_fd(img.fd, path, deep, msg, len);
    if (e < 0) {
        crs_image_advise(msg, len, ""); /* as reader_msg */
        crs_image_close(&img);
        return e;
    }
    if (check && (e = check(arg, r, &img, path, msg, len)) < 0) {
        crs_image_close(&img);
        return e;
    }
    /* the stamp after every byte was read: the same one, so the bytes checked are the file's */
    if (stamp && before.size && crs_file_stamp_of(img.fd, &after) == 0 &&
        filem_verified_usable(&before, &after, (int64_t)time(NULL)))
        *stamp = after;
    crs_image_close(&img);
    filem_fmt(msg, len, "%s: %llu bytes, checksum %016" PRIx64 "%s", name,
             (unsigned long long)size, sum, deep ? ", every chunk verified" : "");
    return 0;
}

/* The deep check reads every image whole: the images of a window of ranks are checked by as many
 * threads as there are processors (up to VERIFY_THREADS), then reported in rank order. One
 * thread read restart-mpi's whole snapshot alone before the launch, on the restart's critical
 * path (8 ranks x 16 MiB: 30-50 ms of CPU warm, the disk's stream one image at a time cold). */
#define VERIFY_THREADS 4
#define VERIFY_WINDOW 64

struct verify_window {
    const char *seqdir;
    const struct filem_meta *m;
    int deep;
    filem_image_check_fn check;
    void *arg;
    uint64_t lo, hi;           /* ranks [lo, hi) */
    uint64_t next;             /* the next rank a thread takes (atomic) */
    int st[VERIFY_WINDOW];
    char *msg[VERIFY_WINDOW];  /* malloc'd; NULL: out of memory */
    struct crs_file_stamp *stamps;
};

static void *verify_some(void *arg)
{
    struct verify_window *w = arg;
    char msg[REVIVE_TEXT_PATHS(2)]; /* the image's path, and the reader's words naming it */
    for (;;) {
        uint64_t r = __atomic_fetch_add(&w->next, 1, __ATOMIC_RELAXED);
        if (r >= w->hi)
            return NULL;
        w->st[r - w->lo] = check_rank(w->seqdir, w->m, (int)r, w->deep, w->check, w->arg, msg,
                                      sizeof msg, w->stamps ? &w->stamps[r] : NULL);
        w->msg[r - w->lo] = strdup(msg);
    }
}

int filem_image_replaceable(const struct filem_meta *m, const char *seqdir, int r, int status,
                            int own_private)
{
    char k[64], path[PATH_MAX + 32];
    uint64_t v;
    if (status == 0 || status == -ENOENT || status == -EPERM || status == -ENOTRECOVERABLE || !m ||
        !seqdir || r < 0)
        return 0;
    snprintf(k, sizeof k, "rank.%d.checksum", r);
    if (filem_meta_get_u64(m, k, &v) < 0)
        return 0;
    snprintf(k, sizeof k, "rank.%d.size", r);
    if (filem_meta_get_u64(m, k, &v) < 0)
        return 0;
    snprintf(path, sizeof path, "%s/rank_%d.img", seqdir, r);
    struct stat st;
    if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
        return 0;
    return !own_private || (st.st_uid == geteuid() && !(st.st_mode & 077));
}

int filem_verify_seq(const char *jobdir, uint64_t seq, const struct filem_meta *m, int deep,
                     void (*report)(void *arg, int rank, int status, const char *msg),
                     filem_image_check_fn check, void *arg, struct crs_file_stamp *stamps,
                     char *err, size_t errlen)
{
    char seqdir[PATH_MAX];
    filem_seq_path(seqdir, sizeof seqdir, jobdir, seq);
    uint64_t ranks;
    if (filem_meta_get_u64(m, "ranks", &ranks) < 0 || ranks == 0 || ranks > (1u << 20)) {
        filem_fmt(err, errlen, "%s/%s gives no number of ranks", seqdir, FILEM_META_NAME);
        return -EBADMSG;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int nthreads = !deep || cpus < 2 ? 1 : cpus < VERIFY_THREADS ? (int)cpus : VERIFY_THREADS;
    int rc = 0;
    struct verify_window *w = malloc(sizeof *w);
    if (!w) {
        filem_fmt(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (uint64_t lo = 0; lo < ranks; lo += VERIFY_WINDOW) {
        *w = (struct verify_window){.seqdir = seqdir, .m = m, .deep = deep, .check = check,
                                    .arg = arg, .lo = lo,
                                    .hi = ranks - lo < VERIFY_WINDOW ? ranks : lo + VERIFY_WINDOW,
                                    .next = lo, .stamps = stamps};
        pthread_t t[VERIFY_THREADS];
        int started = 0;
        for (int i = 1; i < nthreads && (uint64_t)i < w->hi - lo; i++)
            started += pthread_create(&t[started], NULL, verify_some, w) == 0;
        verify_some(w); /* this thread too (and alone when none could start) */
        for (int i = 0; i < started; i++)
            pthread_join(t[i], NULL);
        for (uint64_t r = lo; r < w->hi; r++) {
            int e = w->st[r - lo];
            const char *msg = w->msg[r - lo] ? w->msg[r - lo] : "out of memory";
            if (report)
                report(arg, (int)r, e, msg);
            if (e < 0 && rc == 0) {
                rc = e;
                filem_fmt(err, errlen, "rank %d: %s", (int)r, msg);
            }
            free(w->msg[r - lo]);
        }
    }
    free(w);
    return rc;
}
