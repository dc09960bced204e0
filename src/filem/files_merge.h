/*
 * A saved directory put back in place (files_save.c's restore of a --save-files directory;
 * newuser8 F3): the tree built beside it is moved into the directory that is there entry by
 * entry, each file and link renamed over its namesake, so that the directory itself and each
 * saved subdirectory stay the same directories. Exchanging the whole directory (before session
 * 38) left a shell that sat in it, and restart-mpi's own output redirected into it
 * (`restart-mpi REF > r1.out` run in the job's directory saved with `--save-files .`), in the
 * removed old one: the restarted job's whole output went into a deleted file.
 * What the job made in it since the snapshot is removed and named, except the files and
 * directories running processes use (files_inuse.h: restart-mpi's own output, tee's, a shell's
 * working directory), which are kept and named.
 */
#ifndef REVIVE_FILEM_FILES_MERGE_H
#define REVIVE_FILEM_FILES_MERGE_H

#include <stddef.h>

#include "filem/files_inuse.h"

/* Moves the tree FROM (built by the restore, same file system) into the existing directory INTO:
 * an entry of INTO that FROM lacks is removed (what the job made since), except what k keeps
 * (filem_files_kept, any use); each entry of FROM is renamed over its namesake in INTO (a
 * directory present in both: merged, the directory kept, made u+w meanwhile: the caller sets the
 * saved modes after); a file that FROM also has and restart-mpi itself has open for writing stays
 * (the saved copy is dropped); another process's writing does not keep it (named: "put back
 * the snapshot's PATH although it was open by WHO for writing", diffrev39 R-H1). Each kept entry appends one phrase to said ("; kept PATH, made since
 * the snapshot (WHY)", or "kept PATH, not the snapshot's copy (WHY)"), and the removed ones one
 * phrase at the end ("; removed, made since the snapshot and used by no process: PATH, DIR/ (with
 * all in it), ...": a second restart from one snapshot removes the first one's output written
 * there, newuser8 F5, named). FROM is left holding only what could not be moved. 0, or -errno
 * with err naming the entry (what was moved before stays moved). */
int filem_files_merge(const char *from, const char *into, const struct filem_files_keep *k,
                      char *said, size_t saidlen, char *err, size_t errlen);

/* A named PATH that did not exist at the snapshot (files.absent, files_save.h) and exists now: the
 * job made it since. When no process uses anything in it (k) and TAG is not NULL, it is moved
 * aside whole in its directory, to PATH.TAG (PATH.TAG.2 ... when that name is taken; never over
 * anything): a restart from the wrong snapshot, or one that fails after this, loses nothing
 * (diffrev46 R-L5); when the rename is refused (a name too long for the tag, a mount point, a
 * parent that refuses) it is left where it is, never removed (diffrev47 R-L3). When a process
 * uses something in it (or TAG is NULL) it is removed but what running processes use in it (k),
 * with the directories holding that. One phrase into said ("; " before it when said holds
 * some): "moved aside, made since the snapshot and used by no process: PATH/ -> PATH.TAG (remove
 * it once it is not needed)", "left PATH/, made since the snapshot: it cannot be moved aside to
 * PATH.TAG (WHY); move it away yourself if the program must not find it", or "removed, made
 * since the snapshot and used by no process: PATH/ (with all in it)", kept entries as the merge
 * names them. How many entries were kept. */
int filem_files_remove_made(const char *path, const struct filem_files_keep *k, const char *tag,
                            char *said, size_t saidlen);

#endif
