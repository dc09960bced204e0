/*
 * Sleeps through checkpoints and restarts (scenario of sleep_restart.sh):
 * before each sleep it passes checkpoint point 10+K (its PID in ready.(10+K),
 * the go file is made beforehand) so the harness knows which sleep comes and
 * checkpoints once the thread is inside it. Each sleep must return 0, never
 * EINTR, and last at least as long as asked (CLOCK_MONOTONIC goes on across a
 * restart on the same machine, so the time a snapshot waited counts too):
 *   K=0  usleep(4 s)       two checkpoints that continue (the second lands in
 *                          the wait Revive resumed after the first)
 *   K=1  sleep(4)          --kill, cr_restart (rem given: the time left)
 *   K=2  usleep(4 s)       --kill, cr_restart (no rem: the whole request bounds it)
 *   K=3  clock_nanosleep(TIMER_ABSTIME, t0 + 4 s)   --kill, cr_restart
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
    double t0, dt;
    int r;

    crt_checkpoint_point(1);

    crt_checkpoint_point(10);
    t0 = now();
    r = usleep(4000000);
    dt = now() - t0;
    crt_check("usleep(4 s) through two checkpoints returns 0 after 4 s", r == 0 && dt >= 3.99,
              "%s after %.3f s", r ? strerror(errno) : "returned 0", dt);

    crt_checkpoint_point(11);
    t0 = now();
    unsigned left = sleep(4);
    dt = now() - t0;
    crt_check("sleep(4) through a restart returns 0 after 4 s", left == 0 && dt >= 3.99,
              "returned %u after %.3f s", left, dt);

    crt_checkpoint_point(12);
    t0 = now();
    r = usleep(4000000);
    dt = now() - t0;
    crt_check("usleep(4 s) through a restart returns 0 after 4 s", r == 0 && dt >= 3.99,
              "%s after %.3f s", r ? strerror(errno) : "returned 0", dt);

    crt_checkpoint_point(13);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    t0 = (double)until.tv_sec + (double)until.tv_nsec / 1e9;
    until.tv_sec += 4;
    r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
    dt = now() - t0;
    crt_check("clock_nanosleep(TIMER_ABSTIME, +4 s) through a restart returns 0 after 4 s",
              r == 0 && dt >= 3.99, "%s after %.3f s", r ? strerror(r) : "returned 0", dt);

    crt_checkpoint_point(2);
    crt_finish();
}
