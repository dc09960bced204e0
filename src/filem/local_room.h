/*
 * Room in a node's cache for the sequence about to be written (newuser10 F4). A cache with room
 * for one snapshot took exactly one: retention keeps the newest committed sequence's copy
 * (local_retain.h) and the bound kept the newest failed one (local_bound.h; a failed one now
 * goes at its failure, src/snapc/agent_cache.c) while the next is written, so every later checkpoint of the job failed "No space left on device" on space that
 * was Revive's own. As SCR's cache does before a new checkpoint (its cache size counts the
 * dataset being written; a dataset goes from the cache only once flushed), what no restart needs
 * from this node goes first:
 *   - the job's older sequences the shared job directory does not hold committed (failed, cut
 *     short: they can never serve a restart), at once;
 *   - then, while the file system has less room than needed, the job's older committed
 *     sequences, oldest first, but only a redundant copy (the shared directory holds the sequence
 *     committed and every cached image has its rank image there with the same size,
 *     filem_local_redundant): the snapshot directory keeps every committed snapshot (and
 *     --ckpt-keep's), the cache's copy of it only makes a restart on these hosts faster;
 *     the only copy of a committed image stays, and so does a sequence a restart reads (locked).
 * Nothing is removed when the shared job directory is not there or cannot be read (storage
 * lost: the caches may hold the only copies). Newer sequences than the one to write are never
 * touched.
 *
 * Linked with local_retain.c into the rank agent; needs libc only.
 */
#ifndef REVIVE_FILEM_LOCAL_ROOM_H
#define REVIVE_FILEM_LOCAL_ROOM_H

#include <stdint.h>

struct filem_local_room_stats {
    int failed;          /* older uncommitted sequences removed */
    int committed;       /* older committed sequences removed (redundant copies) */
    int kept;            /* older committed sequences kept: the only copy of an image, or locked */
    uint64_t bytes;      /* bytes their files held */
};

/* Before the sequence LOCAL_SEQDIR (LOCAL/<job>/<seq>, the node's copy of SHARED_SEQDIR) is
 * written, or when its write found the file system full: the job's older uncommitted cached
 * sequences go; then, while LOCAL_SEQDIR's file system has fewer than NEED bytes available (0:
 * none of them; UINT64_MAX: every one), its older committed ones whose copy is redundant go,
 * oldest first (above). ST (zeroed here; may be NULL) counts. 0, or -errno: -ENOENT when the
 * shared job directory is not there (nothing removed), another when a directory cannot be read
 * (what could be removed before was). */
int filem_local_make_room(const char *local_seqdir, const char *shared_seqdir, uint64_t need,
                          struct filem_local_room_stats *st);

/* What the node wrote into its cache at the job's newest sequence older than LOCAL_SEQDIR's that
 * holds an image: the bytes of its images (rank and partner copies), the size the next one will
 * most likely need; 0 when there is none (the job's first). */
uint64_t filem_local_last_bytes(const char *local_seqdir);

/* Bytes an unprivileged writer may still put on PATH's file system (statvfs f_bavail);
 * UINT64_MAX when it cannot be asked. */
uint64_t filem_local_avail(const char *path);

#endif
