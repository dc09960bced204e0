/*
 * Garbage collection of a node's cache (issue 7 review F4): the caches of jobs killed or lost
 * and never restarted, failed sequences and the partial images of a rank killed while writing
 * stayed in $TMPDIR/revive-local-<uid> for ever (this machine: 215 jobs, 4.5 GB).
 *
 * A job's cache names its shared job directory (FILEM_LOCAL_JOBDIR_NAME, written by the rank
 * agents). For a cache whose job has ended (alive.h), each cached sequence goes when
 *   - the shared directory holds it committed and every cached image (rank_<r>.img,
 *     partner_<r>.img) has its rank image there with the same size: a redundant copy;
 *   - the shared directory holds the job but not that sequence committed: it failed or was
 *     cut short, and can never be restarted;
 * and stays when it holds the only copy of a committed image (the shared one missing or of
 * another size: restart-mpi fetches such images from the caches). A cache whose shared job
 * directory is gone or unknown (caches of before, or storage not mounted) goes only once
 * nothing in it changed for max_age seconds. A temporary image (.NAME.tmp.PID) whose writer
 * (a rank on this node) is gone goes at once. A running job's cache is never touched, nor a
 * sequence a restart reads (its lock).
 */
#ifndef REVIVE_FILEM_LOCAL_GC_H
#define REVIVE_FILEM_LOCAL_GC_H

#include <stddef.h>

#define FILEM_LOCAL_JOBDIR_NAME ".jobdir"
/* LOCAL/.unswept/<job cache name>: a symbolic link per job cache that a job's end or a later
 * job's start must still sweep (filem_local_gc_dead), made with the cache's note by the rank
 * agent that makes the cache, removed once a sweep found its job ended and swept it. */
#define FILEM_LOCAL_UNSWEPT_NAME ".unswept"
/* LOCAL/.unswept/.begun: every job cache of LOCAL was listed once (a job's start does it when
 * the stamp is missing: caches made before the list are swept too) */
#define FILEM_LOCAL_UNSWEPT_BEGUN ".begun"
/* LOCAL/.uncollected/<job cache name>: the same for the rank agents' collection at a job's first
 * commit (filem_local_gc_listed), removed once a collection found its job ended and took what
 * it could (what stays then, the only copy of a committed image or a young cache whose
 * snapshot directory is gone, changes with time only: the periodic walk looks at it again). */
#define FILEM_LOCAL_UNCOLLECTED_NAME ".uncollected"
/* LOCAL/.uncollected/.walked: its mtime is the last walk of every job cache of LOCAL by an
 * agents' collection; the next one walks them all again once FILEM_LOCAL_WALK_PERIOD_S passed
 * (at most the age bound: a cache past it goes at most that much later) */
#define FILEM_LOCAL_WALKED_NAME ".walked"
#define FILEM_LOCAL_WALK_PERIOD_S 86400
/* Default age after which a cache that cannot be checked goes: REVIVE_CACHE_MAX_AGE_DAYS. */
#define FILEM_LOCAL_GC_MAX_AGE_DAYS 7

struct filem_local_gc_stats {
    int jobs;      /* job caches looked at */
    int removed;   /* cached sequences removed */
    int jobs_gone; /* job caches removed whole */
    int tmp;       /* orphaned temporary images removed */
    int kept;      /* sequences kept (the job runs, only copy, too young, locked) */
    unsigned long long bytes; /* bytes freed */
};

/* Called for each decision when given: the cache job directory, the sequence (-1: the job
 * cache as a whole), removed (1) or kept (0), and why. */
typedef void (*filem_local_gc_report)(void *arg, const char *cachejob, long long seq, int removed,
                                      const char *why);

/* Collects LOCAL (a node's cache directory). max_age_s < 0: REVIVE_CACHE_MAX_AGE_DAYS or the
 * default. 0, or -errno when LOCAL cannot be read (ENOENT: nothing to do). */
int filem_local_gc(const char *local, long long max_age_s, struct filem_local_gc_stats *st,
                   filem_local_gc_report report, void *arg);

/* What a rank agent collects at its job's first commit (each rank's, once a process): what
 * filem_local_gc takes, from the job caches listed in LOCAL/.uncollected (the jobs that ran on
 * this node since the last collection), and from every job cache of LOCAL only when the last
 * such walk is older than FILEM_LOCAL_WALK_PERIOD_S (or the age bound, if shorter) or was never
 * made. Before, every rank of every job walked the whole cache at its first commit: 200 ended
 * jobs' caches whose snapshot directories are gone, 2200 paths read by one 2-rank job on one
 * node (snapc48). One agent of a node at a time (a lock on the list): another finding it held
 * returns 1 at once, the first takes what both would. 0, 1, or -errno (LOCAL not readable). */
int filem_local_gc_listed(const char *local, struct filem_local_gc_stats *st);

/* Lists the job cache JOB (its directory's name, revive_global_snapshot_PID) under LOCAL as
 * one to sweep at a job's start (FILEM_LOCAL_UNSWEPT_NAME) and to collect at a later job's
 * commit (FILEM_LOCAL_UNCOLLECTED_NAME). 0 or -errno. */
int filem_local_unswept_add(const char *local, const char *job);

/* Only what can never serve a restart, in the caches under LOCAL of jobs that do not run (with
 * JOB, a cache directory's name revive_global_snapshot_PID: that one only; without, the caches
 * listed in LOCAL/.unswept, each unlisted once its job has ended and it was swept: a job's start
 * costs what the jobs that ran since the last start left, not what the cache holds (start47: 170
 * ended jobs' caches, 38-53 ms of CPU a start); until the stamp .unswept/.begun says so, every cache there is listed
 * first, once, so that caches made before the list are swept too): partial images
 * (.NAME.tmp.PID) whose writer is gone, and a sequence that the job's shared directory (named in
 * the cache) holds but not committed, when it had such an image (cut short while its ranks
 * wrote). Committed copies stay, and so do the complete images of a sequence whose copy to shared
 * storage failed (the agents and the coordinator remove those at the failure; coord_cache.c's
 * end of a job takes what is left). For the start and the end of a job:
 * a job ended during a checkpoint (SIGTERM or kill -9 of mpirun) left its ranks' partial images
 * (hundreds of MB) in the cache until another job's commit collected them (review11 #4). 0, or
 * -errno when LOCAL cannot be read (ENOENT: nothing to do). */
int filem_local_gc_dead(const char *local, const char *job, struct filem_local_gc_stats *st);

/* The cached sequence SEQDIR against the shared sequence SHARED (committed there): 1 when every
 * cached image (rank_<r>.img, partner_<r>.img) has its rank image there with the same size (a
 * redundant copy); 0 otherwise, WHY saying which image is the only copy or cannot be matched. */
int filem_local_redundant(const char *seqdir, const char *shared, char *why, size_t whylen);

/* The partial images (.NAME.tmp.PID[.N]) in the sequence directory SD whose writer is gone:
 * never a restart's. A writer still there keeps its file: its lock held (crs_durable_open holds
 * one until the rename: also a writer in another pid namespace or on another host sharing the
 * directory), and with WRITERS_HERE (SD is this node's cache, its writers this node's ranks) its
 * pid alive (a pid reused by another process too). Counts them in s->tmp and s->bytes; returns
 * how many went. */
int filem_sweep_temps(const char *sd, int writers_here, struct filem_local_gc_stats *s);

#endif
