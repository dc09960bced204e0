#!/bin/bash
# sig_ctor.sh FLAVOR: the program's signal actions set before MPI_Init (SIGHUP ignored, its own
# SIGFPE, SIGSEGV and SIGUSR2 handlers) stay its own through MPI_Init and across a restart, as
# natively (sig_ctor.c, built with the flavor's mpicc), 2 ranks: a native run; a job under
# "mpirun -am ft-enable-cr" ended by "ckpt-mpirun --term" after its second step and run to its
# end by restart-mpi: the lines of both generations (each signal's action and the program's
# handler calls at every step) must be the native run's, and no UCX debug line may appear (UCX
# writes its log to standard output). Before
# session 49, under MPICH, the lower half's UCX constructors put their handlers over the
# program's SIGHUP and SIGFPE actions at MPI_Init (a SIGHUP turned on UCX's debug log) and gave
# the main thread an alternate signal stack in the lower half, gone after a restart (the first
# SA_ONSTACK signal killed the restarted rank); on both MPIs a restart lost the program's SIGSEGV
# handler (Revive's guard passed faults to the default).
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_workdir sig
ck_build_src sig_ctor
export REVIVE_RESTART_RANK=$restarter
steps=8 ms=200
what="np=2, the program's signal actions from before MPI_Init"
if paced_term_cycle "$what" 2 && [ "$termst" != 0 ]; then
    failed "$what: the job ended with --term: status $termst"; show_err err.0
fi
# the "signals" lines (each step's actions; a rank whose actions differ from rank 0's) are not
# among the step results paced_term_cycle compares: the program's own actions (HUP, FPE, USR2)
# must be the native run's in both generations. SIGILL and SIGBUS (the library's) are not compared
# here: after a restart under Open MPI one rank was seen with them at the default where the fresh
# library installs its handlers (the session 50 CI, 1 of 2 runs; branch sig50's sig_lib.c and its
# extended test are the fix and the check)
own() { grep '^signals ' "$@" | sed 's/ ILL . BUS . / /' | grep -v '^signals rank'; }
if [ -f out.1 ] && ! cmp -s <(own native.out) <(cat out.0 out.1 | own); then
    failed "$what: the program's signal actions differ from the native run's"
    diff <(own native.out) <(cat out.0 out.1 | own) | head -n 6
fi
for f in out.0 err.0 out.1 err.1; do
    if [ -f $f ] && grep -q 'UCX  *DEBUG' $f; then
        failed "$what: UCX's debug log was turned on ($f): a SIGHUP reached its handler"
        grep -m 3 'UCX  *DEBUG' $f | sed 's/^/  /'
    fi
done
left=$(no_strays "$d/") || failed "$what: processes left: $left"
exit $fail
