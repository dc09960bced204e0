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

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "common/text.h"
#include "filem/filem.h"

struct crs_file_stamp;

/* What a check of one sequence found: SEQ_PICK_OK (restart-mpi takes it as it is),
 * SEQ_PICK_FETCH (its only faults are images missing or damaged in the snapshot directory with
 * a copy restart-mpi fetches: a good one in this host's node-local cache, or one in another
 * host's cache, which cannot be checked from here; *fetch: how many), SEQ_PICK_BAD (damaged or
 * unusable: restart-mpi refuses it). */
enum { SEQ_PICK_OK = 0, SEQ_PICK_FETCH = 1, SEQ_PICK_BAD = 2 };

/* Where a rank image that failed its check (missing, or damaged in a way a copy may replace:
 * filem_image_replaceable) has another copy, as restart-mpi's fetch looks for one (its node's
 * cache, its partner's): SEQ_COPY_HERE a good one in this host's cache (every chunk verified),
 * SEQ_COPY_AWAY only in another host's cache (not readable from here), SEQ_COPY_NONE none (the
 * job kept no node-local copies, or this host's cache, the only one named, lacks it or holds a
 * damaged one). SEQ_COPY_NOT_NEEDED: the image passes, or its damage no copy replaces. */
enum { SEQ_COPY_NOT_NEEDED = -1, SEQ_COPY_NONE = 0, SEQ_COPY_HERE = 1, SEQ_COPY_AWAY = 2 };

/* Where this host's node-local cache keeps rank r's image of sequence seqdir (its own node's
 * copy rank_R.img, or with partner its partner copy partner_R.img), as restart-mpi's fetch
 * looks for it (filem/fetch.c): only when this host is the one snapshot.meta names for it and
 * the job kept node-local copies. 0 with the path in out; -2 this host's cache would hold it
 * but does not; else -1. */
int seq_pick_cache_path(const struct filem_meta *m, const char *seqdir, int r, int partner,
                        char *out, size_t len);

/* One sequence judged by the one rule restart-mpi's choice and refusals, its advice and
 * ckpt-info --verify (each sequence's verdict, the index line) share (newuser8 F4: restart-mpi
 * called an image missing here fetchable without looking at this host's cache, which ckpt-info
 * --verify checked; with two sequences damaged so, the advice went from one to the other). */
struct seq_pick_verdict {
    int result;        /* SEQ_PICK_ value */
    int ve;            /* filem_verify_seq's return (-EPERM: an image others could change), or
                        * filem_meta_read's when the metadata cannot be read */
    int here, away;    /* images a copy replaces: good in this host's cache; in other hosts' only */
    int damaged;       /* of those, images damaged here (not missing) */
    int bad;           /* images with no copy, or with damage no copy replaces */
    int files_bad;     /* a saved file's copy (--save-files) missing or damaged: why says which */
    int unusable;      /* of those, whole images no restart can use (-ENOTRECOVERABLE: a window
                        * whose memory no restart puts back, tools/restart_wincheck.h) */
    char why[REVIVE_TEXT_PATHS(2)]; /* SEQ_PICK_BAD: its first defect ("rank R: ..."), as said
                                     * per rank (cut to fit) */
};

/* What the check says of each rank image (from filem_verify_seq's threads, one call at a time):
 * status and msg as filem_verify_seq reports them; copy a SEQ_COPY_ value, and for a copy looked
 * for (not SEQ_COPY_NOT_NEEDED) copymsg says the image's state and where its copy is (or that
 * there is none). */
typedef void (*seq_pick_rank_fn)(void *arg, int rank, int status, const char *msg, int copy,
                                 const char *copymsg);

/* Host HOST was found down by restart-mpi's fetch (WHY: its probe's words, host_probe.h): from
 * then on in this process a copy only on HOST is no copy (SEQ_COPY_NONE, said with WHY), so that
 * a refusal after that fetch names no other sequence whose images are only there (newuser8 F4:
 * two sequences each missing an image only on a lost host sent the user from one to the other).
 * ckpt-info, which asks no host, judges such a copy SEQ_COPY_AWAY. */
void seq_pick_host_down(const char *host, const char *why);

/* The files --save-files saved with a sequence are judged with its images (a damaged copy:
 * SEQ_PICK_BAD, restart-mpi refuses to put it back), unless this process was told otherwise:
 * restart-mpi --no-restore-files (it puts none back), or ckpt-info, which re-reads them itself
 * (seq_pick_verdict.files_bad set by it). Before (advice39), restart-mpi's refusal of a damaged
 * copy named no other sequence, and its advice and ckpt-info's index line could name a sequence
 * whose copies were damaged. */
void seq_pick_files_unjudged(void);

/* Judges sequence seq of jobdir: m its snapshot.meta (NULL: read here; unreadable: SEQ_PICK_BAD),
 * every rank image checked against it (deep: every chunk's checksum, restart-mpi's default;
 * else sizes and the file checksum, as --no-verify; stamps as filem_verify_seq's, may be NULL),
 * each one failing looked for in the copies restart-mpi's fetch would take. each (may be NULL)
 * is told of every rank. also (may be NULL): the caller's own look at each image that passed,
 * on the image the check opened (filem_verify_seq's check: from its threads; restart-mpi's look
 * at the files the images map), which returns 0: the verdict is the rule's. each and also get
 * arg. Fills *v and returns v->result. Changes nothing. */
int seq_pick_judge(const char *jobdir, uint64_t seq, const struct filem_meta *m, int deep,
                   struct crs_file_stamp *stamps, seq_pick_rank_fn each, filem_image_check_fn also,
                   void *arg, struct seq_pick_verdict *v);

/* seq_pick_judge without a word per rank: a SEQ_PICK_ value; *fetch (may be NULL) the images a
 * SEQ_PICK_FETCH one lacks; why (may be NULL) the first defect of a SEQ_PICK_BAD one. */
int seq_pick_check(const char *jobdir, uint64_t seq, int deep, int *fetch, char *why, size_t wlen);

/* A caller's own result of that check for seq (ckpt-info, which has just checked every
 * sequence): a SEQ_PICK_ value (with *fetch, and why for SEQ_PICK_BAD), or -1 for "not
 * checked" (then seq_pick_check decides). */
typedef int (*seq_pick_known_fn)(void *arg, uint64_t seq, int *fetch, char *why, size_t wlen);

/* Said on standard error before a deep check reads another sequence's images through (minutes
 * for a large job, with nothing said before: diffrev37 R-L14): "ME: HEAD (why: below); checking
 * sequence N of JOBDIR (...)" before the first (HEAD: the refusal up to its first ':' or '(',
 * "REF is damaged"; its reason is said once, in the final message: newuser47 L3), "ME: checking
 * sequence N ..." before each later one. The
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
 * committed sequence (sequence N: its first defect; ...); run the job again from its start":
 * every sequence's defect said once (newuser8 F4). known
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
