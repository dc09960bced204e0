/* One-sided communication for checkpoints at random moments (tests/mpi/ckpt): snapshots land
 * inside epochs, with operations issued and not yet completed; the windows' contents and the
 * checksums must not change.
 *   - an allocated window under fence epochs: Put and Accumulate, then an Allreduce on the
 *     communicator before the closing fence (a snapshot there completes the epoch itself)
 *   - a window held under MPI_Win_lock_all for the whole run (as Global Arrays does): Accumulate and Fetch_and_op with flushes, Allreduces in between
 *   - post/start/complete/wait on the allocated window with both neighbours
 *   - an exclusive lock on a third window around a Put, with a Barrier inside the epoch
 *   - a fourth window used in turn by fence epochs whose last fence does not say
 *     MPI_MODE_NOSUCCEED and by shared locks of the left neighbour (legal: that fence begins no
 *     epoch when no operation follows it); a snapshot finds ranks holding such a lock
 * Windows are allocated by MPI (Open MPI refuses MPI_Win_create without single-copy transfers,
 * which the tests leave off).
 * Usage: ck_rma [ROUNDS] */
#include "tests/mpi/mpitest.h"

#define N 16

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    int right = (me + 1) % np, left = (me + np - 1) % np;
    long *fm, *lm, *xm;
    long *mm;
    MPI_Win wf, wl, wx, wm;
    CHECK(MPI_Win_allocate(N * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &fm, &wf));
    CHECK(MPI_Win_allocate(N * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &lm, &wl));
    CHECK(MPI_Win_allocate(N * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &xm, &wx));
    CHECK(MPI_Win_allocate(N * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &mm, &wm));
    for (int i = 0; i < N; i++)
        fm[i] = lm[i] = xm[i] = mm[i] = 0;
    MPI_Barrier(MPI_COMM_WORLD); /* zeroed everywhere before anybody's first operation */
    MPI_Group wg, gl, gr;
    MPI_Win_get_group(wf, &wg);
    MPI_Group_incl(wg, 1, &left, &gl);
    MPI_Group_incl(wg, 1, &right, &gr);
    CHECK(MPI_Win_lock_all(0, wl));
    CHECK(MPI_Win_fence(MPI_MODE_NOPRECEDE, wf));
    long acc = 0;
    for (int r = 0; r < rounds; r++) {
        long src[4] = { r, me, r * me, r + me };
        /* fence epoch with a collective on the communicator before its end */
        CHECK(MPI_Put(src, 2, MPI_LONG, right, (r % 4) * 2, 2, MPI_LONG, wf));
        CHECK(MPI_Accumulate(src + 2, 2, MPI_LONG, left, 8 + (r % 4) * 2, 2, MPI_LONG, MPI_SUM, wf));
        spin(me + 1);
        long v = r * np + me, s = 0;
        CHECK(MPI_Allreduce(&v, &s, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));
        acc += s;
        CHECK(MPI_Win_fence(0, wf));
        mix(fm, N * sizeof(long));
        /* the lock_all window: accumulate into both neighbours, fetch-and-add on rank 0 */
        long one = 1, old = 0;
        CHECK(MPI_Accumulate(&v, 1, MPI_LONG, right, r % N, 1, MPI_LONG, MPI_SUM, wl));
        CHECK(MPI_Accumulate(&v, 1, MPI_LONG, left, (r + 5) % N, 1, MPI_LONG, MPI_SUM, wl));
        CHECK(MPI_Allreduce(&v, &s, 1, MPI_LONG, MPI_MAX, MPI_COMM_WORLD));
        CHECK(MPI_Fetch_and_op(&one, &old, MPI_LONG, 0, N - 1, MPI_SUM, wl));
        CHECK(MPI_Win_flush_all(wl));
        acc += s;
        /* post/start on the fence window: everybody exposes to the left, accesses the right */
        if (r % 5 == 2) {
            CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, wf));
            CHECK(MPI_Win_post(gl, 0, wf));
            CHECK(MPI_Win_start(gr, 0, wf));
            CHECK(MPI_Put(src, 1, MPI_LONG, right, N - 1, 1, MPI_LONG, wf));
            CHECK(MPI_Win_complete(wf));
            CHECK(MPI_Win_wait(wf));
            mix(fm, N * sizeof(long));
            CHECK(MPI_Win_fence(MPI_MODE_NOPRECEDE, wf));
        }
        /* fence epoch, then shared locks on the same window (newuser7c H1: MPICH aborted the job
         * when a snapshot fenced a window a rank held locked) */
        CHECK(MPI_Win_fence(0, wm));
        CHECK(MPI_Put(&v, 1, MPI_LONG, right, r % N, 1, MPI_LONG, wm));
        CHECK(MPI_Accumulate(&v, 1, MPI_LONG, left, (r + 7) % N, 1, MPI_LONG, MPI_SUM, wm));
        CHECK(MPI_Win_fence(0, wm));
        long got[2] = { 0, 0 };
        CHECK(MPI_Win_lock(MPI_LOCK_SHARED, left, 0, wm));
        CHECK(MPI_Get(got, 1, MPI_LONG, left, r % N, 1, MPI_LONG, wm));
        spin(40); /* a snapshot often finds the lock held */
        CHECK(MPI_Get(got + 1, 1, MPI_LONG, left, (r + 7) % N, 1, MPI_LONG, wm));
        CHECK(MPI_Win_unlock(left, wm));
        /* nobody's next epoch writes a window a neighbour still reads */
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        acc += got[0] * 3 + got[1];
        /* an exclusive lock with a collective inside the epoch */
        if (r % 3 == 1) {
            CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, right, 0, wx));
            CHECK(MPI_Put(&v, 1, MPI_LONG, right, r % N, 1, MPI_LONG, wx));
            CHECK(MPI_Barrier(MPI_COMM_WORLD));
            CHECK(MPI_Win_unlock(right, wx));
        }
    }
    CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, wf));
    CHECK(MPI_Win_unlock_all(wl));
    MPI_Barrier(MPI_COMM_WORLD);
    /* every window's memory, read under a lock of its own */
    CHECK(MPI_Win_lock(MPI_LOCK_SHARED, me, 0, wl));
    lm[N - 1] = me == 0 ? lm[N - 1] : 0; /* the fetch-and-add count lives on rank 0 only */
    mix(lm, N * sizeof(long));
    CHECK(MPI_Win_unlock(me, wl));
    CHECK(MPI_Win_lock(MPI_LOCK_SHARED, me, 0, wx));
    mix(xm, N * sizeof(long));
    CHECK(MPI_Win_unlock(me, wx));
    CHECK(MPI_Win_lock(MPI_LOCK_SHARED, me, 0, wm));
    mix(mm, N * sizeof(long));
    CHECK(MPI_Win_unlock(me, wm));
    mix(fm, N * sizeof(long));
    mixi(acc);
    report("windows");
    MPI_Group_free(&gl);
    MPI_Group_free(&gr);
    MPI_Group_free(&wg);
    CHECK(MPI_Win_free(&wf));
    CHECK(MPI_Win_free(&wl));
    CHECK(MPI_Win_free(&wx));
    CHECK(MPI_Win_free(&wm));
    MPI_Finalize();
    return 0;
}
