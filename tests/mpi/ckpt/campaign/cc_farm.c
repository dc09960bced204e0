/* A master/worker task farm, for the campaign (tests/mpi/ckpt/campaign). Each round rank 0 hands
 * out 4*np+3 tasks of uneven cost to the other ranks (on one rank it does them itself):
 *   - the master keeps two receives posted per worker (MPI_Irecv of a result from that worker) and
 *     waits on all of them with MPI_Waitsome; each result completed is reposted, and the worker
 *     that sent it gets the next task (MPI_Send); two tasks are in flight per worker at a time;
 *   - a worker keeps two receives of tasks posted (MPI_ANY_TAG), takes them with MPI_Waitany, and
 *     sends each result with MPI_Isend + MPI_Request_free (fire and forget, from a ring of four
 *     buffers: the protocol tells when one is free); one result in 6 is 20000 longs (rendezvous);
 *   - when every result is in, the master sends each worker a stop message (a tag of its own),
 *     MPI_Cancel's its receives left unmatched (MPI_Wait, MPI_Test_cancelled must say cancelled),
 *     and the round's total goes to every rank by MPI_Allreduce; a worker cancels its other task receive likewise.
 * Which worker does which task depends on timing: results are kept by task number only.
 * A checkpoint may come with every receive of the master posted and some matched, freed sends
 * in flight (rendezvous ones among them), or during the cancels.
 * Usage: cc_farm ROUNDS */
#include "tests/mpi/ckpt/campaign/cc.h"

#define TAG_TASK 1
#define TAG_STOP 2
#define TAG_RES 3
#define BIGR 20000 /* longs of a big result */
#define NRING 4    /* result buffers of a worker */

static int ntasks(void) { return 4 * np + 3; }
static long cost(int r, long id) { return (long)(cc_hash(r, id, 9) % 400); }
static int reslen(int r, long id)
{
    uint64_t h = cc_hash(r, id, 10);
    return h % 6 == 0 ? BIGR : 3 + (int)((h >> 8) % 40);
}
static long value(int r, long id) { return (long)(cc_hash(r, id, 11) >> 3); }
static long rword(int r, long id, int i) { return (long)(cc_hash(r * 131 + i, id, 12) >> 5); }

/* A task's work and result: [id, value, words...] */
static int do_task(int r, long id, long *out)
{
    cc_spin(cost(r, id));
    int len = reslen(r, id);
    out[0] = id;
    out[1] = value(r, id);
    for (int i = 2; i < len; i++)
        out[i] = rword(r, id, i);
    return len;
}

static void check_result(int r, const long *res, int len, long *vals, int *got)
{
    long id = res[0];
    if (!(id >= 0 && id < ntasks() && len == reslen(r, id))) {
        EXPECT(0, "round %d: a result of task %ld, %d longs", r, id, len);
        return;
    }
    int bad = res[1] != value(r, id);
    for (int i = 2; i < len; i++)
        bad += res[i] != rword(r, id, i);
    EXPECT(bad == 0, "round %d: task %ld's result has %d words wrong", r, id, bad);
    vals[id] = res[1];
    got[id]++;
}

static void master(int r, long **rb, MPI_Request *rq, long *vals, int *got)
{
    int nw = np - 1, nt = ntasks(), next = 0, in = 0;
    int *idx = malloc(sizeof(int) * 2 * (size_t)nw);
    MPI_Status *sts = malloc(sizeof(MPI_Status) * 2 * (size_t)nw);
    for (int i = 0; i < 2 * nw; i++)
        CHECK(MPI_Irecv(rb[i], BIGR, MPI_LONG, i / 2 + 1, TAG_RES, MPI_COMM_WORLD, &rq[i]));
    for (int w = 0; w < nw; w++)
        for (int s = 0; s < 2 && next < nt; s++) {
            long t[2] = { r, next++ };
            CHECK(MPI_Send(t, 2, MPI_LONG, w + 1, TAG_TASK, MPI_COMM_WORLD));
        }
    while (in < nt) {
        int n = 0;
        CHECK(MPI_Waitsome(2 * nw, rq, &n, idx, sts));
        for (int j = 0; j < n; j++) {
            int i = idx[j], len = 0;
            CHECK(MPI_Get_count(&sts[j], MPI_LONG, &len));
            check_result(r, rb[i], len, vals, got);
            in++;
            CHECK(MPI_Irecv(rb[i], BIGR, MPI_LONG, i / 2 + 1, TAG_RES, MPI_COMM_WORLD, &rq[i]));
            if (next < nt) {
                long t[2] = { r, next++ };
                CHECK(MPI_Send(t, 2, MPI_LONG, i / 2 + 1, TAG_TASK, MPI_COMM_WORLD));
            }
        }
    }
    for (int w = 0; w < nw; w++)
        CHECK(MPI_Send(NULL, 0, MPI_LONG, w + 1, TAG_STOP, MPI_COMM_WORLD));
    for (int i = 0; i < 2 * nw; i++)
        CHECK(MPI_Cancel(&rq[i]));
    for (int i = 0; i < 2 * nw; i++) {
        MPI_Status st;
        int c = 0;
        CHECK(MPI_Wait(&rq[i], &st));
        CHECK(MPI_Test_cancelled(&st, &c));
        EXPECT(c, "round %d: the master's receive %d was not cancelled", r, i);
    }
    free(idx);
    free(sts);
}

static long nres; /* results this worker sent, over the rounds (its ring's position) */

static void worker(int r, long **ring)
{
    long t[2][2];
    MPI_Request q[2];
    for (int s = 0; s < 2; s++)
        CHECK(MPI_Irecv(t[s], 2, MPI_LONG, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &q[s]));
    for (;;) {
        int s;
        MPI_Status st;
        CHECK(MPI_Waitany(2, q, &s, &st));
        if (st.MPI_TAG == TAG_STOP) {
            int c = 0;
            CHECK(MPI_Cancel(&q[1 - s]));
            CHECK(MPI_Wait(&q[1 - s], &st));
            CHECK(MPI_Test_cancelled(&st, &c));
            EXPECT(c, "round %d: the worker's task receive was not cancelled", r);
            return;
        }
        EXPECT(t[s][0] == r, "round %d: a task of round %ld", r, t[s][0]);
        /* result j's buffer is free again at j+NRING: the master sent task j+NRING only after
         * result j+NRING-2 came in, and results from one rank come in order */
        long *out = ring[nres++ % NRING];
        int len = do_task(r, t[s][1], out);
        MPI_Request sq;
        CHECK(MPI_Isend(out, len, MPI_LONG, 0, TAG_RES, MPI_COMM_WORLD, &sq));
        CHECK(MPI_Request_free(&sq));
        CHECK(MPI_Irecv(t[s], 2, MPI_LONG, 0, MPI_ANY_TAG, MPI_COMM_WORLD, &q[s]));
    }
}

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    int nt = ntasks(), nbuf = me == 0 ? 2 * (np - 1) : NRING;
    long **bufs = malloc(sizeof(long *) * (size_t)(nbuf + 1));
    for (int i = 0; i < nbuf + 1; i++)
        bufs[i] = malloc(sizeof(long) * BIGR);
    MPI_Request *rq = malloc(sizeof(MPI_Request) * (size_t)(nbuf + 1));
    long *vals = malloc(sizeof(long) * (size_t)nt);
    int *got = malloc(sizeof(int) * (size_t)nt);
    for (int r = 0; r < rounds; r++) {
        long total = 0;
        if (me == 0) {
            for (int i = 0; i < nt; i++)
                got[i] = 0, vals[i] = 0;
            if (np == 1)
                for (long id = 0; id < nt; id++) {
                    int len = do_task(r, id, bufs[0]);
                    check_result(r, bufs[0], len, vals, got);
                }
            else
                master(r, bufs, rq, vals, got);
            for (int i = 0; i < nt; i++) {
                EXPECT(got[i] == 1, "round %d: task %d's result came %d times", r, i, got[i]);
                total += vals[i];
            }
            mix(vals, sizeof(long) * (size_t)nt);
        } else {
            worker(r, bufs);
        }
        /* an Allreduce, not a Bcast: the master may not hand out the next round's tasks before
         * every worker has cancelled its task receive left over (it would match one) */
        long all = 0;
        CHECK(MPI_Allreduce(&total, &all, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));
        total = all;
        long want = 0;
        for (long id = 0; id < nt; id++)
            want += value(r, id);
        EXPECT(total == want, "round %d: total %ld (want %ld)", r, total, want);
        mixi(total);
    }
    report("farm");
    cc_finish();
    MPI_Finalize();
    return 0;
}
