/*
 * Per-thread scheduling and prctl attributes (THREADATTR records): the nice
 * value, the scheduling policy and priority, the CPU affinity, the timer
 * slack, no_new_privs and personality. The kernel keeps each per thread and shows the
 * last two only to the thread itself, so each thread describes its own as
 * it parks (beside its THREADS record, on its stack, which the image
 * keeps) and sets them again as it is reinstated after a restart.
 *
 * Only what the program changed comes back: each record says which
 * attributes differ from what the process had when libcr started in it
 * (its launcher's); the others stay as cr_restart's process has them.
 */
#ifndef REVIVE_CRS_THREAD_ATTR_H
#define REVIVE_CRS_THREAD_ATTR_H

#include "crs/base/image_format.h"

/* Notes the calling thread's attributes as the launcher's (once per
 * process: a forked child keeps its parent's note). */
void crs_thread_attr_baseline(void);

/* Fills *a with the calling thread's attributes, each CRS_TATTR_F_* flag
 * set where it differs from the launcher's. Async-signal-safe. */
void crs_thread_attr_describe(struct crs_rec_thread_attr *a);

/* In the restored process, from the thread *a describes: sets again in the
 * calling thread what a's flags name. What the kernel refuses (a lower nice
 * value or a real-time policy without CAP_SYS_NICE, CPUs this machine lacks)
 * is set as far as allowed and said once per process on the log. */
void crs_thread_attr_reinstate(const struct crs_rec_thread_attr *a);

#endif
