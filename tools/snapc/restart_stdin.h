/* restart-mpi's feeding of rank 0's saved standard input (review9 F1). When a snapshot was taken,
 * rank 0 may have had bytes of its standard input waiting unread in the launcher's pipe: they
 * are not in its image. When the launcher had closed that pipe (the input had ended: mpirun ...
 * < file that fit in the pipe), the rank's agent kept those bytes in SEQDIR/rank_0.stdin
 * (snapshot.meta: rank.0.stdin_saved, stdin_unread, stdin_sum; src/snapc/agent_epoch.c save_stdin).
 * restart-mpi then makes its own standard input, which the launcher it starts passes on to rank
 * 0, a pipe holding these bytes and then the end of the input: the restarted job reads what the
 * uninterrupted one would have. Otherwise (nothing kept) restart-mpi's standard input is left
 * as it is. */
#ifndef REVIVE_TOOLS_RESTART_STDIN_H
#define REVIVE_TOOLS_RESTART_STDIN_H

#include <stddef.h>

#include "filem/filem.h"

/* The bytes kept for rank 0 of the sequence SEQDIR (metadata M): 0 and *len = 0 when there are
 * none; else 0 with *len, and, unless dry, fd 0 is now a pipe holding them, then its end. 1 with
 * a warning in err when the kept file is not there (a snapshot directory re-created from a
 * node's cache holds only the images): fd 0 is left as it is. -1 with a sentence in err when it
 * is of another size or hash (damaged), or the pipe cannot be made. */
int restart_stdin_feed(const char *seqdir, const struct filem_meta *m, int dry, size_t *len,
                       char *err, size_t errlen);

#endif
