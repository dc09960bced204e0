/* rst_refchain STEPS PACEFILE MS (rst_refchain.sh FLAVOR, a chain of --term snapshots and
 * restarts): every step frees the handles the step before got and gets a new set, so that every
 * restarted generation frees handles its snapshot held; one more set, got at step 1, is held
 * through every generation and freed at the end. A set holds references the library counts:
 *   - MPI_GROUP_EMPTY four times, from constructors that select no process (MPI_Group_excl of
 *     every rank, MPI_Group_incl of none, MPI_Group_difference of a group with itself,
 *     MPI_Group_range_excl of every rank), and real groups (MPI_Comm_group of MPI_COMM_WORLD
 *     twice and of a duplicate)
 *   - predefined error handlers: MPI_ERRORS_ARE_FATAL (MPI_Comm_get_errhandler of
 *     MPI_COMM_WORLD) 7 times, MPI_ERRORS_RETURN (of a duplicate that has it, and the default
 *     file error handler: MPI_File_get_errhandler of MPI_FILE_NULL) 3 times each, and the
 *     program's own error handler, set on a duplicate and got again
 *   - a communicator (MPI_Comm_dup), its info (MPI_Comm_get_info), a derived datatype and the
 *     one MPI_Type_get_contents hands out of its duplicate, a reduction operation
 * Each is used at its step (group sizes and comparisons, error handlers compared with the
 * predefined ones and called, an Allreduce with the op on the duplicate, a message of the type)
 * and freed. Open MPI counts references on its predefined objects too: before session 49 a
 * restart's fresh library counted none of those the program held at the snapshot, and the
 * program's first MPI_Group_free of MPI_GROUP_EMPTY after a restart called free() on the static
 * object ("free(): invalid pointer": ck_coll-ompi np=1 in the random-moment campaign). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rst_pace.h"

#define NEMPTY 4
#define NFATAL 7
#define NRET 3

struct set {
    int valid;
    MPI_Group empty[NEMPTY], world[2], dupg;
    MPI_Errhandler fatal[NFATAL], ret[NRET], fret[NRET], mine[2];
    MPI_Comm dup, dupr;
    MPI_Info info;
    MPI_Datatype vec, vdup, member;
    MPI_Op op;
};

static long called; /* codes the program's error handler was called with, summed */

static void on_err(MPI_Comm *c, int *code, ...)
{
    (void)c;
    called += *code;
}

static void maxabs(void *in, void *inout, int *len, MPI_Datatype *t)
{
    (void)t;
    long *a = in, *b = inout;
    for (int i = 0; i < *len; i++)
        b[i] = labs(a[i]) > labs(b[i]) ? labs(a[i]) : labs(b[i]);
}

static void check(int rc, const char *what)
{
    if (rc != MPI_SUCCESS) {
        fprintf(stderr, "rst_refchain: %s failed\n", what);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
}

static unsigned long long mix(unsigned long long a, unsigned long long x)
{
    return (a ^ x) * 1099511628211ull + 7;
}

static void get_set(struct set *t, int np)
{
    MPI_Group wg;
    check(MPI_Comm_group(MPI_COMM_WORLD, &wg), "MPI_Comm_group");
    int *all = malloc((size_t)np * sizeof *all), range[1][3] = { { 0, np - 1, 1 } };
    for (int i = 0; i < np; i++)
        all[i] = i;
    check(MPI_Group_excl(wg, np, all, &t->empty[0]), "MPI_Group_excl");
    check(MPI_Group_incl(wg, 0, all, &t->empty[1]), "MPI_Group_incl");
    check(MPI_Group_difference(wg, wg, &t->empty[2]), "MPI_Group_difference");
    check(MPI_Group_range_excl(wg, 1, range, &t->empty[3]), "MPI_Group_range_excl");
    free(all);
    t->world[0] = wg;
    check(MPI_Comm_group(MPI_COMM_WORLD, &t->world[1]), "MPI_Comm_group");
    check(MPI_Comm_dup(MPI_COMM_WORLD, &t->dup), "MPI_Comm_dup");
    check(MPI_Comm_dup(MPI_COMM_WORLD, &t->dupr), "MPI_Comm_dup");
    check(MPI_Comm_group(t->dup, &t->dupg), "MPI_Comm_group");
    MPI_Comm_set_errhandler(t->dupr, MPI_ERRORS_RETURN);
    for (int k = 0; k < NFATAL; k++)
        check(MPI_Comm_get_errhandler(MPI_COMM_WORLD, &t->fatal[k]), "MPI_Comm_get_errhandler");
    for (int k = 0; k < NRET; k++) {
        check(MPI_Comm_get_errhandler(t->dupr, &t->ret[k]), "MPI_Comm_get_errhandler");
        check(MPI_File_get_errhandler(MPI_FILE_NULL, &t->fret[k]), "MPI_File_get_errhandler");
    }
    check(MPI_Comm_create_errhandler(on_err, &t->mine[0]), "MPI_Comm_create_errhandler");
    check(MPI_Comm_set_errhandler(t->dup, t->mine[0]), "MPI_Comm_set_errhandler");
    check(MPI_Comm_get_errhandler(t->dup, &t->mine[1]), "MPI_Comm_get_errhandler");
    check(MPI_Comm_get_info(t->dup, &t->info), "MPI_Comm_get_info");
    check(MPI_Type_vector(3, 2, 4, MPI_LONG, &t->vec), "MPI_Type_vector");
    check(MPI_Type_commit(&t->vec), "MPI_Type_commit");
    check(MPI_Type_dup(t->vec, &t->vdup), "MPI_Type_dup");
    int ni, na, nd, comb;
    MPI_Type_get_envelope(t->vdup, &ni, &na, &nd, &comb);
    if (comb != MPI_COMBINER_DUP || nd != 1) {
        fprintf(stderr, "rst_refchain: MPI_Type_dup's envelope: combiner %d, %d types\n", comb, nd);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    check(MPI_Type_get_contents(t->vdup, 0, 0, 1, NULL, NULL, &t->member), "MPI_Type_get_contents");
    check(MPI_Op_create(maxabs, 1, &t->op), "MPI_Op_create");
    t->valid = 1;
}

static unsigned long long use_set(const struct set *t, int s, int me, int np,
                                  unsigned long long acc)
{
    int cmp, sz;
    for (int k = 0; k < NEMPTY; k++) {
        MPI_Group_compare(t->empty[k], MPI_GROUP_EMPTY, &cmp);
        MPI_Group_size(t->empty[k], &sz);
        acc = mix(mix(acc, (unsigned long long)(cmp == MPI_IDENT)), (unsigned long long)sz);
    }
    MPI_Group_compare(t->world[0], t->world[1], &cmp);
    acc = mix(acc, (unsigned long long)(cmp == MPI_IDENT));
    MPI_Group_compare(t->world[0], t->dupg, &cmp);
    MPI_Group_size(t->dupg, &sz);
    acc = mix(mix(acc, (unsigned long long)(cmp == MPI_IDENT)), (unsigned long long)sz);
    for (int k = 0; k < NFATAL; k++)
        acc = mix(acc, (unsigned long long)(t->fatal[k] == MPI_ERRORS_ARE_FATAL));
    for (int k = 0; k < NRET; k++)
        acc = mix(mix(acc, (unsigned long long)(t->ret[k] == MPI_ERRORS_RETURN)),
                  (unsigned long long)(t->fret[k] == MPI_ERRORS_RETURN));
    MPI_Comm_call_errhandler(t->dup, s);
    acc = mix(mix(acc, (unsigned long long)called), (unsigned long long)(t->mine[0] == t->mine[1]));
    int nkeys = -1;
    MPI_Info_get_nkeys(t->info, &nkeys);
    acc = mix(acc, (unsigned long long)(nkeys >= 0));
    long v = (me % 2 ? -1 : 1) * (long)(s * 10 + me), r = 0;
    check(MPI_Allreduce(&v, &r, 1, MPI_LONG, t->op, t->dup), "MPI_Allreduce");
    acc = mix(acc, (unsigned long long)r);
    long out[12], in[12];
    for (int i = 0; i < 12; i++) {
        out[i] = s * 100 + me * 12 + i;
        in[i] = -1;
    }
    int right = (me + 1) % np, left = (me + np - 1) % np;
    check(MPI_Sendrecv(out, 1, t->member, right, s, in, 1, t->vdup, left, s, t->dupr,
                       MPI_STATUS_IGNORE), "MPI_Sendrecv");
    for (int i = 0; i < 12; i++)
        acc = mix(acc, (unsigned long long)in[i]);
    return acc;
}

static void free_set(struct set *t)
{
    if (!t->valid)
        return;
    for (int k = 0; k < NEMPTY; k++)
        check(MPI_Group_free(&t->empty[k]), "MPI_Group_free (MPI_GROUP_EMPTY)");
    check(MPI_Group_free(&t->world[0]), "MPI_Group_free");
    check(MPI_Group_free(&t->world[1]), "MPI_Group_free");
    check(MPI_Group_free(&t->dupg), "MPI_Group_free");
    for (int k = 0; k < NFATAL; k++)
        check(MPI_Errhandler_free(&t->fatal[k]), "MPI_Errhandler_free (MPI_ERRORS_ARE_FATAL)");
    for (int k = 0; k < NRET; k++) {
        check(MPI_Errhandler_free(&t->ret[k]), "MPI_Errhandler_free (MPI_ERRORS_RETURN)");
        check(MPI_Errhandler_free(&t->fret[k]), "MPI_Errhandler_free (the file default)");
    }
    check(MPI_Errhandler_free(&t->mine[0]), "MPI_Errhandler_free");
    check(MPI_Errhandler_free(&t->mine[1]), "MPI_Errhandler_free");
    check(MPI_Info_free(&t->info), "MPI_Info_free");
    check(MPI_Comm_free(&t->dup), "MPI_Comm_free");
    check(MPI_Comm_free(&t->dupr), "MPI_Comm_free");
    check(MPI_Type_free(&t->member), "MPI_Type_free");
    check(MPI_Type_free(&t->vdup), "MPI_Type_free");
    check(MPI_Type_free(&t->vec), "MPI_Type_free");
    check(MPI_Op_free(&t->op), "MPI_Op_free");
    if (t->empty[0] != MPI_GROUP_NULL || t->fatal[0] != MPI_ERRHANDLER_NULL) {
        fprintf(stderr, "rst_refchain: a free did not give the null handle back\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    t->valid = 0;
}

int main(int argc, char **argv)
{
    struct rst_run r = rst_begin(&argc, &argv, "rst_refchain");
    struct set cur, kept;
    memset(&cur, 0, sizeof cur);
    memset(&kept, 0, sizeof kept);
    unsigned long long acc = 1;
    for (int s = 1; s <= r.steps; s++) {
        free_set(&cur); /* got the step before: at a restart, before the snapshot */
        get_set(&cur, r.np);
        if (s == 1)
            get_set(&kept, r.np);
        acc = use_set(&kept, s, r.me, r.np, use_set(&cur, s, r.me, r.np, acc));
        rst_step_sum(&r, s, (long long)(acc % 1000000007ull));
    }
    free_set(&cur);
    free_set(&kept);
    /* more made and freed after the last frees: a count gone wrong shows here at the latest */
    struct set after;
    memset(&after, 0, sizeof after);
    get_set(&after, r.np);
    acc = use_set(&after, r.steps + 1, r.me, r.np, acc);
    free_set(&after);
    rst_done_sum(&r, (long long)(acc % 1000000007ull));
    MPI_Finalize();
    return 0;
}
