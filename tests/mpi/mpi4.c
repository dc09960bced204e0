/* MPI-4 large-count (_c) forms, where the library has them (MPICH 4.0; built only there):
 * point to point (blocking, nonblocking, persistent templates), blocking and nonblocking
 * collectives with count and displacement arrays, Get_count_c/Get_elements_c, datatype sizes and
 * extents, Pack/Unpack, one-sided operations and file access. Each section mixes what the calls
 * returned and the data (compare.sh runs it natively and under Revive). */
#include "mpitest.h"

#include <unistd.h>

#define N 32

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int right = (me + 1) % np, left = (me + np - 1) % np;
    long sb[N * 8], rb[N * 8];
    for (int i = 0; i < N * 8; i++)
        sb[i] = me * 10000 + i;

    /* point to point */
    MPI_Request rq[2];
    MPI_Status st;
    MPI_Count c = -1;
    CHECK(MPI_Irecv_c(rb, N, MPI_LONG, left, 1, MPI_COMM_WORLD, &rq[0]));
    CHECK(MPI_Isend_c(sb, N, MPI_LONG, right, 1, MPI_COMM_WORLD, &rq[1]));
    CHECK(MPI_Waitall(2, rq, MPI_STATUSES_IGNORE));
    mix(rb, N * sizeof(long));
    /* (MPICH 4.0's MPI_Send_c to the rank itself waits for the receive natively: 2 ranks or more) */
    if (np == 1) {
        st.MPI_SOURCE = 0;
        c = 7;
        CHECK(MPI_Status_set_elements_x(&st, MPI_LONG, c));
        memcpy(rb, sb, 7 * sizeof(long));
    } else if (me % 2 == 0) {
        CHECK(MPI_Send_c(sb, 7, MPI_LONG, right, 2, MPI_COMM_WORLD));
        CHECK(MPI_Recv_c(rb, N, MPI_LONG, left, 2, MPI_COMM_WORLD, &st));
    } else {
        CHECK(MPI_Recv_c(rb, N, MPI_LONG, left, 2, MPI_COMM_WORLD, &st));
        CHECK(MPI_Ssend_c(sb, 7, MPI_LONG, right, 2, MPI_COMM_WORLD));
    }
    CHECK(MPI_Get_count_c(&st, MPI_LONG, &c)); mixi((long)c);
    CHECK(MPI_Get_elements_c(&st, MPI_LONG, &c)); mixi((long)c);
    mix(rb, 7 * sizeof(long));
    CHECK(MPI_Recv_init_c(rb, N, MPI_LONG, left, 3, MPI_COMM_WORLD, &rq[0]));
    CHECK(MPI_Send_init_c(sb + 1, N, MPI_LONG, right, 3, MPI_COMM_WORLD, &rq[1]));
    for (int k = 0; k < 2; k++) {
        CHECK(MPI_Startall(2, rq));
        CHECK(MPI_Waitall(2, rq, MPI_STATUSES_IGNORE));
        mix(rb, N * sizeof(long));
    }
    MPI_Request_free(&rq[0]);
    MPI_Request_free(&rq[1]);
    report("p2p");

    /* collectives */
    MPI_Count *cnt = malloc(sizeof *cnt * (size_t)np);
    MPI_Aint *dsp = malloc(sizeof *dsp * (size_t)np);
    MPI_Datatype *types = malloc(sizeof *types * (size_t)np);
    for (int r = 0; r < np; r++) {
        cnt[r] = 1 + r % 3;
        dsp[r] = r * 4;
        types[r] = MPI_LONG;
    }
    CHECK(MPI_Bcast_c(sb, N, MPI_LONG, 0, MPI_COMM_WORLD));
    CHECK(MPI_Allreduce_c(sb, rb, N, MPI_LONG, MPI_SUM, MPI_COMM_WORLD)); mix(rb, N * sizeof(long));
    CHECK(MPI_Allgather_c(sb, 3, MPI_LONG, rb, 3, MPI_LONG, MPI_COMM_WORLD)); mix(rb, 3 * np * sizeof(long));
    CHECK(MPI_Allgatherv_c(sb, 1 + me % 3, MPI_LONG, rb, cnt, dsp, MPI_LONG, MPI_COMM_WORLD));
    for (int r = 0; r < np; r++) mix(rb + dsp[r], (size_t)cnt[r] * sizeof(long));
    MPI_Count *ac = malloc(sizeof *ac * (size_t)np);
    MPI_Aint *ad = malloc(sizeof *ad * (size_t)np), *adb = malloc(sizeof *adb * (size_t)np);
    for (int r = 0; r < np; r++) { ac[r] = 2; ad[r] = r * 2; adb[r] = r * 2 * (MPI_Aint)sizeof(long); }
    CHECK(MPI_Alltoallv_c(sb, ac, ad, MPI_LONG, rb, ac, ad, MPI_LONG, MPI_COMM_WORLD)); mix(rb, 2 * np * sizeof(long));
    CHECK(MPI_Alltoallw_c(sb, ac, adb, types, rb, ac, adb, types, MPI_COMM_WORLD)); mix(rb, 2 * np * sizeof(long));
    CHECK(MPI_Reduce_scatter_block_c(sb, rb, 2, MPI_LONG, MPI_MAX, MPI_COMM_WORLD)); mix(rb, 2 * sizeof(long));
    CHECK(MPI_Scan_c(sb, rb, 4, MPI_LONG, MPI_SUM, MPI_COMM_WORLD)); mix(rb, 4 * sizeof(long));
    CHECK(MPI_Iallreduce_c(sb, rb, N, MPI_LONG, MPI_MIN, MPI_COMM_WORLD, &rq[0]));
    CHECK(MPI_Wait(&rq[0], MPI_STATUS_IGNORE)); mix(rb, N * sizeof(long));
    CHECK(MPI_Igather_c(sb, 2, MPI_LONG, rb, 2, MPI_LONG, 0, MPI_COMM_WORLD, &rq[0]));
    CHECK(MPI_Wait(&rq[0], MPI_STATUS_IGNORE)); if (me == 0) mix(rb, 2 * np * sizeof(long));
    long loc[4] = { 1, 2, 3, 4 };
    CHECK(MPI_Reduce_local_c(sb, loc, 4, MPI_LONG, MPI_SUM)); mix(loc, sizeof loc);
    report("collectives");

    /* datatypes, pack */
    MPI_Count sz, lb, ext;
    CHECK(MPI_Type_size_c(MPI_LONG, &sz)); mixi((long)sz);
    CHECK(MPI_Type_get_extent_c(MPI_DOUBLE, &lb, &ext)); mixi((long)ext);
    CHECK(MPI_Type_get_true_extent_c(MPI_INT, &lb, &ext)); mixi((long)ext);
    char pk[1024];
    MPI_Count pos = 0, psz = 0;
    CHECK(MPI_Pack_size_c(5, MPI_LONG, MPI_COMM_WORLD, &psz)); mixi((long)psz);
    CHECK(MPI_Pack_c(sb, 5, MPI_LONG, pk, sizeof pk, &pos, MPI_COMM_WORLD)); mixi((long)pos);
    pos = 0;
    CHECK(MPI_Unpack_c(pk, sizeof pk, &pos, rb, 5, MPI_LONG, MPI_COMM_WORLD)); mix(rb, 5 * sizeof(long));
    report("datatypes");

    /* one-sided */
    long *wm;
    MPI_Win win;
    CHECK(MPI_Win_allocate(N * sizeof(long), sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &wm, &win));
    for (int i = 0; i < N; i++) wm[i] = 0;
    CHECK(MPI_Win_fence(0, win));
    CHECK(MPI_Put_c(sb, 4, MPI_LONG, right, 0, 4, MPI_LONG, win));
    CHECK(MPI_Accumulate_c(sb, 4, MPI_LONG, left, 8, 4, MPI_LONG, MPI_SUM, win));
    CHECK(MPI_Win_fence(0, win));
    CHECK(MPI_Get_c(rb, 4, MPI_LONG, right, 0, 4, MPI_LONG, win));
    CHECK(MPI_Win_fence(0, win));
    mix(rb, 4 * sizeof(long)); mix(wm, N * sizeof(long));
    CHECK(MPI_Win_lock_all(0, win));
    CHECK(MPI_Rput_c(sb, 2, MPI_LONG, right, 12, 2, MPI_LONG, win, &rq[0]));
    CHECK(MPI_Wait(&rq[0], MPI_STATUS_IGNORE));
    CHECK(MPI_Win_flush_all(win));
    MPI_Barrier(MPI_COMM_WORLD);
    CHECK(MPI_Get_accumulate_c(sb, 1, MPI_LONG, rb, 1, MPI_LONG, left, 12, 1, MPI_LONG, MPI_NO_OP, win));
    CHECK(MPI_Win_flush_all(win));
    CHECK(MPI_Win_unlock_all(win));
    mix(rb, sizeof(long));
    CHECK(MPI_Win_free(&win));
    report("onesided");

    /* files */
    char path[256];
    if (me == 0) {
        const char *d = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/revive-mpi4-%d.dat", d && *d ? d : "/tmp", (int)getpid());
    }
    MPI_Bcast(path, sizeof path, MPI_CHAR, 0, MPI_COMM_WORLD);
    MPI_File fh;
    CHECK(MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_CREATE | MPI_MODE_RDWR | MPI_MODE_DELETE_ON_CLOSE,
                        MPI_INFO_NULL, &fh));
    CHECK(MPI_File_write_at_all_c(fh, (MPI_Offset)me * N * sizeof(long), sb, N, MPI_LONG, &st));
    CHECK(MPI_Get_count_c(&st, MPI_LONG, &c)); mixi((long)c);
    CHECK(MPI_File_sync(fh));
    MPI_Barrier(MPI_COMM_WORLD);
    CHECK(MPI_File_sync(fh));
    CHECK(MPI_File_read_at_c(fh, (MPI_Offset)right * N * sizeof(long), rb, N, MPI_LONG, &st));
    mix(rb, N * sizeof(long));
    CHECK(MPI_File_iread_at_c(fh, (MPI_Offset)left * N * sizeof(long), rb, N, MPI_LONG, &rq[0]));
    CHECK(MPI_Wait(&rq[0], &st)); mix(rb, N * sizeof(long));
    CHECK(MPI_File_get_type_extent_c(fh, MPI_LONG, &ext)); mixi((long)ext);
    CHECK(MPI_File_close(&fh));
    report("files");
    free(cnt); free(dsp); free(types); free(ac); free(ad); free(adb);
    MPI_Finalize();
    return 0;
}
