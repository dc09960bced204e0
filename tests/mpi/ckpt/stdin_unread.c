/* stdin_unread: rank 0 reads its standard input 100 bytes a step with read(2) and broadcasts
 * how many it has read so far; every rank waits 20 ms a step, and prints "ready" after the first.
 * At the end of the input rank 0 prints "total T": the bytes it read in all. stdin_unread.sh
 * checkpoints it half way (--term) and restarts it with /dev/null as its input: the restarted
 * rank's total is what it had read before the checkpoint. */
#include <mpi.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    long total = 0;
    for (int step = 0;; step++) {
        long got = 0;
        if (rank == 0) {
            char buf[100];
            ssize_t n = read(0, buf, sizeof buf);
            got = n > 0 ? (long)n : 0;
            total += got;
        }
        MPI_Bcast(&got, 1, MPI_LONG, 0, MPI_COMM_WORLD);
        if (!got)
            break;
        if (step == 0 && rank == 0) {
            printf("ready\n");
            fflush(stdout);
        }
        usleep(20000);
    }
    if (rank == 0)
        printf("total %ld\n", total);
    MPI_Finalize();
    return 0;
}
