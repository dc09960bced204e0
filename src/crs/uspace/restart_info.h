/* What cr_restart hands to the restored process (every resumed thread gets a
 * pointer to it as the return value of its crs_ctx_save). */
#ifndef REVIVE_CRS_RESTART_INFO_H
#define REVIVE_CRS_RESTART_INFO_H

#include <stdint.h>

#define CRS_RESTART_MAGIC 0x5245564956455253ULL /* "SREVIVER" */
#define CRS_RESTART_MAX_UNMAP 64

struct crs_restart_info {
    uint64_t magic;
    int32_t old_pid, new_pid;
    uint32_t ids_changed;     /* 1 when the process runs under new pid/tids */
    uint32_t nunmap;
    /* cr_restart's own leftovers, to unmap once every thread has left them */
    struct { uint64_t start, len; } unmap[CRS_RESTART_MAX_UNMAP];
    /* the restarter's hand-off blob, inside one of the ranges above */
    uint64_t handoff, handoff_len;
    /* the image's POSIX timers (struct crs_rec_timer), likewise: the
     * checkpoint thread recreates them once every thread is back */
    uint64_t timers, ntimers;
    /* the pid the outside world (cr_checkpoint) knows the process by, when
     * its /proc is of its own pid namespace and cannot tell; else 0 */
    int32_t outer_pid;
    uint32_t pad;
};

#endif
