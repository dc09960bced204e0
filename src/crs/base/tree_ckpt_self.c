/* A tree's checkpoint whose member 0 is the caller (tree_self.h): the
 * steps of tree_ckpt.c, with member 0's image taken by the caller's own
 * capture, which calls crs_tree_self_parked once the caller is parked. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "crs"
#include "crs/base/tree_self.h"
#include "crs/base/tree_ckpt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct self_state {
    struct tree_ckpt t;
    struct tree_table tb;
    struct tree_writer w;
    int parked;                   /* crs_tree_self_parked succeeded */
    uint64_t pos0;                /* where member 0's image starts */
};

int crs_tree_self_parked(struct crs_tree_self *self, char *err, size_t errlen)
{
    struct self_state *x = self->state;
    struct tree_ckpt *t = &x->t;
    size_t nsockgroups = 0;
    int e = crs_tree_prepare(t, self->fd, &nsockgroups);
    if (!e)
        e = crs_tree_make_table(t, nsockgroups, &x->tb);
    if (!e)
        e = crs_tree_writer_start(t, &x->tb, &x->w);
    /* the descendants' images first (they are parked waiting for their
     * go word); member 0's goes after them, written by the caller's capture
     * once this returns */
    for (size_t m = 1; m < t->nmembers && !e; m++)
        e = crs_tree_write_member(t, self->fd, m, &x->w);
    if (!e) {
        x->pos0 = x->w.pos;
        if (lseek(self->fd, (off_t)x->pos0, SEEK_SET) < 0) {
            e = -errno;
            fail(t, "cannot write the tree's file: %s", strerror(errno));
        }
    }
    if (!e) {
        crs_tree_go(t, 0, &self->go);
        self->file_data = t->fdata;
        x->parked = 1;
        return 0;
    }
    if (!t->err[0])
        fail(t, "%s", strerror(-e));
    if (err != t->err)
        snprintf(err, errlen, "%s", t->err);
    return e;
}

int crs_tree_self_owns_fd(const struct crs_tree_self *self, int fd)
{
    const struct self_state *x = self->state;
    return x && fd != TREE_CONN_SELF && crs_tree_own_fd(&x->t, fd);
}

/* Member 0's image, written by the capture from x->pos0 to the file's
 * offset now, into its record. 0, or -EIO with the message. */
static int place_self(struct self_state *x, int fd)
{
    struct tree_ckpt *t = &x->t;
    off_t end = lseek(fd, 0, SEEK_CUR);
    if (end < 0 || (uint64_t)end < x->pos0) {
        fail(t, "the tree's file is shorter than the image process %d wrote", (int)getpid());
        return -EIO;
    }
    x->w.mem[0].image_offset = x->pos0 - t->base;
    x->w.mem[0].image_length = (uint64_t)end - x->pos0;
    return 0;
}

int crs_tree_checkpoint_self(int fd, const struct crs_tree_ckpt_opts *o, struct crs_tree_self *self, char *err,
                             size_t errlen)
{
    err[0] = 0;
    if (o->warn && o->warnlen)
        o->warn[0] = 0;
    if (o->shared && o->sharedlen)
        o->shared[0] = 0;
    if (o->scope != CRS_TREE_SCOPE_TREE || o->id != getpid()) {
        snprintf(err, errlen, "crs_tree_checkpoint_self checkpoints the caller's own tree (scope tree, id %d), "
                              "not the %s %d", (int)getpid(), crs_tree_scope_name(o->scope), (int)o->id);
        return -EINVAL;
    }
    struct self_state *x = crs_tmem_calloc(1, sizeof *x);
    if (!x) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    struct tree_ckpt *t = &x->t;
    t->o = o;
    t->fdata = o->file_data_held;
    t->err = err;
    t->errlen = errlen;
    t->self = 1;
    self->fd = fd;
    self->state = x;
    /* the requester's work runs in the caller's park window: no malloc
     * (tree_alloc.h) until everything it allocated is given back below */
    crs_tmem_private(1);
    int r = crs_tree_base(t, fd);
    if (!r)
        r = self->capture(self, fd, err, errlen);
    if (r == 1) {
        /* the process restarted from the file: the connections of the
         * original are not ours (their numbers may be the program's now) */
        for (size_t m = 0; t->conn && m < t->nmembers; m++)
            t->conn[m] = -1;
        r = 0;
    } else if (!r && !x->parked) {
        fail(t, "the caller's capture wrote its image without calling crs_tree_self_parked: the tree's file "
                "holds no other member");
        r = -EPROTO;
    } else if (!r) {
        if (!(r = place_self(x, fd)) && !(r = crs_tree_writer_finish(t, fd, &x->w, &x->tb)) && o->commit)
            r = o->commit(o->arg, err, errlen);
        if (!r) {
            crs_tree_signal_after(t);
            r = (int)t->nmembers;
        }
    }
    if (r < 0 && !err[0])
        snprintf(err, errlen, "%s", strerror(-r));
    crs_tree_release_all(t, r > 0);
    crs_tree_table_free(&x->tb);
    crs_tree_writer_free(&x->w);
    crs_tree_ckpt_free(t);
    crs_tmem_private(0);
    crs_tmem_free(x);
    self->state = NULL;
    return r;
}
