#!/bin/bash
# start_cost.sh FLAVOR: what Revive's MPI layer costs a rank at its start, in system calls that
# were per number or per word (the fixed cost of every job's and every restart's start, issue 7):
#  - the layer's constructor took the launcher's descriptors by an fstat of every number from 3
#    to 1023 (1020 of them EBADF a rank, ~1 ms of CPU): /proc/self/fd lists the open ones now,
#    each still checked with fstat (src/pml_hooks/restart.c, pml_restart_note_launcher_fds);
#  - MPI_Init's look for ld.so's table of objects for the unwinder read one word a call
#    (src/pml_hooks/lower_dlfo.c: 433 process_vm_readv an Open MPI rank, 360 an MPICH one; in
#    batches now, 173 and 160).
# A 2-rank job of rst_prog under "mpirun -am ft-enable-cr", traced (strace -ff): in each rank's
# main thread, after the exec of the program, fewer than 64 fstat calls that fail with EBADF and
# fewer than 300 process_vm_readv; its output equals the native run's.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
command -v strace >/dev/null || { echo "SKIP: strace is missing: the calls cannot be counted"; exit 77; }
strace -qq -o /dev/null -e trace=openat true 2>/dev/null || { echo "SKIP: strace cannot trace here (ptrace refused)"; exit 77; }
np=2 steps=3
ck_workdir start
run_native $np "$prog" $steps >native.out 2>native.err || { failed "the native run"; show_err native.err; exit 1; }
mkdir tr
PATH=$(dirname "$launcher"):$PATH clean timeout -k 5 "$TMO" strace -ff -qq -o tr/t \
    -e trace=execve,newfstatat,fstat,process_vm_readv "$wrapper" -am ft-enable-cr -n $np "$prog" $steps \
    >rv.out 2>rv.err || { failed "the job under Revive"; show_err rv.err; exit 1; }
cmp -s native.out rv.out || { failed "the job's output differs from the native run's"; diff native.out rv.out | head -20; }
ranks=0
for f in tr/t.*; do
    grep -q "^execve(\"[^\"]*/rst_prog-$flavor\".* = 0$" "$f" || continue
    ranks=$((ranks + 1))
    # the calls after the program's exec (before it: revive-exec, bash)
    after=$(sed -n "/^execve(\"[^\"]*\/rst_prog-$flavor\"/,\$p" "$f")
    badf=$(grep -c 'fstat.* = -1 EBADF' <<<"$after")
    pvr=$(grep -c '^process_vm_readv(' <<<"$after")
    echo "rank process ${f##*.}: $badf fstat EBADF, $pvr process_vm_readv"
    [ "$badf" -lt 64 ] || failed "rank process ${f##*.}: $badf fstat calls failed with EBADF at its start (an fstat of every descriptor number: fewer than 64 expected)"
    # none natively: the layer ran in the rank (its MPI_Init's look)
    [ "$pvr" -gt 0 ] || failed "rank process ${f##*.}: no process_vm_readv: Revive's MPI layer did not run in it"
    [ "$pvr" -lt 300 ] || failed "rank process ${f##*.}: $pvr process_vm_readv at its start (a read a word: fewer than 300 expected)"
done
[ "$ranks" = $np ] || failed "$ranks rank processes found in the traces, $np expected"
[ "$fail" = 0 ] && pass "start_cost $flavor: $ranks ranks"
exit $fail
