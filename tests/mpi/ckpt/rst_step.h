/* What the self-checkpointing rank programs of the restart tests (rst_prog.c, rst_io.c,
 * rst_rma.c, rst_attr.c, rst_legacy.c) share: failing in one line, their command line and start,
 * and the checkpoint a program takes of itself at a step without a coordinator (Revive's MPI
 * layer's pml_restart_capture, which the agent's capture uses). */
#ifndef REVIVE_TESTS_RST_STEP_H
#define REVIVE_TESTS_RST_STEP_H

#include <mpi.h>

/* The program's name in its messages; each program defines it. */
extern const char rst_name[];

/* Prints "NAME rank R: FAIL: WHAT" and ends the job (MPI_Abort, status 3). */
_Noreturn void rst_die(const char *what);

#define CHECK(call)                                                                               \
    do {                                                                                          \
        if ((call) != MPI_SUCCESS)                                                                \
            rst_die(#call);                                                                       \
    } while (0)

/* Every rank writes DIR/s<STEP>/rank_<r>.img (rank 0 makes the folder). Returns 1 in a job
 * restarted from that image, 0 once every rank has written its image; with EXIT_AFTER the job
 * ends there instead (status 0, as if killed once the snapshot exists). A failed capture ends
 * the job (MPI_Abort, status 4). */
int rst_checkpoint_step(const char *dir, int step, int exit_after);

/* X summed over the ranks, on rank 0 (elsewhere 0). */
long rst_total(long x);

/* The command line STEPS [DIR CKPT_STEP[,CKPT_STEP2] [--exit]] of rst_attr, rst_legacy, rst_rma
 * and (after its FILE) rst_io. */
struct rst_args {
    int steps;
    const char *dir;    /* NULL: no checkpoint */
    int ckpt, ckpt2;    /* the steps to checkpoint at, -1: none */
    int exit_after;     /* --exit */
};

/* Reads the command line from argv[first] (STEPS) on; LEAD names the program's own arguments
 * before it in the usage line ("" or "FILE "), printed with exit status 2 when STEPS is missing.
 * Then MPI_Init, *rank and *size in MPI_COMM_WORLD, and stdout line-buffered. */
struct rst_args rst_start(int *argc, char ***argv, int first, const char *lead, int *rank, int *size);

/* The end of step S: at a checkpoint step of A, rst_checkpoint_step; with DIR "mpix" instead
 * MPIX_Checkpoint at CKPT_STEP, and at CKPT_STEP2 in a job restarted from it (a global snapshot
 * of a job started with mpirun -am ft-enable-cr, restarted with restart-mpi). A restarted rank
 * says so on stderr ("rank R restarted at step S"). */
void rst_step_end(const struct rst_args *a, int s);

#endif
