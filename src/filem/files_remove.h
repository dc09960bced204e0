/*
 * rm -rf of an entry of a directory, for the restore of saved files (files_save.c: a temporary
 * tree, what was moved aside, what a killed restart left; files_merge.c: what the job made in a
 * saved directory since the snapshot), never through a symbolic link: each directory opened with
 * O_NOFOLLOW, checked to be the one looked at, and emptied through its own descriptor (diffrev38
 * R-M1: a walk by paths could be sent, by a directory swapped for a link between its lstat and
 * its opendir, into a directory of the user's elsewhere). What a predicate keeps stays, with the
 * directories that hold it.
 */
#ifndef REVIVE_FILEM_FILES_REMOVE_H
#define REVIVE_FILEM_FILES_REMOVE_H

#include <sys/stat.h>

struct filem_remove_ops {
    /* why the entry ST must stay, or NULL: it goes */
    const char *(*kept)(const struct stat *st, void *arg);
    /* told PATH (the walk's PATH and the names under it) of each entry kept (why set) and of
     * each entry removed (why NULL; DIR: it was a directory, told after its members) */
    void (*tell)(const char *path, const char *why, int dir, void *arg);
    void *arg;
};

/* Removes NAME of the directory PFD and all under it but what ops keeps (ops may be NULL: all);
 * PATH is NAME's path, for ops->tell only (NULL: nothing told). A directory without u+rwx is
 * made 0700 to be emptied (a saved one, ours to remove); one that stays (kept, holding what is
 * kept, or not removable) gets its mode back. Best effort: what cannot be removed stays. Returns how many entries were kept (those ops keeps and those holding them). */
int filem_remove_at(int pfd, const char *name, const char *path, const struct filem_remove_ops *ops);

#endif
