/* Blocking point to point for the campaign (tests/mpi/ckpt/campaign). A checkpoint may come
 * while a rank is blocked on a peer that is busy outside MPI:
 *   - in Ssend (the receiver has not posted yet), in Send of a rendezvous-size message (research
 *     list 7), in Recv, in Probe, in Mprobe, in Wait on a receive, in Sendrecv;
 *   - with messages of sizes around the eager/rendezvous limits of both libraries (1 B to 1 MiB)
 *     in flight, received in order with ANY_TAG or by Probe-then-Recv (research 15: after a
 *     restart the probe must see the drained message, and the Recv must take the same one);
 *   - ANY_SOURCE receives take messages from several senders (research 18, 19), the arrival
 *     order is free but the set is fixed.
 * Every message's content is checked (errors) and mixed into the checksums.
 * Usage: cc_block ROUNDS */
#include "tests/mpi/ckpt/campaign/cc.h"

#define MAXSZ (1 << 20)

static const int sizes[] = { 1, 100, 4000, 12000, 65000, 70000, 262144, MAXSZ };
#define NSIZES ((int)(sizeof sizes / sizeof *sizes))

static void fill(unsigned char *p, int n, long seed)
{
    uint64_t h = cc_hash(seed, n, 3);
    for (int i = 0; i < n; i++) {
        if (i % 8 == 0)
            h = h * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (unsigned char)(h >> (8 * (i % 8)));
    }
}

static int same(const unsigned char *p, int n, long seed)
{
    static unsigned char *q;
    if (!q)
        q = malloc(MAXSZ);
    fill(q, n, seed);
    return memcmp(p, q, (size_t)n) == 0;
}

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int rounds = argc > 1 ? atoi(argv[1]) : 40;
    int right = (me + 1) % np, left = (me + np - 1) % np;
    unsigned char *sb = malloc(MAXSZ), *rb = malloc(MAXSZ);
    MPI_Comm any;
    CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &any));
    uint64_t anyset = 0;
    for (int r = 0; r < rounds; r++) {
        int slow = r % np; /* this round's busy rank */
        /* 1: Ssend to a receiver that posts late; a rendezvous Send likewise */
        long v = me * 1000 + r, w = -1;
        if (me == slow)
            cc_spin(400);
        int partner = me % 2 == 0 ? me + 1 : me - 1; /* pairs; the last of an odd count idles */
        if (partner < np) {
            if (me % 2 == 0) {
                CHECK(MPI_Ssend(&v, 1, MPI_LONG, partner, 1, MPI_COMM_WORLD));
            } else {
                CHECK(MPI_Recv(&w, 1, MPI_LONG, partner, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
                EXPECT(w == partner * 1000 + r, "Ssend value %ld", w);
            }
        }
        mixi(w);
        int big = sizes[NSIZES - 1 - r % 3];
        fill(sb, big, me * 7 + r);
        if (me == (slow + 1) % np)
            cc_spin(300);
        MPI_Status st;
        CHECK(MPI_Sendrecv(sb, big, MPI_BYTE, right, 2, rb, big, MPI_BYTE, left, 2, MPI_COMM_WORLD, &st));
        int cnt;
        MPI_Get_count(&st, MPI_BYTE, &cnt);
        EXPECT(cnt == big && same(rb, big, left * 7 + r), "rendezvous Sendrecv of %d bytes (%d)", big, cnt);

        /* 2: every size in flight at once, then a collective, then Probe-then-Recv in order */
        MPI_Request q[NSIZES];
        unsigned char *sbufs[NSIZES];
        for (int k = 0; k < NSIZES; k++) {
            sbufs[k] = malloc((size_t)sizes[k]);
            fill(sbufs[k], sizes[k], me * 100 + k + r);
            CHECK(MPI_Isend(sbufs[k], sizes[k], MPI_BYTE, right, 10 + k, MPI_COMM_WORLD, &q[k]));
        }
        long x = r, y;
        CHECK(MPI_Allreduce(&x, &y, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));
        if (me == slow)
            cc_spin(200);
        for (int k = 0; k < NSIZES; k++) {
            if (k % 2 == 0) {
                CHECK(MPI_Probe(left, MPI_ANY_TAG, MPI_COMM_WORLD, &st));
                MPI_Get_count(&st, MPI_BYTE, &cnt);
                EXPECT(st.MPI_TAG == 10 + k && cnt == sizes[k], "Probe: tag %d count %d, expected %d %d",
                       st.MPI_TAG, cnt, 10 + k, sizes[k]);
                CHECK(MPI_Recv(rb, cnt, MPI_BYTE, left, st.MPI_TAG, MPI_COMM_WORLD, &st));
            } else {
                MPI_Message m;
                CHECK(MPI_Mprobe(left, 10 + k, MPI_COMM_WORLD, &m, &st));
                MPI_Get_count(&st, MPI_BYTE, &cnt);
                CHECK(MPI_Mrecv(rb, cnt, MPI_BYTE, &m, &st));
            }
            EXPECT(cnt == sizes[k] && same(rb, sizes[k], left * 100 + k + r), "size %d: %d bytes",
                   sizes[k], cnt);
            mixi(cnt);
        }
        CHECK(MPI_Waitall(NSIZES, q, MPI_STATUSES_IGNORE));
        for (int k = 0; k < NSIZES; k++)
            free(sbufs[k]);

        /* 3: ANY_SOURCE from everybody, a slow sender among them; the set is fixed */
        long out = (long)cc_hash(me, r, 5);
        MPI_Request sq[2];
        CHECK(MPI_Isend(&out, 1, MPI_LONG, 0, 20 + me % 3, any, &sq[0]));
        if (me == 0) {
            for (int i = 0; i < np; i++) {
                long in;
                CHECK(MPI_Recv(&in, 1, MPI_LONG, MPI_ANY_SOURCE, MPI_ANY_TAG, any, &st));
                EXPECT(in == (long)cc_hash(st.MPI_SOURCE, r, 5) && st.MPI_TAG == 20 + st.MPI_SOURCE % 3,
                       "ANY_SOURCE: %ld from %d tag %d", in, st.MPI_SOURCE, st.MPI_TAG);
                anyset += (uint64_t)in;
            }
        } else if (me == slow) {
            cc_spin(200);
        }
        CHECK(MPI_Wait(&sq[0], MPI_STATUS_IGNORE));

        /* 4: a receive blocked in Wait while its sender is busy; Probe blocked likewise */
        long pv = -1, ps = me + r;
        MPI_Request rq;
        CHECK(MPI_Irecv(&pv, 1, MPI_LONG, left, 30, MPI_COMM_WORLD, &rq));
        if (me == slow)
            cc_spin(300);
        CHECK(MPI_Send(&ps, 1, MPI_LONG, right, 30, MPI_COMM_WORLD));
        CHECK(MPI_Wait(&rq, &st));
        EXPECT(pv == left + r && st.MPI_SOURCE == left, "Wait: %ld from %d", pv, st.MPI_SOURCE);
        mixi(pv);
        if (me == slow)
            cc_spin(300);
        CHECK(MPI_Isend(&ps, 1, MPI_LONG, right, 31, MPI_COMM_WORLD, &sq[1]));
        CHECK(MPI_Probe(MPI_ANY_SOURCE, 31, MPI_COMM_WORLD, &st));
        EXPECT(st.MPI_SOURCE == left, "Probe source %d", st.MPI_SOURCE);
        CHECK(MPI_Recv(&pv, 1, MPI_LONG, st.MPI_SOURCE, 31, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        CHECK(MPI_Wait(&sq[1], MPI_STATUS_IGNORE));
        EXPECT(pv == left + r, "Probe-then-Recv %ld", pv);
        mixi(pv);
    }
    mixi((long)anyset);
    report("block");
    cc_finish();
    MPI_Comm_free(&any);
    free(sb);
    free(rb);
    MPI_Finalize();
    return 0;
}
