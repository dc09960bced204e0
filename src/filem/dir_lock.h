/*
 * A lock on a snapshot or cache directory that is still that directory once held. Needs libc
 * only: built into libfilem (sequence directories, layout.c) and libfilem_stage (the node-local
 * cache, local_retain.c), as alive.c is.
 */
#ifndef REVIVE_FILEM_DIR_LOCK_H
#define REVIVE_FILEM_DIR_LOCK_H

/* flock on DIR itself (opened O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC): shared when EXCLUSIVE is 0,
 * else exclusive. WAIT_MS < 0 waits as long as it takes (a blocking flock); WAIT_MS >= 0 polls
 * every 20 ms for at most WAIT_MS (polled, not a blocking flock under an alarm: the caller's
 * signals stay its own). Whoever removes DIR does so holding its lock exclusively, so a caller
 * that opened DIR just before gets the lock once DIR is gone or renamed away: only a directory
 * that is still the one named DIR (same device and inode, not unlinked) is held.
 * Returns the locked descriptor (close it to release), or -errno: -ENOENT when DIR is gone or
 * was removed or replaced meanwhile (nothing held), -EWOULDBLOCK when still held by others
 * after WAIT_MS, open(2)'s and flock(2)'s errors otherwise. */
int filem_dir_lock(const char *dir, int exclusive, int wait_ms);

#endif
