/* rst_slock STEPS PACEFILE MS: a rank holding a shared lock reaches a safe point while another
 * rank waits for an exclusive lock on the same target; for snapshots taken at random moments
 * (rst_pscw.sh FLAVOR rst_slock). Two MPI_Win_allocate windows on MPI_COMM_WORLD, w and x. In
 * each of E epochs per step a rank first reads its right neighbour's w under a shared lock: a
 * Get of w[0], a pause while PACEFILE exists, an exclusive lock of the neighbour's x taken with
 * the shared one still held (an Accumulate, unlock), then a Get of w[1]; then it writes its own w
 * under an exclusive lock of itself (w[0] += 1, w[1] += 2). A writer waits while its left
 * neighbour reads; the reader's two values are read in one shared epoch, so w[1] == 2 * w[0]
 * (a count of the reads where not is part of every line). No collective between epochs. A step
 * ends with a barrier, the rank's own counters read under a shared lock of its own, an
 * MPI_Allreduce of them; rank 0 prints "step S: X".
 * The exclusive lock's entry is a safe point of the reader (a shared lock held does not hold a
 * snapshot back: src/pml_hooks/win.c); parked there, it held back the writer waiting in the
 * library for its own exclusive lock, which was never at a safe point: the snapshot timed out. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "rst_pace.h"
#define E 10
int main(int argc, char **argv)
{
    struct rst_run r = rst_begin(&argc, &argv, "rst_slock");
    int steps = r.steps, me = r.me, right = r.right;
    const char *pace = r.pace;
    long ms = r.ms;
    long *w, *x;
    MPI_Win ww, wx;
    MPI_Win_allocate(2 * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &w, &ww);
    /* x is two longs, one used: with MPICH 4.0.2 (one node), an Accumulate or a Put to another
     * rank's part of an MPI_Win_allocate window of 8 or 24 bytes per rank can land in the wrong
     * rank's part (found with a probe of one operation per rank at 2 to 4 ranks; 16, 32 and 4096
     * bytes: right; MPI_Win_create: right). With one long each, rank 0's Accumulate to rank 1
     * landed in rank 0's own x, beside rank N-1's Accumulate there under another lock: now and
     * then a lost update, and the native run printed a wrong line (4 of 20 runs at 2 ranks, each
     * at a step of its own; with two longs 0 of 20, and 0 of 12 at 4 ranks). */
    MPI_Win_allocate(2 * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &x, &wx);
    w[0] = w[1] = x[0] = 0;
    MPI_Barrier(MPI_COMM_WORLD);
    struct timespec nap = { 0, ms * 1000000L / E / 2 };
    unsigned long long ck = 1;
    long bad = 0;
    for (int s = 1; s <= steps; s++) {
        for (int e = 0; e < E; e++) {
            long a = -1, b = -1, one = 1, two[2] = { 1, 2 };
            /* read the right neighbour's w in one shared epoch */
            MPI_Win_lock(MPI_LOCK_SHARED, right, 0, ww);
            MPI_Get(&a, 1, MPI_LONG, right, 0, 1, MPI_LONG, ww);
            MPI_Win_flush(right, ww);
            if (ms > 0 && access(pace, F_OK) == 0)
                nanosleep(&nap, NULL);
            MPI_Win_lock(MPI_LOCK_EXCLUSIVE, right, 0, wx);
            MPI_Accumulate(&one, 1, MPI_LONG, right, 0, 1, MPI_LONG, MPI_SUM, wx);
            MPI_Win_unlock(right, wx);
            MPI_Get(&b, 1, MPI_LONG, right, 1, 1, MPI_LONG, ww);
            MPI_Win_unlock(right, ww);
            bad += b != 2 * a;
            /* write its own w under an exclusive lock */
            MPI_Win_lock(MPI_LOCK_EXCLUSIVE, me, 0, ww);
            MPI_Accumulate(two, 2, MPI_LONG, me, 0, 2, MPI_LONG, MPI_SUM, ww);
            MPI_Win_unlock(me, ww);
        }
        MPI_Barrier(MPI_COMM_WORLD);
        long g[4];
        MPI_Win_lock(MPI_LOCK_SHARED, me, 0, ww);
        g[0] = w[0];
        g[1] = w[1];
        MPI_Win_unlock(me, ww);
        MPI_Win_lock(MPI_LOCK_SHARED, me, 0, wx);
        g[2] = x[0];
        MPI_Win_unlock(me, wx);
        g[3] = bad;
        unsigned long long loc = (unsigned long long)(g[0] * 1000003 + g[1] * 31 + g[2] * 7 + g[3]), y = 0;
        MPI_Allreduce(&loc, &y, 1, MPI_UNSIGNED_LONG_LONG, MPI_BXOR, MPI_COMM_WORLD);
        long allbad = 0;
        MPI_Allreduce(&bad, &allbad, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        ck = ck * 31 + y;
        if (me == 0) {
            printf("step %d: %llx, reads torn %ld\n", s, ck, allbad);
            fflush(stdout);
        }
        MPI_Barrier(MPI_COMM_WORLD);
        rst_pace(pace, 1, steps - s);
    }
    MPI_Win_free(&wx);
    MPI_Win_free(&ww);
    if (me == 0)
        printf("done: %d steps\n", steps);
    MPI_Finalize();
    return 0;
}
