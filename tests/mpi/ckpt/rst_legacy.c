/* The MPI-1 calls that MPI-2 deprecated and MPI-3 removed, and keyvals freed while attributes
 * still use them, across restarts (rst_legacy.sh). Built as an old code is built: against Open
 * MPI 4.1's mpi.h with its MPI-1 declarations asked for (OMPI_OMIT_MPI1_COMPAT_DECLS=0).
 *
 *   rst_legacy STEPS [DIR CKPT_STEP[,CKPT_STEP2] [--exit]]
 *
 * Before the steps: a keyval of MPI_Keyval_create (the program's copy and delete callbacks) with
 * attributes put by MPI_Attr_put on MPI_COMM_WORLD and on a duplicate; an error handler of
 * MPI_Errhandler_create set on the duplicate by MPI_Errhandler_set and read back by
 * MPI_Errhandler_get after the program freed its own handle, the one read back kept across the
 * snapshots (a restart gets it again: it was "made by no recorded call" before), and the same
 * with a window's and a file's error handler (MPI_Win_get_errhandler, MPI_File_get_errhandler;
 * the file in $TMPDIR, removed at the end); datatypes of MPI_Type_struct (displacements from MPI_Address),
 * MPI_Type_hvector and MPI_Type_hindexed, and one of MPI_Type_struct with the MPI_LB and MPI_UB
 * markers; two keyvals freed while an attribute still uses them
 * (one by MPI_Comm_free_keyval, one by MPI_Keyval_free: the standard keeps them until the last
 * attribute is deleted) and one freed without attributes. Every step reads the attributes
 * (MPI_Attr_get), replaces one (MPI_Attr_delete + MPI_Attr_put: the delete callback), duplicates
 * the communicators that carry attributes of the freed keyvals and frees the duplicates (their
 * copy and delete callbacks run), calls the three error handlers and reads them back, exchanges data with the three
 * datatypes and reads their MPI_Type_extent, _lb and _ub. At the end the objects are freed: the
 * freed keyvals' last attributes go with them (their delete callbacks print the values).
 * Rank 0 prints one line per step and the final lines: they equal an uninterrupted run's. */
#define _GNU_SOURCE
#define OMPI_OMIT_MPI1_COMPAT_DECLS 0 /* Open MPI: declare the MPI-1 calls, as old codes ask */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rst_step.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* MPI_LB and MPI_UB: Open MPI 4.1's mpi.h defines them only in a library built with its MPI-1
 * compatibility, but libmpi has the objects, which a program built that way refers to */
#ifdef OPEN_MPI
extern struct ompi_predefined_datatype_t ompi_mpi_lb, ompi_mpi_ub;
#define LEGACY_LB ((MPI_Datatype)&ompi_mpi_lb)
#define LEGACY_UB ((MPI_Datatype)&ompi_mpi_ub)
#else
#define LEGACY_LB MPI_LB
#define LEGACY_UB MPI_UB
#endif

const char rst_name[] = "rst_legacy";

static int rank, size;
static int kl, kf, kg;          /* MPI_Keyval_create's; freed with attributes (two) */
static int kf_num, kg_num;      /* the freed keyvals' numbers, for the callbacks' checks */
static int xs_l, xs_f, xs_g;    /* extra states */
static MPI_Comm cd, cf, cg;     /* carry attributes of kl, kf, kg */
static MPI_Comm co;             /* without attributes: a window and a file made on it */
static MPI_Win win;             /* error handlers read back after a free */
static MPI_File fh;
static long copies, dels, delsum, bad, handled;

static int legacy_copy(MPI_Comm old, int kv, void *xs, void *in, void *out, int *flag)
{
    (void)old;
    if (kv != kl || xs != &xs_l)
        bad++;
    copies++;
    *(void **)out = (void *)((intptr_t)in + 1000);
    *flag = 1;
    return MPI_SUCCESS;
}

static int legacy_del(MPI_Comm c, int kv, void *val, void *xs)
{
    (void)c;
    if (kv != kl || xs != &xs_l)
        bad++;
    dels++;
    delsum += (intptr_t)val;
    return MPI_SUCCESS;
}

/* the freed keyvals' callbacks: given the number the keyval had */
static int freed_copy(MPI_Comm old, int kv, void *xs, void *in, void *out, int *flag)
{
    (void)old;
    if ((xs == &xs_f && kv != kf_num) || (xs == &xs_g && kv != kg_num) || (xs != &xs_f && xs != &xs_g))
        bad++;
    copies++;
    *(void **)out = (void *)((intptr_t)in + 10);
    *flag = 1;
    return MPI_SUCCESS;
}

static int freed_del(MPI_Comm c, int kv, void *val, void *xs)
{
    (void)c;
    if ((xs == &xs_f && kv != kf_num) || (xs == &xs_g && kv != kg_num) || (xs != &xs_f && xs != &xs_g))
        bad++;
    dels++;
    delsum += (intptr_t)val;
    return MPI_SUCCESS;
}

static void handler(MPI_Comm *c, int *code, ...)
{
    if (*c != cd)
        bad++;
    handled += *code;
}

static void win_handler(MPI_Win *w, int *code, ...)
{
    if (*w != win)
        bad++;
    handled += 100 * *code;
}

static void file_handler(MPI_File *f, int *code, ...)
{
    if (*f != fh)
        bad++;
    handled += 10000 * *code;
}

/* h, read back from the object, is the kept handle `kept`; the read handle is freed */
static int same_eh(MPI_Errhandler h, MPI_Errhandler kept)
{
    int same = h == kept;
    CHECK(MPI_Errhandler_free(&h));
    return same;
}

static long get(MPI_Comm c, int kv)
{
    void *v = NULL;
    int flag = 0;
    CHECK(MPI_Attr_get(c, kv, &v, &flag));
    return flag ? (long)(intptr_t)v : -1;
}

struct rec {
    int i[2];
    double d;
    char c[3];
};

int main(int argc, char **argv)
{
    struct rst_args args = rst_start(&argc, &argv, 1, "", &rank, &size);

    /* before any attribute: MPICH's window and file duplicate their communicator, copying the
     * attributes with callbacks; a restart makes them again before the attributes, so those
     * copies would not be deleted at MPI_Win_free and MPI_File_close as natively */
    CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &co));
    /* attributes through the MPI-1 calls */
    CHECK(MPI_Keyval_create(legacy_copy, legacy_del, &kl, &xs_l));
    CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &cd));
    CHECK(MPI_Attr_put(MPI_COMM_WORLD, kl, (void *)(intptr_t)(10 + rank)));
    CHECK(MPI_Attr_put(cd, kl, (void *)(intptr_t)(20 + rank)));
    /* keyvals freed while an attribute uses them, and one freed without */
    CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &cf));
    CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &cg));
    CHECK(MPI_Comm_create_keyval(freed_copy, freed_del, &kf, &xs_f));
    CHECK(MPI_Keyval_create(freed_copy, freed_del, &kg, &xs_g));
    kf_num = kf;
    kg_num = kg;
    CHECK(MPI_Comm_set_attr(cf, kf, (void *)(intptr_t)(300 + rank)));
    CHECK(MPI_Attr_put(cg, kg, (void *)(intptr_t)(400 + rank)));
    CHECK(MPI_Comm_free_keyval(&kf));
    CHECK(MPI_Keyval_free(&kg));
    int ke, kn;
    CHECK(MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, MPI_COMM_NULL_DELETE_FN, &ke, NULL));
    CHECK(MPI_Comm_free_keyval(&ke));
    CHECK(MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, MPI_COMM_NULL_DELETE_FN, &kn, NULL));
    int reused = kn == kf_num || kn == kg_num; /* a keyval still in use keeps its number */
    CHECK(MPI_Comm_free_keyval(&kn));
    if (rank == 0)
        printf("setup: freed keyvals invalid %d, numbers reused %d\n",
               kf == MPI_KEYVAL_INVALID && kg == MPI_KEYVAL_INVALID && ke == MPI_KEYVAL_INVALID, reused);
    /* an error handler through the MPI-1 calls */
    MPI_Errhandler eh, eh2;
    CHECK(MPI_Errhandler_create(handler, &eh));
    CHECK(MPI_Errhandler_set(cd, eh));
    CHECK(MPI_Errhandler_free(&eh));
    CHECK(MPI_Errhandler_get(cd, &eh2)); /* kept across the snapshots */
    /* the same with a window's and a file's error handler */
    /* (MPI_Win_allocate: Open MPI 4.1 makes no MPI_Win_create window on one rank, and its
     * MPI_Win_allocate window of one rank is heap memory, which a restart cannot put back) */
#ifdef OPEN_MPI
    int with_win = size > 1;
#else
    int with_win = 1;
#endif
    int *wbuf;
    MPI_Errhandler weh, weh2 = MPI_ERRHANDLER_NULL, feh, feh2;
    if (with_win) {
        CHECK(MPI_Win_allocate(4 * sizeof(int), sizeof(int), MPI_INFO_NULL, co, &wbuf, &win));
        CHECK(MPI_Win_create_errhandler(win_handler, &weh));
        CHECK(MPI_Win_set_errhandler(win, weh));
        CHECK(MPI_Errhandler_free(&weh));
        CHECK(MPI_Win_get_errhandler(win, &weh2)); /* kept across the snapshots */
    }
    char fpath[4096];
    snprintf(fpath, sizeof fpath, "%s/rst_legacy.eh", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    CHECK(MPI_File_open(co, fpath, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL, &fh));
    CHECK(MPI_File_create_errhandler(file_handler, &feh));
    CHECK(MPI_File_set_errhandler(fh, feh));
    CHECK(MPI_Errhandler_free(&feh));
    CHECK(MPI_File_get_errhandler(fh, &feh2)); /* kept across the snapshots */
    /* datatypes through the MPI-1 calls */
    struct rec r[2];
    MPI_Aint a0, a1, a2, base;
    CHECK(MPI_Address(&r[0], &base));
    CHECK(MPI_Address(&r[0].i, &a0));
    CHECK(MPI_Address(&r[0].d, &a1));
    CHECK(MPI_Address(&r[0].c, &a2));
    int bl[3] = { 2, 1, 3 };
    MPI_Aint disp[3] = { a0 - base, a1 - base, a2 - base };
    MPI_Datatype types[3] = { MPI_INT, MPI_DOUBLE, MPI_CHAR }, ts, th, tx;
    CHECK(MPI_Type_struct(3, bl, disp, types, &ts));
    CHECK(MPI_Type_hvector(3, 2, 5 * sizeof(int), MPI_INT, &th));
    int hbl[2] = { 1, 3 };
    MPI_Aint hd[2] = { 4 * sizeof(double), 0 };
    CHECK(MPI_Type_hindexed(2, hbl, hd, MPI_DOUBLE, &tx));
    /* bounds set by the MPI-1 markers: one int at 0, lower bound -8, upper bound 40 */
    int mbl[3] = { 1, 1, 1 };
    MPI_Aint md[3] = { -8, 0, 40 };
    MPI_Datatype mt[3] = { LEGACY_LB, MPI_INT, LEGACY_UB }, tm;
    CHECK(MPI_Type_struct(3, mbl, md, mt, &tm));
    CHECK(MPI_Type_commit(&ts));
    CHECK(MPI_Type_commit(&th));
    CHECK(MPI_Type_commit(&tx));
    CHECK(MPI_Type_commit(&tm));

    for (int s = 0; s < args.steps; s++) {
        long v = get(MPI_COMM_WORLD, kl) + 3 * get(cd, kl);
        CHECK(MPI_Attr_delete(cd, kl));
        CHECK(MPI_Attr_put(cd, kl, (void *)(intptr_t)(20 + rank + s + 1)));
        /* the freed keyvals' attributes are copied with their communicators and deleted */
        MPI_Comm t1, t2;
        CHECK(MPI_Comm_dup(cf, &t1));
        CHECK(MPI_Comm_dup(cg, &t2));
        CHECK(MPI_Comm_free(&t1));
        CHECK(MPI_Comm_free(&t2));
        /* the error handler, as set and as read back */
        CHECK(MPI_Comm_call_errhandler(cd, 5 + s));
        MPI_Errhandler cur, cur2;
        CHECK(MPI_Errhandler_get(cd, &cur));
        CHECK(MPI_Comm_get_errhandler(cd, &cur2));
        int same = same_eh(cur, eh2) & same_eh(cur2, eh2);
        if (with_win) {
            CHECK(MPI_Win_call_errhandler(win, 7 + s));
            CHECK(MPI_Win_get_errhandler(win, &cur));
            same &= same_eh(cur, weh2);
        } else {
            handled += 100 * (7 + s);
        }
        CHECK(MPI_File_call_errhandler(fh, 9 + s));
        CHECK(MPI_File_get_errhandler(fh, &cur));
        same &= same_eh(cur, feh2);
        /* the datatypes at work: rank 0's data to everyone */
        for (int k = 0; k < 2; k++) {
            r[k].i[0] = rank == 0 ? 7 * s + k : -1;
            r[k].i[1] = rank == 0 ? 11 * s : -1;
            r[k].d = rank == 0 ? 0.5 * s : -1;
            memcpy(r[k].c, rank == 0 ? "ab" : "zz", 3);
        }
        int iv[15];
        double dv[8];
        for (int k = 0; k < 15; k++)
            iv[k] = rank == 0 ? k * (s + 1) : 0;
        for (int k = 0; k < 8; k++)
            dv[k] = rank == 0 ? k + 0.25 * s : 0;
        CHECK(MPI_Bcast(r, 1, ts, 0, cd));
        CHECK(MPI_Bcast(iv, 1, th, 0, MPI_COMM_WORLD));
        CHECK(MPI_Bcast(dv, 1, tx, 0, MPI_COMM_WORLD));
        int mv[40];
        for (int k = 0; k < 40; k++)
            mv[k] = rank == 0 ? 3 * k + s : -1;
        CHECK(MPI_Bcast(mv + 2, 3, tm, 0, MPI_COMM_WORLD)); /* ints 2, 14 and 26 */
        long dsum = r[0].i[0] + r[0].i[1] + (long)(r[0].d * 4) + r[0].c[0] + r[0].c[1];
        for (int k = 0; k < 15; k++)
            dsum += (long)iv[k] * (k + 1);
        for (int k = 0; k < 8; k++)
            dsum += (long)(dv[k] * 4) * (k + 1);
        for (int k = 0; k < 40; k++)
            dsum += (long)mv[k] * (k + 1);
        MPI_Aint ext[4], lb[4], ub[4];
        MPI_Datatype all[4] = { ts, th, tx, tm };
        for (int k = 0; k < 4; k++) {
            CHECK(MPI_Type_extent(all[k], &ext[k]));
            CHECK(MPI_Type_lb(all[k], &lb[k]));
            CHECK(MPI_Type_ub(all[k], &ub[k]));
        }
        long tv = rst_total(v), tc = rst_total(copies), td = rst_total(dels);
        long tds = rst_total(delsum), th_ = rst_total(handled), tb = rst_total(bad);
        long tsame = rst_total(same), tdata = rst_total(dsum);
        if (rank == 0)
            printf("step %d: values %ld copies %ld deletes %ld (sum %ld) handled %ld same %ld data %ld "
                   "extents %ld/%ld/%ld/%ld lb %ld/%ld/%ld/%ld ub %ld/%ld/%ld/%ld wrong %ld\n",
                   s, tv, tc, td, tds, th_, tsame, tdata, (long)ext[0], (long)ext[1], (long)ext[2],
                   (long)ext[3], (long)lb[0], (long)lb[1], (long)lb[2], (long)lb[3], (long)ub[0],
                   (long)ub[1], (long)ub[2], (long)ub[3], tb);
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        rst_step_end(&args, s);
    }
    /* the freed keyvals' last attributes go with their communicators */
    long before = dels;
    CHECK(MPI_Comm_free(&cf));
    CHECK(MPI_Comm_free(&cg));
    long last = dels - before;
    CHECK(MPI_Errhandler_free(&eh2));
    if (with_win) {
        CHECK(MPI_Win_free(&win));
        CHECK(MPI_Errhandler_free(&weh2));
    }
    CHECK(MPI_File_close(&fh));
    CHECK(MPI_Errhandler_free(&feh2));
    CHECK(MPI_Comm_free(&co));
    if (rank == 0)
        CHECK(MPI_File_delete(fpath, MPI_INFO_NULL));
    CHECK(MPI_Type_free(&ts));
    CHECK(MPI_Type_free(&th));
    CHECK(MPI_Type_free(&tx));
    CHECK(MPI_Type_free(&tm));
    CHECK(MPI_Comm_free(&cd));
    CHECK(MPI_Attr_delete(MPI_COMM_WORLD, kl));
    CHECK(MPI_Keyval_free(&kl));
    /* a keyval made after them all */
    CHECK(MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, MPI_COMM_NULL_DELETE_FN, &kn, NULL));
    CHECK(MPI_Comm_free_keyval(&kn));
    long tc = rst_total(copies), td = rst_total(dels), tds = rst_total(delsum), tb = rst_total(bad);
    long tl = rst_total(last);
    if (rank == 0)
        printf("done: copies %ld deletes %ld (sum %ld) last deletes of freed keyvals %ld wrong %ld; "
               "keyval freed %d\n", tc, td, tds, tl, tb, kl == MPI_KEYVAL_INVALID);
    CHECK(MPI_Finalize());
    return 0;
}
