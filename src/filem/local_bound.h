/*
 * The bound on a node's uncommitted cached sequences (issue 9, point 3; review MEDIUM-1). A
 * sequence whose copy to shared storage failed keeps its images in the node's cache, and
 * filem_local_retain (local_retain.h) removes them only once a later sequence commits. A
 * periodic job whose snapshot directory stays full or unwritable never commits again: every
 * failed sequence stayed (14 copies of every image after a 9 s job at --ckpt-interval 1), and
 * the node's disk filled. So a node keeps at most one uncommitted sequence besides the one
 * being written (and the agents now remove a failed sequence itself at its failure:
 * src/snapc/agent_cache.c, agent_cache_drop_failed, which calls this first). Committed sequences are left to filem_local_retain
 * (--ckpt-keep); so is everything when the shared job directory cannot be looked at (storage
 * lost: the caches may hold the only copies).
 *
 * Linked with local_retain.c into the rank agent; needs libc only.
 */
#ifndef REVIVE_FILEM_LOCAL_BOUND_H
#define REVIVE_FILEM_LOCAL_BOUND_H

/* In the node's cache of LOCAL_SEQDIR's job (LOCAL/<job>/<seq>, the copy of SHARED_SEQDIR):
 * the cached sequences older than <seq> that SHARED_SEQDIR's job directory does not hold
 * committed (no snapshot.meta: their staging failed, or their checkpoint was cut short) are
 * removed, except the KEEP_NEWEST newest of them (0: the sequence <seq> itself failed and is the
 * newest failed one; 1: <seq> is being written, the newest older one may be a failed one or
 * one still staging). A sequence a restart reads (locked) stays. Nothing is removed when the
 * shared job directory is not there (-ENOENT) or cannot be read (-errno). *REMOVED (when given):
 * how many went. 0 or -errno. */
int filem_local_bound_uncommitted(const char *local_seqdir, const char *shared_seqdir,
                                  int keep_newest, int *removed);

#endif
