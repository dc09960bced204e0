/* MPI-IO for checkpoints at random moments (tests/mpi/ckpt): snapshots land inside I/O phases
 * (between a split collective's begin and end, while nonblocking writes are pending, with a view
 * and both file pointers moved); the file read back at the end and the checksums must not change.
 *   - a view of interleaved blocks per rank, collective writes through it (write_all)
 *   - explicit offsets, blocking (write_at) and nonblocking (iwrite_at, completed after a
 *     collective on a communicator where a snapshot may park the rank)
 *   - write_all_begin ... (an Allreduce) ... write_all_end
 *   - write_ordered through the shared file pointer
 * Usage: ck_io [ROUNDS] */
#include <unistd.h>

#include "tests/mpi/mpitest.h"

#define B 16 /* ints per rank and block */

int main(int argc, char **argv)
{
    start(&argc, &argv);
    int rounds = argc > 1 ? atoi(argv[1]) : 100;
    char path[256], path2[300];
    if (me == 0) {
        const char *d = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/revive-ckio-%d.dat", d && *d ? d : "/tmp", (int)getpid());
    }
    MPI_Bcast(path, sizeof path, MPI_CHAR, 0, MPI_COMM_WORLD);
    snprintf(path2, sizeof path2, "%s.shared", path);
    MPI_File fv, fx, fs;
    MPI_File_delete(path, MPI_INFO_NULL);
    MPI_File_delete(path2, MPI_INFO_NULL);
    CHECK(MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL, &fv));
    CHECK(MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_RDWR, MPI_INFO_NULL, &fx));
    CHECK(MPI_File_open(MPI_COMM_WORLD, path2, MPI_MODE_CREATE | MPI_MODE_RDWR | MPI_MODE_DELETE_ON_CLOSE,
                        MPI_INFO_NULL, &fs));
    /* fv: rank r owns block r of every group of np blocks, in the first half of the file */
    MPI_Datatype blk, ft;
    MPI_Type_contiguous(B, MPI_INT, &blk);
    MPI_Type_create_resized(blk, 0, (MPI_Aint)B * (MPI_Aint)sizeof(int) * np, &ft);
    MPI_Type_commit(&ft);
    CHECK(MPI_File_set_view(fv, (MPI_Offset)me * B * (MPI_Offset)sizeof(int), MPI_INT, ft, "native",
                            MPI_INFO_NULL));
    MPI_Type_free(&ft);
    MPI_Type_free(&blk);
    /* fx: explicit offsets in the second half */
    MPI_Offset half = (MPI_Offset)rounds * 3 * np * B * (MPI_Offset)sizeof(int);
    int buf[B], buf2[B], buf3[B];
    long acc = 0;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < B; i++)
            buf[i] = (r * np + me) * 1000 + i;
        /* through the view: one block per round and rank, collectively */
        CHECK(MPI_File_write_all(fv, buf, B, MPI_INT, MPI_STATUS_IGNORE));
        /* explicit offset, nonblocking, completed after a collective */
        MPI_Request rq;
        for (int i = 0; i < B; i++)
            buf2[i] = -buf[i];
        CHECK(MPI_File_iwrite_at(fx, half + ((MPI_Offset)r * np + me) * B * (MPI_Offset)sizeof(int),
                                 buf2, B, MPI_INT, &rq));
        spin(me + 1);
        long v = r + me, s = 0;
        CHECK(MPI_Allreduce(&v, &s, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD));
        acc += s;
        CHECK(MPI_Wait(&rq, MPI_STATUS_IGNORE));
        /* a split collective with a collective on the communicator inside */
        for (int i = 0; i < B; i++)
            buf3[i] = buf[i] + 7;
        CHECK(MPI_File_write_all_begin(fv, buf3, B, MPI_INT));
        spin(np - me);
        CHECK(MPI_Allreduce(&v, &s, 1, MPI_LONG, MPI_MAX, MPI_COMM_WORLD));
        acc += s;
        MPI_Status st;
        CHECK(MPI_File_write_all_end(fv, buf3, &st));
        int cnt = -1;
        MPI_Get_count(&st, MPI_INT, &cnt);
        mixi(cnt);
        /* the shared pointer, in rank order */
        CHECK(MPI_File_write_ordered(fs, buf, 2, MPI_INT, MPI_STATUS_IGNORE));
        if (r % 7 == 3)
            CHECK(MPI_Barrier(MPI_COMM_WORLD));
    }
    MPI_Offset pos, spos;
    CHECK(MPI_File_get_position(fv, &pos));
    CHECK(MPI_File_get_position_shared(fs, &spos));
    mixi((long)pos);
    mixi((long)spos);
    mixi(acc);
    report("write");
    /* everything back: sync-barrier-sync, then each rank reads the whole file */
    CHECK(MPI_File_sync(fv));
    CHECK(MPI_File_sync(fx));
    CHECK(MPI_Barrier(MPI_COMM_WORLD));
    CHECK(MPI_File_sync(fv));
    MPI_Offset size;
    CHECK(MPI_File_get_size(fx, &size));
    mixi((long)size);
    size_t nints = (size_t)(size / (MPI_Offset)sizeof(int));
    int *all = malloc(nints * sizeof(int) + 1);
    CHECK(MPI_File_read_at(fx, 0, all, (int)nints, MPI_INT, MPI_STATUS_IGNORE));
    mix(all, nints * sizeof(int));
    free(all);
    CHECK(MPI_File_get_size(fs, &size));
    mixi((long)size);
    int sh[4];
    CHECK(MPI_File_read_at(fs, 0, sh, 4, MPI_INT, MPI_STATUS_IGNORE));
    mix(sh, sizeof sh);
    report("read");
    CHECK(MPI_File_close(&fv));
    CHECK(MPI_File_close(&fx));
    CHECK(MPI_File_close(&fs));
    MPI_Barrier(MPI_COMM_WORLD);
    if (me == 0)
        MPI_File_delete(path, MPI_INFO_NULL);
    MPI_Finalize();
    return 0;
}
