/* A thread of the application that allocates and writes while MPI_Init runs (the halves' limit
 * of session 31: a region that appeared during MPI_Init was taken for the MPI library's and left
 * out of the image; the thread's memory was gone after a restart):
 *   rank_initalloc STEPS PACEFILE MS
 * Before MPI_Init each rank starts a thread that, from the moment main says MPI_Init begins
 * until it returned, allocates blocks one after the other (1 MiB and 300 KiB: chunks the
 * application's malloc maps for itself) and fills each with a pattern of its own; main notes
 * which were allocated while MPI_Init ran. Each step checks every block's pattern, then an
 * MPI_Allreduce of the blocks found wrong. Rank 0 prints "step N: BAD" and "done: BAD" (0
 * unless memory was lost); each rank prints "rank R: K of N blocks made while MPI_Init ran"
 * (the test needs K > 0: else the run proves nothing). */
#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rst_pace.h"

#define BLOCKS 256
static char *block[BLOCKS];
static size_t bsize[BLOCKS];
static int during[BLOCKS];
static atomic_int nblocks, phase; /* phase: 0 before, 1 MPI_Init runs, 2 returned */

static uint64_t word(int b, size_t i)
{
    uint64_t x = ((uint64_t)b << 32) ^ i ^ 0x9e3779b97f4a7c15ull;
    x ^= x >> 31;
    return x * 0xbf58476d1ce4e5b9ull;
}

static void *allocator(void *arg)
{
    (void)arg;
    while (atomic_load(&phase) == 0)
        ;
    for (int b = 0; b < BLOCKS && atomic_load(&phase) == 1; b++) {
        int was = atomic_load(&phase) == 1;
        size_t n = (b % 2 ? 300 : 1024) << 10;
        char *p = malloc(n);
        if (!p)
            break;
        for (size_t i = 0; i + 8 <= n; i += 8) {
            uint64_t w = word(b, i);
            memcpy(p + i, &w, 8);
        }
        block[b] = p;
        bsize[b] = n;
        during[b] = was && atomic_load(&phase) == 1;
        atomic_store(&nblocks, b + 1);
    }
    return NULL;
}

static long bad_blocks(void)
{
    long bad = 0;
    int n = atomic_load(&nblocks);
    for (int b = 0; b < n; b++) {
        for (size_t i = 0; i + 8 <= bsize[b]; i += 8) {
            uint64_t w;
            memcpy(&w, block[b] + i, 8);
            if (w != word(b, i)) {
                bad++;
                break;
            }
        }
    }
    return bad;
}

int main(int argc, char **argv)
{
    pthread_t t;
    if (pthread_create(&t, NULL, allocator, NULL)) {
        fprintf(stderr, "pthread_create failed\n");
        return 2;
    }
    atomic_store(&phase, 1);
    MPI_Init(&argc, &argv);
    atomic_store(&phase, 2);
    pthread_join(t, NULL);
    int me;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    int steps = argc > 1 ? atoi(argv[1]) : 20;
    const char *pace = argc > 2 ? argv[2] : NULL;
    long ms = argc > 3 ? atol(argv[3]) : 0;
    int k = 0, n = atomic_load(&nblocks);
    for (int b = 0; b < n; b++)
        k += during[b];
    printf("rank %d: %d of %d blocks made while MPI_Init ran\n", me, k, n);
    fflush(stdout);
    long all = 0;
    for (int s = 1; s <= steps; s++) {
        long x = bad_blocks(), sum = 0;
        MPI_Allreduce(&x, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        all += sum;
        if (me == 0) {
            printf("step %d: %ld\n", s, sum);
            fflush(stdout);
        }
        rst_pace(pace, ms, steps - s);
    }
    if (me == 0) {
        printf("done: %ld\n", all);
        fflush(stdout);
    }
    MPI_Finalize();
    return 0;
}
