/* rst_dynwin STEPS PACEFILE MS (rst_pscw.sh FLAVOR rst_dynwin): a dynamic window under lock_all, a
 * new region attached every step and the previous one detached, addresses exchanged,
 * Put/Accumulate/Get with flushes; paced for a snapshot. Native lines are compared with those of
 * each snapshot's restart (tried once per MPI in session 15, a test since session 16).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "rst_pace.h"
#define N 8
int main(int argc, char **argv)
{
    struct rst_run r = rst_begin(&argc, &argv, "rst_dynwin");
    int steps = r.steps, me = r.me, np = r.np, right = r.right;
    const char *pace = r.pace;
    long ms = r.ms;
    MPI_Win win;
    MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, &win);
    MPI_Win_lock_all(0, win);
    long *cur = NULL;
    MPI_Aint *addr = malloc(np * sizeof *addr);
    unsigned long long ck = 1;
    for (int s = 1; s <= steps; s++) {
        long *reg = malloc(N * sizeof *reg);
        for (int i = 0; i < N; i++)
            reg[i] = s * 100 + me * 10 + i;
        MPI_Win_attach(win, reg, N * sizeof *reg);
        MPI_Aint a;
        MPI_Get_address(reg, &a);
        MPI_Allgather(&a, 1, MPI_AINT, addr, 1, MPI_AINT, MPI_COMM_WORLD);
        long src[2] = { s, me }, got[N];
        MPI_Put(src, 2, MPI_LONG, right, addr[right], 2, MPI_LONG, win);
        MPI_Win_flush(right, win);
        MPI_Accumulate(src, 2, MPI_LONG, right, addr[right] + 2 * sizeof(long), 2, MPI_LONG, MPI_SUM, win);
        MPI_Win_flush(right, win);
        if (ms > 0 && access(pace, F_OK) == 0)
            usleep(ms * 500);
        MPI_Barrier(MPI_COMM_WORLD);
        MPI_Get(got, N, MPI_LONG, right, addr[right], N, MPI_LONG, win);
        MPI_Win_flush(right, win);
        unsigned long long loc = 0;
        for (int i = 0; i < N; i++)
            loc = loc * 1099511628211ull + (unsigned long long)got[i] + (unsigned long long)reg[i];
        unsigned long long x = 0;
        MPI_Allreduce(&loc, &x, 1, MPI_UNSIGNED_LONG_LONG, MPI_BXOR, MPI_COMM_WORLD);
        ck = ck * 31 + x;
        if (me == 0) { printf("step %d: %llx\n", s, ck); fflush(stdout); }
        MPI_Barrier(MPI_COMM_WORLD); /* nobody reads cur any more */
        if (cur) {
            MPI_Win_detach(win, cur);
            free(cur);
        }
        cur = reg;
        rst_pace(pace, ms / 2, steps - s);
    }
    MPI_Win_unlock_all(win);
    if (cur) {
        MPI_Win_detach(win, cur);
        free(cur);
    }
    MPI_Win_free(&win);
    if (me == 0) printf("done: %d steps\n", steps);
    MPI_Finalize();
    return 0;
}
