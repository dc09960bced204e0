/* The cost of Revive's MPI layer per call, measured as CPU time of the calling thread (not wall
 * time: on a loaded machine a preempted rank does not count), one rank talking to itself, so
 * that the other ranks' scheduling does not enter. Prints "name ns/call" lines; run.sh-style
 * comparison in layercost.sh (natively and under Revive, best of several batches).
 *   allreduce_8B   MPI_Allreduce of one double on MPI_COMM_WORLD (the collective clock's path)
 *   irecv_send_wait_8B  MPI_Irecv + MPI_Send + MPI_Wait of 8 bytes to itself (a blocking send to
 *                  itself with no receive posted waits in MPICH)
 *   isend_irecv_waitall_8B   MPI_Irecv + MPI_Isend + MPI_Waitall (request table, wait loop)
 *   comm_rank      MPI_Comm_rank (the gate alone)
 *   pscw_8B        a post/start/complete/wait epoch of the rank with itself on an MPI_Win_allocate
 *                  window, one 8-byte MPI_Put inside (the layer translates the group of each
 *                  post and start to world ranks: src/pml_hooks/win.c, cross.c)
 *   fence_put_8B   MPI_Win_fence, one 8-byte MPI_Put, MPI_Win_fence on the same window (the
 *                  window's clock is counted at each fence: win.c)
 *   lock_put_8B    MPI_Win_lock (shared) of the rank itself, one 8-byte MPI_Put, MPI_Win_unlock (a
 *                  shared lock is marked as held while it is taken: the slot's swin, ckpt.h)
 *   lockx_put_8B   the same with an exclusive lock (an epoch counted like post/start's)
 *   put_flush_8B, get_flush_8B, acc_flush_8B   one 8-byte MPI_Put, MPI_Get or MPI_Accumulate
 *                  (MPI_SUM of a long) and MPI_Win_flush inside a lock_all epoch: the operation's
 *                  own entry point (the gate and three handle translations)
 * Usage: layercost [SCALE]; ONLY=name runs that measure alone (instruction counts: valgrind
 * --tool=callgrind at two scales, the difference over the difference in calls, bench/mpi/README.md) */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

#define BEST(name, iters, body)                                                                \
    do {                                                                                      \
        const char *only = getenv("ONLY");                                                    \
        if (only && strcmp(only, name))                                                       \
            break;                                                                            \
        double best = 1e30;                                                                   \
        for (int rep = 0; rep < 15; rep++) {                                                  \
            double t0 = cpu_ns();                                                             \
            for (int i = 0; i < (iters); i++) {                                               \
                body;                                                                         \
            }                                                                                 \
            double t = (cpu_ns() - t0) / (iters);                                             \
            if (t < best)                                                                     \
                best = t;                                                                     \
        }                                                                                     \
        printf("%s %.1f ns\n", name, best);                                                   \
    } while (0)

int main(int argc, char **argv)
{
    /* LEVEL=N: MPI_Init_thread at that level (what the same calls cost natively at another level) */
    const char *lv = getenv("LEVEL");
    int prov;
    if (lv)
        MPI_Init_thread(&argc, &argv, atoi(lv), &prov);
    else
        MPI_Init(&argc, &argv);
    int me;
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    double scale = argc > 1 ? atof(argv[1]) : 1.0;
    int n = (int)(20000 * scale) + 1;
    double a = 1, b = 0;
    long s = 7, r = 0;
    MPI_Request q[2];
    int x;
    BEST("allreduce_8B", n, MPI_Allreduce(&a, &b, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD));
    BEST("irecv_send_wait_8B", n,
         MPI_Irecv(&r, 1, MPI_LONG, me, 1, MPI_COMM_WORLD, &q[0]);
         MPI_Send(&s, 1, MPI_LONG, me, 1, MPI_COMM_WORLD);
         MPI_Wait(&q[0], MPI_STATUS_IGNORE));
    BEST("isend_irecv_waitall_8B", n,
         MPI_Irecv(&r, 1, MPI_LONG, me, 2, MPI_COMM_WORLD, &q[0]);
         MPI_Isend(&s, 1, MPI_LONG, me, 2, MPI_COMM_WORLD, &q[1]);
         MPI_Waitall(2, q, MPI_STATUSES_IGNORE));
    BEST("comm_rank", n * 10, MPI_Comm_rank(MPI_COMM_WORLD, &x));
    MPI_Group g;
    MPI_Win win;
    long *wbuf;
    MPI_Comm_group(MPI_COMM_WORLD, &g);
    MPI_Win_allocate(sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &wbuf, &win);
    BEST("pscw_8B", n / 4 + 1,
         MPI_Win_post(g, 0, win);
         MPI_Win_start(g, 0, win);
         MPI_Put(&s, 1, MPI_LONG, me, 0, 1, MPI_LONG, win);
         MPI_Win_complete(win);
         MPI_Win_wait(win));
    BEST("fence_put_8B", n / 4 + 1,
         MPI_Win_fence(0, win);
         MPI_Put(&s, 1, MPI_LONG, me, 0, 1, MPI_LONG, win);
         MPI_Win_fence(0, win));
    BEST("lock_put_8B", n / 4 + 1,
         MPI_Win_lock(MPI_LOCK_SHARED, me, 0, win);
         MPI_Put(&s, 1, MPI_LONG, me, 0, 1, MPI_LONG, win);
         MPI_Win_unlock(me, win));
    BEST("lockx_put_8B", n / 4 + 1,
         MPI_Win_lock(MPI_LOCK_EXCLUSIVE, me, 0, win);
         MPI_Put(&s, 1, MPI_LONG, me, 0, 1, MPI_LONG, win);
         MPI_Win_unlock(me, win));
    MPI_Win_lock_all(0, win);
    BEST("put_flush_8B", n, MPI_Put(&s, 1, MPI_LONG, me, 0, 1, MPI_LONG, win); MPI_Win_flush(me, win));
    BEST("get_flush_8B", n, MPI_Get(&r, 1, MPI_LONG, me, 0, 1, MPI_LONG, win); MPI_Win_flush(me, win));
    BEST("acc_flush_8B", n,
         MPI_Accumulate(&s, 1, MPI_LONG, me, 0, 1, MPI_LONG, MPI_SUM, win);
         MPI_Win_flush(me, win));
    MPI_Win_unlock_all(win);
    MPI_Win_free(&win);
    MPI_Group_free(&g);
    MPI_Finalize();
    return 0;
}
