/* Taking an image of the calling process (from its checkpoint thread): the
 * uspace component's checkpoint operations (see crs/base/component.h). */
#ifndef REVIVE_CRS_CHECKPOINT_H
#define REVIVE_CRS_CHECKPOINT_H

#include "crs/base/component.h"

/* Initialises the capture machinery (park signal, scratch). 0 or -errno. */
int crs_checkpoint_init(int park_sig);

/* Takes the image. Returns like res->status; in a restarted process it
 * returns 0 with res->restarted = 1. */
int crs_checkpoint_self(const struct crs_ckpt_opts *o, struct crs_ckpt_result *res);

/* Old and new pid of the last restart (equal when ids were restored). */
void crs_restart_ids(int *old_pid, int *new_pid);

#endif
