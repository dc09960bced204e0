/* A communicator's topology kept across a restart: see topo.h. */
#define _GNU_SOURCE
#define REVIVE_LOG_SUBSYS "mpi"
#include "pml_hooks/topo.h"
#include "pml_hooks/restart.h" /* pml_restart_fault */
#include "common/fault.h"

#include "pml_hooks/pml_table.h" /* PML_FID_* */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef MPICH_VERSION
/* MPICH's markers are variables of libmpich, not constants: a strong reference made the layer
 * unloadable in every process it is preloaded into without libmpich (a rank's child shell from
 * system(): "symbol lookup error: undefined symbol: MPI_UNWEIGHTED", libc_shared-mpich in the
 * CI of 13eb22d). Weak, they are 0 there, where no rank's code runs. */
#pragma weak MPI_UNWEIGHTED
#pragma weak MPI_WEIGHTS_EMPTY
#endif

/* ---- descriptions ---------------------------------------------------------------------------- */
struct desc {
    int *a;
    int n, cap;
};

static int push(struct desc *d, int v)
{
    if (d->n == d->cap) {
        int cap = d->cap ? 2 * d->cap : 16;
        int *a = realloc(d->a, (size_t)cap * sizeof *a);
        if (!a)
            return -ENOMEM;
        d->a = a;
        d->cap = cap;
    }
    d->a[d->n++] = v;
    return 0;
}

static int push_all(struct desc *d, const int *v, int n)
{
    for (int i = 0; i < n; i++)
        if (push(d, v[i]))
            return -ENOMEM;
    return 0;
}

static int describe_dist_graph(MPI_Comm c, struct desc *d)
{
    int in = 0, out = 0, weighted = 0;
    if (pml_L.MPI_Dist_graph_neighbors_count(c, &in, &out, &weighted) != MPI_SUCCESS || in < 0 || out < 0)
        return -EIO;
    int *src = calloc((size_t)in + 1, sizeof *src), *sw = calloc((size_t)in + 1, sizeof *sw);
    int *dst = calloc((size_t)out + 1, sizeof *dst), *dw = calloc((size_t)out + 1, sizeof *dw);
    int rc = !src || !sw || !dst || !dw ? -ENOMEM : 0;
    if (!rc && pml_L.MPI_Dist_graph_neighbors(c, in, src, weighted ? sw : (int *)pml_weights(MPI_UNWEIGHTED), out, dst,
                                              weighted ? dw : (int *)pml_weights(MPI_UNWEIGHTED)) != MPI_SUCCESS)
        rc = -EIO;
    if (!rc && (push(d, in) || push(d, out) || push(d, weighted != 0) || push_all(d, src, in) ||
                (weighted && push_all(d, sw, in)) || push_all(d, dst, out) || (weighted && push_all(d, dw, out))))
        rc = -ENOMEM;
    free(src);
    free(sw);
    free(dst);
    free(dw);
    return rc;
}

static int describe_graph(MPI_Comm c, struct desc *d)
{
    int me = 0, k = 0;
    if (pml_L.MPI_Comm_rank(c, &me) != MPI_SUCCESS || pml_L.MPI_Graph_neighbors_count(c, me, &k) != MPI_SUCCESS || k < 0)
        return -EIO;
    int *nb = calloc((size_t)k + 1, sizeof *nb);
    if (!nb)
        return -ENOMEM;
    int rc = pml_L.MPI_Graph_neighbors(c, me, k, nb) != MPI_SUCCESS ? -EIO : 0;
    if (!rc && (push(d, k) || push_all(d, nb, k)))
        rc = -ENOMEM;
    free(nb);
    return rc;
}

static int describe_cart(MPI_Comm c, struct desc *d)
{
    int nd = 0;
    if (pml_L.MPI_Cartdim_get(c, &nd) != MPI_SUCCESS || nd < 0)
        return -EIO;
    int *v = calloc(3 * (size_t)nd + 1, sizeof *v);
    if (!v)
        return -ENOMEM;
    int rc = pml_L.MPI_Cart_get(c, nd, v, v + nd, v + 2 * nd) != MPI_SUCCESS ? -EIO : 0;
    if (!rc && (push(d, nd) || push_all(d, v, 3 * nd)))
        rc = -ENOMEM;
    free(v);
    return rc;
}

int pml_topo_describe(uintptr_t c, int **out, int *n)
{
    struct desc d = { NULL, 0, 0 };
    int topo = MPI_UNDEFINED;
    MPI_Comm r = (MPI_Comm)c;
    int rc = pml_L.MPI_Topo_test(r, &topo) != MPI_SUCCESS ? -EIO : push(&d, topo);
    if (!rc && topo == MPI_DIST_GRAPH)
        rc = describe_dist_graph(r, &d);
    else if (!rc && topo == MPI_GRAPH)
        rc = describe_graph(r, &d);
    else if (!rc && topo == MPI_CART)
        rc = describe_cart(r, &d);
    if (rc) {
        free(d.a);
        return rc;
    }
    *out = d.a;
    *n = d.n;
    return 0;
}

/* ---- differences ------------------------------------------------------------------------------ */
/* The parts of a description, in order: name and length (from the header values). */
struct part {
    const char *name;
    int at, len;
};

static int parts(const int *a, int n, struct part *p)
{
    int k = 0;
    p[k++] = (struct part){ "topology kind", 0, 1 };
    if (n < 1)
        return 0;
    if (a[0] == MPI_DIST_GRAPH && n >= 4) {
        int in = a[1], out = a[2], w = a[3] != 0;
        p[k++] = (struct part){ "in- and out-degree", 1, 2 };
        p[k++] = (struct part){ "weighted flag", 3, 1 };
        int at = 4;
        p[k++] = (struct part){ "in-neighbours (sources)", at, in };
        at += in;
        if (w) {
            p[k++] = (struct part){ "in-neighbours' weights", at, in };
            at += in;
        }
        p[k++] = (struct part){ "out-neighbours (destinations)", at, out };
        at += out;
        if (w)
            p[k++] = (struct part){ "out-neighbours' weights", at, out };
    } else if (a[0] == MPI_GRAPH && n >= 2) {
        p[k++] = (struct part){ "neighbour count", 1, 1 };
        p[k++] = (struct part){ "neighbours", 2, a[1] };
    } else if (a[0] == MPI_CART && n >= 2) {
        int nd = a[1];
        p[k++] = (struct part){ "number of dimensions", 1, 1 };
        p[k++] = (struct part){ "dims", 2, nd };
        p[k++] = (struct part){ "periods", 2 + nd, nd };
        p[k++] = (struct part){ "coordinates", 2 + 2 * nd, nd };
    }
    return k;
}

static void list(char *buf, size_t len, const int *a, int n, int at, int cnt)
{
    size_t o = strlen(buf);
    for (int i = 0; i < cnt && at + i < n && o + 16 < len; i++) {
        if (i == 12) {
            snprintf(buf + o, len - o, " ...");
            return;
        }
        o += (size_t)snprintf(buf + o, len - o, " %d", a[at + i]);
    }
}

const char *pml_topo_diff(const int *now, int nnow, const int *saved, int nsaved, char *buf,
                          size_t len)
{
    if (nnow == nsaved && (!nnow || !memcmp(now, saved, (size_t)nnow * sizeof *now)))
        return NULL;
    struct part pn[9], ps[9];
    int kn = parts(now, nnow, pn), ks = parts(saved, nsaved, ps);
    const char *what = "topology";
    int k;
    if (!now || !saved)
        return what;
    for (k = 0; k < kn && k < ks; k++) {
        struct part *a = &pn[k], *b = &ps[k];
        if (a->len != b->len || a->at + a->len > nnow || b->at + b->len > nsaved ||
            memcmp(now + a->at, saved + b->at, (size_t)a->len * sizeof *now)) {
            what = a->name;
            break;
        }
    }
    buf[0] = 0;
    if (k < kn && k < ks) {
        snprintf(buf, len, "now:");
        list(buf, len, now, nnow, pn[k].at, pn[k].len);
        size_t o = strlen(buf);
        snprintf(buf + o, len - o, "; at the checkpoint:");
        list(buf, len, saved, nsaved, ps[k].at, ps[k].len);
    }
    return what;
}

/* ---- MPI_Dist_graph_create: the record and the replay ------------------------------------------ */
/* The item: this rank's rank in the communicator made, then its description. */
void pml_rec_dist_graph(struct pml_rec *R, uintptr_t made)
{
    int *d = NULL, n = 0, me = -1;
    pml_L.MPI_Comm_rank((MPI_Comm)made, &me);
    if (pml_topo_describe(made, &d, &n)) {
        pml_rec_array(R, NULL, 0); /* the replay refuses, naming the call */
        return;
    }
    int *a = malloc(((size_t)n + 1) * sizeof *a);
    if (!a)
        pml_fatal("out of memory recording a distributed graph's neighbours");
    a[0] = me;
    memcpy(a + 1, d, (size_t)n * sizeof *d);
    pml_rec_array(R, a, ((size_t)n + 1) * sizeof *a);
    free(a);
    free(d);
}

/* MPI_Dist_graph_create(comm_old, n, sources, degrees, destinations, weights, info, reorder, &g)
 * made again as MPI_Dist_graph_create_adjacent from the lists the library chose then (and on
 * comm_old split by the saved ranks, when reorder was asked for: the adjacent form with
 * reorder 0 numbers the ranks as its parent does). */
static int rp_dist_graph(struct pml_rp *P)
{
    MPI_Comm old = (MPI_Comm)pml_rp_h(P);
    int n = 0, reorder = 0;
    pml_rp_i(P, &n, sizeof n);
    int *sources = pml_rp_a(P), *degrees = pml_rp_a(P), *dests = pml_rp_a(P);
    const int *weights = pml_rp_w(P);
    MPI_Info info = (MPI_Info)pml_rp_h(P);
    pml_rp_i(P, &reorder, sizeof reorder);
    size_t len = 0;
    const int *s = pml_rp_a_len(P, &len);
    uintptr_t v = pml_rp_peek_out(P);
    if (pml_rp_failed(P))
        return MPI_ERR_OTHER;
    int ns = (int)(len / sizeof *s);
    /* rank, kind, indegree, outdegree, weighted, the lists */
    if (ns < 5 || s[1] != MPI_DIST_GRAPH || s[2] < 0 || s[3] < 0 ||
        ns != 5 + (s[2] + s[3]) * (s[4] ? 2 : 1)) {
        pml_rp_refuse(P, "the neighbour lists recorded at the call are missing or damaged");
        return MPI_ERR_OTHER;
    }
    const int *saved = s + 1;
    int nsaved = ns - 1, in = s[2], out = s[3], w = s[4] != 0;
    const int *src = s + 5, *sw = w ? src + in : NULL;
    const int *dst = src + in * (w ? 2 : 1), *dw = w ? dst + out : NULL;
    MPI_Comm made = (MPI_Comm)0, parent = old, split = (MPI_Comm)0;
    int rc = MPI_SUCCESS;
    if (pml_restart_fault(REVIVE_FAULT_mpi_nbr_native)) {
        /* as before: the library orders the neighbours anew; the check below must see it */
        rc = pml_L.MPI_Dist_graph_create(old, n, sources, degrees, dests, weights, info, reorder, &made);
    } else {
        if (reorder) {
            /* the saved rank order (the same on every member: each gives its own) */
            rc = pml_L.MPI_Comm_split(old, 0, s[0], &split);
            parent = split;
        }
        const int *none = pml_weights(MPI_UNWEIGHTED), *empty = pml_weights(MPI_WEIGHTS_EMPTY);
        if (rc == MPI_SUCCESS)
            rc = pml_L.MPI_Dist_graph_create_adjacent(parent, in, src, !w ? none : in ? sw : empty, out, dst,
                                                      !w ? none : out ? dw : empty, info, 0, &made);
        if (reorder && split)
            pml_L.MPI_Comm_free(&split);
    }
    if (rc != MPI_SUCCESS)
        return rc;
    int *now = NULL, nnow = 0, me = -1;
    char lists[256], why[512];
    if (pml_topo_describe(PML_H(made), &now, &nnow)) {
        pml_rp_refuse(P, "cannot read the neighbour lists of the distributed graph made again");
        return MPI_ERR_OTHER;
    }
    pml_L.MPI_Comm_rank(made, &me);
    const char *what = pml_topo_diff(now, nnow, saved, nsaved, lists, sizeof lists);
    free(now);
    if (!what && me != s[0]) {
        what = "rank";
        snprintf(lists, sizeof lists, "now: %d; at the checkpoint: %d", me, s[0]);
    }
    if (what) {
        snprintf(why, sizeof why, "communicator %#lx came back with other %s than the program was"
                 " given (%s): its neighbourhood collectives would fill other slots",
                 (unsigned long)v, what, lists);
        pml_rp_refuse(P, why);
        pml_L.MPI_Comm_free(&made);
        return MPI_ERR_OTHER;
    }
    pml_rp_o(P, PML_COMM, PML_H(made));
    return MPI_SUCCESS;
}

pml_rp_fn pml_rp_topo_fn(int fid)
{
    return fid == PML_FID_MPI_Dist_graph_create ? rp_dist_graph : NULL;
}
