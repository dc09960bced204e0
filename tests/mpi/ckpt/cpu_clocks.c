/* cpu_clocks STEPS PACEFILE MS: each step burns 20 ms of the rank's CPU (the first 1 s) and reads its CPU-time
 * clocks (clock(), CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID, times(), getrusage of
 * RUSAGE_SELF and RUSAGE_THREAD), counting the reads smaller than the same clock's read before
 * (one tick of times()'s rounding allowed); an Allreduce; sleeps MS ms while PACEFILE exists.
 * Rank 0 prints "step K: SUM" and "done: STEPS B0 B1 ..", Bi rank i's count of clocks that went
 * back: 0 natively, and after a restart (newuser8 F2: the kernel's counts start again from 0 in
 * a restarted process). Built with the MPI's mpicc (cpu_clocks.sh). */
#define _GNU_SOURCE
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#define NCLK 6
static volatile uint64_t sink;

static int64_t ts_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t ru_ns(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
           ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

static void read_all(int64_t v[NCLK])
{
    struct tms t;
    times(&t);
    long tck = sysconf(_SC_CLK_TCK);
    v[0] = (int64_t)clock() * (1000000000 / CLOCKS_PER_SEC);
    v[1] = ts_ns(CLOCK_PROCESS_CPUTIME_ID);
    v[2] = ts_ns(CLOCK_THREAD_CPUTIME_ID);
    v[3] = ((int64_t)t.tms_utime + t.tms_stime) * (1000000000 / tck);
    v[4] = ru_ns(RUSAGE_SELF);
    v[5] = ru_ns(RUSAGE_THREAD);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: cpu_clocks STEPS PACEFILE MS\n");
        return 2;
    }
    int steps = atoi(argv[1]), ms = atoi(argv[3]);
    MPI_Init(&argc, &argv);
    int r, n;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    int64_t prev[NCLK], now[NCLK];
    read_all(prev);
    int back = 0;
    for (int s = 0; s < steps; s++) {
        /* the first step 1 s: more than a restart's own work (the fresh MPI library's load),
         * which the kernel's counts of a restarted rank start from */
        int64_t end = ts_ns(CLOCK_THREAD_CPUTIME_ID) + (s == 0 ? 1000000000 : 20000000);
        uint64_t x = (uint64_t)s;
        while (ts_ns(CLOCK_THREAD_CPUTIME_ID) < end)
            for (int i = 0; i < 10000; i++)
                x = x * 6364136223846793005u + 1442695040888963407u;
        sink = x;
        read_all(now);
        for (int i = 0; i < NCLK; i++) {
            if (now[i] < prev[i])
                back++;
            /* times(): one tick of rounding allowed */
            prev[i] = i == 3 ? now[i] - 1000000000 / sysconf(_SC_CLK_TCK) : now[i];
        }
        long v = (long)(r + 1) * (s + 1), sum;
        MPI_Allreduce(&v, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        if (r == 0) {
            printf("step %d: %ld\n", s, sum);
            fflush(stdout);
        }
        if (access(argv[2], F_OK) == 0) {
            struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    int *all = malloc(sizeof *all * (size_t)n);
    MPI_Gather(&back, 1, MPI_INT, all, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (r == 0) {
        printf("done: %d", steps);
        for (int i = 0; i < n; i++)
            printf(" %d", all[i]);
        printf("\n");
        fflush(stdout);
    }
    free(all);
    MPI_Finalize();
    return 0;
}
