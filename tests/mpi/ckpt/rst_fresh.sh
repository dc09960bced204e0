#!/bin/bash
# rst_fresh.sh FLAVOR: MPI calls from a thread other than the one that loaded the lower half,
# through the user's commands (rst_fresh.c says what the program does and why). The job runs
# under "mpirun -am ft-enable-cr" (every step: a communicator made by the main thread and one by
# a new thread), is ended with "ckpt-mpirun --term" after its second step, and "restart-mpi"
# runs it to its end (the checkpoint agent loads the fresh lower half in its own thread, so the
# main thread is now such a thread too). The step lines of both generations together must equal
# an uninterrupted native run's (and every rank checks that MPI_Wtime never goes back), and no
# process may be left. Fails without the lower libc's
# locale state in every thread (lower_libc.h): Open MPI's ranks died of SIGSEGV, in the first
# generation at the worker's MPI_Comm_dup, after the restart at the main thread's; and without
# src/pml_hooks/wtime.c Open MPI's MPI_Wtime began again at 0 after the restart; and without
# the lower half's functions kept in caches a restart empties (layer.h, pml_lower_keep), the
# first MPI_Comm_c2f after the restart called into the dead half (SIGSEGV).
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_fresh
export REVIVE_RESTART_RANK=$restarter
n=2 steps=200 ms=100
ck_workdir fresh
paced_term_cycle "$n ranks, a communicator made by the main thread and by a new thread at every step" "$n" ||
    exit 1
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
