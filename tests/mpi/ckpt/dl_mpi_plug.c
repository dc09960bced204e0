/* The MPI code dl_mpi_host loads at run time (built with the MPI's mpicc -shared, linked against
 * its library, as mpi4py's MPI.cpython-*.so is): plug_main(STEPS PACEFILE MS) runs STEPS steps of
 * a ring exchange, an Allreduce, a Bcast and a nonblocking pair on a split communicator, and a
 * command run as Python's subprocess runs one (vfork; the child closes every descriptor above 2
 * with close_range, dup2s, execs /bin/true), sleeping MS ms after each step while PACEFILE exists;
 * rank 0 prints "step K: SUM" and "done: STEPS H0 H1..". */

#define _GNU_SOURCE /* close_range */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N 512

/* vfork, and in the child (the rank's memory) the libc calls Python's _posixsubprocess makes */
static int run_true(void)
{
    pid_t c = vfork();
    if (c == 0) {
        close_range(3, ~0U, 0);
        dup2(2, 1);
        execl("/bin/true", "true", (char *)NULL);
        _exit(127);
    }
    int st = -1;
    if (c < 0 || waitpid(c, &st, 0) != c)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int plug_main(int argc, char **argv);

int plug_main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: dl_mpi_host PLUGIN STEPS PACEFILE MS\n");
        return 2;
    }
    int steps = atoi(argv[1]), ms = atoi(argv[3]);
    const char *pace = argv[2];
    MPI_Init(NULL, NULL);
    int r, n;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    MPI_Comm_size(MPI_COMM_WORLD, &n);
    MPI_Comm half;
    MPI_Comm_split(MPI_COMM_WORLD, r % 2, r, &half);
    static double x[N], y[N];
    for (int i = 0; i < N; i++)
        x[i] = r + 0.5 * i;
    /* the MPI library revive-exec preloaded is out of the LD_PRELOAD the rank's commands inherit
     * once MPI_Init ran (natively there is none): 1 in the hashes if it is still there */
    const char *lp = getenv("LD_PRELOAD");
    uint64_t h = lp && (strstr(lp, "libmpi.so") || strstr(lp, "libmpich.so"));
    for (int s = 0; s < steps; s++) {
        int right = (r + 1) % n, left = (r + n - 1) % n;
        MPI_Sendrecv(x, N, MPI_DOUBLE, right, s, y, N, MPI_DOUBLE, left, s, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
        double loc = 0, tot;
        for (int i = 0; i < N; i++) {
            x[i] = 0.5 * x[i] + 0.25 * y[i] + s;
            loc += x[i];
        }
        MPI_Allreduce(&loc, &tot, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        long b = r == 0 ? (long)tot + s : 0;
        MPI_Bcast(&b, 1, MPI_LONG, 0, MPI_COMM_WORLD);
        int out = s * (r + 1), in = -1, part;
        MPI_Request q[2];
        MPI_Irecv(&in, 1, MPI_INT, left, 7, MPI_COMM_WORLD, &q[0]);
        MPI_Isend(&out, 1, MPI_INT, right, 7, MPI_COMM_WORLD, &q[1]);
        MPI_Waitall(2, q, MPI_STATUSES_IGNORE);
        MPI_Allreduce(&out, &part, 1, MPI_INT, MPI_SUM, half);
        h = h * 1000003u + (uint64_t)b + 3u * (uint64_t)in + (uint64_t)part + (uint64_t)run_true();
        if (r == 0) {
            printf("step %d: %.6e\n", s, tot);
            fflush(stdout);
        }
        if (access(pace, F_OK) == 0) {
            struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    uint64_t *all = malloc(sizeof *all * (size_t)n);
    MPI_Gather(&h, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    if (r == 0) {
        printf("done: %d", steps);
        for (int i = 0; i < n; i++)
            printf(" %llu", (unsigned long long)all[i]);
        printf("\n");
        fflush(stdout);
    }
    free(all);
    MPI_Comm_free(&half);
    MPI_Finalize();
    return 0;
}
