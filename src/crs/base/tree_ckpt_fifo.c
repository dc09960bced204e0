/* The FIFOs (named pipes) of a tree being checkpointed (tree_ckpt.c calls
 * these): which of the FIFOs members hold become one CRS_TREE_G_FIFO group
 * of the tree (tree.h), made once at its path at restart with its bytes
 * once, and the search for a process outside the members that holds one
 * too (such a FIFO is no group: each member's capture decides, and refuses
 * one another member shares, naming that process: capture_fds.c). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/base/tree_ckpt.h"
#include "common/log.h"
#include "common/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

/* Whether a process outside the members holds the FIFO f is a descriptor
 * of (its pid), 0 when none that /proc shows, -ENOMEM. Such a FIFO is no
 * tree group (review diffrev22 M1): it is the launcher's (GNU make's job
 * server, `cr_run prog 3<>fifo` where prog forks), which each member's
 * capture reconnects at restart as inherited (issue 10, point 12), or
 * refuses naming that process (also when the members opened it by path
 * themselves: make >= 4.4's fifo job server; review diffrev23 M1); made
 * again by its path at restart it would take the launcher's bytes, or be
 * refused while the launcher holds it.
 * From the checkpoint's one look through /proc (tree_ckpt_holders.c). */
static long fifo_outside(struct tree_ckpt *t, struct fd_entry *f)
{
    long h = crs_tree_outside_fifo(t, f, NULL);
    if (h > 0)
        revive_log_debug("the FIFO %s members hold is open in process %ld too, outside them: no tree group, "
                         "each member's capture decides", f->path, h);
    return h;
}

int crs_tree_fifo_wanted(struct tree_ckpt *t, struct fd_entry *f)
{
    /* held by two members or more, with both ends in the tree (O_RDWR is
     * both) or the other end closed everywhere, and by no process outside
     * them; else each member's capture says what it can */
    int has_r = 0, has_w = 0, closed = 0, other = 0;
    for (size_t j = 0; j < t->nfds; j++)
        if (t->fds[j].fifo && t->fds[j].dev == f->dev && t->fds[j].ino == f->ino) {
            has_r |= t->fds[j].mode != O_WRONLY;
            has_w |= t->fds[j].mode != O_RDONLY;
            closed |= t->fds[j].peer_closed;
            other |= t->fds[j].member != f->member;
        }
    if (!other || !((has_r && has_w) || closed))
        return 0;
    long e = fifo_outside(t, f);
    if (e < 0)
        return (int)e;
    return e == 0;   /* held outside: each member's capture refuses it, naming that process */
}

void crs_tree_fifo_group(const struct tree_ckpt *t, size_t i, const struct crs_tree_group *g, size_t n,
                         struct crs_tree_group *x)
{
    const struct fd_entry *f = &t->fds[i];
    /* the FIFO's first group (the first of its descriptors with one, in
     * the order groups are made) holds its bytes */
    x->offset = (int64_t)n;
    x->open_flags = f->flags & (O_ACCMODE | O_NONBLOCK);
    if (f->fifo_waiting)
        x->open_flags |= CRS_TREE_FIFO_WAITING;
    for (size_t j = 0; j < i; j++)
        if (t->fds[j].fifo && t->fds[j].group >= 0 && t->fds[j].dev == f->dev && t->fds[j].ino == f->ino) {
            x->offset = g[t->fds[j].group].offset;
            break;
        }
}
