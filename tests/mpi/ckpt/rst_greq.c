/* Generalized requests (MPI_Grequest_start) across global snapshots (rst_mpi4.sh FLAVOR rst_greq):
 *
 *   rst_greq STEPS CKPT_STEP CKPT_STEP2
 *
 * MPI_THREAD_MULTIPLE. Every step starts six generalized requests and a ring's MPI_Isend and
 * MPI_Irecv, and at CKPT_STEP (and, in a job restarted from a snapshot, at CKPT_STEP2) calls
 * MPIX_Checkpoint with:
 *   A  completed by a helper thread after some work (completed, not waited on, at the snapshot)
 *   B  pending (the main thread completes it after the snapshot; MPI_Request_get_status before
 *      and after)
 *   C  cancelled (cancel_fn, called with complete=0, marks it; the main thread completes it; its
 *      status says cancelled)
 *   D  freed with MPI_Request_free before completion (free_fn then at once on MPICH, at
 *      MPI_Grequest_complete on Open MPI: the line says which, as the native run's)
 *   E  waited on by the helper thread in MPI_Wait across the snapshot (completed afterwards)
 *   F  completed by the main thread before the snapshot
 * then completes them all: A and B with the receive in MPI_Waitany, C and F with the send in
 * MPI_Testsome, the others in MPI_Waitall (B's cancel_fn called with complete=1 first). Rank 0
 * prints one line per step: the statuses (source, tag, count, cancelled) the query functions
 * gave, the indices the completion calls returned (as a set: which completes first is the
 * library's choice), the calls of free_fn and cancel_fn, the ring's data, summed over the ranks.
 * Natively MPIX_Checkpoint fails and changes nothing: every generation's lines must equal an
 * uninterrupted native run's. Before the layer had them: "MPI_Grequest_start is not supported
 * under Revive yet". */
#define _GNU_SOURCE
#include "tests/mpi/mpitest.h"
#include "rst_mpi4.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#define NG 6
enum { A, B, C, D, E, F };

struct greq {
    int id, step;
    long work;             /* what the helper computed (A) */
    int cancelled;         /* cancel_fn was called with complete=0 */
    int cancel_calls, cancel_complete, freed;
    MPI_Request req;       /* the handle MPI_Grequest_complete takes */
};

static int query_fn(void *extra, MPI_Status *st)
{
    struct greq *g = extra;
    MPI_Status_set_elements(st, MPI_BYTE, g->id * 3 + g->step);
    MPI_Status_set_cancelled(st, g->cancelled);
    st->MPI_SOURCE = me;
    st->MPI_TAG = 100 * g->id + g->step;
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
    g->cancel_complete += complete != 0;
    if (!complete) /* a library's cancel: its work stops, and it completes the request (no MPI
                    * call here: MPICH 4.0 natively fails an assertion in one) */
        g->cancelled = 1;
    return MPI_SUCCESS;
}

struct helper {
    struct greq *g;
    MPI_Request e;      /* E, waited on here */
    MPI_Status est;
    volatile int a_done;
};

static void *helper_main(void *p)
{
    struct helper *h = p;
    long w = 0;
    for (long i = 0; i < 200000; i++)
        w += (i ^ h->g[A].step) % 7;
    h->g[A].work = w;
    CHECK(MPI_Grequest_complete(h->g[A].req));
    __atomic_store_n(&h->a_done, 1, __ATOMIC_RELEASE);
    CHECK(MPI_Wait(&h->e, &h->est)); /* across the snapshot: completed by the main thread after it */
    return NULL;
}

/* The digest of a status a query function gave. */
static long st_digest(const MPI_Status *st)
{
    int n = -1, c = -1;
    MPI_Get_count(st, MPI_BYTE, &n);
    MPI_Test_cancelled(st, &c);
    return (long)st->MPI_SOURCE * 1000003 + st->MPI_TAG * 101 + n * 7 + c;
}

int main(int argc, char **argv)
{
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (provided < MPI_THREAD_MULTIPLE) {
        fprintf(stderr, "rst_greq: MPI_THREAD_MULTIPLE not provided (%d)\n", provided);
        return 2;
    }
    if (argc < 4) {
        fprintf(stderr, "usage: rst_greq STEPS CKPT_STEP CKPT_STEP2\n");
        return 2;
    }
    struct mpi4_run run = { atoi(argv[1]), atoi(argv[2]), atoi(argv[3]), 0, 0 };
    run.revive = dlsym(RTLD_DEFAULT, "revive_mpix_checkpoint") != NULL;
    int right = (me + 1) % np, left = (me + np - 1) % np;
    for (int s = 0; s < run.steps; s++) {
        struct greq g[NG];
        memset(g, 0, sizeof g);
        for (int i = 0; i < NG; i++) {
            g[i].id = i;
            g[i].step = s;
            CHECK(MPI_Grequest_start(query_fn, free_fn, cancel_fn, &g[i], &g[i].req));
        }
        MPI_Request q[NG];
        for (int i = 0; i < NG; i++)
            q[i] = g[i].req;
        long out[4], in[4] = { -1, -1, -1, -1 };
        for (int i = 0; i < 4; i++)
            out[i] = me * 1000 + s * 10 + i;
        MPI_Request ring[2];
        CHECK(MPI_Irecv(in, 4, MPI_LONG, left, 7, MPI_COMM_WORLD, &ring[0]));
        CHECK(MPI_Isend(out, 4, MPI_LONG, right, 7, MPI_COMM_WORLD, &ring[1]));

        struct helper h = { .g = g, .e = q[E], .a_done = 0 };
        pthread_t th;
        if (pthread_create(&th, NULL, helper_main, &h) != 0)
            return 4;
        long dig = 0;
        int flag = -1;
        MPI_Status st;
        CHECK(MPI_Request_get_status(q[B], &flag, &st));
        dig += flag * 11;                      /* 0: not complete */
        CHECK(MPI_Cancel(&q[C]));               /* cancel_fn(complete=0) */
        if (g[C].cancelled)
            CHECK(MPI_Grequest_complete(q[C]));
        MPI_Request d = q[D];
        CHECK(MPI_Request_free(&d));            /* free_fn: MPICH now, Open MPI at completion */
        dig += (d == MPI_REQUEST_NULL) * 13 + g[D].freed * 53;
        CHECK(MPI_Grequest_complete(q[F]));
        while (!__atomic_load_n(&h.a_done, __ATOMIC_ACQUIRE))
            usleep(100);
        /* A and F completed, not waited on; B, E pending (E waited on by the helper); C cancelled */
        mpi4_ckpt_step(&run, s);
        CHECK(MPI_Grequest_complete(q[B]));
        CHECK(MPI_Grequest_complete(q[D]));     /* free_fn now: the program let it go */
        CHECK(MPI_Grequest_complete(q[E]));
        if (pthread_join(th, NULL) != 0)
            return 4;
        dig += st_digest(&h.est) * 3;
        flag = -1;
        CHECK(MPI_Request_get_status(q[B], &flag, &st));
        dig += flag * 17 + st_digest(&st) * 5;
        CHECK(MPI_Cancel(&q[B]));               /* too late: cancel_fn(complete=1) does nothing */

        /* A, B and the receive in MPI_Waitany: the set of indices and their statuses */
        MPI_Request any[3] = { q[A], ring[0], q[B] };
        for (int k = 0; k < 3; k++) {
            int idx = -1;
            CHECK(MPI_Waitany(3, any, &idx, &st));
            dig += (idx + 1) * 1009L + (idx != 1 ? st_digest(&st) : st.MPI_TAG);
        }
        int idx = -2;
        CHECK(MPI_Waitany(3, any, &idx, &st));
        dig += (idx == MPI_UNDEFINED) * 19;
        /* C, F and the send in MPI_Testsome until every one is done */
        MPI_Request some[3] = { q[C], ring[1], q[F] };
        for (int left_n = 3; left_n > 0;) {
            int outc = 0, ind[3];
            MPI_Status sts[3];
            CHECK(MPI_Testsome(3, some, &outc, ind, sts));
            for (int j = 0; j < outc; j++)
                dig += (ind[j] + 1) * 2003L + (ind[j] != 1 ? st_digest(&sts[j]) : 0);
            left_n -= outc;
            if (outc == 0)
                usleep(50);
        }
        for (int i = 0; i < NG; i++)
            dig += g[i].freed * (i + 1) * 31L + g[i].cancel_calls * (i + 1) * 37L +
                   g[i].cancel_complete * (i + 1) * 41L + g[i].cancelled * (i + 1) * 43L;
        dig += g[A].work + mpi4_digest(in, 4) * 47;
        long t = mpi4_sum(dig);
        if (me == 0)
            printf("step %d: %lx\n", s, (unsigned long)t);
    }
    if (me == 0)
        printf("done: %d steps\n", run.steps);
    MPI_Finalize();
    return 0;
}
