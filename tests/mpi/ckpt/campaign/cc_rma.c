/* One-sided communication mixed with collectives as users write it, for the campaign
 * (tests/mpi/ckpt/campaign). Each round:
 *   - a distributed histogram: every rank adds its items' counts into bins spread over the ranks
 *     with MPI_Accumulate in a fence epoch (MPI_Win_allocate), with an MPI_Allreduce inside the
 *     epoch before the closing fence; every rank knows all items, so checks its own bins; then,
 *     in the next fence epoch, MPI_Get of the right neighbour's bins, checked too;
 *   - a task queue: a counter on rank 0 (a second window) that every rank takes tasks from with
 *     MPI_Fetch_and_op under a shared MPI_Win_lock, one task at a time, until the round's tasks
 *     are gone; which rank does which task depends on timing, so only the sums over the ranks
 *     (MPI_Allreduce) are kept; then rank 0 resets the counter under an exclusive lock of its own
 *     window (the round after next uses it again: every rank is past this round's Allreduce).
 * A checkpoint may come inside an epoch with accumulates issued and not completed, while a rank
 * holds the lock or waits for it, or while one rank works on a task and the others wait in the
 * Allreduce.
 * Usage: cc_rma ROUNDS */
#include "tests/mpi/ckpt/campaign/cc.h"

#define NB 32    /* bins per rank */
#define ITEMS 24 /* items per rank and round */
#define TASKS 40 /* tasks per round */

static long task_cost(long id) { return (long)(cc_hash(id, 5, 5) % 1000); }

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    int right = (me + 1) % np;
    long *bins, *ctr;
    MPI_Win wh, wq;
    CHECK(MPI_Win_allocate(NB * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &bins, &wh));
    CHECK(MPI_Win_allocate((me == 0 ? 2 : 0) * sizeof(long), sizeof(long), MPI_INFO_NULL,
                           MPI_COMM_WORLD, &ctr, &wq));
    for (int b = 0; b < NB; b++)
        bins[b] = 0;
    if (me == 0)
        ctr[0] = ctr[1] = 0;
    long *want = calloc((size_t)np * NB, sizeof *want); /* every rank's bins, as they must be */
    long nbr[NB];
    CHECK(MPI_Barrier(MPI_COMM_WORLD)); /* zeroed everywhere before any operation */
    CHECK(MPI_Win_fence(MPI_MODE_NOPRECEDE, wh));
    for (int r = 0; r < rounds; r++) {
        /* the histogram */
        const long one = 1;
        for (int k = 0; k < ITEMS; k++) {
            uint64_t h = cc_hash(me, r, k);
            int t = (int)(h % (uint64_t)np), b = (int)((h >> 16) % NB);
            CHECK(MPI_Accumulate(&one, 1, MPI_LONG, t, b, 1, MPI_LONG, MPI_SUM, wh));
        }
        for (int s = 0; s < np; s++)
            for (int k = 0; k < ITEMS; k++) {
                uint64_t h = cc_hash(s, r, k);
                want[(h % (uint64_t)np) * NB + (h >> 16) % NB]++;
            }
        if ((r + me) % 4 == 0)
            cc_spin(80);
        /* inside the epoch (the bins may not be read: the others' accumulates land there) */
        long mine = ITEMS + r, tot = 0;
        CHECK(MPI_Allreduce(&mine, &tot, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));
        EXPECT(tot == (long)np * (ITEMS + r), "round %d: Allreduce %ld", r, tot);
        CHECK(MPI_Win_fence(0, wh));
        long bad = 0;
        for (int b = 0; b < NB; b++)
            bad += bins[b] != want[me * NB + b];
        EXPECT(bad == 0, "round %d: %ld of my bins wrong", r, bad);
        CHECK(MPI_Get(nbr, NB, MPI_LONG, right, 0, NB, MPI_LONG, wh));
        CHECK(MPI_Win_fence(0, wh));
        bad = 0;
        for (int b = 0; b < NB; b++)
            bad += nbr[b] != want[right * NB + b];
        EXPECT(bad == 0, "round %d: %ld of rank %d's bins wrong", r, bad, right);
        mix(nbr, sizeof nbr);

        /* the task queue */
        long done = 0, work = 0, slot = r % 2;
        for (;;) {
            long id = -1;
            const long inc = 1;
            CHECK(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, wq));
            CHECK(MPI_Fetch_and_op(&inc, &id, MPI_LONG, 0, slot, MPI_SUM, wq));
            CHECK(MPI_Win_unlock(0, wq));
            if (id >= TASKS)
                break;
            long c = task_cost((long)r * TASKS + id);
            cc_spin(c / 20);
            work += c;
            done++;
        }
        long mw[2] = { done, work }, aw[2] = { 0, 0 };
        CHECK(MPI_Allreduce(mw, aw, 2, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));
        long expect_work = 0;
        for (long id = 0; id < TASKS; id++)
            expect_work += task_cost((long)r * TASKS + id);
        EXPECT(aw[0] == TASKS && aw[1] == expect_work, "round %d: %ld tasks, work %ld (want %d, %ld)",
               r, aw[0], aw[1], TASKS, expect_work);
        mixi(aw[1]);
        if (me == 0) {
            CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, wq));
            ctr[slot] = 0; /* the window is this rank's own memory: stored directly in the epoch */
            CHECK(MPI_Win_unlock(0, wq));
        }
    }
    CHECK(MPI_Win_fence(MPI_MODE_NOSUCCEED, wh));
    mix(bins, NB * sizeof *bins);
    report("rma");
    MPI_Win_free(&wq);
    MPI_Win_free(&wh);
    cc_finish();
    MPI_Finalize();
    return 0;
}
