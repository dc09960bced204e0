/* stop_unsup STEPS GOFILE: a step loop (an MPI_Allreduce a step, "step S: SUM" from rank 0, 100 ms
 * apart); once GOFILE exists, rank 0 calls MPI_Comm_spawn, which Revive does not support: the
 * layer stops the job. stop_unsup.sh asks for a checkpoint while that stop is under way. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int me, n;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    int steps = argc > 2 ? atoi(argv[1]) : 10;
    const char *go = argc > 2 ? argv[2] : "/nonexistent";
    for (int s = 1; s <= steps; s++) {
        int go_now = me == 0 && access(go, F_OK) == 0;
        if (go_now) {
            MPI_Comm inter;
            char *args[] = { NULL };
            MPI_Comm_spawn("true", args, 1, MPI_INFO_NULL, 0, MPI_COMM_SELF, &inter,
                           MPI_ERRCODES_IGNORE);
            printf("spawned\n");
        }
        long v = (long)s * (me + 1), sum = 0;
        MPI_Allreduce(&v, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        if (me == 0) {
            printf("step %d: %ld\n", s, sum);
            fflush(stdout);
        }
        struct timespec d = { 0, 100 * 1000 * 1000 };
        nanosleep(&d, NULL);
    }
    if (me == 0)
        printf("done: %d\n", steps);
    MPI_Finalize();
    return 0;
}
