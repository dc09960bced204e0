#!/bin/bash
# rst_seccomp.sh FLAVOR: a job whose ranks lock themselves down after MPI_Init (rst_seccomp.c:
# a seccomp filter for all their threads, with TSYNC, that makes times fail with EXDEV; the main
# thread's nice value and timer slack raised) on
# 2 ranks: a native run; a job under "mpirun -am ft-enable-cr" ended by "ckpt-mpirun --term"
# after its second step; "restart-mpi" runs it to its end. Each step checks the filter and the
# attributes; both generations' results must equal the native run's, and no process may be left.
# The filter goes in again after the fresh MPI's MPI_Init (diffrev19 LOW-D).
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_seccomp
export REVIVE_RESTART_RANK=$restarter
steps=8 ms=500
ck_workdir seccomp
paced_term_cycle "a filter with TSYNC, nice and timer slack" 2
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
