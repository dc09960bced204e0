/* Whose thread a thread is, at the moments the registry cannot know (src/pml_hooks/halves_hooks.c,
 * "whose thread, by glibc's descriptor"). A checkpoint parks a thread wherever the signal finds
 * it: a new application thread before it registered itself (a restart then lost it), an ending
 * one after it unregistered, and a thread whose id the registry still holds from an ended
 * application thread (one that left through pthread_exit never unregisters) may be the MPI
 * library's. The descriptor decides, so:
 *   - an application thread (the layer's pthread_create) the registry has forgotten is upper;
 *   - a thread started by libc's own pthread_create (as the MPI library's are), which the
 *     registry wrongly lists as upper, is lower;
 *   - the main thread is upper.
 * Prints PASS or FAIL lines; exits 1 on a failure. Links the halves library without MPI. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pml_hooks/halves.h"
#include "pml_hooks/halves_internal.h"

/* crs_park_defer_enter/leave as crs/base/capture_filter.h declares them (libcr is not linked;
 * nothing parks here) */
void crs_park_defer_enter(void)
{
}

void crs_park_defer_leave(void)
{
}

/* No lower namespace in this program (the hooks call this after a dlopen in it). */
void pml_halves_walk_lower_objects(void)
{
}

static atomic_int tid_of[2], go;

static void *waiter(void *arg)
{
    atomic_store(&tid_of[(long)arg], (int)syscall(SYS_gettid));
    while (!atomic_load(&go))
        usleep(1000);
    return NULL;
}

static int fails;

static void expect(const char *what, pid_t tid, int want)
{
    const char *why = "";
    int h = pml_half_of_thread(tid, &why);
    printf("%s: %s: thread %d is %s (%s)\n", h == want ? "PASS" : "FAIL", what, (int)tid,
           h == PML_HALF_UPPER ? "upper" : "lower", why);
    fails += h != want;
}

int main(void)
{
    typedef int create_fn(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    create_fn *libc_create = (create_fn *)dlsym(RTLD_NEXT, "pthread_create");
    pthread_t app, lib;
    if (!libc_create || pthread_create(&app, NULL, waiter, (void *)0L) ||
        libc_create(&lib, NULL, waiter, (void *)1L)) {
        printf("FAIL: cannot start the threads\n");
        return 1;
    }
    while (!atomic_load(&tid_of[0]) || !atomic_load(&tid_of[1]))
        usleep(1000);
    pid_t a = atomic_load(&tid_of[0]), l = atomic_load(&tid_of[1]);
    usleep(20000); /* the application thread's own registration is done by now or not: both ways */
    pml_thr_set(a, 0);                /* as before it registers, or after it unregistered */
    expect("an application thread the registry does not know", a, PML_HALF_UPPER);
    pml_thr_set(l, PML_HALF_UPPER);   /* as a reused id of an ended application thread */
    expect("a library thread the registry lists as the application's", l, PML_HALF_LOWER);
    expect("the main thread", getpid(), PML_HALF_UPPER);
    atomic_store(&go, 1);
    pthread_join(app, NULL);
    pthread_join(lib, NULL);
    return fails ? 1 : 0;
}
