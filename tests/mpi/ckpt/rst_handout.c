/* rst_handout STEPS PACEFILE MS (rst_pscw.sh FLAVOR rst_handout 2 16): datatypes the library
 * hands out of other objects, held across the snapshots and used at every step after them:
 * MPI_Type_get_contents' derived outputs (new handles the program owns and frees: MPI 4.0
 * 5.1.13), one of them taken apart again, its named and f90 outputs (returned as they are), and
 * MPI_File_get_view's derived filetype (a new handle too); the program frees the types they were
 * taken from (the struct, its vector, the view's filetype) while it keeps the outputs. Every step
 * also takes a struct apart and a view's types and frees the outputs (the record's entries of
 * freed handles die and the snapshots drop them). The view's filetype is taken apart twice, to
 * the program's vector, once before the steps (both outputs kept, the inner one used in a
 * message every step) and every step (the chain of combiners hashed): the libraries copy a
 * view's type twice, at MPI_File_set_view and at MPI_File_get_view, and a restart that made one
 * copy gave the vector's MPI_DOUBLE instead (restart refused, or other lines: diffrev46 R-H1). Before session 45 none of these handles was
 * recorded: every restart of such a job failed ("record entry 0 (MPI_Type_commit): handle
 * 0xcc000003 was not made by a recorded call", "datatype 0xcc000003 (made by no recorded call)
 * did not come back", both MPIs; diffrev45 R-H2). The lines differ between the libraries (what
 * each hands out differs): rst_pscw.sh compares each job with its own library's native run.
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rst_describe.h"
#include "rst_pace.h"

/* MPI_Type_get_contents of t: its datatypes into ds (at most 4), the count returned. The arrays
 * are passed whole, larger than the envelope's counts, as Fortran codes pass fixed arrays (MPI
 * 4.0 5.1.13: max_* are the arrays' sizes): the entries past the count must stay the program's
 * (diffrev46 R-H2: the layer's garbage there aborted MPICH and crashed Open MPI) */
static int contents(MPI_Datatype t, MPI_Datatype ds[4])
{
    int ni, na, nd, comb, is[16];
    MPI_Aint as[16];
    MPI_Type_get_envelope(t, &ni, &na, &nd, &comb);
    if (comb == MPI_COMBINER_NAMED || ni > 16 || na > 16 || nd > 4) {
        fprintf(stderr, "rst_handout: unexpected envelope %d %d %d %d\n", ni, na, nd, comb);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    for (int i = 0; i < 4; i++)
        ds[i] = MPI_DATATYPE_NULL;
    MPI_Type_get_contents(t, 16, 16, 4, is, as, ds);
    for (int i = nd; i < 4; i++)
        if (ds[i] != MPI_DATATYPE_NULL) {
            fprintf(stderr, "rst_handout: get_contents wrote entry %d of %d\n", i, nd);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    return nd;
}

static int is_named(MPI_Datatype t)
{
    int ni, na, nd, comb;
    MPI_Type_get_envelope(t, &ni, &na, &nd, &comb);
    return comb == MPI_COMBINER_NAMED;
}

/* the combiners down t's first datatype, to a named one (at most 6 levels), each output freed */
static unsigned long long chain(MPI_Datatype t, unsigned long long h)
{
    MPI_Datatype ds[4], cur = t;
    for (int depth = 0; depth < 6; depth++) {
        h = rst_describe(cur, h);
        if (is_named(cur))
            break;
        contents(cur, ds);
        if (cur != t)
            MPI_Type_free(&cur);
        cur = ds[0];
    }
    if (cur != t && !is_named(cur))
        MPI_Type_free(&cur);
    return h;
}

static MPI_Datatype make_struct(MPI_Datatype vec, MPI_Datatype f90)
{
    int bl[3] = {1, 2, 1};
    MPI_Aint dp[3] = {0, 64, 96};
    MPI_Datatype ts[3] = {vec, f90, MPI_INT}, st;
    MPI_Type_create_struct(3, bl, dp, ts, &st);
    return st;
}

int main(int argc, char **argv)
{
    struct rst_run r = rst_begin(&argc, &argv, "rst_handout");
    MPI_Datatype f90, vec, st, out[4], inner[4], et, ft, mine;
    MPI_Type_create_f90_real(15, 300, &f90);
    MPI_Type_vector(2, 1, 2, MPI_DOUBLE, &vec);
    st = make_struct(vec, f90);
    if (contents(st, out) != 3) {
        fprintf(stderr, "rst_handout: the struct gave no 3 datatypes\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    /* out[0]: a vector of the program's own now (it frees its vector and struct); taken apart
     * in turn (MPI_DOUBLE, named); out[1] the f90 real, out[2] MPI_INT */
    MPI_Type_free(&st);
    MPI_Type_free(&vec);
    MPI_Type_commit(&out[0]);
    contents(out[0], inner);
    MPI_Datatype vec2;
    MPI_Type_contiguous(2, out[0], &vec2); /* a type made from a handed-out one */
    MPI_Type_commit(&vec2);

    char path[4096];
    snprintf(path, sizeof path, "%s.dat", r.pace);
    MPI_File fh;
    MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_CREATE | MPI_MODE_RDWR | MPI_MODE_DELETE_ON_CLOSE,
                  MPI_INFO_NULL, &fh);
    MPI_Type_vector(3, 1, 3, MPI_DOUBLE, &mine);
    MPI_Type_commit(&mine);
    MPI_File_set_view(fh, 0, MPI_DOUBLE, mine, "native", MPI_INFO_NULL);
    MPI_Type_free(&mine);
    MPI_Offset disp;
    char rep[MPI_MAX_DATAREP_STRING];
    MPI_File_get_view(fh, &disp, &et, &ft, rep); /* ft: derived, kept; et: MPI_DOUBLE */
    MPI_Datatype d1[4], d2[4]; /* ft taken apart twice, both kept: d2 natively the vector */
    contents(ft, d1);
    contents(d1[0], d2);

    unsigned long long acc = 1;
    acc = rst_mix(rst_mix(acc, is_named(et)), !is_named(ft));
    acc = rst_mix(rst_mix(acc, is_named(out[2])), is_named(inner[0]));
    for (int s = 1; s <= r.steps; s++) {
        double d[32], o[32] = {0}; /* extents: out[0] 3, ft 7, vec2 6 doubles */
        for (int i = 0; i < 32; i++)
            d[i] = s + i * 0.25 + r.me;
        MPI_Sendrecv(d, 1, out[0], r.right, 1, o, 1, out[0], r.left, 1, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
        MPI_Sendrecv(d + 4, 2, out[1], r.right, 2, o + 4, 2, out[1], r.left, 2, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
        MPI_Sendrecv(d + 8, 1, ft, r.right, 3, o + 8, 1, ft, r.left, 3, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
        MPI_Sendrecv(d, 1, vec2, r.right, 4, o + 16, 1, vec2, r.left, 4, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
        MPI_Sendrecv(d + 24, 1, d2[0], r.right, 5, o + 24, 1, d2[0], r.left, 5, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE);
        for (int i = 0; i < 32; i++)
            acc = rst_mix(acc, (unsigned long long)(o[i] * 4));
        acc = rst_describe(out[0], rst_describe(out[1], rst_describe(out[2], acc)));
        acc = rst_describe(inner[0], rst_describe(ft, rst_describe(et, rst_describe(vec2, acc))));
        acc = rst_describe(d1[0], rst_describe(d2[0], acc));
        /* the same taken apart and freed again every step: entries that die */
        MPI_Datatype st2 = make_struct(out[0], out[1]), tmp[4], e2, f2;
        contents(st2, tmp);
        acc = rst_describe(tmp[0], acc);
        if (!is_named(tmp[0]))
            MPI_Type_free(&tmp[0]);
        MPI_Type_free(&st2);
        MPI_File_get_view(fh, &disp, &e2, &f2, rep);
        acc = chain(f2, rst_describe(f2, acc));
        MPI_Type_free(&f2);
        rst_step_sum(&r, s, (long long)(acc % 1000000007ull));
    }
    MPI_File_close(&fh);
    MPI_Type_free(&d2[0]);
    MPI_Type_free(&d1[0]);
    MPI_Type_free(&ft);
    MPI_Type_free(&vec2);
    MPI_Type_free(&out[0]);
    rst_done_sum(&r, (long long)(acc % 1000000007ull));
    MPI_Finalize();
    return 0;
}
