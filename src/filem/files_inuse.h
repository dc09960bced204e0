/*
 * What a restore of a saved directory must leave where it is (files_merge.h): the files and
 * directories under it that running processes use at the restart. A file made since the snapshot
 * that a process has open (restart-mpi's own output redirected there, `restart-mpi REF | tee
 * r1.out`'s r1.out held by tee, a file a wrapper script opened) or a directory that is a
 * process's working directory is kept; a name the snapshot saved is put back unless restart-mpi
 * itself has it open for writing (its own redirected output). Another process writing a saved
 * file (a leftover of the old job) does not keep it: the restarted job would run from its image
 * with a later step's file (diffrev39 R-H1); it is put back and the writer named. Every process whose
 * /proc/PID/fd can be read is looked at: the caller's own, and the other processes of its user
 * (root: all). Before session 39 only restart-mpi's own descriptors and its and its parent's
 * working directories were kept: tee's r1.out was removed (diffrev38 R-M2).
 */
#ifndef REVIVE_FILEM_FILES_INUSE_H
#define REVIVE_FILEM_FILES_INUSE_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* One file or directory in use, by device and inode, and who uses it (for the summary) */
struct filem_inuse {
    dev_t dev;
    ino_t ino;
    int writer;     /* a process has it open for writing */
    int own_writer; /* restart-mpi itself has it open for writing (its redirected output) */
    char why[128];
};

struct filem_files_keep {
    size_t n, cap;
    struct filem_inuse *v;
};

/* Fills k with what processes use under the directories DIRS (N of them, as they are named now:
 * each resolved through its links): open files (/proc/PID/fd) and working directories
 * (/proc/PID/cwd), the calling process's first (its standard output, error and input named as
 * such). Never fails: what cannot be read (another user's process, memory) is left out. */
void filem_files_keep_init(struct filem_files_keep *k, const char *const *dirs, int n);

void filem_files_keep_free(struct filem_files_keep *k);

/* Why ST's file must stay, any use (k's phrase: "restart-mpi's standard output", "open by tee,
 * pid 4242"), or NULL. k may be NULL (nothing kept). */
const char *filem_files_kept(const struct filem_files_keep *k, const struct stat *st);

/* ST's entry (who uses it, how), or NULL: no process uses it. k may be NULL. */
const struct filem_inuse *filem_files_inuse(const struct filem_files_keep *k, const struct stat *st);

#endif
