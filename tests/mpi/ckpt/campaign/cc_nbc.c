/* Collectives for the campaign (tests/mpi/ckpt/campaign): a checkpoint may come while
 *   - nonblocking collectives of every family are started and not yet completed, with point to
 *     point and work outside MPI between start and completion, completed by Wait, Waitall,
 *     Waitany, Testall polls and Testsome (research list: 4, 11, 12);
 *   - ranks are at different collective counts: the even and odd halves run 1..3 and 2 collectives
 *     per round on their own communicators, and a communicator of every third rank runs more
 *     (1, 3, 6);
 *   - v-forms move different amounts per rank (Gatherv, Scatterv, Allgatherv, Alltoallv,
 *     Reduce_scatter), a Bcast root runs ahead through several Bcasts (3), Scan and Exscan;
 *   - a rank is blocked in a collective that a slow rank enters late (1, 2).
 * Every result is checked against its closed form (errors) and mixed into the checksums.
 * Usage: cc_nbc ROUNDS */
#include "tests/mpi/ckpt/campaign/cc.h"

#define MAXN 64

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    if (np > MAXN) {
        fprintf(stderr, "cc_nbc: at most %d ranks\n", MAXN);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    MPI_Comm half, third, w2;
    CHECK(MPI_Comm_split(MPI_COMM_WORLD, me % 2, me, &half));
    CHECK(MPI_Comm_split(MPI_COMM_WORLD, me % 3 == 0 ? 0 : MPI_UNDEFINED, me, &third));
    CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &w2));
    int hme, hnp;
    MPI_Comm_rank(half, &hme);
    MPI_Comm_size(half, &hnp);
    /* sums over ranks of the same parity: closed forms for the checks */
    long halfsum0 = 0;
    int nthird = 0;
    for (int i = 0; i < np; i++) {
        if (i % 2 == me % 2)
            halfsum0 += i;
        if (i % 3 == 0)
            nthird++;
    }
    long *sbuf = malloc(sizeof(long) * MAXN * MAXN), *rbuf = malloc(sizeof(long) * MAXN * MAXN);
    int scount[MAXN], sdisp[MAXN], rcount[MAXN], rdisp[MAXN];
    for (int r = 0; r < rounds; r++) {
        /* A: nonblocking collectives started together, completed after other work */
        MPI_Request q[8];
        long bc[4] = { 0 }, red = 0, redv = me + r, ag[MAXN], agv = me * 3 + r, sc = 0, scv = me + 1;
        long a2a_s[MAXN], a2a_r[MAXN];
        int root = r % np;
        if (me == root)
            for (int i = 0; i < 4; i++)
                bc[i] = r * 10 + i;
        for (int i = 0; i < np; i++)
            a2a_s[i] = me * 1000 + i + r;
        CHECK(MPI_Ibarrier(MPI_COMM_WORLD, &q[0]));
        CHECK(MPI_Ibcast(bc, 4, MPI_LONG, root, w2, &q[1]));
        CHECK(MPI_Ireduce(&redv, &red, 1, MPI_LONG, MPI_SUM, (r + 1) % np, MPI_COMM_WORLD, &q[2]));
        CHECK(MPI_Iallgather(&agv, 1, MPI_LONG, ag, 1, MPI_LONG, w2, &q[3]));
        CHECK(MPI_Ialltoall(a2a_s, 1, MPI_LONG, a2a_r, 1, MPI_LONG, MPI_COMM_WORLD, &q[4]));
        CHECK(MPI_Iscan(&scv, &sc, 1, MPI_LONG, MPI_SUM, w2, &q[5]));
        /* point to point between start and completion, and work outside MPI */
        int right = (me + 1) % np, left = (me + np - 1) % np, tok = me + r, got = -1;
        CHECK(MPI_Sendrecv(&tok, 1, MPI_INT, right, 11, &got, 1, MPI_INT, left, 11, MPI_COMM_WORLD,
                           MPI_STATUS_IGNORE));
        EXPECT(got == left + r, "ring token %d, expected %d", got, left + r);
        cc_spin(20 + 30 * (me % 3));
        switch (r % 4) {
        case 0:
            CHECK(MPI_Waitall(6, q, MPI_STATUSES_IGNORE));
            break;
        case 1:
            for (int k = 0; k < 6; k++) {
                int idx = -1;
                CHECK(MPI_Waitany(6, q, &idx, MPI_STATUS_IGNORE));
                EXPECT(idx >= 0 && idx < 6 && q[idx] == MPI_REQUEST_NULL, "Waitany index %d", idx);
            }
            {
                int idx = 0;
                CHECK(MPI_Waitany(6, q, &idx, MPI_STATUS_IGNORE));
                EXPECT(idx == MPI_UNDEFINED, "Waitany over null requests gave %d", idx);
            }
            break;
        case 2: {
            int flag = 0;
            while (!flag) {
                CHECK(MPI_Testall(6, q, &flag, MPI_STATUSES_IGNORE));
                if (!flag)
                    cc_spin(5);
            }
            break;
        }
        default: {
            int done = 0;
            while (done < 6) {
                int outc = 0, idx[6];
                CHECK(MPI_Testsome(6, q, &outc, idx, MPI_STATUSES_IGNORE));
                EXPECT(outc != MPI_UNDEFINED, "Testsome with active requests gave MPI_UNDEFINED");
                if (outc == MPI_UNDEFINED)
                    break;
                for (int i = 0; i < outc; i++)
                    EXPECT(idx[i] >= 0 && idx[i] < 6 && q[idx[i]] == MPI_REQUEST_NULL,
                           "Testsome index %d", idx[i]);
                done += outc;
            }
            break;
        }
        }
        for (int i = 0; i < 4; i++)
            EXPECT(bc[i] == r * 10 + i, "Ibcast[%d] = %ld", i, bc[i]);
        if (me == (r + 1) % np)
            EXPECT(red == (long)np * (np - 1) / 2 + (long)np * r, "Ireduce %ld", red);
        for (int i = 0; i < np; i++)
            EXPECT(ag[i] == i * 3 + r, "Iallgather[%d] = %ld", i, ag[i]);
        for (int i = 0; i < np; i++)
            EXPECT(a2a_r[i] == i * 1000 + me + r, "Ialltoall[%d] = %ld", i, a2a_r[i]);
        EXPECT(sc == (long)(me + 1) * (me + 2) / 2, "Iscan %ld", sc);
        mix(bc, sizeof bc);
        mixi(red);
        mix(ag, sizeof(long) * (size_t)np);
        mix(a2a_r, sizeof(long) * (size_t)np);
        mixi(sc);

        /* B: different collective counts per rank */
        int reps = me % 2 ? 2 : 1 + r % 3;
        for (int k = 0; k < reps; k++) {
            long v = me + k, s = 0;
            CHECK(MPI_Allreduce(&v, &s, 1, MPI_LONG, MPI_SUM, half));
            EXPECT(s == halfsum0 + (long)hnp * k, "half Allreduce %ld", s);
            mixi(s);
        }
        if (third != MPI_COMM_NULL) {
            int tr = r % 3 == 0 ? 1 : r % 3 == 1 ? 3 : 6;
            for (int k = 0; k < tr; k++) {
                int b = k;
                CHECK(MPI_Bcast(&b, 1, MPI_INT, 0, third));
                long one = 1, cnt = 0;
                CHECK(MPI_Allreduce(&one, &cnt, 1, MPI_LONG, MPI_SUM, third));
                EXPECT(cnt == nthird, "third count %ld", cnt);
            }
        }
        /* Bcast root ahead: four in a row from one root, the others slow */
        for (int k = 0; k < 4; k++) {
            long b = me == root ? r * 100 + k : -1;
            if (me != root)
                cc_spin(10 * (me % 4));
            CHECK(MPI_Bcast(&b, 1, MPI_LONG, root, MPI_COMM_WORLD));
            EXPECT(b == r * 100 + k, "Bcast %ld", b);
            mixi(b);
        }

        /* C: v-forms, rank i moving i % 5 + 1 elements */
        int off = 0;
        for (int i = 0; i < np; i++) {
            rcount[i] = i % 5 + 1;
            rdisp[i] = off;
            off += rcount[i];
        }
        int mine = me % 5 + 1;
        long mv[5];
        for (int k = 0; k < mine; k++)
            mv[k] = me * 10 + k + r;
        int gr = (r + 2) % np;
        CHECK(MPI_Gatherv(mv, mine, MPI_LONG, rbuf, rcount, rdisp, MPI_LONG, gr, w2));
        if (me == gr)
            for (int i = 0; i < np; i++)
                for (int k = 0; k < rcount[i]; k++)
                    EXPECT(rbuf[rdisp[i] + k] == i * 10 + k + r, "Gatherv");
        CHECK(MPI_Allgatherv(mv, mine, MPI_LONG, rbuf, rcount, rdisp, MPI_LONG, MPI_COMM_WORLD));
        for (int i = 0; i < np; i++)
            for (int k = 0; k < rcount[i]; k++)
                EXPECT(rbuf[rdisp[i] + k] == i * 10 + k + r, "Allgatherv");
        mix(rbuf, sizeof(long) * (size_t)off);
        if (me == gr)
            for (int i = 0; i < off; i++)
                sbuf[i] = i * 7 + r;
        long sv[5] = { 0 };
        CHECK(MPI_Scatterv(sbuf, rcount, rdisp, MPI_LONG, sv, mine, MPI_LONG, gr, MPI_COMM_WORLD));
        for (int k = 0; k < mine; k++)
            EXPECT(sv[k] == (rdisp[me] + k) * 7 + r, "Scatterv");
        mix(sv, sizeof sv);
        /* Alltoallv: i sends (i + j) % 3 + 1 elements to j */
        int so = 0, ro = 0;
        for (int j = 0; j < np; j++) {
            scount[j] = (me + j) % 3 + 1;
            sdisp[j] = so;
            so += scount[j];
            rcount[j] = (j + me) % 3 + 1;
            rdisp[j] = ro;
            ro += rcount[j];
        }
        for (int j = 0; j < np; j++)
            for (int k = 0; k < scount[j]; k++)
                sbuf[sdisp[j] + k] = me * 100000 + j * 100 + k + r;
        CHECK(MPI_Alltoallv(sbuf, scount, sdisp, MPI_LONG, rbuf, rcount, rdisp, MPI_LONG, w2));
        for (int j = 0; j < np; j++)
            for (int k = 0; k < rcount[j]; k++)
                EXPECT(rbuf[rdisp[j] + k] == j * 100000 + me * 100 + k + r, "Alltoallv");
        mix(rbuf, sizeof(long) * (size_t)ro);
        /* Reduce_scatter: block j has j % 3 + 1 elements */
        int tot = 0;
        for (int j = 0; j < np; j++) {
            rcount[j] = j % 3 + 1;
            tot += rcount[j];
        }
        for (int i = 0; i < tot; i++)
            sbuf[i] = i + me;
        CHECK(MPI_Reduce_scatter(sbuf, rbuf, rcount, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));
        int first = 0;
        for (int j = 0; j < me; j++)
            first += rcount[j];
        for (int k = 0; k < rcount[me]; k++)
            EXPECT(rbuf[k] == (long)np * (first + k) + (long)np * (np - 1) / 2, "Reduce_scatter");
        mix(rbuf, sizeof(long) * (size_t)rcount[me]);
        long ex = -1, exv = me + r;
        CHECK(MPI_Exscan(&exv, &ex, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));
        if (me > 0)
            EXPECT(ex == (long)me * (me - 1) / 2 + (long)me * r, "Exscan %ld", ex);
        else
            ex = 0;
        mixi(ex);

        /* D: one rank is slow; the others wait for it inside a blocking collective */
        if (me == r % np)
            cc_spin(300);
        long mx = me * (r + 1), m = 0;
        CHECK(MPI_Allreduce(&mx, &m, 1, MPI_LONG, MPI_MAX, MPI_COMM_WORLD));
        EXPECT(m == (long)(np - 1) * (r + 1), "Allreduce MAX %ld", m);
        mixi(m);
    }
    report("nbc");
    cc_finish();
    free(sbuf);
    free(rbuf);
    if (third != MPI_COMM_NULL)
        MPI_Comm_free(&third);
    MPI_Comm_free(&half);
    MPI_Comm_free(&w2);
    MPI_Finalize();
    return 0;
}
