/* term_attrcb STEPS PACEFILE MS LOG: the hook libraries use to close their files at the end (HDF5,
 * PETSc, ADIOS): attributes whose delete callbacks run when their object goes, on MPI_COMM_SELF
 * and MPI_COMM_WORLD (in MPI_Finalize) and on a window (at MPI_Win_free). Every rank sets the
 * three, then runs STEPS steps of an Allreduce, rank 0 printing "step I: SUM", paced as
 * rst_pace.h says; then frees its window and finalizes, rank 0 printing "done: STEPS steps"
 * before. Each callback prints "callback: rank R WHAT at step S" and appends the same line to
 * the file LOG (term_attrcb.sh: a job ended by --term must show none of them, its restart each
 * once, at the last step, as natively). Error handlers of the program's own on MPI_COMM_WORLD,
 * MPI_COMM_SELF, the window and an MPI file each rank keeps open (LOG.R.dat, closed before the
 * window is freed) do the same ("... error handler ..."): no call of the program's fails, so
 * natively none runs; under REVIVE_FAULT=mpi-term-errors the --term give-back raises an error
 * on each, and none may run after the capture either. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "rst_pace.h"

static int me, step;
static const char *log_path;

static int said(const char *what)
{
    printf("callback: rank %d %s at step %d\n", me, what, step);
    fflush(stdout);
    FILE *f = fopen(log_path, "a");
    if (f) {
        fprintf(f, "callback: rank %d %s at step %d\n", me, what, step);
        fclose(f);
    }
    return MPI_SUCCESS;
}

static int del_self(MPI_Comm c, int kv, void *val, void *extra)
{
    (void)c, (void)kv, (void)val, (void)extra;
    return said("MPI_COMM_SELF delete");
}

static int del_world(MPI_Comm c, int kv, void *val, void *extra)
{
    (void)c, (void)kv, (void)val, (void)extra;
    return said("MPI_COMM_WORLD delete");
}

static int del_win(MPI_Win w, int kv, void *val, void *extra)
{
    (void)w, (void)kv, (void)val, (void)extra;
    return said("window delete");
}

static void eh_comm(MPI_Comm *c, int *err, ...)
{
    (void)err;
    said(*c == MPI_COMM_WORLD ? "MPI_COMM_WORLD error handler"
         : *c == MPI_COMM_SELF ? "MPI_COMM_SELF error handler" : "communicator error handler");
}

static void eh_win(MPI_Win *w, int *err, ...)
{
    (void)w, (void)err;
    said("window error handler");
}

static void eh_file(MPI_File *f, int *err, ...)
{
    (void)f, (void)err;
    said("file error handler");
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: term_attrcb STEPS PACEFILE MS LOG\n");
        return 2;
    }
    int steps = atoi(argv[1]);
    const char *pace = argv[2];
    long ms = atol(argv[3]);
    log_path = argv[4];
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    int kself, kworld, kwin;
    MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, del_self, &kself, NULL);
    MPI_Comm_create_keyval(MPI_COMM_NULL_COPY_FN, del_world, &kworld, NULL);
    MPI_Win_create_keyval(MPI_WIN_NULL_COPY_FN, del_win, &kwin, NULL);
    MPI_Comm_set_attr(MPI_COMM_SELF, kself, NULL);
    MPI_Comm_set_attr(MPI_COMM_WORLD, kworld, NULL);
    long *mem; /* (Open MPI 4.1's MPI_Win_create on static memory failed here: MPI_ERR_WIN) */
    MPI_Win win;
    MPI_Win_allocate(16 * sizeof *mem, sizeof *mem, MPI_INFO_NULL, MPI_COMM_WORLD, &mem, &win);
    MPI_Win_set_attr(win, kwin, NULL);
    MPI_Errhandler ec, ew, ef;
    MPI_Comm_create_errhandler(eh_comm, &ec);
    MPI_Win_create_errhandler(eh_win, &ew);
    MPI_File_create_errhandler(eh_file, &ef);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, ec);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, ec);
    MPI_Win_set_errhandler(win, ew);
    char dat[4096];
    snprintf(dat, sizeof dat, "%s.%d.dat", log_path, me);
    MPI_File fh;
    if (MPI_File_open(MPI_COMM_SELF, dat, MPI_MODE_CREATE | MPI_MODE_RDWR, MPI_INFO_NULL, &fh) != MPI_SUCCESS) {
        fprintf(stderr, "rank %d: cannot open %s\n", me, dat);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    MPI_File_set_errhandler(fh, ef);
    MPI_Errhandler_free(&ec);
    MPI_Errhandler_free(&ew);
    MPI_Errhandler_free(&ef);
    for (step = 0; step < steps; step++) {
        int x = step + me, s = 0;
        MPI_Allreduce(&x, &s, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        if (me == 0) {
            printf("step %d: %d\n", step, s);
            fflush(stdout);
        }
        MPI_File_write_at(fh, (MPI_Offset)step * (MPI_Offset)sizeof s, &s, 1, MPI_INT, MPI_STATUS_IGNORE);
        rst_pace(pace, ms, steps - 1 - step);
    }
    MPI_File_close(&fh);
    MPI_Win_free(&win);
    if (me == 0) {
        printf("done: %d steps\n", steps);
        fflush(stdout);
    }
    MPI_Finalize();
    return 0;
}
