/* MPIX_Checkpoint called NCK times back to back with only local work between (newuser7c F2):
 *   mpix_b2b NCK GAP_US
 * One MPI_Allreduce, then NCK times: GAP_US microseconds of sleep and a change of the rank's
 * state (local work only), MPIX_Checkpoint; then one MPI_Allreduce of the states, which rank 0
 * prints ("done: SUM"). Rank 0 says on stderr what each call returned ("mpix_b2b: call K rc RC
 * restarted R"): under Revive every call must take its own snapshot (sequence K), and a job
 * restarted from sequence K must come back in call K only (restarted 1 there, 0 after). Natively
 * MPIX_Checkpoint returns an error and changes nothing: the sum is the same. */
#include <mpi.h>
#include <mpix_ckpt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int me, np;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    int nck = argc > 1 ? atoi(argv[1]) : 4;
    int gap = argc > 2 ? atoi(argv[2]) : 20000;
    long mine = me + 1, acc;
    MPI_Allreduce(&mine, &acc, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    acc += me;
    for (int k = 0; k < nck; k++) {
        usleep((useconds_t)gap);
        acc = (acc * 31 + k + 7 * me) % 1000003;
        int flag = -1;
        int rc = MPIX_Checkpoint(&flag);
        if (me == 0)
            fprintf(stderr, "mpix_b2b: call %d rc %d restarted %d\n", k, rc,
                    flag == MPIX_CKPT_RESTARTED);
    }
    long sum;
    MPI_Allreduce(&acc, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (me == 0)
        printf("done: np %d calls %d sum %ld\n", np, nck, sum);
    MPI_Finalize();
    return 0;
}
