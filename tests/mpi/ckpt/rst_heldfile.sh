#!/bin/bash
# rst_heldfile.sh FLAVOR: files the ranks hold open for writing (rst_heldfile.c: a log per rank
# with O_APPEND, one file all ranks write at their own offsets), 2 ranks: a native run; a job under
# "mpirun -am ft-enable-cr" ended by "ckpt-mpirun --term" after its second step; then, before the
# restart, rank 0's log removed (a node-local /tmp cleaned, a restart on another host) and
# shared.dat grown and changed; restart-mpi twice from the one snapshot, the second finding the
# files as the first left them (run to its end). Each restart's lines (the files' sizes at each
# step, their contents at the end) must be the native run's: the images hold the files' bytes
# (CRS_FOBJ_WRITTEN), written back when gone or changed. Before files51 the first restart failed
# ("cannot reopen .../held.0.log") and the second appended after the first's output.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_workdir held
ck_build_src rst_heldfile
export REVIVE_RESTART_RANK=$restarter
steps=8 ms=200
what="np=2, files held open for writing"
paced_launch "$what" 2 || exit 1
if ! wait_steps out.0 2 $job; then
    rm -f pace; wait $job
    failed "$what: no second step before the snapshot: status $?, $(nsteps out.0) steps"; show_err err.0; exit 1
fi
if ! ref=$(checkpoint $job term --term); then
    rm -f pace; wait $job
    failed "$what: ckpt-mpirun --term: $(tail -n 2 ckpt.term.err)"; exit 1
fi
wait $job
rm -f pace
rm -f held.0.log
echo junk >>shared.dat
printf X | dd of=shared.dat conv=notrunc status=none
for k in 1 2; do
    clean timeout -k 5 600 "$RESTART" "$ref" >out.$k 2>err.$k; rc=$?
    results out.0 out.$k >both.$k.out
    if [ $rc != 0 ]; then
        failed "$what: restart $k of $ref: status $rc"; show_err err.$k
    elif [ "$(nsteps out.0)" -ge $steps ]; then
        failed "$what: the snapshot came after the last step"
    elif cmp -s <(results native.out) both.$k.out; then
        pass "$what: restart $k (files $([ $k = 1 ] && echo 'removed and changed' || echo 'as restart 1 left them')):" \
            "$(wc -l <both.$k.out) result lines as uninterrupted: $(tail -n 1 both.$k.out)"
    else
        failed "$what: restart $k: the results differ from the uninterrupted run"
        diff <(results native.out) both.$k.out | head
    fi
done
left=$(no_strays "$d/") || failed "$what: processes left: $left"
exit $fail
