/* The corner cases of checkpoints at random moments that ck_coll and ck_p2p leave out
 * (tests/mpi/ckpt): every rank prints checksums that must not change whether or not (and
 * wherever) checkpoints were taken.
 *   intercomm   point to point on an intercommunicator in flight across a collective (the drain
 *               probes an intercommunicator; counts go to the remote group's world ranks)
 *   self        messages to the rank itself in flight across a collective, zero-byte messages,
 *               MPI_PROC_NULL sends, receives and persistent requests (research corner 29)
 *   compute     one rank computes without any MPI call while the others wait for it in a
 *               receive (Revive's wait loop lets the checkpoint happen meanwhile)
 *   poll        a receive completed by polling MPI_Iprobe and MPI_Test (no blocking call)
 *   nbc         MPI_Ibarrier and MPI_Ireduce started before a blocking collective, completed
 *               after it (started nonblocking collectives complete in the drain)
 *   issend      MPI_Issend whose receive is posted only after a collective (the drain receives
 *               it into its buffer; the send completes there)
 *   types       derived datatypes made and freed every round, freed while their message is
 *               still in flight
 *   comms       MPI_Comm_split_type, MPI_Comm_create_group, MPI_Comm_idup, made and freed
 *   finalize    (after the checksums) the even ranks finalize at once while the odd ones keep
 *               exchanging messages for a while: a checkpoint asked for then is refused or
 *               completes, never hangs
 * Usage: ck_misc [ROUNDS] */
#include "tests/mpi/mpitest.h"

static volatile double sink;

/* Work without MPI calls, the same amount in every run. */
static void compute(long n)
{
    double x = 0;
    for (long i = 0; i < n; i++)
        x += (double)(i % 7) * 0.25;
    sink = x;
}

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    int right = (me + 1) % np, left = (me + np - 1) % np;
    MPI_Comm half, inter = MPI_COMM_NULL;
    CHECK(MPI_Comm_split(MPI_COMM_WORLD, me % 2, me, &half));
    int hme, hnp;
    MPI_Comm_rank(half, &hme);
    MPI_Comm_size(half, &hnp);
    if (np > 1)
        CHECK(MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, me % 2 ? 0 : 1, 99, &inter));
    int rsize = 0;
    if (inter != MPI_COMM_NULL)
        MPI_Comm_remote_size(inter, &rsize);
    MPI_Request pnull[2];
    int pn = 0;
    CHECK(MPI_Send_init(&pn, 1, MPI_INT, MPI_PROC_NULL, 1, MPI_COMM_WORLD, &pnull[0]));
    CHECK(MPI_Recv_init(&pn, 1, MPI_INT, MPI_PROC_NULL, 1, MPI_COMM_WORLD, &pnull[1]));
    sections_start();
    for (int r = 0; r < rounds; r++) {
        MPI_Request q[8];
        MPI_Status s;
        int cnt;

        section(1);
        /* intercomm: each rank sends to rank hme % rsize of the other group and receives from
         * every rank of the other group that sends to it */
        if (inter != MPI_COMM_NULL) {
            long v = me * 1000 + r, got;
            int dst = hme % rsize, expect = 0;
            for (int i = 0; i < rsize; i++)
                if (i % hnp == hme) /* remote rank i sends to i % (my group's size) */
                    expect++;
            CHECK(MPI_Isend(&v, 1, MPI_LONG, dst, 10 + r % 3, inter, &q[0]));
            CHECK(MPI_Barrier(MPI_COMM_WORLD));
            long acc = 0;
            for (int i = 0; i < expect; i++) {
                CHECK(MPI_Recv(&got, 1, MPI_LONG, MPI_ANY_SOURCE, MPI_ANY_TAG, inter, &s));
                acc += got * 31 + s.MPI_SOURCE * 7 + s.MPI_TAG; /* arrival order varies: sum */
            }
            mixi(acc);
            CHECK(MPI_Wait(&q[0], MPI_STATUS_IGNORE));
            long x = me + r, y = 0;
            CHECK(MPI_Allreduce(&x, &y, 1, MPI_LONG, MPI_SUM, inter));
            mixi(y);
        }

        section(2);
        /* self: to myself across a collective; zero bytes; PROC_NULL */
        int sv = me + r, sr = -1, z;
        CHECK(MPI_Isend(&sv, 1, MPI_INT, me, 20, MPI_COMM_WORLD, &q[0]));
        CHECK(MPI_Isend(&z, 0, MPI_INT, right, 21, MPI_COMM_WORLD, &q[1]));
        CHECK(MPI_Send(&sv, 1, MPI_INT, MPI_PROC_NULL, 22, MPI_COMM_WORLD));
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        CHECK(MPI_Recv(&sr, 1, MPI_INT, me, 20, MPI_COMM_WORLD, &s));
        mixi(sr);
        mixi(s.MPI_SOURCE);
        CHECK(MPI_Recv(&z, 0, MPI_INT, left, 21, MPI_COMM_WORLD, &s));
        MPI_Get_count(&s, MPI_INT, &cnt);
        mixi(cnt);
        mixi(s.MPI_SOURCE);
        CHECK(MPI_Recv(&sr, 1, MPI_INT, MPI_PROC_NULL, 22, MPI_COMM_WORLD, &s));
        mixi(s.MPI_SOURCE == MPI_PROC_NULL);
        mixi(s.MPI_TAG == MPI_ANY_TAG);
        CHECK(MPI_Startall(2, pnull));
        CHECK(MPI_Waitall(2, pnull, MPI_STATUSES_IGNORE));
        CHECK(MPI_Waitall(2, q, MPI_STATUSES_IGNORE));

        section(3);
        /* compute: the rank r % np works long without MPI; its right neighbour waits for it */
        if (np > 1) {
            int worker = r % np, waiter = (worker + 1) % np;
            long out = r * 3 + worker, in = -1;
            if (me == worker) {
                compute(2000000);
                CHECK(MPI_Send(&out, 1, MPI_LONG, waiter, 30, MPI_COMM_WORLD));
            } else if (me == waiter) {
                CHECK(MPI_Recv(&in, 1, MPI_LONG, worker, 30, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
                mixi(in);
            }
        }

        section(4);
        /* poll: the receive completed by Iprobe and Test loops */
        {
            long pv = me * 5 + r, pr = -1;
            int flag = 0;
            CHECK(MPI_Isend(&pv, 1, MPI_LONG, right, 40, MPI_COMM_WORLD, &q[0]));
            while (!flag)
                CHECK(MPI_Iprobe(left, 40, MPI_COMM_WORLD, &flag, &s));
            MPI_Get_count(&s, MPI_LONG, &cnt);
            mixi(cnt);
            CHECK(MPI_Irecv(&pr, 1, MPI_LONG, left, 40, MPI_COMM_WORLD, &q[1]));
            for (flag = 0; !flag;)
                CHECK(MPI_Test(&q[1], &flag, &s));
            mixi(pr);
            mixi(s.MPI_TAG);
            CHECK(MPI_Wait(&q[0], MPI_STATUS_IGNORE));
        }

        section(5);
        /* nbc: started before a blocking collective, completed after it */
        {
            long rv = me + r, rs = 0;
            CHECK(MPI_Ibarrier(MPI_COMM_WORLD, &q[0]));
            CHECK(MPI_Ireduce(&rv, &rs, 1, MPI_LONG, MPI_SUM, r % np, MPI_COMM_WORLD, &q[1]));
            long x = r, y = 0;
            CHECK(MPI_Allreduce(&x, &y, 1, MPI_LONG, MPI_MAX, half));
            mixi(y);
            CHECK(MPI_Waitall(2, q, MPI_STATUSES_IGNORE));
            if (me == r % np)
                mixi(rs);
        }

        section(6);
        /* issend: the receive is posted only after a collective */
        {
            int a = me * 11 + r, b = -1;
            CHECK(MPI_Issend(&a, 1, MPI_INT, right, 60, MPI_COMM_WORLD, &q[0]));
            CHECK(MPI_Barrier(MPI_COMM_WORLD));
            CHECK(MPI_Recv(&b, 1, MPI_INT, left, 60, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
            CHECK(MPI_Wait(&q[0], MPI_STATUS_IGNORE));
            mixi(b);
        }

        section(7);
        /* types: made, used by a message in flight, freed before it arrives */
        {
            MPI_Datatype t, ti;
            CHECK(MPI_Type_vector(3, 1 + r % 3, 4, MPI_INT, &t));
            CHECK(MPI_Type_commit(&t));
            CHECK(MPI_Type_contiguous(2, MPI_INT, &ti));
            CHECK(MPI_Type_commit(&ti));
            int tv[12], tr[12];
            for (int i = 0; i < 12; i++)
                tv[i] = me * 100 + r + i;
            memset(tr, 0, sizeof tr);
            CHECK(MPI_Isend(tv, 1, t, right, 70, MPI_COMM_WORLD, &q[0]));
            CHECK(MPI_Type_free(&t));
            CHECK(MPI_Barrier(MPI_COMM_WORLD));
            CHECK(MPI_Recv(tr, 6, ti, left, 70, MPI_COMM_WORLD, &s));
            MPI_Get_count(&s, ti, &cnt);
            mixi(cnt);
            MPI_Get_count(&s, MPI_INT, &cnt);
            mixi(cnt);
            mix(tr, sizeof tr);
            CHECK(MPI_Type_free(&ti));
            CHECK(MPI_Wait(&q[0], MPI_STATUS_IGNORE));
        }

        section(8);
        /* comms: split_type, create_group, idup; made and freed every few rounds */
        if (r % 4 == 0) {
            MPI_Comm st, cg, id;
            CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, np - me, MPI_INFO_NULL, &st));
            int sr2;
            MPI_Comm_rank(st, &sr2);
            mixi(sr2);
            MPI_Group hg;
            MPI_Comm_group(half, &hg);
            CHECK(MPI_Comm_create_group(half, hg, 5, &cg));
            long x = hme + r, y = 0;
            CHECK(MPI_Allreduce(&x, &y, 1, MPI_LONG, MPI_SUM, cg));
            mixi(y);
            CHECK(MPI_Comm_idup(cg, &id, &q[0]));
            CHECK(MPI_Wait(&q[0], MPI_STATUS_IGNORE));
            CHECK(MPI_Bcast(&x, 1, MPI_LONG, 0, id));
            mixi(x);
            MPI_Group_free(&hg);
            CHECK(MPI_Comm_free(&id));
            CHECK(MPI_Comm_free(&cg));
            CHECK(MPI_Comm_free(&st));
        }
    }
    section(0);
    static const char *names[9] = { "start", "intercomm", "self", "compute", "poll", "nbc",
                                     "issend", "types", "comms" };
    report_sections(names, 9);
    MPI_Request_free(&pnull[0]);
    MPI_Request_free(&pnull[1]);
    if (inter != MPI_COMM_NULL)
        MPI_Comm_free(&inter);
    /* finalize: the even ranks go at once, the odd ones talk among themselves a while longer */
    if (me % 2 && hnp > 1) {
        for (int k = 0; k < 20 * rounds; k++) {
            int hr = (hme + 1) % hnp, hl = (hme + hnp - 1) % hnp, a = k, b;
            CHECK(MPI_Sendrecv(&a, 1, MPI_INT, hr, 90, &b, 1, MPI_INT, hl, 90, half, MPI_STATUS_IGNORE));
        }
    }
    MPI_Comm_free(&half);
    MPI_Finalize();
    return 0;
}
