/*
 * A directory flushed itself, so that the names made, renamed or removed in it survive a crash:
 * the store's sequences and job directories (src/filem), a partner copy's final name, the MPI
 * layer's image after its rename. The one copy of these few lines.
 */
#ifndef REVIVE_COMMON_DIRSYNC_H
#define REVIVE_COMMON_DIRSYNC_H

/* fsync of the directory PATH. Best effort, says nothing: its callers have already done what
 * must not fail (a caller that must report a failed flush does it itself). */
void revive_fsync_dir(const char *path);

#endif
