/* Park deferral (crs_park_defer_enter/leave), for defer.sh.
 *   defer IMAGE1 IMAGE3
 * 1. A thread inside a (nested) deferral section when a checkpoint comes is
 *    parked only once it has left the outer section: the continue hook, run
 *    while every thread is parked, finds it outside (image IMAGE1).
 * 2. A section held longer than the checkpoint's timeout fails that
 *    checkpoint (ETIMEDOUT; libcr prints which thread), and the thread, once
 *    out, runs on instead of parking for the abandoned checkpoint.
 * 3. The next checkpoint works (IMAGE3).
 * Restarting IMAGE1 resumes the thread inside its crs_park_defer_leave()
 * with its signal mask, and phases 2 and 3 run again. Prints one line per
 * phase, "continue"/"restarted" after phase 1, and exits 0 (1 on FAIL). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libcr.h"
#include "crs/base/capture_filter.h"
#include "crs/base/hooks.h"

static _Atomic int inside;          /* 0 out, 1 inner section, 2 outer only, 3 the long one */
static _Atomic int phase, go, hold_ms;
static _Atomic unsigned long laps;
static _Atomic int seen_inside = -1;
static _Atomic int mask_ok = -1;      /* the worker's mask after its late park */
static double t_left, t_hook;
static int fails;

#define FAIL(...) do { printf("FAIL " __VA_ARGS__); printf("\n"); fails++; } while (0)

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int hook(void *arg, enum crs_hook_event ev, int status)
{
    (void)arg;
    if (ev == CRS_HOOK_CONTINUE && status == 0 && atomic_load(&seen_inside) < 0) {
        atomic_store(&seen_inside, atomic_load(&inside));
        t_hook = now_ms();
    }
    return 0;
}

static void *worker(void *arg)
{
    (void)arg;
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &usr2, NULL);
    for (;;) {
        while (!atomic_load(&go))
            sleep_ms(1);
        atomic_store(&go, 0);
        int p = atomic_load(&phase);
        if (p == 0)
            return NULL;
        if (p == 1) {
            crs_park_defer_enter();
            crs_park_defer_enter();
            atomic_store(&inside, 1);
            sleep_ms(300);
            crs_park_defer_leave();
            atomic_store(&inside, 2);   /* still in the outer section */
            sleep_ms(300);
            atomic_store(&inside, 0);
            t_left = now_ms();
            crs_park_defer_leave();     /* parks here, and comes back here after a restart */
            sigset_t m;
            pthread_sigmask(SIG_BLOCK, NULL, &m);
            atomic_store(&mask_ok, sigismember(&m, SIGUSR2) == 1 && sigismember(&m, SIGUSR1) == 0);
        } else {
            crs_park_defer_enter();
            atomic_store(&inside, 3);
            sleep_ms(atomic_load(&hold_ms));
            atomic_store(&inside, 0);
            crs_park_defer_leave();
        }
        atomic_fetch_add(&laps, 1);
    }
}

/* Starts the worker's phase p and waits until it is inside its section. */
static void start_phase(int p)
{
    atomic_store(&phase, p);
    atomic_store(&go, 1);
    while (!atomic_load(&inside))
        sleep_ms(1);
}

static int checkpoint(const char *path, unsigned timeout_s)
{
    cr_checkpoint_args_t a;
    cr_initialize_checkpoint_args_t(&a);
    a.cr_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    a.cr_timeout = timeout_s;
    cr_checkpoint_handle_t h;
    if (a.cr_fd < 0 || cr_request_checkpoint(&a, &h) != 0)
        return -errno;
    int r;
    while ((r = cr_poll_checkpoint(&h, NULL)) < 0 && errno == EINTR)
        ;
    int e = r == 1 ? 0 : errno == CR_ERESTARTED ? 1 : -errno;
    close(a.cr_fd);
    return e;
}

static void wait_laps(unsigned long n)
{
    for (int i = 0; i < 10000 && atomic_load(&laps) < n; i++)
        sleep_ms(1);
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct crs_hook h = { "test", hook, NULL };
    if (cr_init() < 0 || crs_hook_register(&h) != 0)
        return 2;
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);

    start_phase(1);
    double t_req = now_ms();
    int r = checkpoint(argv[1], 0);
    if (r < 0)
        FAIL("phase 1: the checkpoint failed: %s", strerror(-r));
    else if (r == 0) {
        if (atomic_load(&seen_inside) != 0)
            FAIL("phase 1: the thread was parked inside its section (state %d)", atomic_load(&seen_inside));
        else if (t_hook < t_left || t_left < t_req + 400)
            FAIL("phase 1: times: request %.0f, left %.0f, hook %.0f", t_req, t_left, t_hook);
        else
            printf("phase 1: parked after leaving its nested section\n");
    }
    wait_laps(1);
    if (atomic_load(&mask_ok) != 1)
        FAIL("the thread's signal mask after parking late: %d", atomic_load(&mask_ok));
    printf("%s\n", r == 1 ? "restarted" : "continue");

    /* 2: held for 2.5 s against a 1 s timeout */
    atomic_store(&hold_ms, 2500);
    start_phase(2);
    r = checkpoint(argv[2], 1);
    if (r != -ETIMEDOUT)
        FAIL("phase 2: the checkpoint returned %d, expected -ETIMEDOUT", r);
    wait_laps(2);
    if (atomic_load(&laps) < 2)
        FAIL("phase 2: the thread did not run on after leaving its section");
    else
        printf("phase 2: a section held too long fails the checkpoint; the thread runs on\n");

    /* 3: a short section again */
    atomic_store(&hold_ms, 200);
    start_phase(3);
    r = checkpoint(argv[2], 0);
    wait_laps(3);
    if (r != 0 || atomic_load(&laps) < 3)
        FAIL("phase 3: checkpoint %d, laps %lu", r, atomic_load(&laps));
    else
        printf("phase 3: the next checkpoint works\n");

    atomic_store(&phase, 0);
    atomic_store(&go, 1);
    pthread_join(t, NULL);
    printf("%s\n", fails ? "FAIL" : "ok");
    return fails ? 1 : 0;
}
