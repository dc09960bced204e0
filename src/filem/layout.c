/* Where snapshots live: job and sequence directories, their privacy, creation
 * and removal (see filem.h). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "filem"
#include "filem/filem.h"
#include "filem/files_save.h"
#include "filem/stage.h"
#include "filem/stage_mark.h"
#include "filem/dir_lock.h"
#include "filem/ref_folder.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dirsync.h"
#include "common/log.h"

__attribute__((format(printf, 3, 4))) static int fmt_path(char *out, size_t len, const char *fmt,
                                                            ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, len, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int filem_job_path(char *out, size_t len, const char *base, long pid)
{
    return fmt_path(out, len, "%s/" FILEM_JOB_PREFIX "%llu" FILEM_JOB_SUFFIX, base,
                    (unsigned long long)pid);
}

int filem_seq_path(char *out, size_t len, const char *jobdir, uint64_t seq)
{
    return fmt_path(out, len, "%s/%llu", jobdir, (unsigned long long)seq);
}

int filem_image_path(char *out, size_t len, const char *jobdir, uint64_t seq, int rank)
{
    int n = snprintf(out, len, "%s/%llu/rank_%d.img", jobdir, (unsigned long long)seq, rank);
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int filem_private_dir(const char *path, int create, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        int e = errno;
        if (e == ENOENT && create) {
            if (mkdir(path, 0700) == 0)
                return 0;
            e = errno;
            if (e == EEXIST)
                return filem_private_dir(path, 0, err, errlen);
            filem_fmt(err, errlen, "cannot create the directory %s: %s", path, strerror(e));
            return -e;
        }
        filem_fmt(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    if (S_ISLNK(st.st_mode)) {
        filem_fmt(err, errlen,
                 "%s is a symbolic link; snapshot directories must be real directories (remove "
                 "it or choose another --ckpt-dir)",
                 path);
        return -ELOOP;
    }
    if (!S_ISDIR(st.st_mode)) {
        filem_fmt(err, errlen, "%s is not a directory", path);
        return -ENOTDIR;
    }
    if (st.st_uid != geteuid()) {
        filem_fmt(err, errlen,
                 "%s belongs to uid %u, not to you (uid %u); snapshots are private to their "
                 "owner",
                 path, (unsigned)st.st_uid, (unsigned)geteuid());
        return -EPERM;
    }
    if (st.st_mode & 077) {
        filem_fmt(err, errlen,
                 "%s is not private (mode %04o): others could read or change snapshots; make it "
                 "0700 (chmod 700 %s) if you trust its content",
                 path, (unsigned)(st.st_mode & 07777), path);
        return -EPERM;
    }
    return 0;
}


static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int filem_list_seqs(const char *jobdir, uint64_t **out, int *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(jobdir);
    if (!d) {
        int e = errno;
        filem_fmt(err, errlen, "cannot read %s: %s", jobdir, strerror(e));
        return -e;
    }
    uint64_t *v = NULL;
    int cnt = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        uint64_t s;
        if (filem_parse_seq(de->d_name, &s) < 0)
            continue;
        if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
            continue;
        if (cnt == cap) {
            cap = cap ? 2 * cap : 16;
            uint64_t *nv = realloc(v, (size_t)cap * sizeof *v);
            if (!nv) {
                free(v);
                closedir(d);
                filem_fmt(err, errlen, "out of memory");
                return -ENOMEM;
            }
            v = nv;
        }
        v[cnt++] = s;
    }
    closedir(d);
    if (cnt)
        qsort(v, (size_t)cnt, sizeof *v, cmp_u64);
    *out = v;
    *n = cnt;
    return 0;
}

int filem_next_seq(const char *jobdir, uint64_t *out, char *err, size_t errlen)
{
    uint64_t *v;
    int n;
    int e = filem_list_seqs(jobdir, &v, &n, err, errlen);
    if (e < 0)
        return e;
    *out = n ? v[n - 1] + 1 : 0;
    free(v);
    return 0;
}

/* Names the store makes inside a sequence directory. */
static int ours(const char *name)
{
    int r, len = 0;
    if (sscanf(name, "rank_%d.img%n", &r, &len) == 1 && name[len] == 0 && r >= 0)
        return 1;
    if (sscanf(name, "rank_%d.img.damaged%n", &r, &len) == 1 && name[len] == 0 && r >= 0)
        return 1; /* a damaged image restart-mpi moved aside to fetch a good copy (R-M2) */
    if (name[0] == '.' && strstr(name, ".tmp."))
        return 1; /* durable writes' temporary files */
    if (strcmp(name, FILEM_META_NAME) == 0)
        return 1;
    if (strcmp(name, FILEM_STAGE_FAILED_NAME) == 0)
        return 1; /* stage.h: the reason a staging failed */
    if (strcmp(name, FILEM_STAGE_ACTIVE_NAME) == 0)
        return 1; /* stage_mark.h: a staging in progress */
    if (strcmp(name, FILEM_WRITE_ACTIVE_NAME) == 0)
        return 1; /* stage_mark.h: the images being written */
    return 0;
}

/* Unlinks the names the store makes inside the open directory dfd (named dir in
 * messages); counts the others in *foreign. 0 or -errno (err says which file). */
static int empty_dir(int dfd, const char *dir, int *foreign, char *err, size_t errlen)
{
    int dfd2 = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
    DIR *d = dfd2 >= 0 ? fdopendir(dfd2) : NULL;
    if (!d) {
        int e = errno;
        if (dfd2 >= 0)
            close(dfd2);
        filem_fmt(err, errlen, "cannot read %s: %s", dir, strerror(e));
        return -e;
    }
    rewinddir(d);
    int rc = 0;
    *foreign = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (!strcmp(de->d_name, FILEM_FILES_DIR)) {
            /* the files --save-files copied (files_save.h): files/N, nothing else */
            if (filem_files_remove_dir(dfd) < 0)
                (*foreign)++;
            continue;
        }
        if (!ours(de->d_name)) {
            (*foreign)++;
            continue;
        }
        if (unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT && rc == 0) {
            rc = -errno;
            filem_fmt(err, errlen, "cannot remove %s/%s: %s", dir, de->d_name, strerror(errno));
        }
    }
    closedir(d);
    return rc;
}

#define TRASH_PREFIX ".discarded."

/* Empties and removes a sequence directory (snapshot.meta first when meta).
 * A discarded (uncommitted) one is first renamed to a hidden name of the job
 * directory, so that its number is free and never seen again at once, even
 * while a rank of the failed attempt still writes its image into it: such a
 * late file can keep the hidden directory, which filem_trash_clean removes
 * later (the coordinator calls it when the ranks are done). */
static int remove_seq(const char *jobdir, uint64_t seq, int allow_meta, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    if (filem_seq_path(dir, sizeof dir, jobdir, seq) < 0) {
        filem_fmt(err, errlen, "path too long under %s", jobdir);
        return -ENAMETOOLONG;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        int e = errno;
        if (e == ENOENT)
            return 0;
        filem_fmt(err, errlen, "cannot open %s: %s", dir, strerror(e));
        return -e;
    }
    struct stat st;
    if (fstat(dfd, &st) == 0 && st.st_uid != geteuid()) {
        close(dfd);
        filem_fmt(err, errlen, "%s belongs to uid %u, not to you: not removed", dir,
                 (unsigned)st.st_uid);
        return -EPERM;
    }
    if (faccessat(dfd, FILEM_META_NAME, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!allow_meta) {
            close(dfd);
            filem_fmt(err, errlen, "%s is committed (it has %s): not removed", dir, FILEM_META_NAME);
            return -EEXIST;
        }
        if (unlinkat(dfd, FILEM_META_NAME, 0) < 0) {
            int e = errno;
            close(dfd);
            filem_fmt(err, errlen, "cannot remove %s/%s: %s", dir, FILEM_META_NAME, strerror(e));
            return -e;
        }
        fsync(dfd); /* no longer offered, even after a crash */
    }
    int foreign = 0;
    int rc = empty_dir(dfd, dir, &foreign, err, errlen);
    if (rc < 0) {
        close(dfd);
        return rc;
    }
    if (foreign) {
        close(dfd);
        filem_fmt(err, errlen, "%s holds %d file(s) Revive did not write; left in place", dir,
                 foreign);
        return -ENOTEMPTY;
    }
    const char *gone = dir;
    char trash[PATH_MAX];
    static unsigned trash_count;
    if (!allow_meta &&
        fmt_path(trash, sizeof trash, "%s/" TRASH_PREFIX "%llu.%d.%u", jobdir,
                 (unsigned long long)seq, (int)getpid(), trash_count++) == 0 &&
        rename(dir, trash) == 0) {
        gone = trash;
        empty_dir(dfd, trash, &foreign, err, errlen); /* what a late writer added meanwhile */
    }
    close(dfd);
    if (rmdir(gone) < 0 && errno != ENOENT) {
        int e = errno;
        if (gone == trash) {
            /* a rank of the failed attempt still writes: the sequence is gone anyway */
            revive_log_info("%s: left for later (%s)", trash, strerror(e));
            revive_fsync_dir(jobdir);
            return 0;
        }
        filem_fmt(err, errlen, "cannot remove %s: %s", dir, strerror(e));
        return -e;
    }
    revive_fsync_dir(jobdir);
    return 0;
}

int filem_trash_clean(const char *jobdir)
{
    DIR *d = opendir(jobdir);
    if (!d)
        return 0;
    int left = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, TRASH_PREFIX, strlen(TRASH_PREFIX)) != 0)
            continue;
        int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct stat st;
        int foreign = 0;
        char err[256];
        if (fstat(fd, &st) == 0 && st.st_uid == geteuid())
            empty_dir(fd, de->d_name, &foreign, err, sizeof err);
        close(fd);
        if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            left++;
    }
    closedir(d);
    if (left == 0)
        revive_fsync_dir(jobdir);
    return left;
}

int filem_seq_discard(const char *jobdir, uint64_t seq, char *err, size_t errlen)
{
    return remove_seq(jobdir, seq, 0, err, errlen);
}

int filem_seq_remove(const char *jobdir, uint64_t seq, char *err, size_t errlen)
{
    return remove_seq(jobdir, seq, 1, err, errlen);
}

int filem_seq_create(const char *jobdir, uint64_t seq, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    if (filem_seq_path(dir, sizeof dir, jobdir, seq) < 0) {
        filem_fmt(err, errlen, "path too long under %s", jobdir);
        return -ENAMETOOLONG;
    }
    if (mkdir(dir, 0700) == 0)
        return 0;
    int e = errno;
    if (e != EEXIST) {
        filem_fmt(err, errlen, "cannot create %s: %s", dir, strerror(e));
        return -e;
    }
    int r = filem_seq_discard(jobdir, seq, err, errlen);
    if (r < 0)
        return r;
    if (mkdir(dir, 0700) < 0) {
        e = errno;
        filem_fmt(err, errlen, "cannot create %s: %s", dir, strerror(e));
        return -e;
    }
    return 0;
}

int filem_seq_lock_shared(const char *jobdir, uint64_t seq)
{
    char dir[PATH_MAX];
    if (filem_seq_path(dir, sizeof dir, jobdir, seq) < 0)
        return -ENAMETOOLONG;
    /* Retention removes a sequence while it holds the exclusive lock: a reader that opened the
     * directory just before gets its shared lock once the directory is gone (or renamed away),
     * and would read nothing; filem_dir_lock holds only a directory still the sequence's. */
    return filem_dir_lock(dir, 0, -1);
}

/* 1 when dir holds what only a sequence directory holds (its snapshot.meta, rank images,
 * their temporary files, staging.failed): a sequence, committed or not. */
static int seq_traces(const char *dir)
{
    DIR *d = opendir(dir);
    int found = 0;
    for (struct dirent *de; d && !found && (de = readdir(d));)
        found = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 && ours(de->d_name);
    if (d)
        closedir(d);
    return found;
}

static int job_dir_name(const char *b, size_t n)
{
    size_t pl = strlen(FILEM_JOB_PREFIX), sl = strlen(FILEM_JOB_SUFFIX);
    return n > pl + sl && strncmp(b, FILEM_JOB_PREFIX, pl) == 0 &&
           strncmp(b + n - sl, FILEM_JOB_SUFFIX, sl) == 0;
}

/* REF copied into P (CAP bytes) without its trailing slashes; when its last part is a sequence
 * number, that part is cut off (*SEQ gets it) and P is the job directory's path: 1; 0 when it
 * names no sequence; -1 when REF does not fit. */
static int ref_job_part(const char *ref, char *p, size_t cap, uint64_t *seq)
{
    if ((size_t)snprintf(p, cap, "%s", ref) >= cap)
        return -1;
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = 0;
    char *base = strrchr(p, '/');
    if (!base || filem_parse_seq(base + 1, seq) < 0)
        return 0;
    *base = 0;
    return 1;
}

/* 1 when REF, which does not exist, is named as a reference is (.../<job directory>[/SEQ])
 * and its job directory is missing too (the snapshot directory gone, not one sequence of it):
 * GONE gets the highest of its folders that is missing. */
static int job_dir_gone(const char *ref, char *gone, size_t len)
{
    char p[PATH_MAX];
    uint64_t s;
    if (ref_job_part(ref, p, sizeof p, &s) < 0)
        return 0;
    char *base = strrchr(p, '/');
    const char *b = base ? base + 1 : p;
    if (!job_dir_name(b, strlen(b)) || access(p, F_OK) == 0)
        return 0;
    /* up to the highest missing folder: what was removed or is not mounted */
    for (;;) {
        snprintf(gone, len, "%s", p);
        char *slash = strrchr(p, '/');
        if (!slash || slash == p)
            break;
        *slash = 0;
        if (access(p, F_OK) == 0)
            break;
    }
    return 1;
}

int filem_missing_ref_words(const char *ref, const char *gone, char *out, size_t len)
{
    char up[PATH_MAX], name[NAME_MAX + 1], where[PATH_MAX], rel[PATH_MAX + 64] = "";
    snprintf(up, sizeof up, "%s", gone);
    size_t n = strlen(up);
    while (n > 1 && up[n - 1] == '/')
        up[--n] = 0;
    char *slash = strrchr(up, '/');
    snprintf(name, sizeof name, "%s", slash ? slash + 1 : up);
    if (slash)
        slash[slash == up ? 1 : 0] = 0; /* "/scratch": "/" */
    else
        snprintf(up, sizeof up, ".");
    /* the folder GONE should be in, absolute */
    if (!realpath(up, where))
        snprintf(where, sizeof where, "%s", up);
    char cwd[PATH_MAX];
    if (ref[0] != '/' && getcwd(cwd, sizeof cwd))
        filem_fmt(rel, sizeof rel, " relative to the current directory (%s)", cwd);
    if (job_dir_name(name, strlen(name))) /* the snapshot directory, from a folder that is there */
        return filem_fmt(out, len, "%s does not exist%s: there is no %s in %s (mistyped, or "
                                   "removed)", ref, rel, name, where);
    return filem_fmt(out, len, "%s does not exist%s: %s%s%s is not there (mistyped, removed, or its "
                               "file system is not mounted on this host)",
                     ref, rel, where, strcmp(where, "/") ? "/" : "", name);
}

/* REF names sequence SEQ of a job directory that is there, and that sequence is not: the words
 * say which committed sequences the directory holds and why SEQ may be gone (retention: a job
 * with --ckpt-keep N keeps its newest N; newuser9b N3: a sequence ckpt-info had shown committed a
 * moment before was "REF does not exist; give a snapshot reference as printed by ckpt-mpirun",
 * although the user had). Returns the length written, 0 when REF is not such a reference. */
static int seq_gone_words(const char *ref, char *out, size_t len)
{
    char p[PATH_MAX];
    uint64_t want;
    if (ref_job_part(ref, p, sizeof p, &want) != 1)
        return 0;
    const char *jb = strrchr(p, '/');
    jb = jb ? jb + 1 : p;
    struct stat st;
    if (!*p || !job_dir_name(jb, strlen(jb)) || stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
        return 0;
    uint64_t *v = NULL;
    int nv = 0;
    char e2[256];
    if (filem_list_seqs(p, &v, &nv, e2, sizeof e2) < 0)
        return 0;
    char have[256] = "", keep[32] = "";
    size_t hl = 0;
    int nc = 0;
    uint64_t oldest = 0, newest = 0;
    for (int i = 0; i < nv; i++) {
        char m[PATH_MAX + 64];
        snprintf(m, sizeof m, "%s/%llu/%s", p, (unsigned long long)v[i], FILEM_META_NAME);
        if (access(m, F_OK) != 0)
            continue;
        if (!nc++)
            oldest = v[i];
        newest = v[i];
        if (hl + 24 < sizeof have)
            hl += (size_t)snprintf(have + hl, sizeof have - hl, "%s%llu", hl ? ", " : "", (unsigned long long)v[i]);
    }
    free(v);
    if (nc) {   /* the job's --ckpt-keep, as its newest committed sequence records it */
        char sd[PATH_MAX + 32];
        struct filem_meta meta;
        filem_meta_init(&meta);
        snprintf(sd, sizeof sd, "%s/%llu", p, (unsigned long long)newest);
        const char *k = filem_meta_read(sd, &meta, e2, sizeof e2) == 0 ? filem_meta_get(&meta, "ckpt.keep") : NULL;
        if (k && strcmp(k, "0"))
            snprintf(keep, sizeof keep, " %s", k);
        filem_meta_free(&meta);
    }
    if (!nc)
        return filem_fmt(out, len, "%s does not exist: %s holds no committed sequence (none was taken, "
                                   "or every one failed)", ref, p);
    /* retention named only when the job had it (ckpt.keep recorded, not 0: diffrev32 R-L2) */
    if (want < oldest && keep[0])
        return filem_fmt(out, len, "%s does not exist: sequence %llu is no longer in %s, which holds "
                                   "committed sequence%s %s: removed when a newer one committed (the job "
                                   "kept its newest%s, --ckpt-keep); restart one of those, or %s for its "
                                   "newest", ref, (unsigned long long)want, p, nc == 1 ? "" : "s", have, keep, p);
    return filem_fmt(out, len, "%s does not exist: %s holds committed sequence%s %s, not %llu (%s); restart "
                               "one of those, or %s for its newest", ref, p, nc == 1 ? "" : "s", have,
                     (unsigned long long)want, want > newest ? "not taken yet, or it failed" : "it failed, or "
                     "was removed", p);
}

/* Whether this host's node-local cache holds anything of the job directory REF names: only
 * then is a restart from the caches worth naming for a snapshot directory that is gone
 * (newuser7b F4: a job run with --ckpt-local none, which kept none, was sent to "the node-local
 * caches"). */
static int cache_holds_job(const char *ref)
{
    char p[PATH_MAX];
    uint64_t s;
    if (ref_job_part(ref, p, sizeof p, &s) < 0)
        return 0;
    const char *base = strrchr(p, '/');
    return filem_local_holds_job(base ? base + 1 : p);
}

int filem_resolve_ref(const char *ref, char *jobdir, size_t len, int64_t *seq, char *err,
                      size_t errlen)
{
    char abs[PATH_MAX];
    if (errlen)
        err[0] = 0; /* on success, a note when REF was read as another reference */
    if (!*ref) {
        /* `restart-mpi "$ref"` with ref never set (ckpt-mpirun failed, or a typo) */
        filem_fmt(err, errlen, "the snapshot reference is empty (an unset shell variable?); give "
                               "a snapshot reference as printed by ckpt-mpirun (its last line)");
        return -ENOENT;
    }
    if (!realpath(ref, abs)) {
        int e = errno;
        char gone[PATH_MAX];
        if (e == ENOENT && job_dir_gone(ref, gone, sizeof gone)) {
            int w = filem_missing_ref_words(ref, gone, err, errlen);
            if (w > 0 && (size_t)w < errlen && cache_holds_job(ref))
                filem_fmt(err + w, errlen - (size_t)w,
                          "; if it was removed, or is not mounted here, run restart-mpi %s on a "
                          "host the job ran on: it restarts from the node-local caches where they "
                          "hold the images and the snapshot's metadata (%s; this host's cache "
                          "holds some of that job)",
                          ref, FILEM_META_NAME);
            else if (w > 0 && (size_t)w < errlen)
                filem_fmt(err + w, errlen - (size_t)w, "; this host's node-local cache holds no copy "
                          "of it either");
        }
        else if (e == ENOENT && seq_gone_words(ref, err, errlen) > 0)
            ;
        else if (e == ENOENT)
            filem_fmt(err, errlen, "%s does not exist; give a snapshot reference as printed by "
                                  "ckpt-mpirun",
                     ref);
        else
            filem_fmt(err, errlen, "%s: %s", ref, strerror(e));
        return -e;
    }
    struct stat st;
    if (stat(abs, &st) < 0 || !S_ISDIR(st.st_mode)) {
        /* a file of a snapshot (its snapshot.meta, an image) names its sequence: say which */
        char seqdir[PATH_MAX];
        filem_fmt(seqdir, sizeof seqdir, "%s", abs);
        char *slash = strrchr(seqdir, '/');
        if (slash && slash != seqdir)
            *slash = 0;
        const char *sb = strrchr(seqdir, '/');
        uint64_t sq;
        char up[PATH_MAX];
        filem_fmt(up, sizeof up, "%s", seqdir);
        char *us = strrchr(up, '/');
        if (us && us != up)
            *us = 0;
        const char *jb = strrchr(up, '/');
        if (slash && sb && filem_parse_seq(sb + 1, &sq) == 0 && jb &&
            !strncmp(jb + 1, FILEM_JOB_PREFIX, strlen(FILEM_JOB_PREFIX)))
            filem_fmt(err, errlen, "%s is a file of snapshot %s, not a snapshot: give that directory "
                                   "(its sequence) or %s (its newest committed sequence)", ref, seqdir, up);
        else
            filem_fmt(err, errlen, "%s is not a snapshot (not a directory): give a snapshot directory "
                                   "(.../%sPID.ckpt) or one of its sequences (.../%sPID.ckpt/SEQ), as "
                                   "ckpt-mpirun printed it", ref, FILEM_JOB_PREFIX, FILEM_JOB_PREFIX);
        return -EINVAL;
    }
    const char *base = strrchr(abs, '/');
    base = base ? base + 1 : abs;
    uint64_t s;
    size_t bl = strlen(base);
    size_t pl = strlen(FILEM_JOB_PREFIX), sl = strlen(FILEM_JOB_SUFFIX);
    if (bl > pl + sl && strncmp(base, FILEM_JOB_PREFIX, pl) == 0 &&
        strcmp(base + bl - sl, FILEM_JOB_SUFFIX) == 0) {
        if ((size_t)snprintf(jobdir, len, "%s", abs) >= len)
            return -ENAMETOOLONG;
        *seq = -1;
        return 0;
    }
    if (filem_parse_seq(base, &s) == 0 && base > abs + 1) {
        size_t jl = (size_t)(base - 1 - abs);
        const char *pb = abs;
        char parent[PATH_MAX];
        memcpy(parent, pb, jl);
        parent[jl] = 0;
        const char *pbase = strrchr(parent, '/');
        pbase = pbase ? pbase + 1 : parent;
        size_t pbl = strlen(pbase);
        if (pbl > pl + sl && strncmp(pbase, FILEM_JOB_PREFIX, pl) == 0 &&
            strcmp(pbase + pbl - sl, FILEM_JOB_SUFFIX) == 0) {
            if ((size_t)snprintf(jobdir, len, "%s", parent) >= len)
                return -ENAMETOOLONG;
            *seq = (int64_t)s;
            return 0;
        }
    }
    /* a snapshot copied or renamed: known by its files, not by its directory's name (a
     * sequence holds snapshot.meta, or, not committed, rank images or staging.failed; a job
     * directory an index or such a sequence): an uncommitted sequence is then "not committed"
     * (ckpt-info's status 3), not "not a snapshot reference" (review, E2) */
    char probe[PATH_MAX + 32];
    if (filem_parse_seq(base, &s) == 0 && base > abs + 1 && seq_traces(abs)) {
        size_t jl = (size_t)(base - 1 - abs);
        if (jl >= len)
            return -ENAMETOOLONG;
        memcpy(jobdir, abs, jl);
        jobdir[jl] = 0;
        *seq = (int64_t)s;
        return 0;
    }
    filem_fmt(probe, sizeof probe, "%s/%s", abs, FILEM_INDEX_NAME);
    int known = access(probe, F_OK) == 0;
    DIR *d = known ? NULL : opendir(abs);
    for (struct dirent *de; d && !known && (de = readdir(d));) {
        uint64_t k;
        filem_fmt(probe, sizeof probe, "%s/%s", abs, de->d_name);
        known = filem_parse_seq(de->d_name, &k) == 0 && seq_traces(probe);
    }
    if (d)
        closedir(d);
    if (known) {
        if ((size_t)snprintf(jobdir, len, "%s", abs) >= len)
            return -ENAMETOOLONG;
        *seq = -1;
        return 0;
    }
    int one = filem_folder_job_dir(abs, ref, jobdir, len, err, errlen);
    if (one <= 0) {
        *seq = -1;
        return one;
    }
    filem_fmt(err, errlen,
             "%s is not a snapshot reference: expected .../" FILEM_JOB_PREFIX "PID" FILEM_JOB_SUFFIX
             " or .../" FILEM_JOB_PREFIX "PID" FILEM_JOB_SUFFIX "/SEQ",
             ref);
    return -EINVAL;
}
