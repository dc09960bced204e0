/* The monotonic clock in nanoseconds, milliseconds and seconds (clock.h). */
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
