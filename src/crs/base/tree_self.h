/* A tree's checkpoint taken by its first process itself: member 0 is the
 * caller, its descendants the other members (tree_ckpt_self.c). For a
 * process that takes its own image in-process (libcr's crs_runtime_tree_here,
 * the MPI layer's agent): cr_checkpoint --tree would park it through its
 * checkpoint thread, but its image is taken by the calling thread, so the
 * requester's work runs inside that capture, once the caller's other threads
 * are parked: the descendants are parked as cr_checkpoint parks them, what
 * the members share is recorded, the descendants write their images, then
 * the caller's capture writes member 0's, and the table is written last.
 * The file is the tree file of tree.h, read by cr_restart. */
#ifndef REVIVE_CRS_BASE_TREE_SELF_H
#define REVIVE_CRS_BASE_TREE_SELF_H

#include "crs/base/protocol.h"
#include "crs/base/tree.h"

#include <stddef.h>

struct crs_tree_self {
    /* Takes the caller's own image through fd from its offset (leaving the
     * offset at the image's end) from a thread that is not parked, its other
     * threads parked: once they are, and before anything is recorded, it
     * calls crs_tree_self_parked(self, ...), and a failure there calls the
     * capture off; the image records the descriptors self->go places as a
     * tree member's capture records its requester's go word, and leaves out
     * those crs_tree_self_owns_fd names. 0, 1 in the process restarted from
     * the image, or -errno with the message in err. */
    int (*capture)(struct crs_tree_self *self, int fd, char *err, size_t errlen);
    void *arg;
    /* Out, set by crs_tree_self_parked: member 0's go word; the saved files' bytes the file
     * holds already (the descendants', those they share, o->file_data_held), which member 0's
     * image counts within the limit (crs_ckpt_opts.file_data_held). */
    struct crs_proto_go go;
    uint64_t file_data;
    /* the checkpoint's own */
    int fd;
    void *state;
};

/* Checkpoints the caller and its descendants into the file open at fd (from
 * its offset); o->scope must be CRS_TREE_SCOPE_TREE and o->id the caller's
 * pid; o->signal_after goes to the descendants only. Returns the number of
 * members (>0), 0 in the process restarted from the file, or -errno with
 * one message in err; every member then runs on as before. */
int crs_tree_checkpoint_self(int fd, const struct crs_tree_ckpt_opts *o, struct crs_tree_self *self, char *err,
                             size_t errlen);

/* For self->capture, with the caller's other threads parked: parks the
 * descendants, records what the members share, has the descendants write
 * their images, then sets self->go and the file's offset for member 0's
 * image. 0, or -errno with the message in err. */
int crs_tree_self_parked(struct crs_tree_self *self, char *err, size_t errlen);

/* 1: fd is the checkpoint's own (a connection to a descendant), to be left
 * out of member 0's image. Allocates nothing (a capture filter may ask). */
int crs_tree_self_owns_fd(const struct crs_tree_self *self, int fd);

#endif
