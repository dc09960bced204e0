/* Calls MPI_Comm_spawn (dynamic processes), which Revive does not support: under Revive the job
 * must stop with a message naming the call. */
#include "mpitest.h"

int main(int argc, char **argv)
{
    start(&argc, &argv);
    MPI_Comm inter;
    char *args[] = { NULL };
    CHECK(MPI_Comm_spawn("true", args, 1, MPI_INFO_NULL, 0, MPI_COMM_SELF, &inter,
                         MPI_ERRCODES_IGNORE));
    if (me == 0)
        printf("spawn ok\n");
    MPI_Finalize();
    return 0;
}
