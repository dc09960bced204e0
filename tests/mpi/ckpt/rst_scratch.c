/* A scratch file (MPI_MODE_DELETE_ON_CLOSE) open across global snapshots and two restarts
 * (rst_mpi4.sh FLAVOR rst_scratch, both MPIs):
 *
 *   rst_scratch STEPS CKPT_STEP CKPT_STEP2
 *
 * scratch.tmp is opened at step 0 on MPI_COMM_WORLD with MPI_MODE_CREATE | MPI_MODE_RDWR |
 * MPI_MODE_DELETE_ON_CLOSE and closed at step 5 (after the snapshots of steps 2 and 4). Each
 * step every rank reads its own block, adds the step to it and writes it back, then (synced,
 * after a barrier) reads its right neighbour's block: rank 0 prints a digest of what the ranks
 * read, so a file that lost or changed its contents gives other lines. After the close rank 0
 * says whether the file is gone, as the standard says it must be.
 *
 * Before the fix, the job's close deleted the file, and every restart of a snapshot taken while
 * it was open was refused ("the MPI file .../scratch.tmp, open at the snapshot, is gone"); on
 * MPICH the second restart (newuser13 F1).
 *
 * The file has two more handles: a second one on MPI_COMM_WORLD, through which the neighbour's
 * block is read, and one on MPI_COMM_SELF per rank, through which the left neighbour's block is
 * read. A restart that gave each handle its own file (each moving its copy over the path: the
 * handles opened before held files no longer there) read stale blocks after it (diffrev43 R-H2). */
#define _GNU_SOURCE
#include "tests/mpi/mpitest.h"
#include "rst_mpi4.h"

#include <unistd.h>

#define BLK 4096 /* longs per rank */
#define NAME "scratch.tmp"

int main(int argc, char **argv)
{
    struct mpi4_run run = mpi4_start(&argc, &argv, "rst_scratch");
    static long mine[BLK], right[BLK];
    static long left[BLK];
    MPI_File fh = MPI_FILE_NULL, fh2 = MPI_FILE_NULL, fh3 = MPI_FILE_NULL;
    for (int s = 0; s < run.steps; s++) {
        if (s == 0) {
            CHECK(MPI_File_open(MPI_COMM_WORLD, NAME,
                                MPI_MODE_CREATE | MPI_MODE_RDWR | MPI_MODE_DELETE_ON_CLOSE,
                                MPI_INFO_NULL, &fh));
            for (int i = 0; i < BLK; i++)
                mine[i] = me * 1000003L + i;
            CHECK(MPI_File_write_at(fh, (MPI_Offset)me * BLK * (MPI_Offset)sizeof(long), mine, BLK,
                                    MPI_LONG, MPI_STATUS_IGNORE));
            CHECK(MPI_File_open(MPI_COMM_WORLD, NAME, MPI_MODE_RDWR | MPI_MODE_DELETE_ON_CLOSE,
                                MPI_INFO_NULL, &fh2));
            CHECK(MPI_File_open(MPI_COMM_SELF, NAME, MPI_MODE_RDWR | MPI_MODE_DELETE_ON_CLOSE,
                                MPI_INFO_NULL, &fh3));
        }
        long got = 0;
        if (fh != MPI_FILE_NULL) {
            MPI_Offset at = (MPI_Offset)me * BLK * (MPI_Offset)sizeof(long);
            CHECK(MPI_File_read_at(fh, at, mine, BLK, MPI_LONG, MPI_STATUS_IGNORE));
            for (int i = 0; i < BLK; i++)
                mine[i] = mine[i] * 3 + s + i % 7;
            CHECK(MPI_File_write_at(fh, at, mine, BLK, MPI_LONG, MPI_STATUS_IGNORE));
            CHECK(MPI_File_sync(fh));
            CHECK(MPI_Barrier(MPI_COMM_WORLD));
            CHECK(MPI_File_sync(fh));
            CHECK(MPI_File_sync(fh2));
            CHECK(MPI_File_sync(fh3));
            MPI_Offset rat = (MPI_Offset)((me + 1) % np) * BLK * (MPI_Offset)sizeof(long);
            MPI_Offset lat = (MPI_Offset)((me + np - 1) % np) * BLK * (MPI_Offset)sizeof(long);
            CHECK(MPI_File_read_at(fh2, rat, right, BLK, MPI_LONG, MPI_STATUS_IGNORE));
            CHECK(MPI_File_read_at(fh3, lat, left, BLK, MPI_LONG, MPI_STATUS_IGNORE));
            got = mpi4_digest(right, BLK) + 7 * mpi4_digest(left, BLK);
            CHECK(MPI_Barrier(MPI_COMM_WORLD)); /* every read done before the next write */
        }
        mpi4_ckpt_step(&run, s);
        if (getenv("RST_SCRATCH_PACE_MS")) /* room for a ckpt-mpirun --term by hand */
            usleep((useconds_t)atoi(getenv("RST_SCRATCH_PACE_MS")) * 1000);
        const char *what = s > 5 ? "closed" : "open";
        if (s == 5) {
            CHECK(MPI_File_close(&fh));
            what = access(NAME, F_OK) == 0 ? "closed, still there" : "closed, gone";
            CHECK(MPI_Barrier(MPI_COMM_WORLD)); /* every rank looked before the others close */
            MPI_File_close(&fh2); /* their deletes find the file gone: an error, not looked at */
            MPI_File_close(&fh3);
        }
        long g = mpi4_sum(got);
        if (me == 0)
            printf("step %d: %ld; scratch file %s\n", s, g, what);
    }
    if (me == 0)
        printf("done: %d steps\n", run.steps);
    MPI_Finalize();
    return 0;
}
