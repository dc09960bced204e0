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

/* The expiry that queued periodic timer `id`'s pending signal, in `clock`'s
 * time (ns), from its time left now and `overrun` (the overruns counted since
 * that expiry): called right after the take that rearmed it, the two are of
 * one moment (read later, after the timer queued its signal again, the time
 * left is an interval or more on and the overrun that many short). 0: not
 * known (one-shot, a clock not readable here). */
int64_t crs_timer_first(int id, int clock, uint64_t overrun);

/* Makes timer `id` expire at `first_ns` (past: at once) and then every
 * `interval_ns`: its signal queued again, the overrun counted at delivery
 * from that expiry, as it would have been. 0, or -errno. */
int crs_timer_pend_first(int id, int64_t first_ns, int64_t interval_ns);

/* What the image records for a timer whose pending signal was queued by the
 * expiry `first_ns`, at this one moment: its time left and 1 + the overrun
 * counted so far (crs_timer_pend in the restart puts the expiry back as far
 * before its time then). 0, or -1 when not known. */
int crs_timer_pending_now(int clock, int64_t first_ns, int64_t interval_ns, int64_t *left_ns, uint64_t *pending);

#endif
