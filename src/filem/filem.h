/*
 * The snapshot store: where a global snapshot lives, how it becomes
 * committed, what its metadata says, which sequences are kept.
 *
 *   BASE/revive_global_snapshot_<coord pid>.ckpt/     0700  (the "job directory")
 *       index                 committed sequences, failed restarts; rewritten durably
 *       <seq>/                0700, seq from 0
 *           rank_<r>.img      0600, one per world rank
 *           snapshot.meta     0600, written last (temp + fsync + rename + fsync dir)
 *
 * A sequence is committed exactly when its snapshot.meta exists and reads
 * back with a good checksum; nothing else is ever offered for a restart.
 * Directories of the store must be private: owned by the user, no access for
 * group or others, not symbolic links; anything else is refused with a
 * message (never "fixed"). Every function returns 0 or -errno and, where it
 * takes err, puts one sentence there naming the file and what is wrong.
 */
#ifndef REVIVE_FILEM_H
#define REVIVE_FILEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/fault.h"
#include "common/text.h"

#define FILEM_JOB_PREFIX "revive_global_snapshot_"
#define FILEM_JOB_SUFFIX ".ckpt"
#define FILEM_META_NAME "snapshot.meta"
#define FILEM_INDEX_NAME "index"
#define FILEM_META_MAGIC "REVIVE-SNAPSHOT 1"
#define FILEM_INDEX_MAGIC "REVIVE-INDEX 1"
#define FILEM_LINE_MAX 8192            /* bytes of one metadata line, newline included */
#define FILEM_FILE_MAX (1u << 20)      /* bytes of a metadata or index file */

/* snprintf for messages and paths, cut when too long (never a compiler
 * warning about it: the cut is what we want for messages). */
int filem_fmt(char *dst, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Fault points of filem (snapc-meta-write, snapc-coord-kill, snapc-index) fire only while
 * enabled (default); the coordinator enables them from the epoch REVIVE_FAULT_EPOCH on, so a
 * test can take good snapshots first. */
void filem_faults_enable(int on);
/* 1 when fault point p is armed (REVIVE_FAULT) and filem's points are enabled. */
int filem_fault(enum revive_fault_point p);

/* ---- layout (layout.c) ---- */

/* BASE/revive_global_snapshot_<pid>.ckpt */
int filem_job_path(char *out, size_t len, const char *base, long pid);
/* JOBDIR/<seq>, JOBDIR/<seq>/rank_<r>.img */
int filem_seq_path(char *out, size_t len, const char *jobdir, uint64_t seq);
int filem_image_path(char *out, size_t len, const char *jobdir, uint64_t seq, int rank);

/* Checks that path is a private directory of ours (not a symlink, owned by
 * the effective uid, mode without group/other bits). With create, makes it
 * (0700) when missing, its parent must exist. 0, -ENOENT (missing, not
 * created), -EPERM/-ENOTDIR/-ELOOP (not private: err says what to do). */
int filem_private_dir(const char *path, int create, char *err, size_t errlen);

/* The sequence directories present (names that are decimal numbers), sorted
 * ascending, committed or not. *out is malloc'd (free it). */
int filem_list_seqs(const char *jobdir, uint64_t **out, int *n, char *err, size_t errlen);
/* 1 + the largest sequence present (0 when none). */
int filem_next_seq(const char *jobdir, uint64_t *out, char *err, size_t errlen);

/* Makes JOBDIR/<seq> (0700). A leftover directory of that number without
 * snapshot.meta (a crash of an earlier attempt) is cleared first; a committed
 * one is never touched (-EEXIST). */
int filem_seq_create(const char *jobdir, uint64_t seq, char *err, size_t errlen);

/* Removes an uncommitted sequence directory: rank images, temporary files,
 * the directory. Refuses (-EEXIST) when snapshot.meta is there. Removes only
 * names the store makes (rank_<r>.img, .NAME.tmp.PID); anything else makes it
 * leave the directory and say so. The directory is renamed to a hidden name
 * first (JOBDIR/.discarded.SEQ.PID.N): its number is free at once even while
 * a rank of the failed attempt still writes into it; then a late file can keep
 * the hidden directory until filem_trash_clean. */
int filem_seq_discard(const char *jobdir, uint64_t seq, char *err, size_t errlen);
/* Removes the hidden directories filem_seq_discard left (their files the store's
 * names only). Returns how many are still there. */
int filem_trash_clean(const char *jobdir);

/* Removes a committed sequence (retention): snapshot.meta first (so it stops
 * being offered at once), then the rest as filem_seq_discard. */
int filem_seq_remove(const char *jobdir, uint64_t seq, char *err, size_t errlen);

/* Readers (restart-mpi, ckpt-info --verify) hold a shared lock on a sequence
 * directory while they read it; retention takes it exclusively without
 * waiting and skips a sequence being read. Returns the locked descriptor (close
 * it to release) or -errno; -ENOENT also when retention removed the sequence while
 * this waited for the lock (nothing is held then). */
int filem_seq_lock_shared(const char *jobdir, uint64_t seq);

/* REF does not exist, GONE its highest missing folder (as REF names it, relative or not): the
 * words "REF does not exist: ..." into OUT, saying which folder is missing where (a relative REF:
 * relative to the current directory, named), and that its file system may not be mounted only
 * when a folder above the snapshot directory is the missing one (a mistyped relative reference
 * was told "its file system is not mounted": review LOW-2). Returns what filem_fmt returns. */
int filem_missing_ref_words(const char *ref, const char *gone, char *out, size_t len);

/* REF is a sequence (JOBDIR/<seq>) or a job directory (then *seq = -1).
 * Fills jobdir with REF's job directory (absolute). -ENOENT when missing,
 * -EINVAL when REF is neither. A folder that holds exactly one job directory
 * (mpirun's --ckpt-dir) stands for it: then 0 and ERR is a one-line note to
 * show (ERR is empty on any other success); several are refused, named. */
int filem_resolve_ref(const char *ref, char *jobdir, size_t len, int64_t *seq, char *err,
                      size_t errlen);

/* ---- metadata (meta.c) ---- */

struct filem_kv {
    char *key;
    char *value;
};

struct filem_meta {
    struct filem_kv *kv;
    int n, cap;
};

void filem_meta_init(struct filem_meta *m);
void filem_meta_free(struct filem_meta *m);
/* Sets key (a-z 0-9 . _ -, at most 128 bytes) to the formatted value (any
 * bytes but NUL; escaped on write), replacing an earlier value. 0, -EINVAL, -ENOMEM. */
int filem_meta_set(struct filem_meta *m, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *filem_meta_get(const struct filem_meta *m, const char *key);
/* 0 and *out, -ENOENT (no key), -EINVAL (not a decimal or 0x hex number). */
int filem_meta_get_u64(const struct filem_meta *m, const char *key, uint64_t *out);

/* The file's bytes: magic line, "key value" lines, "checksum xxh3 <16 hex>"
 * over everything before that line. *out malloc'd. */
int filem_meta_serialize(const struct filem_meta *m, const char *magic, char **out, size_t *len);
/* Parses and checks bytes (bounds, magic, escapes, duplicates, checksum). */
int filem_meta_parse(const char *buf, size_t len, const char *magic, struct filem_meta *m,
                     char *err, size_t errlen);

/* Durably writes DIR/snapshot.meta (0600): the commit of a sequence. */
int filem_meta_write(const char *seqdir, const struct filem_meta *m, char *err, size_t errlen);
/* A sequence directory's name as its number: decimal, at most 19 digits, no sign, no leading
 * zero. 0, or -1 when it is no sequence's name. */
int filem_parse_seq(const char *s, uint64_t *out);
/* Reads and checks DIR/snapshot.meta: -ENOENT when missing (not committed),
 * -EBADMSG when corrupt or truncated (err: what, and what to do). */
int filem_meta_read(const char *seqdir, struct filem_meta *m, char *err, size_t errlen);

/* Reads a whole small file (at most max bytes) that must be a regular file of
 * ours with no group/other access. *out malloc'd, NUL-terminated. */
int filem_read_private_file(const char *path, size_t max, char **out, size_t *len, char *err,
                            size_t errlen);

/* ---- index and retention (index.c) ---- */

enum filem_seq_state { FILEM_SEQ_UNCOMMITTED, FILEM_SEQ_COMMITTED, FILEM_SEQ_CORRUPT };

/* A failed restart's reason as the index and a cache's restart.failed record it (the failing
 * rank's message): one line of those files (FILEM_LINE_MAX, a hard limit of their format), so a
 * path up to PATH_MAX and the words around it whole; a longer one (a message naming such a path
 * twice) is cut with "..." on a character boundary (filem_reason_copy). */
#define FILEM_REASON_MAX (FILEM_LINE_MAX - 128)

/* Copies REASON (NULL: "") into DST (LEN bytes): as much as fits in LEN - 1 bytes and, escaped
 * (filem_meta_serialize's \\, \n, \xNN), in FILEM_REASON_MAX - 1; where cut, it ends in "..."
 * after a whole UTF-8 character. */
void filem_reason_copy(char *dst, size_t len, const char *reason);

struct filem_seq_info {
    uint64_t seq;
    int state;                 /* enum filem_seq_state (from snapshot.meta itself) */
    int64_t committed_at;      /* unix seconds (metadata's established time) */
    uint32_t ranks;
    uint64_t bytes;            /* sum of image sizes */
    uint32_t failed_restarts;  /* from the index */
    char failed_reason[FILEM_REASON_MAX]; /* the last one */
    char err[REVIVE_TEXT_PATHS(1)]; /* CORRUPT: why (naming the metadata's path) */
};

/* Every sequence of a job directory with its state (checked from each
 * snapshot.meta, so a damaged index cannot offer a wrong sequence) and the
 * failed-restart marks of the index. *out malloc'd, ascending. */
int filem_scan(const char *jobdir, struct filem_seq_info **out, int *n, char *err, size_t errlen);

/* The damaged index this process has warned about (NULL: none), and setting it: restart-mpi
 * passes it to the coordinator it execs (FILEM_INDEX_WARNED_ENV), so that a restart warns once. */
#define FILEM_INDEX_WARNED_ENV "REVIVE_INDEX_WARNED"
const char *filem_index_warned(void);
void filem_index_warned_set(const char *path);

/* Rewrites JOBDIR/index durably from filem_scan. */
int filem_index_update(const char *jobdir, char *err, size_t errlen);
/* Records a failed restart of seq (the next default restart skips it). */
int filem_index_mark_failed(const char *jobdir, uint64_t seq, const char *reason, char *err,
                            size_t errlen);
/* A restart of seq succeeded: its failed-restart mark, if any, goes (rewrites the index only
 * then). 1 when there was one, 0 when not, -errno with a message. */
int filem_index_clear_failed(const char *jobdir, uint64_t seq, char *err, size_t errlen);

/* The sequence restart-mpi takes by default: the newest committed one without
 * a failed restart (else the newest committed, *all_failed = 1). -ENOENT
 * when there is no committed sequence. */
int filem_default_seq(const char *jobdir, uint64_t *seq, int *all_failed, char *err, size_t errlen);

/* Keeps the `keep` newest committed sequences (keep >= 1; the newest is never
 * removed), removes older committed ones that nobody reads (a locked one is
 * skipped, said on *skipped) and uncommitted leftovers older than the newest
 * committed. Never touches `busy_seq` (the sequence being written; -1 none). */
int filem_retain(const char *jobdir, int keep, int64_t busy_seq, int *removed, int *skipped,
                 char *err, size_t errlen);

/* ---- verification (verify.c) ---- */

/* Checks sequence seq of jobdir against its metadata: every rank image is
 * there, of the recorded size, opens as an image (header, table, sections)
 * whose file checksum (file_sum.h: a tree file's every member) is the recorded one, and with deep, every chunk's
 * checksum. Calls report(arg, rank, 0 or -errno, message) per rank (may be
 * NULL). stamps (may be NULL): an array of the metadata's number of ranks, where with deep
 * each image verified whole gets its file's stamp (verified.h: restart-mpi hands them to the
 * ranks), the others size 0. Returns 0 when all are good, else the first error. */
struct crs_file_stamp;
struct crs_image;
/* A caller's own check of rank's image (open as img; path its file) after it passed every check
 * above: 0, or a -errno that refuses it with the words in msg (len bytes). It reads the image
 * the check opened, not the path again. Called from the check's threads at once, one call per
 * rank: it must be safe so. -ENOTRECOVERABLE: the image is whole, and no restart can use it
 * (any copy of it, of the same checksum, neither: filem_image_replaceable). */
typedef int (*filem_image_check_fn)(void *arg, int rank, const struct crs_image *img,
                                    const char *path, char *msg, size_t len);
/* Each image is opened once (every check reads that descriptor). check (may be NULL) and
 * report share arg. */
int filem_verify_seq(const char *jobdir, uint64_t seq, const struct filem_meta *m, int deep,
                     void (*report)(void *arg, int rank, int status, const char *msg),
                     filem_image_check_fn check, void *arg, struct crs_file_stamp *stamps,
                     char *err, size_t errlen);

/* Whether rank r's image in seqdir, which failed its check with status (filem_verify_seq's
 * report: not 0, not -ENOENT), is a damaged image that a good copy from a node-local cache may
 * replace: not refused as others could change it (-EPERM), nor as no restart can use it
 * (-ENOTRECOVERABLE: a copy holds the same), described by the metadata m (its size
 * and checksum, which a copy is checked against), and a regular file (not a link). With
 * own_private, also this user's own and private (no group or other bits: restart-mpi replaces
 * only such a file). restart-mpi (which fetches the copy) and ckpt-info --verify (which says
 * where it would come from) decide by this one rule. 1 or 0. */
int filem_image_replaceable(const struct filem_meta *m, const char *seqdir, int r, int status,
                            int own_private);

/* The file's checksum (crs_image_file_sum: a plain image's header checksum, a tree file's
 * over every member; what a rank reports as CAPTURED's checksum)
 * and the file size; 0 or -errno with a message. */
int filem_image_checksum(const char *path, uint64_t *checksum, uint64_t *size, char *err,
                         size_t errlen);

/* ---- file facts (facts.c) ---- */

struct filem_file_facts {
    char path[4096];
    uint64_t size;
    int64_t mtime_ns;
    char build_id[129];          /* hex; "" when the file has none */
    char content[17];            /* without a build id: XXH3-64 of the whole file, hex; else "" */
};

/* Reads path's size, mtime and ELF build id; a file without a build id is hashed whole instead
 * (its content, newuser7 F4: a rebuilt binary of the same size with its old mtime put back, by
 * cp -p or rsync -t, was taken for the same file). */
int filem_file_facts(const char *path, struct filem_file_facts *f, char *err, size_t errlen);
/* PREFIX.path, PREFIX.size, PREFIX.mtime_ns, PREFIX.build_id, PREFIX.content_xxh3 (without a
 * build id) */
int filem_meta_put_facts(struct filem_meta *m, const char *prefix, const struct filem_file_facts *f);
/* Compares the recorded facts of PREFIX with the file as it is now (at path_now if not NULL:
 * the file moved, restart-mpi --relocate; else at the recorded PREFIX.path): 0, or
 * -ENOENT/-ESTALE with a message naming `what` ("application binary"). A file with a build id
 * is the same when its build id and size are, one without when its content hash and size are
 * (metadata of before: its modification time too): 1, with a warning in err, when only its
 * modification time differs (a copy put back). */
int filem_meta_check_facts(const struct filem_meta *m, const char *prefix, const char *what,
                           const char *path_now, char *err, size_t errlen);

#endif
