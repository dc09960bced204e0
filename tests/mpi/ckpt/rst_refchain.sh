#!/bin/bash
# rst_refchain.sh FLAVOR: references the library counts, held across a chain of generations
# (rst_refchain.c: predefined groups and error handlers handed out by calls, MPI_GROUP_EMPTY and
# MPI_ERRORS_ARE_FATAL/RETURN, and real groups, error handlers, communicators, infos, datatypes
# and ops; every step frees the step before's and gets new ones, one set is held from step 1 to
# the end), 2 ranks: a native run; a job under "mpirun -am ft-enable-cr" ended by
# "ckpt-mpirun --term" after step 2, restarted by restart-mpi and ended by --term again two steps
# later, 4 times (REFCHAIN_GENS), the last restart run to its end: the lines of every generation
# together must be the native run's, and no process may be left. Before session 49 a restart's
# fresh library counted none of the program's references to predefined objects: Open MPI's
# first MPI_Group_free of MPI_GROUP_EMPTY after a restart aborted ("free(): invalid pointer").
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_workdir chain
ck_build_src rst_refchain
export REVIVE_RESTART_RANK=$restarter
G=${REFCHAIN_GENS:-4}
n=2 steps=$((5 * G + 4)) ms=150
paced_launch "np=$n" "$n" || exit 1
outs=out.0
for g in $(seq 0 $((G - 1))); do
    # generation g: two steps of its own (its output holds only its own), then --term
    if ! wait_steps out.$g 2 $job 120 || ! ref=$(checkpoint $job $g --term); then
        failed "generation $g: no --term snapshot after $(nsteps out.$g) steps"
        show_err ckpt.$g.err err.$g; rm -f pace; break
    fi
    wait $job; st=$?
    [ $st = 0 ] || { failed "generation $g: ended by --term with status $st"; show_err err.$g; break; }
    [ $g = $((G - 1)) ] && rm -f pace # the last restart runs to the end at full speed
    clean timeout -k 5 600 "$RESTART" "$ref" >out.$((g + 1)) 2>err.$((g + 1)) &
    job=$!; pids+=($job)
    outs="$outs out.$((g + 1))"
done
rm -f pace
wait $job; rc=$?
[ $fail = 0 ] && [ $rc != 0 ] && { failed "the last restart (generation $G): status $rc"; show_err err.$G; }
results $outs >chain.out
if [ $fail = 0 ] && cmp -s <(results native.out) chain.out; then
    pass "np=$n, $G --term snapshots and restarts, references held across each:" \
        "$(wc -l <chain.out) result lines as uninterrupted: $(tail -n 1 chain.out)"
elif [ $fail = 0 ]; then
    failed "the chain's results differ from the uninterrupted run"; diff <(results native.out) chain.out | head
    for f in $outs; do echo "  $f: $(nsteps $f) steps"; done
    show_err err.*
fi
left=$(no_strays "$d/") || failed "processes left: $left"
exit $fail
