/* An MPI program for the global-snapshot tests (tests/snapc/mpi_ckpt.sh): collectives on
 * MPI_COMM_WORLD and on a split communicator (Bcast roots rotating, so ranks run ahead),
 * point-to-point in a ring, and a result that depends on every step. With "mpix K" every rank
 * calls MPIX_Checkpoint at step K and prints what it returned. Usage: mpi_loop ITERS [mpix K] */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpix_ckpt.h"

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int r, n;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    long iters = argc > 1 ? atol(argv[1]) : 10000;
    long mpix_at = argc > 3 && strcmp(argv[2], "mpix") == 0 ? atol(argv[3]) : -1;
    MPI_Comm half;
    MPI_Comm_split(MPI_COMM_WORLD, r % 2, r, &half);
    double acc = 0;
    for (long i = 0; i < iters; i++) {
        if (i == mpix_at) {
            int flag = -1;
            int rc = MPIX_Checkpoint(&flag);
            printf("rank %d: MPIX_Checkpoint %s flag %d\n", r, rc == MPI_SUCCESS ? "ok" : "error",
                   flag);
            fflush(stdout);
        }
        double v = r + i * 0.5, s = 0;
        MPI_Allreduce(&v, &s, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        double b = s;
        MPI_Bcast(&b, 1, MPI_DOUBLE, (int)(i % n), MPI_COMM_WORLD);
        double hs;
        MPI_Allreduce(&b, &hs, 1, MPI_DOUBLE, MPI_MAX, half);
        int to = (r + 1) % n, from = (r + n - 1) % n;
        double sv = hs + r, rv;
        MPI_Sendrecv(&sv, 1, MPI_DOUBLE, to, 7, &rv, 1, MPI_DOUBLE, from, 7, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
        acc += rv * 1e-6;
        if (i % 500 == 0)
            usleep(2000);
    }
    double tot;
    MPI_Reduce(&acc, &tot, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    if (r == 0)
        printf("result %.6f\n", tot);
    MPI_Comm_free(&half);
    MPI_Finalize();
    return 0;
}
