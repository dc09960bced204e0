/* rst_persist STEPS PACEFILE MS (rst_pscw.sh FLAVOR rst_persist): persistent point to point
 * (Send_init/Recv_init/Ssend_init/Bsend_init) in a ring, started and completed many times per
 * step, with Startall/Testall/Waitany; and a persistent request freed and made again each step;
 * snapshots at random moments. Native lines are compared with those of each snapshot's restart
 * (tried once per MPI in session 15, a test since session 16).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include "rst_pace.h"
#define E 30
int main(int argc, char **argv)
{
    struct rst_run r = rst_begin(&argc, &argv, "rst_persist");
    int steps = r.steps, me = r.me, right = r.right, left = r.left;
    const char *pace = r.pace;
    long ms = r.ms;
    long sb[4], rb[4], sb2[2], rb2[2];
    static char bbuf[4096];
    MPI_Buffer_attach(bbuf, sizeof bbuf);
    MPI_Request rq[4];
    MPI_Send_init(sb, 4, MPI_LONG, right, 1, MPI_COMM_WORLD, &rq[0]);
    MPI_Recv_init(rb, 4, MPI_LONG, left, 1, MPI_COMM_WORLD, &rq[1]);
    MPI_Ssend_init(sb2, 2, MPI_LONG, left, 2, MPI_COMM_WORLD, &rq[2]);
    MPI_Recv_init(rb2, 2, MPI_LONG, right, 2, MPI_COMM_WORLD, &rq[3]);
    struct timespec nap = { 0, ms * 1000000L / E / 2 };
    unsigned long long ck = 1;
    for (int s = 1; s <= steps; s++) {
        MPI_Request bq[2];
        long bs = s * 3 + me, br = 0;
        MPI_Bsend_init(&bs, 1, MPI_LONG, right, 3, MPI_COMM_WORLD, &bq[0]);
        MPI_Recv_init(&br, 1, MPI_LONG, left, 3, MPI_COMM_WORLD, &bq[1]);
        for (int e = 0; e < E; e++) {
            for (int i = 0; i < 4; i++)
                sb[i] = s * 1000 + e * 10 + i + me;
            sb2[0] = e; sb2[1] = me;
            MPI_Startall(4, rq);
            MPI_Start(&bq[1]);
            MPI_Start(&bq[0]);
            if (ms > 0 && access(pace, F_OK) == 0)
                nanosleep(&nap, NULL);
            int flag = 0;
            MPI_Testall(4, rq, &flag, MPI_STATUSES_IGNORE);
            if (!flag)
                MPI_Waitall(4, rq, MPI_STATUSES_IGNORE);
            int idx;
            MPI_Waitany(2, bq, &idx, MPI_STATUS_IGNORE);
            MPI_Waitany(2, bq, &idx, MPI_STATUS_IGNORE);
            for (int i = 0; i < 4; i++)
                ck = ck * 1099511628211ull + (unsigned long long)rb[i];
            ck = ck * 31 + (unsigned long long)(rb2[0] * 7 + rb2[1] + br);
        }
        MPI_Request_free(&bq[0]);
        MPI_Request_free(&bq[1]);
        unsigned long long x = 0;
        MPI_Allreduce(&ck, &x, 1, MPI_UNSIGNED_LONG_LONG, MPI_BXOR, MPI_COMM_WORLD);
        if (me == 0) { printf("step %d: %llx\n", s, x); fflush(stdout); }
        rst_pace(pace, 1, steps - s);
    }
    for (int i = 0; i < 4; i++)
        MPI_Request_free(&rq[i]);
    void *b; int bn;
    MPI_Buffer_detach(&b, &bn);
    if (me == 0) printf("done: %d steps\n", steps);
    MPI_Finalize();
    return 0;
}
