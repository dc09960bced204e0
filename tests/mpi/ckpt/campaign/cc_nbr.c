/* Neighbourhood collectives, nonblocking duplicates carrying attributes, and a node's shared
 * window, as MPI+MPI codes and libraries write them, for the campaign (tests/mpi/ckpt/campaign):
 *   - a distributed graph (MPI_Dist_graph_create_adjacent, weighted, 1 to 3 out-neighbours, a
 *     self edge at times) made once; each round MPI_Ineighbor_alltoallv of counts that change
 *     with the round and MPI_Ineighbor_allgather on it, in flight together with
 *   - an MPI_Comm_idup of a library's communicator that caches an attribute with copy and delete
 *     callbacks of the program (the copy allocates a new value one generation on, the delete
 *     frees it; both counted): every round's duplicate is used (MPI_Allreduce), its attribute
 *     checked, and freed three rounds later, so three are alive at any moment; the calls of the
 *     callbacks are counted and must be exactly one copy per duplicate and one delete per free;
 *   - a window of the node's ranks (MPI_Comm_split_type SHARED, MPI_Win_allocate_shared), under
 *     one MPI_Win_lock_all held through the whole run: each round a rank writes its part by
 *     plain stores, MPI_Win_sync, MPI_Barrier of the node, MPI_Win_sync, and reads its
 *     neighbours' parts through MPI_Win_shared_query's pointers, then a barrier again.
 * Usage: cc_nbr ROUNDS */
#include "tests/mpi/ckpt/campaign/cc.h"

#define MAXD 3   /* out-neighbours, at most */
#define NS 64    /* longs of a rank's part of the shared window */
#define KEEP 3   /* duplicates alive */

struct val {
    long magic, gen;
};
static long ncopy, ndel;

static int copy_fn(MPI_Comm c, int kv, void *extra, void *in, void *out, int *flag)
{
    (void)c, (void)kv, (void)extra;
    struct val *a = in, *b = malloc(sizeof *b);
    b->magic = a->magic;
    b->gen = a->gen + 1;
    *(void **)out = b;
    *flag = 1;
    ncopy++;
    return MPI_SUCCESS;
}
static int del_fn(MPI_Comm c, int kv, void *v, void *extra)
{
    (void)c, (void)kv, (void)extra;
    struct val *a = v;
    if (a->magic != 0x5eed)
        fprintf(stderr, "rank %d: delete callback of a value not the program's\n", me);
    a->magic = 0;
    free(a);
    ndel++;
    return MPI_SUCCESS;
}

/* out-neighbours of rank i: distinct */
static int outs(int i, int *o)
{
    int d = 1 + (int)(cc_hash(i, 1, 1) % MAXD), n = 0;
    for (int k = 0; k < d; k++) {
        int t = (int)((i + 1 + cc_hash(i, 2, k) % (uint64_t)np) % (uint64_t)np);
        int dup = 0;
        for (int j = 0; j < n; j++)
            dup |= o[j] == t;
        if (!dup)
            o[n++] = t;
    }
    return n;
}
static int count(int from, int to, int r) { return 1 + (int)(cc_hash(from, to, r) % 20); }
static long datum(int from, int to, int r, int i) { return (long)(cc_hash(from * 977 + to, r, i) >> 3); }

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    /* the graph */
    int out[MAXD], nout = outs(me, out), nin = 0, ow[MAXD];
    int *inb = malloc(sizeof(int) * (size_t)np * MAXD), *iwb = malloc(sizeof(int) * (size_t)np * MAXD);
    for (int s = 0; s < np; s++) {
        int o[MAXD], n = outs(s, o);
        for (int j = 0; j < n; j++)
            if (o[j] == me)
                inb[nin] = s, iwb[nin++] = s + 1;
    }
    for (int j = 0; j < nout; j++)
        ow[j] = me + 1;
    MPI_Comm g;
    CHECK(MPI_Dist_graph_create_adjacent(MPI_COMM_WORLD, nin, inb, iwb, nout, out, ow,
                                         MPI_INFO_NULL, 0, &g));
    /* the library's communicator and its attribute */
    MPI_Comm lib, dups[KEEP] = { MPI_COMM_NULL, MPI_COMM_NULL, MPI_COMM_NULL };
    int kv;
    CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &lib));
    CHECK(MPI_Comm_create_keyval(copy_fn, del_fn, &kv, NULL));
    struct val *v0 = malloc(sizeof *v0);
    v0->magic = 0x5eed, v0->gen = 0;
    CHECK(MPI_Comm_set_attr(lib, kv, v0));
    /* the node's window */
    MPI_Comm node;
    int nme, nnp;
    CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
    MPI_Comm_rank(node, &nme);
    MPI_Comm_size(node, &nnp);
    long *mine;
    MPI_Win w;
    CHECK(MPI_Win_allocate_shared(NS * sizeof(long), sizeof(long), MPI_INFO_NULL, node, &mine, &w));
    long **part = malloc(sizeof(long *) * (size_t)nnp);
    for (int k = 0; k < nnp; k++) {
        MPI_Aint sz;
        int du;
        CHECK(MPI_Win_shared_query(w, k, &sz, &du, &part[k]));
    }
    CHECK(MPI_Win_lock_all(MPI_MODE_NOCHECK, w));
    int *wrank = malloc(sizeof(int) * (size_t)nnp); /* the node's ranks in MPI_COMM_WORLD */
    CHECK(MPI_Allgather(&me, 1, MPI_INT, wrank, 1, MPI_INT, node));

    int *sc = malloc(sizeof(int) * MAXD), *sd = malloc(sizeof(int) * MAXD);
    int *rc = malloc(sizeof(int) * (size_t)(nin + 1)), *rd = malloc(sizeof(int) * (size_t)(nin + 1));
    long *sb = malloc(sizeof(long) * MAXD * 20), *rb = malloc(sizeof(long) * (size_t)(nin + 1) * 20);
    long ag[2], *agr = malloc(sizeof(long) * 2 * (size_t)(nin + 1));
    sections_start();
    for (int r = 0; r < rounds; r++) {
        section(0);
        int off = 0;
        for (int j = 0; j < nout; j++) {
            sc[j] = count(me, out[j], r), sd[j] = off;
            for (int i = 0; i < sc[j]; i++)
                sb[off + i] = datum(me, out[j], r, i);
            off += sc[j];
        }
        off = 0;
        for (int j = 0; j < nin; j++)
            rc[j] = count(inb[j], me, r), rd[j] = off, off += rc[j];
        ag[0] = me, ag[1] = r;
        MPI_Request q[3];
        MPI_Comm nd;
        CHECK(MPI_Ineighbor_alltoallv(sb, sc, sd, MPI_LONG, rb, rc, rd, MPI_LONG, g, &q[0]));
        CHECK(MPI_Comm_idup(lib, &nd, &q[1]));
        CHECK(MPI_Ineighbor_allgather(ag, 2, MPI_LONG, agr, 2, MPI_LONG, g, &q[2]));
        if ((r + me) % 3 == 0)
            cc_spin(60);
        CHECK(MPI_Waitall(3, q, MPI_STATUSES_IGNORE));
        long bad = 0;
        for (int j = 0; j < nin; j++) {
            for (int i = 0; i < rc[j]; i++)
                bad += rb[rd[j] + i] != datum(inb[j], me, r, i);
            bad += agr[2 * j] != inb[j] || agr[2 * j + 1] != r;
        }
        EXPECT(bad == 0, "round %d: %ld neighbour values wrong", r, bad);
        mix(rb, sizeof(long) * (size_t)off);

        section(1);
        struct val *a = NULL;
        int flag = 0;
        CHECK(MPI_Comm_get_attr(nd, kv, &a, &flag));
        EXPECT(flag && a && a->magic == 0x5eed && a->gen == 1, "round %d: the duplicate's attribute", r);
        long one = 1, n = 0;
        CHECK(MPI_Allreduce(&one, &n, 1, MPI_LONG, MPI_SUM, nd));
        EXPECT(n == np, "round %d: Allreduce on the duplicate: %ld", r, n);
        if (dups[r % KEEP] != MPI_COMM_NULL)
            CHECK(MPI_Comm_free(&dups[r % KEEP]));
        dups[r % KEEP] = nd;
        long wdel = r + 1 > KEEP ? r + 1 - KEEP : 0;
        EXPECT(ncopy == r + 1 && ndel == wdel, "round %d: %ld copies, %ld deletes (want %d, %ld)",
               r, ncopy, ndel, r + 1, wdel);
        mixi(ncopy);
        mixi(ndel);

        section(2);
        for (int i = 0; i < NS; i++)
            mine[i] = (long)cc_hash(me, r, i);
        CHECK(MPI_Win_sync(w));
        CHECK(MPI_Barrier(node));
        CHECK(MPI_Win_sync(w));
        bad = 0;
        for (int k = 0; k < nnp; k++) {
            int kk = (nme + k) % nnp;
            for (int i = 0; i < NS; i++)
                bad += part[kk][i] != (long)cc_hash(wrank[kk], r, i);
            mix(part[kk], NS * sizeof(long));
        }
        EXPECT(bad == 0, "round %d: %ld words of the shared window wrong", r, bad);
        CHECK(MPI_Barrier(node)); /* everyone has read before the next round's stores */
    }
    section(0);
    const char *names[] = { "neighbours", "idup-attr", "shared-win" };
    report_sections(names, 3);
    CHECK(MPI_Win_unlock_all(w));
    CHECK(MPI_Win_free(&w));
    long wdel = rounds > KEEP ? rounds - KEEP : 0;
    EXPECT(ncopy == rounds && ndel == wdel, "at the end: %ld copies, %ld deletes (want %d, %ld)",
           ncopy, ndel, rounds, wdel);
    for (int k = 0; k < KEEP; k++)
        if (dups[k] != MPI_COMM_NULL)
            CHECK(MPI_Comm_free(&dups[k]));
    CHECK(MPI_Comm_free(&lib)); /* deletes the original value too */
    EXPECT(ndel == rounds + 1, "at the end: %ld deletes (want %d)", ndel, rounds + 1);
    CHECK(MPI_Comm_free_keyval(&kv));
    CHECK(MPI_Comm_free(&g));
    CHECK(MPI_Comm_free(&node));
    cc_finish();
    MPI_Finalize();
    return 0;
}
