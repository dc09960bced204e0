/* Files saved with a snapshot and put back before its restart (files_save.h). */
#define _GNU_SOURCE
#include "filem/files_save.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "common/fault.h"
#include "filem/filem.h"

#define COPY_BUF (256 * 1024)

/* ---- the list ---- */

/* The next PATH of a comma-separated list into out: absolute (the working directory's when
 * relative) and, when it exists, canonical (realpath: ".", "..", "//" and every symbolic link
 * resolved, so that a named link to a directory saves that directory, diffrev37 R-M3, and
 * "--save-files ." names a directory that can be put back, R-L9). Returns the rest of the
 * list, or NULL at its end; *bad set for an empty PATH or one too long. */
static const char *next_path(const char *s, char *out, size_t len, int *bad)
{
    *bad = 0;
    out[0] = 0;
    size_t l = strcspn(s, ",");
    char cwd[PATH_MAX] = "";
    if (l == 0) {
        *bad = 1;
        return NULL;
    }
    if (s[0] != '/' && !getcwd(cwd, sizeof cwd))
        cwd[0] = 0;
    int n = s[0] == '/' ? snprintf(out, len, "%.*s", (int)l, s)
                        : snprintf(out, len, "%s/%.*s", cwd, (int)l, s);
    if (n < 0 || (size_t)n >= len)
        *bad = 1;
    else {
        while (n > 1 && out[n - 1] == '/')
            out[--n] = 0;
        char real[PATH_MAX];
        if (realpath(out, real) && strlen(real) < len)
            memcpy(out, real, strlen(real) + 1);
    }
    return s[l] == ',' ? s + l + 1 : NULL;
}

static const char *kind_name(mode_t m)
{
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISSOCK(m))
        return "a socket";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    return "neither a file, a directory nor a link";
}

#define ONLY_THESE "--save-files saves regular files, directories and symbolic links only"

/* The snapshot store and the node-local cache (filem_files_keep_out): no PATH may be, hold or lie
 * in one; set once per process */
static char *keep_out[4];
static int nkeep_out;

void filem_files_keep_out(const char *const *dirs, int n)
{
    for (int i = 0; i < nkeep_out; i++)
        free(keep_out[i]);
    nkeep_out = 0;
    for (int i = 0; i < n && nkeep_out < 4; i++) {
        if (!dirs[i] || !*dirs[i])
            continue;
        /* canonical where it exists; else its parent's (the job's directory is made at the
         * first snapshot) */
        char real[PATH_MAX], parent[PATH_MAX];
        const char *sl = strrchr(dirs[i], '/');
        if (realpath(dirs[i], real))
            keep_out[nkeep_out] = strdup(real);
        else if (sl && sl > dirs[i] &&
                 snprintf(parent, sizeof parent, "%.*s", (int)(sl - dirs[i]), dirs[i]) > 0 &&
                 realpath(parent, real) && strlen(real) + strlen(sl) < sizeof real) {
            strcat(real, sl);
            keep_out[nkeep_out] = strdup(real);
        } else
            keep_out[nkeep_out] = strdup(dirs[i]);
        if (keep_out[nkeep_out])
            nkeep_out++;
    }
}

/* 1 when a is b or inside b (path components) */
static int under(const char *a, const char *b)
{
    size_t n = strlen(b);
    if (n == 1 && b[0] == '/')
        return 1;
    return !strncmp(a, b, n) && (a[n] == 0 || a[n] == '/');
}

/* A name the snapshot store gives its directories: a job's (revive_global_snapshot_PID.ckpt)
 * or a node-local cache's (revive-local-UID) */
static int store_name(const char *path)
{
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t l = strlen(b);
    return (!strncmp(b, "revive_global_snapshot_", 23) && l > 28 && !strcmp(b + l - 5, ".ckpt")) ||
           !strncmp(b, "revive-local-", 13);
}

#define STORE_ADVICE "--save-files must not name a snapshot directory, nor a directory holding one " \
                     "(restart-mpi would put the old copy back over the snapshots taken since): " \
                     "name the state files, or the directory they are in, apart from --ckpt-dir"

/* 0, or -EINVAL with err when PATH (canonical) is, holds or lies in the store */
static int store_check(const char *path, const struct stat *st, char *err, size_t errlen)
{
    for (int i = 0; i < nkeep_out; i++)
        if (under(path, keep_out[i]) || under(keep_out[i], path)) {
            filem_fmt(err, errlen, "%s %s the snapshot directory %s: " STORE_ADVICE, path,
                      under(path, keep_out[i]) && strcmp(path, keep_out[i]) ? "is inside"
                      : !strcmp(path, keep_out[i]) ? "is" : "holds",
                      keep_out[i]);
            return -EINVAL;
        }
    if (S_ISDIR(st->st_mode) && store_name(path)) {
        filem_fmt(err, errlen, "%s is a snapshot directory: " STORE_ADVICE, path);
        return -EINVAL;
    }
    return 0;
}

/* Walks PATH (lstat: a link is not followed): calls visit for it and, for a directory, each
 * member (pre-order, names sorted). 0 or -errno with err. */
typedef int (*visit_fn)(void *arg, const char *path, const struct stat *st, int root, char *err,
                        size_t errlen);

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(const char *path, int root, visit_fn visit, void *arg, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        int e = -errno;
        filem_fmt(err, errlen, "%s: %s%s", path, strerror(-e),
                  e == -ENOENT ? " (--save-files names files that exist when the snapshot is "
                                 "taken; relative paths are the job's working directory's)"
                               : "");
        return e;
    }
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) {
        filem_fmt(err, errlen, "%s is %s: %s", path, kind_name(st.st_mode), ONLY_THESE);
        return -EINVAL;
    }
    int e = store_check(path, &st, err, errlen);
    if (e == 0)
        e = visit(arg, path, &st, root, err, errlen);
    if (e < 0 || !S_ISDIR(st.st_mode))
        return e;
    DIR *d = opendir(path);
    if (!d) {
        e = -errno;
        filem_fmt(err, errlen, "cannot read the directory %s: %s", path, strerror(-e));
        return e;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 32;
            char **v = realloc(names, cap * sizeof *v);
            if (!v) {
                e = -ENOMEM;
                break;
            }
            names = v;
        }
        if (!(names[n] = strdup(de->d_name))) {
            e = -ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (e == -ENOMEM)
        filem_fmt(err, errlen, "out of memory reading %s", path);
    if (e == 0 && n)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; e == 0 && i < n; i++) {
        char sub[PATH_MAX];
        int l = snprintf(sub, sizeof sub, "%s/%s", path, names[i]);
        if (l < 0 || (size_t)l >= sizeof sub) {
            filem_fmt(err, errlen, "%s/%s: path too long", path, names[i]);
            e = -ENAMETOOLONG;
            break;
        }
        e = walk(sub, 0, visit, arg, err, errlen);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return e;
}

struct counter {
    int n;
};

static int count_visit(void *arg, const char *path, const struct stat *st, int root, char *err,
                       size_t errlen)
{
    (void)st;
    (void)root;
    struct counter *c = arg;
    if (++c->n > FILEM_FILES_MAX) {
        filem_fmt(err, errlen,
                  "%s: more than %d files, directories and links to save: --save-files is for "
                  "the few files a job keeps its state in between steps; name those",
                  path, FILEM_FILES_MAX);
        return -E2BIG;
    }
    return 0;
}

/* Calls walk for each PATH of LIST. */
static int each_path(const char *list, visit_fn visit, void *arg, char *err, size_t errlen)
{
    char path[PATH_MAX];
    int bad;
    if (!*list) {
        filem_fmt(err, errlen, "--save-files needs a PATH (PATH[,PATH...])");
        return -EINVAL;
    }
    for (const char *s = list; s;) {
        s = next_path(s, path, sizeof path, &bad);
        if (bad || (!path[0])) {
            filem_fmt(err, errlen, "--save-files '%s': an empty or too long PATH (PATH[,PATH...])",
                      list);
            return -EINVAL;
        }
        int e = walk(path, 1, visit, arg, err, errlen);
        if (e < 0)
            return e;
        if (s && !*s) {
            filem_fmt(err, errlen, "--save-files '%s': an empty PATH after the last comma", list);
            return -EINVAL;
        }
    }
    return 0;
}

int filem_files_absolute(const char *list, char *out, size_t len)
{
    char path[PATH_MAX];
    size_t n = 0;
    int bad;
    if (len)
        out[0] = 0;
    for (const char *s = list; s && *s;) {
        s = next_path(s, path, sizeof path, &bad);
        if (bad || !path[0])
            return -EINVAL;
        int w = snprintf(out + n, len - n, "%s%s", n ? "," : "", path);
        if (w < 0 || (size_t)w >= len - n)
            return -ENAMETOOLONG;
        n += (size_t)w;
    }
    return 0;
}

int filem_files_check(const char *list, char *err, size_t errlen)
{
    struct counter c = {0};
    return each_path(list ? list : "", count_visit, &c, err, errlen);
}

/* ---- the copy ---- */

struct saver {
    const char *seqdir;
    char dir[PATH_MAX];      /* SEQDIR/files */
    int dirfd;
    struct filem_meta *m;
    int n;
    char *buf;
    struct { char *p; size_t len, cap; } roots;
};

/* Copies fd (from its start) to the new file NAME in dirfd (0600), hashing; fsync. */
static int copy_fd(int in, int dirfd, const char *name, char *buf, uint64_t *size, uint64_t *sum,
                   int fault, const char *src, const char *dst, char *err, size_t errlen)
{
    int out = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        int e = -errno;
        filem_fmt(err, errlen, "cannot create %s: %s", dst, strerror(-e));
        return e;
    }
    XXH3_state_t *h = XXH3_createState();
    int e = h && XXH3_64bits_reset(h) == XXH_OK ? 0 : -ENOMEM;
    uint64_t total = 0;
    while (e == 0) {
        ssize_t r = read(in, buf, COPY_BUF);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            e = -errno;
            filem_fmt(err, errlen, "cannot read %s: %s", src, strerror(-e));
            break;
        }
        if (r == 0)
            break;
        XXH3_64bits_update(h, buf, (size_t)r);
        for (ssize_t off = 0; off < r;) {
            ssize_t w = fault ? (errno = ENOSPC, -1) : write(out, buf + off, (size_t)(r - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                e = -errno;
                filem_fmt(err, errlen, "cannot write %s: %s%s", dst, strerror(-e),
                          fault ? " (fault point snapc-files-copy)" : "");
                break;
            }
            off += w;
        }
        total += (uint64_t)r;
    }
    if (e == 0 && fsync(out) < 0) {
        e = -errno;
        filem_fmt(err, errlen, "cannot flush %s: %s", dst, strerror(-e));
    }
    if (close(out) < 0 && e == 0) {
        e = -errno;
        filem_fmt(err, errlen, "cannot write %s: %s", dst, strerror(-e));
    }
    if (e == -ENOMEM)
        filem_fmt(err, errlen, "out of memory copying %s", src);
    if (e == 0) {
        *size = total;
        *sum = XXH3_64bits_digest(h);
    }
    XXH3_freeState(h);
    return e;
}

static int put_common(struct saver *s, int n, const char *path, const char *type,
                      const struct stat *st, int root)
{
    char k[64];
#define FK(name) (snprintf(k, sizeof k, "files.%d." name, n), k)
    if (filem_meta_set(s->m, FK("path"), "%s", path) || filem_meta_set(s->m, FK("type"), "%s", type) ||
        (root && filem_meta_set(s->m, FK("root"), "1")) ||
        filem_meta_set(s->m, FK("mode"), "%04o", (unsigned)(st->st_mode & 07777)) ||
        filem_meta_set(s->m, FK("uid"), "%u", (unsigned)st->st_uid) ||
        filem_meta_set(s->m, FK("gid"), "%u", (unsigned)st->st_gid) ||
        filem_meta_set(s->m, FK("mtime"), "%lld.%09ld", (long long)st->st_mtim.tv_sec,
                       st->st_mtim.tv_nsec))
        return -ENOMEM;
#undef FK
    return 0;
}

static int save_visit(void *arg, const char *path, const struct stat *st, int root, char *err,
                      size_t errlen)
{
    struct saver *s = arg;
    int n = s->n;
    if (n >= FILEM_FILES_MAX)
        return count_visit(&(struct counter){.n = n}, path, st, root, err, errlen);
    char k[64];
    const char *type = S_ISREG(st->st_mode) ? "file" : S_ISDIR(st->st_mode) ? "dir" : "link";
    struct stat now = *st;
    if (S_ISREG(st->st_mode)) {
        int in = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0) {
            int e = -errno;
            filem_fmt(err, errlen, "cannot read %s: %s", path, strerror(-e));
            return e;
        }
        if (fstat(in, &now) < 0 || !S_ISREG(now.st_mode)) {
            close(in);
            filem_fmt(err, errlen, "%s changed while it was saved", path);
            return -EAGAIN;
        }
        char name[32], dst[PATH_MAX];
        snprintf(name, sizeof name, "%d", n);
        filem_fmt(dst, sizeof dst, "%s/%s", s->dir, name);
        uint64_t size = 0, sum = 0;
        /* the fault point fails one copy only (the process's first): a test takes a good
         * snapshot with files after it */
        static int fault_fired;
        int fault = n == 0 && !fault_fired && filem_fault(REVIVE_FAULT_snapc_files_copy);
        fault_fired |= fault;
        int e = copy_fd(in, s->dirfd, name, s->buf, &size, &sum, fault, path, dst, err, errlen);
        close(in);
        if (e < 0)
            return e;
        if (put_common(s, n, path, type, &now, root) ||
            filem_meta_set(s->m, (snprintf(k, sizeof k, "files.%d.size", n), k), "%llu",
                           (unsigned long long)size) ||
            filem_meta_set(s->m, (snprintf(k, sizeof k, "files.%d.xxh3", n), k), "%016" PRIx64, sum))
            return -ENOMEM;
    } else if (S_ISLNK(st->st_mode)) {
        char t[PATH_MAX];
        ssize_t l = readlink(path, t, sizeof t - 1);
        if (l < 0) {
            int e = -errno;
            filem_fmt(err, errlen, "cannot read the link %s: %s", path, strerror(-e));
            return e;
        }
        t[l] = 0;
        if (put_common(s, n, path, type, st, root) ||
            filem_meta_set(s->m, (snprintf(k, sizeof k, "files.%d.target", n), k), "%s", t))
            return -ENOMEM;
    } else if (put_common(s, n, path, type, st, root))
        return -ENOMEM;
    if (root) {
        size_t need = s->roots.len + strlen(path) + 2;
        if (need > s->roots.cap) {
            char *p = realloc(s->roots.p, need * 2);
            if (!p)
                return -ENOMEM;
            s->roots.p = p;
            s->roots.cap = need * 2;
        }
        s->roots.len += (size_t)sprintf(s->roots.p + s->roots.len, "%s%s",
                                        s->roots.len ? "," : "", path);
    }
    s->n++;
    return 0;
}

int filem_files_save(const char *seqdir, const char *list, struct filem_meta *m, char *err,
                     size_t errlen)
{
    struct saver s = {.seqdir = seqdir, .m = m, .dirfd = -1};
    filem_fmt(s.dir, sizeof s.dir, "%s/%s", seqdir, FILEM_FILES_DIR);
    /* the list once more first: a path gone since the request, a FIFO made since, fail before
     * anything is copied */
    int e = filem_files_check(list, err, errlen);
    if (e < 0)
        return e;
    if (mkdir(s.dir, 0700) < 0 && errno != EEXIST) {
        e = -errno;
        filem_fmt(err, errlen, "cannot create %s: %s", s.dir, strerror(-e));
        return e;
    }
    e = filem_private_dir(s.dir, 0, err, errlen);
    if (e < 0)
        return e;
    s.dirfd = open(s.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    s.buf = malloc(COPY_BUF);
    if (s.dirfd < 0 || !s.buf) {
        e = s.dirfd < 0 ? -errno : -ENOMEM;
        filem_fmt(err, errlen, "cannot open %s: %s", s.dir, strerror(-e));
    }
    if (e == 0)
        e = each_path(list, save_visit, &s, err, errlen);
    if (e == -ENOMEM && !err[0])
        filem_fmt(err, errlen, "out of memory saving the files");
    if (e == 0 && fsync(s.dirfd) < 0) {
        e = -errno;
        filem_fmt(err, errlen, "cannot flush %s: %s", s.dir, strerror(-e));
    }
    if (e == 0 && (filem_meta_set(m, "files.count", "%d", s.n) ||
                   filem_meta_set(m, "files.roots", "%s", s.roots.p ? s.roots.p : "")))
        e = -ENOMEM;
    if (s.dirfd >= 0)
        close(s.dirfd);
    free(s.buf);
    free(s.roots.p);
    return e;
}

int filem_files_remove_dir(int seqdfd)
{
    int fd = openat(seqdfd, FILEM_FILES_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -errno;
    }
    int e = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        if (!strcmp(n, ".") || !strcmp(n, ".."))
            continue;
        if (strspn(n, "0123456789") != strlen(n)) {
            e = -ENOTEMPTY;
            continue;
        }
        if (unlinkat(dirfd(d), n, 0) < 0 && errno != ENOENT)
            e = -errno;
    }
    closedir(d);
    if (e == 0 && unlinkat(seqdfd, FILEM_FILES_DIR, AT_REMOVEDIR) < 0 && errno != ENOENT)
        e = -errno;
    return e;
}

/* ---- reading the list back ---- */

int filem_files_count(const struct filem_meta *m)
{
    uint64_t n;
    if (filem_meta_get_u64(m, "files.count", &n) < 0 || n > FILEM_FILES_MAX)
        return 0;
    return (int)n;
}

struct entry {
    const char *path, *type, *target;
    int root;
    mode_t mode;
    uid_t uid;
    gid_t gid;
    struct timespec mtime;
    uint64_t size, sum;
};

static const char *get(const struct filem_meta *m, int n, const char *name)
{
    char k[64];
    snprintf(k, sizeof k, "files.%d.%s", n, name);
    return filem_meta_get(m, k);
}

static int get_entry(const struct filem_meta *m, int n, struct entry *e, char *err, size_t errlen)
{
    memset(e, 0, sizeof *e);
    e->path = get(m, n, "path");
    e->type = get(m, n, "type");
    const char *mode = get(m, n, "mode"), *mt = get(m, n, "mtime");
    const char *uid = get(m, n, "uid"), *gid = get(m, n, "gid");
    const char *root = get(m, n, "root");
    e->root = root && !strcmp(root, "1");
    int ok = e->path && e->path[0] == '/' && e->type && mode && mt && uid && gid;
    if (ok) {
        char *end;
        e->mode = (mode_t)strtoul(mode, &end, 8);
        ok = !*end && e->mode <= 07777;
        long long sec = strtoll(mt, &end, 10);
        long nsec = 0;
        if (ok && *end == '.')
            nsec = strtol(end + 1, &end, 10);
        ok = ok && !*end && nsec >= 0 && nsec < 1000000000;
        e->mtime.tv_sec = (time_t)sec;
        e->mtime.tv_nsec = nsec;
        e->uid = (uid_t)strtoul(uid, NULL, 10);
        e->gid = (gid_t)strtoul(gid, NULL, 10);
    }
    if (ok && !strcmp(e->type, "file")) {
        const char *sz = get(m, n, "size"), *x = get(m, n, "xxh3");
        char *end;
        ok = sz && x && strlen(x) == 16;
        if (ok) {
            e->size = strtoull(sz, &end, 10);
            ok = !*end;
            e->sum = strtoull(x, &end, 16);
            ok = ok && !*end;
        }
    } else if (ok && !strcmp(e->type, "link")) {
        e->target = get(m, n, "target");
        ok = e->target != NULL;
    } else if (ok) {
        ok = !strcmp(e->type, "dir");
    }
    if (!ok) {
        filem_fmt(err, errlen, "snapshot.meta's saved file entry %d is malformed", n);
        return -EINVAL;
    }
    return 0;
}

/* XXH3 and size of a file; -errno */
static int sum_file(const char *path, uint64_t *size, uint64_t *sum, char *buf)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    XXH3_state_t *h = XXH3_createState();
    if (!h || XXH3_64bits_reset(h) != XXH_OK) {
        XXH3_freeState(h);
        close(fd);
        return -ENOMEM;
    }
    uint64_t total = 0;
    int e = 0;
    for (;;) {
        ssize_t r = read(fd, buf, COPY_BUF);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            e = -errno;
            break;
        }
        if (r == 0)
            break;
        XXH3_64bits_update(h, buf, (size_t)r);
        total += (uint64_t)r;
    }
    close(fd);
    *size = total;
    *sum = XXH3_64bits_digest(h);
    XXH3_freeState(h);
    return e;
}

int filem_files_verify(const char *seqdir, const struct filem_meta *m, int *checked, char *err,
                       size_t errlen)
{
    int n = filem_files_count(m), done = 0, e = 0;
    if (checked)
        *checked = 0;
    char *buf = n ? malloc(COPY_BUF) : NULL;
    if (n && !buf) {
        filem_fmt(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (int i = 0; i < n && e == 0; i++) {
        struct entry en;
        if ((e = get_entry(m, i, &en, err, errlen)) < 0)
            break;
        if (strcmp(en.type, "file"))
            continue;
        char p[PATH_MAX];
        filem_fmt(p, sizeof p, "%s/%s/%d", seqdir, FILEM_FILES_DIR, i);
        uint64_t size = 0, sum = 0;
        e = sum_file(p, &size, &sum, buf);
        if (e < 0) {
            filem_fmt(err, errlen, "the saved copy of %s (%s) cannot be read: %s", en.path, p,
                      strerror(-e));
            break;
        }
        if (size != en.size || sum != en.sum) {
            filem_fmt(err, errlen,
                      "the saved copy of %s (%s) is damaged: %llu bytes, checksum %016" PRIx64
                      " where snapshot.meta says %llu, %016" PRIx64,
                      en.path, p, (unsigned long long)size, sum, (unsigned long long)en.size,
                      en.sum);
            e = -EBADMSG;
            break;
        }
        done++;
    }
    free(buf);
    if (checked)
        *checked = done;
    return e;
}

/* ---- putting back ---- */

/* rm -rf of a path made by us (a temporary tree, the old contents moved aside) */
static void remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *de;
            while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                    continue;
                char sub[PATH_MAX];
                int l = snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
                if (l > 0 && (size_t)l < sizeof sub)
                    remove_tree(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else
        unlink(path);
}

/* What restarts of ours that were killed left beside PATH (".NAME.revive-restore.PID", its
 * ".old"): removed when that process is gone (diffrev37 R-L8: a whole copy of the directory
 * stayed for ever) */
static void drop_stale(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX], prefix[NAME_MAX + 32];
    if (!slash || snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path) <= 0 ||
        snprintf(prefix, sizeof prefix, ".%s.revive-restore.", slash + 1) >= (int)sizeof prefix)
        return;
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    size_t pl = strlen(prefix);
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, prefix, pl))
            continue;
        char *end;
        long pid = strtol(de->d_name + pl, &end, 10);
        if (pid <= 0 || (*end && strcmp(end, ".old")) || pid == (long)getpid() ||
            kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char p[PATH_MAX];
        if (snprintf(p, sizeof p, "%s/%s", dir, de->d_name) < (int)sizeof p)
            remove_tree(p);
    }
    closedir(d);
}

/* Owner and mode (and for a file its mtime: a directory's is set once its members are in). */
static void set_owner(const char *p, const struct entry *en)
{
    /* another user's owner needs root; failing that, left the caller's: the content and the
     * mode are what matter to the job */
    if (geteuid() == 0)
        (void)!lchown(p, en->uid, en->gid);
}

static int set_times(const char *p, const struct entry *en)
{
    struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, en->mtime};
    return utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* Makes entry I at TMPPATH (a file copied from the snapshot, a link, a directory) with its mode
 * and owner; a file's mtime too. */
static int make_entry(const char *seqdir, int i, const struct entry *en, const char *tmppath,
                      char *buf, char *err, size_t errlen)
{
    int e = 0;
    if (!strcmp(en->type, "dir")) {
        if (mkdir(tmppath, 0700) < 0) {
            e = -errno;
            filem_fmt(err, errlen, "cannot create %s: %s", tmppath, strerror(-e));
            return e;
        }
        set_owner(tmppath, en);
        if (chmod(tmppath, en->mode) < 0) {
            e = -errno;
            filem_fmt(err, errlen, "cannot set the mode of %s: %s", tmppath, strerror(-e));
        }
        return e;
    }
    if (!strcmp(en->type, "link")) {
        if (symlink(en->target, tmppath) < 0) {
            e = -errno;
            filem_fmt(err, errlen, "cannot create the link %s: %s", tmppath, strerror(-e));
            return e;
        }
        set_owner(tmppath, en);
        (void)set_times(tmppath, en); /* a link's time: best effort */
        return 0;
    }
    char src[PATH_MAX];
    filem_fmt(src, sizeof src, "%s/%s/%d", seqdir, FILEM_FILES_DIR, i);
    int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0) {
        e = -errno;
        filem_fmt(err, errlen, "cannot read the saved copy %s: %s", src, strerror(-e));
        return e;
    }
    uint64_t size = 0, sum = 0;
    e = copy_fd(in, AT_FDCWD, tmppath, buf, &size, &sum, 0, src, tmppath, err, errlen);
    close(in);
    if (e < 0)
        return e;
    if (size != en->size || sum != en->sum) {
        filem_fmt(err, errlen, "the saved copy of %s (%s) changed while it was put back",
                  en->path, src);
        return -EBADMSG;
    }
    set_owner(tmppath, en);
    if (chmod(tmppath, en->mode) < 0 || set_times(tmppath, en) < 0) {
        e = -errno;
        filem_fmt(err, errlen, "cannot set the mode and time of %s: %s", tmppath, strerror(-e));
    }
    return e;
}

static int fsync_dir_of(const char *path)
{
    char d[PATH_MAX];
    snprintf(d, sizeof d, "%s", path);
    char *sl = strrchr(d, '/');
    if (!sl)
        return 0;
    if (sl == d)
        sl[1] = 0;
    else
        *sl = 0;
    int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int e = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return e;
}

/* Restores the named PATH of entry r and its members (entries r..end-1). */
static int restore_root(const char *seqdir, const struct filem_meta *m, int r, int end, char *buf,
                        char *err, size_t errlen)
{
    struct entry root;
    int e = get_entry(m, r, &root, err, errlen);
    if (e < 0)
        return e;
    const char *slash = strrchr(root.path, '/');
    char tmp[PATH_MAX];
    int moved = 0; /* what was at PATH is at TMP.old, not put back: never removed */
    if (filem_fmt(tmp, sizeof tmp, "%.*s/.%s.revive-restore.%d", (int)(slash - root.path),
                  root.path, slash + 1, (int)getpid()) >= (int)sizeof tmp) {
        filem_fmt(err, errlen, "%s: path too long", root.path);
        return -ENAMETOOLONG;
    }
    remove_tree(tmp); /* a restart of ours killed before (same pid after a reboot) */
    drop_stale(root.path);
    size_t rl = strlen(root.path);
    for (int i = r; i < end && e == 0; i++) {
        struct entry en;
        if ((e = get_entry(m, i, &en, err, errlen)) < 0)
            break;
        if (i > r && (strncmp(en.path, root.path, rl) || en.path[rl] != '/')) {
            filem_fmt(err, errlen, "snapshot.meta's saved file %s is not inside %s", en.path,
                      root.path);
            e = -EINVAL;
            break;
        }
        char p[PATH_MAX];
        if (filem_fmt(p, sizeof p, "%s%s", tmp, en.path + rl) >= (int)sizeof p) {
            filem_fmt(err, errlen, "%s: path too long", en.path);
            e = -ENAMETOOLONG;
            break;
        }
        e = make_entry(seqdir, i, &en, p, buf, err, errlen);
    }
    /* directories' times once their members are in, deepest first */
    for (int i = end - 1; e == 0 && i >= r; i--) {
        struct entry en;
        if (get_entry(m, i, &en, err, errlen) == 0 && !strcmp(en.type, "dir")) {
            char p[PATH_MAX];
            filem_fmt(p, sizeof p, "%s%s", tmp, en.path + rl);
            if (set_times(p, &en) < 0) {
                e = -errno;
                filem_fmt(err, errlen, "cannot set the time of %s: %s", p, strerror(-e));
            }
        }
    }
    if (e == 0) {
        struct stat st;
        int have = lstat(root.path, &st) == 0;
        char aside[PATH_MAX];
        filem_fmt(aside, sizeof aside, "%s.old", tmp);
        int exchanged = 0;
        if (have && S_ISDIR(st.st_mode) && !strcmp(root.type, "dir")) {
            /* the saved tree takes the directory's place in one step; the old one goes after
             * (under the temporary name, removed below) */
            if (renameat2(AT_FDCWD, tmp, AT_FDCWD, root.path, RENAME_EXCHANGE) == 0)
                exchanged = 1;
            else if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
                e = -errno;
                filem_fmt(err, errlen, "cannot put %s back: %s", root.path, strerror(-e));
            }
            /* a file system without the exchange: the old one moved aside first (below) */
        }
        if (e == 0 && !exchanged) {
            if (have && (S_ISDIR(st.st_mode) || !strcmp(root.type, "dir"))) {
                /* a directory where a file or link is to go, or a directory replaced without
                 * the exchange, or a file where a directory is to go: the old one moved aside,
                 * then removed */
                if (rename(root.path, aside) < 0) {
                    e = -errno;
                    filem_fmt(err, errlen, "cannot move %s aside to put it back: %s", root.path,
                              strerror(-e));
                } else
                    moved = 1;
            }
            if (e == 0 && rename(tmp, root.path) < 0) {
                e = -errno;
                filem_fmt(err, errlen, "cannot put %s back: %s", root.path, strerror(-e));
                if (moved && rename(aside, root.path) == 0)
                    moved = 0; /* what was there is there again */
            }
        }
        if (e == 0)
            fsync_dir_of(root.path);
    }
    remove_tree(tmp); /* the old contents after an exchange; the partial copy after a failure */
    char old_aside[PATH_MAX];
    filem_fmt(old_aside, sizeof old_aside, "%s.old", tmp);
    if (e == 0 || !moved)
        remove_tree(old_aside); /* what was there, moved aside, once the copy is in its place */
    else {
        /* neither the copy nor what was there could be put at PATH: what was there is kept */
        size_t l = strlen(err);
        if (l < errlen)
            filem_fmt(err + l, errlen - l, "; what was at %s is now %s", root.path, old_aside);
    }
    return e;
}

int filem_files_restore(const char *seqdir, const struct filem_meta *m, int *restored, char *err,
                        size_t errlen)
{
    int n = filem_files_count(m), e = 0, done = 0;
    if (restored)
        *restored = 0;
    if (n == 0)
        return 0;
    /* a snapshot taken before the store was refused (diffrev37 R-H1): putting back a directory
     * holding the store would put its old copy over the snapshots taken since */
    for (int i = 0; i < n; i++) {
        struct entry en;
        if ((e = get_entry(m, i, &en, err, errlen)) < 0)
            return e;
        struct stat dst = {.st_mode = !strcmp(en.type, "dir") ? S_IFDIR : S_IFREG};
        if (store_check(en.path, &dst, err, errlen) < 0) {
            size_t l = strlen(err);
            filem_fmt(err + l, errlen - l, " (nothing was put back; restart with --no-restore-files)");
            return -EINVAL;
        }
    }
    char *buf = malloc(COPY_BUF);
    if (!buf) {
        filem_fmt(err, errlen, "out of memory");
        return -ENOMEM;
    }
    for (int r = 0; r < n && e == 0;) {
        struct entry en;
        if ((e = get_entry(m, r, &en, err, errlen)) < 0)
            break;
        if (!en.root) {
            filem_fmt(err, errlen, "snapshot.meta's saved file entry %d belongs to no named path", r);
            e = -EINVAL;
            break;
        }
        const char *slash = strrchr(en.path, '/');
        char parent[PATH_MAX];
        filem_fmt(parent, sizeof parent, "%.*s", slash == en.path ? 1 : (int)(slash - en.path),
                  en.path);
        struct stat st;
        if (stat(parent, &st) < 0 || !S_ISDIR(st.st_mode)) {
            filem_fmt(err, errlen,
                      "cannot put %s back: its directory %s does not exist (create it, or "
                      "restart with --no-restore-files)",
                      en.path, parent);
            e = -ENOENT;
            break;
        }
        int end = r + 1;
        while (end < n) {
            const char *rt = get(m, end, "root");
            if (rt && !strcmp(rt, "1"))
                break;
            end++;
        }
        e = restore_root(seqdir, m, r, end, buf, err, errlen);
        if (e == 0)
            done += end - r;
        r = end;
    }
    free(buf);
    if (restored)
        *restored = done;
    return e;
}
