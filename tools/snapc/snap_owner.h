/*
 * A snapshot directory of another user, refused by ckpt-info and restart-mpi in one line that
 * says whose it is and what to do (issue 7 F6: root's ckpt-info of another user's snapshot said
 * only "belongs to uid N, not to you (uid 0); snapshots are private to their owner", and another
 * user's ckpt-info or restart-mpi of a sequence under a private directory said "Permission
 * denied"). Snapshots are private to their owner: Revive reads none as another user, root
 * included, since it would trust files that user can change. root is told to run the same
 * command as the owner (runuser, with the command's own arguments); anyone else that only the
 * owner can.
 */
#ifndef REVIVE_TOOLS_SNAP_OWNER_H
#define REVIVE_TOOLS_SNAP_OWNER_H

struct snap_owner_words {
    const char *me;      /* the command: "ckpt-info" */
    const char *why;     /* root's reason: "snapshots are private to their owner..." */
    const char *verb;    /* what only the owner can do: "read", "restart" */
    const char *tail;    /* after root's example, or "" */
    int argc;            /* the command's arguments, for root's example */
    char **argv;
};

/* dir (a snapshot directory) belongs to another user: one line on standard error and 1; 0 when
 * it is the caller's or cannot be looked at (the caller's own checks then say what is wrong). */
int snap_owner_refuse(const struct snap_owner_words *w, const char *dir);

/* ref could not be read (EACCES): the nearest directory above it that another user owns, as
 * snap_owner_refuse says it; 0 when there is none. */
int snap_owner_refuse_above(const struct snap_owner_words *w, const char *ref);

#endif
