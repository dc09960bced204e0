/* The job of tests/doc/stock_launchers.sh: what a job started with a stock launcher
 * (mpirun.openmpi --tune .../ft-enable-cr, mpiexec.mpich ... revive-exec) gets from Revive.
 * Rank 0 prints what MPIX_Checkpoint and MPIX_Checkpoint_request returned, then "ready" and
 * each rank's pid, and every rank holds in a loop of Allreduces until the file argv[1] exists
 * (the test tries ckpt-mpirun meanwhile) and argv[2] seconds have passed (a periodic snapshot
 * would be due by then); then the ranks compute a sum that the test compares with a native run.
 * Usage: stock_job RELEASE_FILE SECONDS */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "mpix_ckpt.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: stock_job RELEASE_FILE SECONDS\n");
        return 2;
    }
    MPI_Init(&argc, &argv);
    int me, np;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    int flag = -1;
    int rc = MPIX_Checkpoint(&flag);
    int rrc = MPIX_Checkpoint_request();
    int err_other = MPI_ERR_OTHER;
    if (me == 0)
        printf("MPIX_Checkpoint: %s, flag %d; MPIX_Checkpoint_request: %s\n",
               rc == MPI_SUCCESS ? "MPI_SUCCESS" : rc == err_other ? "MPI_ERR_OTHER" : "other error",
               flag, rrc == MPI_SUCCESS ? "MPI_SUCCESS" : rrc == err_other ? "MPI_ERR_OTHER" : "other error");
    fflush(stdout);
    /* every rank's pid, for the test (on stderr: not part of the compared output) */
    int pid = (int)getpid(), *pids = malloc(sizeof(int) * (size_t)np);
    MPI_Gather(&pid, 1, MPI_INT, pids, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (me == 0) {
        fprintf(stderr, "pids");
        for (int i = 0; i < np; i++)
            fprintf(stderr, " %d", pids[i]);
        fprintf(stderr, "\nready\n");
    }
    time_t until = time(NULL) + atol(argv[2]);
    for (;;) {
        int done = me == 0 && access(argv[1], F_OK) == 0 && time(NULL) >= until, all;
        MPI_Allreduce(&done, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
        if (all)
            break;
        usleep(20000);
    }
    long v = (long)(me + 1) * 1000003, sum = 0;
    for (int i = 0; i < 100; i++) {
        long s;
        MPI_Allreduce(&v, &s, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        sum = (sum * 31 + s) % 1000000007;
        v = (v * 7 + i) % 1000003;
    }
    if (me == 0)
        printf("ranks %d sum %ld\n", np, sum);
    free(pids);
    MPI_Finalize();
    return 0;
}
