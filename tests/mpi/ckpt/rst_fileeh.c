/* rst_fileeh STEPS PACEFILE MS (rst_fileeh.sh FLAVOR): a file's error handler the program frees
 * once it has set it, so that only the file (and in the layer, the layer's reference) holds it:
 * called through the file every step; after the last step got back from the file, called, freed,
 * the file closed, and 20 more error handlers made and freed. Rank 0 prints the calls' running
 * sum per step and at the end. After a restart the layer must give back the reference the
 * replay's MPI_File_create_errhandler made, the program's free having come before the snapshot
 * (else the fresh library keeps the object for good: lib47's finding), and never one more (MPICH
 * asserts "ref_count >= 0", Open MPI's heap breaks). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include "rst_pace.h"

static long calls;

static void on_file(MPI_File *f, int *code, ...)
{
    (void)f;
    calls += *code;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: rst_fileeh STEPS PACEFILE MS\n");
        return 2;
    }
    int steps = atoi(argv[1]), rank;
    const char *pace = argv[2];
    long ms = atol(argv[3]);
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_File fh;
    MPI_Errhandler e;
    char path[4096];
    snprintf(path, sizeof path, "%s.dat", pace);
    if (MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL, &fh) ||
        MPI_File_create_errhandler(on_file, &e) || MPI_File_set_errhandler(fh, e) ||
        MPI_Errhandler_free(&e)) {
        fprintf(stderr, "rst_fileeh: making the file and its error handler failed\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    for (int s = 0; s < steps; s++) {
        MPI_File_call_errhandler(fh, s + 1);
        MPI_Barrier(MPI_COMM_WORLD);
        if (rank == 0)
            printf("step %d: %ld\n", s, calls);
        fflush(stdout);
        rst_pace(pace, ms, steps - s);
    }
    MPI_Errhandler g;
    MPI_File_get_errhandler(fh, &g);
    MPI_File_call_errhandler(fh, 100);
    MPI_Errhandler_free(&g);
    MPI_File_close(&fh);
    for (int i = 0; i < 20; i++) {
        MPI_File_create_errhandler(on_file, &g);
        MPI_Errhandler_free(&g);
    }
    if (rank == 0)
        printf("done: %ld\n", calls);
    MPI_Finalize();
    return 0;
}
