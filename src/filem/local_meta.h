/*
 * The committed sequence's metadata beside a node's cached images (issue 9): a node-local
 * sequence directory (LOCAL/<job dir name>/<seq>) holds, once its sequence is committed, a copy
 * of the shared snapshot.meta, so that when the shared snapshot directory is lost (its file
 * system gone) restart-mpi can still restart from the caches (tools/snapc/restart_cache.h):
 * the copy says what the snapshot is (ranks, launcher, hosts, every image's checksum) and is
 * checked like the original (its own xxh3 checksum line, its "reference" naming the shared
 * sequence it belongs to); the images fetched back from the caches are checked against it.
 *
 * Written by every rank's agent on the node at the commit's RESUME (the same bytes, each through
 * its own temporary name, so side by side is harmless). It is a name the store makes: retention,
 * the cache collector and a normal job end remove it with the images (filem_local_store_name).
 *
 * Kept apart from stage.h: linked with it into the rank agent; needs libc and crs's durable
 * replacement only.
 */
#ifndef REVIVE_FILEM_LOCAL_META_H
#define REVIVE_FILEM_LOCAL_META_H

#include <stddef.h>

/* Its name in a node-local sequence directory: the shared one's (filem.h FILEM_META_NAME). */
#define FILEM_LOCAL_META_NAME "snapshot.meta"
/* The failed-restart mark beside it (local_failed.h) */
#define FILEM_LOCAL_FAILED_NAME "restart.failed"

/* Copies SHARED_SEQDIR/snapshot.meta (committed) to LOCAL_SEQDIR/snapshot.meta durably (0600,
 * temporary name, flush, rename, flush of the directory), then reads the copy back and compares
 * it with the original. 0, or -errno with a message naming the file. */
int filem_local_keep_meta(const char *shared_seqdir, const char *local_seqdir, char *err,
                          size_t errlen);

/* 1 when N is a name the store makes in a node-local sequence directory: rank images
 * (rank_<r>.img), partner copies (any *.img), the metadata copy, the failed-restart mark, the
 * durable writer's
 * temporary files (.NAME.tmp.PID[.N]); what removes a cached sequence removes these only. */
int filem_local_store_name(const char *n);

#endif
