/* REVIVE_MPI_YIELD_WHEN_IDLE (src/pml_hooks/idle.c): each blocking call below waits about
 * WAIT ms for rank 0, which sleeps first. Every rank prints what it received (the same natively
 * and under Revive, with the setting or without) and, on stderr, "cpu NAME PERCENT SWITCHES":
 * the CPU time its calling thread used while it waited, in percent of the wait, and how often
 * the thread gave its core away itself (voluntary context switches). A thread that polls flat
 * out makes none, whatever the load (sched_yield does not count: the thread stays runnable);
 * one that sleeps between polls makes hundreds.
 * With RMA (a second argument 1): also a wait for an exclusive lock that rank 0 holds
 * (MPI_Win_lock, MPI_Accumulate, MPI_Win_unlock: MPICH waits in the unlock) and for rank 0's
 * post (MPI_Win_start, MPI_Put, MPI_Win_complete): waits inside the library, where MPICH over
 * UCX polled flat out even with the setting (the layer's own waits do not run there); then
 * for rank 0 in MPI_Comm_split and MPI_Intercomm_create (waits inside the library too).
 * Usage: idle [WAIT_MS [RMA]] */
#define _GNU_SOURCE
#include <mpi.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int me, np, wait_ms;

static double now(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void check(int rc, const char *what)
{
    if (rc != MPI_SUCCESS) {
        fprintf(stderr, "FAIL rank %d: %s returned %d\n", me, what, rc);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
}

/* rank 0 sleeps before it takes part; the others report how busy their wait was */
static double t_wall, t_cpu;
static long t_sw;

static long switches(void)
{
    struct rusage u;
    getrusage(RUSAGE_THREAD, &u);
    return u.ru_nvcsw;
}

static void before(void)
{
    if (me == 0) {
        struct timespec d = { wait_ms / 1000, (long)(wait_ms % 1000) * 1000000L };
        nanosleep(&d, NULL);
    }
    t_wall = now(CLOCK_MONOTONIC);
    t_cpu = now(CLOCK_THREAD_CPUTIME_ID);
    t_sw = switches();
}

static void after(const char *name)
{
    double wall = now(CLOCK_MONOTONIC) - t_wall, cpu = now(CLOCK_THREAD_CPUTIME_ID) - t_cpu;
    long sw = switches() - t_sw;
    if (me != 0)
        fprintf(stderr, "cpu %s %d %ld (rank %d, %.0f ms)\n", name, (int)(100 * cpu / wall), sw,
                me, wall * 1000);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    wait_ms = argc > 1 ? atoi(argv[1]) : 600;
    long sum = 0;
    int v;

    /* a receive: rank 0 sends to every other rank */
    before();
    if (me == 0) {
        for (int i = 1; i < np; i++) {
            v = 100 + i;
            check(MPI_Send(&v, 1, MPI_INT, i, 1, MPI_COMM_WORLD), "MPI_Send");
        }
    } else {
        check(MPI_Recv(&v, 1, MPI_INT, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
        sum += v;
    }
    after("MPI_Recv");

    /* MPI_Wait on a receive posted before */
    before();
    if (me == 0) {
        for (int i = 1; i < np; i++) {
            v = 200 + i;
            check(MPI_Send(&v, 1, MPI_INT, i, 2, MPI_COMM_WORLD), "MPI_Send");
        }
    } else {
        MPI_Request q;
        check(MPI_Irecv(&v, 1, MPI_INT, 0, 2, MPI_COMM_WORLD, &q), "MPI_Irecv");
        check(MPI_Wait(&q, MPI_STATUS_IGNORE), "MPI_Wait");
        sum += v;
    }
    after("MPI_Wait");

    /* MPI_Probe, then the receive */
    before();
    if (me == 0) {
        for (int i = 1; i < np; i++) {
            v = 300 + i;
            check(MPI_Send(&v, 1, MPI_INT, i, 3, MPI_COMM_WORLD), "MPI_Send");
        }
    } else {
        MPI_Status st;
        check(MPI_Probe(0, 3, MPI_COMM_WORLD, &st), "MPI_Probe");
        check(MPI_Recv(&v, 1, MPI_INT, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
        sum += v;
    }
    after("MPI_Probe");

    /* blocking collectives */
    before();
    check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
    after("MPI_Barrier");

    before();
    v = me == 0 ? 400 : -1;
    check(MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Bcast");
    sum += v;
    after("MPI_Bcast");

    before();
    long x = me + 1, s = 0;
    check(MPI_Allreduce(&x, &s, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
    sum += s;
    after("MPI_Allreduce");

    before();
    int *all = malloc(sizeof(int) * (size_t)np);
    v = 10 * me;
    check(MPI_Allgather(&v, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD), "MPI_Allgather");
    for (int i = 0; i < np; i++)
        sum += all[i] * (i + 1);
    free(all);
    after("MPI_Allgather");

    if (argc > 2 && atoi(argv[2]) == 1) {
        long *w;
        MPI_Win win;
        check(MPI_Win_allocate((MPI_Aint)(np * sizeof(long)), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &w, &win),
              "MPI_Win_allocate");
        for (int i = 0; i < np; i++)
            w[i] = 0;
        /* rank 0 holds an exclusive lock of its own window while it sleeps */
        if (me == 0)
            check(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win), "MPI_Win_lock");
        check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
        before();
        long one = 1 + me;
        if (me != 0)
            check(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, win), "MPI_Win_lock");
        check(MPI_Accumulate(&one, 1, MPI_LONG, 0, 0, 1, MPI_LONG, MPI_SUM, win), "MPI_Accumulate");
        check(MPI_Win_unlock(0, win), "MPI_Win_unlock");
        after("MPI_Win_lock");
        /* the others wait in MPI_Win_start for rank 0's post */
        MPI_Group world, g;
        MPI_Comm_group(MPI_COMM_WORLD, &world);
        check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
        before();
        if (me == 0) {
            int zero = 0;
            MPI_Group_excl(world, 1, &zero, &g);
            check(MPI_Win_post(g, 0, win), "MPI_Win_post");
            check(MPI_Win_wait(win), "MPI_Win_wait");
        } else {
            int zero = 0;
            MPI_Group_incl(world, 1, &zero, &g);
            long mine = 10L * me;
            check(MPI_Win_start(g, 0, win), "MPI_Win_start");
            check(MPI_Put(&mine, 1, MPI_LONG, 0, me, 1, MPI_LONG, win), "MPI_Put");
            check(MPI_Win_complete(win), "MPI_Win_complete");
        }
        after("MPI_Win_start");
        MPI_Group_free(&g);
        MPI_Group_free(&world);
        check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
        if (me == 0) {
            check(MPI_Win_lock(MPI_LOCK_SHARED, 0, 0, win), "MPI_Win_lock");
            for (int i = 0; i < np; i++)
                sum += w[i] * (i + 1);
            check(MPI_Win_unlock(0, win), "MPI_Win_unlock");
        }
        check(MPI_Win_free(&win), "MPI_Win_free");
        /* communicator creations: the others wait inside the library for rank 0 (MPICH's
         * ranks spun there: rst_cross-mpich) */
        MPI_Comm half, inter;
        before();
        check(MPI_Comm_split(MPI_COMM_WORLD, me % 2, me, &half), "MPI_Comm_split");
        after("MPI_Comm_split");
        check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
        before();
        check(MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, me % 2 ? 0 : 1, 7, &inter),
              "MPI_Intercomm_create");
        after("MPI_Intercomm_create");
        int hs, rs;
        MPI_Comm_size(half, &hs);
        MPI_Comm_remote_size(inter, &rs);
        sum += 1000L * hs + 100000L * rs;
        check(MPI_Comm_free(&inter), "MPI_Comm_free");
        check(MPI_Comm_free(&half), "MPI_Comm_free");
    }

    printf("rank %d of %d: sum %ld\n", me, np, sum);
    MPI_Finalize();
    return 0;
}
