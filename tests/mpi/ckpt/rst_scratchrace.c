/* One scratch file (MPI_MODE_DELETE_ON_CLOSE) through a handle per rank on MPI_COMM_SELF and one
 * on MPI_COMM_WORLD, found outdated at a restart (rst_scratchrace.sh; diffrev43/44 R-H2):
 *
 *   rst_scratchrace STEPS CKPT_STEP HOLD_STEP HOLDFILE [FILE]
 *
 * At step 0 every rank opens scratch.tmp (in the working folder) on MPI_COMM_SELF, then all of
 * them on MPI_COMM_WORLD, each with MPI_MODE_CREATE | MPI_MODE_RDWR | MPI_MODE_DELETE_ON_CLOSE.
 * Each step every rank reads its own block through its MPI_COMM_SELF handle, changes it and
 * writes it back; after MPI_File_sync, a barrier and MPI_File_sync of both handles it reads its
 * left neighbour's block through its MPI_COMM_SELF handle and its right neighbour's through the
 * MPI_COMM_WORLD one: rank 0 prints a digest of what the ranks read ("step S: D"), so ranks that
 * no longer share one file print other lines. At CKPT_STEP, under Revive, every rank calls
 * MPIX_Checkpoint. At HOLD_STEP rank 0 makes HOLDFILE.held and the ranks wait until HOLDFILE
 * exists (the test kills the job there, or looks at the ranks' descriptors: one inode, none
 * deleted). The file is closed (deleted) after the last step.
 *
 * With FILE (tests/hosts/scratch.sh), each rank opens FILE ("%d" in it: the rank's number) on
 * MPI_COMM_SELF alone, as a program's per-rank out-of-core file, in a node-local or shared
 * folder: no MPI_COMM_WORLD handle (a node-local file is not one file for the job), each rank
 * reads back only its own block, and rank 0 prints a digest of the ranks' blocks. */
#define _GNU_SOURCE
#include "tests/mpi/mpitest.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpix_ckpt.h"

#define BLK 2048 /* longs per rank */
#define NAME "scratch.tmp"

static long digest(const long *v, int n)
{
    unsigned long h = 1469598103934665603ul;
    for (int i = 0; i < n; i++)
        h = (h ^ (unsigned long)v[i]) * 1099511628211ul;
    return (long)(h >> 1);
}

static void hold(const char *file)
{
    if (me == 0) {
        char held[4096];
        snprintf(held, sizeof held, "%s.held", file);
        FILE *f = fopen(held, "w");
        if (f)
            fclose(f);
    }
    for (;;) {
        int go = me == 0 && access(file, F_OK) == 0;
        CHECK(MPI_Bcast(&go, 1, MPI_INT, 0, MPI_COMM_WORLD));
        if (go)
            break;
        usleep(20000);
    }
}

int main(int argc, char **argv)
{
    start(&argc, &argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 5) {
        fprintf(stderr, "usage: rst_scratchrace STEPS CKPT_STEP HOLD_STEP HOLDFILE [FILE]\n");
        return 2;
    }
    int steps = atoi(argv[1]), ckpt_at = atoi(argv[2]), hs = atoi(argv[3]);
    int revive = dlsym(RTLD_DEFAULT, "revive_mpix_checkpoint") != NULL;
    static long mine[BLK], left[BLK], right[BLK];
    MPI_File fs, fw;
    int amode = MPI_MODE_CREATE | MPI_MODE_RDWR | MPI_MODE_DELETE_ON_CLOSE;
    char name[4096];
    int own = argc > 5; /* FILE: one MPI_COMM_SELF handle, each rank its own block */
    const char *pat = own ? argv[5] : NAME, *pc = strstr(pat, "%d");
    if (pc)
        snprintf(name, sizeof name, "%.*s%d%s", (int)(pc - pat), pat, me, pc + 2);
    else
        snprintf(name, sizeof name, "%s", pat);
    CHECK(MPI_File_open(MPI_COMM_SELF, name, amode, MPI_INFO_NULL, &fs));
    if (!own)
        CHECK(MPI_File_open(MPI_COMM_WORLD, NAME, amode, MPI_INFO_NULL, &fw));
    MPI_Offset at = (MPI_Offset)me * BLK * (MPI_Offset)sizeof(long);
    MPI_Offset lat = (MPI_Offset)((me + np - 1) % np) * BLK * (MPI_Offset)sizeof(long);
    MPI_Offset rat = (MPI_Offset)((me + 1) % np) * BLK * (MPI_Offset)sizeof(long);
    for (int i = 0; i < BLK; i++)
        mine[i] = me * 1000003L + i;
    CHECK(MPI_File_write_at(fs, at, mine, BLK, MPI_LONG, MPI_STATUS_IGNORE));
    for (int s = 0; s < steps; s++) {
        if (s == hs)
            hold(argv[4]);
        CHECK(MPI_File_read_at(fs, at, mine, BLK, MPI_LONG, MPI_STATUS_IGNORE));
        for (int i = 0; i < BLK; i++)
            mine[i] = mine[i] * 3 + s + i % 7;
        CHECK(MPI_File_write_at(fs, at, mine, BLK, MPI_LONG, MPI_STATUS_IGNORE));
        CHECK(MPI_File_sync(fs));
        CHECK(MPI_Barrier(MPI_COMM_WORLD));
        CHECK(MPI_File_sync(fs));
        if (own) {
            CHECK(MPI_File_read_at(fs, at, left, BLK, MPI_LONG, MPI_STATUS_IGNORE));
        } else {
            CHECK(MPI_File_sync(fw));
            CHECK(MPI_File_read_at(fs, lat, left, BLK, MPI_LONG, MPI_STATUS_IGNORE));
            CHECK(MPI_File_read_at(fw, rat, right, BLK, MPI_LONG, MPI_STATUS_IGNORE));
        }
        long got = digest(left, BLK) + (own ? 0 : 7 * digest(right, BLK)), sum = 0;
        CHECK(MPI_Reduce(&got, &sum, 1, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD));
        if (me == 0)
            printf("step %d: %ld\n", s, sum);
        CHECK(MPI_Barrier(MPI_COMM_WORLD)); /* every read done before the next write */
        if (s == ckpt_at && revive) {
            int flag = -1;
            if (MPIX_Checkpoint(&flag) != MPI_SUCCESS) {
                fprintf(stderr, "rank %d: MPIX_Checkpoint failed at step %d\n", me, s);
                return 3;
            }
            if (flag == MPIX_CKPT_RESTARTED)
                fprintf(stderr, "rank %d restarted at step %d\n", me, s);
        }
    }
    if (!own)
        CHECK(MPI_File_close(&fw));
    MPI_File_close(&fs); /* the first close deleted it: an error, not looked at */
    if (me == 0)
        printf("done: %d steps\n", steps);
    MPI_Finalize();
    return 0;
}
