/* fork() with the halves registry (src/pml_hooks/halves_registry.c): the registry holds its
 * lock across a fork so the child gets it whole, and lets go in both processes from its
 * pthread_atfork handlers. Libraries loaded before the layer (libcr: its child handler starts
 * a new checkpoint thread) register their handlers first, so theirs run first in the child,
 * while the lock is still held under the parent's thread id; if they map memory through the
 * hooks, or start a thread through the wrapped pthread_create, the child must not hang.
 *
 * This program registers such a handler before the registry does (a constructor of higher
 * priority), then forks repeatedly while two threads map and unmap memory through the hooks;
 * each child maps memory in the handler, starts a thread, checks every region with the
 * queries (REVIVE_HALVES_CHECK=1: the registry's invariants too) and exits 0. A child that does
 * not finish within 10 s fails the test. The registry's lock goes by the thread's id, which it takes
 * from glibc's thread descriptor (pml_my_tid), not from a system call: that id must be the kernel's
 * in every thread, in the child's early handler (before the registry's own), in the child's new
 * thread, and in a child of _Fork (no fork handlers at all). Prints PASS or FAIL. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pml_hooks/halves.h"
#include "pml_hooks/halves_internal.h"

#define FORKS 200

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

static void *child_mapping;
static int early_tid_ok;

/* 1 when the registry's idea of the calling thread's id is the kernel's */
static int tid_right(void)
{
    return pml_my_tid() == (pid_t)syscall(SYS_gettid);
}

static void early_child_handler(void)
{
    /* like libcr's: runs in the child before the registry's own handler */
    early_tid_ok = tid_right();
    child_mapping = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

__attribute__((constructor(101))) static void register_early(void) /* the registry: 102 */
{
    pthread_atfork(NULL, NULL, early_child_handler);
}

static _Atomic int stop;

static _Atomic int tid_wrong;

static void *hammer(void *arg)
{
    (void)arg;
    if (!tid_right())
        atomic_store(&tid_wrong, 1);
    while (!atomic_load(&stop)) {
        void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED)
            munmap(p, 1 << 20);
    }
    return NULL;
}

static void *nothing(void *arg)
{
    if (!tid_right())
        ++*(int *)arg;
    return NULL;
}

static int ask(const struct revive_maps_entry *m, void *arg)
{
    struct pml_half_span s[64];
    if (pml_halves_split(m->start, m->end, m->name, s, 64) < 1)
        ++*(int *)arg;
    return 0;
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!getenv("REVIVE_HALVES_CHECK")) {
        setenv("REVIVE_HALVES_CHECK", "1", 1);
        execv("/proc/self/exe", argv);
        printf("FAIL: cannot run myself again: %s\n", strerror(errno));
        return 1;
    }
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, hammer, NULL);
    int bad = 0;
    for (int i = 0; i < FORKS && !bad; i++) {
        pid_t c = fork();
        if (c == 0) {
            int errs = 0;
            pthread_t t;
            if (!early_tid_ok || !tid_right())
                _exit(3);
            int wrong = 0;
            if (pthread_create(&t, NULL, nothing, &wrong) == 0)
                pthread_join(t, NULL);
            if (wrong)
                _exit(3);
            pml_maps_each(ask, &errs);
            const char *why;
            uint64_t a = (uint64_t)child_mapping;
            if (child_mapping == MAP_FAILED || pml_half_of_region(a, a + (1 << 16), "", &why) != PML_HALF_UPPER ||
                strcmp(why, pml_why_str(PML_W_UMMAP)))
                errs++;
            _exit(errs ? 2 : 0);
        }
        if (c < 0) {
            printf("FAIL: fork: %s\n", strerror(errno));
            bad = 1;
            break;
        }
        int st = 0;
        struct timespec t0, now;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
            pid_t w = waitpid(c, &st, WNOHANG);
            if (w == c)
                break;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec - t0.tv_sec > 10) {
                printf("FAIL: fork %d: the child hangs (the registry's lock, held across the fork,"
                       " is never let go in the child?)\n", i);
                kill(c, SIGKILL);
                waitpid(c, &st, 0);
                bad = 1;
                break;
            }
            struct timespec ms = { 0, 1000 * 1000 };
            nanosleep(&ms, NULL);
        }
        if (!bad && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
            printf("FAIL: fork %d: the child ended with status %#x (2: a query failed or the"
                   " handler's mapping is not registered as the application's; 3: the registry's"
                   " thread id is not the kernel's in the child, its fork handler or its new thread)\n", i, st);
            bad = 1;
        }
    }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
    /* _Fork runs no fork handlers: the child's id is the kernel's all the same (it sets it) */
    for (int i = 0; i < 20 && !bad; i++) {
        pid_t c = _Fork();
        if (c == 0)
            _exit(tid_right() ? 0 : 3);
        int st = 0;
        if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st)) {
            printf("FAIL: _Fork %d: %s (status %#x; 3: the registry's thread id is not the child's)\n", i,
                   c < 0 ? strerror(errno) : "the child failed", st);
            bad = 1;
        }
    }
#endif
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    if (!bad && (atomic_load(&tid_wrong) || !tid_right())) {
        printf("FAIL: the registry's thread id is not the kernel's in the parent\n");
        bad = 1;
    }
    if (!bad)
        printf("PASS: %d forks while two threads map and unmap; each child mapped memory in an"
               " early fork handler, started a thread and queried every region; the registry's"
               " thread id was the kernel's in every thread, child and _Fork child\n", FORKS);
    return bad;
}
