#!/bin/bash
# rst_nbrorder.sh FLAVOR: the neighbour order of distributed graphs across a restart (newuser7e
# F1). rst_nbrorder.c makes communicators with MPI_Dist_graph_create (weighted, and unweighted
# with reorder then duplicated: the library orders each rank's neighbours as the edges arrive,
# differently from run to run), MPI_Dist_graph_create_adjacent, MPI_Graph_create and
# MPI_Cart_create, queries every neighbour list once and checks at every step that slot k of
# each neighbourhood collective (an MPI_Ineighbor_alltoall in flight at the snapshot among them)
# holds the data of neighbour k of those lists, and that the lists read again are the same.
#   part 1: TRIALS (REVIVE_NBR_TRIALS, 3) times: snapshot with --term after step 2, restart-mpi
#           runs it to its end: every line as the uninterrupted native run's ("bad 0"). Before
#           the fix the restart made the graphs again with MPI_Dist_graph_create, whose fresh
#           order differed in most restarts: slots held other neighbours' data, silently.
#   part 2: the same with fault point mpi-nbr-native armed for the restart (the graphs made
#           again as before the fix): a restart whose fresh order differs must stop, naming the
#           communicator and both lists; one whose order happens to be the same runs to the end
#           as uninterrupted. Never different lines with status 0.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_nbrorder
np=4 steps=12 ms=150
trials=${REVIVE_NBR_TRIALS:-3}
for t in $(seq 1 "$trials"); do
    ck_workdir t$t
    paced_term_cycle "trial $t ($np ranks)" $np
    left=$(no_strays "$d/") || failed "trial $t: processes left: $left"
done

refused=0 same=0
for t in $(seq 1 "$trials"); do
    ck_workdir fault$t
    what="mpi-nbr-native trial $t"
    run_native "$np" "$prog" $steps "$d/nopace" $ms >native.out 2>native.err ||
        { failed "$what: the native run: status $?"; tail -n 3 native.err; continue; }
    touch pace
    clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n "$np" "$prog" $steps "$d/pace" \
        $ms >out.0 2>err.0 &
    job=$!; pids+=($job)
    if ! wait_steps out.0 2 $job; then
        rm -f pace; wait $job
        failed "$what: generation 0 (no checkpoint yet): status $?, $(nsteps out.0) steps"; tail -n 4 err.0; continue
    fi
    if ! REVIVE_FAULT=mpi-nbr-native term_restart $job; then
        failed "$what: ckpt-mpirun --term: $(tail -n 2 ckpt.term.err)"; continue
    fi
    if [ $rc != 0 ]; then
        if grep -q "MPI_Dist_graph_create.*communicator 0x[0-9a-f]* came back with other .*(now: .*; at the checkpoint: .*)" err.1; then
            refused=$((refused + 1))
            pass "$what: the fresh MPI ordered the neighbours otherwise: the restart stopped (status $rc):" \
                "$(grep -m1 -o 'communicator 0x[0-9a-f]* came back with other .*at the checkpoint:[ 0-9]*)' err.1)"
        else
            failed "$what: restart-mpi $ref: status $rc, without naming the neighbour lists"; show_err err.1
        fi
    elif cmp -s <(results native.out) both.out; then
        same=$((same + 1))
        pass "$what: the fresh MPI happened to order the neighbours as before: $(wc -l <both.out) lines as uninterrupted"
    else
        failed "$what: the restart ran on with other results than the uninterrupted run (status 0)"
        diff <(results native.out) both.out | head
    fi
    left=$(no_strays "$d/") || failed "$what: processes left: $left"
done
echo "mpi-nbr-native: $refused of $trials restarts stopped naming the lists, $same ran on with the same order"
exit $fail
