/*
 * Retention over a node's cache (issue 9, point 5). With --ckpt-keep N a node keeps the N
 * newest committed sequences, as the shared directory does (filem_retain runs there at each
 * commit); without it, the newest only (shared storage keeps every one). A cached sequence the
 * shared directory no longer holds committed goes. Never one a restart reads.
 *
 * A restart that reads a cached image (revive-restart-rank) holds a shared flock on the
 * node-local sequence directory from before it checks the copy until the restore has read the
 * image (the descriptor goes with the restarter); the pruner takes the lock exclusively without
 * waiting and keeps a sequence it cannot lock (a later commit tries again).
 *
 * Kept apart from stage.h (the staging copy): linked with it into the rank agent and
 * revive-restart-rank; needs libc only.
 */
#ifndef REVIVE_FILEM_LOCAL_RETAIN_H
#define REVIVE_FILEM_LOCAL_RETAIN_H

#include <stddef.h>

/* In a shared job directory: this job was restarted and the restarted job (or one restarted
 * from it) committed; its text: "superseded.by JOBDIR" and "stale.caches HOST,..." (its hosts
 * where the new job runs no rank). Written by filem_mark_superseded (libfilem). */
#define FILEM_SUPERSEDED_NAME "superseded"
/* In a snapshot directory: BASE/.superseded-UID/<job directory name>, an empty file for each job
 * of user UID in BASE that carries FILEM_SUPERSEDED_NAME (filem_superseded_index_add), made with
 * the mark: one folder per user (0700), so that users sharing a snapshot directory (a scratch
 * folder of the group) each list their own jobs, and the sweep reads only its user's: what
 * the agents' sweep of superseded caches reads (filem_local_retain), so that a commit costs what
 * was superseded, not a lookup in BASE for every job cache of the node (snapc49: 200 ended jobs'
 * caches, 200 lookups per rank per commit). An entry goes once its job directory has (the sweep
 * that found its cache). */
#define FILEM_SUPERSEDED_INDEX ".superseded-"

struct filem_local_retain_stats {
    int removed;  /* sequences removed from the cache */
    int swept;    /* caches of other, superseded jobs removed (their job directories) */
    int kept;     /* older sequences kept: still committed in the shared directory */
    int busy;     /* older sequences kept: a restart reads them (locked) */
};

/* After the sequence LOCAL_SEQDIR (LOCAL/<job>/<seq>, the node's copy of SHARED_SEQDIR) is
 * committed: the node keeps it and the keep-1 newest older cached sequences that SHARED_SEQDIR's
 * job directory still holds committed; every other older one goes (retention removed it from
 * the shared directory, it never committed, or it is beyond keep), except one a restart has
 * locked. Newer sequences (an epoch under way) are never touched. Only the names the store
 * makes go (rank and partner images, temporary files); a directory with anything else in it
 * stays. The jobs this one was restarted from (snapshot.meta's parent.jobdir and parent.seq, up
 * the chain) count as older still: their sequences cached on this node (LOCAL/<their job
 * directory name>) are kept or removed by the same rule, and a job directory left empty goes,
 * so a job restarted again and again does not fill the node with its ancestors' caches.
 * Then the caches of other jobs on this node whose job directory beside SHARED_SEQDIR's (the
 * same snapshot directory) holds FILEM_SUPERSEDED_NAME, as that directory's
 * FILEM_SUPERSEDED_INDEX lists them, go too (but a sequence a restart has
 * locked): a node where no rank of a restarted job runs keeps its ancestors' caches only until
 * any job of the user commits there. An ancestor or superseded job that still runs
 * (filem_job_alive) is never touched: its caches are its own.
 * 0 or -errno (the cache's job directory cannot be read). */
int filem_local_retain(const char *local_seqdir, const char *shared_seqdir, int keep,
                       struct filem_local_retain_stats *st);

/* After the commit of SEQDIR (a restarted job's sequence): every job it was restarted from, up
 * the chain (parent.jobdir), gets FILEM_SUPERSEDED_NAME in its job directory, naming the hosts
 * where its caches remain. In libfilem (the coordinator). 0 or -errno with a message. */
int filem_mark_superseded(const char *seqdir, char *err, size_t errlen);

/* Lists the job directory JOBDIR (marked superseded) in its snapshot directory's index of the
 * calling user (FILEM_SUPERSEDED_INDEX). In libfilem. 0 or -errno. */
int filem_superseded_index_add(const char *jobdir);

/* OUT (LEN bytes) = BASE/FILEM_SUPERSEDED_INDEX<uid>, the calling user's index. 0, or
 * -ENAMETOOLONG. In libfilem. */
int filem_superseded_index_path(const char *base, char *out, size_t len);

/* How many committed sequences a node keeps for the job of SHARED_SEQDIR: its snapshot.meta's
 * ckpt.keep (--ckpt-keep N), 1 when it keeps every one on shared storage (0) or says nothing:
 * node-local space is small, the newest is what a restart reads. */
int filem_local_keep(const char *shared_seqdir);

/* A cached sequence directory's name, its number: "123" -> 123; anything else (".discarded.4",
 * ".jobdir", more than 18 digits) -> -1. */
long long filem_local_seq_name(const char *name);

/* The cache job directory LJOB opened (*JFD, for filem_local_remove_seq; close it) and its
 * sequences below BELOW listed newest first (*SEQS, malloc'd, *N of them; free it). 0; 1 when
 * memory ran out part way (the list holds those read so far); -errno when LJOB cannot be opened
 * or read (nothing to close or free). Shared by the retention and the bound on uncommitted
 * sequences (local_bound.h). */
int filem_local_list_below(const char *ljob, long long below, int *jfd, long long **seqs, size_t *n);

/* SEQDIR (JOB/<seq>, trailing slashes allowed) split: JOB into OUT (LEN bytes) and <seq>'s
 * number into *SEQ. 0, -ENAMETOOLONG, or -EINVAL (no JOB, or its last name is no sequence). */
int filem_local_split_seq(const char *seqdir, char *out, size_t len, long long *seq);

/* The cached sequences older than LOCAL_SEQDIR's (LOCAL/<job>/<seq>, the node's copy of
 * SHARED_SEQDIR) listed as filem_local_list_below lists them (LJOB opened as *JFD, *SEQS newest
 * first), once SHARED_SEQDIR's job directory is seen to be one: what is committed there decides
 * what may go, and when it cannot be seen nothing is known (the caches may hold the only copies).
 * LJOB and SJOB (PATH_MAX bytes each) get both job directories. 0; 1 when memory ran out part
 * way; -errno with nothing to close or free: -ENOENT or -ENOTDIR when the shared job directory
 * is not there. Shared by the bound (local_bound.h) and the room (local_room.h). */
int filem_local_list_older(const char *local_seqdir, const char *shared_seqdir, char *ljob,
                           char *sjob, int *jfd, long long **seqs, size_t *n);

/* Whether the shared job directory SJOB holds sequence SEQ committed (SJOB/<seq>/snapshot.meta
 * is there): 1; 0 when not (ENOENT); -errno when it cannot be told. */
int filem_local_committed(const char *sjob, long long seq);

/* Removes the cache job directory DIR when nothing but its note (local_gc.h's
 * FILEM_LOCAL_JOBDIR_NAME) is left in it. 0 removed, -errno (ENOTEMPTY: it holds more). */
int filem_local_rmjob(const char *dir);

/* Removes the cached sequence NAME of the cache job directory JFD (its rank and partner images and
 * temporary files, then the directory) unless a reader holds its lock. 1 removed, 0 locked
 * (kept), -errno. */
int filem_local_remove_seq(int jfd, const char *name);

/* A restart reads the cached sequence directory DIR, or a copy is written into it (partner.h):
 * a shared lock (the pruner skips DIR while it is held). Returns the descriptor to keep open
 * (closing it releases the lock), or -errno; -ENOENT also when DIR was removed while this waited
 * for the lock (nothing is held then). */
int filem_local_lock_shared(const char *dir);

/* A file of the cached sequence directory DIR is to be removed (a copy found damaged,
 * revive-restart-rank): the same lock taken exclusively, so that no copy is renamed into DIR
 * meanwhile (the writers of DIR, --preload and the partner copies, rename under the shared
 * lock). Waits at most WAIT_MS for the readers and writers holding it (a restore reading its
 * image holds it until the image is read). Returns the descriptor to keep open while removing
 * (closing it releases the lock), or -errno: -EWOULDBLOCK when still held by others after
 * WAIT_MS, -ENOENT when DIR is gone or was removed meanwhile. */
int filem_local_lock_exclusive(const char *dir, int wait_ms);

#endif
