/* A checkpoint near MPI_Finalize for the campaign (tests/mpi/ckpt/campaign; research list 22).
 * The ranks work together for ROUNDS rounds, print their result, and then end at different
 * times: the odd ranks call MPI_Finalize at once, the even ranks go on exchanging messages among
 * themselves for ROUNDS/2 more rounds (on a communicator of their own), then finalize too. A
 * checkpoint asked for in the last part must be refused clearly ("rank N has called
 * MPI_Finalize") or taken (before the first rank finalized), and the job must end as it would
 * have; a snapshot taken just before the end must restart and end the same way.
 * Usage: cc_fin ROUNDS */
#include "tests/mpi/ckpt/campaign/cc.h"

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    MPI_Comm even;
    CHECK(MPI_Comm_split(MPI_COMM_WORLD, me % 2 == 0 ? 0 : MPI_UNDEFINED, me, &even));
    int right = (me + 1) % np, left = (me + np - 1) % np;
    for (int r = 0; r < rounds; r++) {
        long v = me * 10 + r, w = -1;
        CHECK(MPI_Sendrecv(&v, 1, MPI_LONG, right, 1, &w, 1, MPI_LONG, left, 1, MPI_COMM_WORLD,
                           MPI_STATUS_IGNORE));
        EXPECT(w == left * 10 + r, "ring %ld", w);
        mixi(w);
        long s = 0;
        CHECK(MPI_Allreduce(&v, &s, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));
        EXPECT(s == 10L * np * (np - 1) / 2 + (long)np * r, "Allreduce %ld", s);
        mixi(s);
        cc_spin(100);
    }
    report("before-finalize");
    cc_finish();
    if (even != MPI_COMM_NULL) {
        int em, en;
        MPI_Comm_rank(even, &em);
        MPI_Comm_size(even, &en);
        int er = (em + 1) % en, el = (em + en - 1) % en;
        long acc = 0;
        for (int r = 0; r < rounds / 2; r++) {
            long v = em * 100 + r, w = -1;
            CHECK(MPI_Sendrecv(&v, 1, MPI_LONG, er, 2, &w, 1, MPI_LONG, el, 2, even, MPI_STATUS_IGNORE));
            if (w != el * 100 + r)
                acc += 1000000;
            acc += w;
            cc_spin(100);
        }
        long tot = 0;
        CHECK(MPI_Reduce(&acc, &tot, 1, MPI_LONG, MPI_SUM, 0, even));
        if (me == 0) {
            printf("even ranks after the others finalized: %ld\n", tot);
            fflush(stdout);
        }
        MPI_Comm_free(&even);
    }
    MPI_Finalize();
    return 0;
}
