/* Calls MPI_Win_create, which Revive does not support yet: under Revive the job must stop with
 * a message naming the call. */
#include "mpitest.h"

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int buf[4];
    MPI_Win win;
    CHECK(MPI_Win_create(buf, sizeof buf, sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &win));
    MPI_Win_free(&win);
    if (me == 0)
        printf("window ok\n");
    MPI_Finalize();
    return 0;
}
