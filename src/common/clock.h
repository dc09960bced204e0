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

/* Now, in nanoseconds, whole milliseconds (rounded down), and seconds. */
int64_t revive_mono_ns(void);
int64_t revive_mono_ms(void);
double revive_mono_s(void);

#endif
