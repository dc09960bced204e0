/*
 * Files a job rewrites in place, saved with a snapshot and put back before its restart
 * (`ckpt-mpirun --save-files PATH[,PATH...]`, `mpirun --ckpt-save-files`, REVIVE_SAVE_FILES;
 * docs/snapshots.md "Files the job writes after a snapshot"). BLCR and DMTCP roll no file
 * back; a job that keeps its state between steps in a file it rewrites (Quantum ESPRESSO's
 * outdir/PREFIX.md) restarts from its memory of step N with the file of a later step
 * (newuser7e F2). The coordinator copies the named paths into SEQDIR/files/ while every
 * rank is held, before the commit; restart-mpi puts them back before the launch.
 *
 * A PATH is a regular file or a directory (copied whole: its regular files, subdirectories and
 * symbolic links, the links inside kept as links, never followed), taken canonical (realpath: a
 * named link saves what it points to; "." and ".." resolved); the PATH as named is kept too, and
 * a restart puts the files back through it as it is then (a link re-pointed since: into its new
 * target), moved by restart-mpi's --relocate (filem_files_where). A FIFO, a socket or a device,
 * named or inside a named directory, is refused (its content is no file's state), and so is the
 * snapshot store (filem_files_keep_out). Relative PATHs are the caller's working directory's
 * (the coordinator's is the job's).
 *
 * Layout: SEQDIR/files/ (0700) holds each saved regular file as files/N (0600), N its entry's
 * number. snapshot.meta lists every entry, directories before their members:
 *   files.count                  how many entries
 *   files.roots                  the PATHs as named, absolute, comma-separated (canonical
 *                                before session 38)
 *   files.N.path                 absolute path
 *   files.N.type                 file | dir | link
 *   files.N.root                 1 for a named PATH (the others are members of a named dir)
 *   files.N.given                (named PATH) the PATH as named, absolute, when that is not the
 *                                canonical path (a symbolic link in it): a restart puts it back
 *                                through it (the link as it is then)
 *   files.N.given_link           (named PATH that was itself a link) what the link said
 *   files.N.mode, .uid, .gid     the original's (mode in octal, permission bits)
 *   files.N.mtime                seconds.nanoseconds
 *   files.N.size, files.N.xxh3   (file) bytes and XXH3-64 of the content (16 hex digits)
 *   files.N.target               (link) what the link says
 *   files.absent.K.dir           (K from 0, in files.absent's order) where the K-th one's
 *                                directory led at the snapshot (realpath): a restart removes
 *                                what is at it only where it leads there still
 *   files.absent                 the named PATHs (absolute, as named, comma-separated) of the
 *                                job's list that did not exist at the snapshot (nothing saved;
 *                                a restart removes what is there: filem_files_absent_ok)
 */
#ifndef REVIVE_FILEM_FILES_SAVE_H
#define REVIVE_FILEM_FILES_SAVE_H

#include <stddef.h>

struct filem_meta;

#define FILEM_FILES_DIR "files"
/* Entries (files, directories, links) of one snapshot at most: snapshot.meta is at most
 * FILEM_FILE_MAX bytes, ~10 lines per entry. A state file, or a directory of a few, is the
 * case this is for; a tree of thousands is not (the copy holds every rank meanwhile). */
#define FILEM_FILES_MAX 1000

/* Removes SEQDIR/files (SEQDFD: the sequence directory, open) when it holds only the copies
 * this file makes (decimal names, their temporary files): 0, or -ENOTEMPTY (something else is
 * there: left) / -errno. The store's removal of a sequence calls it. */
int filem_files_remove_dir(int seqdfd);

/* The snapshot directories no PATH may be, hold or lie in (the job's snapshot directory, the
 * node-local cache): checked by filem_files_check, _save and _restore besides any directory
 * named as the store names its own (revive_global_snapshot_*.ckpt, revive-local-*), which is
 * refused wherever it is met (diffrev37 R-H1: a PATH holding the store was saved, and restart-mpi
 * put the old copy over the snapshots taken since). Once per process, before those. */
void filem_files_keep_out(const char *const *dirs, int n);

/* The PATHs (absolute, as named, comma-separated: filem_files_absolute's) that may be missing
 * when checked or saved: the job's --ckpt-save-files list, judged at each snapshot (newuser15
 * F3: a code that makes its output directory itself, and refuses one that exists, could not use
 * it). Such a PATH missing passes filem_files_check, and filem_files_save records it
 * (files.absent) instead of failing; filem_files_restore removes what is there at the restart
 * (the job made it after the snapshot), as what the job made in a saved directory. Once per
 * process. */
void filem_files_absent_ok(const char *list);

/* How many named PATHs M records as missing at the snapshot (files.absent) */
int filem_files_absent(const struct filem_meta *m);

/* Checks LIST ("P1,P2,...", no empty PATH): each PATH exists and is, with every member of a
 * directory, a regular file, a directory or a symbolic link, and there are at most
 * FILEM_FILES_MAX entries. Relative PATHs are resolved against the working directory.
 * 0, or -errno (-ENOENT missing, -EINVAL empty PATH or a FIFO/socket/device, -E2BIG too many,
 * -EACCES a directory that cannot be read) with err naming the PATH and what to do. */
int filem_files_check(const char *list, char *err, size_t errlen);

/* LIST with each PATH made absolute (the working directory's when relative), into out. 0, or
 * -ENAMETOOLONG / -EINVAL (an empty PATH). */
int filem_files_absolute(const char *list, char *out, size_t len);

/* Copies LIST's paths into SEQDIR/files/ and adds the keys above to M. Each copy is flushed
 * (fsync), the directory too. 0, or -errno with err naming the file and the cause (-ENOSPC,
 * -EACCES an unreadable file, -EINVAL a member that is no file, directory or link). On
 * failure SEQDIR/files/ is left as it is (the caller discards the sequence). Fault point
 * snapc-files-copy (when filem's points are enabled): the process's first copy fails with
 * -ENOSPC at its first file, as on a full disk (later ones go through). */
int filem_files_save(const char *seqdir, const char *list, struct filem_meta *m, char *err,
                     size_t errlen);

/* How many entries M lists (files.count), 0 when none. */
int filem_files_count(const struct filem_meta *m);

/* Re-reads every saved regular file of SEQDIR against M (size and XXH3). 0 when each is
 * whole (and when M lists none); -ENOENT (a copy missing), -EBADMSG (a copy damaged: size or
 * checksum), -EINVAL (M's entries malformed), with err naming the first bad one; *checked
 * (may be NULL) the regular files checked. */
int filem_files_verify(const char *seqdir, const struct filem_meta *m, int *checked,
                       char *err, size_t errlen);

/* Where a restart puts the named PATHs (--relocate, restart-mpi): moved() (may be NULL) returns
 * 1 with PATH moved to out when a --relocate OLD=NEW applies (PATH is OLD or lies in it), else 0. */
struct filem_files_moves {
    int (*moved)(const char *path, char *out, size_t len, void *arg);
    void *arg;
};

/* Where filem_files_restore would put M's named PATHs now, one phrase per PATH into said
 * ("; "-separated): "PATH" (as named: through its links as they are now), "PATH -> NEW
 * (--relocate)", with ", through its link into DIR" when a link in it leads elsewhere, and
 * " (SAVED at the snapshot)" when that is not where the copy was taken. 0, or -errno with err
 * (as filem_files_restore refuses before it puts anything back). */
int filem_files_where(const struct filem_meta *m, const struct filem_files_moves *mv, char *said,
                      size_t saidlen, char *err, size_t errlen);

/* The destinations filem_files_restore puts M's named PATHs back at (the planning of
 * filem_files_where): *dests (malloc'd, each entry too; the caller frees both) gets *ndests
 * paths, one per named PATH, in the snapshot's order. 0 (*dests NULL when nothing is saved), or
 * -errno with err. */
int filem_files_dests(const struct filem_meta *m, const struct filem_files_moves *mv, char ***dests,
                      int *ndests, char *err, size_t errlen);

/* How restart-mpi tells each rank of the restarted job the paths it put back (--save-files):
 * FILEM_PUT_BACK_VAR<i>=PATH for i from 0, at most FILEM_PUT_BACK_MAX. A rank takes the MPI
 * file it finds at such a path (or under such a directory) as the job's own, though it is
 * another inode than at the snapshot (src/pml_hooks/objs_restart.c). */
#define FILEM_PUT_BACK_VAR "REVIVE_RESTART_PUT_BACK_"
#define FILEM_PUT_BACK_MAX 64

/* Puts M's entries back where they were (call filem_files_verify first): each named file or
 * link replaced by a temporary name beside it, flushed, renamed over; each named directory
 * built whole beside it and moved into the one there entry by entry (filem_files_merge: the
 * directory stays the same one), what the job made in it since removed (named in said) but what
 * running processes use there (files_inuse.h: a file open, by the caller or by any process of its
 * user, as tee's output; a working directory), each such kept entry named in said.
 * Mode and mtime restored; uid/gid when the caller may (root), else left the caller's.
 * Each named PATH goes where it is named now (filem_files_where: the PATH as the user named it,
 * files.N.given, else the canonical path; moved by mv's --relocate; through its links as they
 * are now, so a link re-pointed since is followed), its members at the same places under it.
 * Refused before anything is put back (-ENOENT): the directory a PATH is to be in does not
 * exist, a named link is gone, or it leads into a directory that is gone; (-EPERM) a link where
 * the snapshot saw none (at the PATH's last name), or another user's link on the way (root's
 * allowed but at the last name: diffrev38 R-H1); (-EINVAL) a --relocate
 * moves a part of a saved directory elsewhere, a destination is, holds or lies in the store.
 * *restored (may be NULL): entries put back; said (may be NULL): filem_files_where's phrases.
 * 0, or -errno with err naming the path; a failure leaves the PATHs already put back as they
 * are, and the one being restored untouched (its temporary copy removed) when it is a file, a
 * link, or a directory whose copy could not be made (a full disk); a directory whose copy was
 * made but could not be moved in whole is partly put back, and err says so (a new restore puts
 * the rest back). Modes are set once the members are in (a saved directory without u+w). */
int filem_files_restore(const char *seqdir, const struct filem_meta *m,
                        const struct filem_files_moves *mv, int *restored, char *said,
                        size_t saidlen, char *err, size_t errlen);

#endif
