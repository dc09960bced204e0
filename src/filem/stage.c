/* Node-local cache paths and the staging copy to shared storage (stage.h). */
#define _GNU_SOURCE
#include "filem/stage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fd_guard.h"
#include "crs/base/durable.h"
#include "filem/local_gc.h"
#include "filem/local_meta.h"
#include "filem/local_retain.h"
#include "crs/base/image.h"
#include "crs/base/tree.h"
#include "filem/file_sum.h"

#define JOB_PREFIX "revive_global_snapshot_"

/* A private directory of ours; with create, made when missing (its parent exists). */
static int private_dir(const char *path, int create, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        int e = errno;
        if (e == ENOENT && create) {
            if (mkdir(path, 0700) == 0 || errno == EEXIST)
                return private_dir(path, 0, err, errlen);
            e = errno;
            snprintf(err, errlen, "cannot create the node-local directory %s: %s", path,
                     strerror(e));
            return -e;
        }
        snprintf(err, errlen, "node-local directory %s: %s", path, strerror(e));
        return -e;
    }
    if (S_ISLNK(st.st_mode)) {
        snprintf(err, errlen, "the node-local directory %s is a symbolic link; give the real "
                              "directory", path);
        return -ELOOP;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s is not a directory", path);
        return -ENOTDIR;
    }
    if ((st.st_mode & S_ISVTX) && (st.st_mode & S_IWOTH)) {
        /* a directory every user writes in (/tmp, a node's scratch): the cache goes into a
         * private directory of the user's inside it, as the default one does under /tmp
         * (newuser10 F4: such a --ckpt-local was taken and every checkpoint failed) */
        snprintf(err, errlen,
                 "the node-local directory %s is shared by every user (mode %04o): the cache must "
                 "be a private directory of yours; make one inside it on every host (mkdir -m 700 "
                 "%s/$USER) and give that, or leave --ckpt-local out (each host's default cache, a "
                 "private revive-local-%u under $TMPDIR or /tmp)",
                 path, (unsigned)(st.st_mode & 07777), path, (unsigned)geteuid());
        return -EPERM;
    }
    if (st.st_uid != geteuid() || (st.st_mode & 077)) {
        snprintf(err, errlen,
                 "the node-local directory %s is not private (owner uid %u, mode %04o): images "
                 "go only into directories of yours that nobody else can read (chmod 700, or "
                 "another directory)",
                 path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
        return -EPERM;
    }
    return 0;
}

int filem_local_check(const char *local, char *err, size_t errlen)
{
    int e = private_dir(local, 0, err, errlen);
    return e == -ENOENT ? 0 : e;
}

int filem_local_default(char *out, size_t len, int create, char *err, size_t errlen)
{
    const char *t = getenv("TMPDIR");
    if (!t || t[0] != '/')
        t = "/tmp";
    if (snprintf(out, len, "%s/revive-local-%u", t, (unsigned)geteuid()) >= (int)len) {
        snprintf(err, errlen, "the node-local directory's name under %s is too long", t);
        return -ENAMETOOLONG;
    }
    int e = private_dir(out, create, err, errlen);
    if (e == -EPERM || e == -ELOOP)
        snprintf(err + strlen(err), errlen - strlen(err),
                 "; or give each node's cache with --ckpt-local DIR");
    else if (e < 0 && e != -ENAMETOOLONG)
        /* TMPDIR missing, unwritable or full said only the errno (the sweep of session 19) */
        snprintf(err + strlen(err), errlen - strlen(err),
                 "; each node's default cache is under $TMPDIR (else /tmp): give the job a TMPDIR "
                 "it can write, or a cache with mpirun's --ckpt-local DIR (none: no cache)");
    return e;
}

int filem_local_holds_job(const char *jobname)
{
    char local[PATH_MAX], e[512], c[2 * PATH_MAX];
    const char *env = getenv("REVIVE_LOCAL_DIR");
    if (env && !strcmp(env, FILEM_LOCAL_NONE))
        return 0;
    if (env && env[0] == '/')
        snprintf(local, sizeof local, "%s", env);
    else if (filem_local_default(local, sizeof local, 0, e, sizeof e) < 0)
        return 0;
    snprintf(c, sizeof c, "%s/%s", local, jobname);
    return access(c, F_OK) == 0;
}

/* JOB listed in LOCAL/LIST: 0 or -errno */
static int list_job(const char *local, const char *list, const char *job)
{
    char reg[PATH_MAX], e[PATH_MAX];
    if (strncmp(job, JOB_PREFIX, strlen(JOB_PREFIX)) != 0 || strchr(job, '/') ||
        (size_t)snprintf(reg, sizeof reg, "%s/%s", local, list) >= sizeof reg ||
        (size_t)snprintf(e, sizeof e, "%s/%s", reg, job) >= sizeof e)
        return -ENAMETOOLONG;
    if (mkdir(reg, 0700) < 0 && errno != EEXIST)
        return -errno;
    /* a symbolic link: no descriptor (a rank's agent makes it, inside the application) */
    if (symlink(job, e) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

/* (here, not in local_gc.c: revive-restart-rank builds this file without that one) */
int filem_local_unswept_add(const char *local, const char *job)
{
    /* both lists: the start's sweep and the agents' collection at a commit each unlist it
     * when they are done with it (filem/local_gc.h) */
    int e = list_job(local, FILEM_LOCAL_UNSWEPT_NAME, job);
    int f = list_job(local, FILEM_LOCAL_UNCOLLECTED_NAME, job);
    return e < 0 ? e : f;
}

/* The cache of a job names its shared job directory (FILEM_LOCAL_JOBDIR_NAME), so that the
 * cache's garbage collection (local_gc.c) can tell a redundant copy from the only one. Written
 * once (O_EXCL: the node's other ranks find it there); a failure only leaves the cache to the
 * age rule. */
static void local_note_jobdir(const char *local, const char *job, const char *cachejob,
                              const char *shared_jobdir)
{
    char path[PATH_MAX + 32], text[PATH_MAX + 2];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", cachejob, FILEM_LOCAL_JOBDIR_NAME) >= sizeof path ||
        shared_jobdir[0] != '/' ||
        (size_t)snprintf(text, sizeof text, "%s\n", shared_jobdir) >= sizeof text)
        return;
    int fd = revive_open_owned(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
    if (fd < 0)
        return;
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        unlink(path);
    revive_close_owned(fd); /* (outside a rank no close of the MPI layer's does it) */
    /* a new job cache: listed for the sweep of a later job's start, should this job end without
     * sweeping it (its coordinator killed); a failure leaves it to the agents' sweep at a commit */
    filem_local_unswept_add(local, job);
}

int filem_local_seq_dir(const char *local, const char *seqdir, int create, char *out, size_t len,
                        char *err, size_t errlen)
{
    /* the last two components of seqdir: the job directory's name and the sequence */
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", seqdir) >= (int)sizeof buf) {
        snprintf(err, errlen, "the sequence directory's name is too long: %s", seqdir);
        return -ENAMETOOLONG;
    }
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = 0;
    char *s = strrchr(buf, '/');
    if (!s || s == buf) {
        snprintf(err, errlen, "%s is not a snapshot sequence directory", seqdir);
        return -EINVAL;
    }
    *s = 0;
    const char *seq = s + 1;
    char *j = strrchr(buf, '/');
    const char *job = j ? j + 1 : buf;
    if (!*seq || strspn(seq, "0123456789") != strlen(seq) ||
        strncmp(job, JOB_PREFIX, strlen(JOB_PREFIX)) != 0) {
        snprintf(err, errlen, "%s is not a snapshot sequence directory", seqdir);
        return -EINVAL;
    }
    /* with create, LOCAL too is made 0700 when its parent exists, as --ckpt-dir is (newuser9
     * F7: a --ckpt-local DIR missing on a host, a typo or made on some hosts only, failed every
     * checkpoint of a whole run, naming neither the host nor the remedy) */
    int e = private_dir(local, create, err, errlen);
    if (e == -ENOENT) {
        char host[256] = "?";
        gethostname(host, sizeof host - 1);
        snprintf(err, errlen,
                 "the node-local directory %s is missing on host %s%s: make it there (mkdir -p -m "
                 "700 %s on every host of the job), or leave --ckpt-local out (each host's default "
                 "cache under $TMPDIR)",
                 local, host, create ? ", and so is its parent" : "", local);
    }
    if (e < 0)
        return e;
    char jobdir[PATH_MAX];
    if (snprintf(jobdir, sizeof jobdir, "%s/%s", local, job) >= (int)sizeof jobdir ||
        snprintf(out, len, "%s/%s/%s", local, job, seq) >= (int)len) {
        snprintf(err, errlen, "the node-local path under %s is too long", local);
        return -ENAMETOOLONG;
    }
    e = private_dir(jobdir, create, err, errlen);
    if (e == 0 && create)
        local_note_jobdir(local, job, jobdir, buf);
    if (e == 0)
        e = private_dir(out, create, err, errlen);
    return e;
}

/* The image reader's words without its advice for one process ("use an earlier checkpoint"):
 * every caller here has its own way on (another copy, the shared image, another sequence), and
 * that advice contradicted it (review9 F6: a damaged cached copy, then the shared image read). */
static void reader_words(char *err, size_t errlen, const char *img_err)
{
    snprintf(err, errlen, "%s", img_err);
    crs_image_advise(err, errlen, "");
}

/* Opens path's image and checks the file's checksum (file_sum.h) against want: 0 (img open), or -errno
 * with the message (img closed). */
static int open_checked(struct crs_image *img, const char *path, uint64_t want_checksum,
                        char *err, size_t errlen)
{
    int e = crs_image_open_first(img, path);
    if (e < 0) {
        reader_words(err, errlen, img->err);
        return e;
    }
    /* the whole file's checksum: a tree file's every member (file_sum.h) */
    e = filem_file_sum_check(path, want_checksum, "expected", NULL, err, errlen);
    if (e < 0) {
        if (e != -EBADMSG || strstr(err, CRS_IMAGE_ADVICE))
            crs_image_advise(err, errlen, ""); /* as reader_words */
        crs_image_close(img);
        return e;
    }
    return 0;
}

int filem_stage_check_header(const char *path, uint64_t want_checksum, char *err, size_t errlen)
{
    struct crs_image img;
    int e = open_checked(&img, path, want_checksum, err, errlen);
    if (e < 0)
        return e;
    crs_image_close(&img);
    /* a rank with running children: the tree file's other members, every chunk (stage.h) */
    e = crs_image_verify_members(path, 1, err, errlen);
    if (e < 0)
        crs_image_advise(err, errlen, ""); /* as reader_words */
    return e;
}

int filem_stage_verify(const char *path, uint64_t want_checksum, char *err, size_t errlen)
{
    struct crs_image img;
    int e = open_checked(&img, path, want_checksum, err, errlen);
    if (e < 0)
        return e;
    e = crs_image_verify_chunks(&img);
    if (e < 0)
        reader_words(err, errlen, img.err);
    crs_image_close(&img);
    if (e == 0) {
        /* a rank with running children: every chunk of the tree file's other members too
         * (diffrev26 T-H1: a child's damaged part was committed as verified) */
        e = crs_image_verify_members(path, 1, err, errlen);
        if (e < 0)
            crs_image_advise(err, errlen, ""); /* as reader_words */
    }
    return e;
}

/* Copies len bytes from in to out: copy_file_range (in the kernel, no user copy), or
 * read/write where the file systems do not allow it; at most bw bytes per second. */
static int copy_bytes(int in, int out, uint64_t len, uint64_t bw, int *used_cfr)
{
    const size_t step = 8u << 20;
    char *buf = NULL; /* the read/write fallback's */
    const size_t bufsz = 1u << 20;
    uint64_t done = 0;
    int rc = 0;
    int64_t t0 = revive_mono_ns();
    int cfr = 1;
    *used_cfr = 1;
    while (done < len) {
        size_t want = len - done < step ? (size_t)(len - done) : step;
        if (bw) {
            /* never more than bw per second on average: wait until the bytes so far are due */
            int64_t due = t0 + (int64_t)((double)done * 1e9 / (double)bw);
            int64_t now = revive_mono_ns();
            if (due > now) {
                struct timespec d = {(time_t)((due - now) / 1000000000),
                                     (long)((due - now) % 1000000000)};
                nanosleep(&d, NULL);
            }
            if (want > bw / 4 + 1)
                want = (size_t)(bw / 4 + 1);
        }
        ssize_t k;
        if (cfr) {
            k = copy_file_range(in, NULL, out, NULL, want, 0);
            if (k < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
                          errno == EOPNOTSUPP)) {
                cfr = 0;
                *used_cfr = 0;
                /* mapped, not malloc'd: freeing a malloc'd megabyte in this live rank would
                 * raise glibc's mmap threshold, and the program's later blocks would stay in
                 * its heap and grow its next images (image_reader_chunks.c's scratch_get) */
                buf = mmap(NULL, bufsz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (buf == MAP_FAILED) {
                    buf = NULL;
                    return -ENOMEM;
                }
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
    }
out:
    if (buf)
        munmap(buf, bufsz);
    return rc;
}

/* The same file system: the image gets a second name in dstdir (no byte moves), the
 * directory is flushed. 1 done, 0 not possible here (copy instead), -errno failed. */
static int stage_link(const char *src, const char *dstdir, const char *path,
                      uint64_t want_checksum, struct filem_stage_stats *st, char *err,
                      size_t errlen)
{
    const char *c = getenv("REVIVE_STAGE_COPY");
    if (c && *c && strcmp(c, "0") != 0)
        return 0;
    int64_t t0 = revive_mono_ns();
    if (link(src, path) < 0)
        return 0; /* another file system (EXDEV), or links not allowed: a real copy */
    /* the file's checksum as reported: these are the very bytes the rank wrote and flushed
     * (the chunks' own checksums are checked whenever the image is read) */
    struct crs_image img;
    int e = crs_image_open_first(&img, path);
    if (e < 0) {
        snprintf(err, errlen, "the node-local image is unusable: %s", img.err);
        unlink(path);
        return e;
    }
    st->bytes = img.file_size;
    crs_image_close(&img);
    char serr[REVIVE_TEXT_PATHS(1)];
    e = filem_file_sum_check(src, want_checksum, "expected", NULL, serr, sizeof serr);
    if (e < 0) {
        snprintf(err, errlen, "the node-local image is unusable: %s", serr);
        unlink(path);
        return e;
    }
    int dfd = revive_open_owned(dstdir, O_RDONLY | O_DIRECTORY, 0);
    if (dfd < 0 || fsync(dfd) < 0) {
        e = -errno;
        snprintf(err, errlen, "cannot flush the directory %s: %s", dstdir, strerror(-e));
        if (dfd >= 0)
            close(dfd);
        unlink(path);
        return e;
    }
    close(dfd);
    st->linked = 1;
    st->copy_ns = revive_mono_ns() - t0;
    return 1;
}

int filem_stage_file(const char *src, const char *dstdir, const char *name, uint64_t want_checksum,
                     uint64_t bw, struct filem_stage_stats *st, char *err, size_t errlen)
{
    struct filem_stage_stats dummy;
    if (!st)
        st = &dummy;
    memset(st, 0, sizeof *st);
    {
        char lpath[PATH_MAX];
        if (snprintf(lpath, sizeof lpath, "%s/%s", dstdir, name) < (int)sizeof lpath) {
            int l = stage_link(src, dstdir, lpath, want_checksum, st, err, errlen);
            if (l != 0)
                return l < 0 ? l : 0;
        }
    }
    /* owned: read for as long as the copy takes while a rank's threads run (common/fd_guard.h) */
    int in = revive_open_owned(src, O_RDONLY | O_NOFOLLOW, 0);
    if (in < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot open the node-local image %s: %s", src, strerror(e));
        return -e;
    }
    struct stat sst;
    if (fstat(in, &sst) < 0 || !S_ISREG(sst.st_mode)) {
        snprintf(err, errlen, "the node-local image %s is not a regular file", src);
        close(in);
        return -EINVAL;
    }
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dstdir, name) >= (int)sizeof path) {
        close(in);
        snprintf(err, errlen, "the path %s/%s is too long", dstdir, name);
        return -ENAMETOOLONG;
    }
    struct crs_durable d;
    int e = crs_durable_open(&d, path, 0600);
    if (e < 0) {
        snprintf(err, errlen, "cannot create a file in the shared directory %s: %s", dstdir,
                 strerror(-e));
        close(in);
        return e;
    }
    int64_t t0 = revive_mono_ns();
    e = copy_bytes(in, d.fd, (uint64_t)sst.st_size, bw, &st->used_cfr);
    close(in);
    if (e < 0) {
        snprintf(err, errlen, "cannot copy %s to %s: %s", src, d.tmp, strerror(-e));
        crs_durable_abort(&d);
        return e;
    }
    if (fsync(d.fd) < 0) {
        e = -errno;
        snprintf(err, errlen, "cannot flush %s: %s", d.tmp, strerror(-e));
        crs_durable_abort(&d);
        return e;
    }
    st->bytes = (uint64_t)sst.st_size;
    st->copy_ns = revive_mono_ns() - t0;
    /* the copy as it reads back from the shared directory, before it gets its name */
    t0 = revive_mono_ns();
    char verr[REVIVE_TEXT_PATHS(2)];
    e = filem_stage_verify(d.tmp, want_checksum, verr, sizeof verr);
    st->verify_ns = revive_mono_ns() - t0;
    if (e < 0) {
        snprintf(err, errlen, "the copy in the shared directory is not the image: %s", verr);
        crs_durable_abort(&d);
        return e;
    }
    e = crs_durable_commit(&d, err, errlen);
    if (e < 0) {
        crs_durable_abort(&d);
        return e;
    }
    crs_durable_close(&d);
    return 0;
}

/* 1 when the cached sequence DIR held nothing but its metadata copy (local_meta.h), now removed
 * with DIR: the last rank of the node to drop its image takes it. */
static int only_meta_left(const char *dir)
{
    if (errno != ENOTEMPTY && errno != EEXIST)
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int other = 0;
    for (struct dirent *e; (e = readdir(d));)
        other |= strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
                 strcmp(e->d_name, FILEM_LOCAL_META_NAME);
    closedir(d);
    char p[PATH_MAX];
    if (other || (size_t)snprintf(p, sizeof p, "%s/%s", dir, FILEM_LOCAL_META_NAME) >= sizeof p)
        return 0;
    unlink(p);
    return rmdir(dir) == 0;
}

void filem_local_drop(const char *local_seqdir, int rank)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/rank_%d.img", local_seqdir, rank) >= (int)sizeof path)
        return;
    unlink(path);
    if (rmdir(local_seqdir) < 0 && !only_meta_left(local_seqdir))
        return; /* other ranks of this node still hold theirs */
    char *s = strrchr(path, '/');
    *s = 0;
    s = strrchr(path, '/');
    if (s && s != path) {
        *s = 0;
        filem_local_rmjob(path); /* the job's directory, when it held only that sequence */
    }
}
