/* MPI-IO: open/close/delete, views, individual and shared file pointers, explicit offsets,
 * collective, split-collective and nonblocking access, atomicity, sync, sizes, hints, error
 * handlers, a user data representation and the Fortran handle conversions. Each section mixes
 * what the calls returned and the data read back (compare.sh runs it natively and under Revive).
 * The file lives in $TMPDIR (or /tmp) under a name rank 0 chooses. */
#include "mpitest.h"

#include <unistd.h>

#define N 64 /* ints per rank and block */

static MPI_File handled_file;
static int handled_class = -1;
static void on_file_error(MPI_File *f, int *err, ...)
{
    handled_file = *f;
    MPI_Error_class(*err, &handled_class);
}

static int conv_calls;
static int read_conv(void *userbuf, MPI_Datatype t, int count, void *filebuf, MPI_Offset pos,
                     void *extra)
{
    int size;
    MPI_Type_size(t, &size); /* the handle must be the program's */
    memcpy(userbuf, (char *)filebuf, (size_t)count * (size_t)size);
    conv_calls += 1 + (extra == (void *)&conv_calls) + (pos >= 0);
    return MPI_SUCCESS;
}
static int write_conv(void *userbuf, MPI_Datatype t, int count, void *filebuf, MPI_Offset pos,
                      void *extra)
{
    return read_conv(filebuf, t, count, userbuf, pos, extra);
}
static int extent_fn(MPI_Datatype t, MPI_Aint *ext, void *extra)
{
    MPI_Aint lb;
    (void)extra;
    return MPI_Type_get_extent(t, &lb, ext);
}

/* Writes of other ranks become visible (MPI's sync-barrier-sync). */
static void settle(MPI_File fh)
{
    CHECK(MPI_File_sync(fh));
    MPI_Barrier(MPI_COMM_WORLD);
    CHECK(MPI_File_sync(fh));
}

static void mix_status(MPI_Status *st, MPI_Datatype t)
{
    int n = -1;
    MPI_Get_count(st, t, &n);
    mixi(n);
}

int main(int argc, char **argv)
{
    start(&argc, &argv);
    char path[256];
    if (me == 0) {
        const char *d = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/revive-io-%d.dat", d && *d ? d : "/tmp", (int)getpid());
    }
    MPI_Bcast(path, sizeof path, MPI_CHAR, 0, MPI_COMM_WORLD);
    int buf[N * 4], got[N * 4];
    MPI_Status st;

    /* open, amode, group, hints */
    MPI_File fh;
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "cb_buffer_size", "1048576");
    MPI_File_delete(path, MPI_INFO_NULL);
    CHECK(MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_CREATE | MPI_MODE_RDWR, info, &fh));
    MPI_Info_free(&info);
    int amode, gsize, atom;
    CHECK(MPI_File_get_amode(fh, &amode)); mixi(amode);
    MPI_Group g;
    CHECK(MPI_File_get_group(fh, &g)); MPI_Group_size(g, &gsize); mixi(gsize); MPI_Group_free(&g);
    MPI_Info used;
    CHECK(MPI_File_get_info(fh, &used));
    char val[MPI_MAX_INFO_VAL + 1];
    int flag = 0;
    MPI_Info_get(used, "cb_buffer_size", MPI_MAX_INFO_VAL, val, &flag);
    mixi(flag); if (flag) mix(val, strlen(val));
    MPI_Info_free(&used);
    report("open");

    /* explicit offsets: each rank writes its block, reads the next rank's */
    for (int i = 0; i < N; i++)
        buf[i] = me * 1000 + i;
    CHECK(MPI_File_write_at(fh, (MPI_Offset)me * N * sizeof(int), buf, N, MPI_INT, &st));
    mix_status(&st, MPI_INT);
    settle(fh);
    CHECK(MPI_File_read_at(fh, (MPI_Offset)((me + 1) % np) * N * sizeof(int), got, N, MPI_INT, &st));
    mix_status(&st, MPI_INT); mix(got, sizeof(int) * N);
    for (int i = 0; i < N; i++)
        buf[i] = me * 2000 + i;
    CHECK(MPI_File_write_at_all(fh, (MPI_Offset)(np + me) * N * sizeof(int), buf, N, MPI_INT, &st));
    settle(fh);
    CHECK(MPI_File_read_at_all(fh, (MPI_Offset)(np + (me + 1) % np) * N * sizeof(int), got, N,
                               MPI_INT, &st));
    mix(got, sizeof(int) * N);
    settle(fh);
    MPI_Offset size;
    CHECK(MPI_File_get_size(fh, &size)); mixi((long)size);
    report("explicit");

    /* a view: blocks of 4 ints interleaved by rank, after a 2*np*N header */
    MPI_Datatype block, ftype;
    MPI_Type_contiguous(4, MPI_INT, &block);
    MPI_Type_create_resized(block, 0, (MPI_Aint)(4 * sizeof(int) * np), &ftype);
    MPI_Type_commit(&ftype);
    MPI_Offset disp = (MPI_Offset)2 * np * N * sizeof(int);
    CHECK(MPI_File_set_view(fh, disp + me * 4 * (MPI_Offset)sizeof(int), MPI_INT, ftype, "native",
                            MPI_INFO_NULL));
    MPI_Type_free(&ftype); /* the file keeps its own reference */
    MPI_Type_free(&block);
    for (int i = 0; i < N; i++)
        buf[i] = me * 3000 + i;
    CHECK(MPI_File_write_all(fh, buf, N, MPI_INT, &st)); mix_status(&st, MPI_INT);
    settle(fh);
    MPI_Offset pos, bo;
    CHECK(MPI_File_get_position(fh, &pos)); mixi((long)pos);
    CHECK(MPI_File_get_byte_offset(fh, pos, &bo)); mixi((long)bo);
    CHECK(MPI_File_seek(fh, 8, MPI_SEEK_SET));
    CHECK(MPI_File_read(fh, got, 8, MPI_INT, &st)); mix(got, 8 * sizeof(int));
    CHECK(MPI_File_seek(fh, -4, MPI_SEEK_CUR));
    CHECK(MPI_File_get_position(fh, &pos)); mixi((long)pos);
    CHECK(MPI_File_seek(fh, 0, MPI_SEEK_SET));
    CHECK(MPI_File_read_all(fh, got, N, MPI_INT, &st)); mix(got, N * sizeof(int));
    MPI_Datatype et, ft;
    char rep[MPI_MAX_DATAREP_STRING];
    CHECK(MPI_File_get_view(fh, &disp, &et, &ft, rep));
    int ni, na, nd, comb;
    mixi((long)disp); mix(rep, strlen(rep));
    MPI_Type_get_envelope(et, &ni, &na, &nd, &comb); mixi(comb); mixi(et == MPI_INT);
    MPI_Type_get_envelope(ft, &ni, &na, &nd, &comb); mixi(comb);
    MPI_Aint lb, ext;
    MPI_Type_get_extent(ft, &lb, &ext); mixi((long)ext);
    if (comb != MPI_COMBINER_NAMED) MPI_Type_free(&ft);
    CHECK(MPI_File_get_type_extent(fh, MPI_DOUBLE, &ext)); mixi((long)ext);
    report("view");

    /* shared file pointer: write_shared in any order, write_ordered in rank order */
    CHECK(MPI_File_set_view(fh, 0, MPI_INT, MPI_INT, "native", MPI_INFO_NULL));
    CHECK(MPI_File_seek_shared(fh, 0, MPI_SEEK_SET));
    for (int i = 0; i < 4; i++)
        buf[i] = me * 10 + i;
    CHECK(MPI_File_write_shared(fh, buf, 4, MPI_INT, &st));
    settle(fh);
    /* the shared pointer read right after shared writes is not mixed: both libraries give
     * another value now and then natively (ROMIO's pointer file, OMPIO's sharedfp) */
    CHECK(MPI_File_get_position_shared(fh, &pos));
    CHECK(MPI_File_write_ordered(fh, buf, 4, MPI_INT, &st));
    settle(fh);
    /* not mixed: after MPI_File_write_ordered, OMPIO's shared pointer read on rank 1 varies
     * from run to run natively */
    CHECK(MPI_File_get_position_shared(fh, &pos));
    CHECK(MPI_File_seek_shared(fh, 0, MPI_SEEK_SET));
    CHECK(MPI_File_read_ordered(fh, got, 4, MPI_INT, &st));
    long sum = 0; /* the first np*4 ints came in any order: their sum */
    for (int i = 0; i < 4; i++) sum += got[i];
    MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD); mixi(sum);
    CHECK(MPI_File_read_ordered(fh, got, 4, MPI_INT, &st)); mix(got, 4 * sizeof(int));
    CHECK(MPI_File_seek_shared(fh, 0, MPI_SEEK_END));
    CHECK(MPI_File_get_position_shared(fh, &pos)); mixi((long)pos);
    MPI_Barrier(MPI_COMM_WORLD); /* every rank read the position before one moves it */
    CHECK(MPI_File_seek_shared(fh, (MPI_Offset)np * 4, MPI_SEEK_SET));
    CHECK(MPI_File_read_shared(fh, got, 2, MPI_INT, &st)); mix_status(&st, MPI_INT);
    report("shared");

    /* nonblocking: individual, explicit, shared, then collective. One operation at a time, and
     * no individual one after a collective one: Open MPI's OMPIO (POSIX aio) hangs natively
     * otherwise */
    MPI_Request rq[4];
    for (int i = 0; i < N; i++)
        buf[i] = me * 4000 + i;
    CHECK(MPI_File_iwrite_at(fh, (MPI_Offset)(4 * np + me) * N, buf, N, MPI_INT, &rq[0]));
    CHECK(MPI_Wait(&rq[0], &st)); mix_status(&st, MPI_INT);
    settle(fh);
    CHECK(MPI_File_iread_at(fh, (MPI_Offset)(4 * np + (me + 1) % np) * N, got, N, MPI_INT, &rq[0]));
    int done = 0;
    while (!done)
        CHECK(MPI_Test(&rq[0], &done, &st));
    mix(got, N * sizeof(int));
    CHECK(MPI_File_seek(fh, (MPI_Offset)(5 * np + me) * N, MPI_SEEK_SET));
    CHECK(MPI_File_iwrite(fh, buf, N, MPI_INT, &rq[0]));
    CHECK(MPI_Waitall(1, rq, MPI_STATUSES_IGNORE));
    settle(fh);
    CHECK(MPI_File_seek(fh, (MPI_Offset)(5 * np + (me + 1) % np) * N, MPI_SEEK_SET));
    CHECK(MPI_File_iread(fh, got, N, MPI_INT, &rq[1]));
    CHECK(MPI_Waitany(1, rq + 1, &done, &st)); mixi(done); mix(got, N * sizeof(int));
    CHECK(MPI_File_seek_shared(fh, 0, MPI_SEEK_SET));
    CHECK(MPI_File_iread_shared(fh, got, 1, MPI_INT, &rq[0]));
    CHECK(MPI_Wait(&rq[0], &st)); mix_status(&st, MPI_INT);
    MPI_Barrier(MPI_COMM_WORLD);
    CHECK(MPI_File_iwrite_shared(fh, buf, 1, MPI_INT, &rq[0]));
    CHECK(MPI_Wait(&rq[0], &st)); mix_status(&st, MPI_INT);
    CHECK(MPI_File_iwrite_at_all(fh, (MPI_Offset)(6 * np + me) * N, buf, N, MPI_INT, &rq[1]));
    CHECK(MPI_Wait(&rq[1], MPI_STATUS_IGNORE));
    settle(fh);
    CHECK(MPI_File_iread_at_all(fh, (MPI_Offset)(6 * np + (me + 1) % np) * N, got, N, MPI_INT, &rq[2]));
    CHECK(MPI_Wait(&rq[2], MPI_STATUS_IGNORE)); mix(got, N * sizeof(int));
    CHECK(MPI_File_seek(fh, (MPI_Offset)(5 * np + me) * N, MPI_SEEK_SET));
    CHECK(MPI_File_iwrite_all(fh, buf, 4, MPI_INT, &rq[0]));
    CHECK(MPI_Wait(&rq[0], MPI_STATUS_IGNORE));
    settle(fh);
    CHECK(MPI_File_seek(fh, (MPI_Offset)(5 * np + (me + 1) % np) * N, MPI_SEEK_SET));
    CHECK(MPI_File_iread_all(fh, got, N, MPI_INT, &rq[3]));
    CHECK(MPI_Wait(&rq[3], &st)); mix_status(&st, MPI_INT); mix(got, N * sizeof(int));
    report("nonblocking");

    /* split collectives */
    for (int i = 0; i < N; i++)
        buf[i] = me * 5000 + i;
    CHECK(MPI_File_write_at_all_begin(fh, (MPI_Offset)(7 * np + me) * N, buf, N, MPI_INT));
    CHECK(MPI_File_write_at_all_end(fh, buf, &st)); mix_status(&st, MPI_INT);
    settle(fh);
    CHECK(MPI_File_read_at_all_begin(fh, (MPI_Offset)(7 * np + (me + 1) % np) * N, got, N, MPI_INT));
    CHECK(MPI_File_read_at_all_end(fh, got, &st)); mix(got, N * sizeof(int));
    CHECK(MPI_File_seek(fh, (MPI_Offset)(8 * np + me) * N, MPI_SEEK_SET));
    CHECK(MPI_File_write_all_begin(fh, buf, N, MPI_INT));
    CHECK(MPI_File_write_all_end(fh, buf, &st));
    settle(fh);
    CHECK(MPI_File_seek(fh, (MPI_Offset)(8 * np + (me + 1) % np) * N, MPI_SEEK_SET));
    CHECK(MPI_File_read_all_begin(fh, got, N, MPI_INT));
    CHECK(MPI_File_read_all_end(fh, got, &st)); mix(got, N * sizeof(int));
    CHECK(MPI_File_seek_shared(fh, (MPI_Offset)9 * np * N, MPI_SEEK_SET));
    CHECK(MPI_File_write_ordered_begin(fh, buf, N, MPI_INT));
    CHECK(MPI_File_write_ordered_end(fh, buf, &st));
    settle(fh);
    CHECK(MPI_File_seek_shared(fh, (MPI_Offset)9 * np * N, MPI_SEEK_SET));
    CHECK(MPI_File_read_ordered_begin(fh, got, N, MPI_INT));
    CHECK(MPI_File_read_ordered_end(fh, got, &st)); mix(got, N * sizeof(int));
    report("split");

    /* atomicity, sizes */
    CHECK(MPI_File_set_atomicity(fh, 1));
    CHECK(MPI_File_get_atomicity(fh, &atom)); mixi(atom);
    CHECK(MPI_File_write_at(fh, me, &me, 1, MPI_INT, &st));
    CHECK(MPI_File_set_atomicity(fh, 0));
    CHECK(MPI_File_get_atomicity(fh, &atom)); mixi(atom);
    settle(fh);
    CHECK(MPI_File_get_size(fh, &size)); mixi((long)size);
    MPI_Barrier(MPI_COMM_WORLD);
    CHECK(MPI_File_preallocate(fh, 65536)); /* the same size on every rank */
    CHECK(MPI_File_get_size(fh, &size)); mixi((long)size >= 0);
    CHECK(MPI_File_set_size(fh, 1000));
    CHECK(MPI_File_get_size(fh, &size)); mixi((long)size);
    MPI_Info_create(&info);
    MPI_Info_set(info, "access_style", "read_mostly");
    CHECK(MPI_File_set_info(fh, info));
    MPI_Info_free(&info);
    report("atomicity");

    /* error handlers: the program's handler gets its own file handle */
    MPI_Errhandler eh, eh2;
    CHECK(MPI_File_create_errhandler(on_file_error, &eh));
    CHECK(MPI_File_set_errhandler(fh, eh));
    CHECK(MPI_File_get_errhandler(fh, &eh2));
    MPI_Errhandler_free(&eh2);
    MPI_File_call_errhandler(fh, MPI_ERR_OTHER);
    mixi(handled_file == fh); mixi(handled_class);
    handled_file = MPI_FILE_NULL;
    int rc = MPI_File_read_at(fh, -1, got, 1, MPI_INT, &st); /* an invalid offset */
    mixi(rc != MPI_SUCCESS); mixi(handled_file == fh);
    MPI_Errhandler_free(&eh);
    MPI_Fint fi = MPI_File_c2f(fh);
    mixi(MPI_File_f2c(fi) == fh);
    CHECK(MPI_File_close(&fh)); mixi(fh == MPI_FILE_NULL);
    /* the default handler of files returns errors */
    rc = MPI_File_open(MPI_COMM_WORLD, "/nonexistent/dir/file", MPI_MODE_RDONLY, MPI_INFO_NULL, &fh);
    int cls = -1;
    MPI_Error_class(rc, &cls); mixi(rc != MPI_SUCCESS); mixi(cls == MPI_ERR_NO_SUCH_FILE || cls == MPI_ERR_FILE || cls == MPI_ERR_IO);
    report("errors");

    /* a user data representation (where the library has them) and delete on close */
    rc = MPI_Register_datarep("revive_test_rep", read_conv, write_conv, extent_fn, &conv_calls);
    mixi(rc == MPI_SUCCESS);
    CHECK(MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_RDWR | MPI_MODE_DELETE_ON_CLOSE, MPI_INFO_NULL, &fh));
    if (rc == MPI_SUCCESS) {
        rc = MPI_File_set_view(fh, 0, MPI_INT, MPI_INT, "revive_test_rep", MPI_INFO_NULL);
        mixi(rc == MPI_SUCCESS);
        if (rc == MPI_SUCCESS) {
            CHECK(MPI_File_write_at(fh, me * 4, buf, 4, MPI_INT, &st));
            CHECK(MPI_File_read_at(fh, me * 4, got, 4, MPI_INT, &st));
            mix(got, 4 * sizeof(int));
            mixi(conv_calls > 0);
        }
    }
    CHECK(MPI_File_close(&fh));
    MPI_Barrier(MPI_COMM_WORLD);
    mixi(access(path, F_OK) != 0);
    report("datarep");
    MPI_Finalize();
    return 0;
}
