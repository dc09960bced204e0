/* A rank waiting in MPIX_Checkpoint drives the MPI library's progress, as a native collective's
 * wait would: a peer's send that needs this rank's progress completes meanwhile.
 *   mpix_progress [ROUNDS [LARGE_INTS]]
 * Each round rank 0 posts its receives from rank 1 (a large message, LARGE_INTS ints, 1 MiB by
 * default: rendezvous in both libraries; a small one from a started persistent send, which Open
 * MPI completes only with the receiver's progress), then calls MPIX_Checkpoint, then waits for
 * them and prints their sums. Rank 1 sends both (MPI_Send, MPI_Start + MPI_Wait) and then calls
 * MPIX_Checkpoint; other ranks only call it. A valid program: the receives are posted before the
 * collective, so its sends need only rank 0's progress, which its wait in MPIX_Checkpoint owes
 * (with an MPI_Barrier there, natively, the barrier's wait makes it). Rank 1 reaches the call,
 * the snapshot's cut, only once its sends completed: when rank 0's wait made no progress, the
 * sends stalled until the snapshot's timeout gave up (no snapshot) or forever. Natively
 * MPIX_Checkpoint returns an error and changes nothing: the output is the same
 * (mpix_progress.sh compares it for the job and for a restart from each sequence). */
#include <mpi.h>
#include <mpix_ckpt.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int me, np;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    int rounds = argc > 1 ? atoi(argv[1]) : 3, nl = argc > 2 ? atoi(argv[2]) : 1 << 18;
    if (np < 2 || nl < 1)
        MPI_Abort(MPI_COMM_WORLD, 2);
    int *big = malloc((size_t)nl * sizeof *big), small[4];
    if (!big)
        MPI_Abort(MPI_COMM_WORLD, 3);
    MPI_Request ps = MPI_REQUEST_NULL;
    if (me == 1)
        MPI_Send_init(small, 4, MPI_INT, 0, 2, MPI_COMM_WORLD, &ps);
    for (int k = 0; k < rounds; k++) {
        MPI_Request q[2];
        if (me == 0) {
            MPI_Irecv(big, nl, MPI_INT, 1, 1, MPI_COMM_WORLD, &q[0]);
            MPI_Irecv(small, 4, MPI_INT, 1, 2, MPI_COMM_WORLD, &q[1]);
        } else if (me == 1) {
            for (int i = 0; i < nl; i++)
                big[i] = k * 7 + i % 1000;
            for (int i = 0; i < 4; i++)
                small[i] = 10 * k + i;
            MPI_Send(big, nl, MPI_INT, 0, 1, MPI_COMM_WORLD);
            MPI_Start(&ps);
            MPI_Wait(&ps, MPI_STATUS_IGNORE);
        }
        int flag = 0;
        MPIX_Checkpoint(&flag); /* natively an error: nothing changes */
        if (me == 0) {
            MPI_Waitall(2, q, MPI_STATUSES_IGNORE);
            long sb = 0, ss = 0;
            for (int i = 0; i < nl; i++)
                sb += big[i];
            for (int i = 0; i < 4; i++)
                ss += small[i];
            printf("round %d: large %ld small %ld\n", k, sb, ss);
            fflush(stdout);
        }
    }
    if (me == 1)
        MPI_Request_free(&ps);
    MPI_Barrier(MPI_COMM_WORLD);
    if (me == 0)
        printf("done: np %d rounds %d\n", np, rounds);
    free(big);
    MPI_Finalize();
    return 0;
}
