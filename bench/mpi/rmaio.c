/* One-sided and MPI-IO micro-benchmarks for Revive's MPI layer (2 ranks): the time of an epoch
 * with one Put, Get or Accumulate of 8 B and 1 MiB from rank 0 to rank 1, in fence epochs
 * (fence, op, fence), lock epochs (lock, op, unlock) and post/start/complete/wait epochs (1 posts,
 * 0 starts, op, completes; 1 waits); MPI-IO bandwidth of collective writes
 * and reads (write_at_all, read_at_all) of 16 MiB per rank to a file in $TMPDIR.
 * Prints "name value unit" lines on rank 0 (best of 3 repetitions); bench/mpi/rmaio.sh runs it
 * natively and under Revive and prints the ratios. Usage: rmaio [SCALE] */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int me, np;

enum { PUT, GET, ACC };

static void op(int kind, void *buf, int n, MPI_Win win)
{
    if (me != 0)
        return;
    if (kind == PUT)
        MPI_Put(buf, n, MPI_BYTE, 1, 0, n, MPI_BYTE, win);
    else if (kind == GET)
        MPI_Get(buf, n, MPI_BYTE, 1, 0, n, MPI_BYTE, win);
    else
        MPI_Accumulate(buf, n / 8, MPI_LONG, 1, 0, n / 8, MPI_LONG, MPI_SUM, win);
}

/* seconds per epoch */
static double rma(int kind, int lock, int bytes, int iters, MPI_Win win, char *buf)
{
    double best = 1e30;
    /* the other rank as a group, made once as a program would (pscw) */
    MPI_Group g, peer;
    int other = me == 0 ? 1 : 0;
    MPI_Comm_group(MPI_COMM_WORLD, &g);
    MPI_Group_incl(g, 1, &other, &peer);
    MPI_Group_free(&g);
    for (int rep = 0; rep < 3; rep++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        for (int i = 0; i < iters; i++) {
            if (lock == 1) {
                if (me == 0) {
                    MPI_Win_lock(MPI_LOCK_SHARED, 1, 0, win);
                    op(kind, buf, bytes, win);
                    MPI_Win_unlock(1, win);
                }
            } else if (lock == 2) { /* post/start/complete/wait: 0 accesses 1, 1 exposes */
                if (me == 0) {
                    MPI_Win_start(peer, 0, win);
                    op(kind, buf, bytes, win);
                    MPI_Win_complete(win);
                } else if (me == 1) {
                    MPI_Win_post(peer, 0, win);
                    MPI_Win_wait(win);
                }
            } else {
                MPI_Win_fence(0, win);
                op(kind, buf, bytes, win);
                MPI_Win_fence(0, win);
            }
        }
        double t = (MPI_Wtime() - t0) / iters;
        MPI_Bcast(&t, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
        if (t < best)
            best = t;
    }
    MPI_Group_free(&peer);
    return best;
}

/* MB/s of all ranks together */
static double io(int write, const char *path, size_t bytes, int iters)
{
    char *buf = malloc(bytes);
    memset(buf, me + 1, bytes);
    MPI_File fh;
    MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL, &fh);
    double best = 1e30;
    /* the other rank as a group, made once as a program would (pscw) */
    MPI_Group g, peer;
    int other = me == 0 ? 1 : 0;
    MPI_Comm_group(MPI_COMM_WORLD, &g);
    MPI_Group_incl(g, 1, &other, &peer);
    MPI_Group_free(&g);
    for (int rep = 0; rep < 3; rep++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        for (int i = 0; i < iters; i++) {
            MPI_Offset off = ((MPI_Offset)i * np + me) * (MPI_Offset)bytes;
            if (write)
                MPI_File_write_at_all(fh, off, buf, (int)bytes, MPI_BYTE, MPI_STATUS_IGNORE);
            else
                MPI_File_read_at_all(fh, off, buf, (int)bytes, MPI_BYTE, MPI_STATUS_IGNORE);
        }
        double t = MPI_Wtime() - t0;
        MPI_Allreduce(MPI_IN_PLACE, &t, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        if (t < best)
            best = t;
    }
    MPI_File_close(&fh);
    free(buf);
    return (double)bytes * np * iters / best / 1e6;
}

/* n iterations at scale 1; at least one */
static int iters(int n, double scale)
{
    double k = n * scale;
    return k < 1 ? 1 : (int)k;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    /* a fraction is a shorter run (SCALE=0.1 in bench/mpi/lib.sh): read as a number, and every
     * measure keeps at least one iteration (atoi made 0.5 zero iterations: divisions by zero) */
    double scale = argc > 1 ? atof(argv[1]) : 1.0;
    if (!(scale > 0)) {
        if (me == 0)
            fprintf(stderr, "rmaio: SCALE must be a number above 0 (got '%s')\n", argv[1]);
        MPI_Finalize();
        return 2;
    }
    if (np < 2) {
        if (me == 0)
            fprintf(stderr, "rmaio: needs 2 ranks\n");
        MPI_Finalize();
        return 1;
    }
    int big = 1 << 20;
    char *buf = calloc((size_t)big, 1), *mem;
    MPI_Win win;
    MPI_Win_allocate(big, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &mem, &win);
    memset(mem, 0, (size_t)big);
    static const char *const names[] = { "put", "get", "acc" };
    static const char *const epochs[] = { "fence", "lock", "pscw" };
    for (int lock = 0; lock < 3; lock++)
        for (int k = 0; k < 3; k++) {
            double small = rma(k, lock, 8, iters(200, scale), win, buf);
            double large = rma(k, lock, big, iters(10, scale), win, buf);
            if (me == 0) {
                printf("%s_%s_8B %.3f us\n", names[k], epochs[lock], small * 1e6);
                printf("%s_%s_1MiB %.3f us\n", names[k], epochs[lock], large * 1e6);
            }
        }
    MPI_Win_free(&win);
    char path[256];
    if (me == 0) {
        const char *d = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/revive-rmaio-%d.dat", d && *d ? d : "/tmp", (int)getpid());
    }
    MPI_Bcast(path, sizeof path, MPI_CHAR, 0, MPI_COMM_WORLD);
    double w = io(1, path, (size_t)16 << 20, iters(2, scale));
    double r = io(0, path, (size_t)16 << 20, iters(2, scale));
    if (me == 0) {
        printf("io_write_all_16MiB %.1f MB/s\n", w);
        printf("io_read_all_16MiB %.1f MB/s\n", r);
        unlink(path);
    }
    free(buf);
    MPI_Finalize();
    return 0;
}
