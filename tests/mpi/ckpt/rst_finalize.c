/* rst_finalize DIR: a snapshot in which rank 1 is parked at the entry of MPI_Finalize (the
 * snapshot's WORLD target makes it pass the second barrier rank 0 already waits in, and it stops
 * at the next counted collective, MPI_Finalize), restarted: rank 1 must finalize through the
 * fresh lower half, not the address of the dead one it had read before the gate
 * (campaign-failures.md #11: SIGSEGV on Open MPI, status 11 on MPICH).
 * Rank 1 comes to the second barrier once DIR/go exists, rank 0 finalizes once DIR/end exists
 * (the test creates them): the moments are the test's, not the machine's speed. */
#include <mpi.h>
#include <stdio.h>
#include <unistd.h>

static void wait_file(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    for (int i = 0; i < 6000 && access(path, F_OK) != 0; i++)
        usleep(100000);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: rst_finalize DIR\n");
        return 2;
    }
    MPI_Init(&argc, &argv);
    int me, n;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    MPI_Barrier(MPI_COMM_WORLD);
    printf("step 1: rank %d of %d started\n", me, n);
    fflush(stdout);
    if (me == 1)
        wait_file(argv[1], "go");
    MPI_Barrier(MPI_COMM_WORLD);
    if (me == 0)
        wait_file(argv[1], "end");
    printf("step 2: rank %d finalizes\n", me);
    fflush(stdout);
    int rc = MPI_Finalize();
    printf("done: rank %d finalized (%d)\n", me, rc);
    return rc != MPI_SUCCESS;
}
