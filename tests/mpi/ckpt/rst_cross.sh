#!/bin/bash
# rst_cross.sh FLAVOR: snapshots requested at random moments of a program that makes
# intercommunicators and MPI_Comm_create_group communicators in a loop, one group entering each
# call late (rst_cross.c), at 2, 4 and 8 ranks (REVIVE_TEST_QUICK=1: 2 and 4), TRIALS times each
# (REVIVE_CROSS_TRIALS, default 1: the program's uneven delays between the groups keep one group
# inside a call for the other at most moments, so one random moment per size shows the refusal
# of #10; the second trial per size doubled the test, 96 s for Open MPI and 73 s for MPICH in CI
# ede5d20; REVIVE_CROSS_TRIALS=20 for a hunt). A trial: the job runs under "mpirun -am ft-enable-cr" (paced:
# it cannot end before its snapshot); 0-1500 ms (random) after its first line "ckpt-mpirun --term"
# is asked for, and must commit a snapshot (campaign-failures.md #10: it was refused, "rank 0
# waits in MPI_Intercomm_create ... targets not reached", when one group waited inside the call
# for the other); "restart-mpi" then runs the job to its end, and the lines of both generations
# together must equal an uninterrupted native run's. No process may be left. The trials are
# counted and printed.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
CKPT=$REVIVE_BUILDDIR/tools/snapc/ckpt-mpirun
RESTART=$REVIVE_BUILDDIR/tools/snapc/restart-mpi
prog=$REVIVE_BUILDDIR/tests/mpi/ckpt/rst_cross-$flavor
[ -x "$CKPT" ] && [ -x "$RESTART" ] && [ -x "$prog" ] || { echo "SKIP: ckpt-mpirun, restart-mpi or $prog not built"; exit 77; }
trials=${REVIVE_CROSS_TRIALS:-1}
nps="2 4 8"
[ "${REVIVE_TEST_QUICK:-0}" = 1 ] && nps="2 4"
rounds=40 ms=50
pids=()
ran=0 passed=0
for n in $nps; do
    d=$tmp/np$n
    mkdir -p "$d"
    ref_native "$d/native.out" "$d/native.err" "$n" "$prog" $rounds 0 "$d/nopace" $ms ||
        { failed "np=$n: the native run: status $?"; tail -n 3 "$d/native.err"; continue; }
    for t in $(seq "$trials"); do
        ran=$((ran + 1))
        seed=$(shuf -i 1-1000000 -n 1) wait_ms=$(shuf -i 0-1500 -n 1)
        e=$d/t$t
        mkdir -p "$e"
        cd "$e" || exit 1
        touch pace
        clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$e" -n "$n" "$prog" $rounds \
            "$seed" "$e/pace" $ms >out.0 2>err.0 &
        job=$!; pids+=($job)
        what="np=$n trial $t (seed $seed, snapshot asked ${wait_ms} ms after the first line)"
        if ! wait_steps out.0 1 $job; then
            wait $job
            failed "$what: generation 0 (no snapshot yet): status $?, $(nsteps out.0) lines"; tail -n 4 err.0
            continue
        fi
        sleep "$((wait_ms / 1000)).$(printf %03d $((wait_ms % 1000)))"
        if ! term_restart $job; then
            failed "$what: ckpt-mpirun --term: $(tail -n 2 ckpt.term.err)"
            continue
        fi
        if [ $rc != 0 ]; then
            failed "$what: restart-mpi $ref: status $rc"; grep -v '^-*$' err.1 | tail -n 4
        elif ! cmp -s <(results "$d/native.out") both.out; then
            failed "$what: the results differ from the uninterrupted run"; diff <(results "$d/native.out") both.out | head
        else
            passed=$((passed + 1))
            echo "ok $what: snapshot after line $(nsteps out.0) of $rounds," \
                "$(sed -n 's/.*(\([0-9]*\) raises).*/\1 raises/p' ckpt.term.err | head -1), restarted, same $(wc -l <both.out) lines"
        fi
        left=$(no_strays "$e/") || failed "$what: processes left: $left"
    done
done
if [ $fail = 0 ] && [ $passed = $ran ]; then
    pass "$passed of $ran trials (np $nps): every snapshot committed, every restart as uninterrupted"
else
    failed "$passed of $ran trials passed"
fi
exit $fail
