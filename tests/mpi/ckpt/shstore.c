/* A rank's thread stores into another rank's part of a shared window outside MPI calls, for
 * shstore.sh (campaign-failures.md #26).
 *
 *   shstore STEPS PACEFILE ITER
 *
 * Rank 1 adds 1, ITER times per step, to a counter in rank 0's part of an MPI_Win_allocate_shared
 * window (c; rank 1's own part is empty) and to one in its own memory (p), with no MPI call in
 * between; after each step (sync, barrier, sync, barrier) rank 0 prints "step S: ok" when c
 * equals p, else "step S: LOST c C p P".
 * Sleeps 20 ms after each step while PACEFILE exists, and prints a "done:" line. A snapshot taken
 * while rank 1 counts must hold in rank 0's part every store rank 1's image has made. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: shstore STEPS PACEFILE ITER\n");
        return 2;
    }
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    setvbuf(stdout, NULL, _IOLBF, 0);
    int steps = atoi(argv[1]);
    long iter = atol(argv[3]);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    int nsize;
    MPI_Comm_size(node, &nsize);
    if (size != 2 || nsize != 2) {
        fprintf(stderr, "shstore: needs 2 ranks on one node\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    volatile long *mine, *zero;
    MPI_Win w;
    MPI_Aint qs;
    int qd;
    /* rank 1's own part is empty: a member with nothing to copy still meets the others */
    MPI_Win_allocate_shared(rank == 0 ? (MPI_Aint)sizeof(long) : 0, sizeof(long), MPI_INFO_NULL,
                            node, (void *)&mine, &w);
    MPI_Win_shared_query(w, 0, &qs, &qd, (void *)&zero);
    if (rank == 0)
        mine[0] = 0;
    MPI_Win_lock_all(MPI_MODE_NOCHECK, w);
    MPI_Barrier(MPI_COMM_WORLD);
    volatile long p = 0;
    int lost = 0;
    for (int s = 0; s < steps; s++) {
        if (rank == 1)
            for (long i = 0; i < iter; i++) {
                zero[0] = zero[0] + 1;
                p = p + 1;
            }
        MPI_Win_sync(w);
        MPI_Barrier(MPI_COMM_WORLD);
        MPI_Win_sync(w);
        long pv = p, c = zero[0];
        MPI_Barrier(MPI_COMM_WORLD); /* rank 1 counts on only once c is read */
        if (rank == 1)
            MPI_Send(&pv, 1, MPI_LONG, 0, 1, MPI_COMM_WORLD);
        if (rank == 0) {
            MPI_Recv(&pv, 1, MPI_LONG, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            if (c != pv) {
                lost++;
                printf("step %d: LOST c %ld p %ld\n", s, c, pv);
            } else {
                printf("step %d: ok\n", s);
            }
        }
        if (access(argv[2], F_OK) == 0)
            usleep(20000);
    }
    MPI_Win_unlock_all(w);
    MPI_Win_free(&w);
    MPI_Comm_free(&node);
    if (rank == 0)
        printf("done: %d steps, %d lost\n", steps, lost);
    MPI_Finalize();
    return 0;
}
