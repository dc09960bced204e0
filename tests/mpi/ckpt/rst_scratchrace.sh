#!/bin/bash
# rst_scratchrace.sh FLAVOR: a MPI_MODE_DELETE_ON_CLOSE file found outdated at a restart, with a
# handle on MPI_COMM_SELF in every rank and one on MPI_COMM_WORLD (rst_scratchrace.c; R-H2 of
# diffrev43/44). The job (4 ranks) takes a snapshot at step 3 (MPIX_Checkpoint), writes on and is
# killed as a crash kills it (SIGKILL to every process) at step 8: its file stays at the path with
# bytes written after the snapshot. restart-mpi with REVIVE_FAULT=mpi-scratch-late (every rank
# that writes the file back waits 2 s x (1 + its world rank) between its look and its replace, so
# that every rank that would write looks before any replaced, and each replaces after the lower
# ranks opened the file: a second writer shows every time; alike delays showed it 1 time in 4,
# diffrev46 R-L1): the restarted ranks' descriptors of the file (each rank's
# MPI_COMM_SELF and MPI_COMM_WORLD handle) all name one inode, the one at the path, none deleted,
# and the restarted job's lines are an uninterrupted run's. Before: each rank holding a copy
# replaced the file, the ranks' MPI_COMM_SELF handles were on four files, three of them unlinked,
# and the lines differed.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_scratchrace
export REVIVE_RESTART_RANK=$restarter
n=4 steps=12 ck=3 hs=8
case $flavor in
ompi) opt=(--oversubscribe) ;;
*) opt=(-launcher fork) ;;
esac
ck_workdir scratchrace
touch go.native
run_native $n "$prog" $steps $ck $hs "$d/go.native" >native.out 2>native.err ||
    { failed "the native run: status $?"; show_err native.err; exit 1; }
clean timeout -k 5 300 "$wrapper" -am ft-enable-cr "${opt[@]}" --ckpt-dir "$d" -n $n "$prog" \
    $steps $ck $hs "$d/go" >out.0 2>err.0 &
job=$!; pids+=($job)
if ! wait_for_job 180 $job '[ -e go.held ]'; then
    failed "the job never reached its hold (step $hs)"; show_err err.0; exit 1
fi
[ -e scratch.tmp ] || failed "no scratch.tmp while the job holds"
# a crash: every process of the job killed at once; the file stays, written on after step 3
kill -KILL $(descendants $job) 2>/dev/null
wait $job
ref=$(echo "$d"/revive_global_snapshot_*.ckpt)
[ -f "$ref/0/snapshot.meta" ] || { failed "no committed snapshot of step $ck: $(ls "$d")"; exit 1; }
[ -e scratch.tmp ] || { failed "the killed job's scratch.tmp is gone: nothing for the restart to find outdated"; exit 1; }
rm -f go.held
fault_opts=() # Open MPI's launcher passes the variable on to the ranks only when told
[ "$flavor" = ompi ] && fault_opts=(-- -x REVIVE_FAULT)
clean env REVIVE_FAULT=mpi-scratch-late timeout -k 5 300 "$RESTART" "${fault_opts[@]}" "$ref" >out.1 2>err.1 &
rjob=$!; pids+=($rjob)
if wait_for_job 240 $rjob '[ -e go.held ]'; then
    # every descriptor of the restarted job's processes naming the file: "INODE" or "deleted"
    at=$(stat -c %i scratch.tmp 2>/dev/null)
    seen=$(for p in $(descendants $rjob); do
        for f in $(find /proc/$p/fd -lname "$d/scratch.tmp*" 2>/dev/null); do
            l=$(readlink "$f") || continue
            case $l in
            "$d/scratch.tmp") echo "$(stat -L -c %i "$f" 2>/dev/null)" ;;
            "$d/scratch.tmp (deleted)") echo deleted ;;
            esac
        done
    done | sort | uniq -c)
    nfd=$(awk '{s += $1} END {print s + 0}' <<<"$seen")
    if [ "$nfd" -lt $n ]; then
        failed "the restarted ranks hold $nfd descriptors of scratch.tmp (at least $n expected)"
    elif [ "$(wc -l <<<"$seen")" != 1 ] || [ "$(awk '{print $2}' <<<"$seen")" != "$at" ]; then
        failed "the restarted ranks do not share one file: $(echo $seen) (the path's inode: $at)"
    else
        pass "the restarted ranks' $nfd descriptors of scratch.tmp all name the file at the path (inode $at)"
    fi
else
    failed "the restarted job never reached its hold"; show_err err.1
fi
touch go
wait $rjob; rc=$?
tail_verdict "restart of a snapshot whose scratch file was found outdated, every writer late"
strays_after "the restart"
exit $fail
