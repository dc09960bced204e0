#!/bin/bash
# mpi_scratch.sh FLAVOR: a rank whose deleted-while-open scratch files exceed what its image may
# hold (review MEDIUM-6). A real MPI job (tests/snapc/mpi_loop.c, "scratch 3 MiB" per rank) under
# "mpirun -am ft-enable-cr --ckpt-file-data-max 1M": ckpt-mpirun's "no checkpoint" names the
# limit, the file, and what an MPI user can do (mpirun's --ckpt-file-data-max, REVIVE_FILE_DATA_MAX),
# never cr_checkpoint's option (the old message said "cr_checkpoint --file-data-max=SIZE", which
# no rank can be given); the job runs on. With --ckpt-file-data-max 8M (the option form) and
# with REVIVE_FILE_DATA_MAX=8M (the variable), the snapshot commits and the job ends with the
# native result and its scratch bytes intact; restart-mpi of a --term snapshot also gives them.
# REVIVE_FILE_DATA_MAX=lots refuses the checkpoint naming the variable; a bad
# --ckpt-file-data-max is refused by mpirun before the launch.
# A MPI_MODE_DELETE_ON_CLOSE file (mpi_loop's "mpiscratch": rank 0 of its communicator copies it
# into its image) over the limit (diffrev43 R-L3): an earlier snapshot (MPIX_Checkpoint, the file
# below the limit then) commits; at the hold (the file grown past the limit) "no checkpoint" names
# the file, the option and the step that failed (rank 0 could not write its image; it said "could
# not drain its messages", which had not failed); the job runs on to the native result, no other
# snapshot is offered, and the earlier one verifies and restarts to the native result.
# One limit per image (session 45): a rank's copy of its MPI_MODE_DELETE_ON_CLOSE file and the
# files deleted while open its image saves (its own, or a child's in a tree image) are each below
# the limit and over it together: refused as above, naming both, the job runs on, the earlier
# snapshot alone is left and restarts (with the child's bytes). A limit is no passing state: the
# tree's refusal comes at once, as the one without a child (it was tried again for 10 s).
flavor=$1
. "$(dirname "$0")/lib.sh"
snapc_mpi_setup scratch
# 2000 steps: what is checked happens at the start (the scratch files), at step 100 (MPIX_Checkpoint)
# and at the hold (step 1000); the rest only ran the job on (20000 steps: 408 s of wall in CI49's
# -j3 run of the Open MPI test, each of its nine jobs ran 20000 steps of collectives)
iters=${SNAPC_MPI_ITERS:-2000} sz=$((3 << 20))
native_run $iters scratch $sz
[ "$(grep -c "scratch ok" "$W/native.out")" = $np ] || { fail "native scratch"; cat "$W/native.out"; }
# run_job NAME [VAR=VALUE...] -- MPIRUN OPTIONS...: the job (holding halfway until NAME.go) in
# the background; JOB = mpirun's pid. The program's options after the hold: ${prog[@]}.
prog=(scratch $sz)
run_job() {
    local name=$1 envs=()
    shift
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    ( PATH=$(dirname "$launcher"):$PATH clean_exec "${envs[@]}" "$wrapper" -am ft-enable-cr "$@" \
        -n $np "$bin" $iters hold "$W/$name.go" "${prog[@]}" ) >"$W/$name.out" 2>"$W/$name.err" &
    JOB=$!; jobs_started="$jobs_started $JOB"
    wait_for 120 'case "$(cat /proc/$JOB/comm 2>/dev/null)" in mpirun|revive-coord) true ;; *) false ;; esac' ||
        fail "the job $name did not start Revive's mpirun"
    # the ranks' scratch files are made once rank 0 holds (mpi_loop's FILE.held): a snapshot
    # before that held a part of them (the final CI of d5d35b5 committed one over the limit)
    wait_for 300 '[ -e "$W/$name.go.held" ] || ! kill -0 $JOB 2>/dev/null' ||
        fail "the job $name never reached its hold"
}
# finish_job NAME: lets it end; its result and scratch bytes as natively
finish_job() {
    touch "$W/$1.go"
    wait $JOB || fail "$1: the job's status $?"
    grep "^result" "$W/native.out" | cmp -s - <(grep "^result" "$W/$1.out") ||
        { fail "$1: result differs"; cat "$W/$1.out"; }
    [ "$(grep -c "scratch ok" "$W/$1.out")" = $np ] || { fail "$1: scratch bytes"; cat "$W/$1.out"; }
}

run_job small -- --ckpt-file-data-max 1M
expect_rc 1 "a snapshot over the limit" timeout 300 "$CKPT" --wait $JOB &&
    err_has "no checkpoint" && err_has "--ckpt-file-data-max SIZE" && err_has "REVIVE_FILE_DATA_MAX" &&
    err_has "the 1 MiB"
grep -q "cr_checkpoint" "$W/cmd.err" && fail "the refusal names cr_checkpoint: $(cat "$W/cmd.err")"
cat "$W/cmd.err"
kill -0 $JOB || fail "the job ended"
finish_job small
pass "$flavor: over the limit: no checkpoint, naming mpirun's option and the variable; the job ran on"

for how in option variable; do
    if [ $how = option ]; then run_job $how -- --ckpt-file-data-max 8M
    else run_job $how REVIVE_FILE_DATA_MAX=8M --
    fi
    expect_rc 0 "a snapshot with the limit raised ($how)" timeout 300 "$CKPT" --wait $JOB
    finish_job $how
done
pass "$flavor: the limit raised by mpirun's option and by REVIVE_FILE_DATA_MAX: committed, native result"

run_job term -- --ckpt-file-data-max 8M
expect_rc 0 "--term" timeout 300 "$CKPT" --wait --term $JOB && ref=$(tail -n1 "$W/cmd.out")
wait $JOB
touch "$W/term.go" # the restarted ranks look for it again
if [ -n "${ref:-}" ]; then
    ( PATH=$(dirname "$launcher"):$PATH clean_exec REVIVE_RESTART_RANK=$B/tools/revive-restart-rank \
        timeout -k 5 300 "$RESTART" "$ref" ) >"$W/r.out" 2>"$W/r.err" || { fail "restart-mpi: status $?"; tail -5 "$W/r.err"; }
    grep "^result" "$W/native.out" | cmp -s - <(grep "^result" "$W/r.out") || { fail "restart: result differs"; cat "$W/r.out"; }
    [ "$(grep -c "scratch ok" "$W/r.out")" = $np ] || { fail "restart: scratch bytes"; cat "$W/r.out"; }
fi
pass "$flavor: restart-mpi: the scratch files' bytes and the native result"

run_job env REVIVE_FILE_DATA_MAX=lots --
expect_rc 1 "REVIVE_FILE_DATA_MAX=lots" timeout 300 "$CKPT" --wait $JOB &&
    err_has "REVIVE_FILE_DATA_MAX=lots is no size"
finish_job env
( PATH=$(dirname "$launcher"):$PATH clean_exec "$wrapper" -am ft-enable-cr --ckpt-file-data-max 3X -n $np "$bin" 10 ) \
    >"$W/bad.out" 2>"$W/bad.err" && fail "mpirun --ckpt-file-data-max 3X started"
grep -q -- "--ckpt-file-data-max needs a size such as 4G" "$W/bad.err" || { fail "mpirun's refusal"; cat "$W/bad.err"; }
pass "$flavor: a bad limit: the checkpoint refused naming the variable, mpirun refuses a bad option"

# restart_ok NAME SNAPSHOT: restart-mpi SNAPSHOT (the hold's NAME.go there) ends with the native
# result, every rank's "WHAT ok" for each WHAT in ${oks[@]}
restart_ok() {
    ( PATH=$(dirname "$launcher"):$PATH clean_exec REVIVE_RESTART_RANK=$B/tools/revive-restart-rank \
        timeout -k 5 300 "$RESTART" "$2" ) >"$W/$1.r.out" 2>"$W/$1.r.err" || { fail "$1: restart-mpi: status $?"; tail -5 "$W/$1.r.err"; }
    grep "^result" "$W/native.out" | cmp -s - <(grep "^result" "$W/$1.r.out") || { fail "$1: restart: result differs"; cat "$W/$1.r.out"; }
    for what in "${oks[@]}"; do
        [ "$(grep -c ": $what ok" "$W/$1.r.out")" = $np ] || { fail "$1: restart: $what bytes"; cat "$W/$1.r.out"; }
    done
    for what in "${ones[@]}"; do
        [ "$(grep -c ": $what ok" "$W/$1.r.out")" = 1 ] || { fail "$1: restart: $what bytes"; cat "$W/$1.r.out"; }
    done
}
ones=() # rank 0's alone (its child's scratch file)
# after_refusal NAME: the job NAME, whose snapshot at the hold was refused, runs on to the native
# result with its bytes (${oks[@]}); its snapshot directory offers sequence 0 alone, which
# verifies and restarts to the native result
after_refusal() {
    kill -0 $JOB || fail "$1: the job ended"
    touch "$W/$1.go"
    wait $JOB || fail "$1: the job's status $?"
    grep "^result" "$W/native.out" | cmp -s - <(grep "^result" "$W/$1.out") || { fail "$1: result differs"; cat "$W/$1.out"; }
    for what in "${oks[@]}"; do
        [ "$(grep -c ": $what ok" "$W/$1.out")" = $np ] || { fail "$1: $what bytes"; cat "$W/$1.out"; }
    done
    for what in "${ones[@]}"; do
        [ "$(grep -c ": $what ok" "$W/$1.out")" = 1 ] || { fail "$1: $what bytes"; cat "$W/$1.out"; }
    done
    local jd
    jd=$(echo "$W/$1.sn"/revive_global_snapshot_*.ckpt)
    [ "$(ls "$jd"/*/snapshot.meta 2>/dev/null | wc -l)" = 1 ] && [ -f "$jd/0/snapshot.meta" ] ||
        fail "$1: committed: $(ls "$jd"/*/snapshot.meta 2>/dev/null | tr '\n' ' '), not sequence 0 alone"
    expect_rc 0 "$1: ckpt-info --verify of the earlier snapshot" "$INFO" --verify "$jd/0"
    restart_ok "$1" "$jd"
}

msz=$((3 << 20))
prog=(mpix 100 mpiscratch $msz) oks=(mpiscratch)
run_job big -- --ckpt-dir "$W/big.sn" --ckpt-file-data-max 4M
expect_rc 1 "a snapshot with a MPI_MODE_DELETE_ON_CLOSE file over the limit" timeout 300 "$CKPT" --wait $JOB &&
    err_has "no checkpoint" &&
    err_has "rank 0 could not write its image: the MPI file $W/mpiscratch.tmp, opened with MPI_MODE_DELETE_ON_CLOSE, holds 6 MiB" &&
    err_has "the 4 MiB" && err_has "--ckpt-file-data-max SIZE" && err_has "REVIVE_FILE_DATA_MAX"
cat "$W/cmd.err"
grep -q "MPIX_Checkpoint ok flag 0" "$W/big.out" || { fail "big: the earlier snapshot"; cat "$W/big.out"; }
after_refusal big
pass "$flavor: a MPI_MODE_DELETE_ON_CLOSE file over the limit: no checkpoint, naming the file, the option and the image; the job ran on; the earlier snapshot restarts"

# One limit for the whole image (session 45): rank 0's copy of its MPI_MODE_DELETE_ON_CLOSE file
# (6 MiB at the hold) and the files deleted while open its image saves (its own 3 MiB scratch
# file; then, in a second job, a child's: rank 0's image a tree file), each below the 8 MiB limit
# and over it together. Each was checked against the limit on its own (a child's against the
# default's 1 GiB): the snapshot at the hold committed 9 MiB. The earlier one (6 MiB) commits.
# refused_together NAME WHAT TEXT...: the job NAME (prog, oks, ones as set; limit 8M, its snapshots
# in $W/NAME.sn) refuses its snapshot at the hold: ckpt-mpirun exits 1 saying "no checkpoint", each
# TEXT, the 6 MiB of scratch copies, the 8 MiB and the option; its earlier snapshot was taken;
# then after_refusal NAME
refused_together() {
    local name=$1 what=$2 t
    shift 2
    run_job $name -- --ckpt-dir "$W/$name.sn" --ckpt-file-data-max 8M
    local t0=$EPOCHREALTIME
    if expect_rc 1 "$what" timeout 300 "$CKPT" --wait $JOB && err_has "no checkpoint"; then
        for t in "$@" "the 6 MiB of copies of the rank's MPI_MODE_DELETE_ON_CLOSE files" "the 8 MiB" \
            "--ckpt-file-data-max SIZE"; do
            err_has "$t" || break
        done
    fi
    refused_s[$name]=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
    cat "$W/cmd.err"
    grep -q "MPIX_Checkpoint ok flag 0" "$W/$name.out" || { fail "$name: the earlier snapshot"; cat "$W/$name.out"; }
    after_refusal $name
}
declare -A refused_s # NAME: the seconds ckpt-mpirun took to refuse

prog=(mpix 100 mpiscratch $msz scratch $sz) oks=(mpiscratch scratch)
refused_together sum "a snapshot whose scratch copy and deleted file are each below the limit and over it together" \
    "rank 0 could not write its image: the deleted file"
pass "$flavor: a scratch copy and a file deleted while open over the limit together: no checkpoint, naming both and the option; the job ran on; the earlier snapshot restarts"

prog=(mpix 100 mpiscratch $msz child $sz) oks=(mpiscratch) ones=(child)
refused_together tree "a tree snapshot whose scratch copy and child's deleted file are over the limit together" \
    "rank 0 could not write its image: rank 0 had a running child process" "holds 3 MiB of saved files"
pass "$flavor: the same with the deleted file in rank 0's child (a tree image): no checkpoint; the job ran on; the earlier snapshot restarts with the child's bytes"
ones=()
# A limit is no passing state: the tree's refusal comes as soon as the one without a child did
# (the rank tried the tree again 20 ms apart for at least 10 s: 10.5 s against 0.5 s for sum at
# load 9; 8 s is the margin for a loaded machine, the retries' floor is 10)
awk -v t="${refused_s[tree]:-99}" -v s="${refused_s[sum]:-0}" 'BEGIN { exit !(t < s + 8) }' ||
    fail "the tree's refusal took ${refused_s[tree]:-?} s, the one without a child ${refused_s[sum]:-?} s: tried again for a limit?"
pass "$flavor: the tree's refusal over the limit at once (${refused_s[tree]:-?} s; without a child ${refused_s[sum]:-?} s)"
wait_no_strays
finish
