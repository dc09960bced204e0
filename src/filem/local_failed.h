/*
 * Failed-restart marks kept beside the cached copies (issue 9): the index of a job directory
 * (index.c) records the restarts that failed from each sequence so that restart-mpi's default
 * skips them; when the snapshot directory is lost, the index goes with it. So the coordinator
 * of a restart that failed also marks the sequence in its own host's cache (the host
 * restart-mpi ran on): LOCAL/<job>/<seq>/restart.failed (FILEM_LOCAL_FAILED_NAME, 0600, the
 * index's format with its own magic and checksum line: "failed_restarts N", "failed_reason
 * WHY", "at_ms T"), rewritten as a record of success ("failed_restarts 0", its time) when a
 * restart from that sequence succeeds and a failure is recorded to outweigh, removed with the cached sequence (a name the store
 * makes, local_meta.h). A restart from the caches
 * (tools/snapc/restart_cache.h) reads the marks where it reads the cached metadata (this
 * host's cache or another host's, restart_meta_ask.h), skips a marked sequence as the
 * default restart does, and writes the marks back into the index of the re-created directory.
 *
 * In libfilem.la; the cache's paths come from stage.h (the coordinator and the tools link
 * both). Only the host the failed restart was started from holds the mark, so a restart from
 * the caches asks the other holders for theirs (restart_cache.c).
 */
#ifndef REVIVE_FILEM_LOCAL_FAILED_H
#define REVIVE_FILEM_LOCAL_FAILED_H

#include <stddef.h>
#include <stdint.h>

#define FILEM_LOCAL_FAILED_MAGIC "REVIVE-RESTART-FAILED 1"

/* A restart from SEQDIR (the shared sequence directory) failed for REASON: the mark in this
 * host's cached copy of it (REVIVE_LOCAL_DIR, else the default cache; none when the cache
 * holds no such sequence, or with "none") counts one more. 0 (also when there is no cached
 * sequence), or -errno with a message. */
int filem_local_failed_mark(const char *seqdir, const char *reason, char *err, size_t errlen);

/* A restart from SEQDIR succeeded: this host's cached sequence records it, in the same file,
 * as "failed_restarts 0" with its time, when a failed restart may be marked somewhere: this
 * host's cached sequence holds a record already, or INDEX_FAILED (the job's index recorded
 * failed restarts of it, or could not be read). The mark of the failed restart may be in
 * another host's cache (the host restart-mpi ran on then), which this restart cannot reach; a
 * restart from the caches that gathers the holders' records takes each sequence's newest one
 * (restart_cache.c), so the success outweighs an older failure wherever that was marked. With
 * no failure recorded anywhere nothing is written: a restart.failed saying "failed_restarts 0"
 * in every cached sequence ever restarted told a user of a failure that never was (newuser13). */
void filem_local_failed_succeeded(const char *seqdir, int index_failed);

/* The record in the cached sequence directory CACHED: how many restarts failed (0: none, a
 * success, or a record that fails its checks) and the last reason into REASON; *AT_MS (may be
 * NULL) when it was written (ms since the epoch; 0 for a mark written before records had a
 * time, or none). */
unsigned filem_local_failed_read(const char *cached, char *reason, size_t rlen, int64_t *at_ms);

#endif
