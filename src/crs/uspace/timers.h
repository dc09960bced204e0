/* POSIX timers: capture (crs_capture_timers, capture.h) and their
 * recreation in the restarted process (timers.c). */
#ifndef REVIVE_CRS_TIMERS_H
#define REVIVE_CRS_TIMERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "crs/base/image_format.h"

/* Recreates `n` timers under their ids, armed with their time left and
 * interval; tid_now maps a thread id of the checkpoint to the thread's id
 * now. Runs in the restarted process once every thread is back. 0, or
 * -errno with a message in err (the ones before it stay). */
int crs_timers_restore(const struct crs_rec_timer *timers, size_t n, pid_t (*tid_now)(pid_t old), char *err,
                       size_t errlen);

/* Makes timer `id` (on `clock`, `interval_ns` its period) expire at once,
 * so that the kernel queues its signal with its own siginfo: a periodic one
 * at the expiry (overrun + 1) periods before its next, `left_ns` from now,
 * so that the overrun the delivery counts is the one it would have counted
 * (one-shot: at once, then disarmed, as a one-shot that has fired). 0, or
 * -errno. */
int crs_timer_pend(int id, int clock, int64_t left_ns, int64_t interval_ns, uint64_t overrun);

#endif
