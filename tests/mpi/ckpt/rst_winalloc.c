/* rst_winalloc STEPS PACEFILE MS (rst_winalloc.sh): one-sided communication on a window of
 * MPI_Win_allocate across every rank, the case newuser7f F1 found: with Open MPI's osc/pt2pt
 * (OMPI_MCA_osc=pt2pt) the library takes that window's memory from its own malloc, and a snapshot
 * of it was committed that no restart could use. Beside it a window of MPI_Win_create on the
 * program's memory from MPI_Alloc_mem. Each step: a fence epoch on the created window (Put to the
 * right, Accumulate to the left), passive target on the allocated one (Fetch_and_op on rank 0
 * under a shared lock; Get_accumulate and Compare_and_swap to the right under an exclusive lock;
 * lock_all with Rget from the left, Rput into the rank's own part, flush_all), then every rank's
 * checksum of both windows (its own allocated part read under a lock of its own), rank 0 printing
 * "step S: SUM"; paced for a snapshot (rst_pace.h). The lines depend only on the steps made. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rst_pace.h"

#define N 64

int main(int argc, char **argv)
{
    struct rst_run r = rst_begin(&argc, &argv, "rst_winalloc");
    long *a = NULL, *b = NULL;
    MPI_Alloc_mem(N * sizeof *a, MPI_INFO_NULL, &a);
    for (int i = 0; i < N; i++)
        a[i] = 0;
    MPI_Win wc, wa;
    MPI_Win_create(a, N * sizeof *a, sizeof *a, MPI_INFO_NULL, MPI_COMM_WORLD, &wc);
    MPI_Win_allocate(N * sizeof *b, sizeof *b, MPI_INFO_NULL, MPI_COMM_WORLD, &b, &wa);
    MPI_Win_lock(MPI_LOCK_EXCLUSIVE, r.me, 0, wa);
    for (int i = 0; i < N; i++)
        b[i] = 0;
    MPI_Win_unlock(r.me, wa);
    MPI_Barrier(MPI_COMM_WORLD);
    for (int s = 1; s <= r.steps; s++) {
        long v = s * 1000 + r.me, one = 1, res = 0, old = 0, cmp = s - 1, nv = s, g = 0;
        MPI_Win_fence(0, wc);
        MPI_Put(&v, 1, MPI_LONG, r.right, s % N, 1, MPI_LONG, wc);
        MPI_Accumulate(&v, 1, MPI_LONG, r.left, (s + 1) % N, 1, MPI_LONG, MPI_SUM, wc);
        MPI_Win_fence(0, wc);
        MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, wa);
        MPI_Fetch_and_op(&one, &res, MPI_LONG, 0, 0, MPI_SUM, wa);
        MPI_Win_unlock(0, wa);
        MPI_Win_lock(MPI_LOCK_EXCLUSIVE, r.right, 0, wa);
        MPI_Get_accumulate(&v, 1, MPI_LONG, &old, 1, MPI_LONG, r.right, 1 + r.me % (N - 2), 1,
                           MPI_LONG, MPI_MAX, wa);
        MPI_Compare_and_swap(&nv, &cmp, &old, MPI_LONG, r.right, N - 1, wa);
        MPI_Win_unlock(r.right, wa);
        MPI_Barrier(MPI_COMM_WORLD); /* every CAS of step s before any of step s + 1 */
        MPI_Win_lock_all(0, wa);
        MPI_Request rq[2];
        long pv = v ^ 0x5555;
        MPI_Rget(&g, 1, MPI_LONG, r.left, N / 2 + ((s - 1) % (N / 2 - 1)), 1, MPI_LONG, wa, &rq[0]);
        MPI_Waitall(1, rq, MPI_STATUSES_IGNORE);
        MPI_Rput(&pv, 1, MPI_LONG, r.me, N / 2 + (s % (N / 2 - 1)), 1, MPI_LONG, wa, &rq[1]);
        MPI_Wait(&rq[1], MPI_STATUS_IGNORE);
        MPI_Win_flush_all(wa);
        MPI_Win_unlock_all(wa);
        MPI_Barrier(MPI_COMM_WORLD);
        uint64_t h = 1469598103934665603ull;
        MPI_Win_lock(MPI_LOCK_SHARED, r.me, 0, wa);
        for (int i = 0; i < N; i++) {
            h = (h ^ (uint64_t)a[i]) * 1099511628211ull;
            h = (h ^ (uint64_t)b[i]) * 1099511628211ull;
        }
        MPI_Win_unlock(r.me, wa);
        h = (h ^ (uint64_t)g) * 1099511628211ull;
        MPI_Barrier(MPI_COMM_WORLD); /* every rank read its part before anyone's next step */
        rst_step_sum(&r, s, (long long)(h >> 4));
    }
    MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, wa);
    long counter = 0;
    MPI_Get(&counter, 1, MPI_LONG, 0, 0, 1, MPI_LONG, wa);
    MPI_Win_unlock(0, wa);
    rst_done_sum(&r, counter);
    MPI_Win_free(&wc);
    MPI_Win_free(&wa);
    MPI_Free_mem(a);
    MPI_Finalize();
    return 0;
}
