/* stdin_wait: rank 0 prints "ready", then reads one line from its standard input and
 * broadcasts its length; every rank prints "got N". stdin_wait.sh checkpoints it while rank 0
 * waits for that line (the launcher holds none yet). */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, len = -1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) {
        char line[256];
        printf("ready\n");
        fflush(stdout);
        len = fgets(line, sizeof line, stdin) ? (int)strlen(line) : 0;
    }
    MPI_Bcast(&len, 1, MPI_INT, 0, MPI_COMM_WORLD);
    printf("rank %d got %d\n", rank, len);
    MPI_Finalize();
    return 0;
}
