/* MPI_THREAD_MULTIPLE for the campaign (tests/mpi/ckpt/campaign; research list 30). Each rank
 * runs two threads that call MPI at the same time as the main thread: each thread has its own
 * communicator (a dup of MPI_COMM_WORLD) and runs a ring exchange (Isend/Irecv/Waitall), a
 * blocking Sendrecv and an Allreduce per round on it, while the main thread runs Bcasts and
 * Allreduces on MPI_COMM_WORLD. A checkpoint may come while all three are inside MPI, in
 * collectives of different communicators at different counts. If the library does not provide
 * MPI_THREAD_MULTIPLE the program says so and runs the threads one after the other (the same
 * results). Usage: cc_thread ROUNDS */
#include <pthread.h>

#include "tests/mpi/ckpt/campaign/cc.h"

#define NT 2

struct worker {
    int t, rounds;
    MPI_Comm comm;
    uint64_t ck;
    long errors;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    uint64_t h = 1469598103934665603ull;
    int right = (me + 1) % np, left = (me + np - 1) % np;
    for (int r = 0; r < w->rounds; r++) {
        long out[4], in[4] = { -1, -1, -1, -1 };
        for (int i = 0; i < 4; i++)
            out[i] = (long)cc_hash(me, r, w->t * 4 + i);
        MPI_Request q[2];
        MPI_Irecv(in, 4, MPI_LONG, left, r % 100, w->comm, &q[0]);
        MPI_Isend(out, 4, MPI_LONG, right, r % 100, w->comm, &q[1]);
        if ((r + w->t + me) % 3 == 0)
            cc_spin(30);
        MPI_Waitall(2, q, MPI_STATUSES_IGNORE);
        for (int i = 0; i < 4; i++)
            if (in[i] != (long)cc_hash(left, r, w->t * 4 + i))
                w->errors++;
        long a = me + r * (w->t + 1), b = -1;
        MPI_Sendrecv(&a, 1, MPI_LONG, left, 500, &b, 1, MPI_LONG, right, 500, w->comm, MPI_STATUS_IGNORE);
        if (b != right + r * (w->t + 1))
            w->errors++;
        long s = 0;
        MPI_Allreduce(&a, &s, 1, MPI_LONG, MPI_SUM, w->comm);
        if (s != (long)np * (np - 1) / 2 + (long)np * r * (w->t + 1))
            w->errors++;
        long v[3] = { in[0], b, s };
        for (size_t i = 0; i < sizeof v; i++) {
            h ^= ((unsigned char *)v)[i];
            h *= 1099511628211ull;
        }
    }
    w->ck = h;
    return NULL;
}

int main(int argc, char **argv)
{
    (void)start; /* mpitest.h's MPI_Init: this program needs MPI_Init_thread */
    int provided = -1;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    int multiple = provided == MPI_THREAD_MULTIPLE;
    if (!multiple && me == 0)
        fprintf(stderr, "cc_thread: MPI_THREAD_MULTIPLE not provided (%d): threads run in turn\n",
                provided);
    struct worker w[NT];
    pthread_t th[NT];
    for (int t = 0; t < NT; t++) {
        w[t] = (struct worker){ .t = t, .rounds = rounds };
        CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &w[t].comm));
    }
    if (multiple)
        for (int t = 0; t < NT; t++)
            pthread_create(&th[t], NULL, work, &w[t]);
    else
        for (int t = 0; t < NT; t++)
            work(&w[t]);
    /* the main thread meanwhile: collectives on MPI_COMM_WORLD */
    for (int r = 0; r < rounds; r++) {
        long b = me == r % np ? r * 3 : -1;
        CHECK(MPI_Bcast(&b, 1, MPI_LONG, r % np, MPI_COMM_WORLD));
        EXPECT(b == r * 3, "Bcast %ld", b);
        long s = 0, v = me * r;
        CHECK(MPI_Allreduce(&v, &s, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));
        EXPECT(s == (long)r * np * (np - 1) / 2, "Allreduce %ld", s);
        mixi(s);
        if (r % 7 == 0)
            cc_spin(50);
    }
    if (multiple)
        for (int t = 0; t < NT; t++)
            pthread_join(th[t], NULL);
    for (int t = 0; t < NT; t++) {
        mixi((long)w[t].ck);
        cc_errors += w[t].errors;
        MPI_Comm_free(&w[t].comm);
    }
    report("threads");
    cc_finish();
    MPI_Finalize();
    return 0;
}
