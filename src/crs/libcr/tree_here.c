/*
 * crs_runtime_tree_here (runtime.h): crs_runtime_checkpoint_here for the
 * calling process and its descendants, into one tree file (crs/base/tree.h).
 * The caller is member 0 of crs_tree_checkpoint_self (crs/base/tree_self.h):
 * its capture runs here, from the calling thread, as crs_runtime_checkpoint_here
 * runs it, and once its other threads are parked the tree's requester parks
 * the descendants (over their checkpoint threads, as cr_checkpoint --tree
 * does), records what they share and has them write their images; then this
 * process's image is recorded as a tree member's (its children are members,
 * the descriptors the restart puts in place are marked so), leaving out the
 * requester's connections to the descendants (a capture filter).
 * cr_request_checkpoint with CR_SCOPE_TREE (scope.c) serves programs: there a
 * helper cr_checkpoint parks the caller like any member; this entry is for a
 * library that drives its process's checkpoints from a thread of its own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "crs/base/capture_filter.h"
#include "crs/base/tree_self.h"
#include "crs/libcr/runtime.h"

/* One tree checkpoint at a time (the capture filter reads `current`). */
static pthread_mutex_t tree_lock = PTHREAD_MUTEX_INITIALIZER;
static struct crs_tree_self *_Atomic current;

struct here {
    struct crs_ckpt_opts *o;
    struct crs_ckpt_result *res;
    int (*after_park)(void *arg, char *err, size_t errlen);   /* the caller's */
    char what[256];   /* crs_ckpt_opts.file_data_held_what with the descendants' saved files */
};

static int own_fd(void *arg, int fd)
{
    (void)arg;
    const struct crs_tree_self *s = atomic_load(&current);
    return s && crs_tree_self_owns_fd(s, fd);
}

/* The capture's after_park: the caller's first, then the tree's part. */
static int parked(void *arg, char *err, size_t errlen)
{
    struct crs_tree_self *s = atomic_load(&current);
    struct here *h = s->arg;
    int e = h->after_park ? h->after_park(arg, err, errlen) : 0;
    if (!e)
        e = crs_tree_self_parked(s, err, errlen);
    if (!e) {
        crs_runtime_take_go(h->o, &s->go);
        /* one limit for the whole file: member 0's saved files count with what the others
         * (and the caller, file_data_held) put in it already */
        if (s->file_data > h->o->file_data_held) {
            snprintf(h->what, sizeof h->what, "%s%ssaved files of its child processes",
                     h->o->file_data_held ? h->o->file_data_held_what ? h->o->file_data_held_what : "saved data" : "",
                     h->o->file_data_held ? " and " : "");
            h->o->file_data_held_what = h->what;
        }
        h->o->file_data_held = s->file_data;
    }
    return e;
}

static int capture(struct crs_tree_self *s, int fd, char *err, size_t errlen)
{
    struct here *h = s->arg;
    /* the caller's options as they were once done: its later plain image is
     * no tree member's, and go's arrays die with this call (diffrev25 R-L2) */
    struct crs_ckpt_opts was = *h->o;
    h->o->fd = fd;
    h->o->tree_member = 1;
    h->after_park = h->o->after_park;
    h->o->after_park = parked;
    int rc = crs_runtime_checkpoint_here(h->o, h->res);
    h->o->after_park = was.after_park;
    h->o->tree_member = was.tree_member;
    h->o->tree_placed = was.tree_placed;
    h->o->ntree_placed = was.ntree_placed;
    h->o->tree_elsewhere = was.tree_elsewhere;
    h->o->ntree_elsewhere = was.ntree_elsewhere;
    h->o->tree_members = was.tree_members;
    h->o->ntree_members = was.ntree_members;
    h->o->file_data_held = was.file_data_held;
    h->o->file_data_held_what = was.file_data_held_what;
    if (rc < 0 && !err[0])
        snprintf(err, errlen, "%s", h->res->err);
    return rc;
}

int crs_runtime_tree_here(struct crs_ckpt_opts *o, const struct crs_tree_ckpt_opts *to, struct crs_ckpt_result *res)
{
    memset(res, 0, sizeof *res);
    pthread_mutex_lock(&tree_lock);
    static int filter_registered;   /* once: a forked child inherits it */
    if (!filter_registered) {
        struct crs_capture_filter f = { .owner = "libcr tree", .fd_exclude = own_fd };
        int e = crs_capture_filter_register(&f);
        if (e) {
            pthread_mutex_unlock(&tree_lock);
            res->status = e;
            snprintf(res->err, sizeof res->err, "libcr cannot leave its connections to the process's "
                     "children out of its image: %s", strerror(-e));
            return e;
        }
        filter_registered = 1;
    }
    struct here h = { o, res, NULL, "" };
    struct crs_tree_self s;
    memset(&s, 0, sizeof s);
    s.capture = capture;
    s.arg = &h;
    atomic_store(&current, &s);
    char err[sizeof res->err];
    int fd = o->fd;
    int r = crs_tree_checkpoint_self(fd, to, &s, err, sizeof err);
    atomic_store(&current, NULL);
    o->fd = fd;
    pthread_mutex_unlock(&tree_lock);
    if (r < 0) {
        res->status = r;
        snprintf(res->err, sizeof res->err, "%s", err);
        return r;
    }
    res->status = 0;
    return r == 0 ? 1 : 0;   /* 0 members: the process restarted from the file */
}
