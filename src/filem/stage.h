/*
 * Node-local first, then staged to shared storage (issue 9, points 1-3).
 *
 * A rank writes its image into the node-local cache
 *     LOCAL/revive_global_snapshot_<pid>.ckpt/<seq>/rank_<r>.img     (0700 dirs, 0600 file)
 * (LOCAL: --ckpt-local DIR / REVIVE_LOCAL_DIR), the job runs on once every image is durable
 * there, and the image is then copied to the shared sequence directory by
 * filem_stage_file: temporary name, copy_file_range, fsync, every chunk checked against the
 * image's own checksums and the file's checksum against the one the rank reported, rename,
 * fsync of the directory. The coordinator commits (snapshot.meta) only when every image is
 * staged and verified.
 *
 * Kept apart from filem.h: this part is compiled into the rank agent (the MPI layer), which
 * has crs's image reader and durable replacement through libcr.so and nothing else of filem.
 */
#ifndef REVIVE_FILEM_STAGE_H
#define REVIVE_FILEM_STAGE_H

#include <stddef.h>
#include <stdint.h>

/* The node-local cache's variable and the name of the marker a failed staging leaves in the
 * shared sequence directory (its text: why; ckpt-info shows the sequence as failed). */
#define FILEM_LOCAL_ENV "REVIVE_LOCAL_DIR"
#define FILEM_STAGE_FAILED_NAME "staging.failed"

/* The value of --ckpt-local / REVIVE_LOCAL_DIR that turns node-local first off: the ranks
 * write straight into the shared sequence directory (storage every host sees). */
#define FILEM_LOCAL_NONE "none"

/* Each node's default cache (no --ckpt-local): a private directory of the user under $TMPDIR
 * (when it is an absolute path) or /tmp, BASE/revive-local-<uid>; resolved on each node by
 * the process that writes or reads there (TMPDIR may differ between nodes). With create,
 * made 0700 when missing. One that is not private (another user's, group or other access, a
 * symbolic link) is refused, never "fixed". 0 or -errno with a message. */
int filem_local_default(char *out, size_t len, int create, char *err, size_t errlen);

/* --ckpt-local LOCAL as the launch sees it on its own host, before any rank writes there: 0 when
 * it is a private directory of the user's or missing here (made, or said missing, by the ranks
 * on their hosts); -errno with the message that every checkpoint would fail with otherwise: a
 * directory every user writes in (mode 1777: /tmp, a scratch directory; the user is told to
 * make a private one inside it), not the user's, group or other access, a symbolic link, not a
 * directory. */
int filem_local_check(const char *local, char *err, size_t errlen);

/* Whether this host's node-local cache (REVIVE_LOCAL_DIR when it is an absolute path, none when
 * it is "none", else the default one, filem_local_default) holds a directory of the job
 * directory named JOBNAME (revive_global_snapshot_<pid>.ckpt): 1 or 0. */
int filem_local_holds_job(const char *jobname);

/* The node-local directory of the shared sequence directory SEQDIR
 * (.../revive_global_snapshot_<pid>.ckpt/<seq>): LOCAL/<job dir name>/<seq>. With create, the
 * missing levels are made 0700, LOCAL too when its parent exists (as --ckpt-dir; a missing
 * one is said naming this host and the remedy, -ENOENT). Every level must be private (ours,
 * no group/other access, not a symbolic link): anything else is refused, never "fixed".
 * 0 or -errno with a message. */
int filem_local_seq_dir(const char *local, const char *seqdir, int create, char *out, size_t len,
                        char *err, size_t errlen);

struct filem_stage_stats {
    uint64_t bytes;       /* copied */
    int64_t copy_ns;      /* copying and flushing */
    int64_t verify_ns;    /* reading the copy back through the image reader */
    int used_cfr;         /* copy_file_range did the copy (else read/write) */
    int linked;           /* the same file system: a hard link, no byte moved */
};

/* Copies the image SRC to DSTDIR/NAME durably and verifies the copy: its checksum must be
 * want_checksum (the whole file's, crs_image_file_sum: a tree file's every member, file_sum.h)
 * and every chunk must match its checksum. bw: bytes per second at most
 * (0: no limit). On any failure the final name is untouched and the temporary file removed.
 * 0 or -errno with a message naming the file.
 * When SRC and DSTDIR are on the same mounted file system (one host whose snapshot directory
 * is on its own disk: the default cache under /tmp and the snapshot directory on one disk),
 * the copy is a hard link (no byte moves; the file's checksum is still checked) unless
 * REVIVE_STAGE_COPY=1 asks for a real copy (the benchmarks). */
int filem_stage_file(const char *src, const char *dstdir, const char *name, uint64_t want_checksum,
                     uint64_t bw, struct filem_stage_stats *st, char *err, size_t errlen);

/* Verifies an image where it is (the file's checksum = want, every chunk of every member):
 * 0 or -errno.
 * Stack: these functions (filem_stage_file, _verify, _check_header) hold a struct crs_image and
 * messages that name whole paths (REVIVE_TEXT_PATHS), ~20 KB of frames: fine on a thread's
 * default stack (the rank agent's staging thread, agent_stage.c), not for the small frames the
 * agent's other paths are written for (diffrev25 S-L2). */
int filem_stage_verify(const char *path, uint64_t want_checksum, char *err, size_t errlen);

/* Checks only what an image's open reads (its header, section table and record sections, each
 * against its checksum) and that the file's checksum is want, not the chunks' bytes of the rank's
 * own image: for a copy whose reader checks every chunk as it uses it (a rank's restore from a
 * node-local copy reads and hashes the image once; revive-restart-rank falls back to another
 * copy when a chunk fails there). A tree file's other members (the rank's children) are
 * verified chunk by chunk here: their restores run in the children, after the rank's, and a
 * chunk failing there cannot fall back to another copy (it failed the whole restart, though
 * the snapshot directory's image was sound). So a child's image is read and hashed twice (here
 * and by its restore). It is not small next to the rank: a child forked without exec (a worker,
 * a multiprocessing helper) is a copy of the rank's private memory. Measured (diffrev31 R-L2):
 * cr_info --verify of a tree file of a 128 MiB process and its forked child, best of 9, warm page
 * cache, load 12: 104 ms against 63 ms for the process's image alone, about 40 ms per 128 MiB
 * child; bench/stage's target 3 (restart from the caches) measures plain images only. Avoiding
 * the second pass needs the children's restores to fall back to another copy. 0 or -errno with a
 * message. */
int filem_stage_check_header(const char *path, uint64_t want_checksum, char *err, size_t errlen);

/* A job that ended normally (its rank entered MPI_Finalize after its last snapshot was
 * committed) needs no node-local copy: removes rank R's image from the node-local sequence
 * directory, then the directory and the job's directory when nothing else is left in them.
 * Best effort, says nothing. */
void filem_local_drop(const char *local_seqdir, int rank);

#endif
