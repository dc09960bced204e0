/* A rank program for rst_nbrorder.sh: neighbourhood collectives on distributed graphs whose
 * neighbour order the library chose, used as queried once at the start (newuser7e F1).
 *
 *   rst_nbrorder STEPS PACEFILE MS
 *
 * Communicators, made before the first step:
 *   g1  MPI_Dist_graph_create, weighted: every rank gives an edge from itself to every rank
 *       (itself too), weight 100 * source + destination + 1; reorder 0
 *   g2  MPI_Dist_graph_create, unweighted: rank r gives r -> r+1 and r -> 0; reorder 1; then
 *       g3 = MPI_Comm_dup(g2) (the topology is copied) and g2 freed (the restart must make it
 *       again as g3's ancestor)
 *   g4  MPI_Dist_graph_create_adjacent (the order given), g5 MPI_Graph_create, g6
 *       MPI_Cart_create (reorder 1): their order follows from the arguments
 * Each rank queries every neighbour list (and weights) once. Each step: the lists queried
 * again must equal those; MPI_Neighbor_alltoall on g1 and g4, MPI_Neighbor_allgather on g3, g5
 * and g6, and an MPI_Ineighbor_alltoall on g1 started at the end of the previous step (in flight
 * while the step's pace runs, where the snapshot is taken) completed at the start of this one
 * (with MPI-4, MPICH: also a persistent MPI_Neighbor_alltoall_init on g1 started the same way):
 * slot k must hold the data of the k-th neighbour of the list queried at the start. Rank 0
 * prints "step N: bad B sum S" (B: slots or list entries that differ, over all ranks; S: the
 * sum of all data received, the same whatever order a library chose) and "done: ...". */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rst_pace.h"

#define MAXN 64

struct nbrs {
    MPI_Comm c;
    int in, out, weighted;
    int src[MAXN], sw[MAXN], dst[MAXN], dw[MAXN];
};

static int me, np;

static void query(MPI_Comm c, struct nbrs *q)
{
    int topo = MPI_UNDEFINED;
    memset(q, 0, sizeof *q);
    q->c = c;
    MPI_Topo_test(c, &topo);
    if (topo == MPI_DIST_GRAPH) {
        MPI_Dist_graph_neighbors_count(c, &q->in, &q->out, &q->weighted);
        if (q->in > MAXN || q->out > MAXN)
            MPI_Abort(MPI_COMM_WORLD, 3);
        MPI_Dist_graph_neighbors(c, q->in, q->src, q->weighted ? q->sw : MPI_UNWEIGHTED, q->out, q->dst,
                                 q->weighted ? q->dw : MPI_UNWEIGHTED);
    } else if (topo == MPI_GRAPH) {
        int r;
        MPI_Comm_rank(c, &r);
        MPI_Graph_neighbors_count(c, r, &q->in);
        MPI_Graph_neighbors(c, r, MAXN, q->src);
        q->out = q->in;
        memcpy(q->dst, q->src, sizeof q->src);
    } else if (topo == MPI_CART) {
        /* the neighbourhood of a cartesian communicator: for each dimension -1 then +1 */
        int nd = 0;
        MPI_Cartdim_get(c, &nd);
        for (int d = 0; d < nd; d++)
            MPI_Cart_shift(c, d, 1, &q->src[2 * d], &q->src[2 * d + 1]);
        q->in = q->out = 2 * nd;
        memcpy(q->dst, q->src, sizeof q->src);
    }
}

static int differ(const struct nbrs *a, const struct nbrs *b)
{
    int bad = (a->in != b->in) + (a->out != b->out) + (a->weighted != b->weighted);
    for (int k = 0; k < a->in && k < MAXN; k++)
        bad += (a->src[k] != b->src[k]) + (a->sw[k] != b->sw[k]);
    for (int k = 0; k < a->out && k < MAXN; k++)
        bad += (a->dst[k] != b->dst[k]) + (a->dw[k] != b->dw[k]);
    return bad;
}

/* what this rank sends to out-neighbour k / what slot k must hold from in-neighbour k */
static int sent(int from, int to, int step, int tag) { return from * 10000 + to * 100 + step % 50 + tag; }

static int check_slots(const struct nbrs *q, const int *rb, int step, int tag, long long *sum, int gather)
{
    int bad = 0, r;
    MPI_Comm_rank(q->c, &r);
    for (int k = 0; k < q->in; k++) {
        int want = q->src[k] == MPI_PROC_NULL ? -1 : gather ? sent(q->src[k], 0, step, tag) : sent(q->src[k], r, step, tag);
        bad += rb[k] != want;
        *sum += rb[k];
    }
    return bad;
}

static int alltoall(const struct nbrs *q, int step, int tag, long long *sum)
{
    int sb[MAXN], rb[MAXN], r;
    MPI_Comm_rank(q->c, &r);
    for (int k = 0; k < q->out; k++)
        sb[k] = sent(r, q->dst[k], step, tag);
    for (int k = 0; k < q->in; k++)
        rb[k] = -1;
    MPI_Neighbor_alltoall(sb, 1, MPI_INT, rb, 1, MPI_INT, q->c);
    return check_slots(q, rb, step, tag, sum, 0);
}

static int allgather(const struct nbrs *q, int step, int tag, long long *sum)
{
    int rb[MAXN], r;
    MPI_Comm_rank(q->c, &r);
    int v = sent(r, 0, step, tag);
    for (int k = 0; k < q->in; k++)
        rb[k] = -1;
    MPI_Neighbor_allgather(&v, 1, MPI_INT, rb, 1, MPI_INT, q->c);
    return check_slots(q, rb, step, tag, sum, 1);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: rst_nbrorder STEPS PACEFILE MS\n");
        return 2;
    }
    int steps = atoi(argv[1]);
    long ms = atol(argv[3]);
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    if (np < 2 || np > MAXN)
        MPI_Abort(MPI_COMM_WORLD, 2);
    MPI_Comm g1, g2, g3, g4, g5, g6;
    {
        int dst[MAXN], w[MAXN];
        for (int k = 0; k < np; k++) {
            dst[k] = (me + k) % np;
            w[k] = 100 * me + dst[k] + 1;
        }
        MPI_Dist_graph_create(MPI_COMM_WORLD, 1, &me, &np, dst, w, MPI_INFO_NULL, 0, &g1);
    }
    {
        int dst[2] = { (me + 1) % np, 0 }, deg = 2;
        MPI_Dist_graph_create(MPI_COMM_WORLD, 1, &me, &deg, dst, MPI_UNWEIGHTED, MPI_INFO_NULL, 1, &g2);
        MPI_Comm_dup(g2, &g3);
        MPI_Comm_free(&g2);
    }
    {
        int src[2] = { (me + np - 1) % np, (me + 1) % np }, dst[2] = { (me + 1) % np, (me + np - 1) % np };
        MPI_Dist_graph_create_adjacent(MPI_COMM_WORLD, 2, src, MPI_UNWEIGHTED, 2, dst, MPI_UNWEIGHTED,
                                       MPI_INFO_NULL, 0, &g4);
    }
    {
        /* a ring, each node's edges given right neighbour first */
        int index[MAXN], edges[2 * MAXN];
        for (int i = 0; i < np; i++) {
            index[i] = 2 * (i + 1);
            edges[2 * i] = (i + 1) % np;
            edges[2 * i + 1] = (i + np - 1) % np;
        }
        MPI_Graph_create(MPI_COMM_WORLD, np, index, edges, 0, &g5);
    }
    {
        int dims[2] = { 0, 0 }, periods[2] = { 1, 0 };
        MPI_Dims_create(np, 2, dims);
        MPI_Cart_create(MPI_COMM_WORLD, 2, dims, periods, 1, &g6);
    }
    struct nbrs q[5], now;
    MPI_Comm cs[5] = { g1, g3, g4, g5, g6 };
    for (int i = 0; i < 5; i++)
        query(cs[i], &q[i]);
    fprintf(stderr, "rank %d: g1 in-neighbours:", me);
    for (int k = 0; k < q[0].in; k++)
        fprintf(stderr, " %d", q[0].src[k]);
    fprintf(stderr, "; g3 in-neighbours:");
    for (int k = 0; k < q[1].in; k++)
        fprintf(stderr, " %d", q[1].src[k]);
    fprintf(stderr, "\n");
    /* the nonblocking one, in flight between steps */
    int isb[MAXN], irb[MAXN];
    MPI_Request ireq;
    for (int k = 0; k < q[0].out; k++)
        isb[k] = sent(me, q[0].dst[k], 0, 7);
    MPI_Ineighbor_alltoall(isb, 1, MPI_INT, irb, 1, MPI_INT, g1, &ireq);
#if MPI_VERSION >= 4
    /* MPI-4 (MPICH): a persistent one on g1, started at the end of each step, in flight too */
    int psb[MAXN], prb[MAXN];
    MPI_Request preq;
    MPI_Neighbor_alltoall_init(psb, 1, MPI_INT, prb, 1, MPI_INT, g1, MPI_INFO_NULL, &preq);
    for (int k = 0; k < q[0].out; k++)
        psb[k] = sent(me, q[0].dst[k], 0, 9);
    MPI_Start(&preq);
#endif
    long long total = 0;
    for (int s = 0; s < steps; s++) {
        int bad = 0;
        long long sum = 0;
        MPI_Wait(&ireq, MPI_STATUS_IGNORE);
        bad += check_slots(&q[0], irb, s, 7, &sum, 0);
#if MPI_VERSION >= 4
        MPI_Wait(&preq, MPI_STATUS_IGNORE);
        bad += check_slots(&q[0], prb, s, 9, &sum, 0);
#endif
        for (int i = 0; i < 5; i++) {
            query(cs[i], &now);
            bad += differ(&now, &q[i]);
        }
        bad += alltoall(&q[0], s, 1, &sum);
        bad += allgather(&q[1], s, 2, &sum);
        bad += alltoall(&q[2], s, 3, &sum);
        bad += allgather(&q[3], s, 4, &sum);
        bad += allgather(&q[4], s, 5, &sum);
        for (int k = 0; k < q[0].out; k++)
            isb[k] = sent(me, q[0].dst[k], s + 1, 7);
        MPI_Ineighbor_alltoall(isb, 1, MPI_INT, irb, 1, MPI_INT, g1, &ireq);
#if MPI_VERSION >= 4
        for (int k = 0; k < q[0].out; k++)
            psb[k] = sent(me, q[0].dst[k], s + 1, 9);
        MPI_Start(&preq);
#endif
        int allbad = 0;
        long long allsum = 0;
        MPI_Reduce(&bad, &allbad, 1, MPI_INT, MPI_SUM, 0, MPI_COMM_WORLD);
        MPI_Reduce(&sum, &allsum, 1, MPI_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
        if (bad)
            fprintf(stderr, "rank %d step %d: %d slots or list entries differ from the lists queried"
                    " at the start\n", me, s, bad);
        if (me == 0) {
            printf("step %d: bad %d sum %lld\n", s, allbad, allsum);
            fflush(stdout);
        }
        total += allsum;
        rst_pace(argv[2], ms, steps - 1 - s);
    }
    MPI_Wait(&ireq, MPI_STATUS_IGNORE);
#if MPI_VERSION >= 4
    MPI_Wait(&preq, MPI_STATUS_IGNORE);
    MPI_Request_free(&preq);
#endif
    if (me == 0)
        printf("done: %d steps, sum %lld\n", steps, total);
    MPI_Comm_free(&g1);
    MPI_Comm_free(&g3);
    MPI_Comm_free(&g4);
    MPI_Comm_free(&g5);
    MPI_Comm_free(&g6);
    MPI_Finalize();
    return 0;
}
