/* Retention over a node's cache: the shared job directory decides (local_retain.h). */
#define _GNU_SOURCE
#include "filem/local_retain.h"
#include "filem/alive.h"
#include "filem/dir_lock.h"
#include "filem/local_gc.h"
#include "filem/local_meta.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

long long filem_local_seq_name(const char *n)
{
    if (!*n || strspn(n, "0123456789") != strlen(n) || strlen(n) > 18)
        return -1;
    return strtoll(n, NULL, 10);
}

int filem_local_rmjob(const char *dir)
{
    if (rmdir(dir) == 0)
        return 0;
    if (errno != ENOTEMPTY && errno != EEXIST)
        return -errno;
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    int other = 0;
    for (struct dirent *e; (e = readdir(d));)
        other |= strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
                 strcmp(e->d_name, FILEM_LOCAL_JOBDIR_NAME);
    closedir(d);
    if (other)
        return -ENOTEMPTY;
    char note[PATH_MAX];
    if ((size_t)snprintf(note, sizeof note, "%s/%s", dir, FILEM_LOCAL_JOBDIR_NAME) >= sizeof note)
        return -ENAMETOOLONG;
    unlink(note);
    return rmdir(dir) == 0 ? 0 : -errno;
}

int filem_local_remove_seq(int jfd, const char *name)
{
    int fd = openat(jfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        close(fd);
        return e == EWOULDBLOCK ? 0 : -e;
    }
    int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0); /* (fdopendir takes it; no exec inherits it) */
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        close(fd);
        return -ENOMEM;
    }
    for (struct dirent *e; (e = readdir(d));)
        if (filem_local_store_name(e->d_name))
            unlinkat(fd, e->d_name, 0);
    closedir(d);
    /* removed while still locked: a reader that opens it now finds it gone, never half gone */
    int r = unlinkat(jfd, name, AT_REMOVEDIR) == 0 ? 1 : -errno;
    close(fd);
    return r;
}

int filem_local_keep(const char *shared_seqdir)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/snapshot.meta", shared_seqdir);
    FILE *f = fopen(path, "re");
    if (!f)
        return 1;
    char line[256];
    long keep = 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "ckpt.keep ", 10)) {
            keep = strtol(line + 10, NULL, 10);
            break;
        }
    fclose(f);
    return keep >= 1 && keep < 1000000 ? (int)keep : 1;
}

int filem_local_split_seq(const char *seqdir, char *out, size_t len, long long *seq)
{
    if ((size_t)snprintf(out, len, "%s", seqdir) >= len)
        return -ENAMETOOLONG;
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/')
        out[--n] = 0;
    char *s = strrchr(out, '/');
    if (!s || s == out)
        return -EINVAL;
    *s = 0;
    *seq = filem_local_seq_name(s + 1);
    return *seq < 0 ? -EINVAL : 0;
}

int filem_local_committed(const char *sjob, long long seq)
{
    char meta[PATH_MAX + 64];
    if ((size_t)snprintf(meta, sizeof meta, "%s/%lld/snapshot.meta", sjob, seq) >= sizeof meta)
        return -ENAMETOOLONG;
    if (access(meta, F_OK) == 0)
        return 1;
    return errno == ENOENT ? 0 : -errno;
}

static int cmp_desc(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

int filem_local_list_below(const char *ljob, long long below, int *jfdp, long long **seqs, size_t *np)
{
    *seqs = NULL;
    *np = 0;
    int jfd = open(ljob, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (jfd < 0)
        return -errno;
    int dfd = fcntl(jfd, F_DUPFD_CLOEXEC, 0);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        close(jfd);
        return -ENOMEM;
    }
    long long *v = NULL;
    size_t n = 0, cap = 0;
    int cut = 0;
    for (struct dirent *e; (e = readdir(d));) {
        long long q = filem_local_seq_name(e->d_name);
        if (q < 0 || q >= below)
            continue;
        if (n == cap) {
            long long *nv = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof *v);
            if (!nv) {
                cut = 1;
                break;
            }
            v = nv;
        }
        v[n++] = q;
    }
    closedir(d);
    if (n)
        qsort(v, n, sizeof *v, cmp_desc);
    *jfdp = jfd;
    *seqs = v;
    *np = n;
    return cut;
}

int filem_local_list_older(const char *local_seqdir, const char *shared_seqdir, char *ljob,
                           char *sjob, int *jfd, long long **seqs, size_t *n)
{
    long long current, sseq;
    int e = filem_local_split_seq(local_seqdir, ljob, PATH_MAX, &current);
    if (e == 0)
        e = filem_local_split_seq(shared_seqdir, sjob, PATH_MAX, &sseq);
    if (e < 0)
        return e;
    struct stat st;
    if (stat(sjob, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    return filem_local_list_below(ljob, current, jfd, seqs, n);
}

/* Applies the rule to the cached job directory LJOB (shared job directory SJOB): its sequences
 * below `below`, newest first, are kept while *kept < keep and still committed in SJOB, else
 * removed (a locked one stays, counted busy). 0 or -errno (LJOB cannot be read). */
static int retain_job(const char *ljob, const char *sjob, long long below, int keep, int *kept,
                      struct filem_local_retain_stats *s)
{
    /* the older cached sequences, newest first (a list cut short by memory: those listed) */
    int jfd;
    long long *v;
    size_t n;
    int e = filem_local_list_below(ljob, below, &jfd, &v, &n);
    if (e < 0)
        return e;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        /* still committed in the shared directory and among the `keep` newest: kept */
        char name[32];
        if (*kept < keep && filem_local_committed(sjob, v[i]) > 0) {
            (*kept)++;
            s->kept++;
            continue;
        }
        snprintf(name, sizeof name, "%lld", v[i]);
        int r = filem_local_remove_seq(jfd, name);
        if (r > 0)
            s->removed++;
        else if (r == 0)
            s->busy++;
        else if (r != -ENOENT && rc == 0)
            rc = r; /* ENOENT: another rank of this node removed it first (review: a warning) */
    }
    free(v);
    close(jfd);
    return rc;
}

/* The value of KEY in SEQDIR/snapshot.meta when it is a plain path (no escapes), else "". */
static void meta_path(const char *seqdir, const char *key, char *out, size_t len)
{
    char path[PATH_MAX + 32], line[PATH_MAX + 64];
    size_t kl = strlen(key);
    out[0] = 0;
    snprintf(path, sizeof path, "%s/snapshot.meta", seqdir);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ' ') {
            char *v = line + kl + 1;
            v[strcspn(v, "\n")] = 0;
            if (!strchr(v, '\\') && strlen(v) < len)
                memcpy(out, v, strlen(v) + 1);
            break;
        }
    fclose(f);
}

int filem_superseded_index_path(const char *base, char *out, size_t len)
{
    int n = snprintf(out, len, "%s/%s%u", base, FILEM_SUPERSEDED_INDEX, (unsigned)geteuid());
    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The caches in LOCAL of other jobs that BASE (this job's snapshot directory) lists as
 * superseded (FILEM_SUPERSEDED_INDEX; the mark FILEM_SUPERSEDED_NAME in their job directory says
 * so): every sequence of theirs goes but one a restart has locked, then their job directory.
 * SKIP: "/name/" for each job directory of this job's own chain (the rule above decides for them).
 * Only the listed jobs are looked at, a job with no cache here by one lookup in LOCAL: before,
 * every cache of the node was looked up in BASE at every commit of every rank (snapc49: 200
 * ended jobs' caches, 200 lookups on shared storage per rank per commit, none superseded). */
static void sweep_superseded(const char *local, const char *base, const char *skip,
                             struct filem_local_retain_stats *s)
{
    char index[PATH_MAX];
    if (filem_superseded_index_path(base, index, sizeof index) < 0)
        return;
    DIR *d = opendir(index);
    if (!d)
        return; /* nothing superseded in BASE (or a Revive before the index: the collection takes those) */
    for (struct dirent *e; (e = readdir(d));) {
        const char *n = e->d_name;
        char key[NAME_MAX + 3], mark[PATH_MAX], ljob[PATH_MAX], sjob[PATH_MAX];
        struct stat st;
        if (strncmp(n, "revive_global_snapshot_", 23) != 0)
            continue;
        snprintf(key, sizeof key, "/%s/", n);
        if (strstr(skip, key))
            continue;
        if ((size_t)snprintf(ljob, sizeof ljob, "%s/%s", local, n) >= sizeof ljob || lstat(ljob, &st) != 0 ||
            !S_ISDIR(st.st_mode))
            continue; /* no cache of it on this node */
        if ((size_t)snprintf(sjob, sizeof sjob, "%s/%s", base, n) >= sizeof sjob ||
            (size_t)snprintf(mark, sizeof mark, "%s/%s", sjob, FILEM_SUPERSEDED_NAME) >= sizeof mark)
            continue;
        if (access(mark, F_OK) != 0) {
            /* its job directory removed (or the mark): no longer superseded here; its cache is
             * the collection's (local_gc.h), the entry goes */
            if (errno == ENOENT && stat(sjob, &st) != 0 && errno == ENOENT)
                unlinkat(dirfd(d), n, 0);
            continue;
        }
        if (filem_job_alive(sjob))
            continue;
        struct filem_local_retain_stats js = {0};
        int kept = 0;
        int r = retain_job(ljob, sjob, LLONG_MAX, 0, &kept, &js);
        if (r == 0)
            r = filem_local_rmjob(ljob);
        /* Swept by this rank: it removed the directory, or removed sequences of it and then
         * found it gone. Another agent of this node sweeps at the same commit, and its cache
         * collection (local_gc.h) follows its sweep: the one that removes the sequences may
         * lose the last rmdir to the other, and then neither said it (CI, make -j2: "no rank
         * of job c said it removed the cache"). */
        if (r == 0 || (r == -ENOENT && js.removed))
            s->swept++;
        s->removed += js.removed;
        s->busy += js.busy;
    }
    closedir(d);
}

int filem_local_retain(const char *local_seqdir, const char *shared_seqdir, int keep,
                       struct filem_local_retain_stats *st)
{
    struct filem_local_retain_stats s = {0};
    char ljob[PATH_MAX], sjob[PATH_MAX];
    long long current, sseq;
    int e = filem_local_split_seq(local_seqdir, ljob, sizeof ljob, &current);
    if (e == 0)
        e = filem_local_split_seq(shared_seqdir, sjob, sizeof sjob, &sseq);
    if (e < 0)
        return e;
    if (keep < 1)
        keep = 1;
    int kept = 1; /* the current one */
    int rc = retain_job(ljob, sjob, current, keep, &kept, &s);
    /* The jobs this one was restarted from (snapshot.meta's parent.jobdir, parent.seq, up the
     * chain): their sequences cached on this node are older than any of this job's, so the
     * same rule applies to them, or they would stay for ever once the job goes on under a new
     * name. Each is cached beside this job's (LOCAL/<its job directory name>). */
    char seqdir[PATH_MAX], pjob[PATH_MAX], pseq[32];
    snprintf(seqdir, sizeof seqdir, "%s", shared_seqdir);
    /* this job's own chain, "/name/" each, which the sweep below leaves to this rule */
    size_t skcap = 4096, skl = 0;
    char *skip = malloc(skcap);
    const char *own = strrchr(ljob, '/');
    if (skip)
        skl = (size_t)snprintf(skip, skcap, "%s/", own ? own : "/");
    for (int depth = 0; rc == 0 && depth < 64; depth++) {
        meta_path(seqdir, "parent.jobdir", pjob, sizeof pjob);
        meta_path(seqdir, "parent.seq", pseq, sizeof pseq);
        const char *base = strrchr(pjob, '/');
        if (!pjob[0] || !base || !base[1] || filem_local_seq_name(pseq) < 0 ||
            !strcmp(pjob, sjob))
            break;
        char lparent[PATH_MAX];
        /* ljob's parent directory is LOCAL */
        char local[PATH_MAX];
        snprintf(local, sizeof local, "%s", ljob);
        char *cut = strrchr(local, '/');
        if (!cut)
            break;
        *cut = 0;
        if ((size_t)snprintf(lparent, sizeof lparent, "%s%s", local, base) >= sizeof lparent)
            break;
        if (skip && skl + strlen(base) + 2 < skcap)
            skl += (size_t)snprintf(skip + skl, skcap - skl, "%s/", base);
        /* a job restarted while it still runs (beside it) keeps its caches: they are its own */
        int r = filem_job_alive(pjob) ? -EBUSY : retain_job(lparent, pjob, LLONG_MAX, keep, &kept, &s);
        if (r == 0)
            filem_local_rmjob(lparent); /* nothing left of that job on this node: its directory goes too */
        if ((size_t)snprintf(seqdir, sizeof seqdir, "%s/%s", pjob, pseq) >= sizeof seqdir)
            break;
    }
    if (rc == 0 && skip) {
        /* LOCAL is ljob's parent, the snapshot directory sjob's */
        char local[PATH_MAX], sbase[PATH_MAX];
        snprintf(local, sizeof local, "%s", ljob);
        snprintf(sbase, sizeof sbase, "%s", sjob);
        char *cut = strrchr(local, '/'), *scut = strrchr(sbase, '/');
        if (cut && cut != local && scut && scut != sbase) {
            *cut = *scut = 0;
            sweep_superseded(local, sbase, skip, &s);
        }
    }
    free(skip);
    if (st)
        *st = s;
    return rc;
}

int filem_local_lock_shared(const char *dir)
{
    /* filem_local_remove_seq removes the directory while it holds the lock */
    return filem_dir_lock(dir, 0, -1);
}

int filem_local_lock_exclusive(const char *dir, int wait_ms)
{
    return filem_dir_lock(dir, 1, wait_ms);
}
