/* A rank program for rst_cross.sh: intercommunicators and MPI_Comm_create_group communicators
 * made in a loop, one group of ranks entering the call late.
 *
 *   rst_cross ROUNDS SEED PACEFILE MS
 *
 * The ranks are split in halves (even and odd world ranks) once. Each round: one half (which,
 * and for how long, changes with the round and SEED) computes a few tens of milliseconds
 * outside MPI before MPI_Intercomm_create from the halves, while the other is already inside it;
 * the intercommunicator is merged and summed over; then, every third round, each half passes a
 * barrier of its own; a prefix of the world ranks (0..k, k changing with the round) makes an
 * MPI_Comm_create_group communicator, its members entering at different times, and sums over
 * it; the round ends with a sum over MPI_COMM_WORLD, and rank 0 prints one line per round.
 * Between rounds each rank sleeps MS milliseconds while PACEFILE exists, and before the last
 * round for as long as it exists (the job cannot end before its snapshot, however slow the
 * machine: the test removes the file once the snapshot is taken or given up).
 *
 * What it shows (campaign-failures.md #10): a checkpoint requested while one group waited inside
 * MPI_Intercomm_create (or MPI_Comm_create_group) for ranks that had not entered it never
 * converged: those ranks stopped at their targets (at the call's entry, or at the barrier of
 * their own half before it) and the waiting group could not leave the call. The output does
 * not depend on SEED or the delays. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int rank, size;

static void check(int rc, const char *what, int round)
{
    if (rc != MPI_SUCCESS) {
        fprintf(stderr, "rst_cross rank %d: FAIL: %s in round %d (error %d)\n", rank, what, round, rc);
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
}

static void pause_ms(int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* 0..n-1 from the round, the seed and a salt, alike on every rank */
static unsigned pick(int round, unsigned seed, unsigned salt, unsigned n)
{
    unsigned x = (unsigned)round * 2654435761u ^ seed * 40503u ^ salt * 97u;
    x ^= x >> 15;
    x *= 2246822519u;
    x ^= x >> 13;
    return x % n;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: rst_cross ROUNDS SEED PACEFILE MS\n");
        return 2;
    }
    int rounds = atoi(argv[1]), ms = atoi(argv[4]);
    unsigned seed = (unsigned)strtoul(argv[2], NULL, 10);
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size < 2) {
        fprintf(stderr, "rst_cross: needs 2 ranks or more\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    MPI_Comm half;
    check(MPI_Comm_split(MPI_COMM_WORLD, rank % 2, rank, &half), "MPI_Comm_split", 0);
    MPI_Group world;
    MPI_Comm_group(MPI_COMM_WORLD, &world);
    for (int r = 1; r <= rounds; r++) {
        /* the late half computes 0-60 ms before the call; the other is inside it meanwhile */
        int late = (int)pick(r, seed, 1, 2);
        if (rank % 2 == late)
            pause_ms(20 * (int)pick(r, seed, 2, 4));
        MPI_Comm inter, merged;
        check(MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, rank % 2 ? 0 : 1, r % 1000, &inter),
              "MPI_Intercomm_create", r);
        check(MPI_Intercomm_merge(inter, rank % 2, &merged), "MPI_Intercomm_merge", r);
        long x = (long)r * (rank + 1), a = 0, b = 0, c = 0;
        check(MPI_Allreduce(&x, &a, 1, MPI_LONG, MPI_SUM, merged), "MPI_Allreduce (merged)", r);
        check(MPI_Comm_free(&merged), "MPI_Comm_free", r);
        check(MPI_Comm_free(&inter), "MPI_Comm_free", r);
        /* a prefix 0..k makes a communicator of its own, its members entering at times of
         * their own; every third round each half passes a barrier before */
        int k = 1 + r % (size - 1);
        if (r % 3 == 0) {
            if (rank % 2 == late)
                pause_ms(20 * (int)pick(r, seed, 4, 4));
            check(MPI_Barrier(half), "MPI_Barrier (half)", r);
        }
        if (rank <= k) {
            if ((int)pick(r, seed, 5 + (unsigned)rank, 3) == 0)
                pause_ms(20 * (int)pick(r, seed, 6 + (unsigned)rank, 4));
            MPI_Group g;
            MPI_Comm cg;
            int range[1][3] = { { 0, k, 1 } };
            check(MPI_Group_range_incl(world, 1, range, &g), "MPI_Group_range_incl", r);
            check(MPI_Comm_create_group(MPI_COMM_WORLD, g, 7, &cg), "MPI_Comm_create_group", r);
            check(MPI_Allreduce(&x, &b, 1, MPI_LONG, MPI_SUM, cg), "MPI_Allreduce (create_group)", r);
            check(MPI_Comm_free(&cg), "MPI_Comm_free", r);
            check(MPI_Group_free(&g), "MPI_Group_free", r);
        }
        long y = a + b;
        check(MPI_Allreduce(&y, &c, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce (world)", r);
        if (rank == 0) {
            printf("step %d: %ld %ld %ld\n", r, a, b, c);
            fflush(stdout);
        }
        if (access(argv[3], F_OK) == 0)
            pause_ms(ms);
        while (r == rounds - 1 && access(argv[3], F_OK) == 0)
            pause_ms(ms);
    }
    MPI_Group_free(&world);
    MPI_Comm_free(&half);
    if (rank == 0)
        printf("done: %d rounds\n", rounds);
    MPI_Finalize();
    return 0;
}
