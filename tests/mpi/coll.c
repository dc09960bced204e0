/* Collectives: every blocking and nonblocking MPI-3.1 collective with v and w variants,
 * MPI_IN_PLACE, user-defined operations, and an intercommunicator. */
#include "mpitest.h"

static void my_prod(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    int sz;
    MPI_Type_size(*dt, &sz); /* the handle must be usable here: it is the application's */
    long *a = in, *b = inout;
    for (int i = 0; i < *len; i++)
        b[i] = (b[i] * 31 + a[i]) % 1000003 + sz;
}

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int n = np;
    long *s = malloc(sizeof(long) * 64 * n), *r = malloc(sizeof(long) * 64 * n);
    int *cnts = malloc(sizeof(int) * n), *dsp = malloc(sizeof(int) * n);
    int *rcnts = malloc(sizeof(int) * n), *rdsp = malloc(sizeof(int) * n);
    MPI_Datatype *types = malloc(sizeof(MPI_Datatype) * n);
    for (int i = 0; i < 64 * n; i++) s[i] = me * 1000 + i;
    for (int i = 0; i < n; i++) {
        cnts[i] = 1 + (i + me) % 3; dsp[i] = 4 * i; types[i] = MPI_LONG;
    }
    /* receive counts must match what each peer sends to me: peer i sends 1+(me+i)%3 */
    for (int i = 0; i < n; i++) { rcnts[i] = 1 + (me + i) % 3; rdsp[i] = 4 * i; }
    MPI_Op prod;
    CHECK(MPI_Op_create(my_prod, 0, &prod));

    for (int nb = 0; nb < 2; nb++) {
        MPI_Request q = MPI_REQUEST_NULL;
#define RUN(blocking, nonblocking) do { memset(r, 0, sizeof(long) * 64 * n); \
        if (!nb) CHECK(blocking); else { CHECK(nonblocking); CHECK(MPI_Wait(&q, MPI_STATUS_IGNORE)); } \
        mix(r, sizeof(long) * 64 * n); } while (0)
        RUN(MPI_Barrier(MPI_COMM_WORLD), MPI_Ibarrier(MPI_COMM_WORLD, &q));
        for (int i = 0; i < 64 * n; i++) r[i] = s[i];
        if (!nb) CHECK(MPI_Bcast(s, 8, MPI_LONG, n - 1, MPI_COMM_WORLD));
        else { CHECK(MPI_Ibcast(s, 8, MPI_LONG, n - 1, MPI_COMM_WORLD, &q)); CHECK(MPI_Wait(&q, MPI_STATUS_IGNORE)); }
        mix(s, 64);
        for (int i = 0; i < 64 * n; i++) s[i] = me * 1000 + i;
        RUN(MPI_Gather(s, 3, MPI_LONG, r, 3, MPI_LONG, 0, MPI_COMM_WORLD),
            MPI_Igather(s, 3, MPI_LONG, r, 3, MPI_LONG, 0, MPI_COMM_WORLD, &q));
        int gc[64], gd[64];
        for (int i = 0; i < n; i++) { gc[i] = 1 + i % 3; gd[i] = 4 * i; }
        RUN(MPI_Gatherv(s, 1 + me % 3, MPI_LONG, r, gc, gd, MPI_LONG, 0, MPI_COMM_WORLD),
            MPI_Igatherv(s, 1 + me % 3, MPI_LONG, r, gc, gd, MPI_LONG, 0, MPI_COMM_WORLD, &q));
        RUN(MPI_Scatter(s, 2, MPI_LONG, r, 2, MPI_LONG, 0, MPI_COMM_WORLD),
            MPI_Iscatter(s, 2, MPI_LONG, r, 2, MPI_LONG, 0, MPI_COMM_WORLD, &q));
        RUN(MPI_Scatterv(s, gc, gd, MPI_LONG, r, 1 + me % 3, MPI_LONG, 0, MPI_COMM_WORLD),
            MPI_Iscatterv(s, gc, gd, MPI_LONG, r, 1 + me % 3, MPI_LONG, 0, MPI_COMM_WORLD, &q));
        RUN(MPI_Allgather(s, 2, MPI_LONG, r, 2, MPI_LONG, MPI_COMM_WORLD),
            MPI_Iallgather(s, 2, MPI_LONG, r, 2, MPI_LONG, MPI_COMM_WORLD, &q));
        RUN(MPI_Allgatherv(s, 1 + me % 3, MPI_LONG, r, gc, gd, MPI_LONG, MPI_COMM_WORLD),
            MPI_Iallgatherv(s, 1 + me % 3, MPI_LONG, r, gc, gd, MPI_LONG, MPI_COMM_WORLD, &q));
        RUN(MPI_Alltoall(s, 2, MPI_LONG, r, 2, MPI_LONG, MPI_COMM_WORLD),
            MPI_Ialltoall(s, 2, MPI_LONG, r, 2, MPI_LONG, MPI_COMM_WORLD, &q));
        RUN(MPI_Alltoallv(s, cnts, dsp, MPI_LONG, r, rcnts, rdsp, MPI_LONG, MPI_COMM_WORLD),
            MPI_Ialltoallv(s, cnts, dsp, MPI_LONG, r, rcnts, rdsp, MPI_LONG, MPI_COMM_WORLD, &q));
        int wd[64], wrd[64];
        for (int i = 0; i < n; i++) { wd[i] = dsp[i] * (int)sizeof(long); wrd[i] = rdsp[i] * (int)sizeof(long); }
        RUN(MPI_Alltoallw(s, cnts, wd, types, r, rcnts, wrd, types, MPI_COMM_WORLD),
            MPI_Ialltoallw(s, cnts, wd, types, r, rcnts, wrd, types, MPI_COMM_WORLD, &q));
        RUN(MPI_Reduce(s, r, 16, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD),
            MPI_Ireduce(s, r, 16, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD, &q));
        RUN(MPI_Reduce(s, r, 16, MPI_LONG, prod, n / 2, MPI_COMM_WORLD),
            MPI_Ireduce(s, r, 16, MPI_LONG, prod, n / 2, MPI_COMM_WORLD, &q));
        RUN(MPI_Allreduce(s, r, 16, MPI_LONG, MPI_MAX, MPI_COMM_WORLD),
            MPI_Iallreduce(s, r, 16, MPI_LONG, MPI_MAX, MPI_COMM_WORLD, &q));
        RUN(MPI_Allreduce(s, r, 16, MPI_LONG, prod, MPI_COMM_WORLD),
            MPI_Iallreduce(s, r, 16, MPI_LONG, prod, MPI_COMM_WORLD, &q));
        int rsc[64];
        for (int i = 0; i < n; i++) rsc[i] = 1 + i % 2;
        RUN(MPI_Reduce_scatter(s, r, rsc, MPI_LONG, MPI_SUM, MPI_COMM_WORLD),
            MPI_Ireduce_scatter(s, r, rsc, MPI_LONG, MPI_SUM, MPI_COMM_WORLD, &q));
        RUN(MPI_Reduce_scatter_block(s, r, 2, MPI_LONG, MPI_BXOR, MPI_COMM_WORLD),
            MPI_Ireduce_scatter_block(s, r, 2, MPI_LONG, MPI_BXOR, MPI_COMM_WORLD, &q));
        RUN(MPI_Scan(s, r, 8, MPI_LONG, MPI_SUM, MPI_COMM_WORLD),
            MPI_Iscan(s, r, 8, MPI_LONG, MPI_SUM, MPI_COMM_WORLD, &q));
        RUN(MPI_Exscan(s, r, 8, MPI_LONG, MPI_SUM, MPI_COMM_WORLD),
            MPI_Iexscan(s, r, 8, MPI_LONG, MPI_SUM, MPI_COMM_WORLD, &q));
        if (me == 0) r[0] = 0; /* Exscan leaves rank 0's buffer undefined */
        /* in place */
        for (int i = 0; i < 64 * n; i++) r[i] = s[i];
        if (!nb) CHECK(MPI_Allreduce(MPI_IN_PLACE, r, 8, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));
        else { CHECK(MPI_Iallreduce(MPI_IN_PLACE, r, 8, MPI_LONG, MPI_SUM, MPI_COMM_WORLD, &q)); CHECK(MPI_Wait(&q, MPI_STATUS_IGNORE)); }
        mix(r, 64);
        for (int i = 0; i < 64 * n; i++) r[i] = s[i] + i;
        if (!nb) CHECK(MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, r, 2, MPI_LONG, MPI_COMM_WORLD));
        else { CHECK(MPI_Iallgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, r, 2, MPI_LONG, MPI_COMM_WORLD, &q)); CHECK(MPI_Wait(&q, MPI_STATUS_IGNORE)); }
        mix(r, sizeof(long) * 2 * n);
        report(nb ? "nonblocking" : "blocking");
    }
    long a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
    CHECK(MPI_Reduce_local(a, b, 4, MPI_LONG, prod));
    mix(b, sizeof b);
    int comm;
    CHECK(MPI_Op_commutative(prod, &comm));
    mixi(comm);
    CHECK(MPI_Op_free(&prod));
    mixi(prod == MPI_OP_NULL);
    report("user-op");

    /* intercommunicator collectives: even ranks and odd ranks */
    if (np >= 2) {
        MPI_Comm half, inter;
        CHECK(MPI_Comm_split(MPI_COMM_WORLD, me % 2, me, &half));
        CHECK(MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, me % 2 ? 0 : 1, 77, &inter));
        int rs;
        MPI_Comm_remote_size(inter, &rs);
        long v = me, w[64];
        CHECK(MPI_Allgather(&v, 1, MPI_LONG, w, 1, MPI_LONG, inter));
        mix(w, sizeof(long) * rs);
        CHECK(MPI_Allreduce(&v, w, 1, MPI_LONG, MPI_SUM, inter));
        mix(w, sizeof(long));
        int hr;
        MPI_Comm_rank(half, &hr);
        long bv = me * 10;
        if (me % 2 == 0) CHECK(MPI_Bcast(&bv, 1, MPI_LONG, hr == 0 ? MPI_ROOT : MPI_PROC_NULL, inter));
        else CHECK(MPI_Bcast(&bv, 1, MPI_LONG, 0, inter));
        mixi(bv);
        CHECK(MPI_Barrier(inter));
        MPI_Comm_free(&inter);
        MPI_Comm_free(&half);
    }
    report("intercomm");
    MPI_Finalize();
    return 0;
}
