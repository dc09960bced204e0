/* A rank that spends most of each step waiting for helper commands (popen of a short shell
 * command, then system()), as a job calling an external tool every step does: a snapshot
 * requested at any moment finds a rank with a child process, which one process's image cannot
 * hold, so the capture waits until the command has ended and was reaped (pml_capture).
 *   rst_popen STEPS PACEFILE MS
 * Rank 0 prints "step N: SUM" per step and "done: ACC"; while PACEFILE exists each step also
 * sleeps MS ms (ckptenv.sh's pace: the restarted generation runs at full speed).
 * With RST_POPEN_KEEP set, rank 0 also keeps a `cat` open (popen) from the start to the end: a
 * snapshot takes it along (rank_alone.sh). With RST_POPEN_TIMER set, every rank runs
 * a SIGEV_THREAD POSIX timer (10 ms) whose callback counts; a step that finds the count not grown
 * since the step before (each step takes more than 70 ms) says so and spoils its sum. */
#include <mpi.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "rst_pace.h"

static atomic_long ticks;

static void tick(union sigval v)
{
    (void)v;
    atomic_fetch_add(&ticks, 1);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int me;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    int steps = argc > 1 ? atoi(argv[1]) : 40;
    const char *pace = argc > 2 ? argv[2] : NULL;
    long ms = argc > 3 ? atol(argv[3]) : 0;
    long acc = 0;
    FILE *kept = me == 0 && getenv("RST_POPEN_KEEP") ? popen("cat >/dev/null", "w") : NULL;
    long seen = -1;
    if (getenv("RST_POPEN_TIMER")) {
        struct sigevent se = { .sigev_notify = SIGEV_THREAD, .sigev_notify_function = tick };
        timer_t t;
        struct itimerspec it = { { 0, 10000000 }, { 0, 10000000 } };
        if (timer_create(CLOCK_MONOTONIC, &se, &t) != 0 || timer_settime(t, 0, &it, NULL) != 0) {
            perror("timer");
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
        seen = 0;
    }
    for (int s = 1; s <= steps; s++) {
        char cmd[80];
        snprintf(cmd, sizeof cmd, "sleep 0.05; expr %d + %d", s, me);
        long x = -1;
        FILE *p = popen(cmd, "r");
        if (!p || fscanf(p, "%ld", &x) != 1)
            x = -1;
        if (p)
            pclose(p);
        if (system("sleep 0.02") != 0)
            x = -1000;
        if (seen >= 0) {
            long now = atomic_load(&ticks);
            if (now == seen) {
                fprintf(stderr, "rank %d step %d: the timer's callback did not run since the last step\n", me, s);
                x = -5000;
            }
            seen = now;
        }
        long sum = 0;
        MPI_Allreduce(&x, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        acc = acc * 3 + sum;
        if (me == 0) {
            printf("step %d: %ld\n", s, sum);
            fflush(stdout);
        }
        rst_pace(pace, ms, steps - s);
    }
    if (kept)
        pclose(kept);
    if (me == 0)
        printf("done: %ld\n", acc);
    MPI_Finalize();
    return 0;
}
