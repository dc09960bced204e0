/*
 * Durable replacement of a file. The new content is written under a
 * temporary name in the same directory, flushed (fsync), renamed over the
 * final name, and the directory is flushed: a reader of the final name sees
 * the old file or the whole new one, never a part of it, also across a crash
 * or a full disk. One implementation for every writer of images and metadata.
 *
 *     struct crs_durable d;
 *     if (crs_durable_open(&d, path, 0600) == 0) {
 *         ... write to d.fd ...
 *         if (crs_durable_commit(&d, err, sizeof err) == 0) crs_durable_close(&d);
 *         else crs_durable_abort(&d);
 *     }
 *
 * The directory is held open from crs_durable_open on, so a relative path
 * keeps naming the same place if the process changes its working directory
 * before the commit. Renaming replaces what the final name is (a symbolic
 * link is replaced, not followed); the new file has the mode given to open.
 */
#ifndef REVIVE_CRS_DURABLE_H
#define REVIVE_CRS_DURABLE_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

struct crs_durable {
    int fd;                    /* the temporary file, open for writing */
    int dirfd;                 /* its directory (O_PATH) */
    char name[NAME_MAX + 1];   /* the final name inside the directory */
    char tmpname[NAME_MAX + 1];
    char path[PATH_MAX];       /* the final path as given (for messages) */
    char tmp[PATH_MAX + NAME_MAX + 2]; /* DIR/.NAME.tmp.PID (for messages) */
    char dir[PATH_MAX];        /* the directory as derived from path (for messages) */
};

/* Creates the temporary file beside `path` (exclusively, mode `mode`) and
 * opens it for writing as d->fd. 0, or -errno (ENOENT: no such directory,
 * EACCES: not writable, ENAMETOOLONG...); the caller words the message,
 * naming d->path and d->dir (both set also on failure). */
int crs_durable_open(struct crs_durable *d, const char *path, mode_t mode);

/* Flushes the file, renames it over the final name, flushes the directory.
 * Leaves the descriptors open (crs_durable_close / _abort). 0, or -errno with
 * a message in err. REVIVE_FAULT=image-commit fails it after the flush,
 * before the rename (tests: the older file stays). */
int crs_durable_commit(struct crs_durable *d, char *err, size_t errlen);

/* After a commit: closes the descriptors. */
void crs_durable_close(struct crs_durable *d);

/* Instead of a commit, or after a failed one: removes the temporary file and
 * closes the descriptors. The final name is untouched. */
void crs_durable_abort(struct crs_durable *d);

/* 1 when `name` (a file name, no directory) is one crs_durable_open makes:
 * ".NAME.tmp.PID" or ".NAME.tmp.PID.N"; else 0. */
int crs_durable_is_temp_name(const char *name);

/* The writer's side, for a temporary file whose descriptor it was given (SCM_RIGHTS) by a
 * requester that went away without committing it (cr_checkpoint killed mid-write: newuser10
 * F1): removes it when fd's file is still linked under a temporary name (as /proc/self/fd
 * shows it: the name and that it is the same file, so that an image renamed to its final name,
 * or a file of that name made since, is never touched); where the directory refuses (another
 * user's), empties it (ftruncate), so that at least its space comes back. `given`: the path
 * /proc/self/fd showed when the file was handed over (NULL: not known); a file that has another
 * now was renamed, even to a final name that looks temporary (".X.tmp.5"), and stays. Returns 1
 * removed, 2 emptied, 0 nothing to do (renamed, removed already, not a temporary name), -errno. */
int crs_durable_drop_orphan(int fd, const char *given);

/* The whole sequence for bytes in memory: 0, or -errno with a message. */
int crs_durable_write_file(const char *path, const void *data, size_t len, mode_t mode, char *err,
                           size_t errlen);

#endif
