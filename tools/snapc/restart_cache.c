/* restart-mpi's restart from the node-local caches once the snapshot directory is gone
 * (restart_cache.h). */
#define _GNU_SOURCE
#include "restart_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dirsync.h"
#include "crs/base/durable.h"
#include "filem/filem.h"
#include "filem/stage.h"
#include "snapc/restart_lock.h"

static const char *me = "restart-mpi";

static int job_name(const char *b)
{
    size_t n = strlen(b), pl = strlen(FILEM_JOB_PREFIX), sl = strlen(FILEM_JOB_SUFFIX);
    return n > pl + sl && !strncmp(b, FILEM_JOB_PREFIX, pl) &&
           !strcmp(b + n - sl, FILEM_JOB_SUFFIX);
}

static int seq_name(const char *b, uint64_t *s)
{
    if (!*b || strspn(b, "0123456789") != strlen(b) || strlen(b) > 18)
        return 0;
    *s = strtoull(b, NULL, 10);
    return 1;
}

/* REF made absolute without it existing: the deepest folder of it that exists resolved
 * (realpath), the missing rest appended as named (no "." or ".." in it); GONE the highest
 * missing folder. 0, or -EINVAL. */
static int absolute(const char *ref, char *out, size_t len, char *gone, size_t glen)
{
    char p[PATH_MAX], cwd[PATH_MAX], real[PATH_MAX];
    if (ref[0] != '/' && !getcwd(cwd, sizeof cwd))
        return -EINVAL;
    if ((size_t)filem_fmt(p, sizeof p, "%s%s%s", ref[0] == '/' ? "" : cwd,
                         ref[0] == '/' ? "" : "/", ref) >= sizeof p)
        return -EINVAL;
    size_t cut = strlen(p);
    while (cut > 1 && p[cut - 1] == '/')
        p[--cut] = 0;
    for (;;) { /* the longest prefix ending at a '/' that exists */
        char save = p[cut];
        p[cut] = 0;
        int ok = realpath(cut ? p : "/", real) != NULL;
        p[cut] = save;
        if (ok)
            break;
        while (cut > 0 && p[cut - 1] != '/')
            cut--;
        if (cut > 0)
            cut--; /* the '/' itself */
    }
    const char *rest = p + cut, *root = strcmp(real, "/") ? real : "";
    for (const char *c = rest; *c;) { /* the missing part named plainly */
        c += strspn(c, "/");
        size_t l = strcspn(c, "/");
        if ((l == 1 && c[0] == '.') || (l == 2 && c[0] == '.' && c[1] == '.'))
            return -EINVAL;
        c += l;
    }
    size_t first = *rest ? 1 + strcspn(rest + 1, "/") : 0;
    filem_fmt(gone, glen, "%s%.*s", root, (int)first, rest);
    return (size_t)filem_fmt(out, len, "%s%s", root, rest) >= len ? -EINVAL : 0;
}

/* The cached sequence SEQ of JOBDIR in LOCAL, checked: 0 and CACHED filled, or -errno and WHY. */
static int cached_meta(const char *local, const char *jobdir, uint64_t seq, char *cached,
                       size_t clen, char *why, size_t wlen)
{
    char seqdir[PATH_MAX], ref[PATH_MAX + 32];
    filem_seq_path(seqdir, sizeof seqdir, jobdir, seq);
    int e = filem_local_seq_dir(local, seqdir, 0, cached, clen, why, wlen);
    if (e < 0)
        return e;
    struct filem_meta m;
    if ((e = filem_meta_read(cached, &m, why, wlen)) < 0)
        return e;
    const char *r = filem_meta_get(&m, "reference"), *st = filem_meta_get(&m, "state");
    filem_fmt(ref, sizeof ref, "%s", seqdir);
    if (!r || strcmp(r, ref) != 0) {
        filem_fmt(why, wlen, "%s/%s belongs to another snapshot (%s), not %s", cached,
                 FILEM_META_NAME, r ? r : "none named", seqdir);
        e = -ESTALE;
    } else if (!st || strcmp(st, "committed") != 0) {
        filem_fmt(why, wlen, "%s/%s is not of a committed sequence", cached, FILEM_META_NAME);
        e = -EINVAL;
    }
    filem_meta_free(&m);
    return e;
}

static int cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

int restart_cache_find(const char *ref, const char *local, long want_seq, char *jobdir,
                       size_t jlen, int64_t *seq, char *cached, size_t clen, char *err,
                       size_t errlen)
{
    char abs[PATH_MAX], gone[PATH_MAX];
    if (absolute(ref, abs, sizeof abs, gone, sizeof gone) < 0)
        return 0;
    char *base = strrchr(abs, '/');
    uint64_t s;
    int64_t named = -1;
    if (seq_name(base + 1, &s)) {
        named = (int64_t)s;
        *base = 0;
        base = strrchr(abs, '/');
    }
    if (!base || !job_name(base + 1) || access(abs, F_OK) == 0)
        return 0; /* not a reference, or its job directory is there: not this case */
    if (named >= 0 && want_seq >= 0 && want_seq != named) {
        filem_fmt(err, errlen, "%s is sequence %lld; --seq %ld names another", ref,
                 (long long)named, want_seq);
        return -EINVAL;
    }
    if (named < 0)
        named = want_seq;
    char host[256] = "this host";
    if (gethostname(host, sizeof host) < 0)
        filem_fmt(host, sizeof host, "this host");
    host[sizeof host - 1] = 0;
    int n0 = filem_fmt(err, errlen, "%s does not exist: %s is gone (removed, or its file system is "
                                   "not mounted on this host)",
                      ref, gone);
    char *tail = err + (n0 > 0 && (size_t)n0 < errlen ? (size_t)n0 : 0);
    size_t tlen = errlen - (size_t)(tail - err);
    *base = 0;
    const char *parent = *abs ? abs : "/";
    struct stat st;
    if (stat(parent, &st) < 0 || !S_ISDIR(st.st_mode)) {
        filem_fmt(tail, tlen, "; a restart from the node-local caches re-creates the job directory "
                             "where it was, in %s, which is missing too: mount that file system "
                             "(storage every host sees) and run again", parent);
        return -ENOENT;
    }
    *base = '/';
    if ((size_t)filem_fmt(jobdir, jlen, "%s", abs) >= jlen)
        return 0;
    char ldef[PATH_MAX], why[1024] = "";
    if (local && !strcmp(local, FILEM_LOCAL_NONE)) {
        filem_fmt(tail, tlen, "; with --ckpt-local none no node-local cache is read: bring that "
                             "directory back and run again");
        return -ENOENT;
    }
    if (!local) {
        if (filem_local_default(ldef, sizeof ldef, 0, why, sizeof why) < 0) {
            filem_fmt(tail, tlen, "; %s's node-local cache cannot be read (%s): run restart-mpi "
                                 "on a host the job ran on, with its --ckpt-local", host, why);
            return -ENOENT;
        }
        local = ldef;
    }
    if (named >= 0) {
        int e = cached_meta(local, jobdir, (uint64_t)named, cached, clen, why, sizeof why);
        if (e < 0) {
            filem_fmt(tail, tlen, "; %s's node-local cache (%s) cannot restart sequence %lld of it "
                                 "either: %s; run restart-mpi on a host the job ran on (with "
                                 "its --ckpt-local), or bring that directory back",
                     host, local, (long long)named, why);
            return e;
        }
        *seq = named;
        return 1;
    }
    /* the newest cached sequence with good metadata */
    char cj[PATH_MAX];
    filem_fmt(cj, sizeof cj, "%s/%s", local, base + 1);
    DIR *d = opendir(cj);
    uint64_t v[256];
    int nv = 0;
    for (struct dirent *de; d && (de = readdir(d));)
        if (nv < 256 && seq_name(de->d_name, &s))
            v[nv++] = s;
    if (d)
        closedir(d);
    qsort(v, (size_t)nv, sizeof v[0], cmp_desc);
    for (int i = 0; i < nv; i++) {
        char w[1024];
        int e = cached_meta(local, jobdir, v[i], cached, clen, w, sizeof w);
        if (e == 0) {
            *seq = (int64_t)v[i];
            return 1;
        }
        if (e != -ENOENT)
            fprintf(stderr, "%s: passing over sequence %llu in %s's node-local cache: %s\n", me,
                    (unsigned long long)v[i], host, w);
    }
    filem_fmt(tail, tlen, "; %s's node-local cache (%s) holds no committed sequence of it with its "
                         "%s%s%s: run restart-mpi on a host the job ran on (with its "
                         "--ckpt-local), or bring that directory back",
             host, local, FILEM_META_NAME, nv ? "" : " (", nv ? "" : "no sequence at all)");
    return -ENOENT;
}

int restart_cache_recreate(const char *jobdir, uint64_t seq, const char *cached, char *err,
                           size_t errlen)
{
    char seqdir[PATH_MAX], from[PATH_MAX + 32], to[PATH_MAX + 32], parent[PATH_MAX];
    filem_seq_path(seqdir, sizeof seqdir, jobdir, seq);
    filem_fmt(from, sizeof from, "%s/%s", cached, FILEM_META_NAME);
    filem_fmt(to, sizeof to, "%s/%s", seqdir, FILEM_META_NAME);
    filem_fmt(parent, sizeof parent, "%s", jobdir);
    char *sl = strrchr(parent, '/');
    if (sl)
        *(sl == parent ? sl + 1 : sl) = 0;
    if (mkdir(jobdir, 0700) < 0) {
        int e = errno;
        filem_fmt(err, errlen, "cannot re-create %s: %s%s", jobdir, strerror(e),
                 e == EEXIST ? " (it appeared meanwhile: run again)" : "");
        return -e;
    }
    char *b = NULL;
    size_t len = 0;
    struct filem_meta m;
    int e = mkdir(seqdir, 0700) < 0 ? -errno : 0;
    if (e < 0)
        filem_fmt(err, errlen, "cannot make %s: %s", seqdir, strerror(-e));
    else if ((e = filem_read_private_file(from, FILEM_FILE_MAX, &b, &len, err, errlen)) < 0)
        ;
    else if ((e = crs_durable_write_file(to, b, len, 0600, err, errlen)) < 0)
        ;
    else if ((e = filem_meta_read(seqdir, &m, err, errlen)) == 0)
        filem_meta_free(&m); /* the copy as restart-mpi reads it, checksum and all */
    free(b);
    if (e < 0) {
        unlink(to);
        rmdir(seqdir);
        rmdir(jobdir);
        return e;
    }
    revive_fsync_dir(jobdir);
    revive_fsync_dir(parent);
    return 0;
}

void restart_cache_undo(const char *jobdir, uint64_t seq)
{
    char err[512];
    filem_seq_remove(jobdir, seq, err, sizeof err);
    filem_trash_clean(jobdir);
    snapc_restart_lock_drop(jobdir);
    rmdir(jobdir);
}
