/* The monotonic clock in nanoseconds, milliseconds and seconds, and the bound of a wait made
 * again after a park (clock.h). */
#include "common/clock.h"

#include <time.h>

int64_t revive_mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int64_t revive_mono_ms(void)
{
    return revive_mono_ns() / 1000000;
}

double revive_mono_s(void)
{
    return (double)revive_mono_ns() / 1e9;
}

void revive_wait_bound_start(struct revive_wait_bound *b, const struct timespec *timeout)
{
    b->given = timeout;
    b->calls = 0;
    b->deadline_ns = 0;
    b->timed = timeout && timeout->tv_sec >= 0 && timeout->tv_sec <= REVIVE_WAIT_BOUND_MAX_S &&
               timeout->tv_nsec >= 0 && timeout->tv_nsec < 1000000000;
    if (b->timed) /* at most 1e18 + 1e9 ns past now: no overflow for 260 years of uptime */
        b->deadline_ns = revive_mono_ns() + (int64_t)timeout->tv_sec * 1000000000 + timeout->tv_nsec;
}

const struct timespec *revive_wait_bound_next(struct revive_wait_bound *b, struct timespec *left)
{
    if (b->calls++ == 0 || !b->timed)
        return b->given;
    int64_t ns = b->deadline_ns - revive_mono_ns();
    if (ns < 0)
        ns = 0;
    *left = (struct timespec){ .tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000) };
    return left;
}

int64_t *revive_wait_bound_deadline(struct revive_wait_bound *b)
{
    return b->timed ? &b->deadline_ns : NULL;
}
