/*
 * Which other sequence of a snapshot directory restart-mpi can be sent to, decided by one rule
 * for restart-mpi's advice ("sequence N beside it is committed (restart-mpi --seq N DIR)") and
 * ckpt-info's index line ("restart-mpi takes N" / "restart-mpi refuses N"): the newest other
 * committed sequence that passes the check restart-mpi makes of the sequence it takes (its
 * metadata read, every image against it: filem_verify_seq, every chunk unless --no-verify).
 * Before, the advice named the newest other committed sequence unchecked: with two damaged
 * sequences restart-mpi sent the user from one to the other and back, and ckpt-info said
 * "restart-mpi takes 1" of a sequence restart-mpi refuses (newuser7f F3, F2).
 */
#ifndef REVIVE_TOOLS_SNAPC_SEQ_PICK_H
#define REVIVE_TOOLS_SNAPC_SEQ_PICK_H

#include <stddef.h>
#include <stdint.h>

/* What a check of one sequence found: SEQ_PICK_OK (restart-mpi takes it as it is),
 * SEQ_PICK_FETCH (its only faults are images missing or damaged in the snapshot directory that
 * restart-mpi fetches from the node-local caches, when one holds a good copy; *fetch: how many),
 * SEQ_PICK_BAD (damaged or unusable: restart-mpi refuses it). */
enum { SEQ_PICK_OK = 0, SEQ_PICK_FETCH = 1, SEQ_PICK_BAD = 2 };

/* restart-mpi's check of sequence seq of jobdir: its snapshot.meta read, every rank image
 * against it (deep: every chunk's checksum, restart-mpi's default; else sizes and the file
 * checksum, as --no-verify). Returns a SEQ_PICK_ value; *fetch (may be NULL) the images a
 * SEQ_PICK_FETCH one lacks. Changes nothing. */
int seq_pick_check(const char *jobdir, uint64_t seq, int deep, int *fetch);

/* A caller's own result of that check for seq (ckpt-info, which has just checked every
 * sequence): a SEQ_PICK_ value, or -1 for "not checked" (then seq_pick_check decides). */
typedef int (*seq_pick_known_fn)(void *arg, uint64_t seq, int *fetch);

/* Said on standard error before a deep check reads another sequence's images through (minutes
 * for a large job, with nothing said before: diffrev37 R-L14): "ME: REFUSAL; checking sequence N
 * of JOBDIR (...)" before the first, "ME: checking sequence N ..." before each later one. The
 * caller's one-line message (REFUSAL; ADVICE) follows as before. me NULL: nothing said (a caller
 * whose user asked for every image to be read, or that checked without deep). */
struct seq_pick_say {
    const char *me;      /* the tool's name */
    const char *refusal; /* why seq cannot be used, as the final message says it */
};

/* What to do when sequence seq (-1: none excluded) cannot be used, into buf (returned in *named:
 * the sequence named, else -1): "sequence N beside it is committed (restart-mpi --seq N
 * JOBDIR)" for the newest other committed sequence that passes the check (one only fetchable
 * from the caches when no other passes, said so); else "JOBDIR holds no other committed
 * sequence to restart from" or, when the others fail the check, "JOBDIR holds no other intact
 * committed sequence (sequence(s) ... damaged too); run the job again from its start". known
 * (may be NULL) gives results already had; say (may be NULL) what to say before a deep check.
 * Returns buf. */
const char *seq_pick_hint(const char *jobdir, int64_t seq, int deep, seq_pick_known_fn known,
                          void *arg, const struct seq_pick_say *say, int64_t *named, char *buf,
                          size_t len);

/* filem_meta_read's message for sequence seq's damaged snapshot.meta (err: its advice names
 * the newest other sequence whose metadata reads, unchecked, as it must not scan the others)
 * with seq_pick_hint's advice instead, into out (err as it is when it has no advice); returns
 * out. me: the tool's name for seq_pick_say (its refusal: err's part before the advice), or
 * NULL. */
const char *seq_pick_meta_damaged(const char *err, const char *jobdir, int64_t seq, int deep,
                                  const char *me, char *out, size_t len);

#endif
