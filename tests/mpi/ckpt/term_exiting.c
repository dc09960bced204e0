/* term_exiting STEPS DIR [PACEFILE MS]: threads that end while a snapshot parks the rank's
 * threads. Each step every rank writes one block of its own file DIR/exiting.RANK with
 * MPI_File_iwrite_at, waits for it and closes the file; both MPI libraries write through POSIX
 * AIO, whose helper thread then idles for glibc's 1 s and ends by itself, with every signal
 * blocked, whenever that falls: with no file open the snapshot does not wait for it first (it
 * does while a file is open: objs_ckpt.c), so the snapshot of a step less than 1 s apart finds
 * it still there. A second thread of every rank keeps starting detached threads that end at
 * once (one every 2 ms), which glibc ends the same way. Then an Allreduce over MPI_COMM_WORLD of
 * the step plus the rank, rank 0 printing "step I: SUM", and the pace (rst_pace.h). At the end
 * every rank reads its file back and rank 0 prints "done: STEPS steps, file sum S" (S summed
 * over the ranks): the lines depend on nothing the threads do, and each block is written once,
 * so a restarted run prints what an uninterrupted one does (term_exiting.sh). */
#define _GNU_SOURCE
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "rst_pace.h"

#define B 64 /* ints per block */

static volatile int stop;

static void *ends_at_once(void *arg)
{
    return arg;
}

static void *starter(void *arg)
{
    (void)arg;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    while (!stop) {
        pthread_t t;
        if (pthread_create(&t, &a, ends_at_once, NULL) != 0) {
            fprintf(stderr, "term_exiting: pthread_create failed\n");
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
        struct timespec d = { 0, 2 * 1000 * 1000 };
        nanosleep(&d, NULL);
    }
    pthread_attr_destroy(&a);
    return NULL;
}

static void check(int rc, const char *what)
{
    if (rc != MPI_SUCCESS) {
        fprintf(stderr, "term_exiting: %s failed\n", what);
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
}

int main(int argc, char **argv)
{
    int prov, me;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &prov);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    if (argc < 3) {
        fprintf(stderr, "usage: term_exiting STEPS DIR [PACEFILE MS]\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    int steps = atoi(argv[1]);
    char path[4096];
    snprintf(path, sizeof path, "%s/exiting.%d", argv[2], me);
    const char *pace = argc > 3 ? argv[3] : NULL;
    long ms = argc > 4 ? atol(argv[4]) : 0;
    pthread_t t;
    if (pthread_create(&t, NULL, starter, NULL) != 0) {
        fprintf(stderr, "term_exiting: cannot start the starting thread\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    int buf[B];
    for (int i = 0; i < steps; i++) {
        MPI_File f;
        check(MPI_File_open(MPI_COMM_SELF, path, MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &f),
              "MPI_File_open");
        for (int k = 0; k < B; k++)
            buf[k] = (i * 1000 + me) * B + k;
        MPI_Request rq;
        check(MPI_File_iwrite_at(f, (MPI_Offset)i * B * (MPI_Offset)sizeof(int), buf, B, MPI_INT, &rq),
              "MPI_File_iwrite_at");
        check(MPI_Wait(&rq, MPI_STATUS_IGNORE), "MPI_Wait");
        check(MPI_File_close(&f), "MPI_File_close");
        int x = i + me, s = 0;
        MPI_Allreduce(&x, &s, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        if (me == 0) {
            printf("step %d: %d\n", i, s);
            fflush(stdout);
        }
        rst_pace(pace, ms, steps - 1 - i);
    }
    stop = 1;
    pthread_join(t, NULL);
    FILE *in = fopen(path, "rb");
    long sum = 0, n = 0;
    for (int v; in && fread(&v, sizeof v, 1, in) == 1; n++)
        sum += v;
    if (in)
        fclose(in);
    if (n != (long)steps * B) {
        fprintf(stderr, "term_exiting: rank %d: %ld ints in %s, not %ld\n", me, n, path, (long)steps * B);
        MPI_Abort(MPI_COMM_WORLD, 4);
    }
    long all = 0;
    MPI_Reduce(&sum, &all, 1, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    if (me == 0)
        printf("done: %d steps, file sum %ld\n", steps, all);
    MPI_Finalize();
    return 0;
}
