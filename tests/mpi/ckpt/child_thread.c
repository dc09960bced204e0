/* A rank's forked child whose threads end after a restart (child_thread.sh):
 *   child_thread DIR
 * Rank 0, after MPI_Init and a collective (the MPI library's threads run), forks a worker: a
 * plain process, not a rank. The worker writes DIR/worker.pid and starts a thread that works
 * (a running sum, one step per millisecond) until DIR/go exists, then returns its sum; the worker
 * joins it, then starts and joins 20 short threads, then a detached one that ends by pthread_exit
 * (each ending thread puts its stack on glibc's stack cache, each new one takes one from there),
 * writes "joined N, 20 more, detached ended" to DIR/worker.res and exits 42. Rank 0 waits for
 * it and prints "worker: exit N" or "worker: signal N"; every rank ends with MPI_Finalize.
 * Without DIR/go the worker's first thread works for ever: the script checkpoints the worker
 * (cr_checkpoint, the worker alone) while that thread runs. */
#define _GNU_SOURCE
#include <mpi.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *dir;
static volatile int detached_done;

static void nap_ms(long ms)
{
    struct timespec d = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&d, &d) != 0 && errno == EINTR)
        ;
}

/* works until DIR/go exists; returns the count of steps it made, folded (never 0) */
static void *worker_thread(void *arg)
{
    (void)arg;
    char go[4096];
    snprintf(go, sizeof go, "%s/go", dir);
    struct stat st;
    unsigned long sum = 1;
    while (stat(go, &st) != 0) {
        sum = (sum * 31 + 7) % 1000003UL;
        nap_ms(1);
    }
    char *p = malloc(4096); /* the thread's malloc arena and tcache, freed at its end */
    memset(p, 1, 4096);
    free(p);
    return (void *)(sum | 1);
}

static void *short_thread(void *arg)
{
    free(malloc(128));
    return arg;
}

static void *detached_thread(void *arg)
{
    (void)arg;
    __atomic_store_n(&detached_done, 1, __ATOMIC_SEQ_CST);
    pthread_exit(NULL);
}

static void __attribute__((noreturn)) worker(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/worker.pid.tmp", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        _exit(2);
    fprintf(f, "%d\n", (int)getpid());
    fclose(f);
    char done[4096];
    snprintf(done, sizeof done, "%s/worker.pid", dir);
    rename(path, done);
    pthread_t t;
    void *rv = NULL;
    if (pthread_create(&t, NULL, worker_thread, NULL) != 0 || pthread_join(t, &rv) != 0)
        _exit(3);
    int more = 0;
    for (int i = 0; i < 20; i++) {
        void *r = NULL;
        if (pthread_create(&t, NULL, short_thread, (void *)(long)(i + 1)) == 0 && pthread_join(t, &r) == 0 &&
            (long)r == i + 1)
            more++;
    }
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &a, detached_thread, NULL) != 0)
        _exit(4);
    for (int i = 0; i < 10000 && !__atomic_load_n(&detached_done, __ATOMIC_SEQ_CST); i++)
        nap_ms(1);
    nap_ms(50); /* its exit, which frees its stack, goes on after the flag */
    snprintf(path, sizeof path, "%s/worker.res", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        _exit(5);
    dprintf(fd, "joined %s, %d more, detached %s\n", rv ? "a sum" : "nothing", more,
            detached_done ? "ended" : "not seen");
    close(fd);
    _exit(42);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int me, one = 1, sum = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    dir = argc > 1 ? argv[1] : ".";
    if (me == 0) {
        fflush(stdout);
        pid_t c = fork();
        if (c == 0)
            worker();
        int st = 0;
        if (c < 0 || waitpid(c, &st, 0) != c)
            printf("worker: not waited for\n");
        else if (WIFEXITED(st))
            printf("worker: exit %d\n", WEXITSTATUS(st));
        else
            printf("worker: signal %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : -1);
        fflush(stdout);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Finalize();
    return 0;
}
