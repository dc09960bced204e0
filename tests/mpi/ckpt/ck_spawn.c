/* MPI_Comm_spawn under Revive (tests/mpi/ckpt/ck_spawn.sh): dynamic processes are not part of
 * a global snapshot, so the call must stop the job with a message naming it (never start a
 * child the coordinator does not know). Natively the parent prints "spawned" (the child, run
 * with an argument, just finalizes).
 * Usage: ck_spawn [child] */
#include "tests/mpi/mpitest.h"

int main(int argc, char **argv)
{
    start(&argc, &argv);
    MPI_Comm parent;
    MPI_Comm_get_parent(&parent);
    if (parent != MPI_COMM_NULL) {
        MPI_Comm_disconnect(&parent);
        MPI_Finalize();
        return 0;
    }
    static char child[] = "child";
    char *args[] = { child, NULL };
    MPI_Comm inter;
    int err;
    CHECK(MPI_Comm_spawn(argv[0], args, 1, MPI_INFO_NULL, 0, MPI_COMM_WORLD, &inter, &err));
    MPI_Comm_disconnect(&inter);
    if (me == 0)
        printf("spawned\n");
    MPI_Finalize();
    return 0;
}
