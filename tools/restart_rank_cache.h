/* revive-restart-rank's node-local caches (issue 9, src/filem/stage.h): the image in this host's
 * cache when a copy is there and its header passes its checks (the file's checksum the metadata
 * records, over every member of a tree file; a tree file's other members, the rank's children,
 * verified chunk by chunk, as their restores cannot run again from another copy), else the snapshot directory's, said on stderr when a bad copy is passed over; with
 * preload, the shared image is first copied into the cache (verified) and read from there.
 * A cached copy's chunks are checked by the restore as it reads them, not before: read and
 * hashed once, not twice (the rank's own image; its children's are hashed twice, stage.h; bench/stage part 3: a restart from a cache on tmpfs is CPU-bound, and
 * the whole-image check before the restore was about half of its work). A chunk that fails
 * there stops the restore before the switch, while the program is still itself: it then runs
 * itself again (execve, the same pid, the launcher's descriptors kept) from the snapshot
 * directory's image, naming the cached copy in RANK_CACHE_FAILED_VAR; the new run checks that
 * copy whole, says it is damaged and removes it from the cache (rank_cache_run_again,
 * rank_cache_failed). */
#ifndef REVIVE_TOOLS_RESTART_RANK_CACHE_H
#define REVIVE_TOOLS_RESTART_RANK_CACHE_H

#include <stddef.h>

#define RANK_CACHE_FAILED_VAR "REVIVE_RESTART_CACHE_FAILED" /* DEV:INO:PATH, the cached copy whose restore failed */
#define RANK_CACHE_ERR_VAR "REVIVE_RESTART_CACHE_ERR"       /* the restore's words */
/* CSEC.CNSEC:SIZE, that copy's change time and size when it was chosen: with DEV:INO its
 * identity (an inode number freed and given at once to a fresh copy, as ext4 and xfs do, is not
 * taken for the copy read; diffrev26 S-L2). Apart from RANK_CACHE_FAILED_VAR, whose format stays. */
#define RANK_CACHE_STAMP_VAR "REVIVE_RESTART_CACHE_STAMP"

/* The shared lock on the node-local sequence directory the rank reads (rank_cache_pick), -1
 * none: not one of the launcher's descriptors. */
extern int rank_cache_lock_fd;

/* IMG (LEN bytes, the snapshot directory DIR's image of rank R on entry): this host's cached
 * copy (LOCAL: the node-local directory) or partner copy instead when one passes its header
 * check, said on stderr when one is passed over (kept: a header that differs from the
 * metadata may be the metadata's fault). */
void rank_cache_pick(const char *local, const char *dir, int r, int preload, char *img, size_t len);

/* Notes the signal mask and ignored signals the program started with: a run again starts as
 * this one did, whatever the failed restore had set. */
void rank_cache_note_start(void);

/* The restore of the cached copy rank_cache_pick chose stopped while loading its memory (a
 * chunk's checksum; nothing of the process was committed, the program is still itself): runs
 * the program again (ARGV) from the snapshot directory's image SHARED, with the launcher's
 * descriptors (KEEP) and only those, the start's signals and directory CWD, WHY (the restore's
 * words) and the copy in the environment. Returns only when it cannot (no cached copy was read,
 * or no shared image to read: then the caller stops with the restore's message). */
void rank_cache_run_again(int rank, char **argv, const char *shared, const char *why,
                          const int *keep, int nkeep, const char *cwd);

/* In the run again: checks the cached copy whose restore failed (FAILED: RANK_CACHE_FAILED_VAR's
 * DEV:INO:PATH; STAMP: RANK_CACHE_STAMP_VAR's, NULL or "" when not given: the device and inode
 * alone; WHY the restore's words) whole against DIR's metadata. Damaged: says so (which
 * copy, what is wrong), removes it from the cache (under the cache's lock, only while PATH is
 * still that file), and returns 0: rank RANK restores from IMG, the snapshot directory's image.
 * No longer the copy the restore read (another renamed in its place): says so, 0 as well. Sound,
 * or not checkable: the failure was not the copy's; MSG (LEN bytes) gets the message to stop
 * with (the restore's own words, and why the copy was not checked), -1. */
int rank_cache_failed(int rank, const char *dir, const char *failed, const char *stamp, const char *why,
                      const char *img, char *msg, size_t len);

#endif
