/* What this node's cache (--ckpt-local, the default cache) keeps of this rank's sequences:
 * after a commit, the committed metadata beside the images, the sequences the shared directory
 * keeps, and the caches of superseded and ended jobs removed (filem/local_retain.h,
 * filem/local_gc.h); at a normal end of the job, nothing. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "snapc"
#include "snapc/agent_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/fd_guard.h"
#include "common/log.h"
#include "filem/local_bound.h"
#include "filem/local_gc.h"
#include "filem/local_meta.h"
#include "filem/local_retain.h"
#include "filem/local_room.h"
#include "filem/stage.h"

/* A rank in MPI_Finalize whose last snapshot is committed: the job ends normally and needs
 * no node-local copy of it (the shared one stays); a job killed or ended by --term keeps its
 * caches for a restart. */
static void agent_cache_drop_at_end_in(void);

void agent_cache_drop_at_end(void)
{
    revive_fd_enter(); /* the cache's directories and files: no fork copies them (common/fd_guard.h) */
    agent_cache_drop_at_end_in();
    revive_fd_leave();
}

static void agent_cache_drop_at_end_in(void)
{
    int ending = (A.last_valid && A.last.finalizing) || atomic_load(&A.fin_wait);
    /* the copy --preload made for this restart: the snapshot directory keeps the image, and a
     * restart that does not checkpoint would leave it in the node's cache for good (newuser9
     * F4); a copy the cache held already is not this restart's to remove */
    if (A.preloaded[0] && ending && !A.in_epoch) {
        char dir[PATH_MAX + 32];
        snprintf(dir, sizeof dir, "%s", A.preloaded);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
            *slash = 0;
            filem_local_drop(dir, A.world_rank);
            revive_log_info("rank %d: the job ends normally: its --preload copy %s is removed "
                            "from this node's cache (the snapshot directory keeps the image)",
                            A.world_rank, A.preloaded);
        }
        A.preloaded[0] = 0;
    }
    if (A.local_seq[0] && A.local_committed && ending && !A.in_epoch) {
        /* the older sequences --ckpt-keep N kept in the cache go too (review: N-1 stayed) */
        filem_local_retain(A.local_seq, A.dir, 1, NULL);
        filem_local_drop(A.local_seq, A.world_rank);
        A.local_seq[0] = 0;
    }
}

/* The sequence of an epoch that ended before its staging is removed from the shared directory
 * by the coordinator (its number is taken again by the next epoch); here this rank's image goes
 * from the node's cache, and the sequence's and the job's cache directories once nothing else is
 * left in them (newuser12 LOW: a "no checkpoint" left an empty LOCAL/<job>/<seq> whose .jobdir
 * named a snapshot directory never made, until the 7-day collection). An ABORT once STAGE came
 * is a failed staging (agent_cache_drop_failed). */
void agent_cache_drop_aborted(void)
{
    if (!A.local_seq[0] || A.local_committed)
        return;
    if (A.staged) {
        agent_cache_drop_failed();
        return;
    }
    revive_fd_enter(); /* the cache's directories: no fork copies them (common/fd_guard.h) */
    filem_local_drop(A.local_seq, A.world_rank);
    revive_fd_leave();
    A.local_seq[0] = 0;
}

/* A staging that failed: every rank captured, so the sequence directory may hold this node's
 * other ranks' images and the partner copies of other nodes' ranks (partner_R.img) besides this
 * rank's. None can ever serve a restart (the sequence is never committed; restart-mpi passes over
 * it), so the whole sequence goes, by whichever agent of the node comes first (the others find
 * it gone); one a partner copy's writer still holds (its lock) is left to that rank's agent,
 * which comes here too once its receiver stopped. Before (mend42/43 e1), the newest failed
 * sequence's images stayed until the next checkpoint began, and at the job's end until the
 * coordinator's sweep of its own host. */
static void agent_cache_drop_failed_in(void);
static void agent_cache_bound_in(int keeping);

void agent_cache_drop_failed(void)
{
    agent_partner_rx_stop(); /* no partner copy is renamed in any more */
    revive_fd_enter(); /* the cache's directories and files: no fork copies them (common/fd_guard.h) */
    agent_cache_drop_failed_in();
    revive_fd_leave();
}

static void agent_cache_drop_failed_in(void)
{
    if (!A.local_seq[0] || A.local_committed)
        return;
    agent_cache_bound_in(0); /* the older uncommitted ones (filem/local_bound.h) */
    char ljob[PATH_MAX];
    long long seq;
    if (filem_local_split_seq(A.local_seq, ljob, sizeof ljob, &seq) == 0) {
        int jfd = open(ljob, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (jfd >= 0) {
            char name[32];
            snprintf(name, sizeof name, "%lld", seq);
            int r = filem_local_remove_seq(jfd, name);
            close(jfd);
            if (r < 0 && r != -ENOENT)
                revive_log_warn("rank %d: cannot remove the failed sequence %s from the node-local "
                                "cache: %s", A.world_rank, A.local_seq, strerror(-r));
        }
        filem_local_rmjob(ljob); /* the job's directory, when it held only that sequence */
    }
    A.local_seq[0] = 0;
}

/* A RESUME that says this epoch's sequence seq is committed, with its images in this node's
 * cache: the cache takes the committed metadata, keeps what the shared directory keeps, and the
 * caches of superseded and ended jobs go. */
static void agent_cache_committed_in(uint64_t seq);

void agent_cache_committed(uint64_t seq)
{
    revive_fd_enter(); /* the cache's directories and files: no fork copies them (common/fd_guard.h) */
    agent_cache_committed_in(seq);
    revive_fd_leave();
}

static void agent_cache_committed_in(uint64_t seq)
{
    /* the committed metadata beside the cached images: a restart from the caches when the
     * shared directory is lost (filem/local_meta.h) */
    char merr[PATH_MAX + 128];
    if (filem_local_keep_meta(A.dir, A.local_seq, merr, sizeof merr) < 0)
        revive_log_warn("rank %d: this node's cache of sequence %llu will not hold its "
                        "snapshot.meta (a restart needs the shared directory): %s",
                        A.world_rank, (unsigned long long)seq, merr);
    /* the cache keeps what the shared directory keeps (--ckpt-keep), never one a restart
     * reads */
    struct filem_local_retain_stats rs;
    int e = filem_local_retain(A.local_seq, A.dir, filem_local_keep(A.dir), &rs);
    if (e < 0)
        revive_log_warn("rank %d: retention of the node-local cache of %s: %s", A.world_rank,
                        A.local_seq, strerror(-e));
    if (e == 0 && rs.swept)
        revive_log_info("rank %d: removed this node's caches of %d superseded job%s (restarted "
                        "elsewhere and committed since)",
                        A.world_rank, rs.swept, rs.swept == 1 ? "" : "s");
    if (e == 0 && rs.busy)
        revive_log_info("rank %d: %d older node-local sequence%s kept while a restart reads "
                        "them", A.world_rank, rs.busy, rs.busy == 1 ? "" : "s");
    /* once a process: the caches of ended jobs that no restart can need go, those of the
     * jobs that ran here since the last collection (one agent of the node at a time), every
     * cache once a day (filem/local_gc.h; before, every rank walked the whole cache at its
     * job's first commit: 2200 paths for 200 ended jobs' caches, one 2-rank job, snapc48) */
    static int gc_done;
    if (!gc_done) {
        gc_done = 1;
        struct filem_local_gc_stats gs;
        if (filem_local_gc_listed(A.local, &gs) == 0 &&
            (gs.removed || gs.tmp || gs.jobs_gone))
            revive_log_info("rank %d: node-local cache %s: removed %d sequence%s and %d "
                            "partial image%s of ended jobs no restart can need (%llu MB)",
                            A.world_rank, A.local, gs.removed, gs.removed == 1 ? "" : "s",
                            gs.tmp, gs.tmp == 1 ? "" : "s", gs.bytes >> 20);
    }
    A.local_committed = 1;
}

/* The job's older uncommitted sequences in this node's cache go when a staging fails (a job
 * whose snapshot directory stays full or unwritable commits nothing, and every failed
 * sequence's images stayed in the cache: review MEDIUM-1, 14 copies after 9 s at
 * --ckpt-interval 1); here only what goes wrong is said. */
static void agent_cache_bound_in(int keeping)
{
    if (!A.local_seq[0] || !A.dir[0])
        return;
    int removed = 0;
    int e = filem_local_bound_uncommitted(A.local_seq, A.dir, keeping, &removed);
    if (e < 0 && e != -ENOENT)
        revive_log_warn("rank %d: cannot remove the older uncommitted sequences of the node-local "
                        "cache beside %s: %s", A.world_rank, A.local_seq, strerror(-e));
    else if (removed)
        revive_log_debug("rank %d: removed %d uncommitted sequence%s from the node-local cache",
                         A.world_rank, removed, removed == 1 ? "" : "s");
}

/* Before this rank writes its image into the cache (newuser10 F4: a cache with room for one
 * snapshot took exactly one, then every checkpoint failed on the committed copy retention kept
 * and on the failed sequence's images): the job's older failed sequences go at once, and its
 * older committed copies, oldest first, while the file system has less room than the node's
 * images took last time (they are in the snapshot directory; the cache only makes a restart on
 * these hosts faster). Several ranks of a node may do it at once: each removal is taken by one. */
static void agent_cache_room_in(void);

void agent_cache_room(void)
{
    revive_fd_enter(); /* the cache's directories and files: no fork copies them (common/fd_guard.h) */
    agent_cache_room_in();
    revive_fd_leave();
}

static void agent_cache_room_in(void)
{
    if (!A.local_seq[0] || !A.dir[0])
        return;
    uint64_t need = filem_local_last_bytes(A.local_seq);
    struct filem_local_room_stats rs;
    int e = filem_local_make_room(A.local_seq, A.dir, need ? need + need / 16 : 0, &rs);
    if (e < 0 && e != -ENOENT)
        revive_log_warn("rank %d: cannot remove the older sequences of the node-local cache beside "
                        "%s: %s", A.world_rank, A.local_seq, strerror(-e));
    if (rs.failed || rs.committed)
        revive_log_info("rank %d: node-local cache: removed %d failed and %d committed older "
                        "sequence%s (%" PRIu64 " KB; the snapshot directory holds the committed) "
                        "to make room for sequence %llu",
                        A.world_rank, rs.failed, rs.committed,
                        rs.failed + rs.committed == 1 ? "" : "s", rs.bytes >> 10,
                        (unsigned long long)A.seq);
}

static int agent_cache_full_in(char *path, size_t len, int err);

int agent_cache_full(char *path, size_t len, int err)
{
    revive_fd_enter(); /* the cache's directories and files: no fork copies them (common/fd_guard.h) */
    int r = agent_cache_full_in(path, len, err);
    revive_fd_leave();
    return r;
}

static int agent_cache_full_in(char *path, size_t len, int err)
{
    if (A.direct || !A.local_seq[0] || !A.dir[0])
        return 0; /* the snapshot directory is full too: its failure stands */
    char host[256] = "?";
    gethostname(host, sizeof host - 1);
    if (A.full_tries++ == 0) {
        /* every older copy no restart needs from here: this job's (redundant committed ones
         * too) and those of ended jobs (filem/local_gc.h) */
        struct filem_local_room_stats rs;
        struct filem_local_gc_stats gs;
        memset(&gs, 0, sizeof gs);
        filem_local_make_room(A.local_seq, A.dir, UINT64_MAX, &rs);
        filem_local_gc(A.local, -1, &gs, NULL, NULL);
        uint64_t avail = filem_local_avail(A.local_seq);
        if (rs.bytes || gs.bytes || (A.image_bytes && avail != UINT64_MAX && avail > A.image_bytes)) {
            revive_log_info("rank %d: the node-local cache %s on host %s was full (%s): removed "
                            "%" PRIu64 " KB of older copies the snapshot directory holds; writing "
                            "the image there again", A.world_rank, A.local, host, strerror(-err),
                            (uint64_t)((rs.bytes + gs.bytes) >> 10));
            return 1;
        }
    }
    /* as --ckpt-local none: the staging verifies it where it is (agent_stage.c) */
    if ((size_t)snprintf(path, len, "%s/rank_%d.img", A.dir, A.world_rank) >= len)
        return 0;
    snprintf(A.image, sizeof A.image, "%s", path);
    A.direct = 1;
    revive_log_info("rank %d: the node-local cache %s on host %s has no room for this rank's "
                    "image (%s): it goes straight into the snapshot directory, %s",
                    A.world_rank, A.local, host, strerror(-err), path);
    return 1;
}
