/* The MPI job that bench/mpi/ckpt.sh checkpoints and restarts (issue 7, "Speed": coordination,
 * checkpoint and restart times of a real MPI job).
 *
 *   ckptjob start
 *       MPI_Init, one barrier, MPI_Finalize: the native start (and end) of the same job, what a
 *       restart is compared with besides reading the images. Rank 0 prints
 *       "ckptjob: MPI_Init ms X": the longest MPI_Init of the ranks (CLOCK_MONOTONIC).
 *   ckptjob loop MIB WINDOWS STOPFILE
 *       Every rank fills MIB MiB of memory with a counter stream that does not compress (its
 *       image holds them), creates WINDOWS windows of 4 KiB (MPI_Win_allocate; 0: none), then
 *       loops: an 8-byte Allreduce, a ring exchange, with windows one fence epoch per window
 *       with a Put to the right neighbour, and a 2 ms sleep (the ranks leave the CPU to
 *       the others; convergence then waits at most that long). Rank 0 makes STOPFILE.ready
 *       once every rank has filled its memory; the loop ends once STOPFILE exists (rank 0
 *       looks and tells the others by Bcast), so a job restarted after STOPFILE was made ends
 *       at its first step. The ranks check their memory at the end; rank 0 prints
 *       "ckptjob: ok STEPS" or "ckptjob: BAD memory".
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t word(uint64_t i, int rank)
{
    uint64_t z = i * 0x9e3779b97f4a7c15ULL + (uint64_t)rank * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    double t0 = now_ms();
    MPI_Init(&argc, &argv);
    double init_ms = now_ms() - t0, longest = 0;
    int me, np;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    if (argc == 2 && strcmp(argv[1], "start") == 0) {
        MPI_Reduce(&init_ms, &longest, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
        if (me == 0)
            printf("ckptjob: MPI_Init ms %.1f\n", longest);
        MPI_Finalize();
        return 0;
    }
    if (argc != 5 || strcmp(argv[1], "loop") != 0) {
        if (me == 0)
            fprintf(stderr, "usage: ckptjob start | ckptjob loop MIB WINDOWS STOPFILE\n");
        MPI_Finalize();
        return 2;
    }
    size_t words = (size_t)(atof(argv[2]) * 1024 * 1024) / sizeof(uint64_t);
    int nwin = atoi(argv[3]);
    const char *stop = argv[4];
    uint64_t *mem = malloc(words * sizeof *mem + 1);
    if (!mem) {
        fprintf(stderr, "ckptjob: rank %d: no memory for %s MiB\n", me, argv[2]);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    for (size_t i = 0; i < words; i++)
        mem[i] = word(i, me);
    MPI_Win *win = calloc((size_t)(nwin > 0 ? nwin : 1), sizeof *win);
    double **base = calloc((size_t)(nwin > 0 ? nwin : 1), sizeof *base);
    for (int w = 0; w < nwin; w++)
        MPI_Win_allocate(4096, sizeof(double), MPI_INFO_NULL, MPI_COMM_WORLD, &base[w], &win[w]);
    MPI_Barrier(MPI_COMM_WORLD);
    if (me == 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s.ready", stop);
        FILE *f = fopen(path, "w");
        if (f)
            fclose(f);
    }
    double acc = 0;
    long step;
    for (step = 0;; step++) {
        int go_on = me != 0 || access(stop, F_OK) != 0;
        MPI_Bcast(&go_on, 1, MPI_INT, 0, MPI_COMM_WORLD);
        if (!go_on)
            break;
        double x = me + step, y, z;
        MPI_Allreduce(&x, &y, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        MPI_Sendrecv(&x, 1, MPI_DOUBLE, (me + 1) % np, 1, &z, 1, MPI_DOUBLE, (me + np - 1) % np, 1,
                     MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        for (int w = 0; w < nwin; w++) {
            MPI_Win_fence(0, win[w]);
            MPI_Put(&x, 1, MPI_DOUBLE, (me + 1) % np, (MPI_Aint)(step % 512), 1, MPI_DOUBLE, win[w]);
            MPI_Win_fence(0, win[w]);
        }
        acc += y + z;
        usleep(2000);
    }
    size_t bad = 0;
    for (size_t i = 0; i < words; i++)
        bad += mem[i] != word(i, me);
    long all_bad = 0, mine = (long)bad;
    MPI_Reduce(&mine, &all_bad, 1, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    for (int w = 0; w < nwin; w++)
        MPI_Win_free(&win[w]);
    if (me == 0)
        printf(all_bad ? "ckptjob: BAD memory (%ld words differ)\n" : "ckptjob: ok %ld steps\n",
               all_bad ? all_bad : step);
    free(mem);
    free(win);
    free(base);
    MPI_Finalize();
    return all_bad != 0 || acc < 0;
}
