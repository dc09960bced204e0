/* Communicators and topologies for the campaign (tests/mpi/ckpt/campaign). A checkpoint may
 * come while
 *   - communicators are being made and freed (dup, split, create, create_group, split_type,
 *     intercommunicator create and merge), each kept alive for a different number of rounds, so
 *     at any moment some live ones were made long ago and others just now (research list 6);
 *   - two communicators have the same members and are used at different collective counts
 *     (research 5: a communicator's identity is never a hash of its members);
 *   - a 2-d Cartesian communicator made with reorder is used with Cart_shift, Cart_sub and
 *     coordinate queries (research 20); a graph and a distributed graph topology with neighbour
 *     collectives;
 *   - communicators carry names and attributes.
 * Every size, rank and result is checked (errors) and mixed into the checksums.
 * Usage: cc_comm ROUNDS */
#include "tests/mpi/ckpt/campaign/cc.h"

#define SLOTS 6

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    /* two communicators with the same members */
    MPI_Comm twin[2];
    CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &twin[0]));
    CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &twin[1]));
    MPI_Comm_set_name(twin[1], "twin-b");
    /* 2-d torus with reorder */
    int dims[2] = { 0, 0 }, periods[2] = { 1, 0 };
    CHECK(MPI_Dims_create(np, 2, dims));
    MPI_Comm cart, row, col;
    CHECK(MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 1, &cart));
    int crank, coords[2];
    MPI_Comm_rank(cart, &crank);
    CHECK(MPI_Cart_coords(cart, crank, 2, coords));
    int keep0[2] = { 1, 0 }, keep1[2] = { 0, 1 };
    CHECK(MPI_Cart_sub(cart, keep0, &col));
    CHECK(MPI_Cart_sub(cart, keep1, &row));
    /* a ring as a graph and as a distributed graph */
    int *index = malloc(sizeof(int) * (size_t)np), *edges = malloc(sizeof(int) * 2 * (size_t)np);
    for (int i = 0; i < np; i++) {
        index[i] = 2 * (i + 1);
        edges[2 * i] = (i + 1) % np;
        edges[2 * i + 1] = (i + np - 1) % np;
    }
    MPI_Comm graph, dgraph;
    CHECK(MPI_Graph_create(MPI_COMM_WORLD, np, index, edges, 0, &graph));
    int srcs[2] = { (me + np - 1) % np, (me + 1) % np }, dsts[2] = { (me + 1) % np, (me + np - 1) % np };
    CHECK(MPI_Dist_graph_create_adjacent(MPI_COMM_WORLD, 2, srcs, MPI_UNWEIGHTED, 2, dsts,
                                         MPI_UNWEIGHTED, MPI_INFO_NULL, 0, &dgraph));
    int kv;
    CHECK(MPI_Comm_create_keyval(MPI_COMM_DUP_FN, MPI_COMM_NULL_DELETE_FN, &kv, NULL));
    static long attrval = 4242;
    CHECK(MPI_Comm_set_attr(twin[0], kv, &attrval));

    MPI_Comm slot[SLOTS];
    int life[SLOTS], kind[SLOTS], alive[SLOTS]; /* alive: made, for every rank (some get NULL) */
    for (int i = 0; i < SLOTS; i++)
        slot[i] = MPI_COMM_NULL, life[i] = 0, kind[i] = -1, alive[i] = 0;
    for (int r = 0; r < rounds; r++) {
        /* twins at different counts: 1 on the first, r % 4 on the second */
        for (int t = 0; t < 2; t++) {
            int reps = t == 0 ? 1 : r % 4;
            for (int k = 0; k < reps; k++) {
                long v = me + t + k, s = 0;
                CHECK(MPI_Allreduce(&v, &s, 1, MPI_LONG, MPI_SUM, twin[t]));
                EXPECT(s == (long)np * (np - 1) / 2 + (long)np * (t + k), "twin %d Allreduce %ld", t, s);
                mixi(s);
            }
        }
        void *av;
        int flag = 0;
        MPI_Comm_get_attr(twin[0], kv, &av, &flag);
        EXPECT(flag && *(long *)av == 4242, "attribute lost");
        char nm[MPI_MAX_OBJECT_NAME];
        int nl;
        MPI_Comm_get_name(twin[1], nm, &nl);
        EXPECT(strcmp(nm, "twin-b") == 0, "name '%s'", nm);

        /* the slot whose communicator ends this round is freed and made again, of another kind */
        int s = r % SLOTS;
        if (alive[s] && life[s] <= r) {
            if (slot[s] != MPI_COMM_NULL)
                CHECK(MPI_Comm_free(&slot[s]));
            alive[s] = 0;
        }
        if (!alive[s]) {
            alive[s] = 1;
            kind[s] = (r / SLOTS + s) % 6;
            MPI_Group wg, g;
            MPI_Comm_group(MPI_COMM_WORLD, &wg);
            switch (kind[s]) {
            case 0:
                CHECK(MPI_Comm_dup(twin[r % 2], &slot[s]));
                break;
            case 1:
                CHECK(MPI_Comm_split(MPI_COMM_WORLD, me % 2, np - me, &slot[s]));
                break;
            case 2: { /* every rank but the last */
                int ex = np - 1;
                CHECK(MPI_Group_excl(wg, np > 1 ? 1 : 0, &ex, &g));
                CHECK(MPI_Comm_create(MPI_COMM_WORLD, g, &slot[s]));
                MPI_Group_free(&g);
                break;
            }
            case 3: { /* the even ranks, collectively among themselves only */
                int ne = (np + 1) / 2, ev[32];
                for (int i = 0; i < ne && i < 32; i++)
                    ev[i] = 2 * i;
                CHECK(MPI_Group_incl(wg, ne, ev, &g));
                if (me % 2 == 0)
                    CHECK(MPI_Comm_create_group(MPI_COMM_WORLD, g, 7 + s, &slot[s]));
                MPI_Group_free(&g);
                break;
            }
            case 4:
                CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, me, MPI_INFO_NULL,
                                          &slot[s]));
                break;
            default: /* intercommunicator of the halves, merged; the intercomm freed */
                if (np > 1) {
                    MPI_Comm h, ic;
                    CHECK(MPI_Comm_split(MPI_COMM_WORLD, me % 2, me, &h));
                    CHECK(MPI_Intercomm_create(h, 0, MPI_COMM_WORLD, me % 2 ? 0 : 1, 30 + s, &ic));
                    CHECK(MPI_Intercomm_merge(ic, me % 2, &slot[s]));
                    long x = 1, y = 0;
                    CHECK(MPI_Allreduce(&x, &y, 1, MPI_LONG, MPI_SUM, ic));
                    EXPECT(y == (me % 2 ? (np + 1) / 2 : np / 2), "intercomm Allreduce %ld", y);
                    MPI_Comm_free(&ic);
                    MPI_Comm_free(&h);
                } else {
                    CHECK(MPI_Comm_dup(MPI_COMM_SELF, &slot[s]));
                }
                break;
            }
            MPI_Group_free(&wg);
            life[s] = r + 1 + (int)(cc_hash(s, r, 1) % 9);
        }
        /* every live slot: its size and rank as made, and a collective */
        for (int i = 0; i < SLOTS; i++) {
            if (slot[i] == MPI_COMM_NULL)
                continue;
            int sz, rk;
            MPI_Comm_size(slot[i], &sz);
            MPI_Comm_rank(slot[i], &rk);
            int esz = np, erk = me;
            switch (kind[i]) {
            case 1:
                esz = me % 2 ? np / 2 : (np + 1) / 2;
                erk = (esz - 1) - (me / 2);
                break;
            case 2:
                esz = np > 1 ? np - 1 : 1;
                break;
            case 3:
                esz = (np + 1) / 2;
                erk = me / 2;
                break;
            case 5:
                if (np > 1) { /* merge: the low group (high = 0: even ranks) first */
                    int ne = (np + 1) / 2;
                    erk = me % 2 ? ne + me / 2 : me / 2;
                } else
                    esz = 1, erk = 0;
                break;
            }
            EXPECT(sz == esz && rk == erk, "slot %d kind %d: size %d rank %d, expected %d %d", i,
                   kind[i], sz, rk, esz, erk);
            long one = rk + 1, tot = 0;
            CHECK(MPI_Allreduce(&one, &tot, 1, MPI_LONG, MPI_SUM, slot[i]));
            EXPECT(tot == (long)sz * (sz + 1) / 2, "slot %d Allreduce %ld", i, tot);
            mixi(sz);
            mixi(rk);
        }

        /* the torus: shift along both dimensions, sums over rows and columns */
        int src, dst;
        long tok = crank * 100 + r, got = -1;
        CHECK(MPI_Cart_shift(cart, 0, 1, &src, &dst));
        CHECK(MPI_Sendrecv(&tok, 1, MPI_LONG, dst, 1, &got, 1, MPI_LONG, src, 1, cart, MPI_STATUS_IGNORE));
        EXPECT(got == src * 100 + r, "torus dim 0: %ld from %d", got, src);
        mixi(got);
        CHECK(MPI_Cart_shift(cart, 1, 1, &src, &dst));
        got = -7;
        CHECK(MPI_Sendrecv(&tok, 1, MPI_LONG, dst, 2, &got, 1, MPI_LONG, src, 2, cart, MPI_STATUS_IGNORE));
        EXPECT(src == MPI_PROC_NULL ? got == -7 : got == src * 100 + r, "torus dim 1: %ld from %d", got, src);
        mixi(got);
        long cs = coords[0], cr = coords[1], csum = 0, rsum = 0;
        CHECK(MPI_Allreduce(&cs, &csum, 1, MPI_LONG, MPI_SUM, col));
        CHECK(MPI_Allreduce(&cr, &rsum, 1, MPI_LONG, MPI_SUM, row));
        EXPECT(csum == (long)dims[0] * (dims[0] - 1) / 2 && rsum == (long)dims[1] * (dims[1] - 1) / 2,
               "torus sums %ld %ld", csum, rsum);

        /* graph and distributed graph: neighbours' values */
        long nb[2] = { -1, -1 }, mv = me * 3 + r;
        CHECK(MPI_Neighbor_allgather(&mv, 1, MPI_LONG, nb, 1, MPI_LONG, dgraph));
        EXPECT(nb[0] == srcs[0] * 3 + r && nb[1] == srcs[1] * 3 + r, "dist graph %ld %ld", nb[0], nb[1]);
        mix(nb, sizeof nb);
        int nn;
        CHECK(MPI_Graph_neighbors_count(graph, me, &nn));
        long gs = 0;
        CHECK(MPI_Allreduce(&mv, &gs, 1, MPI_LONG, MPI_SUM, graph));
        EXPECT(nn == 2 && gs == 3L * np * (np - 1) / 2 + (long)np * r, "graph %d %ld", nn, gs);
        mixi(gs);
    }
    report("comm");
    cc_finish();
    for (int i = 0; i < SLOTS; i++)
        if (slot[i] != MPI_COMM_NULL)
            MPI_Comm_free(&slot[i]);
    MPI_Comm_delete_attr(twin[0], kv);
    MPI_Comm_free_keyval(&kv);
    MPI_Comm_free(&dgraph);
    MPI_Comm_free(&graph);
    MPI_Comm_free(&row);
    MPI_Comm_free(&col);
    MPI_Comm_free(&cart);
    MPI_Comm_free(&twin[0]);
    MPI_Comm_free(&twin[1]);
    free(index);
    free(edges);
    MPI_Finalize();
    return 0;
}
