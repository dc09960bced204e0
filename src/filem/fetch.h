/*
 * The sending end of restart-mpi's fetch of cached images (issue 9: restart from other hosts'
 * caches). When a committed sequence's image of a rank is not in the shared snapshot
 * directory (the shared copy lost), it may still be in the node-local cache of the host the
 * rank ran on (rank_<r>.img) or in its partner's (partner_<r>.img), both named in
 * snapshot.meta. restart-mpi listens (filem_partner_rx_start_at) and runs, through the job's
 * own launcher, `revive-restart-rank --fetch-to ADDR --ranks LIST SEQDIR` on such a host; that
 * calls filem_fetch_send, which sends every good copy of the listed ranks it finds in this
 * host's cache over the partner copies' channel (both ends prove the fetch's secret, the
 * receiver verifies every chunk against the checksum of snapshot.meta before the copy gets its
 * name in the snapshot directory).
 *
 * Compiled into revive-restart-rank (with partner.c), the one program a launcher starts on
 * every host.
 */
#ifndef REVIVE_FILEM_FETCH_H
#define REVIVE_FILEM_FETCH_H

#include <stdio.h>

#define FILEM_FETCH_SECRET_ENV "REVIVE_FETCH_SECRET" /* 64 hex digits, set by restart-mpi */
#define FILEM_FETCH_TAG "revive-fetch:"              /* the lines restart-mpi reads */
/* The sender's first line, written as it starts: restart-mpi bounds the launch until it comes
 * (REVIVE_FETCH_START_TIMEOUT) apart from the transfer's bound. */
#define FILEM_FETCH_STARTED FILEM_FETCH_TAG " started"

/* Sends this host's cached copies of the ranks in RANKS (comma list) of the sequence SEQDIR to
 * the receiver at ADDR, proving SECRET. LOCAL: the caches' directory (NULL or "default": this
 * host's default cache). Writes FILEM_FETCH_STARTED first (flushed), then one line per rank
 * on OUT:
 *   revive-fetch: rank R: sent PATH
 *   revive-fetch: rank R: none: WHY        (no good copy here; WHY says what was looked at)
 * The checksums come from SEQDIR/snapshot.meta, or, when SEQDIR is not there on this host (a
 * directory re-created by restart-mpi --recreate-in on storage only its host sees), from the
 * committed copy in this host's cached sequence (local_meta.h).
 * 0 when the arguments and the snapshot's metadata could be read (whatever was found), else
 * -errno with a message. */
/* SUMS ("R:0xHEX,...", or NULL): the checksums the caller expects, used only when neither
 * SEQDIR/snapshot.meta nor the cache's committed copy can be read: the coordinator's own fetch
 * while the sequence stages, before any snapshot.meta exists (newuser9b N6, restart_fetch.c's
 * send_sums). The receiver checks every copy against its own checksums anyway. */
int filem_fetch_send(const char *local, const char *seqdir, const char *ranks, const char *sums,
                     const char *addr, const char *secret, FILE *out, char *err, size_t errlen);

/* Restart from the caches when restart-mpi's own host holds no copy of the metadata (its cache
 * lost with the snapshot directory): restart-mpi asks another host, through the remote shell,
 * for the committed snapshot.meta copies its cache holds of the job JOBDIR (local_meta.h).
 * Writes to OUT, for each cached sequence of the job holding a snapshot.meta (a private
 * regular file of at most FILEM_FILE_MAX bytes), newest first:
 *   revive-meta: sequence N bytes L
 *   <the L bytes of the file>
 * each followed, where the sequence holds a failed-restart mark (local_failed.h), by
 *   revive-meta: failed N bytes L
 *   <the L bytes of the mark>
 * and last "revive-meta: end" (a cache holding none of the job: only that line). The copies
 * are sent as they are: restart-mpi checks each (checksum line, reference, committed) as it
 * checks its own host's copy. LOCAL as for filem_fetch_send. 0, or -errno with a message
 * (the cache exists but cannot be read). */
#define FILEM_META_TAG "revive-meta:"
int filem_fetch_send_meta(const char *local, const char *jobdir, FILE *out, char *err,
                          size_t errlen);

#endif
