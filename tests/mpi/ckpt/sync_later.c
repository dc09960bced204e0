/* A synchronous send followed, on the same (receiver, communicator, tag), by a send of another
 * kind, at a snapshot (owed.c: a pending synchronous send counts the sends posted after it).
 *   sync_later [ROUNDS [FIRST]]  (FIRST: the first round's kind, 0-3)
 * Rank 0 posts, each round: MPI_Issend A to rank 1 (tag 5), MPI_Issend C (tag 7), then a send of
 * B (tag 5) and of D (tag 7), 4 ints each (eager), the kind by the round: MPI_Send, MPI_Isend,
 * started MPI_Send_init (MPI_Startall), MPI_Bsend; the blocking ones complete before the
 * snapshot, the nonblocking ones are waited for after it (the drain completes them). Rank 1
 * receives A only and says so (tag 30); then every rank calls MPIX_Checkpoint, rank 0 without a
 * call on A or C before it: A's completion (rank 1 matched it) reaches rank 0's layer in the
 * drain, which also takes B, C and D into rank 1's buffer. Then:
 *   - rank 0's MPI_Wait on A must return, before rank 1 receives B (the drain took the last of
 *     rank 0's sends on tag 5, B, not A; noting only the sends the drain completed, A was taken
 *     for the drained one: owed, its wait hung);
 *   - C must stay incomplete until rank 1 received C, and complete then, before rank 1 receives
 *     D (D's receive sent C's notice: rank 0's MPI_Wait on C hung until rank 1 received D, which
 *     it does only after rank 0's wait).
 * Rank 0 prints what it saw; natively MPIX_Checkpoint returns an error and changes nothing, so
 * the output is the same: sync_later.sh compares it for the job that runs on after each snapshot
 * and for a job restarted from each. Other ranks only call MPIX_Checkpoint. */
#include <mpi.h>
#include <mpix_ckpt.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const kinds[] = { "MPI_Send", "MPI_Isend", "MPI_Start", "MPI_Bsend" };

/* rank 0: B (tag 5) and D (tag 7) to rank 1, in the round's kind; the nonblocking ones left
 * pending (q) for the drain to complete: a started persistent send of Open MPI completes only
 * with the receiver's progress, which rank 1 waiting in MPIX_Checkpoint does not make */
static void send_later(int kind, int *b, int *d, MPI_Request *q)
{
    q[0] = q[1] = MPI_REQUEST_NULL;
    switch (kind) {
    case 0:
        MPI_Send(b, 4, MPI_INT, 1, 5, MPI_COMM_WORLD);
        MPI_Send(d, 4, MPI_INT, 1, 7, MPI_COMM_WORLD);
        break;
    case 1:
        MPI_Isend(b, 4, MPI_INT, 1, 5, MPI_COMM_WORLD, &q[0]);
        MPI_Isend(d, 4, MPI_INT, 1, 7, MPI_COMM_WORLD, &q[1]);
        break;
    case 2:
        MPI_Send_init(b, 4, MPI_INT, 1, 5, MPI_COMM_WORLD, &q[0]);
        MPI_Send_init(d, 4, MPI_INT, 1, 7, MPI_COMM_WORLD, &q[1]);
        MPI_Startall(2, q);
        break;
    default:
        MPI_Bsend(b, 4, MPI_INT, 1, 5, MPI_COMM_WORLD);
        MPI_Bsend(d, 4, MPI_INT, 1, 7, MPI_COMM_WORLD);
        break;
    }
}

/* rank 0, after the snapshot: the pending ones complete (the drain took their messages) */
static void end_later(int kind, MPI_Request *q)
{
    MPI_Waitall(2, q, MPI_STATUSES_IGNORE);
    if (kind == 2) {
        MPI_Request_free(&q[0]);
        MPI_Request_free(&q[1]);
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int me, np;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    int rounds = argc > 1 ? atoi(argv[1]) : 4, first = argc > 2 ? atoi(argv[2]) : 0;
    if (np < 2)
        MPI_Abort(MPI_COMM_WORLD, 2);
    static char bsend[4096];
    MPI_Buffer_attach(bsend, sizeof bsend);
    int a[4], b[4], c[4], d[4];
    for (int k = 0; k < rounds; k++) {
        int kind = (first + k) % 4;
        if (me == 0) {
            for (int i = 0; i < 4; i++) {
                a[i] = 100 * k + i;
                b[i] = 200 * k + i;
                c[i] = 300 * k + i;
                d[i] = 400 * k + i;
            }
            MPI_Request ra, rc, q[2];
            MPI_Issend(a, 4, MPI_INT, 1, 5, MPI_COMM_WORLD, &ra);
            MPI_Issend(c, 4, MPI_INT, 1, 7, MPI_COMM_WORLD, &rc);
            send_later(kind, b, d, q);
            /* rank 1 has A: a rank waiting in MPIX_Checkpoint makes no progress for another's
             * message (a restarted MPICH job's first one between two ranks needs the sender's) */
            int got = -1;
            MPI_Recv(&got, 1, MPI_INT, 1, 30, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            int flag = -1;
            MPIX_Checkpoint(&flag); /* natively an error: nothing happens */
            int tc = -1;
            MPI_Test(&rc, &tc, MPI_STATUS_IGNORE);
            MPI_Wait(&ra, MPI_STATUS_IGNORE); /* rank 1 matched A before the snapshot */
            end_later(kind, q);
            printf("round %d (%s): A complete; C complete before its receive: %d%s\n", k,
                   kinds[kind], tc, tc ? " (COMPLETE TOO EARLY)" : "");
            fflush(stdout);
            int go = k;
            MPI_Send(&go, 1, MPI_INT, 1, 20, MPI_COMM_WORLD);
            MPI_Recv(&go, 1, MPI_INT, 1, 11, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Wait(&rc, MPI_STATUS_IGNORE); /* rank 1 received B and C, not D */
            printf("round %d (%s): C complete once rank 1 received it\n", k, kinds[kind]);
            fflush(stdout);
            MPI_Send(&go, 1, MPI_INT, 1, 21, MPI_COMM_WORLD);
            long sum = -1;
            MPI_Recv(&sum, 1, MPI_LONG, 1, 10, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            printf("round %d (%s): rank 1 received A B C D, checksum %ld\n", k, kinds[kind], sum);
            fflush(stdout);
        } else if (me == 1) {
            MPI_Recv(a, 4, MPI_INT, 0, 5, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            int got = k;
            MPI_Send(&got, 1, MPI_INT, 0, 30, MPI_COMM_WORLD);
            int flag = -1;
            MPIX_Checkpoint(&flag);
            int go = -1;
            MPI_Recv(&go, 1, MPI_INT, 0, 20, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Recv(b, 4, MPI_INT, 0, 5, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Recv(c, 4, MPI_INT, 0, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(&go, 1, MPI_INT, 0, 11, MPI_COMM_WORLD);
            MPI_Recv(&go, 1, MPI_INT, 0, 21, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Recv(d, 4, MPI_INT, 0, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            long sum = 0;
            for (int i = 0; i < 4; i++)
                sum += (long)a[i] * (i + 1) + (long)b[i] * (i + 5) + (long)c[i] * (i + 9) +
                       (long)d[i] * (i + 13);
            MPI_Send(&sum, 1, MPI_LONG, 0, 10, MPI_COMM_WORLD);
        } else {
            int flag = -1;
            MPIX_Checkpoint(&flag);
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (me == 0)
        printf("done: np %d rounds %d\n", np, rounds);
    void *p;
    int n;
    MPI_Buffer_detach(&p, &n);
    MPI_Finalize();
    return 0;
}
