/* Synchronous sends whose messages a snapshot's drain takes (campaign-failures.md #36): a
 * synchronous send completes only once the receiving application matched it (MPI 3.4), also when
 * the drain took its message into the receiver's buffer.
 *   sync_drain [ROUNDS]
 * Rank 0 posts, each round: MPI_Issend of 4 ints to rank 1 (tag 1), MPI_Issend of 256 KiB to
 * rank 1 (tag 2: rendezvous in every transport), a started MPI_Ssend_init to rank 1 (tag 3) and
 * MPI_Issend to itself (tag 4). Every rank calls MPIX_Checkpoint (the drain takes the four
 * messages: none is received yet), then rank 0 asks MPI_Test, MPI_Request_get_status, MPI_Testany,
 * MPI_Testsome and MPI_Testall of them: none is complete; again after an MPI_Barrier (a later
 * step). Rank 0 receives its own message: its MPI_Issend to itself completes (MPI_Wait). Then it
 * tells rank 1, which receives its three messages (MPI_Recv; MPI_Iprobe, MPI_Mprobe and
 * MPI_Mrecv; MPI_Irecv and MPI_Wait), checks them, and sends back its checksum; rank 0's
 * MPI_Waitall then completes the three. Rank 0 prints what it saw; with more ranks the others
 * only call MPIX_Checkpoint and the barrier. Natively MPIX_Checkpoint returns an error and
 * changes nothing, so the output is the same: the test (sync_drain.sh) compares it for the job
 * that runs on after each snapshot and for a job restarted from one. */
#include <mpi.h>
#include <mpix_ckpt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG (64 * 1024) /* ints: 256 KiB */

static int flags_of(MPI_Request *r, int n, char *out, size_t len)
{
    size_t at = 0;
    int any = 0;
    for (int i = 0; i < n; i++) {
        int t = -1, g = -1;
        MPI_Request_get_status(r[i], &g, MPI_STATUS_IGNORE);
        MPI_Test(&r[i], &t, MPI_STATUS_IGNORE);
        any |= t | g;
        at += (size_t)snprintf(out + at, len - at, " test%d %d/%d", i, t, g);
    }
    int idx = -2, fa = -1, fl = -1, outc = -2, ix[4];
    MPI_Testany(n, r, &idx, &fa, MPI_STATUS_IGNORE);
    MPI_Testsome(n, r, &outc, ix, MPI_STATUSES_IGNORE);
    MPI_Testall(n, r, &fl, MPI_STATUSES_IGNORE);
    snprintf(out + at, len - at, " testany %d testsome %d testall %d", fa, outc, fl);
    return any | fa | fl | (outc > 0);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int me, np;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    int rounds = argc > 1 ? atoi(argv[1]) : 2;
    int *big = malloc(BIG * sizeof *big), small[4], pers[4], self[4], got[4];
    if (!big || np < 2)
        MPI_Abort(MPI_COMM_WORLD, 2);
    char line[512];
    for (int k = 0; k < rounds; k++) {
        MPI_Request r[4] = { MPI_REQUEST_NULL, MPI_REQUEST_NULL, MPI_REQUEST_NULL, MPI_REQUEST_NULL };
        MPI_Request pr = MPI_REQUEST_NULL;
        if (me == 0) {
            for (int i = 0; i < 4; i++) {
                small[i] = 100 * k + i;
                pers[i] = 200 * k + i;
                self[i] = 300 * k + i;
            }
            for (int i = 0; i < BIG; i++)
                big[i] = i ^ k;
            MPI_Issend(small, 4, MPI_INT, 1, 1, MPI_COMM_WORLD, &r[0]);
            MPI_Issend(big, BIG, MPI_INT, 1, 2, MPI_COMM_WORLD, &r[1]);
            MPI_Ssend_init(pers, 4, MPI_INT, 1, 3, MPI_COMM_WORLD, &pr);
            r[2] = pr;
            MPI_Start(&r[2]);
            MPI_Issend(self, 4, MPI_INT, 0, 4, MPI_COMM_WORLD, &r[3]);
        }
        int flag = -1;
        MPIX_Checkpoint(&flag); /* natively an error: nothing happens */
        if (me == 0) {
            int bad = flags_of(r, 4, line, sizeof line);
            printf("round %d after the snapshot:%s%s\n", k, line, bad ? " (COMPLETE TOO EARLY)" : "");
        }
        MPI_Barrier(MPI_COMM_WORLD);
        if (me == 0) {
            int bad = flags_of(r, 4, line, sizeof line);
            printf("round %d after a barrier:%s%s\n", k, line, bad ? " (COMPLETE TOO EARLY)" : "");
            MPI_Recv(got, 4, MPI_INT, 0, 4, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Status st;
            MPI_Wait(&r[3], &st);
            printf("round %d own message %d %d %d %d, its Issend complete\n", k, got[0], got[1],
                   got[2], got[3]);
            /* the three to rank 1 are still not complete */
            bad = flags_of(r, 3, line, sizeof line);
            printf("round %d before rank 1 receives:%s%s\n", k, line,
                   bad ? " (COMPLETE TOO EARLY)" : "");
            int go = k;
            MPI_Send(&go, 1, MPI_INT, 1, 20, MPI_COMM_WORLD);
            long sum = -1;
            MPI_Recv(&sum, 1, MPI_LONG, 1, 10, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Status sts[3];
            MPI_Waitall(3, r, sts);
            int cancelled = -1, n0 = -1, n1 = -1;
            MPI_Test_cancelled(&sts[1], &cancelled);
            MPI_Get_count(&sts[0], MPI_INT, &n0);
            MPI_Get_count(&sts[1], MPI_INT, &n1);
            printf("round %d rank 1 received them (checksum %ld): Waitall complete, error %d, "
                   "cancelled %d\n", k, sum, sts[1].MPI_ERROR, cancelled);
            MPI_Request_free(&pr);
        } else if (me == 1) {
            int go = -1;
            MPI_Recv(&go, 1, MPI_INT, 0, 20, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            long sum = go;
            MPI_Recv(got, 4, MPI_INT, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            for (int i = 0; i < 4; i++)
                sum += got[i] * (i + 1);
            int f = 0;
            MPI_Status st;
            while (!f)
                MPI_Iprobe(0, 2, MPI_COMM_WORLD, &f, &st);
            MPI_Message msg;
            MPI_Mprobe(0, 2, MPI_COMM_WORLD, &msg, &st);
            memset(big, 0, BIG * sizeof *big);
            MPI_Mrecv(big, BIG, MPI_INT, &msg, &st);
            for (int i = 0; i < BIG; i++)
                sum += (long)(big[i] != (i ^ k));
            MPI_Request q;
            MPI_Irecv(got, 4, MPI_INT, 0, 3, MPI_COMM_WORLD, &q);
            MPI_Wait(&q, &st);
            for (int i = 0; i < 4; i++)
                sum += got[i] * (i + 7);
            MPI_Send(&sum, 1, MPI_LONG, 0, 10, MPI_COMM_WORLD);
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (me == 0)
        printf("done: np %d rounds %d\n", np, rounds);
    free(big);
    MPI_Finalize();
    return 0;
}
