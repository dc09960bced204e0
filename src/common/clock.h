/*
 * The monotonic clock (CLOCK_MONOTONIC) in the units Revive counts deadlines and durations in:
 * the one reading of it for libcr, crs, filem, snapc, the MPI layer and the tools, which each
 * had a private copy of these few lines. Never set back by the wall clock's changes, so a
 * deadline computed from it neither fires early nor waits for ever when the time is set.
 * No allocation, no stdio, no lock: usable anywhere, also while other threads are frozen
 * (src/common/README.md).
 */
#ifndef REVIVE_COMMON_CLOCK_H
#define REVIVE_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Now, in nanoseconds, whole milliseconds (rounded down), and seconds. */
int64_t revive_mono_ns(void);
int64_t revive_mono_ms(void);
double revive_mono_s(void);

/*
 * The bound of a blocking call with a relative timeout (sigtimedwait, semtimedop) that libcr
 * makes again when only Revive's park interrupted it (EINTR): each call after the first gets the
 * time left to the deadline the first one set. The first call gets the caller's own timespec, so
 * the kernel answers it as it would without Revive. A timeout the kernel refuses (tv_sec < 0,
 * tv_nsec outside 0..999999999: EINVAL) or longer than REVIVE_WAIT_BOUND_MAX_S (a deadline in
 * nanoseconds could overflow) is passed as given on every call: no deadline is kept (a park then
 * starts such a wait over whole: 31 years or more). NULL: no bound.
 */
#define REVIVE_WAIT_BOUND_MAX_S 1000000000L

struct revive_wait_bound {
    const struct timespec *given; /* the caller's timeout, NULL: none */
    int64_t deadline_ns;          /* CLOCK_MONOTONIC, when `timed` */
    int timed;                    /* a deadline is kept (a valid timeout within the maximum) */
    int calls;                    /* revive_wait_bound_next's answers so far */
};

/* Starts B for TIMEOUT (kept by pointer: valid while B is used). */
void revive_wait_bound_start(struct revive_wait_bound *b, const struct timespec *timeout);

/* The timeout to make the call with this time: NULL (no bound), the caller's own (the first
 * call, or one passed as given), or LEFT filled with the time left (zero once the deadline
 * passed). */
const struct timespec *revive_wait_bound_next(struct revive_wait_bound *b, struct timespec *left);

/* The deadline to keep while the call is parked (crs_park_call_again moves it): NULL when B
 * keeps none. */
int64_t *revive_wait_bound_deadline(struct revive_wait_bound *b);

#endif
