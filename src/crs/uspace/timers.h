/* POSIX timers: capture (crs_capture_timers, capture.h) and their
 * recreation in the restarted process (timers.c). */
#ifndef REVIVE_CRS_TIMERS_H
#define REVIVE_CRS_TIMERS_H

#include <stddef.h>
#include <sys/types.h>
#include "crs/base/image_format.h"

/* Recreates `n` timers under their ids, armed with their time left and
 * interval; tid_now maps a thread id of the checkpoint to the thread's id
 * now. Runs in the restarted process once every thread is back. 0, or
 * -errno with a message in err (the ones before it stay). */
int crs_timers_restore(const struct crs_rec_timer *timers, size_t n, pid_t (*tid_now)(pid_t old), char *err,
                       size_t errlen);

#endif
