/*
 * Partner copies (issue 9, point 4; mpirun --ckpt-partner): each node's cached images of a
 * sequence are also copied into the cache of its partner node, node (i+1) mod N in the order
 * the job's hosts first appear among the ranks (SCR's PARTNER scheme), so that the sequence
 * survives the loss of one node's cache before or after it reached shared storage, and a
 * restart on the remaining hosts reads the copy there.
 *
 * The transfer runs between the ranks' agents, over TCP on the address each agent uses to
 * reach the coordinator. Across hosts no peer uid can be read, so both ends prove the job's
 * secret (REVIVE_JOB_SECRET, 64 hex digits, given to every rank of the job only) without
 * sending it: the receiver sends a nonce, the sender answers with its own nonce and a proof
 * over (secret, both nonces), the receiver proves the same the other way before any byte of an
 * image moves. The proof is XXH3-128 (the project's hash), not a cryptographic MAC: it keeps the
 * secret off the wire and refuses peers that do not hold it, at the trust level of the
 * coordinator's own HELLO (which carries the secret itself). A peer that fails is refused with
 * a message naming its address.
 *
 * The receiver writes LOCAL/<job>/<seq>/partner_<r>.img (0600; the directory 0700, made by
 * filem_local_seq_dir) under a temporary name, flushes it, checks it as a staged copy is
 * checked (the file's checksum = the one the rank reported, every chunk) and only then renames it
 * and answers "verified"; the sequence directory is held (filem_local_lock_shared) from before
 * the temporary file is made until the rename, and that file is locked as every image writer's
 * (crs_durable_open), so neither the cache's retention nor its sweep of partial images removes a
 * copy being received (a directory already removed refuses the copy); the sender reports that
 * answer to the coordinator, which marks the
 * sequence protected by partner copies only when every rank's copy was verified.
 *
 * Kept apart from stage.h: linked with it into the rank agent and revive-restart-rank.
 */
#ifndef REVIVE_FILEM_PARTNER_H
#define REVIVE_FILEM_PARTNER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define FILEM_PARTNER_PREFIX "partner_"  /* partner_<r>.img in a node-local sequence directory */

struct filem_partner_rx;

/* Starts a receiver thread listening on the local address of the connected socket LIKE_FD
 * (the interface that reaches the coordinator; port chosen by the system) that accepts
 * partner copies of sequence SEQ into LOCAL_SEQDIR, from peers proving SECRET (64 hex).
 * ADDR gets "ip:port" to give the senders. 0 or -errno with a message. */
int filem_partner_rx_start(int like_fd, const char *local_seqdir, uint64_t seq,
                           const char *secret, char *addr, size_t addrlen,
                           struct filem_partner_rx **out, char *err, size_t errlen);

/* The same receiver for restart-mpi's fetch of cached images (restart_fetch.c): listening on
 * IP (numeric, port chosen by the system), keeping each copy as DIR/<PREFIX><r>.img (the
 * snapshot directory, "rank_"), from senders proving SECRET (64 hex digits, made for the
 * fetch and given to the senders through the launcher). A copy of a rank already there is
 * kept (the sender is answered "already there"): every host holding one is asked at once.
 * 0 or -errno with a message. */
int filem_partner_rx_start_at(const char *ip, const char *dir, const char *prefix, uint64_t seq,
                              const char *secret, char *addr, size_t addrlen,
                              struct filem_partner_rx **out, char *err, size_t errlen);

/* restart-mpi's receiver (filem_partner_rx_start_at) logs no failed copy: it keeps the last
 * failure of each rank for the fetch's one message (a sender killed mid-way says nothing of it).
 * 1 with OUT filled ("the copy broke off after N of M bytes (...); ...", "... fails its check"),
 * else 0. Callable while copies are received. */
int filem_partner_rx_why(struct filem_partner_rx *rx, int rank, char *out, size_t len);

/* Accepts no more copies and waits until those being received are finished (or time out);
 * filem_partner_rx_why still answers. Once; filem_partner_rx_stop then only frees. */
void filem_partner_rx_quiesce(struct filem_partner_rx *rx);

/* filem_partner_rx_quiesce bounded by DEADLINE (CLOCK_MONOTONIC; NULL: none): the copies still
 * being received then are ended as by filem_partner_rx_abort (each removes its part) and
 * filem_partner_rx_why says "the copy was ended after N of M bytes, still coming at the time
 * bound". restart-mpi's fetch (REVIVE_FETCH_TIMEOUT bounds a slow but live copy). */
void filem_partner_rx_quiesce_until(struct filem_partner_rx *rx, const struct timespec *deadline);

/* Ends the copies being received now (their connections shut down: each removes its part
 * received), as restart-mpi does when a signal ends it mid-way. */
void filem_partner_rx_abort(struct filem_partner_rx *rx);

/* Stops the receiver (a copy being received is finished or times out first) and frees it. */
void filem_partner_rx_stop(struct filem_partner_rx *rx);

/* Sends the image IMAGE of rank RANK (its file's checksum CHECKSUM, crs_image_file_sum; sequence SEQ) to the receiver
 * at ADDR ("ip:port"), proving SECRET, and waits until the receiver has verified its copy.
 * 0, or -errno with a message naming the peer. */
int filem_partner_send(const char *addr, const char *secret, const char *image, int rank,
                       uint64_t seq, uint64_t checksum, char *err, size_t errlen);

#endif
