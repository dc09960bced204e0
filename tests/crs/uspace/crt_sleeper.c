/*
 * Sleeps through checkpoints (the scenario of sleep_through.sh, not a state
 * test for cr_cycle.sh: the checkpoints must land inside the sleeps, which
 * the harness times from checkpoint point 1). sleep(2), usleep(1.5 s) and
 * nanosleep(1 s) must each last as long as asked and report no interruption,
 * since Revive's checkpoint signal is not the application's business.
 * Contract: crt_common.h; points 1 and 2 come before and after the sleeps, so
 * with both go files made beforehand the program runs straight through and
 * point 1 only tells the harness its PID and when the sleeps begin.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void)
{
    struct timespec req = {1, 0}, rem = {9, 9};
    double t0, dt;
    unsigned left;
    int r;

    crt_checkpoint_point(1);

    t0 = now();
    left = sleep(2);
    dt = now() - t0;
    crt_check("sleep(2) returns 0 after 2 s", left == 0 && dt >= 1.99, "returned %u after %.3f s",
              left, dt);

    t0 = now();
    r = usleep(1500000);
    dt = now() - t0;
    crt_check("usleep(1.5 s) returns 0 after 1.5 s", r == 0 && dt >= 1.49, "%s after %.3f s",
              r ? strerror(errno) : "returned 0", dt);

    t0 = now();
    r = nanosleep(&req, &rem);
    dt = now() - t0;
    crt_check("nanosleep(1 s) returns 0 after 1 s", r == 0 && dt >= 0.99, "%s after %.3f s",
              r ? strerror(errno) : "returned 0", dt);

    crt_checkpoint_point(2);
    crt_finish();
}
