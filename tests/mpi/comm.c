/* Communicators, groups, attributes and keyvals, names, error handlers, info, topologies
 * with their queries and neighbour collectives. */
#include "mpitest.h"

static int copies, deletes;
static int copy_fn(MPI_Comm c, int kv, void *extra, void *in, void *out, int *flag)
{
    int r;
    MPI_Comm_rank(c, &r); /* the handle must be the application's */
    copies += 1 + (extra == (void *)&copies) + (kv != MPI_KEYVAL_INVALID);
    *(void **)out = in;
    *flag = 1;
    return MPI_SUCCESS;
}
static int delete_fn(MPI_Comm c, int kv, void *val, void *extra)
{
    int r;
    (void)kv; (void)val; (void)extra;
    MPI_Comm_rank(c, &r);
    deletes++;
    return MPI_SUCCESS;
}
static int handled;
static void on_error(MPI_Comm *c, int *err, ...)
{
    int r, cls;
    MPI_Comm_rank(*c, &r);
    MPI_Error_class(*err, &cls);
    handled = 100 + (cls == MPI_ERR_RANK);
}

int main(int argc, char **argv)
{
    start(&argc, &argv);
    /* dup, split, split_type, create, create_group, compare, free */
    MPI_Comm dup, split, node, created, cg, nullc;
    int res, sz, rk;
    CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &dup));
    CHECK(MPI_Comm_compare(dup, MPI_COMM_WORLD, &res)); mixi(res);
    CHECK(MPI_Comm_split(MPI_COMM_WORLD, me % 2, -me, &split));
    MPI_Comm_size(split, &sz); MPI_Comm_rank(split, &rk); mixi(sz); mixi(rk);
    CHECK(MPI_Comm_split(MPI_COMM_WORLD, me == 0 ? 0 : MPI_UNDEFINED, 0, &nullc));
    mixi(nullc == MPI_COMM_NULL);
    if (nullc != MPI_COMM_NULL) MPI_Comm_free(&nullc);
    CHECK(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, me, MPI_INFO_NULL, &node));
    MPI_Comm_size(node, &sz); mixi(sz);
    MPI_Group wg, eg, g2, g3, g4;
    CHECK(MPI_Comm_group(MPI_COMM_WORLD, &wg));
    int ranks[64], nr = 0;
    for (int i = 0; i < np; i += 2) ranks[nr++] = i;
    CHECK(MPI_Group_incl(wg, nr, ranks, &eg));
    CHECK(MPI_Comm_create(MPI_COMM_WORLD, eg, &created));
    mixi(created == MPI_COMM_NULL);
    if (me % 2 == 0) {
        CHECK(MPI_Comm_create_group(MPI_COMM_WORLD, eg, 5, &cg));
        MPI_Comm_size(cg, &sz); MPI_Comm_rank(cg, &rk); mixi(sz * 100 + rk);
        CHECK(MPI_Comm_compare(cg, created, &res)); mixi(res);
        MPI_Comm_free(&cg);
    }
    if (created != MPI_COMM_NULL) MPI_Comm_free(&created);
    /* groups */
    CHECK(MPI_Group_excl(wg, nr, ranks, &g2));
    CHECK(MPI_Group_union(eg, g2, &g3));
    CHECK(MPI_Group_compare(g3, wg, &res)); mixi(res);
    CHECK(MPI_Group_intersection(eg, g2, &g4));
    MPI_Group_size(g4, &sz); mixi(sz); mixi(g4 == MPI_GROUP_EMPTY);
    MPI_Group_free(&g4);
    CHECK(MPI_Group_difference(wg, eg, &g4));
    MPI_Group_size(g4, &sz); mixi(sz);
    int tr[64];
    CHECK(MPI_Group_translate_ranks(eg, nr, (int[]){0, 1, 2, 3}, wg, tr));
    mix(tr, sizeof(int) * (nr < 4 ? nr : 4));
    int rng[1][3] = {{0, np - 1, 2}};
    MPI_Group gr;
    CHECK(MPI_Group_range_incl(wg, 1, rng, &gr));
    MPI_Group_size(gr, &sz); MPI_Group_rank(gr, &rk); mixi(sz); mixi(rk);
    MPI_Group_free(&gr);
    CHECK(MPI_Group_range_excl(wg, 1, rng, &gr));
    MPI_Group_size(gr, &sz); mixi(sz);
    MPI_Group_free(&gr); MPI_Group_free(&g4); MPI_Group_free(&g3); MPI_Group_free(&g2);
    MPI_Group_free(&eg); MPI_Group_free(&wg);
    mixi(wg == MPI_GROUP_NULL);
    report("comm-group");

    /* attributes and keyvals */
    int kv, kv2, flag;
    void *val;
    CHECK(MPI_Comm_create_keyval(copy_fn, delete_fn, &kv, &copies));
    CHECK(MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, MPI_COMM_NULL_DELETE_FN, &kv2, NULL));
    CHECK(MPI_Comm_set_attr(dup, kv, (void *)0x1234));
    CHECK(MPI_Comm_set_attr(dup, kv2, (void *)0x5678));
    MPI_Comm dup2;
    CHECK(MPI_Comm_dup(dup, &dup2));
    CHECK(MPI_Comm_get_attr(dup2, kv, &val, &flag)); mixi(flag); mixi((long)val);
    CHECK(MPI_Comm_get_attr(dup2, kv2, &val, &flag)); mixi(flag);
    CHECK(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &val, &flag));
    mixi(flag); mixi(*(int *)val >= 32767);
    CHECK(MPI_Comm_delete_attr(dup, kv));
    MPI_Comm_free(&dup2);
    mixi(copies); mixi(deletes);
    CHECK(MPI_Comm_free_keyval(&kv)); mixi(kv == MPI_KEYVAL_INVALID);
    CHECK(MPI_Comm_free_keyval(&kv2));
    /* names */
    char name[MPI_MAX_OBJECT_NAME];
    int len;
    CHECK(MPI_Comm_set_name(dup, "revive-dup"));
    CHECK(MPI_Comm_get_name(dup, name, &len)); mix(name, (size_t)len);
    CHECK(MPI_Comm_get_name(MPI_COMM_WORLD, name, &len)); mix(name, (size_t)len);
    /* error handlers: an invalid rank must reach the application's handler */
    MPI_Errhandler eh, got;
    CHECK(MPI_Comm_create_errhandler(on_error, &eh));
    CHECK(MPI_Comm_set_errhandler(dup, eh));
    CHECK(MPI_Comm_get_errhandler(dup, &got));
    mixi(got == eh);
    int x = 0;
    int rc = MPI_Send(&x, 1, MPI_INT, np + 5, 0, dup);
    mixi(rc != MPI_SUCCESS); mixi(handled);
    MPI_Errhandler_free(&got);
    CHECK(MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN));
    int cls;
    rc = MPI_Send(&x, 1, MPI_INT, np + 5, 0, dup);
    MPI_Error_class(rc, &cls); mixi(cls == MPI_ERR_RANK);
    rc = MPI_Comm_call_errhandler(dup, MPI_ERR_OTHER); mixi(rc);
    MPI_Errhandler_free(&eh);
    mixi(eh == MPI_ERRHANDLER_NULL);
    /* info */
    MPI_Info info, info2;
    char v[64];
    int nk;
    CHECK(MPI_Info_create(&info));
    CHECK(MPI_Info_set(info, "revive_key", "value1"));
    CHECK(MPI_Info_set(info, "other", "2"));
    CHECK(MPI_Info_dup(info, &info2));
    CHECK(MPI_Info_delete(info, "other"));
    CHECK(MPI_Info_get_nkeys(info2, &nk)); mixi(nk);
    CHECK(MPI_Info_get(info2, "revive_key", 63, v, &flag)); mixi(flag); mix(v, strlen(v));
    CHECK(MPI_Info_get_valuelen(info2, "other", &len, &flag)); mixi(len);
    CHECK(MPI_Info_get_nthkey(info, 0, v)); mix(v, strlen(v));
    MPI_Info_free(&info); MPI_Info_free(&info2);
    mixi(info == MPI_INFO_NULL);
    double t0 = MPI_Wtime(), tk = MPI_Wtick();
    mixi(t0 > 0); mixi(tk > 0 && tk < 1);
    report("attr-errh-info");

    /* topologies */
    int dims[2] = {0, 0}, periods[2] = {1, 0}, coords[2], src, dst;
    CHECK(MPI_Dims_create(np, 2, dims)); mix(dims, sizeof dims);
    MPI_Comm cart, sub, graph, dg, dga;
    CHECK(MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 0, &cart));
    int topo;
    CHECK(MPI_Topo_test(cart, &topo)); mixi(topo == MPI_CART);
    CHECK(MPI_Cart_coords(cart, me, 2, coords)); mix(coords, sizeof coords);
    CHECK(MPI_Cart_rank(cart, coords, &rk)); mixi(rk);
    CHECK(MPI_Cart_shift(cart, 0, 1, &src, &dst)); mixi(src); mixi(dst);
    int gd[2], gp[2], gc[2];
    CHECK(MPI_Cart_get(cart, 2, gd, gp, gc)); mix(gd, 8); mix(gp, 8); mix(gc, 8);
    CHECK(MPI_Cart_sub(cart, (int[]){1, 0}, &sub));
    MPI_Comm_size(sub, &sz); mixi(sz);
    long sbv[8], rbv[8];
    for (int i = 0; i < 8; i++) sbv[i] = me * 10 + i;
    memset(rbv, 0, sizeof rbv);
    CHECK(MPI_Neighbor_allgather(sbv, 1, MPI_LONG, rbv, 1, MPI_LONG, cart)); mix(rbv, sizeof rbv);
    memset(rbv, 0, sizeof rbv);
    CHECK(MPI_Neighbor_alltoall(sbv, 1, MPI_LONG, rbv, 1, MPI_LONG, cart)); mix(rbv, sizeof rbv);
    int one[4] = {1, 1, 1, 1}, d4[4] = {0, 1, 2, 3};
    MPI_Aint ad4[4] = {0, 8, 16, 24};
    MPI_Datatype t4[4] = {MPI_LONG, MPI_LONG, MPI_LONG, MPI_LONG};
    memset(rbv, 0, sizeof rbv);
    CHECK(MPI_Neighbor_alltoallv(sbv, one, d4, MPI_LONG, rbv, one, d4, MPI_LONG, cart)); mix(rbv, sizeof rbv);
    memset(rbv, 0, sizeof rbv);
    CHECK(MPI_Neighbor_alltoallw(sbv, one, ad4, t4, rbv, one, ad4, t4, cart)); mix(rbv, sizeof rbv);
    MPI_Request q;
    memset(rbv, 0, sizeof rbv);
    CHECK(MPI_Ineighbor_alltoallw(sbv, one, ad4, t4, rbv, one, ad4, t4, cart, &q));
    CHECK(MPI_Wait(&q, MPI_STATUS_IGNORE)); mix(rbv, sizeof rbv);
    memset(rbv, 0, sizeof rbv);
    CHECK(MPI_Ineighbor_allgather(sbv, 1, MPI_LONG, rbv, 1, MPI_LONG, cart, &q));
    CHECK(MPI_Wait(&q, MPI_STATUS_IGNORE)); mix(rbv, sizeof rbv);
    /* a ring graph */
    int index[64], edges[128];
    for (int i = 0; i < np; i++) {
        index[i] = 2 * (i + 1);
        edges[2 * i] = (i + 1) % np;
        edges[2 * i + 1] = (i + np - 1) % np;
    }
    CHECK(MPI_Graph_create(MPI_COMM_WORLD, np, index, edges, 0, &graph));
    int nn, ne, nb[4];
    CHECK(MPI_Graphdims_get(graph, &nn, &ne)); mixi(nn); mixi(ne);
    CHECK(MPI_Graph_neighbors_count(graph, me, &nn)); mixi(nn);
    CHECK(MPI_Graph_neighbors(graph, me, 4, nb)); mix(nb, sizeof(int) * (size_t)nn);
    memset(rbv, 0, sizeof rbv);
    CHECK(MPI_Neighbor_allgather(sbv, 1, MPI_LONG, rbv, 1, MPI_LONG, graph)); mix(rbv, sizeof rbv);
    /* distributed graph: each rank names its right neighbour, weighted; adjacent, unweighted */
    int right = (me + 1) % np, left = (me + np - 1) % np, w = me + 1;
    CHECK(MPI_Dist_graph_create(MPI_COMM_WORLD, 1, &me, (int[]){1}, &right, &w, MPI_INFO_NULL, 0, &dg));
    int ind, outd, wtd, srcs[4], sw[4], dsts[4], dw[4];
    CHECK(MPI_Dist_graph_neighbors_count(dg, &ind, &outd, &wtd)); mixi(ind); mixi(outd); mixi(wtd);
    CHECK(MPI_Dist_graph_neighbors(dg, 4, srcs, sw, 4, dsts, dw));
    mix(srcs, sizeof(int) * (size_t)ind); mix(sw, sizeof(int) * (size_t)ind);
    CHECK(MPI_Dist_graph_create_adjacent(MPI_COMM_WORLD, 1, &left, MPI_UNWEIGHTED, 1, &right,
                                         MPI_UNWEIGHTED, MPI_INFO_NULL, 0, &dga));
    CHECK(MPI_Dist_graph_neighbors_count(dga, &ind, &outd, &wtd)); mixi(wtd);
    memset(rbv, 0, sizeof rbv);
    CHECK(MPI_Neighbor_alltoall(sbv, 1, MPI_LONG, rbv, 1, MPI_LONG, dga)); mix(rbv, sizeof rbv);
    MPI_Comm_free(&dga); MPI_Comm_free(&dg); MPI_Comm_free(&graph);
    MPI_Comm_free(&sub); MPI_Comm_free(&cart);
    /* intercommunicator merge */
    if (np >= 2) {
        MPI_Comm inter, merged;
        /* split was ordered by -rank: each half's leader is its highest world rank */
        int even_leader = (np - 1) & ~1, odd_leader = np % 2 ? np - 2 : np - 1;
        CHECK(MPI_Intercomm_create(split, 0, MPI_COMM_WORLD, me % 2 ? even_leader : odd_leader, 9, &inter));
        int tst;
        MPI_Comm_test_inter(inter, &tst); mixi(tst);
        MPI_Group rg;
        CHECK(MPI_Comm_remote_group(inter, &rg));
        MPI_Group_size(rg, &sz); mixi(sz);
        MPI_Group_free(&rg);
        CHECK(MPI_Intercomm_merge(inter, me % 2, &merged));
        MPI_Comm_rank(merged, &rk); mixi(rk);
        MPI_Comm_free(&merged); MPI_Comm_free(&inter);
    }
    MPI_Comm_free(&node); MPI_Comm_free(&split); MPI_Comm_free(&dup);
    mixi(dup == MPI_COMM_NULL);
    report("topo-inter");
    MPI_Finalize();
    return 0;
}
