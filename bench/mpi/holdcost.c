/* holdcost STEPS MS (bench/mpi/holdcost.sh): each rank computes MS ms per step outside MPI (a busy
 * loop), rank 1 twice as long (the rank the others wait for at each collective, so the one a
 * snapshot finds computing outside MPI), then an Allreduce; rank 0 prints "elapsed SECONDS" at
 * the end: what holding a rank from its capture to the commit costs the job is the difference
 * per snapshot. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int steps = argc > 1 ? atoi(argv[1]) : 300;
    double ms = (argc > 2 ? atof(argv[2]) : 20) * (rank == 1 ? 2 : 1);
    volatile double x = 1;
    double t0 = now(), sum = 0;
    for (int i = 1; i <= steps; i++) {
        double s = now();
        while ((now() - s) * 1e3 < ms)
            x = x * 1.0000001 + 1e-9;
        double v = x, r;
        MPI_Allreduce(&v, &r, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        sum += r;
    }
    if (rank == 0)
        printf("elapsed %.3f (%d steps, %g)\n", now() - t0, steps, sum > 0 ? 1.0 : 0.0);
    MPI_Finalize();
    return 0;
}
