/* rst_casmutex STEPS PACEFILE MS (rst_pscw.sh FLAVOR rst_casmutex): a mutex made of
 * MPI_Compare_and_swap on rank 0's window (as Global Arrays does) under lock_all, request-based
 * MPI_Rget/MPI_Raccumulate inside it, E critical sections per step per rank; snapshots at random
 * moments. Native lines are compared with those of each snapshot's restart (tried once per MPI in
 * session 15, a test since session 16).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "rst_pace.h"
#define E 20
int main(int argc, char **argv)
{
    struct rst_run r = rst_begin(&argc, &argv, "rst_casmutex");
    int steps = r.steps, me = r.me;
    const char *pace = r.pace;
    long ms = r.ms;
    long *w;
    MPI_Win win;
    MPI_Win_allocate(4 * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &w, &win);
    w[0] = w[1] = w[2] = w[3] = 0;
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Win_lock_all(0, win);
    struct timespec nap = { 0, ms * 1000000L / E / 2 };
    unsigned long long ck = 1;
    for (int s = 1; s <= steps; s++) {
        for (int e = 0; e < E; e++) {
            long zero = 0, mine = me + 1, old = -1;
            do {
                MPI_Compare_and_swap(&mine, &zero, &old, MPI_LONG, 0, 0, win);
                MPI_Win_flush(0, win);
            } while (old != 0);
            /* inside: read the counter, add to it, all with requests */
            long c = 0, one = 1;
            MPI_Request rq[2];
            MPI_Rget(&c, 1, MPI_LONG, 0, 1, 1, MPI_LONG, win, &rq[0]);
            MPI_Wait(&rq[0], MPI_STATUS_IGNORE);
            long nc = c + 1;
            MPI_Put(&nc, 1, MPI_LONG, 0, 1, 1, MPI_LONG, win);
            MPI_Raccumulate(&one, 1, MPI_LONG, 0, 2 + (me % 2), 1, MPI_LONG, MPI_SUM, win, &rq[1]);
            MPI_Wait(&rq[1], MPI_STATUS_IGNORE);
            MPI_Win_flush(0, win);
            if (ms > 0 && access(pace, F_OK) == 0)
                nanosleep(&nap, NULL);
            long back = 0;
            MPI_Fetch_and_op(&zero, &back, MPI_LONG, 0, 0, MPI_REPLACE, win);
            MPI_Win_flush(0, win);
            if (back != mine) {
                fprintf(stderr, "rank %d: the mutex held %ld, not %ld\n", me, back, mine);
                MPI_Abort(MPI_COMM_WORLD, 3);
            }
        }
        MPI_Barrier(MPI_COMM_WORLD);
        long v[4];
        MPI_Get(v, 4, MPI_LONG, 0, 0, 4, MPI_LONG, win);
        MPI_Win_flush(0, win);
        unsigned long long x = 0, loc = (unsigned long long)(v[1] * 7 + v[2] * 3 + v[3]);
        MPI_Allreduce(&loc, &x, 1, MPI_UNSIGNED_LONG_LONG, MPI_BXOR, MPI_COMM_WORLD);
        ck = ck * 31 + x;
        if (me == 0) { printf("step %d: %llx (counter %ld)\n", s, ck, v[1]); fflush(stdout); }
        MPI_Barrier(MPI_COMM_WORLD);
        rst_pace(pace, 1, steps - s);
    }
    MPI_Win_unlock_all(win);
    MPI_Win_free(&win);
    if (me == 0) printf("done: %d steps\n", steps);
    MPI_Finalize();
    return 0;
}
