/* MPI-4 large-count (_c) forms, where the library has them (MPICH 4.0; built only there):
 * point to point (blocking, nonblocking, persistent templates), blocking and nonblocking
 * collectives with count and displacement arrays, Get_count_c/Get_elements_c, datatype sizes and
 * extents, Pack/Unpack, one-sided operations and file access; MPI_Isendrecv(_replace) with every
 * completion call; persistent collectives (MPI_Start, MPI_Startall with persistent point to
 * point); the large-count Sendrecv(_replace), Mrecv, Imrecv and Buffer_attach/detach. Each section mixes what the calls returned and the data (compare.sh runs it
 * natively and under Revive). */
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

    /* MPI_Isendrecv and MPI_Isendrecv_replace (and _c): every completion call */
    MPI_Request q[4];
    MPI_Status sts[4];
    int flag = 0, idx = -1, outc = 0, ids[4];
    long x[N];
    for (int i = 0; i < N; i++) { x[i] = me * 100 + i; rb[i] = -1; }
    CHECK(MPI_Isendrecv(sb, N, MPI_LONG, right, 5, rb, N, MPI_LONG, left, 5, MPI_COMM_WORLD, &q[0]));
    /* (no status fields of a pair are mixed: MPICH 4.0.2's own MPI_Isendrecv leaves its status's
     * source and tag MPI_UNDEFINED; Revive gives the receive's, as MPI-4 says) */
    CHECK(MPI_Wait(&q[0], &st)); mix(rb, N * sizeof(long));
    /* (contiguous: MPICH 4.0.2's own MPI_Isendrecv_replace of a strided datatype gives wrong data
     * natively, and frees the datatype once too often) */
    CHECK(MPI_Isendrecv_replace(x, N, MPI_LONG, right, 6, left, 6, MPI_COMM_WORLD, &q[0]));
    for (flag = 0; !flag;)
        CHECK(MPI_Test(&q[0], &flag, &st));
    mix(x, sizeof x); mixi(q[0] == MPI_REQUEST_NULL);
    CHECK(MPI_Isendrecv_c(sb + 1, 3, MPI_LONG, left, 7, rb, 3, MPI_LONG, right, 7, MPI_COMM_WORLD, &q[0]));
    /* (MPICH 4.0.2's own MPI_Isendrecv_replace_c dies natively of SIGSEGV in
     * ucp_tag_send_nbx: not called here) */
    CHECK(MPI_Isendrecv_replace(x, 4, MPI_LONG, right, 8, left, 8, MPI_COMM_WORLD, &q[1]));
    CHECK(MPI_Irecv(rb + 8, 2, MPI_LONG, left, 9, MPI_COMM_WORLD, &q[2]));
    CHECK(MPI_Isend(sb + 2, 2, MPI_LONG, right, 9, MPI_COMM_WORLD, &q[3]));
    CHECK(MPI_Waitall(4, q, sts)); mix(rb, 10 * sizeof(long)); mix(x, sizeof x);
    mixi(sts[2].MPI_SOURCE); mixi(sts[2].MPI_TAG);
    /* Waitany, Waitsome, Testall, Testany, Request_get_status over pairs alone */
    CHECK(MPI_Isendrecv(sb, 2, MPI_LONG, right, 10, rb, 2, MPI_LONG, left, 10, MPI_COMM_WORLD, &q[0]));
    CHECK(MPI_Isendrecv(sb + 2, 2, MPI_LONG, left, 11, rb + 2, 2, MPI_LONG, right, 11, MPI_COMM_WORLD, &q[1]));
    long tags = 0, nulls = 0; /* (either may complete first: order-free sums) */
    for (int k = 0; k < 2; k++) {
        CHECK(MPI_Waitany(2, q, &idx, &st));
        tags += idx; nulls += q[idx] == MPI_REQUEST_NULL;
    }
    mixi(tags); mixi(nulls);
    CHECK(MPI_Waitany(2, q, &idx, &st)); mixi(idx == MPI_UNDEFINED);
    mix(rb, 4 * sizeof(long));
    CHECK(MPI_Isendrecv(sb, 2, MPI_LONG, right, 12, rb, 2, MPI_LONG, left, 12, MPI_COMM_WORLD, &q[0]));
    /* (MPICH 4.0.2's own MPI_Isendrecv with MPI_PROC_NULL dies natively of SIGSEGV: not here) */
    CHECK(MPI_Isendrecv(sb + 4, 2, MPI_LONG, left, 13, rb + 4, 2, MPI_LONG, right, 13, MPI_COMM_WORLD, &q[1]));
    tags = 0;
    for (int done = 0; done < 2;) {
        CHECK(MPI_Waitsome(2, q, &outc, ids, sts));
        for (int j = 0; j < outc; j++) tags += ids[j] * 7 + 1;
        done += outc;
    }
    mixi(tags);
    mix(rb, 2 * sizeof(long));
    CHECK(MPI_Isendrecv(sb, 3, MPI_LONG, right, 14, rb, 3, MPI_LONG, left, 14, MPI_COMM_WORLD, &q[0]));
    for (flag = 0; !flag;)
        CHECK(MPI_Request_get_status(q[0], &flag, &st));
    mixi(flag);
    CHECK(MPI_Isendrecv(sb + 5, 3, MPI_LONG, left, 15, rb + 3, 3, MPI_LONG, right, 15, MPI_COMM_WORLD, &q[1]));
    for (flag = 0; !flag;)
        CHECK(MPI_Testall(2, q, &flag, sts));
    mix(rb, 6 * sizeof(long));
    CHECK(MPI_Isendrecv(sb, 1, MPI_LONG, right, 16, rb, 1, MPI_LONG, left, 16, MPI_COMM_WORLD, &q[0]));
    for (flag = 0; !flag;)
        CHECK(MPI_Testany(1, q, &idx, &flag, &st));
    mixi(idx);
    report("isendrecv");


    /* persistent collectives: started several times, with MPI_Start and MPI_Startall (mixed with
     * persistent point to point), completed by every kind of call, freed */
    long pin[N], pout[N];
    MPI_Request pc[6];
    for (int i = 0; i < N; i++) pin[i] = me * 31 + i;
    CHECK(MPI_Allreduce_init(pin, pout, N, MPI_LONG, MPI_SUM, MPI_COMM_WORLD, MPI_INFO_NULL, &pc[0]));
    CHECK(MPI_Bcast_init_c(x, 4, MPI_LONG, np - 1, MPI_COMM_WORLD, MPI_INFO_NULL, &pc[1]));
    CHECK(MPI_Gatherv_init_c(sb, 1 + me % 3, MPI_LONG, rb + 128, cnt, dsp, MPI_LONG, 0, MPI_COMM_WORLD, MPI_INFO_NULL, &pc[2]));
    CHECK(MPI_Alltoallw_init(sb, (int[]){ 2, 2, 2, 2, 2, 2, 2, 2 }, (int[]){ 0, 16, 32, 48, 64, 80, 96, 112 }, types,
                             rb, (int[]){ 2, 2, 2, 2, 2, 2, 2, 2 }, (int[]){ 0, 16, 32, 48, 64, 80, 96, 112 }, types,
                             MPI_COMM_WORLD, MPI_INFO_NULL, &pc[3]));
    CHECK(MPI_Barrier_init(MPI_COMM_WORLD, MPI_INFO_NULL, &pc[4]));
    MPI_Comm ring;
    int rdims[1] = { np }, rper[1] = { 1 };
    long nbo = me * 5, nbi[2] = { -1, -1 };
    CHECK(MPI_Cart_create(MPI_COMM_WORLD, 1, rdims, rper, 0, &ring));
    CHECK(MPI_Neighbor_allgather_init(&nbo, 1, MPI_LONG, nbi, 1, MPI_LONG, ring, MPI_INFO_NULL, &pc[5]));
    for (int k = 0; k < 3; k++) {
        pin[0] = k;
        CHECK(MPI_Start(&pc[0]));
        CHECK(MPI_Wait(&pc[0], &st)); mix(pout, sizeof pout); mixi(pc[0] != MPI_REQUEST_NULL);
        if (me == np - 1) for (int i = 0; i < 4; i++) x[i] = k * 10 + i;
        CHECK(MPI_Startall(5, pc + 1));
        CHECK(MPI_Waitall(5, pc + 1, MPI_STATUSES_IGNORE));
        mix(x, 4 * sizeof(long)); mix(rb, 2 * np * sizeof(long)); mix(nbi, sizeof nbi);
        if (me == 0) for (int r = 0; r < np; r++) mix(rb + 128 + dsp[r], (size_t)cnt[r] * sizeof(long));
    }
    /* mixed with persistent point to point in one MPI_Startall; Testany, Request_get_status */
    CHECK(MPI_Recv_init(rb, 2, MPI_LONG, left, 30, MPI_COMM_WORLD, &q[0]));
    CHECK(MPI_Send_init(sb, 2, MPI_LONG, right, 30, MPI_COMM_WORLD, &q[1]));
    q[2] = pc[0];
    CHECK(MPI_Startall(3, q));
    /* (MPICH 4.0.2's own MPI_Testall returns MPI_ERR_IN_STATUS for this set, every status
     * saying no error: MPI_Waitall) */
    CHECK(MPI_Waitall(3, q, MPI_STATUSES_IGNORE));
    mix(rb, 2 * sizeof(long)); mix(pout, sizeof pout);
    CHECK(MPI_Start(&q[2]));
    for (flag = 0; !flag;)
        CHECK(MPI_Request_get_status(q[2], &flag, MPI_STATUS_IGNORE));
    CHECK(MPI_Testany(1, &q[2], &idx, &flag, MPI_STATUS_IGNORE)); mixi(flag); mixi(idx);
    mix(pout, sizeof pout);
    for (int i = 0; i < 3; i++) CHECK(MPI_Request_free(&q[i]));
    for (int i = 1; i < 6; i++) CHECK(MPI_Request_free(&pc[i]));
    CHECK(MPI_Comm_free(&ring));
    report("persistent collectives");

    /* the large-count forms of Sendrecv(_replace), Mrecv, Imrecv, Buffer_attach/detach */
    CHECK(MPI_Sendrecv_c(sb, 3, MPI_LONG, right, 40, rb, 3, MPI_LONG, left, 40, MPI_COMM_WORLD, &st));
    mix(rb, 3 * sizeof(long)); mixi(st.MPI_SOURCE);
    CHECK(MPI_Sendrecv_replace_c(x, 2, MPI_LONG, left, 41, right, 41, MPI_COMM_WORLD, &st));
    mix(x, 2 * sizeof(long)); mixi(st.MPI_TAG);
    MPI_Message msg;
    CHECK(MPI_Isend(sb, 4, MPI_LONG, right, 42, MPI_COMM_WORLD, &q[0]));
    CHECK(MPI_Mprobe(left, 42, MPI_COMM_WORLD, &msg, &st));
    CHECK(MPI_Mrecv_c(rb, 4, MPI_LONG, &msg, &st)); mix(rb, 4 * sizeof(long));
    CHECK(MPI_Wait(&q[0], MPI_STATUS_IGNORE));
    CHECK(MPI_Isend(sb + 4, 4, MPI_LONG, right, 43, MPI_COMM_WORLD, &q[0]));
    CHECK(MPI_Mprobe(left, 43, MPI_COMM_WORLD, &msg, &st));
    CHECK(MPI_Imrecv_c(rb, 4, MPI_LONG, &msg, &q[1]));
    CHECK(MPI_Waitall(2, q, MPI_STATUSES_IGNORE)); mix(rb, 4 * sizeof(long));
    static char bbuf[4096];
    void *bp;
    MPI_Count bsz = 0;
    CHECK(MPI_Buffer_attach_c(bbuf, sizeof bbuf));
    CHECK(MPI_Bsend(sb, 3, MPI_LONG, right, 44, MPI_COMM_WORLD));
    CHECK(MPI_Recv(rb, 3, MPI_LONG, left, 44, MPI_COMM_WORLD, MPI_STATUS_IGNORE)); mix(rb, 3 * sizeof(long));
    CHECK(MPI_Buffer_detach_c(&bp, &bsz)); mixi((long)bsz); mixi(bp == (void *)bbuf);
    report("large-count p2p");

    free(cnt); free(dsp); free(types); free(ac); free(ad); free(adb);
    MPI_Finalize();
    return 0;
}
