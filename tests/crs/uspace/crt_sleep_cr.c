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
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The sleeps, each of 4 s: 0 when it returned 0, else -1 with what it returned in how. */
static int usleep_4(char *how, size_t n)
{
    if (usleep(4000000) == 0)
        return 0;
    snprintf(how, n, "%s", strerror(errno));
    return -1;
}

static int sleep_4(char *how, size_t n)
{
    unsigned left = sleep(4);
    snprintf(how, n, "returned %u", left);
    return left ? -1 : 0;
}

static int abstime_4(char *how, size_t n)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += 4;
    int r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
    if (r == 0)
        return 0;
    snprintf(how, n, "%s", strerror(r));
    return -1;
}

/* Checkpoint point POINT, then the sleep: passes when it returned 0 after 4 s or more. */
static void check_sleep(int point, const char *what, int (*sleep4)(char *, size_t))
{
    char how[128] = "returned 0";
    crt_checkpoint_point(point);
    double t0 = now();
    int r = sleep4(how, sizeof how);
    double dt = now() - t0;
    crt_check(what, r == 0 && dt >= 3.99, "%s after %.3f s", how, dt);
}

int main(void)
{
    crt_checkpoint_point(1);
    check_sleep(10, "usleep(4 s) through two checkpoints returns 0 after 4 s", usleep_4);
    check_sleep(11, "sleep(4) through a restart returns 0 after 4 s", sleep_4);
    check_sleep(12, "usleep(4 s) through a restart returns 0 after 4 s", usleep_4);
    check_sleep(13, "clock_nanosleep(TIMER_ABSTIME, +4 s) through a restart returns 0 after 4 s", abstime_4);
    crt_checkpoint_point(2);
    crt_finish();
}
