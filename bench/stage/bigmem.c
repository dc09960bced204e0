/* The MPI program of bench/stage/run.sh: each rank fills MB MiB of memory with a stream of
 * pseudo-random words (incompressible, no zero pages), holds until the file HOLD exists (rank 0
 * looks and tells the others by Bcast; snapshots are taken meanwhile), then checks its memory
 * and rank 0 prints the sum over the ranks: a restarted job prints what an uninterrupted one
 * does. Usage: bigmem MB HOLD */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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
    for (int go = 0; !go;) {
        if (r == 0)
            go = access(argv[2], F_OK) == 0;
        MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD);
        if (!go)
            usleep(10000);
    }
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
