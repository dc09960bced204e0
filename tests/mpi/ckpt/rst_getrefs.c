/* rst_getrefs STEPS PACEFILE MS (rst_getrefs.sh FLAVOR): every kind of handle a call hands out
 * with a new reference the program must free, got K times before the snapshot, one copy of each
 * freed before it, the others used at every step and all freed at the end, after the restart:
 * the error handlers of a communicator (one the program still holds, one it freed once it was
 * set), a window and a file (MPI_Comm/Win/File_get_errhandler: the library hands out the same
 * handle again, one more reference each time), the groups (MPI_Comm_group, MPI_Win_get_group,
 * MPI_File_get_group) and infos (MPI_Comm/Win/File_get_info) of the three, a struct's derived
 * member (MPI_Type_get_contents) and a view's derived etype and filetype (MPI_File_get_view).
 * Each step also gets each error handler once more and frees it. The end frees every copy, uses
 * the communicator, window and file and their error handlers once more, frees them and makes and
 * frees more objects of each kind: a handle freed once more than the library counts is an
 * assertion (MPICH: "ref_count >= 0") or a corrupted heap (Open MPI). Before session 47 a restart
 * made one library reference of a handle the program held K times (the layer counted the others
 * itself, but every free of the program reached the library): MPICH aborted at the second free. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rst_describe.h"
#include "rst_pace.h"

#define K 3 /* copies of each handle got before the snapshot; copy 1 is freed before it */

static long calls[3]; /* the error handlers' codes summed: communicator, window, file */

static void on_comm(MPI_Comm *c, int *code, ...)
{
    (void)c;
    calls[0] += *code;
}

static void on_win(MPI_Win *w, int *code, ...)
{
    (void)w;
    calls[1] += *code;
}

static void on_file(MPI_File *f, int *code, ...)
{
    (void)f;
    calls[2] += *code;
}

/* the copies of every kind the program holds */
enum { E_COMM, E_COMM2, E_WIN, E_FILE, NEH };
enum { G_COMM, G_WIN, G_FILE, NOBJ };
static MPI_Errhandler eh[NEH][K];
static MPI_Group grp[NOBJ][K];
static MPI_Info inf[NOBJ][K];
static MPI_Datatype member[K], etype[K], ftype[K];
static MPI_Comm c;
static MPI_Win w;
static MPI_File fh;
static int *wbuf;

static void check(int rc, const char *what)
{
    if (rc != MPI_SUCCESS) {
        fprintf(stderr, "rst_getrefs: %s failed\n", what);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
}

/* every copy got (copy 0 of E_COMM is the program's own, made by MPI_Comm_create_errhandler) */
static void get_all(void)
{
    MPI_Errhandler mine;
    check(MPI_Comm_create_errhandler(on_comm, &eh[E_COMM][0]), "MPI_Comm_create_errhandler");
    check(MPI_Comm_set_errhandler(c, eh[E_COMM][0]), "MPI_Comm_set_errhandler");
    MPI_Comm_create_errhandler(on_comm, &mine);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, mine);
    MPI_Errhandler_free(&mine); /* the program's own handle gone: the first get is new */
    MPI_Win_create_errhandler(on_win, &mine);
    MPI_Win_set_errhandler(w, mine);
    MPI_Errhandler_free(&mine);
    MPI_File_create_errhandler(on_file, &mine);
    MPI_File_set_errhandler(fh, mine);
    MPI_Errhandler_free(&mine);
    for (int k = 0; k < K; k++) {
        if (k > 0)
            check(MPI_Comm_get_errhandler(c, &eh[E_COMM][k]), "MPI_Comm_get_errhandler");
        check(MPI_Comm_get_errhandler(MPI_COMM_SELF, &eh[E_COMM2][k]), "MPI_Comm_get_errhandler");
        check(MPI_Win_get_errhandler(w, &eh[E_WIN][k]), "MPI_Win_get_errhandler");
        check(MPI_File_get_errhandler(fh, &eh[E_FILE][k]), "MPI_File_get_errhandler");
        check(MPI_Comm_group(c, &grp[G_COMM][k]), "MPI_Comm_group");
        check(MPI_Win_get_group(w, &grp[G_WIN][k]), "MPI_Win_get_group");
        check(MPI_File_get_group(fh, &grp[G_FILE][k]), "MPI_File_get_group");
        check(MPI_Comm_get_info(c, &inf[G_COMM][k]), "MPI_Comm_get_info");
        check(MPI_Win_get_info(w, &inf[G_WIN][k]), "MPI_Win_get_info");
        check(MPI_File_get_info(fh, &inf[G_FILE][k]), "MPI_File_get_info");
    }
    /* a struct of a vector the program frees: its member handed out K times */
    MPI_Datatype vec, st, types[2];
    MPI_Type_vector(2, 1, 3, MPI_INT, &vec);
    int bl[2] = {1, 1}, is[8];
    MPI_Aint disp[2] = {0, 48}, as[8];
    types[0] = vec;
    types[1] = MPI_INT;
    MPI_Type_create_struct(2, bl, disp, types, &st);
    MPI_Type_free(&vec);
    for (int k = 0; k < K; k++) {
        MPI_Datatype out[2];
        check(MPI_Type_get_contents(st, 8, 8, 2, is, as, out), "MPI_Type_get_contents");
        member[k] = out[0];
        MPI_Type_commit(&member[k]);
    }
    MPI_Type_free(&st);
    /* a view of derived etype and filetype the program frees: handed out K times */
    MPI_Datatype et, ft;
    MPI_Type_contiguous(2, MPI_INT, &et);
    MPI_Type_commit(&et);
    MPI_Type_vector(2, 1, 2, et, &ft);
    MPI_Type_commit(&ft);
    check(MPI_File_set_view(fh, 0, et, ft, "native", MPI_INFO_NULL), "MPI_File_set_view");
    MPI_Type_free(&ft);
    MPI_Type_free(&et);
    for (int k = 0; k < K; k++) {
        MPI_Offset d;
        char rep[MPI_MAX_DATAREP_STRING];
        check(MPI_File_get_view(fh, &d, &etype[k], &ftype[k], rep), "MPI_File_get_view");
    }
}

/* copy k of every kind freed (the error handlers of E_COMM: copy 0 is the program's own) */
static void free_copy(int k)
{
    for (int e = 0; e < NEH; e++)
        check(MPI_Errhandler_free(&eh[e][k]), "MPI_Errhandler_free");
    for (int o = 0; o < NOBJ; o++) {
        check(MPI_Group_free(&grp[o][k]), "MPI_Group_free");
        check(MPI_Info_free(&inf[o][k]), "MPI_Info_free");
    }
    check(MPI_Type_free(&member[k]), "MPI_Type_free");
    check(MPI_Type_free(&etype[k]), "MPI_Type_free");
    check(MPI_Type_free(&ftype[k]), "MPI_Type_free");
}

/* every copy still held used: the same handle for each error handler, groups alike, the infos'
 * key counts alike, each type's description and a message of it; one more copy of each error
 * handler got and freed; the communicator's, window's and file's error handlers called */
static unsigned long long use_all(const struct rst_run *r, int s, unsigned long long acc)
{
    int k0 = -1;
    for (int k = 0; k < K; k++) {
        if (member[k] == MPI_DATATYPE_NULL)
            continue; /* freed */
        if (k0 < 0)
            k0 = k;
        for (int e = 0; e < NEH; e++)
            acc = rst_mix(acc, eh[e][k] == eh[e][k0]);
        for (int o = 0; o < NOBJ; o++) {
            int cmp, n, n0, sz;
            MPI_Group_compare(grp[o][k], grp[G_COMM][k0], &cmp);
            MPI_Group_size(grp[o][k], &sz);
            MPI_Info_get_nkeys(inf[o][k], &n);
            MPI_Info_get_nkeys(inf[o][k0], &n0);
            acc = rst_mix(rst_mix(rst_mix(acc, (unsigned long long)(cmp == MPI_IDENT)),
                                  (unsigned long long)sz),
                          n == n0);
        }
        acc = rst_describe(member[k], rst_describe(etype[k], rst_describe(ftype[k], acc)));
        int d[32], o[32] = {0}; /* extents: member 4 ints, ftype 6 */
        for (int i = 0; i < 32; i++)
            d[i] = s * 100 + i + r->me;
        MPI_Sendrecv(d, 1, member[k], r->right, k, o, 1, member[k], r->left, k, c, MPI_STATUS_IGNORE);
        MPI_Sendrecv(d, 2, ftype[k], r->right, K + k, o + 8, 2, ftype[k], r->left, K + k, c,
                     MPI_STATUS_IGNORE);
        for (int i = 0; i < 32; i++)
            acc = rst_mix(acc, (unsigned long long)o[i]);
    }
    MPI_Errhandler g[NEH];
    MPI_Comm_get_errhandler(c, &g[E_COMM]);
    MPI_Comm_get_errhandler(MPI_COMM_SELF, &g[E_COMM2]);
    MPI_Win_get_errhandler(w, &g[E_WIN]);
    MPI_File_get_errhandler(fh, &g[E_FILE]);
    for (int e = 0; e < NEH; e++) {
        if (k0 >= 0)
            acc = rst_mix(acc, g[e] == eh[e][k0]);
        check(MPI_Errhandler_free(&g[e]), "MPI_Errhandler_free");
    }
    MPI_Comm_call_errhandler(c, s);
    MPI_Comm_call_errhandler(MPI_COMM_SELF, 2 * s);
    MPI_Win_call_errhandler(w, 3 * s);
    MPI_File_call_errhandler(fh, 4 * s);
    return rst_mix(rst_mix(rst_mix(acc, (unsigned long long)calls[0]), (unsigned long long)calls[1]),
               (unsigned long long)calls[2]);
}

/* more objects of each kind made and freed: a heap the extra frees corrupted shows here */
static unsigned long long churn(unsigned long long acc)
{
    for (int i = 0; i < 8; i++) {
        MPI_Errhandler e;
        MPI_Group g;
        MPI_Info in;
        MPI_Datatype t;
        MPI_Comm d;
        int sz;
        MPI_Comm_create_errhandler(on_comm, &e);
        MPI_Comm_group(MPI_COMM_WORLD, &g);
        MPI_Info_create(&in);
        MPI_Info_set(in, "rst_getrefs", "1");
        MPI_Type_contiguous(i + 1, MPI_INT, &t);
        MPI_Type_commit(&t);
        MPI_Comm_dup(MPI_COMM_WORLD, &d);
        MPI_Comm_set_errhandler(d, e);
        MPI_Type_size(t, &sz);
        acc = rst_mix(acc, (unsigned long long)sz);
        MPI_Comm_free(&d);
        MPI_Type_free(&t);
        MPI_Info_free(&in);
        MPI_Group_free(&g);
        MPI_Errhandler_free(&e);
    }
    return acc;
}

int main(int argc, char **argv)
{
    struct rst_run r = rst_begin(&argc, &argv, "rst_getrefs");
    MPI_Comm_dup(MPI_COMM_WORLD, &c);
    /* MPI_Win_allocate: Open MPI 4.1 refuses MPI_Win_create without a single-copy mechanism */
    check(MPI_Win_allocate(4 * sizeof(int), sizeof(int), MPI_INFO_NULL, c, &wbuf, &w), "MPI_Win_allocate");
    char path[4096];
    snprintf(path, sizeof path, "%s.dat", r.pace);
    check(MPI_File_open(c, path, MPI_MODE_CREATE | MPI_MODE_RDWR | MPI_MODE_DELETE_ON_CLOSE,
                        MPI_INFO_NULL, &fh), "MPI_File_open");
    get_all();
    unsigned long long acc = 1;
    for (int s = 1; s <= r.steps; s++) {
        if (s == 1)
            free_copy(1); /* before the snapshot */
        acc = use_all(&r, s, acc);
        rst_step_sum(&r, s, (long long)(acc % 1000000007ull));
    }
    free_copy(0);
    free_copy(2);
    acc = churn(use_all(&r, r.steps + 1, acc));
    MPI_File_close(&fh);
    MPI_Win_free(&w);
    MPI_Comm_free(&c);
    acc = churn(acc);
    rst_done_sum(&r, (long long)(acc % 1000000007ull));
    MPI_Finalize();
    return 0;
}
