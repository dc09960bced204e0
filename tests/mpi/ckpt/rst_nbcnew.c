/* rst_nbcnew STEPS PACEFILE MS (rst_pscw.sh FLAVOR rst_nbcnew): nonblocking collectives on
 * communicators made at every step (so after a restart too): split, idup,
 * Iallreduce/Ibcast/Ibarrier/Iallgather, with a snapshot at a paced moment Native lines are
 * compared with those of each snapshot's restart (tried once per MPI in session 15, a test since
 * session 16).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "rst_pace.h"
int main(int argc, char **argv)
{
    struct rst_run r = rst_begin(&argc, &argv, "rst_nbcnew");
    int steps = r.steps, me = r.me, np = r.np;
    const char *pace = r.pace;
    long ms = r.ms;
    unsigned long long ck = 1;
    for (int s = 1; s <= steps; s++) {
        MPI_Comm half, dup;
        MPI_Request rq[5];
        MPI_Comm_split(MPI_COMM_WORLD, me % 2, np - me, &half);
        MPI_Comm_idup(half, &dup, &rq[0]);
        MPI_Wait(&rq[0], MPI_STATUS_IGNORE);
        long v = s * 10 + me, sum = 0, b = me == 0 ? s * 7 : -1, all[64];
        MPI_Iallreduce(&v, &sum, 1, MPI_LONG, MPI_SUM, half, &rq[0]);
        MPI_Ibcast(&b, 1, MPI_LONG, 0, dup, &rq[1]);
        MPI_Ibarrier(dup, &rq[2]);
        MPI_Iallgather(&v, 1, MPI_LONG, all, 1, MPI_LONG, half, &rq[3]);
        if (ms > 0 && access(pace, F_OK) == 0)
            usleep(ms * 500);
        MPI_Waitall(4, rq, MPI_STATUSES_IGNORE);
        int hn;
        MPI_Comm_size(half, &hn);
        unsigned long long loc = (unsigned long long)(sum * 31 + b);
        for (int i = 0; i < hn; i++)
            loc = loc * 1099511628211ull + (unsigned long long)all[i];
        unsigned long long x = 0;
        MPI_Allreduce(&loc, &x, 1, MPI_UNSIGNED_LONG_LONG, MPI_BXOR, MPI_COMM_WORLD);
        ck = ck * 31 + x;
        if (me == 0) { printf("step %d: %llx\n", s, ck); fflush(stdout); }
        MPI_Comm_free(&dup);
        MPI_Comm_free(&half);
        rst_pace(pace, ms / 2, steps - s);
    }
    if (me == 0) printf("done: %d steps\n", steps);
    MPI_Finalize();
    return 0;
}
