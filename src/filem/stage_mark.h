/*
 * The mark a failed staging leaves (issue 9, point 3): SEQDIR/staging.failed holds why the
 * sequence's images could not all be copied to shared storage; ckpt-info shows the sequence as
 * failed and restart-mpi says it passes over it.
 *
 * The commonest failure is a full shared directory, where writing even a short file fails:
 * the mark would then be lost and the sequence with it (CI, session 9: "ckpt-info does not
 * show sequence 1 failed"; the other ranks' temporary copies still held the room the failed
 * rank's copy left). So the coordinator keeps room for the mark beforehand: a small file
 * JOBDIR/.staging.reserve, written while there is room (at each checkpoint of a node-local
 * first job, a stat when it is there). The mark is written into that file's own blocks, which
 * needs no new room, and renamed into the sequence directory; the next checkpoint makes a new
 * reservation.
 *
 * Coordinator and tools only (libfilem.la).
 */
#ifndef REVIVE_FILEM_STAGE_MARK_H
#define REVIVE_FILEM_STAGE_MARK_H

#include <stddef.h>
#include <stdint.h>

#define FILEM_STAGE_RESERVE_NAME ".staging.reserve"
#define FILEM_STAGE_RESERVE_SIZE 4096 /* the mark's text is cut to fit */

/* Makes JOBDIR/.staging.reserve (FILEM_STAGE_RESERVE_SIZE bytes, 0600, flushed, the
 * directory flushed) unless it is there already. 0, or -errno with a message (-ENOSPC: no
 * room now; a failure mark then needs room when it is written). */
int filem_stage_reserve(const char *jobdir, char *err, size_t errlen);

/* Removes the reservation (the job ended: no staging can fail any more). */
void filem_stage_unreserve(const char *jobdir);

/* Marks sequence SEQ of JOBDIR as failed while staging: JOBDIR/SEQ/staging.failed holds WHY
 * and a newline, durably (flushed, renamed, directories flushed). Uses the reservation where
 * there is one (no new room needed), else writes a new file. 0, or -errno with a message. */
int filem_stage_mark_failed(const char *jobdir, uint64_t seq, const char *why, char *err,
                            size_t errlen);

/* 1 and the reason (its first line) when sequence SEQ of JOBDIR holds a staging.failed mark,
 * else 0. */
int filem_stage_failed_reason(const char *jobdir, uint64_t seq, char *why, size_t len);

/* The mark of a staging in progress (issue 9, point 2: ckpt-info shows each sequence as staging,
 * committed or failed; newuser9 F1: a sequence still being copied was shown as "never finished
 * or it failed"). The coordinator writes SEQDIR/staging.active when every image is in its
 * node's cache and the agents begin to copy, and removes it once the sequence is committed or
 * failed. A mark without a running job (its coordinator killed while the agents copied: the
 * job's lock, filem/alive.h, is free) is a staging that never finished: not "staging". */
#define FILEM_STAGE_ACTIVE_NAME "staging.active"

/* The mark of a sequence being written (closing31: a sequence whose ranks were still writing
 * their images showed "not committed", as one that never finished). The coordinator writes
 * SEQDIR/writing.active once it made the sequence directory and removes it when the images are
 * all written (staging.active follows, node-local first), at the commit, or when the sequence
 * fails or is discarded. As for staging.active, a mark without a running job is not "writing". */
#define FILEM_WRITE_ACTIVE_NAME "writing.active"

/* The phase a mark says a sequence is in while its job runs. */
enum filem_phase {
    FILEM_PHASE_WRITING, /* writing.active: the ranks write their images */
    FILEM_PHASE_STAGING, /* staging.active: the agents copy them to shared storage */
};

/* Writes the phase's mark in SEQDIR (0600; its text: the coordinator's host and pid). Not
 * flushed: a mark lost with a crash is that of a phase that ended with it. 0, or -errno with a
 * message (the sequence then shows as not committed until it is). */
int filem_phase_mark(const char *jobdir, uint64_t seq, enum filem_phase phase, char *err, size_t errlen);

/* Removes the phase's mark (the phase over: the next one, committed, failed or discarded). */
void filem_phase_unmark(const char *jobdir, uint64_t seq, enum filem_phase phase);

/* A phase its job never finished (newuser9b N5: mpirun killed -9 while the ranks copied: the
 * coordinator died with it and left staging.active for good, the sequence listed for ever as
 * "never finished, or failed"; the same for writing.active, killed while the ranks wrote, some
 * images whole in the sequence directory): when SEQDIR of JOBDIR holds the phase's mark and
 * neither snapshot.meta nor staging.failed, marks it failed with WHY (filem_stage_mark_failed)
 * and removes the mark. The caller knows the job no longer runs (filem_job_alive). 1 when it was
 * such a sequence and is now marked failed, 0 when it was not one, -errno with a message when
 * the failure mark could not be written (the phase's mark then stays). */
int filem_phase_settle_orphan(const char *jobdir, uint64_t seq, enum filem_phase phase, const char *why,
                              char *err, size_t errlen);

/* 1 when sequence SEQ of JOBDIR is in the phase now: its mark is there, neither snapshot.meta nor
 * staging.failed is (nor, for writing, staging.active), and the job runs (filem_job_alive).
 * Else 0. */
int filem_phase_active(const char *jobdir, uint64_t seq, enum filem_phase phase);

#endif
