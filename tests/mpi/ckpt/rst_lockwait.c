/* rst_lockwait STEPS PACEFILE MS: a rank that holds a shared lock, or lock_all, on a window
 * reaches a safe point while another rank waits for an exclusive lock on that window; for
 * snapshots taken at random moments (rst_pscw.sh FLAVOR rst_lockwait). Rank 0 reads, the last
 * rank writes, the others (at 3 ranks and more) stand by. Two MPI_Win_allocate windows on
 * MPI_COMM_WORLD, w and x, and the communicator of all but the writer (MPI_Comm_split). In each
 * of E epochs per step the reader reads the writer's w in one epoch that is a shared lock of the
 * writer (even epochs) or lock_all (odd ones): a Get of w[0], a pause while PACEFILE exists, an
 * MPI_Allreduce over the communicator without the writer and an exclusive lock of its own x (an
 * Accumulate, unlock), both with the read epoch still open, then a Get of w[1]. A rank standing
 * by enters the same Allreduce E times; the writer writes its own w under an exclusive lock 3E
 * times (w[0] += 1, w[1] += 2), so w[1] == 2 * w[0] in every read (a count of the reads where
 * not is part of every line). Only the reader takes a lock the writer's exclusive one waits for
 * (a second reader could wait behind the writer's request, queued first, while the first waits
 * for it in the Allreduce: MPICH deadlocks so natively). No collective over MPI_COMM_WORLD
 * between epochs. A step ends with a barrier, w and x read under a shared lock of the rank's own,
 * an MPI_Allreduce of them; rank 0 prints "step S: X".
 * The reader parked at the Allreduce (a collective the writer is not in) or at the exclusive
 * lock of x with its read epoch open held back the writer, waiting in the library for its
 * exclusive lock and never at a safe point: the snapshot timed out. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "rst_pace.h"
#define E 10
int main(int argc, char **argv)
{
    struct rst_run r = rst_begin(&argc, &argv, "rst_lockwait");
    int steps = r.steps, me = r.me, np = r.np;
    const char *pace = r.pace;
    long ms = r.ms;
    int writer = np - 1, reader = me == 0 && np > 1;
    MPI_Comm others; /* all but the writer */
    MPI_Comm_split(MPI_COMM_WORLD, me != writer, me, &others);
    long *w, *x;
    MPI_Win ww, wx;
    MPI_Win_allocate(2 * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &w, &ww);
    MPI_Win_allocate(sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &x, &wx);
    w[0] = w[1] = x[0] = 0;
    MPI_Barrier(MPI_COMM_WORLD);
    struct timespec nap = { 0, ms * 1000000L / E / 2 };
    unsigned long long ck = 1;
    long bad = 0;
    for (int s = 1; s <= steps; s++) {
        for (int e = 0; e < E; e++) {
            long a = -1, b = -1, one = 1, two[2] = { 1, 2 };
            long sum = 0;
            if (me == writer) { /* 3 writes to a read: it waits for its lock nearly all the time */
                for (int k = 0; k < 3; k++) {
                    MPI_Win_lock(MPI_LOCK_EXCLUSIVE, me, 0, ww);
                    MPI_Accumulate(two, 2, MPI_LONG, me, 0, 2, MPI_LONG, MPI_SUM, ww);
                    MPI_Win_unlock(me, ww);
                }
                continue;
            }
            if (!reader) { /* standing by */
                MPI_Allreduce(&one, &sum, 1, MPI_LONG, MPI_SUM, others);
                continue;
            }
            if (e % 2)
                MPI_Win_lock_all(0, ww);
            else
                MPI_Win_lock(MPI_LOCK_SHARED, writer, 0, ww);
            MPI_Get(&a, 1, MPI_LONG, writer, 0, 1, MPI_LONG, ww);
            MPI_Win_flush(writer, ww);
            if (ms > 0 && access(pace, F_OK) == 0)
                nanosleep(&nap, NULL);
            MPI_Allreduce(&one, &sum, 1, MPI_LONG, MPI_SUM, others);
            MPI_Win_lock(MPI_LOCK_EXCLUSIVE, me, 0, wx);
            MPI_Accumulate(&sum, 1, MPI_LONG, me, 0, 1, MPI_LONG, MPI_SUM, wx);
            MPI_Win_unlock(me, wx);
            MPI_Get(&b, 1, MPI_LONG, writer, 1, 1, MPI_LONG, ww);
            if (e % 2)
                MPI_Win_unlock_all(ww);
            else
                MPI_Win_unlock(writer, ww);
            bad += b != 2 * a;
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
    MPI_Comm_free(&others);
    if (me == 0)
        printf("done: %d steps\n", steps);
    MPI_Finalize();
    return 0;
}
