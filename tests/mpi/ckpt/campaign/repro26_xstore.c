/* Reproducer of campaign-failures.md #26 (not built by make): a store by one rank's thread,
 * outside MPI, into another rank's part of a shared window while a snapshot is taken.
 *
 *   xstore STEPS PACEFILE
 *
 * Rank 1 adds 1 to a counter in rank 0's part of an MPI_Win_allocate_shared window (c) and to one
 * of its own memory (p), 20 million times per step, between MPI calls; after each step (sync,
 * barrier, sync) rank 0 compares them: "step S ok", or "step S: LOST c C p P" when c != p. Sleeps
 * 100 ms per step while PACEFILE exists. A restart from a snapshot taken while rank 1 counts
 * (ckpt-mpirun --term, then restart-mpi) may print LOST on every later step: rank 0 copied its
 * part before rank 1's threads were parked, so rank 1's image counts stores rank 0's lacks. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: xstore STEPS PACEFILE\n");
        return 2;
    }
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int steps = atoi(argv[1]);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    volatile long *mine, *zero;
    MPI_Win w;
    MPI_Aint qs;
    int qd;
    MPI_Win_allocate_shared(64, 8, MPI_INFO_NULL, node, (void *)&mine, &w);
    MPI_Win_shared_query(w, 0, &qs, &qd, (void *)&zero);
    mine[0] = 0;
    MPI_Win_lock_all(MPI_MODE_NOCHECK, w);
    MPI_Barrier(MPI_COMM_WORLD);
    volatile long p = 0;
    for (int s = 0; s < steps; s++) {
        if (rank == 1)
            for (long i = 0; i < 20000000; i++) {
                zero[0] = zero[0] + 1;
                p = p + 1;
            }
        MPI_Win_sync(w);
        MPI_Barrier(MPI_COMM_WORLD);
        MPI_Win_sync(w);
        long pv = p, c = zero[0];
        MPI_Barrier(MPI_COMM_WORLD); /* nobody counts on before c is read */
        if (rank == 1)
            MPI_Send(&pv, 1, MPI_LONG, 0, 1, MPI_COMM_WORLD);
        if (rank == 0) {
            MPI_Recv(&pv, 1, MPI_LONG, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            if (c != pv)
                printf("step %d: LOST c %ld p %ld\n", s, c, pv);
            else
                printf("step %d ok\n", s);
            fflush(stdout);
        }
        if (access(argv[2], F_OK) == 0)
            usleep(100000);
    }
    MPI_Win_unlock_all(w);
    MPI_Win_free(&w);
    MPI_Comm_free(&node);
    MPI_Finalize();
    return 0;
}
