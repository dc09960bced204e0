/* save_mpifile STEPS PACEFILE MS FILE: an MPI file open for the whole run (MPI_File_open once,
 * as parallel HDF5, NetCDF-4 and ADIOS keep their output open), written at every step: each
 * rank puts its 4 KiB block of step S at ((S * size + rank) * 4 KiB) with MPI_File_write_at_all,
 * then the ranks read back the whole of what is written so far and rank 0 prints its checksum
 * ("step S: SUM"); "done: STEPS SUM" at the end. The sums are the file's: a restart that finds
 * the file as a later run left it (a second restart of one snapshot) still prints the same sums
 * (the later blocks are written again with the same bytes), so save_mpifile.sh compares the
 * file itself too. Paced as rst_pace.h's programs. */
#include <inttypes.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rst_pace.h"

#define BLOCK 4096

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: save_mpifile STEPS PACEFILE MS FILE\n");
        return 2;
    }
    struct rst_run r = rst_begin(&argc, &argv, "save_mpifile");
    MPI_File fh;
    if (MPI_File_open(MPI_COMM_WORLD, argv[4], MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL, &fh) !=
        MPI_SUCCESS) {
        fprintf(stderr, "save_mpifile: cannot open %s\n", argv[4]);
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
    static unsigned char block[BLOCK], all[BLOCK * 64];
    uint64_t sum = 0;
    for (int s = 0; s < r.steps; s++) {
        for (int i = 0; i < BLOCK; i++)
            block[i] = (unsigned char)(s * 31 + r.me * 7 + i);
        MPI_Offset at = ((MPI_Offset)s * r.np + r.me) * BLOCK;
        MPI_File_write_at_all(fh, at, block, BLOCK, MPI_BYTE, MPI_STATUS_IGNORE);
        MPI_File_sync(fh);
        MPI_Barrier(MPI_COMM_WORLD);
        MPI_File_sync(fh);
        /* the whole file so far, in pieces of at most 64 blocks */
        MPI_Offset len = (MPI_Offset)(s + 1) * r.np * BLOCK;
        uint64_t h = 1469598103934665603ULL;
        for (MPI_Offset off = 0; off < len; off += (MPI_Offset)sizeof all) {
            int n = (int)(len - off < (MPI_Offset)sizeof all ? len - off : (MPI_Offset)sizeof all);
            MPI_File_read_at_all(fh, off, all, n, MPI_BYTE, MPI_STATUS_IGNORE);
            for (int i = 0; i < n; i++)
                h = (h ^ all[i]) * 1099511628211ULL;
        }
        sum = h;
        if (r.me == 0) {
            printf("step %d: %" PRIu64 "\n", s, sum);
            fflush(stdout);
        }
        rst_pace(r.pace, r.ms, r.steps - 1 - s);
    }
    MPI_File_close(&fh);
    if (r.me == 0)
        printf("done: %d %" PRIu64 "\n", r.steps, sum);
    MPI_Finalize();
    return 0;
}
