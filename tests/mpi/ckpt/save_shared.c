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
 * came back from rank 1's copy; < 0 when it came from a copy taken before rank 1's last stores.
 * SAVE_SHARED_ONE=node (diffrev35 R-M3 (a), tests/hosts/saveshared.sh): the same with one file
 * FILE.all per host (FILE on node-local storage: one path, each host its own file), made by the
 * host's first rank, which writes its host's name into it (byte 2048); ranks counted within
 * their host (MPI_Comm_split_type), the adder thread in each host's second rank. At the end each
 * rank says "rank R: the file names host X, not this host Y" when the name differs, and each
 * adder "rank R: file count minus own count: D".
 * SAVE_SHARED_ONE=hostname (diffrev36 R-M2): as node, the host's ranks found by a hash of the
 * host's name (MPI_Comm_split), as an application grouping its ranks by host name does: a restart
 * that moves ranks to other hosts is not refused by a node communicator's changed size.
 * SAVE_SHARED_ONE=slice (save_shared.sh part 6): one file FILE.all as with 1, of 3 pages per
 * rank, each rank mapping only its own 3 pages (at 3 pages times its rank), laid out as its own
 * file FILE.<rank> would be (rank 1's thread adding in its third page): the ranks' copies are of
 * different parts of the file, and each must be written back. */
#include <fcntl.h>
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    int byname = o && !strcmp(o, "hostname");
    int node = o && (!strcmp(o, "node") || byname), slice = o && !strcmp(o, "slice");
    int one = o && (*o == '1' || node || slice);
    MPI_Comm here = MPI_COMM_WORLD; /* the ranks that share the file */
    if (byname) {
        char hn[64] = "";
        unsigned color = 5381;
        gethostname(hn, sizeof hn - 1);
        for (const char *q = hn; *q; q++)
            color = color * 33 + (unsigned char)*q;
        MPI_Comm_split(MPI_COMM_WORLD, (int)(color & 0x7fffffff), rank, &here);
    } else if (node)
        MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &here);
    int wrank = rank;
    MPI_Comm_rank(here, &rank); /* within the file's ranks from here on (but for the output) */
    char host[64] = "";
    gethostname(host, sizeof host - 1);
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
        MPI_Barrier(here);
        if (rank != 0)
            fd = open(name, O_RDWR);
    }
    size_t size = one ? 3 * 4096 : 8192; /* mapped by each rank */
    off_t whole = slice ? (off_t)size * np : (off_t)size, at = slice ? (off_t)size * rank : 0;
    if (fd < 0 || ((!one || rank == 0) && ftruncate(fd, whole) != 0)) {
        perror(name);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    if (one)
        MPI_Barrier(here); /* its length set before any rank maps it */
    long *c = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, at);
    if (c == MAP_FAILED) {
        perror("mmap");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    close(fd);
    if (node && rank == 0)
        snprintf((char *)c + 2048, 64, "%s", host);
    if (node)
        MPI_Barrier(here);
    long *c0 = c, *c2 = c + 512; /* this rank's counter, and its part of the second page */
    if (one && !slice) {
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
        if (wrank == 0) {
            printf("step %d: counters %ld, page 2 %ld\n", s, sum[0], sum[1]);
            fflush(stdout);
        }
        rst_pace(argv[2], ms, steps - s - 1);
    }
    if (one && rank == 1) {
        stop = 1;
        pthread_join(th, NULL);
        fprintf(stderr, "rank %d: file count minus own count: %ld\n", wrank, *third - own);
    }
    if (node && strncmp((char *)c + 2048, host, 64))
        fprintf(stderr, "rank %d: the file names host %.63s, not this host %s\n", wrank, (char *)c + 2048, host);
    rank = wrank;
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
