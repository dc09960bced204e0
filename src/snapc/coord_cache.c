/* This host's node-local cache at the start and the end of a job: what a job ended during a
 * checkpoint left there that no restart can use goes (filem_local_gc_dead). SIGTERM or kill -9
 * of mpirun while the ranks wrote their images left each rank's partial image
 * (.rank_N.img.tmp.PID, 370-430 MB each here) until another job's first commit collected them
 * (review11 #4). At the end: this job's own cache, once its ranks here are gone. At the start:
 * the caches of jobs that do not run (a job whose coordinator was killed cannot clean up after
 * itself). A running job's cache, a writer still there and a committed copy are never touched.
 * Other hosts' caches are collected by their ranks' agents at their first commit
 * (agent_cache.c). At the end the job's sequences in shared storage lose their partial images
 * too (filem_sweep_temps, the same rule without the pid: their writers ran on any host), and a
 * restart sweeps those of the job it restarts, once that job no longer runs (newuser9 F6). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "filem/alive.h"
#include "filem/filem.h"
#include "filem/local_gc.h"
#include "filem/local_retain.h"
#include "filem/stage.h"
#include "filem/stage_mark.h"
#include "snapc/coord_int.h"

/* This host's cache directory: --ckpt-local's, else (also with none: an earlier job's cache
 * may be there) the default one, when it exists and is private. 0 or -errno. */
static int local_dir(char *out, size_t len)
{
    const char *l = coord.cfg->local_dir;
    if (l && *l) {
        if ((size_t)snprintf(out, len, "%s", l) >= len)
            return -ENAMETOOLONG;
        return 0;
    }
    char err[PATH_MAX + 256];
    return filem_local_default(out, len, 0, err, sizeof err);
}

int coord_cache_dir(char *out, size_t len)
{
    return local_dir(out, len);
}

static void say(const char *what, const struct filem_local_gc_stats *s)
{
    if (s->tmp || s->removed)
        revive_log_info("node-local cache: removed %d partial image%s and %d uncommitted "
                        "sequence%s %s (%llu MB)",
                        s->tmp, s->tmp == 1 ? "" : "s", s->removed, s->removed == 1 ? "" : "s",
                        what, s->bytes >> 20);
}

/* A sequence directory of an ended job that holds nothing but the mark of a staging in progress
 * (staging.active; its partial images swept): a staging that never finished, its coordinator
 * killed (mpirun -9). ckpt-info listed it for good as "not committed (never finished, or
 * failed...)" (newuser9b N5): the mark and the directory go. Anything else in it stays. */
static void drop_dead_mark(const char *sd)
{
    /* the staging mark, or the mark of images being written (a job killed while its ranks
     * wrote them) */
    static const char *const marks[] = {FILEM_STAGE_ACTIVE_NAME, FILEM_WRITE_ACTIVE_NAME};
    DIR *d = opendir(sd);
    int other = 0, mark = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (!strcmp(e->d_name, marks[0]) || !strcmp(e->d_name, marks[1]))
            mark = 1;
        else
            other = 1;
    }
    if (d)
        closedir(d);
    if (!mark || other)
        return;
    int gone = 1;
    for (int k = 0; k < 2; k++) {
        char p[PATH_MAX + 32];
        if ((size_t)snprintf(p, sizeof p, "%s/%s", sd, marks[k]) >= sizeof p ||
            (unlink(p) < 0 && errno != ENOENT))
            gone = 0;
    }
    if (gone)
        rmdir(sd);
}

/* The partial images in every sequence of jobdir in shared storage whose writers are gone
 * (filem_sweep_temps without the pid: their writers ran on any host; a writer still copying
 * holds its lock and its file stays), removed and counted in *s; a sequence left with only its
 * staging mark goes too (drop_dead_mark). The job no longer runs (a restart's parent) or ends
 * (this job). */
static void sweep_seqs(const char *jobdir, struct filem_local_gc_stats *s)
{
    uint64_t *v;
    int n;
    char err[256];
    if (filem_list_seqs(jobdir, &v, &n, err, sizeof err) < 0)
        return;
    for (int i = 0; i < n; i++) {
        char sd[PATH_MAX];
        if (filem_seq_path(sd, sizeof sd, jobdir, v[i]) == 0) {
            filem_sweep_temps(sd, 0, s);
            drop_dead_mark(sd);
        }
    }
    free(v);
}

/* sweep_seqs of jobdir, then one line at level (REVIVE_LOG_*) when it removed anything:
 * "removed N partial images (M MB) WHOSE in JOBDIR WHY". */
static void sweep_seqs_say(const char *jobdir, int level, const char *whose, const char *why)
{
    struct filem_local_gc_stats s = {0};
    sweep_seqs(jobdir, &s);
    if (s.tmp)
        revive_log_(level, "removed %d partial image%s (%llu MB) %s in %s%s", s.tmp, s.tmp == 1 ? "" : "s",
                    s.bytes >> 20, whose, jobdir, why);
}

/* A restart: a sequence of the job it comes from that was staging when that job was killed
 * (kill -9 of mpirun: its coordinator died with it) and that holds more than the mark once its
 * partial images are swept (drop_dead_mark leaves it: images some ranks had finished copying)
 * kept staging.active for good, and ckpt-info listed it for ever as "never finished, or failed"
 * (newuser9b N5). The caller knows that job no longer runs: such a sequence is marked failed
 * with what happened (filem_phase_settle_orphan), and said. */
static void settle_parent_staging(void)
{
    uint64_t *v;
    int n, done = 0;
    char err[PATH_MAX + 256], list[256] = "";
    size_t ll = 0;
    if (filem_list_seqs(coord.parent_jobdir, &v, &n, err, sizeof err) < 0)
        return;
    for (int i = 0; i < n; i++) {
        int e = filem_phase_settle_orphan(coord.parent_jobdir, v[i], FILEM_PHASE_STAGING,
                                          "the job ended while this sequence staged (its launcher "
                                          "or coordinator was killed?): nobody finished the copy",
                                          err, sizeof err);
        /* killed while its ranks wrote their images (writing.active, left for good else) */
        int w = 0;
        if (e == 0 && (w = filem_phase_settle_orphan(coord.parent_jobdir, v[i], FILEM_PHASE_WRITING,
                                              "the job ended while this sequence was being written (its "
                                              "launcher or coordinator was killed?): its images were "
                                              "never all written",
                                              err, sizeof err)) == 1)
            revive_log_warn("marked sequence %llu of %s failed: the job ended while its images "
                            "were being written, so it can never be committed",
                            (unsigned long long)v[i], coord.parent_jobdir);
        if (w < 0)
            e = w;
        if (e < 0)
            revive_log_warn("sequence %llu of %s: %s", (unsigned long long)v[i],
                            coord.parent_jobdir, err);
        else if (e == 1) {
            done++;
            if (ll < sizeof list)
                ll += (size_t)snprintf(list + ll, sizeof list - ll, "%s%llu", ll ? "," : "",
                                       (unsigned long long)v[i]);
        }
    }
    free(v);
    if (done)
        revive_log_warn("marked sequence%s %s of %s failed: the job ended while %s staged (its "
                        "launcher or coordinator killed?), so %s never be committed",
                        done == 1 ? "" : "s", list, coord.parent_jobdir,
                        done == 1 ? "it" : "they", done == 1 ? "it can" : "they can");
}

/* A restart: the job it comes from, when it no longer runs, may have been killed while its
 * ranks copied their images (kill -9 of its mpirun): nobody swept its sequences in shared
 * storage at its end, and their partial images held that space for good (newuser9 F6: 4 x 3.75
 * MB per kill, up to the whole snapshot). The same rule as at a job's end (sweep_shared_end):
 * a writer still there holds its lock and its file stays. */
static void sweep_parent_shared(void)
{
    if (!coord.parent_jobdir[0] || filem_job_alive(coord.parent_jobdir) != 0)
        return;
    sweep_seqs_say(coord.parent_jobdir, REVIVE_LOG_WARN, "that the job restarted from left",
                   " when it ended during a copy (nobody could finish them)");
    settle_parent_staging();
}

void coord_cache_sweep_start(void)
{
    char local[PATH_MAX];
    struct filem_local_gc_stats s;
    if (local_dir(local, sizeof local) == 0 && filem_local_gc_dead(local, NULL, &s) == 0)
        say("of jobs that ended during a checkpoint", &s);
    sweep_parent_shared();
}

/* The job's sequences in shared storage: a partial image whose writer ended during its copy (its
 * host lost, the rank killed: review9 F2, up to 15 MB of a 37 MB snapshot each time) would hold
 * the space for good once the job is over; a writer still copying holds its lock and stays. */
static void sweep_shared_end(void)
{
    if (!coord.jobdir_ok)
        return;
    sweep_seqs_say(coord.jobdir, REVIVE_LOG_INFO, "that ranks ended during a copy left", "");
}

/* Bytes of the files in the directory fd dfd (not below). */
static unsigned long long dir_bytes(int dfd)
{
    unsigned long long b = 0;
    int fd = dup(dfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    struct stat st;
    for (struct dirent *e; (e = readdir(d));)
        if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
            b += (unsigned long long)st.st_size;
    closedir(d);
    return b;
}

/* The job has ended and this host's cache still holds the images of its sequences that were not
 * committed (their copy to the snapshot directory failed, or a rank could not write its image:
 * kept, issue 9 point 3, for a later sequence's commit, which now never comes). They can never
 * serve a restart, so they go now (newuser7 F3: after a checkpoint failed on a full --ckpt-local,
 * the image another rank had written stayed in that full cache, and `ckpt-info --clean-cache`,
 * which the message named, kept it while younger than its age bound, since the snapshot
 * directory was gone; before that, newuser7b L2 had them kept and named). The job's end says
 * what it removed, where and how much, and names the committed sequences whose copies stay (a
 * rank drops its node's copies at a normal end only after a last checkpoint that committed: a
 * restart of them reads them here, newuser7c L1). One it cannot remove (a reader holds it, or
 * the removal fails) is named as kept, with what removes it. */
struct kept_list {
    char seqs[128];
    size_t w;
    int n;
    unsigned long long bytes;
};

static void kept_add(struct kept_list *k, long long q, unsigned long long b)
{
    k->bytes += b;
    if (k->n++ < 8 && k->w + 24 < sizeof k->seqs) {
        int c = snprintf(k->seqs + k->w, sizeof k->seqs - k->w, "%s%lld", k->w ? ", " : "", q);
        k->w += c > 0 ? (size_t)c : 0;
    }
}

static void drop_failed_kept(const char *local, const char *job)
{
    char cj[PATH_MAX + 64];
    if (!coord.jobdir_ok || (size_t)snprintf(cj, sizeof cj, "%s/%s", local, job) >= sizeof cj)
        return;
    /* what is committed is read in the snapshot directory: one that cannot be read (gone,
     * unmounted, an NFS hiccup) tells nothing, and a committed sequence's copies would be called
     * "not committed, cannot be restarted" (diffrev29 S-L3): nothing removed or said then */
    int jfd = open(coord.jobdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (jfd < 0)
        return;
    DIR *d = opendir(cj);
    if (!d) {
        close(jfd);
        return;
    }
    struct kept_list removed = {0}, failed = {0}, committed = {0};
    long long gone[64], empty[64];
    unsigned long long gone_b[64];
    int ngone = 0, nempty = 0;
    for (struct dirent *e; (e = readdir(d));) {
        long long q = filem_local_seq_name(e->d_name);
        char meta[NAME_MAX + 32];
        if (q < 0 || (size_t)snprintf(meta, sizeof meta, "%s/snapshot.meta", e->d_name) >= sizeof meta)
            continue;
        /* committed: its snapshot.meta in the snapshot directory, or the copy of it a committed
         * sequence's cache keeps (local_meta.h: never removed here, whatever the snapshot
         * directory shows) */
        int is_committed = faccessat(dirfd(d), meta, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
                           faccessat(jfd, meta, F_OK, 0) == 0;
        if (!is_committed && errno != ENOENT && errno != ENOTDIR)
            continue; /* not known: not said to be either */
        int sfd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sfd < 0)
            continue;
        unsigned long long b = dir_bytes(sfd);
        close(sfd);
        if (!b) {
            /* a sequence folder made for an image never written (its rank ended before it
             * began: the only rank of this host, whose agent cannot drop it): nothing to say */
            if (!is_committed && nempty < 64)
                empty[nempty++] = q;
            continue;
        }
        if (is_committed)
            kept_add(&committed, q, b);
        else if (ngone < 64) {
            gone[ngone] = q;   /* removed once the listing is done */
            gone_b[ngone++] = b;
        } else
            kept_add(&failed, q, b);
    }
    for (int k = 0; k < ngone; k++) {
        char name[32];
        snprintf(name, sizeof name, "%lld", gone[k]);
        kept_add(filem_local_remove_seq(dirfd(d), name) == 1 ? &removed : &failed, gone[k], gone_b[k]);
    }
    for (int k = 0; k < nempty; k++) {
        char name[32];
        snprintf(name, sizeof name, "%lld", empty[k]);
        filem_local_remove_seq(dirfd(d), name);
    }
    closedir(d);
    close(jfd);
    filem_local_rmjob(cj); /* the job's folder, when nothing but its note is left */
    if (!removed.n && !failed.n)
        return; /* only committed copies: a job killed or ended by --term keeps them for its
                   restart, as every such job does (not said) */
    char also[320] = "";
    if (committed.n)
        snapc_fmt(also, sizeof also, "; the copies of checkpoint%s %s%s, committed (%llu MB), stay: "
                  "a restart of %s on this node reads them (a job's end drops its node's copies "
                  "only after a last checkpoint that committed)",
                  committed.n == 1 ? "" : "s", committed.seqs, committed.n > 8 ? ", ..." : "",
                  (committed.bytes + (1u << 20) - 1) >> 20, committed.n == 1 ? "it" : "them");
    if (removed.n)
        revive_log_warn("removed from this node's cache %s the images of checkpoint%s %s%s, not "
                        "committed (%llu MB): this job has ended, so they can never be restarted%s",
                        cj, removed.n == 1 ? "" : "s", removed.seqs, removed.n > 8 ? ", ..." : "",
                        (removed.bytes + (1u << 20) - 1) >> 20, failed.n ? "" : also);
    if (failed.n)
        revive_log_warn("this node's cache %s keeps the images of checkpoint%s %s%s, not committed "
                        "(%llu MB; in use, or they could not be removed): they cannot be "
                        "restarted%s; 'ckpt-info --clean-cache --max-age 0' removes them",
                        cj, failed.n == 1 ? "" : "s", failed.seqs, failed.n > 8 ? ", ..." : "",
                        (failed.bytes + (1u << 20) - 1) >> 20, also);
}

void coord_cache_sweep_end(void)
{
    sweep_shared_end();
    char local[PATH_MAX];
    struct filem_local_gc_stats s;
    const char *job = strrchr(coord.jobdir, '/');
    job = job ? job + 1 : coord.jobdir;
    if (coord.jobdir_ok && local_dir(local, sizeof local) == 0 &&
        filem_local_gc_dead(local, job, &s) == 0) {
        say("of this job, ended during a checkpoint", &s);
        drop_failed_kept(local, job);
    }
}

void coord_cache_drop_failed(uint64_t seq)
{
    char local[PATH_MAX], cj[PATH_MAX + 64], name[32];
    const char *job = strrchr(coord.jobdir, '/');
    job = job ? job + 1 : coord.jobdir;
    if (!*job || local_dir(local, sizeof local) < 0 ||
        (size_t)snprintf(cj, sizeof cj, "%s/%s", local, job) >= sizeof cj)
        return;
    int jfd = open(cj, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (jfd < 0)
        return; /* nothing cached on this host (or --ckpt-local none) */
    snprintf(name, sizeof name, "%llu", (unsigned long long)seq);
    int r = filem_local_remove_seq(jfd, name); /* a reader or writer holding it: its agent's */
    close(jfd);
    if (r < 0 && r != -ENOENT)
        revive_log_warn("cannot remove the failed sequence %llu from this host's node-local cache "
                        "%s: %s", (unsigned long long)seq, cj, strerror(-r));
    filem_local_rmjob(cj); /* the job's directory, when it held only that sequence */
}
