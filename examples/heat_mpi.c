/* The MPI demo: heat spreading along a rod cut into one piece per rank. Each step every rank
 * trades its edge cells with its neighbours (MPI_Sendrecv) and the job adds up the rod's heat,
 * its first moment and the sum of squares, which falls as the heat evens out (MPI_Allreduce); rank 0 prints a line every 100 steps and, at the end,
 * the answer. A run with the same number of ranks and the same MPI library always prints the
 * same answer, which is what the demo compares after a checkpoint, a kill and a restart.
 * Usage: heat_mpi [STEPS [CELLS_PER_RANK]]   (defaults 1500, 20000) */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int steps = argc > 1 ? atoi(argv[1]) : 1500;
    int cells = argc > 2 ? atoi(argv[2]) : 20000;
    /* cells 1..cells are this rank's; 0 and cells+1 are copies of the neighbours' edges */
    double *u = calloc((size_t)cells + 2, sizeof *u);
    double *next = calloc((size_t)cells + 2, sizeof *next);
    if (!u || !next) {
        fprintf(stderr, "heat_mpi: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    /* a hot stretch near the left end, hotter towards its left: the insulated end reflects
     * what reaches it, so the centre of heat moves */
    for (int i = 1; i <= cells; i++) {
        long g = (long)rank * cells + i - 1;
        u[i] = g < 2000 ? 100.0 * (2000 - g) / 2000.0 : 0.0;
    }
    int left = rank > 0 ? rank - 1 : MPI_PROC_NULL;
    int right = rank < size - 1 ? rank + 1 : MPI_PROC_NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);
    double total[3] = { 0, 0, 0 };
    for (int s = 1; s <= steps; s++) {
        MPI_Sendrecv(&u[1], 1, MPI_DOUBLE, left, 0, &u[cells + 1], 1, MPI_DOUBLE, right, 0,
                     MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Sendrecv(&u[cells], 1, MPI_DOUBLE, right, 1, &u[0], 1, MPI_DOUBLE, left, 1,
                     MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (left == MPI_PROC_NULL)
            u[0] = u[1]; /* insulated ends: no heat leaves the rod */
        if (right == MPI_PROC_NULL)
            u[cells + 1] = u[cells];
        for (int i = 1; i <= cells; i++)
            next[i] = u[i] + 0.25 * (u[i - 1] - 2.0 * u[i] + u[i + 1]);
        double *t = u;
        u = next;
        next = t;
        double mine[3] = { 0, 0, 0 };
        for (int i = 1; i <= cells; i++) {
            mine[0] += u[i];
            mine[1] += u[i] * (double)((long)rank * cells + i - 1);
            mine[2] += u[i] * u[i];
        }
        MPI_Allreduce(mine, total, 3, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        if (rank == 0 && s % 100 == 0)
            printf("step %4d/%d  centre %.6f  peak-ness %.6f\n", s, steps, total[1] / total[0],
                   total[2] / total[0]);
        /* paced, so that the demo has time to checkpoint it mid-run on any machine */
        struct timespec pause = { 0, 4 * 1000 * 1000 };
        nanosleep(&pause, NULL);
    }
    if (rank == 0)
        printf("result: heat %.12e  centre %.12e  peak-ness %.12e\n", total[0],
               total[1] / total[0], total[2] / total[0]);
    free(u);
    free(next);
    MPI_Finalize();
    return 0;
}
