/* rst_xlock STEPS PACEFILE MS: passive target epochs under exclusive locks only, for snapshots
 * taken at random moments (rst_pscw.sh FLAVOR rst_xlock). An MPI_Win_allocate window on
 * MPI_COMM_WORLD; each of E epochs per step takes an exclusive lock on the right neighbour
 * (two Accumulates, a pause inside the epoch while PACEFILE exists), then one on the left (one
 * Accumulate), with no collective between epochs. A step ends with a barrier, the rank's own
 * three counters read under a shared lock of its own, an MPI_Allreduce of them; rank 0 prints
 * "step S: X". Before the calls that open an exclusive lock were counted at their entry
 * (src/pml_hooks/win.c), a rank that had said "at my targets" took a lock right after: a snapshot
 * was taken under it (its restart refused: "a window held an exclusive lock at the snapshot") or
 * the drain waited for a rank blocked in the library. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "rst_pace.h"
#define E 20
int main(int argc, char **argv)
{
    struct rst_run r = rst_begin(&argc, &argv, "rst_xlock");
    int steps = r.steps, me = r.me, right = r.right, left = r.left;
    const char *pace = r.pace;
    long ms = r.ms;
    long *w;
    MPI_Win win;
    MPI_Win_allocate(8 * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &w, &win);
    for (int i = 0; i < 8; i++) w[i] = 0;
    MPI_Barrier(MPI_COMM_WORLD);
    struct timespec nap = { 0, ms * 1000000L / E / 2 };
    unsigned long long ck = 1;
    for (int s = 1; s <= steps; s++) {
        for (int e = 0; e < E; e++) {
            long one = 1, v = s + e + me;
            MPI_Win_lock(MPI_LOCK_EXCLUSIVE, right, 0, win);
            MPI_Accumulate(&one, 1, MPI_LONG, right, 0, 1, MPI_LONG, MPI_SUM, win);
            MPI_Accumulate(&v, 1, MPI_LONG, right, 1, 1, MPI_LONG, MPI_SUM, win);
            if (ms > 0 && access(pace, F_OK) == 0)
                nanosleep(&nap, NULL);
            MPI_Win_unlock(right, win);
            MPI_Win_lock(MPI_LOCK_EXCLUSIVE, left, 0, win);
            MPI_Accumulate(&v, 1, MPI_LONG, left, 2, 1, MPI_LONG, MPI_SUM, win);
            MPI_Win_unlock(left, win);
        }
        MPI_Barrier(MPI_COMM_WORLD);
        long g[3];
        MPI_Win_lock(MPI_LOCK_SHARED, me, 0, win);
        g[0] = w[0]; g[1] = w[1]; g[2] = w[2];
        MPI_Win_unlock(me, win);
        unsigned long long loc = (unsigned long long)(g[0] * 1000003 + g[1] * 31 + g[2]), x = 0;
        MPI_Allreduce(&loc, &x, 1, MPI_UNSIGNED_LONG_LONG, MPI_BXOR, MPI_COMM_WORLD);
        ck = ck * 31 + x;
        if (me == 0) { printf("step %d: %llx\n", s, ck); fflush(stdout); }
        MPI_Barrier(MPI_COMM_WORLD);
        rst_pace(pace, 1, steps - s);
    }
    MPI_Win_free(&win);
    if (me == 0) printf("done: %d steps\n", steps);
    MPI_Finalize();
    return 0;
}
