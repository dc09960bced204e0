/*
 * State test: process and thread ids, with a thread busy in user code. A
 * worker thread computes in user code (the checkpoint mostly catches it
 * mid-computation, not in a blocking call); the main thread holds an 8 MiB
 * heap block with a known checksum. After each point:
 *   - the heap is intact and the worker still computes (its counter moves);
 *   - getpid() and gettid() agree with the kernel (the raw system calls);
 *   - glibc's cached thread id of the worker is right: pthread_kill (a tgkill
 *     with the cached tid) reaches the worker and no other thread;
 * and at the end the worker stops and joins. Nothing printed depends on the
 * ids themselves: the harness checks which PID comes back.
 *
 * Not checked: mutexes that record their owner's tid (error-checking,
 * recursive, robust) held across a restart under new ids (--no-restore-pid)
 * still name the old tid, so glibc then refuses their unlock (EPERM) and a
 * relock blocks; with the original ids back they work.
 * Contract: crt_common.h (was tests/restore/pid_printer, which printed its ids).
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HEAP_BYTES (8u << 20)

static pthread_t worker;
static volatile uint64_t worker_sum;
static volatile int worker_stop;
static volatile sig_atomic_t usr1_on_worker, usr1_elsewhere;

static void on_usr1(int sig)
{
    (void)sig;
    if (pthread_equal(pthread_self(), worker))
        usr1_on_worker = 1;
    else
        usr1_elsewhere = 1;
}

static void *work(void *arg)
{
    (void)arg;
    for (uint64_t i = 1; !worker_stop; i++) {
        worker_sum += i; /* user code, and every million rounds a 1 ms sleep */
        if (i % 1000000 == 0)
            crt_sleep_ms(1);
    }
    return NULL;
}

/* Checks after checkpoint point n. */
static void verify(int n, const unsigned char *heap, uint64_t heap_hash)
{
    char what[64];
    uint64_t before;
    int64_t deadline;

    snprintf(what, sizeof(what), "heap intact after point %d", n);
    CRT_CHECK_U64(what, crt_hash(heap, HEAP_BYTES, 3), heap_hash);

    before = worker_sum;
    deadline = crt_mono_ns_syscall() + 10 * 1000000000LL;
    while (worker_sum == before && crt_mono_ns_syscall() < deadline)
        crt_sleep_ms(1);
    snprintf(what, sizeof(what), "the busy worker computes after point %d", n);
    crt_check(what, worker_sum != before, "its counter stayed at %llu for 10 s",
              (unsigned long long)before);

    snprintf(what, sizeof(what), "getpid() is the kernel's after point %d", n);
    crt_check(what, getpid() == (pid_t)syscall(SYS_getpid), "getpid %d, kernel %ld",
              (int)getpid(), (long)syscall(SYS_getpid));
    snprintf(what, sizeof(what), "gettid() is the kernel's after point %d", n);
    crt_check(what, gettid() == (pid_t)syscall(SYS_gettid), "gettid %d, kernel %ld",
              (int)gettid(), (long)syscall(SYS_gettid));

    usr1_on_worker = usr1_elsewhere = 0;
    snprintf(what, sizeof(what), "pthread_kill reaches the worker after point %d", n);
    {
        int rc = pthread_kill(worker, SIGUSR1);
        deadline = crt_mono_ns_syscall() + 10 * 1000000000LL;
        while (rc == 0 && !usr1_on_worker && crt_mono_ns_syscall() < deadline)
            crt_sleep_ms(1);
        crt_check(what, rc == 0 && usr1_on_worker && !usr1_elsewhere,
                  "pthread_kill gave %d, on the worker %d, elsewhere %d", rc, (int)usr1_on_worker,
                  (int)usr1_elsewhere);
    }
}

int main(void)
{
    unsigned char *heap;
    uint64_t heap_hash;
    struct sigaction sa;
    int rc;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        crt_die("sigaction: %s", strerror(errno));
    heap = malloc(HEAP_BYTES);
    if (!heap)
        crt_die("cannot allocate %u bytes", HEAP_BYTES);
    for (size_t i = 0; i < HEAP_BYTES; i++)
        heap[i] = (unsigned char)(i * 7);
    heap_hash = crt_hash(heap, HEAP_BYTES, 3);
    crt_say("heap %016llx", (unsigned long long)heap_hash);

    if (pthread_create(&worker, NULL, work, NULL) != 0)
        crt_die("pthread_create failed");
    while (worker_sum == 0)
        crt_sleep_ms(1);
    crt_say("worker started");

    crt_checkpoint_point(1);
    verify(1, heap, heap_hash);
    crt_checkpoint_point(2);
    verify(2, heap, heap_hash);

    worker_stop = 1;
    rc = pthread_join(worker, NULL);
    crt_check("the worker joins", rc == 0, "pthread_join gave %d", rc);
    free(heap);
    crt_finish();
}
