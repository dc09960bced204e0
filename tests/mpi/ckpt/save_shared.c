/* save_shared STEPS PACEFILE MS FILE: each rank maps FILE.<rank> (8 KiB, made empty at start)
 * shared and writable and adds 1 to a counter in it each step, then an Allreduce of the
 * counters (newuser7b F1's mapinc); rank 0 prints each step's sum and, at the end, every rank's
 * counter. Paced as rst_pace.h's programs: each step sleeps MS ms while PACEFILE exists, and the
 * last step waits until it is gone, so that a test's snapshot comes before the end
 * (save_shared.sh). Without --save-shared a second restart from one snapshot reads the counters
 * the first one left in the files.
 * SAVE_SHARED_ONE=1 (diffrev34 R-L20): every rank maps the one file FILE.all (rank 0 makes it),
 * its counters at 16 longs apart in the first page, page 2's at 64 apart; and rank 1 runs a thread
 * that adds 1 to a long of the third page every 0.5 ms outside MPI (and to its own count), so that
 * two ranks' copies of the file taken at different moments differ there. Rank 1 says on stderr,
 * at the end, "rank 1: file count minus own count: D": 0 natively and after a restart whose file
 * came back from rank 1's copy; < 0 when it came from a copy taken before rank 1's last stores. */
#include <fcntl.h>
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "rst_pace.h"

static volatile long *third;     /* SAVE_SHARED_ONE: the long rank 1's thread adds to */
static volatile long own;        /* and its own count of the adds */
static volatile int stop;

static void *adder(void *arg)
{
    (void)arg;
    while (!stop) {
        (*third)++;
        own++;
        usleep(500);
    }
    return NULL;
}

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
    const char *o = getenv("SAVE_SHARED_ONE");
    int one = o && *o == '1';
    if (one && np > 8) {
        if (rank == 0)
            fprintf(stderr, "save_shared: SAVE_SHARED_ONE=1 takes at most 8 ranks\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    char name[4096];
    if (one)
        snprintf(name, sizeof name, "%s.all", argv[4]);
    else
        snprintf(name, sizeof name, "%s.%d", argv[4], rank);
    int fd = -1;
    if (!one || rank == 0)
        fd = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (one) { /* the others open it once rank 0 made it */
        MPI_Barrier(MPI_COMM_WORLD);
        if (rank != 0)
            fd = open(name, O_RDWR);
    }
    size_t size = one ? 3 * 4096 : 8192;
    if (fd < 0 || ((!one || rank == 0) && ftruncate(fd, (off_t)size) != 0)) {
        perror(name);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (one)
        MPI_Barrier(MPI_COMM_WORLD); /* its length set before any rank maps it */
    long *c = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (c == MAP_FAILED) {
        perror("mmap");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    close(fd);
    long *c0 = c, *c2 = c + 512; /* this rank's counter, and its part of the second page */
    if (one) {
        c0 = c + 16 * rank;
        c2 = c + 512 + 64 * rank;
    }
    pthread_t th;
    if (one && rank == 1) {
        third = c + 1024;
        if (pthread_create(&th, NULL, adder, NULL) != 0) {
            perror("pthread_create");
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
    }
    for (int s = 0; s < steps; s++) {
        c0[0]++;
        c2[s % 64] += s; /* the second page too */
        long mine[2] = {c0[0], c2[s % 64]}, sum[2];
        MPI_Allreduce(mine, sum, 2, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        if (rank == 0) {
            printf("step %d: counters %ld, page 2 %ld\n", s, sum[0], sum[1]);
            fflush(stdout);
        }
        rst_pace(argv[2], ms, steps - s - 1);
    }
    if (one && rank == 1) {
        stop = 1;
        pthread_join(th, NULL);
        fprintf(stderr, "rank 1: file count minus own count: %ld\n", *third - own);
    }
    long v = c0[0], all[64];
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
