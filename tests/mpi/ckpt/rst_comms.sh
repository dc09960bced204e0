#!/bin/bash
# rst_comms.sh FLAVOR: a program that makes and frees thousands of communicators of every
# creation kind (rst_comms.c: dup, split, create, create_group, intercomm create and merge,
# cart create and sub, graph create; an attribute set and a file opened and closed on each dup)
# keeps three, is ended with "ckpt-mpirun --term" after its
# second step and is run to its end by "restart-mpi" — once after ROUNDS=20 rounds and once
# after ROUNDS=2100 (21000 dead communicators, 2100 of them create_group: more than MPICH's 2048
# context ids). Both restarts must give the uninterrupted native run's lines, and replay the
# same number of record entries of a record of the same size: the dead communicators are not made
# again, and the snapshot dropped them from the record (campaign-failures.md #9: the replay made
# every MPI_Comm_create_group again and MPICH ran out of context ids; its time and the record
# grew with every communicator ever made; the record kept every MPI_File_open and attribute set,
# of files closed and communicators freed long before, until session 41). The replay's time of
# both is printed; the job ended with --term must end with status 0.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
CKPT=$REVIVE_BUILDDIR/tools/snapc/ckpt-mpirun
RESTART=$REVIVE_BUILDDIR/tools/snapc/restart-mpi
prog=$REVIVE_BUILDDIR/tests/mpi/ckpt/rst_comms-$flavor
[ -x "$CKPT" ] && [ -x "$RESTART" ] && [ -x "$prog" ] || { echo "SKIP: ckpt-mpirun, restart-mpi or $prog not built"; exit 77; }
n=2 steps=30 ms=100
pids=()
results() { grep -hE '^(made: |step [0-9]+: |done: )' "$@"; }
declare -A replayed replay_ms entries
for rounds in 20 2100; do
    d=$tmp/r$rounds
    mkdir -p "$d"
    cd "$d" || exit 1
    run_native "$n" "$prog" $rounds $steps "$d/nopace" $ms >native.out 2>native.err ||
        { failed "$rounds rounds: the native run: status $?"; tail -n 3 native.err; continue; }
    touch pace
    # the log level is read once, so the restarted ranks keep generation 0's: info, for the
    # line each rank writes about its restart
    REVIVE_VERBOSE=2 clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n "$n" "$prog" $rounds $steps \
        "$d/pace" $ms >out.0 2>err.0 &
    job=$!; pids+=($job)
    if ! wait_steps out.0 2 $job; then
        wait $job
        failed "$rounds rounds: generation 0 (no checkpoint yet): status $?, $(nsteps out.0) steps"
        tail -n 4 err.0; continue
    fi
    if ! term_restart $job; then
        failed "$rounds rounds: ckpt-mpirun --term: $(tail -n 2 ckpt.term.err)"
        continue
    fi
    # rank 0's line: "rank 0 restarted (generation 1): ... A of B record entries replayed (+C
    # ancestors, ...) in T ms"
    line=$(grep -m1 'rank 0 restarted (generation 1)' err.1)
    rep=$(sed -n 's/.* \([0-9]*\) of \([0-9]*\) record entries replayed (+\([0-9]*\) ancestors.* in \([0-9.]*\) ms;.*/\1 \2 \3 \4/p' <<<"$line")
    read -r nrep nent nanc ms_ <<<"$rep"
    if [ "$termst" != 0 ]; then
        failed "$rounds rounds: the job ended with --term: status $termst"
        grep -v '^-*$' err.0 | grep -v ': info:' | tail -n 4
    elif [ $rc != 0 ]; then
        failed "$rounds rounds: restart-mpi $ref: status $rc"; grep -v '^-*$' err.1 | grep -v ': info:' | tail -n 4
    elif ! cmp -s <(results native.out) both.out; then
        failed "$rounds rounds: the results differ from the uninterrupted run"; diff <(results native.out) both.out | head
    elif [ -z "$rep" ]; then
        failed "$rounds rounds: rank 0 did not report its replay"; grep 'restarted' err.1 | head -3
    else
        replayed[$rounds]=$((nrep + nanc)) replay_ms[$rounds]=$ms_ entries[$rounds]=$nent
        pass "$n ranks, $rounds rounds ($(grep -m1 '^made: ' out.0 | cut -d' ' -f2) communicators made):" \
            "snapshot after step $(nsteps out.0), restarted, $(wc -l <both.out) lines as uninterrupted;" \
            "rank 0 replayed $nrep + $nanc ancestors of $nent record entries in $ms_ ms"
    fi
    left=$(no_strays "$d/") || failed "processes left: $left"
done
if [ -n "${replayed[20]}" ] && [ -n "${replayed[2100]}" ]; then
    if [ "${replayed[20]}" = "${replayed[2100]}" ] && [ "${entries[20]}" = "${entries[2100]}" ]; then
        pass "the dead communicators are not made again: ${replayed[20]} entries replayed after 20" \
            "rounds and after 2100 (replay ${replay_ms[20]} ms and ${replay_ms[2100]} ms), of a" \
            "record compacted to ${entries[20]} entries at the snapshot both times"
    else
        failed "the restart grows with the dead communicators: ${replayed[20]} entries replayed of" \
            "${entries[20]} after 20 rounds, ${replayed[2100]} of ${entries[2100]} after 2100 (replay" \
            "${replay_ms[20]} ms and ${replay_ms[2100]} ms)"
    fi
fi
exit $fail
