/* Point to point for checkpoints at random moments (tests/mpi/ckpt): messages are left in
 * flight across collectives (where a checkpoint parks the ranks), so the drain moves them into
 * its buffer and later receives must find them there. The checksums must not change.
 *   in flight across a Barrier, received later in order; ANY_SOURCE/ANY_TAG; rendezvous-size
 *   messages; Ssend, Bsend, Rsend; Probe, Iprobe, Mprobe, Improbe; derived datatypes (vector,
 *   struct) and truncation (MPI_ERR_TRUNCATE on an MPI_ERRORS_RETURN communicator); Waitany and
 *   Testsome over receives the drain may have served; persistent requests; a cancelled receive;
 *   a send freed while active; a receive posted before a checkpoint and matched after it.
 * Usage: ck_p2p [ROUNDS [HOLDFILE]] (HOLDFILE: ck_hold.h) */
#include <stddef.h>

#include "tests/mpi/mpitest.h"
#include "tests/mpi/ckpt/ck_hold.h"

#define BIG (256 * 1024)

static uint64_t hash3(long a, long b, long c)
{
    uint64_t h = 1469598103934665603ull;
    long v[3] = { a, b, c };
    const unsigned char *p = (const unsigned char *)v;
    for (size_t i = 0; i < sizeof v; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* The world ranks r sends to in round k (two of them, possibly itself). */
static int target(int r, int k, int j)
{
    return (int)((hash3(r, k, j) >> 7) % (uint64_t)np);
}

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    int right = (me + 1) % np, left = (me + np - 1) % np;
    MPI_Comm eret, c1, c2; /* wildcard receives get communicators of their own */
    CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &eret));
    CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &c1));
    CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &c2));
    MPI_Comm_set_errhandler(eret, MPI_ERRORS_RETURN);
    MPI_Datatype vec, st2;
    CHECK(MPI_Type_vector(4, 2, 3, MPI_INT, &vec));
    CHECK(MPI_Type_commit(&vec));
    struct pair { int i; double d; };
    int bl[2] = { 1, 1 };
    MPI_Aint disp[2] = { offsetof(struct pair, i), offsetof(struct pair, d) };
    MPI_Datatype tys[2] = { MPI_INT, MPI_DOUBLE };
    CHECK(MPI_Type_create_struct(2, bl, disp, tys, &st2));
    CHECK(MPI_Type_commit(&st2));
    int bsz = 8 * (1024 + MPI_BSEND_OVERHEAD);
    char *bbuf = malloc((size_t)bsz);
    CHECK(MPI_Buffer_attach(bbuf, bsz));
    char *big = malloc(BIG), *bigr = malloc(BIG);
    int pin = -1, pout;
    MPI_Request pr[2];
    CHECK(MPI_Recv_init(&pin, 1, MPI_INT, left, 900, MPI_COMM_WORLD, &pr[0]));
    CHECK(MPI_Send_init(&pout, 1, MPI_INT, right, 900, MPI_COMM_WORLD, &pr[1]));
    uint64_t anyacc = 0;
    sections_start();
    for (int r = 0; r < rounds; r++) {
        section(1);
        /* 1: in flight across a barrier, received in order afterwards */
        MPI_Request q[4];
        int sv[3][8], rv[8];
        for (int k = 0; k < 3; k++) {
            for (int i = 0; i < 8; i++)
                sv[k][i] = me * 100000 + r * 100 + k * 10 + i;
            CHECK(MPI_Isend(sv[k], 2 + 2 * k, MPI_INT, right, r % 50 + k, c1, &q[k]));
        }
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        for (int k = 0; k < 3; k++) {
            MPI_Status s;
            int cnt;
            CHECK(MPI_Recv(rv, 8, MPI_INT, left, MPI_ANY_TAG, c1, &s));
            MPI_Get_count(&s, MPI_INT, &cnt);
            mixi(cnt);
            mixi(s.MPI_TAG);
            mix(rv, (size_t)cnt * sizeof(int));
        }
        CHECK(MPI_Waitall(3, q, MPI_STATUSES_IGNORE));

        section(2);
        /* 2: ANY_SOURCE / ANY_TAG; counted by everybody the same way */
        int expect = 0;
        for (int s = 0; s < np; s++)
            for (int j = 0; j < 2; j++)
                if (target(s, r, j) == me)
                    expect++;
        long out[2];
        for (int j = 0; j < 2; j++) {
            out[j] = (long)hash3(me, r, j);
            CHECK(MPI_Isend(&out[j], 1, MPI_LONG, target(me, r, j), 1000 + j, c2, &q[j]));
        }
        long dummy = r, dsum;
        CHECK(MPI_Allreduce(&dummy, &dsum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));
        for (int i = 0; i < expect; i++) {
            long v;
            MPI_Status s;
            CHECK(MPI_Recv(&v, 1, MPI_LONG, MPI_ANY_SOURCE, MPI_ANY_TAG, c2, &s));
            anyacc += hash3(s.MPI_SOURCE, s.MPI_TAG, v); /* arrival order varies: sum */
        }
        CHECK(MPI_Waitall(2, q, MPI_STATUSES_IGNORE));

        section(3);
        /* 3: a rendezvous-size message across a collective; a receive posted before one */
        for (int i = 0; i < BIG; i += 4096)
            big[i] = (char)(me + r + i);
        int early = -1, late = me + r;
        CHECK(MPI_Irecv(&early, 1, MPI_INT, left, 2001, MPI_COMM_WORLD, &q[2]));
        CHECK(MPI_Isend(big, BIG, MPI_CHAR, right, 2000, MPI_COMM_WORLD, &q[0]));
        CHECK(MPI_Allreduce(&dummy, &dsum, 1, MPI_LONG, MPI_MAX, MPI_COMM_WORLD));
        CHECK(MPI_Irecv(bigr, BIG, MPI_CHAR, left, 2000, MPI_COMM_WORLD, &q[1]));
        CHECK(MPI_Waitall(2, q, MPI_STATUSES_IGNORE));
        CHECK(MPI_Isend(&late, 1, MPI_INT, right, 2001, MPI_COMM_WORLD, &q[3]));
        CHECK(MPI_Wait(&q[2], MPI_STATUS_IGNORE));
        CHECK(MPI_Wait(&q[3], MPI_STATUS_IGNORE));
        mixi(early);
        for (int i = 0; i < BIG; i += 4096)
            mixi(bigr[i]);

        section(4);
        /* 4: synchronous, buffered and ready sends */
        int a = me + r, b = -1;
        if (np > 1) {
            if (me % 2 == 0) {
                CHECK(MPI_Ssend(&a, 1, MPI_INT, right, 3000, MPI_COMM_WORLD));
                CHECK(MPI_Recv(&b, 1, MPI_INT, left, 3000, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
            } else {
                CHECK(MPI_Recv(&b, 1, MPI_INT, left, 3000, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
                CHECK(MPI_Ssend(&a, 1, MPI_INT, right, 3000, MPI_COMM_WORLD));
            }
            mixi(b);
        }
        int bs[64];
        for (int i = 0; i < 64; i++)
            bs[i] = r * i + me;
        CHECK(MPI_Bsend(bs, 64, MPI_INT, right, 3001, MPI_COMM_WORLD));
        CHECK(MPI_Irecv(&b, 1, MPI_INT, left, 3002, MPI_COMM_WORLD, &q[0]));
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        CHECK(MPI_Rsend(&a, 1, MPI_INT, right, 3002, MPI_COMM_WORLD));
        CHECK(MPI_Wait(&q[0], MPI_STATUS_IGNORE));
        mixi(b);
        int br[64];
        CHECK(MPI_Recv(br, 64, MPI_INT, left, 3001, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        mix(br, sizeof br);

        section(5);
        /* 5: probes */
        int pv[5] = { me, r, 1, 2, 3 }, pr5[5], cnt;
        MPI_Status s;
        MPI_Request sq[4];
        CHECK(MPI_Isend(pv, 3 + r % 3, MPI_INT, right, 4000, MPI_COMM_WORLD, &sq[0]));
        CHECK(MPI_Isend(pv, 5, MPI_INT, right, 4001, MPI_COMM_WORLD, &sq[1]));
        CHECK(MPI_Isend(pv, 4, MPI_INT, right, 4002, MPI_COMM_WORLD, &sq[2]));
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        CHECK(MPI_Probe(MPI_ANY_SOURCE, 4000, MPI_COMM_WORLD, &s));
        MPI_Get_count(&s, MPI_INT, &cnt);
        mixi(cnt);
        CHECK(MPI_Recv(pr5, cnt, MPI_INT, s.MPI_SOURCE, 4000, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        mix(pr5, (size_t)cnt * sizeof(int));
        MPI_Message m;
        CHECK(MPI_Mprobe(left, 4001, MPI_COMM_WORLD, &m, &s));
        MPI_Get_count(&s, MPI_INT, &cnt);
        CHECK(MPI_Mrecv(pr5, cnt, MPI_INT, &m, &s));
        mix(pr5, 5 * sizeof(int));
        int flag = 0;
        while (!flag)
            CHECK(MPI_Improbe(left, 4002, MPI_COMM_WORLD, &flag, &m, &s));
        CHECK(MPI_Imrecv(pr5, 4, MPI_INT, &m, &q[0]));
        CHECK(MPI_Wait(&q[0], &s));
        MPI_Get_count(&s, MPI_INT, &cnt);
        mixi(cnt);
        mix(pr5, 4 * sizeof(int));
        CHECK(MPI_Waitall(3, sq, MPI_STATUSES_IGNORE));

        section(6);
        /* 6: datatypes through the drain; truncation */
        int vs[12], vr[8];
        for (int i = 0; i < 12; i++)
            vs[i] = me * 1000 + r * 12 + i;
        struct pair ps[3] = { { me, r * 0.5 }, { r, me * 0.25 }, { 7, 1.5 } }, prr[3];
        memset(prr, 0, sizeof prr);
        int ts[10] = { 0 }, tr[5];
        CHECK(MPI_Isend(vs, 1, vec, right, 5000, MPI_COMM_WORLD, &sq[0]));
        CHECK(MPI_Isend(ps, 3, st2, right, 5001, MPI_COMM_WORLD, &sq[1]));
        CHECK(MPI_Isend(ts, 10, MPI_INT, right, 5002, eret, &sq[2]));
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        CHECK(MPI_Recv(vr, 8, MPI_INT, left, 5000, MPI_COMM_WORLD, &s));
        MPI_Get_count(&s, MPI_INT, &cnt);
        mixi(cnt);
        mix(vr, sizeof vr);
        CHECK(MPI_Recv(prr, 3, st2, left, 5001, MPI_COMM_WORLD, &s));
        MPI_Get_count(&s, st2, &cnt);
        mixi(cnt);
        MPI_Get_elements(&s, st2, &cnt);
        mixi(cnt);
        for (int i = 0; i < 3; i++) {
            mixi(prr[i].i);
            mix(&prr[i].d, sizeof(double));
        }
        int rc = MPI_Recv(tr, 5, MPI_INT, left, 5002, eret, &s);
        int cls = -1;
        MPI_Error_class(rc, &cls);
        mixi(cls == MPI_ERR_TRUNCATE);
        CHECK(MPI_Waitall(3, sq, MPI_STATUSES_IGNORE));

        section(7);
        /* 7: Waitany and Testsome over receives of messages sent before a collective */
        int ws[4], wr[4] = { -1, -1, -1, -1 };
        MPI_Request wq[4];
        for (int k = 0; k < 4; k++) {
            ws[k] = me * 10 + k + r;
            CHECK(MPI_Isend(&ws[k], 1, MPI_INT, right, 6000 + k, MPI_COMM_WORLD, &wq[k]));
        }
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        for (int k = 0; k < 4; k++)
            CHECK(MPI_Irecv(&wr[k], 1, MPI_INT, left, 6000 + k, MPI_COMM_WORLD, &q[k]));
        uint64_t seen = 0;
        if (r % 2) {
            for (int k = 0; k < 4; k++) {
                int idx;
                CHECK(MPI_Waitany(4, q, &idx, &s));
                if (idx < 0 || idx > 3 || q[idx] != MPI_REQUEST_NULL || s.MPI_TAG != 6000 + idx)
                    seen += 1000;
                seen += hash3(idx, wr[idx], 0);
            }
        } else {
            int done = 0;
            while (done < 4) {
                int outc, idx[4];
                MPI_Status sts[4];
                CHECK(MPI_Testsome(4, q, &outc, idx, sts));
                for (int i = 0; i < outc; i++) {
                    if (sts[i].MPI_TAG != 6000 + idx[i] || q[idx[i]] != MPI_REQUEST_NULL)
                        seen += 1000;
                    seen += hash3(idx[i], wr[idx[i]], 0);
                }
                if (outc != MPI_UNDEFINED)
                    done += outc;
            }
        }
        mixi((long)seen);
        CHECK(MPI_Waitall(4, wq, MPI_STATUSES_IGNORE));

        section(8);
        /* 8: persistent requests: the receive started before a collective */
        pout = me * 7 + r;
        CHECK(MPI_Start(&pr[0]));
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        CHECK(MPI_Start(&pr[1]));
        CHECK(MPI_Waitall(2, pr, MPI_STATUSES_IGNORE));
        mixi(pin);

        section(9);
        /* 9: a cancelled receive; a send freed while active */
        CHECK(MPI_Irecv(&b, 1, MPI_INT, left, 7777, MPI_COMM_WORLD, &q[0]));
        CHECK(MPI_Isend(&a, 1, MPI_INT, right, 7000, MPI_COMM_WORLD, &q[1]));
        CHECK(MPI_Request_free(&q[1]));
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        CHECK(MPI_Cancel(&q[0]));
        CHECK(MPI_Wait(&q[0], &s));
        MPI_Test_cancelled(&s, &flag);
        mixi(flag);
        CHECK(MPI_Recv(&b, 1, MPI_INT, left, 7000, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
        mixi(b);
    }
    section(0);
    mixi((long)anyacc);
    static const char *names[10] = { "any-source", "in-flight", "any-tag", "rendezvous", "modes",
                                     "probes", "datatypes", "waitany", "persistent", "cancel" };
    report_sections(names, 10);
    MPI_Request_free(&pr[0]);
    MPI_Request_free(&pr[1]);
    void *bp;
    int bn;
    MPI_Buffer_detach(&bp, &bn);
    free(bbuf);
    MPI_Type_free(&vec);
    MPI_Type_free(&st2);
    MPI_Comm_free(&eret);
    MPI_Comm_free(&c1);
    MPI_Comm_free(&c2);
    free(big);
    free(bigr);
    ck_hold(argc > 2 ? argv[2] : NULL);
    MPI_Finalize();
    return 0;
}
