/* rst_heldlock STEPS PACEFILE MS: restored threads held while the fresh lower half loads must not
 * hold a lock the restart needs. The job holds an MPI_Win_allocate window (its memory is the
 * library's, so a restart holds the application's restored threads until every rank's window
 * memory is back: libcr's hold_restarted, src/pml_hooks/capture.c), and a thread of its own
 * allocates and frees blocks of 8 KiB without pause, outside MPI (past the thread cache: inside
 * the arena's lock most of the time). Run with MALLOC_ARENA_MAX=1 (one arena for every
 * thread, as HPC sites often set), a snapshot parks that thread inside malloc with the arena
 * locked, and a restart that held it while the fresh MPI was loaded (ld.so and the layer
 * allocate with the application's malloc) waited for ever. Each step: an Allreduce of a value
 * made from the step and the window, rank 0 prints "step N: V"; "done: ..." at the end, with the
 * worker's rounds not printed (they depend on time). Sleeps MS ms after each step while
 * PACEFILE exists. */
#include <mpi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static atomic_int stop;
static volatile unsigned long rounds;

static void *churn(void *arg)
{
    (void)arg;
    void *keep[16] = { 0 };
    for (unsigned long i = 0; !atomic_load(&stop); i++) {
        free(keep[i & 15]);
        keep[i & 15] = malloc(8192 + (i & 7) * 512);
        if (keep[i & 15])
            memset(keep[i & 15], (int)i, 64);
        rounds = i;
    }
    for (int k = 0; k < 16; k++)
        free(keep[k]);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: rst_heldlock STEPS PACEFILE MS\n");
        return 2;
    }
    int steps = atoi(argv[1]), ms = atoi(argv[3]);
    MPI_Init(&argc, &argv);
    int me, n;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    long *w;
    MPI_Win win;
    MPI_Win_allocate(64 * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &w, &win);
    for (int i = 0; i < 64; i++)
        w[i] = me * 1000 + i;
    pthread_t t;
    if (pthread_create(&t, NULL, churn, NULL) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    for (int s = 1; s <= steps; s++) {
        long mine = 0, all = 0;
        for (int i = 0; i < 64; i++) {
            w[i] = w[i] * 3 + s;
            mine += w[i] % 1000003;
        }
        MPI_Allreduce(&mine, &all, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        if (me == 0) {
            printf("step %d: %ld\n", s, all);
            fflush(stdout);
        }
        /* paced while the test's file exists; before the last step, held until it is gone (the
         * job cannot end before its snapshot: rst_pace.h) */
        if (ms > 0 && access(argv[2], F_OK) == 0)
            usleep((useconds_t)ms * 1000);
        while (ms > 0 && s == steps - 1 && access(argv[2], F_OK) == 0)
            usleep((useconds_t)ms * 1000);
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    MPI_Win_free(&win);
    if (me == 0)
        printf("done: %d steps on %d ranks\n", steps, n);
    MPI_Finalize();
    return 0;
}
