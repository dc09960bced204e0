/* MPI_THREAD_MULTIPLE with several threads in MPI at once, checkpointed at random moments
 * (tests/mpi/ckpt): each rank runs THREADS threads (default 2) besides the main one; thread k
 * has communicators of its own (a dup of MPI_COMM_WORLD and a split of it) and runs a ring
 * exchange with a message in flight across a collective, wildcard receives, a nonblocking
 * collective and blocking collectives on them, so that every thread of a rank can be parked at
 * a different collective or wait loop when a checkpoint comes. The main thread waits in
 * MPI_Recv for messages the threads send it, and hands each to a worker thread outside MPI
 * that blocks every signal, as Boehm GC's marker threads (Meep, Guile) and many libraries'
 * worker pools do: libcr keeps the park signal out of every mask the program sets, so such a
 * thread is checkpointed like the others (before a570558 no checkpoint of a rank holding one
 * could be taken). Every thread's checksum is printed.
 * Usage: ck_threads [ROUNDS [THREADS]] */
#include <pthread.h>
#include <signal.h>

#include "tests/mpi/mpitest.h"

#define MAXT 4

struct thr {
    int k, rounds;
    MPI_Comm dup, split;
    uint64_t ck;
};

static uint64_t tmix(uint64_t h, long v)
{
    const unsigned char *c = (const unsigned char *)&v;
    for (size_t i = 0; i < sizeof v; i++) {
        h ^= c[i];
        h *= 1099511628211ull;
    }
    return h;
}

#define TCHECK(call) do { int rc_ = (call); if (rc_ != MPI_SUCCESS) { \
    fprintf(stderr, "rank %d thread %d: %s failed: %d\n", me, t->k, #call, rc_); \
    MPI_Abort(MPI_COMM_WORLD, 2); } } while (0)

static void *run(void *arg)
{
    struct thr *t = arg;
    int right = (me + 1) % np, left = (me + np - 1) % np;
    int srank, ssize;
    MPI_Comm_rank(t->split, &srank);
    MPI_Comm_size(t->split, &ssize);
    uint64_t h = 1469598103934665603ull + (uint64_t)t->k;
    for (int r = 0; r < t->rounds; r++) {
        MPI_Request q[3];
        MPI_Status s;
        long out = me * 1000 + r * 10 + t->k, in = -1, w = -1;
        /* a message in flight across a collective, received with a wildcard afterwards */
        TCHECK(MPI_Isend(&out, 1, MPI_LONG, right, r % 7, t->dup, &q[0]));
        long x = me + r + t->k, y = 0;
        TCHECK(MPI_Allreduce(&x, &y, 1, MPI_LONG, MPI_SUM, t->dup));
        h = tmix(h, y);
        TCHECK(MPI_Recv(&in, 1, MPI_LONG, MPI_ANY_SOURCE, MPI_ANY_TAG, t->dup, &s));
        h = tmix(h, in);
        h = tmix(h, s.MPI_SOURCE * 100 + s.MPI_TAG);
        /* a nonblocking collective overlapping a blocking one on the other communicator */
        if (me == 0)
            w = r * 3 + t->k;
        TCHECK(MPI_Ibcast(&w, 1, MPI_LONG, 0, t->dup, &q[1]));
        long a = srank + r, b = 0;
        TCHECK(MPI_Allreduce(&a, &b, 1, MPI_LONG, MPI_MAX, t->split));
        h = tmix(h, b);
        TCHECK(MPI_Wait(&q[1], MPI_STATUS_IGNORE));
        TCHECK(MPI_Wait(&q[0], MPI_STATUS_IGNORE));
        h = tmix(h, w);
        /* a rotating root, which may run ahead */
        long c = r + t->k;
        TCHECK(MPI_Bcast(&c, 1, MPI_LONG, r % np, t->dup));
        h = tmix(h, c);
        /* tell the main thread, which waits in MPI_Recv on WORLD */
        long note = r * 10 + t->k;
        if (r % 5 == 0)
            TCHECK(MPI_Send(&note, 1, MPI_LONG, left, 500 + t->k, MPI_COMM_WORLD));
    }
    t->ck = h;
    return NULL;
}

/* the worker that blocks every signal: sums what the main thread hands it, idle on a condition
 * variable in between */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    long queued[64];
    int head, tail, done;
    long sum;
} work = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0, 0, 0};

static void *masked_worker(void *arg)
{
    (void)arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    pthread_mutex_lock(&work.lock);
    for (;;) {
        while (work.head == work.tail && !work.done)
            pthread_cond_wait(&work.cond, &work.lock);
        if (work.head == work.tail)
            break;
        long v = work.queued[work.head++ % 64];
        work.sum += v * v + 3; /* in any order: the notes arrive in any order */
        pthread_cond_broadcast(&work.cond);
    }
    pthread_mutex_unlock(&work.lock);
    return NULL;
}

static void hand_to_worker(long v)
{
    pthread_mutex_lock(&work.lock);
    while (work.tail - work.head >= 64)
        pthread_cond_wait(&work.cond, &work.lock);
    work.queued[work.tail++ % 64] = v;
    pthread_cond_broadcast(&work.cond);
    pthread_mutex_unlock(&work.lock);
}

int main(int argc, char **argv)
{
    int prov;
    (void)start; /* mpitest.h's MPI_Init: this program asks for a thread level */
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &prov);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    if (prov < MPI_THREAD_MULTIPLE) {
        if (me == 0)
            printf("MPI_THREAD_MULTIPLE not provided (%d)\n", prov);
        MPI_Finalize();
        return 0;
    }
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    int nt = argc > 2 ? atoi(argv[2]) : 2;
    if (nt < 1 || nt > MAXT)
        nt = 2;
    struct thr t[MAXT];
    /* communicators made in the main thread, in the same order on every rank */
    for (int k = 0; k < nt; k++) {
        t[k].k = k;
        t[k].rounds = rounds;
        CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &t[k].dup));
        CHECK(MPI_Comm_split(MPI_COMM_WORLD, (me + k) % 2, me, &t[k].split));
    }
    pthread_t th[MAXT], masked;
    pthread_create(&masked, NULL, masked_worker, NULL);
    for (int k = 0; k < nt; k++)
        pthread_create(&th[k], NULL, run, &t[k]);
    /* the main thread: the notes of every thread of the right neighbour */
    int notes = nt * ((rounds + 4) / 5);
    long sum = 0;
    for (int i = 0; i < notes; i++) {
        long v;
        MPI_Status s;
        CHECK(MPI_Recv(&v, 1, MPI_LONG, (me + 1) % np, MPI_ANY_TAG, MPI_COMM_WORLD, &s));
        sum += v * 7 + s.MPI_TAG;
        hand_to_worker(v);
    }
    for (int k = 0; k < nt; k++)
        pthread_join(th[k], NULL);
    pthread_mutex_lock(&work.lock);
    work.done = 1;
    pthread_cond_broadcast(&work.cond);
    pthread_mutex_unlock(&work.lock);
    pthread_join(masked, NULL);
    mixi(sum);
    report("main");
    ck = (uint64_t)work.sum;
    report("masked");
    for (int k = 0; k < nt; k++) {
        char name[16];
        snprintf(name, sizeof name, "thread%d", k);
        ck = t[k].ck;
        report(name);
        MPI_Comm_free(&t[k].dup);
        MPI_Comm_free(&t[k].split);
    }
    MPI_Finalize();
    return 0;
}
