/* Many threads (default 200), each with its own TLS counter, some blocked on
 * a condition variable and some spinning, across a checkpoint: after the
 * restart every thread must still run, keep its TLS and be joinable. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static __thread long tls_value;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go;
static _Atomic int started;
static _Atomic long total;

static void *worker(void *arg)
{
    long id = (long)arg;
    tls_value = id * 7;
    atomic_fetch_add(&started, 1);
    if (id % 2) {
        pthread_mutex_lock(&m);
        while (!go)
            pthread_cond_wait(&cv, &m);
        pthread_mutex_unlock(&m);
    } else {
        while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
            usleep(1000);
    }
    atomic_fetch_add(&total, tls_value);
    return (void *)(tls_value == id * 7 ? 0 : 1);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200;
    const char *gofile = argc > 2 ? argv[2] : "go";
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t *t = calloc((size_t)n, sizeof *t);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 << 10);
    for (long i = 0; i < n; i++)
        if (pthread_create(&t[i], &a, worker, (void *)i))
            return 2;
    while (atomic_load(&started) < n)
        usleep(1000);
    printf("%d threads started\n", n);
    while (access(gofile, F_OK) != 0)   /* the checkpoint happens here */
        usleep(10000);
    pthread_mutex_lock(&m);
    go = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&m);
    int bad = 0;
    for (int i = 0; i < n; i++) {
        void *r;
        pthread_join(t[i], &r);
        bad += r != NULL;
    }
    long want = 7L * n * (n - 1) / 2;
    printf("joined %d threads, %d lost their TLS, sum %s\n", n, bad, atomic_load(&total) == want ? "ok" : "FAIL");
    return bad ? 1 : 0;
}
