/* Dynamic sparse data exchange by the NBX algorithm (Hoefler et al.; PETSc's PetscCommBuildTwoSided,
 * Trilinos' Distributor, many graph codes), for the campaign (tests/mpi/ckpt/campaign). Each round,
 * on a duplicate of MPI_COMM_WORLD (as libraries use their own):
 *   - every rank sends MPI_Issend to 0 to 3 targets drawn from the round (itself among them at
 *     times; a target twice at times), of 2 to 65 longs, and one message in 8 of 40000 longs (a
 *     rendezvous-size synchronous send);
 *   - it then loops: MPI_Iprobe(MPI_ANY_SOURCE) + MPI_Get_count + MPI_Recv on even rounds,
 *     MPI_Improbe + MPI_Imrecv + MPI_Wait on odd ones; MPI_Testall of its Issends, and once they
 *     are all matched an MPI_Ibarrier, then MPI_Test of the barrier while still probing, until the
 *     barrier completes (nobody knows in advance who sends to it, nor how many);
 *   - what arrived is checked against what every rank drew (each rank knows the others' draws) and
 *     summed per source (arrival order is timing), then an MPI_Allreduce of the counts.
 * The tag alternates between rounds: a rank whose barrier completed can send the next round's
 * messages to a rank still probing in this one (no further: the next barrier needs it).
 * A checkpoint may come inside the probing loop with synchronous sends unmatched, an Ibarrier
 * pending on some ranks and not yet entered by others, a message matched by Improbe and not yet
 * received.
 * Usage: cc_nbx ROUNDS */
#include "tests/mpi/ckpt/campaign/cc.h"

#define MAXT 3     /* targets per rank and round, at most */
#define BIG 40000  /* longs of a big message */
#define SMALL 64   /* longs of a small message, at most (plus 2) */

/* The draws, known to every rank: how many messages SRC sends in round R, to whom, how long. */
static int nmsg(int src, int r) { return (int)(cc_hash(src, r, 77) % (MAXT + 1)); }
static int target(int src, int r, int k) { return (int)(cc_hash(src, r, k + 1) % (uint64_t)np); }
static int length(int src, int r, int k)
{
    uint64_t h = cc_hash(src, r, k + 100);
    return h % 8 == 0 ? BIG : 2 + (int)((h >> 8) % SMALL);
}
static long word(int src, int r, int k, int i) { return (long)(cc_hash(src * 8 + k, r, i) >> 4); }

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    MPI_Comm comm;
    CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &comm));
    long *sbuf = malloc(sizeof(long) * MAXT * BIG), *rbuf = malloc(sizeof(long) * BIG);
    long *cnt = calloc((size_t)np, sizeof(long)), *sum = calloc((size_t)np, sizeof(long));
    long *wcnt = calloc((size_t)np, sizeof(long)), *wsum = calloc((size_t)np, sizeof(long));
    for (int r = 0; r < rounds; r++) {
        int tag = 10 + r % 2, nk = nmsg(me, r);
        MPI_Request sreq[MAXT];
        for (int k = 0; k < nk; k++) {
            long *b = sbuf + (size_t)k * BIG;
            int len = length(me, r, k);
            b[0] = k;
            b[1] = r;
            for (int i = 2; i < len; i++)
                b[i] = word(me, r, k, i);
            CHECK(MPI_Issend(b, len, MPI_LONG, target(me, r, k), tag, comm, &sreq[k]));
        }
        /* what must arrive here, by source */
        for (int s = 0; s < np; s++) {
            cnt[s] = sum[s] = wcnt[s] = wsum[s] = 0;
            for (int k = 0; k < nmsg(s, r); k++)
                if (target(s, r, k) == me) {
                    wcnt[s]++;
                    wsum[s] += length(s, r, k);
                }
        }
        if ((r + me) % 3 == 0)
            cc_spin(100); /* ranks reach the loop at different times */
        int barrier = 0, done = 0;
        MPI_Request breq = MPI_REQUEST_NULL;
        long got = 0;
        while (!done) {
            int flag = 0, len = 0;
            MPI_Status st;
            if (r % 2 == 0) {
                CHECK(MPI_Iprobe(MPI_ANY_SOURCE, tag, comm, &flag, &st));
                if (flag) {
                    CHECK(MPI_Get_count(&st, MPI_LONG, &len));
                    CHECK(MPI_Recv(rbuf, len, MPI_LONG, st.MPI_SOURCE, tag, comm, &st));
                }
            } else {
                MPI_Message m;
                CHECK(MPI_Improbe(MPI_ANY_SOURCE, tag, comm, &flag, &m, &st));
                if (flag) {
                    MPI_Request q;
                    CHECK(MPI_Get_count(&st, MPI_LONG, &len));
                    if (len > SMALL)
                        cc_spin(20); /* matched, not yet received */
                    CHECK(MPI_Imrecv(rbuf, len, MPI_LONG, &m, &q));
                    CHECK(MPI_Wait(&q, &st));
                }
            }
            if (flag) {
                int s = st.MPI_SOURCE, k = (int)rbuf[0], bad = 0;
                EXPECT(s >= 0 && s < np && k >= 0 && k < nmsg(s, r) && target(s, r, k) == me &&
                       rbuf[1] == r && len == length(s, r, k),
                       "round %d: a message from %d (k %d, round %ld, %d longs) not drawn", r, s, k,
                       rbuf[1], len);
                if (s < 0 || s >= np || k < 0 || k >= MAXT)
                    continue;
                for (int i = 2; i < len; i++)
                    bad += rbuf[i] != word(s, r, k, i);
                EXPECT(bad == 0, "round %d: %d words wrong from %d", r, bad, s);
                cnt[s]++;
                sum[s] += len;
                got++;
            }
            if (!barrier) {
                int all = 0;
                CHECK(MPI_Testall(nk, sreq, &all, MPI_STATUSES_IGNORE));
                if (all) {
                    CHECK(MPI_Ibarrier(comm, &breq));
                    barrier = 1;
                }
            } else {
                CHECK(MPI_Test(&breq, &done, MPI_STATUS_IGNORE));
            }
        }
        for (int s = 0; s < np; s++) {
            EXPECT(cnt[s] == wcnt[s] && sum[s] == wsum[s],
                   "round %d: from %d %ld messages of %ld longs (want %ld, %ld)", r, s, cnt[s],
                   sum[s], wcnt[s], wsum[s]);
            mixi(cnt[s]);
            mixi(sum[s]);
        }
        long sent = nk, tot[2] = { 0, 0 }, mine[2] = { sent, got };
        CHECK(MPI_Allreduce(mine, tot, 2, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));
        EXPECT(tot[0] == tot[1], "round %d: %ld sent, %ld received", r, tot[0], tot[1]);
        mix(tot, sizeof tot);
    }
    report("nbx");
    CHECK(MPI_Comm_free(&comm));
    free(sbuf);
    free(rbuf);
    cc_finish();
    MPI_Finalize();
    return 0;
}
