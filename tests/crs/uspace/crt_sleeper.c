/*
 * Sleeps through checkpoints (the scenario of sleep_through.sh, not a state
 * test for cr_cycle.sh: the checkpoints must land inside the sleeps).
 * sleep(2), usleep(1.5 s) and nanosleep(1 s) must each last as long as asked
 * and report no interruption, since Revive's checkpoint signal is not the
 * application's business.
 *
 * With a harness (REVIVE_TEST_READY set), each kind of sleep is repeated until
 * a checkpoint has landed inside one of them, so that the checkpoints find the
 * sleep they are meant for however late a loaded machine lets them come (a CI
 * at load 15 on 2 cores: the third checkpoint, timed from point 1, came after
 * the program had ended). Before each round the program writes the round's
 * number into $REVIVE_TEST_READY.s<kind> (the harness checkpoints once that
 * kind has begun). A checkpoint inside the sleep is seen by the thread's
 * voluntary context switches over the call (getrusage RUSAGE_THREAD): a sleep
 * left alone switches once; one a checkpoint interrupted switches again in
 * Revive's park and, mostly, in the sleep it finishes. Every round's duration
 * is checked, the one a checkpoint landed in too. Without a checkpoint inside
 * a kind within REVIVE_TEST_GO_TIMEOUT (120 s) that is a failure. Without a
 * harness each kind runs once.
 * Contract: crt_common.h; points 1 and 2 come before and after the sleeps, so
 * with both go files made beforehand the program runs straight through and
 * point 1 only tells the harness its PID.
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long switches(void)
{
    struct rusage u;
    if (getrusage(RUSAGE_THREAD, &u) != 0)
        crt_die("getrusage(RUSAGE_THREAD): %s", strerror(errno));
    return u.ru_nvcsw;
}

/* $REVIVE_TEST_READY.s<kind> := round, atomically (temporary name, rename) */
static void say_round(const char *ready, int kind, int round)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s.s%d", ready, kind);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", round) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
        crt_die("cannot write %s: %s", path, strerror(errno));
}

/* One sleep of the kind; checks it; returns 1 when a checkpoint landed in it. A checkpoint
 * whose signal comes between the first switches() and the sleep call, or between the sleep's
 * return and the second, counts too (its park adds the switches) though that sleep was not
 * interrupted: a window of a few instructions against seconds of sleep, so a false "inside" is
 * rare, but it is not excluded (diffrev30 T-L2). A stricter sign would be the kernel's own:
 * the checkpoint finding the thread in clock_nanosleep (/proc/PID/task/TID/syscall), which the
 * image does not record. */
static int one_sleep(int kind)
{
    struct timespec req = {1, 0}, rem = {9, 9};
    double t0, dt;
    long s0, s1;
    unsigned left;
    int r;

    t0 = now();
    s0 = switches();
    switch (kind) {
    case 1:
        left = sleep(2);
        s1 = switches();
        dt = now() - t0;
        crt_check("sleep(2) returns 0 after 2 s", left == 0 && dt >= 1.99,
                  "returned %u after %.3f s", left, dt);
        break;
    case 2:
        r = usleep(1500000);
        s1 = switches();
        dt = now() - t0;
        crt_check("usleep(1.5 s) returns 0 after 1.5 s", r == 0 && dt >= 1.49, "%s after %.3f s",
                  r ? strerror(errno) : "returned 0", dt);
        break;
    default:
        r = nanosleep(&req, &rem);
        s1 = switches();
        dt = now() - t0;
        crt_check("nanosleep(1 s) returns 0 after 1 s", r == 0 && dt >= 0.99, "%s after %.3f s",
                  r ? strerror(errno) : "returned 0", dt);
        break;
    }
    return s1 - s0 >= 2;
}

int main(void)
{
    static const char *const names[] = {"", "sleep(2)", "usleep(1.5 s)", "nanosleep(1 s)"};
    const char *ready = getenv("REVIVE_TEST_READY");
    double limit = (double)crt_env_long("REVIVE_TEST_GO_TIMEOUT", 120);

    if (ready && !*ready)
        ready = NULL;
    crt_checkpoint_point(1);

    for (int kind = 1; kind <= 3; kind++) {
        double start = now();
        for (int round = 1;; round++) {
            if (ready)
                say_round(ready, kind, round);
            int landed = one_sleep(kind);
            if (!ready)
                break;
            if (landed) {
                crt_say("a checkpoint landed inside %s", names[kind]);
                break;
            }
            if (now() - start > limit) {
                crt_fail("checkpoint inside a sleep", "none landed inside %s in %d rounds (%.0f s)",
                         names[kind], round, limit);
                break;
            }
        }
    }

    crt_checkpoint_point(2);
    crt_finish();
}
