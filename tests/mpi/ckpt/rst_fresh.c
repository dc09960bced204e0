/* A rank program for rst_fresh.sh: MPI calls from threads other than the one that initialised
 * the lower half, before and after a restart through the checkpoint agent.
 *
 *   rst_fresh STEPS PACEFILE MS
 *
 * At each step the main thread makes a communicator (MPI_Comm_dup of MPI_COMM_WORLD), sums over
 * it and frees it, then starts a thread that does the same and joins it; rank 0 prints one line
 * per step with both sums. Between steps it sleeps MS milliseconds while PACEFILE exists (the
 * test keeps the job from ending before its snapshot, however slow the machine).
 *
 * What it shows: the lower half's libc sets its per-thread locale state (the ctype tables that
 * isspace/tolower read) only in the thread that loads it, and Open MPI calls isspace whenever a
 * communicator is made (opal_str_to_bool, for the info key mpi_assert_allow_overtaking). A
 * second thread crashed there under Revive from the first MPI_Init; after a restart through the
 * agent (which loads the fresh lower half in its own thread) the main thread did too
 * (campaign-failures.md #6). And MPI_Wtime, checked at every step by every rank, must never go
 * back: Open MPI's counts from its MPI_Init, and the fresh one after a restart began again at 0
 * (src/pml_hooks/wtime.c). And MPI_Comm_c2f/f2c at every step: the layer kept the lower half's
 * conversion functions in caches a restart did not empty (Open MPI: a SIGSEGV on the dead half's
 * memory at the first conversion after a restart, which every Fortran call makes). */
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "rst_pace.h"

static int rank;

static long dup_sum(long x)
{
    MPI_Comm d;
    long y = 0;
    if (MPI_Comm_dup(MPI_COMM_WORLD, &d) != MPI_SUCCESS ||
        MPI_Allreduce(&x, &y, 1, MPI_LONG, MPI_SUM, d) != MPI_SUCCESS || MPI_Comm_free(&d) != MPI_SUCCESS) {
        fprintf(stderr, "rst_fresh rank %d: FAIL: MPI_Comm_dup/MPI_Allreduce/MPI_Comm_free\n", rank);
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
    return y;
}

static void *worker(void *arg)
{
    long *v = arg;
    *v = dup_sum(*v);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: rst_fresh STEPS PACEFILE MS\n");
        return 2;
    }
    int steps = atoi(argv[1]), ms = atoi(argv[3]), provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    if (provided < MPI_THREAD_MULTIPLE) {
        fprintf(stderr, "rst_fresh: the MPI library gives thread level %d\n", provided);
        MPI_Abort(MPI_COMM_WORLD, 77);
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    double last = MPI_Wtime();
    for (int s = 1; s <= steps; s++) {
        double now = MPI_Wtime();
        if (now < last) {
            fprintf(stderr, "rst_fresh rank %d: FAIL: MPI_Wtime went back from %.3f to %.3f at step"
                    " %d\n", rank, last, now, s);
            MPI_Abort(MPI_COMM_WORLD, 3);
        }
        last = now;
        /* Open MPI's conversions call the lower half's through a pointer the layer keeps */
        MPI_Fint fw = MPI_Comm_c2f(MPI_COMM_WORLD);
        if (MPI_Comm_f2c(fw) != MPI_COMM_WORLD) {
            fprintf(stderr, "rst_fresh rank %d: FAIL: MPI_Comm_f2c(MPI_Comm_c2f(MPI_COMM_WORLD))"
                    " is not MPI_COMM_WORLD at step %d\n", rank, s);
            MPI_Abort(MPI_COMM_WORLD, 3);
        }
        long a = dup_sum((long)s * (rank + 1)), b = (long)s * (rank + 2);
        pthread_t t;
        if (pthread_create(&t, NULL, worker, &b) != 0 || pthread_join(t, NULL) != 0) {
            fprintf(stderr, "rst_fresh rank %d: FAIL: pthread_create\n", rank);
            MPI_Abort(MPI_COMM_WORLD, 3);
        }
        if (rank == 0) {
            printf("step %d: %ld %ld\n", s, a, b);
            fflush(stdout);
        }
        rst_pace(argv[2], ms, steps - s);
    }
    if (rank == 0)
        printf("done: %d steps\n", steps);
    MPI_Finalize();
    return 0;
}
