/* Garbage collection of a node's cache: what no restart can need any more goes (local_gc.h). */
#define _GNU_SOURCE
#include "filem/local_gc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "filem/alive.h"
#include "filem/local_retain.h"

static void say(filem_local_gc_report r, void *arg, const char *job, long long seq, int removed,
                const char *why)
{
    if (r)
        r(arg, job, seq, removed, why);
}

/* ".NAME.tmp.PID" or ".NAME.tmp.PID.N" (crs_durable_open's name once ".NAME.tmp.PID" was taken:
 * such partial images were never swept, diffrev L4): PID, else 0 */
static pid_t tmp_writer(const char *n)
{
    const char *t = n[0] == '.' ? strstr(n, ".tmp.") : NULL;
    if (!t)
        return 0;
    const char *p = t + 5;
    size_t d = strspn(p, "0123456789");
    if (!d || (p[d] && (p[d] != '.' || !p[d + 1] || strspn(p + d + 1, "0123456789") != strlen(p + d + 1))))
        return 0;
    return (pid_t)atol(p);
}

/* Whether a writer still has the partial image at p open: crs_durable_open holds a lock on each
 * temporary file (flock) until it is renamed or removed. A writer in another pid namespace that
 * shares this directory (its PID names nobody here, or someone else) holds it too, where kill(2)
 * alone took it for gone (diffrev L4). Returns -1 when the file is not there any more, 1 held, 0
 * free, with *fd open and locked by us (the caller unlinks, then closes: the lock keeps a writer
 * from taking it meanwhile). */
static int tmp_held(const char *p, int *fd)
{
    *fd = open(p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (*fd < 0)
        return errno == ENOENT ? -1 : 1; /* cannot tell: keep it */
    if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
        return 0;
    close(*fd);
    *fd = -1;
    return 1;
}

/* The newest mtime in the cache job directory DIR and its sequences (their files included). */
static time_t newest_in(const char *dir)
{
    struct stat st;
    time_t t = lstat(dir, &st) == 0 ? st.st_mtime : 0;
    DIR *d = opendir(dir);
    if (!d)
        return t;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
            continue;
        char p[PATH_MAX];
        if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= sizeof p || lstat(p, &st) < 0)
            continue;
        if (st.st_mtime > t)
            t = st.st_mtime;
        if (S_ISDIR(st.st_mode) && filem_local_seq_name(e->d_name) >= 0) {
            time_t u = newest_in(p);
            if (u > t)
                t = u;
        }
    }
    closedir(d);
    return t;
}

/* Bytes of the regular files in DIR. */
static unsigned long long bytes_in(const char *dir)
{
    unsigned long long b = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));) {
        char p[PATH_MAX];
        struct stat st;
        if ((size_t)snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < sizeof p &&
            lstat(p, &st) == 0 && S_ISREG(st.st_mode))
            b += (unsigned long long)st.st_size;
    }
    closedir(d);
    return b;
}

int filem_local_redundant(const char *seqdir, const char *shared, char *why, size_t whylen)
{
    DIR *d = opendir(seqdir);
    if (!d) {
        snprintf(why, whylen, "cannot read it");
        return 0;
    }
    int ok = 1;
    for (struct dirent *e; ok && (e = readdir(d));) {
        const char *n = e->d_name;
        size_t l = strlen(n);
        if (l < 5 || strcmp(n + l - 4, ".img") != 0 || n[0] == '.')
            continue;
        const char *r = !strncmp(n, "rank_", 5) ? n + 5 : strrchr(n, '_') ? strrchr(n, '_') + 1 : NULL;
        char mine[PATH_MAX], theirs[PATH_MAX];
        struct stat a, b;
        if (!r || (size_t)snprintf(mine, sizeof mine, "%s/%s", seqdir, n) >= sizeof mine ||
            (size_t)snprintf(theirs, sizeof theirs, "%s/rank_%.*s.img", shared,
                             (int)(strlen(r) - 4), r) >= sizeof theirs ||
            stat(mine, &a) < 0) {
            ok = 0;
            snprintf(why, whylen, "%s cannot be matched", n);
        } else if (stat(theirs, &b) < 0 || b.st_size != a.st_size) {
            ok = 0;
            snprintf(why, whylen, "the only copy of a committed image (%s: %s)", theirs,
                     stat(theirs, &b) < 0 ? "missing" : "another size");
        }
    }
    closedir(d);
    return ok;
}

int filem_sweep_temps(const char *sd, int writers_here, struct filem_local_gc_stats *s)
{
    int n = 0;
    DIR *sdd = opendir(sd);
    for (struct dirent *x; sdd && (x = readdir(sdd));) {
        pid_t w = tmp_writer(x->d_name);
        char p[PATH_MAX];
        struct stat st;
        int fd = -1;
        if (w > 0 && (!writers_here || (kill(w, 0) < 0 && errno == ESRCH)) &&
            (size_t)snprintf(p, sizeof p, "%s/%s", sd, x->d_name) < sizeof p &&
            lstat(p, &st) == 0 && S_ISREG(st.st_mode) && tmp_held(p, &fd) == 0 && unlink(p) == 0) {
            s->tmp++;
            n++;
            s->bytes += (unsigned long long)st.st_size;
        }
        if (fd >= 0)
            close(fd);
    }
    if (sdd)
        closedir(sdd);
    return n;
}

/* One job's cache. dead_only: only what can never serve a restart (partial images of a gone
 * writer, and a sequence the shared directory does not hold committed that had one: cut short
 * while its ranks wrote; one whose copy to shared storage failed keeps its complete images, issue
 * 9): committed copies stay, whatever their age (filem_local_gc_dead). 1: its job runs; 2: a
 * sequence that goes was kept (a restart reads it); 0: done with it (or not a job cache). */
static int gc_job(const char *local, const char *name, time_t oldest_ok, int dead_only,
                  struct filem_local_gc_stats *s, filem_local_gc_report report, void *arg)
{
    char cj[PATH_MAX], note[PATH_MAX], sjob[PATH_MAX] = "";
    if ((size_t)snprintf(cj, sizeof cj, "%s/%s", local, name) >= sizeof cj ||
        (size_t)snprintf(note, sizeof note, "%s/%s", cj, FILEM_LOCAL_JOBDIR_NAME) >= sizeof note)
        return 0;
    struct stat st;
    if (lstat(cj, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
        return 0;
    s->jobs++;
    FILE *f = fopen(note, "re");
    if (f) {
        if (!fgets(sjob, sizeof sjob, f) || !strchr(sjob, '\n') || sjob[0] != '/')
            sjob[0] = 0;
        sjob[strcspn(sjob, "\n")] = 0;
        fclose(f);
    }
    if (sjob[0] && filem_job_alive(sjob)) {
        s->kept++;
        say(report, arg, cj, -1, 0, "its job runs");
        return 1;
    }
    int shared_there = sjob[0] && stat(sjob, &st) == 0 && S_ISDIR(st.st_mode);
    /* (the age bound is not dead_only's: the walk of every file it takes is not made for it) */
    int old = !dead_only && !shared_there && newest_in(cj) <= oldest_ok;
    int jfd = open(cj, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (jfd < 0)
        return 0;
    DIR *d = opendir(cj);
    if (!d) {
        close(jfd);
        return 0;
    }
    int busy = 0;
    for (struct dirent *e; (e = readdir(d));) {
        long long q = filem_local_seq_name(e->d_name);
        if (q < 0)
            continue;
        char sd[PATH_MAX], shared[PATH_MAX + 32], meta[PATH_MAX + 64], why[PATH_MAX + 64];
        if ((size_t)snprintf(sd, sizeof sd, "%s/%s", cj, e->d_name) >= sizeof sd)
            continue;
        int cut = filem_sweep_temps(sd, 1, s) > 0;
        int go = 0;
        if (shared_there) {
            snprintf(shared, sizeof shared, "%s/%s", sjob, e->d_name);
            snprintf(meta, sizeof meta, "%s/snapshot.meta", shared);
            if (dead_only && access(meta, F_OK) != 0 && !cut) {
                snprintf(why, sizeof why, "not committed, no image cut short");
            } else if (access(meta, F_OK) != 0) {
                go = 1;
                snprintf(why, sizeof why, "not committed in %s (failed or cut short)", sjob);
            } else if (dead_only) {
                snprintf(why, sizeof why, "committed");
            } else if (filem_local_redundant(sd, shared, why, sizeof why)) {
                go = 1;
                snprintf(why, sizeof why, "committed and every image in %s", shared);
            }
        } else if (dead_only) {
            snprintf(why, sizeof why, "%s", sjob[0] ? "its snapshot directory is not there"
                                                    : "its snapshot directory is unknown");
        } else if (old) {
            go = 1;
            snprintf(why, sizeof why, "%s; unchanged for longer than the age bound",
                     sjob[0] ? "its snapshot directory is gone" : "its snapshot directory is unknown");
        } else
            snprintf(why, sizeof why, "%s, younger than the age bound",
                     sjob[0] ? "its snapshot directory is not there" : "its snapshot directory is unknown");
        unsigned long long b = go ? bytes_in(sd) : 0;
        int r = go ? filem_local_remove_seq(jfd, e->d_name) : 0;
        if (r > 0) {
            s->removed++;
            s->bytes += b;
        } else {
            s->kept++;
            busy |= go;
            if (go)
                snprintf(why, sizeof why, "a restart reads it, or it holds other files");
        }
        say(report, arg, cj, q, r > 0, why);
    }
    closedir(d);
    close(jfd);
    /* nothing left but the note: the job's cache goes */
    if (filem_local_rmjob(cj) == 0) {
        s->jobs_gone++;
        say(report, arg, cj, -1, 1, "nothing left");
    }
    return busy ? 2 : 0;
}

/* LOCAL's list LIST of job caches, "" when its path is too long */
static void list_dir(char *out, size_t len, const char *local, const char *list)
{
    if ((size_t)snprintf(out, len, "%s/%s", local, list) >= len)
        out[0] = 0;
}

/* LOCAL's list of the job caches to sweep at a start */
static void unswept_dir(char *out, size_t len, const char *local)
{
    list_dir(out, len, local, FILEM_LOCAL_UNSWEPT_NAME);
}

static int job_name_ok(const char *job)
{
    return !strncmp(job, "revive_global_snapshot_", 23) && !strchr(job, '/');
}

/* JOB's entry in LIST goes */
static void list_drop(const char *local, const char *list, const char *job)
{
    char reg[PATH_MAX], e[PATH_MAX];
    list_dir(reg, sizeof reg, local, list);
    if (reg[0] && (size_t)snprintf(e, sizeof e, "%s/%s", reg, job) < sizeof e)
        unlink(e);
}

/* JOB's entry goes once a sweep found its job ended and swept its cache (or the cache gone) */
static void unswept_drop(const char *local, const char *job)
{
    list_drop(local, FILEM_LOCAL_UNSWEPT_NAME, job);
}

/* Not yet listed whole (the first start on this node since Revive keeps a list, or the list
 * removed): every job cache there is listed, so that one sweep takes what caches made before
 * hold; then the stamp FILEM_LOCAL_UNSWEPT_BEGUN says so. The stamp, not the list's folder: a
 * rank agent makes the folder for its own job's cache (filem_local_unswept_add), and on a node
 * where the first job after the change ran ranks but not its coordinator the caches made before
 * were never listed (diffrev48 R-L5). 0 or -errno (LOCAL not readable). */
static int unswept_begin(const char *local)
{
    char reg[PATH_MAX], begun[PATH_MAX];
    struct stat st;
    unswept_dir(reg, sizeof reg, local);
    if (!reg[0] ||
        (size_t)snprintf(begun, sizeof begun, "%s/%s", reg, FILEM_LOCAL_UNSWEPT_BEGUN) >= sizeof begun)
        return -ENAMETOOLONG;
    if (lstat(begun, &st) == 0)
        return 0;
    DIR *d = opendir(local);
    if (!d)
        return -errno;
    for (struct dirent *x; (x = readdir(d));)
        if (job_name_ok(x->d_name))
            filem_local_unswept_add(local, x->d_name);
    closedir(d);
    if (mkdir(reg, 0700) < 0 && errno != EEXIST)
        return -errno;
    int fd = open(begun, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? 0 : -errno;
    close(fd);
    return 0;
}

/* MAX_AGE_S, or when < 0 REVIVE_CACHE_MAX_AGE_DAYS or the default */
static long long max_age_of(long long max_age_s)
{
    if (max_age_s < 0) {
        const char *v = getenv("REVIVE_CACHE_MAX_AGE_DAYS");
        long days = v && *v ? strtol(v, NULL, 10) : FILEM_LOCAL_GC_MAX_AGE_DAYS;
        max_age_s = (days < 0 ? FILEM_LOCAL_GC_MAX_AGE_DAYS : days) * 86400LL;
    }
    return max_age_s;
}

/* The lists after a collection of JOB's cache that gave R (gc_job) */
static void collected(const char *local, const char *job, int r)
{
    if (r != 1)
        unswept_drop(local, job); /* swept: more than the start's sweep takes */
    if (r == 0)
        list_drop(local, FILEM_LOCAL_UNCOLLECTED_NAME, job);
}

int filem_local_gc(const char *local, long long max_age_s, struct filem_local_gc_stats *st,
                   filem_local_gc_report report, void *arg)
{
    struct filem_local_gc_stats s = {0};
    time_t oldest_ok = time(NULL) - (time_t)max_age_of(max_age_s);
    DIR *d = opendir(local);
    if (!d)
        return -errno;
    for (struct dirent *e; (e = readdir(d));)
        if (!strncmp(e->d_name, "revive_global_snapshot_", 23))
            collected(local, e->d_name, gc_job(local, e->d_name, oldest_ok, 0, &s, report, arg));
    closedir(d);
    if (st)
        *st = s;
    return 0;
}

/* The job caches listed in LOCAL/.uncollected, whose descriptor (locked) is FD, collected; with
 * WALKED (filem_local_gc just looked at every cache there), only the entries of caches gone */
static void gc_listed(const char *local, int fd, time_t oldest_ok, int walked,
                      struct filem_local_gc_stats *s)
{
    int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0); /* (fdopendir takes it) */
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return;
    }
    for (struct dirent *x; (x = readdir(d));) {
        char cj[PATH_MAX];
        struct stat st;
        if (!job_name_ok(x->d_name))
            continue;
        if (!walked)
            collected(local, x->d_name, gc_job(local, x->d_name, oldest_ok, 0, s, NULL, NULL));
        else if ((size_t)snprintf(cj, sizeof cj, "%s/%s", local, x->d_name) < sizeof cj &&
                 lstat(cj, &st) < 0 && errno == ENOENT)
            unlinkat(dirfd(d), x->d_name, 0);
    }
    closedir(d);
}

/* Whether the walk of every cache is due: the stamp in the list's folder FD missing, from the
 * future, or older than a day (or the age bound, if shorter) */
static int walk_due(int fd, long long max_age, time_t now)
{
    long long period = max_age < FILEM_LOCAL_WALK_PERIOD_S ? max_age : FILEM_LOCAL_WALK_PERIOD_S;
    struct stat sb;
    return fstatat(fd, FILEM_LOCAL_WALKED_NAME, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
           sb.st_mtime > now || (long long)(now - sb.st_mtime) >= period;
}

static void walked_now(int fd)
{
    int t = openat(fd, FILEM_LOCAL_WALKED_NAME, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (t >= 0) {
        futimens(t, NULL);
        close(t);
    }
}

int filem_local_gc_listed(const char *local, struct filem_local_gc_stats *st)
{
    struct filem_local_gc_stats s = {0};
    if (st)
        *st = s;
    char reg[PATH_MAX];
    list_dir(reg, sizeof reg, local, FILEM_LOCAL_UNCOLLECTED_NAME);
    if (!reg[0])
        return -ENAMETOOLONG;
    if (mkdir(reg, 0700) < 0 && errno != EEXIST)
        return -errno;
    int fd = open(reg, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    /* another agent of this node collects now: it takes what this one would */
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        return 1;
    }
    long long max_age = max_age_of(-1);
    time_t now = time(NULL);
    int e = 0, walk = walk_due(fd, max_age, now);
    /* the walk: every cache, those made before the list too, and what changes with time only
     * (the age bound, a snapshot directory removed since); it unlists what it collected */
    if (walk && (e = filem_local_gc(local, max_age, &s, NULL, NULL)) == 0)
        walked_now(fd);
    if (e == 0)
        gc_listed(local, fd, now - (time_t)max_age, walk, &s);
    close(fd); /* (the lock with it) */
    if (st)
        *st = s;
    return e;
}

int filem_local_gc_dead(const char *local, const char *job, struct filem_local_gc_stats *st)
{
    struct filem_local_gc_stats s = {0};
    int e = 0;
    if (job) {
        if (!job_name_ok(job))
            e = -EINVAL;
        else if (gc_job(local, job, 0, 1, &s, NULL, NULL) != 1)
            unswept_drop(local, job);
    } else if ((e = unswept_begin(local)) == 0) {
        /* the listed caches only: the cost of a job's start does not grow with the cache
         * (start47: 170 ended jobs' caches, 38-53 ms of CPU a start, 14-18 with none) */
        char reg[PATH_MAX];
        unswept_dir(reg, sizeof reg, local);
        DIR *d = opendir(reg);
        if (!d) {
            e = -errno;
        } else {
            for (struct dirent *x; (x = readdir(d));)
                if (job_name_ok(x->d_name) && gc_job(local, x->d_name, 0, 1, &s, NULL, NULL) != 1)
                    unlinkat(dirfd(d), x->d_name, 0);
            closedir(d);
        }
    }
    if (st)
        *st = s;
    return e;
}
