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
#include "filem/files_merge.h"
#include "filem/files_remove.h"

#define COPY_BUF (256 * 1024)

/* ---- the list ---- */

/* The next PATH of a comma-separated list into out: absolute (the working directory's when
 * relative) and, when it exists, canonical (realpath: ".", "..", "//" and every symbolic link
 * resolved, so that a named link to a directory saves that directory, diffrev37 R-M3, and
 * "--save-files ." names a directory that can be put back, R-L9). given (may be NULL) gets the
 * PATH as named, absolute, without its "." components, repeated and trailing slashes, its links
 * not resolved: where a restart puts it back (through the links as they are then); empty when
 * it has a ".." component (the canonical path is taken then). Returns the
 * rest of the list, or NULL at its end; *bad set for an empty PATH or one too long. */
static const char *next_path(const char *s, char *out, size_t len, char *given, size_t glen,
                             int *bad)
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
        if (given && glen > 1) {
            /* lexically: "/a/./b//c/." is /a/b/c (".." kept: it is resolved as open() would) */
            size_t g = 0;
            for (const char *c = out; *c;) {
                while (*c == '/')
                    c++;
                size_t cl = strcspn(c, "/");
                if (cl && !(cl == 1 && c[0] == '.') && g + cl + 1 < glen) {
                    given[g++] = '/';
                    memcpy(given + g, c, cl);
                    g += cl;
                }
                c += cl;
            }
            if (g == 0)
                given[g++] = '/';
            given[g] = 0;
            /* a ".." is the canonical path's business (a directory under it may go before the
             * restart): none given then */
            if (strstr(given, "/../") || (g >= 3 && !strcmp(given + g - 3, "/..")))
                given[0] = 0;
        }
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
 * member (pre-order, names sorted). given: PATH as named (next_path) for a named PATH, NULL for
 * a member. 0 or -errno with err. */
typedef int (*visit_fn)(void *arg, const char *path, const struct stat *st, const char *given,
                        char *err, size_t errlen);

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(const char *path, const char *given, visit_fn visit, void *arg, char *err,
                size_t errlen)
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
        e = visit(arg, path, &st, given, err, errlen);
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
        e = walk(sub, NULL, visit, arg, err, errlen);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return e;
}

struct counter {
    int n;
};

static int count_visit(void *arg, const char *path, const struct stat *st, const char *given,
                       char *err, size_t errlen)
{
    (void)st;
    (void)given;
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
/* The PATHs that may be missing when a snapshot is taken (the job's --ckpt-save-files list,
 * filem_files_absent_ok), absolute, as named; NULL: none */
static char *absent_ok;

void filem_files_absent_ok(const char *list)
{
    free(absent_ok);
    absent_ok = list && *list ? strdup(list) : NULL;
}

/* 1 when NAMED (absolute, as named) is one of absent_ok's PATHs */
static int may_be_absent(const char *named)
{
    size_t l = strlen(named);
    for (const char *s = absent_ok; s && *s;) {
        size_t n = strcspn(s, ",");
        if (n == l && !strncmp(s, named, l))
            return 1;
        s += n + (s[n] == ',');
    }
    return 0;
}

/* Called (when not NULL) for a PATH of absent_ok that does not exist, in place of the walk that
 * would refuse it; NAMED the PATH as named, absolute */
typedef int (*absent_fn)(void *arg, const char *named);

static int each_path(const char *list, visit_fn visit, absent_fn absent, void *arg, char *err,
                     size_t errlen)
{
    char path[PATH_MAX], given[PATH_MAX];
    int bad;
    if (!*list) {
        filem_fmt(err, errlen, "--save-files needs a PATH (PATH[,PATH...])");
        return -EINVAL;
    }
    for (const char *s = list; s;) {
        s = next_path(s, path, sizeof path, given, sizeof given, &bad);
        if (bad || (!path[0])) {
            filem_fmt(err, errlen, "--save-files '%s': an empty or too long PATH (PATH[,PATH...])",
                      list);
            return -EINVAL;
        }
        struct stat st;
        int e;
        if (lstat(path, &st) < 0 && errno == ENOENT && may_be_absent(*given ? given : path))
            e = absent ? absent(arg, *given ? given : path) : 0;
        else
            e = walk(path, given, visit, arg, err, errlen);
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
    char given[PATH_MAX];
    size_t n = 0;
    int bad;
    if (len)
        out[0] = 0;
    for (const char *s = list; s && *s;) {
        s = next_path(s, path, sizeof path, given, sizeof given, &bad);
        if (bad || !path[0])
            return -EINVAL;
        /* as named (its links resolved again at each snapshot, as a restart goes through them) */
        int w = snprintf(out + n, len - n, "%s%s", n ? "," : "", given[0] ? given : path);
        if (w < 0 || (size_t)w >= len - n)
            return -ENAMETOOLONG;
        n += (size_t)w;
    }
    return 0;
}

int filem_files_check(const char *list, char *err, size_t errlen)
{
    struct counter c = {0};
    return each_path(list ? list : "", count_visit, NULL, &c, err, errlen);
}

/* ---- the copy ---- */

struct saver {
    const char *seqdir;
    char dir[PATH_MAX];      /* SEQDIR/files */
    int dirfd;
    struct filem_meta *m;
    int n;
    char *buf;
    struct { char *p; size_t len, cap; } roots, absent;
};

/* Appends ITEM to the comma-separated list L */
static int list_add(char **p, size_t *len, size_t *cap, const char *item)
{
    size_t need = *len + strlen(item) + 2;
    if (need > *cap) {
        char *q = realloc(*p, need * 2);
        if (!q)
            return -ENOMEM;
        *p = q;
        *cap = need * 2;
    }
    *len += (size_t)sprintf(*p + *len, "%s%s", *len ? "," : "", item);
    return 0;
}

/* A PATH of the job's list missing at this snapshot: recorded (files.absent), nothing copied;
 * a restart moves what is there then aside (filem_files_restore) */
static int save_absent(void *arg, const char *named)
{
    struct saver *s = arg;
    /* where its directory leads now (files.absent.K.dir): a restart removes what is at the PATH
     * only where the PATH leads to the same place (a link on the way, /scratch -> /lustre/...,
     * is the rule on clusters: diffrev46 R-M3), and leaves it, said, where a link changed since */
    char parent[PATH_MAX], real[PATH_MAX], k[64];
    filem_fmt(parent, sizeof parent, "%s", named);
    char *sl = strrchr(parent, '/');
    if (sl)
        sl == parent ? (void)(sl[1] = 0) : (void)(*sl = 0);
    int nth = 0;
    for (size_t i = 0; i < s->absent.len; i++)
        nth += s->absent.p[i] == ',';
    nth += s->absent.len > 0;
    if (sl && realpath(parent, real) &&
        filem_meta_set(s->m, (snprintf(k, sizeof k, "files.absent.%d.dir", nth), k), "%s", real))
        return -ENOMEM;
    return list_add(&s->absent.p, &s->absent.len, &s->absent.cap, named);
}

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
                      const struct stat *st, const char *given)
{
    int root = given != NULL;
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
    /* a named PATH whose name differs from the canonical path (a link in it): the name too, and
     * what the name itself said when it was a link (a restart puts it back through the name) */
    if (given && *given && strcmp(given, path)) {
        char t[PATH_MAX];
        ssize_t l = readlink(given, t, sizeof t - 1);
        if (filem_meta_set(s->m, FK("given"), "%s", given) ||
            (l > 0 && (t[l] = 0, filem_meta_set(s->m, FK("given_link"), "%s", t))))
            return -ENOMEM;
    }
#undef FK
    return 0;
}

static int save_visit(void *arg, const char *path, const struct stat *st, const char *given,
                      char *err, size_t errlen)
{
    int root = given != NULL;
    struct saver *s = arg;
    int n = s->n;
    if (n >= FILEM_FILES_MAX)
        return count_visit(&(struct counter){.n = n}, path, st, given, err, errlen);
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
        if (put_common(s, n, path, type, &now, given) ||
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
        if (put_common(s, n, path, type, st, given) ||
            filem_meta_set(s->m, (snprintf(k, sizeof k, "files.%d.target", n), k), "%s", t))
            return -ENOMEM;
    } else if (put_common(s, n, path, type, st, given))
        return -ENOMEM;
    if (root && list_add(&s->roots.p, &s->roots.len, &s->roots.cap, *given ? given : path) < 0)
        return -ENOMEM;
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
        e = each_path(list, save_visit, save_absent, &s, err, errlen);
    if (e == -ENOMEM && !err[0])
        filem_fmt(err, errlen, "out of memory saving the files");
    if (e == 0 && fsync(s.dirfd) < 0) {
        e = -errno;
        filem_fmt(err, errlen, "cannot flush %s: %s", s.dir, strerror(-e));
    }
    if (e == 0 && (filem_meta_set(m, "files.count", "%d", s.n) ||
                   filem_meta_set(m, "files.roots", "%s", s.roots.p ? s.roots.p : "") ||
                   (s.absent.p && filem_meta_set(m, "files.absent", "%s", s.absent.p))))
        e = -ENOMEM;
    if (s.dirfd >= 0)
        close(s.dirfd);
    free(s.buf);
    free(s.roots.p);
    free(s.absent.p);
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
    const char *given, *given_link; /* a named PATH: as named, when not the canonical path;
                                     * what it said when it was a link (NULL: none) */
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
    e->given = e->root ? get(m, n, "given") : NULL;
    e->given_link = e->given ? get(m, n, "given_link") : NULL;
    if (e->given && e->given[0] != '/') {
        filem_fmt(err, errlen, "snapshot.meta's saved file entry %d is malformed", n);
        return -EINVAL;
    }
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
    const char *sl = strrchr(path, '/');
    char dir[PATH_MAX];
    if (!sl || !sl[1] ||
        snprintf(dir, sizeof dir, "%.*s", sl == path ? 1 : (int)(sl - path), path) >= (int)sizeof dir)
        return;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return;
    filem_remove_at(dfd, sl + 1, NULL, NULL);
    close(dfd);
}

/* What restarts of ours that were killed left beside PATH (".NAME.revive-restore.PID", its
 * ".old"): removed when that process is gone (diffrev37 R-L8: a whole copy of the directory
 * stayed for ever), and only when it is the caller's (diffrev38 R-M1: in a shared directory
 * another user can make one) */
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
        struct stat st;
        if (pid <= 0 || (*end && strcmp(end, ".old")) || pid == (long)getpid() ||
            kill((pid_t)pid, 0) == 0 || errno != ESRCH ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_uid != geteuid())
            continue;
        filem_remove_at(dirfd(d), de->d_name, NULL, NULL);
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
        set_owner(tmppath, en); /* its mode once its members are in (dirs_finish) */
        return 0;
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

/* Entries r..end-1's directories under PREFIX (their paths' part after the root's RL bytes),
 * deepest first: the saved mode, then the time, once their members are in (a saved directory
 * without u+w could not take its members after its mode: diffrev38 R-L6). STRICT: a directory
 * missing or failing is an error; else skipped (left as it was: in use). */
static int dirs_finish(const struct filem_meta *m, int r, int end, const char *prefix, size_t rl,
                       int strict, char *err, size_t errlen)
{
    for (int i = end - 1; i >= r; i--) {
        struct entry en;
        if (get_entry(m, i, &en, err, errlen) < 0 || strcmp(en.type, "dir"))
            continue;
        char p[PATH_MAX];
        struct stat ps;
        filem_fmt(p, sizeof p, "%s%s", prefix, en.path + rl);
        if (!strict && (lstat(p, &ps) < 0 || !S_ISDIR(ps.st_mode)))
            continue;
        if (chmod(p, en.mode) < 0 || set_times(p, &en) < 0) {
            int e = -errno;
            if (!strict)
                continue;
            filem_fmt(err, errlen, "cannot set the mode and time of %s: %s", p, strerror(-e));
            return e;
        }
    }
    return 0;
}

/* Restores the named PATH of entry r and its members (entries r..end-1) at DEST (where_now:
 * the saved path, or where --relocate and the links as they are now send it). */
static int restore_root(const char *seqdir, const struct filem_meta *m, int r, int end,
                        const char *dest, const struct filem_files_keep *keep, char *said,
                        size_t saidlen, char *buf, char *err, size_t errlen)
{
    struct entry root;
    int e = get_entry(m, r, &root, err, errlen);
    if (e < 0)
        return e;
    const char *slash = strrchr(dest, '/');
    char tmp[PATH_MAX];
    int moved = 0; /* what was at PATH is at TMP.old, not put back: never removed */
    if (!slash || filem_fmt(tmp, sizeof tmp, "%.*s/.%s.revive-restore.%d", (int)(slash - dest),
                            dest, slash + 1, (int)getpid()) >= (int)sizeof tmp) {
        filem_fmt(err, errlen, "%s: path too long", dest);
        return -ENAMETOOLONG;
    }
    remove_tree(tmp); /* a restart of ours killed before (same pid after a reboot) */
    drop_stale(dest);
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
    if (e == 0) {
        struct stat st;
        int have = lstat(dest, &st) == 0;
        char aside[PATH_MAX];
        filem_fmt(aside, sizeof aside, "%s.old", tmp);
        int merged = 0;
        if (have && S_ISDIR(st.st_mode) && !strcmp(root.type, "dir")) {
            /* the saved tree moved into the directory there, entry by entry: the directory
             * (and each saved subdirectory) stays the same one, a shell in it and the caller's
             * output redirected into it are not cut off (files_merge.h; newuser8 F3: the whole
             * directory exchanged put restart-mpi's own output into the removed old one) */
            e = filem_files_merge(tmp, dest, keep, said, saidlen, err, errlen);
            merged = 1;
            if (e < 0) {
                /* not one step as the exchange was: say that the directory changed */
                size_t l = strlen(err);
                if (l < errlen)
                    filem_fmt(err + l, errlen - l,
                              "; %s is partly put back (what the job made in it since is "
                              "removed, some saved entries are in): restart-mpi again once that "
                              "is mended puts the rest back",
                              dest);
            }
            /* the directories' modes and times once their members are in (the moves changed
             * them; one left as it was, in use: as is) */
            if (e == 0)
                e = dirs_finish(m, r, end, dest, rl, 0, err, errlen);
        }
        if (e == 0 && !merged)
            e = dirs_finish(m, r, end, tmp, rl, 1, err, errlen);
        if (e == 0 && !merged) {
            if (have && (S_ISDIR(st.st_mode) || !strcmp(root.type, "dir"))) {
                /* a directory where a file or link is to go, or a directory replaced without
                 * the exchange, or a file where a directory is to go: the old one moved aside,
                 * then removed */
                if (rename(dest, aside) < 0) {
                    e = -errno;
                    filem_fmt(err, errlen, "cannot move %s aside to put it back: %s", dest,
                              strerror(-e));
                } else
                    moved = 1;
            }
            if (e == 0 && rename(tmp, dest) < 0) {
                e = -errno;
                filem_fmt(err, errlen, "cannot put %s back: %s", dest, strerror(-e));
                if (moved && rename(aside, dest) == 0)
                    moved = 0; /* what was there is there again */
            }
        }
        if (e == 0)
            fsync_dir_of(dest);
    }
    remove_tree(tmp); /* what could not be moved in; the partial copy after a failure */
    char old_aside[PATH_MAX];
    filem_fmt(old_aside, sizeof old_aside, "%s.old", tmp);
    if (e == 0 || !moved)
        remove_tree(old_aside); /* what was there, moved aside, once the copy is in its place */
    else {
        /* neither the copy nor what was there could be put at PATH: what was there is kept */
        size_t l = strlen(err);
        if (l < errlen)
            filem_fmt(err + l, errlen - l, "; what was at %s is now %s", dest, old_aside);
    }
    return e;
}

/* The end of the group of entries of the named PATH at entry r (its members follow it) */
static int group_end(const struct filem_meta *m, int r, int n)
{
    int end = r + 1;
    while (end < n) {
        const char *rt = get(m, end, "root");
        if (rt && !strcmp(rt, "1"))
            break;
        end++;
    }
    return end;
}

/* ---- where each named PATH goes now ---- */

static int moved_by(const struct filem_files_moves *mv, const char *path, char *out, size_t len)
{
    return mv && mv->moved && mv->moved(path, out, len, mv->arg) ? 1 : 0;
}

/* dir (as much of PATH as precedes its last '/', "/" for a top-level name) and base of PATH */
static void split(const char *path, char *dir, size_t len, const char **base)
{
    const char *sl = strrchr(path, '/');
    filem_fmt(dir, len, "%.*s", !sl || sl == path ? 1 : (int)(sl - path), sl ? path : "/");
    *base = sl ? sl + 1 : path;
}

/* PATH's directory canonical, PATH's last name after it (PATH itself need not exist): 0, or
 * -errno of the directory (*dirp: that directory) */
static int parent_real(const char *path, char *out, size_t len, char *dirp, size_t dlen)
{
    const char *base;
    char real[PATH_MAX];
    split(path, dirp, dlen, &base);
    if (!realpath(dirp, real))
        return -errno;
    struct stat st;
    if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
        return -ENOTDIR;
    return filem_fmt(out, len, "%s%s%s", real, strcmp(real, "/") ? "/" : "", base) >= (int)len
               ? -ENAMETOOLONG
               : 0;
}

/* The symbolic links on the way to PATH (each existing prefix, lstat): 0 when each is the
 * caller's, or root's on the way (/var/run -> /run), and the last one (LAST set: PATH is a saved
 * PATH as named) only when the snapshot recorded that name as a link (root->given_link) and it
 * is the caller's; else -EPERM with err naming the link, its target and owner. A restart follows
 * no link another user could have put in a shared directory (/tmp/run42 -> a directory of the
 * user's: it was replaced and emptied; diffrev38 R-H1), nor one that appeared where the snapshot
 * saved a directory or file. */
static int links_check(const char *named, const char *path, int last, const struct entry *root,
                       char *err, size_t errlen)
{
    char p[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof p)
        return 0; /* too long: refused by what follows */
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != 0)
            continue;
        memcpy(p, path, i);
        p[i] = 0;
        struct stat st;
        if (lstat(p, &st) < 0)
            break; /* the rest is not there (yet) */
        if (!S_ISLNK(st.st_mode))
            continue;
        char t[PATH_MAX];
        ssize_t l = readlink(p, t, sizeof t - 1);
        t[l > 0 ? l : 0] = 0;
        int at_end = last && path[i] == 0;
        if (st.st_uid != geteuid() && (at_end || st.st_uid != 0)) {
            filem_fmt(err, errlen,
                      "cannot put %s back: %s is a link to %s owned by user %u, not by you: a "
                      "restart follows no other user's link (remove it, or restart with "
                      "--no-restore-files; the snapshot saved %s)",
                      named, p, t, (unsigned)st.st_uid, root->path);
            return -EPERM;
        }
        if (at_end && !root->given_link) {
            filem_fmt(err, errlen,
                      "cannot put %s back: it was no link at the snapshot (the snapshot saved %s "
                      "there) and is now a link to %s: remove the link, or restart with "
                      "--no-restore-files",
                      named, root->path, t);
            return -EPERM;
        }
    }
    return 0;
}

/* Where the named PATH of entry r (members r+1..end-1) goes now: the PATH as named (the
 * canonical path for a snapshot that recorded no other name), moved by --relocate, then through
 * its links as they are now (a link re-pointed since: where it points now). dest filled, and one
 * phrase for the summary appended to said ("NAMED", "NAMED -> NEW (--relocate)", ", through its
 * link into DEST", " (SAVED at the snapshot)"). 0, or -errno with err naming the PATH and what to
 * do: its directory missing, a link it was that is gone or leads into a directory that is gone,
 * a --relocate that moves a part of a saved directory elsewhere (the copy is put back whole). */
static int where_now(const struct filem_meta *m, int r, int end, const struct entry *root,
                     const struct filem_files_moves *mv, char *dest, size_t len, char *said,
                     size_t saidlen, char *err, size_t errlen)
{
    const char *named = root->given ? root->given : root->path;
    char at[PATH_MAX], dir[PATH_MAX];
    int relocated = moved_by(mv, named, at, sizeof at);
    if (!relocated)
        filem_fmt(at, sizeof at, "%s", named);
    /* a --relocate of something inside a saved directory (the ranks find it at NEW): the copy
     * is one tree, put back at one place */
    size_t sl = strlen(root->path);
    for (int i = r + 1; i < end && mv; i++) {
        const char *p = get(m, i, "path");
        char member[PATH_MAX], to[PATH_MAX], want[PATH_MAX];
        if (!p || strncmp(p, root->path, sl) || p[sl] != '/')
            continue; /* malformed: restore_root says so */
        filem_fmt(member, sizeof member, "%s%s", named, p + sl);
        filem_fmt(want, sizeof want, "%s%s", at, p + sl);
        if (moved_by(mv, member, to, sizeof to) && strcmp(to, want)) {
            filem_fmt(err, errlen,
                      "cannot put %s back: --relocate moves %s, inside it, to %s, but the "
                      "snapshot saved %s whole and puts it back at one place (%s): relocate %s "
                      "itself (--relocate %s=NEWDIR), or restart with --no-restore-files",
                      named, member, to, named, at, named, named);
            return -EINVAL;
        }
    }
    struct stat st;
    char real[PATH_MAX];
    int e = links_check(named, at, 1, root, err, errlen);
    if (e < 0)
        return e;
    if (lstat(at, &st) == 0) {
        if (realpath(at, real)) {
            if (filem_fmt(dest, len, "%s", real) >= (int)len)
                e = -ENAMETOOLONG;
        } else if (S_ISLNK(st.st_mode) && errno == ENOENT) {
            /* a link into a directory that is gone (a scratch area purged): put back where the
             * link leads when the directory it is to be in is there */
            char t[PATH_MAX], to[PATH_MAX];
            ssize_t l = readlink(at, t, sizeof t - 1);
            if (l <= 0) {
                e = l < 0 ? -errno : -EINVAL;
                filem_fmt(err, errlen, "cannot put %s back: cannot read the link %s: %s", named,
                          at, strerror(-e));
                return e;
            }
            t[l] = 0;
            const char *base;
            split(at, dir, sizeof dir, &base);
            if (t[0] == '/')
                filem_fmt(to, sizeof to, "%s", t);
            else
                filem_fmt(to, sizeof to, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", t);
            /* the links on the way to where it leads: the caller's or root's */
            if ((e = links_check(named, to, 0, root, err, errlen)) < 0)
                return e;
            e = parent_real(to, dest, len, dir, sizeof dir);
            if (e < 0) {
                filem_fmt(err, errlen,
                          "cannot put %s back: %s is a link to %s, and the directory %s it leads "
                          "into does not exist (%s; the snapshot saved %s): create it, point the "
                          "link at a directory that exists, or restart with --no-restore-files",
                          named, at, t, dir, strerror(-e), root->path);
                return -ENOENT;
            }
        } else {
            e = -errno;
            filem_fmt(err, errlen, "cannot put %s back: %s: %s", named, at, strerror(-e));
            return e;
        }
    } else if (errno == ENOENT && root->given_link) {
        filem_fmt(err, errlen,
                  "cannot put %s back: it was a link (to %s, the snapshot saved %s) and is gone: "
                  "make it again (ln -s %s %s), or restart with --no-restore-files",
                  named, root->given_link, root->path, root->given_link, at);
        return -ENOENT;
    } else if (errno == ENOENT) {
        e = parent_real(at, dest, len, dir, sizeof dir);
        if (e < 0) {
            filem_fmt(err, errlen,
                      "cannot put %s back: its directory %s does not exist (create it, or "
                      "restart with --no-restore-files)",
                      at, dir);
            return -ENOENT;
        }
    } else {
        e = -errno;
        filem_fmt(err, errlen, "cannot put %s back: %s: %s", named, at, strerror(-e));
        return e;
    }
    if (e < 0) {
        filem_fmt(err, errlen, "%s: path too long", at);
        return e;
    }
    size_t o = strlen(said);
    if (o < saidlen)
        filem_fmt(said + o, saidlen - o, "%s%s", o ? "; " : "", named);
    o = strlen(said);
    if (relocated && o < saidlen)
        filem_fmt(said + o, saidlen - o, " -> %s (--relocate)", at);
    o = strlen(said);
    if (strcmp(dest, at) && o < saidlen)
        filem_fmt(said + o, saidlen - o, ", through its link into %s", dest);
    o = strlen(said);
    if (strcmp(dest, root->path) && strcmp(root->path, named) && o < saidlen)
        filem_fmt(said + o, saidlen - o, " (%s at the snapshot)", root->path);
    return 0;
}

/* The destinations of M's named PATHs: dests[r] (malloc'd) for each root entry r. 0, or
 * -errno with err (dests freed then). */
static int plan(const struct filem_meta *m, int n, const struct filem_files_moves *mv,
                char ***dests, char *said, size_t saidlen, char *err, size_t errlen)
{
    char **d = calloc((size_t)n, sizeof *d);
    int e = d ? 0 : -ENOMEM;
    char none[1024];
    if (!said || !saidlen) {
        said = none;
        saidlen = sizeof none;
    }
    said[0] = 0;
    for (int r = 0; r < n && e == 0;) {
        struct entry en;
        if ((e = get_entry(m, r, &en, err, errlen)) < 0)
            break;
        if (!en.root) {
            filem_fmt(err, errlen, "snapshot.meta's saved file entry %d belongs to no named path", r);
            e = -EINVAL;
            break;
        }
        int end = group_end(m, r, n);
        char dest[PATH_MAX];
        e = where_now(m, r, end, &en, mv, dest, sizeof dest, said, saidlen, err, errlen);
        if (e == 0 && !(d[r] = strdup(dest)))
            e = -ENOMEM;
        /* the store is no PATH's, wherever it goes now (diffrev37 R-H1: a directory holding it
         * put back would put its old copy over the snapshots taken since) */
        size_t rl = strlen(en.path);
        for (int i = r; i < end && e == 0; i++) {
            struct entry me;
            if ((e = get_entry(m, i, &me, err, errlen)) < 0)
                break;
            char p[PATH_MAX];
            if (i > r && (strncmp(me.path, en.path, rl) || me.path[rl] != '/')) {
                filem_fmt(err, errlen, "snapshot.meta's saved file %s is not inside %s", me.path,
                          en.path);
                e = -EINVAL;
                break;
            }
            filem_fmt(p, sizeof p, "%s%s", dest, me.path + rl);
            struct stat dst = {.st_mode = !strcmp(me.type, "dir") ? S_IFDIR : S_IFREG};
            if (store_check(p, &dst, err, errlen) < 0) {
                size_t l = strlen(err);
                filem_fmt(err + l, errlen - l,
                          " (nothing was put back; restart with --no-restore-files)");
                e = -EINVAL;
            }
        }
        r = end;
    }
    if (e == -ENOMEM)
        filem_fmt(err, errlen, "out of memory");
    if (e < 0 && d) {
        for (int i = 0; i < n; i++)
            free(d[i]);
        free(d);
        d = NULL;
    }
    *dests = d;
    return e;
}

int filem_files_where(const struct filem_meta *m, const struct filem_files_moves *mv, char *said,
                      size_t saidlen, char *err, size_t errlen)
{
    int n = filem_files_count(m);
    char **d = NULL;
    if (saidlen)
        said[0] = 0;
    if (n == 0)
        return 0;
    int e = plan(m, n, mv, &d, said, saidlen, err, errlen);
    for (int i = 0; d && i < n; i++)
        free(d[i]);
    free(d);
    return e;
}

int filem_files_dests(const struct filem_meta *m, const struct filem_files_moves *mv, char ***dests,
                      int *ndests, char *err, size_t errlen)
{
    int n = filem_files_count(m);
    *dests = NULL;
    *ndests = 0;
    if (n == 0)
        return 0;
    char **d = NULL;
    int e = plan(m, n, mv, &d, NULL, 0, err, errlen);
    if (e < 0)
        return e;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (d[i])
            d[k++] = d[i]; /* the named PATHs' entries only: their members have none */
    *dests = d;
    *ndests = k;
    return 0;
}

int filem_files_absent(const struct filem_meta *m)
{
    const char *ab = filem_meta_get(m, "files.absent");
    int n = 0;
    for (const char *s = ab; s && *s; n++)
        s += strcspn(s, ",") + (s[strcspn(s, ",")] == ',');
    return n;
}

/* The named PATHs that did not exist at the snapshot (files.absent) and exist now: the job made
 * them since; removed as what it made in a saved directory is (what a process uses kept) */
static void remove_absent(const struct filem_meta *m, const struct filem_files_moves *mv,
                          char *said, size_t saidlen)
{
    const char *ab = filem_meta_get(m, "files.absent");
    int nth = 0;
    for (const char *s = ab; s && *s; nth++) {
        size_t l = strcspn(s, ",");
        char p[PATH_MAX], dest[PATH_MAX], k[64];
        filem_fmt(p, sizeof p, "%.*s", (int)l, s);
        s += l + (s[l] == ',');
        if (!(mv && mv->moved && mv->moved(p, dest, sizeof dest, mv->arg)))
            filem_fmt(dest, sizeof dest, "%s", p);
        size_t o = said ? strlen(said) : 0;
        const char *sep = o ? "; " : "";
        /* the PATH's directory as it leads now (links on the way followed), its last name not
         * followed (a link the job made there is removed as a link) */
        char parent[PATH_MAX], real[PATH_MAX], at[PATH_MAX];
        filem_fmt(parent, sizeof parent, "%s", dest);
        char *sl = strrchr(parent, '/');
        if (!sl)
            continue;
        const char *name = dest + (sl - parent) + 1;
        sl == parent ? (void)(sl[1] = 0) : (void)(*sl = 0);
        struct stat st;
        if (!realpath(parent, real) ||
            filem_fmt(at, sizeof at, "%s/%s", strcmp(real, "/") ? real : "", name) >= (int)sizeof at ||
            lstat(at, &st) < 0) {
            if (said && o < saidlen)
                filem_fmt(said + o, saidlen - o, "%s%s: missing at the snapshot and now", sep, dest);
            continue;
        }
        /* a --relocate moves it: its old directory says nothing about the new one */
        const char *then = !strcmp(dest, p)
                               ? filem_meta_get(m, (snprintf(k, sizeof k, "files.absent.%d.dir", nth), k))
                               : NULL;
        if (then && strcmp(then, real)) {
            if (said && o < saidlen)
                filem_fmt(said + o, saidlen - o, "%sleft %s, missing at the snapshot: its directory "
                          "leads to %s now, to %s then (a link changed)", sep, dest, real, then);
            continue;
        }
        const char *dirs[1] = {at};
        struct filem_files_keep keep;
        filem_files_keep_init(&keep, dirs, 1);
        char tag[64];
        const char *seq = filem_meta_get(m, "seq");
        filem_fmt(tag, sizeof tag, "revive-made-after-%s", seq && *seq ? seq : "snapshot");
        filem_files_remove_made(at, &keep, tag, said, saidlen);
        filem_files_keep_free(&keep);
    }
}

int filem_files_restore(const char *seqdir, const struct filem_meta *m,
                        const struct filem_files_moves *mv, int *restored, char *said,
                        size_t saidlen, char *err, size_t errlen)
{
    int n = filem_files_count(m), e = 0, done = 0;
    if (restored)
        *restored = 0;
    if (said && saidlen)
        said[0] = 0;
    if (n == 0) {
        remove_absent(m, mv, said, saidlen);
        return 0;
    }
    /* every destination first: nothing is put back when one cannot be */
    char **dests;
    if ((e = plan(m, n, mv, &dests, said, saidlen, err, errlen)) < 0)
        return e;
    /* what running processes use in the saved directories: a directory put back in place keeps
     * it (files_inuse.h) */
    const char **dirs = calloc((size_t)n, sizeof *dirs);
    int ndirs = 0;
    for (int r = 0; dirs && r < n; r = group_end(m, r, n)) {
        const char *type = get(m, r, "type");
        if (type && !strcmp(type, "dir"))
            dirs[ndirs++] = dests[r];
    }
    struct filem_files_keep keep;
    filem_files_keep_init(&keep, dirs, ndirs);
    free(dirs);
    char *buf = malloc(COPY_BUF);
    if (!buf) {
        filem_fmt(err, errlen, "out of memory");
        e = -ENOMEM;
    }
    for (int r = 0; r < n && e == 0;) {
        int end = group_end(m, r, n);
        e = restore_root(seqdir, m, r, end, dests[r], &keep, said, saidlen, buf, err, errlen);
        if (e == 0)
            done += end - r;
        r = end;
    }
    free(buf);
    filem_files_keep_free(&keep);
    for (int i = 0; i < n; i++)
        free(dests[i]);
    free(dests);
    if (restored)
        *restored = done;
    if (e == 0)
        remove_absent(m, mv, said, saidlen);
    return e;
}
