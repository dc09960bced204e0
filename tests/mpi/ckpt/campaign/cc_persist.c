/* Persistent requests and send modes for the campaign (tests/mpi/ckpt/campaign). A checkpoint
 * may come while
 *   - persistent receives are active (started before a collective, matched after it), others
 *     inactive (made once, started every few rounds), some to and from MPI_PROC_NULL (research
 *     list 29: Start/Wait must complete at once with source MPI_PROC_NULL and count 0, also after
 *     a restart), Startall over a mix; Send_init, Ssend_init, Bsend_init, Rsend_init;
 *   - a persistent receive with ANY_SOURCE and ANY_TAG is active;
 *   - a persistent request is freed while inactive and made again under another handle;
 *   - Request_get_status polls an active persistent receive;
 *   - Sendrecv_replace (research 17) and Bsend with the buffer nearly full are under way.
 * Every value is checked (errors) and mixed into the checksums. Usage: cc_persist ROUNDS */
#include "tests/mpi/ckpt/campaign/cc.h"

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    int right = (me + 1) % np, left = (me + np - 1) % np;
    MPI_Comm pc;
    CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &pc));
    int bsz = 16 * (256 + MPI_BSEND_OVERHEAD);
    char *bbuf = malloc((size_t)bsz);
    CHECK(MPI_Buffer_attach(bbuf, bsz));

    /* templates kept for the whole run */
    long rin = -1, rout = 0, sin_ = -1, sout = 0, nin = 5, nout = 6, win = -1, wout = 0;
    long anyin = -1, anyout = 0;
    MPI_Request rq, sq, srq, ssq, nrq, nsq, brq, bsq, arq, asq;
    CHECK(MPI_Recv_init(&rin, 1, MPI_LONG, left, 100, pc, &rq));
    CHECK(MPI_Send_init(&rout, 1, MPI_LONG, right, 100, pc, &sq));
    CHECK(MPI_Recv_init(&sin_, 1, MPI_LONG, left, 101, pc, &srq));
    CHECK(MPI_Ssend_init(&sout, 1, MPI_LONG, right, 101, pc, &ssq));
    CHECK(MPI_Recv_init(&nin, 1, MPI_LONG, MPI_PROC_NULL, 102, pc, &nrq));
    CHECK(MPI_Send_init(&nout, 1, MPI_LONG, MPI_PROC_NULL, 102, pc, &nsq));
    CHECK(MPI_Recv_init(&win, 1, MPI_LONG, left, 103, pc, &brq));
    CHECK(MPI_Bsend_init(&wout, 1, MPI_LONG, right, 103, pc, &bsq));
    CHECK(MPI_Recv_init(&anyin, 1, MPI_LONG, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &arq));
    CHECK(MPI_Send_init(&anyout, 1, MPI_LONG, right, 0, MPI_COMM_WORLD, &asq));
    MPI_Request churn = MPI_REQUEST_NULL; /* freed and made again */
    long churnv = 0;
    for (int r = 0; r < rounds; r++) {
        /* 1: an active persistent receive across a barrier */
        rout = me * 1000 + r;
        CHECK(MPI_Start(&rq));
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        CHECK(MPI_Start(&sq));
        MPI_Status st;
        CHECK(MPI_Wait(&rq, &st));
        EXPECT(rin == left * 1000 + r, "persistent recv %ld", rin);
        EXPECT(st.MPI_SOURCE == left && st.MPI_TAG == 100, "persistent status %d %d", st.MPI_SOURCE, st.MPI_TAG);
        CHECK(MPI_Wait(&sq, MPI_STATUS_IGNORE));
        mixi(rin);

        /* 2: PROC_NULL templates: complete at once, source PROC_NULL, count 0, buffer untouched */
        CHECK(MPI_Start(&nrq));
        CHECK(MPI_Start(&nsq));
        CHECK(MPI_Wait(&nrq, &st));
        int cnt = -1;
        MPI_Get_count(&st, MPI_LONG, &cnt);
        /* the standard says source MPI_PROC_NULL; MPICH 4.0 gives an empty status (source
         * MPI_ANY_SOURCE) for a persistent one natively: either, as the library does it */
        EXPECT((st.MPI_SOURCE == MPI_PROC_NULL || st.MPI_SOURCE == MPI_ANY_SOURCE) &&
                   st.MPI_TAG == MPI_ANY_TAG && cnt == 0,
               "PROC_NULL recv: source %d tag %d count %d", st.MPI_SOURCE, st.MPI_TAG, cnt);
        mixi(st.MPI_SOURCE == MPI_PROC_NULL);
        EXPECT(nin == 5, "PROC_NULL recv wrote %ld", nin);
        CHECK(MPI_Wait(&nsq, MPI_STATUS_IGNORE));
        /* Wait on an inactive persistent request: returns at once with an empty status */
        CHECK(MPI_Wait(&nrq, &st));
        EXPECT(st.MPI_SOURCE == MPI_ANY_SOURCE || st.MPI_SOURCE == MPI_PROC_NULL,
               "inactive Wait source %d", st.MPI_SOURCE);

        /* 3: synchronous persistent send against a late receiver; Startall of a mix */
        sout = me + r * 3;
        wout = me * 7 + r;
        if (r % 3 == 0) {
            MPI_Request all[4] = { srq, ssq, brq, bsq };
            CHECK(MPI_Startall(4, all));
            if (me % 2)
                cc_spin(100);
            CHECK(MPI_Waitall(4, all, MPI_STATUSES_IGNORE));
            srq = all[0], ssq = all[1], brq = all[2], bsq = all[3];
        } else {
            CHECK(MPI_Start(&ssq));
            CHECK(MPI_Start(&bsq));
            cc_spin(me % 2 ? 100 : 0);
            CHECK(MPI_Barrier(pc)); /* both sends pending here (the Ssend cannot complete) */
            CHECK(MPI_Start(&srq));
            CHECK(MPI_Start(&brq));
            CHECK(MPI_Wait(&srq, MPI_STATUS_IGNORE));
            CHECK(MPI_Wait(&brq, MPI_STATUS_IGNORE));
            CHECK(MPI_Wait(&ssq, MPI_STATUS_IGNORE));
            CHECK(MPI_Wait(&bsq, MPI_STATUS_IGNORE));
        }
        EXPECT(sin_ == left + r * 3, "Ssend_init value %ld", sin_);
        EXPECT(win == left * 7 + r, "Bsend_init value %ld", win);
        mixi(sin_);
        mixi(win);

        /* 4: a wildcard persistent receive, polled with Request_get_status across a collective */
        anyout = me * 11 + r;
        CHECK(MPI_Start(&arq));
        long dummy = r, ds = 0;
        CHECK(MPI_Allreduce(&dummy, &ds, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));
        CHECK(MPI_Start(&asq));
        int flag = 0;
        while (!flag)
            CHECK(MPI_Request_get_status(arq, &flag, &st));
        CHECK(MPI_Wait(&arq, &st));
        EXPECT(anyin == left * 11 + r && st.MPI_SOURCE == left && st.MPI_TAG == 0,
               "wildcard persistent: %ld from %d tag %d", anyin, st.MPI_SOURCE, st.MPI_TAG);
        CHECK(MPI_Wait(&asq, MPI_STATUS_IGNORE));
        mixi(anyin);

        /* 5: a template freed while inactive and made again (other handle, same use) */
        if (r % 4 == 0) {
            if (churn != MPI_REQUEST_NULL)
                CHECK(MPI_Request_free(&churn));
            CHECK(MPI_Recv_init(&churnv, 1, MPI_LONG, left, 104, pc, &churn));
        }
        long cv = me * 13 + r;
        MPI_Request rs;
        CHECK(MPI_Start(&churn));
        CHECK(MPI_Rsend_init(&cv, 1, MPI_LONG, right, 104, pc, &rs));
        CHECK(MPI_Barrier(pc)); /* every receive is started: the ready send may go */
        CHECK(MPI_Start(&rs));
        CHECK(MPI_Wait(&churn, MPI_STATUS_IGNORE));
        CHECK(MPI_Wait(&rs, MPI_STATUS_IGNORE));
        CHECK(MPI_Request_free(&rs));
        EXPECT(churnv == left * 13 + r, "re-made persistent recv %ld", churnv);
        mixi(churnv);

        /* 6: Sendrecv_replace around the ring; a Bsend left in flight over a barrier */
        long rep[3] = { me, r, me * r };
        CHECK(MPI_Sendrecv_replace(rep, 3, MPI_LONG, right, 105, left, 105, MPI_COMM_WORLD, &st));
        EXPECT(rep[0] == left && rep[1] == r && rep[2] == (long)left * r, "Sendrecv_replace");
        mix(rep, sizeof rep);
        long bs[32];
        for (int i = 0; i < 32; i++)
            bs[i] = r * i + me;
        CHECK(MPI_Bsend(bs, 32, MPI_LONG, right, 106, pc));
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        long br[32];
        CHECK(MPI_Recv(br, 32, MPI_LONG, left, 106, pc, MPI_STATUS_IGNORE));
        for (int i = 0; i < 32; i++)
            EXPECT(br[i] == r * i + left, "Bsend[%d] %ld", i, br[i]);
        mix(br, sizeof br);
    }
    report("persistent");
    cc_finish();
    MPI_Request *all[] = { &rq, &sq, &srq, &ssq, &nrq, &nsq, &brq, &bsq, &arq, &asq, &churn };
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (*all[i] != MPI_REQUEST_NULL)
            MPI_Request_free(all[i]);
    void *bp;
    int bn;
    MPI_Buffer_detach(&bp, &bn);
    free(bbuf);
    MPI_Comm_free(&pc);
    MPI_Finalize();
    return 0;
}
