/*
 * restart-mpi when the shared snapshot directory is gone (issue 9): its file system lost, but
 * every rank's image still in the node-local caches (--ckpt-local). Each cached sequence holds
 * a copy of its committed snapshot.meta (src/filem/local_meta.h), so the snapshot can still be
 * known: restart-mpi takes the copy from the cache of the host it runs on, or, when that holds
 * none, from the first of the restart's hosts (--hostfile) and those of --meta-from that sends
 * a good one (restart_meta_ask.h), checks it as it checks the original (its checksum line; its "reference" must
 * name the sequence asked for: a cache of another snapshot directory's job of the same pid is
 * not taken; committed), re-creates the job and sequence directories (0700) where they were
 * with that metadata (0600, durably, read back and checked again), and the usual fetch
 * (restart_fetch.h) brings every image back from the caches that hold them, each checked
 * against the metadata, before the launch. The restarted job's own snapshots go there too, so
 * the re-created directory must be on storage every host sees, as the original was: its
 * parent must exist (a missing parent is the file system still not mounted: said, nothing
 * made), unless --recreate-in names other storage to re-create it in (restart_cache_gone).
 * The index is rebuilt from the cached sequences and their failed-restart marks
 * (filem/local_failed.h).
 */
#ifndef REVIVE_TOOLS_RESTART_CACHE_H
#define REVIVE_TOOLS_RESTART_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* REF does not exist. 0 when it is not named as a snapshot reference whose job directory is
 * gone (the caller's own message stands). Else the cached metadata for it: 1 with JOBDIR (the
 * absolute job directory as it was), *SEQ (REF's sequence, else WANT_SEQ when >= 0, else the
 * newest sequence in the cache with good metadata; older ones passed over are said) and
 * CACHED (the cache's sequence directory holding it, here) filled; or -errno with ERR saying,
 * in one line, what is missing, what each host asked answered and what to do. LOCAL: the
 * caches' directory (--ckpt-local), NULL for each host's default one. The cache of this host
 * is read first; the hosts of ASK (N; this host skipped) are asked for their copies all at
 * once (restart_meta_ask.h, RRANK being revive-restart-rank), with the other hosts the
 * metadata names as holders when this host's cache has it: their failed-restart marks count
 * too. When this host's cache holds no good copy, the first good one of ASK, in order, is taken
 * (said). Nothing is written outside restart_meta_ask's temporary folders. */
int restart_cache_find(const char *ref, const char *local, long want_seq, char *const *ask,
                       int nask, const char *rrank, const char *recreate_in, char *jobdir,
                       size_t jlen, int64_t *seq, char *cached, size_t clen, char *err,
                       size_t errlen);

/* The job directory as it was (absolute), after restart_cache_find returned 1. With
 * RECREATE_IN (restart-mpi --recreate-in DIR: the storage that held it is gone, DIR is other
 * storage every host sees) JOBDIR is DIR/<its name> instead, which must not exist; the
 * caches know the job by its name, and the re-created snapshot.meta keeps the bytes that
 * name the old place. */
const char *restart_cache_gone(void);

/* Whose cache restart_cache_find took the metadata from ("this host's", "h2's") and its path
 * there, for restart-mpi's messages. */
const char *restart_cache_from_who(void);
const char *restart_cache_from_path(void);

/* Re-creates JOBDIR/SEQ (0700 each; JOBDIR must not exist) with CACHED's snapshot.meta. 0, or
 * -errno with a message (what was made is removed again). */
int restart_cache_recreate(const char *jobdir, uint64_t seq, const char *cached, char *err,
                           size_t errlen);

/* After a failed restart from the caches: removes what restart_cache_recreate made (the
 * sequence with what was fetched into it, the restart's lock note, the job directory), so
 * the snapshot directory is gone again as before. 0 once the job directory is gone, else
 * -errno of its removal (something was left in it). */
int restart_cache_undo(const char *jobdir, uint64_t seq);

#endif
