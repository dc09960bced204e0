#!/bin/bash
# sig_ctor.sh FLAVOR: a rank's signal actions and alternate signal stack through MPI_Init and
# across a restart, as natively (sig_ctor.c, built with the flavor's mpicc), 2 ranks: a native
# run; a job under "mpirun -am ft-enable-cr" ended by "ckpt-mpirun --term" after its second step
# and run to its end by restart-mpi. Every step prints each rank's action of every signal 1-31 but
# SIGSEGV (default, ignored, the program's handler, or the file of the library's handler; with or
# without SA_ONSTACK) and whether its alternate stack is set and mapped, then raises the signals
# the program handles (SIGUSR1 sent to the process, as Slurm's --signal; SIGUSR2 with SA_ONSTACK)
# and counts the program's handler calls: the lines of both generations must be the native run's,
# and no UCX debug line may appear (UCX writes its log to standard output). FLAVOR ompi-ucx: Open
# MPI with its UCX PML (any transport and device, as on a site with a fabric; SKIP when it cannot
# be selected), where MPI_Init loads UCX (its handlers, its alternate stack for the thread that
# calls MPI_Init).
# Before session 49, under MPICH, the lower half's UCX constructors put their handlers over the
# program's SIGHUP and SIGFPE actions at MPI_Init (a SIGHUP turned on UCX's debug log) and gave
# the main thread an alternate signal stack in the lower half, gone after a restart (the first
# SA_ONSTACK signal killed the restarted rank); on both MPIs a restart lost the program's SIGSEGV
# handler (Revive's guard passed faults to the default). Before session 51, after a restart: the
# dead library's handlers were set to the default, so MPICH's fresh SIGUSR1 handler chained to
# the default and the program's SIGUSR1 handler (set before MPI_Init) was never called; Open MPI's
# handlers of SIGABRT and SIGBUS were those of the fresh library or the default by chance; with
# the UCX PML the fresh UCX's SIGILL handler replaced the program's, and the main thread's
# alternate stack lay in the dead lower half (the SA_ONSTACK SIGUSR2 killed the rank); then, until
# ucx51, libcr's fresh stack for that thread was undone by the return of its park handler, whose
# frame still held the dead one (the same SIGSEGV, forced by the kernel as it delivered SIGUSR2).
# A flipper thread outside MPI installs another SIGUSR2 handler as soon as the rank is restarted;
# before session 52 the fresh MPI_Init's put-back set the checkpoint's handler over it (the step
# results then count the old handler's calls as stale).
flavor=$1 ucx=
if [ "$flavor" = ompi-ucx ]; then
    flavor=ompi ucx=1
    export OMPI_MCA_pml=ucx OMPI_MCA_pml_ucx_tls=any OMPI_MCA_pml_ucx_devices=any SIG_CTOR_LIB_FAULTS=1
fi
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_workdir sig
ck_build_src sig_ctor
export REVIVE_RESTART_RANK=$restarter
steps=8 ms=200
what="np=2${ucx:+, pml ucx}, the signal actions and alternate stack"
if [ -n "$ucx" ] && ! run_native 1 "$prog" 1 "$d/nopace" 1 >/dev/null 2>&1; then
    echo "SKIP: Open MPI's UCX PML cannot be selected here"
    exit 77
fi
if paced_term_cycle "$what" 2 && [ "$termst" != 0 ]; then
    failed "$what: the job ended with --term: status $termst"; show_err err.0
fi
# the "signals" lines (each step's actions, and any rank's whose differ from rank 0's) are not
# among the step results paced_term_cycle compares: both generations' must be the native run's
sigs() { grep -h '^signals ' "$@"; }
if [ -f out.1 ] && ! cmp -s <(sigs native.out) <(sigs out.0 out.1); then
    failed "$what: the signal actions differ from the native run's"
    diff <(sigs native.out) <(sigs out.0 out.1) | head -n 6
fi
# the flipper thread (sig_ctor.c) replaced the program's SIGUSR2 handler right after the restart,
# while the fresh library was initialised, in both ranks: its handler must be the one that runs
# (no stale call: the step results above); that it flipped at all is checked here
if [ -f out.1 ] && [ "$(grep -c 'the flipper installed' err.1)" != 2 ]; then
    failed "$what: the flipper thread did not see the restart in both ranks (its thread id unchanged?)"
    show_err err.1
fi
for f in out.0 err.0 out.1 err.1; do
    if [ -z "$ucx" ] && [ -f $f ] && grep -q 'UCX  *DEBUG' $f; then
        failed "$what: UCX's debug log was turned on ($f): a SIGHUP reached its handler"
        grep -m 3 'UCX  *DEBUG' $f | sed 's/^/  /'
    fi
done
left=$(no_strays "$d/") || failed "$what: processes left: $left"
exit $fail
