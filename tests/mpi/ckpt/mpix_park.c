/* One MPIX_Checkpoint reached while another epoch holds the job (diffrev35 R-M1):
 *   mpix_park MS0 MS1 [LINGER]
 * One MPI_Allreduce, each rank says its pid on stderr ("mpix_park: rank R pid P"), sleeps MS0
 * (rank 0) or MS1 (the others) milliseconds, changes its state and calls MPIX_Checkpoint once;
 * sleeps LINGER milliseconds (0), in which a snapshot nobody asked for is surely taken, not
 * refused as the job ends; then one MPI_Allreduce of the states, which rank 0 prints
 * ("done: ..."). Rank 0 says what its
 * call returned ("mpix_park: call rc RC restarted R"). The test stops a rank, asks for a
 * checkpoint, lets rank 0 reach its call (parked at its entry: that epoch waits for the stopped
 * rank) and continues the stopped rank: the job must take two snapshots, the tool's and the
 * call's, not a third one at the tool's cut. Natively the call fails and changes nothing. */
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
    int ms = argc > 2 ? atoi(argv[me == 0 ? 1 : 2]) : 1000;
    long mine = me + 1, acc;
    MPI_Allreduce(&mine, &acc, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    fprintf(stderr, "mpix_park: rank %d pid %d\n", me, (int)getpid());
    usleep((useconds_t)ms * 1000);
    acc = (acc * 31 + 7 * me) % 1000003;
    int flag = -1;
    int rc = MPIX_Checkpoint(&flag);
    if (me == 0)
        fprintf(stderr, "mpix_park: call rc %d restarted %d\n", rc, flag == MPIX_CKPT_RESTARTED);
    if (argc > 3)
        usleep((useconds_t)atoi(argv[3]) * 1000);
    long sum;
    MPI_Allreduce(&acc, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (me == 0)
        printf("done: np %d sum %ld\n", np, sum);
    MPI_Finalize();
    return 0;
}
