/* MPIX_Checkpoint from inside the program (tests/mpi/ckpt): every few rounds all ranks call it
 * while messages are in flight; it must return MPI_SUCCESS with MPIX_CKPT_CONTINUE under Revive
 * (natively it returns an error and changes nothing), and the messages must arrive as without
 * it. A rank also calls MPIX_Checkpoint_request now and then. The checksums must not change.
 * Usage: ck_mpix [ROUNDS] */
#include <dlfcn.h>

#include "mpix_ckpt.h"
#include "tests/mpi/mpitest.h"

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    int revive = dlsym(RTLD_DEFAULT, "revive_mpix_checkpoint") != NULL;
    int right = (me + 1) % np, left = (me + np - 1) % np;
    for (int r = 0; r < rounds; r++) {
        int out[4] = { me, r, r * me, 7 }, in[4];
        MPI_Request q;
        CHECK(MPI_Isend(out, 4, MPI_INT, right, r, MPI_COMM_WORLD, &q));
        if (r % 3 == 0) {
            int flag = -1;
            int rc = MPIX_Checkpoint(&flag);
            if (revive && (rc != MPI_SUCCESS || flag != MPIX_CKPT_CONTINUE)) {
                fprintf(stderr, "rank %d: MPIX_Checkpoint returned %d, flag %d\n", me, rc, flag);
                return 3;
            }
            if (!revive && rc == MPI_SUCCESS) {
                fprintf(stderr, "rank %d: MPIX_Checkpoint succeeded without Revive\n", me);
                return 3;
            }
        }
        if (r % 5 == 2 && me == r % np) {
            int rc = MPIX_Checkpoint_request();
            if (revive && rc != MPI_SUCCESS) {
                fprintf(stderr, "rank %d: MPIX_Checkpoint_request returned %d\n", me, rc);
                return 3;
            }
        }
        CHECK(MPI_Recv(in, 4, MPI_INT, left, r, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        CHECK(MPI_Wait(&q, MPI_STATUS_IGNORE));
        mix(in, sizeof in);
        long s = 0, v = me + r;
        CHECK(MPI_Allreduce(&v, &s, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));
        mixi(s);
    }
    report("mpix");
    MPI_Finalize();
    return 0;
}
