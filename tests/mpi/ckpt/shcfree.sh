#!/bin/bash
# shcfree.sh FLAVOR: a checkpoint while the ranks reach MPI_Comm_free of communicators with shared
# windows 1 s apart (diffrev40 R-M1). shstore's mode "cfree" (shstore.c), 2 ranks, 5 steps: at
# each step two duplicates of the node's communicator with a shared window each; the first window
# freed, then rank i sleeps i s and frees both communicators (the second's window lives on: it is
# checked and freed after). SHCFREE_TRIALS times (default 3): "ckpt-mpirun --wait --term" at a
# random moment of step 1's second (0-1.3 s after step 0's line): it commits, or fails in one
# line and the job goes on, within a bounded wait (no hang); a committed snapshot restarted
# (restart-mpi) runs to the end; the lines equal the native run's. Until session 40's dfd7366e
# MPI_Comm_free of a communicator whose windows were all freed freed the layer's meeting window
# there (the library's MPI_Win_free, a barrier) in a call counted on no clock: rank 0 waited in it
# for rank 1, which parked at its own MPI_Comm_free, and the checkpoint could not complete.
flavor=$1
export REVIVE_MPI_TIMEOUT=${REVIVE_MPI_TIMEOUT:-120}
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog shstore
steps=5 trials=${SHCFREE_TRIALS:-3}
ck_workdir native
run_native 2 "$prog" $steps "$d/nopace" 0 cfree >native.out 2>native.err ||
    { failed "the native run: status $?"; show_err native.err; exit 1; }
nres=$d/native.res
results native.out >"$nres"
grep -q "^done: $steps steps$" native.out && ! grep -q BAD native.out ||
    { failed "the native run: $(tail -n1 native.out)"; exit 1; }
bound=$(load_scaled 60)
committed=0 refusedn=0
for t in $(seq "$trials"); do
    ck_workdir t$t
    touch pace
    clean timeout -k 5 "$TMO" "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n 2 "$prog" $steps \
        "$d/pace" 0 cfree >out.0 2>err.0 &
    job=$!; pids+=($job)
    wait_steps out.0 1 $job ||
        { failed "trial $t: the job printed no step"; show_err err.0; rm -f pace; exit 1; }
    ms=$((RANDOM % 1300))
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    if ! c=$(coord $job); then
        failed "trial $t: no coordinator"; exit 1
    fi
    timeout -k 5 "$bound" "$CKPT" --wait --term "$c" >ckpt.out 2>ckpt.err; crc=$?
    rm -f pace
    if [ $crc = 124 ] || [ $crc = 137 ]; then
        failed "trial $t (${ms} ms into the skew): ckpt-mpirun did not end within $bound s"
        show_procs $job; exit 1
    fi
    if ! wait_for_job "$bound" $job '! kill -0 $job 2>/dev/null'; then
        failed "trial $t (${ms} ms): the job did not end within $bound s after ckpt-mpirun" \
            "(status $crc)"; show_procs $job; exit 1
    fi
    wait $job; st=$?
    if [ $crc = 0 ]; then
        committed=$((committed + 1))
        clean timeout -k 5 "$TMO" "$RESTART" "$(tail -n1 ckpt.out)" >out.1 2>err.1; rc=$?
        results out.0 out.1 >all.res
        if [ $rc != 0 ]; then
            failed "trial $t (${ms} ms, after step $(nsteps out.0)): restart-mpi: status $rc"
            show_err err.1
        elif ! cmp -s "$nres" all.res; then
            failed "trial $t (${ms} ms, after step $(nsteps out.0)): the lines differ from" \
                "the native run's"; diff "$nres" all.res | head -n 5
        fi
    else
        refusedn=$((refusedn + 1))
        results out.0 >all.res
        if [ "$(grep -vc 'ms from' ckpt.err)" != 1 ]; then
            failed "trial $t (${ms} ms): ckpt-mpirun failed (status $crc) not in one line:"
            head -n 5 ckpt.err
        elif [ $st != 0 ] || ! cmp -s "$nres" all.res; then
            failed "trial $t (${ms} ms): after the failed checkpoint ($(tail -n1 ckpt.err)) the" \
                "job ended with status $st, '$(tail -n1 out.0)'"
        fi
    fi
done
[ $fail = 0 ] && pass "$flavor: $trials checkpoints at random moments of the ranks' MPI_Comm_free" \
    "1 s apart: $committed committed and restarted as native, $refusedn failed in one line and the" \
    "job ran on as native; none hung"
exit $fail
