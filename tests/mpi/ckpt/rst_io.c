/* An MPI-IO rank program for the restart tests (rst_io.sh): writes a file in steps through a
 * view (whose filetype it freed) and through explicit offsets, and a second file FILE.log through
 * the shared file pointer, and may checkpoint itself at a step without a coordinator (the layer's
 * pml_restart_capture, as rst_prog.c). The restarted job goes on writing to the files opened
 * again by Revive; at the end rank 0 reads both files back through their handles (not by name:
 * a restart with --relocate opened them elsewhere) and prints a checksum.
 *
 *   rst_io FILE STEPS [DIR CKPT_STEP[,CKPT_STEP2] [--exit]]
 *
 * The shared file pointer is used on a file whose view is the same on every rank: the standard
 * makes shared-pointer calls erroneous otherwise, and Open MPI's write_ordered through views that
 * differ per rank writes its own stack bytes into the holes (a native run's file differed from
 * run to run at 4 ranks).
 *
 * Rank 0 prints one line per step (the individual file pointer in etypes of the view, the shared
 * one of FILE.log) and a final line with the files' sizes and checksum.
 *
 * RST_IO_HOLD=PREFIX (rst_iochg.sh, a job under a coordinator): at the end of step S every rank
 * waits, outside MPI, while the file PREFIX.S exists (at most 10 minutes), so that the test takes
 * its snapshots and kills the job at steps it chose. The restarted process keeps the variable
 * (its environment is the image's). */
#define _GNU_SOURCE
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rst_step.h"

#define B 16

static int rank, size;

const char rst_name[] = "rst_io";

static void hold(int s)
{
    const char *p = getenv("RST_IO_HOLD");
    if (!p || !*p)
        return;
    char f[4200];
    snprintf(f, sizeof f, "%s.%d", p, s);
    struct timespec d = {0, 20 * 1000 * 1000};
    for (int i = 0; i < 30000 && access(f, F_OK) == 0; i++)
        nanosleep(&d, NULL);
}

int main(int argc, char **argv)
{
    const char *file = argc > 1 ? argv[1] : "";
    struct rst_args args = rst_start(&argc, &argv, 2, "FILE ", &rank, &size);
    MPI_File fh, lh;
    char logname[4200];
    snprintf(logname, sizeof logname, "%s.log", file);
    CHECK(MPI_File_open(MPI_COMM_WORLD, file, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL, &fh));
    CHECK(MPI_File_open(MPI_COMM_WORLD, logname, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL,
                        &lh));
    /* RST_IO_TWICE=1: FILE has a second handle, read-only, open to the end (rst_io.sh: one note) */
    MPI_File th = MPI_FILE_NULL;
    const char *twice = getenv("RST_IO_TWICE");
    if (twice && *twice == '1')
        CHECK(MPI_File_open(MPI_COMM_WORLD, file, MPI_MODE_RDONLY, MPI_INFO_NULL, &th));
    /* the same view on every rank (see the comment above): ints after a header of 32 bytes */
    CHECK(MPI_File_set_view(lh, 32, MPI_INT, MPI_INT, "native", MPI_INFO_NULL));
    /* the view: rank r's blocks of B ints, interleaved, after a header of 64 bytes */
    MPI_Datatype blk, ft;
    MPI_Type_contiguous(B, MPI_INT, &blk);
    MPI_Type_create_resized(blk, 0, (MPI_Aint)B * (MPI_Aint)sizeof(int) * size, &ft);
    MPI_Type_commit(&ft);
    CHECK(MPI_File_set_view(fh, 64 + (MPI_Offset)rank * B * (MPI_Offset)sizeof(int), MPI_INT, ft,
                            "native", MPI_INFO_NULL));
    MPI_Type_free(&ft);
    MPI_Type_free(&blk);
    /* offsets in etypes of the views: explicit ones from 4096, the shared pointer from 100 */
    MPI_Offset region = 4096;
    CHECK(MPI_File_seek_shared(lh, 100, MPI_SEEK_SET));
    for (int s = 0; s < args.steps; s++) {
        int buf[B];
        for (int i = 0; i < B; i++)
            buf[i] = (s * size + rank) * 100 + i;
        CHECK(MPI_File_write_all(fh, buf, B, MPI_INT, MPI_STATUS_IGNORE));
        MPI_Request rq;
        CHECK(MPI_File_iwrite_at(fh, region + (MPI_Offset)s * size + rank, &buf[1], 1, MPI_INT, &rq));
        CHECK(MPI_Wait(&rq, MPI_STATUS_IGNORE));
        CHECK(MPI_File_write_ordered(lh, &buf[2], 1 + (rank & 1), MPI_INT, MPI_STATUS_IGNORE));
        MPI_Offset pos, spos;
        CHECK(MPI_File_get_position(fh, &pos));
        CHECK(MPI_File_get_position_shared(lh, &spos));
        if (rank == 0)
            printf("step %d: %lld %lld\n", s, (long long)pos, (long long)spos);
        rst_step_end(&args, s);
        hold(s);
    }
    CHECK(MPI_File_sync(fh));
    CHECK(MPI_File_sync(lh));
    CHECK(MPI_Barrier(MPI_COMM_WORLD));
    CHECK(MPI_File_sync(fh));
    CHECK(MPI_File_sync(lh));
    MPI_Offset fsize, lsize;
    CHECK(MPI_File_get_size(fh, &fsize));
    CHECK(MPI_File_get_size(lh, &lsize));
    /* both files read back through their handles, not by name: a restart with --relocate has
     * opened them elsewhere (rst_io.sh) */
    CHECK(MPI_File_set_view(fh, 0, MPI_BYTE, MPI_BYTE, "native", MPI_INFO_NULL));
    CHECK(MPI_File_set_view(lh, 0, MPI_BYTE, MPI_BYTE, "native", MPI_INFO_NULL));
    uint64_t h = 1469598103934665603ull;
    if (rank == 0) {
        MPI_File hs[2] = {fh, lh};
        MPI_Offset sz[2] = {fsize, lsize};
        for (int i = 0; i < 2; i++) {
            unsigned char *b = malloc((size_t)sz[i] + 1);
            if (!b)
                rst_die("out of memory to read a file back");
            CHECK(MPI_File_read_at(hs[i], 0, b, (int)sz[i], MPI_BYTE, MPI_STATUS_IGNORE));
            for (MPI_Offset k = 0; k < sz[i]; k++) {
                h ^= b[k];
                h *= 1099511628211ull;
            }
            free(b);
        }
    }
    if (th != MPI_FILE_NULL)
        CHECK(MPI_File_close(&th));
    CHECK(MPI_File_close(&fh));
    CHECK(MPI_File_close(&lh));
    if (rank == 0)
        printf("done: %d steps on %d ranks, files %lld and %lld bytes, checksum %016llx\n", args.steps,
               size, (long long)fsize, (long long)lsize, (unsigned long long)h);
    CHECK(MPI_Finalize());
    return 0;
}
