#!/bin/bash
# rst_winalloc.sh FLAVOR: a window of MPI_Win_allocate across 4 ranks (rst_winalloc.c: fence
# and passive-target epochs, accumulates, Compare_and_swap, Rput/Rget; a created window on
# MPI_Alloc_mem memory beside it), newuser7f F1. Open MPI runs it with osc/pt2pt
# (OMPI_MCA_osc=pt2pt, a user's choice: osc/rdma crashes natively on its Compare_and_swap), which
# takes the window's memory from its own malloc: a snapshot of it was "committed", --term ended
# the job, and restart-mpi refused every rank (no restart can put such memory back).
# 1. a native run; a job under "mpirun -am ft-enable-cr" ended by "ckpt-mpirun --term" after its
#    second step; restart-mpi runs it to its end: both generations' step lines equal the native
#    run's (Open MPI: the layer now serves osc/pt2pt's allocation from a shared mapping, as for
#    a window of one rank; MPICH: its own segment).
# 2. the window's memory no shared mapping (Open MPI: fault point mpi-winmem-unarmed, the root not
#    armed, so osc/pt2pt's malloc; MPICH: mpi-winmem-private, the layer takes it for private):
#    "ckpt-mpirun --term" and then "--stop" are refused in one line naming the window and what
#    to do, nothing is committed (ckpt-info: status 3), and the job runs on (not ended, not
#    stopped) to the native run's results.
# 3. the same with periodic checkpoints (--ckpt-interval 1): none of the window committed (one
#    taken before MPI_Win_allocate, under load, must pass ckpt-info --verify), the job's stderr
#    says why once (not once per interval), the job ends with the native run's results.
# 4. a snapshot of such a window committed as a Revive before this test did (fault point
#    mpi-winpriv-commit: the checkpoint does not refuse it): "ckpt-info --verify" says it cannot
#    be restarted and why, status 1.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_winalloc
export REVIVE_RESTART_RANK=$restarter
[ "$flavor" = ompi ] && export OMPI_MCA_osc=pt2pt
np=4 steps=8 ms=400
priv=mpi-winmem-private
[ "$flavor" = ompi ] && priv=mpi-winmem-unarmed

# 1.
ck_workdir restart
paced_term_cycle "$np ranks, MPI_Win_allocate${OMPI_MCA_osc:+ (osc/$OMPI_MCA_osc)}" $np
left=$(no_strays "$d/") || failed "1: processes left: $left"

# 2.
ck_workdir refused
run_native $np "$prog" $steps "$d/nopace" $ms >native.out 2>native.err ||
    { failed "2: the native run: status $?"; tail -n 3 native.err; exit 1; }
touch pace
REVIVE_FAULT=$priv clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n $np "$prog" \
    $steps "$d/pace" $ms >out.0 2>err.0 &
job=$!; pids+=($job)
wait_steps out.0 2 $job || { rm -f pace; wait $job; failed "2: the job did not reach step 2: $(tail -n 3 err.0)"; exit 1; }
why="no checkpoint: rank [0-9]* .*holds an MPI window (MPI_Win_allocate on $np ranks, 512 bytes at 0x[0-9a-f]*) whose memory the MPI library took from memory of its own.*no restart could put it back.*the job runs on"
for how in term stop; do
    if checkpoint $job $how --$how >/dev/null; then
        failed "2: ckpt-mpirun --$how of a job holding a window of private library memory: status 0: $(tail -n 2 ckpt.$how.out)"
    else
        refused $how "2: ckpt-mpirun --$how" "$why"
    fi
    [ -d /proc/$job ] || failed "2: the job ended after ckpt-mpirun --$how"
done
st=$(sed 's/.*) \(.\).*/\1/' /proc/$job/stat 2>/dev/null)
[ "$st" = T ] && { failed "2: the job is stopped after the refused --stop"; kill -CONT $job; }
"$INFO" "$d" >info.out 2>&1; irc=$?
[ $irc = 3 ] || failed "2: ckpt-info of the job's directory: status $irc (3: nothing committed): $(head -n 3 info.out)"
rm -f pace
ran_on $job 0 "2: the job after two refused checkpoints"
left=$(no_strays "$d/") || failed "2: processes left: $left"

# 3.
ck_workdir periodic
cp "$tmp/refused/native.out" .
touch pace
REVIVE_FAULT=$priv clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" --ckpt-interval 1 -n $np \
    "$prog" $steps "$d/pace" $ms >out.0 2>err.0 &
job=$!; pids+=($job)
# four intervals at least (each a refused checkpoint) before the job may end
wait_for_job 120 $job '[ "$(grep -c "^step" out.0)" -ge 2 ]' && sleep 5
rm -f pace
ran_on $job 0 "3: the job under --ckpt-interval 1"
n=$(grep -c "holds an MPI window" err.0)
# a snapshot committed before the window existed is right (under load the first interval can
# come between MPI_Init and MPI_Win_allocate: perf38 saw 1 committed at load 21); one of the
# window is what must never be committed, and ckpt-info --verify tells them apart (part 4)
c=0 early=0
for m in "$d"/revive_global_snapshot_*.ckpt/*/snapshot.meta; do
    [ -e "$m" ] || continue
    if "$INFO" --verify "${m%/snapshot.meta}" >verify.3 2>&1; then
        early=$((early + 1))
    else
        c=$((c + 1)); show_err verify.3
    fi
done
if [ "$c" != 0 ]; then
    failed "3: $c snapshots committed of a job no restart could bring back"
elif [ "$n" != 1 ]; then
    failed "3: the job's stderr names the window $n times (expected once)"; grep "holds an MPI window" err.0 | head -n 3
else
    pass "3: no snapshot of the window committed$([ $early = 0 ] || echo " ($early taken before it existed, restartable)"), said once: $(grep -m1 "holds an MPI window" err.0 | cut -c1-200)..."
fi
left=$(no_strays "$d/") || failed "3: processes left: $left"

# 4.
ck_workdir old
touch pace
REVIVE_FAULT=$priv,mpi-winpriv-commit clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n $np \
    "$prog" $steps "$d/pace" $ms >out.0 2>err.0 &
job=$!; pids+=($job)
wait_steps out.0 2 $job || { rm -f pace; wait $job; failed "4: the job did not reach step 2: $(tail -n 3 err.0)"; exit 1; }
ref=$(checkpoint $job term --term) || { rm -f pace; wait $job; failed "4: ckpt-mpirun --term: $(tail -n 2 ckpt.term.err)"; exit 1; }
rm -f pace; wait $job
"$INFO" --verify "$ref" >verify.out 2>&1; vrc=$?
cannot="cannot be restarted: rank [0-9]*: its image holds an MPI window (allocate, $np rank(s), 512 bytes at 0x[0-9a-f]*) whose memory"
if [ $vrc = 0 ]; then
    failed "4: ckpt-info --verify of a snapshot no restart can bring back: status 0"; show_err verify.out
elif ! grep -q "$cannot" verify.out; then
    failed "4: ckpt-info --verify: status $vrc without saying it cannot be restarted"; show_err verify.out
else
    pass "4: ckpt-info --verify: status $vrc, $(grep -m1 "cannot be restarted" verify.out | cut -c1-160)..."
fi
left=$(no_strays "$d/") || failed "4: processes left: $left"
exit $fail
