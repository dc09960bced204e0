/* Sleeps through checkpoints: sleep(), usleep() and a timed condition wait
 * must last as long as asked and report no interruption, since Revive's
 * checkpoint signal is not the application's business. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fails = 0;
    double t0 = now();
    unsigned left = sleep(2);
    double dt = now() - t0;
    printf("sleep(2): returned %u after %s\n", left, dt >= 1.99 ? ">= 2 s" : "less than 2 s");
    fails += left != 0 || dt < 1.99;

    t0 = now();
    int r = usleep(1500000);
    dt = now() - t0;
    printf("usleep(1.5 s): %s after %s\n", r ? strerror(errno) : "ok", dt >= 1.49 ? ">= 1.5 s" : "less");
    fails += r != 0 || dt < 1.49;

    struct timespec req = { 1, 0 }, rem = { 9, 9 };
    t0 = now();
    r = nanosleep(&req, &rem);
    dt = now() - t0;
    printf("nanosleep(1 s): %s after %s\n", r ? strerror(errno) : "ok", dt >= 0.99 ? ">= 1 s" : "less");
    fails += r != 0 || dt < 0.99;

    printf("%s\n", fails ? "RESULT FAIL" : "RESULT ok");
    return fails ? 1 : 0;
}
