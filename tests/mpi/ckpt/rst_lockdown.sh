#!/bin/bash
# rst_lockdown.sh FLAVOR: a rank program that forbids itself, after MPI_Init, a call that MPI_Init
# makes (a seccomp filter with TSYNC, rst_lockdown.c: Open MPI's stream sockets, MPICH's listen;
# the steps and MPI_Finalize make none) checkpoints itself at step 1 (pml_restart_capture, as
# restart.sh) and ends; the restarted job must run the fresh MPI's MPI_Init before the filter goes
# in again, checkpoint itself again at step 3 under the filter and end; a second restart
# finishes. At 2 ranks: the step lines (each checks that the call is still forbidden) and the
# final line equal an uninterrupted native run's (diffrev19 LOW-D for programs without a
# coordinator).
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_lockdown
# the filter is x86_64's: another arch's build says SKIP and exits 77 (run without MPI)
arch=$("$prog" --arch-only 2>&1); [ $? = 77 ] && { echo "$arch"; exit 77; }
steps=5
if two_restarts 2 $steps 1 3; then
    want=$(results "$d/native.out")
    got=$(results "$d/orig.out" "$d/r1.out" "$d/r.out")
    if [ -z "$want" ] || grep -q 'is allowed again' "$d/native.err"; then
        failed "the native run: $(echo "$want" | wc -l) result lines"; show_err "$d/native.err"
    elif [ $rc != 0 ]; then
        failed "np=2: the second restart's status $rc"; show_err "$d/r.err"
    elif [ "$want" != "$got" ]; then
        failed "np=2: the results differ from the uninterrupted run"
        diff <(echo "$want") <(echo "$got") | head -8; show_err "$d/r.err"
    else
        pass "np=2: $(echo "$want" | wc -l) result lines as uninterrupted (the call forbidden at every step, two restarts)"
    fi
fi
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
