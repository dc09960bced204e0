#!/bin/bash
# rst_popen.sh FLAVOR: a job whose ranks spend most of each step in popen() and system()
# (rst_popen.c) on 2 ranks: a native run; under "mpirun -am ft-enable-cr", four snapshots with
# ckpt-mpirun while it runs (each finds a rank with a child process most of the time: each must
# be taken, the capture waiting until the command ended and was reaped), then "--term" and
# restart-mpi: both generations' results equal the native run's, no process left. Before, a
# rank with a child refused its image: 0 of 5 snapshots were taken on Open MPI (review of
# session 10).
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_popen
export REVIVE_RESTART_RANK=$restarter
steps=60 ms=10
ck_workdir popen
run_native 2 "$prog" $steps "$d/nopace" $ms >native.out 2>native.err ||
    { failed "the native run: status $?"; tail -n 3 native.err; exit 1; }
touch pace
clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n 2 "$prog" $steps "$d/pace" $ms \
    >out.0 2>err.0 &
job=$!; pids+=($job)
wait_steps out.0 2 $job || failed "the job did not reach step 2: $(tail -n 2 err.0)"
taken=0
for k in 1 2 3 4; do
    if checkpoint $job k$k >/dev/null; then
        taken=$((taken + 1))
    else
        failed "snapshot $k while the ranks run commands: $(grep -v 'ms from' ckpt.k$k.err | head -2)"
    fi
done
[ $taken = 4 ] && pass "4 of 4 snapshots taken while the ranks ran commands (at step $(nsteps out.0) of $steps)"
if term_restart $job; then
    restart_verdict --term
else
    failed "ckpt-mpirun --term: $(tail -n 2 ckpt.term.err)"
fi
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
