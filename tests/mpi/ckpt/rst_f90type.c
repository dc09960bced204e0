/* rst_f90type STEPS PACEFILE MS (rst_pscw.sh FLAVOR rst_f90type "2" 16): datatypes the library
 * hands out rather than builds from the program's arguments, made before the snapshots and used
 * at every step after them: MPI_Type_create_f90_real/complex/integer (what a Fortran code's
 * selected_real_kind types become; each library makes them, and its next call with the same
 * arguments gives the same handle), MPI_Type_match_size, a vector of the f90 real; sends,
 * reductions, MPI_PACKED messages and envelopes/contents of them; a communicator's info set
 * before and read back after. Before session 44 these handles were not recorded: every restart
 * of such a job failed ("handle ... was not made by a recorded call", Open MPI; "datatype ...
 * (made by no recorded call) did not come back", MPICH). The lines are the same under either
 * library (rst_pscw.sh compares MPICH's job with Open MPI's native run).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "rst_pace.h"

static unsigned long long mix(unsigned long long h, unsigned long long v)
{
    return (h ^ v) * 1099511628211ull + 7;
}

/* what the standard fixes about an f90 type: its size, and its combiner and arguments */
static unsigned long long describe(MPI_Datatype t, int comb_want, unsigned long long h)
{
    int ni, na, nd, comb, sz, is[2] = {-1, -1};
    MPI_Type_get_envelope(t, &ni, &na, &nd, &comb);
    MPI_Type_size(t, &sz);
    h = mix(mix(h, comb == comb_want), sz);
    if (comb != MPI_COMBINER_NAMED && ni <= 2) {
        MPI_Type_get_contents(t, ni, 0, 0, is, NULL, NULL);
        h = mix(mix(h, is[0]), is[1]);
    }
    return h;
}

int main(int argc, char **argv)
{
    struct rst_run r = rst_begin(&argc, &argv, "rst_f90type");
    MPI_Datatype fr, fc, fi, fr2, ms, vec;
    if (MPI_Type_create_f90_real(15, 300, &fr) != MPI_SUCCESS ||
        MPI_Type_create_f90_complex(6, 30, &fc) != MPI_SUCCESS ||
        MPI_Type_create_f90_integer(9, &fi) != MPI_SUCCESS ||
        MPI_Type_create_f90_real(15, 300, &fr2) != MPI_SUCCESS ||
        MPI_Type_match_size(MPI_TYPECLASS_REAL, 4, &ms) != MPI_SUCCESS) {
        fprintf(stderr, "rst_f90type: a datatype call failed\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    MPI_Type_vector(3, 1, 2, fr, &vec);
    MPI_Type_commit(&vec);
    MPI_Comm c;
    MPI_Comm_dup(MPI_COMM_WORLD, &c);
    MPI_Info in;
    MPI_Info_create(&in);
    MPI_Info_set(in, "rst_f90type", "yes");
    MPI_Comm_set_info(c, in);
    MPI_Info_free(&in);
    unsigned long long acc = 1;
    for (int s = 1; s <= r.steps; s++) {
        double d[6], dr[6] = {0}, dmax = 0, ud[6] = {0};
        float f[4], frr[4] = {0}, m1 = s * 1.5f, m2 = 0;
        int iv[3], ir[3] = {0}, ui[3] = {0};
        for (int i = 0; i < 6; i++)
            d[i] = s + i * 0.25 + r.me;
        for (int i = 0; i < 4; i++)
            f[i] = s * 0.5f + i + r.me;
        for (int i = 0; i < 3; i++)
            iv[i] = s * 3 + i + r.me;
        MPI_Sendrecv(d, 1, vec, r.right, 1, dr, 1, vec, r.left, 1, c, MPI_STATUS_IGNORE);
        MPI_Sendrecv(f, 2, fc, r.right, 2, frr, 2, fc, r.left, 2, c, MPI_STATUS_IGNORE);
        MPI_Sendrecv(iv, 3, fi, r.right, 3, ir, 3, fi, r.left, 3, c, MPI_STATUS_IGNORE);
        MPI_Allreduce(&m1, &m2, 1, ms, MPI_SUM, c);
        MPI_Allreduce(&d[5], &dmax, 1, fr2, MPI_MAX, c);
        for (int i = 0; i < 6; i++)
            acc = mix(acc, (unsigned long long)(dr[i] * 4));
        for (int i = 0; i < 4; i++)
            acc = mix(acc, (unsigned long long)(frr[i] * 4));
        for (int i = 0; i < 3; i++)
            acc = mix(acc, (unsigned long long)ir[i]);
        acc = mix(mix(acc, (unsigned long long)(m2 * 2)), (unsigned long long)(dmax * 4));
        acc = describe(fr, MPI_COMBINER_F90_REAL, acc);
        acc = describe(fc, MPI_COMBINER_F90_COMPLEX, acc);
        acc = describe(fi, MPI_COMBINER_F90_INTEGER, acc);
        acc = mix(mix(acc, fr2 == fr), describe(ms, MPI_COMBINER_NAMED, 0));
        char pb[256], pr[256];
        int pos = 0, cnt = 0, p2 = 0;
        MPI_Status st;
        MPI_Pack(d, 1, vec, pb, sizeof pb, &pos, c);
        MPI_Pack(iv, 3, fi, pb, sizeof pb, &pos, c);
        MPI_Sendrecv(pb, pos, MPI_PACKED, r.right, 4, pr, sizeof pr, MPI_PACKED, r.left, 4, c, &st);
        MPI_Get_count(&st, MPI_PACKED, &cnt);
        MPI_Unpack(pr, cnt, &p2, ud, 1, vec, c);
        MPI_Unpack(pr, cnt, &p2, ui, 3, fi, c);
        acc = mix(mix(acc, (unsigned long long)(ud[4] * 8)), (unsigned long long)ui[2]);
        MPI_Info got;
        char v[16] = "";
        int flag = 0;
        MPI_Comm_get_info(c, &got);
        MPI_Info_get(got, "rst_f90type", sizeof v - 1, v, &flag);
        MPI_Info_free(&got);
        acc = mix(acc, flag && strcmp(v, "yes") == 0);
        rst_step_sum(&r, s, (long long)(acc % 1000000007ull));
    }
    MPI_Type_free(&vec);
    MPI_Comm_free(&c);
    rst_done_sum(&r, (long long)(acc % 1000000007ull));
    MPI_Finalize();
    return 0;
}
