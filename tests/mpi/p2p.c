/* Point-to-point: blocking, nonblocking, persistent, modes, sendrecv, probes, wildcards,
 * status fields, cancel, and every completion call. */
#include "mpitest.h"

#define N 1000

static void fill(int *b, int n, int seed) { for (int i = 0; i < n; i++) b[i] = seed * 7919 + i; }

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int right = (me + 1) % np, left = (me + np - 1) % np;
    int sb[N], rb[N], cnt;
    MPI_Status st;

    /* blocking ring in every mode */
    fill(sb, N, me);
    if (np == 1) { /* a blocking send to oneself may wait for the receive */
        MPI_Request q;
        CHECK(MPI_Irecv(rb, N, MPI_INT, left, 1, MPI_COMM_WORLD, &q));
        CHECK(MPI_Send(sb, N, MPI_INT, right, 1, MPI_COMM_WORLD));
        CHECK(MPI_Wait(&q, &st));
    } else if (me % 2 == 0) {
        CHECK(MPI_Send(sb, N, MPI_INT, right, 1, MPI_COMM_WORLD));
        CHECK(MPI_Recv(rb, N, MPI_INT, left, 1, MPI_COMM_WORLD, &st));
    } else {
        CHECK(MPI_Recv(rb, N, MPI_INT, left, 1, MPI_COMM_WORLD, &st));
        CHECK(MPI_Send(sb, N, MPI_INT, right, 1, MPI_COMM_WORLD));
    }
    MPI_Get_count(&st, MPI_INT, &cnt);
    mix(rb, sizeof rb); mixi(st.MPI_SOURCE); mixi(st.MPI_TAG); mixi(cnt);
    if (np == 1) { /* a synchronous send to oneself needs the receive posted first */
        MPI_Request q;
        CHECK(MPI_Irecv(rb, 10, MPI_INT, left, 2, MPI_COMM_WORLD, &q));
        CHECK(MPI_Ssend(sb, 10, MPI_INT, right, 2, MPI_COMM_WORLD));
        CHECK(MPI_Wait(&q, MPI_STATUS_IGNORE));
    } else if (me % 2 == 0) {
        CHECK(MPI_Ssend(sb, 10, MPI_INT, right, 2, MPI_COMM_WORLD));
        CHECK(MPI_Recv(rb, 10, MPI_INT, left, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    } else {
        CHECK(MPI_Recv(rb, 10, MPI_INT, left, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        CHECK(MPI_Ssend(sb, 10, MPI_INT, right, 2, MPI_COMM_WORLD));
    }
    mix(rb, 40);
    int bsz = N * sizeof(int) + MPI_BSEND_OVERHEAD;
    void *bbuf = malloc(bsz);
    CHECK(MPI_Buffer_attach(bbuf, bsz));
    CHECK(MPI_Bsend(sb, N, MPI_INT, right, 3, MPI_COMM_WORLD));
    CHECK(MPI_Recv(rb, N, MPI_INT, left, 3, MPI_COMM_WORLD, &st));
    mix(rb, sizeof rb);
    void *bb; int bs;
    CHECK(MPI_Buffer_detach(&bb, &bs));
    mixi(bs);
    free(bbuf);
    MPI_Request rr;
    CHECK(MPI_Irecv(rb, 5, MPI_INT, left, 4, MPI_COMM_WORLD, &rr));
    MPI_Barrier(MPI_COMM_WORLD);
    CHECK(MPI_Rsend(sb, 5, MPI_INT, right, 4, MPI_COMM_WORLD));
    CHECK(MPI_Wait(&rr, &st));
    mix(rb, 20); mixi(rr == MPI_REQUEST_NULL);
    report("blocking");

    /* nonblocking, all completion calls */
    MPI_Request rq[8];
    int bufs[4][64];
    for (int k = 0; k < 2; k++) {
        CHECK(MPI_Irecv(bufs[k], 64, MPI_INT, MPI_ANY_SOURCE, 10 + k, MPI_COMM_WORLD, &rq[k]));
    }
    fill(sb, 64, me + 100);
    CHECK(MPI_Isend(sb, 64, MPI_INT, right, 10, MPI_COMM_WORLD, &rq[2]));
    CHECK(MPI_Issend(sb, 64, MPI_INT, right, 11, MPI_COMM_WORLD, &rq[3]));
    MPI_Status sts[4];
    CHECK(MPI_Waitall(4, rq, sts));
    for (int k = 0; k < 4; k++) mixi(rq[k] == MPI_REQUEST_NULL);
    mix(bufs, 2 * 64 * sizeof(int)); mixi(sts[0].MPI_SOURCE); mixi(sts[1].MPI_TAG);
    CHECK(MPI_Irecv(bufs[0], 64, MPI_INT, left, 20, MPI_COMM_WORLD, &rq[0]));
    CHECK(MPI_Irecv(bufs[1], 64, MPI_INT, left, 21, MPI_COMM_WORLD, &rq[1]));
    CHECK(MPI_Isend(sb, 64, MPI_INT, right, 21, MPI_COMM_WORLD, &rq[2]));
    CHECK(MPI_Isend(sb, 32, MPI_INT, right, 20, MPI_COMM_WORLD, &rq[3]));
    int done = 0, idx, flag, outc, idxs[4], got[4] = {0};
    while (done < 4) { /* completion order varies from run to run: mix by index afterwards */
        CHECK(MPI_Waitany(4, rq, &idx, &st));
        done++;
        if (idx < 2) { MPI_Get_count(&st, MPI_INT, &cnt); got[idx] = cnt; }
    }
    mix(got, sizeof got);
    CHECK(MPI_Waitany(4, rq, &idx, &st));
    mixi(idx == MPI_UNDEFINED);
    CHECK(MPI_Irecv(bufs[2], 64, MPI_INT, left, 30, MPI_COMM_WORLD, &rq[0]));
    CHECK(MPI_Isend(sb, 64, MPI_INT, right, 30, MPI_COMM_WORLD, &rq[1]));
    done = 0;
    while (done < 2) {
        CHECK(MPI_Testsome(2, rq, &outc, idxs, sts));
        if (outc != MPI_UNDEFINED) done += outc;
    }
    mix(bufs[2], 256);
    CHECK(MPI_Irecv(bufs[3], 64, MPI_INT, left, 31, MPI_COMM_WORLD, &rq[0]));
    CHECK(MPI_Isend(sb, 64, MPI_INT, right, 31, MPI_COMM_WORLD, &rq[1]));
    flag = 0;
    while (!flag) CHECK(MPI_Testall(2, rq, &flag, MPI_STATUSES_IGNORE));
    mix(bufs[3], 256);
    CHECK(MPI_Irecv(bufs[0], 64, MPI_INT, left, 32, MPI_COMM_WORLD, &rq[0]));
    CHECK(MPI_Isend(sb, 64, MPI_INT, right, 32, MPI_COMM_WORLD, &rq[1]));
    CHECK(MPI_Waitsome(2, rq, &outc, idxs, sts));
    for (done = outc; done < 2; done += outc == MPI_UNDEFINED ? 0 : outc)
        CHECK(MPI_Waitsome(2, rq, &outc, idxs, sts));
    flag = 0;
    while (!flag) CHECK(MPI_Testany(2, rq, &idx, &flag, &st));
    mixi(idx == MPI_UNDEFINED);
    CHECK(MPI_Irecv(bufs[1], 64, MPI_INT, left, 33, MPI_COMM_WORLD, &rq[0]));
    CHECK(MPI_Isend(sb, 64, MPI_INT, right, 33, MPI_COMM_WORLD, &rq[1]));
    flag = 0;
    while (!flag) CHECK(MPI_Test(&rq[0], &flag, &st));
    CHECK(MPI_Request_get_status(rq[1], &flag, &st));
    CHECK(MPI_Wait(&rq[1], MPI_STATUS_IGNORE));
    mix(bufs[1], 256);
    report("nonblocking");

    /* persistent */
    MPI_Request pr[2];
    CHECK(MPI_Recv_init(rb, 16, MPI_INT, left, 40, MPI_COMM_WORLD, &pr[0]));
    CHECK(MPI_Send_init(sb, 16, MPI_INT, right, 40, MPI_COMM_WORLD, &pr[1]));
    for (int it = 0; it < 5; it++) {
        sb[0] = it * 100 + me;
        CHECK(MPI_Startall(2, pr));
        CHECK(MPI_Waitall(2, pr, MPI_STATUSES_IGNORE));
        mixi(rb[0]);
        mixi(pr[0] != MPI_REQUEST_NULL);
    }
    CHECK(MPI_Start(&pr[0]));
    CHECK(MPI_Start(&pr[1]));
    CHECK(MPI_Wait(&pr[1], MPI_STATUS_IGNORE));
    CHECK(MPI_Wait(&pr[0], MPI_STATUS_IGNORE));
    CHECK(MPI_Request_free(&pr[0]));
    CHECK(MPI_Request_free(&pr[1]));
    mixi(pr[0] == MPI_REQUEST_NULL);
    CHECK(MPI_Ssend_init(sb, 4, MPI_INT, right, 41, MPI_COMM_WORLD, &pr[1]));
    CHECK(MPI_Irecv(rb, 4, MPI_INT, left, 41, MPI_COMM_WORLD, &pr[0]));
    CHECK(MPI_Start(&pr[1]));
    CHECK(MPI_Waitall(2, pr, MPI_STATUSES_IGNORE));
    CHECK(MPI_Request_free(&pr[1]));
    mix(rb, 16);
    report("persistent");

    /* sendrecv, probes, matched probes, cancel */
    fill(sb, 100, me);
    CHECK(MPI_Sendrecv(sb, 100, MPI_INT, right, 50, rb, 100, MPI_INT, left, 50, MPI_COMM_WORLD, &st));
    mix(rb, 400); mixi(st.MPI_SOURCE);
    CHECK(MPI_Sendrecv_replace(sb, 100, MPI_INT, right, 51, left, 51, MPI_COMM_WORLD, &st));
    mix(sb, 400);
    CHECK(MPI_Isend(sb, 37, MPI_INT, right, 52, MPI_COMM_WORLD, &rq[0]));
    CHECK(MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st));
    MPI_Get_count(&st, MPI_INT, &cnt);
    mixi(cnt); mixi(st.MPI_TAG); mixi(st.MPI_SOURCE);
    CHECK(MPI_Recv(rb, cnt, MPI_INT, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    CHECK(MPI_Wait(&rq[0], MPI_STATUS_IGNORE));
    CHECK(MPI_Isend(sb, 21, MPI_INT, right, 53, MPI_COMM_WORLD, &rq[0]));
    flag = 0;
    while (!flag) CHECK(MPI_Iprobe(left, 53, MPI_COMM_WORLD, &flag, &st));
    CHECK(MPI_Recv(rb, 21, MPI_INT, left, 53, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    CHECK(MPI_Wait(&rq[0], MPI_STATUS_IGNORE));
    mix(rb, 84);
    MPI_Message msg;
    CHECK(MPI_Isend(sb, 13, MPI_INT, right, 54, MPI_COMM_WORLD, &rq[0]));
    CHECK(MPI_Mprobe(left, 54, MPI_COMM_WORLD, &msg, &st));
    CHECK(MPI_Mrecv(rb, 13, MPI_INT, &msg, &st));
    mixi(msg == MPI_MESSAGE_NULL); mix(rb, 52);
    CHECK(MPI_Wait(&rq[0], MPI_STATUS_IGNORE));
    CHECK(MPI_Isend(sb, 9, MPI_INT, right, 55, MPI_COMM_WORLD, &rq[0]));
    flag = 0;
    while (!flag) CHECK(MPI_Improbe(left, 55, MPI_COMM_WORLD, &flag, &msg, &st));
    CHECK(MPI_Imrecv(rb, 9, MPI_INT, &msg, &rq[1]));
    CHECK(MPI_Waitall(2, rq, MPI_STATUSES_IGNORE));
    mix(rb, 36);
    CHECK(MPI_Irecv(rb, 1, MPI_INT, left, 999, MPI_COMM_WORLD, &rq[0]));
    CHECK(MPI_Cancel(&rq[0]));
    CHECK(MPI_Wait(&rq[0], &st));
    MPI_Test_cancelled(&st, &flag);
    mixi(flag);
    CHECK(MPI_Recv(rb, 1, MPI_INT, MPI_PROC_NULL, 0, MPI_COMM_WORLD, &st));
    mixi(st.MPI_SOURCE == MPI_PROC_NULL);
    report("probe-cancel");
    MPI_Finalize();
    return 0;
}
