/* rst_greqt STEPS PACEFILE MS (rst_pscw.sh FLAVOR rst_greqt): generalized requests completed by a
 * helper thread (MPI_THREAD_MULTIPLE) and by the main thread, snapshots at random moments and a
 * --term one. Each step has E rounds; a round starts four generalized requests and a ring's
 * MPI_Irecv and MPI_Isend:
 *   w  the helper completes it after some work and a nap; the main thread waits for it in
 *      MPI_Waitany with the receive (a snapshot finds it pending, or complete and not waited on,
 *      or waited on)
 *   m  the main thread completes it after its own nap, then MPI_Testsome with c and the send
 *   f  freed with MPI_Request_free at once; the helper completes it later (free_fn then)
 *   c  cancelled: cancel_fn (complete=0) marks it, the main thread completes it, its status
 *      says cancelled
 * and at the step's end the main thread waits in MPI_Wait for a request the helper completes
 * once it has done everything asked before. Rank 0 prints one line per step: the statuses the
 * query functions gave, the set of indices (which completes first is the library's choice),
 * the calls of free_fn and cancel_fn and the ring's data, summed over the ranks. Natively the
 * same lines; before the layer had generalized requests: "MPI_Grequest_start is not supported
 * under Revive yet". */
#define _GNU_SOURCE
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rst_pace.h"

#define E 12
#define NQ 64

static int me;

#define CHECK(call)                                                                               \
    do {                                                                                          \
        int rc_ = (call);                                                                         \
        if (rc_ != MPI_SUCCESS) {                                                                 \
            fprintf(stderr, "rst_greqt rank %d: FAIL: %s: %d\n", me, #call, rc_);                  \
            MPI_Abort(MPI_COMM_WORLD, 3);                                                         \
        }                                                                                         \
    } while (0)

struct greq {
    int id;
    long work;
    int cancelled, cancel_calls, freed;
    MPI_Request req;
};

static int query_fn(void *extra, MPI_Status *st)
{
    struct greq *g = extra;
    MPI_Status_set_elements(st, MPI_INT, (g->id % 13 + 13) % 13);
    MPI_Status_set_cancelled(st, g->cancelled);
    st->MPI_SOURCE = me;
    st->MPI_TAG = g->id;
    return MPI_SUCCESS;
}

static int free_fn(void *extra)
{
    ((struct greq *)extra)->freed++;
    return MPI_SUCCESS;
}

static int cancel_fn(void *extra, int complete)
{
    struct greq *g = extra;
    g->cancel_calls++;
    if (!complete) /* no MPI call here: MPICH 4.0 natively fails an assertion in one */
        g->cancelled = 1;
    return MPI_SUCCESS;
}

/* the helper's queue: requests to complete, in order, each after some work and a nap */
static struct greq *q[NQ];
static int qh, qt;
static pthread_mutex_t qm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qc = PTHREAD_COND_INITIALIZER;
static const char *pace;
static long ms;

static void post(struct greq *g)
{
    pthread_mutex_lock(&qm);
    q[qt++ % NQ] = g;
    pthread_cond_signal(&qc);
    pthread_mutex_unlock(&qm);
}

static void nap(long us)
{
    if (ms > 0 && access(pace, F_OK) == 0) {
        struct timespec d = { 0, us * 1000L };
        nanosleep(&d, NULL);
    }
}

static void *helper(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&qm);
        while (qh == qt)
            pthread_cond_wait(&qc, &qm);
        struct greq *g = q[qh++ % NQ];
        pthread_mutex_unlock(&qm);
        if (!g)
            return NULL;
        long w = 0;
        for (long i = 0; i < 20000; i++)
            w += (i ^ g->id) % 5;
        g->work = w;
        nap(ms * 1000 / E / 3);
        CHECK(MPI_Grequest_complete(g->req));
    }
}

static struct greq *start(struct greq *g, int id)
{
    memset(g, 0, sizeof *g);
    g->id = id;
    CHECK(MPI_Grequest_start(query_fn, free_fn, cancel_fn, g, &g->req));
    return g;
}

static long st_digest(const MPI_Status *st)
{
    int n = -1, c = -1;
    MPI_Get_count(st, MPI_INT, &n);
    MPI_Test_cancelled(st, &c);
    return (long)st->MPI_SOURCE * 1000003 + st->MPI_TAG * 101 + n * 7 + c;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: rst_greqt STEPS PACEFILE MS\n");
        return 2;
    }
    int steps = atoi(argv[1]), np, provided;
    pace = argv[2];
    ms = atol(argv[3]);
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    if (provided < MPI_THREAD_MULTIPLE) {
        fprintf(stderr, "rst_greqt: MPI_THREAD_MULTIPLE not provided (%d)\n", provided);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    int right = (me + 1) % np, left = (me + np - 1) % np;
    pthread_t th;
    if (pthread_create(&th, NULL, helper, NULL) != 0)
        return 4;
    static struct greq gw[E], gm[E], gf[E], gc[E], gend;
    for (int s = 1; s <= steps; s++) {
        long dig = 0;
        for (int e = 0; e < E; e++) {
            int id = (s * E + e) * 4;
            start(&gw[e], id);
            start(&gm[e], id + 1);
            start(&gf[e], id + 2);
            start(&gc[e], id + 3);
            long out = me * 1000 + id, in = -1;
            MPI_Request ring[2];
            CHECK(MPI_Irecv(&in, 1, MPI_LONG, left, 5, MPI_COMM_WORLD, &ring[0]));
            CHECK(MPI_Isend(&out, 1, MPI_LONG, right, 5, MPI_COMM_WORLD, &ring[1]));
            post(&gw[e]);
            MPI_Request f = gf[e].req;
            CHECK(MPI_Request_free(&f));
            post(&gf[e]);
            MPI_Request c = gc[e].req;
            CHECK(MPI_Cancel(&c));
            if (gc[e].cancelled)
                CHECK(MPI_Grequest_complete(gc[e].req));
            nap(ms * 1000 / E / 2);
            CHECK(MPI_Grequest_complete(gm[e].req));
            MPI_Request any[2] = { gw[e].req, ring[0] };
            for (int k = 0; k < 2; k++) {
                int idx = -1;
                MPI_Status st;
                CHECK(MPI_Waitany(2, any, &idx, &st));
                dig += (idx + 1) * 1009L + (idx == 0 ? st_digest(&st) : st.MPI_SOURCE == left);
            }
            MPI_Request some[3] = { gm[e].req, c, ring[1] };
            for (int n = 3; n > 0;) {
                int outc = 0, ind[3];
                MPI_Status sts[3];
                CHECK(MPI_Testsome(3, some, &outc, ind, sts));
                for (int j = 0; j < outc; j++)
                    dig += (ind[j] + 1) * 2003L + (ind[j] != 2 ? st_digest(&sts[j]) : 0);
                n -= outc;
            }
            dig += in * 17 + gw[e].work;
        }
        /* everything the helper was asked is done once it completed this one */
        start(&gend, -s);
        post(&gend);
        MPI_Status st;
        CHECK(MPI_Wait(&gend.req, &st));
        dig += st_digest(&st) + gend.freed * 3;
        for (int e = 0; e < E; e++)
            dig += gw[e].freed * 5 + gm[e].freed * 7 + gf[e].freed * 11 + gc[e].freed * 13 +
                   gc[e].cancel_calls * 19 + gc[e].cancelled * 23 + gm[e].cancel_calls * 29;
        long sum = 0;
        CHECK(MPI_Reduce(&dig, &sum, 1, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD));
        if (me == 0) {
            printf("step %d: %lx\n", s, (unsigned long)sum);
            fflush(stdout);
        }
        rst_pace(pace, 1, steps - s);
    }
    post(NULL);
    pthread_join(th, NULL);
    if (me == 0)
        printf("done: %d steps\n", steps);
    MPI_Finalize();
    return 0;
}
