/* A bound on a step of a restarted rank that must end by itself: the fresh MPI library's load
 * (dlmopen, in pml_lower_reload). That load runs inside ld.so with its locks held; a damaged
 * list of threads (campaign-failures.md #33) made it spin for ever, a core busy until the job's
 * own time limit ended it, with no word of what was wrong. The watcher is a thread that waits
 * for the end of the step on a futex with a deadline; past it, it stops the rank with one
 * message (pml_fatal: vsnprintf, one write, _exit), so the launcher ends the job. It takes no
 * lock the stuck thread may hold (no malloc, no stdio, nothing of ld.so's). */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/load_watch.h"
#include "pml_hooks/layer.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"

static _Atomic uint32_t done;
static int bound;
static const char *step;
static pthread_t watcher;
static int watching;

static void *watch(void *arg)
{
    (void)arg;
    double end = revive_mono_s() + bound;
    while (!atomic_load(&done)) {
        double left = end - revive_mono_s();
        if (left <= 0)
            pml_fatal("the restart of this rank failed: %s did not end within %d s (it never"
                      " will: ld.so's state is damaged or a lock it needs is never released);"
                      " the rank stops", step, bound);
        struct timespec ts = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) };
        syscall(SYS_futex, &done, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
    }
    return NULL;
}

int pml_watch_begin(int seconds, const char *what)
{
    if (watching)
        return -EBUSY;
    atomic_store(&done, 0);
    bound = seconds;
    step = what;
    int rc = pthread_create(&watcher, NULL, watch, NULL);
    if (rc)
        return -rc;
    watching = 1;
    return 0;
}

void pml_watch_end(void)
{
    if (!watching)
        return;
    atomic_store(&done, 1);
    syscall(SYS_futex, &done, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    pthread_join(watcher, NULL);
    watching = 0;
}
