/*
 * The Checkpoint/Restart Service framework: a component is a named table of
 * functions, chosen at run time by REVIVE_CRS (default "uspace"), in the
 * spirit of Open MPI's MCA frameworks without their registration machinery.
 */
#ifndef REVIVE_CRS_COMPONENT_H
#define REVIVE_CRS_COMPONENT_H

#include "crs/uspace/checkpoint.h"

struct crs_component {
    const char *name;
    const char *summary;
    /* Prepares the process (signals, memory of its own). 0 or -errno. */
    int (*init)(int park_signal);
    /* Takes one image; see crs_checkpoint_self. */
    int (*checkpoint)(const struct crs_ckpt_opts *o, struct crs_ckpt_result *res);
};

/* The component named `name` (NULL: $REVIVE_CRS, else "uspace"), or NULL
 * with a message in err naming the ones there are. */
const struct crs_component *crs_component_select(const char *name, char *err, size_t errlen);

#endif
