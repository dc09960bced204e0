/* User datatypes and user reduction operations as applications write them, for the campaign
 * (tests/mpi/ckpt/campaign). Made once before the rounds (alive at every snapshot) and some made
 * and freed within each round:
 *   - a C struct with padding (doubles, an int, a char, a long) described by
 *     MPI_Type_create_struct and MPI_Type_create_resized to its sizeof, and a 2x2 matrix type;
 *   - a commutative user op on the struct (sums, min, max) in MPI_Allreduce, MPI_Reduce to a
 *     rotating root, MPI_Reduce_scatter_block, MPI_Iallreduce; a non-commutative one (2x2 matrix
 *     product modulo a prime: the order of the ranks matters) in MPI_Reduce, MPI_Scan,
 *     MPI_Exscan, MPI_Iscan; every result checked against the serial product;
 *   - each round a struct type with a different field order and an op made, used in
 *     MPI_Allreduce, freed;
 *   - MPI_Pack_external("external32") of the structs' positions (a resized struct type) and a
 *     matrix, sent as MPI_BYTE around the ring and unpacked; MPI_Pack / MPI_Unpack sent as MPI_PACKED;
 *   - MPI_Ialltoallw with a different derived type to every rank (the struct, a vector of longs,
 *     an indexed type of ints), in flight over an MPI_Allreduce.
 * Usage: cc_types ROUNDS */
#include "tests/mpi/ckpt/campaign/cc.h"
#include <stddef.h>

#define PRIME 1000003L
#define NP 5 /* structs per rank */

struct part {
    double x[3];
    int id;
    char kind;
    long w;
};

static MPI_Datatype tpart, tmat, tpos;
static MPI_Op opsum, opmat;

static void psum(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    (void)dt;
    struct part *a = in, *b = inout;
    for (int i = 0; i < *len; i++) {
        for (int d = 0; d < 3; d++)
            b[i].x[d] += a[i].x[d];
        b[i].id = a[i].id < b[i].id ? a[i].id : b[i].id;
        b[i].kind = a[i].kind > b[i].kind ? a[i].kind : b[i].kind;
        b[i].w += a[i].w;
    }
}

/* inout = in * inout (in comes from the lower ranks) */
static void matmul(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    (void)dt;
    long *a = in, *b = inout;
    for (int i = 0; i < *len; i++, a += 4, b += 4) {
        long c[4] = { (a[0] * b[0] + a[1] * b[2]) % PRIME, (a[0] * b[1] + a[1] * b[3]) % PRIME,
                      (a[2] * b[0] + a[3] * b[2]) % PRIME, (a[2] * b[1] + a[3] * b[3]) % PRIME };
        memcpy(b, c, sizeof c);
    }
}

static void fill(struct part *p, int rank, int r)
{
    for (int i = 0; i < NP; i++) {
        memset(&p[i], 0, sizeof p[i]); /* the padding too: the structs are compared whole */
        for (int d = 0; d < 3; d++)
            p[i].x[d] = (double)(cc_hash(rank, r, i * 3 + d) % 1000); /* exact sums */
        p[i].id = (int)(cc_hash(rank, r, 50 + i) % 100000);
        p[i].kind = (char)('a' + cc_hash(rank, r, 60 + i) % 26);
        p[i].w = (long)(cc_hash(rank, r, 70 + i) % 1000000);
    }
}
static void mat(long *m, int rank, int r)
{
    for (int j = 0; j < 4; j++)
        m[j] = (long)(cc_hash(rank, r, 90 + j) % PRIME);
}

static MPI_Datatype part_type(int order)
{
    struct part p = { { 0 }, 0, 0, 0 };
    int bl[4] = { 3, 1, 1, 1 };
    MPI_Aint base, d[4];
    MPI_Datatype ty[4] = { MPI_DOUBLE, MPI_INT, MPI_CHAR, MPI_LONG }, t, tr;
    MPI_Get_address(&p, &base);
    MPI_Get_address(p.x, &d[0]);
    MPI_Get_address(&p.id, &d[1]);
    MPI_Get_address(&p.kind, &d[2]);
    MPI_Get_address(&p.w, &d[3]);
    int o[4];
    for (int i = 0; i < 4; i++)
        o[i] = (i + order) % 4; /* the same layout, fields listed in another order */
    int bl2[4];
    MPI_Aint d2[4];
    MPI_Datatype ty2[4];
    for (int i = 0; i < 4; i++)
        bl2[i] = bl[o[i]], d2[i] = d[o[i]] - base, ty2[i] = ty[o[i]];
    CHECK(MPI_Type_create_struct(4, bl2, d2, ty2, &t));
    CHECK(MPI_Type_create_resized(t, 0, sizeof p, &tr));
    CHECK(MPI_Type_free(&t));
    CHECK(MPI_Type_commit(&tr));
    return tr;
}

static int same_part(const struct part *a, const struct part *b, int n)
{
    for (int i = 0; i < n; i++)
        if (memcmp(a[i].x, b[i].x, sizeof a[i].x) || a[i].id != b[i].id || a[i].kind != b[i].kind ||
            a[i].w != b[i].w)
            return 0;
    return 1;
}

static void mixparts(const struct part *p, int n)
{
    for (int i = 0; i < n; i++) {
        mix(p[i].x, sizeof p[i].x);
        mixi(p[i].id);
        mixi(p[i].kind);
        mixi(p[i].w);
    }
}

/* the serial results: the struct sum over ranks [0, upto), the matrix product of ranks [lo, hi) */
static void want_sum(struct part *s, int upto, int r)
{
    struct part t[NP];
    int n = NP;
    fill(s, 0, r);
    for (int k = 1; k < upto; k++) {
        fill(t, k, r);
        psum(t, s, &n, NULL);
    }
}
static void want_prod(long *m, int lo, int hi, int r)
{
    long t[4];
    int one = 1;
    m[0] = m[3] = 1, m[1] = m[2] = 0;
    for (int k = hi - 1; k >= lo; k--) { /* m = M_k * m, from the right */
        mat(t, k, r);
        matmul(t, m, &one, NULL);
    }
}

static void reductions(int r)
{
    struct part in[NP], out[NP], want[NP];
    long m[4], pm[4], wm[4];
    fill(in, me, r);
    want_sum(want, np, r);
    CHECK(MPI_Allreduce(in, out, NP, tpart, opsum, MPI_COMM_WORLD));
    EXPECT(same_part(out, want, NP), "round %d: Allreduce of the structs", r);
    mixparts(out, NP);
    int root = r % np;
    memset(out, 0, sizeof out);
    CHECK(MPI_Reduce(in, out, NP, tpart, opsum, root, MPI_COMM_WORLD));
    if (me == root)
        EXPECT(same_part(out, want, NP), "round %d: Reduce of the structs", r);
    /* Reduce_scatter_block: NP*np structs in, NP out, block k for rank k */
    struct part *big = malloc(sizeof *big * NP * (size_t)np);
    for (int k = 0; k < np; k++)
        fill(big + k * NP, me, r + k);
    CHECK(MPI_Reduce_scatter_block(big, out, NP, tpart, opsum, MPI_COMM_WORLD));
    want_sum(want, np, r + me);
    EXPECT(same_part(out, want, NP), "round %d: Reduce_scatter_block of the structs", r);
    mixparts(out, NP);
    free(big);

    mat(m, me, r);
    CHECK(MPI_Reduce(m, pm, 1, tmat, opmat, 0, MPI_COMM_WORLD));
    if (me == 0) {
        want_prod(wm, 0, np, r);
        EXPECT(!memcmp(pm, wm, sizeof wm), "round %d: Reduce of the matrices", r);
        mix(pm, sizeof pm);
    }
    CHECK(MPI_Scan(m, pm, 1, tmat, opmat, MPI_COMM_WORLD));
    want_prod(wm, 0, me + 1, r);
    EXPECT(!memcmp(pm, wm, sizeof wm), "round %d: Scan of the matrices", r);
    mix(pm, sizeof pm);
    CHECK(MPI_Exscan(m, pm, 1, tmat, opmat, MPI_COMM_WORLD));
    if (me > 0) {
        want_prod(wm, 0, me, r);
        EXPECT(!memcmp(pm, wm, sizeof wm), "round %d: Exscan of the matrices", r);
        mix(pm, sizeof pm);
    }
    /* nonblocking, both in flight over a blocking collective */
    MPI_Request q[2];
    long sm[4];
    CHECK(MPI_Iallreduce(in, out, NP, tpart, opsum, MPI_COMM_WORLD, &q[0]));
    CHECK(MPI_Iscan(m, sm, 1, tmat, opmat, MPI_COMM_WORLD, &q[1]));
    if ((r + me) % 3 == 0)
        cc_spin(60);
    long one = 1, n = 0;
    CHECK(MPI_Allreduce(&one, &n, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));
    CHECK(MPI_Waitall(2, q, MPI_STATUSES_IGNORE));
    want_sum(want, np, r);
    EXPECT(same_part(out, want, NP) && n == np, "round %d: Iallreduce of the structs", r);
    want_prod(wm, 0, me + 1, r);
    EXPECT(!memcmp(sm, wm, sizeof wm), "round %d: Iscan of the matrices", r);
    mix(sm, sizeof sm);

    /* a type and an op of this round only */
    MPI_Datatype t1 = part_type(1 + r % 3);
    MPI_Op o1;
    CHECK(MPI_Op_create(psum, 1, &o1));
    CHECK(MPI_Allreduce(in, out, NP, t1, o1, MPI_COMM_WORLD));
    EXPECT(same_part(out, want, NP), "round %d: Allreduce with the round's type and op", r);
    mixparts(out, NP);
    CHECK(MPI_Op_free(&o1));
    CHECK(MPI_Type_free(&t1));
}

static void packing(int r)
{
    struct part p[NP], q[NP], w[NP];
    int right = (me + 1) % np, left = (me + np - 1) % np;
    fill(p, me, r);
    fill(w, left, r);
    /* external32 of the particles' positions (a resized type over the structs) and of the
     * matrices; not of the whole struct: MPICH 4.0 dies of SIGILL in MPI_Pack_external_size of
     * a struct type mixing basic types (found writing this program, natively) */
    MPI_Aint sz = 0, sz2 = 0, pos = 0, pos2 = 0;
    long em[4], gm2[4], wm2[4];
    mat(em, me, r);
    CHECK(MPI_Pack_external_size("external32", NP, tpos, &sz));
    CHECK(MPI_Pack_external_size("external32", 1, tmat, &sz2));
    char *b = malloc((size_t)(sz + sz2)), *b2 = malloc((size_t)(sz + sz2));
    CHECK(MPI_Pack_external("external32", p, NP, tpos, b, sz + sz2, &pos));
    CHECK(MPI_Pack_external("external32", em, 1, tmat, b, sz + sz2, &pos));
    MPI_Status est;
    int eg = 0;
    CHECK(MPI_Sendrecv(b, (int)pos, MPI_BYTE, right, 5, b2, (int)(sz + sz2), MPI_BYTE, left, 5,
                       MPI_COMM_WORLD, &est));
    CHECK(MPI_Get_count(&est, MPI_BYTE, &eg));
    EXPECT(eg == (int)pos, "round %d: external32 %d bytes from %d, %ld here", r, eg, left, (long)pos);
    mix(b2, (size_t)eg); /* big-endian, no padding: the same bytes on every rank */
    memset(q, 0, sizeof q);
    CHECK(MPI_Unpack_external("external32", b2, eg, &pos2, q, NP, tpos));
    CHECK(MPI_Unpack_external("external32", b2, eg, &pos2, gm2, 1, tmat));
    mat(wm2, left, r);
    int ebad = memcmp(gm2, wm2, sizeof wm2) != 0;
    for (int i = 0; i < NP; i++)
        ebad += memcmp(q[i].x, w[i].x, sizeof q[i].x) != 0;
    EXPECT(ebad == 0, "round %d: external32 from %d: %d values wrong", r, left, ebad);
    free(b);
    free(b2);

    int psz = 0, ppos = 0, upos = 0;
    long lm[4];
    mat(lm, me, r);
    CHECK(MPI_Pack_size(NP, tpart, MPI_COMM_WORLD, &psz));
    int psz2 = 0;
    CHECK(MPI_Pack_size(1, tmat, MPI_COMM_WORLD, &psz2));
    char *pb = malloc((size_t)(psz + psz2)), *pb2 = malloc((size_t)(psz + psz2));
    CHECK(MPI_Pack(p, NP, tpart, pb, psz + psz2, &ppos, MPI_COMM_WORLD));
    CHECK(MPI_Pack(lm, 1, tmat, pb, psz + psz2, &ppos, MPI_COMM_WORLD));
    MPI_Status st;
    int got = 0;
    CHECK(MPI_Sendrecv(pb, ppos, MPI_PACKED, right, 6, pb2, psz + psz2, MPI_PACKED, left, 6,
                       MPI_COMM_WORLD, &st));
    CHECK(MPI_Get_count(&st, MPI_PACKED, &got));
    memset(q, 0, sizeof q);
    long gm[4], wm[4];
    CHECK(MPI_Unpack(pb2, got, &upos, q, NP, tpart, MPI_COMM_WORLD));
    CHECK(MPI_Unpack(pb2, got, &upos, gm, 1, tmat, MPI_COMM_WORLD));
    mat(wm, left, r);
    EXPECT(same_part(q, w, NP) && !memcmp(gm, wm, sizeof wm), "round %d: MPI_PACKED from %d", r, left);
    mixparts(q, NP);
    free(pb);
    free(pb2);
}

/* to rank k: k%3 == 0 the structs, 1 every other long of 2*NP (a vector), 2 ints by index */
static void alltoallw(int r)
{
    int n = np;
    MPI_Datatype tvec, tidx;
    int bl[3] = { 1, 2, 1 }, dis[3] = { 0, 3, 7 };
    CHECK(MPI_Type_vector(NP, 1, 2, MPI_LONG, &tvec));
    CHECK(MPI_Type_commit(&tvec));
    CHECK(MPI_Type_indexed(3, bl, dis, MPI_INT, &tidx));
    CHECK(MPI_Type_commit(&tidx));
    /* one slot of 256 bytes per peer each way (enough for every kind) */
    char *sb = calloc((size_t)n, 256), *rb = calloc((size_t)n, 256);
    int *sc = malloc(sizeof(int) * (size_t)n), *sd = malloc(sizeof(int) * (size_t)n);
    int *rc = malloc(sizeof(int) * (size_t)n);
    MPI_Datatype *st = malloc(sizeof(MPI_Datatype) * (size_t)n), *rt = malloc(sizeof(MPI_Datatype) * (size_t)n);
    for (int k = 0; k < n; k++) {
        int kind = (k + r) % 3; /* what I send to k, and k's kind decides what k receives */
        sd[k] = k * 256;
        sc[k] = kind == 0 ? NP : 1;
        st[k] = kind == 0 ? tpart : kind == 1 ? tvec : tidx;
        char *slot = sb + k * 256;
        if (kind == 0)
            fill((struct part *)slot, me, r + k);
        else if (kind == 1)
            for (int i = 0; i < 2 * NP; i++)
                ((long *)slot)[i] = (long)cc_hash(me, k, r * 16 + i);
        else
            for (int i = 0; i < 8; i++)
                ((int *)slot)[i] = (int)(cc_hash(me, k, r * 16 + i) % 100000);
    }
    /* I receive from every rank the kind (me + r) % 3, into slot s of that kind */
    int mykind = (me + r) % 3;
    for (int k = 0; k < n; k++) {
        rt[k] = mykind == 0 ? tpart : mykind == 1 ? tvec : tidx;
        rc[k] = mykind == 0 ? NP : 1;
    }
    MPI_Request q;
    CHECK(MPI_Ialltoallw(sb, sc, sd, st, rb, rc, sd, rt, MPI_COMM_WORLD, &q));
    long one = 1, tot = 0;
    CHECK(MPI_Allreduce(&one, &tot, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));
    CHECK(MPI_Wait(&q, MPI_STATUS_IGNORE));
    long bad = 0;
    for (int k = 0; k < n; k++) {
        char *slot = rb + k * 256;
        if (mykind == 0) {
            struct part w[NP];
            fill(w, k, r + me);
            bad += !same_part((struct part *)slot, w, NP);
            mixparts((struct part *)slot, NP);
        } else if (mykind == 1) {
            for (int i = 0; i < 2 * NP; i++) {
                long v = i % 2 ? 0 : (long)cc_hash(k, me, r * 16 + i);
                bad += ((long *)slot)[i] != v;
            }
            mix(slot, sizeof(long) * 2 * NP);
        } else {
            for (int i = 0; i < 8; i++) {
                int in = i == 0 || i == 3 || i == 4 || i == 7;
                int v = in ? (int)(cc_hash(k, me, r * 16 + i) % 100000) : 0;
                bad += ((int *)slot)[i] != v;
            }
            mix(slot, sizeof(int) * 8);
        }
    }
    EXPECT(bad == 0 && tot == np, "round %d: Ialltoallw, %ld slots wrong", r, bad);
    CHECK(MPI_Type_free(&tvec));
    CHECK(MPI_Type_free(&tidx));
    free(sb), free(rb), free(sc), free(rc), free(sd), free(st), free(rt);
}

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    tpart = part_type(0);
    CHECK(MPI_Type_contiguous(4, MPI_LONG, &tmat));
    {   /* the positions only: 3 doubles, every struct */
        MPI_Datatype t;
        int bl = 3;
        MPI_Aint d = offsetof(struct part, x);
        MPI_Datatype dd = MPI_DOUBLE;
        CHECK(MPI_Type_create_struct(1, &bl, &d, &dd, &t));
        CHECK(MPI_Type_create_resized(t, 0, sizeof(struct part), &tpos));
        CHECK(MPI_Type_free(&t));
        CHECK(MPI_Type_commit(&tpos));
    }
    CHECK(MPI_Type_commit(&tmat));
    CHECK(MPI_Op_create(psum, 1, &opsum));
    CHECK(MPI_Op_create(matmul, 0, &opmat));
    const char *names[] = { "reductions", "packing", "alltoallw" };
    sections_start();
    for (int r = 0; r < rounds; r++) {
        section(0);
        reductions(r);
        section(1);
        packing(r);
        section(2);
        alltoallw(r);
    }
    section(0);
    report_sections(names, 3);
    CHECK(MPI_Op_free(&opsum));
    CHECK(MPI_Op_free(&opmat));
    CHECK(MPI_Type_free(&tpart));
    CHECK(MPI_Type_free(&tmat));
    CHECK(MPI_Type_free(&tpos));
    cc_finish();
    MPI_Finalize();
    return 0;
}
