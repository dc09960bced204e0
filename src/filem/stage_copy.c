/* The staging copy with its read-back verification overlapped (stage_copy.h). */
#define _GNU_SOURCE
#include "filem/stage_copy.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "crs/base/image.h"
#include "filem/stage.h"

/* The read-back goes in segments of this size: small enough that it follows the copy closely,
 * large enough that each read is one long sequential request. A multiple of any block size
 * O_DIRECT asks for. */
#define SEG (8ull << 20)
#define ALIGN 4096ull

int filem_stage_copy_buffered;

/* The copy's and the read-back's buffers are mapped and unmapped here, not malloc'd: glibc
 * raises its mmap threshold to the size of a freed mapped block, after which blocks that size
 * come from the heap and stay there, dirty; the rank's next image then carried them (measured:
 * each image 2.6 MB larger from the second checkpoint on, a cost inside the next stall). */
static void *buf_map(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void buf_unmap(void *p, size_t len)
{
    if (p)
        munmap(p, len);
}

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* One piece of the image: bytes whose XXH3-64 must be sum, or padding that must be zero. */
struct piece {
    uint64_t off, len, sum;
    int zero;
    const char *what; /* for messages: "chunk", "section", ... */
    uint64_t idx;
};

struct plan {
    struct piece *p;
    size_t n, cap;
    uint64_t end; /* the image's size: the pieces cover [0, end) */
};

static int add(struct plan *pl, uint64_t off, uint64_t len, uint64_t sum, int zero,
               const char *what, uint64_t idx)
{
    if (!len)
        return 0;
    if (pl->n == pl->cap) {
        size_t c = pl->cap ? 2 * pl->cap : 64;
        struct piece *q = realloc(pl->p, c * sizeof *q);
        if (!q)
            return -ENOMEM;
        pl->p = q;
        pl->cap = c;
    }
    pl->p[pl->n++] = (struct piece){off, len, sum, zero, what, idx};
    return 0;
}

static int by_offset(const void *a, const void *b)
{
    const struct piece *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* The pieces of a validated image, in file order, covering [0, image_size) without gap or
 * overlap (the reader checked that layout: crs_image_open's check_layout). */
static int make_plan(const struct crs_image *img, struct plan *pl, char *err, size_t errlen)
{
    memset(pl, 0, sizeof *pl);
    const struct crs_image_header *h = &img->hdr;
    /* the header block: the header as validated, then zeros */
    static const char zeros[ALIGN];
    XXH3_state_t *s = XXH3_createState();
    if (!s)
        return -ENOMEM;
    XXH3_64bits_reset(s);
    XXH3_64bits_update(s, h, sizeof *h);
    XXH3_64bits_update(s, zeros, ALIGN - sizeof *h);
    uint64_t hsum = XXH3_64bits_digest(s);
    XXH3_freeState(s);
    int e = add(pl, 0, ALIGN, hsum, 0, "header", 0);
    size_t first = pl->n;
    for (uint32_t i = 0; i < h->section_count && !e; i++)
        e = add(pl, img->table[i].offset, img->table[i].size, img->table[i].checksum, 0,
                "section", img->table[i].type);
    for (size_t i = 0; i < img->nchunks && !e; i++)
        e = add(pl, img->chunks[i].data_offset, img->chunks[i].stored_length,
                img->chunks[i].checksum, 0, "chunk", i);
    if (e)
        return e;
    qsort(pl->p + first, pl->n - first, sizeof *pl->p, by_offset);
    /* the padding between them, then the section table last */
    size_t n = pl->n;
    uint64_t end = ALIGN;
    for (size_t i = first; i < n && !e; i++) {
        if (pl->p[i].off < end)
            break;
        e = add(pl, end, pl->p[i].off - end, 0, 1, "padding", end);
        end = pl->p[i].off + pl->p[i].len;
    }
    size_t tlen = h->section_count * sizeof(struct crs_section_entry);
    if (!e && h->table_offset >= end)
        e = add(pl, end, h->table_offset - end, 0, 1, "padding", end);
    if (!e)
        e = add(pl, h->table_offset, tlen, h->table_checksum, 0, "section table", 0);
    if (e)
        return e;
    qsort(pl->p, pl->n, sizeof *pl->p, by_offset);
    uint64_t at = 0;
    for (size_t i = 0; i < pl->n; i++) {
        if (pl->p[i].off != at) {
            snprintf(err, errlen, "the image's layout has a gap or overlap at byte %" PRIu64, at);
            return -EBADMSG;
        }
        at += pl->p[i].len;
    }
    if (at != h->image_size) {
        snprintf(err, errlen, "the image's pieces end at byte %" PRIu64 ", not %" PRIu64, at,
                 h->image_size);
        return -EBADMSG;
    }
    pl->end = at;
    return 0;
}

/* The read-back thread's state; written, done and stop are the copy's, under mu. */
struct vctx {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t written;
    int done, stop;
    int wfd, rfd, direct;
    const char *path;
    struct plan *pl;
    size_t pi;      /* the piece being checked */
    uint64_t pdone; /* of its bytes, how many so far */
    XXH3_state_t *hs;
    uint64_t vpos; /* read back and checked up to here */
    char *buf;
    int rc;
    char err[512];
};

static int vfail(struct vctx *v, int e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int vfail(struct vctx *v, int e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->err, sizeof v->err, fmt, ap);
    va_end(ap);
    v->rc = -e;
    return -e;
}

/* Checks len bytes read back from offset off (the next bytes of the plan). */
static int feed(struct vctx *v, uint64_t off, const unsigned char *b, uint64_t len)
{
    while (len && v->pi < v->pl->n) {
        const struct piece *q = &v->pl->p[v->pi];
        uint64_t take = q->len - v->pdone < len ? q->len - v->pdone : len;
        if (q->zero) {
            for (uint64_t i = 0; i < take; i++)
                if (b[i])
                    return vfail(v, EBADMSG, "the copy %s has a non-zero byte at %" PRIu64
                                 " (padding)", v->path, off + i);
        } else {
            if (!v->pdone)
                XXH3_64bits_reset(v->hs);
            XXH3_64bits_update(v->hs, b, (size_t)take);
        }
        v->pdone += take;
        off += take;
        b += take;
        len -= take;
        if (v->pdone == q->len) {
            if (!q->zero && XXH3_64bits_digest(v->hs) != q->sum)
                return vfail(v, EBADMSG, "the copy %s differs from the image: %s %" PRIu64
                             " (bytes %" PRIu64 "-%" PRIu64 ") fails its checksum", v->path,
                             q->what, q->idx, q->off, q->off + q->len - 1);
            v->pi++;
            v->pdone = 0;
        }
    }
    return 0;
}

/* The buffered read-back, where O_DIRECT is refused: the segment is written back and its
 * cached pages dropped first, so the read comes from storage (as far as the file system
 * drops clean pages; a memory file system is its own storage). */
static int to_buffered(struct vctx *v)
{
    int fd = open(v->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return vfail(v, errno, "cannot open the copy %s to read it back: %s", v->path,
                     strerror(errno));
    close(v->rfd);
    v->rfd = fd;
    v->direct = 0;
    return 0;
}

/* Reads [a, b) of the copy back from storage and checks it. */
static int readback(struct vctx *v, uint64_t a, uint64_t b)
{
    uint64_t len = b - a;
    if (!v->direct) {
        if (sync_file_range(v->wfd, (off_t)a, (off_t)len, SYNC_FILE_RANGE_WAIT_BEFORE |
                            SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) < 0 &&
            errno != ESPIPE && errno != EINVAL)
            return vfail(v, errno, "cannot write %s back to storage: %s", v->path, strerror(errno));
        posix_fadvise(v->rfd, (off_t)a, (off_t)len, POSIX_FADV_DONTNEED);
    }
    /* O_DIRECT: whole blocks; the bytes past b (the copy's next ones, or past its end) are
     * read but not used */
    uint64_t want = v->direct ? (len + ALIGN - 1) & ~(ALIGN - 1) : len;
    uint64_t got = 0;
    while (got < len) {
        ssize_t n = pread(v->rfd, v->buf + got, (size_t)(want - got), (off_t)(a + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EINVAL && v->direct) {
            /* a block size O_DIRECT wants that is not ours: read it back the other way */
            if (to_buffered(v) < 0)
                return v->rc;
            return readback(v, a, b);
        }
        if (n < 0)
            return vfail(v, errno, "cannot read the copy %s back: %s", v->path, strerror(errno));
        if (n == 0)
            return vfail(v, EIO, "the copy %s ends at byte %" PRIu64 ", before the image's end",
                         v->path, a + got);
        got += (uint64_t)n;
        if (v->direct && got < len && (got & (ALIGN - 1))) {
            /* a short read in the middle of a block: the rest the other way */
            if (to_buffered(v) < 0)
                return v->rc;
            want = len;
        }
    }
    return feed(v, a, (const unsigned char *)v->buf, len);
}

static void *verifier(void *arg)
{
    struct vctx *v = arg;
    const uint64_t end = v->pl->end;
    while (v->vpos < end) {
        pthread_mutex_lock(&v->mu);
        while (!v->stop && !v->done && v->written < end && v->written - v->vpos < SEG)
            pthread_cond_wait(&v->cv, &v->mu);
        uint64_t w = v->written;
        int done = v->done, stop = v->stop;
        pthread_mutex_unlock(&v->mu);
        if (stop)
            break;
        uint64_t lim = w < end ? w : end;
        uint64_t b = lim - v->vpos > SEG ? v->vpos + SEG : lim;
        if (b < end && !done)
            b &= ~(ALIGN - 1); /* the copy is still writing past b: whole blocks only */
        if (b <= v->vpos) {
            if (done) {
                vfail(v, EIO, "the copy %s is shorter than the image (%" PRIu64 " of %" PRIu64
                      " bytes)", v->path, w, end);
                break;
            }
            continue;
        }
        if (readback(v, v->vpos, b) < 0)
            break;
        v->vpos = b;
    }
    return NULL;
}

/* Copies len bytes from in to out through the file positions: copy_file_range (in the kernel,
 * no user copy; a reflink where the file system shares blocks), else sendfile (one copy in the
 * kernel, across file systems), else read/write. At most bw bytes per second. Each 8 MiB
 * written is given to the read-back (v) and its writeback started. */
static int copy_bytes(int in, int out, uint64_t len, uint64_t bw, int *used_cfr, struct vctx *v)
{
    const size_t step = 8u << 20;
    char *buf = NULL; /* the read/write fallback's */
    const size_t bufsz = 1u << 20;
    uint64_t done = 0, kicked = 0;
    int rc = 0;
    int64_t t0 = now_ns();
    int how = 0; /* 0 copy_file_range, 1 sendfile, 2 read/write */
    *used_cfr = 1;
    while (done < len) {
        size_t want = len - done < step ? (size_t)(len - done) : step;
        if (bw) {
            /* never more than bw per second on average: wait until the bytes so far are due */
            int64_t due = t0 + (int64_t)((double)done * 1e9 / (double)bw);
            int64_t now = now_ns();
            if (due > now) {
                struct timespec d = {(time_t)((due - now) / 1000000000),
                                     (long)((due - now) % 1000000000)};
                nanosleep(&d, NULL);
            }
            if (want > bw / 4 + 1)
                want = (size_t)(bw / 4 + 1);
        }
        ssize_t k;
        if (how == 0 || how == 1) {
            k = how == 0 ? copy_file_range(in, NULL, out, NULL, want, 0)
                         : sendfile(out, in, NULL, want);
            if (k < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
                          errno == EOPNOTSUPP)) {
                how++;
                *used_cfr = 0;
                if (how == 2 && !(buf = buf_map(bufsz)))
                    return -ENOMEM;
                continue;
            }
        } else {
            k = read(in, buf, want < bufsz ? want : bufsz);
            if (k > 0) {
                for (ssize_t w = 0; w < k;) {
                    ssize_t x = write(out, buf + w, (size_t)(k - w));
                    if (x < 0) {
                        if (errno == EINTR)
                            continue;
                        rc = -errno;
                        goto out;
                    }
                    w += x;
                }
            }
        }
        if (k < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            goto out;
        }
        if (k == 0) {
            rc = -EIO; /* the source shrank */
            goto out;
        }
        done += (uint64_t)k;
        if (done - kicked >= step || done == len) {
            /* the disk starts on it now; the read-back waits for it there */
            sync_file_range(out, (off_t)kicked, (off_t)(done - kicked), SYNC_FILE_RANGE_WRITE);
            kicked = done;
            pthread_mutex_lock(&v->mu);
            v->written = done;
            pthread_cond_signal(&v->cv);
            pthread_mutex_unlock(&v->mu);
        }
    }
out:
    buf_unmap(buf, bufsz);
    return rc;
}

int filem_stage_copy(int in, const char *src, int out, const char *out_path, uint64_t want_checksum,
                     uint64_t bw, struct filem_stage_stats *st, char *err, size_t errlen)
{
    /* the plan, from the node-local image as the reader validates it */
    int dfd = dup(in);
    if (dfd < 0) {
        snprintf(err, errlen, "cannot read the node-local image %s: %s", src, strerror(errno));
        return -errno;
    }
    struct crs_image img;
    int e = crs_image_open_fd(&img, dfd, src);
    if (e < 0) {
        snprintf(err, errlen, "the node-local image is unusable: %s", img.err);
        return e;
    }
    if (img.hdr.header_checksum != want_checksum) {
        snprintf(err, errlen, "the node-local image %s has checksum %016" PRIx64 ", expected %016"
                 PRIx64, src, img.hdr.header_checksum, want_checksum);
        crs_image_close(&img);
        return -EBADMSG;
    }
    struct plan pl;
    e = make_plan(&img, &pl, err, errlen);
    crs_image_close(&img);
    if (e < 0) {
        if (e == -ENOMEM)
            snprintf(err, errlen, "out of memory");
        free(pl.p);
        return e;
    }
    struct stat sst;
    if (fstat(in, &sst) < 0 || (uint64_t)sst.st_size < pl.end) {
        snprintf(err, errlen, "the node-local image %s is shorter than its header says", src);
        free(pl.p);
        return -EBADMSG;
    }
    if (lseek(in, 0, SEEK_SET) < 0) {
        e = -errno;
        snprintf(err, errlen, "cannot read the node-local image %s: %s", src, strerror(-e));
        free(pl.p);
        return e;
    }

    struct vctx v;
    memset(&v, 0, sizeof v);
    pthread_mutex_init(&v.mu, NULL);
    pthread_cond_init(&v.cv, NULL);
    v.wfd = out;
    v.path = out_path;
    v.pl = &pl;
    v.direct = !filem_stage_copy_buffered;
    v.rfd = v.direct ? open(out_path, O_RDONLY | O_DIRECT | O_CLOEXEC) : -1;
    if (v.rfd < 0 && (errno == EINVAL || !v.direct)) {
        v.direct = 0;
        v.rfd = open(out_path, O_RDONLY | O_CLOEXEC);
    }
    v.hs = XXH3_createState();
    v.buf = buf_map(SEG + ALIGN); /* page-aligned, as O_DIRECT wants */
    if (v.rfd < 0 || !v.hs || !v.buf) {
        e = v.rfd < 0 ? -errno : -ENOMEM;
        snprintf(err, errlen, "cannot read the copy %s back: %s", out_path, strerror(-e));
        goto out;
    }
    pthread_t th;
    if ((e = -pthread_create(&th, NULL, verifier, &v)) < 0) {
        snprintf(err, errlen, "cannot start the read-back of %s: %s", out_path, strerror(-e));
        goto out;
    }
    int64_t t0 = now_ns();
    e = copy_bytes(in, out, (uint64_t)sst.st_size, bw, &st->used_cfr, &v);
    if (e < 0)
        snprintf(err, errlen, "cannot copy %s to %s: %s", src, out_path, strerror(-e));
    else if (fsync(out) < 0) {
        e = -errno;
        snprintf(err, errlen, "cannot flush %s: %s", out_path, strerror(-e));
    }
    int64_t t1 = now_ns();
    pthread_mutex_lock(&v.mu);
    v.done = 1;
    v.stop = e < 0;
    pthread_cond_signal(&v.cv);
    pthread_mutex_unlock(&v.mu);
    pthread_join(th, NULL);
    st->copy_ns = t1 - t0;
    st->verify_ns = now_ns() - t1;
    st->bytes = (uint64_t)sst.st_size;
    if (e == 0 && v.rc < 0) {
        e = v.rc;
        snprintf(err, errlen, "%s", v.err);
    } else if (e == 0 && (v.vpos != pl.end || v.pi != pl.n)) {
        e = -EIO;
        snprintf(err, errlen, "the copy %s was not read back to its end", out_path);
    }
out:
    if (v.rfd >= 0)
        close(v.rfd);
    buf_unmap(v.buf, SEG + ALIGN);
    if (v.hs)
        XXH3_freeState(v.hs);
    pthread_cond_destroy(&v.cv);
    pthread_mutex_destroy(&v.mu);
    free(pl.p);
    return e;
}
