#!/bin/bash
# rst_stdio.sh FLAVOR: the program's own stdio buffers across a restart (rst_stdio.c: rank 0's
# stdout and every rank's file fully buffered, buffers of 128 and 100 bytes, text without
# newlines or flushes, so a snapshot finds text in each buffer and some already written). At 1
# and 2 ranks: a job under
# "mpirun -am ft-enable-cr" is ended with "ckpt-mpirun --term" after its second step (the
# agent ends the ranks with _exit: what their buffers held is written once, by the restarted
# job), "restart-mpi" runs it to its end. The stdout of both generations together, and each
# rank's file, must equal an uninterrupted native run's byte for byte (no text lost or doubled),
# and no process may be left. A snapshot after the last step tested nothing: then once more,
# 4 times slower.
flavor=$1
. "$(dirname "$0")/../mpienv.sh" || exit $?
. "$(dirname "$0")/ckptenv.sh" || exit $?
ck_prog rst_stdio
export REVIVE_RESTART_RANK=$restarter
steps=20
progress() { cat progress 2>/dev/null || echo 0; }
for n in 1 2; do
    ck_workdir np$n
    mkdir -p native
    run_native $n "$prog" $steps "$d/native" 0 >native.out 2>native.err ||
        { failed "np=$n: the native run: status $?"; tail -n 3 native.err; continue; }
    ms=200
    for try in 1 2; do
        rm -f progress rank_*.txt
        touch pace
        clean timeout -k 5 900 "$wrapper" -am ft-enable-cr --ckpt-dir "$d" -n $n "$prog" $steps "$d" $ms \
            >out.0 2>err.0 &
        job=$!; pids+=($job)
        wait_for_job 300 $job '[ "$(progress)" -ge 2 ]'
        ref=$(checkpoint $job term --term)
        ck=$?
        wait $job
        at=$(progress)
        rm -f pace
        [ $ck = 0 ] && [ "$at" -ge $steps ] && [ $try = 1 ] || break
        echo "note: np=$n: the snapshot came after the last step (a loaded machine?): again at $((ms * 4)) ms a step"
        ms=$((ms * 4))
    done
    if [ $ck != 0 ]; then
        failed "np=$n: ckpt-mpirun --term: $(tail -n 2 ckpt.term.err)"; show_err err.0; continue
    elif [ "$at" -ge $steps ]; then
        failed "np=$n: the snapshot came after the last step: nothing was used after the restart"; continue
    fi
    clean timeout -k 5 600 "$RESTART" "$ref" >out.1 2>err.1; rc=$?
    bad=
    cmp -s native.out <(cat out.0 out.1) || bad="$bad stdout"
    for r in $(seq 0 $((n - 1))); do
        cmp -s native/rank_$r.txt rank_$r.txt || bad="$bad rank_$r.txt"
    done
    if [ $rc != 0 ]; then
        failed "np=$n: restart-mpi $ref: status $rc"; show_err err.1
    elif [ -n "$bad" ]; then
        failed "np=$n: not as the uninterrupted run:$bad (stdout: native $(wc -c <native.out) bytes," \
            "interrupted $(wc -c <out.0) + restarted $(wc -c <out.1))"
        diff <(fold -w 100 native.out) <(cat out.0 out.1 | fold -w 100) | head -6
    else
        pass "np=$n: snapshot after step $at; stdout $(wc -c <out.0) bytes before it and $(wc -c <out.1)" \
            "after the restart, $(wc -c <native.out) as uninterrupted; $n file(s) as uninterrupted"
    fi
    left=$(no_strays "$d/") || failed "np=$n: processes left: $left"
done
exit $fail
