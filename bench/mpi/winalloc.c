/* What making and freeing a window costs (bench/mpi/winalloc.sh): MPI_Win_create on 4 KiB of
 * malloc'd memory, MPI_Win_allocate and MPI_Win_allocate_shared of 4 KiB a rank on every rank of
 * MPI_COMM_WORLD, then MPI_Win_free, in a loop; and MPI_Comm_dup + MPI_Win_allocate_shared +
 * MPI_Win_free + MPI_Comm_free (a shared window on a communicator of its own each time). Under
 * Revive the layer checks at each allocate whether the library's memory behind the window is a
 * shared mapping (src/pml_hooks/win_ckpt.c, memory_look; diffrev37 R-L13), and a shared window's
 * communicator gets a meeting place of the layer's own (win_ckpt.c, pml_win_meet_make). Rank 0
 * prints "name us" lines: the best of 5 batches of the wall time per make + free (a batch
 * starts after a barrier), and the calling thread's CPU time per pair.
 *   winalloc [SCALE]   (a batch is 200 x SCALE pairs) */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_us(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

enum kind { CREATE, ALLOCATE, SHARED, DUP_SHARED };

static void measure(const char *name, enum kind k, int iters, int rank)
{
    double best = 1e30, best_cpu = 1e30;
    for (int b = 0; b < 5; b++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = now_us(CLOCK_MONOTONIC), c0 = now_us(CLOCK_THREAD_CPUTIME_ID);
        for (int i = 0; i < iters; i++) {
            void *base = NULL;
            MPI_Win w;
            MPI_Comm c = MPI_COMM_WORLD;
            if (k == DUP_SHARED)
                MPI_Comm_dup(MPI_COMM_WORLD, &c);
            if (k == CREATE) {
                base = malloc(4096);
                MPI_Win_create(base, 4096, 1, MPI_INFO_NULL, c, &w);
            } else if (k == ALLOCATE)
                MPI_Win_allocate(4096, 1, MPI_INFO_NULL, c, &base, &w);
            else
                MPI_Win_allocate_shared(4096, 1, MPI_INFO_NULL, c, &base, &w);
            ((volatile char *)base)[0] = 1;
            MPI_Win_free(&w);
            if (k == CREATE)
                free(base);
            if (k == DUP_SHARED)
                MPI_Comm_free(&c);
        }
        double t = (now_us(CLOCK_MONOTONIC) - t0) / iters, c = (now_us(CLOCK_THREAD_CPUTIME_ID) - c0) / iters;
        if (t < best)
            best = t;
        if (c < best_cpu)
            best_cpu = c;
    }
    if (rank == 0)
        printf("%s %.1f\n%s_cpu %.1f\n", name, best, name, best_cpu);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int scale = argc > 1 ? atoi(argv[1]) : 1;
    int iters = 200 * (scale > 0 ? scale : 1);
    measure("win_create_free", CREATE, iters, rank);
    measure("win_allocate_free", ALLOCATE, iters, rank);
    measure("win_allocate_shared_free", SHARED, iters, rank);
    measure("dup_shared_free", DUP_SHARED, iters, rank);
    MPI_Finalize();
    return 0;
}
