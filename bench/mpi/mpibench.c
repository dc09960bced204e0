/* MPI micro-benchmarks for Revive's MPI layer: ping-pong one-way latency (8 B) and bandwidth
 * (1 MiB, 16 MiB) between ranks 0 and 1, Allreduce (8 B, 1 MiB), and a small application
 * (a 1-D stencil with halo exchange and a residual Allreduce) timed end to end.
 * Prints "name value unit" lines on rank 0; bench/mpi/run.sh runs it natively and under Revive
 * and prints the ratios. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int me, np;

static double pingpong(size_t bytes, int iters)
{
    char *buf = malloc(bytes);
    memset(buf, 1, bytes);
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        for (int i = 0; i < iters; i++) {
            if (me == 0) {
                MPI_Send(buf, (int)bytes, MPI_CHAR, 1, 0, MPI_COMM_WORLD);
                MPI_Recv(buf, (int)bytes, MPI_CHAR, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            } else if (me == 1) {
                MPI_Recv(buf, (int)bytes, MPI_CHAR, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                MPI_Send(buf, (int)bytes, MPI_CHAR, 0, 0, MPI_COMM_WORLD);
            }
        }
        double t = (MPI_Wtime() - t0) / (2.0 * iters);
        MPI_Bcast(&t, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
        if (t < best)
            best = t;
    }
    free(buf);
    return best; /* seconds, one way */
}

static double allreduce(int count, int iters)
{
    double *a = calloc((size_t)count, sizeof *a), *b = calloc((size_t)count, sizeof *b);
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        for (int i = 0; i < iters; i++)
            MPI_Allreduce(a, b, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        double t = (MPI_Wtime() - t0) / iters;
        MPI_Bcast(&t, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
        if (t < best)
            best = t;
    }
    free(a);
    free(b);
    return best;
}

static double app(int n, int steps)
{
    double *u = calloc((size_t)n + 2, sizeof *u), *v = calloc((size_t)n + 2, sizeof *v);
    for (int i = 1; i <= n; i++)
        u[i] = (me * n + i) % 17;
    int left = me > 0 ? me - 1 : MPI_PROC_NULL, right = me < np - 1 ? me + 1 : MPI_PROC_NULL;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime(), res = 0;
    for (int s = 0; s < steps; s++) {
        MPI_Request q[4];
        MPI_Irecv(&u[0], 1, MPI_DOUBLE, left, 0, MPI_COMM_WORLD, &q[0]);
        MPI_Irecv(&u[n + 1], 1, MPI_DOUBLE, right, 1, MPI_COMM_WORLD, &q[1]);
        MPI_Isend(&u[1], 1, MPI_DOUBLE, left, 1, MPI_COMM_WORLD, &q[2]);
        MPI_Isend(&u[n], 1, MPI_DOUBLE, right, 0, MPI_COMM_WORLD, &q[3]);
        MPI_Waitall(4, q, MPI_STATUSES_IGNORE);
        double local = 0;
        for (int i = 1; i <= n; i++) {
            v[i] = 0.5 * u[i] + 0.25 * (u[i - 1] + u[i + 1]);
            local += (v[i] - u[i]) * (v[i] - u[i]);
        }
        double *t = u; u = v; v = t;
        if (s % 10 == 0)
            MPI_Allreduce(&local, &res, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    }
    double t = MPI_Wtime() - t0;
    MPI_Bcast(&t, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    if (me == 0)
        fprintf(stderr, "app residual %.6e\n", res);
    free(u);
    free(v);
    return t;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    double scale = argc > 1 ? atof(argv[1]) : 1.0;
    int it = (int)(20000 * scale) + 1;
    double lat = pingpong(8, it);
    double bw1 = 1048576.0 / pingpong(1 << 20, (int)(400 * scale) + 1);
    double bw16 = 16777216.0 / pingpong(1 << 24, (int)(30 * scale) + 1);
    double ar8 = allreduce(1, it);
    double ar1m = allreduce(131072, (int)(200 * scale) + 1);
    double ap = app(200000, (int)(300 * scale) + 1);
    if (me == 0) {
        printf("latency_8B %.4f us\n", lat * 1e6);
        printf("bandwidth_1MiB %.1f MB/s\n", bw1 / 1e6);
        printf("bandwidth_16MiB %.1f MB/s\n", bw16 / 1e6);
        printf("allreduce_8B %.4f us\n", ar8 * 1e6);
        printf("allreduce_1MiB %.2f us\n", ar1m * 1e6);
        printf("app_end_to_end %.4f s\n", ap);
    }
    MPI_Finalize();
    return 0;
}
