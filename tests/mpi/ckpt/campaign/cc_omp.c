/* Hybrid MPI + OpenMP with MPI_THREAD_MULTIPLE, as users write it, for the campaign
 * (tests/mpi/ckpt/campaign). cc_thread starts its own pthreads; here the threads are OpenMP's
 * (a team that libgomp keeps between parallel regions, idle in its barriers or spinning when a
 * checkpoint comes). Each round, in parallel regions of 3 threads:
 *   - one lane per thread (schedule(static, 1)): the lane updates its slice of the rank's array
 *     (integer hashes), then calls MPI on a communicator of its own (a dup of MPI_COMM_WORLD): the
 *     slice's checksum round the ring by MPI_Sendrecv and an MPI_Allreduce, both inside the
 *     parallel region, all lanes at once;
 *   - a dynamic loop of 8 items over one shared communicator: each item an MPI_Sendrecv with the
 *     item's tag, by whichever thread takes it (several threads in MPI on one communicator);
 *   - the master thread's MPI_Bcast on MPI_COMM_WORLD while the other threads compute
 *     (omp master, then a barrier).
 * Results do not depend on which thread does what, nor on the number of threads: without
 * OpenMP (configure found no flag for it) or without MPI_THREAD_MULTIPLE (said on stderr) the
 * same work runs on one thread, with the same output.
 * Usage: cc_omp ROUNDS */
#ifdef _OPENMP
#include <omp.h>
#endif

#include "tests/mpi/ckpt/campaign/cc.h"

#define NL 3    /* lanes (threads) */
#define SLICE 2048
#define ITEMS 8

int main(int argc, char **argv)
{
    (void)start; /* mpitest.h's MPI_Init: this program needs MPI_Init_thread */
    int provided = -1;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    int nt = provided == MPI_THREAD_MULTIPLE ? NL : 1;
    if (nt == 1 && me == 0)
        fprintf(stderr, "cc_omp: MPI_THREAD_MULTIPLE not provided (%d): one thread\n", provided);
    int right = (me + 1) % np, left = (me + np - 1) % np;
    MPI_Comm lc[NL], shared;
    for (int l = 0; l < NL; l++)
        CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &lc[l]));
    CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &shared));
    uint64_t *a = malloc(sizeof *a * NL * SLICE);
    for (long i = 0; i < NL * SLICE; i++)
        a[i] = cc_hash(me, i, 0);
    long errs = 0;
    for (int r = 0; r < rounds; r++) {
        uint64_t lane_in[NL], lane_sum[NL], item_in[ITEMS];
        /* one lane per thread, each with MPI on its own communicator */
#pragma omp parallel for num_threads(nt) schedule(static, 1) reduction(+ : errs)
        for (int l = 0; l < NL; l++) {
            uint64_t s = 0;
            for (long i = (long)l * SLICE; i < (long)(l + 1) * SLICE; i++) {
                a[i] = cc_hash((long)a[i], r, l);
                s += a[i] >> 8;
            }
            if ((r + l + me) % 4 == 0)
                cc_spin(40);
            uint64_t in = 0, tot = 0, one = 1;
            CHECK(MPI_Sendrecv(&s, 1, MPI_UINT64_T, right, r % 100, &in, 1, MPI_UINT64_T, left, r % 100, lc[l],
                               MPI_STATUS_IGNORE));
            CHECK(MPI_Allreduce(&one, &tot, 1, MPI_UINT64_T, MPI_SUM, lc[l]));
            if (tot != (uint64_t)np)
                errs++;
            lane_in[l] = in;
            lane_sum[l] = s;
        }
        /* items over one communicator, by whichever thread takes them */
#pragma omp parallel for num_threads(nt) schedule(dynamic) reduction(+ : errs)
        for (int k = 0; k < ITEMS; k++) {
            long out = (long)cc_hash(me, r, 100 + k), in = -1;
            CHECK(MPI_Sendrecv(&out, 1, MPI_LONG, right, k, &in, 1, MPI_LONG, left, k, shared, MPI_STATUS_IGNORE));
            if (in != (long)cc_hash(left, r, 100 + k))
                errs++;
            item_in[k] = (uint64_t)in;
        }
        /* the master's Bcast on MPI_COMM_WORLD while the others compute */
        long b = me == r % np ? (long)lane_sum[0] : -1;
#pragma omp parallel num_threads(nt)
        {
#pragma omp master
            CHECK(MPI_Bcast(&b, 1, MPI_LONG, r % np, MPI_COMM_WORLD));
#ifdef _OPENMP
            int t = omp_get_thread_num();
#else
            int t = 0;
#endif
            if (t != 0)
                cc_spin(20);
#pragma omp barrier
        }
        for (int l = 0; l < NL; l++) {
            mix(&lane_in[l], sizeof lane_in[l]);
            mix(&lane_sum[l], sizeof lane_sum[l]);
        }
        mix(item_in, sizeof item_in);
        mixi(b);
    }
    cc_errors += errs;
    EXPECT(errs == 0, "%ld wrong values from the lanes' and items' MPI calls", errs);
    report("omp");
    for (int l = 0; l < NL; l++)
        MPI_Comm_free(&lc[l]);
    MPI_Comm_free(&shared);
    free(a);
    cc_finish();
    MPI_Finalize();
    return 0;
}
