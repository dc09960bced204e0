/* rst_getrace STEPS PACEFILE MS [ROUNDS] (rst_pscw.sh FLAVOR rst_getrace 2 12): handles a call
 * returns that may exist already ([get] of an @create call in mpi_iface.def), got for the first
 * time by several threads at once. MPI_THREAD_MULTIPLE; before the steps, ROUNDS rounds (40) in
 * which RACERS threads (the main one among them) leave a spinning barrier together and each call
 * MPI_Type_create_f90_real with the round's new (p, r), MPI_Type_match_size and
 * MPI_Comm_get_errhandler of MPI_COMM_SELF, whose error handler the round made new (the
 * program's own handle of it freed, so the first get is new to the layer); every thread keeps
 * what it got, and the handles of one round must be the same in every thread (but the f90 ones:
 * Open MPI 4.1's table of them is not thread safe, and two threads at once may each get a type
 * of its own, seen 1 run in 8 under the layer, with or without the fault point). The steps use
 * every kept handle (the sizes and envelopes of the f90 types, a message of one of them, one
 * round's error handler set on a communicator, got back and called), the end every error
 * handler: lines as uninterrupted after each restart. Before session 46 the layer recorded such a
 * handle when, after the call, it saw no other reference to it: two threads whose first calls
 * overlapped each saw the other's, neither recorded it, and the restart failed ("handle ... was
 * not made by a recorded call") or used a handle of the dead library (diffrev45 R-L2). The
 * window is a few instructions: REVIVE_FAULT=mpi-get-late (vhandle.c) widens it to 2 ms. */
#include <mpi.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rst_describe.h"
#include "rst_pace.h"

#define RACERS 3
#define MAXROUNDS 56 /* MPICH 4.0 keeps at most 64 f90 types */

static int rounds = 40;
static MPI_Datatype f90[RACERS][MAXROUNDS], ms[RACERS][MAXROUNDS];
static MPI_Errhandler eh[RACERS][MAXROUNDS];
static atomic_int arrived, generation;
static atomic_long called;

static void on_error(MPI_Comm *c, int *code, ...)
{
    (void)c;
    atomic_fetch_add(&called, *code);
}

/* every racer waits here until all have come, spinning, so that they leave together */
static void spin_barrier(void)
{
    int g = atomic_load(&generation);
    if (atomic_fetch_add(&arrived, 1) == RACERS - 1) {
        atomic_store(&arrived, 0);
        atomic_fetch_add(&generation, 1);
        return;
    }
    for (long i = 0; atomic_load(&generation) == g; i++)
        if (i > 1000)
            sched_yield(); /* 2 cores for 3 racers and the rest of the machine */
}

/* round k's (p, r): a new f90 real every round (p 1..14, r 10..) */
static void race(int t)
{
    for (int k = 0; k < rounds; k++) {
        if (t == 0) {
            MPI_Errhandler mine;
            MPI_Comm_create_errhandler(on_error, &mine);
            MPI_Comm_set_errhandler(MPI_COMM_SELF, mine);
            MPI_Errhandler_free(&mine);
        }
        spin_barrier();
        if (MPI_Type_create_f90_real(1 + k % 14, 10 + k, &f90[t][k]) != MPI_SUCCESS ||
            MPI_Type_match_size(MPI_TYPECLASS_REAL, k % 2 ? 4 : 8, &ms[t][k]) != MPI_SUCCESS ||
            MPI_Comm_get_errhandler(MPI_COMM_SELF, &eh[t][k]) != MPI_SUCCESS) {
            fprintf(stderr, "rst_getrace: round %d: a call failed\n", k);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
        spin_barrier();
    }
}

static void *racer(void *arg)
{
    race((int)(long)arg);
    return NULL;
}

/* round k's error handler (each racer's handle) set on c, got back, called with code */
static unsigned long long use_eh(MPI_Comm c, int k, int code, unsigned long long h)
{
    for (int t = 0; t < RACERS; t++) {
        MPI_Errhandler g;
        MPI_Comm_set_errhandler(c, eh[t][k]);
        MPI_Comm_get_errhandler(c, &g);
        h = rst_mix(h, g == eh[t][k]);
        MPI_Errhandler_free(&g);
        long before = atomic_load(&called);
        MPI_Comm_call_errhandler(c, code);
        h = rst_mix(h, (unsigned long long)(atomic_load(&called) - before));
    }
    return h;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: rst_getrace STEPS PACEFILE MS [ROUNDS]\n");
        return 2;
    }
    struct rst_run r = {atoi(argv[1]), argv[2], atol(argv[3]), 0, 0, 0, 0};
    if (argc > 4)
        rounds = atoi(argv[4]);
    if (rounds < 1 || rounds > MAXROUNDS) {
        fprintf(stderr, "rst_getrace: ROUNDS from 1 to %d\n", MAXROUNDS);
        return 2;
    }
    int prov;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &prov);
    if (prov < MPI_THREAD_MULTIPLE) {
        fprintf(stderr, "rst_getrace: no MPI_THREAD_MULTIPLE (%d)\n", prov);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &r.me);
    MPI_Comm_size(MPI_COMM_WORLD, &r.np);
    r.right = (r.me + 1) % r.np;
    r.left = (r.me + r.np - 1) % r.np;

    pthread_t th[RACERS];
    for (long t = 1; t < RACERS; t++)
        if (pthread_create(&th[t], NULL, racer, (void *)t)) {
            fprintf(stderr, "rst_getrace: cannot start a thread\n");
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    race(0);
    for (int t = 1; t < RACERS; t++)
        pthread_join(th[t], NULL);
    unsigned long long acc = 1;
    for (int k = 0; k < rounds; k++)
        for (int t = 1; t < RACERS; t++)
            if (ms[t][k] != ms[0][k] || eh[t][k] != eh[0][k]) {
                fprintf(stderr, "rst_getrace: round %d: thread %d got other handles than thread 0"
                        " (match_size %d, error handler %d)\n", k, t, ms[t][k] != ms[0][k],
                        eh[t][k] != eh[0][k]);
                MPI_Abort(MPI_COMM_WORLD, 2);
            }
    MPI_Comm dup;
    MPI_Comm_dup(MPI_COMM_WORLD, &dup);
    for (int s = 1; s <= r.steps; s++) {
        for (int k = 0; k < rounds; k++)
            for (int t = 0; t < RACERS; t++)
                acc = rst_describe_f90(ms[t][k], rst_describe_f90(f90[t][k], acc));
        int k = s % rounds, t = s % RACERS;
        double d[4] = {s + 0.5, r.me, s * 0.25, 1}, o[4] = {0};
        MPI_Sendrecv(d, 2, f90[t][k], r.right, 1, o, 2, f90[t][k], r.left, 1, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
        for (int i = 0; i < 4; i++) {
            unsigned long long bits;
            memcpy(&bits, &o[i], sizeof bits);
            acc = rst_mix(acc, bits);
        }
        acc = use_eh(dup, k, s, acc);
        rst_step_sum(&r, s, (long long)(acc % 1000000007ull));
    }
    for (int k = 0; k < rounds; k++)
        acc = use_eh(dup, k, k + 1, acc);
    MPI_Comm_free(&dup);
    /* one reference of each round's error handler given back, not one per thread: a restart
     * makes one library reference of a handle the program got several times, and MPICH then
     * asserts at the second free ("ref_count >= 0", found in session 46, not mended yet) */
    for (int k = 0; k < rounds; k++)
        MPI_Errhandler_free(&eh[0][k]);
    rst_done_sum(&r, (long long)(acc % 1000000007ull));
    MPI_Finalize();
    return 0;
}
