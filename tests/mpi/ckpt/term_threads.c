/* term_threads STEPS [PACEFILE MS]: rank 0 prints "step I: SUM" after an Allreduce per step while
 * a second thread of every rank keeps starting threads: every 20 ms one more, each on a fresh
 * stack (a little larger than every stack before it, so that glibc's cache of stacks never serves
 * it and each one is a new mapping), and the oldest of the 24 alive is ended and joined. So the
 * 300 ms that REVIVE_FAULT=mpi-freeze-late puts into a rank's checkpoint hook (between listing the
 * rank's memory and taking ld.so's thread-stack lock) always see threads started, and threads
 * started before them are still alive and joined first after a restart (term_threads.sh,
 * campaign-failures.md #33). Five steps before the end, while those threads still come and go,
 * every rank loads a second libc into a namespace of its own (dlmopen LM_ID_NEWLM): ld.so then
 * writes that libc's static TLS into every thread on its list of threads in use, walking the list
 * to its head; on a damaged list it never got there, so the load is bounded (60 s, SIGALRM ends
 * the rank). (After the last step the joins of the remaining threads, in another order, could
 * mend the list.) While PACEFILE exists each step waits MS ms. The step lines do not depend on
 * the threads. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <mpi.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rst_pace.h"

#define ALIVE 24
#define PERIOD_MS 20

static volatile int stop;

struct slot {
    pthread_t th;
    sem_t go;
    int used;
};
static struct slot slots[ALIVE];

static void *waiter(void *arg)
{
    struct slot *s = arg;
    while (sem_wait(&s->go) != 0)
        ;
    return NULL;
}

static void die(const char *what)
{
    fprintf(stderr, "term_threads: %s\n", what);
    MPI_Abort(MPI_COMM_WORLD, 2);
}

static void *spawner(void *arg)
{
    (void)arg;
    unsigned long k = 0;
    for (int next = 0; !stop; next = (next + 1) % ALIVE, k++) {
        struct slot *s = &slots[next];
        if (s->used) { /* the oldest: ended and joined */
            sem_post(&s->go);
            if (pthread_join(s->th, NULL) != 0)
                die("pthread_join failed");
            sem_destroy(&s->go);
            s->used = 0;
        }
        pthread_attr_t a;
        pthread_attr_init(&a);
        /* 64 KiB and one page more for each thread (16 MiB after 4096 threads, then again) */
        pthread_attr_setstacksize(&a, 65536 + (k % 4096) * 4096);
        sem_init(&s->go, 0, 0);
        if (pthread_create(&s->th, &a, waiter, s) != 0)
            die("pthread_create failed");
        pthread_attr_destroy(&a);
        s->used = 1;
        struct timespec d = { 0, PERIOD_MS * 1000000L };
        nanosleep(&d, NULL);
    }
    for (int i = 0; i < ALIVE; i++)
        if (slots[i].used) {
            sem_post(&slots[i].go);
            pthread_join(slots[i].th, NULL);
            sem_destroy(&slots[i].go);
        }
    return NULL;
}

static void second_libc(int me)
{
    alarm(60);
    void *h = dlmopen(LM_ID_NEWLM, "libc.so.6", RTLD_NOW | RTLD_LOCAL);
    alarm(0);
    if (!h) {
        fprintf(stderr, "term_threads: rank %d: dlmopen of a second libc failed: %s\n", me, dlerror());
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
}

static void at_step(int step, int steps, int me)
{
    if (step == steps - 5)
        second_libc(me);
}

int main(int argc, char **argv)
{
    return rst_paced_thread_main(argc, argv, "term_threads", "the spawning thread", spawner, &stop,
                                 at_step);
}
