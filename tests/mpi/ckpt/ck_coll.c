/* Collectives for checkpoints at random moments (tests/mpi/ckpt): every rank prints checksums
 * that must not change whether or not (and wherever) checkpoints were taken.
 *   - different numbers of collectives per rank on sub-communicators (the halves do 1 or 3
 *     Allreduces per round), so ranks are at different counts when a checkpoint is asked for
 *   - Bcast roots running ahead (several small Bcasts in a row while the others are busy)
 *   - nonblocking collectives overlapping point to point
 *   - communicators created and freed every few rounds (dup, split, create), a Cartesian
 *     communicator with reorder, an intercommunicator
 * Usage: ck_coll [ROUNDS [HOLDFILE]] (HOLDFILE: ck_hold.h) */
#include "tests/mpi/mpitest.h"
#include "tests/mpi/ckpt/ck_hold.h"

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int rounds = argc > 1 ? atoi(argv[1]) : 200;
    MPI_Comm half, dupw, cart, inter = MPI_COMM_NULL;
    CHECK(MPI_Comm_split(MPI_COMM_WORLD, me % 2, me, &half));
    CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &dupw));
    int dims[1] = { np }, periods[1] = { 1 };
    CHECK(MPI_Cart_create(MPI_COMM_WORLD, 1, dims, periods, 1, &cart));
    if (np > 1) {
        /* halves talk to each other: the leaders are world ranks 0 and 1 */
        CHECK(MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, me % 2 ? 0 : 1, 77, &inter));
    }
    int hme, hnp;
    MPI_Comm_rank(half, &hme);
    MPI_Comm_size(half, &hnp);
    long acc = 0;
    for (int r = 0; r < rounds; r++) {
        /* uneven counts: half 0 runs three Allreduces per round, half 1 one */
        int reps = me % 2 ? 1 : 3;
        for (int k = 0; k < reps; k++) {
            long v = me + r + k, s = 0;
            CHECK(MPI_Allreduce(&v, &s, 1, MPI_LONG, MPI_SUM, half));
            acc += s;
        }
        /* Bcast root runs ahead: 4 Bcasts from one root; the others are slow */
        int root = r % np;
        for (int k = 0; k < 4; k++) {
            int b[4] = { r, k, root, 0 };
            if (me != root)
                spin(me + 1);
            CHECK(MPI_Bcast(b, 4, MPI_INT, root, dupw));
            mix(b, sizeof b);
        }
        /* a nonblocking collective overlapping a ring exchange on the Cartesian communicator */
        long iv = me * 7 + r, is = 0;
        MPI_Request q;
        CHECK(MPI_Iallreduce(&iv, &is, 1, MPI_LONG, MPI_MAX, dupw, &q));
        int src, dst, token = me * 1000 + r, got = -1;
        CHECK(MPI_Cart_shift(cart, 0, 1, &src, &dst));
        CHECK(MPI_Sendrecv(&token, 1, MPI_INT, dst, 5, &got, 1, MPI_INT, src, 5, cart, MPI_STATUS_IGNORE));
        mixi(got);
        CHECK(MPI_Wait(&q, MPI_STATUS_IGNORE));
        mixi(is);
        double dv = r, ds = 0;
        MPI_Request q2;
        CHECK(MPI_Ibcast(&dv, 1, MPI_DOUBLE, (r + 1) % np, MPI_COMM_WORLD, &q2));
        spin(me % 3);
        CHECK(MPI_Wait(&q2, MPI_STATUS_IGNORE));
        CHECK(MPI_Reduce(&dv, &ds, 1, MPI_DOUBLE, MPI_SUM, 0, cart));
        mix(&ds, sizeof ds);
        /* communicators made and freed */
        if (r % 5 == 0) {
            MPI_Comm d, s;
            CHECK(MPI_Comm_dup(half, &d));
            long x = hme, y = 0;
            CHECK(MPI_Allreduce(&x, &y, 1, MPI_LONG, MPI_SUM, d));
            mixi(y);
            CHECK(MPI_Comm_split(MPI_COMM_WORLD, r % 3 == 0 ? me % 3 : MPI_UNDEFINED, -me, &s));
            if (s != MPI_COMM_NULL) {
                int sr;
                MPI_Comm_rank(s, &sr);
                CHECK(MPI_Barrier(s));
                CHECK(MPI_Allreduce(&x, &y, 1, MPI_LONG, MPI_MAX, s));
                mixi(sr);
                mixi(y);
                CHECK(MPI_Comm_free(&s));
            }
            CHECK(MPI_Comm_free(&d));
            MPI_Group wg, eg;
            MPI_Comm_group(MPI_COMM_WORLD, &wg);
            int ex[1] = { np - 1 };
            MPI_Group_excl(wg, 1, ex, &eg);
            MPI_Comm c;
            CHECK(MPI_Comm_create(MPI_COMM_WORLD, eg, &c));
            if (c != MPI_COMM_NULL) {
                CHECK(MPI_Allreduce(&x, &y, 1, MPI_LONG, MPI_SUM, c));
                mixi(y);
                CHECK(MPI_Comm_free(&c));
            }
            MPI_Group_free(&eg);
            MPI_Group_free(&wg);
        }
        if (inter != MPI_COMM_NULL && r % 4 == 1) {
            long x = me, y = 0;
            CHECK(MPI_Allreduce(&x, &y, 1, MPI_LONG, MPI_SUM, inter));
            mixi(y);
        }
    }
    mixi(acc);
    report("collectives");
    if (inter != MPI_COMM_NULL)
        MPI_Comm_free(&inter);
    MPI_Comm_free(&cart);
    MPI_Comm_free(&dupw);
    MPI_Comm_free(&half);
    ck_hold(argc > 2 ? argv[2] : NULL);
    MPI_Finalize();
    return 0;
}
