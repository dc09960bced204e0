/* save_shared STEPS PACEFILE MS FILE: each rank maps FILE.<rank> (8 KiB, made empty at start)
 * shared and writable and adds 1 to a counter in it each step, then an Allreduce of the
 * counters (newuser7b F1's mapinc); rank 0 prints each step's sum and, at the end, every rank's
 * counter. Paced as rst_pace.h's programs: each step sleeps MS ms while PACEFILE exists, and the
 * last step waits until it is gone, so that a test's snapshot comes before the end
 * (save_shared.sh). Without --save-shared a second restart from one snapshot reads the counters
 * the first one left in the files. */
#include <fcntl.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "rst_pace.h"

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, np;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    if (argc != 5 || np > 64) {
        if (rank == 0)
            fprintf(stderr, "usage: save_shared STEPS PACEFILE MS FILE (at most 64 ranks)\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    int steps = atoi(argv[1]);
    long ms = atol(argv[3]);
    char name[4096];
    snprintf(name, sizeof name, "%s.%d", argv[4], rank);
    int fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, 8192) != 0) {
        perror(name);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    long *c = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (c == MAP_FAILED) {
        perror("mmap");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    close(fd);
    for (int s = 0; s < steps; s++) {
        c[0]++;
        c[512 + s % 64] += s; /* the second page too */
        long mine[2] = {c[0], c[512 + s % 64]}, sum[2];
        MPI_Allreduce(mine, sum, 2, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        if (rank == 0) {
            printf("step %d: counters %ld, page 2 %ld\n", s, sum[0], sum[1]);
            fflush(stdout);
        }
        rst_pace(argv[2], ms, steps - s - 1);
    }
    long v = c[0], all[64];
    MPI_Gather(&v, 1, MPI_LONG, all, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        printf("done:");
        for (int i = 0; i < np; i++)
            printf(" %ld", all[i]);
        printf(" (expected %d each)\n", steps);
    }
    MPI_Finalize();
    return 0;
}
