/* The MPI program of bench/stage/run.sh: each rank fills MB MiB of memory with a stream of
 * pseudo-random words (incompressible, no zero pages), holds until the file HOLD exists (each
 * rank looks, asleep between looks; snapshots are taken meanwhile; HOLD.ready.RANK says it has
 * filled its memory), then checks its memory
 * and rank 0 prints the sum over the ranks: a restarted job prints what an uninterrupted one
 * does. Usage: bigmem MB HOLD */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int r;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    if (argc < 3) {
        if (r == 0)
            fprintf(stderr, "usage: bigmem MB HOLD\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    size_t n = (size_t)atol(argv[1]) << 17; /* words of 8 bytes */
    uint64_t *m = malloc(n * sizeof *m);
    if (!m)
        MPI_Abort(MPI_COMM_WORLD, 1);
    for (size_t i = 0; i < n; i++)
        m[i] = mix(((uint64_t)r << 40) + i);
    /* filled: HOLD.ready.RANK says so (run.sh takes no snapshot before, which would be smaller) */
    char ready[4096];
    snprintf(ready, sizeof ready, "%s.ready.%d", argv[2], r);
    FILE *f = strcmp(argv[2], "/dev/null") ? fopen(ready, "w") : NULL;
    if (f)
        fclose(f);
    /* each rank looks for HOLD itself (one host), outside MPI: a rank waiting in an MPICH
     * collective polls the network on a CPU of its own, which the benchmark's copies and the
     * other job's ranks would then miss */
    while (access(argv[2], F_OK) != 0)
        usleep(10000);
    MPI_Barrier(MPI_COMM_WORLD);
    uint64_t s = 0, t = 0;
    for (size_t i = 0; i < n; i++)
        s += m[i] == mix(((uint64_t)r << 40) + i) ? m[i] >> 20 : 1;
    MPI_Reduce(&s, &t, 1, MPI_UINT64_T, MPI_SUM, 0, MPI_COMM_WORLD);
    if (r == 0)
        printf("sum %llu\n", (unsigned long long)t);
    free(m);
    MPI_Finalize();
    return 0;
}
