/* rst_pscw STEPS PACEFILE MS: one-sided communication in generalized active target epochs only
 * (MPI_Win_post/start/complete/wait, MPI_Win_test), with no collective between them, for
 * snapshots taken at random moments (rst_pscw.sh). An MPI_Win_allocate window on
 * MPI_COMM_WORLD; each rank exposes it to both neighbours and accesses both in every epoch:
 *   - Put of 4 values to the right neighbour's part A (written only by Puts),
 *   - Accumulate (MPI_SUM) of 4 values into the left neighbour's part B,
 *   - Get of 4 values from the right neighbour's part C, which its owner changes only between
 *     its own epochs (after MPI_Win_wait, before its next MPI_Win_post).
 * Every third epoch completes the exposure with an MPI_Win_test loop instead of MPI_Win_wait.
 * While PACEFILE exists, each epoch sleeps MS/EPOCHS ms between its operations and
 * MPI_Win_complete (inside both epochs), so that most of a paced run is spent with epochs open.
 * A step is EPOCHS epochs and then one MPI_Allreduce of a checksum of the window and of what the
 * Gets brought; rank 0 prints "step S: X". Before its last step a rank waits while PACEFILE
 * exists (rst_pace.h). The last line: "done: STEPS steps of EPOCHS epochs, NP ranks". */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "rst_pace.h"

#define K 4
#define EPOCHS 24

static void check(int rc, const char *what)
{
    if (rc != MPI_SUCCESS) {
        char s[MPI_MAX_ERROR_STRING];
        int n = 0;
        MPI_Error_string(rc, s, &n);
        fprintf(stderr, "rst_pscw: %s: %s\n", what, s);
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
}

static uint64_t mix(uint64_t h, const long *p, int n)
{
    for (int i = 0; i < n; i++) {
        h ^= (uint64_t)p[i];
        h *= 1099511628211ull;
    }
    return h;
}

int main(int argc, char **argv)
{
    struct rst_run r = rst_begin(&argc, &argv, "rst_pscw");
    int steps = r.steps, me = r.me, np = r.np, right = r.right, left = r.left;
    const char *pace = r.pace;
    long ms = r.ms;
    long *w;
    MPI_Win win;
    check(MPI_Win_allocate(3 * K * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &w,
                           &win), "MPI_Win_allocate");
    for (int i = 0; i < 3 * K; i++)
        w[i] = me * 100 + i;
    MPI_Group wg, nb;
    MPI_Win_get_group(win, &wg);
    int two[2] = { left, right };
    MPI_Group_incl(wg, left == right ? 1 : 2, two, &nb);
    MPI_Barrier(MPI_COMM_WORLD); /* every part set before anybody's first epoch */
    uint64_t h = 1469598103934665603ull;
    long got[K];
    struct timespec nap = { 0, (ms * 1000000L) / EPOCHS };
    for (int s = 1; s <= steps; s++) {
        for (int e = 0; e < EPOCHS; e++) {
            long src[K];
            for (int i = 0; i < K; i++)
                src[i] = (long)s * 1000 + e * 10 + i + me;
            check(MPI_Win_post(nb, 0, win), "MPI_Win_post");
            check(MPI_Win_start(nb, 0, win), "MPI_Win_start");
            check(MPI_Put(src, K, MPI_LONG, right, 0, K, MPI_LONG, win), "MPI_Put");
            check(MPI_Accumulate(src, K, MPI_LONG, left, K, K, MPI_LONG, MPI_SUM, win),
                  "MPI_Accumulate");
            check(MPI_Get(got, K, MPI_LONG, right, 2 * K, K, MPI_LONG, win), "MPI_Get");
            if (ms > 0 && access(pace, F_OK) == 0)
                nanosleep(&nap, NULL);
            check(MPI_Win_complete(win), "MPI_Win_complete");
            if (e % 3 == 2) {
                int done = 0;
                while (!done)
                    check(MPI_Win_test(win, &done), "MPI_Win_test");
            } else
                check(MPI_Win_wait(win), "MPI_Win_wait");
            /* the exposure is over: this rank's own part C changes, and the epoch is mixed in */
            h = mix(h, got, K);
            for (int i = 0; i < K; i++)
                w[2 * K + i] = w[i] * 3 + w[K + i] + e;
        }
        uint64_t mine = mix(h, w, 3 * K), all = 0;
        check(MPI_Allreduce(&mine, &all, 1, MPI_UINT64_T, MPI_BXOR, MPI_COMM_WORLD),
              "MPI_Allreduce");
        if (me == 0) {
            printf("step %d: %016llx\n", s, (unsigned long long)all);
            fflush(stdout);
        }
        rst_pace(pace, 1, steps - s); /* only the hold before the last step (the epochs pace) */
    }
    if (me == 0)
        printf("done: %d steps of %d epochs, %d ranks\n", steps, EPOCHS, np);
    MPI_Group_free(&nb);
    MPI_Group_free(&wg);
    check(MPI_Win_free(&win), "MPI_Win_free");
    MPI_Finalize();
    return 0;
}
