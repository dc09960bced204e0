/*
 * State test: many threads (CRT_MANY_THREADS, default 200), each with its own
 * TLS value, half blocked on a condition variable and half polling a flag,
 * with 64 KiB stacks. At each checkpoint point all of them are alive; after
 * it they are let go, must each still hold their TLS value, and must all join
 * (the sum of their TLS values is checked). Point 2 has a second set of as
 * many threads, started after the first set joined (so after a restart the
 * restarted process starts them). Run with CRS_IMAGE_THREADS (cr_cycle.sh) to
 * check the number of threads in each image.
 * Contract: crt_common.h (was tests/restore/many_threads).
 */
#define _GNU_SOURCE
#include "../crt_common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __thread long tls_value;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go;
static _Atomic int started;
static _Atomic long total;

static void *worker(void *arg)
{
    long id = (long)(intptr_t)arg;
    tls_value = id * 7;
    atomic_fetch_add(&started, 1);
    if (id % 2) {
        pthread_mutex_lock(&m);
        while (!go)
            pthread_cond_wait(&cv, &m);
        pthread_mutex_unlock(&m);
    } else {
        while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
            crt_sleep_ms(1);
    }
    atomic_fetch_add(&total, tls_value);
    return (void *)(intptr_t)(tls_value == id * 7 ? 0 : 1);
}

/* One round: n threads up, checkpoint point `point`, let go, join, check. */
static void round_of(int n, int point, pthread_t *t)
{
    pthread_attr_t a;
    char what[96];
    int bad = 0, joined = 0;
    long want = 7L * n * (n - 1) / 2;

    go = 0;
    atomic_store(&started, 0);
    atomic_store(&total, 0);
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 << 10);
    for (long i = 0; i < n; i++)
        if (pthread_create(&t[i], &a, worker, (void *)(intptr_t)i))
            crt_die("pthread_create of thread %ld failed", i);
    pthread_attr_destroy(&a);
    while (atomic_load(&started) < n)
        crt_sleep_ms(1);
    crt_say("%d threads started", n);

    crt_checkpoint_point(point);

    pthread_mutex_lock(&m);
    __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&m);
    for (int i = 0; i < n; i++) {
        void *r = NULL;
        if (pthread_join(t[i], &r) == 0)
            joined++;
        bad += r != NULL;
    }
    snprintf(what, sizeof(what), "after point %d: %d threads joined", point, n);
    CRT_CHECK_U64(what, joined, n);
    snprintf(what, sizeof(what), "after point %d: no thread lost its TLS", point);
    CRT_CHECK_U64(what, bad, 0);
    snprintf(what, sizeof(what), "after point %d: the sum of their TLS values", point);
    CRT_CHECK_U64(what, atomic_load(&total), want);
}

int main(void)
{
    int n = (int)crt_env_long("CRT_MANY_THREADS", 200);
    pthread_t *t;

    if (n < 1)
        crt_die("CRT_MANY_THREADS=%d", n);
    t = calloc((size_t)n, sizeof *t);
    if (!t)
        crt_die("calloc failed");
    round_of(n, 1, t);
    round_of(n, 2, t);
    free(t);
    crt_finish();
}
