/* state_file STEPS PACEFILE MS FILE: each rank keeps its state between steps in the file
 * FILE.<rank> only, as Quantum ESPRESSO's pw.x keeps its MD state in outdir/PREFIX.md (newuser7e
 * F2): at each step it opens the file, reads the state, advances it, rewrites the file whole and
 * closes it, so the file is open at no snapshot and its bytes are in no image. Then an Allreduce
 * of the states; rank 0 prints each step's sum ("step N: SUM") and at the end "done: STEPS SUM".
 * The loop's step counter is memory, the state is the file's: a restart that finds the file as a
 * later run left it (a snapshot of a job that ran on, a second restart of one snapshot) goes on
 * from the wrong state, and its sums differ from an uninterrupted run's (state_file.sh).
 * The file holds the step that wrote it too: a rank that reads a step other than the one its
 * memory is at says so on its standard error ("... is not the one of its snapshot"): a restart
 * whose state file is not its image's (a file a rank rewrote after its capture: hold37, --stop).
 * Paced as rst_pace.h's programs (PACEFILE, MS). */
#include <inttypes.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "rst_pace.h"

static int rank;

static void put(const char *path, uint64_t v, int step)
{
    FILE *f = fopen(path, "w");
    if (!f || fprintf(f, "%" PRIu64 " %d\n", v, step) < 0 || fclose(f) != 0) {
        perror(path);
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
}

/* The state the file holds; STEP: the step the rank's memory is at (the last one it wrote) */
static uint64_t get(const char *path, int step)
{
    uint64_t v = 0;
    int at = -1;
    FILE *f = fopen(path, "r");
    if (!f || fscanf(f, "%" SCNu64 " %d", &v, &at) != 2) {
        fprintf(stderr, "state_file: cannot read the state in %s\n", path);
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
    fclose(f);
    if (at != step)
        fprintf(stderr, "state_file: rank %d: %s holds step %d, the rank's memory is at step %d: the "
                "file is not the one of its snapshot\n", rank, path, at, step);
    return v;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (argc != 5) {
        if (rank == 0)
            fprintf(stderr, "usage: state_file STEPS PACEFILE MS FILE\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    int steps = atoi(argv[1]);
    long ms = atol(argv[3]);
    char path[4096];
    snprintf(path, sizeof path, "%s.%d", argv[4], rank);
    put(path, (uint64_t)rank + 1, 0);
    uint64_t sum = 0;
    for (int i = 1; i <= steps; i++) {
        /* the state: read, advanced (a 64-bit LCG step, the step and the rank mixed in), rewritten */
        uint64_t v = get(path, i - 1) * 6364136223846793005ull + 1442695040888963407ull + (uint64_t)i * 31 +
                     (uint64_t)rank;
        put(path, v, i);
        MPI_Allreduce(&v, &sum, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
        if (rank == 0) {
            printf("step %d: %" PRIu64 "\n", i, sum);
            fflush(stdout);
        }
        rst_pace(argv[2], ms, steps - i);
    }
    if (rank == 0) {
        printf("done: %d %" PRIu64 "\n", steps, sum);
        fflush(stdout);
    }
    MPI_Finalize();
    return 0;
}
