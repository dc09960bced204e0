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
#include "filem/local_failed.h"
#include "filem/stage.h"
#include "snapc/restart_lock.h"
#include "snapc/util.h"
#include "host_probe.h"
#include "restart_meta_ask.h"

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

/* The good cached sequences of the last scan, newest first: their directories in the cache
 * read, their failed-restart marks (filem/local_failed.h) and the host whose cache held the
 * mark. Re-created with the index. */
struct cseq {
    uint64_t seq;
    unsigned failed;
    int64_t at_ms; /* when its record (a failure or a success) was written, 0 unknown */
    char dir[PATH_MAX];
    char reason[FILEM_REASON_MAX];
    char mark_host[256];
};
static struct cseq found[64];
static int nfound, nscanned; /* good ones; sequence folders seen */

/* The sequences of JOB in the cache LOCAL (this host's, or what HOST sent) with good metadata
 * into found[] (those passed over said, naming HOST, but NAMED). */
static void scan(const char *local, const char *jobdir, const char *job, int64_t named,
                 const char *host)
{
    char w[1024], cj[PATH_MAX];
    uint64_t s;
    filem_fmt(cj, sizeof cj, "%s/%s", local, job);
    DIR *d = opendir(cj);
    uint64_t v[256];
    int nv = 0;
    for (struct dirent *de; d && (de = readdir(d));)
        if (nv < 256 && seq_name(de->d_name, &s))
            v[nv++] = s;
    if (d)
        closedir(d);
    qsort(v, (size_t)nv, sizeof v[0], cmp_desc);
    nfound = 0;
    nscanned = nv;
    for (int i = 0; i < nv && nfound < 64; i++) {
        struct cseq *c = &found[nfound];
        int e = cached_meta(local, jobdir, v[i], c->dir, sizeof c->dir, w, sizeof w);
        if (e == 0) {
            c->seq = v[i];
            c->failed = filem_local_failed_read(c->dir, c->reason, sizeof c->reason, &c->at_ms);
            filem_fmt(c->mark_host, sizeof c->mark_host, "%s", host);
            nfound++;
        } else if (e != -ENOENT && (int64_t)v[i] != named)
            fprintf(stderr, "%s: passing over sequence %llu in %s's node-local cache: %s\n", me,
                    (unsigned long long)v[i], host, w);
    }
}

/* The failed-restart records of found[]'s sequences in the cache LOCAL (another host's answer,
 * restart_meta_ask.h) taken in when they are newer: a restart, failed or not, records itself
 * only in the cache of the host it was run from, and this restart may run elsewhere. */
static void merge_marks(const char *local, const char *job, const char *host)
{
    for (int i = 0; i < nfound; i++) {
        char d[PATH_MAX + 320], r[FILEM_REASON_MAX];
        filem_fmt(d, sizeof d, "%s/%s/%llu", local, job, (unsigned long long)found[i].seq);
        int64_t at;
        unsigned n = filem_local_failed_read(d, r, sizeof r, &at);
        /* the newest record wins: a restart that succeeded after the one that failed (each
         * recorded in the cache of the host it ran from) clears it; records without a time
         * (older Revive) count as before, the most failures */
        if (at > found[i].at_ms || (at == found[i].at_ms && n > found[i].failed)) {
            found[i].failed = n;
            found[i].at_ms = at;
            filem_reason_copy(found[i].reason, sizeof found[i].reason, r);
            filem_fmt(found[i].mark_host, sizeof found[i].mark_host, "%s", host);
        }
    }
}

/* After scan() of the cache LOCAL: sequence NAMED (>= 0), else the newest one of found[] with
 * no failed-restart mark (the sequences passed over said, naming the host whose cache held
 * the mark; when every one is marked, the newest). 0 with *SEQ and CACHED, or -errno with WHY
 * (what the cache lacks, after "LOCAL ..."). */
static int choose(const char *local, const char *jobdir, int64_t named, const char *host,
                  int64_t *seq, char *cached, size_t clen, char *why, size_t wlen)
{
    char w[1024];
    if (named >= 0) {
        int e = cached_meta(local, jobdir, (uint64_t)named, cached, clen, w, sizeof w);
        if (e == -ENOENT)
            filem_fmt(why, wlen, "holds no sequence %lld of it", (long long)named);
        else if (e < 0)
            filem_fmt(why, wlen, "cannot restart sequence %lld of it either: %s", (long long)named, w);
        if (e < 0)
            return e;
        *seq = named;
        return 0;
    }
    if (nfound == 0) {
        filem_fmt(why, wlen, "holds no committed sequence of it with its %s%s", FILEM_META_NAME,
                  nscanned ? "" : " (no sequence at all)");
        return -ENOENT;
    }
    int take = 0;
    while (take < nfound && found[take].failed)
        take++;
    if (take == nfound) {
        take = 0;
        fprintf(stderr, "%s: warning: every committed sequence of %s cached on %s failed a "
                        "restart before; trying the newest (%llu) again\n",
                me, jobdir, host, (unsigned long long)found[0].seq);
    } else
        for (int i = 0; i < take; i++) /* as the default restart says it (restart_choose.c) */
            fprintf(stderr,
                    "%s: skipping sequence %llu of %s: %u restart%s from it failed (%s), "
                    "recorded in %s's node-local cache; taking sequence %llu (--seq %llu tries "
                    "it again)\n",
                    me, (unsigned long long)found[i].seq, jobdir, found[i].failed,
                    found[i].failed == 1 ? "" : "s",
                    found[i].reason[0] ? found[i].reason : "no reason recorded",
                    found[i].mark_host, (unsigned long long)found[take].seq,
                    (unsigned long long)found[i].seq);
    filem_fmt(cached, clen, "%s", found[take].dir);
    *seq = (int64_t)found[take].seq;
    return 0;
}

/* The hosts the other copies of found[]'s sequences are cached on (snapshot.meta's rank.N.host
 * and rank.N.partner.host), added to H (N so far, at most MAX) but SELF, each once. */
static void holders(char (*h)[256], int *n, int max, const char *self)
{
    for (int i = 0; i < nfound; i++) {
        struct filem_meta m;
        char w[512];
        if (filem_meta_read(found[i].dir, &m, w, sizeof w) < 0)
            continue;
        uint64_t nr = 0;
        if (filem_meta_get_u64(&m, "ranks", &nr) < 0 || nr > (1u << 20))
            nr = 0;
        for (uint64_t r = 0; r < nr; r++)
            for (int p = 0; p < 2; p++) {
                char k[64];
                snprintf(k, sizeof k, p ? "rank.%llu.partner.host" : "rank.%llu.host",
                         (unsigned long long)r);
                const char *x = filem_meta_get(&m, k);
                int known = !x || !*x || strlen(x) >= 256 || host_probe_this_host(x) ||
                            !strcmp(x, self);
                for (int j = 0; j < *n && !known; j++)
                    known = !strcmp(h[j], x);
                if (!known && *n < max)
                    snprintf(h[(*n)++], 256, "%s", x);
            }
        filem_meta_free(&m);
    }
}

static char from_who[300], from_path[PATH_MAX + 300], gone_dir[PATH_MAX];

const char *restart_cache_from_who(void)
{
    return from_who;
}

const char *restart_cache_from_path(void)
{
    return from_path;
}

const char *restart_cache_gone(void)
{
    return gone_dir;
}

int restart_cache_find(const char *ref, const char *local, long want_seq, char *const *ask,
                       int nask, const char *rrank, const char *recreate_in, char *jobdir,
                       size_t jlen, int64_t *seq, char *cached, size_t clen, char *err,
                       size_t errlen)
{
    char abs[PATH_MAX], gone[PATH_MAX];
    if (absolute(ref, abs, sizeof abs, gone, sizeof gone) < 0)
        return 0;
    char *base = strrchr(abs, '/');
    uint64_t s;
    int64_t named = -1;
    if (!base)
        return 0; /* "/" itself (its absolute form is empty): no reference (it crashed here) */
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
    int n0 = filem_missing_ref_words(ref, gone, err, errlen);
    char *tail = err + (n0 > 0 && (size_t)n0 < errlen ? (size_t)n0 : 0);
    size_t tlen = errlen - (size_t)(tail - err);
    *base = 0;
    const char *parent = *abs ? abs : "/";
    struct stat st;
    if (!recreate_in && (stat(parent, &st) < 0 || !S_ISDIR(st.st_mode))) {
        filem_fmt(tail, tlen, "; a restart from the node-local caches re-creates the job directory "
                             "where it was, in %s, which is missing too: mount that file system "
                             "(storage every host sees) and run again, or re-create it elsewhere "
                             "with --recreate-in DIR", parent);
        return -ENOENT;
    }
    *base = '/';
    filem_fmt(gone_dir, sizeof gone_dir, "%s", abs);
    if (recreate_in) {
        /* the storage is gone: the job directory made again in DIR, same name (the caches
         * know it by its name); the metadata still names the old place */
        char real[PATH_MAX];
        errno = 0;
        if (!realpath(recreate_in, real) || stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
            filem_fmt(tail, tlen, "; --recreate-in %s: %s", recreate_in,
                      errno ? strerror(errno) : "not a directory");
            return -ENOENT;
        }
        if ((size_t)filem_fmt(jobdir, jlen, "%s/%s", strcmp(real, "/") ? real : "", base + 1) >= jlen)
            return 0;
        if (access(jobdir, F_OK) == 0) {
            filem_fmt(err, errlen, "--recreate-in %s: %s exists already (re-created before? "
                                   "restart it: restart-mpi %s)", recreate_in, jobdir, jobdir);
            return -EEXIST;
        }
    } else if ((size_t)filem_fmt(jobdir, jlen, "%s", abs) >= jlen)
        return 0;
    const char *orig = gone_dir; /* the reference the cached copies name */
    char ldef[PATH_MAX] = "", why[1024] = "";
    if (local && !strcmp(local, FILEM_LOCAL_NONE)) {
        filem_fmt(tail, tlen, "; with --ckpt-local none no node-local cache is read: bring that "
                             "directory back and run again");
        return -ENOENT;
    }
    int e = -ENOENT, dflt = !local;
    if (!local) {
        char w[512];
        if (filem_local_default(ldef, sizeof ldef, 0, w, sizeof w) < 0)
            filem_fmt(why, sizeof why, "cannot be read (%s)", w);
        else
            local = ldef;
    }
    char why2[4096];
    if (local)
        scan(local, orig, base + 1, named, host);
    /* the other hosts are asked: for the metadata when this host's cache holds none, for their
     * failed-restart marks of it when it does (a failed restart marks only the cache of the
     * host it ran from): the hosts named to restart-mpi and the others holding copies, all at
     * once (restart_meta_ask.h) */
    char others[64][256], *ov[64];
    int no = 0, mine = 0;
    if (local && named >= 0) /* named: marks do not change the choice */
        mine = (e = choose(local, orig, named, host, seq, cached, clen, why, sizeof why)) == 0;
    else if (local)
        mine = nfound > 0;
    for (int i = 0; i < nask && no < 64 && !(mine && named >= 0); i++) {
        int known = host_probe_this_host(ask[i]);
        for (int j = 0; j < no && !known; j++)
            known = !strcmp(others[j], ask[i]);
        if (!known)
            snprintf(others[no++], 256, "%s", ask[i]);
    }
    if (mine && named < 0)
        holders(others, &no, 64, host);
    for (int i = 0; i < no; i++)
        ov[i] = others[i];
    struct restart_meta_answer *ans = no ? calloc((size_t)no, sizeof *ans) : NULL;
    if (no && !ans)
        no = 0;
    if (no && mine && named < 0)
        restart_meta_ask_marks(ov, no, dflt ? NULL : local, jobdir, rrank, ans);
    else if (no)
        restart_meta_ask_all(ov, no, dflt ? NULL : local, jobdir, rrank, ans);
    if (mine && named < 0) {
        struct snapc_sbuf silent = {0};
        for (int i = 0; i < no; i++)
            if (ans[i].rc == 0)
                merge_marks(ans[i].dir, base + 1, ov[i]);
            else /* before, silent: a mark only that host held was not known, without a word */
                snapc_sb_printf(&silent, "%s%s (%s)", silent.len ? ", " : "", ov[i], ans[i].why);
        if (silent.len)
            fprintf(stderr, "%s: warning: no failed-restart records from %s: a restart that "
                            "failed from a sequence and was recorded only there is not known\n",
                    me, silent.p);
        snapc_sb_free(&silent);
        e = choose(local, orig, named, host, seq, cached, clen, why, sizeof why);
    } else if (local && named < 0)
        e = choose(local, orig, named, host, seq, cached, clen, why, sizeof why);
    if (e == 0) {
        free(ans);
        snprintf(from_who, sizeof from_who, "this host's");
        snprintf(from_path, sizeof from_path, "%s", cached);
        return 1;
    }
    /* this host's cache has none: the first host asked, in order, that sent a good copy */
    struct snapc_sbuf asked = {0};
    for (int i = 0; i < no; i++) {
        char w[1024];
        int a = ans[i].rc;
        snapc_fmt(w, sizeof w, "%s", ans[i].why);
        if (a == 0) {
            scan(ans[i].dir, orig, base + 1, named, ov[i]);
            for (int j = 0; j < no; j++)
                if (j != i && ans[j].rc == 0)
                    merge_marks(ans[j].dir, base + 1, ov[j]);
            a = choose(ans[i].dir, orig, named, ov[i], seq, cached, clen, w, sizeof w);
        }
        if (a == 0) {
            snprintf(from_who, sizeof from_who, "%s's", ov[i]);
            snprintf(from_path, sizeof from_path, "%s/%s/%lld",
                     dflt ? "its default cache" : local, base + 1, (long long)*seq);
            fprintf(stderr, "%s: %s's node-local cache has no copy of its %s (%s); took the one "
                            "in %s's node-local cache\n",
                    me, host, FILEM_META_NAME, why, ov[i]);
            snapc_sb_free(&asked);
            free(ans);
            return 1;
        }
        if (a == -ENOENT && !strncmp(w, "holds no ", 9))
            snapc_fmt(w, sizeof w, "holds no copy either");
        snapc_sb_printf(&asked, "%s%s: %s", asked.len ? "; " : "", ov[i], w);
    }
    free(ans);
    snapc_fmt(why2, sizeof why2, "%s%s%s%s", why, asked.len ? " (asked too: " : "",
              asked.len ? asked.p : "", asked.len ? ")" : "");
    snapc_sb_free(&asked);
    filem_fmt(tail, tlen, "; %s's node-local cache (%s) %s: run restart-mpi on a host the job "
                         "ran on (with its --ckpt-local), name such hosts with --meta-from, or "
                         "bring that directory back",
             host, local ? local : "its default one", why2);
    return e;
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
    /* the index as it was: the other committed sequences the cache holds (their metadata;
     * their images stay in the caches, fetched when one is restarted) and the restarts that
     * failed from them (filem/local_failed.h), so that the default restart still skips those */
    for (int i = 0; i < nfound; i++) {
        if (found[i].seq == seq)
            continue;
        char sd[PATH_MAX], w[512];
        filem_seq_path(sd, sizeof sd, jobdir, found[i].seq);
        filem_fmt(from, sizeof from, "%s/%s", found[i].dir, FILEM_META_NAME);
        filem_fmt(to, sizeof to, "%s/%s", sd, FILEM_META_NAME);
        b = NULL;
        int x = mkdir(sd, 0700) < 0 ? -errno : 0;
        if (x < 0) /* said as such: w holds nothing yet; and not ours to remove */
            fprintf(stderr, "%s: warning: sequence %llu not re-created beside it: cannot make "
                            "%s: %s\n", me, (unsigned long long)found[i].seq, sd, strerror(-x));
        if (x < 0)
            continue;
        if ((x = filem_read_private_file(from, FILEM_FILE_MAX, &b, &len, w, sizeof w)) == 0)
            x = crs_durable_write_file(to, b, len, 0600, w, sizeof w);
        free(b);
        if (x < 0) {
            fprintf(stderr, "%s: warning: sequence %llu not re-created beside it: %s\n", me,
                    (unsigned long long)found[i].seq, w);
            unlink(to);
            rmdir(sd);
        }
    }
    char w[512];
    int x = filem_index_update(jobdir, w, sizeof w);
    for (int i = 0; i < nfound && x == 0; i++)
        for (unsigned k = 0; k < found[i].failed && k < 100 && x == 0; k++)
            x = filem_index_mark_failed(jobdir, found[i].seq, found[i].reason, w, sizeof w);
    if (x < 0)
        fprintf(stderr, "%s: warning: the index of %s not rebuilt: %s\n", me, jobdir, w);
    revive_fsync_dir(jobdir);
    revive_fsync_dir(parent);
    return 0;
}

int restart_cache_undo(const char *jobdir, uint64_t seq)
{
    char err[512], path[PATH_MAX + 32];
    filem_seq_remove(jobdir, seq, err, sizeof err);
    for (int i = 0; i < nfound; i++) /* the others re-created beside it */
        filem_seq_remove(jobdir, found[i].seq, err, sizeof err);
    filem_fmt(path, sizeof path, "%s/%s", jobdir, FILEM_INDEX_NAME);
    unlink(path);
    filem_trash_clean(jobdir);
    snapc_restart_lock_drop(jobdir);
    if (rmdir(jobdir) == 0 || errno == ENOENT)
        return 0;
    return -errno;
}
