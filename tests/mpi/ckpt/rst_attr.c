/* Attributes across a restart (rst_attr.sh): keyvals of communicators, datatypes and windows
 * with the program's copy and delete callbacks (and one with MPI's predefined ones), attributes
 * on MPI_COMM_WORLD, MPI_COMM_SELF, a duplicated communicator, a derived datatype and a window;
 * a checkpoint of its own at a step (the layer's pml_restart_capture, as rst_rma.c), the
 * restarted job going on with them.
 *
 *   rst_attr STEPS [DIR CKPT_STEP[,CKPT_STEP2] [--exit]]
 *
 * Every step reads each attribute, duplicates the communicator and the datatype (the copy
 * callbacks run) and frees the duplicates (the delete callbacks run), replaces the attributes
 * of the communicator, datatype and window (the old value's delete callback runs) and makes a
 * window of its own with an attribute and frees it. The callbacks check that they are given
 * the program's handle, keyval and extra state, and count their calls. At the end the objects are
 * freed (delete callbacks), WORLD's attribute deleted; MPI_Finalize deletes SELF's first (MPI
 * 4.0 section 11.2.4): its callback prints the last line.
 *
 * With an MPI-4 library (MPICH 4.0) it also keeps objects made by MPI-4 calls the layer wraps
 * (MPI_Type_vector_c, MPI_Type_create_resized_c, MPI_Type_create_struct_c, _subarray_c,
 * _darray_c, _indexed_block_c, _hindexed_block_c, MPI_Comm_idup_with_info) and reads an info
 * object with MPI_Info_get_string at every step: their handles survive the restarts. An info
 * object of MPI_Info_create_env must hold at every step what it held when it was made (its
 * contents are the job's: counted as a wrong handle when they differ, not printed).
 *
 * Rank 0 prints one line per step (values read, callback counts summed over the ranks, calls
 * with a wrong handle) and the final lines; they equal an uninterrupted run's. */
#define _GNU_SOURCE
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rst_step.h"

const char rst_name[] = "rst_attr";

static int rank, size;
static MPI_Comm cd = MPI_COMM_NULL;     /* the duplicated communicator */
static MPI_Datatype dt = MPI_DATATYPE_NULL;
static MPI_Win win = MPI_WIN_NULL;
static int kc, kt, kw, kp;              /* comm, type, win keyvals; kp: MPI_COMM_DUP_FN */
static int xs_c, xs_t, xs_w;            /* extra states: their addresses */
/* callback calls: copies and deletes per kind; bad = calls given something the program did not
 * have (a handle, keyval or extra state of the library's) */
static long copies[3], dels[3], bad;

#if MPI_VERSION >= 4
/* A checksum of an info object's keys and values, and how many there are. */
static long info_sum(MPI_Info info, int *nkeys)
{
    long sum = 0;
    CHECK(MPI_Info_get_nkeys(info, nkeys));
    for (int i = 0; i < *nkeys; i++) {
        char key[MPI_MAX_INFO_KEY + 1], val[1024];
        int len = sizeof val, flag = 0;
        CHECK(MPI_Info_get_nthkey(info, i, key));
        CHECK(MPI_Info_get_string(info, key, &len, val, &flag));
        for (const char *p = key; *p; p++)
            sum = sum * 31 + *p;
        for (int k = 0; flag && k < len && val[k]; k++)
            sum = sum * 37 + val[k];
    }
    return sum;
}
#endif
static long delsum;                     /* sum of the values the delete callbacks were given */

static int comm_copy(MPI_Comm old, int kv, void *xs, void *in, void *out, int *flag)
{
    if (kv != kc || xs != &xs_c || (old != cd && old != MPI_COMM_WORLD))
        bad++;
    copies[0]++;
    *(void **)out = (void *)((intptr_t)in + 1000);
    *flag = 1;
    return MPI_SUCCESS;
}

static int comm_del(MPI_Comm c, int kv, void *val, void *xs)
{
    (void)c;
    if (kv != kc || xs != &xs_c)
        bad++;
    dels[0]++;
    delsum += (intptr_t)val;
    return MPI_SUCCESS;
}

static int self_del(MPI_Comm c, int kv, void *val, void *xs)
{
    (void)kv;
    (void)xs;
    int fin = 0;
    MPI_Finalized(&fin);
    if (rank == 0)
        printf("done: SELF's attribute deleted (value %ld, self %d, finalized %d), %ld copies"
               " %ld deletes before\n", (long)(intptr_t)val, c == MPI_COMM_SELF, fin,
               copies[0] + copies[1] + copies[2], dels[0] + dels[1] + dels[2]);
    fflush(stdout);
    return MPI_SUCCESS;
}

static int type_copy(MPI_Datatype old, int kv, void *xs, void *in, void *out, int *flag)
{
    if (kv != kt || xs != &xs_t || old != dt)
        bad++;
    copies[1]++;
    *(void **)out = (void *)((intptr_t)in + 2000);
    *flag = 1;
    return MPI_SUCCESS;
}

static int type_del(MPI_Datatype t, int kv, void *val, void *xs)
{
    (void)t;
    if (kv != kt || xs != &xs_t)
        bad++;
    dels[1]++;
    delsum += (intptr_t)val;
    return MPI_SUCCESS;
}

static int win_copy(MPI_Win old, int kv, void *xs, void *in, void *out, int *flag)
{
    (void)old;
    (void)kv;
    (void)xs;
    (void)in;
    (void)out;
    copies[2]++; /* never: a window cannot be duplicated */
    *flag = 0;
    return MPI_SUCCESS;
}

static MPI_Win step_win = MPI_WIN_NULL;

static int win_del(MPI_Win w, int kv, void *val, void *xs)
{
    if (kv != kw || xs != &xs_w || (w != win && w != step_win))
        bad++;
    dels[2]++;
    delsum += (intptr_t)val;
    return MPI_SUCCESS;
}

static long get_comm(MPI_Comm c, int kv)
{
    void *v = NULL;
    int flag = 0;
    CHECK(MPI_Comm_get_attr(c, kv, &v, &flag));
    return flag ? (long)(intptr_t)v : -1;
}

static long get_type(MPI_Datatype t, int kv)
{
    void *v = NULL;
    int flag = 0;
    CHECK(MPI_Type_get_attr(t, kv, &v, &flag));
    return flag ? (long)(intptr_t)v : -1;
}

static long get_win(MPI_Win w, int kv)
{
    void *v = NULL;
    int flag = 0;
    CHECK(MPI_Win_get_attr(w, kv, &v, &flag));
    return flag ? (long)(intptr_t)v : -1;
}

int main(int argc, char **argv)
{
    struct rst_args args = rst_start(&argc, &argv, 1, "", &rank, &size);

    int ks;
    CHECK(MPI_Comm_create_keyval(comm_copy, comm_del, &kc, &xs_c));
    CHECK(MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, self_del, &ks, NULL));
    CHECK(MPI_Comm_create_keyval(MPI_COMM_DUP_FN, MPI_COMM_NULL_DELETE_FN, &kp, NULL));
    CHECK(MPI_Type_create_keyval(type_copy, type_del, &kt, &xs_t));
    CHECK(MPI_Win_create_keyval(win_copy, win_del, &kw, &xs_w));
    CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &cd));
    CHECK(MPI_Type_contiguous(3, MPI_INT, &dt));
    CHECK(MPI_Type_commit(&dt));
    /* The window lives across the snapshots: made on a communicator without attributes (MPICH
     * duplicates a window's communicator with its attributes, and a restart cannot give the
     * library's duplicate the values the copy callbacks gave it: docs/mpi.md). The step's
     * windows are made on MPI_COMM_WORLD, with its attribute. */
    MPI_Comm wcomm;
    CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &wcomm));
    long *mem;
    CHECK(MPI_Win_allocate(64 * sizeof(long), sizeof(long), MPI_INFO_NULL, wcomm, &mem, &win));
    CHECK(MPI_Comm_set_attr(MPI_COMM_WORLD, kc, (void *)(intptr_t)(10 + rank)));
    CHECK(MPI_Comm_set_attr(MPI_COMM_SELF, ks, (void *)(intptr_t)(77 + rank)));
    CHECK(MPI_Comm_set_attr(cd, kc, (void *)(intptr_t)(20 + rank)));
    CHECK(MPI_Comm_set_attr(cd, kp, (void *)(intptr_t)(30 + rank)));
    CHECK(MPI_Type_set_attr(dt, kt, (void *)(intptr_t)(40 + rank)));
    CHECK(MPI_Win_set_attr(win, kw, (void *)(intptr_t)(50 + rank)));

#if MPI_VERSION >= 4
    MPI_Datatype tv, t4;
    CHECK(MPI_Type_vector_c(3, 2, 4, MPI_INT, &tv));
    CHECK(MPI_Type_create_resized_c(tv, 0, 64, &t4));
    CHECK(MPI_Type_commit(&t4));
    CHECK(MPI_Type_free(&tv));
    MPI_Datatype t5[5];
    {
        MPI_Count bl[2] = { 1, 2 }, dp[2] = { 0, 12 }, bd[2] = { 0, 4 };
        MPI_Count sizes[2] = { 4, 6 }, subs[2] = { 2, 3 }, starts[2] = { 1, 2 }, gs[1] = { 4 * size };
        int dist[1] = { MPI_DISTRIBUTE_BLOCK }, darg[1] = { MPI_DISTRIBUTE_DFLT_DARG }, ps[1] = { size };
        MPI_Datatype ty[2] = { MPI_INT, MPI_INT };
        CHECK(MPI_Type_create_struct_c(2, bl, dp, ty, &t5[0]));
        CHECK(MPI_Type_create_subarray_c(2, sizes, subs, starts, MPI_ORDER_C, MPI_INT, &t5[1]));
        CHECK(MPI_Type_create_darray_c(size, rank, 1, gs, dist, darg, ps, MPI_ORDER_C, MPI_INT,
                                       &t5[2]));
        CHECK(MPI_Type_create_indexed_block_c(2, 2, bd, MPI_INT, &t5[3]));
        CHECK(MPI_Type_create_hindexed_block_c(2, 1, dp, MPI_INT, &t5[4]));
        for (int k = 0; k < 5; k++)
            CHECK(MPI_Type_commit(&t5[k]));
    }
    MPI_Info env;
    int env_n = 0, now_n = 0;
    CHECK(MPI_Info_create_env(argc, argv, &env));
    long env_sum = info_sum(env, &env_n);
    MPI_Info info;
    CHECK(MPI_Info_create(&info));
    CHECK(MPI_Info_set(info, "rst_attr", "kept across restarts"));
    MPI_Comm ci;
    MPI_Request rq;
    CHECK(MPI_Comm_idup_with_info(MPI_COMM_WORLD, info, &ci, &rq));
    CHECK(MPI_Wait(&rq, MPI_STATUS_IGNORE));
#endif
    for (int s = 0; s < args.steps; s++) {
        /* read */
        long r = get_comm(MPI_COMM_WORLD, kc) + 3 * get_comm(MPI_COMM_SELF, ks) +
                 5 * get_comm(cd, kc) + 7 * get_comm(cd, kp) + 11 * get_type(dt, kt) +
                 13 * get_win(win, kw);
        /* the copy callbacks on duplicates, the delete callbacks when they are freed */
        MPI_Comm c2;
        CHECK(MPI_Comm_dup(cd, &c2));
        r += 17 * get_comm(c2, kc) + 19 * get_comm(c2, kp);
        CHECK(MPI_Comm_free(&c2));
        MPI_Datatype t2;
        CHECK(MPI_Type_dup(dt, &t2));
        r += 23 * get_type(t2, kt);
        CHECK(MPI_Type_free(&t2));
        /* replaced values: the old one's delete callback */
        CHECK(MPI_Comm_set_attr(cd, kc, (void *)(intptr_t)(get_comm(cd, kc) + 100)));
        CHECK(MPI_Type_set_attr(dt, kt, (void *)(intptr_t)(get_type(dt, kt) + 100)));
        CHECK(MPI_Win_set_attr(win, kw, (void *)(intptr_t)(get_win(win, kw) + 100)));
        /* a window of the step with an attribute, freed: its delete callback */
        long *m2;
        CHECK(MPI_Win_allocate(8 * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &m2,
                               &step_win));
        CHECK(MPI_Win_set_attr(step_win, kw, (void *)(intptr_t)(s + 1)));
        r += 29 * get_win(step_win, kw);
        CHECK(MPI_Win_free(&step_win));
#if MPI_VERSION >= 4
        /* the MPI-4 objects */
        MPI_Count sz = 0, lb = 0, ext = 0;
        CHECK(MPI_Type_size_c(t4, &sz));
        CHECK(MPI_Type_get_extent_c(t4, &lb, &ext));
        int buf[2 * 16], out[2 * 16], n4 = 0, sum = 0, flag = 0;
        for (int i = 0; i < 32; i++)
            buf[i] = rank * 100 + i + s;
        for (int i = 0; i < 32; i++)
            out[i] = rank == 1 % size ? buf[i] : -1;
        CHECK(MPI_Bcast(out, 1, t4, 1 % size, ci)); /* the type's 6 ints, from rank 1 */
        for (int i = 0; i < 32; i++)
            sum += out[i] * (i + 1);
        char val[64] = "";
        int vlen = sizeof val;
        CHECK(MPI_Info_get_string(info, "rst_attr", &vlen, val, &flag));
        CHECK(MPI_Comm_size(ci, &n4));
        r += 31 * ((long)sz + (long)ext + sum + n4 + flag * vlen + (long)strlen(val));
        if (info_sum(env, &now_n) != env_sum || now_n != env_n)
            bad++;
        for (int k = 0; k < 5; k++) { /* each type's size and extent, and the ints it packs */
            int pk[64], ppos = 0;
            CHECK(MPI_Type_size_c(t5[k], &sz));
            CHECK(MPI_Type_get_extent_c(t5[k], &lb, &ext));
            CHECK(MPI_Pack(buf, 1, t5[k], pk, sizeof pk, &ppos, MPI_COMM_WORLD));
            long psum = 0;
            for (int i = 0; i < ppos / (int)sizeof(int); i++)
                psum += (long)pk[i] * (i + 1);
            r += (37 + k) * ((long)sz + 3 * (long)ext + 5 * (long)lb + psum);
        }
#endif
        long tr = rst_total(r), tc = rst_total(copies[0] + copies[1] + copies[2]);
        long td = rst_total(dels[0] + dels[1] + dels[2]), ts = rst_total(delsum);
        long tb = rst_total(bad);
        if (rank == 0)
            printf("step %d: values %ld copies %ld deletes %ld (sum %ld) wrong handles %ld\n", s, tr,
                   tc, td, ts, tb);
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        rst_step_end(&args, s);
    }
#if MPI_VERSION >= 4
    CHECK(MPI_Type_free(&t4));
    for (int k = 0; k < 5; k++)
        CHECK(MPI_Type_free(&t5[k]));
    CHECK(MPI_Comm_free(&ci));
    CHECK(MPI_Info_free(&info));
    CHECK(MPI_Info_free(&env));
#endif
    /* the objects freed: their delete callbacks */
    CHECK(MPI_Win_free(&win));
    CHECK(MPI_Type_free(&dt));
    CHECK(MPI_Comm_free(&cd));
    CHECK(MPI_Comm_free(&wcomm));
    CHECK(MPI_Comm_delete_attr(MPI_COMM_WORLD, kc));
    CHECK(MPI_Comm_free_keyval(&kp));
    CHECK(MPI_Type_free_keyval(&kt));
    CHECK(MPI_Win_free_keyval(&kw));
    long tc = rst_total(copies[0] + copies[1] + copies[2]);
    long td = rst_total(dels[0] + dels[1] + dels[2]);
    long ts = rst_total(delsum), tb = rst_total(bad);
    if (rank == 0)
        printf("done: copies %ld deletes %ld (sum %ld) wrong handles %ld; keyvals freed %d\n", tc, td,
               ts, tb, kp == MPI_KEYVAL_INVALID && kt == MPI_KEYVAL_INVALID && kw == MPI_KEYVAL_INVALID);
    CHECK(MPI_Finalize());
    return 0;
}
