/* Prints its pid and tid each step, with a checksum of a heap buffer and a
 * thread's work, so that a restart shows whether the ids came back. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile unsigned long worker_sum;

static void *worker(void *arg)
{
    (void)arg;
    for (unsigned long i = 1;; i++) {
        worker_sum += i;
        if (i % 1000000 == 0)
            usleep(1000);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int steps = argc > 1 ? atoi(argv[1]) : 16;
    unsigned char *heap = malloc(8 << 20);
    for (size_t i = 0; i < (8u << 20); i++)
        heap[i] = (unsigned char)(i * 7);
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    unsigned long acc = 0;
    for (int s = 0; s < steps; s++) {
        for (size_t i = 0; i < (8u << 20); i += 4096)
            acc = acc * 31 + heap[i] + s;
        printf("step %d pid %d acc %lu\n", s, (int)getpid(), acc);
        usleep(150000);
    }
    printf("worker alive %d\n", worker_sum > 0);
    return 0;
}
