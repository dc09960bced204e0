/* A folder holding snapshot directories, given where a snapshot reference is expected (the
 * --ckpt-dir of a job and of its restarts): which snapshot directory it stands for. */
#ifndef REVIVE_FILEM_REF_FOLDER_H
#define REVIVE_FILEM_REF_FOLDER_H

#include <stddef.h>

/* DIR (absolute; REF as the user wrote it, for the words) is taken for one of the snapshot
 * directories it holds: the only one, or, of several, the only one with a committed
 * sequence that no restart superseded (the head of a restart chain that ran in that folder).
 * 0: taken, JOBDIR (LEN bytes) gets its path and ERR a note saying which and why;
 * -EINVAL: several candidates (ERR names the newest few by their newest commit, marking the
 * superseded and the empty ones); -ENAMETOOLONG: the path does not fit; 1: DIR holds none. */
int filem_folder_job_dir(const char *dir, const char *ref, char *jobdir, size_t len, char *err,
                         size_t errlen);

/* 1 when JOBDIR carries the `superseded` mark (local_retain.h: a restart of that job
 * committed), BY (LEN bytes; LEN 0: not read) getting the job directory that superseded it
 * ("" when the mark does not say); 0 when not marked or unreadable. */
int filem_superseded_by(const char *jobdir, char *by, size_t len);

#endif
