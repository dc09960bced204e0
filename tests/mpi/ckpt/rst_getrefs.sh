#!/bin/bash
# rst_getrefs.sh FLAVOR: handles a call hands out with a new reference for the program to free
# (error handlers, groups and infos of a communicator, a window and a file, MPI_Type_get_contents'
# and MPI_File_get_view's derived types), each got 3 times before the snapshot, one copy freed
# before it, the others used at every step and freed after the restart (rst_getrefs.c), 2 ranks:
# a native run; a job under "mpirun -am ft-enable-cr" ended by "ckpt-mpirun --term" after its
# second step (status 0) and run to its end by "restart-mpi": the lines of both generations must
# be the native run's, and no process may be left. Before session 47 a restart made one library
# reference of an error handler the program held 3 times: its second free after the restart
# failed (MPICH: an assertion in MPI_Errhandler_free; Open MPI: a corrupted heap).
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_getrefs
export REVIVE_RESTART_RANK=$restarter
steps=6 ms=400
ck_workdir np2
what="np=2, every handed-out handle got 3 times, freed after the restart"
if paced_term_cycle "$what" 2 && [ "$termst" != 0 ]; then
    failed "$what: the job ended with --term: status $termst"; show_err err.0
fi
left=$(no_strays "$d/") || failed "$what: processes left: $left"
exit $fail
