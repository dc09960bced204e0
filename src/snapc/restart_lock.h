/* One restart of a snapshot at a time (restart_lock.c). */
#ifndef REVIVE_SNAPC_RESTART_LOCK_H
#define REVIVE_SNAPC_RESTART_LOCK_H

#include <stddef.h>

/* restart-mpi: notes the calling process (its pid and start time: restart-mpi execs the job's
 * coordinator, which keeps both) in JOBDIR/.restart.lock as the one restart of that snapshot directory. 0;
 * -EBUSY while a restart noted there still runs (err names its pid and what to do); another
 * -errno when the note cannot be written (err says why). A note whose process has ended
 * (killed: nothing removed it) is stale and taken over. */
int snapc_restart_lock_take(const char *jobdir, char *err, size_t errlen);
/* The job's coordinator at its end: removes the note when it names the calling process. */
void snapc_restart_lock_drop(const char *jobdir);

#endif
